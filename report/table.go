package report

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hvaudit/hvaudit/checks/findings"
)

// tableWriter renders a Run for people at a terminal. It is the default
// output, so it is built to be read at any scale: what was audited and how
// it scored (per target, and per area within each target, with failing
// counts by severity), then one line per failing or undecided check (its
// severity, title, how many objects and the first few of them), then what
// to do next and a one-line summary. Options.Verbose adds every object's
// evidence and the check's remediation; Options.Quiet prints the summary
// line alone. Passing and not-applicable findings are counted, never
// listed: the JSON report has everything.
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
	if t.opts.Quiet {
		p.summaryLine(r, true)
	} else {
		p.header(r)
		p.targets(r)
		p.areas(r)
		if p.verbose {
			p.threats(r)
		}
		p.checks(r)
		p.nextSteps(r)
		p.summary(r)
	}
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

// heading prints a section title, with a dim note after it when given.
func (p *painter) heading(title, note string) {
	p.println()
	if note != "" && runeLen(title)+2+runeLen(note) <= p.width {
		p.println(p.paint(styleBold, title), "  ", p.paint(styleDim, note))
		return
	}
	p.println(p.paint(styleBold, title))
}

// field prints "label  text" with text wrapped under itself, the label in a
// column of labelWidth at indent.
func (p *painter) field(indent, labelWidth int, label, text, style string) {
	p.styledField(indent, labelWidth, label, styleDim, text, style)
}

// styledField is field with a chosen label style. Label and text are plain:
// padding and wrapping must not count escape codes. Text wraps at spaces
// and after commas only, so a thumbprint, a URI or a CVE id is never cut.
func (p *painter) styledField(indent, labelWidth int, label, labelStyle, text, style string) {
	lines := wrapTokens(text, p.width-indent-labelWidth)
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
	if s := scopeText(r.Run.Scope); s != "" {
		p.field(2, headerLabel, "Scope", s, styleBoldYel)
	}
	if r.Summary.Complete {
		p.field(2, headerLabel, "Result", "complete", styleGreen)
	} else {
		p.field(2, headerLabel, "Result", "INCOMPLETE: "+incompleteReason(r)+" "+errorsCount, styleBoldYel)
	}
}

// errorsCount says truthfully what the score does with errors.
const errorsCount = "Errors count against the score: what could not be read is not taken as passing."

