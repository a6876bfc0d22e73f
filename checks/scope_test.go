package checks

import (
	"slices"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/checks/findings"
)

// A scope keeps exactly the findings of its checks (by id, former id or
// glob), areas and objects (by name or id glob); the lists combine.
func TestScopeNarrows(t *testing.T) {
	b, err := LoadBaseline("testdata/baseline.toml")
	if err != nil {
		t.Fatal(err)
	}
	fs := loadTestEngine(t).Evaluate("vc01", testInventory())
	keys := func(fs []findings.Finding) []string {
		var out []string
		for _, f := range fs {
			out = append(out, f.CheckID+"@"+f.Object.Name)
		}
		slices.Sort(out)
		return out
	}
	for _, c := range []struct {
		name                   string
		checks, areas, objects []string
		want                   []string
	}{
		{"alias", []string{"t-old-mig"}, nil, nil, []string{"T-VM-MIG-01@app-ok", "T-VM-MIG-01@app-plain", "T-VM-MIG-01@app-unread", "T-VM-MIG-01@tmpl"}},
		{"glob and object", []string{"T-HOST-*"}, nil, []string{"esx-o*"}, []string{"T-HOST-OPT-01@esx-ok", "T-HOST-OPT-01@esx-old", "T-HOST-PATCH-01@esx-ok", "T-HOST-PATCH-01@esx-old", "T-HOST-SSH-01@esx-ok", "T-HOST-SSH-01@esx-old"}},
		{"area", nil, []string{"patch"}, []string{"host-3", "vc01"}, []string{"T-HOST-PATCH-01@esx-unread", "T-TGT-ADV-01@vc01"}},
		{"all three", []string{"T-VM-MIG-01", "T-NET-PROM-01"}, []string{"isolation"}, []string{"Sniffer"}, []string{"T-NET-PROM-01@Sniffer"}},
	} {
		s, err := NewScope(b, c.checks, c.areas, c.objects)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := keys(s.Narrow(fs)); !slices.Equal(got, c.want) {
			t.Errorf("%s: kept %q, want %q", c.name, got, c.want)
		}
	}
	if s, err := NewScope(b, nil, nil, nil); s != nil || err != nil {
		t.Errorf("empty scope = %v, %v; want nil", s, err)
	}
	for _, c := range []struct {
		checks, areas, objects []string
		want                   string
	}{
		{[]string{"T-NOPE-*"}, nil, nil, `--check "T-NOPE-*" names no check of baseline test`},
		{[]string{"T-["}, nil, nil, `--check "T-[" is not a check id or a valid pattern`},
		{nil, []string{"patching"}, nil, `--area "patching" is not one of patch, management-network`},
		{nil, nil, []string{"web-["}, `--object "web-[" is not a valid pattern`},
	} {
		if _, err := NewScope(b, c.checks, c.areas, c.objects); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewScope(%v, %v, %v) = %v, want %q", c.checks, c.areas, c.objects, err, c.want)
		}
	}
}
