package hyperv

import (
	"fmt"
	"net/netip"
	"slices"
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
		m.gap(object{inventory.KindHost, id}, "host.name", "Win32_OperatingSystem.CSName not read; named after the target")
	}
	key := object{inventory.KindHost, id}
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
	m.mapManagementSubnets(key)
	m.mapSMB(key)
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

func (m *mapper) mapHotfixes(key object) {
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

func (m *mapper) mapMigrationService(key object) {
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
	switch {
	case mig.Compression == nil:
	case *mig.Compression:
		mig.Transport = inventory.Ptr("compression")
	case mig.SMBTransport == nil:
	case *mig.SMBTransport:
		mig.Transport = inventory.Ptr("smb")
	default:
		mig.Transport = inventory.Ptr("tcpip")
	}
	if mig.Transport == nil {
		m.gap(key, "host.hyperv.migration.transport", cls+".EnableCompression or .EnableSmbTransport was not read")
	}
	m.mapMigrationNetworks(key, mig)
	m.hv.Migration = mig
}

// anyTag marks the rows Set-VMHost -UseAnyNetworkForMigration $true adds
// (0.0.0.0/0 and ::0/0); Add-VMMigrationNetwork's rows carry
// "Microsoft:UserManaged" (Hyper-V's PowerShell module, VMHost).
const anyTag = "Microsoft:UserManagedAllNetworks"

// mapMigrationNetworks reads Msvm_VirtualSystemMigrationNetworkSettingData:
// the networks live migration may use, whether one of them is "any
// network", and whether one overlaps the management subnets.
func (m *mapper) mapMigrationNetworks(key object, mig *inventory.HyperVMigrationService) {
	const ncls = "Msvm_VirtualSystemMigrationNetworkSettingData"
	fields := []string{"host.hyperv.migration.networks", "host.hyperv.migration.any_network",
		"host.hyperv.migration.dedicated_networks", "host.hyperv.migration.management_overlap"}
	nrows, nwhy := m.rows(ncls)
	if nwhy != "" {
		for _, f := range fields {
			m.gap(key, f, nwhy)
		}
		return
	}
	var nets []netip.Prefix
	networks := []string{}
	anyNet, ok := false, true
	for _, in := range nrows {
		nr := m.reader(key, ncls, in)
		subnet := nr.str("host.hyperv.migration.networks", "SubnetNumber")
		prefix := nr.integer("host.hyperv.migration.networks", "PrefixLength")
		if subnet == nil || prefix == nil {
			ok = false
			continue
		}
		cidr := fmt.Sprintf("%s/%d", *subnet, *prefix)
		pfx, err := netip.ParsePrefix(cidr)
		if err != nil {
			nr.bad("host.hyperv.migration.networks", "SubnetNumber", cidr)
			ok = false
			continue
		}
		networks = append(networks, cidr)
		tags := opt(nr, "Tags", asStrings)
		tagged := tags != nil && slices.ContainsFunc(*tags, func(t string) bool { return strings.EqualFold(t, anyTag) })
		if pfx.Bits() == 0 || tagged {
			anyNet = true
			continue
		}
		nets = append(nets, pfx.Masked())
	}
	if !ok {
		for _, f := range fields[1:] {
			m.gap(key, f, "a "+ncls+" row could not be read")
		}
		return
	}
	sort.Strings(networks)
	mig.Networks = networks
	mig.AnyNetwork = inventory.Ptr(anyNet)
	mig.DedicatedNetworks = inventory.Ptr(len(nets) > 0)
	if m.hv.ManagementSubnets == nil {
		m.gap(key, "host.hyperv.migration.management_overlap", "the host's management subnets are unknown (see host.hyperv.management_subnets)")
		return
	}
	overlap := false
	for _, n := range nets {
		for _, s := range m.hv.ManagementSubnets {
			if mp, err := netip.ParsePrefix(s); err == nil && mp.Overlaps(n) {
				overlap = true
			}
		}
	}
	mig.ManagementOverlap = inventory.Ptr(overlap)
}

// mapManagementSubnets reads Win32_NetworkAdapterConfiguration: the
// subnets of the IP-enabled interfaces that have a default gateway.
// Microsoft's guidance gives only the management adapter a gateway (the
// live-migration, cluster and storage networks have none), so these are
// the subnets live migration must stay off.
func (m *mapper) mapManagementSubnets(key object) {
	const cls = "Win32_NetworkAdapterConfiguration"
	rows, why := m.rows(cls)
	if why != "" {
		m.gap(key, "host.hyperv.management_subnets", why)
		return
	}
	subnets := []string{}
	for _, in := range rows {
		r := m.reader(key, cls, in)
		if on := opt(r, "IPEnabled", asBool); on == nil || !*on {
			continue
		}
		gw := opt(r, "DefaultIPGateway", asStrings)
		if gw == nil || len(*gw) == 0 {
			continue
		}
		addrs, masks := opt(r, "IPAddress", asStrings), opt(r, "IPSubnet", asStrings)
		if addrs == nil || masks == nil || len(*addrs) != len(*masks) {
			m.gap(key, "host.hyperv.management_subnets", cls+".IPAddress and .IPSubnet of an interface with a gateway are missing or do not pair up")
			return
		}
		for i, a := range *addrs {
			p, ok := subnetOf(a, (*masks)[i])
			if !ok {
				m.gap(key, "host.hyperv.management_subnets", fmt.Sprintf("%s address %q / %q is not readable", cls, a, (*masks)[i]))
				return
			}
			if p.Addr().IsLinkLocalUnicast() {
				continue
			}
			if s := p.String(); !slices.Contains(subnets, s) {
				subnets = append(subnets, s)
			}
		}
	}
	sort.Strings(subnets)
	m.hv.ManagementSubnets = subnets
}

// subnetOf turns an address and Win32_NetworkAdapterConfiguration's
// IPSubnet entry (a dotted mask for IPv4, a prefix length for IPv6) into
// the network prefix.
func subnetOf(addr, mask string) (netip.Prefix, bool) {
	a, err := netip.ParseAddr(strings.TrimSpace(addr))
	if err != nil {
		return netip.Prefix{}, false
	}
	bits := -1
	if n, err := strconv.Atoi(strings.TrimSpace(mask)); err == nil {
		bits = n
	} else if mk, err := netip.ParseAddr(strings.TrimSpace(mask)); err == nil && mk.Is4() {
		b := mk.As4()
		v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		ones := 0
		for v&0x80000000 != 0 {
			ones++
			v <<= 1
		}
		if v != 0 {
			return netip.Prefix{}, false // not a contiguous mask
		}
		bits = ones
	}
	p, err := a.Unmap().Prefix(bits)
	if err != nil {
		return netip.Prefix{}, false
	}
	return p, true
}

// mapSMB reads MSFT_SmbServerConfiguration: whether the host's SMB server
// encrypts and signs.
func (m *mapper) mapSMB(key object) {
	const cls = "MSFT_SmbServerConfiguration"
	rows, why := m.rows(cls)
	if why == "" && len(rows) == 0 {
		why = cls + " returned no instance"
	}
	if why != "" {
		m.gap(key, "host.hyperv.smb", why)
		return
	}
	r := m.reader(key, cls, rows[0])
	m.hv.SMB = &inventory.HyperVSMBServer{
		EncryptData:              r.boolean("host.hyperv.smb.encrypt_data", "EncryptData"),
		RejectUnencryptedAccess:  r.boolean("host.hyperv.smb.reject_unencrypted_access", "RejectUnencryptedAccess"),
		RequireSecuritySignature: r.boolean("host.hyperv.smb.require_security_signature", "RequireSecuritySignature"),
	}
}

func (m *mapper) mapDeviceGuard(key object) {
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

func (m *mapper) mapHGS(key object) {
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
