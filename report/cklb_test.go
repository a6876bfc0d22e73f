package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/report/stig"
)

// cklbRun is an estate with one asset of every kind the checklists cover,
// and the cases that decide where a finding goes: a vCenter with two ESXi
// hosts, two VMs of the same name on different hosts, a VM on the
// management network (an ESXi rule), a standard and a distributed port
// group citing both the ESXi and the vCenter rule, an ESXi 7.0 host (the
// catalog has only the 8.0 STIG), a Windows Server 2022 and a 2019 Hyper-V
// host (the latter citing a 2022 rule), a 2012 R2 one (no STIG in the
// catalog), a KVM host (no benchmark) and a target that could not be read.
func cklbRun() *Run {
	at := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	obj := func(kind, id, name, host string) findings.ObjectRef {
		return findings.ObjectRef{Kind: kind, ID: id, Name: name, Host: host}
	}
	f := func(target, check string, o findings.ObjectRef, st findings.Status, stigIDs ...string) findings.Finding {
		msg := ""
		if st == findings.StatusFail || st == findings.StatusError || st == findings.StatusWaived {
			msg = "observed host.services[\"TSM-SSH\"] = {\"running\":true}"
		}
		return findings.Finding{Message: msg,
			CheckID: check, Title: "title of " + check, Area: "host-access", Severity: findings.SeverityHigh,
			Status: st, Target: target, Object: o, Refs: findings.Refs{STIG: stigIDs, NIST80053: []string{"CM-6"}},
			Evidence: []findings.Evidence{{Field: `host.services["TSM-SSH"]`, Observed: map[string]any{"running": st == findings.StatusFail}, Source: "HostServiceSystem"}},
			Expected: "expected of " + check, Remediation: "fix " + check,
		}
	}
	esx1 := obj("host", "host-1", "esx01.lab", "")
	esx2 := obj("host", "host-2", "esx02.lab", "")
	web1 := obj("vm", "vm-1", "web01", "host-1")
	web2 := obj("vm", "vm-2", "web01", "host-2")
	db := obj("vm", "vm-3", "db01", "host-2")
	waived := f("vc01", "T-VMOT", web1, findings.StatusWaived, "VMCH-80-000203")
	waived.ObservedStatus = findings.StatusFail
	waived.Waiver = &findings.Waiver{CheckID: "T-VMOT", Object: "web01", Justification: "legacy tier", Approver: "ciso", Expires: "2027-06-30T00:00:00Z"}
	errored := f("vc01", "T-VMOT", db, findings.StatusError, "VMCH-80-000203")
	errored.Message = "vm.migration.encryption was not collected: permission denied"
	fs := []findings.Finding{
		f("vc01", "T-VC-KEY", obj("target", "vc01", "vc01", ""), findings.StatusFail, "VCSA-80-000294"),
		f("vc01", "T-SSH", esx1, findings.StatusFail, "ESXI-80-000193"),
		f("vc01", "T-LOCK", esx1, findings.StatusPass, "ESXI-80-000008"),
		f("vc01", "T-TLS", esx1, findings.StatusError, "ESXI-80-000161"),
		f("vc01", "T-SSH", esx2, findings.StatusPass, "ESXI-80-000193"),
		waived,
		f("vc01", "T-MGMT", web1, findings.StatusFail, "ESXI-80-000198"),
		f("vc01", "T-VMOT", web2, findings.StatusPass, "VMCH-80-000203"),
		errored,
		f("vc01", "T-VMCOPY", db, findings.StatusNotApplicable, "VMCH-80-000189"),
		f("vc01", "T-PROM", obj("network", "host-1/VM Network", "VM Network", "host-1"), findings.StatusFail, "ESXI-80-000218", "VCSA-80-000270"),
		f("vc01", "T-PROM", obj("network", "dvportgroup-1", "Prod DPG", ""), findings.StatusFail, "ESXI-80-000218", "VCSA-80-000270"),
		f("vc01", "T-PROM", obj("network", "dvportgroup-2", "Uplinks", ""), findings.StatusNotApplicable, "ESXI-80-000218", "VCSA-80-000270"),
		f("hv22", "T-HV-VBS", obj("host", "HV22-HOST", "hv22-host", ""), findings.StatusPass, "WN22-CC-000110"),
		f("hv22", "T-HV-SUP", obj("host", "HV22-HOST", "hv22-host", ""), findings.StatusFail, "WN22-00-000100", "WN19-00-000100"),
		f("hv19", "T-HV-VBS", obj("host", "HV19", "hv19", ""), findings.StatusFail, "WN22-CC-000110"),
		f("hv12", "T-HV-VBS", obj("host", "HV12", "hv12", ""), findings.StatusFail, "WN22-CC-000110"),
		f("kvm01", "T-KVM", obj("host", "kvm-host", "kvm-host", ""), findings.StatusFail),
	}
	return &Run{
		Schema: Schema, Tool: Tool{Name: "hvaudit", Version: "0.5.0"},
		Run: RunInfo{ID: "run-1", Started: at.Add(-time.Minute), Finished: at,
			Baseline:   BaselineInfo{ID: "default", Version: "1.0.0", SHA256: strings.Repeat("a", 64)},
			Advisories: AdvisoriesInfo{AsOf: "2026-11-01", SHA256: strings.Repeat("b", 64)}},
		Targets: []TargetResult{
			{Name: "vc01", URI: "vsphere://auditor@vc01.lab", Platform: "esxi", Product: "VMware vCenter Server", Version: "8.0.3", Build: "24322831", Status: TargetOK, CollectedAt: &at,
				Hosts: []HostRelease{{ID: "host-1", Name: "esx01.lab", Product: "esxi", Version: "8.0.3", Build: "24674464"}, {ID: "host-2", Name: "esx02.lab", Product: "esxi", Version: "7.0.3", Build: "21930508"}}},
			{Name: "hv22", URI: "hyperv://auditor@hv22.corp", Platform: "hyperv", Product: "Microsoft Windows Server 2022 Datacenter", Version: "10.0.20348.2340", Build: "20348.2340", Status: TargetOK, CollectedAt: &at},
			{Name: "hv19", URI: "hyperv://auditor@hv19.corp", Platform: "hyperv", Product: "Microsoft Windows Server 2019 Standard", Version: "10.0.17763.6054", Status: TargetOK, CollectedAt: &at},
			{Name: "hv12", URI: "hyperv://auditor@hv12.corp", Platform: "hyperv", Product: "Microsoft Windows Server 2012 R2 Datacenter", Version: "6.3.9600", Build: "9600.21620", Status: TargetOK, CollectedAt: &at},
			{Name: "kvm01", URI: "qemu:///system", Platform: "kvm", Product: "libvirt", Status: TargetOK, CollectedAt: &at},
			{Name: "vc-down", URI: "vsphere://auditor@vc-down.lab", Platform: "esxi", Status: TargetError, Error: "connection refused"},
		},
		Findings: fs,
		Summary:  summarize(fs, []string{"vc-down"}),
	}
}

