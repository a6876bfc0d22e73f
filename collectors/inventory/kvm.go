package inventory

import (
	"fmt"
	"strings"
)

// KVM/QEMU facts read through libvirt. The neutral fields (VM.Encryption,
// VM.Console, VM.NICs, Host.Patch, …) carry what every platform shares; the
// types below hold what only a libvirt host has, in libvirt's own words
// where they matter. They hang off Host.KVM, VM.KVM and Network.KVM.
//
// As everywhere in this package, a nil pointer, slice or map is a value the
// collector could not read (a Gap says why); an empty, non-nil slice or map
// is a value that was read and is empty. Structs read from a configuration
// file hold effective values: the file's setting, else libvirt's documented
// default, so a check never has to know the defaults.

// KVMHost is what a libvirt connection and, for a local URI, the host's
// files say about one KVM host.
type KVMHost struct {
	// Driver is the libvirt driver that answered ("QEMU", "TEST").
	Driver *string `json:"driver,omitempty"`
	// LibvirtVersion and HypervisorVersion are the upstream versions the
	// API reports ("9.0.0", QEMU "7.2.22"); distro builds are in Host.Patch
	// and Host.Components.
	LibvirtVersion    *string `json:"libvirt_version,omitempty"`
	HypervisorVersion *string `json:"hypervisor_version,omitempty"`
	// ReadOnlyConnection is true when hvaudit connected read-only (the
	// default); password and domain-capability facts then stay unknown.
	ReadOnlyConnection bool `json:"read_only_connection"`
	// SecurityModels are the capabilities' host/secmodel/model values
	// ("selinux", "apparmor", "dac", "none").
	SecurityModels []string `json:"security_models"`
	// MACConfinement is derived: an SELinux or AppArmor security driver is
	// active, so sVirt confines guests (KVM-ISO-01).
	MACConfinement *bool `json:"mac_confinement,omitempty"`
	// LaunchSecurity lists the confidential-computing types the host
	// supports per domain capabilities ("sev", "sev-snp", "tdx", "s390-pv").
	// Needs a read-write connection.
	LaunchSecurity []string `json:"launch_security"`
	// QEMU is /etc/libvirt/qemu.conf (local URIs only).
	QEMU *QEMUConfig `json:"qemu,omitempty"`
	// Daemons are the libvirt daemons' configurations found on the host:
	// libvirtd (monolithic), virtproxyd and virtqemud (modular).
	Daemons []LibvirtDaemon `json:"daemons"`
	// CPUVulnerabilities maps each file of
	// /sys/devices/system/cpu/vulnerabilities to its one-line status.
	CPUVulnerabilities map[string]string `json:"cpu_vulnerabilities"`
	// CPUVulnerable is derived: the entries whose status starts with
	// "Vulnerable", sorted.
	CPUVulnerable []string `json:"cpu_vulnerable"`
	// SMTVulnerable is derived: the entries whose status says SMT is
	// vulnerable (l1tf, mds, mmio_stale_data … "SMT vulnerable"), sorted.
	SMTVulnerable []string `json:"smt_vulnerable"`
	// SMTControl is /sys/devices/system/cpu/smt/control: on | off |
	// forceoff | notsupported | notimplemented.
	SMTControl *string `json:"smt_control,omitempty"`
	// SMTActive is /sys/devices/system/cpu/smt/active.
	SMTActive *bool `json:"smt_active,omitempty"`
	// KSMRun is /sys/kernel/mm/ksm/run: 0 stopped, 1 merging, 2 unmerging.
	KSMRun *int64 `json:"ksm_run,omitempty"`
	// Packages maps installed distro package names (libvirt and QEMU ones)
	// to their versions, as the package manager writes them.
	Packages map[string]string `json:"packages"`
	// OS is the host's /etc/os-release.
	OS *HostOS `json:"os,omitempty"`
}

// HostOS is the interesting part of /etc/os-release.
type HostOS struct {
	ID         string   `json:"id"`      // "debian", "rhel", "ubuntu"
	IDLike     []string `json:"id_like"` // ID_LIKE words
	VersionID  string   `json:"version_id"`
	PrettyName string   `json:"pretty_name"`
}

