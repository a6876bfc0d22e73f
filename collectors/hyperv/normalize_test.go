package hyperv

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hvaudit/hvaudit/collectors"
	"github.com/hvaudit/hvaudit/collectors/inventory/inventorytest"
)

var update = flag.Bool("update", false, "rewrite the golden inventory files")

// TestGoldenInventories maps every fixture and compares the inventory with
// testdata/<case>/inventory.golden.json (go test -run Golden -update).
func TestGoldenInventories(t *testing.T) {
	for _, c := range fixtureCases {
		t.Run(c, func(t *testing.T) {
			inv := normalizeCase(t, c)
			got, err := json.MarshalIndent(inv, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", c, "inventory.golden.json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run Golden -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("inventory differs from %s; rerun with -update after checking the change\n%s", path, firstDiff(string(want), string(got)))
			}
		})
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			return "line " + itoa(int64(i+1)) + ":\n- " + al[i] + "\n+ " + bl[i]
		}
	}
	return "lengths differ"
}

func TestCompliantHost(t *testing.T) {
	inv := normalizeCase(t, "compliant")
	h := inv.Hosts[0]
	if h.ID != "HV01" || h.Patch == nil || h.Patch.Product != "windows-server" || h.Patch.ReleaseLine != "20348" ||
		h.Patch.Version != "10.0.20348.5622" || h.Patch.Build != "20348.5622" || h.Patch.Scheme != "upstream" {
		t.Errorf("host %s patch %+v", h.ID, h.Patch)
	}
	if inventorytest.Show(inv.Target.Version) != "10.0.20348.5622" || inventorytest.Show(inv.Target.Kind) != "hyperv" {
		t.Errorf("target %+v", inv.Target)
	}
	hv := h.HyperV
	if hv.Migration == nil || inventorytest.Show(hv.Migration.Authentication) != "kerberos" || inventorytest.Show(hv.Migration.DedicatedNetworks) != "true" ||
		strings.Join(hv.Migration.Networks, ",") != "10.20.30.0/24" || inventorytest.Show(hv.Migration.SMBTransport) != "true" {
		t.Errorf("migration %+v", hv.Migration)
	}
	if hv.DeviceGuard == nil || inventorytest.Show(hv.DeviceGuard.VBSRunning) != "true" || inventorytest.Show(hv.DeviceGuard.HVCIRunning) != "true" {
		t.Errorf("device guard %+v", hv.DeviceGuard)
	}
	if hv.HGS == nil || inventorytest.Show(hv.HGS.IsHostGuarded) != "true" || inventorytest.Show(hv.HGS.AttestationMode) != "tpm" {
		t.Errorf("hgs %+v", hv.HGS)
	}
	// KB5044281 on 4/14/2026, collected 2026-05-01: 17 days.
	if inventorytest.Show(hv.NewestHotfixDays) != "17" || hv.Hotfixes[0].ID != "KB5044281" {
		t.Errorf("hotfixes %+v newest %s", hv.Hotfixes, inventorytest.Show(hv.NewestHotfixDays))
	}
	if inventorytest.Show(hv.ManagementOSSharesVMSwitch) != "false" || inventorytest.Show(hv.ManagementOSSharesVMVLAN) != "false" {
		t.Errorf("management shares switch %s vlan %s", inventorytest.Show(hv.ManagementOSSharesVMSwitch), inventorytest.Show(hv.ManagementOSSharesVMVLAN))
	}
	if m := h.Management; m == nil || strings.Join(m.Interfaces, ",") != "Management" || strings.Join(m.Networks, ",") != "External-Mgmt" || len(m.VLANs) != 1 || m.VLANs[0] != 10 {
		t.Errorf("management %+v", h.Management)
	}
	mg := inventorytest.Network(t, inv, "External-Mgmt")
	if mg.Kind != "hyperv-switch" || mg.HyperV.Type != "external" || !mg.HyperV.ManagementOS || inventorytest.Show(mg.Management) != "true" || len(mg.VMs) != 0 {
		t.Errorf("External-Mgmt %+v %+v", mg, mg.HyperV)
	}
	app := inventorytest.VM(t, inv, "app01")
	if app.ID != "6A1F0B2C-3D4E-4F50-8A61-7B8C9D0E1F01" || inventorytest.Show(app.PowerState) != "on" || inventorytest.Show(app.Firmware) != "efi" ||
		inventorytest.Show(app.SecureBoot) != "true" || inventorytest.Show(app.VTPM) != "true" || inventorytest.Show(app.Migration.Encryption) != "required" ||
		inventorytest.Show(app.Encryption.Confidential) != "none" || inventorytest.Show(app.Template) != "false" || inventorytest.Show(app.OldestSnapshotDays) != "0" {
		t.Errorf("app01 %+v", app)
	}
	if inventorytest.Show(app.HyperV.SecureBootTemplate) != "MicrosoftWindows" || inventorytest.Show(app.HyperV.GuestServiceInterface) != "false" || inventorytest.Show(app.HyperV.Generation) != "2" {
		t.Errorf("app01 hyperv %+v", app.HyperV)
	}
	if len(app.NICs) != 1 || app.NICs[0].MAC != "00:15:5d:0a:01:01" || app.NICs[0].Network != "External-VM" || inventorytest.Show(app.NICs[0].OnManagementNetwork) != "false" {
		t.Errorf("app01 nics %+v", app.NICs)
	}
	if p := app.HyperV.Ports[0]; inventorytest.Show(p.VLANMode) != "access" || inventorytest.Show(p.AccessVLAN) != "20" || inventorytest.Show(p.MACSpoofing) != "false" || inventorytest.Show(p.DHCPGuard) != "true" {
		t.Errorf("app01 port %+v", p)
	}
	if s := inventorytest.VM(t, inv, "shielded01"); inventorytest.Show(s.Encryption.Confidential) != "shielded" || inventorytest.Show(s.HyperV.Shielded) != "true" {
		t.Errorf("shielded01 %+v", s.Encryption)
	}
	if inv.Sources["vm.vtpm"] != "Msvm_SecuritySettingData.TpmEnabled" {
		t.Errorf("sources vm.vtpm = %q", inv.Sources["vm.vtpm"])
	}
}

