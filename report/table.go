package report

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hvaudit/hvaudit/checks"
)

// tableWriter renders a Run for people at a terminal: what was audited,
// the scores, then what needs doing, worst first. It is the default output,
// so it favours a short read over completeness: passing and not-applicable
// findings are only counted unless Options.Verbose (the JSON report has
// everything).
type tableWriter struct {
	opts Options
}

// minTableWidth keeps the layout usable when a caller passes a tiny width;
// below it columns would collapse to nothing.
const minTableWidth = 60

func newTableWriter(o Options) Writer {
	if o.Width <= 0 {
		o.Width = DefaultWidth
	}
	if o.Width < minTableWidth {
		o.Width = minTableWidth
	}
	return tableWriter{opts: o}
}

func (tableWriter) Format() string { return "table" }

func (t tableWriter) Write(w io.Writer, run *Run) error {
	r, err := prepare(run)
	if err != nil {
		return err
	}
	p := &painter{color: t.opts.Color, width: t.opts.Width, verbose: t.opts.Verbose}
	p.header(r)
	p.targets(r)
	p.areas(r)
	p.threats(r)
	p.findings(r)
	p.summary(r)
	// Rendered into memory first so a failing writer never leaves half a
	// report mixed with the caller's other output.
	_, err = io.WriteString(w, p.b.String())
	return err
}

// painter accumulates the rendered report.
type painter struct {
	b       strings.Builder
	color   bool
	width   int
	verbose bool
}

// paint wraps s in an ANSI style. Layout is always computed on the plain
// text first, so colour never changes alignment.
func (p *painter) paint(style, s string) string {
	if !p.color || style == styleNone || s == "" {
		return s
	}
	return "\x1b[" + style + "m" + s + "\x1b[0m"
}

func (p *painter) println(parts ...string) {
	p.b.WriteString(strings.TrimRight(strings.Join(parts, ""), " "))
	p.b.WriteByte('\n')
}

// label renders a dim field label padded to width; the padding stays
// outside the colour codes.
func (p *painter) label(label string, width int) string {
	return p.paint(styleDim, label) + strings.Repeat(" ", max(width-runeLen(label), 0))
}

// heading prints a section title.
func (p *painter) heading(title string) {
	p.println()
	p.println(p.paint(styleBold, title))
}

// field prints "label  text" with text wrapped under itself, the label in a
// column of labelWidth at indent.
func (p *painter) field(indent, labelWidth int, label, text, style string) {
	p.styledField(indent, labelWidth, label, styleDim, text, style)
}

// styledField is field with a chosen label style. Label and text are plain:
// padding and wrapping must not count escape codes.
func (p *painter) styledField(indent, labelWidth int, label, labelStyle, text, style string) {
	lines := wrap(text, p.width-indent-labelWidth)
	if len(lines) == 0 {
		return
	}
	lead := strings.Repeat(" ", indent)
	p.println(lead, p.paint(labelStyle, label), strings.Repeat(" ", max(labelWidth-runeLen(label), 0)), p.paint(style, lines[0]))
	hang := lead + strings.Repeat(" ", labelWidth)
	for _, l := range lines[1:] {
		p.println(hang, p.paint(style, l))
	}
}

// --- header -----------------------------------------------------------

const headerLabel = 12

