package libvirt

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"

	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// hostCtx is what the host mapping hands on to domain mapping.
type hostCtx struct {
	qemu       *inventory.QEMUConfig
	qemuReason string
	mgmt       *mgmtInfo
}

const needsLocal = "needs local access: host files are read only for a local URI (qemu:///system, qemu:///session)"

// mapHost builds the one host a libvirt connection reaches.
func mapHost(d *Data, hostID string, gaps *[]inventory.Gap) (inventory.Host, hostCtx) {
	g := gapper{obj: inventory.ObjectKey(inventory.KindHost, hostID), gaps: gaps}
	h := inventory.Host{ID: hostID, Name: hostID}
	k := &inventory.KVMHost{ReadOnlyConnection: d.ReadOnly}
	h.KVM = k
	hc := hostCtx{}
	if d.ConnType != "" {
		k.Driver = inventory.Ptr(d.ConnType)
	}
	if d.LibVersion > 0 {
		k.LibvirtVersion = inventory.Ptr(formatVersion(d.LibVersion))
	} else {
		g.add("host.kvm.libvirt_version", "virConnectGetLibVersion not read")
	}
	if d.HypervisorVersion > 0 {
		k.HypervisorVersion = inventory.Ptr(formatVersion(d.HypervisorVersion))
	} else {
		g.add("host.kvm.hypervisor_version", "virConnectGetVersion not read")
	}

	// Security drivers from the capabilities.
	if d.CapabilitiesXML != "" {
		var caps libvirtxml.Caps
		if err := caps.Unmarshal(d.CapabilitiesXML); err != nil {
			g.add("host.kvm.security_models", "capabilities XML does not parse: "+err.Error())
		} else {
			k.SecurityModels = []string{}
			mac := false
			for _, m := range caps.Host.SecModel {
				k.SecurityModels = append(k.SecurityModels, m.Name)
				if m.Name == "selinux" || m.Name == "apparmor" {
					mac = true
				}
			}
			k.MACConfinement = inventory.Ptr(mac)
		}
	} else {
		g.add("host.kvm.security_models", d.why("capabilities", "capabilities not read"))
		g.add("host.kvm.mac_confinement", d.why("capabilities", "capabilities not read"))
	}

	// Confidential-computing support from domain capabilities.
	switch {
	case d.DomainCapabilitiesXML != "":
		var dcaps libvirtxml.DomainCaps
		if err := dcaps.Unmarshal(d.DomainCapabilitiesXML); err != nil {
			g.add("host.kvm.launch_security", "domain capabilities XML does not parse: "+err.Error())
		} else {
			k.LaunchSecurity = launchSecuritySupport(&dcaps)
		}
	case d.ReadOnly:
		g.add("host.kvm.launch_security", "domain capabilities need a read-write connection (add ?"+ReadWriteParam+"=1)")
	default:
		g.add("host.kvm.launch_security", d.why("domain_capabilities", "domain capabilities not read"))
	}

	// Host files.
	var osr *inventory.HostOS
	if d.Host == nil {
		reason := needsLocal
		if d.HostSkipped != "" {
			reason = d.HostSkipped
		}
		hc.qemuReason = "qemu.conf was not read (" + reason + ")"
		for _, f := range []string{"host.kvm.qemu", "host.kvm.daemons", "host.kvm.cpu_vulnerabilities", "host.kvm.cpu_vulnerable", "host.kvm.smt_vulnerable", "host.kvm.smt_control", "host.kvm.smt_active", "host.kvm.ksm_run", "host.kvm.packages", "host.kvm.os"} {
			g.add(f, reason)
		}
	} else {
		hf := d.Host
		osr = hostOS(hf, g)
		k.OS = osr
		family := distroFamily(osr)
		hc.qemu, hc.qemuReason = qemuConfig(hf, family, g)
		k.QEMU = hc.qemu
		k.Daemons = daemons(hf, family, g)
		cpuVulnerabilities(hf, k, g)
		if s, ok := hf.Files[pathSMTControl]; ok {
			k.SMTControl = inventory.Ptr(strings.TrimSpace(s))
		} else {
			g.add("host.kvm.smt_control", fileReason(hf, pathSMTControl))
		}
		if s, ok := hf.Files[pathSMTActive]; ok {
			k.SMTActive = inventory.Ptr(strings.TrimSpace(s) == "1")
		} else {
			g.add("host.kvm.smt_active", fileReason(hf, pathSMTActive))
		}
		if s, ok := hf.Files[pathKSMRun]; ok {
			if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil {
				k.KSMRun = inventory.Ptr(n)
			} else {
				g.add("host.kvm.ksm_run", fmt.Sprintf("%s: not a number: %q", pathKSMRun, strings.TrimSpace(s)))
			}
		} else {
			g.add("host.kvm.ksm_run", fileReason(hf, pathKSMRun))
		}
		if s, ok := hf.Files[pathDpkgStatus]; ok {
			k.Packages = ParseDpkgStatus(s)
		} else if pk, ok := rpmPackages(hf); ok {
			k.Packages = pk
		} else {
			g.add("host.kvm.packages", fileReason(hf, pathDpkgStatus)+", and no RPM database was found under "+hf.Root)
		}
	}

	// Patch levels: the distro's package where known, else upstream.
	qemu, libv := patchLevels(d, k, osr)
	if qemu != nil {
		h.Patch = qemu
		h.Components = append(h.Components, *qemu)
	} else {
		g.add("host.patch", "neither a QEMU package version nor a QEMU hypervisor version was read")
	}
	if libv != nil {
		h.Components = append(h.Components, *libv)
	}

	// Management network.
	hc.mgmt = managementNetwork(d, &h, g)
	return h, hc
}

