package hyperv

import (
	"fmt"
	"sort"

	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// Where the management OS sits: its vNICs per switch, whether VM ports
// reach its VLANs, and the networks and host facts that follow.

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

// finish builds the networks and the host's management picture.
func (m *mapper) finish(res *netResult) {
	hostKey := object{inventory.KindHost, m.host.ID}
	if !res.known || res.unresolved != "" {
		m.unknownNetworks(res, hostKey)
		return
	}
	mgmt, sharesSwitch, vlansKnown := m.switchNetworks(res)
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
	m.sharesVMVLAN(hostKey)
}

// unknownNetworks lists the switches when the ports, or the switch of a
// host port, are unknown: the management picture is unknown with them.
func (m *mapper) unknownNetworks(res *netResult, hostKey object) {
	why := res.why + res.unresolved
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
}

// switchNetworks adds a network per switch and gathers the management
// OS's interfaces, switches and VLANs; sharesSwitch says whether an
// external switch carries both the management OS and VMs, vlansKnown
// whether every management-OS vNIC's VLAN was read.
func (m *mapper) switchNetworks(res *netResult) (mgmt *inventory.ManagementNetwork, sharesSwitch, vlansKnown bool) {
	mp := res.mgmt
	mgmt = &inventory.ManagementNetwork{Interfaces: []string{}, SharedServices: []string{}, Networks: []string{}, VLANs: []int64{}}
	m.host.VMKernelNICs = []inventory.HostNIC{}
	vlansKnown = true
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
	return mgmt, sharesSwitch, vlansKnown
}

// sharesVMVLAN: the management OS shares a VLAN with VMs when some VM
// adapter is on the management network; unknown when one adapter's answer
// is.
func (m *mapper) sharesVMVLAN(hostKey object) {
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
