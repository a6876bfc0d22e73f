package checks

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/collectors/inventory"
)

var testNow = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return testNow }

func loadTestEngine(t testing.TB) *Engine {
	t.Helper()
	b, err := LoadBaseline("testdata/baseline.toml")
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
	return e
}

func ptr[T any](v T) *T { return &v }

// testInventory has one object per interesting case; names say which.
func testInventory() *inventory.Inventory {
	return &inventory.Inventory{
		Platform:    inventory.PlatformESXi,
		CollectedAt: testNow,
		Target: inventory.Target{
			Name: "vc01", Platform: inventory.PlatformESXi, Kind: ptr("vcenter"),
			Transport: &inventory.Transport{TLSVerified: true, Method: "ca"},
		},
		Hosts: []inventory.Host{
			{
				ID: "host-1", Name: "esx-ok",
				Patch:    &inventory.PatchLevel{Product: "esxi", ReleaseLine: "8.0.3", Build: "24784735"},
				Services: map[string]inventory.Service{"TSM-SSH": {Key: "TSM-SSH", Running: false}},
				Options:  map[string]any{"Mem.ShareForceSalting": float64(2)},
			},
			{
				ID: "host-2", Name: "esx-old",
				Patch:    &inventory.PatchLevel{Product: "esxi", ReleaseLine: "8.0.3", Build: "24585383"},
				Services: map[string]inventory.Service{"TSM-SSH": {Key: "TSM-SSH", Running: true}},
				Options:  map[string]any{},
			},
			{ID: "host-3", Name: "esx-unread"},
			{
				ID: "host-4", Name: "esx-67",
				Patch:    &inventory.PatchLevel{Product: "esxi", ReleaseLine: "6.7.0", Build: "17167734"},
				Services: map[string]inventory.Service{},
				Options:  map[string]any{"Mem.ShareForceSalting": 2.5},
			},
		},
		VMs: []inventory.VM{
			{ID: "vm-1", Name: "app-ok", Template: ptr(false), Migration: &inventory.VMMigration{Encryption: ptr("required")},
				OldestSnapshotDays: ptr(int64(3)), Snapshots: []inventory.VMSnapshot{{Name: "s", Created: testNow}},
				NICs: []inventory.VMNIC{{Name: "n0", Network: "VM Network", OnManagementNetwork: ptr(false)}}},
			{ID: "vm-2", Name: "app-plain", Host: ptr("host-2"), Template: ptr(false), Migration: &inventory.VMMigration{Encryption: ptr("disabled")},
				OldestSnapshotDays: ptr(int64(90)), Snapshots: []inventory.VMSnapshot{},
				NICs: []inventory.VMNIC{{Name: "n0", Network: "Management", OnManagementNetwork: ptr(true)}}},
			{ID: "vm-3", Name: "app-unread", Template: ptr(false),
				NICs: []inventory.VMNIC{{Name: "n0", Network: "x"}}},
			{ID: "vm-4", Name: "tmpl", Template: ptr(true)},
		},
		Networks: []inventory.Network{
			{ID: "net-1", Name: "VM Network", Security: &inventory.SecurityPolicy{AllowPromiscuous: ptr(false)}},
			{ID: "net-2", Name: "Sniffer", Host: ptr("host-2"), Security: &inventory.SecurityPolicy{AllowPromiscuous: ptr(true)}},
		},
		Gaps: []inventory.Gap{
			{Object: "vm:vm-3", Field: "vm.migration.encryption", Reason: "VirtualMachine config.migrateEncryption not returned by the server"},
			{Object: "vm:*", Field: "vm.nics", Reason: "network backing not readable"},
			{Object: "host:host-3", Field: "host.patch", Reason: "HostSystem config.product not returned"},
			{Object: "host:*", Field: "host.services", Reason: "service system not readable"},
		},
		Sources: map[string]string{
			"vm.migration":            "VirtualMachine config",
			"vm.migration.encryption": "VirtualMachine config.migrateEncryption",
			"host.patch":              "HostSystem config.product",
		},
	}
}