// writeCKLBDir writes a run's checklists into a fresh directory and returns
// them by file name.
func writeCKLBDir(t *testing.T, run *Run) (string, map[string][]byte) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "cklb")
	paths, err := cklbWriter{}.WriteDir(dir, run)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, p := range paths {
		if filepath.Dir(p) != dir {
			t.Errorf("%s written outside %s", p, dir)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(p)] = b
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != len(paths) {
		t.Errorf("%d entries in %s, %d files reported", len(entries), dir, len(paths))
	}
	return dir, files
}

type cklbRuleIn struct {
	GroupID     string   `json:"group_id"`
	GroupIDSrc  string   `json:"group_id_src"`
	RuleID      string   `json:"rule_id"`
	RuleIDSrc   string   `json:"rule_id_src"`
	RuleVersion string   `json:"rule_version"`
	Severity    string   `json:"severity"`
	CCIs        []string `json:"ccis"`
	Status      string   `json:"status"`
	StigUUID    string   `json:"stig_uuid"`
	Comments    string   `json:"comments"`
	Details     string   `json:"finding_details"`
	CheckText   string   `json:"check_content"`
}

type cklbIn struct {
	Title      string `json:"title"`
	ID         string `json:"id"`
	Version    string `json:"cklb_version"`
	TargetData struct {
		HostName string `json:"host_name"`
		FQDN     string `json:"fqdn"`
		IP       string `json:"ip_address"`
		Comments string `json:"comments"`
	} `json:"target_data"`
	Stigs []struct {
		StigID      string       `json:"stig_id"`
		Version     string       `json:"version"`
		ReleaseInfo string       `json:"release_info"`
		UUID        string       `json:"uuid"`
		Size        int          `json:"size"`
		Rules       []cklbRuleIn `json:"rules"`
	} `json:"stigs"`
}

func decodeCKLB(t *testing.T, name string, b []byte) cklbIn {
	t.Helper()
	var doc cklbIn
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return doc
}

// rule returns a checklist's rule by STIG id.
func (d cklbIn) rule(t *testing.T, id string) cklbRuleIn {
	t.Helper()
	for _, r := range d.Stigs[0].Rules {
		if r.RuleVersion == id {
			return r
		}
	}
	t.Fatalf("%s: no rule %s", d.TargetData.HostName, id)
	return cklbRuleIn{}
}

