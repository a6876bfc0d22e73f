package integration

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/BurntSushi/toml"

	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/collectors/esxi/esxisim"
	"github.com/hvaudit/hvaudit/collectors/libvirt"
	"github.com/hvaudit/hvaudit/configs"
	"github.com/hvaudit/hvaudit/report"
)

// readMethods are the only SOAP methods a read-only audit may send, by
// name: a method that is not listed fails TestAuditIsReadOnly, whatever its
// name starts with.
var readMethods = map[string]bool{
	"RetrieveServiceContent": true, "Login": true, "Logout": true,
	"CreateContainerView": true, "DestroyView": true,
	"RetrieveProperties": true, "RetrievePropertiesEx": true, "ContinueRetrievePropertiesEx": true,
	"CurrentTime": true,
	// Read methods whose answers are no property (collectors/esxi/retrieve_security.go).
	"HostImageConfigGetAcceptance": true, // image acceptance level, ESXI-80-000133
	"QueryLockdownExceptions":      true, // lockdown exception users, ESXI-80-000201
	"VsanClusterGetConfig":         true, // vSAN data services, VCSA-80-000196/000304
}

// TestAuditIsReadOnly records, server-side, every SOAP method the binary's
// audit sends and fails on anything that is not a read.
func TestAuditIsReadOnly(t *testing.T) {
	sim := startSim(t, esxisim.Options{})
	before := len(sim.Methods())
	r := runHV(t, []string{"HVAUDIT_PASSWORD=" + sim.Password}, "audit", "--target", targetURI(sim),
		"--thumbprint", sim.Thumbprint, "--format", "json", "--output", filepath.Join(t.TempDir(), "r.json"))
	if r.code == 2 {
		t.Fatalf("exit 2: %s", r.stderr)
	}
	methods := sim.Methods()[before:]
	if len(methods) < 4 {
		t.Fatalf("only %d SOAP calls recorded (%v): the recorder is not seeing the audit", len(methods), methods)
	}
	seen := map[string]int{}
	for _, m := range methods {
		seen[m]++
		if !readMethods[m] {
			t.Errorf("audit called %s, which is not a read", m)
		}
	}
	for _, must := range []string{"Login", "Logout", "RetrievePropertiesEx", "CreateContainerView",
		"HostImageConfigGetAcceptance", "QueryLockdownExceptions", "VsanClusterGetConfig"} {
		if seen[must] == 0 {
			t.Errorf("audit never called %s (calls: %v)", must, seen)
		}
	}
	t.Logf("SOAP calls: %v", seen)
}

// TestCollectThenAuditSnapshot saves a snapshot, checks it holds no secret,
// and audits it offline to the same findings as the live audit.
func TestCollectThenAuditSnapshot(t *testing.T) {
	sim := startSim(t, esxisim.Options{})
	dir := t.TempDir()
	env := []string{"HVAUDIT_PASSWORD=" + sim.Password}
	snap := filepath.Join(dir, "s.json")
	if r := runHV(t, env, "collect", "--target", targetURI(sim), "--thumbprint", sim.Thumbprint, "--output", snap); r.code != 0 {
		t.Fatalf("collect: exit %d: %s", r.code, r.stderr)
	}
	b, err := os.ReadFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	var env1 struct {
		Schema   string `json:"schema"`
		Tool     struct{ Name, Version string }
		Platform string               `json:"platform"`
		Target   struct{ URI string } `json:"target"`
	}
	if err := json.Unmarshal(b, &env1); err != nil {
		t.Fatal(err)
	}
	if env1.Schema != "hvaudit/snapshot/v1" || env1.Platform != "esxi" {
		t.Errorf("snapshot envelope %+v", env1)
	}
	// The snapshot names the program and the version that wrote it, as
	// `hvaudit version` prints them.
	version := strings.Fields(runHV(t, nil, "version").stdout)
	if len(version) < 2 || env1.Tool.Name != version[0] || env1.Tool.Version != version[1] {
		t.Errorf("snapshot tool %+v, want %v", env1.Tool, version[:min(2, len(version))])
	}
	if strings.Contains(string(b), sim.Password) {
		t.Error("snapshot contains the password")
	}
	if fi, _ := os.Stat(snap); fi.Mode().Perm()&0o027 != 0 {
		t.Errorf("snapshot mode %v, want 0640 or stricter", fi.Mode().Perm())
	}

	live := filepath.Join(dir, "live.json")
	offline := filepath.Join(dir, "offline.json")
	runHV(t, env, "audit", "--target", targetURI(sim), "--thumbprint", sim.Thumbprint, "--format", "json", "--output", live)
	r := runHV(t, nil, "audit", "--snapshot", snap, "--format", "json", "--output", offline)
	if r.code == 2 {
		t.Fatalf("audit --snapshot: exit 2: %s", r.stderr)
	}
	a, o := readRun(t, live), readRun(t, offline)
	if len(a.Findings) != len(o.Findings) {
		t.Fatalf("live audit has %d findings, snapshot audit %d", len(a.Findings), len(o.Findings))
	}
	for i := range a.Findings {
		lf, of := a.Findings[i], o.Findings[i]
		if lf.CheckID != of.CheckID || lf.Object != of.Object || lf.Status != of.Status {
			t.Errorf("finding %d differs: live %s %s %s, snapshot %s %s %s", i, lf.CheckID, lf.Object.Name, lf.Status, of.CheckID, of.Object.Name, of.Status)
		}
	}
}

