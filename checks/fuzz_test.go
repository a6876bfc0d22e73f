package checks

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// Fuzz targets for the files a user (or whoever can write them) hands the
// engine: baselines, tailoring and waivers. Each writes the input to a file
// (the loaders read files, as in use) and requires: no panic; what loads is
// consistent; a loaded baseline evaluates within its bounds.

func fuzzFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func FuzzLoadBaseline(f *testing.F) {
	for _, p := range []string{"testdata/baseline.toml", "../configs/baselines/kvm.toml"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(baseHeader + checkTOML("X-1", "host", nested(2))))
	f.Add([]byte(baseHeader + checkTOML("X-2", "vm", `vm.nics.exists(n, n.network.matches("^mgmt"))`, `evidence = ["vm.nics"]`)))
	f.Fuzz(func(t *testing.T, data []byte) {
		// builtin: references load the whole shipped baseline: slow, and
		// not outside data.
		if strings.Contains(string(data), "builtin:") {
			return
		}
		b, err := LoadBaseline(fuzzFile(t, "b.toml", data))
		if err != nil {
			return
		}
		for _, c := range b.Checks() {
			if strings.TrimSpace(c.ID) == "" || strings.TrimSpace(c.Expr) == "" {
				t.Fatalf("check loaded without id or expr: %+v", c)
			}
		}
		e, err := NewEngine(b, nil, fixedNow)
		if err != nil {
			t.Fatalf("a loaded baseline has no engine: %v", err)
		}
		_ = e.Evaluate("vc01", testInventory())
	})
}

func FuzzTailor(f *testing.F) {
	f.Add([]byte("[params]\nvmotion_encryption_allowed = [\"required\"]\n\n[check.T-VM-SNAP-01]\nenabled = false\n"))
	f.Add([]byte("[check.T-OLD-MIG]\nseverity = \"critical\"\n"))
	f.Add([]byte("[params]\nmax_snapshot_age_days = \"x\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := LoadBaseline("testdata/baseline.toml")
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Tailor(fuzzFile(t, "t.toml", data)); err != nil {
			return
		}
		e, err := NewEngine(b, nil, fixedNow)
		if err != nil {
			t.Fatalf("a tailored baseline has no engine: %v", err)
		}
		_ = e.Evaluate("vc01", testInventory())
	})
}

func FuzzLoadWaivers(f *testing.F) {
	f.Add([]byte(waiverFileText))
	f.Add([]byte("[[waiver]]\ncheck = \"T-*\"\ntarget = \"*\"\njustification = \" \"\nexpires = \"2026-01-01T00:00:00Z\"\n"))
	f.Add([]byte("[[waiver]]\ncheck = \"[\"\nexpires = 2026-01-01\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ws, err := LoadWaivers(fuzzFile(t, "w.toml", data))
		if err != nil {
			return
		}
		for _, w := range ws.Rules {
			if w.Check == "" || strings.TrimSpace(w.Justification) == "" || w.Expires.IsZero() || w.Line == 0 {
				t.Fatalf("waiver loaded incomplete: %+v", w)
			}
		}
		fs := []findings.Finding{
			{CheckID: "T-VM-MIG-01", Target: "qemu:///system", Object: findings.ObjectRef{Kind: "vm", ID: "u/1", Name: "app"}, Status: findings.StatusFail},
			{CheckID: "T-HOST-SSH-01", Target: "vc01", Object: findings.ObjectRef{Kind: "host", ID: "h", Name: "esx"}, Status: findings.StatusError},
		}
		_ = ws.Apply(fs, testNow)
	})
}

// FuzzLoadAdvisories: an advisories directory (`--advisories`, or what
// `hvaudit advisories update` wrote) is data whoever can write there
// controls. What loads must assess any patch level without a panic, and a
// level it assesses as covered and current names no missing advisory.
func FuzzLoadAdvisories(f *testing.F) {
	for _, p := range []string{"../configs/advisories/esxi.toml", "../configs/advisories/kvm.toml"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b, "8.0.3", "24674464")
		}
	}
	f.Add([]byte("as_of = 2026-01-01\n[[product]]\nname = \"esxi\"\ncomplete_through = 2026-01-01\n[[release_line]]\nproduct = \"esxi\"\nline = \"8.0.3\"\ncovered = true\n"), "8.0.3", "1")
	f.Fuzz(func(t *testing.T, data []byte, line, build string) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "a.toml"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		adv, err := LoadAdvisories(dir)
		if err != nil {
			return
		}
		for _, p := range []inventory.PatchLevel{
			{Product: "esxi", ReleaseLine: line, Version: line, Build: build},
			{Product: "qemu", ReleaseLine: line, Version: build, Scheme: inventory.SchemeDpkg},
			{Product: "qemu", ReleaseLine: line, Version: build, Scheme: inventory.SchemeRPM},
		} {
			pa, err := adv.Assess(p, fixedNow())
			if err != nil {
				continue
			}
			_ = adv.UncoveredReason(pa)
		}
		_, _ = adv.Info(fixedNow(), testInventory())
	})
}
