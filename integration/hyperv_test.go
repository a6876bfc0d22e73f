package integration

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/collectors"
	"github.com/hvaudit/hvaudit/collectors/hyperv"
	"github.com/hvaudit/hvaudit/collectors/hyperv/winrmtest"
	"github.com/hvaudit/hvaudit/report"
)

// hypervFixtures are the Hyper-V fixtures and the exit code each audit
// must end with: 0 nothing fails, 1 something fails, 3 something is
// unknown (DESIGN.md §5).
var hypervFixtures = []struct {
	name string
	exit int
}{
	// Every HV-* check passes or does not apply; the audit still exits 1
	// because the shipped Windows Server advisory data is stale
	// (HVA-ADVISORY-01), which TestHypervCompliantHost pins.
	{"compliant", 1},
	{"mgmt-shared-vlan", 1},
	{"weak-vms", 1},
	{"credssp-migration", 3},
	{"ws2016-de-ps51", 3},
	{"ws2025-ps7-converged", 1},
}

// auditHypervFixture audits one synthetic Hyper-V snapshot offline through
// the binary (hvaudit audit --snapshot … --format json --output F) and
// returns the report, validated against the shipped schema. The exit code
// must be the one hypervFixtures names.
func auditHypervFixture(t *testing.T, name string) *report.Run {
	t.Helper()
	snap := filepath.Join("..", "collectors", "hyperv", "testdata", name, "snapshot.json")
	out := filepath.Join(t.TempDir(), name+".json")
	r := runHV(t, nil, "audit", "--snapshot", snap, "--format", "json", "--output", out)
	want := -1
	for _, f := range hypervFixtures {
		if f.name == name {
			want = f.exit
		}
	}
	if r.code != want {
		t.Fatalf("audit --snapshot %s: exit %d, want %d; stderr:\n%s", name, r.code, want, r.stderr)
	}
	run := readRun(t, out) // fails unless report.ValidateJSON accepts it
	checkHypervRun(t, name, run)
	return run
}

// checkHypervRun holds every Hyper-V report to the same rules: one hyperv
// target audited, evidence with sources on every judged finding, and an
// error only with the gap's reason.
func checkHypervRun(t *testing.T, name string, run *report.Run) {
	t.Helper()
	if len(run.Targets) != 1 || run.Targets[0].Status != report.TargetOK || run.Targets[0].Platform != "hyperv" {
		t.Fatalf("%s: target not audited as hyperv: %+v", name, run.Targets)
	}
	var hv int
	for _, f := range run.Findings {
		if !strings.HasPrefix(f.CheckID, "HV-") {
			continue
		}
		hv++
		if f.Status != findings.StatusNotApplicable && len(f.Evidence) == 0 {
			t.Errorf("%s: %s on %s (%s) carries no evidence", name, f.CheckID, f.Object.Name, f.Status)
		}
		for _, e := range f.Evidence {
			if e.Source == "" {
				t.Errorf("%s: %s on %s: evidence %s has no source", name, f.CheckID, f.Object.Name, e.Field)
			}
		}
		// An error says why: a gap's reason, or a release line the
		// advisory data does not cover.
		if f.Status == findings.StatusError && (!strings.Contains(f.Message, "not collected: ") && !strings.Contains(f.Message, "is not in the advisory data") ||
			strings.Contains(f.Message, "recorded no reason")) {
			t.Errorf("%s: %s on %s is error without a gap's reason: %q", name, f.CheckID, f.Object.Name, f.Message)
		}
	}
	if hv == 0 {
		t.Fatalf("%s: no Hyper-V (HV-*) findings: is hyperv.toml included in builtin:default?", name)
	}
}

// evidenceValue returns the observed value of one evidence field of a finding.
func evidenceValue(t *testing.T, f findings.Finding, field string) any {
	t.Helper()
	for _, e := range f.Evidence {
		if e.Field == field {
			return e.Observed
		}
	}
	t.Fatalf("%s on %s has no evidence %s", f.CheckID, f.Object.Name, field)
	return nil
}

