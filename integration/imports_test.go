package integration

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/hvaudit/hvaudit"

// apiClients are the hypervisor client libraries; only collectors may use them.
var apiClients = []string{
	"github.com/vmware/govmomi",
	"libvirt.org/go/libvirt",
	"libvirt.org/go/libvirtxml",
	"github.com/microsoft/wmi",
	"github.com/masterzen/winrm",
}

// TestImportDirection enforces DESIGN.md §2: checks and report read the
// inventory only and never an API client or a collector; collectors know
// nothing of scoring or reporting; the inventory model is standard library.
func TestImportDirection(t *testing.T) {
	rules := []struct {
		pkgs      string
		forbidden []string
		// allowed, when set, lists this module's only permitted packages.
		allowed []string
	}{
		{pkgs: "./checks/...", forbidden: apiClients, allowed: []string{module + "/checks", module + "/collectors/inventory", module + "/configs"}},
		{pkgs: "./report/...", forbidden: apiClients, allowed: []string{module + "/report", module + "/checks", module + "/collectors/inventory", module + "/configs"}},
		{pkgs: "./collectors/...", forbidden: []string{module + "/checks", module + "/report", module + "/agent"}},
	}
	for _, r := range rules {
		for pkg, deps := range listDeps(t, r.pkgs) {
			for _, d := range deps {
				for _, f := range r.forbidden {
					if d == f || strings.HasPrefix(d, f+"/") {
						t.Errorf("%s imports %s (forbidden by DESIGN.md §2)", pkg, d)
					}
				}
				if r.allowed != nil && strings.HasPrefix(d, module) && !allowedPkg(d, r.allowed) {
					t.Errorf("%s imports %s; it may import only %v of this module", pkg, d, r.allowed)
				}
			}
		}
	}
	for _, d := range listDeps(t, "./collectors/inventory")[module+"/collectors/inventory"] {
		if strings.Contains(strings.SplitN(d, "/", 2)[0], ".") {
			t.Errorf("collectors/inventory imports %s; it must use the standard library only", d)
		}
	}
}

func allowedPkg(d string, allowed []string) bool {
	for _, a := range allowed {
		if d == a || strings.HasPrefix(d, a+"/") {
			return true
		}
	}
	return false
}

// listDeps returns, per package matched (tests excluded), its transitive deps.
func listDeps(t *testing.T, pattern string) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps=false", "-json", pattern)
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pattern, err)
	}
	res := map[string][]string{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p struct {
			ImportPath string
			Deps       []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		res[p.ImportPath] = p.Deps
	}
	if len(res) == 0 {
		t.Fatalf("go list %s matched no package", pattern)
	}
	return res
}
