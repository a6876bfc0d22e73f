package agent

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hvaudit/hvaudit/report"
)

func TestPlaceholders(t *testing.T) {
	run := mkRun("4f1c-run", []report.TargetResult{okTarget("vc01"), errTarget("qemu:///system")},
		fnd("vc01", "C1", "a", "fail"), fnd("vc01", "C2", "a", "pass"))
	run.Run.Started = time.Date(2026, 11, 20, 2, 3, 4, 0, time.FixedZone("CET", 3600))
	got := ExpandPath("/r/{target}/{date}T{time}-{run_id}.json", run, "qemu:///system")
	if want := "/r/qemu____system/2026-11-20T010304-4f1c-run.json"; got != want {
		t.Errorf("ExpandPath = %q, want %q", got, want)
	}
	if err := ValidatePlaceholders("r-{date}-{when}.json"); err == nil || !strings.Contains(err.Error(), "{when}") {
		t.Errorf("an unknown placeholder: %v", err)
	}
	if err := ValidatePlaceholders("r-{date}-{time}-{target}-{run_id}.json"); err != nil {
		t.Error(err)
	}
	if g := PlaceholderGlob("a/{target}-{date}.json"); g != "a/*-*.json" {
		t.Errorf("glob %q", g)
	}
}

func TestSplitAndWritePerTarget(t *testing.T) {
	run := mkRun("run-1", []report.TargetResult{okTarget("vc01"), okTarget("vc02"), errTarget("kvm01")},
		fnd("vc01", "C1", "a", "fail"), fnd("vc01", "C2", "a", "pass"), fnd("vc02", "C1", "b", "pass"))
	parts := SplitByTarget(run)
	if len(parts) != 3 {
		t.Fatalf("%d parts", len(parts))
	}
	if p := parts[0]; p.Targets[0].Name != "vc01" || len(p.Findings) != 2 || *p.Summary.Score != 50 || p.Run.ID != "run-1" {
		t.Errorf("vc01 part: %+v", p.Summary)
	}
	if p := parts[2]; p.Summary.Score != nil || p.Summary.Complete || len(p.Findings) != 0 {
		t.Errorf("an unreadable target's part: %+v", p.Summary)
	}
	dir := t.TempDir()
	written, err := WriteRunOutputs(run, []Output{{Format: "json", Path: filepath.Join(dir, "{target}.json")}, {Format: "csv", Path: filepath.Join(dir, "all-{run_id}.csv")}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range written {
		names = append(names, filepath.Base(p))
		if _, err := os.Stat(p); err != nil {
			t.Error(err)
		}
	}
	if strings.Join(names, " ") != "all-run-1.csv vc01.json vc02.json kvm01.json" {
		t.Errorf("written: %v", names)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "vc02.json"))
	var r report.Run
	if err := json.Unmarshal(b, &r); err != nil || len(r.Targets) != 1 || len(r.Findings) != 1 {
		t.Errorf("vc02.json: %v", err)
	}
}

// TestPlaceholderDirectoriesAreMade: placeholders in an output's
// directories (reports/{date}/…) make `audit` create them, mode 0750, as
// serve does; the directory they are made in must exist before the run,
// and a directory without placeholders is never made (a typo stays an
// error before any target is contacted).
func TestPlaceholderDirectoriesAreMade(t *testing.T) {
	run := mkRun("run-2", []report.TargetResult{okTarget("vc01"), okTarget("vc02")},
		fnd("vc01", "C1", "a", "fail"), fnd("vc02", "C1", "b", "pass"))
	run.Run.Started = time.Date(2026, 11, 20, 2, 3, 4, 0, time.UTC)
	base := t.TempDir()
	outs := []Output{
		{Format: "json", Path: filepath.Join(base, "{date}", "{target}", "r.json")},
		{Format: "csv", Path: filepath.Join(base, "{date}", "all.csv")},
		{Format: "cklb", Path: filepath.Join(base, "{date}", "cklb")},
	}
	if err := ValidateOutputs(outs); err != nil {
		t.Fatalf("placeholders under an existing directory: %v", err)
	}
	written, err := WriteRunOutputs(run, outs, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"2026-11-20/all.csv", "2026-11-20/vc01/r.json", "2026-11-20/vc02/r.json"} {
		if !slices.Contains(written, filepath.Join(base, p)) {
			t.Errorf("%s not written (written: %v)", p, written)
		}
	}
	for _, d := range []string{"2026-11-20", "2026-11-20/vc01", "2026-11-20/cklb"} {
		fi, err := os.Stat(filepath.Join(base, d))
		if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o750 {
			t.Errorf("%s: %v, mode %v; want a directory, 0750", d, err, fi.Mode())
		}
	}

	for name, path := range map[string]string{
		"missing directory before the placeholder": filepath.Join(base, "missing", "{date}", "r.json"),
		"missing directory without a placeholder":  filepath.Join(base, "missing", "r-{date}.json"),
	} {
		if err := ValidateOutputs([]Output{{Format: "json", Path: path}}); err == nil || !strings.Contains(err.Error(), "missing") {
			t.Errorf("%s: %v, want a refusal naming the directory", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(base, "missing")); err == nil {
		t.Error("a refused output created a directory")
	}
}

func TestConfigPathsResolveAgainstTheFile(t *testing.T) {
	dir := t.TempDir()
	src := `baseline = "site.toml"
waivers = "/abs/waivers.toml"
advisories = "adv"
[serve]
history = "postgres://hvaudit@db/hv"
tls_cert_file = "tls/c.pem"
[[target]]
uri = "qemu:///system"
ca_file = "ca.pem"
host_root = "fixture"
[[output]]
format = "json"
path = "out/{date}.json"
`
	p := filepath.Join(dir, "a.toml")
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	for got, want := range map[string]string{
		c.Baseline: filepath.Join(dir, "site.toml"), c.Waivers: "/abs/waivers.toml", c.Advisories: filepath.Join(dir, "adv"),
		c.Serve.History: "postgres://hvaudit@db/hv", c.Serve.TLSCertFile: filepath.Join(dir, "tls/c.pem"),
		c.Targets[0].CAFile: filepath.Join(dir, "ca.pem"), c.Targets[0].HostRoot: filepath.Join(dir, "fixture"),
		c.Outputs[0].Path: filepath.Join(dir, "out/{date}.json"), c.Path: p,
	} {
		if got != want {
			t.Errorf("%q, want %q", got, want)
		}
	}
	if err := os.WriteFile(p, []byte("[[output]]\nformat = \"json\"\npath = \"x-{day}.json\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfig(p); err == nil || !strings.Contains(err.Error(), "{day}") {
		t.Errorf("an unknown placeholder in the config: %v", err)
	}
}