func TestManagementSharesVMSwitchAndVLAN(t *testing.T) {
	inv := normalizeCase(t, "mgmt-shared-vlan")
	h := inv.Hosts[0]
	if inventorytest.Show(h.HyperV.ManagementOSSharesVMSwitch) != "true" || inventorytest.Show(h.HyperV.ManagementOSSharesVMVLAN) != "true" {
		t.Errorf("shares switch %s vlan %s", inventorytest.Show(h.HyperV.ManagementOSSharesVMSwitch), inventorytest.Show(h.HyperV.ManagementOSSharesVMVLAN))
	}
	if strings.Join(h.Management.SharedServices, ",") != "vm" || len(h.VMKernelNICs) != 1 || inventorytest.Show(h.VMKernelNICs[0].VLAN) != "10" {
		t.Errorf("management %+v nics %+v", h.Management, h.VMKernelNICs)
	}
	for name, want := range map[string]string{"web01": "true", "db01": "false", "router01": "true"} {
		vm := inventorytest.VM(t, inv, name)
		if got := inventorytest.Show(vm.NICs[0].OnManagementNetwork); got != want {
			t.Errorf("%s on management network = %s, want %s", name, got, want)
		}
	}
	db := inventorytest.VM(t, inv, "db01").HyperV.Ports[0]
	if inventorytest.Show(db.MACSpoofing) != "true" || inventorytest.Show(db.MonitorMode) != "2" {
		t.Errorf("db01 port security %+v", db)
	}
	r := inventorytest.VM(t, inv, "router01").HyperV.Ports[0]
	if inventorytest.Show(r.VLANMode) != "trunk" || len(r.TrunkVLANs) != 3 {
		t.Errorf("router01 port %+v", r)
	}
	sw := inventorytest.Network(t, inv, "ConvergedSwitch")
	if len(sw.VMs) != 3 || sw.HyperV.Type != "external" || strings.Join(sw.HyperV.ManagementVNICs, ",") != "Management" {
		t.Errorf("switch %+v %+v", sw, sw.HyperV)
	}
	// PowerShell 7 ISO dates: the hotfix of 2026-03-11 is 51 days old.
	if inventorytest.Show(h.HyperV.NewestHotfixDays) != "51" || inv.Target.Settings["powershell_version"] != "7.4.6" {
		t.Errorf("newest hotfix %s settings %v", inventorytest.Show(h.HyperV.NewestHotfixDays), inv.Target.Settings)
	}
}

