package report

import (
	"os"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/checks/findings"
)

// renameTarget gives a target a hostile name everywhere the run names it.
func renameTarget(run *Run, from, to string) {
	for i := range run.Targets {
		if run.Targets[i].Name == from {
			run.Targets[i].Name = to
		}
	}
	for i := range run.Findings {
		if run.Findings[i].Target == from {
			run.Findings[i].Target = to
		}
	}
	if s, ok := run.Summary.ByTarget[from]; ok {
		delete(run.Summary.ByTarget, from)
		run.Summary.ByTarget[to] = s
	}
}

// Every cell a spreadsheet would run as a formula — starting with =, +, -,
// @, a tab or a carriage return — is defused, in names, messages and the
// target column alike; plain numbers stay numbers.
func TestCSVNeutralisesFormulaStarts(t *testing.T) {
	run := sampleRun()
	run.Findings = run.Findings[:1]
	renameTarget(run, run.Findings[0].Target, "+cmd|' /C calc'!A0")
	f := &run.Findings[0]
	f.Object.Name = "-2+3+cmd|' /C calc'!A0"
	f.Object.ID = "\t=1+1"
	f.Message = "\r=HYPERLINK(\"http://evil.example\")"
	f.Title = "@SUM(A1:A9)"
	f.Expected = "+1"
	f.Evidence = []findings.Evidence{{Field: "x", Observed: "-1.5"}}
	_, rows := readCSV(t, writeFormat(t, "csv", Options{}, run))
	var row map[string]string
	for _, r := range rows {
		if r["check_id"] != "" {
			row = r
		}
	}
	for col, want := range map[string]string{
		"target":      `'+cmd|' /C calc'!A0`,
		"object_name": `'-2+3+cmd|' /C calc'!A0`,
		"object_id":   `\t=1+1`, // the tab is shown escaped: the cell starts with a backslash
		"message":     `\r=HYPERLINK("http://evil.example")`,
		"title":       `'@SUM(A1:A9)`,
		"expected":    "+1", // a number, not a formula
	} {
		if row[col] != want {
			t.Errorf("%s = %q, want %q", col, row[col], want)
		}
	}
	for col, v := range row {
		if col != "expected" && v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
			t.Errorf("%s = %q starts a formula", col, v)
		}
	}
}

// Target names, object names and messages are text in the HTML report,
// never markup: no element or attribute comes from the estate.
func TestHTMLEscapesTargetNames(t *testing.T) {
	run := sampleRun()
	const evilTarget = `vc01"><script>alert(1)</script><img src=x onerror=alert(2)>`
	renameTarget(run, "vc01", evilTarget)
	run.Targets[1].Error = `</td><script>alert(3)</script>`
	run.Findings[1].Object.Name = `<svg onload=alert(4)>`
	out := string(writeFormat(t, "html", Options{}, run))
	scripts := 0
	for _, tag := range htmlTags(t, out) {
		switch tag.Data {
		case "script":
			scripts++
		case "img", "svg":
			t.Errorf("<%s> from the estate became an element", tag.Data)
		}
		for _, a := range tag.Attr {
			if strings.HasPrefix(a.Key, "on") {
				t.Errorf("<%s %s=%q>: an event handler from the estate", tag.Data, a.Key, a.Val)
			}
		}
	}
	if scripts != 1 {
		t.Errorf("%d script elements, want only the report's own", scripts)
	}
	if !strings.Contains(out, "vc01&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the target name is not shown as escaped text")
	}
}

// Evidence values are shown JSON-encoded; what JSON leaves raw (C1
// controls, bidi overrides) is escaped in the same \u form.
func TestObservedTextEscapesC1AndBidi(t *testing.T) {
	got := observedText([]any{"web\x1b[2J\u009b31m\u202eX\tY"})
	if want := `["web\u001b[2J\u009b31m\u202eX\tY"]`; got != want {
		t.Errorf("observedText = %s, want %s", got, want)
	}
}

// A report whose number the schema validator cannot represent (found by
// FuzzReadRun: it panicked inside the validator) is refused with the line.
func TestReadRunRefusesOutOfRangeNumbers(t *testing.T) {
	golden, err := os.ReadFile("testdata/report.json.golden")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"1e9999999", "33.3333333E3333336", strings.Repeat("9", 100)} {
		doc := strings.Replace(string(golden), `"score": `, `"score": `+n+`, "x": `, 1)
		_, err := ReadRun(strings.NewReader(doc))
		if err == nil || !strings.Contains(err.Error(), "is out of range") || !strings.Contains(err.Error(), "line ") {
			t.Errorf("number %.20s: %v", n, err)
		}
	}
}
