package esxi

import (
	"fmt"
	"sort"
	"strings"

	"github.com/vmware/govmomi/vim25/types"

	"github.com/hvaudit/hvaudit/collectors/inventory"
)

func (n *normalizer) dvPortgroups() {
	n.dvpgs = map[string]*inventory.Network{}
	uplinks := map[string]bool{}
	switches := map[string]string{}
	for _, sw := range n.byType("DistributedVirtualSwitch") {
		name, _ := sw.str("name")
		switches[sw.ref.Value] = name
		if arr, ok := sw.vals["config.uplinkPortgroup"].(types.ArrayOfManagedObjectReference); ok {
			for _, r := range arr.ManagedObjectReference {
				uplinks[r.Value] = true
			}
		}
	}
	for _, pg := range n.byType("DistributedVirtualPortgroup") {
		name, _ := pg.str("name")
		key, ok := pg.str("key")
		if !ok {
			key = pg.ref.Value
		}
		net := &inventory.Network{ID: pg.ref.Value, Name: name, Kind: "distributed-portgroup", Uplink: uplinks[pg.ref.Value], VMs: []string{}}
		if r, ok := pg.vals["config.distributedVirtualSwitch"].(types.ManagedObjectReference); ok {
			net.Switch = switches[r.Value]
		}
		s, ok := pg.vals["config.defaultPortConfig"].(*types.VMwareDVSPortSetting)
		if v, isVal := pg.vals["config.defaultPortConfig"].(types.VMwareDVSPortSetting); isVal {
			s, ok = &v, true
		}
		if b, isBool := pg.vals["config.uplink"].(bool); isBool && b {
			net.Uplink = true
		}
		if ok {
			switch v := s.Vlan.(type) {
			case *types.VmwareDistributedVirtualSwitchVlanIdSpec:
				net.VLAN, net.Trunk = inventory.Ptr(int64(v.VlanId)), inventory.Ptr(false)
			case *types.VmwareDistributedVirtualSwitchTrunkVlanSpec:
				net.Trunk = inventory.Ptr(true)
			case *types.VmwareDistributedVirtualSwitchPvlanSpec:
				net.VLAN, net.Trunk = inventory.Ptr(int64(v.PvlanId)), inventory.Ptr(false)
			}
			if net.VLAN == nil && net.Trunk == nil {
				n.gap(inventory.KindNetwork, net.ID, "network.vlan", "DistributedVirtualPortgroup config.defaultPortConfig.vlan not returned")
			}
			if sp := s.SecurityPolicy; sp != nil {
				net.Security = &inventory.SecurityPolicy{
					AllowPromiscuous: boolPolicy(sp.AllowPromiscuous), ForgedTransmits: boolPolicy(sp.ForgedTransmits), MACChanges: boolPolicy(sp.MacChanges),
				}
			} else {
				n.gap(inventory.KindNetwork, net.ID, "network.security", "DistributedVirtualPortgroup config.defaultPortConfig.securityPolicy not returned")
			}
		} else {
			n.gap(inventory.KindNetwork, net.ID, "network.vlan", pg.why("config.defaultPortConfig"))
			n.gap(inventory.KindNetwork, net.ID, "network.security", pg.why("config.defaultPortConfig"))
		}
		if arr, ok := pg.vals["vm"].(types.ArrayOfManagedObjectReference); ok {
			for _, r := range arr.ManagedObjectReference {
				net.VMs = append(net.VMs, r.Value) // moref for now; VM ids resolved in networks()
			}
		}
		n.esxiPortgroup(pg, net)
		n.dvpgs[key] = net
	}
}

