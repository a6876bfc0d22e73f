package hyperv

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// How the network is derived (Hyper-V has no AllowManagementOS or switch
// type property; see hyperv.md §2):
//
//   - Msvm_EthernetPortAllocationSettingData (EPASD) rows are switch port
//     allocations. HostResource[0] says what the port connects: a
//     Msvm_VirtualEthernetSwitch path for a VM adapter's port (its
//     InstanceID starts with the VM's GUID, its Parent is the adapter's
//     Msvm_SyntheticEthernetPortSettingData), a Msvm_ExternalEthernetPort
//     for the uplink of an external switch, a Msvm_InternalEthernetPort for
//     a management-OS vNIC.
//   - The switch of an uplink or management-OS port is the first InstanceID
//     segment when that is a switch's Name, else the Msvm_EthernetSwitchPort
//     whose Name is one of the segments (its SystemName is the switch).
//   - VLAN and security feature settings belong to the port whose InstanceID
//     is a prefix of theirs (else the port with the same first two segments).
//     A port without them has Hyper-V's defaults.

type portAlloc struct {
	id       string // upper-cased InstanceID
	segs     []string
	name     string
	kind     string // vm | external | internal | other
	switchID string
	owner    string // VM id for vm ports
	parent   string // adapter InstanceID (upper) for vm ports
	adapter  string // external adapter name for uplinks
	disabled bool
	vlan     Instance
	sec      Instance
}

type switchInfo struct {
	id, name string
	ports    []*portAlloc
	vmIDs    map[string]bool
}

// netResult is what mapNetwork derived, for finish.
type netResult struct {
	switches map[string]*switchInfo
	order    []string
	known    bool   // port allocations were read
	why      string // else why not
	// unresolved says why the switch of a host port (uplink or
	// management-OS vNIC) is unknown: then which switch is external and
	// which carries the management OS is unknown too, never "no".
	unresolved string
	vlanWhy    string // why VLAN settings are unknown, if they are
	ports      []*portAlloc
	mgmt       *mgmtPorts
}

// mapNetwork reads the switches and their port allocations and fills
// every VM's NICs and ports; finish then builds the networks and the
// host's management picture from the result.
func (m *mapper) mapNetwork(vms vmIndex) *netResult {
	res := &netResult{switches: map[string]*switchInfo{}}
	swWhy := m.readSwitches(res)
	findSwitch, spWhy := m.switchOfPort(res)
	epRows, epWhy := m.rows("Msvm_EthernetPortAllocationSettingData")
	if swWhy != "" && epWhy == "" {
		epWhy = swWhy
	}
	adRows, adWhy := m.rows("Msvm_SyntheticEthernetPortSettingData")
	if why := portsUnknown(epRows, epWhy, adRows); why != "" {
		// Ports stay nil: a class that could not be read is unknown,
		// never an empty list that every "all ports …" check passes.
		res.why = why
		m.gap(everyVM, "vm.nics", why)
		m.gap(everyVM, "vm.hyperv.ports", why)
		return res
	}
	res.known = true
	res.ports = res.portAllocations(epRows, vms, findSwitch, spWhy)
	vlanWhy, secWhy := m.attachPortSettings(res.ports)
	res.joinSwitches()
	adapters := m.readAdapters(adRows, adWhy, vms)
	res.vlanWhy = vlanWhy
	res.mgmt = m.managementPorts(res, vlanWhy)
	for id, vm := range vms {
		m.mapVMPorts(id, vm, res, adapters, secWhy)
	}
	return res
}

// readSwitches reads the host's virtual switches into res, ordered by
// name, and returns why they are unknown, if they are.
func (m *mapper) readSwitches(res *netResult) string {
	swRows, swWhy := m.rows("Msvm_VirtualEthernetSwitch")
	if swWhy != "" {
		m.gap(everyNetwork, "network", swWhy)
	}
	for _, in := range swRows {
		id, _ := asString(unwrapProp(in, "Name"))
		id = normID(id)
		if id == "" || res.switches[id] != nil {
			continue
		}
		name, _ := asString(unwrapProp(in, "ElementName"))
		if name == "" {
			name = id
		}
		res.switches[id] = &switchInfo{id: id, name: name, vmIDs: map[string]bool{}}
		res.order = append(res.order, id)
	}
	sort.Slice(res.order, func(a, b int) bool { return res.switches[res.order[a]].name < res.switches[res.order[b]].name })
	return swWhy
}