// TestBadInputExits2 covers a config or baseline with a syntax error, an
// unknown key, or a CEL expression that does not type-check: exit 2 with
// the file, the line and (for checks) the check id; nothing is audited.
func TestBadInputExits2(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	check := func(id, expr string) string {
		return `id = "site"
version = "1"
title = "site baseline"
description = "test"

[[check]]
id = "` + id + `"
title = "t"
platform = "esxi"
scope = "vm"
area = "migration-encryption"
severity = "high"
expr = "` + expr + `"
expected = "e"
evidence = ["vm.migration.encryption"]
rationale = "r"
remediation = "fix it"
refs = { nist80053 = ["SC-8"] }
`
	}
	cases := []struct {
		name, flag, file string
		want             []string
	}{
		{"config syntax", "--config", write("syntax.toml", "concurrency = 4\ntimeout = \n"), []string{"syntax.toml:2"}},
		{"config unknown key", "--config", write("unknown.toml", "concurrency = 4\n\n[[target]]\nuri = \"vsphere://a@b\"\npasword_file = \"x\"\n"), []string{"unknown.toml:5", "pasword_file"}},
		{"baseline syntax", "--baseline", write("b1.toml", "id = \"x\"\n[[check]\n"), []string{"b1.toml:2"}},
		{"baseline unknown key", "--baseline", write("b2.toml", strings.Replace(check("SITE-01", "vm.migration.encryption == 'required'"), "rationale", "rationnale", 1)), []string{"b2.toml:", "rationnale"}},
		{"CEL does not type-check", "--baseline", write("b3.toml", check("SITE-02", "vm.migraton.encryption == 'required'")), []string{"b3.toml:", "SITE-02", "migraton"}},
		{"CEL wrong type", "--baseline", write("b4.toml", check("SITE-03", "vm.migration.encryption + 1")), []string{"b4.toml:", "SITE-03"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runHV(t, []string{"HVAUDIT_PASSWORD=x"}, "audit", c.flag, c.file, "--target", "vsphere://a@127.0.0.1:1", "--insecure")
			if r.code != 2 {
				t.Fatalf("exit %d, want 2; stderr:\n%s", r.code, r.stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("error output lacks %q:\n%s", w, r.stderr)
				}
			}
			if strings.Contains(r.stderr, "collecting") {
				t.Errorf("a target was contacted despite bad input:\n%s", r.stderr)
			}
		})
	}
}

