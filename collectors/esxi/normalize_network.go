package esxi

import (
	"fmt"
	"sort"
	"strings"

	"github.com/vmware/govmomi/vim25/types"

	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// Where a NIC sits at layer 2 is decided here, once, for every kind of
// network vSphere has: a standard port group (a vSwitch of one host and a
// VLAN), a distributed port group (a distributed switch and a VLAN, or a
// trunk of VLANs), and an NSX segment (an opaque network, or a distributed
// port group backed by NSX), which is its own layer-2 domain whatever VLAN
// vSphere shows. Two NICs share a segment when they share the switch and a
// VLAN, or the NSX segment: names never decide it.

// l2 is where a NIC or port group sits: domain is "std:<host>/<vSwitch>",
// "dvs:<switch moref>" or "nsx:<segment id>"; vlans are the VLANs it
// carries (nil for an NSX segment, which is one domain).
type l2 struct {
	domain string
	vlans  []inventory.VLANRange
}

// overlaps reports whether two places share a layer-2 segment.
func (a l2) overlaps(b l2) bool {
	if a.domain != b.domain {
		return false
	}
	if strings.HasPrefix(a.domain, "nsx:") {
		return true
	}
	for _, x := range a.vlans {
		for _, y := range b.vlans {
			if x.Start <= y.End && y.Start <= x.End {
				return true
			}
		}
	}
	return false
}

func single(v int64) []inventory.VLANRange { return []inventory.VLANRange{{Start: v, End: v}} }

// portgroup is a network plus what placing NICs on it needs.
type portgroup struct {
	net *inventory.Network
	// at is where the port group sits; unknown explains why that is not
	// known (its VLAN could not be read).
	at      l2
	unknown string
}

func (n *normalizer) dvPortgroups() {
	n.dvpgs = map[string]*portgroup{}
	uplinks := map[string]bool{}
	n.switchNames = map[string]string{}
	for _, sw := range n.byType("DistributedVirtualSwitch") {
		name, _ := sw.str("name")
		n.switchNames[sw.ref.Value] = name
		if arr, ok := sw.vals["config.uplinkPortgroup"].(types.ArrayOfManagedObjectReference); ok {
			for _, r := range arr.ManagedObjectReference {
				uplinks[r.Value] = true
			}
		}
	}
	for _, p := range n.byType("DistributedVirtualPortgroup") {
		name, _ := p.str("name")
		key, ok := p.str("key")
		if !ok {
			key = p.ref.Value
		}
		net := &inventory.Network{ID: p.ref.Value, Name: name, Kind: "distributed-portgroup", Uplink: uplinks[p.ref.Value], VMs: []string{}}
		if b, isBool := p.vals["config.uplink"].(bool); isBool && b {
			net.Uplink = true
		}
		pg := &portgroup{net: net}
		dvs := ""
		if r, ok := p.vals["config.distributedVirtualSwitch"].(types.ManagedObjectReference); ok {
			dvs = r.Value
			net.Switch = n.switchNames[r.Value]
		}
		pg.at.domain = "dvs:" + dvs
		if bt, _ := p.str("config.backingType"); bt == "nsx" {
			// An NSX segment on a distributed switch: its own domain.
			seg, _ := p.str("config.logicalSwitchUuid")
			net.Segment = seg
			pg.at = l2{domain: "nsx:" + seg}
		}
		s, ok := p.vals["config.defaultPortConfig"].(*types.VMwareDVSPortSetting)
		if v, isVal := p.vals["config.defaultPortConfig"].(types.VMwareDVSPortSetting); isVal {
			s, ok = &v, true
		}
		if ok {
			n.dvVLAN(pg, s.Vlan)
			if sp := s.SecurityPolicy; sp != nil {
				net.Security = &inventory.SecurityPolicy{
					AllowPromiscuous: boolPolicy(sp.AllowPromiscuous), ForgedTransmits: boolPolicy(sp.ForgedTransmits), MACChanges: boolPolicy(sp.MacChanges),
				}
			} else {
				n.gap(inventory.KindNetwork, net.ID, "network.security", "DistributedVirtualPortgroup config.defaultPortConfig.securityPolicy not returned")
			}
		} else {
			pg.unknown = p.why("config.defaultPortConfig")
			n.gap(inventory.KindNetwork, net.ID, "network.vlan", pg.unknown)
			n.gap(inventory.KindNetwork, net.ID, "network.security", pg.unknown)
		}
		if arr, ok := p.vals["vm"].(types.ArrayOfManagedObjectReference); ok {
			for _, r := range arr.ManagedObjectReference {
				net.VMs = append(net.VMs, r.Value) // moref for now; VM ids resolved in networks()
			}
		}
		n.esxiPortgroup(p, net)
		n.dvpgs[key] = pg
	}
}

// dvVLAN reads a distributed port group's VLAN policy: one access VLAN, a
// private VLAN, or a trunk of ranges.
func (n *normalizer) dvVLAN(pg *portgroup, spec types.BaseVmwareDistributedVirtualSwitchVlanSpec) {
	net := pg.net
	switch v := spec.(type) {
	case *types.VmwareDistributedVirtualSwitchVlanIdSpec:
		net.VLAN, net.Trunk = inventory.Ptr(int64(v.VlanId)), inventory.Ptr(false)
	case *types.VmwareDistributedVirtualSwitchPvlanSpec:
		net.VLAN, net.Trunk = inventory.Ptr(int64(v.PvlanId)), inventory.Ptr(false)
	case *types.VmwareDistributedVirtualSwitchTrunkVlanSpec:
		net.Trunk = inventory.Ptr(true)
		net.VLANRanges = []inventory.VLANRange{}
		var parts []string
		for _, r := range v.VlanId {
			net.VLANRanges = append(net.VLANRanges, inventory.VLANRange{Start: int64(r.Start), End: int64(r.End)})
			parts = append(parts, fmt.Sprintf("%d-%d", r.Start, r.End))
		}
		n.gap(inventory.KindNetwork, net.ID, "network.vlan", "a trunk port group has no single access VLAN; it passes VLANs "+strings.Join(parts, ", ")+" (network.vlan_ranges)")
		if pg.at.domain != "" && !strings.HasPrefix(pg.at.domain, "nsx:") {
			pg.at.vlans = net.VLANRanges
		}
		return
	default:
		pg.unknown = fmt.Sprintf("DistributedVirtualPortgroup config.defaultPortConfig.vlan is %T, which hvaudit does not read", spec)
		if spec == nil {
			pg.unknown = "DistributedVirtualPortgroup config.defaultPortConfig.vlan not returned"
		}
		n.gap(inventory.KindNetwork, net.ID, "network.vlan", pg.unknown)
		return
	}
	if !strings.HasPrefix(pg.at.domain, "nsx:") {
		pg.at.vlans = single(*net.VLAN)
	}
}

func boolPolicy(p *types.BoolPolicy) *bool {
	if p == nil || p.Value == nil {
		return nil
	}
	return inventory.Ptr(*p.Value)
}

// segments maps the NSX segments vCenter lists as opaque networks.
func (n *normalizer) segments() {
	n.segs = map[string]*inventory.Network{}
	for _, p := range n.byType("OpaqueNetwork") {
		name, _ := p.str("name")
		var sum *types.OpaqueNetworkSummary
		switch v := p.vals["summary"].(type) {
		case *types.OpaqueNetworkSummary:
			sum = v
		case types.OpaqueNetworkSummary:
			sum = &v
		}
		if sum == nil || sum.OpaqueNetworkId == "" {
			n.gap(inventory.KindNetwork, p.ref.Value, "network", "OpaqueNetwork "+name+": "+p.why("summary")+"; its NICs cannot be placed")
			continue
		}
		net := n.segmentAt(sum.OpaqueNetworkId, name, p.ref.Value)
		if arr, ok := p.vals["vm"].(types.ArrayOfManagedObjectReference); ok {
			for _, r := range arr.ManagedObjectReference {
				net.VMs = append(net.VMs, r.Value)
			}
		}
	}
}

// segment returns the network of an NSX segment, creating it on first use.
func (n *normalizer) segment(id, name string) *inventory.Network {
	return n.segmentAt(id, name, "nsx:"+id)
}

// segmentAt is segment with the network id to use when it is created: the
// opaque network's moref where vCenter lists one.
func (n *normalizer) segmentAt(id, name, netID string) *inventory.Network {
	if net, ok := n.segs[id]; ok {
		if net.Name == "" || strings.HasPrefix(net.Name, "nsx:") && name != "" {
			net.Name = name
		}
		return net
	}
	if name == "" {
		name = "nsx:" + id
	}
	net := &inventory.Network{ID: netID, Name: name, Kind: "nsx-segment", Segment: id, VMs: []string{}}
	n.gap(inventory.KindNetwork, net.ID, "network.vlan", "an NSX segment's VLAN and transport are set in NSX Manager, which hvaudit does not read")
	n.gap(inventory.KindNetwork, net.ID, "network.security", "an NSX segment's security (spoof guard, MAC and IP discovery profiles) is set in NSX Manager, which hvaudit does not read")
	n.segs[id] = net
	n.segOrder = append(n.segOrder, id)
	return net
}

// nicTypeWords maps vSphere vmknic service tags to neutral words.
var nicTypeWords = map[string]string{
	"management": "management", "vmotion": "vmotion", "faultToleranceLogging": "ft-logging",
	"vSphereProvisioning": "provisioning", "vSphereReplication": "replication",
	"vSphereReplicationNFC": "replication-nfc", "vsan": "vsan", "vsanWitness": "vsan-witness",
	"vSphereBackupNFC": "backup-nfc", "ptp": "ptp", "nvmeTcp": "nvme-tcp", "nvmeRdma": "nvme-rdma",
}

func (n *normalizer) hostNetwork(p props, h *inventory.Host) {
	netInfo, okNet := p.vals["config.network"].(*types.HostNetworkInfo)
	if !okNet {
		if v, ok := p.vals["config.network"].(types.HostNetworkInfo); ok {
			netInfo, okNet = &v, true
		}
	}
	if !okNet || netInfo == nil {
		n.gap(inventory.KindHost, h.ID, "host.vmkernel_nics", p.why("config.network"))
		n.gap(inventory.KindHost, h.ID, "host.vswitches", p.why("config.network"))
		n.gap(inventory.KindHost, h.ID, "host.management", p.why("config.network"))
		n.unknownHosts = append(n.unknownHosts, h.Name)
		return
	}
	for _, pg := range netInfo.Portgroup {
		hostID := h.ID
		vlan := int64(pg.Spec.VlanId)
		net := &inventory.Network{
			ID: h.ID + "/" + pg.Spec.Name, Name: pg.Spec.Name, Kind: "standard-portgroup", Host: &hostID,
			Switch: pg.Spec.VswitchName, VLAN: inventory.Ptr(vlan), Trunk: inventory.Ptr(vlan == 4095), VMs: []string{},
		}
		at := l2{domain: "std:" + h.ID + "/" + pg.Spec.VswitchName, vlans: single(vlan)}
		if vlan == 4095 {
			// Guest tagging: the guest reaches every VLAN on the vSwitch.
			net.VLANRanges = []inventory.VLANRange{{Start: 0, End: 4094}}
			at.vlans = net.VLANRanges
		}
		if sec := pg.ComputedPolicy.Security; sec != nil {
			net.Security = &inventory.SecurityPolicy{AllowPromiscuous: sec.AllowPromiscuous, ForgedTransmits: sec.ForgedTransmits, MACChanges: sec.MacChanges}
		} else {
			n.gap(inventory.KindNetwork, net.ID, "network.security", "HostSystem config.network.portgroup.computedPolicy.security not returned")
		}
		if reason := n.staleHost[h.ID]; reason != "" {
			n.gap(inventory.KindNetwork, net.ID, "network", reason)
		}
		n.stdPGs[net.ID] = &portgroup{net: net, at: at}
		n.stdPGOrder = append(n.stdPGOrder, net.ID)
	}
	segNames := map[string]string{}
	for _, o := range netInfo.OpaqueNetwork {
		segNames[o.OpaqueNetworkId] = o.OpaqueNetworkName
	}
	h.VSwitches = []inventory.VSwitch{}
	for _, vs := range netInfo.Vswitch {
		sw := inventory.VSwitch{Name: vs.Name}
		if vs.Spec.Policy != nil && vs.Spec.Policy.Security != nil {
			sec := vs.Spec.Policy.Security
			sw.Security = &inventory.SecurityPolicy{AllowPromiscuous: sec.AllowPromiscuous, ForgedTransmits: sec.ForgedTransmits, MACChanges: sec.MacChanges}
		}
		h.VSwitches = append(h.VSwitches, sw)
	}

	tags, okTags := vnicTags(p)
	h.VMKernelNICs = []inventory.HostNIC{}
	mgmt := &inventory.ManagementNetwork{Interfaces: []string{}, SharedServices: []string{}, Networks: []string{}, VLANs: []int64{},
		MigrationInterfaces: []string{}, MigrationShared: []string{}, MigrationVLANs: []int64{}, MigrationNetStacks: []string{}}
	n.hostMgmtPG[h.ID] = map[string]bool{}
	for _, v := range netInfo.Vnic {
		nic := inventory.HostNIC{Device: v.Device, Portgroup: v.Portgroup, NetStack: v.Spec.NetStackInstanceKey, Services: tags[v.Device]}
		if nic.Services == nil {
			nic.Services = []string{}
		}
		if nic.NetStack == "" {
			nic.NetStack = "defaultTcpipStack"
		}
		if v.Spec.Ip != nil {
			nic.IP = v.Spec.Ip.IpAddress
		}
		at, unknown := n.placeVnic(h.ID, v, &nic, segNames)
		h.VMKernelNICs = append(h.VMKernelNICs, nic)
		others := without(nic.Services, "management")
		if contains(nic.Services, "management") {
			mgmt.Interfaces = append(mgmt.Interfaces, nic.Device)
			mgmt.SharedServices = union(mgmt.SharedServices, others)
			mgmt.Networks = appendUnique(mgmt.Networks, nic.Portgroup)
			if nic.VLAN != nil {
				mgmt.VLANs = appendUniqueInt(mgmt.VLANs, *nic.VLAN)
			}
			switch {
			case v.Spec.DistributedVirtualPort != nil:
				n.mgmtDVPG[v.Spec.DistributedVirtualPort.PortgroupKey] = true
			case nic.Segment != "":
				n.segment(nic.Segment, nic.Portgroup).Management = inventory.Ptr(true)
			default:
				n.hostMgmtPG[h.ID][v.Portgroup] = true
			}
			if unknown != "" {
				n.mgmtUnknown = append(n.mgmtUnknown, h.Name+" "+nic.Device+": "+unknown)
				n.mgmtUnknownHost[h.ID] = true
			} else {
				n.mgmtL2 = append(n.mgmtL2, mgmtPlace{at: at, where: h.Name + " " + nic.Device})
			}
		}
		if contains(nic.Services, "vmotion") {
			mgmt.MigrationInterfaces = append(mgmt.MigrationInterfaces, nic.Device)
			mgmt.MigrationShared = union(mgmt.MigrationShared, without(nic.Services, "vmotion"))
			if nic.VLAN != nil {
				mgmt.MigrationVLANs = appendUniqueInt(mgmt.MigrationVLANs, *nic.VLAN)
			}
			mgmt.MigrationNetStacks = appendUnique(mgmt.MigrationNetStacks, nic.NetStack)
		}
	}
	if !okTags {
		// Without the service tags nobody can say which vmk is management.
		n.gap(inventory.KindHost, h.ID, "host.management", p.why("config.virtualNicManagerInfo"))
		n.gap(inventory.KindHost, h.ID, "host.vmkernel_nics.services", p.why("config.virtualNicManagerInfo"))
		n.unknownHosts = append(n.unknownHosts, h.Name)
		return
	}
	h.Management = mgmt
	n.hostKnown[h.ID] = true
}

// vnicTags maps each vmknic device to its service tags (nicType → selected
// vnic keys → device names).
func vnicTags(p props) (map[string][]string, bool) {
	tags := map[string][]string{}
	vnm, ok := p.vals["config.virtualNicManagerInfo"].(types.HostVirtualNicManagerInfo)
	if !ok {
		return tags, false
	}
	for _, nc := range vnm.NetConfig {
		keyDev := map[string]string{}
		for _, cv := range nc.CandidateVnic {
			keyDev[cv.Key] = cv.Device
		}
		for _, sel := range nc.SelectedVnic {
			dev := keyDev[sel]
			if dev == "" {
				if i := strings.LastIndex(sel, "VirtualNic-"); i >= 0 {
					dev = sel[i+len("VirtualNic-"):]
				}
			}
			tags[dev] = appendUnique(tags[dev], word(nicTypeWords, nc.NicType))
		}
	}
	return tags, true
}

// placeVnic fills a vmknic's port group, switch, VLAN or segment and says
// where it sits at layer 2, or why that is unknown.
func (n *normalizer) placeVnic(hostID string, v types.HostVirtualNic, nic *inventory.HostNIC, segNames map[string]string) (l2, string) {
	switch {
	case v.Spec.DistributedVirtualPort != nil:
		key := v.Spec.DistributedVirtualPort.PortgroupKey
		pg := n.dvpgs[key]
		if pg == nil {
			return l2{}, "distributed port group " + key + " was not returned"
		}
		nic.Portgroup, nic.Switch, nic.VLAN, nic.Segment = pg.net.Name, pg.net.Switch, pg.net.VLAN, pg.net.Segment
		return pg.at, pg.unknown
	case v.Spec.OpaqueNetwork != nil && v.Spec.OpaqueNetwork.OpaqueNetworkId != "":
		id := v.Spec.OpaqueNetwork.OpaqueNetworkId
		seg := n.segment(id, segNames[id])
		nic.Portgroup, nic.Segment = seg.Name, id
		return l2{domain: "nsx:" + id}, ""
	}
	pg := n.stdPGs[hostID+"/"+v.Portgroup]
	if pg == nil {
		return l2{}, "port group " + v.Portgroup + " is not among the host's port groups"
	}
	nic.Switch, nic.VLAN = pg.net.Switch, pg.net.VLAN
	return pg.at, ""
}

// mgmtPlace is where one management vmknic sits.
type mgmtPlace struct {
	at    l2
	where string
}

func (n *normalizer) networks() {
	for i := range n.inv.VMs {
		vm := &n.inv.VMs[i]
		for j := range vm.NICs {
			n.placeVMNIC(vm, &vm.NICs[j])
		}
	}
	for _, id := range n.stdPGOrder {
		pg := n.stdPGs[id].net
		if n.hostKnown[*pg.Host] {
			pg.Management = inventory.Ptr(n.hostMgmtPG[*pg.Host][pg.Name])
		} else {
			n.gap(inventory.KindNetwork, pg.ID, "network.management", "the management layout of the port group's host was not read")
		}
		sort.Strings(pg.VMs)
		n.inv.Networks = append(n.inv.Networks, *pg)
	}
	keys := make([]string, 0, len(n.dvpgs))
	for k := range n.dvpgs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		pg := n.dvpgs[k].net
		pg.Management = inventory.Ptr(n.mgmtDVPG[k])
		pg.VMs = n.vmIDsOf(pg.VMs)
		n.inv.Networks = append(n.inv.Networks, *pg)
	}
	for _, id := range n.segOrder {
		seg := n.segs[id]
		if seg.Management == nil {
			seg.Management = inventory.Ptr(false)
		}
		seg.VMs = n.vmIDsOf(seg.VMs)
		n.inv.Networks = append(n.inv.Networks, *seg)
	}
	sort.SliceStable(n.inv.Networks, func(a, b int) bool { return n.inv.Networks[a].Name < n.inv.Networks[b].Name })
}

