package hyperv

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"time"

	"github.com/hvaudit/hvaudit/collectors"
	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// Normalize maps a hyperv snapshot to the neutral inventory. It does no
// I/O. A value the snapshot lacks (a failed query, a property the host's
// Windows version does not have, a value in a form not understood) stays
// nil and a gap names the class, the property and the reason.
func (c *Collector) Normalize(s *collectors.Snapshot) (*inventory.Inventory, error) {
	raw, err := s.DataFor(Platform)
	if err != nil {
		return nil, err
	}
	var d Data
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("snapshot data is not Hyper-V data: %w", err)
	}
	return normalizeData(&d, s.Target, s.CollectedAt, s.Gaps)
}

// Enumerations (Microsoft's class documentation; see hyperv.md).
var (
	// Msvm_ComputerSystem.EnabledState.
	vmStates = map[int64]string{
		0: "Unknown", 1: "Other", 2: "Running", 3: "Off", 4: "ShuttingDown", 5: "NotApplicable", 6: "Saved",
		7: "InTest", 8: "Deferred", 9: "Paused", 10: "Starting", 11: "Reset",
		32768: "Paused", 32769: "Saved", 32770: "Starting", 32771: "Snapshotting", 32773: "Saving",
		32774: "Stopping", 32776: "Pausing", 32777: "Resuming",
	}
	vmStateNames = map[string]int64{"running": 2, "enabled": 2, "off": 3, "disabled": 3, "stopped": 3, "saved": 32769,
		"enabledbutoffline": 6, "paused": 32768, "quiesce": 9, "suspended": 32769, "starting": 32770,
		"saving": 32773, "stopping": 32774, "pausing": 32776, "resuming": 32777, "shuttingdown": 4}
	// EnabledState of integration components: 2 Enabled, 3 Disabled.
	enabledNames = map[string]int64{"enabled": 2, "disabled": 3}
	// Msvm_EthernetSwitchPortVlanSettingData.OperationMode.
	vlanModeNames = map[string]int64{"unknown": 0, "access": 1, "trunk": 2, "private": 3, "untagged": 0}
	// Msvm_VirtualSystemMigrationServiceSettingData.AuthenticationType.
	migAuthNames = map[string]int64{"credssp": 0, "kerberos": 1}
	// MonitorMode: 0 None, 1 Destination, 2 Source.
	monitorNames = map[string]int64{"none": 0, "destination": 1, "source": 2}
	// DebugPortEnabled: 0 Off, 1 On, 2 OnAutoAssigned.
	debugNames = map[string]int64{"off": 0, "on": 1, "onautoassigned": 2}
	// MSFT_HgsClientConfiguration.AttestationOperationMode.
	hgsModes = map[int64]string{0: "unknown", 1: "tpm", 2: "ad"}
	// Secure Boot templates by id (hyperv.md; other ids map to "").
	secureBootTemplates = map[string]string{
		"1734C6E8-3154-4DDA-BA5F-A874CC483422": "MicrosoftWindows",
		"272E7447-90A4-4563-A4B9-8E4AB00526CE": "MicrosoftUEFICertificateAuthority",
	}
)

var guidRE = regexp.MustCompile(`^\{?[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}?$`)

// mapper holds one mapping's state.
type mapper struct {
	d    *Data
	at   time.Time
	inv  *inventory.Inventory
	host *inventory.Host
	hv   *inventory.HyperVHost
}

// object names one inventory object, or every object of a kind, for its gaps.
type object struct{ kind, id string }

var (
	everyVM      = object{inventory.KindVM, "*"}
	everyNetwork = object{inventory.KindNetwork, "*"}
)

func (m *mapper) gap(o object, field, reason string) { m.inv.Gaps.Add(o.kind, o.id, field, reason) }

// rows returns a class's instances, or "" and the reason they are unknown.
func (m *mapper) rows(class string) (Instances, string) {
	q := m.d.query(class)
	if q == nil {
		return nil, class + " was not queried"
	}
	if q.Error != "" {
		return nil, fmt.Sprintf("%s query failed: %s", class, q.Error)
	}
	return q.Instances, ""
}

// field reads one property for one model field: the value, or a gap on
// object naming class and property and nil.
type reader struct {
	m      *mapper
	object object
	class  string
	in     Instance
}

func (m *mapper) reader(o object, class string, in Instance) reader {
	return reader{m: m, object: o, class: class, in: in}
}

func (r reader) raw(field, p string) (any, bool) {
	v, ok := prop(r.in, p)
	if !ok {
		r.m.gap(r.object, field, r.m.missingReason(r.class, p, hasKey(r.in, p)))
	}
	return v, ok
}

func (r reader) bad(field, p string, v any) {
	r.m.gap(r.object, field, fmt.Sprintf("%s.%s has a value hvaudit cannot read: %s", r.class, p, truncate(fmt.Sprint(v), 60)))
}