func (p *painter) header(r *Run) {
	name := r.Tool.Name
	if name == "" {
		name = "hvaudit"
	}
	title := clean(name, false) + " audit report"
	if r.Tool.Version != "" {
		title = clean(name, false) + " " + clean(r.Tool.Version, false) + " audit report"
	}
	p.println(p.paint(styleBold, title))
	if r.Run.ID != "" {
		p.field(2, headerLabel, "Run", clean(r.Run.ID, false), styleNone)
	}
	if when := runTime(r.Run.Started, r.Run.Finished); when != "" {
		p.field(2, headerLabel, "Time", when, styleNone)
	}
	b := r.Run.Baseline
	if b.ID != "" || b.Version != "" {
		p.field(2, headerLabel, "Baseline", strings.TrimSpace(clean(b.ID, false)+" "+clean(b.Version, false))+shortSum(b.SHA256), styleNone)
	}
	if a := r.Run.Advisories; a.AsOf != "" {
		p.field(2, headerLabel, "Advisories", "as of "+clean(a.AsOf, false)+shortSum(a.SHA256), styleNone)
	}
	if r.Run.TailoringSHA256 != "" {
		p.field(2, headerLabel, "Tailoring", "sha256 "+truncate(clean(r.Run.TailoringSHA256, false), 12+len(ellipsis)), styleNone)
	}
	if r.Run.WaiversSHA256 != "" {
		p.field(2, headerLabel, "Waivers", "sha256 "+truncate(clean(r.Run.WaiversSHA256, false), 12+len(ellipsis)), styleNone)
	}
	for _, u := range r.Run.UnusedWaivers {
		why := "matched no fail or error finding"
		if u.Reason == "expired" {
			why = "expired " + u.Expires.UTC().Format("2006-01-02")
		}
		p.field(2, headerLabel, "Unused", clean(fmt.Sprintf("waiver %s:%d (%s): %s", u.File, u.Line, u.Check, why), false), styleBoldYel)
	}
	if r.Summary.Complete {
		p.field(2, headerLabel, "Result", "complete", styleGreen)
	} else {
		p.field(2, headerLabel, "Result", "INCOMPLETE: "+incompleteReason(r), styleBoldYel)
	}
}

// runTime renders the run's start in UTC and how long it took.
func runTime(started, finished time.Time) string {
	if started.IsZero() {
		return ""
	}
	s := started.UTC().Format("2006-01-02 15:04:05 UTC")
	if !finished.IsZero() && !finished.Before(started) {
		s += " (took " + finished.Sub(started).Round(time.Second).String() + ")"
	}
	return s
}

// shortSum shows enough of a digest to tell two files apart at a glance;
// the JSON report has the whole digest.
func shortSum(sum string) string {
	if sum == "" {
		return ""
	}
	return " (sha256 " + truncate(clean(sum, false), 12+len(ellipsis)) + ")"
}

// --- targets ----------------------------------------------------------

func (p *painter) targets(r *Run) {
	p.heading("TARGETS")
	if len(r.Targets) == 0 {
		p.println("  none")
		return
	}
	cols := []column{
		{header: "TARGET", max: 28},
		{header: "PLATFORM", max: 10},
		{header: "PRODUCT", flex: true},
		{header: "STATUS"},
		{header: "SCORE", right: true},
	}
	rows := make([][]cell, len(r.Targets))
	for i, tr := range r.Targets {
		status := cell{text: "ok", style: styleGreen}
		if tr.Status != TargetOK {
			status = cell{text: clean(tr.Status, false), style: styleBoldRed}
		}
		score := cell{text: "-"}
		if s, ok := r.Summary.ByTarget[tr.Name]; ok {
			score = scoreCell(s.Score)
		}
		rows[i] = []cell{
			{text: clean(tr.Name, false), style: styleBold},
			{text: clean(tr.Platform, false)},
			{text: product(tr)},
			status,
			score,
		}
	}
	lines, widths := p.table(2, cols, rows)
	p.println(lines[0])
	// The error goes under its row, aligned with the product column, so it
	// reads as part of that target.
	errIndent := 2 + widths[0] + colGap + widths[1] + colGap
	for i, tr := range r.Targets {
		p.println(lines[i+1])
		if tr.Status != TargetOK {
			msg := tr.Error
			if msg == "" {
				msg = "no error message recorded"
			}
			p.field(errIndent, len("error: "), "error:", clean(msg, true), styleRed)
		}
	}
}

