package agent

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hvaudit/hvaudit/checks"
	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/collectors"
	"github.com/hvaudit/hvaudit/collectors/inventory"
	"github.com/hvaudit/hvaudit/collectors/libvirt"
)

// rpmHostInventory normalizes a local libvirt snapshot whose host root is
// one of the RPM host fixtures (a real SQLite RPM database).
func rpmHostInventory(t *testing.T, root string) *inventory.Inventory {
	t.Helper()
	d := &libvirt.Data{URI: "qemu:///system", Driver: "qemu", ConnType: "QEMU", ReadOnly: true, Local: true,
		LibVersion: 10000000, HypervisorVersion: 8002000, Hostname: "kvm-rhel9",
		CapabilitiesXML: "<capabilities><host><uuid>x</uuid></host></capabilities>",
		Host:            libvirt.ReadHostFiles(root, false)}
	raw, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := libvirt.New().Normalize(&collectors.Snapshot{Schema: collectors.SnapshotSchema, Platform: "kvm",
		CollectedAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		Target:      collectors.SnapshotTarget{Name: "kvm-rhel9", URI: d.URI}, Data: raw})
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func kvmPatch01(t *testing.T, adv *checks.Advisories, inv *inventory.Inventory) findings.Finding {
	t.Helper()
	b, err := checks.LoadBaseline("builtin:kvm")
	if err != nil {
		t.Fatal(err)
	}
	e, err := checks.NewEngine(b, adv, func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) })
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range e.Evaluate("kvm-rhel9", inv) {
		if f.CheckID == "KVM-PATCH-01" {
			return f
		}
	}
	t.Fatal("no KVM-PATCH-01 finding")
	return findings.Finding{}
}

// An RPM host: an old qemu-kvm fails KVM-PATCH-01 naming the advisory, the
// fixed one passes, compared with RPM's rules (epoch 17, release 11.el9_4
// above 10.el9). The advisory entry is test data; the shipped data has no
// coverage for RHEL yet, and there the check is an error, never a pass.
func TestKVMPatchOnRPMHost(t *testing.T) {
	dir := t.TempDir()
	err := os.WriteFile(filepath.Join(dir, "rhel.toml"), []byte(`as_of = 2026-12-01
[[product]]
name = "qemu"
complete_through = 2026-11-30
[[release_line]]
product = "qemu"
line = "rhel-9"
covered = true
[[advisory]]
id = "RHSA-TEST:0001"
product = "qemu"
release_line = "rhel-9"
fixed_build = "17:8.2.0-11.el9_4"
cves = ["CVE-2024-3446"]
severity = "high"
source = "test data"
verified = false
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	adv, err := checks.LoadAdvisories(dir)
	if err != nil {
		t.Fatal(err)
	}
	old := kvmPatch01(t, adv, rpmHostInventory(t, "../collectors/libvirt/testdata/rpm/rhel9-old"))
	if old.Status != findings.StatusFail || !strings.Contains(old.Message, `patch.missing = ["RHSA-TEST:0001"]`) {
		t.Errorf("old qemu-kvm: %s %s", old.Status, old.Message)
	}
	fixed := kvmPatch01(t, adv, rpmHostInventory(t, "../collectors/libvirt/testdata/rpm/rhel9-fixed"))
	if fixed.Status != findings.StatusPass {
		t.Errorf("fixed qemu-kvm: %s %s", fixed.Status, fixed.Message)
	}
	shipped := kvmPatch01(t, nil, rpmHostInventory(t, "../collectors/libvirt/testdata/rpm/rhel9-fixed"))
	if shipped.Status != findings.StatusError || !strings.Contains(shipped.Message, "release line rhel-9 of qemu has no advisory coverage") {
		t.Errorf("shipped data: %s %s", shipped.Status, shipped.Message)
	}
}
