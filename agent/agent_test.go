package agent

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/checks/findings"
	_ "github.com/hvaudit/hvaudit/collectors/all" // the cmd links the collectors; the tests here do the same
	"github.com/hvaudit/hvaudit/report"
)

func TestLoadConfigErrorsNameFileAndLine(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]struct{ body, want string }{
		"syntax.toml":  {"concurrency = 4\nbaseline = \"x\nfail_on = \"low\"\n", "syntax.toml:2"},
		"unknown.toml": {"concurrency = 4\n\n[[target]]\nuri = \"vsphere://a@b\"\ntimeuot = \"5s\"\n", "unknown.toml:5: unknown key \"target.timeuot\""},
		"badtime.toml": {"timeout = \"5 minutes\"\n", "badtime.toml"},
		"nouri.toml":   {"[[target]]\nname = \"x\"\n", "uri is required"},
	}
	for name, c := range cases {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(c.body), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := LoadConfig(p)
		var ce *ConfigError
		if !errors.As(err, &ce) {
			t.Errorf("%s: error %v is not a ConfigError", name, err)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q lacks %q", name, err, c.want)
		}
	}
}

func TestExampleConfigLoads(t *testing.T) {
	c, err := LoadConfig("../configs/agent.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Targets) != 2 || c.Targets[0].Timeout.Minutes() != 10 || c.Outputs[1].Path != "-" {
		t.Errorf("example config read as %+v", c)
	}
}

func TestPairOutputs(t *testing.T) {
	outs, err := PairOutputs([]string{"json", "table"}, []string{"r.json"})
	if err != nil || len(outs) != 2 || outs[0].Path != "r.json" || !outs[1].ToStdout() {
		t.Errorf("PairOutputs = %+v, %v", outs, err)
	}
	if _, err := PairOutputs([]string{"json", "table"}, nil); err == nil {
		t.Error("two formats to stdout accepted")
	}
	if _, err := PairOutputs(nil, []string{"x"}); err == nil {
		t.Error("an output without a format accepted")
	}
}

func TestReadPasswordFileRefusesLooseModes(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(p, []byte("s3cret\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPasswordFile(p); err == nil || !strings.Contains(err.Error(), "0600") {
		t.Errorf("group-readable file: %v", err)
	}
	if err := os.Chmod(p, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := ReadPasswordFile(p)
	if err != nil || s.Reveal() != "s3cret" {
		t.Errorf("0600 file: %v", err)
	}
}

func TestExitCode(t *testing.T) {
	f := func(sev findings.Severity, st findings.Status) findings.Finding {
		return findings.Finding{Severity: sev, Status: st}
	}
	ok := report.TargetResult{Status: report.TargetOK}
	bad := report.TargetResult{Status: report.TargetError}
	cases := []struct {
		name    string
		targets []report.TargetResult
		finds   []findings.Finding
		failOn  findings.Severity
		want    int
	}{
		{"clean", []report.TargetResult{ok}, []findings.Finding{f("high", "pass"), f("low", "not_applicable")}, "low", 0},
		{"fail", []report.TargetResult{ok}, []findings.Finding{f("low", "fail")}, "low", 1},
		{"fail below threshold", []report.TargetResult{ok}, []findings.Finding{f("low", "fail")}, "high", 0},
		{"waived is not failing", []report.TargetResult{ok}, []findings.Finding{f("high", "waived")}, "low", 0},
		{"error finding", []report.TargetResult{ok}, []findings.Finding{f("medium", "error")}, "low", 3},
		{"error below threshold", []report.TargetResult{ok}, []findings.Finding{f("low", "error")}, "high", 0},
		{"target error wins over fail", []report.TargetResult{ok, bad}, []findings.Finding{f("critical", "fail")}, "low", 3},
		// --fail-on none: no finding sets the code, an unread target still does.
		{"none: critical fail", []report.TargetResult{ok}, []findings.Finding{f("critical", "fail"), f("high", "error")}, findings.FailOnNone, 0},
		{"none: target error", []report.TargetResult{ok, bad}, []findings.Finding{f("critical", "fail")}, findings.FailOnNone, 3},
	}
	for _, c := range cases {
		got := ExitCode(&report.Run{Targets: c.targets, Findings: c.finds}, c.failOn)
		if got != c.want {
			t.Errorf("%s: exit %d, want %d", c.name, got, c.want)
		}
	}
}

// --color always and never win over everything; auto colours a terminal
// unless NO_COLOR is set (to anything non-empty).
func TestColorFor(t *testing.T) {
	for _, c := range []struct {
		mode, noColor string
		terminal      bool
		want          bool
	}{
		{"auto", "", true, true},
		{"", "", true, true},
		{"auto", "1", true, false},
		{"auto", "", false, false},
		{"always", "1", false, true},
		{"never", "", true, false},
	} {
		if got := colorFor(c.mode, c.noColor, c.terminal); got != c.want {
			t.Errorf("colorFor(%q, NO_COLOR=%q, terminal=%v) = %v", c.mode, c.noColor, c.terminal, got)
		}
	}
	if err := (Display{Color: "sometimes"}).Check(); err == nil || err.Error() != `--color "sometimes" is not one of auto, always, never` {
		t.Errorf("bad --color: %v", err)
	}
	if err := (Display{Verbose: true, Quiet: true}).Check(); err == nil {
		t.Error("--verbose with --quiet accepted")
	}
}