// switchOfPort returns how to find the switch of a host port from its
// InstanceID segments: the first segment when it is a switch's Name, else
// the Msvm_EthernetSwitchPort named by a segment. spWhy says why the
// switch ports are unknown, if they are.
func (m *mapper) switchOfPort(res *netResult) (find func(segs []string) string, spWhy string) {
	portSwitch := map[string]string{} // port name → switch
	spRows, spWhy := m.rows("Msvm_EthernetSwitchPort")
	for _, in := range spRows {
		n, _ := asString(unwrapProp(in, "Name"))
		s, _ := asString(unwrapProp(in, "SystemName"))
		if n != "" && res.switches[normID(s)] != nil {
			portSwitch[normID(n)] = normID(s)
		}
	}
	return func(segs []string) string {
		if len(segs) > 0 && res.switches[segs[0]] != nil {
			return segs[0]
		}
		for _, s := range segs {
			if sw := portSwitch[s]; sw != "" {
				return sw
			}
		}
		return ""
	}, spWhy
}

// portsUnknown says why the port allocations cannot be trusted, "" when
// they can.
func portsUnknown(epRows Instances, epWhy string, adRows Instances) string {
	switch {
	case epWhy != "":
		return epWhy
	case len(epRows) == 0 && len(adRows) > 0:
		// VMs have network adapters but no port allocation is visible: a
		// filtered answer, not a host where every adapter is unplugged
		// (that would make every port check pass on defaults).
		return "Msvm_EthernetPortAllocationSettingData returned no instance although VMs have network adapters (Msvm_SyntheticEthernetPortSettingData): the account may not see them"
	}
	return ""
}

// portAllocations classifies the switch port allocations: a VM adapter's
// port, an external switch's uplink, a management-OS vNIC. Others (a
// checkpoint's copy) are left out. It records in res.unresolved the first
// host port whose switch is unknown.
func (res *netResult) portAllocations(epRows Instances, vms vmIndex, findSwitch func([]string) string, spWhy string) []*portAlloc {
	var ports []*portAlloc
	for _, in := range epRows {
		iid, _ := asString(unwrapProp(in, "InstanceID"))
		p := &portAlloc{id: strings.ToUpper(iid), segs: idSegments(iid), kind: "other"}
		p.name, _ = asString(unwrapProp(in, "ElementName"))
		if st, ok := asEnum(unwrapProp(in, "EnabledState"), enabledNames); ok && st == 3 {
			p.disabled = true
		}
		var hr *objectPath
		if list, ok := asStrings(unwrapProp(in, "HostResource")); ok && len(list) > 0 {
			if op, ok := parsePath(list[0]); ok {
				hr = &op
			}
		}
		owner := ""
		if len(p.segs) > 0 {
			owner = p.segs[0]
		}
		switch {
		case hr != nil && strings.EqualFold(hr.Class, "Msvm_ExternalEthernetPort"):
			p.kind, p.switchID = "external", findSwitch(p.segs)
			p.adapter = hr.Keys["deviceid"]
			if p.name != "" {
				p.adapter = p.name
			}
		case hr != nil && strings.EqualFold(hr.Class, "Msvm_InternalEthernetPort"):
			p.kind, p.switchID = "internal", findSwitch(p.segs)
		case vms[owner] != nil:
			p.kind, p.owner = "vm", owner
			if hr != nil && strings.EqualFold(hr.Class, "Msvm_VirtualEthernetSwitch") {
				p.switchID = normID(hr.Keys["name"])
			}
			if par, ok := asString(unwrapProp(in, "Parent")); ok {
				if op, ok := parsePath(par); ok {
					p.parent = strings.ToUpper(op.Keys["instanceid"])
				}
			}
		default:
			continue // a checkpoint's copy or something hvaudit does not audit
		}
		if (p.kind == "external" || p.kind == "internal") && p.switchID == "" && res.unresolved == "" {
			why := "no Msvm_EthernetSwitchPort row names it"
			if spWhy != "" {
				why = spWhy
			}
			res.unresolved = fmt.Sprintf("the switch of host port %q is unknown (%s)", p.name, why)
		}
		ports = append(ports, p)
	}
	return ports
}

// attachPortSettings gives each port its VLAN and security feature
// settings and returns why either class is unknown, if it is.
func (m *mapper) attachPortSettings(ports []*portAlloc) (vlanWhy, secWhy string) {
	attach := func(class string, set func(*portAlloc, Instance)) string {
		rows, why := m.rows(class)
		if why != "" {
			return why
		}
		for _, in := range rows {
			fid, _ := asString(unwrapProp(in, "InstanceID"))
			if p := ownerPort(ports, strings.ToUpper(fid)); p != nil {
				set(p, in)
			}
		}
		return ""
	}
	vlanWhy = attach("Msvm_EthernetSwitchPortVlanSettingData", func(p *portAlloc, in Instance) { p.vlan = in })
	secWhy = attach("Msvm_EthernetSwitchPortSecuritySettingData", func(p *portAlloc, in Instance) { p.sec = in })
	if vlanWhy != "" {
		m.gap(everyVM, "vm.hyperv.ports.vlans", vlanWhy)
		m.gap(everyVM, "vm.hyperv.ports.vlan_mode", vlanWhy)
	}
	if secWhy != "" {
		for _, f := range []string{"mac_spoofing", "dhcp_guard", "router_guard", "monitor_mode"} {
			m.gap(everyVM, "vm.hyperv.ports."+f, secWhy)
		}
	}
	return vlanWhy, secWhy
}

