package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/collectors/esxi/esxisim"
)

// TestCKLBPerAsset audits the demo vSphere estate and renders its report as
// STIG Viewer checklists, as an assessor would: `--format cklb --output DIR`
// writes one file per asset, named after it, with the whole benchmark.
func TestCKLBPerAsset(t *testing.T) {
	sim := startSim(t, esxisim.Options{})
	dir := t.TempDir()
	orig := filepath.Join(dir, "r.json")
	auditDemo(t, sim, orig)
	out := filepath.Join(dir, "checklists")
	if r := runHV(t, nil, "report", "--from", orig, "--format", "cklb", "--output", out); r.code != 0 {
		t.Fatalf("report --format cklb: exit %d: %s", r.code, r.stderr)
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(out, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			TargetData struct {
				HostName string `json:"host_name"`
			} `json:"target_data"`
			Stigs []struct {
				StigID      string `json:"stig_id"`
				ReleaseInfo string `json:"release_info"`
				Rules       []struct {
					GroupID   string `json:"group_id"`
					RuleID    string `json:"rule_id"`
					RuleIDSrc string `json:"rule_id_src"`
					Status    string `json:"status"`
				} `json:"rules"`
			} `json:"stigs"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		// Named after the asset; characters a file system may refuse become _.
		if len(doc.Stigs) != 1 || e.Name() != regexp.MustCompile(`[^A-Za-z0-9._-]`).ReplaceAllString(doc.TargetData.HostName, "_")+".cklb" {
			t.Errorf("%s: host_name %q, %d stigs", e.Name(), doc.TargetData.HostName, len(doc.Stigs))
			continue
		}
		s := doc.Stigs[0]
		counts := map[string]int{}
		for _, r := range s.Rules {
			counts[r.Status]++
			if !regexp.MustCompile(`^V-[0-9]+$`).MatchString(r.GroupID) || !regexp.MustCompile(`^SV-[0-9]+r[0-9]+$`).MatchString(r.RuleID) ||
				r.RuleIDSrc != r.RuleID+"_rule" {
				t.Errorf("%s: rule %+v", e.Name(), r)
			}
		}
		got[doc.TargetData.HostName] = s.StigID + " " + strings.Fields(s.ReleaseInfo)[1] + " " + strconv.Itoa(len(s.Rules))
		if counts["open"]+counts["not_a_finding"]+counts["not_applicable"] == 0 {
			t.Errorf("%s: no rule assessed: %v", e.Name(), counts)
		}
	}
	esxi, vm, vc := "VMW_vSphere_8-0_ESXi_STIG 3 76", "VMW_vSphere_8.0_Virtual_Machine_STIG 1 25", "VMW_vSphere_8-0_vCenter_STIG 3 67"
	want := map[string]string{
		// The target's name as given (--target's host here), the vCenter.
		strings.Split(strings.TrimPrefix(targetURI(sim), "vsphere://auditor@"), "/")[0]: vc,
		"esx-prod-01": esxi, "esx-prod-02": esxi, "esx-legacy-01": esxi,
		"db-01": vm, "web-01": vm, "web-02": vm, "app-01": vm, "jump-01": vm, "tmpl-rhel9": vm,
	}
	var names []string
	for n := range got {
		names = append(names, n)
	}
	slices.Sort(names)
	if len(got) != len(want) {
		t.Errorf("checklists for %v, want %d", names, len(want))
	}
	for n, w := range want {
		if got[n] != w {
			t.Errorf("%s: %q, want %q (have %v)", n, got[n], w, names)
		}
	}

	// Standard output takes one checklist; this run has several.
	r := runHV(t, nil, "report", "--from", orig, "--format", "cklb")
	if r.code == 0 || !strings.Contains(r.stderr, "STIG Viewer takes one checklist per asset: give --output a directory") {
		t.Errorf("cklb to standard output: exit %d: %s", r.code, r.stderr)
	}
}
