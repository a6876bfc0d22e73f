package hyperv

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hvaudit/hvaudit/collectors"
	"github.com/hvaudit/hvaudit/collectors/inventory"
)

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
