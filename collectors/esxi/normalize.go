package esxi

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/vmware/govmomi/vim25/types"

	"github.com/hvaudit/hvaudit/collectors"
	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// Normalize maps a vSphere snapshot to the neutral inventory. It is pure:
// every value comes from the snapshot, and every value the server did not
// return stays nil with a gap that names the property.
func (c *Collector) Normalize(s *collectors.Snapshot) (*inventory.Inventory, error) {
	if s.Platform != Platform {
		return nil, fmt.Errorf("snapshot platform %q is not %q", s.Platform, Platform)
	}
	d, err := decodeData(s.Data)
	if err != nil {
		return nil, err
	}
	n := &normalizer{data: d, at: s.CollectedAt, objs: map[types.ManagedObjectReference]props{}}
	n.inv = &inventory.Inventory{
		Platform: Platform, CollectedAt: s.CollectedAt,
		Hosts: []inventory.Host{}, VMs: []inventory.VM{}, Networks: []inventory.Network{},
		Gaps: append([]inventory.Gap{}, s.Gaps...), Sources: sources,
	}
	for _, o := range d.Objects {
		n.objs[o.Obj] = newProps(o)
	}
	n.target(s)
	n.dvPortgroups()
	n.hosts()
	n.vms()
	n.networks()
	return n.inv, nil
}

// props is one object's returned properties plus the faults of those the
// server could not return.
type props struct {
	ref     types.ManagedObjectReference
	vals    map[string]any
	missing map[string]string
}

func newProps(o types.ObjectContent) props {
	p := props{ref: o.Obj, vals: map[string]any{}, missing: map[string]string{}}
	for _, dp := range o.PropSet {
		p.vals[dp.Name] = dp.Val
	}
	for _, m := range o.MissingSet {
		reason := "fault"
		if m.Fault.Fault != nil {
			reason = fmt.Sprintf("%T", m.Fault.Fault)
			reason = strings.TrimPrefix(reason, "*types.")
		}
		if m.Fault.LocalizedMessage != "" {
			reason += ": " + m.Fault.LocalizedMessage
		}
		p.missing[m.Path] = reason
	}
	return p
}

// why explains an absent property: the server's fault, or that it was not returned.
func (p props) why(path string) string {
	if r, ok := p.missing[path]; ok {
		return fmt.Sprintf("%s %s could not be read: %s", p.ref.Type, path, r)
	}
	return fmt.Sprintf("%s %s not returned by the server", p.ref.Type, path)
}

func (p props) str(path string) (string, bool) {
	switch v := p.vals[path].(type) {
	case string:
		return v, true
	case fmt.Stringer:
		return v.String(), true
	}
	if v, ok := p.vals[path]; ok && v != nil {
		if s, ok := stringish(v); ok {
			return s, true
		}
	}
	return "", false
}

// stringish reads govmomi's string-based enums (HostLockdownMode, …).
func stringish(v any) (string, bool) {
	switch v := v.(type) {
	case types.HostLockdownMode:
		return string(v), true
	case types.VirtualMachinePowerState:
		return string(v), true
	case types.HostSystemConnectionState:
		return string(v), true
	case types.VirtualMachineConnectionState:
		return string(v), true
	}
	return "", false
}

type normalizer struct {
	data *Data
	at   time.Time
	inv  *inventory.Inventory
	objs map[types.ManagedObjectReference]props

	hostIDs    map[string]string             // moref value → host id
	vmIDs      map[string]string             // moref value → VM id
	dvpgs      map[string]*inventory.Network // dvpg key → network
	hostMgmtPG map[string]map[string]bool    // host id → standard portgroups with a management vmk
	hostKnown  map[string]bool               // host id → its network layout was read
	mgmtDVPG   map[string]bool               // dvpg keys a management vmk uses
	stdPGs     map[string]*inventory.Network // host id + "/" + portgroup → network
	stdPGOrder []string
}

func (n *normalizer) gap(kind, id, field, reason string) {
	n.inv.Gaps = append(n.inv.Gaps, inventory.Gap{Object: inventory.ObjectKey(kind, id), Field: field, Reason: reason})
}