// joinSwitches files each port under its switch, and each VM with an
// enabled port under the switch it uses.
func (res *netResult) joinSwitches() {
	for _, p := range res.ports {
		if sw := res.switches[p.switchID]; sw != nil {
			sw.ports = append(sw.ports, p)
			if p.kind == "vm" && !p.disabled {
				sw.vmIDs[p.owner] = true
			}
		}
	}
}

// adapter is a VM network adapter (Msvm_SyntheticEthernetPortSettingData).
type adapter struct{ name, mac string }

// vmAdapters are the adapters of the host's VMs: by upper-cased
// InstanceID, and each VM's in the order read.
type vmAdapters struct {
	byID map[string]adapter
	ofVM map[string][]string
}

// readAdapters reads the VMs' network adapters: their names and MACs.
func (m *mapper) readAdapters(adRows Instances, adWhy string, vms vmIndex) vmAdapters {
	ad := vmAdapters{byID: map[string]adapter{}, ofVM: map[string][]string{}}
	if adWhy != "" {
		m.gap(everyVM, "vm.nics.mac", adWhy)
	}
	for _, in := range adRows {
		iid, _ := asString(unwrapProp(in, "InstanceID"))
		segs := idSegments(iid)
		if len(segs) == 0 || vms[segs[0]] == nil {
			continue
		}
		a := adapter{}
		a.name, _ = asString(unwrapProp(in, "ElementName"))
		a.mac, _ = asString(unwrapProp(in, "Address"))
		ad.byID[strings.ToUpper(iid)] = a
		ad.ofVM[segs[0]] = append(ad.ofVM[segs[0]], strings.ToUpper(iid))
	}
	return ad
}

// mapVMPorts fills a VM's NICs and Hyper-V ports: every adapter, with the
// switch, VLAN and security settings of its port; an adapter without a
// port allocation is not connected.
func (m *mapper) mapVMPorts(id string, vm *inventory.VM, res *netResult, ad vmAdapters, secWhy string) {
	key := object{inventory.KindVM, id}
	var vmPorts []*portAlloc
	used := map[string]bool{}
	for _, p := range res.ports {
		if p.kind == "vm" && p.owner == id {
			vmPorts = append(vmPorts, p)
			used[p.parent] = true
		}
	}
	for _, aid := range ad.ofVM[id] {
		if !used[aid] {
			vmPorts = append(vmPorts, &portAlloc{kind: "vm", owner: id, parent: aid, disabled: true})
		}
	}
	vm.NICs = []inventory.VMNIC{}
	vm.HyperV.Ports = []inventory.HyperVPort{}
	for _, p := range vmPorts {
		a, ok := ad.byID[p.parent]
		if !ok {
			a = adapter{name: p.name}
		}
		hp := inventory.HyperVPort{Name: a.name, MAC: formatMAC(a.mac), SwitchID: p.switchID}
		sw := res.switches[p.switchID]
		hp.Connected = !p.disabled && p.switchID != ""
		if sw != nil {
			hp.Switch = sw.name
		}
		m.portVLAN(key, p, &hp, res.vlanWhy)
		m.portSecurity(key, p, &hp, secWhy)
		nic := inventory.VMNIC{Name: hp.Name, MAC: hp.MAC}
		if hp.Connected {
			nic.Network = hp.Switch
			if nic.Network == "" {
				nic.Network = hp.SwitchID
			}
		}
		on, why := onManagement(hp, sw, res.mgmt, res.unresolved)
		if why != "" {
			m.gap(key, "vm.nics.on_management_network", fmt.Sprintf("adapter %q: %s", hp.Name, why))
		} else {
			nic.OnManagementNetwork = inventory.Ptr(on)
		}
		vm.HyperV.Ports = append(vm.HyperV.Ports, hp)
		vm.NICs = append(vm.NICs, nic)
	}
	sort.SliceStable(vm.NICs, func(a, b int) bool { return vm.NICs[a].Name < vm.NICs[b].Name })
	sort.SliceStable(vm.HyperV.Ports, func(a, b int) bool { return vm.HyperV.Ports[a].Name < vm.HyperV.Ports[b].Name })
}

