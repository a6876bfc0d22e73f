package checks

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/checks/findings"
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
