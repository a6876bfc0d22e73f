package report

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/hvaudit/hvaudit/checks/findings"
)

// htmlWriter writes one self-contained HTML file for people: the run, the
// score overall, per target and per area (with and without waivers), and
// every finding in a table that filters by status, severity, area and
// text, sorts by column, and expands to show the evidence, the waiver and
// the remediation. Styles and script are inline and a Content Security
// Policy forbids every other load, so the file can be mailed, archived and
// opened offline; a print stylesheet makes "print to PDF" give a clean
// document (controls hidden, details shown for what the filters show).
// Without scripts every finding is listed with its detail.
//
// Text from the estate (VM names, messages, evidence) goes through
// html/template's contextual escaping; control characters are shown
// escaped as in the terminal report.
type htmlWriter struct{}

func (htmlWriter) Format() string { return "html" }

//go:embed html/report.html.tmpl html/report.css html/report.js
var htmlFiles embed.FS

var (
	htmlCSS    = mustRead("html/report.css")
	htmlJS     = mustRead("html/report.js")
	htmlTmpl   = template.Must(template.New("report.html.tmpl").ParseFS(htmlFiles, "html/report.html.tmpl"))
	htmlPolicy = "default-src 'none'; style-src '" + cspHash(htmlCSS) + "'; script-src '" + cspHash(htmlJS) +
		"'; img-src data:; base-uri 'none'; form-action 'none'"
)

