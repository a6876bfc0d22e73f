package esxi

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vmware/govmomi/vim25/types"

	"github.com/hvaudit/hvaudit/collectors"
	"github.com/hvaudit/hvaudit/collectors/esxi/esxisim"
	"github.com/hvaudit/hvaudit/collectors/inventory"
	"github.com/hvaudit/hvaudit/collectors/inventory/inventorytest"
	"github.com/hvaudit/hvaudit/configs"
)

// The estates below are shaped like real ones (esxisim/real.go); each test
// names the real-world shape it guards.

func networkNamed(t *testing.T, inv *inventory.Inventory, name string) inventory.Network {
	t.Helper()
	for _, n := range inv.Networks {
		if n.Name == name {
			return n
		}
	}
	t.Fatalf("no network %s", name)
	return inventory.Network{}
}

func nicOnMgmt(t *testing.T, inv *inventory.Inventory, vm string) *bool {
	t.Helper()
	v := inventorytest.VM(t, inv, vm)
	if len(v.NICs) != 1 {
		t.Fatalf("%s has NICs %+v", vm, v.NICs)
	}
	return v.NICs[0].OnManagementNetwork
}

// TestVMCLikeEstate: a VMware Cloud-like SDDC, whose hosts have only NSX
// switching and whose vCenter (API 7.0.1.1) lacks newer properties.
func TestVMCLikeEstate(t *testing.T) {
	sim := startEstate(t, esxisim.VMCLike(), esxisim.Options{})
	snap, inv := fetchNormalize(t, New(Options{}), pinned(sim))

	// vmknics on NSX segments are named by their segment, never "".
	h1 := inventorytest.Host(t, inv, "esx-01.sddc.example.net")
	if len(h1.VMKernelNICs) != 3 || h1.VMKernelNICs[0].Portgroup != "mgmt-vmk0-seg" || h1.VMKernelNICs[0].Segment != "0d7e1c52-4b1a-4c7e-9a55-000000000001" {
		t.Errorf("esx-01 vmknics %+v", h1.VMKernelNICs)
	}
	if h1.APIVersion == nil || *h1.APIVersion != "7.0.1.0" {
		t.Errorf("esx-01 API %v", h1.APIVersion)
	}
	// VMs on NSX segments share management only on vmk0's own segment.
	for vm, want := range map[string]bool{"vdi-001": false, "vdi-002": false, "app-001": false, "app-003": false, "rogue-001": true} {
		if got := nicOnMgmt(t, inv, vm); got == nil || *got != want {
			t.Errorf("%s on_management_network %v, want %v", vm, got, want)
		}
	}
	vdi := inventorytest.VM(t, inv, "vdi-001")
	if n := vdi.NICs[0]; n.Network != "cgw-vdi" || n.Segment != "0d7e1c52-4b1a-4c7e-9a55-000000000010" {
		t.Errorf("vdi-001 NIC %+v", n)
	}
	// Segments are collected as networks, with what vSphere cannot say.
	seg := networkNamed(t, inv, "cgw-apps")
	if seg.Kind != "nsx-segment" || seg.Management == nil || *seg.Management || len(seg.VMs) != 3 {
		t.Errorf("cgw-apps %+v", seg)
	}
	if g, _ := inventorytest.Gap(inv.Gaps, "network:"+seg.ID, "network.security"); !strings.Contains(g.Reason, "NSX Manager") {
		t.Errorf("cgw-apps security gap %q", g.Reason)
	}
	if mg := networkNamed(t, inv, "mgmt-vmk0-seg"); mg.Management == nil || !*mg.Management || mg.Kind != "nsx-segment" {
		t.Errorf("mgmt-vmk0-seg %+v", mg)
	}

	// A saved snapshot of this estate normalizes to the same inventory.
	b, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	back, err := collectors.DecodeSnapshot(b)
	if err != nil {
		t.Fatal(err)
	}
	replayed, err := New(Options{}).Normalize(back)
	if err != nil {
		t.Fatal(err)
	}
	if lj, rj := mustJSON(t, inv), mustJSON(t, replayed); lj != rj {
		t.Errorf("the saved snapshot normalizes differently")
	}

	// Properties the server's API release predates are not asked for, and
	// the gaps say which release has them.
	d, err := decodeData(snap.Data)
	if err != nil {
		t.Fatal(err)
	}
	var skipped []string
	for _, s := range d.Skipped {
		skipped = append(skipped, s.Type+" "+s.Path)
	}
	if want := []string{"HostSystem capability.uefiSecureBoot", "HostSystem runtime.stateEncryption", "VirtualMachine config.ftEncryptionMode"}; !reflect.DeepEqual(skipped, want) {
		t.Errorf("skipped %v, want %v", skipped, want)
	}
	if g, _ := inventorytest.Gap(inv.Gaps, "vm:"+vdi.ID, "vm.migration.ft_encryption"); g.Since != "7.0.2" ||
		g.Reason != "VirtualMachine config.ftEncryptionMode: not available before vSphere API 7.0.2 (the server is at API 7.0.1.1)" {
		t.Errorf("ft_encryption gap %+v", g)
	}
	if g, _ := inventorytest.Gap(inv.Gaps, "host:"+h1.ID, "host.secure_boot"); g.Since != "8.0.3" || !strings.Contains(g.Reason, "not available before vSphere API 8.0.3") {
		t.Errorf("secure_boot gap %+v", g)
	}

	// Outbound-only rulesets accept no connection: restricted inbound
	// services leave nothing open, however many outbound ones allow all.
	if h1.Firewall == nil || len(h1.Firewall.OpenRulesets) != 0 {
		t.Fatalf("esx-01 firewall %+v", h1.Firewall)
	}
	var outboundOpen []string
	for _, r := range h1.Firewall.Rulesets {
		if r.Enabled && !r.Inbound && r.AllIP {
			outboundOpen = append(outboundOpen, r.Key)
		}
	}
	if want := []string{"HBR", "WOL", "rabbitmqproxy", "updateManager", "vpxHeartbeats"}; !reflect.DeepEqual(outboundOpen, want) {
		t.Errorf("esx-01 enabled outbound-only rulesets open to all %v, want %v", outboundOpen, want)
	}
	h3 := inventorytest.Host(t, inv, "esx-03.sddc.example.net")
	if h3.Firewall == nil || !slices.Contains(h3.Firewall.OpenRulesets, "sshServer") || slices.Contains(h3.Firewall.OpenRulesets, "vpxHeartbeats") ||
		len(h3.Firewall.OpenRulesets) != 15 {
		t.Errorf("esx-03 open rulesets %v", h3.Firewall.OpenRulesets)
	}
	// A host without slpd does not run it.
	if _, ok := h1.Services["slpd"]; ok || h1.Services == nil {
		t.Errorf("esx-01 services %v", h1.Services)
	}

	// Per-VM salts are unique; a salt two VMs carry is shared.
	for vm, want := range map[string][]string{"vdi-001": {}, "vdi-002": {}, "app-001": {"app-002"}, "app-002": {"app-001"}, "app-003": {}, "rogue-001": {}} {
		if got := inventorytest.VM(t, inv, vm).SaltSharedWith; got == nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s salt shared with %v, want %v", vm, got, want)
		}
	}

	// Advanced options arrive as real hosts type them: xsd:int (int32) for
	// the Security.* ones, xsd:long (int64) for the rest; both normalize to
	// int64 so expressions compare plain numbers.
	raw := map[string]string{}
	for _, o := range d.Objects {
		if o.Obj.Value != h1.ID {
			continue
		}
		for _, p := range o.PropSet {
			if arr, ok := p.Val.(types.ArrayOfOptionValue); ok && p.Name == "config.option" {
				for _, ov := range arr.OptionValue {
					v := ov.GetOptionValue()
					raw[v.Key] = reflect.TypeOf(v.Value).String()
				}
			}
		}
	}
	if raw["Security.AccountLockFailures"] != "int32" || raw["Mem.ShareForceSalting"] != "int64" {
		t.Errorf("raw option types %v", raw)
	}
	if h1.Options["Security.AccountLockFailures"] != int64(3) || h1.Options["Mem.ShareForceSalting"] != int64(2) {
		t.Errorf("options %#v %#v", h1.Options["Security.AccountLockFailures"], h1.Options["Mem.ShareForceSalting"])
	}
}