// find returns the finding of check on object name.
func find(t *testing.T, fs []findings.Finding, check, object string) findings.Finding {
	t.Helper()
	for _, f := range fs {
		if f.CheckID == check && f.Object.Name == object {
			return f
		}
	}
	t.Fatalf("no finding %s on %s", check, object)
	return findings.Finding{}
}

func TestEvaluateStatuses(t *testing.T) {
	e := loadTestEngine(t)
	fs := e.Evaluate("vc01", testInventory())
	cases := []struct {
		check, object string
		status        findings.Status
		msg           string // substring of the message
	}{
		{"T-VM-MIG-01", "app-ok", findings.StatusPass, ""},
		{"T-VM-MIG-01", "app-plain", findings.StatusFail, "observed vm.migration.encryption = disabled"},
		{"T-VM-MIG-01", "app-unread", findings.StatusError,
			"vm.migration was not collected: VirtualMachine config.migrateEncryption not returned by the server"},
		{"T-VM-MIG-01", "tmpl", findings.StatusNotApplicable, "does not apply"},
		{"T-VM-SNAP-01", "app-ok", findings.StatusPass, ""},
		{"T-VM-SNAP-01", "app-plain", findings.StatusFail, "vm.oldest_snapshot_days = 90"},
		{"T-VM-SNAP-01", "tmpl", findings.StatusError, "vm.oldest_snapshot_days was not collected: the collector recorded no reason"},
		{"T-VM-NIC-01", "app-ok", findings.StatusPass, ""},
		{"T-VM-NIC-01", "app-plain", findings.StatusFail, `["Management"]`},
		{"T-VM-NIC-01", "app-unread", findings.StatusError, "vm.nics[0].on_management_network was not collected: network backing not readable"},
		{"T-HOST-SSH-01", "esx-ok", findings.StatusPass, ""},
		{"T-HOST-SSH-01", "esx-old", findings.StatusFail, "host.services['TSM-SSH'].running = true"},
		{"T-HOST-SSH-01", "esx-unread", findings.StatusError, "host.services was not collected: service system not readable"},
		{"T-HOST-SSH-01", "esx-67", findings.StatusPass, ""},
		{"T-HOST-OPT-01", "esx-ok", findings.StatusPass, ""},
		{"T-HOST-OPT-01", "esx-old", findings.StatusFail, "host.options = {}"},
		{"T-HOST-OPT-01", "esx-67", findings.StatusFail, ""},
		{"T-HOST-PATCH-01", "esx-ok", findings.StatusPass, "(advisory data not verified against the vendor text: VMSA-2025-0013)"},
		{"T-HOST-PATCH-01", "esx-old", findings.StatusFail, `patch.missing = ["VMSA-2025-0013"]`},
		{"T-HOST-PATCH-01", "esx-unread", findings.StatusError, "host.patch was not collected: HostSystem config.product not returned"},
		{"T-HOST-PATCH-01", "esx-67", findings.StatusError, "release line 6.7.0 of esxi is not in the advisory data (as of 2026-09-15)"},
		{"T-TGT-ADV-01", "vc01", findings.StatusPass, ""},
		{"T-NET-PROM-01", "VM Network", findings.StatusPass, ""},
		{"T-NET-PROM-01", "Sniffer", findings.StatusFail, ""},
	}
	for _, c := range cases {
		f := find(t, fs, c.check, c.object)
		if f.Status != c.status {
			t.Errorf("%s on %s: status %s, want %s (message %q)", c.check, c.object, f.Status, c.status, f.Message)
			continue
		}
		if c.msg != "" && !strings.Contains(f.Message, c.msg) {
			t.Errorf("%s on %s: message %q, want it to contain %q", c.check, c.object, f.Message, c.msg)
		}
	}
	if want := 4*3 + 4*3 + 1 + 2; len(fs) != want {
		t.Errorf("%d findings, want %d", len(fs), want)
	}
}