// fileReason explains why a host file is not in the snapshot.
func fileReason(hf *HostFiles, p string) string {
	if e, ok := hf.Errors[p]; ok {
		return p + " could not be read: " + e
	}
	for _, m := range hf.Missing {
		if m == p {
			return p + " does not exist under host root " + hf.Root
		}
	}
	return p + " was not read"
}

func hostOS(hf *HostFiles, g gapper) *inventory.HostOS {
	s, ok := hf.Files[pathOSRelease]
	if !ok {
		s, ok = hf.Files[pathOSReleaseLib]
	}
	if !ok {
		g.add("host.kvm.os", fileReason(hf, pathOSRelease))
		return nil
	}
	m := ParseOSRelease(s)
	return &inventory.HostOS{ID: m["ID"], IDLike: strings.Fields(m["ID_LIKE"]), VersionID: m["VERSION_ID"], PrettyName: m["PRETTY_NAME"]}
}

// distroFamily is "debian", "rhel", "suse" or "" (unknown).
func distroFamily(o *inventory.HostOS) string {
	if o == nil {
		return ""
	}
	for _, id := range append([]string{o.ID}, o.IDLike...) {
		switch id {
		case "debian", "ubuntu":
			return "debian"
		case "rhel", "fedora", "centos", "rocky", "almalinux":
			return "rhel"
		case "suse", "sles", "opensuse", "opensuse-leap", "opensuse-tumbleweed":
			return "suse"
		}
	}
	return ""
}

// releaseLine names the distro release an advisory's fixed package
// version belongs to: "debian-12", "ubuntu-22.04", "rhel-9", "fedora-40".
func releaseLine(o *inventory.HostOS) string {
	if o == nil || o.ID == "" {
		return ""
	}
	id, ver := o.ID, o.VersionID
	if distroFamily(o) == "rhel" && id != "fedora" {
		id = "rhel"
		ver, _, _ = strings.Cut(ver, ".")
	}
	if id == "debian" {
		ver, _, _ = strings.Cut(ver, ".")
	}
	if ver == "" {
		return id
	}
	return id + "-" + ver
}

// Packages, in order of preference, whose version is QEMU's or libvirt's.
var (
	qemuPackages    = []string{"qemu-system-x86", "qemu-kvm", "qemu-kvm-core", "qemu-system-arm", "qemu-system-ppc", "qemu-system-s390x", "qemu-system-misc", "qemu-system-common"}
	libvirtPackages = []string{"libvirt-daemon", "libvirt-daemon-driver-qemu", "libvirt-daemon-system", "libvirt0", "libvirt-libs"}
)