// TestLegacyEstate: vCenter 7.0.1 with a 6.7 host, a not-responding host,
// and a real vCenter's distributed switch type.
func TestLegacyEstate(t *testing.T) {
	sim := startEstate(t, esxisim.Legacy(), esxisim.Options{})
	snap, inv := fetchNormalize(t, New(Options{}), pinned(sim))
	d, err := decodeData(snap.Data)
	if err != nil {
		t.Fatal(err)
	}
	var dvsTypes []string
	seen := map[types.ManagedObjectReference]bool{}
	for _, o := range d.Objects {
		if strings.Contains(o.Obj.Type, "DistributedVirtualSwitch") && !seen[o.Obj] {
			seen[o.Obj] = true
			dvsTypes = append(dvsTypes, o.Obj.Type)
		}
	}
	if !reflect.DeepEqual(dvsTypes, []string{"VmwareDistributedVirtualSwitch"}) {
		t.Fatalf("the estate's switches came back as %v, want one VmwareDistributedVirtualSwitch", dvsTypes)
	}
	checkLegacyNetworks(t, inv)

	// A not-responding host's configuration is not judged: one gap on the
	// whole host says why. Its VM's facts are vCenter's own and stay.
	stale := inventorytest.Host(t, inv, "esx701-02.lab.example.net")
	if stale.ConnectionState == nil || *stale.ConnectionState != "notResponding" || stale.Options != nil || stale.Services != nil ||
		stale.Patch != nil || stale.LockdownMode != nil || stale.Management != nil || stale.Firewall != nil {
		t.Errorf("stale host carries configuration: %+v", stale)
	}
	if g, _ := inventorytest.Gap(inv.Gaps, "host:"+stale.ID, "host"); !strings.Contains(g.Reason, "the host is notResponding") {
		t.Errorf("stale host gap %q", g.Reason)
	}
	if v := inventorytest.VM(t, inv, "app-stale"); v.Migration == nil || v.Migration.Encryption == nil || *v.Migration.Encryption != "disabled" ||
		v.NICs[0].OnManagementNetwork == nil || *v.NICs[0].OnManagementNetwork {
		t.Errorf("the stale host's VM lost its facts: %+v", v)
	}
	if h := inventorytest.Host(t, inv, "esx67-01.lab.example.net"); h.APIVersion == nil || *h.APIVersion != "6.7.3" || h.LockdownMode == nil {
		t.Errorf("6.7 host %+v", h)
	}
}

