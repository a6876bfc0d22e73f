package report

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hvaudit/hvaudit/checks/findings"
)

func TestTableGolden(t *testing.T) {
	for _, c := range []struct {
		file string
		opts Options
	}{
		{"table.golden", Options{}},
		{"table-color.golden", Options{Color: true}},
		{"table-verbose.golden", Options{Verbose: true}},
	} {
		t.Run(c.file, func(t *testing.T) {
			golden(t, c.file, writeFormat(t, "table", c.opts, sampleRun()))
		})
	}
}

// Colour is the caller's decision; without it the output must carry no
// escape sequence at all, including ones planted in the estate's own names.
func TestTablePlainHasNoEscapes(t *testing.T) {
	for _, verbose := range []bool{false, true} {
		out := writeFormat(t, "table", Options{Verbose: verbose}, sampleRun())
		if bytes.ContainsRune(out, 0x1b) || bytes.ContainsRune(out, 0x07) {
			t.Errorf("verbose=%v: control characters in plain output", verbose)
		}
	}
	colored := writeFormat(t, "table", Options{Color: true}, sampleRun())
	if !bytes.Contains(colored, []byte("\x1b[1;31mFAIL\x1b[0m")) {
		t.Error("coloured output does not colour FAIL")
	}
	// The VM name's own escape sequence is shown, not obeyed.
	if bytes.Contains(colored, []byte("\x1b]0;")) || !bytes.Contains(colored, []byte(`evil\x1b]0;pwned\x07vm`)) {
		t.Error("a VM name's escape sequence reached the terminal")
	}
}

func TestTableFitsWidth(t *testing.T) {
	for _, width := range []int{0, 80, 100, 132} {
		want := width
		if want == 0 {
			want = DefaultWidth
		}
		out := writeFormat(t, "table", Options{Verbose: true, Width: width}, sampleRun())
		for i, line := range strings.Split(string(out), "\n") {
			if n := runeLen(line); n > want {
				t.Errorf("width %d: line %d has %d columns: %q", want, i+1, n, line)
			}
			if strings.HasSuffix(line, " ") {
				t.Errorf("width %d: line %d ends in a space: %q", want, i+1, line)
			}
		}
	}
}

// findingLines returns the status/severity/check lines of the findings
// section in order.
func findingLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) >= 3 && strings.HasPrefix(l, "  ") && !strings.HasPrefix(l, "   ") &&
			slices.Contains([]string{"FAIL", "ERROR", "WAIVED", "PASS", "N/A"}, f[0]) {
			lines = append(lines, strings.Join(f[:3], " "))
		}
	}
	return lines
}

func TestTableOrdersFailingFirst(t *testing.T) {
	got := findingLines(string(writeFormat(t, "table", Options{Verbose: true}, sampleRun())))
	want := []string{
		// esx01.lab: fail by severity, then error, then waived; passing
		// and not-applicable findings are only counted, even verbose.
		"FAIL critical ESXI-HOST-ACC-01",
		"FAIL critical ESXI-TGT-TLS-01",
		"FAIL medium ESXI-HOST-LOG-01",
		"FAIL medium ESXI-VM-ENC-01",
		"FAIL low ESXI-VM-CON-01",
		"ERROR high ESXI-HOST-PATCH-01",
		"WAIVED high ESXI-VM-MIG-01",
		// vc01
		"WAIVED low VC-TGT-LOG-01",
	}
	if !slices.Equal(got, want) {
		t.Errorf("finding order:\n got %q\nwant %q", got, want)
	}
	if short := findingLines(string(writeFormat(t, "table", Options{}, sampleRun()))); !slices.Equal(short, want) {
		t.Errorf("without Verbose:\n got %q\nwant %q", short, want)
	}
}

func TestTableCompleteRun(t *testing.T) {
	run := sampleRun()
	run.Targets = slices.DeleteFunc(run.Targets, func(tr TargetResult) bool { return tr.Status != TargetOK })
	run.Findings = slices.DeleteFunc(run.Findings, func(f findings.Finding) bool {
		return f.Status == findings.StatusError || f.Status == findings.StatusWaived
	})
	run.Summary = summarize(run.Findings, nil)
	out := string(writeFormat(t, "table", Options{}, run))
	if strings.Contains(out, "INCOMPLETE") {
		t.Error("a complete run is shown as incomplete")
	}
	if strings.Contains(out, "without waivers") || strings.Contains(out, "NO WAIVERS") {
		t.Error("scores without waivers shown although nothing was waived")
	}
	if !strings.Contains(out, "Result      complete") {
		t.Error("the header does not say the run is complete")
	}
}