// QEMUConfig holds the effective settings of qemu.conf. Each field is the
// file's value or, where the key is absent, libvirt's default as documented
// in the shipped qemu.conf.
type QEMUConfig struct {
	// Path is the file read, relative to the host root ("/etc/libvirt/qemu.conf").
	Path string `json:"path"`
	// Settings are the keys set in the file, with their values as written
	// (quotes removed, lists as ["a", "b"]). Passwords read "[REDACTED]".
	Settings map[string]string `json:"settings"`

	VNCListen        string `json:"vnc_listen"`          // default 127.0.0.1
	VNCTLS           bool   `json:"vnc_tls"`             // default off
	VNCTLSX509Verify bool   `json:"vnc_tls_x509_verify"` // default default_tls_x509_verify, else off
	VNCSASL          bool   `json:"vnc_sasl"`
	// VNCAutoUnixSocket: VNC displays without a listen address use a
	// UNIX socket instead of vnc_listen.
	VNCAutoUnixSocket bool `json:"vnc_auto_unix_socket"`
	// VNCPasswordSet: vnc_password gives every VNC display a password.
	VNCPasswordSet       bool   `json:"vnc_password_set"`
	SpiceListen          string `json:"spice_listen"` // default 127.0.0.1
	SpiceTLS             bool   `json:"spice_tls"`
	SpiceSASL            bool   `json:"spice_sasl"`
	SpicePasswordSet     bool   `json:"spice_password_set"`
	DefaultTLSX509Verify bool   `json:"default_tls_x509_verify"`

	// SecurityDriver lists security_driver's drivers; empty means libvirt
	// picks the first available (selinux, apparmor). "none" disables sVirt.
	SecurityDriver          []string `json:"security_driver"`
	SecurityDefaultConfined bool     `json:"security_default_confined"` // default on
	SecurityRequireConfined bool     `json:"security_require_confined"` // default off
	// User and Group run QEMU for qemu:///system; absent from the file they
	// are the distro's build default ("libvirt-qemu" on Debian, "qemu" on
	// RHEL), "" when that is not known.
	User  string `json:"user"`
	Group string `json:"group"`
	// RunsAsRoot is derived from User: "root", "+0" or "0". Nil when User
	// is not known.
	RunsAsRoot       *bool `json:"runs_as_root,omitempty"`
	DynamicOwnership bool  `json:"dynamic_ownership"`
	// SeccompSandbox: -1 QEMU's default, 0 off, 1 on (libvirt's default).
	SeccompSandbox int64 `json:"seccomp_sandbox"`
	// Sandbox is derived: QEMU runs with its seccomp filter (value 1).
	Sandbox                   bool `json:"sandbox"`
	ClearEmulatorCapabilities bool `json:"clear_emulator_capabilities"` // default on
	DumpGuestCore             bool `json:"dump_guest_core"`             // default off
	MigrateTLSForce           bool `json:"migrate_tls_force"`           // default off
	MigrateTLSX509Verify      bool `json:"migrate_tls_x509_verify"`     // default on
	NBDTLS                    bool `json:"nbd_tls"`
	// MigrationAddress and MigrationHost are "" when not configured.
	MigrationAddress string `json:"migration_address"`
	MigrationHost    string `json:"migration_host"`
	RelaxedACSCheck  bool   `json:"relaxed_acs_check"`
}

// LibvirtDaemon is one libvirt daemon's configuration file with defaults
// applied, and whether its TCP/TLS listeners are enabled.
type LibvirtDaemon struct {
	Name     string            `json:"name"` // libvirtd | virtproxyd | virtqemud
	Path     string            `json:"path"`
	Settings map[string]string `json:"settings"`

	ListenTCP  bool   `json:"listen_tcp"` // default off
	ListenTLS  bool   `json:"listen_tls"` // default on (only with --listen)
	ListenAddr string `json:"listen_addr"`
	AuthTCP    string `json:"auth_tcp"` // default "sasl"
	AuthTLS    string `json:"auth_tls"` // default "none" (certificates)
	// AuthUnixRO and AuthUnixRW default to "polkit" where the distro builds
	// with polkit (Debian, Ubuntu, RHEL family, SUSE), "" when not known.
	AuthUnixRO      string `json:"auth_unix_ro"`
	AuthUnixRW      string `json:"auth_unix_rw"`
	UnixSockGroup   string `json:"unix_sock_group"`    // default "root"
	UnixSockROPerms string `json:"unix_sock_ro_perms"` // default "0777"
	// UnixSockRWPerms defaults to "0777" with polkit, else "0700".
	UnixSockRWPerms         string   `json:"unix_sock_rw_perms"`
	TLSNoVerifyCertificate  bool     `json:"tls_no_verify_certificate"`
	TLSAllowedDNList        []string `json:"tls_allowed_dn_list"`
	SASLAllowedUsernameList []string `json:"sasl_allowed_username_list"`
	AuditLevel              int64    `json:"audit_level"` // default 1
	AuditLogging            bool     `json:"audit_logging"`
	// ListenFlag: --listen is in the daemon's arguments
	// (/etc/default/NAME or /etc/sysconfig/NAME).
	ListenFlag bool `json:"listen_flag"`
	// TCPSocketUnit / TLSSocketUnit: systemd NAME-tcp.socket / NAME-tls.socket
	// is enabled (linked under /etc/systemd/system/sockets.target.wants).
	TCPSocketUnit bool `json:"tcp_socket_unit"`
	TLSSocketUnit bool `json:"tls_socket_unit"`
	// TCPEnabled and TLSEnabled are derived: the daemon accepts plain TCP
	// (or TLS) connections, through socket activation or --listen with
	// listen_tcp (listen_tls).
	TCPEnabled bool `json:"tcp_enabled"`
	TLSEnabled bool `json:"tls_enabled"`
}