// One checklist per asset, named after it, of the benchmark for its kind
// and release; KVM hosts and targets that were not read get none.
func TestCKLBOneChecklistPerAsset(t *testing.T) {
	_, files := writeCKLBDir(t, cklbRun())
	got := map[string]string{}
	for name, b := range files {
		doc := decodeCKLB(t, name, b)
		if len(doc.Stigs) != 1 {
			t.Fatalf("%s: %d stigs", name, len(doc.Stigs))
		}
		got[name] = doc.TargetData.HostName + " | " + doc.Stigs[0].StigID
	}
	web1 := checklistFileNames([]*asset{{target: TargetResult{Name: "vc01"}, kind: "vm", id: "vm-1", name: "web01"}, {target: TargetResult{Name: "vc01"}, kind: "vm", id: "vm-2", name: "web01"}})
	want := map[string]string{
		"hv19.cklb":      "hv19 | Windows_Server_2019_STIG",
		"hv22-host.cklb": "hv22-host | MS_Windows_Server_2022_STIG",
		"vc01.cklb":      "vc01 | VMW_vSphere_8-0_vCenter_STIG",
		"esx01.lab.cklb": "esx01.lab | VMW_vSphere_8-0_ESXi_STIG",
		"esx02.lab.cklb": "esx02.lab | VMW_vSphere_8-0_ESXi_STIG",
		"db01.cklb":      "db01 | VMW_vSphere_8.0_Virtual_Machine_STIG",
		web1[0]:          "web01 (vm-1) | VMW_vSphere_8.0_Virtual_Machine_STIG",
		web1[1]:          "web01 (vm-2) | VMW_vSphere_8.0_Virtual_Machine_STIG",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("checklists =\n%v\nwant\n%v", got, want)
	}
	// Two VMs named web01: both files carry a digest of their identity,
	// neither takes the plain name.
	if web1[0] == web1[1] || !regexp.MustCompile(`^web01-vm-[0-9a-f]{8}\.cklb$`).MatchString(web1[0]) {
		t.Errorf("colliding names = %v", web1)
	}
	doc := decodeCKLB(t, "esx01.lab.cklb", files["esx01.lab.cklb"])
	if doc.TargetData.FQDN != "esx01.lab" || doc.Title != "esx01.lab - VMware vSphere 8.0 ESXi" ||
		!strings.Contains(doc.TargetData.Comments, "Host esx01.lab (id host-1, esxi 8.0.3 build 24674464) of target vc01: VMware vCenter Server 8.0.3 build 24322831 (esxi), vsphere://auditor@vc01.lab.") ||
		!strings.Contains(doc.TargetData.Comments, "Check T-TLS cites ESXI-80-000161, which is not a rule of any benchmark hvaudit knows.") ||
		!strings.Contains(doc.TargetData.Comments, "from run run-1 on 2026-11-30T08:00:00Z, baseline default 1.0.0; benchmark data: DISA VMware vSphere 8.0 ESXi STIG Version 2 Release 3") {
		t.Errorf("esx01.lab target_data = %+v, title %q", doc.TargetData, doc.Title)
	}
	// An ESXi 7.0 host gets the 8.0 checklist, the only one the catalog
	// has, and it says so; an 8.0 host's says nothing of releases.
	esx2 := decodeCKLB(t, "esx02.lab.cklb", files["esx02.lab.cklb"])
	if want := "This host runs release 7.0.3, for which hvaudit's STIG catalog has no benchmark: this checklist is the VMware vSphere 8.0 ESXi STIG, written for release 8.0, so its rules may not match DISA's STIG for 7.0.3."; !strings.Contains(esx2.TargetData.Comments, want) {
		t.Errorf("esx02.lab (ESXi 7.0) comments = %q, want %q", esx2.TargetData.Comments, want)
	}
	if strings.Contains(doc.TargetData.Comments, "runs release") {
		t.Errorf("esx01.lab (ESXi 8.0) comments speak of releases: %q", doc.TargetData.Comments)
	}
	// Two VMs of one name: each checklist's host name tells them apart
	// and says why.
	for _, f := range web1 {
		if d := decodeCKLB(t, f, files[f]); !strings.Contains(d.TargetData.Comments, "Another asset of this run is also named web01: this checklist's host name is "+d.TargetData.HostName) {
			t.Errorf("%s comments = %q", f, d.TargetData.Comments)
		}
	}
	// A 2019 host's checklist is the 2019 benchmark; the 2022 rule its
	// check cites is said, not filed.
	hv19 := decodeCKLB(t, "hv19.cklb", files["hv19.cklb"])
	if !strings.Contains(hv19.TargetData.Comments, "Check T-HV-VBS cites WN22-CC-000110 (Microsoft Windows Server 2022), not a rule of this asset's benchmark (Microsoft Windows Server 2019): its result is not in this checklist.") {
		t.Errorf("hv19 comments = %q", hv19.TargetData.Comments)
	}
	// A check citing every release's id is filed under the host's own
	// release and says nothing of the others.
	hv22 := decodeCKLB(t, "hv22-host.cklb", files["hv22-host.cklb"])
	if strings.Contains(hv22.TargetData.Comments, "WN19") || hv22.rule(t, "WN22-00-000100").Status != "open" {
		t.Errorf("hv22: comments %q, WN22-00-000100 %s", hv22.TargetData.Comments, hv22.rule(t, "WN22-00-000100").Status)
	}
	for _, r := range hv19.Stigs[0].Rules {
		if r.Status != "not_reviewed" {
			t.Errorf("hv19 %s = %s", r.RuleVersion, r.Status)
		}
	}
}