// TestUsageErrors: unknown flags and a URI with a password are refused with 2.
func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"audit", "--no-such-flag"},
		{"audit", "--target", "vsphere://u:secret@host"},
		{"audit", "--target", "vsphere://u@host", "--format", "json", "--format", "table"},
		{"audit", "--target", "vsphere://u@host", "--format", "nope"},
		{"audit", "--target", "vsphere://u@host", "--fail-on", "urgent"},
	} {
		r := runHV(t, []string{"HVAUDIT_PASSWORD=x"}, args...)
		if r.code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %s)", args, r.code, r.stderr)
		}
		if strings.Contains(r.stderr, "secret") {
			t.Errorf("%v: the URI's password was echoed: %s", args, r.stderr)
		}
	}
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runHV(t, nil, "audit", "--target", "vsphere://u@host", "--password-file", pw)
	if r.code != 2 || !strings.Contains(r.stderr, "0600") {
		t.Errorf("world-readable password file: exit %d, stderr %s; want 2 and a hint to chmod 600", r.code, r.stderr)
	}
}

// TestDemoCommand runs `hvaudit demo` as a user would and checks its files.
// Counts are derived from the data: every host and VM the estate files
// declare is audited, and every object gets each enabled check of its
// platform and scope exactly once. The KVM half must run whenever
// libvirt's client library is installed, and HVAUDIT_REQUIRE_LIBVIRT
// (set by CI) makes its absence a failure rather than a quiet skip.
func TestDemoCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	r := runHV(t, nil, "demo", "--dir", dir)
	if r.code != 0 {
		t.Fatalf("demo: exit %d; stderr:\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"esx-prod-02", "web-01", "remediation"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	run := readRun(t, filepath.Join(dir, "report.json"))

	wantTargets := map[string]string{"vcsa-demo": "esxi"}
	switch err := libvirt.New().Available(); {
	case err == nil:
		wantTargets["kvm-demo"] = "kvm"
	case os.Getenv("HVAUDIT_REQUIRE_LIBVIRT") != "":
		t.Fatalf("libvirt's client library is required (HVAUDIT_REQUIRE_LIBVIRT) but missing: %v", err)
	default:
		t.Logf("KVM half of the demo not run: %v", err)
		if !strings.Contains(r.stdout, "Skipping the KVM part of the demo") {
			t.Error("the demo skipped KVM without saying so")
		}
	}
	if len(run.Targets) != len(wantTargets) {
		t.Errorf("demo audited %d targets, want %v", len(run.Targets), wantTargets)
	}
	for _, tr := range run.Targets {
		if wantTargets[tr.Name] != tr.Platform || tr.Status != report.TargetOK {
			t.Errorf("target %s: platform %s status %s %s", tr.Name, tr.Platform, tr.Status, tr.Error)
		}
	}

	// Objects per target and kind, as the report lists them…
	objects := map[[2]string]map[string]bool{}
	for _, f := range run.Findings {
		k := [2]string{f.Target, f.Object.Kind}
		if objects[k] == nil {
			objects[k] = map[string]bool{}
		}
		objects[k][f.Object.ID] = true
	}
	// …are the estate files' hosts and VMs.
	estate := demoEstateCounts(t)
	for target, kinds := range estate {
		if _, ok := wantTargets[target]; !ok {
			continue
		}
		for kind, n := range kinds {
			if got := len(objects[[2]string{target, kind}]); got != n {
				t.Errorf("%s: %d %s objects audited, the estate files declare %d", target, got, kind, n)
			}
		}
	}
	// Every object gets every enabled check of its platform and scope, once.
	perScope := map[[2]string]int{}
	for _, c := range shippedChecks(t) {
		perScope[[2]string{c.Platform, c.Scope}]++
	}
	want := 0
	for k, ids := range objects {
		platform := wantTargets[k[0]]
		want += len(ids) * (perScope[[2]string{platform, k[1]}] + perScope[[2]string{"any", k[1]}])
	}
	if len(run.Findings) != want {
		t.Errorf("demo report has %d findings; its objects and the baseline give %d", len(run.Findings), want)
	}
	if _, err := os.Stat(filepath.Join(dir, "report.txt")); err != nil {
		t.Error(err)
	}
	// Every error finding of the demo is a deliberate gap its estate
	// declares, every declared gap is an error, and the output names each
	// as deliberate: a property left unset by mistake fails here.
	decl, err := esxisim.LoadEstate(configs.Demo, "demo/vsphere.toml")
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]bool{}
	for _, g := range decl.DeliberateGaps {
		for _, o := range g.Objects {
			declared[g.Check+" on "+o] = true
		}
		if !strings.Contains(strings.Join(strings.Fields(r.stdout), " "), g.Why) {
			t.Errorf("demo output does not name the deliberate gap %s: %s", g.Check, g.Why)
		}
	}
	errs := map[string]bool{}
	for _, f := range run.Findings {
		if f.Status == findings.StatusError {
			errs[f.CheckID+" on "+f.Object.Name] = true
			if !declared[f.CheckID+" on "+f.Object.Name] {
				t.Errorf("%s on %s is in error but not a deliberate gap: %s", f.CheckID, f.Object.Name, f.Message)
			}
		}
	}
	for k := range declared {
		if !errs[k] {
			t.Errorf("deliberate gap %s is not an error finding", k)
		}
	}
	if want := fmt.Sprintf("The demo's %d error findings are deliberate gaps", len(declared)); !strings.Contains(r.stdout, want) {
		t.Errorf("demo output lacks %q", want)
	}
	// Short: the whole demo output, standard output and error together,
	// under 200 lines (it was 1,704, then 2,693 before the report was
	// grouped by check), and every failing or erroring check named.
	if n := strings.Count(r.stdout+r.stderr, "\n"); n >= 200 {
		t.Errorf("the demo prints %d lines, want fewer than 200", n)
	}
	for _, f := range run.Findings {
		if (f.Status == findings.StatusFail || f.Status == findings.StatusError) && !strings.Contains(r.stdout, "  "+f.CheckID+" ") {
			t.Errorf("the demo output does not name %s (%s on %s)", f.CheckID, f.Status, f.Object.Name)
		}
	}
	// One STIG Viewer checklist per vSphere asset (the vCenter, each host,
	// each VM); KVM has no STIG.
	files, _ := filepath.Glob(filepath.Join(dir, "cklb", "*.cklb"))
	if want := 1 + estate["vcsa-demo"]["host"] + estate["vcsa-demo"]["vm"]; len(files) != want {
		t.Errorf("cklb/ holds %d checklists (%v), want %d", len(files), files, want)
	}
}

