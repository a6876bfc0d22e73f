package libvirt

import (
	"fmt"
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
	// rt is the host's /proc as read (nil for remote URIs), rtReason why
	// it is missing or unreadable.
	rt       *Runtime
	rtReason string
	// secModels are the capabilities' security models; secReason says
	// why they are unknown.
	secModels []string
	secReason string
	// firmware are the descriptors in libvirt's order; firmwareReason
	// says why they are unknown.
	firmware       []firmwareDesc
	firmwareReason string
	// machines maps "arch/alias" to the canonical machine type.
	machines map[string]string
}

const needsLocal = "needs local access: host files are read only for a local URI (qemu:///system, qemu:///session)"

// mapHost builds the one host a libvirt connection reaches.
func mapHost(d *Data, hostID string, gaps *inventory.Gaps) (inventory.Host, hostCtx) {
	g := gapper{kind: inventory.KindHost, id: hostID, gaps: gaps}
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
			hc.machines = canonicalMachines(&caps)
			mac := false
			for _, m := range caps.Host.SecModel {
				k.SecurityModels = append(k.SecurityModels, m.Name)
				if m.Name == "selinux" || m.Name == "apparmor" {
					mac = true
				}
			}
			k.MACConfinement = inventory.Ptr(mac)
			hc.secModels = k.SecurityModels
		}
	} else {
		hc.secReason = d.why("capabilities", "capabilities not read")
		g.add("host.kvm.security_models", hc.secReason)
		g.add("host.kvm.mac_confinement", hc.secReason)
	}
	if hc.secModels == nil && hc.secReason == "" {
		hc.secReason = "the capabilities XML does not parse"
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
		hc.rtReason = "the QEMU processes of the guests are read only for a local URI (" + reason + ")"
		hc.firmwareReason = "the firmware descriptors (/usr/share/qemu/firmware) are read only for a local URI (" + reason + ")"
		for _, f := range []string{"host.kvm.qemu", "host.kvm.daemons", "host.kvm.cpu_vulnerabilities", "host.kvm.cpu_vulnerable", "host.kvm.smt_vulnerable", "host.kvm.smt_control", "host.kvm.smt_active", "host.kvm.ksm_run", "host.kvm.packages", "host.kvm.os",
			"host.kvm.nested", "host.kvm.kernel_audit_enabled", "host.kvm.firmware", "host.kvm.migration_tls"} {
			g.add(f, reason)
		}
	} else {
		hf := d.Host
		osr = hostOS(hf, g)
		k.OS = osr
		family := distroFamily(osr)
		hc.rt = d.Runtime
		hc.rtReason = runtimeReason(d.Runtime)
		var st daemonState
		k.Daemons, st = daemonsFrom(hf, d.Runtime, family, g)
		k.QEMUDriverDaemon = st.qemuDriver
		hc.qemu, hc.qemuReason = qemuConfig(hf, family, g)
		if hc.qemu != nil {
			if r := qemuConfStale(hf, st); r != "" {
				hc.qemu, hc.qemuReason = nil, r
				g.add("host.kvm.qemu", r)
			}
		}
		k.QEMU = hc.qemu
		k.Nested = nestedVirt(hf, g)
		k.KernelAuditEnabled, k.KernelAuditSource = kernelAudit(d.Runtime, g)
		k.Firmware, hc.firmware, hc.firmwareReason = firmwareDescriptors(hf, d.HostSkipped != "")
		if hc.firmwareReason != "" {
			g.add("host.kvm.firmware", hc.firmwareReason)
		}
		k.MigrationTLS = migrationTLS(hf, hc.qemu, hc.qemuReason, g)
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
	q, err := QEMUConfigFrom(c, family)
	if err != nil {
		g.add("host.kvm.qemu", err.Error())
		return nil, err.Error()
	}
	return q, ""
}