func patchLevels(d *Data, k *inventory.KVMHost, osr *inventory.HostOS) (qemu, libv *inventory.PatchLevel) {
	scheme := packageScheme(d.Host)
	line := releaseLine(osr)
	pick := func(product string, names []string, upstream uint64, upstreamOK bool) *inventory.PatchLevel {
		for _, n := range names {
			if v, ok := k.Packages[n]; ok {
				p := &inventory.PatchLevel{Product: product, ReleaseLine: line, Version: v, Scheme: scheme,
					FullName: fmt.Sprintf("%s %s", n, v)}
				if upstreamOK && upstream > 0 {
					p.Build = formatVersion(upstream)
				}
				if osr != nil && osr.PrettyName != "" {
					p.FullName += " (" + osr.PrettyName + ")"
				}
				return p
			}
		}
		if !upstreamOK || upstream == 0 {
			return nil
		}
		v := formatVersion(upstream)
		return &inventory.PatchLevel{Product: product, ReleaseLine: fmt.Sprintf("%d.%d", upstream/1000000, upstream/1000%1000),
			Version: v, Build: v, FullName: product + " " + v + " (upstream version; distro package not read)", Scheme: inventory.SchemeUpstream}
	}
	// The test driver's "hypervisor version" is not a QEMU version.
	isQEMU := strings.EqualFold(d.ConnType, "QEMU") || d.ConnType == "" && d.Driver == "qemu"
	qemu = pick("qemu", qemuPackages, d.HypervisorVersion, isQEMU)
	libv = pick("libvirt", libvirtPackages, d.LibVersion, true)
	return qemu, libv
}

func qemuConfig(hf *HostFiles, family string, g gapper) (*inventory.QEMUConfig, string) {
	if r, ok := hf.Skipped[skipLibvirtConfig]; ok {
		g.add("host.kvm.qemu", r)
		return nil, "qemu.conf was not read (" + r + ")"
	}
	text, ok := hf.Files[pathQEMUConf]
	if !ok {
		r := fileReason(hf, pathQEMUConf)
		g.add("host.kvm.qemu", r)
		return nil, r
	}
	c, err := ParseConf(text)
	if err != nil {
		r := pathQEMUConf + ": " + err.Error()
		g.add("host.kvm.qemu", r)
		return nil, r
	}
	return QEMUConfigFrom(c, family), ""
}

// QEMUConfigFrom applies libvirt's defaults (as documented in the shipped
// qemu.conf) to a parsed qemu.conf. family ("debian", "rhel", "suse" or
// "") picks the build default of user and group.
func QEMUConfigFrom(c Conf, family string) *inventory.QEMUConfig {
	defVerify, defVerifySet := c.boolean("default_tls_x509_verify", false), false
	if _, ok := c["default_tls_x509_verify"]; ok {
		defVerifySet = true
	}
	q := &inventory.QEMUConfig{
		Path:                      pathQEMUConf,
		Settings:                  c.Settings(),
		VNCListen:                 c.str("vnc_listen", "127.0.0.1"),
		VNCTLS:                    c.boolean("vnc_tls", false),
		VNCTLSX509Verify:          c.boolean("vnc_tls_x509_verify", defVerifySet && defVerify),
		VNCSASL:                   c.boolean("vnc_sasl", false),
		VNCAutoUnixSocket:         c.boolean("vnc_auto_unix_socket", false),
		VNCPasswordSet:            c.str("vnc_password", "") != "",
		SpiceListen:               c.str("spice_listen", "127.0.0.1"),
		SpiceTLS:                  c.boolean("spice_tls", false),
		SpiceSASL:                 c.boolean("spice_sasl", false),
		SpicePasswordSet:          c.str("spice_password", "") != "",
		DefaultTLSX509Verify:      c.boolean("default_tls_x509_verify", true),
		SecurityDriver:            c.list("security_driver"),
		SecurityDefaultConfined:   c.boolean("security_default_confined", true),
		SecurityRequireConfined:   c.boolean("security_require_confined", false),
		DynamicOwnership:          c.boolean("dynamic_ownership", true),
		SeccompSandbox:            c.integer("seccomp_sandbox", 1),
		ClearEmulatorCapabilities: c.boolean("clear_emulator_capabilities", true),
		DumpGuestCore:             c.boolean("dump_guest_core", false),
		MigrateTLSForce:           c.boolean("migrate_tls_force", false),
		MigrateTLSX509Verify:      c.boolean("migrate_tls_x509_verify", !defVerifySet || defVerify),
		NBDTLS:                    c.boolean("nbd_tls", false),
		MigrationAddress:          c.str("migration_address", ""),
		MigrationHost:             c.str("migration_host", ""),
		RelaxedACSCheck:           c.boolean("relaxed_acs_check", false),
	}
	q.Sandbox = q.SeccompSandbox == 1
	defUser := map[string]string{"debian": "libvirt-qemu", "rhel": "qemu", "suse": "qemu"}[family]
	defGroup := map[string]string{"debian": "libvirt-qemu", "rhel": "qemu", "suse": "kvm"}[family]
	q.User = c.str("user", defUser)
	q.Group = c.str("group", defGroup)
	if q.User != "" {
		q.RunsAsRoot = inventory.Ptr(q.User == "root" || q.User == "+0" || q.User == "0")
	}
	return q
}

