package checks

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/checks/findings"
)

const baseHeader = `id = "t"
version = "1"
title = "t"

[params]
allowed = ["required"]
max_days = 30
`

// checkTOML renders one [[check]] table (line 1 of it is the baseHeader).
func checkTOML(id, scope, expr string, extra ...string) string {
	return "\n[[check]]\n" +
		`id = "` + id + `"` + "\n" +
		`title = "x"` + "\n" +
		`platform = "esxi"` + "\n" +
		`scope = "` + scope + `"` + "\n" +
		`area = "isolation"` + "\n" +
		`severity = "low"` + "\n" +
		"expr = '" + expr + "'\n" +
		`expected = "x"` + "\n" +
		strings.Join(extra, "\n")
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// lineOf is the 1-based line of the first occurrence of s in content.
func lineOf(t *testing.T, content, s string) int {
	t.Helper()
	i := strings.Index(content, s)
	if i < 0 {
		t.Fatalf("%q not in content", s)
	}
	return strings.Count(content[:i], "\n") + 1
}

func TestLoadBaselineErrors(t *testing.T) {
	ok := checkTOML("OK-1", "vm", "vm.migration.encryption in params.allowed")
	cases := []struct {
		name, body string
		at         string // the text whose line the error must name
		want       string
	}{
		{"unknown field", checkTOML("BAD-1", "vm", "vm.migraton.encryption == \"x\""),
			"vm.migraton", "check BAD-1: expr: undefined field 'migraton'"},
		{"nested unknown field", checkTOML("BAD-2", "host", "host.patch.buidl == \"1\""),
			"host.patch.buidl", "check BAD-2: expr: undefined field 'buidl'"},
		{"wrong types", checkTOML("BAD-3", "vm", "vm.oldest_snapshot_days > \"30\""),
			"vm.oldest_snapshot_days >", "check BAD-3: expr: found no matching overload for '_>_'"},
		{"unknown param", checkTOML("BAD-4", "vm", "vm.oldest_snapshot_days <= params.max_dayz"),
			"params.max_dayz", "check BAD-4: expr: undefined field 'max_dayz'"},
		{"not bool", checkTOML("BAD-5", "vm", "vm.oldest_snapshot_days"),
			"expr = 'vm.oldest_snapshot_days'", "check BAD-5: expr: must be a bool expression, is int"},
		{"other scope", checkTOML("BAD-6", "vm", "host.lockdown_mode == \"x\""),
			"host.lockdown_mode", "check BAD-6: expr: undeclared reference to 'host'"},
		{"patch in network scope", checkTOML("BAD-7", "network", "patch.eol"),
			"patch.eol", "check BAD-7: expr: undeclared reference to 'patch'"},
		{"applies", checkTOML("BAD-8", "vm", "true", `applies = "vm.tempalte"`),
			"vm.tempalte", "check BAD-8: applies: undefined field 'tempalte'"},
		{"evidence", checkTOML("BAD-9", "vm", "true", `evidence = ["vm.migration.encrypton"]`),
			"encrypton", "check BAD-9: evidence: undefined field 'encrypton'"},
		{"bad area", strings.Replace(checkTOML("BAD-10", "vm", "true"), `area = "isolation"`, `area = "isolaton"`, 1),
			"isolaton", `check BAD-10: area "isolaton" is not one of`},
		{"bad severity", strings.Replace(checkTOML("BAD-11", "vm", "true"), `severity = "low"`, `severity = "severe"`, 1),
			"severe", `check BAD-11: severity "severe" is not one of`},
		{"bad scope", checkTOML("BAD-12", "cluster", "true"),
			`"cluster"`, `check BAD-12: scope "cluster" is not one of`},
		{"bad platform", strings.Replace(checkTOML("BAD-13", "vm", "true"), `platform = "esxi"`, `platform = "xen"`, 1),
			`"xen"`, `check BAD-13: platform "xen" is not one of`},
		{"duplicate id", checkTOML("OK-1", "vm", "true"),
			`id = "OK-1"`, "check OK-1: id is also used at"},
		{"missing expr", strings.Replace(checkTOML("BAD-14", "vm", "true"), "expr = 'true'\n", "", 1),
			"[[check]]", "check BAD-14: expr is required"},
		{"unknown key", checkTOML("BAD-15", "vm", "true", `severty = "low"`),
			"severty", `unknown key "check.severty"`},
		{"unknown ref key", checkTOML("BAD-16", "vm", "true", `refs = { stg = ["x"] }`),
			"stg", `unknown key "check.refs.stg"`},
		{"toml syntax", checkTOML("BAD-18", "vm", "true", `evidence = ["a",`),
			`evidence = ["a",`, "expected"},
		{"type mismatch", strings.Replace(checkTOML("BAD-19", "vm", "true"), `severity = "low"`, `severity = 3`, 1),
			"severity = 3", "incompatible types"},
		{"unknown threat", checkTOML("BAD-20", "vm", "true", `threats = ["vm-escape", "vm-escapes"]`),
			`threats = [`, `check BAD-20: threat "vm-escapes" is not one of vm-escape, privilege-elevation`},
		{"alias is an id", checkTOML("BAD-21", "vm", "true", `aliases = ["OK-1"]`),
			`aliases = ["OK-1"]`, "check BAD-21: OK-1 is also used at"},
		{"id is an alias", checkTOML("BAD-22", "vm", "true", `aliases = ["OLD-1"]`) + checkTOML("OLD-1", "vm", "true"),
			`id = "OLD-1"`, "check OLD-1: OLD-1 is also used at"},
		{"alias of itself", checkTOML("BAD-23", "vm", "true", `aliases = ["BAD-23"]`),
			`aliases = ["BAD-23"]`, `check BAD-23: alias "BAD-23" must be another check's former id`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			content := baseHeader + ok + c.body
			// Duplicate ids: the error is about the second occurrence.
			atIdx := strings.LastIndex(content, c.at)
			wantLine := strings.Count(content[:atIdx], "\n") + 1
			p := writeFile(t, t.TempDir(), "b.toml", content)
			_, err := LoadBaseline(p)
			if err == nil {
				t.Fatal("loaded")
			}
			msg := err.Error()
			if !strings.Contains(msg, c.want) {
				t.Errorf("error %q does not contain %q", msg, c.want)
			}
			prefix := p + ":"
			if !strings.HasPrefix(msg, prefix) {
				t.Fatalf("error %q does not start with %q", msg, prefix)
			}
			var line int
			if _, err := fmt.Sscanf(msg[len(prefix):], "%d:", &line); err != nil {
				t.Fatalf("no line in %q", msg)
			}
			if line != wantLine {
				t.Errorf("line %d, want %d: %s", line, wantLine, msg)
			}
		})
	}
}