// checkLegacyNetworks asserts layer-2 placement on the Legacy estate.
func checkLegacyNetworks(t *testing.T, inv *inventory.Inventory) {
	t.Helper()
	// Distributed port groups and their vmknics carry the switch's name.
	mgmt := networkNamed(t, inv, "dvpg-mgmt-110")
	if mgmt.Switch != "DVS0" || mgmt.Management == nil || !*mgmt.Management {
		t.Errorf("dvpg-mgmt-110 %+v", mgmt)
	}
	if nic := inventorytest.Host(t, inv, "esx701-01.lab.example.net").VMKernelNICs[0]; nic.Switch != "DVS0" || nic.Portgroup != "dvpg-mgmt-110" || nic.VLAN == nil || *nic.VLAN != 110 {
		t.Errorf("esx701-01 vmk0 %+v", nic)
	}
	// The uplink port group is recognised; trunks carry their ranges.
	var uplink inventory.Network
	for _, n := range inv.Networks {
		if strings.Contains(n.Name, "DVUplinks") {
			uplink = n
		}
	}
	if !uplink.Uplink || uplink.Switch != "DVS0" {
		t.Errorf("uplink port group %+v", uplink)
	}
	trunk := networkNamed(t, inv, "dvpg-nested-trunk")
	if trunk.Trunk == nil || !*trunk.Trunk || trunk.VLAN != nil || !reflect.DeepEqual(trunk.VLANRanges, []inventory.VLANRange{{Start: 0, End: 4094}}) {
		t.Errorf("trunk %+v", trunk)
	}
	if g, _ := inventorytest.Gap(inv.Gaps, "network:"+trunk.ID, "network.vlan"); !strings.Contains(g.Reason, "passes VLANs 0-4094") {
		t.Errorf("trunk VLAN gap %q", g.Reason)
	}
	// Layer 2 decides, not names: a VM port group on the management
	// vSwitch and VLAN, guest tagging (4095) on that vSwitch, and a
	// distributed trunk carrying the management VLAN all share it.
	for vm, want := range map[string]bool{"jump-67": true, "sniffer-67": true, "web-67": false, "nested-esx-01": true, "app-701": false} {
		if got := nicOnMgmt(t, inv, vm); got == nil || *got != want {
			t.Errorf("%s on_management_network %v, want %v", vm, got, want)
		}
	}
}

