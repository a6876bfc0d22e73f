package hyperv

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hvaudit/hvaudit/collectors"
	"github.com/hvaudit/hvaudit/collectors/inventory/inventorytest"
)

// Tests for the shapes real hosts write (issue 11) and the migration and
// network facts the baseline judges (issue 10), one per finding, against
// the fixtures built in those shapes (testdata/ws2016-de-ps51,
// testdata/ws2025-ps7-converged) and edits of the others.

// TestUnreadablePortAllocationsAreUnknown: when
// Msvm_EthernetPortAllocationSettingData fails ("Zugriff verweigert", a
// German host's Access denied) the VMs' ports and NICs are unknown (nil
// with the query's error), never [] that every "all ports" check passes.
func TestUnreadablePortAllocationsAreUnknown(t *testing.T) {
	inv := normalizeCase(t, "ws2016-de-ps51")
	for _, vm := range inv.VMs {
		if vm.HyperV.Ports != nil || vm.NICs != nil {
			t.Errorf("%s: ports %v nics %v, want unknown (nil)", vm.Name, vm.HyperV.Ports, vm.NICs)
		}
	}
	if r := inventorytest.ReasonUnder(inv.Gaps, "vm:*", "vm.hyperv.ports"); r != "Msvm_EthernetPortAllocationSettingData query failed: Zugriff verweigert " {
		t.Errorf("ports gap %q", r)
	}
	hv := inv.Hosts[0].HyperV
	if hv.ManagementOSSharesVMSwitch != nil || hv.ManagementOSSharesVMVLAN != nil || hv.ManagementVNICsOwnVLAN != nil || inv.Hosts[0].Management != nil {
		t.Errorf("management facts invented: %+v", hv)
	}
}