func TestWeakVMs(t *testing.T) {
	inv := normalizeCase(t, "weak-vms")
	type want struct{ firmware, secureBoot, vtpm, migration, power, gsi, nested, spec string }
	for name, w := range map[string]want{
		"legacy01": {"bios", "false", "false", "required", "on", "false", "false", "false"},
		"nosb01":   {"efi", "false", "true", "required", "on", "true", "false", "false"},
		"notpm01":  {"efi", "true", "false", "required", "on", "false", "true", "false"},
		"noenc01":  {"efi", "true", "true", "disabled", "off", "false", "false", "true"},
	} {
		vm := inventorytest.VM(t, inv, name)
		got := want{inventorytest.Show(vm.Firmware), inventorytest.Show(vm.SecureBoot), inventorytest.Show(vm.VTPM), inventorytest.Show(vm.Migration.Encryption), inventorytest.Show(vm.PowerState),
			inventorytest.Show(vm.HyperV.GuestServiceInterface), inventorytest.Show(vm.HyperV.NestedVirtualization), inventorytest.Show(vm.HyperV.SpeculationControlsDisabled)}
		if got != w {
			t.Errorf("%s = %+v, want %+v", name, got, w)
		}
	}
	// DMTF TimeOfLastStateChange, 200 days before collection.
	if n := inventorytest.VM(t, inv, "noenc01"); inventorytest.Show(n.HyperV.DaysInState) != "200" || n.HyperV.State != "Off" {
		t.Errorf("noenc01 state %s days %s", n.HyperV.State, inventorytest.Show(n.HyperV.DaysInState))
	}
	if n := inventorytest.VM(t, inv, "notpm01"); n.NICs[0].Network != "" || n.HyperV.Ports[0].Connected || inventorytest.Show(n.NICs[0].OnManagementNetwork) != "false" {
		t.Errorf("disconnected adapter %+v", n.NICs)
	}
	if inventorytest.Show(inventorytest.VM(t, inv, "notpm01").HyperV.ConfigurationVersion) != "9.0" {
		t.Error("configuration version")
	}
	if inventorytest.Network(t, inv, "Lab-Private").HyperV.Type != "private" {
		t.Error("private switch type")
	}
	dg := inv.Hosts[0].HyperV.DeviceGuard
	if inventorytest.Show(dg.VBSRunning) != "false" || inventorytest.Show(dg.HVCIRunning) != "false" {
		t.Errorf("device guard %+v", dg)
	}
}

func TestCredSSPAndStaleCheckpoint(t *testing.T) {
	inv := normalizeCase(t, "credssp-migration")
	h := inv.Hosts[0]
	mig := h.HyperV.Migration
	if inventorytest.Show(mig.Authentication) != "credssp" || inventorytest.Show(mig.DedicatedNetworks) != "false" || inventorytest.Show(mig.SMBTransport) != "false" || mig.Networks == nil {
		t.Errorf("migration %+v", mig)
	}
	stale := inventorytest.VM(t, inv, "stale01")
	if inventorytest.Show(stale.OldestSnapshotDays) != "120" || len(stale.Snapshots) != 2 || !strings.HasPrefix(stale.Snapshots[0].Name, "stale01 - (1/2/2026") ||
		inventorytest.Show(stale.HyperV.AutomaticCheckpoints) != "true" {
		t.Errorf("stale01 snapshots %+v oldest %s", stale.Snapshots, inventorytest.Show(stale.OldestSnapshotDays))
	}
	if f := inventorytest.VM(t, inv, "fresh01"); inventorytest.Show(f.OldestSnapshotDays) != "2" || len(f.NICs) != 0 || f.NICs == nil {
		t.Errorf("fresh01 oldest %s nics %v", inventorytest.Show(f.OldestSnapshotDays), f.NICs)
	}
	// The HGS client is not installed: unknown, with the query's error.
	if h.HyperV.HGS != nil || !strings.Contains(inventorytest.ReasonUnder(inv.Gaps, "host:HV04", "host.hyperv.hgs"), "MSFT_HgsClientConfiguration query failed: Invalid namespace") {
		t.Errorf("hgs %+v gap %q", h.HyperV.HGS, inventorytest.ReasonUnder(inv.Gaps, "host:HV04", "host.hyperv.hgs"))
	}
	// Win32_DeviceGuard lacks VirtualizationBasedSecurityStatus: nil + gap naming class and property.
	if h.HyperV.DeviceGuard.VBSRunning != nil || !strings.Contains(inventorytest.ReasonUnder(inv.Gaps, "host:HV04", "host.hyperv.device_guard.vbs_status"), "Win32_DeviceGuard.VirtualizationBasedSecurityStatus is missing") {
		t.Errorf("device guard %+v", h.HyperV.DeviceGuard)
	}
	// Null arrays are empty lists: no service runs.
	if inventorytest.Show(h.HyperV.DeviceGuard.HVCIRunning) != "false" {
		t.Errorf("hvci %s", inventorytest.Show(h.HyperV.DeviceGuard.HVCIRunning))
	}
	// A hotfix with an empty InstalledOn keeps its raw text and no date.
	for _, hf := range h.HyperV.Hotfixes {
		if hf.ID == "KB5030216" && hf.InstalledOn != nil {
			t.Errorf("empty InstalledOn read as %v", hf.InstalledOn)
		}
	}
	if inv.Target.Transport.Method != "thumbprint" {
		t.Errorf("transport %+v", inv.Target.Transport)
	}
}