func (n *normalizer) byType(typ string) []props {
	var out []props
	for _, o := range n.data.Objects {
		if o.Obj.Type == typ {
			out = append(out, n.objs[o.Obj])
		}
	}
	return out
}

// target fills the endpoint's own facts: vCenter or a standalone host.
func (n *normalizer) target(s *collectors.Snapshot) {
	a := n.data.About
	t := &n.inv.Target
	t.Name, t.URI, t.Platform, t.Transport = s.Target.Name, s.Target.URI, Platform, s.Target.RecordedTransport()
	kind := "esxi"
	if a.ApiType == "VirtualCenter" {
		kind = "vcenter"
	}
	t.Kind = inventory.Ptr(kind)
	if a.FullName != "" || a.Name != "" {
		t.Product = inventory.Ptr(a.Name)
		t.Version = inventory.Ptr(a.Version)
		t.Build = inventory.Ptr(a.Build)
		t.APIVersion = inventory.Ptr(a.ApiVersion)
	}
	id := s.Target.Name
	if kind == "vcenter" {
		t.Patch = &inventory.PatchLevel{Product: "vcenter", ReleaseLine: a.Version, Version: a.Version, Build: a.Build, FullName: a.FullName}
		if kp := n.byType("CryptoManagerKmip"); len(kp) == 1 {
			if v, ok := kp[0].vals["kmipServers"]; ok {
				t.KeyProviders = []inventory.KeyProvider{}
				if list, ok := v.(types.ArrayOfKmipClusterInfo); ok {
					for _, k := range list.KmipClusterInfo {
						t.KeyProviders = append(t.KeyProviders, inventory.KeyProvider{ID: k.ClusterId.Id, Default: k.UseAsDefault, Servers: len(k.Servers)})
					}
				}
			} else {
				n.gap(inventory.KindTarget, id, "target.key_providers", kp[0].why("kmipServers"))
			}
		} else {
			n.gap(inventory.KindTarget, id, "target.key_providers", "the vCenter's CryptoManagerKmip was not returned")
		}
		t.Settings = map[string]string{}
		for _, om := range n.byType("OptionManager") {
			if arr, ok := om.vals["setting"].(types.ArrayOfOptionValue); ok {
				for _, o := range arr.OptionValue {
					ov := o.GetOptionValue()
					if strings.HasPrefix(ov.Key, "config.log.") || strings.HasPrefix(ov.Key, "VirtualCenter.") {
						t.Settings[ov.Key] = fmt.Sprint(ov.Value)
					}
				}
			}
		}
	} else {
		n.gap(inventory.KindTarget, id, "target.key_providers", "key providers are a vCenter feature; a standalone ESXi host has none")
		n.gap(inventory.KindTarget, id, "target.patch", "a standalone ESXi host's patch level is its host's (host.patch)")
	}
}

// dvPortgroups maps distributed port groups, with their VLAN and security.
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