func mustRead(name string) string {
	b, err := htmlFiles.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// cspHash is the CSP source expression allowing exactly one inline block.
func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

type htmlPage struct {
	CSP                            string
	Style                          template.CSS
	Script                         template.JS
	Title, Heading, Tool           string
	RunID, Time                    string
	Baseline, BaselineSHA          string
	Advisories, Tailoring, Waivers string
	// UnusedWaivers: one line per waiver that waived nothing.
	UnusedWaivers  []string
	Complete       bool
	Incomplete     string
	Score, ScoreNW htmlScore
	Counts         findings.Counts
	TargetCount    string
	Targets        []htmlTarget
	// BySeverity, ByFramework and ByPlatform are the rollups; each
	// platform lists its own areas, so one platform's weak area is never
	// averaged with another's.
	BySeverity    []htmlArea
	ByFramework   []htmlFramework
	ByPlatform    []htmlPlatform
	Threats       []htmlArea
	Statuses      []htmlStatusOption
	Severities    []htmlSeverityOption
	AreaNames     []string
	PlatformNames []htmlOption
	Findings      []htmlFinding
	// Past htmlRowLimit findings, only the first htmlRowLimit (in the
	// order of what needs action) are rows; Summarised says so and ByCheck
	// counts every finding per check.
	Summarised string
	ByCheck    []htmlCheckRow
}

// htmlRowLimit is how many findings the page lists one by one. Each row
// is about 2.5 KB of HTML: a 10,000-VM estate's 256,000 findings would make
// a page of 600 MB that no browser opens, while the JSON and CSV reports
// hold every one.
var htmlRowLimit = 5000

// htmlCheckRow counts one check's findings, for a page past the limit.
type htmlCheckRow struct {
	CheckID, Title, Severity, Area string
	Counts                         findings.Counts
	Listed                         int
}

type htmlScore struct {
	Has         bool
	Text, Value string
}

type htmlTarget struct {
	Name, URI, Platform, Product, Status, Error string
	OK                                          bool
	Score, ScoreNW                              htmlScore
	Counts                                      findings.Counts
}

type htmlArea struct {
	Name           string
	Score, ScoreNW htmlScore
	Counts         findings.Counts
}

// htmlFramework is one framework's rollup: the findings of the checks
// that cite it, and how many of its ids they cite.
type htmlFramework struct {
	htmlArea
	IDs int
}

// htmlPlatform is one platform's rollup and its areas.
type htmlPlatform struct {
	htmlArea
	Label string
	Areas []htmlArea
}

type htmlOption struct{ Value, Label string }

type htmlStatusOption struct {
	Value, Label string
	Count        int
	Checked      bool
}

type htmlSeverityOption struct {
	Rank  int
	Label string
}

type htmlFinding struct {
	Anchor                              string
	Status, StatusLabel, ObservedStatus string
	StatusRank, SevRank, SevOrder       int
	Severity                            string
	Target, Object                      string
	Platform, PlatformLabel             string
	ObjectKind, ObjectName, ObjectID    string
	CheckID, Title, Area                string
	Threats                             string
	Message, Expected, Remediation      string
	// Observed sums up the evidence in words for the finding's row, in
	// place of a message that only restated it.
	Observed      string
	Evidence      []htmlEvidence
	Waiver        string
	WaiverExpired bool
	Refs          []htmlRef
	Docs          []string
	Search        string
}

// htmlEvidence is one observed value: the setting's own name (Key), what
// it is in words (Label), the value and where it was read; Expr is the
// expression the check evaluated, shown on demand.
type htmlEvidence struct{ Label, Key, Expr, Value, Source string }

type htmlRef struct{ Framework, IDs string }

func (htmlWriter) Write(w io.Writer, run *Run) error {
	r, err := prepare(run)
	if err != nil {
		return err
	}
	page := buildHTML(r)
	var buf bytes.Buffer
	if err := htmlTmpl.Execute(&buf, page); err != nil {
		return fmt.Errorf("html: %w", err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

func htmlScoreOf(s *float64) htmlScore {
	if s == nil {
		return htmlScore{Text: "none"}
	}
	return htmlScore{Has: true, Text: formatScore(s), Value: formatScore(s)}
}

func buildHTML(r *Run) *htmlPage {
	toolName := clean(orDefault(r.Tool.Name, "hvaudit"), false)
	tool := strings.TrimSpace(toolName + " " + clean(r.Tool.Version, false))
	b := r.Run.Baseline
	p := &htmlPage{
		CSP:           htmlPolicy,
		Style:         template.CSS(htmlCSS),
		Script:        template.JS(htmlJS),
		Heading:       toolName + " audit report",
		Tool:          tool,
		RunID:         clean(r.Run.ID, false),
		Time:          runTime(r.Run.Started, r.Run.Finished),
		Baseline:      strings.TrimSpace(clean(b.ID, false) + " " + clean(b.Version, false)),
		BaselineSHA:   clean(b.SHA256, false),
		Tailoring:     clean(r.Run.TailoringSHA256, false),
		Waivers:       clean(r.Run.WaiversSHA256, false),
		UnusedWaivers: unusedWaiverLines(r.Run.UnusedWaivers),
		Complete:      r.Summary.Complete,
		Score:         htmlScoreOf(r.Summary.Score),
		ScoreNW:       htmlScoreOf(r.Summary.ScoreWithoutWaivers),
		Counts:        r.Summary.Counts,
		TargetCount:   plural(len(r.Targets), "target"),
	}
	p.Title = p.Heading
	if p.Baseline != "" {
		p.Title += " - " + p.Baseline
	}
	if !r.Run.Started.IsZero() {
		p.Title += " - " + r.Run.Started.UTC().Format("2006-01-02 15:04 UTC")
	}
	if a := r.Run.Advisories; a.AsOf != "" || a.SHA256 != "" {
		p.Advisories = strings.TrimSpace("as of " + clean(a.AsOf, false))
		if a.SHA256 != "" {
			p.Advisories += " (sha256 " + clean(a.SHA256, false) + ")"
		}
	}
	if !p.Complete {
		p.Incomplete = incompleteReason(r)
	}

	for _, t := range r.Targets {
		ht := htmlTarget{
			Name: clean(t.Name, false), URI: clean(t.URI, false), Platform: clean(t.Platform, false),
			Product: product(t), Status: clean(t.Status, false), OK: t.Status == TargetOK,
			Error: clean(orDefault(t.Error, "no error message recorded"), true),
			Score: htmlScoreOf(nil), ScoreNW: htmlScoreOf(nil),
		}
		if s, ok := r.Summary.ByTarget[t.Name]; ok {
			ht.Score, ht.ScoreNW, ht.Counts = htmlScoreOf(s.Score), htmlScoreOf(s.ScoreWithoutWaivers), s.Counts
		}
		p.Targets = append(p.Targets, ht)
	}
	platformOf := map[string]string{}
	for _, t := range r.Targets {
		platformOf[t.Name] = t.Platform
	}
	p.BySeverity, p.ByFramework, p.ByPlatform = rollups(r.Findings, r.Summary.BySeverity, platformOf)
	for _, pl := range p.ByPlatform {
		p.PlatformNames = append(p.PlatformNames, htmlOption{Value: pl.Name, Label: pl.Label})
	}
	for _, th := range threatOrder(r.Summary.ByThreat) {
		s := r.Summary.ByThreat[th]
		p.Threats = append(p.Threats, htmlArea{Name: clean(th, false), Score: htmlScoreOf(s.Score), ScoreNW: htmlScoreOf(s.ScoreWithoutWaivers), Counts: s.Counts})
	}

	// What needs action first: status group, then severity, then the
	// report's own order (the input is already sorted that way).
	fs := slices.Clone(r.Findings)
	slices.SortStableFunc(fs, func(a, b findings.Finding) int {
		if d := statusRank(a.Status) - statusRank(b.Status); d != 0 {
			return d
		}
		return b.Severity.Rank() - a.Severity.Rank()
	})
	if len(fs) > htmlRowLimit {
		p.ByCheck = checkRows(fs, htmlRowLimit)
		omitted := fs[htmlRowLimit:]
		var o findings.Counts
		for _, f := range omitted {
			o.Add(f.Status)
		}
		p.Summarised = fmt.Sprintf("This run has %d findings. The %d that need action first (failing, then error, then waived; the highest severity first) are listed one by one below; the other %d (%d fail, %d error, %d waived, %d pass, %d n/a) are counted per check in \"By check\". The JSON and CSV reports list every finding.",
			len(fs), htmlRowLimit, len(omitted), o.Fail, o.Error, o.Waived, o.Pass, o.NotApplicable)
		fs = fs[:htmlRowLimit]
	}
	var statusCount findings.Counts
	unknownCount := map[findings.Status]int{}
	areas := map[string]bool{}
	for i, f := range fs {
		if !statusCount.Add(f.Status) {
			unknownCount[f.Status]++
		}
		areas[f.Area] = true
		p.Findings = append(p.Findings, htmlFindingOf(i, f, platformOf[f.Target]))
	}

	// What needs action is shown first; passes and not-applicable
	// findings are a click away. Counts come from the findings listed, so
	// they match the rows whoever built the summary.
	for _, s := range []struct {
		st      findings.Status
		checked bool
	}{
		{findings.StatusFail, true}, {findings.StatusError, true}, {findings.StatusWaived, true},
		{findings.StatusPass, false}, {findings.StatusNotApplicable, false},
	} {
		p.Statuses = append(p.Statuses, htmlStatusOption{Value: string(s.st), Label: statusText(s.st), Count: statusCount.Of(s.st), Checked: s.checked})
	}
	// A status this page does not know still gets a box, or its findings
	// could never be shown.
	var unknown []string
	for st := range unknownCount {
		unknown = append(unknown, string(st))
	}
	slices.Sort(unknown)
	for _, st := range unknown {
		p.Statuses = append(p.Statuses, htmlStatusOption{Value: clean(st, false), Label: clean(st, false), Count: unknownCount[findings.Status(st)], Checked: true})
	}
	for _, sev := range []findings.Severity{findings.SeverityCritical, findings.SeverityHigh, findings.SeverityMedium, findings.SeverityLow} {
		label := string(sev) + " and above"
		if sev == findings.SeverityCritical {
			label = string(sev)
		}
		p.Severities = append(p.Severities, htmlSeverityOption{Rank: sev.Rank(), Label: label})
	}
	areaList := make(map[string]findings.Score, len(areas))
	for a := range areas {
		areaList[a] = findings.Score{}
	}
	for _, a := range areaOrder(areaList) {
		p.AreaNames = append(p.AreaNames, clean(a, false))
	}
	return p
}

// checkRows counts every finding per check, and how many of each check's
// are among the first listed, in check id order.
func checkRows(fs []findings.Finding, listed int) []htmlCheckRow {
	byID := map[string]*htmlCheckRow{}
	var ids []string
	for i, f := range fs {
		r, ok := byID[f.CheckID]
		if !ok {
			r = &htmlCheckRow{CheckID: clean(f.CheckID, false), Title: clean(f.Title, false), Severity: clean(string(f.Severity), false), Area: clean(f.Area, false)}
			byID[f.CheckID] = r
			ids = append(ids, f.CheckID)
		}
		r.Counts.Add(f.Status)
		if i < listed {
			r.Listed++
		}
	}
	slices.Sort(ids)
	out := make([]htmlCheckRow, len(ids))
	for i, id := range ids {
		out[i] = *byID[id]
	}
	return out
}

func statusText(s findings.Status) string {
	if s == findings.StatusNotApplicable {
		return "n/a"
	}
	return string(s)
}

func htmlFindingOf(i int, f findings.Finding, platform string) htmlFinding {
	name := orDefault(f.Object.Name, f.Object.ID)
	hf := htmlFinding{
		Anchor:         "f" + strconv.Itoa(i+1),
		Status:         clean(string(f.Status), false),
		StatusLabel:    statusText(f.Status),
		ObservedStatus: clean(string(f.ObservedStatus), false),
		StatusRank:     statusRank(f.Status),
		SevRank:        f.Severity.Rank(),
		SevOrder:       4 - f.Severity.Rank(),
		Severity:       clean(string(f.Severity), false),
		Target:         clean(f.Target, false),
		Platform:       clean(orDefault(platform, "other"), false),
		PlatformLabel:  platformLabel(platform),
		Object:         objectLabel(f.Object),
		ObjectKind:     clean(f.Object.Kind, false),
		ObjectName:     clean(name, false),
		CheckID:        clean(f.CheckID, false),
		Title:          clean(f.Title, false),
		Area:           clean(f.Area, false),
		Threats:        clean(strings.Join(f.Threats, ", "), false),
		Message:        clean(messageBeyondEvidence(f), true),
		Expected:       clean(f.Expected, true),
		Remediation:    clean(f.Remediation, true),
	}
	if f.Object.ID != "" && f.Object.ID != name {
		hf.ObjectID = clean(f.Object.ID, false)
	}
	var observed []string
	for _, e := range f.Evidence {
		ev := htmlEvidence{
			Label: clean(evidenceLabel(e.Field), false), Key: clean(evidenceKey(e.Field), false), Expr: clean(e.Field, false),
			Value: observedText(e.Observed), Source: clean(e.Source, false),
		}
		if strings.Contains(ev.Label, ev.Key) || ev.Key == ev.Expr {
			ev.Key = "" // the label already names it
		}
		hf.Evidence = append(hf.Evidence, ev)
		observed = append(observed, ev.Label+": "+shorten(ev.Value, 120))
	}
	// A failing finding's message only restates its evidence: say it in
	// words instead, the values shortened (the detail has them whole).
	if f.Status == findings.StatusFail && len(observed) > 0 && messageBeyondEvidence(f) != f.Message {
		hf.Observed = strings.Join(observed, "; ")
	}
	if w := f.Waiver; w != nil {
		hf.Waiver, hf.WaiverExpired = waiverText(w), w.Expired
	}
	for _, x := range []struct {
		name string
		ids  []string
	}{{"STIG", f.Refs.STIG}, {"SCG", f.Refs.SCG}, {"CIS", f.Refs.CIS}, {"NIST 800-53", f.Refs.NIST80053}} {
		if len(x.ids) > 0 {
			hf.Refs = append(hf.Refs, htmlRef{Framework: x.name, IDs: strings.Join(strings.Split(joinIDs(x.ids), ";"), ", ")})
		}
	}
	for _, d := range f.Refs.Docs {
		// html/template refuses unsafe schemes (javascript: and the like)
		// in href on its own; the page's CSP stops any load regardless.
		hf.Docs = append(hf.Docs, clean(d, false))
	}
	hf.Search = strings.ToLower(strings.Join([]string{
		hf.Status, hf.ObservedStatus, hf.Severity, hf.Target, hf.PlatformLabel, hf.Object, hf.ObjectID, hf.CheckID, hf.Title, hf.Area,
		hf.Threats, hf.Message, hf.Observed, strings.Join(f.Refs.STIG, " "), strings.Join(f.Refs.SCG, " "), strings.Join(f.Refs.CIS, " "),
	}, " "))
	return hf
}

// unusedWaiverLines describes each waiver that waived nothing: where it is
// and why (expired, or matched no fail or error finding).
func unusedWaiverLines(us []UnusedWaiver) []string {
	var out []string
	for _, u := range us {
		why := "matched no fail or error finding"
		if u.Reason == "expired" {
			why = "expired " + u.Expires.UTC().Format("2006-01-02")
		}
		out = append(out, clean(fmt.Sprintf("%s:%d (%s): %s", u.File, u.Line, u.Check, why), false))
	}
	return out
}

// shorten cuts s to at most n runes, marking the cut.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// platformLabels name the platforms as their administrators do.
var platformLabels = map[string]string{"esxi": "ESXi and vCenter", "kvm": "KVM/QEMU", "hyperv": "Hyper-V"}

func platformLabel(p string) string {
	if l, ok := platformLabels[p]; ok {
		return l
	}
	return clean(orDefault(p, "other"), false)
}

// frameworks are the reference sets findings are rolled up by, in the
// order the CSV's columns use.
var frameworks = []struct {
	name string
	ids  func(findings.Refs) []string
}{
	{"STIG", func(r findings.Refs) []string { return r.STIG }},
	{"SCG", func(r findings.Refs) []string { return r.SCG }},
	{"CIS", func(r findings.Refs) []string { return r.CIS }},
	{"NIST 800-53", func(r findings.Refs) []string { return r.NIST80053 }},
}

// overall is a summary's own score as a Score.
func overall(s findings.Summary) findings.Score {
	return findings.Score{Score: s.Score, ScoreWithoutWaivers: s.ScoreWithoutWaivers, Counts: s.Counts}
}

func htmlAreaOf(name string, s findings.Score) htmlArea {
	return htmlArea{Name: name, Score: htmlScoreOf(s.Score), ScoreNW: htmlScoreOf(s.ScoreWithoutWaivers), Counts: s.Counts}
}

// rollups scores the findings by severity (the summary's own), by
// framework (the findings of checks citing it) and by platform, each
// platform with its areas. Scores use the summary's rules (findings.Summarize).
func rollups(fs []findings.Finding, bySeverity map[string]findings.Score, platformOf map[string]string) ([]htmlArea, []htmlFramework, []htmlPlatform) {
	var sev []htmlArea
	for _, s := range []findings.Severity{findings.SeverityCritical, findings.SeverityHigh, findings.SeverityMedium, findings.SeverityLow, findings.SeverityInfo} {
		if sc, ok := bySeverity[string(s)]; ok {
			sev = append(sev, htmlAreaOf(string(s), sc))
		}
	}

	var fw []htmlFramework
	for _, x := range frameworks {
		var subset []findings.Finding
		ids := map[string]bool{}
		for _, f := range fs {
			if refs := x.ids(f.Refs); len(refs) > 0 {
				subset = append(subset, f)
				for _, id := range refs {
					ids[id] = true
				}
			}
		}
		fw = append(fw, htmlFramework{htmlArea: htmlAreaOf(x.name, overall(findings.Summarize(subset, nil))), IDs: len(ids)})
	}

	byPlatform := map[string][]findings.Finding{}
	for _, f := range fs {
		p := orDefault(platformOf[f.Target], "other")
		byPlatform[p] = append(byPlatform[p], f)
	}
	names := make([]string, 0, len(byPlatform))
	for p := range byPlatform {
		names = append(names, p)
	}
	order := map[string]int{"esxi": 0, "kvm": 1, "hyperv": 2}
	slices.SortFunc(names, func(a, b string) int {
		oa, ok := order[a]
		if !ok {
			oa = len(order)
		}
		ob, ok := order[b]
		if !ok {
			ob = len(order)
		}
		if oa != ob {
			return oa - ob
		}
		return strings.Compare(a, b)
	})
	var pls []htmlPlatform
	for _, p := range names {
		s := findings.Summarize(byPlatform[p], nil)
		pl := htmlPlatform{htmlArea: htmlAreaOf(clean(p, false), overall(s)), Label: platformLabel(p)}
		for _, a := range areaOrder(s.ByArea) {
			pl.Areas = append(pl.Areas, htmlAreaOf(clean(a, false), s.ByArea[a]))
		}
		pls = append(pls, pl)
	}
	return sev, fw, pls
}