func boolPolicy(p *types.BoolPolicy) *bool {
	if p == nil || p.Value == nil {
		return nil
	}
	return inventory.Ptr(*p.Value)
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
		return
	}
	pgVLAN := map[string]int64{}
	for _, pg := range netInfo.Portgroup {
		pgVLAN[pg.Spec.Name] = int64(pg.Spec.VlanId)
		hostID := h.ID
		net := &inventory.Network{
			ID: h.ID + "/" + pg.Spec.Name, Name: pg.Spec.Name, Kind: "standard-portgroup", Host: &hostID,
			Switch: pg.Spec.VswitchName, VLAN: inventory.Ptr(int64(pg.Spec.VlanId)), Trunk: inventory.Ptr(pg.Spec.VlanId == 4095), VMs: []string{},
		}
		if sec := pg.ComputedPolicy.Security; sec != nil {
			net.Security = &inventory.SecurityPolicy{AllowPromiscuous: sec.AllowPromiscuous, ForgedTransmits: sec.ForgedTransmits, MACChanges: sec.MacChanges}
		} else {
			n.gap(inventory.KindNetwork, net.ID, "network.security", "HostSystem config.network.portgroup.computedPolicy.security not returned")
		}
		n.stdPGs[net.ID] = net
		n.stdPGOrder = append(n.stdPGOrder, net.ID)
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

	// Service tags: nicType → selected vnic keys → device names.
	tags := map[string][]string{}
	vnm, okTags := p.vals["config.virtualNicManagerInfo"].(types.HostVirtualNicManagerInfo)
	if okTags {
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
				word := nicTypeWords[nc.NicType]
				if word == "" {
					word = nc.NicType
				}
				tags[dev] = appendUnique(tags[dev], word)
			}
		}
	}
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
		network := v.Portgroup
		if vlan, ok := pgVLAN[v.Portgroup]; ok && v.Portgroup != "" {
			nic.VLAN = inventory.Ptr(vlan)
		}
		dvKey := ""
		if dv := v.Spec.DistributedVirtualPort; dv != nil {
			dvKey = dv.PortgroupKey
			if pg := n.dvpgs[dvKey]; pg != nil {
				network, nic.Portgroup, nic.Switch, nic.VLAN = pg.Name, pg.Name, pg.Switch, pg.VLAN
			}
		} else if ps, ok := n.stdPGs[h.ID+"/"+v.Portgroup]; ok {
			nic.Switch = ps.Switch
		}
		h.VMKernelNICs = append(h.VMKernelNICs, nic)
		others := without(nic.Services, "management")
		if contains(nic.Services, "management") {
			mgmt.Interfaces = append(mgmt.Interfaces, nic.Device)
			mgmt.SharedServices = union(mgmt.SharedServices, others)
			mgmt.Networks = appendUnique(mgmt.Networks, network)
			if nic.VLAN != nil {
				mgmt.VLANs = appendUniqueInt(mgmt.VLANs, *nic.VLAN)
			}
			if dvKey != "" {
				n.mgmtDVPG[dvKey] = true
			} else {
				n.hostMgmtPG[h.ID][v.Portgroup] = true
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
		return
	}
	h.Management = mgmt
	n.hostKnown[h.ID] = true
}

func (n *normalizer) networks() {
	dvpgByKey := n.dvpgs
	for i := range n.inv.VMs {
		vm := &n.inv.VMs[i]
		for j := range vm.NICs {
			nic := &vm.NICs[j]
			if key, ok := strings.CutPrefix(nic.Network, "dvpg:"); ok {
				if pg := dvpgByKey[key]; pg != nil {
					nic.Network = pg.Name
				}
				nic.OnManagementNetwork = inventory.Ptr(n.mgmtDVPG[key])
				continue
			}
			if vm.Host == nil || !n.hostKnown[*vm.Host] {
				n.gap(inventory.KindVM, vm.ID, "vm.nics.on_management_network",
					fmt.Sprintf("NIC %s: the management layout of the VM's host was not read", nic.Name))
				continue
			}
			nic.OnManagementNetwork = inventory.Ptr(n.hostMgmtPG[*vm.Host][nic.Network])
			if pg := n.stdPGs[*vm.Host+"/"+nic.Network]; pg != nil {
				pg.VMs = appendUnique(pg.VMs, vm.ID)
			}
		}
	}
	for _, id := range n.stdPGOrder {
		pg := n.stdPGs[id]
		if n.hostKnown[*pg.Host] {
			pg.Management = inventory.Ptr(n.hostMgmtPG[*pg.Host][pg.Name])
		} else {
			n.gap(inventory.KindNetwork, pg.ID, "network.management", "the management layout of the port group's host was not read")
		}
		sort.Strings(pg.VMs)
		n.inv.Networks = append(n.inv.Networks, *pg)
	}
	keys := make([]string, 0, len(dvpgByKey))
	for k := range dvpgByKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		pg := dvpgByKey[k]
		pg.Management = inventory.Ptr(n.mgmtDVPG[k])
		ids := make([]string, 0, len(pg.VMs))
		for _, ref := range pg.VMs {
			if id, ok := n.vmIDs[ref]; ok {
				ids = append(ids, id)
			}
		}
		sort.Strings(ids)
		pg.VMs = ids
		n.inv.Networks = append(n.inv.Networks, *pg)
	}
	sort.SliceStable(n.inv.Networks, func(a, b int) bool { return n.inv.Networks[a].Name < n.inv.Networks[b].Name })
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

// sources names where each model field is read, for findings' evidence.
