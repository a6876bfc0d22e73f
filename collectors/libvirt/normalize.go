package libvirt

import (
	"encoding/json"
	"fmt"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"libvirt.org/go/libvirtxml"

	"github.com/hvaudit/hvaudit/collectors"
	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// Normalize maps a kvm snapshot to the neutral inventory. It does no I/O.
// A domain or network whose XML libvirt would refuse stays in the
// inventory with only its id and name, and a gap gives the parser's
// reason, so checks on it end as error rather than pass.
func (c *Collector) Normalize(s *collectors.Snapshot) (*inventory.Inventory, error) {
	raw, err := s.DataFor(Platform)
	if err != nil {
		return nil, err
	}
	var d Data
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("snapshot data is not libvirt data: %w", err)
	}
	return normalizeData(&d, s.Target, s.CollectedAt, s.Gaps), nil
}

// formatVersion turns libvirt's major*1e6+minor*1e3+micro into "M.m.u".
func formatVersion(v uint64) string {
	return fmt.Sprintf("%d.%d.%d", v/1000000, v/1000%1000, v%1000)
}

func normalizeData(d *Data, t collectors.SnapshotTarget, at time.Time, fetchGaps inventory.Gaps) *inventory.Inventory {
	inv := &inventory.Inventory{
		Platform:    Platform,
		CollectedAt: at,
		Target: inventory.Target{
			Name: t.Name, URI: t.URI, Platform: Platform, Transport: t.RecordedTransport(),
			Kind: inventory.Ptr("libvirt"), Product: inventory.Ptr("libvirt"),
			Settings: map[string]string{"uri_driver": d.Driver, "read_only": strconv.FormatBool(d.ReadOnly)},
		},
		Hosts:    []inventory.Host{},
		VMs:      []inventory.VM{},
		Networks: []inventory.Network{},
		Gaps:     append(inventory.Gaps{}, fetchGaps...),
		Sources:  sources(),
	}
	if d.ConnType != "" {
		inv.Target.Settings["driver"] = d.ConnType
	}
	if d.ReadOnlyProof != "" {
		inv.Target.Settings["read_only_proof"] = d.ReadOnlyProof
	}
	if d.LibVersion > 0 {
		inv.Target.Version = inventory.Ptr(formatVersion(d.LibVersion))
	}

	hostID := d.Hostname
	if d.Driver == "test" {
		// The test driver reports the collecting machine's name, which
		// says nothing about the simulated node: name the host after the
		// node file so results do not depend on the machine.
		hostID = "test-" + strings.TrimSuffix(path.Base(t.URI), ".xml")
		if u, err := url.Parse(t.URI); err == nil && u.Path != "" {
			hostID = "test-" + strings.TrimSuffix(path.Base(u.Path), ".xml")
		}
	}
	if hostID == "" {
		if u, err := url.Parse(d.URI); err == nil && u.Hostname() != "" {
			hostID = u.Hostname()
		} else {
			hostID = "localhost"
		}
		inv.Gaps.Add(inventory.KindHost, hostID, "host.name", "libvirt did not report the host name; named after the URI")
	}
	host, hc := mapHost(d, hostID, &inv.Gaps)

	// Networks first: NICs on type='network' interfaces resolve through them.
	dc := &domainContext{hostID: hostID, now: at, readOnly: d.ReadOnly, hostCtx: hc}
	var nets []*inventory.Network
	if d.Networks != nil {
		dc.networks = map[string]*inventory.Network{}
		for _, nr := range d.Networks {
			n, err := mapNetwork(nr, hostID, hc.mgmt, &inv.Gaps)
			if err != nil {
				inv.Gaps.Add(inventory.KindNetwork, n.ID, "network", err.Error())
			}
			dc.networks[n.Name] = n
			nets = append(nets, n)
		}
	} else {
		dc.netReason = d.why("networks", "libvirt networks were not read")
		inv.Gaps.Add(inventory.KindNetwork, "*", "network", dc.netReason)
	}

	for _, rec := range d.Domains {
		inv.VMs = append(inv.VMs, normalizeDomain(rec, dc, &inv.Gaps))
	}
	sort.SliceStable(inv.VMs, func(a, b int) bool {
		if inv.VMs[a].Name != inv.VMs[b].Name {
			return inv.VMs[a].Name < inv.VMs[b].Name
		}
		return inv.VMs[a].ID < inv.VMs[b].ID
	})
	for _, n := range nets {
		sort.Strings(n.VMs)
		inv.Networks = append(inv.Networks, *n)
	}
	sort.SliceStable(inv.Networks, func(a, b int) bool { return inv.Networks[a].Name < inv.Networks[b].Name })
	inv.Hosts = append(inv.Hosts, host)
	// libvirt is this target's management service, as vCenter is for a
	// vSphere target: its patch level is the target's.
	for _, c := range host.Components {
		if c.Product == "libvirt" {
			inv.Target.Patch = &c
		}
	}
	if inv.Target.Patch == nil {
		inv.Gaps.Add(inventory.KindTarget, "*", "target.patch", "no libvirt package or library version was read")
	}
	return inv
}

