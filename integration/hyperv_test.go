package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/checks"
	"github.com/hvaudit/hvaudit/report"
)

// auditHypervFixture audits one synthetic Hyper-V snapshot offline through
// the binary (hvaudit audit --snapshot … --format json --output F) and
// returns the report, validated against the shipped schema, and the exit
// code.
func auditHypervFixture(t *testing.T, name string) (*report.Run, int) {
	t.Helper()
	snap := filepath.Join("..", "collectors", "hyperv", "testdata", name, "snapshot.json")
	out := filepath.Join(t.TempDir(), name+".json")
	r := runHV(t, nil, "audit", "--snapshot", snap, "--format", "json", "--output", out)
	if r.code != 0 && r.code != 1 && r.code != 3 {
		t.Fatalf("audit --snapshot %s: exit %d; stderr:\n%s", name, r.code, r.stderr)
	}
	run := readRun(t, out) // fails unless report.ValidateJSON accepts it
	if len(run.Targets) != 1 || run.Targets[0].Status != report.TargetOK || run.Targets[0].Platform != "hyperv" {
		t.Fatalf("%s: target not audited as hyperv: %+v", name, run.Targets)
	}
	var hv int
	for _, f := range run.Findings {
		if !strings.HasPrefix(f.CheckID, "HV-") {
			continue
		}
		hv++
		if f.Status != checks.StatusNotApplicable && len(f.Evidence) == 0 {
			t.Errorf("%s: %s on %s (%s) carries no evidence", name, f.CheckID, f.Object.Name, f.Status)
		}
		for _, e := range f.Evidence {
			if e.Source == "" {
				t.Errorf("%s: %s on %s: evidence %s has no source", name, f.CheckID, f.Object.Name, e.Field)
			}
		}
		if f.Status == checks.StatusError && !strings.Contains(f.Message, "not collected: ") {
			t.Errorf("%s: %s on %s is error without a gap's reason: %q", name, f.CheckID, f.Object.Name, f.Message)
		}
	}
	if hv == 0 {
		t.Fatalf("%s: no Hyper-V (HV-*) findings: is hyperv.toml included in builtin:default?", name)
	}
	return run, r.code
}

// evidenceValue returns the observed value of one evidence field of a finding.
func evidenceValue(t *testing.T, f checks.Finding, field string) any {
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
	run, _ := auditHypervFixture(t, "compliant")

	f := assertStatus(t, run, "HV-PATCH-01", "HV01", checks.StatusPass)
	if got := evidenceValue(t, f, "host.patch.build"); got != "20348.5622" {
		t.Errorf("HV-PATCH-01 evidence host.patch.build = %v, want 20348.5622", got)
	}
	// The builtin Windows Server data is mostly third-party numbers: the
	// finding must say which entries were not checked against Microsoft.
	if !strings.Contains(f.Message, "not verified") || !strings.Contains(f.Message, "KB5094128") {
		t.Errorf("HV-PATCH-01 message does not flag unverified advisory data: %q", f.Message)
	}
	assertStatus(t, run, "HV-PATCH-02", "HV01", checks.StatusPass)
	assertStatus(t, run, "HV-PATCH-03", "HV01", checks.StatusPass)

	// Separation: management vNIC on its own external switch, no VM on it.
	assertStatus(t, run, "HV-NET-01", "HV01", checks.StatusPass)
	assertStatus(t, run, "HV-NET-02", "HV01", checks.StatusPass)
	for _, vm := range []string{"app01", "shielded01"} {
		assertStatus(t, run, "HV-NET-03", vm, checks.StatusPass)
		assertStatus(t, run, "HV-ENC-01", vm, checks.StatusPass)
		assertStatus(t, run, "HV-ENC-02", vm, checks.StatusPass)
		assertStatus(t, run, "HV-SB-02", vm, checks.StatusPass)
	}
	// The management switch carries no VM, so the tagging check is moot.
	assertStatus(t, run, "HV-NET-04", "External-Mgmt", checks.StatusNotApplicable)

	// Live migration: Kerberos, a dedicated network, SMB.
	assertStatus(t, run, "HV-MIG-01", "HV01", checks.StatusPass)
	assertStatus(t, run, "HV-MIG-02", "HV01", checks.StatusPass)
	assertStatus(t, run, "HV-MIG-03", "HV01", checks.StatusPass)
	// Shielding requested and in force; a VM not asking for it is not judged.
	assertStatus(t, run, "HV-ENC-04", "shielded01", checks.StatusPass)
	assertStatus(t, run, "HV-ENC-04", "app01", checks.StatusNotApplicable)
	assertStatus(t, run, "HV-INT-01", "HV01", checks.StatusPass)
	assertStatus(t, run, "HV-INT-05", "HV01", checks.StatusPass)
	// The shipped Windows Server data is complete only through June 2026
	// (configs/advisories/hyperv.toml): however well patched the host, the
	// data judging it is stale, and the finding says so.
	if f := assertStatus(t, run, "HVA-ADVISORY-01", run.Targets[0].Name, checks.StatusFail); !strings.Contains(f.Message, "advisories.stalest.product = windows-server") {
		t.Errorf("HVA-ADVISORY-01 does not name the stale product: %q", f.Message)
	}

	if a := run.Summary.ByArea["management-network"]; a.Score == nil || *a.Score != 100 {
		t.Errorf("compliant host's management-network score %v, want 100", a.Score)
	}
}

