package esxi

import (
	"fmt"
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
	// A live audit's data is still in memory: no JSON round trip.
	if d, ok := s.Live().(*Data); ok && s.Platform == Platform {
		return normalizeData(d, s.Target, s.CollectedAt, s.Gaps), nil
	}
	raw, err := s.DataFor(Platform)
	if err != nil {
		return nil, err
	}
	d, err := decodeData(raw)
	if err != nil {
		return nil, err
	}
	return normalizeData(d, s.Target, s.CollectedAt, s.Gaps), nil
}

// normalizeData maps decoded vSphere data, read from target at a time,
// plus the gaps Fetch recorded.
func normalizeData(d *Data, t collectors.SnapshotTarget, at time.Time, fetchGaps inventory.Gaps) *inventory.Inventory {
	n := &normalizer{data: d, at: at, objs: map[types.ManagedObjectReference]props{}, skipped: map[string]SkippedProperty{}}
	n.inv = &inventory.Inventory{
		Platform: Platform, CollectedAt: at,
		Hosts: []inventory.Host{}, VMs: []inventory.VM{}, Networks: []inventory.Network{},
		Gaps: append(inventory.Gaps{}, fetchGaps...), Sources: sources(),
	}
	for _, o := range d.Objects {
		earlier, seen := n.objs[o.Obj]
		n.objs[o.Obj] = newProps(o).mergedWith(earlier, seen)
		if !seen {
			n.order = append(n.order, o.Obj)
		}
	}
	for _, sk := range d.Skipped {
		n.skipped[sk.Type+" "+sk.Path] = sk
	}
	n.target(t)
	n.dvPortgroups()
	n.segments()
	n.hosts()
	n.vms()
	n.networks()
	n.salts()
	n.esxiTarget()
	return n.inv
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
			if np, ok := m.Fault.Fault.(*types.NoPermission); ok && np.PrivilegeId != "" {
				reason += " (the audit account lacks privilege " + np.PrivilegeId + ")"
			}
		}
		if m.Fault.LocalizedMessage != "" {
			reason += ": " + m.Fault.LocalizedMessage
		}
		p.missing[m.Path] = reason
	}
	return p
}

// faulted reports that the server answered path with a fault (NoPermission,
// …): absent then means unknown, never "not set".
func (p props) faulted(path string) bool {
	_, bad := p.missing[path]
	return bad
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
	data    *Data
	at      time.Time
	inv     *inventory.Inventory
	objs    map[types.ManagedObjectReference]props
	order   []types.ManagedObjectReference
	skipped map[string]SkippedProperty // "Type path" → why it was not read

	hostIDs   map[string]string // moref value → host id
	hostAPI   map[string]string // host id → its API release
	staleHost map[string]string // host id → why its configuration is not judged
	vmIDs     map[string]string // moref value → VM id
	vmKnown   map[string]bool   // VM ids

	// Networks and where they sit (normalize_network.go).
	switchNames map[string]string             // distributed switch moref → name
	dvpgs       map[string]*portgroup         // dvpg key → port group
	stdPGs      map[string]*portgroup         // host id + "/" + port group → port group
	stdPGOrder  []string                      //
	segs        map[string]*inventory.Network // NSX segment id → network
	segOrder    []string                      //
	hostMgmtPG  map[string]map[string]bool    // host id → standard port groups with a management vmk
	hostKnown   map[string]bool               // host id → its network layout was read
	mgmtDVPG    map[string]bool               // dvpg keys a management vmk uses
	// mgmtL2 is where every management vmknic sits; mgmtUnknown names those
	// that could not be placed, unknownHosts the hosts whose layout was not read.
	mgmtL2          []mgmtPlace
	mgmtUnknown     []string
	mgmtUnknownHost map[string]bool
	unknownHosts    []string
	queries         map[string]Query // method + "/" + object → answer (normalize_security.go)
}

func (n *normalizer) gap(kind, id, field, reason string) { n.inv.Gaps.Add(kind, id, field, reason) }

// kindTypes lists every type name an object kind takes: a real vCenter's
// distributed switches are VmwareDistributedVirtualSwitch.
var kindTypes = map[string][]string{
	"DistributedVirtualSwitch": {"DistributedVirtualSwitch", "VmwareDistributedVirtualSwitch"},
}

// byType returns the objects of a kind, each once, in retrieval order.
func (n *normalizer) byType(kind string) []props {
	names := kindTypes[kind]
	if names == nil {
		names = []string{kind}
	}
	var out []props
	for _, ref := range n.order {
		for _, t := range names {
			if ref.Type == t {
				out = append(out, n.objs[ref])
			}
		}
	}
	return out
}

// absent records the gap for a property the object does not have, with the
// most precise reason known: the server's fault; the server's API release
// predating it (not asked for); the object's own API release (objAPI, as
// who reports it) predating it; else that the server did not return it.
func (n *normalizer) absent(kind, id, field string, p props, path, objAPI, who string) {
	var reason, introduced string
	since := propertySince(p.ref.Type, path)
	sk, skipped := n.skipped[p.ref.Type+" "+path]
	switch {
	case p.faulted(path):
		reason = p.why(path)
	case skipped:
		reason, introduced = p.ref.Type+" "+path+": "+sk.Reason, sk.Since
	case since != "" && objAPI != "" && apiBefore(objAPI, since):
		reason, introduced = p.ref.Type+" "+path+" is "+unavailableReason(since, who, objAPI), shortAPI(since)
	default:
		reason = p.why(path)
	}
	if introduced != "" {
		introduced = shortAPI(introduced)
	}
	n.inv.Gaps.AddSince(kind, id, field, reason, introduced)
}

// target fills the endpoint's own facts: vCenter or a standalone host.
func (n *normalizer) target(st collectors.SnapshotTarget) {
	a := n.data.About
	t := &n.inv.Target
	t.Name, t.URI, t.Platform, t.Transport = st.Name, st.URI, Platform, st.RecordedTransport()
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
	id := st.Name
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
		// A setting missing from a read list is not set on the vCenter; an
		// unread list leaves every setting unknown.
		for _, om := range n.byType("OptionManager") {
			if arr, ok := om.vals["setting"].(types.ArrayOfOptionValue); ok {
				t.Settings = map[string]string{}
				for _, o := range arr.OptionValue {
					ov := o.GetOptionValue()
					if keepVCenterSetting(ov.Key) {
						t.Settings[ov.Key] = fmt.Sprint(ov.Value)
					}
				}
			} else {
				n.gap(inventory.KindTarget, id, "target.settings", om.why("setting"))
			}
		}
		if t.Settings == nil && len(n.byType("OptionManager")) == 0 {
			n.gap(inventory.KindTarget, id, "target.settings", "the vCenter's settings (OptionManager) were not returned")
		}
	} else {
		n.gap(inventory.KindTarget, id, "target.key_providers", "key providers are a vCenter feature; a standalone ESXi host has none")
		n.gap(inventory.KindTarget, id, "target.patch", "a standalone ESXi host's patch level is its host's (host.patch)")
	}
}

// keepVCenterSetting says which vCenter settings the checks read; the rest
// of the list (hundreds of keys) is not kept.
func keepVCenterSetting(key string) bool {
	return strings.HasPrefix(key, "config.log.") || strings.HasPrefix(key, "VirtualCenter.") || key == "vpxd.event.syslog.enabled"
}

// dvPortgroups maps distributed port groups, with their VLAN and security.
