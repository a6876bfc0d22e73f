package integration

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/collectors/esxi/esxisim"
	"github.com/hvaudit/hvaudit/report"
)

// Audits of the estates shaped like real ones (esxisim/real.go) through
// the binary: what issue "Real estates" says a real vCenter got wrong.

func startEstateSim(t *testing.T, e *esxisim.Estate, o esxisim.Options) *esxisim.Sim {
	t.Helper()
	sim, err := esxisim.Start(context.Background(), e, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	return sim
}

// auditSim audits one simulator with the pinned thumbprint and returns the
// exit code and the report.
func auditSim(t *testing.T, sim *esxisim.Sim, extra ...string) (int, *report.Run) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "r.json")
	args := append([]string{"audit", "--target", targetURI(sim), "--password-file", passwordFile(t, sim.Password),
		"--tailoring", untimed(t), "--format", "json", "--output", out}, extra...)
	if !strings.Contains(strings.Join(extra, " "), "--ca-file") {
		args = append(args, "--thumbprint", sim.Thumbprint)
	}
	r := runHV(t, nil, args...)
	if r.code == 2 {
		t.Fatalf("exit 2: %s", r.stderr)
	}
	return r.code, readRun(t, out)
}

func assertMessage(t *testing.T, f findings.Finding, want string) {
	t.Helper()
	if !strings.Contains(f.Message, want) {
		t.Errorf("%s on %s: message %q, want it to contain %q", f.CheckID, f.Object.Name, f.Message, want)
	}
}

// TestVMCLikeEstateStatuses: an NSX-only SDDC on vCenter 7.0.1.
func TestVMCLikeEstateStatuses(t *testing.T) {
	code, run := auditSim(t, startEstateSim(t, esxisim.VMCLike(), esxisim.Options{}))
	if code != 3 || run.Targets[0].Status != report.TargetOK {
		t.Fatalf("exit %d, target %+v; want 3 and the target read", code, run.Targets[0])
	}
	// NSX VMs share management only on vmk0's segment.
	for vm, want := range map[string]findings.Status{"vdi-001": findings.StatusPass, "vdi-002": findings.StatusPass, "app-001": findings.StatusPass, "rogue-001": findings.StatusFail} {
		assertStatus(t, run, "ESXI-NET-04", vm, want)
	}
	// Per-VM salts pass; a shared salt and the salt 0 fail.
	for vm, want := range map[string]findings.Status{"vdi-001": findings.StatusPass, "vdi-002": findings.StatusPass, "rogue-001": findings.StatusPass,
		"app-001": findings.StatusFail, "app-002": findings.StatusFail, "app-003": findings.StatusFail} {
		assertStatus(t, run, "ESXI-VM-SC-01", vm, want)
	}
	// Outbound-only rulesets open to all do not fail a host whose inbound
	// services are restricted; the open host fails on inbound ones only.
	assertStatus(t, run, "ESXI-ACC-14", "esx-01.sddc.example.net", findings.StatusPass)
	open := assertStatus(t, run, "ESXI-ACC-14", "esx-03.sddc.example.net", findings.StatusFail)
	assertMessage(t, open, "sshServer")
	if strings.Contains(open.Message, "vpxHeartbeats") {
		t.Errorf("an outbound-only ruleset counted as open: %s", open.Message)
	}
	// No slpd on these hosts: not running.
	assertStatus(t, run, "ESXI-ACC-04", "esx-02.sddc.example.net", findings.StatusPass)
	// xsd:int and xsd:long options compare alike.
	assertStatus(t, run, "ESXI-ACC-09", "esx-01.sddc.example.net", findings.StatusPass)
	assertStatus(t, run, "ESXI-ACC-09", "esx-03.sddc.example.net", findings.StatusFail)
	// Older API: named, and judged as the benchmark for that release says.
	assertMessage(t, assertStatus(t, run, "ESXI-INT-01", "esx-02.sddc.example.net", findings.StatusError),
		"HostSystem capability.uefiSecureBoot: not available before vSphere API 8.0.3 (the server is at API 7.0.1.1)")
	assertMessage(t, assertStatus(t, run, "ESXI-VM-MIG-02", "vdi-001", findings.StatusNotApplicable),
		"does not apply: VirtualMachine config.ftEncryptionMode: not available before vSphere API 7.0.2 (the server is at API 7.0.1.1)")
	// The segments are audited; NSX Manager's part is an error saying so.
	assertMessage(t, assertStatus(t, run, "ESXI-NET-06", "cgw-apps", findings.StatusError), "NSX Manager")
}