func (n *normalizer) hosts() {
	n.hostIDs = map[string]string{}
	n.hostMgmtPG = map[string]map[string]bool{}
	n.hostKnown = map[string]bool{}
	n.mgmtDVPG = map[string]bool{}
	n.stdPGs = map[string]*inventory.Network{}
	clusters := map[string]string{}
	for _, c := range n.byType("ClusterComputeResource") {
		clusters[c.ref.Value], _ = c.str("name")
	}
	firewalls := map[string]props{}
	for _, f := range n.byType("HostFirewallSystem") {
		firewalls[f.ref.Value] = f
	}
	standalone := n.inv.Target.Kind != nil && *n.inv.Target.Kind == "esxi"
	for _, p := range n.byType("HostSystem") {
		name, _ := p.str("name")
		h := inventory.Host{ID: p.ref.Value, Name: name}
		if standalone && name != "" {
			h.ID = name // a standalone host's moref ("ha-host") names nothing
		}
		n.hostIDs[p.ref.Value] = h.ID
		miss := func(field, path string) { n.gap(inventory.KindHost, h.ID, field, p.why(path)) }
		if r, ok := p.vals["parent"].(types.ManagedObjectReference); ok && r.Type == "ClusterComputeResource" {
			h.Cluster = inventory.Ptr(clusters[r.Value])
		}
		if s, ok := p.str("runtime.connectionState"); ok {
			h.ConnectionState = inventory.Ptr(s)
		}
		if prod, ok := p.vals["summary.config.product"].(types.AboutInfo); ok {
			h.Patch = &inventory.PatchLevel{Product: "esxi", ReleaseLine: prod.Version, Version: prod.Version, Build: prod.Build, FullName: prod.FullName}
		} else if prod, ok := p.vals["summary.config.product"].(*types.AboutInfo); ok && prod != nil {
			h.Patch = &inventory.PatchLevel{Product: "esxi", ReleaseLine: prod.Version, Version: prod.Version, Build: prod.Build, FullName: prod.FullName}
		} else {
			miss("host.patch", "summary.config.product")
		}
		n.certificate(p, &h)
		if s, ok := p.str("config.lockdownMode"); ok && s != "" {
			h.LockdownMode = inventory.Ptr(s)
		} else {
			miss("host.lockdown_mode", "config.lockdownMode")
		}
		if si, ok := p.vals["config.service"].(types.HostServiceInfo); ok {
			h.Services = map[string]inventory.Service{}
			for _, s := range si.Service {
				h.Services[s.Key] = inventory.Service{Key: s.Key, Label: s.Label, Running: s.Running, Policy: s.Policy}
			}
		} else {
			miss("host.services", "config.service")
		}
		if arr, ok := p.vals["config.option"].(types.ArrayOfOptionValue); ok {
			h.Options = map[string]any{}
			for _, o := range arr.OptionValue {
				ov := o.GetOptionValue()
				h.Options[ov.Key] = optionValue(ov.Value)
			}
		} else {
			miss("host.options", "config.option")
		}
		if dt, ok := p.vals["config.dateTimeInfo"].(types.HostDateTimeInfo); ok && dt.NtpConfig != nil {
			h.NTP = &inventory.NTP{Servers: append([]string{}, dt.NtpConfig.Server...)}
		} else {
			miss("host.ntp", "config.dateTimeInfo.ntpConfig")
		}
		if b, ok := p.vals["capability.uefiSecureBoot"].(bool); ok {
			h.SecureBoot = inventory.Ptr(b)
		} else {
			miss("host.secure_boot", "capability.uefiSecureBoot")
		}
		if r, ok := p.vals["configManager.firewallSystem"].(types.ManagedObjectReference); ok {
			if fw, ok := firewalls[r.Value].vals["firewallInfo"].(types.HostFirewallInfo); ok {
				h.Firewall = &inventory.Firewall{IncomingBlocked: fw.DefaultPolicy.IncomingBlocked != nil && *fw.DefaultPolicy.IncomingBlocked, OpenRulesets: []string{}}
				if fw.DefaultPolicy.IncomingBlocked == nil {
					h.Firewall = nil
					miss("host.firewall", "firewallInfo.defaultPolicy.incomingBlocked")
				} else {
					for _, rs := range fw.Ruleset {
						if rs.Enabled && rs.AllowedHosts != nil && rs.AllowedHosts.AllIp {
							h.Firewall.OpenRulesets = append(h.Firewall.OpenRulesets, rs.Key)
						}
					}
				}
			} else {
				n.gap(inventory.KindHost, h.ID, "host.firewall", "HostFirewallSystem firewallInfo not returned by the server")
			}
		} else {
			miss("host.firewall", "configManager.firewallSystem")
		}
		n.hostNetwork(p, &h)
		n.inv.Hosts = append(n.inv.Hosts, h)
	}
	sort.Slice(n.inv.Hosts, func(a, b int) bool { return n.inv.Hosts[a].Name < n.inv.Hosts[b].Name })
}

// optionValue keeps option values typed; integers of every width become
// int64 so expressions compare with plain literals.
func optionValue(v any) any {
	switch x := v.(type) {
	case int32:
		return int64(x)
	case int16:
		return int64(x)
	case int8:
		return int64(x)
	case int:
		return int64(x)
	case uint8:
		return int64(x)
	}
	return v
}