// product joins product, version and build into one description.
func product(tr TargetResult) string {
	var parts []string
	if tr.Product != "" {
		parts = append(parts, clean(tr.Product, false))
	}
	if tr.Version != "" && !strings.Contains(tr.Product, tr.Version) {
		parts = append(parts, clean(tr.Version, false))
	}
	if tr.Build != "" {
		parts = append(parts, "build "+clean(tr.Build, false))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

// --- areas ------------------------------------------------------------

func (p *painter) areas(r *Run) {
	p.scoreTable(r, "SCORE BY AREA", "AREA", areaOrder(r.Summary.ByArea), r.Summary.ByArea)
}

// threats shows exposure per threat: every threat of the vocabulary, so
// one with no findings (no check covered it here) shows as "-".
func (p *painter) threats(r *Run) {
	if len(r.Summary.ByThreat) == 0 {
		return
	}
	p.scoreTable(r, "EXPOSURE BY THREAT", "THREAT", threatOrder(r.Summary.ByThreat), r.Summary.ByThreat)
}

// threatOrder lists the vocabulary's threats in its order, then any others.
func threatOrder(by map[string]checks.Score) []string {
	var out []string
	for _, t := range checks.Threats {
		if _, ok := by[t]; ok {
			out = append(out, t)
		}
	}
	var extra []string
	for t := range by {
		if !slices.Contains(checks.Threats, t) {
			extra = append(extra, t)
		}
	}
	slices.Sort(extra)
	return append(out, extra...)
}

func (p *painter) scoreTable(r *Run, heading, keyHeader string, keys []string, by map[string]checks.Score) {
	if len(keys) == 0 {
		return
	}
	p.heading(heading)
	// Waiver-free scores earn a column only when some waiver applied;
	// otherwise the column would repeat the score.
	withWaivers := r.Summary.Counts.Waived > 0
	cols := []column{{header: keyHeader}, {header: "SCORE", right: true}}
	if withWaivers {
		cols = append(cols, column{header: "NO WAIVERS", right: true})
	}
	for _, h := range []string{"PASS", "FAIL", "ERROR", "WAIVED", "N/A"} {
		cols = append(cols, column{header: h, right: true})
	}
	var rows [][]cell
	for _, key := range keys {
		s := by[key]
		row := []cell{{text: clean(key, false)}, scoreCell(s.Score)}
		if withWaivers {
			row = append(row, scoreCell(s.ScoreWithoutWaivers))
		}
		c := s.Counts
		row = append(row,
			countCell(c.Pass, styleGreen), countCell(c.Fail, styleBoldRed), countCell(c.Error, styleMagenta),
			countCell(c.Waived, styleCyan), countCell(c.NotApplicable, styleDim))
		rows = append(rows, row)
	}
	lines, _ := p.table(2, cols, rows)
	for _, l := range lines {
		p.println(l)
	}
}

// areaOrder lists the areas present in the contract's order (the order of
// DESIGN.md §4, which groups related areas), then any others sorted, so an
// area added to a baseline before it is added to the list still shows.
func areaOrder(by map[string]checks.Score) []string {
	var out []string
	for _, a := range checks.Areas {
		if _, ok := by[a]; ok {
			out = append(out, a)
		}
	}
	var extra []string
	for a := range by {
		if !slices.Contains(checks.Areas, a) {
			extra = append(extra, a)
		}
	}
	slices.Sort(extra)
	return append(out, extra...)
}

// --- findings ---------------------------------------------------------

// statusOrder puts what needs action first: fail, then error (could not
// tell), then waived (accepted, but still a risk), then the rest.
var statusOrder = map[checks.Status]int{
	checks.StatusFail:          0,
	checks.StatusError:         1,
	checks.StatusWaived:        2,
	checks.StatusPass:          3,
	checks.StatusNotApplicable: 4,
}

func statusRank(s checks.Status) int {
	if r, ok := statusOrder[s]; ok {
		return r
	}
	return len(statusOrder)
}

// listed reports whether a finding is shown in full; the others are only
// counted.
func (p *painter) listed(f checks.Finding) bool {
	return p.verbose || (f.Status != checks.StatusPass && f.Status != checks.StatusNotApplicable)
}

func (p *painter) findings(r *Run) {
	p.heading("FINDINGS")
	if len(r.Findings) == 0 && len(r.Targets) == 0 {
		p.println("  none")
		return
	}
	byTarget := map[string][]checks.Finding{}
	for _, f := range r.Findings {
		byTarget[f.Target] = append(byTarget[f.Target], f)
	}
	first := true
	seen := map[string]bool{}
	for _, tr := range r.Targets {
		seen[tr.Name] = true
		p.targetFindings(r, tr.Name, &tr, byTarget[tr.Name], first)
		first = false
	}
	// Findings naming a target the run does not list should not happen;
	// show them rather than drop them silently.
	var orphans []string
	for name := range byTarget {
		if !seen[name] {
			orphans = append(orphans, name)
		}
	}
	slices.Sort(orphans)
	for _, name := range orphans {
		p.targetFindings(r, name, nil, byTarget[name], first)
		first = false
	}
}

func (p *painter) targetFindings(r *Run, name string, tr *TargetResult, fs []checks.Finding, first bool) {
	if !first {
		p.println()
	}
	shortName := truncate(clean(name, false), p.width/2)
	title, plain := p.paint(styleBold, shortName), shortName
	if tr != nil && tr.Platform != "" {
		platform := "(" + truncate(clean(tr.Platform, false), 20) + ")"
		title += " " + p.paint(styleDim, platform)
		plain += " " + platform
	}
	if tr != nil && tr.Status != TargetOK {
		p.println(title, "  ", p.paint(styleBoldRed, "NOT AUDITED"))
		p.println(p.paint(styleDim, strings.Repeat("-", p.width)))
		p.field(2, len("error: "), "error:", clean(orDefault(tr.Error, "no error message recorded"), true), styleRed)
		return
	}
	if s, ok := r.Summary.ByTarget[name]; ok {
		title += "  score " + p.paintScore(s.Score)
		plain += "  score " + formatScore(s.Score)
	}
	c := countFindings(fs)
	counts := "(" + c.String() + ")"
	if runeLen(plain)+2+runeLen(counts) <= p.width {
		p.println(title, "  ", p.paint(styleDim, counts))
	} else {
		p.println(title)
		p.println("  ", p.paint(styleDim, counts))
	}
	p.println(p.paint(styleDim, strings.Repeat("-", p.width)))

	shown := slices.Clone(fs)
	shown = slices.DeleteFunc(shown, func(f checks.Finding) bool { return !p.listed(f) })
	// Within the target: status group, then severity, then the report's
	// own stable order (the input is already sorted that way).
	slices.SortStableFunc(shown, func(a, b checks.Finding) int {
		if d := statusRank(a.Status) - statusRank(b.Status); d != 0 {
			return d
		}
		return b.Severity.Rank() - a.Severity.Rank()
	})
	if len(shown) == 0 {
		p.println("  nothing failing")
	}
	for i, f := range shown {
		if i > 0 {
			p.println()
		}
		p.finding(f)
	}
	if hidden := c.Pass + c.NotApplicable; hidden > 0 && !p.verbose {
		p.println()
		p.println(p.paint(styleDim, fmt.Sprintf("  not listed: %s (verbose output lists them)", passNA(c))))
	}
}

// Finding layout: a status/severity/check/object line, the title, then
// labelled fields whose text starts at findingIndent+fieldLabel.
const (
	statusWidth   = 6 // "WAIVED"
	severityWidth = 8 // "critical"
	findingIndent = 2 + statusWidth + 2
	fieldLabel    = len("remediation") + 2
)

var statusStyle = map[checks.Status]string{
	checks.StatusFail:          styleBoldRed,
	checks.StatusError:         styleMagenta,
	checks.StatusWaived:        styleCyan,
	checks.StatusPass:          styleGreen,
	checks.StatusNotApplicable: styleDim,
}

var severityStyle = map[checks.Severity]string{
	checks.SeverityCritical: styleBoldRed,
	checks.SeverityHigh:     styleRed,
	checks.SeverityMedium:   styleYellow,
	checks.SeverityLow:      styleBlue,
	checks.SeverityInfo:     styleDim,
}

func statusLabel(s checks.Status) string {
	if s == checks.StatusNotApplicable {
		return "N/A"
	}
	return strings.ToUpper(clean(string(s), false))
}

func (p *painter) finding(f checks.Finding) {
	obj := objectLabel(f.Object)
	if f.Status == checks.StatusWaived && f.ObservedStatus != "" {
		obj += " (observed " + clean(string(f.ObservedStatus), false) + ")"
	}
	status, sev, id := statusLabel(f.Status), clean(string(f.Severity), false), clean(f.CheckID, false)
	room := p.width - (2 + statusWidth + 2 + severityWidth + 2) - runeLen(id) - 2
	p.println("  ",
		p.paint(statusStyle[f.Status], status), strings.Repeat(" ", max(statusWidth-runeLen(status), 0)+2),
		p.paint(severityStyle[f.Severity], sev), strings.Repeat(" ", max(severityWidth-runeLen(sev), 0)+2),
		p.paint(styleBold, id), "  ", truncate(obj, max(room, 12)))

	indent := strings.Repeat(" ", findingIndent)
	for _, l := range wrap(clean(f.Title, true), p.width-findingIndent) {
		p.println(indent, p.paint(styleBold, l))
	}
	p.evidence(f.Evidence)
	p.field(findingIndent, fieldLabel, "expected", clean(f.Expected, true), styleNone)
	p.field(findingIndent, fieldLabel, "message", clean(f.Message, true), styleNone)
	if w := f.Waiver; w != nil {
		p.field(findingIndent, fieldLabel, "waiver", waiverText(w), styleCyan)
	}
	// Remediation is noise on a passing or not-applicable finding.
	if f.Status != checks.StatusPass && f.Status != checks.StatusNotApplicable {
		p.field(findingIndent, fieldLabel, "remediation", clean(f.Remediation, true), styleNone)
	}
}

// objectLabel names a finding's object: its kind and name, or its id when
// it has no name.
func objectLabel(o checks.ObjectRef) string {
	name := o.Name
	if name == "" {
		name = o.ID
	}
	return strings.TrimSpace(clean(o.Kind, false) + " " + clean(name, false))
}

// evidence prints "field = value (source)", moving the source to its own
// line when the pair does not fit.
func (p *painter) evidence(ev []checks.Evidence) {
	textWidth := p.width - findingIndent - fieldLabel
	label := "observed"
	for _, e := range ev {
		pair := clean(e.Field, false) + " = " + truncate(observedText(e.Observed), 2*textWidth)
		src := clean(e.Source, false)
		if src != "" && runeLen(pair)+len("  ()")+runeLen(src) <= textWidth {
			// Fits on one line: printed directly, since wrapping would
			// count the source's colour codes as text.
			p.println(strings.Repeat(" ", findingIndent), p.label(label, fieldLabel),
				pair, "  ", p.paint(styleDim, "("+src+")"))
		} else {
			// A value too long for one line continues two columns in,
			// so its tail does not read as the next item.
			lead := strings.Repeat(" ", findingIndent)
			for i, l := range wrap(pair, textWidth-2) {
				if i == 0 {
					p.println(lead, p.label(label, fieldLabel), l)
				} else {
					p.println(lead, strings.Repeat(" ", fieldLabel+2), l)
				}
			}
			if src != "" {
				p.field(findingIndent+fieldLabel+2, len("from "), "from", src, styleDim)
			}
		}
		label = ""
	}
}

// observedText renders an evidence value as JSON, so a string, a number and
// a boolean look different ("true" vs true) and an absent value reads as
// such rather than as an empty string.
func observedText(v any) string {
	if v == nil {
		return "(absent)"
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return clean(fmt.Sprint(v), false)
	}
	// JSON escapes C0 controls; NeutralizeJSON escapes, in the same \u
	// form, what it leaves raw (C1 controls, bidi and other format
	// characters), so the text is safe to print.
	return string(NeutralizeJSON([]byte(strings.TrimSuffix(b.String(), "\n"))))
}

func waiverText(w *checks.Waiver) string {
	var b strings.Builder
	if w.Expired {
		b.WriteString("EXPIRED " + clean(w.Expires, false))
	} else {
		b.WriteString("until " + clean(w.Expires, false))
	}
	if w.Approver != "" {
		b.WriteString(", approved by " + clean(w.Approver, false))
	}
	if w.Justification != "" {
		b.WriteString(": " + clean(w.Justification, true))
	}
	return b.String()
}

// --- summary ----------------------------------------------------------

func (p *painter) summary(r *Run) {
	s := r.Summary
	c := s.Counts
	p.println()
	p.println(p.paint(styleDim, strings.Repeat("=", p.width)))
	// Each piece is kept as plain text and its style, so the line's length
	// is measured without colour codes; sep goes before the text, unstyled.
	type piece struct{ sep, text, style string }
	counts := []piece{
		{"", "Summary:", styleBold},
		{" ", strconv.Itoa(c.Fail) + " fail", styleBoldRed},
		{", ", strconv.Itoa(c.Error) + " error", styleMagenta},
		{", ", strconv.Itoa(c.Waived) + " waived", styleCyan},
		{", ", strconv.Itoa(c.Pass) + " pass", styleGreen},
		{", ", strconv.Itoa(c.NotApplicable) + " n/a", styleNone},
		{" on ", plural(len(r.Targets), "target"), styleNone},
	}
	score := []piece{{"", "score ", styleNone}, {"", formatScore(s.Score), scoreStyle(s.Score)}}
	if s.Score == nil {
		score[1].text = "none (nothing scored)"
	}
	if !sameScore(s.Score, s.ScoreWithoutWaivers) {
		score = append(score, piece{" ", "(" + formatScore(s.ScoreWithoutWaivers) + " without waivers)", styleNone})
	}
	render := func(ps []piece) (plain, painted string) {
		for _, x := range ps {
			plain += x.sep + x.text
			painted += x.sep + p.paint(x.style, x.text)
		}
		return plain, painted
	}
	countsPlain, countsPainted := render(counts)
	scorePlain, scorePainted := render(score)
	// One line when it fits; otherwise the score moves to its own line
	// rather than running past the terminal's edge.
	if runeLen(countsPlain)+2+runeLen(scorePlain) <= p.width {
		p.println(countsPainted, "; ", scorePainted)
	} else {
		p.println(countsPainted)
		p.println(strings.Repeat(" ", len("Summary: ")), scorePainted)
	}
	if !s.Complete {
		p.styledField(0, len("INCOMPLETE: "), "INCOMPLETE:", styleBoldYel, incompleteReason(r)+
			" The score covers only what could be checked.", styleBoldYel)
	}
}

// incompleteReason says why a run is incomplete, from its targets and
// findings.
func incompleteReason(r *Run) string {
	var failed []string
	for _, t := range r.Targets {
		if t.Status != TargetOK {
			failed = append(failed, clean(t.Name, false))
		}
	}
	var reasons []string
	if len(failed) > 0 {
		reasons = append(reasons, fmt.Sprintf("%s not audited (%s)", plural(len(failed), "target"), strings.Join(failed, ", ")))
	}
	if n := r.Summary.Counts.Error; n > 0 {
		reasons = append(reasons, plural(n, "finding")+" in error")
	}
	if len(reasons) == 0 {
		return "the run did not finish cleanly."
	}
	return strings.Join(reasons, "; ") + "."
}

// --- small pieces -----------------------------------------------------

// findingCounts tallies findings by status for display.
type findingCounts struct {
	checks.Counts
}

func countFindings(fs []checks.Finding) findingCounts {
	var c findingCounts
	for _, f := range fs {
		switch f.Status {
		case checks.StatusPass:
			c.Pass++
		case checks.StatusFail:
			c.Fail++
		case checks.StatusError:
			c.Error++
		case checks.StatusNotApplicable:
			c.NotApplicable++
		case checks.StatusWaived:
			c.Waived++
		}
	}
	return c
}

// String lists the non-zero counts, failing ones first.
func (c findingCounts) String() string {
	var parts []string
	for _, x := range []struct {
		n    int
		what string
	}{{c.Fail, "fail"}, {c.Error, "error"}, {c.Waived, "waived"}, {c.Pass, "pass"}, {c.NotApplicable, "n/a"}} {
		if x.n > 0 {
			parts = append(parts, strconv.Itoa(x.n)+" "+x.what)
		}
	}
	if len(parts) == 0 {
		return "no findings"
	}
	return strings.Join(parts, ", ")
}

func passNA(c findingCounts) string {
	var parts []string
	if c.Pass > 0 {
		parts = append(parts, strconv.Itoa(c.Pass)+" pass")
	}
	if c.NotApplicable > 0 {
		parts = append(parts, strconv.Itoa(c.NotApplicable)+" not applicable")
	}
	return strings.Join(parts, ", ")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// formatScore shows one decimal, enough to see movement between runs; nil
// means nothing was scored.
func formatScore(s *float64) string {
	if s == nil {
		return "-"
	}
	return strconv.FormatFloat(*s, 'f', 1, 64)
}

func sameScore(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return formatScore(a) == formatScore(b)
}

// scoreStyle colours a score by how worrying it is.
func scoreStyle(s *float64) string {
	switch {
	case s == nil:
		return styleDim
	case *s >= 90:
		return styleGreen
	case *s >= 70:
		return styleYellow
	}
	return styleBoldRed
}

func (p *painter) paintScore(s *float64) string {
	if s == nil {
		return p.paint(styleDim, "none")
	}
	return p.paint(scoreStyle(s), formatScore(s))
}

func scoreCell(s *float64) cell { return cell{text: formatScore(s), style: scoreStyle(s)} }

// countCell shows a count, coloured only when non-zero so the eye goes to
// what is there.
func countCell(n int, style string) cell {
	if n == 0 {
		return cell{text: "0", style: styleDim}
	}
	return cell{text: strconv.Itoa(n), style: style}
}

// --- tables -------------------------------------------------------------

const colGap = 2

type column struct {
	header string
	right  bool
	max    int  // cap on the column's width; 0 for none
	flex   bool // takes the width left over (at most one column)
}

type cell struct {
	text  string
	style string
}

// table lays rows out in columns no wider than the painter's width and
// returns the lines (header first) and the column widths. Cells that do
// not fit are truncated with an ellipsis; the flexible column absorbs the
// remaining width.
func (p *painter) table(indent int, cols []column, rows [][]cell) ([]string, []int) {
	widths := make([]int, len(cols))
	for i, c := range cols {
		widths[i] = runeLen(c.header)
		for _, r := range rows {
			widths[i] = max(widths[i], runeLen(r[i].text))
		}
		if c.max > 0 {
			widths[i] = min(widths[i], c.max)
		}
	}
	total := indent + colGap*(len(cols)-1)
	for _, w := range widths {
		total += w
	}
	for i, c := range cols {
		if c.flex && total > p.width {
			widths[i] = max(widths[i]-(total-p.width), runeLen(c.header), 10)
		}
	}

	render := func(cells []cell, style func(cell) string) string {
		var b strings.Builder
		b.WriteString(strings.Repeat(" ", indent))
		for i, c := range cells {
			if i > 0 {
				b.WriteString(strings.Repeat(" ", colGap))
			}
			// Padding stays outside the colour codes so a styled cell
			// never carries coloured blanks.
			text := truncate(c.text, widths[i])
			blank := strings.Repeat(" ", widths[i]-runeLen(text))
			switch {
			case cols[i].right:
				b.WriteString(blank + p.paint(style(c), text))
			case i < len(cells)-1:
				b.WriteString(p.paint(style(c), text) + blank)
			default:
				b.WriteString(p.paint(style(c), text))
			}
		}
		return b.String()
	}
	header := make([]cell, len(cols))
	for i, c := range cols {
		header[i] = cell{text: c.header}
	}
	lines := []string{render(header, func(cell) string { return styleDim })}
	for _, r := range rows {
		lines = append(lines, render(r, func(c cell) string { return c.style }))
	}
	return lines, widths
}