// TestHypervManagementSharedVLAN: the management vNIC shares the converged
// switch and its VLAN 10 with VMs.
func TestHypervManagementSharedVLAN(t *testing.T) {
	run, code := auditHypervFixture(t, "mgmt-shared-vlan")
	if code != 1 {
		t.Errorf("exit %d, want 1 (failing findings, nothing incomplete)", code)
	}
	assertStatus(t, run, "HV-NET-01", "HV02", checks.StatusFail)
	f := assertStatus(t, run, "HV-NET-02", "HV02", checks.StatusFail)
	if got := evidenceValue(t, f, "host.hyperv.management_os_shares_vm_vlan"); got != true {
		t.Errorf("HV-NET-02 evidence management_os_shares_vm_vlan = %v", got)
	}
	// web01 sits in VLAN 10 and router01 trunks it; db01 is in VLAN 20.
	assertStatus(t, run, "HV-NET-03", "web01", checks.StatusFail)
	assertStatus(t, run, "HV-NET-03", "router01", checks.StatusFail)
	assertStatus(t, run, "HV-NET-03", "db01", checks.StatusPass)
	assertStatus(t, run, "HV-NET-05", "router01", checks.StatusFail)
	assertStatus(t, run, "HV-NET-06", "db01", checks.StatusFail)
	assertStatus(t, run, "HV-NET-04", "ConvergedSwitch", checks.StatusPass)

	// Windows Server 2019 at 17763.6414 misses the 2026 updates.
	f = assertStatus(t, run, "HV-PATCH-01", "HV02", checks.StatusFail)
	missing, _ := json.Marshal(evidenceValue(t, f, "patch.missing"))
	if !strings.Contains(string(missing), "KB5094123") {
		t.Errorf("HV-PATCH-01 patch.missing = %s, want it to name KB5094123", missing)
	}
	assertStatus(t, run, "HV-PATCH-02", "HV02", checks.StatusPass)
}