func daemons(hf *HostFiles, family string, g gapper) []inventory.LibvirtDaemon {
	if r, ok := hf.Skipped[skipLibvirtConfig]; ok {
		g.add("host.kvm.daemons", r)
		return nil
	}
	out := []inventory.LibvirtDaemon{}
	var problems []string
	for _, name := range daemonNames {
		p := daemonConfPath(name)
		text, ok := hf.Files[p]
		if !ok {
			if _, bad := hf.Errors[p]; bad {
				problems = append(problems, fileReason(hf, p))
			}
			continue
		}
		c, err := ParseConf(text)
		if err != nil {
			problems = append(problems, p+": "+err.Error())
			continue
		}
		dm := DaemonConfigFrom(name, c, family)
		for _, ap := range daemonArgsPaths(name) {
			if hasListenFlag(hf.Files[ap]) {
				dm.ListenFlag = true
			}
		}
		for _, e := range hf.Dirs[pathSocketsWants] {
			dm.TCPSocketUnit = dm.TCPSocketUnit || e == name+"-tcp.socket"
			dm.TLSSocketUnit = dm.TLSSocketUnit || e == name+"-tls.socket"
		}
		dm.TCPEnabled = dm.TCPSocketUnit || dm.ListenFlag && dm.ListenTCP
		dm.TLSEnabled = dm.TLSSocketUnit || dm.ListenFlag && dm.ListenTLS
		out = append(out, dm)
	}
	if len(problems) > 0 {
		g.add("host.kvm.daemons", strings.Join(problems, "; "))
		return nil
	}
	if len(out) == 0 {
		g.add("host.kvm.daemons", "none of /etc/libvirt/{libvirtd,virtproxyd,virtqemud}.conf exists under host root "+hf.Root)
		return nil
	}
	return out
}

// DaemonConfigFrom applies libvirt's defaults (as documented in the
// shipped libvirtd.conf) to a daemon's parsed configuration.
func DaemonConfigFrom(name string, c Conf, family string) inventory.LibvirtDaemon {
	polkit := ""
	if family != "" {
		polkit = "polkit"
	}
	d := inventory.LibvirtDaemon{
		Name: name, Path: daemonConfPath(name), Settings: c.Settings(),
		ListenTCP:               c.boolean("listen_tcp", false),
		ListenTLS:               c.boolean("listen_tls", true),
		ListenAddr:              c.str("listen_addr", ""),
		AuthTCP:                 c.str("auth_tcp", "sasl"),
		AuthTLS:                 c.str("auth_tls", "none"),
		AuthUnixRO:              c.str("auth_unix_ro", polkit),
		AuthUnixRW:              c.str("auth_unix_rw", polkit),
		UnixSockGroup:           c.str("unix_sock_group", "root"),
		UnixSockROPerms:         c.str("unix_sock_ro_perms", "0777"),
		TLSNoVerifyCertificate:  c.boolean("tls_no_verify_certificate", false),
		TLSAllowedDNList:        c.list("tls_allowed_dn_list"),
		SASLAllowedUsernameList: c.list("sasl_allowed_username_list"),
		AuditLevel:              c.integer("audit_level", 1),
		AuditLogging:            c.boolean("audit_logging", false),
	}
	rw := "0700"
	if d.AuthUnixRW == "polkit" {
		rw = "0777"
	}
	d.UnixSockRWPerms = c.str("unix_sock_rw_perms", rw)
	return d
}

