package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/hvaudit/hvaudit/checks/findings"
)

// junitWriter writes JUnit XML for CI systems: a <testsuite> per target, a
// <testcase> per check and object (classname = check id, name = the
// object). fail becomes <failure>, error <error>, and not_applicable and
// waived <skipped> with the reason as its message; a pass is a bare
// testcase. A target that could not be collected is a suite holding one
// <error> testcase (classname "hvaudit.collect"), so a CI job never reads an
// unaudited host as green.
//
// The layout is the de-facto schema most CI tools read (Jenkins, GitLab,
// GitHub test reporters, Azure DevOps): testsuites > testsuite >
// testcase > failure|error|skipped, with counts on each suite.
type junitWriter struct{}

func (junitWriter) Format() string { return "junit" }

// JUnit XML structures. Attributes follow the common "Ant" schema.
type junitTestsuites struct {
	XMLName  xml.Name         `xml:"testsuites"`
	Name     string           `xml:"name,attr"`
	Tests    int              `xml:"tests,attr"`
	Failures int              `xml:"failures,attr"`
	Errors   int              `xml:"errors,attr"`
	Skipped  int              `xml:"skipped,attr"`
	Time     string           `xml:"time,attr"`
	Suites   []junitTestsuite `xml:"testsuite"`
}