// TestHypervCompliantHost: the compliant host is at the latest cumulative
// update of its release line and keeps management apart from VM traffic.
func TestHypervCompliantHost(t *testing.T) {
	run := auditHypervFixture(t, "compliant")
	for _, f := range run.Findings {
		if strings.HasPrefix(f.CheckID, "HV-") && f.Status != findings.StatusPass && f.Status != findings.StatusNotApplicable {
			t.Errorf("%s on %s: %s %s", f.CheckID, f.Object.Name, f.Status, f.Message)
		}
	}

	f := assertStatus(t, run, "HV-PATCH-01", "HV01", findings.StatusPass)
	if got := evidenceValue(t, f, "host.patch.build"); got != "20348.5622" {
		t.Errorf("HV-PATCH-01 evidence host.patch.build = %v, want 20348.5622", got)
	}
	// Every builtin Windows Server number was read in Microsoft's own CVRF
	// documents and CVE records: nothing to flag as unverified.
	if strings.Contains(f.Message, "not verified") {
		t.Errorf("HV-PATCH-01 flags verified advisory data as unverified: %q", f.Message)
	}
	assertStatus(t, run, "HV-PATCH-02", "HV01", findings.StatusPass)
	assertStatus(t, run, "HV-PATCH-03", "HV01", findings.StatusPass)

	// Separation: management vNIC on its own external switch, no VM on it.
	assertStatus(t, run, "HV-NET-01", "HV01", findings.StatusPass)
	assertStatus(t, run, "HV-NET-02", "HV01", findings.StatusPass)
	for _, vm := range []string{"app01", "shielded01"} {
		assertStatus(t, run, "HV-NET-03", vm, findings.StatusPass)
		assertStatus(t, run, "HV-ENC-01", vm, findings.StatusPass)
		assertStatus(t, run, "HV-ENC-02", vm, findings.StatusPass)
		assertStatus(t, run, "HV-SB-02", vm, findings.StatusPass)
	}
	// The management switch carries no VM, so the tagging check is moot.
	assertStatus(t, run, "HV-NET-04", "External-Mgmt", findings.StatusNotApplicable)

	// Live migration: Kerberos, a dedicated network off the management
	// subnet, SMB with SMB encryption; the SMB server signs.
	assertStatus(t, run, "HV-MIG-01", "HV01", findings.StatusPass)
	assertStatus(t, run, "HV-MIG-02", "HV01", findings.StatusPass)
	f = assertStatus(t, run, "HV-MIG-03", "HV01", findings.StatusPass)
	if got := evidenceValue(t, f, "host.hyperv.migration.transport"); got != "smb" {
		t.Errorf("HV-MIG-03 transport evidence %v", got)
	}
	assertStatus(t, run, "HV-ACC-01", "HV01", findings.StatusPass)
	assertStatus(t, run, "HV-INT-04", "HV01", findings.StatusPass)
	// Shielding requested and in force; a VM not asking for it is not judged.
	assertStatus(t, run, "HV-ENC-04", "shielded01", findings.StatusPass)
	assertStatus(t, run, "HV-ENC-04", "app01", findings.StatusNotApplicable)
	assertStatus(t, run, "HV-INT-01", "HV01", findings.StatusPass)
	assertStatus(t, run, "HV-INT-05", "HV01", findings.StatusPass)
	// The shipped Windows Server data is complete only through September
	// 2026 (configs/advisories/hyperv.toml), over 60 days before the
	// audit: however well patched the host, the data judging it is stale,
	// and the finding says so.
	if f := assertStatus(t, run, "HVA-ADVISORY-01", run.Targets[0].Name, findings.StatusFail); !strings.Contains(f.Message, "advisories.stalest.product = windows-server") {
		t.Errorf("HVA-ADVISORY-01 does not name the stale product: %q", f.Message)
	}

	if a := run.Summary.ByArea["management-network"]; a.Score == nil || *a.Score != 100 {
		t.Errorf("compliant host's management-network score %v, want 100", a.Score)
	}
}