// TestHypervWeakVMs: VMs without vTPM, Secure Boot or state encryption.
func TestHypervWeakVMs(t *testing.T) {
	run, _ := auditHypervFixture(t, "weak-vms")
	assertStatus(t, run, "HV-ENC-01", "notpm01", checks.StatusFail)
	assertStatus(t, run, "HV-ENC-01", "legacy01", checks.StatusFail)
	assertStatus(t, run, "HV-ENC-01", "nosb01", checks.StatusPass)
	assertStatus(t, run, "HV-SB-02", "nosb01", checks.StatusFail)
	assertStatus(t, run, "HV-SB-02", "legacy01", checks.StatusFail)
	assertStatus(t, run, "HV-SB-02", "notpm01", checks.StatusPass)
	assertStatus(t, run, "HV-SB-01", "legacy01", checks.StatusFail)
	assertStatus(t, run, "HV-ENC-02", "noenc01", checks.StatusFail)
	assertStatus(t, run, "HV-ENC-02", "nosb01", checks.StatusPass)
	// noenc01 is off: runtime encryption is not judged, its age in that state is.
	assertStatus(t, run, "HV-ENC-03", "noenc01", checks.StatusNotApplicable)
	assertStatus(t, run, "HV-SPR-03", "noenc01", checks.StatusFail)
	assertStatus(t, run, "HV-SC-01", "noenc01", checks.StatusFail)
	assertStatus(t, run, "HV-ISO-01", "nosb01", checks.StatusFail)
	assertStatus(t, run, "HV-ISO-02", "notpm01", checks.StatusFail)
	assertStatus(t, run, "HV-INT-01", "HV03", checks.StatusFail)
	assertStatus(t, run, "HV-CON-01", "HV03", checks.StatusFail)

	// Windows Server 2025 below January 2026's 26100.32230.
	assertStatus(t, run, "HV-PATCH-01", "HV03", checks.StatusFail)

	a := run.Summary.ByArea["vm-encryption"]
	if a.Score == nil || *a.Score >= 100 {
		t.Errorf("weak-vms vm-encryption score %v, want below 100", a.Score)
	}
}

// TestHypervCredSSPMigration: CredSSP live migration over any network, a
// stale checkpoint, and facts the host did not report (VBS status, HGS).
func TestHypervCredSSPMigration(t *testing.T) {
	run, code := auditHypervFixture(t, "credssp-migration")
	if code != 3 {
		t.Errorf("exit %d, want 3 (error findings make the audit incomplete)", code)
	}
	f := assertStatus(t, run, "HV-MIG-01", "HV04", checks.StatusFail)
	if got := evidenceValue(t, f, "host.hyperv.migration.authentication"); got != "credssp" {
		t.Errorf("HV-MIG-01 evidence authentication = %v, want credssp", got)
	}
	assertStatus(t, run, "HV-MIG-02", "HV04", checks.StatusFail)
	assertStatus(t, run, "HV-SPR-01", "stale01", checks.StatusFail)
	assertStatus(t, run, "HV-SPR-01", "fresh01", checks.StatusPass)
	assertStatus(t, run, "HV-SPR-02", "stale01", checks.StatusFail)
	assertStatus(t, run, "HV-PATCH-03", "HV04", checks.StatusFail)

	// Win32_DeviceGuard came without VirtualizationBasedSecurityStatus and
	// the HGS namespace does not exist: error, naming the gap, never pass.
	f = assertStatus(t, run, "HV-INT-01", "HV04", checks.StatusError)
	if !strings.Contains(f.Message, "host.hyperv.device_guard.vbs_running was not collected") ||
		!strings.Contains(f.Message, "Win32_DeviceGuard.VirtualizationBasedSecurityStatus") {
		t.Errorf("HV-INT-01 error does not give the gap's reason: %q", f.Message)
	}
	f = assertStatus(t, run, "HV-INT-05", "HV04", checks.StatusError)
	if !strings.Contains(f.Message, "MSFT_HgsClientConfiguration query failed: Invalid namespace") {
		t.Errorf("HV-INT-05 error does not give the gap's reason: %q", f.Message)
	}
	if run.Summary.Complete {
		t.Error("summary.complete is true despite error findings")
	}
	if run.Summary.Counts.Error < 2 {
		t.Errorf("summary counts %d errors, want at least 2", run.Summary.Counts.Error)
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
	if len(ids) < 28 {
		t.Errorf("%d Hyper-V checks listed, want at least 28: %v", len(ids), ids)
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
	for _, name := range []string{"compliant", "mgmt-shared-vlan", "weak-vms", "credssp-migration"} {
		t.Run(name, func(t *testing.T) {
			run, _ := auditHypervFixture(t, name)
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