// hasListenFlag finds --listen (or -l) in an uncommented line of a
// daemon's defaults file (LIBVIRTD_ARGS="--listen").
func hasListenFlag(text string) bool {
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || l[0] == '#' {
			continue
		}
		_, v, ok := strings.Cut(l, "=")
		if !ok {
			continue
		}
		for _, f := range strings.Fields(strings.Trim(v, `"'`)) {
			if f == "--listen" || f == "-l" {
				return true
			}
		}
	}
	return false
}

func cpuVulnerabilities(hf *HostFiles, k *inventory.KVMHost, g gapper) {
	names, ok := hf.Dirs[pathVulnDir]
	if !ok {
		r := fileReason(hf, pathVulnDir)
		for _, f := range []string{"host.kvm.cpu_vulnerabilities", "host.kvm.cpu_vulnerable", "host.kvm.smt_vulnerable"} {
			g.add(f, r)
		}
		return
	}
	k.CPUVulnerabilities = map[string]string{}
	k.CPUVulnerable = []string{}
	k.SMTVulnerable = []string{}
	for _, n := range names {
		s, ok := hf.Files[pathVulnDir+"/"+n]
		if !ok {
			g.add("host.kvm.cpu_vulnerabilities", fileReason(hf, pathVulnDir+"/"+n))
			continue
		}
		s = strings.TrimSpace(s)
		k.CPUVulnerabilities[n] = s
		if strings.HasPrefix(s, "Vulnerable") {
			k.CPUVulnerable = append(k.CPUVulnerable, n)
		}
		if strings.Contains(s, "SMT vulnerable") {
			k.SMTVulnerable = append(k.SMTVulnerable, n)
		}
	}
}