func TestEvaluateFindingFields(t *testing.T) {
	e := loadTestEngine(t)
	fs := e.Evaluate("vc01", testInventory())
	f := find(t, fs, "T-VM-MIG-01", "app-plain")
	if f.Expected != "migrateEncryption is one of [opportunistic, required]" {
		t.Errorf("expected %q", f.Expected)
	}
	if f.Object != (findings.ObjectRef{Kind: "vm", ID: "vm-2", Name: "app-plain", Host: "host-2"}) || f.Target != "vc01" {
		t.Errorf("object %+v target %q", f.Object, f.Target)
	}
	// The host of a VM or a host-local network rides along; objects
	// without one (a network shared by hosts) have none.
	if n := find(t, fs, "T-NET-PROM-01", "Sniffer"); n.Object.Host != "host-2" {
		t.Errorf("host-local network: object %+v", n.Object)
	}
	if n := find(t, fs, "T-NET-PROM-01", "VM Network"); n.Object.Host != "" {
		t.Errorf("shared network: object %+v", n.Object)
	}
	if f.Severity != findings.SeverityHigh || f.Area != "migration-encryption" || f.Remediation == "" ||
		!reflect.DeepEqual(f.Refs.NIST80053, []string{"SC-8"}) {
		t.Errorf("metadata not carried: %+v", f)
	}
	want := []findings.Evidence{{Field: "vm.migration.encryption", Observed: "disabled", Source: "VirtualMachine config.migrateEncryption"}}
	if !reflect.DeepEqual(f.Evidence, want) {
		t.Errorf("evidence %+v, want %+v", f.Evidence, want)
	}
	u := find(t, fs, "T-VM-MIG-01", "app-unread")
	if len(u.Evidence) != 1 || u.Evidence[0].Observed != "absent (VirtualMachine config.migrateEncryption not returned by the server)" ||
		u.Evidence[0].Source != "VirtualMachine config.migrateEncryption" {
		t.Errorf("absent evidence %+v", u.Evidence)
	}
	// A check that does not apply never blames the collector for a value
	// the object has no reason to carry: the evidence says why it is absent.
	na := find(t, fs, "T-VM-MIG-01", "tmpl")
	if len(na.Evidence) != 1 || na.Evidence[0].Observed != "absent (not needed: the check does not apply to this VM)" {
		t.Errorf("not-applicable evidence %+v", na.Evidence)
	}
	tg := find(t, fs, "T-TGT-ADV-01", "vc01")
	if tg.Object != (findings.ObjectRef{Kind: "target", ID: "vc01", Name: "vc01"}) {
		t.Errorf("target object %+v", tg.Object)
	}
	// Freshness is that of the products the inventory runs (its hosts'
	// esxi, complete through 2026-10-31, not the staler vcenter data);
	// evidence keeps a time.
	if got := tg.Evidence[0].Observed; got != time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC) {
		t.Errorf("advisories.as_of evidence %v", got)
	}
	s := find(t, fs, "T-VM-SNAP-01", "app-ok")
	if got := s.Evidence[1].Observed; got != int64(1) {
		t.Errorf("snapshots.size() evidence %#v", got)
	}
}

// Platform filtering: esxi-only checks never run on a kvm inventory.
func TestEvaluatePlatform(t *testing.T) {
	e := loadTestEngine(t)
	inv := testInventory()
	inv.Platform = inventory.PlatformKVM
	fs := e.Evaluate("kvm01", inv)
	if len(fs) != 1 || fs[0].CheckID != "T-TGT-ADV-01" {
		t.Fatalf("kvm inventory ran %d findings: %+v", len(fs), fs)
	}
}

// Advisory data older than the limit fails the target check, relative to
// the injected clock.
func TestAdvisoryAge(t *testing.T) {
	b, err := LoadBaseline("testdata/baseline.toml")
	if err != nil {
		t.Fatal(err)
	}
	adv, err := LoadAdvisories("testdata/advisories")
	if err != nil {
		t.Fatal(err)
	}
	later := func() time.Time { return time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC) }
	e, err := NewEngine(b, adv, later)
	if err != nil {
		t.Fatal(err)
	}
	f := find(t, e.Evaluate("vc01", testInventory()), "T-TGT-ADV-01", "vc01")
	if f.Status != findings.StatusFail {
		t.Fatalf("status %s: %s", f.Status, f.Message)
	}
}