// ownerPort finds the port a feature setting belongs to.
func ownerPort(ports []*portAlloc, fid string) *portAlloc {
	var best *portAlloc
	for _, p := range ports {
		if p.id != "" && strings.HasPrefix(fid, p.id+`\`) && (best == nil || len(p.id) > len(best.id)) {
			best = p
		}
	}
	if best != nil {
		return best
	}
	fs := idSegments(fid)
	if len(fs) < 2 {
		return nil
	}
	for _, p := range ports {
		if len(p.segs) >= 2 && p.segs[0] == fs[0] && p.segs[1] == fs[1] {
			if best != nil {
				return nil // ambiguous
			}
			best = p
		}
	}
	return best
}

// mode is a port's VLAN mode, "" when unknown.
func mode(hp inventory.HyperVPort) string {
	if hp.VLANMode == nil {
		return ""
	}
	return *hp.VLANMode
}

// portVLAN fills the port's VLAN facts; unknown settings leave VLANMode
// and VLANs nil. The zero key records no gap.
func (m *mapper) portVLAN(key object, p *portAlloc, hp *inventory.HyperVPort, vlanWhy string) {
	const cls = "Msvm_EthernetSwitchPortVlanSettingData"
	if vlanWhy != "" {
		return
	}
	set := func(mode string, vlans []int64) {
		hp.VLANMode, hp.VLANs = inventory.Ptr(mode), vlans
	}
	if p.vlan == nil {
		set("untagged", []int64{0})
		return
	}
	r := reader{m: m, object: key, class: cls, in: p.vlan}
	gap := func(why string) {
		if key != (object{}) {
			for _, f := range []string{"vm.hyperv.ports.vlans", "vm.hyperv.ports.vlan_mode"} {
				m.gap(key, f, fmt.Sprintf("adapter %q: %s", hp.Name, why))
			}
		}
	}
	mode, ok := asEnum(unwrapProp(p.vlan, "OperationMode"), vlanModeNames)
	if !ok {
		gap(cls + ".OperationMode is missing or unreadable")
		return
	}
	switch mode {
	case 1:
		a := opt(r, "AccessVlanId", asInt)
		if a == nil {
			gap(cls + ".AccessVlanId is missing or unreadable")
			return
		}
		hp.AccessVLAN = a
		if *a == 0 {
			set("untagged", []int64{0})
		} else {
			set("access", []int64{*a})
		}
	case 2:
		n := opt(r, "NativeVlanId", asInt)
		trunk, ok := asInts(unwrapProp(p.vlan, "TrunkVlanIdArray"))
		if !ok {
			trunk = []int64{}
		}
		hp.NativeVLAN, hp.TrunkVLANs = n, trunk
		vl := append([]int64{}, trunk...)
		if n != nil {
			vl = unionInts(vl, []int64{*n})
		}
		set("trunk", unionInts([]int64{}, vl))
	case 3:
		var vl []int64
		for _, f := range []string{"PrimaryVlanId", "SecondaryVlanId"} {
			if v := opt(r, f, asInt); v != nil {
				vl = append(vl, *v)
			}
		}
		if len(vl) == 0 {
			gap(cls + ".PrimaryVlanId is missing or unreadable")
			return
		}
		set("private", unionInts([]int64{}, vl))
	default:
		gap(fmt.Sprintf("%s.OperationMode %d is not access, trunk or private", cls, mode))
	}
}

// portSecurity fills the port's security facts.
func (m *mapper) portSecurity(key object, p *portAlloc, hp *inventory.HyperVPort, secWhy string) {
	if secWhy != "" {
		return
	}
	if p.sec == nil {
		f := false
		hp.MACSpoofing, hp.DHCPGuard, hp.RouterGuard, hp.MonitorMode = &f, inventory.Ptr(false), inventory.Ptr(false), inventory.Ptr(int64(0))
		return
	}
	r := m.reader(key, "Msvm_EthernetSwitchPortSecuritySettingData", p.sec)
	hp.MACSpoofing = r.boolean("vm.hyperv.ports.mac_spoofing", "AllowMacSpoofing")
	hp.DHCPGuard = r.boolean("vm.hyperv.ports.dhcp_guard", "EnableDhcpGuard")
	hp.RouterGuard = r.boolean("vm.hyperv.ports.router_guard", "EnableRouterGuard")
	hp.MonitorMode = r.enum("vm.hyperv.ports.monitor_mode", "MonitorMode", monitorNames)
}

func unionInts(a, b []int64) []int64 {
	seen := map[int64]bool{}
	out := []int64{}
	for _, x := range append(append([]int64{}, a...), b...) {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// formatMAC writes Hyper-V's "00155D010203" as "00:15:5d:01:02:03".
func formatMAC(s string) string {
	s = strings.ToLower(strings.NewReplacer("-", "", ":", "").Replace(strings.TrimSpace(s)))
	if len(s) != 12 {
		return s
	}
	var b strings.Builder
	for i := 0; i < 12; i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(s[i : i+2])
	}
	return b.String()
}
