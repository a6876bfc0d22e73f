package integration

import (
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/hvaudit/hvaudit"

// Patterns below read as go list's: "x/..." is x and everything under it,
// anything else is exactly that package.

// apiClients are the hypervisor client libraries; only collectors may use them.
var apiClients = []string{
	"github.com/vmware/govmomi/...",
	"libvirt.org/go/libvirt/...",
	"libvirt.org/go/libvirtxml/...",
	"github.com/microsoft/wmi/...",
	"github.com/masterzen/winrm/...",
}

// engine is what evaluates checks: CEL, the TOML loaders of baselines,
// tailoring and waivers, and the data configs embeds. What it produces,
// checks/findings, is apart from it, so a package that renders or compares
// findings links none of it.
var engine = []string{
	module + "/checks",
	module + "/configs",
	"github.com/google/cel-go/...",
	"github.com/BurntSushi/toml/...",
}

// platformCollectors are the packages that collect from one platform, and
// collectors/all, which links them. Only the command links them: the agent
// reaches a collector through the registry (collectors.ForURI,
// ForPlatform, Available). Their simulators and test servers (esxisim,
// winrmtest, libvirtdtest) are not collectors; the demo runs esxisim.
var platformCollectors = []string{
	module + "/collectors/all",
	module + "/collectors/esxi",
	module + "/collectors/hyperv",
	module + "/collectors/libvirt",
}

// importRule: no package matched by pkgs (less except) may depend,
// directly or not, on a forbidden package; when allowed is set, it may
// depend on no package of this module outside allowed.
type importRule struct {
	pkgs      string
	except    []string
	forbidden []string
	allowed   []string
}

var importRules = []importRule{
	// checks reads the inventory only, never an API client or a collector.
	{pkgs: module + "/checks/...", forbidden: apiClients,
		allowed: []string{module + "/checks/...", module + "/collectors/inventory", module + "/configs/..."}},
	// report renders findings: it reads checks/findings and the inventory,
	// never the engine (its own STIG catalog is configs/stig).
	{pkgs: module + "/report/...", forbidden: append(slices.Clip(apiClients), engine...),
		allowed: []string{module + "/report/...", module + "/checks/findings", module + "/collectors/inventory", module + "/configs/stig"}},
	// Collectors know nothing of scoring, reporting or the agent.
	{pkgs: module + "/collectors/...", forbidden: []string{module + "/checks/...", module + "/report/...", module + "/agent/..."}},
	// The agent imports no platform collector; the command links them.
	{pkgs: module + "/agent/...", except: []string{module + "/agent/cmd/..."}, forbidden: platformCollectors},
	// The agent's feature packages (diff, sign, drift, history, metrics,
	// advisories) stand below it: only what runs an audit (serve, the
	// demo, the command) imports the agent.
	{pkgs: module + "/agent/...", except: []string{module + "/agent", module + "/agent/serve", module + "/agent/demo", module + "/agent/cmd/..."},
		forbidden: []string{module + "/agent"}},
	// Comparing, signing, recording and exposing runs reads findings, not
	// the engine.
	{pkgs: module + "/agent/...", except: []string{module + "/agent", module + "/agent/serve", module + "/agent/demo", module + "/agent/advisories", module + "/agent/cmd/..."},
		forbidden: engine},
}

// standardOnly are what several layers share (the inventory and findings
// models, the selector syntax); they import the standard library only.
var standardOnly = []string{module + "/collectors/inventory", module + "/checks/findings", module + "/checks/glob"}

// TestImportDirection enforces DESIGN.md §2: checks and report read the
// inventory only and never an API client or a collector; report reads
// findings and never the engine that produces them; collectors know nothing
// of scoring or reporting and nothing of each other; the agent reaches
// collectors through the registry only, and its feature packages do not
// import it; the shared models (inventory, findings) are standard library.
func TestImportDirection(t *testing.T) {
	var got []string
	for _, r := range importRules {
		got = append(got, r.violations(listDeps(t, r.pkgs))...)
	}
	got = append(got, crossPlatformImports(listDeps(t, module+"/collectors/..."))...)
	for _, p := range standardOnly {
		got = append(got, nonStandardImports(listDeps(t, p))...)
	}
	for _, v := range got {
		t.Error(v)
	}
}

// TestImportRulesCatchForbiddenEdges: the rules above flag each edge they
// forbid and let the permitted ones pass, so TestImportDirection can fail.
func TestImportRulesCatchForbiddenEdges(t *testing.T) {
	deps := map[string][]string{
		module + "/agent":                           {module + "/collectors", module + "/collectors/esxi/esxisim", module + "/collectors/libvirt"},
		module + "/agent/serve":                     {module + "/agent", module + "/collectors/all"},
		module + "/agent/cmd/hvaudit":               {module + "/agent", module + "/collectors/all"},
		module + "/report":                          {module + "/checks", "github.com/vmware/govmomi/vim25/types", module + "/agent/drift"},
		module + "/collectors/esxi":                 {module + "/collectors/inventory", module + "/collectors/hyperv/winrmtest", module + "/checks"},
		module + "/collectors/libvirt/libvirtdtest": {module + "/collectors/libvirt"},
		module + "/collectors/all":                  {module + "/collectors/esxi", module + "/collectors/hyperv"},
		module + "/collectors":                      {module + "/collectors/libvirt"},
		module + "/report/stig":                     {module + "/configs/stig", module + "/configs", module + "/checks/findings"},
		module + "/report/html":                     {module + "/checks/findings", "github.com/google/cel-go/cel"},
		module + "/agent/drift":                     {module + "/agent/diff", module + "/agent"},
		module + "/agent/history":                   {module + "/agent/drift", module + "/agent/diff", module + "/agent"},
		module + "/agent/diff":                      {module + "/checks/glob", module + "/checks/findings", module + "/report", module + "/checks"},
		module + "/agent/advisories":                {module + "/checks", module + "/configs"},
		module + "/agent/demo":                      {module + "/agent", module + "/collectors/esxi/esxisim"},
		module + "/checks/findings":                 {"math", "github.com/google/uuid"},
		module + "/collectors/inventory":            {"time"},
	}
	var got []string
	for _, r := range importRules {
		got = append(got, r.violations(deps)...)
	}
	got = append(got, crossPlatformImports(deps)...)
	for _, p := range standardOnly {
		got = append(got, nonStandardImports(map[string][]string{p: deps[p]})...)
	}
	want := []string{
		module + "/agent imports " + module + "/collectors/libvirt",
		module + "/agent/serve imports " + module + "/collectors/all",
		module + "/report imports github.com/vmware/govmomi/vim25/types",
		module + "/report imports " + module + "/agent/drift",
		module + "/report imports " + module + "/checks",
		module + "/report/stig imports " + module + "/configs",
		module + "/report/html imports github.com/google/cel-go/cel",
		module + "/agent/drift imports " + module + "/agent",
		module + "/agent/history imports " + module + "/agent",
		module + "/agent/diff imports " + module + "/checks",
		module + "/checks/findings imports github.com/google/uuid",
		module + "/collectors/esxi imports " + module + "/checks",
		module + "/collectors/esxi imports " + module + "/collectors/hyperv/winrmtest",
		module + "/collectors imports " + module + "/collectors/libvirt",
	}
	for _, w := range want {
		if !slices.ContainsFunc(got, func(g string) bool { return strings.HasPrefix(g, w+" ") || strings.HasPrefix(g, w+";") }) {
			t.Errorf("edge not flagged: %s", w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d violations, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
}

// violations lists the edges of deps (package → its dependencies) the
// rule forbids, for the packages it covers.
func (r importRule) violations(deps map[string][]string) []string {
	var out []string
	for _, pkg := range sortedKeys(deps) {
		if !matchesAny(pkg, []string{r.pkgs}) || matchesAny(pkg, r.except) {
			continue
		}
		for _, d := range deps[pkg] {
			if matchesAny(d, r.forbidden) {
				out = append(out, pkg+" imports "+d+" (forbidden by DESIGN.md §2)")
				continue
			}
			if r.allowed != nil && strings.HasPrefix(d, module+"/") && !matchesAny(d, r.allowed) {
				out = append(out, pkg+" imports "+d+"; of this module it may import only "+strings.Join(r.allowed, ", "))
			}
		}
	}
	return out
}

// crossPlatformImports lists the edges between two platforms' collector
// trees (collectors/esxi/... and collectors/hyperv/..., say), and from the
// shared collectors packages into any platform: each platform's code
// stands alone. collectors/all, which links them, is the exception.
func crossPlatformImports(deps map[string][]string) []string {
	var out []string
	for _, pkg := range sortedKeys(deps) {
		if pkg == module+"/collectors/all" || !matchesAny(pkg, []string{module + "/collectors/..."}) {
			continue
		}
		own := platformTree(pkg)
		for _, d := range deps[pkg] {
			if other := platformTree(d); other != "" && other != own {
				out = append(out, pkg+" imports "+d+"; a collector package imports no other platform's")
			}
		}
	}
	return out
}

// nonStandardImports lists the dependencies outside the standard library
// (whose import paths have no dot in their first element).
func nonStandardImports(deps map[string][]string) []string {
	var out []string
	for _, pkg := range sortedKeys(deps) {
		for _, d := range deps[pkg] {
			if strings.Contains(strings.SplitN(d, "/", 2)[0], ".") {
				out = append(out, pkg+" imports "+d+"; it must use the standard library only")
			}
		}
	}
	return out
}

// platformTree is the platform directory under collectors/ a package
// belongs to ("esxi" for collectors/esxi/esxisim), "" for a shared one.
func platformTree(pkg string) string {
	for _, p := range platformCollectors {
		if p != module+"/collectors/all" && matchesAny(pkg, []string{p + "/..."}) {
			return strings.TrimPrefix(p, module+"/collectors/")
		}
	}
	return ""
}

func matchesAny(pkg string, patterns []string) bool {
	for _, p := range patterns {
		if base, tree := strings.CutSuffix(p, "/..."); tree {
			if pkg == base || strings.HasPrefix(pkg, base+"/") {
				return true
			}
		} else if pkg == p {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
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