// KVMDomain is what one libvirt domain's XML (and the API) says beyond the
// neutral VM fields.
type KVMDomain struct {
	// DomainType is /domain/@type: kvm | qemu (TCG) | test …
	DomainType string `json:"domain_type"`
	// State uses libvirt's words: running, blocked, paused, shutdown,
	// shutoff, crashed, pmsuspended.
	State      string `json:"state"`
	Persistent *bool  `json:"persistent,omitempty"`
	Autostart  *bool  `json:"autostart,omitempty"`
	// SecLabels are the domain-level <seclabel> elements.
	SecLabels []KVMSecLabel `json:"seclabels"`
	// Unconfined is derived: a domain seclabel has type or model "none", so
	// sVirt (or DAC) does not confine this guest (KVM-ISO-02).
	Unconfined bool `json:"unconfined"`
	// LaunchSecurity is nil when the domain has no <launchSecurity>.
	LaunchSecurity *KVMLaunchSecurity `json:"launch_security,omitempty"`
	// TPM is nil when the domain has no <tpm>.
	TPM        *KVMTPM        `json:"tpm,omitempty"`
	Graphics   []KVMGraphics  `json:"graphics"`
	Hostdevs   []KVMHostdev   `json:"hostdevs"`
	Interfaces []KVMInterface `json:"interfaces"`
	// NoSharePages: <memoryBacking><nosharepages/> keeps KSM off this guest.
	NoSharePages bool `json:"nosharepages"`
	// DumpCore is /domain/memory/@dumpCore: "on", "off" or "" (qemu.conf's
	// dump_guest_core decides).
	DumpCore string `json:"dump_core"`
	// CustomQEMUArgs: the domain passes raw arguments (<qemu:commandline>).
	CustomQEMUArgs bool `json:"custom_qemu_args"`
	// Tainting are the libvirt taint messages of a running domain
	// (virDomainGetMessages); empty when none, nil when not read.
	Tainting []string `json:"tainting"`
}

// KVMSecLabel is one <seclabel>.
type KVMSecLabel struct {
	Type    string `json:"type"`  // dynamic | static | none
	Model   string `json:"model"` // selinux | apparmor | dac | none | ""
	Relabel string `json:"relabel"`
	Label   string `json:"label,omitempty"`
}

// KVMLaunchSecurity is the domain's confidential-computing configuration.
type KVMLaunchSecurity struct {
	Type   string  `json:"type"` // sev | sev-snp | tdx | s390-pv
	Policy *uint64 `json:"policy,omitempty"`
	// DebugAllowed is derived from the policy: SEV bit 0 (NODBG) clear,
	// SEV-SNP bit 19 (DEBUG) set, TDX bit 0 (DEBUG) set. Nil without a policy.
	DebugAllowed *bool `json:"debug_allowed,omitempty"`
	// EncryptedState: SEV-ES (SEV policy bit 2) or SEV-SNP.
	EncryptedState *bool  `json:"encrypted_state,omitempty"`
	KernelHashes   string `json:"kernel_hashes,omitempty"`
}

// KVMTPM is the domain's virtual TPM.
type KVMTPM struct {
	Model   string `json:"model"`   // tpm-tis | tpm-crb | tpm-spapr …
	Backend string `json:"backend"` // emulator | passthrough | external
	Version string `json:"version"` // "2.0", "1.2", "" (driver default)
	// StateEncrypted: the emulator's state is encrypted with a secret.
	StateEncrypted bool `json:"state_encrypted"`
}