func TestTableIncompleteRun(t *testing.T) {
	out := string(writeFormat(t, "table", Options{}, sampleRun()))
	for _, want := range []string{
		"INCOMPLETE: 1 target not audited (kvm01); 1 finding in error.",
		"kvm01 (kvm)  NOT AUDITED",
		"connection refused",
		"; score 21.4\n  (18.4 without waivers)",
		"INCOMPLETE: 1 target not audited (kvm01); 1 finding in error. Errors count against the score",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestTableEmptyRun(t *testing.T) {
	out := string(writeFormat(t, "table", Options{}, &Run{Summary: findings.Summary{Complete: true}}))
	for _, want := range []string{"TARGETS  score, and failing findings by severity\n  none", "FAILING CHECKS  one line per check; --verbose adds evidence and remediation\n  none", "score none (nothing scored)"} {
		if !strings.Contains(out, want) {
			t.Errorf("empty run output lacks %q:\n%s", want, out)
		}
	}
}

func TestWrap(t *testing.T) {
	cases := []struct {
		in    string
		width int
		want  []string
	}{
		{"", 10, nil},
		{"one two three", 7, []string{"one two", "three"}},
		{"a  b\n\nc", 10, []string{"a b", "c"}},
		{"abcdefghij", 4, []string{"abcd", "efgh", "ij"}},
		{"x abcdefghij", 4, []string{"x", "abcd", "efgh", "ij"}},
	}
	for _, c := range cases {
		if got := wrap(c.in, c.width); !slices.Equal(got, c.want) {
			t.Errorf("wrap(%q, %d) = %q, want %q", c.in, c.width, got, c.want)
		}
	}
}

func TestTruncateAndClean(t *testing.T) {
	if got := truncate("hypervisor", 7); got != "hype..." {
		t.Errorf("truncate = %q", got)
	}
	if got := truncate("héllo", 5); got != "héllo" {
		t.Errorf("truncate counts bytes: %q", got)
	}
}

// TestNeutralize: everything a hostile name could use to recolour, clear,
// retitle or reorder the reader's screen, or to forge a row, is shown
// escaped; ordinary text (accents, CJK, emoji) passes untouched.
func TestNeutralize(t *testing.T) {
	cases := []struct {
		in        string
		multiline bool
		want      string
	}{
		{"web-01", false, "web-01"},
		{"héllo wörld 日本 🙂", false, "héllo wörld 日本 🙂"},
		{"a\x1b[2Jb", false, `a\x1b[2Jb`},                   // clear screen
		{"\x1b]0;pwned\x07vm", false, `\x1b]0;pwned\x07vm`}, // OSC title
		{"x\u009b2Jy", false, `x\u009b2Jy`},                 // C1 CSI
		{"d\u0085e", false, `d\u0085e`},                     // C1 NEL
		{"evil\u202egnp.exe", false, `evil\u202egnp.exe`},   // RLO
		{"a\u2066b\u2069c", false, `a\u2066b\u2069c`},       // isolates
		{"zero\u200bwidth", false, `zero\u200bwidth`},       // format char
		{"tag\U000e0041", false, `tag\U000e0041`},           // tag character
		{"line\u2028sep", false, `line\u2028sep`},
		{"a\tb\nc\rd", false, `a\tb\nc\rd`}, // rows cannot be forged
		{"bad\xffbyte", false, `bad\xffbyte`},
		{"del\x7f", false, `del\x7f`},
		{"step 1\nstep 2", true, "step 1\nstep 2"},
		{"crlf\r\nnext", true, "crlf\nnext"},
		{"over\rwrite", true, `over\rwrite`},
		{"tab\there", true, `tab\there`},
		{"\x1b[31mred\nline", true, "\\x1b[31mred\nline"},
	}
	for _, c := range cases {
		if got := Neutralize(c.in, c.multiline); got != c.want {
			t.Errorf("Neutralize(%q, %v) = %q, want %q", c.in, c.multiline, got, c.want)
		}
	}
}

// Unused waivers are listed in the header, each with its file, line and why.
func TestTableListsUnusedWaivers(t *testing.T) {
	run := sampleRun()
	run.Run.UnusedWaivers = []UnusedWaiver{
		{Check: "ESXI-VM-MIG-01", Object: "web-*", File: "waivers.toml", Line: 9, Reason: "expired", Expires: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Check: "ESXI-NET-01", File: "waivers.toml", Line: 16, Reason: "matched-nothing", Expires: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	out := string(writeFormat(t, "table", Options{}, run))
	for _, want := range []string{"waiver waivers.toml:9 (ESXI-VM-MIG-01): expired 2020-01-01", "waiver waivers.toml:16 (ESXI-NET-01): matched no fail or error finding"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}