// TestHypervManagementSharedVLAN: the management vNIC shares the converged
// switch and its VLAN 10 with VMs.
func TestHypervManagementSharedVLAN(t *testing.T) {
	run := auditHypervFixture(t, "mgmt-shared-vlan")
	// The management vNIC shares the switch and VLAN 10 with web01: not the
	// converged design, whose vNICs have VLANs of their own.
	f := assertStatus(t, run, "HV-NET-01", "HV02", findings.StatusFail)
	if got := evidenceValue(t, f, "host.hyperv.management_vnics_own_vlan"); got != false {
		t.Errorf("HV-NET-01 own-VLAN evidence %v", got)
	}
	// Compression is not encryption; the SMB server does not require signing.
	assertStatus(t, run, "HV-MIG-03", "HV02", findings.StatusFail)
	assertStatus(t, run, "HV-ACC-01", "HV02", findings.StatusFail)
	f = assertStatus(t, run, "HV-NET-02", "HV02", findings.StatusFail)
	if got := evidenceValue(t, f, "host.hyperv.management_os_shares_vm_vlan"); got != true {
		t.Errorf("HV-NET-02 evidence management_os_shares_vm_vlan = %v", got)
	}
	// web01 sits in VLAN 10 and router01 trunks it; db01 is in VLAN 20.
	assertStatus(t, run, "HV-NET-03", "web01", findings.StatusFail)
	assertStatus(t, run, "HV-NET-03", "router01", findings.StatusFail)
	assertStatus(t, run, "HV-NET-03", "db01", findings.StatusPass)
	assertStatus(t, run, "HV-NET-05", "router01", findings.StatusFail)
	assertStatus(t, run, "HV-NET-06", "db01", findings.StatusFail)
	assertStatus(t, run, "HV-NET-04", "ConvergedSwitch", findings.StatusPass)

	// Windows Server 2019 at 17763.6414 misses the 2026 updates.
	f = assertStatus(t, run, "HV-PATCH-01", "HV02", findings.StatusFail)
	missing, _ := json.Marshal(evidenceValue(t, f, "patch.missing"))
	if !strings.Contains(string(missing), "KB5094123") {
		t.Errorf("HV-PATCH-01 patch.missing = %s, want it to name KB5094123", missing)
	}
	assertStatus(t, run, "HV-PATCH-02", "HV02", findings.StatusPass)
}

// TestHypervWeakVMs: VMs without vTPM, Secure Boot or state encryption.
func TestHypervWeakVMs(t *testing.T) {
	run := auditHypervFixture(t, "weak-vms")
	// The migration network is the management subnet (10.50.0.0/24).
	f := assertStatus(t, run, "HV-MIG-02", "HV03", findings.StatusFail)
	if got := evidenceValue(t, f, "host.hyperv.migration.management_overlap"); got != true {
		t.Errorf("HV-MIG-02 management overlap evidence %v", got)
	}
	assertStatus(t, run, "HV-ENC-01", "notpm01", findings.StatusFail)
	assertStatus(t, run, "HV-ENC-01", "legacy01", findings.StatusFail)
	assertStatus(t, run, "HV-ENC-01", "nosb01", findings.StatusPass)
	assertStatus(t, run, "HV-SB-02", "nosb01", findings.StatusFail)
	assertStatus(t, run, "HV-SB-02", "legacy01", findings.StatusFail)
	assertStatus(t, run, "HV-SB-02", "notpm01", findings.StatusPass)
	assertStatus(t, run, "HV-SB-01", "legacy01", findings.StatusFail)
	assertStatus(t, run, "HV-ENC-02", "noenc01", findings.StatusFail)
	assertStatus(t, run, "HV-ENC-02", "nosb01", findings.StatusPass)
	// noenc01 is off: runtime encryption is not judged, its age in that state is.
	assertStatus(t, run, "HV-ENC-03", "noenc01", findings.StatusNotApplicable)
	assertStatus(t, run, "HV-SPR-03", "noenc01", findings.StatusFail)
	assertStatus(t, run, "HV-SC-01", "noenc01", findings.StatusFail)
	assertStatus(t, run, "HV-ISO-01", "nosb01", findings.StatusFail)
	assertStatus(t, run, "HV-ISO-02", "notpm01", findings.StatusFail)
	assertStatus(t, run, "HV-INT-01", "HV03", findings.StatusFail)
	assertStatus(t, run, "HV-CON-01", "HV03", findings.StatusFail)

	// Windows Server 2025 below January 2026's 26100.32230.
	assertStatus(t, run, "HV-PATCH-01", "HV03", findings.StatusFail)

	a := run.Summary.ByArea["vm-encryption"]
	if a.Score == nil || *a.Score >= 100 {
		t.Errorf("weak-vms vm-encryption score %v, want below 100", a.Score)
	}
}