func (n *normalizer) certificate(p props, h *inventory.Host) {
	var raw []byte
	switch v := p.vals["config.certificate"].(type) {
	case []byte:
		raw = v
	case types.ArrayOfByte:
		raw = v.Byte
	}
	if len(raw) == 0 {
		n.gap(inventory.KindHost, h.ID, "host.certificate", p.why("config.certificate"))
		return
	}
	block, _ := pem.Decode(raw)
	der := raw
	if block != nil {
		der = block.Bytes
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		n.gap(inventory.KindHost, h.ID, "host.certificate", "HostSystem config.certificate is not a valid certificate: "+err.Error())
		return
	}
	h.Certificate = &inventory.Certificate{
		Subject: cert.Subject.String(), Issuer: cert.Issuer.String(), NotAfter: cert.NotAfter.UTC(),
		DaysLeft: int(cert.NotAfter.Sub(n.at).Hours() / 24),
	}
}

// hostNetwork maps vmknics, their service tags, port groups and switches,
// and derives how management and migration traffic are laid out.
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

func (n *normalizer) vms() {
	n.vmIDs = map[string]string{}
	for _, p := range n.byType("VirtualMachine") {
		name, _ := p.str("name")
		id := p.ref.Value
		if s, ok := p.str("config.instanceUuid"); ok && s != "" {
			id = s
		} else if s, ok := p.str("config.uuid"); ok && s != "" {
			id = s
		}
		n.vmIDs[p.ref.Value] = id
		vm := inventory.VM{ID: id, Name: name}
		miss := func(field, path string) { n.gap(inventory.KindVM, id, field, p.why(path)) }
		if r, ok := p.vals["runtime.host"].(types.ManagedObjectReference); ok {
			if hid, ok := n.hostIDs[r.Value]; ok {
				vm.Host = inventory.Ptr(hid)
			}
		}
		if s, ok := p.str("runtime.powerState"); ok {
			vm.PowerState = inventory.Ptr(map[string]string{"poweredOn": "on", "poweredOff": "off", "suspended": "suspended"}[s])
		} else {
			miss("vm.power_state", "runtime.powerState")
		}
		if s, ok := p.str("runtime.connectionState"); ok {
			vm.ConnectionState = inventory.Ptr(s)
		}
		if b, ok := p.vals["config.template"].(bool); ok {
			vm.Template = inventory.Ptr(b)
		} else {
			miss("vm.template", "config.template")
		}
		if s, ok := p.str("config.guestFullName"); ok {
			vm.GuestOS = inventory.Ptr(s)
		}
		if s, ok := p.str("config.firmware"); ok && s != "" {
			vm.Firmware = inventory.Ptr(s)
		} else {
			miss("vm.firmware", "config.firmware")
		}
		if bo, ok := p.vals["config.bootOptions"].(*types.VirtualMachineBootOptions); ok && bo != nil {
			vm.SecureBoot = inventory.Ptr(bo.EfiSecureBootEnabled != nil && *bo.EfiSecureBootEnabled)
		} else if bo, ok := p.vals["config.bootOptions"].(types.VirtualMachineBootOptions); ok {
			vm.SecureBoot = inventory.Ptr(bo.EfiSecureBootEnabled != nil && *bo.EfiSecureBootEnabled)
		} else {
			miss("vm.secure_boot", "config.bootOptions")
		}
		if fl, ok := p.vals["config.flags"].(types.VirtualMachineFlagInfo); ok && fl.EnableLogging != nil {
			vm.LoggingEnabled = inventory.Ptr(*fl.EnableLogging)
		} else {
			miss("vm.logging_enabled", "config.flags.enableLogging")
		}
		n.vmMigration(p, &vm)
		n.vmSettings(p, &vm)
		n.vmDevices(p, &vm)
		n.vmSnapshots(p, &vm)
		n.vmTools(p, &vm)
		n.inv.VMs = append(n.inv.VMs, vm)
	}
	sort.Slice(n.inv.VMs, func(a, b int) bool { return n.inv.VMs[a].Name < n.inv.VMs[b].Name })
}