// vmIDsOf resolves VM morefs (and ids already resolved) to sorted VM ids.
func (n *normalizer) vmIDsOf(refs []string) []string {
	ids := make([]string, 0, len(refs))
	for _, ref := range refs {
		if id, ok := n.vmIDs[ref]; ok {
			ids = appendUnique(ids, id)
		} else if n.vmKnown[ref] { // already an id (a NIC placed it)
			ids = appendUnique(ids, ref)
		}
	}
	sort.Strings(ids)
	return ids
}

// placeVMNIC names a VM NIC's network and derives whether it shares a
// layer-2 segment with a host management interface. Unknown stays nil with
// a gap: a management interface nobody could read may share it.
func (n *normalizer) placeVMNIC(vm *inventory.VM, nic *inventory.VMNIC) {
	unknown := func(why string) {
		n.gap(inventory.KindVM, vm.ID, "vm.nics.on_management_network", fmt.Sprintf("NIC %s: %s", nic.Name, why))
	}
	var at l2
	scope := "estate" // which management interfaces can share the NIC's segment
	switch {
	case strings.HasPrefix(nic.Network, "dvpg:"):
		key := strings.TrimPrefix(nic.Network, "dvpg:")
		pg := n.dvpgs[key]
		if pg == nil {
			nic.Network = ""
			unknown("its distributed port group " + key + " was not returned")
			return
		}
		nic.Network, nic.Switch, nic.VLAN, nic.Segment = pg.net.Name, pg.net.Switch, pg.net.VLAN, pg.net.Segment
		if pg.unknown != "" {
			unknown("port group " + pg.net.Name + ": " + pg.unknown)
			return
		}
		at = pg.at
	case strings.HasPrefix(nic.Network, "nsx:"):
		id := strings.TrimPrefix(nic.Network, "nsx:")
		seg := n.segment(id, "")
		seg.VMs = appendUnique(seg.VMs, vm.ID)
		nic.Network, nic.Segment = seg.Name, id
		at = l2{domain: "nsx:" + id}
	default:
		if vm.Host == nil || !n.hostKnown[*vm.Host] {
			unknown("the management layout of the VM's host was not read")
			return
		}
		pg := n.stdPGs[*vm.Host+"/"+nic.Network]
		if pg == nil {
			unknown("port group " + nic.Network + " is not among its host's port groups")
			return
		}
		pg.net.VMs = appendUnique(pg.net.VMs, vm.ID)
		nic.Switch, nic.VLAN = pg.net.Switch, pg.net.VLAN
		at, scope = pg.at, "host"
	}
	for _, m := range n.mgmtL2 {
		if m.at.overlaps(at) {
			nic.OnManagementNetwork = inventory.Ptr(true)
			return
		}
	}
	// Not on any management segment hvaudit read; for a distributed switch
	// or an NSX segment every host's management interfaces count.
	if scope == "host" && n.mgmtUnknownHost[*vm.Host] {
		unknown("a management interface of its host could not be placed: " + strings.Join(n.mgmtUnknown, "; "))
		return
	}
	if scope == "estate" {
		if len(n.unknownHosts) > 0 {
			unknown("the management layout of host " + strings.Join(n.unknownHosts, ", ") + " was not read")
			return
		}
		if len(n.mgmtUnknown) > 0 {
			unknown("management interface " + strings.Join(n.mgmtUnknown, "; "))
			return
		}
	}
	nic.OnManagementNetwork = inventory.Ptr(false)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func without(list []string, s string) []string {
	out := []string{}
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

func appendUnique(list []string, s string) []string {
	if contains(list, s) {
		return list
	}
	return append(list, s)
}

func appendUniqueInt(list []int64, v int64) []int64 {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

func union(a, b []string) []string {
	for _, s := range b {
		a = appendUnique(a, s)
	}
	sort.Strings(a)
	return a
}
