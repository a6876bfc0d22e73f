package hyperv

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hvaudit/hvaudit/collectors"
	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// Normalize maps a hyperv snapshot to the neutral inventory. It does no
// I/O. A value the snapshot lacks (a failed query, a property the host's
// Windows version does not have, a value in a form not understood) stays
// nil and a gap names the class, the property and the reason.
func (c *Collector) Normalize(s *collectors.Snapshot) (*inventory.Inventory, error) {
	if s == nil {
		return nil, errors.New("no snapshot")
	}
	if s.Platform != Platform {
		return nil, fmt.Errorf("snapshot is for platform %q, not %q", s.Platform, Platform)
	}
	var d Data
	if err := json.Unmarshal(s.Data, &d); err != nil {
		return nil, fmt.Errorf("snapshot data is not Hyper-V data: %w", err)
	}
	return MapInstances(&d, s.Target, s.CollectedAt, s.Gaps)
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

func (m *mapper) gap(object, field, reason string) {
	m.inv.Gaps = append(m.inv.Gaps, inventory.Gap{Object: object, Field: field, Reason: reason})
}

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
	object string
	class  string
	in     Instance
}

func (m *mapper) reader(object, class string, in Instance) reader {
	return reader{m: m, object: object, class: class, in: in}
}

func (r reader) raw(field, p string) (any, bool) {
	v, ok := prop(r.in, p)
	if !ok {
		r.m.gap(r.object, field, fmt.Sprintf("%s.%s is missing from the instance", r.class, p))
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
		r.m.gap(r.object, field, fmt.Sprintf("%s.%s is missing from the instance", r.class, p))
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

// MapInstances maps recorded Hyper-V data to the inventory. It is pure:
// the same data and time always give the same inventory. It fails only
// when Msvm_ComputerSystem could not be read, because then the VM list
// itself is unknown and no VM check could say so.
func MapInstances(d *Data, t collectors.SnapshotTarget, at time.Time, snapGaps []inventory.Gap) (*inventory.Inventory, error) {
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
		Gaps:     append([]inventory.Gap{}, snapGaps...),
		Sources:  sources(),
	}
	if d.PSVersion != "" {
		inv.Target.Settings["powershell_version"] = d.PSVersion
	}
	m := &mapper{d: d, at: at, inv: inv}
	if _, why := m.rows("Msvm_ComputerSystem"); why != "" {
		return nil, fmt.Errorf("Hyper-V's WMI namespace %s could not be read (%s); is the Hyper-V role installed and the account in Hyper-V Administrators?", NSVirtualization, why)
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
	own := inv.Gaps[len(snapGaps):]
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

// mapHost fills the host from Win32_OperatingSystem, the UBR, hotfixes,
// migration, Device Guard, HGS and the management service settings.
func (m *mapper) mapHost(t collectors.SnapshotTarget) {
	id := ""
	var osRow Instance
	osRows, osWhy := m.rows("Win32_OperatingSystem")
	if len(osRows) > 0 {
		osRow = osRows[0]
		if s := opt(reader{in: osRow}, "CSName", asString); s != nil {
			id = *s
		}
	} else if osWhy == "" {
		osWhy = "Win32_OperatingSystem returned no instance"
	}
	if id == "" {
		id = m.d.Host
		if id == "" || id == "localhost" {
			id = t.Name
		}
		if id == "" {
			id = "localhost"
		}
		m.gap(inventory.ObjectKey(inventory.KindHost, id), "host.name", "Win32_OperatingSystem.CSName not read; named after the target")
	}
	key := inventory.ObjectKey(inventory.KindHost, id)
	m.inv.Hosts = append(m.inv.Hosts, inventory.Host{ID: id, Name: id})
	m.host = &m.inv.Hosts[0]
	m.hv = &inventory.HyperVHost{ComputerName: id}
	m.host.HyperV = m.hv

	// OS build and UBR → patch level.
	var build, version *string
	if osRow != nil {
		r := m.reader(key, "Win32_OperatingSystem", osRow)
		m.hv.OSCaption = r.str("host.hyperv.os_caption", "Caption")
		build = r.str("host.hyperv.build_number", "BuildNumber")
		version = r.str("host.patch", "Version")
		m.hv.LastBoot = opt(r, "LastBootUpTime", asTime)
		m.hv.BuildNumber = build
	} else {
		m.gap(key, "host.hyperv.os_caption", osWhy)
		m.gap(key, "host.hyperv.build_number", osWhy)
	}
	ubr, ubrWhy := m.ubr()
	if ubr != nil {
		m.hv.UBR = ubr
	} else {
		m.gap(key, "host.hyperv.ubr", ubrWhy)
	}
	switch {
	case build != nil && version != nil && ubr != nil:
		v := *version
		if !strings.HasSuffix(v, "."+*build) {
			v = "10.0." + *build
		}
		p := &inventory.PatchLevel{
			Product: "windows-server", ReleaseLine: *build,
			Version: fmt.Sprintf("%s.%d", v, *ubr), Build: fmt.Sprintf("%s.%d", *build, *ubr),
			Scheme: inventory.SchemeUpstream,
		}
		if m.hv.OSCaption != nil {
			p.FullName = *m.hv.OSCaption
		}
		m.host.Patch = p
		m.inv.Target.Version, m.inv.Target.Build = inventory.Ptr(p.Version), inventory.Ptr(p.Build)
	case osRow == nil:
		m.gap(key, "host.patch", osWhy)
	case ubr == nil:
		m.gap(key, "host.patch", "the update build revision is unknown ("+ubrWhy+"), so the build cannot be compared with advisory data")
	}
	if m.hv.OSCaption != nil {
		m.inv.Target.Product = m.hv.OSCaption
	}

	m.mapHotfixes(key)
	m.mapMigrationService(key)
	m.mapDeviceGuard(key)
	m.mapHGS(key)
	if rows, why := m.rows("Msvm_VirtualSystemManagementServiceSettingData"); why != "" || len(rows) == 0 {
		if why == "" {
			why = "Msvm_VirtualSystemManagementServiceSettingData returned no instance"
		}
		m.gap(key, "host.hyperv.enhanced_session_mode", why)
	} else {
		r := m.reader(key, "Msvm_VirtualSystemManagementServiceSettingData", rows[0])
		m.hv.EnhancedSessionMode = r.boolean("host.hyperv.enhanced_session_mode", "EnhancedSessionModeEnabled")
		m.hv.DefaultVHDPath = opt(r, "DefaultVirtualHardDiskPath", asString)
		m.hv.DefaultDataRoot = opt(r, "DefaultExternalDataRoot", asString)
	}
}

// ubr reads StdRegProv.GetDWORDValue's result.
func (m *mapper) ubr() (*int64, string) {
	mr := m.d.method("StdRegProv", "GetDWORDValue")
	switch {
	case mr == nil:
		return nil, "StdRegProv.GetDWORDValue (UBR) was not called"
	case mr.Error != "":
		return nil, "StdRegProv.GetDWORDValue (UBR) failed: " + mr.Error
	}
	if rv, ok := prop(mr.Result, "ReturnValue"); ok {
		if n, ok := asInt(rv); ok && n != 0 {
			return nil, fmt.Sprintf("StdRegProv.GetDWORDValue (UBR) returned %d (2: the value does not exist; 5: access denied)", n)
		}
	}
	v, ok := prop(mr.Result, "uValue")
	if !ok {
		return nil, "StdRegProv.GetDWORDValue.uValue (UBR) is missing from the result"
	}
	n, ok := asInt(v)
	if !ok || n < 0 {
		return nil, "StdRegProv.GetDWORDValue.uValue (UBR) is not a number"
	}
	return &n, ""
}

func (m *mapper) mapHotfixes(key string) {
	rows, why := m.rows("Win32_QuickFixEngineering")
	if why != "" {
		m.gap(key, "host.hyperv.hotfixes", why)
		m.gap(key, "host.hyperv.newest_hotfix_days", why)
		return
	}
	m.hv.Hotfixes = []inventory.HyperVHotfix{}
	var newest *time.Time
	for _, in := range rows {
		h := inventory.HyperVHotfix{}
		r := reader{in: in}
		if s := opt(r, "HotFixID", asString); s != nil {
			h.ID = *s
		}
		if s := opt(r, "Description", asString); s != nil {
			h.Description = *s
		}
		if s := opt(r, "InstalledBy", asString); s != nil {
			h.InstalledBy = *s
		}
		if v, ok := prop(in, "InstalledOn"); ok {
			h.InstalledOnRaw, _ = asString(v)
			if t, ok := asHotfixDate(v); ok {
				h.InstalledOn = &t
				if newest == nil || t.After(*newest) {
					newest = &t
				}
			}
		}
		m.hv.Hotfixes = append(m.hv.Hotfixes, h)
	}
	sort.SliceStable(m.hv.Hotfixes, func(a, b int) bool {
		x, y := m.hv.Hotfixes[a], m.hv.Hotfixes[b]
		switch {
		case x.InstalledOn != nil && y.InstalledOn != nil && !x.InstalledOn.Equal(*y.InstalledOn):
			return x.InstalledOn.After(*y.InstalledOn)
		case (x.InstalledOn == nil) != (y.InstalledOn == nil):
			return x.InstalledOn != nil
		}
		return x.ID > y.ID
	})
	if newest != nil {
		m.hv.NewestHotfixDays = inventory.Ptr(m.days(*newest))
	} else {
		m.gap(key, "host.hyperv.newest_hotfix_days", "no Win32_QuickFixEngineering.InstalledOn could be read as a date")
	}
}

func (m *mapper) mapMigrationService(key string) {
	const cls = "Msvm_VirtualSystemMigrationServiceSettingData"
	rows, why := m.rows(cls)
	if why == "" && len(rows) == 0 {
		why = cls + " returned no instance"
	}
	if why != "" {
		m.gap(key, "host.hyperv.migration", why)
		return
	}
	r := m.reader(key, cls, rows[0])
	mig := &inventory.HyperVMigrationService{
		Enabled:                    r.boolean("host.hyperv.migration.enabled", "EnableVirtualSystemMigration"),
		Compression:                r.boolean("host.hyperv.migration.compression", "EnableCompression"),
		SMBTransport:               r.boolean("host.hyperv.migration.smb_transport", "EnableSmbTransport"),
		MaxActiveMigrations:        opt(r, "MaximumActiveVirtualSystemMigration", asInt),
		MaxActiveStorageMigrations: opt(r, "MaximumActiveStorageMigration", asInt),
	}
	if a := r.enum("host.hyperv.migration.authentication", "AuthenticationType", migAuthNames); a != nil {
		switch *a {
		case 0:
			mig.Authentication = inventory.Ptr("credssp")
		case 1:
			mig.Authentication = inventory.Ptr("kerberos")
		default:
			r.bad("host.hyperv.migration.authentication", "AuthenticationType", *a)
		}
	}
	const ncls = "Msvm_VirtualSystemMigrationNetworkSettingData"
	nrows, nwhy := m.rows(ncls)
	if nwhy != "" {
		m.gap(key, "host.hyperv.migration.networks", nwhy)
		m.gap(key, "host.hyperv.migration.dedicated_networks", nwhy)
	} else {
		mig.Networks = []string{}
		ok := true
		for _, in := range nrows {
			nr := m.reader(key, ncls, in)
			subnet := nr.str("host.hyperv.migration.networks", "SubnetNumber")
			prefix := nr.integer("host.hyperv.migration.networks", "PrefixLength")
			if subnet == nil || prefix == nil {
				ok = false
				continue
			}
			mig.Networks = append(mig.Networks, fmt.Sprintf("%s/%d", *subnet, *prefix))
		}
		sort.Strings(mig.Networks)
		if ok {
			mig.DedicatedNetworks = inventory.Ptr(len(mig.Networks) > 0)
		} else {
			mig.Networks = nil
		}
	}
	m.hv.Migration = mig
}

func (m *mapper) mapDeviceGuard(key string) {
	const cls = "Win32_DeviceGuard"
	rows, why := m.rows(cls)
	if why == "" && len(rows) == 0 {
		why = cls + " returned no instance"
	}
	if why != "" {
		m.gap(key, "host.hyperv.device_guard", why)
		return
	}
	r := m.reader(key, cls, rows[0])
	dg := &inventory.HyperVDeviceGuard{
		VBSStatus:                   r.integer("host.hyperv.device_guard.vbs_status", "VirtualizationBasedSecurityStatus"),
		SecurityServicesConfigured:  r.ints("host.hyperv.device_guard.security_services_configured", "SecurityServicesConfigured"),
		SecurityServicesRunning:     r.ints("host.hyperv.device_guard.security_services_running", "SecurityServicesRunning"),
		RequiredSecurityProperties:  r.ints("host.hyperv.device_guard.required_security_properties", "RequiredSecurityProperties"),
		AvailableSecurityProperties: r.ints("host.hyperv.device_guard.available_security_properties", "AvailableSecurityProperties"),
	}
	if dg.VBSStatus != nil {
		dg.VBSRunning = inventory.Ptr(*dg.VBSStatus == 2)
	} else {
		m.gap(key, "host.hyperv.device_guard.vbs_running", "Win32_DeviceGuard.VirtualizationBasedSecurityStatus not read")
	}
	if dg.SecurityServicesRunning != nil {
		has := func(n int64) *bool {
			for _, x := range dg.SecurityServicesRunning {
				if x == n {
					return inventory.Ptr(true)
				}
			}
			return inventory.Ptr(false)
		}
		dg.CredentialGuardRunning, dg.HVCIRunning = has(1), has(2)
	} else {
		m.gap(key, "host.hyperv.device_guard.hvci_running", "Win32_DeviceGuard.SecurityServicesRunning not read")
		m.gap(key, "host.hyperv.device_guard.credential_guard_running", "Win32_DeviceGuard.SecurityServicesRunning not read")
	}
	m.hv.DeviceGuard = dg
}

func (m *mapper) mapHGS(key string) {
	const cls = "MSFT_HgsClientConfiguration"
	rows, why := m.rows(cls)
	if why == "" && len(rows) == 0 {
		why = cls + " returned no instance (the HGS client answers only its Get method on some hosts, which hvaudit does not call)"
	}
	if why != "" {
		m.gap(key, "host.hyperv.hgs", why)
		return
	}
	r := m.reader(key, cls, rows[0])
	h := &inventory.HyperVHGS{
		IsHostGuarded:     r.boolean("host.hyperv.hgs.is_host_guarded", "IsHostGuarded"),
		Mode:              opt(r, "Mode", asInt),
		AttestationStatus: opt(r, "AttestationStatus", asInt),
	}
	if v, ok := r.raw("host.hyperv.hgs.attestation_mode", "AttestationOperationMode"); ok {
		if n, ok := asInt(v); ok {
			if s, known := hgsModes[n]; known {
				h.AttestationMode = inventory.Ptr(s)
			} else {
				h.AttestationMode = inventory.Ptr("mode-" + strconv.FormatInt(n, 10))
			}
		} else if s, ok := asString(v); ok {
			switch w := strings.ToLower(s); w {
			case "trustedplatformmodule", "tpm":
				h.AttestationMode = inventory.Ptr("tpm")
			case "activedirectory", "admintrusted", "ad":
				h.AttestationMode = inventory.Ptr("ad")
			default:
				h.AttestationMode = inventory.Ptr(w)
			}
		}
	}
	if s := opt(r, "AttestationServerUrl", asString); s != nil {
		h.AttestationServerURL = *s
	}
	if s := opt(r, "KeyProtectionServerUrl", asString); s != nil {
		h.KeyProtectionServerURL = *s
	}
	m.hv.HGS = h
}

// vmIndex gives, per VM id, its VM in the inventory being built.
type vmIndex map[string]*inventory.VM

// byOwner groups a class's instances by the VM that owns them: the first
// InstanceID segment (Microsoft:VMGUID\…), or the SystemName. Instances of
// checkpoints (whose first segment is the checkpoint's id) and of
// switches fall out because no VM has their id.
func byOwner(rows Instances, vms vmIndex, keyProp string) map[string]Instance {
	out := map[string]Instance{}
	for _, in := range rows {
		v, ok := prop(in, keyProp)
		if !ok {
			continue
		}
		s, _ := asString(v)
		owner := normID(s)
		if keyProp == "InstanceID" {
			segs := idSegments(s)
			if len(segs) == 0 {
				continue
			}
			owner = segs[0]
		}
		if _, isVM := vms[owner]; isVM {
			if _, dup := out[owner]; !dup {
				out[owner] = in
			}
		}
	}
	return out
}

// mapVMs reads Msvm_ComputerSystem and every per-VM settings class.
func (m *mapper) mapVMs() vmIndex {
	rows, _ := m.rows("Msvm_ComputerSystem")
	vms := vmIndex{}
	var order []string
	for _, in := range rows {
		name, _ := asString(unwrapProp(in, "Name"))
		if !guidRE.MatchString(name) {
			continue // the host's own row ("Hosting Computer System")
		}
		id := normID(name)
		if _, dup := vms[id]; dup {
			continue
		}
		key := inventory.ObjectKey(inventory.KindVM, id)
		r := m.reader(key, "Msvm_ComputerSystem", in)
		vm := &inventory.VM{ID: id, Name: id, Host: inventory.Ptr(m.host.ID), Template: inventory.Ptr(false), HyperV: &inventory.HyperVVM{Ports: []inventory.HyperVPort{}}}
		if s := r.str("vm.name", "ElementName"); s != nil && *s != "" {
			vm.Name = *s
		}
		hv := vm.HyperV
		if st := r.enum("vm.power_state", "EnabledState", vmStateNames); st != nil {
			hv.EnabledState = st
			hv.State = vmStates[*st]
			if hv.State == "" {
				hv.State = fmt.Sprintf("Unknown(%d)", *st)
			}
			switch hv.State {
			case "Running", "Starting", "Stopping", "ShuttingDown", "Saving", "Pausing", "Resuming", "Snapshotting", "Reset":
				vm.PowerState = inventory.Ptr("on")
			case "Off":
				vm.PowerState = inventory.Ptr("off")
			case "Saved", "Paused":
				vm.PowerState = inventory.Ptr("suspended")
			default:
				m.gap(key, "vm.power_state", fmt.Sprintf("Msvm_ComputerSystem.EnabledState %d is not a power state", *st))
			}
		} else {
			hv.State = "Unknown"
		}
		if ms := opt(r, "OnTimeInMilliseconds", asInt); ms != nil {
			hv.UptimeSeconds = inventory.Ptr(*ms / 1000)
		}
		if t := r.when("vm.hyperv.days_in_state", "TimeOfLastStateChange"); t != nil {
			hv.LastStateChange = t
			hv.DaysInState = inventory.Ptr(m.days(*t))
		}
		vms[id] = vm
		order = append(order, id)
	}
	m.mapVSSD(vms)
	m.mapSecurity(vms)
	m.mapGuestServices(vms)
	m.mapProcessors(vms)
	for _, id := range order {
		m.inv.VMs = append(m.inv.VMs, *vms[id])
	}
	// Point the index at the inventory's copies so later steps edit them.
	for i := range m.inv.VMs {
		vms[m.inv.VMs[i].ID] = &m.inv.VMs[i]
	}
	m.gap("vm:*", "vm.encryption.all_disks", "Hyper-V VM disks are encrypted by BitLocker on the host volume or in the guest, which WMI's virtualization namespace does not report")
	return vms
}

func unwrapProp(in Instance, p string) any {
	v, _ := prop(in, p)
	return v
}

// mapVSSD reads Msvm_VirtualSystemSettingData: the realized configuration
// of each VM, and its checkpoints.
func (m *mapper) mapVSSD(vms vmIndex) {
	const cls = "Msvm_VirtualSystemSettingData"
	rows, why := m.rows(cls)
	if why != "" {
		for _, f := range []string{"vm.firmware", "vm.secure_boot", "vm.snapshots", "vm.oldest_snapshot_days", "vm.hyperv.generation", "vm.hyperv.configuration_version", "vm.hyperv.automatic_checkpoints", "vm.hyperv.debug_port"} {
			m.gap("vm:*", f, why)
		}
		return
	}
	realized := map[string]Instance{}
	snaps := map[string][]inventory.VMSnapshot{}
	snapGaps := map[string]string{}
	for _, in := range rows {
		typ, _ := asString(unwrapProp(in, "VirtualSystemType"))
		owner := ""
		if s, ok := asString(unwrapProp(in, "VirtualSystemIdentifier")); ok {
			owner = normID(s)
		}
		if owner == "" {
			if s, ok := asString(unwrapProp(in, "InstanceID")); ok {
				if segs := idSegments(s); len(segs) > 0 {
					owner = segs[0]
				}
			}
		}
		if _, isVM := vms[owner]; !isVM {
			continue
		}
		lt := strings.ToLower(typ)
		switch {
		case strings.Contains(lt, ":snapshot"):
			name, _ := asString(unwrapProp(in, "ElementName"))
			ct, ok := asTime(unwrapProp(in, "CreationTime"))
			if !ok {
				snapGaps[owner] = fmt.Sprintf("%s.CreationTime of checkpoint %q is missing or unreadable", cls, name)
				continue
			}
			snaps[owner] = append(snaps[owner], inventory.VMSnapshot{Name: name, Created: ct})
		case strings.HasSuffix(lt, ":realized") || typ == "":
			if _, dup := realized[owner]; !dup {
				realized[owner] = in
			}
		}
	}
	for id, vm := range vms {
		key := inventory.ObjectKey(inventory.KindVM, id)
		list := snaps[id]
		sort.Slice(list, func(a, b int) bool { return list[a].Created.Before(list[b].Created) })
		if reason, bad := snapGaps[id]; bad {
			m.gap(key, "vm.snapshots", reason)
			m.gap(key, "vm.oldest_snapshot_days", reason)
		} else {
			vm.Snapshots = list
			oldest := int64(0)
			if len(list) > 0 {
				oldest = m.days(list[0].Created)
			}
			vm.OldestSnapshotDays = &oldest
		}
		in, ok := realized[id]
		if !ok {
			reason := cls + " has no realized configuration for the VM"
			for _, f := range []string{"vm.firmware", "vm.secure_boot", "vm.hyperv.generation", "vm.hyperv.configuration_version", "vm.hyperv.automatic_checkpoints", "vm.hyperv.debug_port"} {
				m.gap(key, f, reason)
			}
			continue
		}
		r := m.reader(key, cls, in)
		hv := vm.HyperV
		if st := r.str("vm.hyperv.generation", "VirtualSystemSubType"); st != nil {
			switch {
			case strings.HasSuffix(*st, ":1") || *st == "1":
				hv.Generation = inventory.Ptr(int64(1))
			case strings.HasSuffix(*st, ":2") || *st == "2":
				hv.Generation = inventory.Ptr(int64(2))
			default:
				r.bad("vm.hyperv.generation", "VirtualSystemSubType", *st)
			}
		}
		if hv.Generation != nil {
			if *hv.Generation == 2 {
				vm.Firmware = inventory.Ptr("efi")
				vm.SecureBoot = r.boolean("vm.secure_boot", "SecureBootEnabled")
			} else {
				// Generation 1 firmware is BIOS, which has no Secure Boot.
				vm.Firmware = inventory.Ptr("bios")
				vm.SecureBoot = inventory.Ptr(false)
			}
		} else {
			m.gap(key, "vm.firmware", "the VM's generation is unknown")
			m.gap(key, "vm.secure_boot", "the VM's generation is unknown")
		}
		hv.ConfigurationVersion = r.str("vm.hyperv.configuration_version", "Version")
		if tid := opt(r, "SecureBootTemplateId", asString); tid != nil && *tid != "" {
			id := normID(*tid)
			hv.SecureBootTemplateID = &id
			hv.SecureBootTemplate = inventory.Ptr(secureBootTemplates[id])
		}
		hv.AutomaticCheckpoints = r.boolean("vm.hyperv.automatic_checkpoints", "AutomaticSnapshotsEnabled")
		if dp := r.enum("vm.hyperv.debug_port", "DebugPortEnabled", debugNames); dp != nil {
			hv.DebugPort = inventory.Ptr(*dp != 0)
		}
	}
}

// mapSecurity reads Msvm_SecuritySettingData (configured) and
// Msvm_SecurityElement (runtime).
func (m *mapper) mapSecurity(vms vmIndex) {
	const cls = "Msvm_SecuritySettingData"
	rows, why := m.rows(cls)
	fields := []string{"vm.vtpm", "vm.encryption.confidential", "vm.migration.encryption",
		"vm.hyperv.shielding_requested", "vm.hyperv.encrypt_state_and_migration_traffic", "vm.hyperv.vbs_opt_out"}
	if why != "" {
		for _, f := range fields {
			m.gap("vm:*", f, why)
		}
	}
	owned := byOwner(rows, vms, "InstanceID")
	const elCls = "Msvm_SecurityElement"
	elRows, elWhy := m.rows(elCls)
	elFields := []string{"vm.hyperv.shielded", "vm.hyperv.encryption_active"}
	if elWhy != "" {
		for _, f := range elFields {
			m.gap("vm:*", f, elWhy)
		}
	}
	elements := byOwner(elRows, vms, "SystemName")
	for id, vm := range vms {
		key := inventory.ObjectKey(inventory.KindVM, id)
		hv := vm.HyperV
		if why == "" {
			in, ok := owned[id]
			if !ok {
				for _, f := range fields {
					m.gap(key, f, cls+" has no instance for the VM")
				}
			} else {
				r := m.reader(key, cls, in)
				vm.VTPM = r.boolean("vm.vtpm", "TpmEnabled")
				hv.KSDEnabled = opt(r, "KsdEnabled", asBool)
				hv.ShieldingRequested = r.boolean("vm.hyperv.shielding_requested", "ShieldingRequested")
				hv.DataProtectionRequested = opt(r, "DataProtectionRequested", asBool)
				hv.EncryptStateAndMigrationTraffic = r.boolean("vm.hyperv.encrypt_state_and_migration_traffic", "EncryptStateAndVmMigrationTraffic")
				hv.VBSOptOut = r.boolean("vm.hyperv.vbs_opt_out", "VirtualizationBasedSecurityOptOut")
				hv.BindToHostTPM = opt(r, "BindToHostTpm", asBool)
				if e := hv.EncryptStateAndMigrationTraffic; e != nil {
					word := "disabled"
					if *e {
						word = "required"
					}
					vm.Migration = &inventory.VMMigration{Encryption: &word}
				} else {
					m.gap(key, "vm.migration.encryption", cls+".EncryptStateAndVmMigrationTraffic was not read")
				}
			}
		}
		if elWhy == "" {
			if in, ok := elements[id]; ok {
				r := m.reader(key, elCls, in)
				hv.Shielded = r.boolean("vm.hyperv.shielded", "Shielded")
				hv.EncryptionActive = r.boolean("vm.hyperv.encryption_active", "EncryptStateAndVmMigrationTrafficEnabled")
			} else {
				for _, f := range elFields {
					m.gap(key, f, elCls+" has no instance for the VM")
				}
			}
		}
		enc := &inventory.VMEncryption{}
		switch {
		case hv.Shielded != nil && *hv.Shielded, hv.ShieldingRequested != nil && *hv.ShieldingRequested:
			enc.Confidential = inventory.Ptr("shielded")
		case hv.ShieldingRequested != nil:
			enc.Confidential = inventory.Ptr("none")
		case why == "" && owned[id] != nil:
			m.gap(key, "vm.encryption.confidential", cls+".ShieldingRequested was not read")
		}
		vm.Encryption = enc
	}
}

// mapGuestServices reads the Guest Service Interface's configured state.
func (m *mapper) mapGuestServices(vms vmIndex) {
	const cls = "Msvm_GuestServiceInterfaceComponentSettingData"
	rows, why := m.rows(cls)
	if why != "" {
		m.gap("vm:*", "vm.hyperv.guest_service_interface", why)
		return
	}
	owned := byOwner(rows, vms, "InstanceID")
	for id, vm := range vms {
		key := inventory.ObjectKey(inventory.KindVM, id)
		in, ok := owned[id]
		if !ok {
			m.gap(key, "vm.hyperv.guest_service_interface", cls+" has no instance for the VM")
			continue
		}
		r := m.reader(key, cls, in)
		if st := r.enum("vm.hyperv.guest_service_interface", "EnabledState", enabledNames); st != nil {
			switch *st {
			case 2:
				vm.HyperV.GuestServiceInterface = inventory.Ptr(true)
			case 3:
				vm.HyperV.GuestServiceInterface = inventory.Ptr(false)
			default:
				r.bad("vm.hyperv.guest_service_interface", "EnabledState", *st)
			}
		}
	}
}

// mapProcessors reads nested virtualization and speculation controls.
func (m *mapper) mapProcessors(vms vmIndex) {
	const cls = "Msvm_ProcessorSettingData"
	rows, why := m.rows(cls)
	if why != "" {
		m.gap("vm:*", "vm.hyperv.nested_virtualization", why)
		m.gap("vm:*", "vm.hyperv.speculation_controls_disabled", why)
		m.gap("vm:*", "vm.hyperv.hw_threads_per_core", why)
		return
	}
	owned := byOwner(rows, vms, "InstanceID")
	for id, vm := range vms {
		key := inventory.ObjectKey(inventory.KindVM, id)
		in, ok := owned[id]
		if !ok {
			m.gap(key, "vm.hyperv.nested_virtualization", cls+" has no instance for the VM")
			m.gap(key, "vm.hyperv.speculation_controls_disabled", cls+" has no instance for the VM")
			m.gap(key, "vm.hyperv.hw_threads_per_core", cls+" has no instance for the VM")
			continue
		}
		r := m.reader(key, cls, in)
		vm.HyperV.NestedVirtualization = r.boolean("vm.hyperv.nested_virtualization", "ExposeVirtualizationExtensions")
		vm.HyperV.SpeculationControlsDisabled = r.boolean("vm.hyperv.speculation_controls_disabled", "DisableSpeculationControls")
		vm.HyperV.HwThreadsPerCore = r.integer("vm.hyperv.hw_threads_per_core", "HwThreadsPerCore")
	}
}