// Every checklist carries its whole benchmark: the catalog's rule count,
// DISA's identity, and a V- and SV- id on every rule.
// What the checklists cannot show is said in the run's output: the ESXi 7.0
// host given the 8.0 checklist, and the 2012 R2 Hyper-V host that gets
// none. Nothing else (KVM has no STIG at all, which is documented).
func TestChecklistNotes(t *testing.T) {
	notes, err := ChecklistNotes(cklbRun())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"Host esx02.lab of target vc01 runs release 7.0.3, for which hvaudit's STIG catalog has no benchmark: this checklist is the VMware vSphere 8.0 ESXi STIG, written for release 8.0, so its rules may not match DISA's STIG for 7.0.3.",
		"Host hv12 of target hv12 gets no checklist: its Windows build (9600) has no STIG in hvaudit's catalog, which has Microsoft Windows Server 2016 (build 14393), Microsoft Windows Server 2019 (build 17763), Microsoft Windows Server 2022 (build 20348), Microsoft Windows Server 2025 (build 26100).",
	}
	if !slices.Equal(notes, want) {
		t.Errorf("notes\n got %q\nwant %q", notes, want)
	}
}

// No two checklists of a run share a host name (case aside): STIG Manager
// files a checklist under the asset of that name, so two would merge.
// Names collide across targets (qualified by target) and within one
// (qualified by object id).
func TestCKLBHostNamesAreUnique(t *testing.T) {
	_, files := writeCKLBDir(t, cklbRun())
	seen := map[string]string{}
	for name, b := range files {
		h := strings.ToLower(decodeCKLB(t, name, b).TargetData.HostName)
		if prev, dup := seen[h]; dup {
			t.Errorf("%s and %s share host_name %q", prev, name, h)
		}
		seen[h] = name
	}
	list := []*asset{
		{target: TargetResult{Name: "vc01"}, kind: "host", id: "host-9", name: "esx01"},
		{target: TargetResult{Name: "vc02"}, kind: "host", id: "host-9", name: "ESX01"},
		{target: TargetResult{Name: "vc01"}, kind: "vm", id: "vm-1", name: "app"},
		{target: TargetResult{Name: "vc01"}, kind: "vm", id: "vm-2", name: "app"},
		{target: TargetResult{Name: "vc02"}, kind: "vm", id: "vm-1", name: "app"},
		{target: TargetResult{Name: "vc01"}, kind: "vm", id: "vm-3", name: "solo"},
	}
	got := checklistHostNames(list)
	want := []string{"esx01 (vc01)", "ESX01 (vc02)", "app (vc01/vm-1)", "app (vc01/vm-2)", "app (vc02/vm-1)", "solo"}
	if !slices.Equal(got, want) {
		t.Errorf("host names %q, want %q", got, want)
	}
}