// normalizeDomain maps one domain record; an unreadable or invalid XML
// leaves a VM with its id and name and a gap on "vm".
func normalizeDomain(rec DomainRecord, dc *domainContext, gaps *inventory.Gaps) inventory.VM {
	skeleton := func(reason string, name string) inventory.VM {
		id := strings.ToLower(rec.UUID)
		if id == "" {
			id = "name:" + name
		}
		vm := inventory.VM{ID: id, Name: name}
		if dc.hostID != "" {
			vm.Host = inventory.Ptr(dc.hostID)
		}
		gaps.Add(inventory.KindVM, id, "vm", reason)
		return vm
	}
	if rec.Error != "" {
		return skeleton("domain XML not read: "+rec.Error, rec.Name)
	}
	dom, err := ParseDomainXML(rec.XML)
	if err != nil {
		name := rec.Name
		if dom != nil && dom.Name != "" {
			name = dom.Name
			if rec.UUID == "" {
				rec.UUID = dom.UUID
			}
		}
		return skeleton(err.Error(), name)
	}
	return mapDomain(rec, dom, dc, gaps)
}

// NormalizeDomainXML maps a single domain XML, as libvirt returned it,
// with no host context: what the XML alone says. It is the entry point
// the corpus tests and fuzzing use.
func NormalizeDomainXML(doc string) (inventory.VM, inventory.Gaps, error) {
	dom, err := ParseDomainXML(doc)
	if err != nil {
		return inventory.VM{}, nil, err
	}
	var gaps inventory.Gaps
	dc := &domainContext{now: time.Now(), netReason: "no networks given", hostCtx: hostCtx{
		qemuReason: "qemu.conf was not read", mgmt: &mgmtInfo{reason: "no host interfaces given"},
		rtReason: "no host given", secReason: "no host capabilities given", firmwareReason: "no firmware descriptors given"}}
	vm := mapDomain(DomainRecord{Name: dom.Name, UUID: dom.UUID, XML: doc, Tainting: []string{}, Snapshots: []SnapshotRecord{}}, dom, dc, &gaps)
	return vm, gaps, nil
}

func networkID(nr NetworkRecord) string {
	if nr.UUID != "" {
		return strings.ToLower(nr.UUID)
	}
	return "name:" + nr.Name
}

// ParseNetworkXML unmarshals a network XML and applies libvirt's checks.
func ParseNetworkXML(doc string) (*libvirtxml.Network, error) {
	var n libvirtxml.Network
	if err := n.Unmarshal(doc); err != nil {
		return nil, fmt.Errorf("network XML does not parse: %w", err)
	}
	if f := n.Forward; f != nil && f.Mode == "open" && (f.Dev != "" || len(f.Interfaces) > 0) {
		return &n, fmt.Errorf("network %s: forward dev not allowed with forward mode='open'", n.Name)
	}
	return &n, nil
}

// mapNetwork maps one network; an XML libvirt would refuse is an error,
// and an unknown management verdict a gap on network.management.
func mapNetwork(nr NetworkRecord, hostID string, mgmt *mgmtInfo, gaps *inventory.Gaps) (*inventory.Network, error) {
	n := &inventory.Network{ID: networkID(nr), Name: nr.Name, Kind: "libvirt-network", VMs: []string{}}
	if hostID != "" {
		n.Host = inventory.Ptr(hostID)
	}
	x, err := ParseNetworkXML(nr.XML)
	if err != nil {
		return n, err
	}
	if n.Name == "" {
		n.Name = x.Name
	}
	if nr.UUID == "" && x.UUID != "" {
		n.ID = strings.ToLower(x.UUID)
	}
	k := &inventory.KVMNetwork{ForwardMode: "isolated", ForwardDevs: []string{}, Active: nr.Active, Autostart: nr.Autostart, Persistent: nr.Persistent}
	if f := x.Forward; f != nil {
		k.ForwardMode = f.Mode
		if k.ForwardMode == "" {
			k.ForwardMode = "nat"
		}
		seen := map[string]bool{}
		add := func(dev string) {
			if dev != "" && !seen[dev] {
				seen[dev] = true
				k.ForwardDevs = append(k.ForwardDevs, dev)
			}
		}
		add(f.Dev)
		for _, i := range f.Interfaces {
			add(i.Dev)
		}
		for _, pf := range f.PFs {
			add(pf.Dev)
		}
	}
	if x.Bridge != nil {
		k.Bridge = x.Bridge.Name
	}
	n.Switch = k.Bridge
	if x.VLAN != nil && len(x.VLAN.Tags) == 1 {
		n.VLAN = inventory.Ptr(int64(x.VLAN.Tags[0].ID))
	}
	if x.VLAN != nil {
		n.Trunk = inventory.Ptr(x.VLAN.Trunk == "yes" || len(x.VLAN.Tags) > 1)
	}
	n.KVM = k
	if reason := mgmt.judgeNetwork(n, x); reason != "" {
		gaps.Add(inventory.KindNetwork, n.ID, "network.management", reason)
	}
	return n, nil
}
