package checks

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/collectors/inventory"
)

const unavailableBaseline = `id = "unavailable"
version = "1"
title = "when_unavailable"

[[check]]
id = "U-NA"
title = "FT logging is encrypted (not applicable before the release that has it)"
platform = "esxi"
scope = "vm"
area = "migration-encryption"
threats = ["live-migration-interception"]
severity = "medium"
expr = "vm.migration.ft_encryption == \"required\""
when_unavailable = "not_applicable"
expected = "required"
remediation = "r"
refs = { nist80053 = ["SC-8"] }

[[check]]
id = "U-ERR"
title = "FT logging is encrypted (the requirement stands on older releases)"
platform = "esxi"
scope = "vm"
area = "migration-encryption"
threats = ["live-migration-interception"]
severity = "medium"
expr = "vm.migration.ft_encryption == \"required\""
expected = "required"
remediation = "r"
refs = { nist80053 = ["SC-8"] }
`

// TestWhenUnavailable: a value absent because the object's API release
// predates it (a gap with Since) is not_applicable only for a check that
// says so, error otherwise; an ordinary gap stays error for both; nothing
// absent ever passes.
func TestWhenUnavailable(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "b.toml")
	if err := os.WriteFile(path, []byte(unavailableBaseline), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := LoadBaseline(path)
	if err != nil {
		t.Fatal(err)
	}
	adv, err := LoadAdvisories("testdata/advisories")
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(b, adv, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	inv := &inventory.Inventory{
		Platform: inventory.PlatformESXi, CollectedAt: testNow,
		Target: inventory.Target{Name: "vc", Platform: inventory.PlatformESXi},
		VMs: []inventory.VM{
			{ID: "vm-old", Name: "old", Migration: &inventory.VMMigration{}},
			{ID: "vm-unread", Name: "unread", Migration: &inventory.VMMigration{}},
			{ID: "vm-new", Name: "new", Migration: &inventory.VMMigration{FTEncryption: ptr("required")}},
		},
		Gaps: []inventory.Gap{
			{Object: "vm:vm-old", Field: "vm.migration.ft_encryption", Since: "7.0.2",
				Reason: "VirtualMachine config.ftEncryptionMode: not available before vSphere API 7.0.2 (the server is at API 7.0.1.1)"},
			{Object: "vm:vm-unread", Field: "vm.migration.ft_encryption", Reason: "VirtualMachine config.ftEncryptionMode could not be read: NoPermission"},
		},
	}
	fs := e.Evaluate("vc", inv)
	cases := []struct {
		check, vm string
		status    findings.Status
		msg       string
	}{
		{"U-NA", "old", findings.StatusNotApplicable, "does not apply: VirtualMachine config.ftEncryptionMode: not available before vSphere API 7.0.2"},
		{"U-ERR", "old", findings.StatusError, "vm.migration.ft_encryption was not collected: VirtualMachine config.ftEncryptionMode: not available before vSphere API 7.0.2"},
		{"U-NA", "unread", findings.StatusError, "could not be read: NoPermission"},
		{"U-ERR", "unread", findings.StatusError, "could not be read: NoPermission"},
		{"U-NA", "new", findings.StatusPass, ""},
		{"U-ERR", "new", findings.StatusPass, ""},
	}
	for _, c := range cases {
		f := find(t, fs, c.check, c.vm)
		if f.Status != c.status || !strings.Contains(f.Message, c.msg) {
			t.Errorf("%s on %s: %s %q, want %s containing %q", c.check, c.vm, f.Status, f.Message, c.status, c.msg)
		}
	}

	bad := strings.Replace(unavailableBaseline, `when_unavailable = "not_applicable"`, `when_unavailable = "pass"`, 1)
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadBaseline(path); err == nil || !strings.Contains(err.Error(), "b.toml:14: check U-NA: when_unavailable \"pass\" is not error or not_applicable") {
		t.Errorf("when_unavailable = pass loaded: %v", err)
	}
}