// KVMGraphics is one remote or local display.
type KVMGraphics struct {
	Type string `json:"type"` // vnc | spice | rdp | sdl | egl-headless | dbus | desktop
	// ListenType is address | network | socket | none.
	ListenType string `json:"listen_type"`
	// Listen is the address, network name or socket path; for an address
	// display without one, qemu.conf's vnc_listen/spice_listen.
	Listen string `json:"listen"`
	// Exposed: listening on a non-loopback address. Nil when the address
	// comes from an unread qemu.conf.
	Exposed *bool `json:"exposed,omitempty"`
	// PasswordSet needs the secure XML (read-write connection) or
	// qemu.conf's global password; nil when neither was readable.
	PasswordSet *bool `json:"password_set,omitempty"`
	// TLS: VNC with qemu.conf vnc_tls; SPICE with spice_tls and a TLS port.
	TLS  *bool `json:"tls,omitempty"`
	SASL *bool `json:"sasl,omitempty"`
}

// KVMHostdev is a host device passed through to the guest.
type KVMHostdev struct {
	// Type is pci | usb | scsi | scsi_host | mdev | storage | misc | net,
	// or "interface" for <interface type='hostdev'>.
	Type   string `json:"type"`
	Source string `json:"source"`
}

// KVMInterface is one <interface>.
type KVMInterface struct {
	Type   string `json:"type"` // network | bridge | direct | ethernet | user | hostdev | vhostuser …
	Source string `json:"source"`
	MAC    string `json:"mac"`
	Model  string `json:"model"`
	// Filter is the nwfilter (filterref) applied, "" for none.
	Filter string `json:"filter"`
}

// KVMNetwork is a libvirt virtual network.
type KVMNetwork struct {
	// ForwardMode is /network/forward/@mode (nat, route, open, bridge,
	// private, vepa, passthrough, hostdev), "nat" for a bare <forward/>,
	// "isolated" without <forward>.
	ForwardMode string `json:"forward_mode"`
	// ForwardDevs are forward/@dev, forward/interface/@dev and forward/pf/@dev.
	ForwardDevs []string `json:"forward_devs"`
	Bridge      string   `json:"bridge"`
	Active      *bool    `json:"active,omitempty"`
	Autostart   *bool    `json:"autostart,omitempty"`
	Persistent  *bool    `json:"persistent,omitempty"`
}

// Version comparison schemes for PatchLevel.Scheme.
const (
	// SchemeDpkg compares Debian package versions ([epoch:]upstream[-revision]).
	SchemeDpkg = "dpkg"
	// SchemeRPM compares RPM [epoch:]version-release strings.
	SchemeRPM = "rpm"
	// SchemeUpstream compares dotted upstream versions ("7.2.22").
	SchemeUpstream = "upstream"
)

// CompareVersions compares two versions under a PatchLevel.Scheme and
// returns -1, 0 or 1. "" is treated as SchemeUpstream. Distro package
// versions carry backported fixes, so advisory data for a distro release
// line must give the distro's fixed package version and be compared with
// the distro's rules (dpkg: 1:7.2+dfsg-7+deb12u18 < 1:7.2+dfsg-7+deb12u20;
// "~" sorts before everything).
func CompareVersions(scheme, a, b string) (int, error) {
	switch scheme {
	case SchemeDpkg:
		return compareDpkg(a, b), nil
	case SchemeRPM:
		return compareRPM(a, b), nil
	case SchemeUpstream, "":
		return rpmvercmp(a, b), nil
	}
	return 0, fmt.Errorf("unknown version scheme %q", scheme)
}

// splitEVR splits [epoch:]version[-release]; release splits at the last "-".
// A non-numeric "epoch" is kept as part of the version.
func splitEVR(v string) (epoch int, ver, rel string) {
	if i := strings.IndexByte(v, ':'); i > 0 {
		e, ok := 0, true
		for _, c := range v[:i] {
			if c < '0' || c > '9' {
				ok = false
				break
			}
			e = e*10 + int(c-'0')
		}
		if ok {
			epoch, v = e, v[i+1:]
		}
	}
	if i := strings.LastIndexByte(v, '-'); i >= 0 {
		return epoch, v[:i], v[i+1:]
	}
	return epoch, v, ""
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compareDpkg implements dpkg's verrevcmp (deb-version(7)).
func compareDpkg(a, b string) int {
	ea, va, ra := splitEVR(a)
	eb, vb, rb := splitEVR(b)
	if c := cmpInt(ea, eb); c != 0 {
		return c
	}
	if c := dpkgVerrevcmp(va, vb); c != 0 {
		return c
	}
	return dpkgVerrevcmp(ra, rb)
}

func dpkgOrder(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return 0
	case c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z':
		return int(c)
	case c == '~':
		return -1
	case c != 0:
		return int(c) + 256
	}
	return 0
}