// migrationWords maps vSphere's encryption modes to neutral words.
var migrationWords = map[string]string{
	"disabled": "disabled", "opportunistic": "opportunistic", "required": "required",
	"ftEncryptionDisabled": "disabled", "ftEncryptionOpportunistic": "opportunistic", "ftEncryptionRequired": "required",
}

func (n *normalizer) vmMigration(p props, vm *inventory.VM) {
	m := &inventory.VMMigration{}
	if s, ok := p.str("config.migrateEncryption"); ok && s != "" {
		m.Encryption = inventory.Ptr(word(migrationWords, s))
	} else {
		n.gap(inventory.KindVM, vm.ID, "vm.migration.encryption", p.why("config.migrateEncryption"))
	}
	if s, ok := p.str("config.ftEncryptionMode"); ok && s != "" {
		m.FTEncryption = inventory.Ptr(word(migrationWords, s))
	} else {
		n.gap(inventory.KindVM, vm.ID, "vm.migration.ft_encryption", p.why("config.ftEncryptionMode"))
	}
	vm.Migration = m
}

func word(m map[string]string, s string) string {
	if w, ok := m[s]; ok {
		return w
	}
	return s
}

// settingPrefixes are the extraConfig keys hardening checks read; the rest
// of extraConfig (which can be large) is not kept.
var settingPrefixes = []string{"isolation.", "tools.", "RemoteDisplay.", "mks.", "log.", "sched.mem.pshare.salt", "svga.", "pciPassthru", "vmx.log."}

func (n *normalizer) vmSettings(p props, vm *inventory.VM) {
	arr, ok := p.vals["config.extraConfig"].(types.ArrayOfOptionValue)
	if !ok {
		if _, present := p.vals["config.extraConfig"]; !present {
			n.gap(inventory.KindVM, vm.ID, "vm.settings", p.why("config.extraConfig"))
			return
		}
	}
	vm.Settings = map[string]string{}
	for _, o := range arr.OptionValue {
		ov := o.GetOptionValue()
		for _, pre := range settingPrefixes {
			if strings.HasPrefix(ov.Key, pre) {
				vm.Settings[ov.Key] = fmt.Sprint(ov.Value)
				break
			}
		}
	}
}

