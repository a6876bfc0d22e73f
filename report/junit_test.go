package report

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

// JUnit as a consumer reads it: these structs are written for the test,
// independent of the writer's own, so a mistake in one is not mirrored in
// the other.
type junitIn struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Suites   []struct {
		Name       string `xml:"name,attr"`
		Tests      int    `xml:"tests,attr"`
		Failures   int    `xml:"failures,attr"`
		Errors     int    `xml:"errors,attr"`
		Skipped    int    `xml:"skipped,attr"`
		Timestamp  string `xml:"timestamp,attr"`
		Properties []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"properties>property"`
		Cases []struct {
			Classname string `xml:"classname,attr"`
			Name      string `xml:"name,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Error *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"error"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestJUnitGolden(t *testing.T) {
	golden(t, "report.junit.golden", writeFormat(t, "junit", Options{}, sampleRun()))
}

func TestJUnitCounts(t *testing.T) {
	out := writeFormat(t, "junit", Options{}, sampleRun())
	var doc junitIn
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatalf("output is not valid XML: %v", err)
	}
	type counts struct{ tests, failures, errors, skipped int }
	want := map[string]counts{
		// 5 fail (one with an expired waiver), 1 error, 1 waived + 1 n/a
		// skipped, 2 pass.
		"esx01.lab": {10, 5, 1, 2},
		// Not collected: one error test case.
		"kvm01": {1, 0, 1, 0},
		// 1 waived, 1 n/a.
		"vc01": {2, 0, 0, 2},
	}
	if len(doc.Suites) != len(want) {
		t.Fatalf("%d suites, want %d", len(doc.Suites), len(want))
	}
	var total counts
	for _, s := range doc.Suites {
		w, ok := want[s.Name]
		if !ok {
			t.Errorf("unexpected suite %q", s.Name)
			continue
		}
		declared := counts{s.Tests, s.Failures, s.Errors, s.Skipped}
		if declared != w {
			t.Errorf("suite %s declares %+v, want %+v", s.Name, declared, w)
		}
		var seen counts
		names := map[string]bool{}
		for _, c := range s.Cases {
			seen.tests++
			switch {
			case c.Failure != nil:
				seen.failures++
			case c.Error != nil:
				seen.errors++
			case c.Skipped != nil:
				seen.skipped++
			}
			key := c.Classname + " " + c.Name
			if names[key] {
				t.Errorf("suite %s: duplicate test case %s", s.Name, key)
			}
			names[key] = true
		}
		if seen != w {
			t.Errorf("suite %s holds %+v, want %+v", s.Name, seen, w)
		}
		total.tests += w.tests
		total.failures += w.failures
		total.errors += w.errors
		total.skipped += w.skipped
	}
	if got := (counts{doc.Tests, doc.Failures, doc.Errors, doc.Skipped}); got != total {
		t.Errorf("testsuites declares %+v, want %+v", got, total)
	}

	// Spot checks: classname is the check, name the object; the failure
	// carries what CI readers need.
	esx := doc.Suites[0]
	if esx.Timestamp != "2026-03-14T09:26:57" {
		t.Errorf("timestamp = %q", esx.Timestamp)
	}
	var found bool
	for _, c := range esx.Cases {
		switch c.Classname {
		case "ESXI-HOST-ACC-01":
			found = true
			if c.Name != "host esx01.lab [host-21]" || c.Failure == nil || c.Failure.Type != "critical" ||
				c.Failure.Message != "SSH is running and starts with the host" ||
				!strings.Contains(c.Failure.Text, "remediation: Stop the TSM-SSH service") ||
				!strings.Contains(c.Failure.Text, "observed: host.services.ssh.running = true") {
				t.Errorf("SSH test case = %+v", c)
			}
		case "ESXI-VM-MIG-01":
			if c.Skipped == nil || !strings.Contains(c.Skipped.Message, "waived (observed fail)") ||
				!strings.Contains(c.Skipped.Message, "J. Rivera") {
				t.Errorf("waived test case = %+v", c)
			}
		case "ESXI-VM-TOOLS-01":
			if c.Skipped == nil || !strings.HasPrefix(c.Skipped.Message, "not applicable: ") {
				t.Errorf("n/a test case = %+v", c)
			}
		case "ESXI-VM-CON-01":
			if c.Name != `vm evil\x1b]0;pwned\x07vm [4210a3c1-0003]` {
				t.Errorf("control characters in a test name: %q", c.Name)
			}
		}
	}
	if !found {
		t.Error("no test case for ESXI-HOST-ACC-01")
	}
	kvm := doc.Suites[1]
	if c := kvm.Cases[0]; c.Classname != "hvaudit.collect" || c.Error == nil || !strings.Contains(c.Error.Message, "connection refused") {
		t.Errorf("failed target's test case = %+v", c)
	}
}

// XML 1.0 cannot carry most control characters; the output must stay
// well-formed, and markup in the estate's names must stay text, whatever
// the estate names its VMs.
func TestJUnitWellFormedWithHostileNames(t *testing.T) {
	run := sampleRun()
	run.Findings[7].Object.Name = "a]]><x/>\x00\x1b&\"'<script>"
	run.Findings[7].Message = "\uFFFE bad \x0b ]]><x/><script>alert(1)</script>"
	out := writeFormat(t, "junit", Options{}, run)
	dec := xml.NewDecoder(bytes.NewReader(out))
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			switch tok.Name.Local {
			case "testsuites", "testsuite", "properties", "property", "testcase", "failure", "error", "skipped":
			default:
				t.Errorf("element <%s> injected by a VM name or message", tok.Name.Local)
			}
		case xml.CharData:
			text.Write(tok)
		}
	}
	if !strings.Contains(text.String(), "]]><x/><script>alert(1)</script>") {
		t.Error("the hostile message did not survive as text in the failure details")
	}
}

func TestJUnitWriterContract(t *testing.T) { checkWriterContract(t, "junit") }