// demoEstateCounts counts the hosts and VMs the demo estate files declare:
// configs/demo/vsphere.toml's [[host]] and [[vm]] tables, and the domains
// of the KVM test driver's node.xml (one host, the node).
func demoEstateCounts(t *testing.T) map[string]map[string]int {
	t.Helper()
	var vs struct {
		Host []struct{} `toml:"host"`
		VM   []struct{} `toml:"vm"`
	}
	if _, err := toml.DecodeFile(filepath.Join("..", "configs", "demo", "vsphere.toml"), &vs); err != nil {
		t.Fatal(err)
	}
	node, err := os.ReadFile(filepath.Join("..", "configs", "demo", "kvm", "node.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Domains  []struct{} `xml:"domain"`
		Networks []struct{} `xml:"network"`
	}
	if err := xml.Unmarshal(node, &doc); err != nil {
		t.Fatal(err)
	}
	return map[string]map[string]int{
		"vcsa-demo": {"host": len(vs.Host), "vm": len(vs.VM), "target": 1},
		"kvm-demo":  {"host": 1, "vm": len(doc.Domains), "network": len(doc.Networks), "target": 1},
	}
}

// TestChecksListAndShow covers the catalog commands.
func TestChecksListAndShow(t *testing.T) {
	r := runHV(t, nil, "checks", "list", "--platform", "esxi", "--format", "json")
	if r.code != 0 {
		t.Fatalf("checks list: %d %s", r.code, r.stderr)
	}
	var list []struct {
		ID       string   `json:"id"`
		Platform string   `json:"platform"`
		Threats  []string `json:"threats"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatal(err)
	}
	// The baseline files are the truth: every esxi and "any" check, no other.
	shipped := shippedChecks(t)
	want := 0
	for _, c := range shipped {
		if c.Platform == "esxi" || c.Platform == "any" {
			want++
		}
	}
	if len(list) != want {
		t.Errorf("checks list --platform esxi lists %d checks, the baseline files hold %d", len(list), want)
	}

	// --threat selects exactly the checks naming that threat.
	r = runHV(t, nil, "checks", "list", "--threat", "live-migration-interception", "--format", "json")
	if r.code != 0 {
		t.Fatalf("checks list --threat: %d %s", r.code, r.stderr)
	}
	list = nil
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatal(err)
	}
	want = 0
	for _, c := range shipped {
		if slices.Contains(c.Threats, "live-migration-interception") {
			want++
		}
	}
	if len(list) != want || want == 0 {
		t.Errorf("--threat live-migration-interception lists %d checks, the baseline files hold %d", len(list), want)
	}
	for _, c := range list {
		if !slices.Contains(c.Threats, "live-migration-interception") {
			t.Errorf("%s listed for a threat it does not name: %v", c.ID, c.Threats)
		}
	}
	if r := runHV(t, nil, "checks", "list", "--threat", "vm-escapes"); r.code != 2 || !strings.Contains(r.stderr, `--threat "vm-escapes" is not one of vm-escape,`) {
		t.Errorf("unknown threat: exit %d %s", r.code, r.stderr)
	}

	r = runHV(t, nil, "checks", "show", "ESXI-VM-MIG-01")
	for _, want := range []string{"migration-encryption", "Remediation", "VMCH-80-000203", "threats:   live-migration-interception"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("checks show lacks %q:\n%s", want, r.stdout)
		}
	}
	if r := runHV(t, nil, "checks", "show", "NOPE-99"); r.code != 2 {
		t.Errorf("unknown check: exit %d, want 2", r.code)
	}
}

type shippedCheck struct {
	ID       string   `toml:"id"`
	Platform string   `toml:"platform"`
	Scope    string   `toml:"scope"`
	Threats  []string `toml:"threats"`
	Aliases  []string `toml:"aliases"`
}

// shippedChecks reads every check of the builtin baseline's files directly,
// so tests compare the CLI with the data rather than with a guessed count.
func shippedChecks(t *testing.T) []shippedCheck {
	t.Helper()
	var out []shippedCheck
	files, err := filepath.Glob(filepath.Join("..", "configs", "baselines", "*.toml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("baseline files: %v", err)
	}
	for _, f := range files {
		var doc struct {
			Check []shippedCheck `toml:"check"`
		}
		if _, err := toml.DecodeFile(f, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, doc.Check...)
	}
	return out
}

// TestREADMEThreatTable: the README's threat coverage table is what
// `checks threats --format markdown` prints for the shipped baseline, so
// the coverage a reader sees is the coverage that runs.
func TestREADMEThreatTable(t *testing.T) {
	r := runHV(t, nil, "checks", "threats", "--format", "markdown")
	if r.code != 0 {
		t.Fatalf("checks threats: %d %s", r.code, r.stderr)
	}
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok1 := strings.Cut(string(readme), "<!-- threats:begin -->\n")
	table, _, ok2 := strings.Cut(rest, "<!-- threats:end -->")
	if !ok1 || !ok2 {
		t.Fatal("README.md lacks the <!-- threats:begin --> … <!-- threats:end --> section")
	}
	if table != r.stdout {
		t.Errorf("README.md's threat table is stale; replace it with the output of\n  hvaudit checks threats --format markdown\ngot:\n%s", r.stdout)
	}
	for _, th := range findings.Threats {
		if !strings.Contains(table, "`"+th+"`") {
			t.Errorf("threat %s missing from the README table", th)
		}
	}
}

// TestREADMECheckCounts: the README's per-platform check counts are the
// baseline files' own.
func TestREADMECheckCounts(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{"esxi", "kvm", "hyperv"} {
		data, err := os.ReadFile(filepath.Join("..", "configs", "baselines", part+".toml"))
		if err != nil {
			t.Fatal(err)
		}
		n := strings.Count(string(data), "\n[[check]]\n")
		want := fmt.Sprintf("`%s.toml` (%d", part, n)
		if !strings.Contains(string(readme), want) {
			t.Errorf("README.md does not say %s… : the file holds %d checks", want, n)
		}
	}
}

// TestREADMESecurityTableNamesRealTests: every test the README's security
// table cites as proof exists, so the table cannot promise a guard that
// was renamed or deleted.
func TestREADMESecurityTableNamesRealTests(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "## Security: attacks and faults tried")
	if !ok {
		t.Fatal("README.md has no security section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	names := regexp.MustCompile(`\b(?:Test|Fuzz|Benchmark)[A-Za-z0-9]+`).FindAllString(section, -1)
	if len(names) < 20 {
		t.Fatalf("the security table cites %d tests; expected a row per attack", len(names))
	}
	defined := map[string]bool{}
	funcRE := regexp.MustCompile(`(?m)^func ((?:Test|Fuzz|Benchmark)[A-Za-z0-9]+)\(`)
	err = filepath.WalkDir("..", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(p, "_test.go") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range funcRE.FindAllStringSubmatch(string(data), -1) {
			defined[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if !defined[n] {
			t.Errorf("README security table cites %s, which no test file defines", n)
		}
	}
}

// TestChecksListFitsTheWidth: with $COLUMNS (or on a terminal) every row of
// `checks list` fits, titles cut with "…"; piped, rows stay whole.
func TestChecksListFitsTheWidth(t *testing.T) {
	r := runHV(t, []string{"COLUMNS=80"}, "checks", "list", "--platform", "kvm")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	cut := 0
	for _, line := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
		if n := utf8.RuneCountInString(line); n > 80 {
			t.Errorf("%d runes: %q", n, line)
		}
		if strings.HasSuffix(line, "…") {
			cut++
		}
	}
	if cut == 0 || !strings.Contains(r.stdout, "KVM-PATCH-01      kvm       host     patch                 high      QEMU packa…") {
		t.Errorf("no title was cut at 80 columns:\n%s", r.stdout)
	}
	r = runHV(t, []string{"COLUMNS="}, "checks", "list", "--platform", "kvm")
	if !strings.Contains(r.stdout, "QEMU package carries every known security fix\n") || strings.Contains(r.stdout, "…") {
		t.Errorf("piped, a title was cut:\n%s", r.stdout)
	}
}

// TestDemoDisplayFlags: the demo's printed report takes --quiet and
// --verbose as audit's does; the report files are the same either way.
func TestDemoDisplayFlags(t *testing.T) {
	out := map[string]result{}
	for _, mode := range []string{"--quiet", "", "--verbose"} {
		args := []string{"demo", "--dir", filepath.Join(t.TempDir(), "demo"), "--color", "never"}
		if mode != "" {
			args = append(args, mode)
		}
		r := runHV(t, nil, args...)
		if r.code != 0 {
			t.Fatalf("demo %s: exit %d\n%s", mode, r.code, r.stderr)
		}
		out[mode] = r
	}
	lines := func(mode string) int { return strings.Count(out[mode].stdout, "\n") }
	if !strings.Contains(out["--quiet"].stdout, "\nSummary: ") || strings.Contains(out["--quiet"].stdout, "remediation") {
		t.Errorf("--quiet printed more than the summary:\n%s", out["--quiet"].stdout)
	}
	if !(lines("--quiet") < lines("") && lines("") < lines("--verbose")) || !strings.Contains(out["--verbose"].stdout, "remediation ") {
		t.Errorf("lines: quiet %d, default %d, verbose %d; want each longer than the last, verbose with remediation",
			lines("--quiet"), lines(""), lines("--verbose"))
	}
	if r := runHV(t, nil, "demo", "--dir", filepath.Join(t.TempDir(), "demo"), "--quiet", "--verbose"); r.code != 2 {
		t.Errorf("--quiet --verbose: exit %d, want 2", r.code)
	}
}