func TestExpectedUnknownParam(t *testing.T) {
	content := baseHeader + strings.Replace(checkTOML("BAD-1", "vm", "true"), `expected = "x"`, `expected = "at most {params.max_dys}"`, 1)
	p := writeFile(t, t.TempDir(), "b.toml", content)
	_, err := LoadBaseline(p)
	if err == nil || !strings.Contains(err.Error(), `check BAD-1: expected: no such param "max_dys"`) {
		t.Fatalf("err %v", err)
	}
}

func TestLoadBaselineReportsAllExpressionErrors(t *testing.T) {
	content := baseHeader + checkTOML("BAD-1", "vm", "vm.a") + checkTOML("BAD-2", "vm", "vm.b")
	p := writeFile(t, t.TempDir(), "b.toml", content)
	_, err := LoadBaseline(p)
	if err == nil || !strings.Contains(err.Error(), "BAD-1") || !strings.Contains(err.Error(), "BAD-2") {
		t.Fatalf("err %v", err)
	}
}

func TestExtends(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "parent.toml", baseHeader+checkTOML("P-1", "vm", "vm.oldest_snapshot_days <= params.max_days"))
	child := `id = "c"
version = "2"
title = "child"
extends = "parent.toml"

[params]
max_days = 7
extra = "x"
` + checkTOML("C-1", "vm", `params.extra == "x" && vm.migration.encryption in params.allowed`)
	p := writeFile(t, dir, "child.toml", child)
	b, err := LoadBaseline(p)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range b.Checks() {
		ids = append(ids, c.ID)
	}
	if strings.Join(ids, ",") != "P-1,C-1" || b.Params()["max_days"] != int64(7) {
		t.Fatalf("ids %v params %v", ids, b.Params())
	}
	parent, err := LoadBaseline(filepath.Join(dir, "parent.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if b.SHA256 == parent.SHA256 || len(b.SHA256) != 64 {
		t.Errorf("sha %s", b.SHA256)
	}
	// A child may not change a param's type nor reuse an id.
	bad := strings.Replace(child, "max_days = 7", `max_days = "7"`, 1)
	p = writeFile(t, dir, "bad.toml", bad)
	if _, err := LoadBaseline(p); err == nil || !strings.Contains(err.Error(), "params.max_days: must be int") {
		t.Errorf("err %v", err)
	}
	dup := child + checkTOML("P-1", "vm", "true")
	p = writeFile(t, dir, "dup.toml", dup)
	if _, err := LoadBaseline(p); err == nil || !strings.Contains(err.Error(), "check P-1: id is also used at "+filepath.Join(dir, "parent.toml")) {
		t.Errorf("err %v", err)
	}
	loop := strings.Replace(child, `extends = "parent.toml"`, `extends = "loop.toml"`, 1)
	p = writeFile(t, dir, "loop.toml", loop)
	if _, err := LoadBaseline(p); err == nil || !strings.Contains(err.Error(), "extends itself") {
		t.Errorf("err %v", err)
	}
}

