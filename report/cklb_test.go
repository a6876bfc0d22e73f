package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/checks"
)

func TestCKLBGolden(t *testing.T) {
	golden(t, "report.cklb.golden", writeFormat(t, "cklb", Options{}, sampleRun()))
}

// jsonKind names a decoded JSON value's type.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64, json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "?"
}

// sameShape reports every key of want missing from got or of another JSON
// type, recursing into objects and into the first item of arrays (when got
// has one). Extra keys in got are allowed.
func sameShape(path string, want, got any) []string {
	var problems []string
	if jsonKind(want) != jsonKind(got) && !(jsonKind(want) == "null" || jsonKind(got) == "null") {
		return []string{path + ": " + jsonKind(got) + ", want " + jsonKind(want)}
	}
	switch w := want.(type) {
	case map[string]any:
		g, _ := got.(map[string]any)
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				problems = append(problems, path+"."+k+": missing")
				continue
			}
			problems = append(problems, sameShape(path+"."+k, wv, gv)...)
		}
	case []any:
		g, _ := got.([]any)
		if len(w) > 0 && len(g) > 0 {
			problems = append(problems, sameShape(path+"[0]", w[0], g[0])...)
		}
	}
	return problems
}

// The output has the structure of the hand-checked sample
// (testdata/cklb-sample.PROVENANCE.md): every key, at every level, with the
// same JSON type.
func TestCKLBMatchesSampleStructure(t *testing.T) {
	sampleBytes, err := os.ReadFile(filepath.Join("testdata", "cklb-sample.cklb"))
	if err != nil {
		t.Fatal(err)
	}
	var sample, got any
	if err := json.Unmarshal(sampleBytes, &sample); err != nil {
		t.Fatalf("sample: %v", err)
	}
	if err := json.Unmarshal(writeFormat(t, "cklb", Options{}, sampleRun()), &got); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	for _, p := range sameShape("$", sample, got) {
		t.Error(p)
	}
	// Every rule of every stig, not only the first, has the sample rule's
	// keys.
	sampleRule := sample.(map[string]any)["stigs"].([]any)[0].(map[string]any)["rules"].([]any)[0]
	for i, s := range got.(map[string]any)["stigs"].([]any) {
		for j, r := range s.(map[string]any)["rules"].([]any) {
			for _, p := range sameShape("stigs["+strconv.Itoa(i)+"].rules["+strconv.Itoa(j)+"]", sampleRule, r) {
				t.Error(p)
			}
		}
	}
}

type cklbIn struct {
	Title      string `json:"title"`
	ID         string `json:"id"`
	Version    string `json:"cklb_version"`
	TargetData struct {
		HostName string `json:"host_name"`
		FQDN     string `json:"fqdn"`
		Comments string `json:"comments"`
	} `json:"target_data"`
	Stigs []struct {
		StigID string `json:"stig_id"`
		UUID   string `json:"uuid"`
		Size   int    `json:"size"`
		Rules  []struct {
			StigUUID       string `json:"stig_uuid"`
			RuleVersion    string `json:"rule_version"`
			Status         string `json:"status"`
			Severity       string `json:"severity"`
			Comments       string `json:"comments"`
			FindingDetails string `json:"finding_details"`
		} `json:"rules"`
	} `json:"stigs"`
}

