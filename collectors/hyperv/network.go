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

func (m *mapper) mapNetwork(vms vmIndex) *netResult {
	res := &netResult{switches: map[string]*switchInfo{}}
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

	// Switch ports: port name → switch.
	portSwitch := map[string]string{}
	spRows, spWhy := m.rows("Msvm_EthernetSwitchPort")
	for _, in := range spRows {
		n, _ := asString(unwrapProp(in, "Name"))
		s, _ := asString(unwrapProp(in, "SystemName"))
		if n != "" && res.switches[normID(s)] != nil {
			portSwitch[normID(n)] = normID(s)
		}
	}
	findSwitch := func(segs []string) string {
		if len(segs) > 0 && res.switches[segs[0]] != nil {
			return segs[0]
		}
		for _, s := range segs {
			if sw := portSwitch[s]; sw != "" {
				return sw
			}
		}
		return ""
	}

	epRows, epWhy := m.rows("Msvm_EthernetPortAllocationSettingData")
	if swWhy != "" && epWhy == "" {
		epWhy = swWhy
	}
	if epWhy != "" {
		// Ports stay nil: a class that could not be read is unknown,
		// never an empty list that every "all ports …" check passes.
		res.why = epWhy
		m.gap(everyVM, "vm.nics", epWhy)
		m.gap(everyVM, "vm.hyperv.ports", epWhy)
		return res
	}
	adRows, adWhy := m.rows("Msvm_SyntheticEthernetPortSettingData")
	if len(epRows) == 0 && len(adRows) > 0 {
		// VMs have network adapters but no port allocation is visible: a
		// filtered answer, not a host where every adapter is unplugged
		// (that would make every port check pass on defaults).
		res.why = "Msvm_EthernetPortAllocationSettingData returned no instance although VMs have network adapters (Msvm_SyntheticEthernetPortSettingData): the account may not see them"
		m.gap(everyVM, "vm.nics", res.why)
		m.gap(everyVM, "vm.hyperv.ports", res.why)
		return res
	}
	res.known = true
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
	res.ports = ports
	// Attach VLAN and security feature settings.
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
	vlanWhy := attach("Msvm_EthernetSwitchPortVlanSettingData", func(p *portAlloc, in Instance) { p.vlan = in })
	secWhy := attach("Msvm_EthernetSwitchPortSecuritySettingData", func(p *portAlloc, in Instance) { p.sec = in })
	if vlanWhy != "" {
		m.gap(everyVM, "vm.hyperv.ports.vlans", vlanWhy)
		m.gap(everyVM, "vm.hyperv.ports.vlan_mode", vlanWhy)
	}
	if secWhy != "" {
		for _, f := range []string{"mac_spoofing", "dhcp_guard", "router_guard", "monitor_mode"} {
			m.gap(everyVM, "vm.hyperv.ports."+f, secWhy)
		}
	}
	for _, p := range ports {
		if sw := res.switches[p.switchID]; sw != nil {
			sw.ports = append(sw.ports, p)
			if p.kind == "vm" && !p.disabled {
				sw.vmIDs[p.owner] = true
			}
		}
	}

	// Adapters: name and MAC from Msvm_SyntheticEthernetPortSettingData.
	type adapter struct{ name, mac string }
	adapters := map[string]adapter{}
	if adWhy != "" {
		m.gap(everyVM, "vm.nics.mac", adWhy)
	}
	adByVM := map[string][]string{}
	for _, in := range adRows {
		iid, _ := asString(unwrapProp(in, "InstanceID"))
		segs := idSegments(iid)
		if len(segs) == 0 || vms[segs[0]] == nil {
			continue
		}
		a := adapter{}
		a.name, _ = asString(unwrapProp(in, "ElementName"))
		a.mac, _ = asString(unwrapProp(in, "Address"))
		adapters[strings.ToUpper(iid)] = a
		adByVM[segs[0]] = append(adByVM[segs[0]], strings.ToUpper(iid))
	}

	res.vlanWhy = vlanWhy
	mgmt := m.managementPorts(res, vlanWhy)
	res.mgmt = mgmt
	for id, vm := range vms {
		key := object{inventory.KindVM, id}
		var vmPorts []*portAlloc
		used := map[string]bool{}
		for _, p := range ports {
			if p.kind == "vm" && p.owner == id {
				vmPorts = append(vmPorts, p)
				used[p.parent] = true
			}
		}
		// Adapters without a port allocation are not connected.
		for _, aid := range adByVM[id] {
			if !used[aid] {
				vmPorts = append(vmPorts, &portAlloc{kind: "vm", owner: id, parent: aid, disabled: true})
			}
		}
		vm.NICs = []inventory.VMNIC{}
		vm.HyperV.Ports = []inventory.HyperVPort{}
		for _, p := range vmPorts {
			a, ok := adapters[p.parent]
			if !ok {
				a = adapter{name: p.name}
			}
			hp := inventory.HyperVPort{Name: a.name, MAC: formatMAC(a.mac), SwitchID: p.switchID}
			sw := res.switches[p.switchID]
			hp.Connected = !p.disabled && p.switchID != ""
			if sw != nil {
				hp.Switch = sw.name
			}
			m.portVLAN(key, p, &hp, vlanWhy)
			m.portSecurity(key, p, &hp, secWhy)
			nic := inventory.VMNIC{Name: hp.Name, MAC: hp.MAC}
			if hp.Connected {
				nic.Network = hp.Switch
				if nic.Network == "" {
					nic.Network = hp.SwitchID
				}
			}
			on, why := onManagement(hp, sw, mgmt, res.unresolved)
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
	return res
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

// mgmtPorts are the management-OS vNICs per switch, with their VLANs.
type mgmtPorts struct {
	bySwitch map[string][]*inventory.HostNIC
	// vlans per switch; nil when a vNIC's VLAN is unknown.
	vlans map[string][]int64
	why   map[string]string
}

func (m *mapper) managementPorts(res *netResult, vlanWhy string) *mgmtPorts {
	mp := &mgmtPorts{bySwitch: map[string][]*inventory.HostNIC{}, vlans: map[string][]int64{}, why: map[string]string{}}
	for _, swID := range res.order {
		sw := res.switches[swID]
		vlans := []int64{}
		for _, p := range sw.ports {
			if p.kind != "internal" {
				continue
			}
			hp := inventory.HyperVPort{}
			m.portVLAN(object{}, p, &hp, vlanWhy)
			nic := &inventory.HostNIC{Device: p.name, Switch: sw.name, Services: []string{"management"}}
			if hp.VLANs == nil {
				mp.why[swID] = fmt.Sprintf("the VLAN of management-OS vNIC %q is unknown", p.name)
				vlans = nil
			} else {
				if mode(hp) == "access" && hp.AccessVLAN != nil && *hp.AccessVLAN != 0 {
					nic.VLAN = hp.AccessVLAN
				}
				if vlans != nil {
					vlans = unionInts(vlans, hp.VLANs)
				}
			}
			mp.bySwitch[swID] = append(mp.bySwitch[swID], nic)
		}
		if len(mp.bySwitch[swID]) > 0 {
			mp.vlans[swID] = vlans
		}
	}
	return mp
}

// onManagement: the adapter's switch is an external switch that the
// management OS shares, and the port reaches a management-OS VLAN.
func onManagement(hp inventory.HyperVPort, sw *switchInfo, mp *mgmtPorts, unresolved string) (bool, string) {
	if !hp.Connected {
		return false, ""
	}
	if unresolved != "" {
		return false, unresolved
	}
	if sw == nil {
		return false, fmt.Sprintf("switch %s of the port is not among the host's switches", hp.SwitchID)
	}
	if switchType(sw) != "external" || len(mp.bySwitch[sw.id]) == 0 {
		return false, ""
	}
	if why := mp.why[sw.id]; why != "" {
		return false, why
	}
	if hp.VLANs == nil {
		return false, "the port's VLAN settings could not be read"
	}
	for _, v := range hp.VLANs {
		for _, w := range mp.vlans[sw.id] {
			if v == w {
				return true, ""
			}
		}
	}
	return false, ""
}

func switchType(sw *switchInfo) string {
	internal := false
	for _, p := range sw.ports {
		switch p.kind {
		case "external":
			return "external"
		case "internal":
			internal = true
		}
	}
	if internal {
		return "internal"
	}
	return "private"
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

// finish builds the networks and the host's management picture.
func (m *mapper) finish(res *netResult) {
	hostKey := object{inventory.KindHost, m.host.ID}
	if why := res.why + res.unresolved; !res.known || res.unresolved != "" {
		for _, f := range []string{"host.management", "host.hyperv.management_os_shares_vm_switch", "host.hyperv.management_os_shares_vm_vlan", "host.hyperv.management_vnics_own_vlan"} {
			m.gap(hostKey, f, why)
		}
		for _, id := range res.order {
			sw := res.switches[id]
			// Which VMs use the switch is known only when the port
			// allocations were read.
			n := inventory.Network{ID: id, Name: sw.name, Kind: "hyperv-switch", Host: inventory.Ptr(m.host.ID), Switch: sw.name}
			key := object{inventory.KindNetwork, id}
			if res.known {
				n.VMs = []string{}
				for vmID := range sw.vmIDs {
					n.VMs = append(n.VMs, vmID)
				}
				sort.Strings(n.VMs)
			} else {
				m.gap(key, "network.vms", why)
			}
			m.inv.Networks = append(m.inv.Networks, n)
			m.gap(key, "network.hyperv", why)
			m.gap(key, "network.management", why)
		}
		return
	}
	mp := res.mgmt
	mgmt := &inventory.ManagementNetwork{Interfaces: []string{}, SharedServices: []string{}, Networks: []string{}, VLANs: []int64{}}
	m.host.VMKernelNICs = []inventory.HostNIC{}
	sharesSwitch := false
	vlansKnown := true
	for _, id := range res.order {
		sw := res.switches[id]
		typ := switchType(sw)
		hs := &inventory.HyperVSwitch{Type: typ, ExternalAdapters: []string{}, ManagementVNICs: []string{}, ManagementVLANs: mp.vlans[id]}
		for _, p := range sw.ports {
			if p.kind == "external" && p.adapter != "" {
				hs.ExternalAdapters = append(hs.ExternalAdapters, p.adapter)
			}
		}
		sort.Strings(hs.ExternalAdapters)
		for _, nic := range mp.bySwitch[id] {
			hs.ManagementVNICs = append(hs.ManagementVNICs, nic.Device)
			m.host.VMKernelNICs = append(m.host.VMKernelNICs, *nic)
			mgmt.Interfaces = append(mgmt.Interfaces, nic.Device)
		}
		hs.ManagementOS = len(hs.ManagementVNICs) > 0
		if hs.ManagementVLANs == nil && !hs.ManagementOS {
			hs.ManagementVLANs = []int64{}
		}
		if hs.ManagementOS {
			mgmt.Networks = append(mgmt.Networks, sw.name)
			if hs.ManagementVLANs == nil {
				vlansKnown = false
			} else {
				mgmt.VLANs = unionInts(mgmt.VLANs, hs.ManagementVLANs)
			}
			if typ == "external" && len(sw.vmIDs) > 0 {
				sharesSwitch = true
			}
		}
		n := inventory.Network{ID: id, Name: sw.name, Kind: "hyperv-switch", Host: inventory.Ptr(m.host.ID), Switch: sw.name,
			Management: inventory.Ptr(hs.ManagementOS), VMs: []string{}, HyperV: hs}
		for vmID := range sw.vmIDs {
			n.VMs = append(n.VMs, vmID)
		}
		sort.Strings(n.VMs)
		m.inv.Networks = append(m.inv.Networks, n)
	}
	if sharesSwitch {
		mgmt.SharedServices = append(mgmt.SharedServices, "vm")
	}
	if !vlansKnown {
		mgmt.VLANs = nil
		m.gap(hostKey, "host.management.vlans", "the VLAN of a management-OS vNIC is unknown")
	}
	m.host.Management = mgmt
	m.gap(hostKey, "host.management.migration_interfaces", "Hyper-V restricts live migration by network (host.hyperv.migration.networks), not by interface")
	m.hv.ManagementOSSharesVMSwitch = inventory.Ptr(sharesSwitch)
	if own, why := m.ownVLAN(res); why != "" {
		m.gap(hostKey, "host.hyperv.management_vnics_own_vlan", why)
	} else {
		m.hv.ManagementVNICsOwnVLAN = inventory.Ptr(own)
	}
	// Shares a VLAN: some VM adapter on such a switch is on the management network.
	shared, unknown := false, false
	for i := range m.inv.VMs {
		vm := &m.inv.VMs[i]
		for _, nic := range vm.NICs {
			switch {
			case nic.OnManagementNetwork == nil:
				unknown = true
			case *nic.OnManagementNetwork:
				shared = true
			}
		}
	}
	switch {
	case shared:
		m.hv.ManagementOSSharesVMVLAN = inventory.Ptr(true)
	case unknown:
		m.gap(hostKey, "host.hyperv.management_os_shares_vm_vlan", "whether a VM adapter is on a management-OS VLAN is unknown for at least one adapter")
	default:
		m.hv.ManagementOSSharesVMVLAN = inventory.Ptr(false)
	}
}

// ownVLAN says whether every management-OS vNIC on an external switch
// that carries VMs sits on a tagged access VLAN no VM port of that switch
// reaches (Microsoft's converged design), or why that is unknown.
func (m *mapper) ownVLAN(res *netResult) (bool, string) {
	own := true
	for _, id := range res.order {
		sw := res.switches[id]
		if switchType(sw) != "external" || len(sw.vmIDs) == 0 || len(res.mgmt.bySwitch[id]) == 0 {
			continue
		}
		vmVLANs := map[int64]bool{}
		for _, p := range sw.ports {
			if p.kind != "vm" || p.disabled {
				continue
			}
			hp := inventory.HyperVPort{}
			m.portVLAN(object{}, p, &hp, res.vlanWhy)
			if hp.VLANs == nil {
				return false, fmt.Sprintf("the VLAN of a VM port on switch %q is unknown", sw.name)
			}
			for _, v := range hp.VLANs {
				vmVLANs[v] = true
			}
		}
		for _, p := range sw.ports {
			if p.kind != "internal" {
				continue
			}
			hp := inventory.HyperVPort{}
			m.portVLAN(object{}, p, &hp, res.vlanWhy)
			switch {
			case hp.VLANMode == nil:
				return false, fmt.Sprintf("the VLAN of management-OS vNIC %q is unknown", p.name)
			case mode(hp) != "access" || vmVLANs[*hp.AccessVLAN]:
				own = false
			}
		}
	}
	return own, ""
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