func (n *normalizer) vmDevices(p props, vm *inventory.VM) {
	enc := &inventory.VMEncryption{Confidential: inventory.Ptr("none")}
	if b, ok := p.vals["config.sevEnabled"].(bool); ok && b {
		enc.Confidential = inventory.Ptr("sev")
	}
	k, ok := p.vals["config.keyId"].(*types.CryptoKeyId)
	if kv, isVal := p.vals["config.keyId"].(types.CryptoKeyId); isVal {
		k, ok = &kv, true // the property collector returns it by value
	}
	if ok && k != nil {
		enc.HomeEncrypted = inventory.Ptr(true)
		if k.ProviderId != nil {
			enc.KeyProvider = inventory.Ptr(k.ProviderId.Id)
		}
	} else if _, present := p.vals["config.keyId"]; !present {
		// An unencrypted VM has no keyId: absent here is the answer, as
		// long as the VM's configuration itself was readable.
		if _, cfg := p.vals["config.hardware.device"]; cfg {
			enc.HomeEncrypted = inventory.Ptr(false)
		} else {
			n.gap(inventory.KindVM, vm.ID, "vm.encryption.home_encrypted", p.why("config.keyId"))
		}
	}
	vm.Encryption = enc
	arr, ok := p.vals["config.hardware.device"].(types.ArrayOfVirtualDevice)
	if !ok {
		reason := p.why("config.hardware.device")
		for _, f := range []string{"vm.devices", "vm.disks", "vm.nics", "vm.vtpm", "vm.encryption.all_disks"} {
			n.gap(inventory.KindVM, vm.ID, f, reason)
		}
		return
	}
	dev := &inventory.VMDevices{}
	vm.Disks, vm.NICs = []inventory.Disk{}, []inventory.VMNIC{}
	vtpm := false
	allDisks := true
	for _, d := range arr.VirtualDevice {
		label := ""
		if di := d.GetVirtualDevice().DeviceInfo; di != nil {
			label = di.GetDescription().Label
		}
		switch x := d.(type) {
		case *types.VirtualDisk:
			disk := inventory.Disk{Name: label}
			switch b := x.Backing.(type) {
			case *types.VirtualDiskFlatVer2BackingInfo:
				disk.Mode = b.DiskMode
				if b.KeyId != nil {
					disk.Encrypted = true
					if b.KeyId.ProviderId != nil {
						disk.KeyProvider = b.KeyId.ProviderId.Id
					}
				}
			case *types.VirtualDiskSeSparseBackingInfo:
				disk.Mode = b.DiskMode
				disk.Encrypted = b.KeyId != nil
			case *types.VirtualDiskSparseVer2BackingInfo:
				disk.Mode = b.DiskMode
				disk.Encrypted = b.KeyId != nil
			case *types.VirtualDiskRawDiskMappingVer1BackingInfo:
				disk.Mode = b.DiskMode
			}
			if disk.Mode == "independent_nonpersistent" {
				dev.NonPersistentDisk++
			}
			allDisks = allDisks && disk.Encrypted
			vm.Disks = append(vm.Disks, disk)
		case *types.VirtualTPM:
			vtpm = true
		case *types.VirtualFloppy:
			dev.Floppies++
		case *types.VirtualSerialPort:
			dev.SerialPorts++
		case *types.VirtualParallelPort:
			dev.ParallelPorts++
		case *types.VirtualUSBController, *types.VirtualUSBXHCIController:
			dev.USBControllers++
		case *types.VirtualCdrom:
			if c := x.Connectable; c != nil && c.Connected {
				dev.ConnectedCDROMs++
			}
		case *types.VirtualPCIPassthrough:
			dev.PCIPassthrough++
		case types.BaseVirtualEthernetCard:
			card := x.GetVirtualEthernetCard()
			nic := inventory.VMNIC{Name: label, MAC: card.MacAddress}
			switch b := card.Backing.(type) {
			case *types.VirtualEthernetCardNetworkBackingInfo:
				nic.Network = b.DeviceName
			case *types.VirtualEthernetCardDistributedVirtualPortBackingInfo:
				nic.Network = "dvpg:" + b.Port.PortgroupKey
			}
			vm.NICs = append(vm.NICs, nic)
		}
	}
	vm.Devices, vm.VTPM = dev, inventory.Ptr(vtpm)
	enc.AllDisks = inventory.Ptr(allDisks && len(vm.Disks) > 0)
	if len(vm.Disks) == 0 {
		enc.AllDisks = inventory.Ptr(true) // nothing unencrypted to hold data
	}
}

func (n *normalizer) vmSnapshots(p props, vm *inventory.VM) {
	vm.Snapshots = []inventory.VMSnapshot{}
	var walk func([]types.VirtualMachineSnapshotTree)
	walk = func(list []types.VirtualMachineSnapshotTree) {
		for _, s := range list {
			vm.Snapshots = append(vm.Snapshots, inventory.VMSnapshot{Name: s.Name, Created: s.CreateTime.UTC()})
			walk(s.ChildSnapshotList)
		}
	}
	// No snapshot property means no snapshots: vSphere omits it then.
	if info, ok := p.vals["snapshot"].(*types.VirtualMachineSnapshotInfo); ok && info != nil {
		walk(info.RootSnapshotList)
	} else if info, ok := p.vals["snapshot"].(types.VirtualMachineSnapshotInfo); ok {
		walk(info.RootSnapshotList)
	} else if r, bad := p.missing["snapshot"]; bad {
		vm.Snapshots = nil
		n.gap(inventory.KindVM, vm.ID, "vm.snapshots", "VirtualMachine snapshot could not be read: "+r)
		n.gap(inventory.KindVM, vm.ID, "vm.oldest_snapshot_days", "VirtualMachine snapshot could not be read: "+r)
		return
	}
	var oldest int64
	for _, s := range vm.Snapshots {
		if d := int64(n.at.Sub(s.Created).Hours() / 24); d > oldest {
			oldest = d
		}
	}
	vm.OldestSnapshotDays = inventory.Ptr(oldest)
}