func TestTailor(t *testing.T) {
	dir := t.TempDir()
	b, err := LoadBaseline("testdata/baseline.toml")
	if err != nil {
		t.Fatal(err)
	}
	tail := `[params]
vmotion_encryption_allowed = ["required"]
max_snapshot_age_days = 120

[check.T-VM-NIC-01]
enabled = false

[check.T-VM-MIG-01]
severity = "critical"
`
	if err := b.Tailor(writeFile(t, dir, "t.toml", tail)); err != nil {
		t.Fatal(err)
	}
	if len(b.TailoringSHA256) != 64 {
		t.Error("no tailoring sha")
	}
	adv, err := LoadAdvisories("testdata/advisories")
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(b, adv, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	inv := testInventory()
	inv.VMs[0].Migration.Encryption = ptr("opportunistic")
	fs := e.Evaluate("vc01", inv)
	mig := find(t, fs, "T-VM-MIG-01", "app-ok")
	if mig.Status != findings.StatusFail || mig.Severity != findings.SeverityCritical || mig.Expected != "migrateEncryption is one of [required]" {
		t.Errorf("tailored finding %+v", mig)
	}
	if snap := find(t, fs, "T-VM-SNAP-01", "app-plain"); snap.Status != findings.StatusPass {
		t.Errorf("max_snapshot_age_days not tailored: %s %s", snap.Status, snap.Message)
	}
	for _, f := range fs {
		if f.CheckID == "T-VM-NIC-01" {
			t.Fatal("disabled check ran")
		}
	}
	if c, _ := b.Check("T-VM-NIC-01"); c.Enabled {
		t.Error("Checks() does not show the check disabled")
	}

	bad := []struct{ body, at, want string }{
		{"[check.NOPE-1]\nenabled = false\n", "[check.NOPE-1]", "check NOPE-1: the baseline has no such check"},
		{"[check.T-VM-MIG-01]\nenable = false\n", "enable =", `unknown key "check.T-VM-MIG-01.enable"`},
		{"[params]\nmax_snapshot_age_days = \"30\"\n", "max_snapshot_age_days", "params.max_snapshot_age_days: must be int"},
		{"[params]\nvmotion_encryption_allowed = [1]\n", "vmotion_encryption_allowed", "must be list(string)"},
		{"[params]\nnew_param = 1\n", "new_param", "params.new_param: the baseline has no such param; its params are max_advisory_age_days, max_snapshot_age_days, vmotion_encryption_allowed ('hvaudit checks params'"},
		{"[check.T-VM-MIG-01]\nseverity = \"urgent\"\n", "severity", `severity "urgent" is not one of`},
		{"[params]\nmax_snapshot_age_days = = 3\n", "= = 3", "max_snapshot_age_days"},
	}
	for _, c := range bad {
		p := writeFile(t, dir, "t.toml", c.body)
		err := b.Tailor(p)
		if err == nil {
			t.Errorf("tailoring %q accepted", c.body)
			continue
		}
		wantPrefix := p + ":" + strconv.Itoa(lineOf(t, c.body, c.at)) + ":"
		if !strings.HasPrefix(err.Error(), wantPrefix) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("tailoring %q: error %q, want prefix %q and %q", c.body, err, wantPrefix, c.want)
		}
	}
	// The failed tailorings changed nothing.
	if got := b.Params()["max_snapshot_age_days"]; got != int64(120) {
		t.Errorf("param changed by a rejected tailoring: %v", got)
	}
}

