package stig

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/hvaudit/hvaudit/checks"
)

// The shipped catalog: each benchmark's identity and whole rule count, as
// DISA published the release configs/stig/sources.toml names.
func TestBuiltinCatalog(t *testing.T) {
	c, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		stigID, release, version string
		rules                    int
		asset                    Asset
	}{
		{"MS_Windows_Server_2022_STIG", "Release: 8 Benchmark Date: 01 Apr 2026", "2", 282, Asset{Platform: "hyperv", Kind: "host", OSBuild: "20348"}},
		{"MS_Windows_Server_2025_STIG", "Release: 1 Benchmark Date: 26 Jan 2026", "1", 284, Asset{Platform: "hyperv", Kind: "host", OSBuild: "26100"}},
		{"VMW_vSphere_8-0_ESXi_STIG", "Release: 3 Benchmark Date: 02 Apr 2025", "2", 76, Asset{Platform: "esxi", Kind: "host", Release: "8.0"}},
		{"VMW_vSphere_8-0_vCenter_STIG", "Release: 3 Benchmark Date: 02 Jul 2025", "2", 67, Asset{Platform: "esxi", Kind: "target", Product: "vCenter Server", Release: "8.0"}},
		{"VMW_vSphere_8.0_Virtual_Machine_STIG", "Release: 1 Benchmark Date: 01 Aug 2024", "2", 25, Asset{Platform: "esxi", Kind: "vm"}},
		{"Windows_Server_2016_STIG", "Release: 10 Benchmark Date: 15 Jan 2025", "2", 273, Asset{Platform: "hyperv", Kind: "host", OSBuild: "14393"}},
		{"Windows_Server_2019_STIG", "Release: 8 Benchmark Date: 01 Apr 2026", "3", 282, Asset{Platform: "hyperv", Kind: "host", OSBuild: "17763"}},
	}
	var got []string
	for _, b := range c.Benchmarks {
		got = append(got, b.StigID)
	}
	slices.Sort(got)
	if len(got) != len(want) {
		t.Fatalf("benchmarks = %v", got)
	}
	ruleID := regexp.MustCompile(`^SV-[0-9]+r[0-9]+$`)
	for _, w := range want {
		b := c.Benchmark(w.stigID)
		if b == nil {
			t.Errorf("no benchmark %s (have %v)", w.stigID, got)
			continue
		}
		if b.ReleaseInfo != w.release || b.Version != w.version || len(b.Rules) != w.rules || b.Asset != w.asset {
			t.Errorf("%s: %s, version %s, %d rules, asset %+v; want %s, %s, %d, %+v",
				w.stigID, b.ReleaseInfo, b.Version, len(b.Rules), b.Asset, w.release, w.version, w.rules, w.asset)
		}
		if !strings.HasSuffix(b.Title, " Security Technical Implementation Guide") || b.DisplayName == "" ||
			strings.Contains(b.DisplayName, "Technical Implementation") || b.Source.Commit == "" || b.Source.Description == "" {
			t.Errorf("%s: title %q, display %q, source %+v", w.stigID, b.Title, b.DisplayName, b.Source)
		}
		// A V- and SV- id on every rule, in the forms STIG Viewer writes.
		for _, r := range b.Rules {
			if !strings.HasPrefix(r.GroupID, "V-") || !GroupIDPattern.MatchString(r.GroupID) ||
				!RuleIDPattern.MatchString(r.RuleIDSrc) || !ruleID.MatchString(r.RuleID()) ||
				len(r.CCIs) == 0 || r.CheckContent == "" || r.FixText == "" {
				t.Errorf("%s %s: group %q rule %q (%q), %d CCIs, check %d bytes, fix %d bytes",
					w.stigID, r.Version, r.GroupID, r.RuleIDSrc, r.RuleID(), len(r.CCIs), len(r.CheckContent), len(r.FixText))
			}
		}
	}
	// Spot checks against DISA's XCCDF (V-/SV- for VMCH-80-000203 as in
	// the V1R1 XCCDF, with the rule revision of V2R1).
	for id, want := range map[string][2]string{
		"ESXI-80-000193": {"V-258754", "SV-258754r958478_rule"},
		"VMCH-80-000203": {"V-258716", "SV-258716r959010_rule"},
		"WN22-00-000010": {"V-254238", "SV-254238r991589_rule"},
	} {
		ref, ok := c.Lookup(id)
		if !ok || ref.Rule.GroupID != want[0] || (want[1] != "" && ref.Rule.RuleIDSrc != want[1]) {
			t.Errorf("%s = %+v", id, ref.Rule)
		}
	}
	if _, ok := c.Lookup("ESXI-80-000161"); ok {
		t.Error("ESXI-80-000161 was removed in V2R2 but is in the catalog")
	}
}