// read converts one property with conv: absent or unconvertible, the field
// stays nil and a gap says which and why.
func read[T any](r reader, field, p string, conv func(any) (T, bool)) *T {
	v, ok := r.raw(field, p)
	if !ok {
		return nil
	}
	x, ok := conv(v)
	if !ok {
		r.bad(field, p, v)
		return nil
	}
	return &x
}

func (r reader) boolean(field, p string) *bool { return read(r, field, p, asBool) }

func (r reader) integer(field, p string) *int64 { return read(r, field, p, asInt) }

func (r reader) str(field, p string) *string { return read(r, field, p, asString) }

func (r reader) when(field, p string) *time.Time { return read(r, field, p, asTime) }

func (r reader) enum(field, p string, names map[string]int64) *int64 {
	return read(r, field, p, func(v any) (int64, bool) { return asEnum(v, names) })
}

func (r reader) ints(field, p string) []int64 {
	v, ok := prop(r.in, p)
	if !ok {
		// A null array property is an empty list in WMI's terms; only a
		// property missing from the instance is unknown.
		if _, present := r.in[p]; present {
			return []int64{}
		}
		r.m.gap(r.object, field, r.m.missingReason(r.class, p, false))
		return nil
	}
	list, ok := asInts(v)
	if !ok {
		r.bad(field, p, v)
		return nil
	}
	return list
}

// opt reads a property without recording a gap when it is absent.
func opt[T any](r reader, p string, read func(any) (T, bool)) *T {
	v, ok := prop(r.in, p)
	if !ok {
		return nil
	}
	x, ok := read(v)
	if !ok {
		return nil
	}
	return &x
}

// days is whole days from t to the collection time, never negative.
func (m *mapper) days(t time.Time) int64 {
	d := int64(m.at.Sub(t) / (24 * time.Hour))
	if d < 0 {
		return 0
	}
	return d
}

// normalizeData maps recorded Hyper-V data to the inventory. It is pure:
// the same data and time always give the same inventory. It fails only
// when Msvm_ComputerSystem could not be read, because then the VM list
// itself is unknown and no VM check could say so.
func normalizeData(d *Data, t collectors.SnapshotTarget, at time.Time, fetchGaps inventory.Gaps) (*inventory.Inventory, error) {
	inv := &inventory.Inventory{
		Platform:    Platform,
		CollectedAt: at,
		Target: inventory.Target{
			Name: t.Name, URI: t.URI, Platform: Platform, Transport: t.RecordedTransport(),
			Kind: inventory.Ptr("hyperv"), Settings: map[string]string{"source": d.Source},
		},
		Hosts:    []inventory.Host{},
		VMs:      []inventory.VM{},
		Networks: []inventory.Network{},
		Gaps:     append(inventory.Gaps{}, fetchGaps...),
		Sources:  sources(),
	}
	if d.PSVersion != "" {
		inv.Target.Settings["powershell_version"] = d.PSVersion
	}
	m := &mapper{d: d, at: at, inv: inv}
	csRows, why := m.rows("Msvm_ComputerSystem")
	if why != "" {
		return nil, fmt.Errorf("Hyper-V's WMI namespace %s could not be read (%s); is the Hyper-V role installed and the account in Hyper-V Administrators?", NSVirtualization, why)
	}
	// Every Hyper-V host lists itself in Msvm_ComputerSystem. Without that
	// row the answer was filtered (an account outside Hyper-V
	// Administrators, or a UAC-filtered token, sees no instances rather
	// than an error): the VM list is unknown, not empty.
	if !hasHostRow(csRows) {
		return nil, fmt.Errorf("Msvm_ComputerSystem returned %d instances and not the host's own row: the account cannot see Hyper-V's objects (is it in Hyper-V Administrators, and not UAC-filtered?)", len(csRows))
	}
	m.mapHost(t)
	vms := m.mapVMs()
	net := m.mapNetwork(vms)
	m.finish(net)
	sort.SliceStable(inv.VMs, func(a, b int) bool {
		if inv.VMs[a].Name != inv.VMs[b].Name {
			return inv.VMs[a].Name < inv.VMs[b].Name
		}
		return inv.VMs[a].ID < inv.VMs[b].ID
	})
	// The mapper's gaps in a stable order (map iteration is random); the
	// snapshot's own gaps stay first, as recorded.
	own := inv.Gaps[len(fetchGaps):]
	sort.SliceStable(own, func(a, b int) bool {
		x, y := own[a], own[b]
		if x.Object != y.Object {
			return x.Object < y.Object
		}
		if x.Field != y.Field {
			return x.Field < y.Field
		}
		return x.Reason < y.Reason
	})
	return inv, nil
}

// hasHostRow reports whether Msvm_ComputerSystem holds the host's own row
// (its Name is the computer name, not a VM GUID).
func hasHostRow(rows Instances) bool {
	for _, in := range rows {
		if name, ok := asString(unwrapProp(in, "Name")); ok && name != "" && !guidRE.MatchString(name) {
			return true
		}
	}
	return false
}

// mapHost fills the host from Win32_OperatingSystem, the UBR, hotfixes,
// migration, Device Guard, HGS and the management service settings.