// TestHypervCredSSPMigration: CredSSP live migration over any network, a
// stale checkpoint, and facts the host did not report (VBS status, HGS).
func TestHypervCredSSPMigration(t *testing.T) {
	run := auditHypervFixture(t, "credssp-migration") // exit 3: error findings make the audit incomplete
	f := assertStatus(t, run, "HV-MIG-01", "HV04", findings.StatusFail)
	if got := evidenceValue(t, f, "host.hyperv.migration.authentication"); got != "credssp" {
		t.Errorf("HV-MIG-01 evidence authentication = %v, want credssp", got)
	}
	// "Use any network": the 0.0.0.0/0 and ::0/0 rows Set-VMHost records.
	f = assertStatus(t, run, "HV-MIG-02", "HV04", findings.StatusFail)
	if got := evidenceValue(t, f, "host.hyperv.migration.any_network"); got != true {
		t.Errorf("HV-MIG-02 any-network evidence %v", got)
	}
	assertStatus(t, run, "HV-SPR-01", "stale01", findings.StatusFail)
	assertStatus(t, run, "HV-SPR-01", "fresh01", findings.StatusPass)
	assertStatus(t, run, "HV-SPR-02", "stale01", findings.StatusFail)
	assertStatus(t, run, "HV-PATCH-03", "HV04", findings.StatusFail)

	// Win32_DeviceGuard came without VirtualizationBasedSecurityStatus and
	// the HGS namespace does not exist: error, naming the gap, never pass.
	f = assertStatus(t, run, "HV-INT-01", "HV04", findings.StatusError)
	if !strings.Contains(f.Message, "host.hyperv.device_guard.vbs_running was not collected") ||
		!strings.Contains(f.Message, "Win32_DeviceGuard.VirtualizationBasedSecurityStatus") {
		t.Errorf("HV-INT-01 error does not give the gap's reason: %q", f.Message)
	}
	f = assertStatus(t, run, "HV-INT-05", "HV04", findings.StatusError)
	if !strings.Contains(f.Message, "MSFT_HgsClientConfiguration query failed: Invalid namespace") {
		t.Errorf("HV-INT-05 error does not give the gap's reason: %q", f.Message)
	}
	if run.Summary.Complete {
		t.Error("summary.complete is true despite error findings")
	}
	if run.Summary.Counts.Error != 2 {
		t.Errorf("summary counts %d errors, want 2 (HV-INT-01, HV-INT-05)", run.Summary.Counts.Error)
	}
}