func readCKLB(t *testing.T, run *Run) cklbIn {
	t.Helper()
	var doc cklbIn
	if err := json.Unmarshal(writeFormat(t, "cklb", Options{}, run), &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestCKLBContent(t *testing.T) {
	doc := readCKLB(t, sampleRun())
	if doc.Version != "1.0" {
		t.Errorf("cklb_version = %q", doc.Version)
	}
	// ESXI-80-* and VMCH-80-* ids: two benchmarks.
	var ids []string
	for _, s := range doc.Stigs {
		ids = append(ids, s.StigID)
		if s.Size != len(s.Rules) {
			t.Errorf("%s: size %d, %d rules", s.StigID, s.Size, len(s.Rules))
		}
		for _, r := range s.Rules {
			if r.StigUUID != s.UUID {
				t.Errorf("%s: rule's stig_uuid does not match", r.RuleVersion)
			}
			if !slices.Contains([]string{"not_a_finding", "open", "not_applicable", "not_reviewed"}, r.Status) {
				t.Errorf("%s: status %q", r.RuleVersion, r.Status)
			}
		}
	}
	if want := []string{"VMW_vSphere_8-0_ESXi_STIG", "VMW_vSphere_8-0_Virtual_Machine_STIG"}; !slices.Equal(ids, want) {
		t.Fatalf("stigs = %v, want %v", ids, want)
	}
	rules := map[string]int{}
	for si, s := range doc.Stigs {
		for ri, r := range s.Rules {
			rules[r.RuleVersion] = si*1000 + ri
		}
	}
	rule := func(id string) (status, comments, details string) {
		i, ok := rules[id]
		if !ok {
			t.Fatalf("no rule %s", id)
		}
		r := doc.Stigs[i/1000].Rules[i%1000]
		return r.Status, r.Comments, r.FindingDetails
	}
	// fail → open.
	if st, _, det := rule("ESXI-80-000193"); st != "open" || !strings.Contains(det, "[FAIL] ESXI-HOST-ACC-01 on host esx01.lab (host-21)") ||
		!strings.Contains(det, "observed: host.services.ssh.running = true") {
		t.Errorf("ESXI-80-000193 = %s\n%s", st, det)
	}
	// waived → open, with the waiver in comments.
	if st, com, _ := rule("VMCH-80-000203"); st != "open" || !strings.Contains(com, "Waiver for ESXI-VM-MIG-01 on vm web01") ||
		!strings.Contains(com, "J. Rivera (risk board)") {
		t.Errorf("VMCH-80-000203 = %s, comments %q", st, com)
	}
	// The generic id in the fixture collects every other finding, fail
	// among them: the roll-up is open and lists each object.
	if st, com, det := rule("ESXI-80-000000"); st != "open" || strings.Count(det, "\n\n[") != 9 ||
		!strings.Contains(com, "Expired waiver") {
		t.Errorf("ESXI-80-000000 = %s, %d details, comments %q", st, strings.Count(det, "\n\n[")+1, com)
	}
	// Two targets carry STIG findings: a roll-up that says so.
	if doc.TargetData.HostName != "esx01.lab, vc01" || !strings.Contains(doc.TargetData.Comments, "Roll-up of 2 targets") ||
		!strings.Contains(doc.TargetData.Comments, "Not audited: kvm01") {
		t.Errorf("target_data = %+v", doc.TargetData)
	}
}

// One status per finding, and the roll-up over several: open beats
// not_reviewed beats not_a_finding beats not_applicable.
func TestCKLBStatusMapping(t *testing.T) {
	base := sampleRun()
	one := func(statuses ...checks.Status) string {
		run := *base
		run.Findings = nil
		for i, s := range statuses {
			f := base.Findings[1] // ESXI-VM-ENC-01 on web01 (pass)
			f.Refs = checks.Refs{STIG: []string{"ESXI-80-000999"}}
			f.Object.ID += "-" + string(rune('a'+i))
			f.Status = s
			if s == checks.StatusWaived {
				f.ObservedStatus = checks.StatusError
				f.Waiver = &checks.Waiver{Justification: "accepted", Expires: "2027-01-01T00:00:00Z"}
			}
			run.Findings = append(run.Findings, f)
		}
		doc := readCKLB(t, &run)
		return doc.Stigs[0].Rules[0].Status
	}
	for _, c := range []struct {
		in   []checks.Status
		want string
	}{
		{[]checks.Status{checks.StatusPass}, "not_a_finding"},
		{[]checks.Status{checks.StatusFail}, "open"},
		{[]checks.Status{checks.StatusNotApplicable}, "not_applicable"},
		{[]checks.Status{checks.StatusError}, "not_reviewed"},
		{[]checks.Status{checks.StatusWaived}, "open"},
		{[]checks.Status{checks.StatusPass, checks.StatusNotApplicable}, "not_a_finding"},
		{[]checks.Status{checks.StatusPass, checks.StatusError}, "not_reviewed"},
		{[]checks.Status{checks.StatusError, checks.StatusFail, checks.StatusPass}, "open"},
	} {
		if got := one(c.in...); got != c.want {
			t.Errorf("%v → %s, want %s", c.in, got, c.want)
		}
	}
}

// A run over one target describes that asset; findings without STIG ids
// are left out.
func TestCKLBSingleTarget(t *testing.T) {
	run := sampleRun()
	var kept []checks.Finding
	for _, f := range run.Findings {
		if f.Target == "esx01.lab" {
			kept = append(kept, f)
		}
	}
	kept[0].Refs.STIG = nil
	run.Findings = kept
	run.Targets = run.Targets[:1]
	doc := readCKLB(t, run)
	if doc.TargetData.HostName != "esx01.lab" || doc.TargetData.FQDN != "esx01.lab" ||
		!strings.Contains(doc.TargetData.Comments, "VMware ESXi 8.0.3 build 24022510 (esxi), vsphere://auditor@esx01.lab") {
		t.Errorf("target_data = %+v", doc.TargetData)
	}
	n := 0
	for _, s := range doc.Stigs {
		for _, r := range s.Rules {
			n += strings.Count(r.FindingDetails, "\n\n[") + 1
		}
	}
	if n != len(kept)-1 {
		t.Errorf("%d findings in the checklist, want %d (one has no STIG id)", n, len(kept)-1)
	}
	// Ids are stable across runs.
	again := sampleRun()
	again.Run.ID = "another"
	again.Findings, again.Targets = kept, run.Targets
	if readCKLB(t, again).ID != doc.ID {
		t.Error("checklist id changes between runs")
	}
}

func TestCKLBWriterContract(t *testing.T) { checkWriterContract(t, "cklb") }