// networks resolves NIC placement: which networks VMs attach to and which
// of those carry a host's management traffic.
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
var sources = map[string]string{
	"target.kind":                   "ServiceContent about.apiType",
	"target.version":                "ServiceContent about.version",
	"target.build":                  "ServiceContent about.build",
	"target.patch":                  "ServiceContent about.{version,build}",
	"target.key_providers":          "CryptoManagerKmip kmipServers",
	"target.settings":               "OptionManager (vCenter settings) setting",
	"target.transport":              "hvaudit connection settings (--insecure, --thumbprint, --ca-file)",
	"host.patch":                    "HostSystem summary.config.product.{version,build}",
	"host.certificate":              "HostSystem config.certificate",
	"host.lockdown_mode":            "HostSystem config.lockdownMode",
	"host.services":                 "HostSystem config.service.service[key]",
	"host.options":                  "HostSystem config.option (advanced settings)",
	"host.ntp":                      "HostSystem config.dateTimeInfo.ntpConfig.server",
	"host.secure_boot":              "HostSystem capability.uefiSecureBoot",
	"host.firewall":                 "HostFirewallSystem firewallInfo",
	"host.vmkernel_nics":            "HostSystem config.network.vnic, config.virtualNicManagerInfo",
	"host.vswitches":                "HostSystem config.network.vswitch[].spec.policy.security",
	"host.management":               "HostSystem config.virtualNicManagerInfo.netConfig[].selectedVnic, config.network.vnic[].portgroup",
	"vm.power_state":                "VirtualMachine runtime.powerState",
	"vm.connection_state":           "VirtualMachine runtime.connectionState",
	"vm.host":                       "VirtualMachine runtime.host",
	"host.connection_state":         "HostSystem runtime.connectionState",
	"host.cluster":                  "HostSystem parent",
	"network.kind":                  "port group type (HostPortGroup or DistributedVirtualPortgroup)",
	"network.uplink":                "DistributedVirtualSwitch config.uplinkPortgroup",
	"vm.template":                   "VirtualMachine config.template",
	"vm.firmware":                   "VirtualMachine config.firmware",
	"vm.secure_boot":                "VirtualMachine config.bootOptions.efiSecureBootEnabled",
	"vm.vtpm":                       "VirtualMachine config.hardware.device (VirtualTPM)",
	"vm.encryption":                 "VirtualMachine config.keyId, config.hardware.device[VirtualDisk].backing.keyId",
	"vm.encryption.confidential":    "VirtualMachine config.sevEnabled",
	"vm.migration.encryption":       "VirtualMachine config.migrateEncryption",
	"vm.migration.ft_encryption":    "VirtualMachine config.ftEncryptionMode",
	"vm.settings":                   "VirtualMachine config.extraConfig",
	"vm.devices":                    "VirtualMachine config.hardware.device",
	"vm.disks":                      "VirtualMachine config.hardware.device[VirtualDisk]",
	"vm.nics":                       "VirtualMachine config.hardware.device[VirtualEthernetCard].backing",
	"vm.nics.on_management_network": "VirtualMachine NIC backing vs the host's management vmk portgroups",
	"vm.snapshots":                  "VirtualMachine snapshot.rootSnapshotList[].createTime",
	"vm.oldest_snapshot_days":       "VirtualMachine snapshot.rootSnapshotList[].createTime",
	"vm.logging_enabled":            "VirtualMachine config.flags.enableLogging",
	"network.vlan":                  "port group VLAN (config.network.portgroup[].spec.vlanId / defaultPortConfig.vlan)",
	"network.trunk":                 "port group VLAN (config.network.portgroup[].spec.vlanId / defaultPortConfig.vlan)",
	"network.security":              "port group security policy (computedPolicy.security / defaultPortConfig.securityPolicy)",
	"network.management":            "host management vmk portgroups",
	"network.vms":                   "VMs whose NIC backing uses the port group",
}