// ParamList names every param with its value, its file and the checks
// that read it in applies, expr or expected.
func TestParamList(t *testing.T) {
	b, err := LoadBaseline("testdata/baseline.toml")
	if err != nil {
		t.Fatal(err)
	}
	got := b.ParamList()
	want := []Param{
		{Name: "max_advisory_age_days", Value: int64(180), File: "testdata/baseline.toml", Checks: []string{"T-TGT-ADV-01"}},
		{Name: "max_snapshot_age_days", Value: int64(30), File: "testdata/baseline.toml", Checks: []string{"T-VM-SNAP-01"}},
		{Name: "vmotion_encryption_allowed", Value: []any{"opportunistic", "required"}, File: "testdata/baseline.toml", Checks: []string{"T-VM-MIG-01"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParamList\n got %#v\nwant %#v", got, want)
	}
}

func TestChecksListing(t *testing.T) {
	b, err := LoadBaseline("testdata/baseline.toml")
	if err != nil {
		t.Fatal(err)
	}
	cs := b.Checks()
	if len(cs) != 8 || cs[0].ID != "T-VM-MIG-01" || cs[0].File != "testdata/baseline.toml" || cs[0].Line != 12 || !cs[0].Enabled {
		t.Fatalf("checks %+v", cs[0])
	}
	if b.ID != "test" || b.Version != "1" || len(b.SHA256) != 64 {
		t.Errorf("baseline metadata %+v", b)
	}
	if _, err := LoadBaseline("builtin:no-such"); err == nil || !strings.Contains(err.Error(), "no such builtin baseline") {
		t.Errorf("err %v", err)
	}
}

func TestInclude(t *testing.T) {
	dir := t.TempDir()
	part := func(id, param string) string {
		return "id = \"" + id + "\"\nversion = \"1\"\ntitle = \"part\"\n\n[params]\n" + param + " = 7\n"
	}
	writeFile(t, dir, "a.toml", part("a", "a_days")+checkTOML("A-1", "vm", "vm.oldest_snapshot_days <= params.a_days"))
	writeFile(t, dir, "b.toml", part("b", "b_days")+checkTOML("B-1", "vm", "vm.oldest_snapshot_days <= params.b_days"))
	top := "id = \"all\"\nversion = \"1\"\ntitle = \"all\"\ninclude = [\"a.toml\", \"b.toml\"]\n"
	b, err := LoadBaseline(writeFile(t, dir, "all.toml", top))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range b.Checks() {
		ids = append(ids, c.ID)
	}
	if strings.Join(ids, ",") != "A-1,B-1" || b.Params()["b_days"] != int64(7) {
		t.Fatalf("ids %v params %v", ids, b.Params())
	}
	// Parts may not disagree: the same param or check id in two parts fails,
	// naming both files.
	writeFile(t, dir, "c.toml", part("c", "a_days")+checkTOML("C-1", "vm", "true"))
	_, err = LoadBaseline(writeFile(t, dir, "p.toml", strings.Replace(top, `"b.toml"`, `"c.toml"`, 1)))
	if err == nil || !strings.Contains(err.Error(), "params.a_days is also set in "+filepath.Join(dir, "a.toml")) {
		t.Errorf("err %v", err)
	}
	writeFile(t, dir, "d.toml", part("d", "d_days")+checkTOML("A-1", "vm", "true"))
	_, err = LoadBaseline(writeFile(t, dir, "i.toml", strings.Replace(top, `"b.toml"`, `"d.toml"`, 1)))
	if err == nil || !strings.Contains(err.Error(), "check A-1: id is also used at "+filepath.Join(dir, "a.toml")) {
		t.Errorf("err %v", err)
	}
	_, err = LoadBaseline(writeFile(t, dir, "m.toml", strings.Replace(top, `"b.toml"`, `"missing.toml"`, 1)))
	if err == nil || !strings.Contains(err.Error(), "m.toml:4: include missing.toml") {
		t.Errorf("err %v", err)
	}
}

// A renamed check keeps answering to its old id: lookups and tailoring
// follow the alias, and its findings carry the check's threats.
func TestAliasesAndThreats(t *testing.T) {
	b, err := LoadBaseline("testdata/baseline.toml")
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := b.Resolve("T-OLD-MIG"); !ok || id != "T-VM-MIG-01" {
		t.Errorf("Resolve(T-OLD-MIG) = %q, %v", id, ok)
	}
	if c, ok := b.Check("T-OLD-MIG"); !ok || c.ID != "T-VM-MIG-01" {
		t.Errorf("Check(T-OLD-MIG) = %q, %v", c.ID, ok)
	}
	if got := b.AliasMap(); len(got) != 1 || got["T-OLD-MIG"] != "T-VM-MIG-01" {
		t.Errorf("AliasMap = %v", got)
	}
	dir := t.TempDir()
	if err := b.Tailor(writeFile(t, dir, "t.toml", "[check.T-OLD-MIG]\nseverity = \"critical\"\n")); err != nil {
		t.Fatal(err)
	}
	if c, _ := b.Check("T-VM-MIG-01"); c.Severity != findings.SeverityCritical {
		t.Errorf("tailoring through the alias did not apply: %s", c.Severity)
	}
	both := "[check.T-OLD-MIG]\nenabled = false\n\n[check.T-VM-MIG-01]\nenabled = true\n"
	p := writeFile(t, dir, "both.toml", both)
	if err := b.Tailor(p); err == nil || !strings.Contains(err.Error(), p+":1: check T-OLD-MIG: is an alias of T-VM-MIG-01, which the file tailors too") {
		t.Errorf("tailoring a check under two names: %v", err)
	}

	e, err := NewEngine(b, nil, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	fs := e.Evaluate("vc01", testInventory())
	mig := find(t, fs, "T-VM-MIG-01", "app-ok")
	if !slices.Equal(mig.Threats, []string{"live-migration-interception"}) {
		t.Errorf("finding threats %q", mig.Threats)
	}
	sum := findings.Summarize(fs, nil)
	if len(sum.ByThreat) != len(findings.Threats) {
		t.Errorf("by_threat lists %d threats, want every one of %d", len(sum.ByThreat), len(findings.Threats))
	}
	if s := sum.ByThreat["vm-escape"]; s.Score != nil || s.Counts != (findings.Counts{}) {
		t.Errorf("a threat no finding covers: %+v, want a null score", s)
	}
	lm := sum.ByThreat["live-migration-interception"]
	var want findings.Counts
	for _, f := range fs {
		if f.CheckID == "T-VM-MIG-01" {
			switch f.Status {
			case findings.StatusPass:
				want.Pass++
			case findings.StatusFail:
				want.Fail++
			case findings.StatusError:
				want.Error++
			case findings.StatusNotApplicable:
				want.NotApplicable++
			}
		}
	}
	if lm.Counts != want || want.Pass+want.Fail == 0 {
		t.Errorf("live-migration-interception counts %+v, want %+v", lm.Counts, want)
	}
}