// TestFailedQueriesBecomeGaps: a failed class query leaves the fields it
// feeds nil with a gap quoting the error, never false.
func TestFailedQueriesBecomeGaps(t *testing.T) {
	d := loadData(t, "compliant")
	for i := range d.Queries {
		switch d.Queries[i].Class {
		case "Msvm_SecuritySettingData", "Msvm_EthernetPortAllocationSettingData", "Win32_QuickFixEngineering":
			d.Queries[i].Instances, d.Queries[i].Error = Instances{}, "Access denied "
		}
	}
	d.Methods[0].Result = Instance{"ReturnValue": json.Number("5")}
	inv, err := normalizeData(d, collectors.SnapshotTarget{Name: "hv01"}, collectedAt(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	app := inventorytest.VM(t, inv, "app01")
	if app.VTPM != nil || app.Migration != nil || app.NICs != nil {
		t.Errorf("facts invented: vtpm %s migration %+v nics %+v", inventorytest.Show(app.VTPM), app.Migration, app.NICs)
	}
	for obj, field := range map[string]string{"vm:*": "vm.vtpm", "host:HV01": "host.management"} {
		if r := inventorytest.ReasonUnder(inv.Gaps, obj, field); !strings.Contains(r, "query failed: Access denied") {
			t.Errorf("%s %s gap %q", obj, field, r)
		}
	}
	if inventorytest.ReasonUnder(inv.Gaps, "vm:*", "vm.nics") == "" || inv.Hosts[0].HyperV.ManagementOSSharesVMSwitch != nil {
		t.Error("network facts not unknown")
	}
	if inv.Hosts[0].Patch != nil || !strings.Contains(inventorytest.ReasonUnder(inv.Gaps, "host:HV01", "host.patch"), "returned 5") {
		t.Errorf("patch %+v gap %q", inv.Hosts[0].Patch, inventorytest.ReasonUnder(inv.Gaps, "host:HV01", "host.patch"))
	}
	if inv.Hosts[0].HyperV.Hotfixes != nil {
		t.Error("hotfixes invented")
	}
}

func TestNoVirtualizationNamespaceIsAnError(t *testing.T) {
	d := loadData(t, "compliant")
	for i := range d.Queries {
		if d.Queries[i].Class == "Msvm_ComputerSystem" {
			d.Queries[i].Error = "Invalid namespace "
		}
	}
	if _, err := normalizeData(d, collectors.SnapshotTarget{}, collectedAt(t), nil); err == nil || !strings.Contains(err.Error(), "Hyper-V Administrators") {
		t.Errorf("err = %v", err)
	}
}

func TestMissingPropertyGapNamesClassAndProperty(t *testing.T) {
	d := loadData(t, "compliant")
	for i := range d.Queries {
		if d.Queries[i].Class == "Msvm_SecuritySettingData" {
			for _, in := range d.Queries[i].Instances {
				delete(in, "TpmEnabled")
			}
		}
	}
	inv, err := normalizeData(d, collectors.SnapshotTarget{}, collectedAt(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	app := inventorytest.VM(t, inv, "app01")
	if app.VTPM != nil {
		t.Fatal("vtpm invented")
	}
	if r := inventorytest.ReasonUnder(inv.Gaps, "vm:"+app.ID, "vm.vtpm"); r != "Msvm_SecuritySettingData.TpmEnabled is missing from the instance" {
		t.Errorf("gap %q", r)
	}
}

func TestNormalizeRejectsForeignSnapshots(t *testing.T) {
	c := New()
	if _, err := c.Normalize(&collectors.Snapshot{Platform: "kvm", Data: []byte(`{}`)}); err == nil {
		t.Error("kvm snapshot accepted")
	}
	if _, err := c.Normalize(&collectors.Snapshot{Platform: "hyperv", Data: []byte(`[1]`)}); err == nil || !strings.Contains(err.Error(), "not Hyper-V data") {
		t.Errorf("err = %v", err)
	}
	if _, err := c.Normalize(nil); err == nil {
		t.Error("nil snapshot accepted")
	}
}

func collectedAt(t testing.TB) time.Time {
	return loadCase(t, "compliant").CollectedAt
}