func TestCKLBCarriesTheWholeBenchmark(t *testing.T) {
	_, files := writeCKLBDir(t, cklbRun())
	cat, err := stig.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	wantRules := map[string]int{
		"VMW_vSphere_8-0_ESXi_STIG": 76, "VMW_vSphere_8.0_Virtual_Machine_STIG": 25, "VMW_vSphere_8-0_vCenter_STIG": 67,
		"MS_Windows_Server_2022_STIG": 282, "Windows_Server_2019_STIG": 282,
	}
	ruleID := regexp.MustCompile(`^SV-([0-9]+)r[0-9]+$`)
	for name, b := range files {
		doc := decodeCKLB(t, name, b)
		s := doc.Stigs[0]
		bench := cat.Benchmark(s.StigID)
		if bench == nil {
			t.Fatalf("%s: unknown stig_id %s", name, s.StigID)
		}
		if len(s.Rules) != wantRules[s.StigID] || s.Size != len(s.Rules) || s.Version != bench.Version || s.ReleaseInfo != bench.ReleaseInfo ||
			!regexp.MustCompile(`^Release: [0-9]+ Benchmark Date: [0-9]{2} [A-Z][a-z]{2} [0-9]{4}$`).MatchString(s.ReleaseInfo) {
			t.Errorf("%s: %s %s version %s, %d rules (size %d), want %d", name, s.StigID, s.ReleaseInfo, s.Version, len(s.Rules), s.Size, wantRules[s.StigID])
		}
		for i, r := range s.Rules {
			m := ruleID.FindStringSubmatch(r.RuleID)
			if m == nil || r.GroupID != "V-"+m[1] || r.GroupIDSrc != r.GroupID || r.RuleIDSrc != r.RuleID+"_rule" ||
				r.RuleVersion != bench.Rules[i].Version || r.Severity != bench.Rules[i].Severity || len(r.CCIs) == 0 ||
				r.StigUUID != s.UUID || r.CheckText == "" {
				t.Errorf("%s rule %d: %+v", name, i, r)
			}
		}
	}
}

// A rule's status sums up the findings filed under it for the asset; rules
// without one are not reviewed, and say why.
func TestCKLBRuleStatuses(t *testing.T) {
	_, files := writeCKLBDir(t, cklbRun())
	doc := func(name string) cklbIn { return decodeCKLB(t, name, files[name]) }
	esx1, esx2, vc, db, hv22 := doc("esx01.lab.cklb"), doc("esx02.lab.cklb"), doc("vc01.cklb"), doc("db01.cklb"), doc("hv22-host.cklb")
	var web1 cklbIn
	for name := range files {
		if strings.HasPrefix(name, "web01-") {
			if d := doc(name); strings.Contains(d.TargetData.Comments, "(id vm-1)") {
				web1 = d
			}
		}
	}
	cases := []struct {
		doc                   cklbIn
		rule, status          string
		inComments, inDetails string
		notInDetails          string
	}{
		{esx1, "ESXI-80-000193", "open", "Assessed automatically by hvaudit 0.5.0 against baseline default 1.0.0 (checks T-SSH).",
			`[FAIL] T-SSH (title of T-SSH) on host esx01.lab (host-1)` + "\n" + `  observed: Host › service TSM-SSH = {"running":true} (from HostServiceSystem)`, ""},
		{esx1, "ESXI-80-000008", "not_a_finding", "(checks T-LOCK)", "[PASS] T-LOCK", ""},
		// The VM on the management network is a finding against its host.
		{esx1, "ESXI-80-000198", "open", "(checks T-MGMT)", "[FAIL] T-MGMT (title of T-MGMT) on vm web01 (vm-1)", ""},
		// The standard port group's ESXi rule lands on its host.
		{esx1, "ESXI-80-000218", "open", "(checks T-PROM)", "on network VM Network (host-1/VM Network)", "Prod DPG"},
		{esx1, "ESXI-80-000005", "not_reviewed", "Not reviewed: no hvaudit 0.5.0 check automates this rule; review it manually.", "", ""},
		{esx2, "ESXI-80-000193", "not_a_finding", "", "[PASS] T-SSH", ""},
		{esx2, "ESXI-80-000008", "not_reviewed", "Not reviewed: hvaudit 0.5.0 checks this rule (T-LOCK) but has no result for this asset in this run; review it manually.", "", ""},
		{esx2, "ESXI-80-000218", "not_reviewed", "but has no result for this asset", "", ""},
		// Distributed port groups answer the vCenter rule; the uplink's
		// not-applicable does not hide the open one.
		{vc, "VCSA-80-000270", "open", "(checks T-PROM)", "[FAIL] T-PROM (title of T-PROM) on network Prod DPG (dvportgroup-1)", "VM Network"},
		{vc, "VCSA-80-000294", "open", "(checks T-VC-KEY)", "on target vc01", ""},
		{vc, "VCSA-80-000268", "not_reviewed", "no hvaudit 0.5.0 check automates this rule", "", ""},
		// A waiver accepts the risk; the finding stays open, the waiver is said.
		{web1, "VMCH-80-000203", "open", "Waiver for T-VMOT on vm web01: until 2027-06-30T00:00:00Z, approved by ciso: legacy tier", "[WAIVED (observed fail)] T-VMOT", ""},
		{db, "VMCH-80-000203", "not_reviewed", "(checks T-VMOT)", "[ERROR] T-VMOT (title of T-VMOT) on vm db01 (vm-3): vm.migration.encryption was not collected: permission denied", ""},
		{db, "VMCH-80-000189", "not_applicable", "(checks T-VMCOPY)", "[NOT_APPLICABLE] T-VMCOPY", ""},
		{hv22, "WN22-CC-000110", "not_a_finding", "(checks T-HV-VBS)", "", ""},
		{hv22, "WN22-00-000100", "open", "(checks T-HV-SUP)", "", ""},
	}
	for _, c := range cases {
		r := c.doc.rule(t, c.rule)
		if r.Status != c.status || !strings.Contains(r.Comments, c.inComments) || !strings.Contains(r.Details, c.inDetails) ||
			(c.notInDetails != "" && strings.Contains(r.Details, c.notInDetails)) {
			t.Errorf("%s %s: status %s\ncomments %q\ndetails %q", c.doc.TargetData.HostName, c.rule, r.Status, r.Comments, r.Details)
		}
		// DISA's severity, not the check's (every fixture check is high).
		if ref, _ := mustCatalog(t).Lookup(c.rule); r.Severity != ref.Rule.Severity {
			t.Errorf("%s: severity %s, DISA says %s", c.rule, r.Severity, ref.Rule.Severity)
		}
	}
	// No finding of one asset leaks into another's checklist.
	for name, b := range files {
		if name != "esx01.lab.cklb" && bytes.Contains(b, []byte("] T-MGMT")) {
			t.Errorf("%s mentions T-MGMT, a finding of web01 filed under esx01.lab", name)
		}
	}
}