func launchSecuritySupport(dc *libvirtxml.DomainCaps) []string {
	out := []string{}
	if dc.Features == nil {
		return out
	}
	f := dc.Features
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	if f.SEV != nil && f.SEV.Supported == "yes" {
		add("sev")
	}
	if f.TDX != nil && f.TDX.Supported == "yes" {
		add("tdx")
	}
	if f.S390PV != nil && f.S390PV.Supported == "yes" {
		add("s390-pv")
	}
	if ls := f.LaunchSecurity; ls != nil && ls.Supported == "yes" {
		for _, e := range ls.Enums {
			if e.Name == "sectype" {
				for _, v := range e.Values {
					add(v)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// managementNetwork finds the interfaces that carry the host's management
// address (the address hvaudit connected to) or its default route, records
// the host's interfaces, and returns the devices a guest must not attach to.
func managementNetwork(d *Data, h *inventory.Host, g gapper) *mgmtInfo {
	m := &mgmtInfo{}
	type hostIf struct {
		name    string
		ips     []netip.Addr
		gateway bool
		members []string
		bridge  bool
	}
	ifs := map[string]*hostIf{}
	parent := map[string]string{} // member → bridge/bond
	var order []string
	var walk func(x *libvirtxml.Interface, up string)
	walk = func(x *libvirtxml.Interface, up string) {
		if x == nil || x.Name == "" {
			return
		}
		hi := ifs[x.Name]
		if hi == nil {
			hi = &hostIf{name: x.Name}
			ifs[x.Name] = hi
			order = append(order, x.Name)
		}
		if up != "" {
			parent[x.Name] = up
		}
		for _, p := range x.Protocol {
			for _, ip := range p.IPs {
				if a, err := netip.ParseAddr(ip.Address); err == nil {
					hi.ips = append(hi.ips, a)
				}
			}
			for _, r := range p.Route {
				if r.Gateway != "" {
					hi.gateway = true
				}
			}
		}
		var kids []libvirtxml.Interface
		if x.Bridge != nil {
			hi.bridge = true
			kids = x.Bridge.Interfaces
		}
		if x.Bond != nil {
			kids = append(kids, x.Bond.Interfaces...)
		}
		for i := range kids {
			hi.members = append(hi.members, kids[i].Name)
			walk(&kids[i], x.Name)
		}
		if x.VLAN != nil && x.VLAN.Interface != nil {
			walk(x.VLAN.Interface, "")
		}
	}
	if d.Interfaces != nil {
		for _, r := range d.Interfaces {
			var x libvirtxml.Interface
			if err := x.Unmarshal(r.XML); err != nil {
				g.add("host.vmkernel_nics", fmt.Sprintf("interface %s XML does not parse: %v", r.Name, err))
				continue
			}
			walk(&x, "")
		}
	}

	var mgmt []string
	how := ""
	// 1. The address hvaudit connected to.
	var conn []netip.Addr
	for _, s := range d.ConnectionAddresses {
		if a, err := netip.ParseAddr(s); err == nil {
			conn = append(conn, a.Unmap())
		}
	}
	for _, n := range order {
		for _, ip := range ifs[n].ips {
			for _, c := range conn {
				if ip.Unmap() == c {
					mgmt = append(mgmt, n)
				}
			}
		}
	}
	if len(mgmt) > 0 {
		how = "carries the address hvaudit connected to"
	}
	// 2. The default route (/proc/net/route of a local host).
	if len(mgmt) == 0 && d.Host != nil {
		if s, ok := d.Host.Files[pathProcNetRoute]; ok {
			routes, err := ParseProcNetRoute(s)
			if err != nil {
				g.add("host.management", pathProcNetRoute+": "+err.Error())
			}
			mgmt = defaultRouteIfaces(routes)
			if len(mgmt) > 0 {
				how = "carries the default route (" + pathProcNetRoute + ")"
			}
		}
	}
	// 3. An interface with a gateway in libvirt's interface XML.
	if len(mgmt) == 0 {
		for _, n := range order {
			if ifs[n].gateway {
				mgmt = append(mgmt, n)
			}
		}
		if len(mgmt) > 0 {
			how = "has the default gateway in its interface definition"
		}
	}

	h.VMKernelNICs = []inventory.HostNIC{}
	isMgmt := map[string]bool{}
	for _, n := range mgmt {
		isMgmt[n] = true
	}
	for _, n := range order {
		hi := ifs[n]
		if len(hi.ips) == 0 {
			continue
		}
		nic := inventory.HostNIC{Device: n, IP: hi.ips[0].String(), Services: []string{}}
		if hi.bridge {
			nic.Switch = n
		} else if p := parent[n]; p != "" {
			nic.Switch = p
		}
		if isMgmt[n] {
			nic.Services = append(nic.Services, "management")
		}
		h.VMKernelNICs = append(h.VMKernelNICs, nic)
	}
	if d.Interfaces == nil {
		h.VMKernelNICs = nil
	}

	if len(mgmt) == 0 {
		switch {
		case d.Interfaces == nil && d.Host == nil:
			m.reason = d.why("interfaces", "host interfaces were not read") + "; the host's routes need local access"
		case len(d.ConnectionAddresses) > 0:
			m.reason = fmt.Sprintf("no host interface carries %s and no default route was found", strings.Join(d.ConnectionAddresses, ", "))
		default:
			m.reason = "no host interface carries a default route or the address hvaudit connected to"
		}
		g.add("host.management", m.reason)
		return m
	}
	m.ifaces = mgmt
	m.devices = map[string]bool{}
	var add func(n string)
	add = func(n string) {
		if m.devices[n] {
			return
		}
		m.devices[n] = true
		if hi := ifs[n]; hi != nil {
			for _, k := range hi.members {
				add(k)
			}
		}
	}
	for _, n := range mgmt {
		add(n)
	}
	// Which traffic shares those interfaces, their VLANs and the migration
	// network are not visible through libvirt: left nil (unknown).
	mn := &inventory.ManagementNetwork{Interfaces: mgmt, Networks: []string{}}
	for _, n := range mgmt {
		if hi := ifs[n]; hi != nil && hi.bridge {
			mn.Networks = append(mn.Networks, n)
		} else if p := parent[n]; p != "" {
			mn.Networks = append(mn.Networks, p)
		}
	}
	h.Management = mn
	m.how = how
	return m
}