func TestEvaluateDeterministic(t *testing.T) {
	e := loadTestEngine(t)
	inv := testInventory()
	first := e.Evaluate("vc01", inv)
	for i := 0; i < 20; i++ {
		if got := e.Evaluate("vc01", inv); !reflect.DeepEqual(got, first) {
			t.Fatalf("run %d differs", i)
		}
	}
	for i := 1; i < len(first); i++ {
		a, b := first[i-1], first[i]
		key := func(f findings.Finding) string {
			return fmt.Sprintf("%s\x00%s\x00%s\x00%s", f.Target, f.Object.Kind, f.Object.Name, f.CheckID)
		}
		if key(a) > key(b) {
			t.Fatalf("not sorted at %d: %s > %s", i, key(a), key(b))
		}
	}
}

func TestSortFindings(t *testing.T) {
	fs := []findings.Finding{
		{Target: "b", Object: findings.ObjectRef{Kind: "vm", Name: "a"}, CheckID: "X"},
		{Target: "a", Object: findings.ObjectRef{Kind: "vm", Name: "b"}, CheckID: "B"},
		{Target: "a", Object: findings.ObjectRef{Kind: "vm", Name: "b"}, CheckID: "A"},
		{Target: "a", Object: findings.ObjectRef{Kind: "host", Name: "z"}, CheckID: "Z"},
		{Target: "a", Object: findings.ObjectRef{Kind: "vm", Name: "a", ID: "2"}, CheckID: "A"},
		{Target: "a", Object: findings.ObjectRef{Kind: "vm", Name: "a", ID: "1"}, CheckID: "A"},
	}
	SortFindings(fs)
	var got []string
	for _, f := range fs {
		got = append(got, f.Target+"/"+f.Object.Kind+"/"+f.Object.Name+"/"+f.Object.ID+"/"+f.CheckID)
	}
	want := []string{"a/host/z//Z", "a/vm/a/1/A", "a/vm/a/2/A", "a/vm/b//A", "a/vm/b//B", "b/vm/a//X"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

// has(), optional selection and the strings extension work on the model,
// and has() of a field below an absent one is an error, not false.
func TestHasAndOptional(t *testing.T) {
	content := baseHeader +
		checkTOML("H-1", "vm", `has(vm.migration)`) +
		checkTOML("H-2", "vm", `vm.?migration.?encryption.orValue("none") == "none"`) +
		checkTOML("H-3", "vm", `has(vm.migration.encryption)`) +
		checkTOML("H-4", "vm", `vm.name.upperAscii().startsWith("APP")`) +
		checkTOML("H-5", "vm", `vm.snapshots.all(s, s.created <= now)`) +
		checkTOML("H-6", "vm", `vm.oldest_snapshot_days`+" + 1 > 0")
	b, err := LoadBaseline(writeFile(t, t.TempDir(), "b.toml", content))
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(b, mustAdvisories(t), fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	fs := e.Evaluate("vc01", testInventory())
	want := map[string]map[string]findings.Status{
		"app-ok":     {"H-1": findings.StatusPass, "H-2": findings.StatusFail, "H-3": findings.StatusPass, "H-4": findings.StatusPass, "H-5": findings.StatusPass, "H-6": findings.StatusPass},
		"app-unread": {"H-1": findings.StatusFail, "H-2": findings.StatusPass, "H-3": findings.StatusError, "H-4": findings.StatusPass, "H-5": findings.StatusError, "H-6": findings.StatusError},
		"tmpl":       {"H-4": findings.StatusFail},
	}
	for obj, m := range want {
		for id, st := range m {
			if f := find(t, fs, id, obj); f.Status != st {
				t.Errorf("%s on %s: %s (%s), want %s", id, obj, f.Status, f.Message, st)
			}
		}
	}
}

func mustAdvisories(t testing.TB) *Advisories {
	t.Helper()
	adv, err := LoadAdvisories("testdata/advisories")
	if err != nil {
		t.Fatal(err)
	}
	return adv
}