// TestSimulatorSwitchTypeToo: the simulator's own DistributedVirtualSwitch
// type name is read the same way.
func TestSimulatorSwitchTypeToo(t *testing.T) {
	e := esxisim.Legacy()
	e.VCenter.DVSType = "DistributedVirtualSwitch"
	sim := startEstate(t, e, esxisim.Options{})
	_, inv := fetchNormalize(t, New(Options{}), pinned(sim))
	checkLegacyNetworks(t, inv)
}

// TestNSXBackedDistributedPortgroups: NSX-T 3 on a vSphere 7 distributed
// switch shows segments as distributed port groups with backingType nsx,
// all on VLAN 0: they are separated by segment, not by the VLAN vSphere
// shows.
func TestNSXBackedDistributedPortgroups(t *testing.T) {
	e := esxisim.Legacy()
	e.DVPortgroups = append(e.DVPortgroups,
		esxisim.DVPortgroup{Name: "seg-mgmt", NSXSegment: "9a1e2b3c-0000-4000-8000-000000000001", Security: &esxisim.Security{}},
		esxisim.DVPortgroup{Name: "seg-web", NSXSegment: "9a1e2b3c-0000-4000-8000-000000000002", Security: &esxisim.Security{}})
	e.Hosts[1].VMKNICs[0].DVPortgroup = "seg-mgmt"
	e.VMs[3].Network = "seg-web"  // app-701
	e.VMs[4].Network = "seg-mgmt" // nested-esx-01
	sim := startEstate(t, e, esxisim.Options{})
	_, inv := fetchNormalize(t, New(Options{}), pinned(sim))
	if n := networkNamed(t, inv, "seg-web"); n.Segment != "9a1e2b3c-0000-4000-8000-000000000002" || n.VLAN == nil || *n.VLAN != 0 {
		t.Errorf("seg-web %+v", n)
	}
	for vm, want := range map[string]bool{"app-701": false, "nested-esx-01": true} {
		if got := nicOnMgmt(t, inv, vm); got == nil || *got != want {
			t.Errorf("%s on_management_network %v, want %v", vm, got, want)
		}
	}
}

// TestOlderServerRefusesNewProperties: a vCenter 6.7 (API 6.7.3) knows
// neither sevEnabled (7.0.1) nor ftEncryptionMode (7.0.2) and, like a real
// one, fails a whole retrieval that names them. The collector does not ask;
// and when it does ask (it believed the server newer), it drops the refused
// path and reads the rest.
func TestOlderServerRefusesNewProperties(t *testing.T) {
	e := esxisim.Legacy()
	e.VCenter.Version, e.VCenter.APIVersion = "6.7.0", "6.7.3"
	sim := startEstate(t, e, esxisim.Options{})
	snap, inv := fetchNormalize(t, New(Options{}), pinned(sim))
	d, _ := decodeData(snap.Data)
	var skipped []string
	for _, s := range d.Skipped {
		skipped = append(skipped, s.Type+" "+s.Path+" "+s.Since)
	}
	want := []string{
		"HostSystem capability.uefiSecureBoot 8.0.3.0", "HostSystem runtime.stateEncryption 7.0.3.0",
		"VirtualMachine config.ftEncryptionMode 7.0.2.0", "VirtualMachine config.sevEnabled 7.0.1.0",
		"DistributedVirtualPortgroup config.backingType 7.0.0.0", "DistributedVirtualPortgroup config.logicalSwitchUuid 7.0.0.0",
	}
	if !reflect.DeepEqual(skipped, want) {
		t.Errorf("skipped %v\nwant    %v", skipped, want)
	}
	if v := inventorytest.VM(t, inv, "app-701"); v.Encryption == nil || v.Encryption.Confidential == nil || *v.Encryption.Confidential != "none" {
		t.Errorf("app-701 encryption %+v: no SEV before 7.0.1 is still known", v.Encryption)
	}

	// The fallback: a client that believes the server is at 8.0.3.
	ctx := context.Background()
	tg := pinned(sim)
	u, user, _ := endpoint(tg.URI)
	vc, err := connect(ctx, u, tg.TLS, &countingRT{})
	if err != nil {
		t.Fatal(err)
	}
	if err := login(ctx, vc, u.Host, user, tg.Password); err != nil {
		t.Fatal(err)
	}
	vc.ServiceContent.About.ApiVersion = "8.0.3.0"
	got, err := retrieve(ctx, vc, 1000)
	if err != nil {
		t.Fatalf("a refused path failed the target: %v", err)
	}
	var refused []string
	for _, s := range got.Skipped {
		if strings.Contains(s.Reason, "InvalidProperty") {
			refused = append(refused, s.Path)
		}
	}
	slices.Sort(refused)
	if want := []string{"capability.uefiSecureBoot", "config.backingType", "config.ftEncryptionMode", "config.logicalSwitchUuid", "config.sevEnabled", "runtime.stateEncryption"}; !reflect.DeepEqual(refused, want) {
		t.Errorf("refused %v, want %v", refused, want)
	}
	if len(got.Objects) != len(d.Objects) {
		t.Errorf("the fallback read %d objects, the filtered read %d", len(got.Objects), len(d.Objects))
	}
}