// scopeText describes a narrowed run: "" when the run covered everything.
func scopeText(s *Scope) string {
	if s == nil {
		return ""
	}
	var parts []string
	for _, x := range []struct {
		what string
		ids  []string
	}{{"checks", s.Checks}, {"areas", s.Areas}, {"objects", s.Objects}} {
		if len(x.ids) > 0 {
			parts = append(parts, x.what+" "+clean(strings.Join(x.ids, ", "), false))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "narrowed to " + strings.Join(parts, "; ") + ": the score covers only these"
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

// --- targets and areas --------------------------------------------------

// severityColumns are the failing-count columns, worst first.
var severityColumns = []struct {
	sev    findings.Severity
	header string
}{{findings.SeverityCritical, "CRIT"}, {findings.SeverityHigh, "HIGH"}, {findings.SeverityMedium, "MED"}, {findings.SeverityLow, "LOW"}}

// failTally counts findings for the score tables: failing ones by
// severity, errors, and passes.
type failTally struct {
	bySev map[findings.Severity]int
	errs  int
	pass  int
}

func tallyOf(fs []findings.Finding) failTally {
	t := failTally{bySev: map[findings.Severity]int{}}
	for _, f := range fs {
		switch f.Status {
		case findings.StatusFail:
			t.bySev[f.Severity]++
		case findings.StatusError:
			t.errs++
		case findings.StatusPass:
			t.pass++
		}
	}
	return t
}

// tallyCells are a tally's columns: failing by severity, errors, passes.
func (t failTally) cells() []cell {
	var out []cell
	for _, c := range severityColumns {
		out = append(out, countCell(t.bySev[c.sev], severityStyle[c.sev]))
	}
	return append(out, countCell(t.errs, styleMagenta), countCell(t.pass, styleGreen))
}

func tallyColumns() []column {
	var cols []column
	for _, c := range severityColumns {
		cols = append(cols, column{header: c.header, right: true})
	}
	return append(cols, column{header: "ERROR", right: true}, column{header: "PASS", right: true, optional: true})
}

func (p *painter) targets(r *Run) {
	p.heading("TARGETS", "score, and failing findings by severity")
	if len(r.Targets) == 0 {
		p.println("  none")
		return
	}
	byTarget := findingsByTarget(r)
	withWaivers := r.Summary.Counts.Waived > 0
	// The platform is in the product's name and in each target's heading
	// below; the table keeps its width for the product and the counts.
	cols := []column{{header: "TARGET", max: 28, flex: true}, {header: "PRODUCT", flex: true, optional: true}, {header: "STATUS"}, {header: "SCORE", right: true}}
	if withWaivers {
		cols = append(cols, column{header: "NO WAIVERS", right: true, optional: true})
	}
	cols = append(cols, tallyColumns()[:len(severityColumns)+1]...)
	rows := make([][]cell, len(r.Targets))
	for i, tr := range r.Targets {
		status := cell{text: "ok", style: styleGreen}
		if tr.Status != TargetOK {
			status = cell{text: clean(tr.Status, false), style: styleBoldRed}
		}
		s := r.Summary.ByTarget[tr.Name]
		rows[i] = []cell{{text: clean(tr.Name, false), style: styleBold}, {text: product(tr)}, status, scoreCell(s.Score)}
		if withWaivers {
			rows[i] = append(rows[i], scoreCell(s.ScoreWithoutWaivers))
		}
		rows[i] = append(rows[i], tallyOf(byTarget[tr.Name]).cells()[:len(severityColumns)+1]...)
	}
	lines, widths := p.table(2, cols, rows)
	p.println(lines[0])
	// The error goes under its row, aligned with the product column, so it
	// reads as part of that target.
	errIndent := 2 + widths[0] + colGap
	for i, tr := range r.Targets {
		p.println(lines[i+1])
		if tr.Status != TargetOK {
			p.field(errIndent, len("error: "), "error:", clean(orDefault(tr.Error, "no error message recorded"), true), styleRed)
		}
	}
}

// areas scores each target's areas separately: an area means different
// checks on ESXi and on KVM, so one row across platforms would mix them.
func (p *painter) areas(r *Run) {
	byTarget := findingsByTarget(r)
	cols := append([]column{{header: "TARGET", max: 28, flex: true}, {header: "AREA", flex: true}, {header: "SCORE", right: true}}, tallyColumns()...)
	var rows [][]cell
	for _, tr := range r.Targets {
		fs := byTarget[tr.Name]
		if len(fs) == 0 {
			continue
		}
		byArea := map[string][]findings.Finding{}
		for _, f := range fs {
			byArea[f.Area] = append(byArea[f.Area], f)
		}
		scores := findings.Summarize(fs, nil).ByArea
		for i, area := range areaOrder(scores) {
			name := cell{}
			if i == 0 {
				name = cell{text: clean(tr.Name, false), style: styleBold}
			}
			row := []cell{name, {text: clean(area, false)}, scoreCell(scores[area].Score)}
			rows = append(rows, append(row, tallyOf(byArea[area]).cells()...))
		}
	}
	if len(rows) == 0 {
		return
	}
	p.heading("AREAS", "per target")
	lines, _ := p.table(2, cols, rows)
	for _, l := range lines {
		p.println(l)
	}
}

// threats shows exposure per threat (verbose only): every threat of the
// vocabulary, so one no check covered here shows as "-".
func (p *painter) threats(r *Run) {
	if len(r.Summary.ByThreat) == 0 {
		return
	}
	p.heading("EXPOSURE BY THREAT", "")
	cols := []column{{header: "THREAT", flex: true}, {header: "SCORE", right: true}}
	for _, h := range []string{"PASS", "FAIL", "ERROR", "WAIVED", "N/A"} {
		cols = append(cols, column{header: h, right: true, optional: h == "WAIVED" || h == "N/A"})
	}
	var rows [][]cell
	for _, th := range threatOrder(r.Summary.ByThreat) {
		s := r.Summary.ByThreat[th]
		c := s.Counts
		rows = append(rows, []cell{{text: clean(th, false)}, scoreCell(s.Score),
			countCell(c.Pass, styleGreen), countCell(c.Fail, styleBoldRed), countCell(c.Error, styleMagenta),
			countCell(c.Waived, styleCyan), countCell(c.NotApplicable, styleDim)})
	}
	lines, _ := p.table(2, cols, rows)
	for _, l := range lines {
		p.println(l)
	}
}

// threatOrder lists the vocabulary's threats in its order, then any others.
func threatOrder(by map[string]findings.Score) []string {
	var out []string
	for _, t := range findings.Threats {
		if _, ok := by[t]; ok {
			out = append(out, t)
		}
	}
	var extra []string
	for t := range by {
		if !slices.Contains(findings.Threats, t) {
			extra = append(extra, t)
		}
	}
	slices.Sort(extra)
	return append(out, extra...)
}

// areaOrder lists the areas present in the contract's order (the order of
// DESIGN.md §4, which groups related areas), then any others sorted, so an
// area added to a baseline before it is added to the list still shows.
func areaOrder(by map[string]findings.Score) []string {
	var out []string
	for _, a := range findings.Areas {
		if _, ok := by[a]; ok {
			out = append(out, a)
		}
	}
	var extra []string
	for a := range by {
		if !slices.Contains(findings.Areas, a) {
			extra = append(extra, a)
		}
	}
	slices.Sort(extra)
	return append(out, extra...)
}

// findingsByTarget groups the run's findings by target name.
func findingsByTarget(r *Run) map[string][]findings.Finding {
	out := map[string][]findings.Finding{}
	for _, f := range r.Findings {
		out[f.Target] = append(out[f.Target], f)
	}
	return out
}

// --- checks -------------------------------------------------------------

// statusOrder puts what needs action first: fail, then error (could not
// tell), then waived (accepted, but still a risk), then the rest.
var statusOrder = map[findings.Status]int{
	findings.StatusFail:          0,
	findings.StatusError:         1,
	findings.StatusWaived:        2,
	findings.StatusPass:          3,
	findings.StatusNotApplicable: 4,
}

func statusRank(s findings.Status) int {
	if r, ok := statusOrder[s]; ok {
		return r
	}
	return len(statusOrder)
}

var statusStyle = map[findings.Status]string{
	findings.StatusFail:          styleBoldRed,
	findings.StatusError:         styleMagenta,
	findings.StatusWaived:        styleCyan,
	findings.StatusPass:          styleGreen,
	findings.StatusNotApplicable: styleDim,
}

var severityStyle = map[findings.Severity]string{
	findings.SeverityCritical: styleBoldRed,
	findings.SeverityHigh:     styleRed,
	findings.SeverityMedium:   styleYellow,
	findings.SeverityLow:      styleBlue,
	findings.SeverityInfo:     styleDim,
}

// checkGroup is one check's findings of one status on one target: one line
// of the report.
type checkGroup struct {
	status   findings.Status
	severity findings.Severity
	id       string
	title    string
	findings []findings.Finding
}

// groupChecks groups a target's fail, error and waived findings by status
// and check, worst first: status, then severity, then check id.
func groupChecks(fs []findings.Finding) []*checkGroup {
	byKey := map[string]*checkGroup{}
	var out []*checkGroup
	for _, f := range fs {
		if f.Status != findings.StatusFail && f.Status != findings.StatusError && f.Status != findings.StatusWaived {
			continue
		}
		k := string(f.Status) + "\x00" + f.CheckID
		g := byKey[k]
		if g == nil {
			g = &checkGroup{status: f.Status, severity: f.Severity, id: f.CheckID, title: f.Title}
			byKey[k] = g
			out = append(out, g)
		}
		g.findings = append(g.findings, f)
	}
	slices.SortStableFunc(out, func(a, b *checkGroup) int {
		if d := statusRank(a.status) - statusRank(b.status); d != 0 {
			return d
		}
		if d := b.severity.Rank() - a.severity.Rank(); d != 0 {
			return d
		}
		return strings.Compare(a.id, b.id)
	})
	return out
}

func (p *painter) checks(r *Run) {
	note := "one line per check, with how many objects and the first of them"
	if !p.verbose {
		note = "one line per check; --verbose adds evidence and remediation"
	}
	p.heading("FAILING CHECKS", note)
	byTarget := findingsByTarget(r)
	var names []string
	seen := map[string]bool{}
	for _, tr := range r.Targets {
		names = append(names, tr.Name)
		seen[tr.Name] = true
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
	names = append(names, orphans...)
	if len(names) == 0 {
		p.println("  none")
		return
	}
	for i, name := range names {
		if i > 0 {
			p.println()
		}
		var tr *TargetResult
		for j := range r.Targets {
			if r.Targets[j].Name == name {
				tr = &r.Targets[j]
			}
		}
		p.targetChecks(r, name, tr, byTarget[name])
	}
}

func (p *painter) targetChecks(r *Run, name string, tr *TargetResult, fs []findings.Finding) {
	title, plain := p.paint(styleBold, truncate(clean(name, false), p.width/2)), truncate(clean(name, false), p.width/2)
	if tr != nil && tr.Platform != "" {
		platform := "(" + truncate(clean(tr.Platform, false), 20) + ")"
		title += " " + p.paint(styleDim, platform)
		plain += " " + platform
	}
	if tr != nil && tr.Status != TargetOK {
		p.println(title, "  ", p.paint(styleBoldRed, "NOT AUDITED"))
		p.field(2, len("error: "), "error:", clean(orDefault(tr.Error, "no error message recorded"), true), styleRed)
		return
	}
	if s, ok := r.Summary.ByTarget[name]; ok {
		title += "  score " + p.paintScore(s.Score)
		plain += "  score " + formatScore(s.Score)
	}
	counts := "(" + countFindings(fs).String() + ")"
	if runeLen(plain)+2+runeLen(counts) <= p.width {
		p.println(title, "  ", p.paint(styleDim, counts))
	} else {
		p.println(title)
		p.println("  ", p.paint(styleDim, counts))
	}
	groups := groupChecks(fs)
	if len(groups) == 0 {
		p.println("  nothing failing")
		return
	}
	idWidth, countWidth := len("CHECK"), len("N")
	for _, g := range groups {
		idWidth = max(idWidth, runeLen(clean(g.id, false)))
		countWidth = max(countWidth, len(strconv.Itoa(len(g.findings))))
	}
	idWidth = min(idWidth, 24)
	prefix := 2 + statusWidth + 1 + severityWidth + 2 + idWidth + 2 + countWidth + 2
	p.println(p.paint(styleDim, "  "+pad("STATUS", statusWidth)+" "+pad("SEVERITY", severityWidth)+"  "+pad("CHECK", idWidth)+"  "+padLeft("N", countWidth)+"  TITLE: OBJECTS"))
	for i, g := range groups {
		status, sev, id := statusLabel(g.status), clean(string(g.severity), false), truncate(clean(g.id, false), idWidth)
		rest := checkLineRest(clean(g.title, false), groupObjects(g.findings), p.width-prefix)
		p.println("  ",
			p.paint(statusStyle[g.status], status), strings.Repeat(" ", statusWidth-runeLen(status)+1),
			p.paint(severityStyle[g.severity], sev), strings.Repeat(" ", severityWidth-runeLen(sev)+2),
			p.paint(styleBold, id), strings.Repeat(" ", idWidth-runeLen(id)+2),
			padLeft(strconv.Itoa(len(g.findings)), countWidth), "  ", rest)
		if p.verbose {
			p.groupDetails(g)
			if i < len(groups)-1 {
				p.println()
			}
		}
	}
}

// statusWidth and severityWidth are the widest status ("WAIVED") and
// severity ("critical").
const (
	statusWidth   = 6
	severityWidth = 8
)

func statusLabel(s findings.Status) string {
	if s == findings.StatusNotApplicable {
		return "N/A"
	}
	return strings.ToUpper(clean(string(s), false))
}

// groupObjects names a group's objects in order, each once.
func groupObjects(fs []findings.Finding) []string {
	var out []string
	for _, f := range fs {
		n := clean(orDefault(f.Object.Name, f.Object.ID), false)
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// checkLineRest fits "title: first, second, +N more" into room: as many
// object names as fit after the whole title; if not even one does, the
// title is shortened at a word to leave room for the first name; a name
// that cannot fit at all is left out (the count column still counts it).
// Nothing is cut inside a name.
func checkLineRest(title string, objects []string, room int) string {
	names := func(k int) string {
		if k == 0 {
			return ""
		}
		s := ": " + strings.Join(objects[:k], ", ")
		if more := len(objects) - k; more > 0 {
			s += ", +" + strconv.Itoa(more) + " more"
		}
		return s
	}
	for k := len(objects); k >= 1; k-- {
		if runeLen(title)+runeLen(names(k)) <= room {
			return title + names(k)
		}
	}
	if len(objects) > 0 {
		if first := names(1); room-runeLen(first) >= 20 {
			return shortenAtWord(title, room-runeLen(first)) + first
		}
	}
	return shortenAtWord(title, room)
}

// shortenAtWord cuts s to at most width runes at a space, ending in an
// ellipsis; a first word longer than width is kept whole.
func shortenAtWord(s string, width int) string {
	if runeLen(s) <= width {
		return s
	}
	words := strings.Fields(s)
	out := words[0]
	for _, w := range words[1:] {
		if runeLen(out)+1+runeLen(w)+len(ellipsis) > width {
			break
		}
		out += " " + w
	}
	return out + ellipsis
}

// Verbose details: an object line, then labelled fields whose text starts
// at detailIndent+fieldLabel.
const (
	detailIndent = 6
	fieldLabel   = len("remediation") + 2
)

// groupDetails lists each object of a group with its evidence, then the
// check's expectation and remediation once.
func (p *painter) groupDetails(g *checkGroup) {
	for _, f := range g.findings {
		obj := objectLabel(f.Object)
		if f.Object.Host != "" && f.Object.Kind != "host" {
			obj += " (host " + clean(f.Object.Host, false) + ")"
		}
		if f.Status == findings.StatusWaived && f.ObservedStatus != "" {
			obj += " (observed " + clean(string(f.ObservedStatus), false) + ")"
		}
		p.println(strings.Repeat(" ", detailIndent-2), p.paint(styleBold, obj))
		p.evidence(f.Evidence)
		if m := messageBeyondEvidence(f); m != "" {
			p.field(detailIndent, fieldLabel, "message", clean(m, true), styleNone)
		}
		if w := f.Waiver; w != nil {
			p.field(detailIndent, fieldLabel, "waiver", waiverText(w), styleCyan)
		}
	}
	first := g.findings[0]
	p.field(detailIndent-2, fieldLabel+2, "expected", clean(first.Expected, true), styleNone)
	p.field(detailIndent-2, fieldLabel+2, "remediation", clean(first.Remediation, true), styleNone)
}

// objectLabel names a finding's object: its kind and name, or its id when
// it has no name.
func objectLabel(o findings.ObjectRef) string {
	name := o.Name
	if name == "" {
		name = o.ID
	}
	return strings.TrimSpace(clean(o.Kind, false) + " " + clean(name, false))
}

// evidence prints each value as "label = value", the label in words (the
// field's path, in full, is in the JSON report), and its source dimmed on
// the next line.
func (p *painter) evidence(ev []findings.Evidence) {
	label := "observed"
	for _, e := range ev {
		p.field(detailIndent, fieldLabel, label, clean(evidenceLabel(e.Field), false)+" = "+observedText(e.Observed), styleNone)
		if src := clean(e.Source, false); src != "" {
			p.field(detailIndent+fieldLabel, len("from "), "from", src, styleDim)
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

func waiverText(w *findings.Waiver) string {
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

// --- next steps and summary ---------------------------------------------

// nextSteps says what to run next, from what the run found.
func (p *painter) nextSteps(r *Run) {
	var worst *checkGroup
	for _, g := range groupChecks(r.Findings) {
		if g.status == findings.StatusFail {
			worst = g
			break
		}
	}
	type step struct{ cmd, why string }
	var steps []step
	if worst != nil {
		steps = append(steps, step{"hvaudit checks show " + clean(worst.id, false), "what a check reads, why it matters, how to fix it"})
	}
	if c := r.Summary.Counts; (c.Fail > 0 || c.Error > 0 || c.Waived > 0) && !p.verbose {
		steps = append(steps, step{"add --verbose", "each object's evidence, and each check's remediation"})
	}
	if n := r.Summary.Counts.Error; n > 0 {
		why := "values hvaudit could not read; --verbose says why for each"
		if p.verbose {
			why = "values hvaudit could not read; each one's message says why"
		}
		steps = append(steps, step{plural(n, "error"), why})
	}
	if r.Summary.Counts.Fail > 0 {
		steps = append(steps, step{"--check ID --object NAME", "after a fix, audit only what the change touched"},
			step{"--waivers FILE", "record an accepted risk with its approver and expiry"})
	}
	if len(steps) == 0 {
		return
	}
	p.heading("NEXT STEPS", "")
	w := 0
	for _, s := range steps {
		w = max(w, runeLen(s.cmd))
	}
	for _, s := range steps {
		if 2+w+2+runeLen(s.why) <= p.width {
			p.println("  ", pad(s.cmd, w), "  ", p.paint(styleDim, s.why))
		} else {
			p.println("  ", s.cmd)
			p.field(6, 0, "", s.why, styleDim)
		}
	}
}

// summary ends the report: the summary line, and why a run is incomplete.
func (p *painter) summary(r *Run) {
	p.println()
	p.println(p.paint(styleDim, strings.Repeat("=", p.width)))
	p.summaryLine(r, false)
	if !r.Summary.Complete {
		p.styledField(0, len("INCOMPLETE: "), "INCOMPLETE:", styleBoldYel, incompleteReason(r)+" "+errorsCount, styleBoldYel)
	}
}

// summaryLine is the run in one line: failing counts by severity, the other
// statuses and the score. Alone (--quiet) it also says whether the run was
// complete, and never wraps, so a script reads one line; otherwise the
// INCOMPLETE line under it says so, and it breaks between its pieces when
// wider than the terminal.
func (p *painter) summaryLine(r *Run, alone bool) {
	s := r.Summary
	c := s.Counts
	bySev := map[findings.Severity]int{}
	for _, f := range r.Findings {
		if f.Status == findings.StatusFail {
			bySev[f.Severity]++
		}
	}
	// Each piece is kept as plain text and its style, so the line's length
	// is measured without colour codes; sep goes before the text, unstyled.
	type piece struct{ sep, text, style string }
	ps := []piece{{"", "Summary:", styleBold}, {" ", strconv.Itoa(c.Fail) + " fail", styleBoldRed}}
	var sevs []string
	for _, sc := range severityColumns {
		sevs = append(sevs, strconv.Itoa(bySev[sc.sev])+" "+string(sc.sev))
	}
	if n := bySev[findings.SeverityInfo]; n > 0 {
		sevs = append(sevs, strconv.Itoa(n)+" info")
	}
	ps = append(ps, piece{" ", "(" + strings.Join(sevs, ", ") + ")", styleNone},
		piece{", ", strconv.Itoa(c.Error) + " error", styleMagenta})
	if c.Waived > 0 {
		ps = append(ps, piece{", ", strconv.Itoa(c.Waived) + " waived", styleCyan})
	}
	ps = append(ps, piece{", ", strconv.Itoa(c.Pass) + " pass", styleGreen},
		piece{", ", strconv.Itoa(c.NotApplicable) + " n/a", styleNone},
		piece{"; ", "score ", styleNone})
	if s.Score == nil {
		ps = append(ps, piece{"", "none (nothing scored)", styleDim})
	} else {
		ps = append(ps, piece{"", formatScore(s.Score), scoreStyle(s.Score)})
	}
	if !sameScore(s.Score, s.ScoreWithoutWaivers) {
		ps = append(ps, piece{" ", "(" + formatScore(s.ScoreWithoutWaivers) + " without waivers)", styleNone})
	}
	if alone {
		ps = append(ps, piece{" on ", plural(len(r.Targets), "target"), styleNone})
		if !s.Complete {
			ps = append(ps, piece{"; ", "INCOMPLETE: " + strings.TrimSuffix(incompleteReason(r), "."), styleBoldYel})
		}
	}
	line, plainLen := "", 0
	for i, x := range ps {
		n := runeLen(x.sep) + runeLen(x.text)
		// A piece with no separator after it is glued to the next ("score "
		// and its value): the line breaks before the pair, never inside.
		if i+1 < len(ps) && ps[i+1].sep == "" {
			n += runeLen(ps[i+1].text)
		}
		if x.sep == "" && i > 0 {
			line += p.paint(x.style, x.text)
			plainLen += runeLen(x.text)
			continue
		}
		// One column is kept for the separator a break leaves at the end.
		if !alone && plainLen > 0 && plainLen+n > p.width-1 {
			p.println(line + strings.TrimRight(x.sep, " "))
			line, plainLen = "  ", 2
			x.sep = ""
			n = runeLen(x.text)
		}
		line += x.sep + p.paint(x.style, x.text)
		plainLen += n
	}
	p.println(line)
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
	findings.Counts
}

func countFindings(fs []findings.Finding) findingCounts {
	return findingCounts{findings.Count(fs)}
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
// what is there; zero is a dim dot, so the non-zero counts stand out.
func countCell(n int, style string) cell {
	if n == 0 {
		return cell{text: ".", style: styleDim}
	}
	return cell{text: strconv.Itoa(n), style: style}
}

// --- tables -------------------------------------------------------------

const colGap = 2

type column struct {
	header string
	right  bool
	max    int  // cap on the column's width; 0 for none
	flex   bool // shrinks (its text cut with an ellipsis) when the table is too wide
	// optional columns are left out, rightmost first, when the table does
	// not fit even with its flexible columns at their narrowest.
	optional bool
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
	total := func() int {
		t := indent + colGap*(len(cols)-1)
		for _, w := range widths {
			t += w
		}
		return t
	}
	// Too wide: flexible columns shrink, left to right, to 16 runes; then
	// optional columns go, rightmost first; then flexible columns shrink
	// to 8 (or their header).
	shrink := func(floor int) {
		for i, c := range cols {
			if over := total() - p.width; c.flex && over > 0 {
				widths[i] = max(widths[i]-over, runeLen(c.header), min(widths[i], floor))
			}
		}
	}
	shrink(16)
	for i := len(cols) - 1; i >= 0 && total() > p.width; i-- {
		if cols[i].optional {
			cols, widths = slices.Delete(slices.Clone(cols), i, i+1), slices.Delete(widths, i, i+1)
			for r := range rows {
				rows[r] = slices.Delete(slices.Clone(rows[r]), i, i+1)
			}
		}
	}
	shrink(8)

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

// wrapTokens breaks s into lines of at most width runes at spaces and after
// commas, never inside a token: a certificate thumbprint, a URI or a CVE id
// longer than the width gets a line of its own, wider than the others, and
// stays whole for copying. Newlines in s start a new paragraph; runs of
// spaces collapse.
func wrapTokens(s string, width int) []string {
	if width < 1 {
		width = 1
	}
	var out []string
	for _, para := range strings.Split(s, "\n") {
		line, lineLen := "", 0
		for _, word := range strings.Fields(para) {
			for j, piece := range splitAfterCommas(word) {
				n := runeLen(piece)
				// A piece continues the word it was split from: no space.
				joiner := " "
				if j > 0 {
					joiner = ""
				}
				switch {
				case line == "":
					line, lineLen = piece, n
				case lineLen+runeLen(joiner)+n <= width:
					line += joiner + piece
					lineLen += runeLen(joiner) + n
				default:
					out = append(out, line)
					line, lineLen = piece, n
				}
			}
		}
		if line != "" {
			out = append(out, line)
		}
	}
	return out
}

// splitAfterCommas splits a word after each comma that is followed by more
// text (["a","b"] → ["a",  "b"]), the places a JSON list may break.
func splitAfterCommas(word string) []string {
	var out []string
	for {
		i := strings.IndexByte(word, ',')
		if i < 0 || i == len(word)-1 {
			return append(out, word)
		}
		out = append(out, word[:i+1])
		word = word[i+1:]
	}
}