// Every STIG id a shipped check cites must be a rule of the catalog, of a
// benchmark for the check's own platform: a typo, a rule DISA removed, or an
// id from another product's STIG fails here. All mismatches are listed.
func TestShippedSTIGRefsAreInTheCatalog(t *testing.T) {
	c, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	b, err := checks.LoadBaseline("builtin:default")
	if err != nil {
		t.Fatal(err)
	}
	var problems []string
	refs := 0
	for _, ch := range b.Checks() {
		for _, id := range ch.Refs.STIG {
			refs++
			ref, ok := c.Lookup(id)
			switch {
			case !ok:
				problems = append(problems, fmt.Sprintf("%s (%s:%d) cites %s: no such rule in the catalog", ch.ID, ch.File, ch.Line, id))
			case ref.Benchmark.Asset.Platform != ch.Platform:
				problems = append(problems, fmt.Sprintf("%s (%s:%d, platform %s) cites %s of %s, a %s benchmark",
					ch.ID, ch.File, ch.Line, ch.Platform, id, ref.Benchmark.StigID, ref.Benchmark.Asset.Platform))
			}
		}
	}
	if refs == 0 {
		t.Fatal("no shipped check cites a STIG id")
	}
	if len(problems) > 0 {
		t.Errorf("%d of %d STIG refs do not match the catalog (configs/stig):\n  %s", len(problems), refs, strings.Join(problems, "\n  "))
	}
}

func TestReadRefusesBadCatalogs(t *testing.T) {
	good := `{"stig_id":"S","title":"S Security Technical Implementation Guide","display_name":"S","version":"1",
"release_info":"Release: 1 Benchmark Date: 01 Jan 2026","asset":{"platform":"esxi","kind":"host"},
"source":{"description":"d","repository":"o/r","commit":"c","path":"p","license":"l"},
"rules":[{"group_id":"V-1","group_title":"SRG-1","rule_id_src":"SV-1r1_rule","rule_version":"S-1","severity":"low","weight":"10.0","rule_title":"t","ccis":["CCI-000001"]}]}`
	if _, err := Read(fstest.MapFS{"d/a.json": {Data: []byte(good)}}, "d"); err != nil {
		t.Fatalf("good catalog: %v", err)
	}
	for name, c := range map[string]struct{ data, want string }{
		"bad group id":     {strings.Replace(good, `"V-1"`, `"1"`, 1), `group_id "1" is not V-<n>`},
		"bad rule id":      {strings.Replace(good, `"SV-1r1_rule"`, `"SV-1"`, 1), `rule_id_src "SV-1" is not SV-<n>r<n>_rule`},
		"foreign rule id":  {strings.Replace(good, `"SV-1r1_rule"`, `"SV-2r1_rule"`, 1), "does not belong to group V-1"},
		"no CCI":           {strings.Replace(good, `["CCI-000001"]`, `[]`, 1), "no CCI"},
		"bad severity":     {strings.Replace(good, `"low"`, `"CAT III"`, 1), `severity "CAT III"`},
		"no release":       {strings.Replace(good, `Release: 1 Benchmark`, `1 Benchmark`, 1), "does not start with"},
		"unknown key":      {strings.Replace(good, `"weight"`, `"wieght"`, 1), "unknown field"},
		"no asset":         {strings.Replace(good, `"platform":"esxi",`, ``, 1), "asset.platform is empty"},
		"no source commit": {strings.Replace(good, `"commit":"c",`, ``, 1), "source.commit is empty"},
	} {
		_, err := Read(fstest.MapFS{"d/a.json": {Data: []byte(c.data)}}, "d")
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "d/a.json") {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
		}
	}
	// The same STIG id in two benchmarks is refused.
	other := strings.Replace(strings.Replace(good, `"stig_id":"S"`, `"stig_id":"T"`, 1), `"V-1"`, `"V-1"`, 1)
	if _, err := Read(fstest.MapFS{"d/a.json": {Data: []byte(good)}, "d/b.json": {Data: []byte(other)}}, "d"); err == nil ||
		!strings.Contains(err.Error(), "S-1 is also in S") {
		t.Errorf("duplicate STIG id: %v", err)
	}
}