// TestHypervChecksListed: hvaudit checks list shows the Hyper-V part of the
// default baseline.
func TestHypervChecksListed(t *testing.T) {
	r := runHV(t, nil, "checks", "list", "--platform", "hyperv", "--format", "json")
	if r.code != 0 {
		t.Fatalf("checks list: exit %d: %s", r.code, r.stderr)
	}
	var list []struct {
		ID       string `json:"id"`
		Platform string `json:"platform"`
		Area     string `json:"area"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatalf("checks list output is not JSON: %v\n%s", err, r.stdout)
	}
	var ids, areas []string
	for _, c := range list {
		if c.Platform != "hyperv" {
			continue
		}
		ids = append(ids, c.ID)
		if !slices.Contains(areas, c.Area) {
			areas = append(areas, c.Area)
		}
	}
	want := hypervCheckIDs(t)
	slices.Sort(ids)
	if len(want) != 38 || !slices.Equal(ids, want) {
		t.Errorf("checks list shows %d Hyper-V checks, hyperv.toml has %d (want 38):\n got %v\nwant %v", len(ids), len(want), ids, want)
	}
	for _, want := range []string{"patch", "management-network", "vm-encryption", "migration-encryption", "isolation", "side-channel", "host-integrity", "sprawl"} {
		if !slices.Contains(areas, want) {
			t.Errorf("no Hyper-V check in area %s (areas: %v)", want, areas)
		}
	}
}

// TestHypervFindingsGolden pins every Hyper-V finding's status per fixture
// (fixture → findings), next to the fixture's golden inventory. A change in
// the mapper, a check or the advisory data that moves any status shows up
// here line by line. Regenerate with HVAUDIT_UPDATE_GOLDEN=1 and review the diff.
func TestHypervFindingsGolden(t *testing.T) {
	for _, fx := range hypervFixtures {
		name := fx.name
		t.Run(name, func(t *testing.T) {
			run := auditHypervFixture(t, name)
			var lines []string
			for _, f := range run.Findings {
				if strings.HasPrefix(f.CheckID, "HV-") {
					lines = append(lines, f.CheckID+"\t"+f.Object.Kind+":"+f.Object.Name+"\t"+string(f.Status))
				}
			}
			slices.Sort(lines)
			got := strings.Join(lines, "\n") + "\n"
			golden := filepath.Join("..", "collectors", "hyperv", "testdata", name, "findings.golden.tsv")
			if os.Getenv("HVAUDIT_UPDATE_GOLDEN") != "" {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (regenerate with HVAUDIT_UPDATE_GOLDEN=1)", err)
			}
			if got != string(want) {
				t.Errorf("findings of %s differ from %s:\n%s", name, golden, lineDiff(string(want), got))
			}
		})
	}
}

// hypervCheckIDs reads the check ids of the shipped hyperv.toml, sorted.
func hypervCheckIDs(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "configs", "baselines", "hyperv.toml"))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range regexp.MustCompile(`(?m)^id = "(HV-[A-Z]+-\d+)"$`).FindAllStringSubmatch(string(b), -1) {
		ids = append(ids, m[1])
	}
	slices.Sort(ids)
	return ids
}

// lineDiff lists the lines only in want (-) and only in got (+).
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var out []string
	for _, l := range w {
		if !slices.Contains(g, l) {
			out = append(out, "- "+l)
		}
	}
	for _, l := range g {
		if !slices.Contains(w, l) {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}

// TestHypervWindowsServer2016German: a host in the shapes a German
// Windows Server 2016 writes through Windows PowerShell 5.1, whose account
// cannot read the port allocations.
func TestHypervWindowsServer2016German(t *testing.T) {
	run := auditHypervFixture(t, "ws2016-de-ps51") // exit 3: what could not be read is unknown
	vms := []string{"app05", "new05", "tmpl05"}
	// Unreadable port allocations: every port check is error with the
	// query's (localised) reason, never pass on an empty list.
	for _, vm := range vms {
		for _, id := range []string{"HV-NET-03", "HV-NET-05", "HV-NET-06", "HV-NET-07", "HV-NET-08"} {
			f := assertStatus(t, run, id, vm, findings.StatusError)
			if !strings.Contains(f.Message, "Msvm_EthernetPortAllocationSettingData query failed: Zugriff verweigert") {
				t.Errorf("%s on %s: %q", id, vm, f.Message)
			}
		}
		// Properties Windows Server 2016 does not have: error, saying so.
		for id, prop := range map[string]string{"HV-SPR-02": "AutomaticSnapshotsEnabled", "HV-SC-02": "HwThreadsPerCore"} {
			f := assertStatus(t, run, id, vm, findings.StatusError)
			if !strings.Contains(f.Message, prop+" does not exist on Windows Server 2016") {
				t.Errorf("%s on %s: %q", id, vm, f.Message)
			}
		}
	}
	assertStatus(t, run, "HV-NET-01", "HV05", findings.StatusError)
	// Which VMs use the switch is unknown too: not "no VM, not applicable".
	assertStatus(t, run, "HV-NET-04", "vSwitch-Extern", findings.StatusError)
	// Never started (the CIM zero date): judged by its creation 200 days
	// ago; the one created 10 days ago passes; neither is an error.
	f := assertStatus(t, run, "HV-SPR-03", "tmpl05", findings.StatusFail)
	if got := evidenceValue(t, f, "vm.hyperv.never_changed_state"); got != true {
		t.Errorf("HV-SPR-03 never-changed evidence %v", got)
	}
	assertStatus(t, run, "HV-SPR-03", "new05", findings.StatusPass)
	// A 100-day-old backup recovery snapshot and a missing one are not
	// checkpoints: only the 7-day-old checkpoint counts.
	assertStatus(t, run, "HV-SPR-01", "app05", findings.StatusPass)
	// The lower-case template id is read; VBS off ({0} arrays) fails.
	assertStatus(t, run, "HV-SB-02", "app05", findings.StatusPass)
	assertStatus(t, run, "HV-INT-04", "HV05", findings.StatusFail)
	assertStatus(t, run, "HV-INT-01", "HV05", findings.StatusFail)
	// Migration is off on this standalone host.
	assertStatus(t, run, "HV-MIG-02", "HV05", findings.StatusNotApplicable)
	// 14393.8066 is below January 2026's KB5073722 (14393.8783), read in
	// Microsoft's CVRF document: the 2016 line is covered, so it fails.
	f = assertStatus(t, run, "HV-PATCH-01", "HV05", findings.StatusFail)
	if missing, _ := json.Marshal(evidenceValue(t, f, "patch.missing")); !strings.Contains(string(missing), "KB5073722") {
		t.Errorf("HV-PATCH-01 patch.missing = %s, want it to name KB5073722", missing)
	}
	if run.Summary.Counts != (findings.Counts{Pass: 36, Fail: 11, Error: 25, NotApplicable: 12}) {
		t.Errorf("counts %+v", run.Summary.Counts)
	}
}

// TestHypervConvergedWindowsServer2025: Microsoft's converged design on a
// Windows Server 2025 host captured by PowerShell 7, with "use any network"
// left on for live migration.
func TestHypervConvergedWindowsServer2025(t *testing.T) {
	run := auditHypervFixture(t, "ws2025-ps7-converged")
	// Host vNICs on the SET switch with VLANs of their own: not a finding.
	assertStatus(t, run, "HV-NET-01", "HV21", findings.StatusPass)
	assertStatus(t, run, "HV-NET-02", "HV21", findings.StatusPass)
	assertStatus(t, run, "HV-NET-04", "ConvergedSET", findings.StatusPass)
	f := assertStatus(t, run, "HV-MIG-02", "HV21", findings.StatusFail)
	if got := evidenceValue(t, f, "host.hyperv.migration.any_network"); got != true {
		t.Errorf("HV-MIG-02 any-network evidence %v", got)
	}
	assertStatus(t, run, "HV-MIG-03", "HV21", findings.StatusPass)
	assertStatus(t, run, "HV-ACC-01", "HV21", findings.StatusPass)
	// Secure Boot without DMA protection: what the STIG accepts.
	assertStatus(t, run, "HV-INT-04", "HV21", findings.StatusPass)
	// Replica recovery points are not checkpoints.
	assertStatus(t, run, "HV-SPR-01", "web21", findings.StatusPass)
	assertStatus(t, run, "HV-SPR-03", "build21", findings.StatusFail)
	if run.Summary.Counts.Error != 0 {
		t.Errorf("%d error findings on a fully readable host", run.Summary.Counts.Error)
	}
}

// winrmListener serves a fixture's recorded classes over WinRM (HTTPS,
// the WS-Management shell protocol).
func winrmListener(t *testing.T, fixture string) *winrmtest.Server {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "collectors", "hyperv", "testdata", fixture, "snapshot.json"))
	if err != nil {
		t.Fatal(err)
	}
	var snap struct{ Data hyperv.Data }
	if err := json.Unmarshal(b, &snap); err != nil {
		t.Fatal(err)
	}
	classes, methods := map[string]winrmtest.Result{}, map[string]winrmtest.Result{}
	for _, q := range snap.Data.Queries {
		j, _ := json.Marshal(q.Instances)
		classes[q.Class] = winrmtest.Result{JSON: string(j), Error: q.Error}
	}
	for _, m := range snap.Data.Methods {
		j, _ := json.Marshal(m.Result)
		methods[m.Class+"."+m.Method] = winrmtest.Result{JSON: string(j)}
	}
	s := winrmtest.New(classes, methods)
	t.Cleanup(s.Close)
	return s
}

// TestHypervOverWinRMFaults audits a WinRM listener through the binary and
// injects faults: each ends as a clear target error or as gaps, never a pass.
func TestHypervOverWinRMFaults(t *testing.T) {
	const pw = "Winrm-Test-Pa55"
	audit := func(t *testing.T, s *winrmtest.Server) (*report.Run, result) {
		t.Helper()
		_, s256 := collectors.Thumbprints(s.Certificate())
		u, _ := url.Parse(s.URL)
		out := filepath.Join(t.TempDir(), "r.json")
		r := runHV(t, []string{"HVAUDIT_PASSWORD=" + pw}, "audit", "--target", "hyperv://auditor@127.0.0.1:"+u.Port(),
			"--thumbprint", s256, "--timeout", "60s", "--format", "json", "--output", out)
		if strings.Contains(r.stdout+r.stderr, pw) {
			t.Fatal("the password was printed")
		}
		return readRun(t, out), r
	}
	t.Run("healthy", func(t *testing.T) {
		// Collected now, the compliant host's dated facts (its newest
		// hotfix, the advisory data) age: only those may fail.
		run, r := audit(t, winrmListener(t, "compliant"))
		checkHypervRun(t, "winrm", run)
		dated := map[string]bool{"HV-PATCH-01": true, "HV-PATCH-03": true, "HVA-ADVISORY-01": true}
		failed := false
		for _, f := range run.Findings {
			switch {
			case f.Status == findings.StatusFail && dated[f.CheckID]:
				failed = true
			case f.Status == findings.StatusFail, f.Status == findings.StatusError:
				t.Errorf("%s on %s: %s %s", f.CheckID, f.Object.Name, f.Status, f.Message)
			}
		}
		if want := map[bool]int{false: 0, true: 1}[failed]; r.code != want {
			t.Errorf("exit %d, want %d; stderr:\n%s", r.code, want, r.stderr)
		}
		assertStatus(t, run, "HV-NET-05", "app01", findings.StatusPass)
		assertStatus(t, run, "HV-MIG-03", "HV01", findings.StatusPass)
	})
	for name, fault := range map[string]struct {
		set  func(*winrmtest.Server)
		want string
	}{
		"401": {func(s *winrmtest.Server) { s.Status = 401 }, "refused the credentials (HTTP 401)"},
		"500": {func(s *winrmtest.Server) {
			s.Status, s.Body = 500, winrmtest.Fault("The WinRM service is shutting down.")
		}, "HTTP 500: The WinRM service is shutting down."},
		"redirect": {func(s *winrmtest.Server) { s.Redirect = "http://127.0.0.1:9/wsman" }, "does not follow redirects"},
	} {
		t.Run(name, func(t *testing.T) {
			s := winrmListener(t, "compliant")
			s.Set(fault.set)
			run, r := audit(t, s)
			if r.code != 3 {
				t.Errorf("exit %d, want 3", r.code)
			}
			if len(run.Targets) != 1 || run.Targets[0].Status != report.TargetError || !strings.Contains(run.Targets[0].Error, fault.want) {
				t.Errorf("target %+v, want an error naming %q", run.Targets, fault.want)
			}
			for _, f := range run.Findings {
				if strings.HasPrefix(f.CheckID, "HV-") {
					t.Errorf("finding %s %s on a target that could not be read", f.CheckID, f.Status)
				}
			}
		})
	}
	t.Run("truncated JSON", func(t *testing.T) {
		s := winrmListener(t, "compliant")
		s.Set(func(s *winrmtest.Server) {
			s.Rewrite = func(class, j string) string {
				if class == "Msvm_EthernetPortAllocationSettingData" {
					return j[:len(j)/3]
				}
				return j
			}
		})
		run, r := audit(t, s)
		if r.code != 3 {
			t.Errorf("exit %d, want 3", r.code)
		}
		for _, vm := range []string{"app01", "shielded01"} {
			for _, id := range []string{"HV-NET-03", "HV-NET-05", "HV-NET-06", "HV-NET-07", "HV-NET-08"} {
				f := assertStatus(t, run, id, vm, findings.StatusError)
				if !strings.Contains(f.Message, "instances are not JSON") {
					t.Errorf("%s on %s: %q", id, vm, f.Message)
				}
			}
		}
		assertStatus(t, run, "HV-NET-01", "HV01", findings.StatusError)
		assertStatus(t, run, "HV-MIG-02", "HV01", findings.StatusPass)
	})
}