func dpkgVerrevcmp(a, b string) int {
	i, j := 0, 0
	at := func(s string, k int) byte {
		if k < len(s) {
			return s[k]
		}
		return 0
	}
	isDigit := func(c byte) bool { return c >= '0' && c <= '9' }
	for i < len(a) || j < len(b) {
		firstDiff := 0
		for (i < len(a) && !isDigit(a[i])) || (j < len(b) && !isDigit(b[j])) {
			ac, bc := dpkgOrder(at(a, i)), dpkgOrder(at(b, j))
			if i < len(a) && isDigit(a[i]) {
				ac = 0
			}
			if j < len(b) && isDigit(b[j]) {
				bc = 0
			}
			if ac != bc {
				return cmpInt(ac, bc)
			}
			i++
			j++
		}
		for i < len(a) && a[i] == '0' {
			i++
		}
		for j < len(b) && b[j] == '0' {
			j++
		}
		for i < len(a) && isDigit(a[i]) && j < len(b) && isDigit(b[j]) {
			if firstDiff == 0 {
				firstDiff = cmpInt(int(a[i]), int(b[j]))
			}
			i++
			j++
		}
		if i < len(a) && isDigit(a[i]) {
			return 1
		}
		if j < len(b) && isDigit(b[j]) {
			return -1
		}
		if firstDiff != 0 {
			return firstDiff
		}
	}
	return 0
}

// compareRPM compares [epoch:]version-release the way rpm does.
func compareRPM(a, b string) int {
	ea, va, ra := splitEVR(a)
	eb, vb, rb := splitEVR(b)
	if c := cmpInt(ea, eb); c != 0 {
		return c
	}
	if c := rpmvercmp(va, vb); c != 0 {
		return c
	}
	if ra == "" || rb == "" {
		return 0
	}
	return rpmvercmp(ra, rb)
}

// rpmvercmp is rpm's segment comparison: alphanumeric runs compared
// numerically or lexically, numbers newer than letters, "~" older than
// anything, "^" newer than the end of the string.
func rpmvercmp(a, b string) int {
	if a == b {
		return 0
	}
	isAlnum := func(c byte) bool {
		return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	}
	isDigit := func(c byte) bool { return c >= '0' && c <= '9' }
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		for i < len(a) && !isAlnum(a[i]) && a[i] != '~' && a[i] != '^' {
			i++
		}
		for j < len(b) && !isAlnum(b[j]) && b[j] != '~' && b[j] != '^' {
			j++
		}
		// Tilde: older than anything, even the end.
		at, bt := i < len(a) && a[i] == '~', j < len(b) && b[j] == '~'
		if at || bt {
			if !at {
				return 1
			}
			if !bt {
				return -1
			}
			i++
			j++
			continue
		}
		// Caret: newer than the end, older than anything else.
		ac, bc := i < len(a) && a[i] == '^', j < len(b) && b[j] == '^'
		if ac || bc {
			if i >= len(a) {
				return -1
			}
			if j >= len(b) {
				return 1
			}
			if !ac {
				return 1
			}
			if !bc {
				return -1
			}
			i++
			j++
			continue
		}
		if i >= len(a) || j >= len(b) {
			break
		}
		si, sj := i, j
		numeric := isDigit(a[i])
		if numeric {
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				j++
			}
		} else {
			for i < len(a) && isAlnum(a[i]) && !isDigit(a[i]) {
				i++
			}
			for j < len(b) && isAlnum(b[j]) && !isDigit(b[j]) {
				j++
			}
		}
		sa, sb := a[si:i], b[sj:j]
		if sb == "" {
			// Segments of different kinds: numeric is newer.
			if numeric {
				return 1
			}
			return -1
		}
		if numeric {
			sa, sb = strings.TrimLeft(sa, "0"), strings.TrimLeft(sb, "0")
			if c := cmpInt(len(sa), len(sb)); c != 0 {
				return c
			}
		}
		if c := strings.Compare(sa, sb); c != 0 {
			return c
		}
	}
	switch {
	case i >= len(a) && j >= len(b):
		return 0
	case i >= len(a):
		return -1
	}
	return 1
}