// TestMissingObjectCostsOnlyItself: an object the server does not have
// (as in a recording replayed without it) fails only its own facts.
func TestMissingObjectCostsOnlyItself(t *testing.T) {
	sim := startEstate(t, esxisim.Legacy(), esxisim.Options{Faults: esxisim.Faults{Remove: []string{"CryptoManagerKmip"}}})
	_, inv := fetchNormalize(t, New(Options{}), pinned(sim))
	if g, _ := inventorytest.Gap(inv.Gaps, "target:vc", "target.key_providers"); !strings.Contains(g.Reason, "ManagedObjectNotFound") {
		t.Errorf("key provider gap %q", g.Reason)
	}
	if inv.Target.Settings == nil || len(inv.Hosts) != 3 || len(inv.VMs) != 6 {
		t.Errorf("the rest of the estate was not read: settings %v, %d hosts, %d VMs", inv.Target.Settings, len(inv.Hosts), len(inv.VMs))
	}

	// Settings the server will not return are unknown, not empty.
	deny := &esxisim.DeniedProperty{Type: "OptionManager", Path: "setting", Privilege: "System.Read"}
	sim = startEstate(t, esxisim.Legacy(), esxisim.Options{Faults: esxisim.Faults{Deny: deny}})
	_, inv = fetchNormalize(t, New(Options{}), pinned(sim))
	if g, _ := inventorytest.Gap(inv.Gaps, "target:vc", "target.settings"); inv.Target.Settings != nil || !strings.Contains(g.Reason, "NoPermission") {
		t.Errorf("settings %v, gap %q", inv.Target.Settings, g.Reason)
	}
	if len(inv.Target.KeyProviders) != 1 {
		t.Errorf("key providers %v", inv.Target.KeyProviders)
	}
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// inventoryJSON is an inventory without its collection-time details, for
// comparing two collections of one estate.
func inventoryJSON(t *testing.T, inv *inventory.Inventory) string {
	t.Helper()
	b, err := json.Marshal(struct {
		H, V, N any
	}{inv.Hosts, inv.VMs, inv.Networks})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSystemRulesetsNotCounted: from API 8.0.2 a host marks the rulesets
// whose allowed addresses only the system sets (ipListUserConfigurable
// false); ESXI-80-000239 applies to the others, so only they count as open.
func TestSystemRulesetsNotCounted(t *testing.T) {
	e, err := esxisim.LoadEstate(configs.Demo, "demo/vsphere.toml")
	if err != nil {
		t.Fatal(err)
	}
	e.Hosts[1].FirewallSystemRulesets = []string{"vSphereClient", "DVSSync"}
	sim := startEstate(t, e, esxisim.Options{})
	_, inv := fetchNormalize(t, New(Options{}), pinned(sim))
	fw := inventorytest.Host(t, inv, "esx-prod-02").Firewall
	if fw == nil || !slices.Contains(fw.OpenRulesets, "sshServer") || slices.Contains(fw.OpenRulesets, "vSphereClient") || slices.Contains(fw.OpenRulesets, "DVSSync") {
		t.Fatalf("open rulesets %v", fw)
	}
	for _, r := range fw.Rulesets {
		system := r.Key == "vSphereClient" || r.Key == "DVSSync"
		if r.UserConfigurable == nil || *r.UserConfigurable == system {
			t.Errorf("ruleset %s user_configurable %v", r.Key, r.UserConfigurable)
		}
	}
	// A 7.0 host says nothing about ownership: every inbound ruleset counts.
	if legacy := inventorytest.Host(t, inv, "esx-legacy-01").Firewall; legacy == nil || !slices.Contains(legacy.OpenRulesets, "vSphereClient") || legacy.Rulesets[0].UserConfigurable != nil {
		t.Errorf("7.0 host firewall %+v", legacy)
	}
}
