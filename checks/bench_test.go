package checks

import (
	"fmt"
	"testing"

	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// syntheticInventory is an ESXi estate of hosts and VMs with a realistic
// mix: some values absent (with gaps), some failing, most passing.
func syntheticInventory(hosts, vms int) *inventory.Inventory {
	inv := testInventory()
	inv.Hosts, inv.VMs, inv.Networks = nil, nil, nil
	for i := 0; i < hosts; i++ {
		h := inventory.Host{
			ID: fmt.Sprintf("host-%d", i), Name: fmt.Sprintf("esx%03d", i),
			Patch:    &inventory.PatchLevel{Product: "esxi", ReleaseLine: "8.0.3", Build: []string{"24585383", "24784735", "24280767"}[i%3]},
			Services: map[string]inventory.Service{"TSM-SSH": {Key: "TSM-SSH", Running: i%7 == 0}, "ntpd": {Key: "ntpd", Running: true}},
			Options:  map[string]any{"Mem.ShareForceSalting": float64(i % 3), "UserVars.ESXiShellTimeOut": float64(900)},
		}
		if i%25 == 0 {
			h.Services = nil
		}
		inv.Hosts = append(inv.Hosts, h)
	}
	for i := 0; i < vms; i++ {
		v := inventory.VM{
			ID: fmt.Sprintf("vm-%d", i), Name: fmt.Sprintf("app%05d", i), Host: ptr(fmt.Sprintf("host-%d", i%hosts)),
			Template:           ptr(i%50 == 0),
			Migration:          &inventory.VMMigration{Encryption: ptr([]string{"opportunistic", "required", "disabled"}[i%3])},
			OldestSnapshotDays: ptr(int64(i % 60)),
			Snapshots:          []inventory.VMSnapshot{},
			NICs: []inventory.VMNIC{
				{Name: "n0", Network: "VM Network", OnManagementNetwork: ptr(false)},
				{Name: "n1", Network: "Backup", OnManagementNetwork: ptr(i%40 == 0)},
			},
			Settings: map[string]string{"isolation.tools.copy.disable": "TRUE"},
		}
		if i%100 == 0 {
			v.Migration = nil
		}
		inv.VMs = append(inv.VMs, v)
	}
	for i := 0; i < 20; i++ {
		inv.Networks = append(inv.Networks, inventory.Network{ID: fmt.Sprintf("net-%d", i), Name: fmt.Sprintf("pg%02d", i),
			Security: &inventory.SecurityPolicy{AllowPromiscuous: ptr(i == 3)}})
	}
	return inv
}

// BenchmarkEvaluate audits 100 hosts and 5,000 VMs with the test baseline
// (every scope, maps, optionals, list macros, patch assessment).
func BenchmarkEvaluate(b *testing.B) {
	e := loadTestEngine(b)
	inv := syntheticInventory(100, 5000)
	b.ReportAllocs()
	b.ResetTimer()
	var n int
	for i := 0; i < b.N; i++ {
		n = len(e.Evaluate("vc01", inv))
	}
	b.ReportMetric(float64(n), "findings/op")
}

// BenchmarkEvaluateDefault does the same with the shipped baseline, once
// it exists.
func BenchmarkEvaluateDefault(b *testing.B) {
	bl, err := LoadBaseline("builtin:default")
	if err != nil {
		b.Skipf("builtin:default: %v", err)
	}
	e, err := NewEngine(bl, mustAdvisories(b), fixedNow)
	if err != nil {
		b.Fatal(err)
	}
	inv := syntheticInventory(100, 5000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.Evaluate("vc01", inv)
	}
}