func mustCatalog(t *testing.T) *stig.Catalog {
	t.Helper()
	c, err := stig.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// One status per finding, and the roll-up over several: open beats
// not_reviewed beats not_a_finding beats not_applicable.
func TestCKLBStatusMapping(t *testing.T) {
	one := func(statuses ...findings.Status) string {
		run := cklbRun()
		run.Findings = nil
		for i, s := range statuses {
			f := findings.Finding{CheckID: "T-SSH", Title: "t", Severity: findings.SeverityHigh, Status: s, Target: "vc01",
				Object: findings.ObjectRef{Kind: "network", ID: "pg-" + strconv.Itoa(i), Name: "pg", Host: "host-1"},
				Refs:   findings.Refs{STIG: []string{"ESXI-80-000218"}}}
			if s == findings.StatusWaived {
				f.ObservedStatus = findings.StatusError
				f.Waiver = &findings.Waiver{Justification: "accepted", Expires: "2027-01-01T00:00:00Z"}
			}
			run.Findings = append(run.Findings, f)
		}
		// The host itself needs a finding to be an asset.
		run.Findings = append(run.Findings, findings.Finding{CheckID: "T-X", Status: findings.StatusPass, Target: "vc01",
			Object: findings.ObjectRef{Kind: "host", ID: "host-1", Name: "esx01.lab"}})
		_, files := writeCKLBDir(t, run)
		return decodeCKLB(t, "esx01.lab.cklb", files["esx01.lab.cklb"]).rule(t, "ESXI-80-000218").Status
	}
	for _, c := range []struct {
		in   []findings.Status
		want string
	}{
		{[]findings.Status{findings.StatusPass}, "not_a_finding"},
		{[]findings.Status{findings.StatusFail}, "open"},
		{[]findings.Status{findings.StatusNotApplicable}, "not_applicable"},
		{[]findings.Status{findings.StatusError}, "not_reviewed"},
		{[]findings.Status{findings.StatusWaived}, "open"},
		{[]findings.Status{findings.StatusPass, findings.StatusNotApplicable}, "not_a_finding"},
		{[]findings.Status{findings.StatusPass, findings.StatusError}, "not_reviewed"},
		{[]findings.Status{findings.StatusError, findings.StatusFail, findings.StatusPass}, "open"},
	} {
		if got := one(c.in...); got != c.want {
			t.Errorf("%v → %s, want %s", c.in, got, c.want)
		}
	}
}

// Every checklist validates against STIG Viewer 3's CKLB structure
// (testdata/cklb-sv3.schema.json) and has every key of the hand-checked
// sample with the same JSON type (testdata/cklb-sample.PROVENANCE.md).
func TestCKLBMatchesSTIGViewer3Structure(t *testing.T) {
	schemaFile := filepath.Join("testdata", "cklb-sv3.schema.json")
	raw, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("cklb-sv3.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("cklb-sv3.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	sampleBytes, err := os.ReadFile(filepath.Join("testdata", "cklb-sample.cklb"))
	if err != nil {
		t.Fatal(err)
	}
	var sample any
	if err := json.Unmarshal(sampleBytes, &sample); err != nil {
		t.Fatalf("sample: %v", err)
	}
	// The sample itself fits the schema, or one of them is wrong.
	if err := sch.Validate(sample); err != nil {
		t.Fatalf("the sample does not fit the schema: %v", err)
	}
	sampleRule := sample.(map[string]any)["stigs"].([]any)[0].(map[string]any)["rules"].([]any)[0]

	_, files := writeCKLBDir(t, cklbRun())
	// A run with control characters, a waiver and an unread target too.
	_, more := writeCKLBDir(t, sampleRun())
	for name, b := range more {
		files["sample/"+name] = b
	}
	if len(files) < 10 {
		t.Fatalf("only %d checklists", len(files))
	}
	for name, b := range files {
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := sch.Validate(inst); err != nil {
			t.Errorf("%s does not fit STIG Viewer 3's structure: %v", name, err)
		}
		var got any
		_ = json.Unmarshal(b, &got)
		for _, p := range sameShape("$", sample, got) {
			t.Errorf("%s: %s", name, p)
		}
		for j, r := range got.(map[string]any)["stigs"].([]any)[0].(map[string]any)["rules"].([]any) {
			for _, p := range sameShape("rules["+strconv.Itoa(j)+"]", sampleRule, r) {
				t.Errorf("%s: %s", name, p)
			}
		}
	}
	// The schema refuses what it must: a rule without its SV- id.
	var broken map[string]any
	_ = json.Unmarshal(files["esx01.lab.cklb"], &broken)
	broken["stigs"].([]any)[0].(map[string]any)["rules"].([]any)[3].(map[string]any)["rule_id_src"] = "ESXI-80-000008"
	if err := sch.Validate(broken); err == nil {
		t.Error("the schema accepts a rule_id_src that is not SV-…_rule")
	}
}

// stigManagerImport does what STIG Manager's CKLB importer
// (reviewsFromCklb) checks and derives, and returns each stig's benchmark
// id and revision ("V2R3").
func stigManagerImport(data []byte) ([]string, error) {
	var c struct {
		TargetData *struct {
			HostName string `json:"host_name"`
		} `json:"target_data"`
		Stigs []struct {
			StigID      string `json:"stig_id"`
			Version     string `json:"version"`
			ReleaseInfo string `json:"release_info"`
			Rules       []struct {
				RuleIDSrc string `json:"rule_id_src"`
				Status    string `json:"status"`
			} `json:"rules"`
		} `json:"stigs"`
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("cannot parse as JSON")
	}
	if c.TargetData == nil || c.TargetData.HostName == "" {
		return nil, fmt.Errorf("no target_data.host_name found")
	}
	if len(c.TargetData.HostName) > 255 {
		return nil, fmt.Errorf("asset hostname cannot be more than 255 characters")
	}
	var out []string
	release := regexp.MustCompile(`Release:\s*(.+?)\s`)
	for _, s := range c.Stigs {
		m := release.FindStringSubmatch(s.ReleaseInfo)
		if s.StigID == "" || m == nil || s.Version == "" {
			return nil, fmt.Errorf("stig %q: no benchmark id or revision (release_info %q, version %q)", s.StigID, s.ReleaseInfo, s.Version)
		}
		for _, r := range s.Rules {
			if _, ok := map[string]string{"not_a_finding": "pass", "open": "fail", "not_applicable": "notapplicable", "not_reviewed": "notchecked"}[r.Status]; !ok {
				return nil, fmt.Errorf("%s: status %q is not imported", r.RuleIDSrc, r.Status)
			}
			if r.RuleIDSrc == "" || len(r.RuleIDSrc) > 45 {
				return nil, fmt.Errorf("rule_id_src %q", r.RuleIDSrc)
			}
		}
		out = append(out, s.StigID+" V"+s.Version+"R"+m[1])
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("stigs array is empty")
	}
	return out, nil
}

func TestCKLBImportsIntoSTIGManager(t *testing.T) {
	_, files := writeCKLBDir(t, cklbRun())
	got := map[string]bool{}
	for name, b := range files {
		ids, err := stigManagerImport(b)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		for _, id := range ids {
			got[id] = true
		}
	}
	want := []string{"MS_Windows_Server_2022_STIG V2R8", "VMW_vSphere_8-0_ESXi_STIG V2R3", "VMW_vSphere_8-0_vCenter_STIG V2R3",
		"VMW_vSphere_8.0_Virtual_Machine_STIG V2R1", "Windows_Server_2019_STIG V3R8"}
	var ids []string
	for id := range got {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, want) {
		t.Errorf("benchmarks and revisions = %v, want %v", ids, want)
	}
	// The importer refuses what the writer must never write.
	if _, err := stigManagerImport([]byte(`{"target_data":{"host_name":""},"stigs":[]}`)); err == nil {
		t.Error("import accepted a checklist without a host name")
	}
}

// The web01 VM checklist, whole: a golden file for review.
func TestCKLBGolden(t *testing.T) {
	_, files := writeCKLBDir(t, cklbRun())
	for name, b := range files {
		if strings.HasPrefix(name, "web01-") && bytes.Contains(b, []byte("(id vm-1)")) {
			golden(t, "report.cklb.golden", b)
			return
		}
	}
	t.Fatal("no checklist for vm-1")
}

// The writer's contract, for a format that writes a directory: output does
// not depend on the order of findings and targets, the caller's run is
// untouched, a run read back from JSON gives the same files, an empty run
// writes nothing and a nil run is an error.
func TestCKLBWriterContract(t *testing.T) {
	_, want := writeCKLBDir(t, cklbRun())

	run := cklbRun()
	slices.Reverse(run.Findings)
	slices.Reverse(run.Targets)
	before, _ := json.Marshal(run)
	_, got := writeCKLBDir(t, run)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Error("output depends on the order of findings and targets")
	}
	if after, _ := json.Marshal(run); !bytes.Equal(after, before) {
		t.Error("WriteDir modified the caller's run")
	}

	read, err := ReadRun(bytes.NewReader(writeFormat(t, "json", Options{}, cklbRun())))
	if err != nil {
		t.Fatal(err)
	}
	if _, again := writeCKLBDir(t, read); fmt.Sprint(again) != fmt.Sprint(want) {
		t.Error("checklists from a run read back from JSON differ from the original's")
	}
	if _, none := writeCKLBDir(t, &Run{}); len(none) != 0 {
		t.Errorf("empty run: %d checklists", len(none))
	}
	if _, err := (cklbWriter{}).WriteDir(t.TempDir(), nil); err == nil {
		t.Error("nil run written without error")
	}
	if err := (cklbWriter{}).Write(io.Discard, nil); err == nil {
		t.Error("nil run streamed without error")
	}
}

// A stream (standard output) or a path ending in .cklb takes one checklist;
// several are refused with a message that says what to do.
func TestCKLBSingleChecklist(t *testing.T) {
	one := cklbRun()
	one.Targets = one.Targets[1:2] // hv22 only
	one.Findings = slices.DeleteFunc(one.Findings, func(f findings.Finding) bool { return f.Target != "hv22" })
	var buf bytes.Buffer
	if err := (cklbWriter{}).Write(&buf, one); err != nil {
		t.Fatal(err)
	}
	if d := decodeCKLB(t, "stdout", buf.Bytes()); d.TargetData.HostName != "hv22-host" {
		t.Errorf("host_name = %q", d.TargetData.HostName)
	}
	file := filepath.Join(t.TempDir(), "hv22.cklb")
	if paths, err := (cklbWriter{}).WriteDir(file, one); err != nil || len(paths) != 1 || paths[0] != file {
		t.Fatalf("WriteDir(%s) = %v, %v", file, paths, err)
	}
	if b, _ := os.ReadFile(file); !bytes.Equal(b, buf.Bytes()) {
		t.Error("the .cklb file differs from the stream")
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, %v", fi.Mode(), err)
	}

	err := (cklbWriter{}).Write(io.Discard, cklbRun())
	if err == nil || !strings.Contains(err.Error(), "cklb: 8 assets (hv19, hv22-host, vc01, …); STIG Viewer takes one checklist per asset: give --output a directory") {
		t.Errorf("several assets to a stream: %v", err)
	}
	if _, err := (cklbWriter{}).WriteDir(filepath.Join(t.TempDir(), "all.cklb"), cklbRun()); err == nil ||
		!strings.Contains(err.Error(), "give --output a directory") {
		t.Errorf("several assets to a .cklb file: %v", err)
	}
	kvm := cklbRun()
	kvm.Findings = slices.DeleteFunc(kvm.Findings, func(f findings.Finding) bool { return f.Target != "kvm01" })
	kvm.Targets = kvm.Targets[3:4]
	if err := (cklbWriter{}).Write(io.Discard, kvm); err == nil || !strings.Contains(err.Error(), "DISA publishes no KVM STIG") {
		t.Errorf("KVM only: %v", err)
	}
}

func TestSafeFileName(t *testing.T) {
	for in, want := range map[string]string{
		"web01":                  "web01",
		"esx01.lab":              "esx01.lab",
		"db/01 (copy)":           "db_01__copy_",
		"../../etc/passwd":       "_.._etc_passwd",
		"CON":                    "CON_",
		"nul.txt":                "nul.txt_",
		"évier\x1b[31m":          "_vier__31m",
		strings.Repeat("a", 200): strings.Repeat("a", 120),
	} {
		if got := safeFileName(in); got != want {
			t.Errorf("safeFileName(%q) = %q, want %q", in, got, want)
		}
	}
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