// QEMUConfigFrom applies libvirt's defaults (as documented in the shipped
// qemu.conf) to a parsed qemu.conf. family ("debian", "rhel", "suse" or
// "") picks the build default of user and group. A value of the wrong
// type is an error: libvirt refuses such a file.
func QEMUConfigFrom(c *Conf, family string) (*inventory.QEMUConfig, error) {
	r := &confReader{c: c}
	defVerifySet := r.has("default_tls_x509_verify")
	defVerify := r.boolean("default_tls_x509_verify", true)
	q := &inventory.QEMUConfig{
		Path:                      pathQEMUConf,
		Settings:                  c.Settings(),
		VNCListen:                 r.str("vnc_listen", "127.0.0.1"),
		VNCTLS:                    r.boolean("vnc_tls", false),
		VNCTLSX509Verify:          r.boolean("vnc_tls_x509_verify", defVerifySet && defVerify),
		VNCSASL:                   r.boolean("vnc_sasl", false),
		VNCAutoUnixSocket:         r.boolean("vnc_auto_unix_socket", false),
		VNCPasswordSet:            r.str("vnc_password", "") != "",
		SpiceListen:               r.str("spice_listen", "127.0.0.1"),
		SpiceTLS:                  r.boolean("spice_tls", false),
		SpiceSASL:                 r.boolean("spice_sasl", false),
		SpicePasswordSet:          r.str("spice_password", "") != "",
		DefaultTLSX509Verify:      defVerify,
		SecurityDriver:            r.list("security_driver"),
		SecurityDefaultConfined:   r.boolean("security_default_confined", true),
		SecurityRequireConfined:   r.boolean("security_require_confined", false),
		DynamicOwnership:          r.boolean("dynamic_ownership", true),
		SeccompSandbox:            r.integer("seccomp_sandbox", 1, false),
		ClearEmulatorCapabilities: r.boolean("clear_emulator_capabilities", true),
		DumpGuestCore:             r.boolean("dump_guest_core", false),
		MigrateTLSForce:           r.boolean("migrate_tls_force", false),
		MigrateTLSX509Verify:      r.boolean("migrate_tls_x509_verify", defVerify),
		NBDTLS:                    r.boolean("nbd_tls", false),
		MigrationAddress:          r.str("migration_address", ""),
		MigrationHost:             r.str("migration_host", ""),
		RelaxedACSCheck:           r.boolean("relaxed_acs_check", false),
	}
	q.Sandbox = q.SeccompSandbox == 1
	defUser := map[string]string{"debian": "libvirt-qemu", "rhel": "qemu", "suse": "qemu"}[family]
	defGroup := map[string]string{"debian": "libvirt-qemu", "rhel": "qemu", "suse": "kvm"}[family]
	q.User = r.str("user", defUser)
	q.Group = r.str("group", defGroup)
	if q.User != "" {
		q.RunsAsRoot = inventory.Ptr(q.User == "root" || q.User == "+0" || q.User == "0")
	}
	if err := r.err(pathQEMUConf); err != nil {
		return nil, err
	}
	return q, nil
}

// DaemonConfigFrom applies libvirt's defaults (as documented in the
// shipped libvirtd.conf) to a daemon's parsed configuration read from
// path. A value of the wrong type is an error: libvirt refuses the file.
func DaemonConfigFrom(name, path string, c *Conf, family string) (inventory.LibvirtDaemon, error) {
	polkit := ""
	if family != "" {
		polkit = "polkit"
	}
	r := &confReader{c: c}
	p := inventory.Ptr[string]
	b := inventory.Ptr[bool]
	d := inventory.LibvirtDaemon{
		Name: name, Path: path, Settings: c.Settings(),
		ListenTCP:               b(r.boolean("listen_tcp", false)),
		ListenTLS:               b(r.boolean("listen_tls", true)),
		ListenAddr:              p(r.str("listen_addr", "")),
		AuthTCP:                 p(r.str("auth_tcp", "sasl")),
		AuthTLS:                 p(r.str("auth_tls", "none")),
		AuthUnixRO:              p(r.str("auth_unix_ro", polkit)),
		AuthUnixRW:              p(r.str("auth_unix_rw", polkit)),
		UnixSockGroup:           p(r.str("unix_sock_group", "root")),
		UnixSockROPerms:         p(r.str("unix_sock_ro_perms", "0777")),
		TLSNoVerifyCertificate:  b(r.boolean("tls_no_verify_certificate", false)),
		TLSAllowedDNList:        r.list("tls_allowed_dn_list"),
		SASLAllowedUsernameList: r.list("sasl_allowed_username_list"),
		AuditLevel:              inventory.Ptr(r.integer("audit_level", 1, true)),
		AuditLogging:            b(r.boolean("audit_logging", false)),
		SocketUnitsActive:       []string{},
	}
	rw := "0700"
	if *d.AuthUnixRW == "polkit" {
		rw = "0777"
	}
	d.UnixSockRWPerms = p(r.str("unix_sock_rw_perms", rw))
	return d, r.err(path)
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
