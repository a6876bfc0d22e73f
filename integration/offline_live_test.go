package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/collectors/esxi/esxisim"
	"github.com/hvaudit/hvaudit/report"
)

// TestOfflineAuditEqualsLive: a live audit normalizes what it read in
// memory and never encodes it, unless --save-snapshot asks; auditing that
// saved snapshot must judge exactly the same: every finding, field for
// field, and the same score. Run on the demo estate and on a real-shaped
// one (vCenter 7.0.1, a 6.7 host, a host not responding).
func TestOfflineAuditEqualsLive(t *testing.T) {
	estates := map[string]func(t *testing.T) *esxisim.Sim{
		"demo": func(t *testing.T) *esxisim.Sim { return startSim(t, esxisim.Options{}) },
		"legacy": func(t *testing.T) *esxisim.Sim {
			return startEstateSim(t, esxisim.Legacy(), esxisim.Options{})
		},
	}
	for name, start := range estates {
		t.Run(name, func(t *testing.T) {
			sim := start(t)
			dir := t.TempDir()
			live, offline := filepath.Join(dir, "live.json"), filepath.Join(dir, "offline.json")
			saved := filepath.Join(dir, "{target}.snapshot.json")
			r := runHV(t, nil, "audit", "--target", targetURI(sim), "--password-file", passwordFile(t, sim.Password),
				"--thumbprint", sim.Thumbprint, "--tailoring", untimed(t), "--format", "json", "--output", live,
				"--save-snapshot", saved, "--fail-on", "none")
			if r.code != 0 && r.code != 3 {
				t.Fatalf("live audit: exit %d\n%s", r.code, r.stderr)
			}
			// The target's name is its host and port, made file-safe.
			snap := filepath.Join(dir, strings.ReplaceAll(sim.URL.Host, ":", "_")+".snapshot.json")
			fi, err := os.Stat(snap)
			if err != nil {
				t.Fatalf("--save-snapshot wrote no %s: %v", snap, err)
			}
			if fi.Mode().Perm() != 0o640 {
				t.Errorf("snapshot mode %#o, want 0640", fi.Mode().Perm())
			}
			r = runHV(t, nil, "audit", "--snapshot", snap, "--tailoring", untimed(t), "--format", "json", "--output", offline, "--fail-on", "none")
			if r.code != 0 && r.code != 3 {
				t.Fatalf("offline audit: exit %d\n%s", r.code, r.stderr)
			}
			lr, or := readRun(t, live), readRun(t, offline)
			if len(lr.Findings) == 0 {
				t.Fatal("the live audit judged nothing")
			}
			if lj, oj := findingsJSON(t, lr), findingsJSON(t, or); lj != oj {
				t.Errorf("the audit of the saved snapshot judged differently from the live audit (%d and %d findings)\nfirst difference near: %s",
					len(lr.Findings), len(or.Findings), firstDifference(lj, oj))
			}
			if scoreOf(lr) != scoreOf(or) {
				t.Errorf("score live %v, offline %v", scoreOf(lr), scoreOf(or))
			}
		})
	}
}

// TestSaveSnapshotRefusals: what --save-snapshot cannot do is refused before
// any target is contacted (exit 2, no file written).
func TestSaveSnapshotRefusals(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]struct {
		args []string
		want string
	}{
		"with --snapshot":         {[]string{"--snapshot", filepath.Join(dir, "x.json"), "--save-snapshot", filepath.Join(dir, "s.json")}, "cannot be combined with --snapshot"},
		"two targets":             {[]string{"--target", "vsphere://a@192.0.2.1", "--target", "vsphere://a@192.0.2.2", "--save-snapshot", filepath.Join(dir, "s.json")}, "put {target} in the path"},
		"standard output":         {[]string{"--target", "vsphere://a@192.0.2.1", "--save-snapshot", "-"}, "standard output is for reports"},
		"run placeholders":        {[]string{"--target", "vsphere://a@192.0.2.1", "--save-snapshot", filepath.Join(dir, "{date}.json")}, "only {target} may be used here"},
		"names that share a file": {[]string{"--target", "vsphere://a@192.0.2.1:443", "--target", "vsphere://a@192.0.2.1_443", "--save-snapshot", filepath.Join(dir, "{target}.json")}, "would both be saved as"},
		"missing directory":       {[]string{"--target", "vsphere://a@192.0.2.1", "--save-snapshot", filepath.Join(dir, "no", "s.json")}, "--save-snapshot"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r := runHV(t, []string{"HVAUDIT_PASSWORD=x"}, append([]string{"audit", "--timeout", "2s"}, c.args...)...)
			if r.code != 2 || !strings.Contains(r.stderr, c.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 saying %q", r.code, r.stderr, c.want)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("refused runs left %d files behind", len(entries))
	}
}

func findingsJSON(t *testing.T, run *report.Run) string {
	t.Helper()
	b, err := json.MarshalIndent(run.Findings, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// firstDifference shows where two long texts part.
func firstDifference(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(0, i-200)
	return "live: …" + a[lo:min(len(a), i+200)] + "…\noffline: …" + b[lo:min(len(b), i+200)] + "…"
}