// TestEmptyPortAllocationsWithAdaptersAreUnknown: an answer with no port
// allocation while VMs have adapters is filtered, not "all unplugged".
func TestEmptyPortAllocationsWithAdaptersAreUnknown(t *testing.T) {
	d := loadData(t, "compliant")
	d.query("Msvm_EthernetPortAllocationSettingData").Instances = Instances{}
	inv, err := normalizeData(d, collectors.SnapshotTarget{}, collectedAt(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	app := inventorytest.VM(t, inv, "app01")
	if app.HyperV.Ports != nil || app.NICs != nil || !strings.Contains(inventorytest.ReasonUnder(inv.Gaps, "vm:*", "vm.hyperv.ports"), "returned no instance although VMs have network adapters") {
		t.Errorf("ports %v nics %v gap %q", app.HyperV.Ports, app.NICs, inventorytest.ReasonUnder(inv.Gaps, "vm:*", "vm.hyperv.ports"))
	}
}

// TestUnreadableVLANAndSecurityClassesLeavePortsUnknown: each port
// feature class that fails leaves its facts nil; the VLAN mode is not
// "unknown" text that a != 'trunk' test would pass.
func TestUnreadableVLANAndSecurityClassesLeavePortsUnknown(t *testing.T) {
	d := loadData(t, "mgmt-shared-vlan")
	d.query("Msvm_EthernetSwitchPortVlanSettingData").Error = "Access denied "
	d.query("Msvm_EthernetSwitchPortSecuritySettingData").Error = "Access denied "
	inv, err := normalizeData(d, collectors.SnapshotTarget{}, collectedAt(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	p := inventorytest.VM(t, inv, "router01").HyperV.Ports[0]
	if p.VLANMode != nil || p.VLANs != nil || p.MACSpoofing != nil || p.DHCPGuard != nil || p.RouterGuard != nil || p.MonitorMode != nil {
		t.Errorf("port facts invented: %+v", p)
	}
	for _, f := range []string{"vm.hyperv.ports.vlan_mode", "vm.hyperv.ports.mac_spoofing", "vm.hyperv.ports.dhcp_guard"} {
		if !strings.Contains(inventorytest.ReasonUnder(inv.Gaps, "vm:*", f), "query failed: Access denied") {
			t.Errorf("%s gap %q", f, inventorytest.ReasonUnder(inv.Gaps, "vm:*", f))
		}
	}
	hv := inv.Hosts[0].HyperV
	if hv.ManagementOSSharesVMVLAN != nil || hv.ManagementVNICsOwnVLAN != nil {
		t.Errorf("VLAN-derived host facts invented: shares %s own %s", inventorytest.Show(hv.ManagementOSSharesVMVLAN), inventorytest.Show(hv.ManagementVNICsOwnVLAN))
	}
}

// TestUnresolvableHostPortSwitchIsUnknown: without Msvm_EthernetSwitchPort
// a host port whose InstanceID does not name its switch leaves which
// switch the management OS shares unknown, never "none".
func TestUnresolvableHostPortSwitchIsUnknown(t *testing.T) {
	d := loadData(t, "mgmt-shared-vlan")
	d.query("Msvm_EthernetSwitchPort").Error = "Access denied "
	for _, in := range d.query("Msvm_EthernetPortAllocationSettingData").Instances {
		if id, _ := asString(in["InstanceID"]); strings.HasPrefix(id, "Microsoft:0B4A2D5E") {
			in["InstanceID"] = strings.Replace(id, "0B4A2D5E-8C1F-4E7A-9B3D-2F6A1C8E4D01", "ABCDEF00-0000-4000-8000-000000000000", 1)
		}
	}
	inv, err := normalizeData(d, collectors.SnapshotTarget{}, collectedAt(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	hv := inv.Hosts[0].HyperV
	if hv.ManagementOSSharesVMSwitch != nil || !strings.Contains(inventorytest.ReasonUnder(inv.Gaps, "host:HV02", "host.hyperv.management_os_shares_vm_switch"), "Msvm_EthernetSwitchPort query failed") {
		t.Errorf("shares switch %s gap %q", inventorytest.Show(hv.ManagementOSSharesVMSwitch), inventorytest.ReasonUnder(inv.Gaps, "host:HV02", "host.hyperv.management_os_shares_vm_switch"))
	}
	if web := inventorytest.VM(t, inv, "web01"); web.NICs[0].OnManagementNetwork != nil {
		t.Errorf("web01 on management network invented: %s", inventorytest.Show(web.NICs[0].OnManagementNetwork))
	}
}

// TestNoHostRowIsAnError: Msvm_ComputerSystem without the host's own row
// is a filtered answer; the VM list is unknown.
func TestNoHostRowIsAnError(t *testing.T) {
	for name, rows := range map[string]Instances{
		"empty":    {},
		"VMs only": {{"Name": "6A1F0B2C-3D4E-4F50-8A61-7B8C9D0E1F01", "ElementName": "app01"}},
	} {
		d := loadData(t, "compliant")
		d.query("Msvm_ComputerSystem").Instances = rows
		if _, err := normalizeData(d, collectors.SnapshotTarget{}, collectedAt(t), nil); err == nil || !strings.Contains(err.Error(), "Hyper-V Administrators") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

// TestCIMZeroDateIsNever: 1601-01-01 in every form captures write it is
// "never", not an unreadable value; other dates before 1602 are unreadable.
func TestCIMZeroDateIsNever(t *testing.T) {
	for _, v := range []any{`/Date(-11644473600000)/`, `\/Date(-11644473600000)\/`, "1601-01-01T00:00:00Z",
		"1601-01-01T01:00:00+01:00", "1600-12-31T16:00:00-08:00", "16010101000000.000000+000",
		map[string]any{"value": "/Date(-11644473600000)/", "DateTime": "Montag, 1. Januar 1601 01:00:00"}} {
		if !isCIMZeroDate(v) {
			t.Errorf("%v is not read as the zero date", v)
		}
		if _, ok := asTime(v); ok {
			t.Errorf("%v read as a real date", v)
		}
	}
	for _, v := range []any{"/Date(1775908800000)/", "2026-04-11T14:00:00+02:00", "0001-01-01T00:00:00", "1601-01-02T00:00:00Z", "garbage"} {
		if isCIMZeroDate(v) {
			t.Errorf("%v read as the zero date", v)
		}
	}
}

// TestNeverStartedVMsAgeFromInstallDate: a VM created and never started
// (zero date as PowerShell 5.1 and 7 write it) is dated by InstallDate.
func TestNeverStartedVMsAgeFromInstallDate(t *testing.T) {
	for _, c := range []struct{ fixture, vm, days, created string }{
		{"ws2016-de-ps51", "tmpl05", "200", "2025-10-13T12:00:00Z"},
		{"ws2016-de-ps51", "new05", "10", "2026-04-21T12:00:00Z"},
		{"ws2025-ps7-converged", "build21", "120", "2026-01-01T12:00:00Z"},
	} {
		vm := inventorytest.VM(t, normalizeCase(t, c.fixture), c.vm)
		hv := vm.HyperV
		if !hv.NeverChangedState || hv.LastStateChange != nil || inventorytest.Show(hv.DaysInState) != c.days || hv.Created == nil || hv.Created.Format(time.RFC3339) != c.created || inventorytest.Show(vm.PowerState) != "off" {
			t.Errorf("%s/%s: never %v last %v days %s created %v power %s", c.fixture, c.vm, hv.NeverChangedState, hv.LastStateChange, inventorytest.Show(hv.DaysInState), hv.Created, inventorytest.Show(vm.PowerState))
		}
	}
	// Without InstallDate the age is unknown, with the reason.
	d := loadData(t, "ws2016-de-ps51")
	for _, in := range d.query("Msvm_ComputerSystem").Instances {
		delete(in, "InstallDate")
	}
	inv, err := normalizeData(d, collectors.SnapshotTarget{}, collectedAt(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	tm := inventorytest.VM(t, inv, "tmpl05")
	if tm.HyperV.DaysInState != nil || !strings.Contains(inventorytest.ReasonUnder(inv.Gaps, "vm:"+tm.ID, "vm.hyperv.days_in_state"), "never changed state") {
		t.Errorf("days %s gap %q", inventorytest.Show(tm.HyperV.DaysInState), inventorytest.ReasonUnder(inv.Gaps, "vm:"+tm.ID, "vm.hyperv.days_in_state"))
	}
}

// TestOnlyDocumentedCheckpointsCount: Snapshot:Recovery, :Missing,
// :Planned and :Replica:* rows are kept as other snapshots and do not age
// the VM's checkpoints; Snapshot:Realized rows do.
func TestOnlyDocumentedCheckpointsCount(t *testing.T) {
	app := inventorytest.VM(t, normalizeCase(t, "ws2016-de-ps51"), "app05")
	if len(app.Snapshots) != 1 || inventorytest.Show(app.OldestSnapshotDays) != "7" || len(app.HyperV.OtherSnapshots) != 2 ||
		app.HyperV.OtherSnapshots[0].Type != "Microsoft:Hyper-V:Snapshot:Missing" || app.HyperV.OtherSnapshots[1].Type != "Microsoft:Hyper-V:Snapshot:Recovery" {
		t.Errorf("app05 snapshots %+v oldest %s other %+v", app.Snapshots, inventorytest.Show(app.OldestSnapshotDays), app.HyperV.OtherSnapshots)
	}
	web := inventorytest.VM(t, normalizeCase(t, "ws2025-ps7-converged"), "web21")
	if len(web.Snapshots) != 0 || web.Snapshots == nil || inventorytest.Show(web.OldestSnapshotDays) != "0" || len(web.HyperV.OtherSnapshots) != 2 {
		t.Errorf("web21 snapshots %+v oldest %s other %+v", web.Snapshots, inventorytest.Show(web.OldestSnapshotDays), web.HyperV.OtherSnapshots)
	}
	for typ, want := range map[string]string{
		"Microsoft:Hyper-V:System:Realized": "realized", "microsoft:hyper-v:snapshot:realized": "checkpoint",
		"Microsoft:Hyper-V:Snapshot:Recovery": "other-snapshot", "Microsoft:Hyper-V:Snapshot:Replica:PlannedFailover": "other-snapshot",
		"Microsoft:Hyper-V:System:Planned": "other", "": "realized",
	} {
		if got := settingsKind(typ); got != want {
			t.Errorf("settingsKind(%q) = %s, want %s", typ, got, want)
		}
	}
}

// TestSecureBootTemplateIdAnyCase: hosts write the template GUID in either
// case, with or without braces.
func TestSecureBootTemplateIdAnyCase(t *testing.T) {
	for fixture, want := range map[string]map[string]string{
		"ws2016-de-ps51":       {"app05": "MicrosoftWindows"},
		"ws2025-ps7-converged": {"web21": "MicrosoftUEFICertificateAuthority", "build21": "MicrosoftUEFICertificateAuthority"},
	} {
		inv := normalizeCase(t, fixture)
		for vm, tmpl := range want {
			hv := inventorytest.VM(t, inv, vm).HyperV
			if inventorytest.Show(hv.SecureBootTemplate) != tmpl || strings.ToUpper(inventorytest.Show(hv.SecureBootTemplateID)) != inventorytest.Show(hv.SecureBootTemplateID) {
				t.Errorf("%s/%s: template %s id %s", fixture, vm, inventorytest.Show(hv.SecureBootTemplate), inventorytest.Show(hv.SecureBootTemplateID))
			}
		}
	}
}

// TestLocalisedCapturesAndTheHostRow: a German host (localised captions,
// descriptions, "dd.mm.yyyy" hotfix dates) maps like any other; the host's
// own Msvm_ComputerSystem row is the host, not a VM.
func TestLocalisedCapturesAndTheHostRow(t *testing.T) {
	inv := normalizeCase(t, "ws2016-de-ps51")
	if len(inv.VMs) != 3 || inv.Hosts[0].ID != "HV05" {
		t.Fatalf("VMs %d host %s", len(inv.VMs), inv.Hosts[0].ID)
	}
	for _, vm := range inv.VMs {
		if vm.Name == "HV05" {
			t.Error("the host's own row mapped as a VM")
		}
	}
	hv := inv.Hosts[0].HyperV
	if inventorytest.Show(hv.NewestHotfixDays) != "17" || hv.Hotfixes[0].InstalledOnRaw != "14.04.2026" || hv.Hotfixes[0].Description != "Sicherheitsupdate" {
		t.Errorf("hotfixes %+v newest %s", hv.Hotfixes, inventorytest.Show(hv.NewestHotfixDays))
	}
	// Dates as each PowerShell writes them: 5.1 "\/Date(ms)\/", 7 ISO in the host's zone.
	if hv.LastBoot == nil || hv.LastBoot.Format(time.RFC3339) != "2026-04-11T12:00:00Z" {
		t.Errorf("2016 last boot %v", hv.LastBoot)
	}
	if lb := normalizeCase(t, "ws2025-ps7-converged").Hosts[0].HyperV.LastBoot; lb == nil || lb.Format(time.RFC3339) != "2026-04-15T12:00:00Z" {
		t.Errorf("2025 last boot %v", lb)
	}
}

// TestOlderReleaseNamesTheMissingProperty: on Windows Server 2016 the
// properties Hyper-V added later are unknown with that reason.
func TestOlderReleaseNamesTheMissingProperty(t *testing.T) {
	inv := normalizeCase(t, "ws2016-de-ps51")
	app := inventorytest.VM(t, inv, "app05")
	if app.HyperV.AutomaticCheckpoints != nil || app.HyperV.HwThreadsPerCore != nil {
		t.Fatalf("facts invented: automatic %s hw %s", inventorytest.Show(app.HyperV.AutomaticCheckpoints), inventorytest.Show(app.HyperV.HwThreadsPerCore))
	}
	for field, want := range map[string]string{
		"vm.hyperv.automatic_checkpoints": "Msvm_VirtualSystemSettingData.AutomaticSnapshotsEnabled does not exist on Windows Server 2016: it was added in Windows 10 version 1709 (first in Windows Server 2019)",
		"vm.hyperv.hw_threads_per_core":   "Msvm_ProcessorSettingData.HwThreadsPerCore does not exist on Windows Server 2016: it was added in Windows 10 version 1703 (first in Windows Server 2019)",
	} {
		if got := inventorytest.ReasonUnder(inv.Gaps, "vm:"+app.ID, field); got != want {
			t.Errorf("%s gap %q, want %q", field, got, want)
		}
	}
	// On a release that has them, a missing property is simply missing.
	d := loadData(t, "compliant")
	for _, in := range d.query("Msvm_VirtualSystemSettingData").Instances {
		in["AutomaticSnapshotsEnabled"] = nil
	}
	inv, err := normalizeData(d, collectors.SnapshotTarget{}, collectedAt(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := inventorytest.ReasonUnder(inv.Gaps, "vm:"+inventorytest.VM(t, inv, "app01").ID, "vm.hyperv.automatic_checkpoints"); got != "Msvm_VirtualSystemSettingData.AutomaticSnapshotsEnabled is null" {
		t.Errorf("2022 gap %q", got)
	}
}

// TestUseAnyNetworkForMigration: the /0 rows Set-VMHost
// -UseAnyNetworkForMigration records make "any network", next to a
// dedicated network or alone; a migration network on the management
// subnet overlaps it.
func TestUseAnyNetworkForMigration(t *testing.T) {
	type want struct{ anyNet, dedicated, overlap, nets string }
	for fixture, w := range map[string]want{
		"ws2025-ps7-converged": {"true", "true", "false", "0.0.0.0/0,192.168.40.0/24,::/0"},
		"credssp-migration":    {"true", "false", "false", "0.0.0.0/0,::0/0"},
		"weak-vms":             {"false", "true", "true", "10.50.0.0/24"},
		"compliant":            {"false", "true", "false", "10.20.30.0/24"},
	} {
		m := normalizeCase(t, fixture).Hosts[0].HyperV.Migration
		got := want{inventorytest.Show(m.AnyNetwork), inventorytest.Show(m.DedicatedNetworks), inventorytest.Show(m.ManagementOverlap), strings.Join(m.Networks, ",")}
		if got != w {
			t.Errorf("%s: %+v, want %+v", fixture, got, w)
		}
	}
	// The tag alone, or a /0 without the tag, is "any network" too.
	for name, row := range map[string]Instance{
		"tag only": {"SubnetNumber": "10.0.0.0", "PrefixLength": json.Number("8"), "Tags": []any{"Microsoft:UserManagedAllNetworks"}},
		"/0 only":  {"SubnetNumber": "0.0.0.0", "PrefixLength": json.Number("0"), "Tags": nil},
	} {
		d := loadData(t, "compliant")
		q := d.query("Msvm_VirtualSystemMigrationNetworkSettingData")
		q.Instances = append(q.Instances, row)
		inv, err := normalizeData(d, collectors.SnapshotTarget{}, collectedAt(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		if m := inv.Hosts[0].HyperV.Migration; inventorytest.Show(m.AnyNetwork) != "true" {
			t.Errorf("%s: any network %s", name, inventorytest.Show(m.AnyNetwork))
		}
	}
	// Unknown management subnets leave the overlap unknown.
	d := loadData(t, "compliant")
	d.query("Win32_NetworkAdapterConfiguration").Error = "Access denied "
	inv, err := normalizeData(d, collectors.SnapshotTarget{}, collectedAt(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if m := inv.Hosts[0].HyperV.Migration; m.ManagementOverlap != nil || inv.Hosts[0].HyperV.ManagementSubnets != nil {
		t.Errorf("overlap %s subnets %v", inventorytest.Show(m.ManagementOverlap), inv.Hosts[0].HyperV.ManagementSubnets)
	}
}

// TestManagementSubnets: only IP-enabled interfaces with a gateway count;
// IPv4 masks and IPv6 prefix lengths are read; link-local is left out.
func TestManagementSubnets(t *testing.T) {
	if s := normalizeCase(t, "ws2025-ps7-converged").Hosts[0].HyperV.ManagementSubnets; strings.Join(s, ",") != "192.168.10.0/24" {
		t.Errorf("subnets %v", s)
	}
	for _, c := range []struct{ addr, mask, want string }{
		{"10.1.2.3", "255.255.254.0", "10.1.2.0/23"}, {"2001:db8::15", "64", "2001:db8::/64"}, {"10.1.2.3", "255.0.255.0", ""}, {"x", "24", ""},
	} {
		p, ok := subnetOf(c.addr, c.mask)
		if got := p.String(); ok != (c.want != "") || ok && got != c.want {
			t.Errorf("subnetOf(%s, %s) = %s %v, want %q", c.addr, c.mask, got, ok, c.want)
		}
	}
}

// TestSMBTransportAndEncryption: the transport is read as Get-VMHost reads
// it (compression wins over SMB), and SMB encryption is its own fact.
func TestSMBTransportAndEncryption(t *testing.T) {
	for fixture, want := range map[string][2]string{
		"compliant":            {"smb", "true"},
		"ws2025-ps7-converged": {"smb", "true"},
		"mgmt-shared-vlan":     {"compression", "false"},
	} {
		hv := normalizeCase(t, fixture).Hosts[0].HyperV
		if got := [2]string{inventorytest.Show(hv.Migration.Transport), inventorytest.Show(hv.SMB.EncryptData)}; got != want {
			t.Errorf("%s: transport/encrypt %v, want %v", fixture, got, want)
		}
	}
	d := loadData(t, "compliant")
	d.query("MSFT_SmbServerConfiguration").Error = "Invalid namespace "
	inv, err := normalizeData(d, collectors.SnapshotTarget{}, collectedAt(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if inv.Hosts[0].HyperV.SMB != nil || !strings.Contains(inventorytest.ReasonUnder(inv.Gaps, "host:HV01", "host.hyperv.smb"), "Invalid namespace") {
		t.Error("SMB facts invented")
	}
}

// TestConvergedDesignOwnVLAN: host vNICs on a SET switch shared with VMs,
// each on a VLAN no VM reaches, is the converged design; a vNIC on a VM
// VLAN is not.
func TestConvergedDesignOwnVLAN(t *testing.T) {
	for fixture, want := range map[string][2]string{
		"ws2025-ps7-converged": {"true", "true"},
		"mgmt-shared-vlan":     {"true", "false"},
		"compliant":            {"false", "true"},
	} {
		hv := normalizeCase(t, fixture).Hosts[0].HyperV
		if got := [2]string{inventorytest.Show(hv.ManagementOSSharesVMSwitch), inventorytest.Show(hv.ManagementVNICsOwnVLAN)}; got != want {
			t.Errorf("%s: shares switch / own VLAN %v, want %v", fixture, got, want)
		}
	}
	// An untagged management vNIC on the shared switch has no VLAN of its own.
	d := loadData(t, "ws2025-ps7-converged")
	q := d.query("Msvm_EthernetSwitchPortVlanSettingData")
	q.Instances = q.Instances[1:]
	inv, err := normalizeData(d, collectors.SnapshotTarget{}, collectedAt(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if own := inv.Hosts[0].HyperV.ManagementVNICsOwnVLAN; inventorytest.Show(own) != "false" {
		t.Errorf("untagged vNIC: own VLAN %s", inventorytest.Show(own))
	}
}

// TestSMBReadByEverySource: MSFT_SmbServerConfiguration is in the one
// Catalog the local WMI source and Collect run, in the WinRM batch, and in
// the capture script.
func TestSMBReadByEverySource(t *testing.T) {
	var smb *Query
	for i := range Catalog {
		if Catalog[i].Class == "MSFT_SmbServerConfiguration" {
			smb = &Catalog[i]
		}
	}
	if smb == nil || smb.Namespace != `root\Microsoft\Windows\SMB` || strings.Join(smb.Properties, ",") != "EncryptData,RejectUnencryptedAccess,RequireSecuritySignature" {
		t.Fatalf("Catalog entry %+v", smb)
	}
	if err := smb.Validate(); err != nil {
		t.Fatal(err)
	}
	cmds, err := BuildCommands(Catalog, Methods)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range cmds {
		s, _ := DecodeCommand(c)
		found = found || strings.Contains(s, `'root\Microsoft\Windows\SMB' 'MSFT_SmbServerConfiguration' @('EncryptData','RejectUnencryptedAccess','RequireSecuritySignature')`)
	}
	if !found {
		t.Error("the WinRM batch does not read MSFT_SmbServerConfiguration")
	}
	b, err := os.ReadFile("capture/Get-HvauditSnapshot.ps1")
	if err != nil || !strings.Contains(string(b), `Namespace = 'root\Microsoft\Windows\SMB'; Class = 'MSFT_SmbServerConfiguration'`) {
		t.Errorf("the capture script does not read MSFT_SmbServerConfiguration (%v)", err)
	}
}

// TestClassMissingFromAnOlderCapture: a snapshot from before a class was
// read (capture script version 1) leaves its facts unknown, saying so.
func TestClassMissingFromAnOlderCapture(t *testing.T) {
	d := loadData(t, "compliant")
	var kept []QueryResult
	for _, q := range d.Queries {
		if q.Class != "MSFT_SmbServerConfiguration" && q.Class != "Win32_NetworkAdapterConfiguration" {
			kept = append(kept, q)
		}
	}
	d.Queries = kept
	inv, err := normalizeData(d, collectors.SnapshotTarget{}, collectedAt(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	hv := inv.Hosts[0].HyperV
	if hv.SMB != nil || hv.ManagementSubnets != nil || hv.Migration.ManagementOverlap != nil {
		t.Errorf("facts invented: smb %+v subnets %v overlap %s", hv.SMB, hv.ManagementSubnets, inventorytest.Show(hv.Migration.ManagementOverlap))
	}
	for field, want := range map[string]string{
		"host.hyperv.smb":                "MSFT_SmbServerConfiguration was not queried",
		"host.hyperv.management_subnets": "Win32_NetworkAdapterConfiguration was not queried",
	} {
		if got := inventorytest.ReasonUnder(inv.Gaps, "host:HV01", field); got != want {
			t.Errorf("%s gap %q", field, got)
		}
	}
}