type junitTestsuite struct {
	Name       string          `xml:"name,attr"`
	ID         int             `xml:"id,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitTestcase `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitTestcase struct {
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
}

// junitProblem's text is CDATA so the multi-line details stay readable in
// the file and in CI logs that show it raw (chardata would turn every
// newline into &#xA;).
type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",cdata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// junitTimestamp is the Ant schema's timestamp: ISO 8601 without a zone,
// in UTC.
const junitTimestamp = "2006-01-02T15:04:05"

func (junitWriter) Write(w io.Writer, run *Run) error {
	r, err := prepare(run)
	if err != nil {
		return err
	}
	byTarget := map[string][]findings.Finding{}
	for _, f := range r.Findings {
		byTarget[f.Target] = append(byTarget[f.Target], f)
	}

	name := "hvaudit"
	if b := r.Run.Baseline.ID; b != "" {
		name += " " + clean(b, false)
		if v := r.Run.Baseline.Version; v != "" {
			name += " " + clean(v, false)
		}
	}
	doc := junitTestsuites{Name: name, Time: junitSeconds(r.Run.Finished.Sub(r.Run.Started).Milliseconds())}
	if r.Run.Started.IsZero() || r.Run.Finished.Before(r.Run.Started) {
		doc.Time = "0"
	}

	seen := map[string]bool{}
	for _, t := range r.Targets {
		seen[t.Name] = true
		doc.Suites = append(doc.Suites, junitSuite(t.Name, &t, byTarget[t.Name]))
	}
	// Findings for a target the run does not list should not happen; keep
	// them rather than drop them.
	var orphans []string
	for name := range byTarget {
		if !seen[name] {
			orphans = append(orphans, name)
		}
	}
	slices.Sort(orphans)
	for _, name := range orphans {
		doc.Suites = append(doc.Suites, junitSuite(name, nil, byTarget[name]))
	}
	for i := range doc.Suites {
		s := &doc.Suites[i]
		s.ID = i
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
		doc.Skipped += s.Skipped
	}

	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	buf.WriteByte('\n')
	_, err = w.Write(buf.Bytes())
	return err
}

func junitSuite(name string, t *TargetResult, fs []findings.Finding) junitTestsuite {
	s := junitTestsuite{Name: clean(name, false), Time: "0"}
	if t != nil {
		s.Time = junitSeconds(t.Collector.DurationMS)
		if t.CollectedAt != nil {
			s.Timestamp = t.CollectedAt.UTC().Format(junitTimestamp)
		}
		for _, p := range []junitProperty{
			{"uri", t.URI}, {"platform", t.Platform}, {"product", t.Product},
			{"version", t.Version}, {"build", t.Build}, {"status", t.Status},
		} {
			if p.Value != "" {
				p.Value = clean(p.Value, false)
				s.Properties = append(s.Properties, p)
			}
		}
		if t.Status != TargetOK {
			msg := clean(orDefault(t.Error, "no error message recorded"), true)
			s.Cases = append(s.Cases, junitTestcase{
				Classname: "hvaudit.collect", Name: clean(name, false), Time: s.Time,
				Error: &junitProblem{Message: msg, Type: "collection", Text: xmlChars("The target could not be audited: " + msg)},
			})
		}
	}
	for _, f := range fs {
		s.Cases = append(s.Cases, junitCase(f))
	}
	for _, c := range s.Cases {
		s.Tests++
		switch {
		case c.Failure != nil:
			s.Failures++
		case c.Error != nil:
			s.Errors++
		case c.Skipped != nil:
			s.Skipped++
		}
	}
	return s
}

func junitCase(f findings.Finding) junitTestcase {
	c := junitTestcase{Classname: clean(f.CheckID, false), Name: junitObjectName(f.Object), Time: "0"}
	switch f.Status {
	case findings.StatusFail:
		c.Failure = &junitProblem{Message: clean(f.Message, false), Type: clean(string(f.Severity), false), Text: junitDetails(f)}
	case findings.StatusError:
		c.Error = &junitProblem{Message: clean(f.Message, false), Type: clean(string(f.Severity), false), Text: junitDetails(f)}
	case findings.StatusWaived:
		msg := "waived"
		if f.ObservedStatus != "" {
			msg += " (observed " + clean(string(f.ObservedStatus), false) + ")"
		}
		if f.Waiver != nil {
			msg += ": " + waiverText(f.Waiver)
		}
		c.Skipped = &junitSkipped{Message: msg}
	case findings.StatusNotApplicable:
		c.Skipped = &junitSkipped{Message: "not applicable: " + clean(orDefault(f.Message, "the check does not apply"), false)}
	case findings.StatusPass:
	default:
		// A status this writer does not know is not a pass.
		c.Error = &junitProblem{Message: "unknown status " + strconv.Quote(string(f.Status)), Type: "status", Text: junitDetails(f)}
	}
	return c
}

// junitObjectName names the test case after the object: kind and name, and
// the id too when it differs (two VMs may share a name), so names are unique
// within a suite.
func junitObjectName(o findings.ObjectRef) string {
	name := objectLabel(o)
	if o.ID != "" && o.ID != o.Name {
		name += " [" + clean(o.ID, false) + "]"
	}
	return name
}

// junitDetails is the body of a failure or error: what a CI log reader
// needs to act without opening another report.
func junitDetails(f findings.Finding) string {
	var b strings.Builder
	line := func(label, text string) {
		if text != "" {
			b.WriteString(label + ": " + text + "\n")
		}
	}
	b.WriteString(clean(f.Title, true) + "\n")
	line("severity", clean(string(f.Severity), false))
	line("area", clean(f.Area, false))
	for _, e := range f.Evidence {
		ev := clean(e.Field, false) + " = " + observedText(e.Observed)
		if e.Source != "" {
			ev += " (from " + clean(e.Source, false) + ")"
		}
		line("observed", ev)
	}
	line("expected", clean(f.Expected, true))
	line("message", clean(f.Message, true))
	if f.Waiver != nil {
		line("waiver", waiverText(f.Waiver))
	}
	line("remediation", clean(f.Remediation, true))
	line("refs", refsText(f.Refs))
	return xmlChars(b.String())
}

// xmlChars replaces what XML 1.0 cannot carry at all (most C0 controls,
// surrogates, U+FFFE, U+FFFF) with U+FFFD. The encoder does this for
// attributes and character data, but CDATA is written as is. clean has
// already made C0 controls visible; this catches the rest.
func xmlChars(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == 0x9, r == 0xA, r == 0xD,
			r >= 0x20 && r <= 0xD7FF,
			r >= 0xE000 && r <= 0xFFFD,
			r >= 0x10000 && r <= 0x10FFFF:
			return r
		}
		return '\uFFFD'
	}, s)
}

// refsText lists a finding's framework ids: "stig ESXI-80-000193; nist80053 CM-7".
func refsText(r findings.Refs) string {
	var parts []string
	for _, x := range []struct {
		name string
		ids  []string
	}{{"stig", r.STIG}, {"scg", r.SCG}, {"cis", r.CIS}, {"nist80053", r.NIST80053}, {"docs", r.Docs}} {
		if len(x.ids) > 0 {
			parts = append(parts, x.name+" "+joinIDs(x.ids))
		}
	}
	return strings.Join(parts, "; ")
}

// junitSeconds renders milliseconds as the seconds JUnit expects.
func junitSeconds(ms int64) string {
	if ms < 0 {
		ms = 0
	}
	return strconv.FormatFloat(float64(ms)/1000, 'f', 3, 64)
}