// TestLegacyEstateStatuses: vCenter 7.0.1 with a 6.7 host, a not-responding
// host, a real distributed switch and trunks.
func TestLegacyEstateStatuses(t *testing.T) {
	code, run := auditSim(t, startEstateSim(t, esxisim.Legacy(), esxisim.Options{}))
	if code != 3 || run.Targets[0].Status != report.TargetOK {
		t.Fatalf("exit %d, target %+v; want 3 and the target read", code, run.Targets[0])
	}
	// Judged by switch and VLAN: another name on the management vSwitch and
	// VLAN, guest tagging there, and a distributed trunk carrying the
	// management VLAN all fail; other VLANs pass.
	for vm, want := range map[string]findings.Status{"jump-67": findings.StatusFail, "sniffer-67": findings.StatusFail, "nested-esx-01": findings.StatusFail,
		"web-67": findings.StatusPass, "app-701": findings.StatusPass, "app-stale": findings.StatusPass} {
		assertStatus(t, run, "ESXI-NET-04", vm, want)
	}
	// The uplink port group of a VmwareDistributedVirtualSwitch is not a VM
	// port group.
	uplink := ""
	for _, f := range run.Findings {
		if f.Object.Kind == "network" && strings.Contains(f.Object.Name, "DVUplinks") {
			uplink = f.Object.Name
		}
	}
	for _, id := range []string{"ESXI-NET-05", "ESXI-NET-06", "ESXI-NET-07", "ESXI-NET-09"} {
		assertStatus(t, run, id, uplink, findings.StatusNotApplicable)
	}
	// A trunk fails NET-09 and its evidence says which VLANs it passes.
	trunk := assertStatus(t, run, "ESXI-NET-09", "dvpg-nested-trunk", findings.StatusFail)
	assertMessage(t, trunk, "passes VLANs 0-4094")
	// A not-responding host: every finding of its own is an error with the
	// reason, none passes; its VM is judged as usual.
	var staleFindings int
	for _, f := range run.Findings {
		if f.Object.Kind != "host" || f.Object.Name != "esx701-02.lab.example.net" {
			continue
		}
		staleFindings++
		if f.Status != findings.StatusError || !strings.Contains(f.Message, "the host is notResponding") {
			t.Errorf("%s on the not-responding host: %s %q", f.CheckID, f.Status, f.Message)
		}
	}
	if staleFindings == 0 {
		t.Error("no findings for the not-responding host")
	}
	assertStatus(t, run, "ESXI-VM-MIG-01", "app-stale", findings.StatusFail)
	assertStatus(t, run, "ESXI-ACC-01", "esx701-01.lab.example.net", findings.StatusPass)
	assertMessage(t, assertStatus(t, run, "ESXI-INT-01", "esx67-01.lab.example.net", findings.StatusError), "not available before vSphere API 8.0.3")
	assertMessage(t, assertStatus(t, run, "ESXI-VM-MIG-02", "jump-67", findings.StatusNotApplicable), "not available before vSphere API 7.0.2")
}

// TestNoPermissionOnOnePropertyAudit: the checks that read the denied
// property are errors naming the fault; the others are judged.
func TestNoPermissionOnOnePropertyAudit(t *testing.T) {
	deny := &esxisim.DeniedProperty{Type: "HostSystem", Path: "config.service", Privilege: "Host.Config.Settings"}
	code, run := auditSim(t, startEstateSim(t, esxisim.Legacy(), esxisim.Options{Faults: esxisim.Faults{Deny: deny}}))
	if code != 3 || run.Targets[0].Status != report.TargetOK {
		t.Fatalf("exit %d, target %+v", code, run.Targets[0])
	}
	for _, id := range []string{"ESXI-ACC-02", "ESXI-ACC-03", "ESXI-ACC-04", "ESXI-TIME-01"} {
		assertMessage(t, assertStatus(t, run, id, "esx701-01.lab.example.net", findings.StatusError), "NoPermission (the audit account lacks privilege Host.Config.Settings)")
	}
	assertStatus(t, run, "ESXI-ACC-01", "esx701-01.lab.example.net", findings.StatusPass)
	assertStatus(t, run, "ESXI-ACC-14", "esx701-01.lab.example.net", findings.StatusPass)
	assertStatus(t, run, "ESXI-NET-04", "jump-67", findings.StatusFail)
}

// TestCAFileFlag: --ca-file verifies against that CA; a CA that did not
// sign the server's certificate leaves the target unread.
func TestCAFileFlag(t *testing.T) {
	sim := startEstateSim(t, esxisim.Legacy(), esxisim.Options{Standalone: true})
	dir := t.TempDir()
	good := writeText(t, dir, "ca.pem", string(sim.PEM()), 0o600)
	code, run := auditSim(t, sim, "--ca-file", good)
	if run.Targets[0].Status != report.TargetOK {
		t.Fatalf("the server's CA: exit %d, target %+v", code, run.Targets[0])
	}
	assertStatus(t, run, "HVA-TRANSPORT-01", run.Targets[0].Name, findings.StatusPass)

	code, run = auditSim(t, sim, "--ca-file", writeText(t, dir, "other.pem", string(unrelatedCA(t)), 0o600))
	if code != 3 || run.Targets[0].Status != report.TargetError || !strings.Contains(run.Targets[0].Error, "is not trusted") || len(run.Findings) != 0 {
		t.Errorf("another CA: exit %d, target %+v, %d findings; want exit 3, the target refused, no findings", code, run.Targets[0], len(run.Findings))
	}
}

// unrelatedCA is a CA certificate that signed nothing the simulator presents.
func unrelatedCA(t *testing.T) []byte {
	t.Helper()
	ca, err := esxisim.UnrelatedCA()
	if err != nil {
		t.Fatal(err)
	}
	return ca
}
