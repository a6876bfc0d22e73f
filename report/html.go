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

	"github.com/hvaudit/hvaudit/checks"
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
	Counts         checks.Counts
	TargetCount    string
	Targets        []htmlTarget
	Areas          []htmlArea
	Threats        []htmlArea
	Statuses       []htmlStatusOption
	Severities     []htmlSeverityOption
	AreaNames      []string
	Findings       []htmlFinding
}

type htmlScore struct {
	Has         bool
	Text, Value string
}

type htmlTarget struct {
	Name, URI, Platform, Product, Status, Error string
	OK                                          bool
	Score, ScoreNW                              htmlScore
	Counts                                      checks.Counts
}

type htmlArea struct {
	Name           string
	Score, ScoreNW htmlScore
	Counts         checks.Counts
}

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
	ObjectKind, ObjectName, ObjectID    string
	CheckID, Title, Area                string
	Threats                             string
	Message, Expected, Remediation      string
	Evidence                            []htmlEvidence
	Waiver                              string
	WaiverExpired                       bool
	Refs                                []htmlRef
	Docs                                []string
	Search                              string
}

type htmlEvidence struct{ Field, Value, Source string }

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
	for _, a := range areaOrder(r.Summary.ByArea) {
		s := r.Summary.ByArea[a]
		p.Areas = append(p.Areas, htmlArea{Name: clean(a, false), Score: htmlScoreOf(s.Score), ScoreNW: htmlScoreOf(s.ScoreWithoutWaivers), Counts: s.Counts})
	}
	for _, th := range threatOrder(r.Summary.ByThreat) {
		s := r.Summary.ByThreat[th]
		p.Threats = append(p.Threats, htmlArea{Name: clean(th, false), Score: htmlScoreOf(s.Score), ScoreNW: htmlScoreOf(s.ScoreWithoutWaivers), Counts: s.Counts})
	}

	// What needs action first: status group, then severity, then the
	// report's own order (the input is already sorted that way).
	fs := slices.Clone(r.Findings)
	slices.SortStableFunc(fs, func(a, b checks.Finding) int {
		if d := statusRank(a.Status) - statusRank(b.Status); d != 0 {
			return d
		}
		return b.Severity.Rank() - a.Severity.Rank()
	})
	statusCount := map[checks.Status]int{}
	areas := map[string]bool{}
	for i, f := range fs {
		statusCount[f.Status]++
		areas[f.Area] = true
		p.Findings = append(p.Findings, htmlFindingOf(i, f))
	}

	// What needs action is shown first; passes and not-applicable
	// findings are a click away. Counts come from the findings listed, so
	// they match the rows whoever built the summary.
	for _, s := range []struct {
		st      checks.Status
		checked bool
	}{
		{checks.StatusFail, true}, {checks.StatusError, true}, {checks.StatusWaived, true},
		{checks.StatusPass, false}, {checks.StatusNotApplicable, false},
	} {
		p.Statuses = append(p.Statuses, htmlStatusOption{Value: string(s.st), Label: statusText(s.st), Count: statusCount[s.st], Checked: s.checked})
	}
	// A status this page does not know still gets a box, or its findings
	// could never be shown.
	var unknown []string
	for st := range statusCount {
		if statusRank(st) == len(statusOrder) {
			unknown = append(unknown, string(st))
		}
	}
	slices.Sort(unknown)
	for _, st := range unknown {
		p.Statuses = append(p.Statuses, htmlStatusOption{Value: clean(st, false), Label: clean(st, false), Count: statusCount[checks.Status(st)], Checked: true})
	}
	for _, sev := range []checks.Severity{checks.SeverityCritical, checks.SeverityHigh, checks.SeverityMedium, checks.SeverityLow} {
		label := string(sev) + " and above"
		if sev == checks.SeverityCritical {
			label = string(sev)
		}
		p.Severities = append(p.Severities, htmlSeverityOption{Rank: sev.Rank(), Label: label})
	}
	areaList := make(map[string]checks.Score, len(areas))
	for a := range areas {
		areaList[a] = checks.Score{}
	}
	for _, a := range areaOrder(areaList) {
		p.AreaNames = append(p.AreaNames, clean(a, false))
	}
	return p
}

func statusText(s checks.Status) string {
	if s == checks.StatusNotApplicable {
		return "n/a"
	}
	return string(s)
}

func htmlFindingOf(i int, f checks.Finding) htmlFinding {
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
		Object:         objectLabel(f.Object),
		ObjectKind:     clean(f.Object.Kind, false),
		ObjectName:     clean(name, false),
		CheckID:        clean(f.CheckID, false),
		Title:          clean(f.Title, false),
		Area:           clean(f.Area, false),
		Threats:        clean(strings.Join(f.Threats, ", "), false),
		Message:        clean(f.Message, true),
		Expected:       clean(f.Expected, true),
		Remediation:    clean(f.Remediation, true),
	}
	if f.Object.ID != "" && f.Object.ID != name {
		hf.ObjectID = clean(f.Object.ID, false)
	}
	for _, e := range f.Evidence {
		hf.Evidence = append(hf.Evidence, htmlEvidence{Field: clean(e.Field, false), Value: observedText(e.Observed), Source: clean(e.Source, false)})
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
		hf.Status, hf.ObservedStatus, hf.Severity, hf.Target, hf.Object, hf.ObjectID, hf.CheckID, hf.Title, hf.Area, hf.Threats, hf.Message,
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
