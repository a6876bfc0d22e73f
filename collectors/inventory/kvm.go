package inventory

import (
	"time"
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
	// Nested: the loaded kvm_intel or kvm_amd module lets guests run
	// their own hypervisors (/sys/module/kvm_{intel,amd}/parameters/nested);
	// false when neither module is loaded.
	Nested *bool `json:"nested,omitempty"`
	// KernelAuditEnabled: the kernel's audit subsystem is on, so the
	// records libvirt writes are kept rather than dropped.
	KernelAuditEnabled *bool `json:"kernel_audit_enabled,omitempty"`
	// KernelAuditSource says how KernelAuditEnabled was decided (the
	// kernel's AUDIT_GET reply, the audit= boot parameter, auditd).
	KernelAuditSource string `json:"kernel_audit_source,omitempty"`
	// QEMUDriverDaemon is the running daemon that starts the guests and
	// reads qemu.conf: "libvirtd" (monolithic) or "virtqemud"; "" when
	// neither runs (the next one to start reads qemu.conf as it is now).
	QEMUDriverDaemon string `json:"qemu_driver_daemon"`
	// Firmware are the firmware descriptors libvirt picks UEFI firmware
	// from (/usr/share/qemu/firmware, overridden by same-named files in
	// /etc/qemu/firmware), in libvirt's order of preference.
	Firmware []KVMFirmware `json:"firmware"`
	// MigrationTLS is the directory of X.509 credentials QEMU uses for
	// TLS migration (qemu.conf migrate_tls_x509_cert_dir, else
	// default_tls_x509_cert_dir).
	MigrationTLS *KVMTLSCredentials `json:"migration_tls,omitempty"`
}

// KVMFirmware is one firmware descriptor (QEMU's firmware.json schema).
type KVMFirmware struct {
	// Name is the descriptor's file name, which orders them
	// ("40-edk2-x86_64-secure-enrolled.json"); Path where it was read.
	Name string `json:"name"`
	Path string `json:"path"`
	// Executable and NVRAMTemplate are the flash images it maps.
	Executable    string `json:"executable"`
	NVRAMTemplate string `json:"nvram_template"`
	// Features as the descriptor lists them ("secure-boot",
	// "enrolled-keys", "requires-smm", "amd-sev" …).
	Features []string `json:"features"`
}

// KVMTLSCredentials is a QEMU TLS credentials directory.
type KVMTLSCredentials struct {
	Dir string `json:"dir"`
	// Present lists the files found of ca-cert.pem, server-cert.pem,
	// server-key.pem, client-cert.pem and client-key.pem.
	Present []string `json:"present"`
	// Complete: the CA certificate and the server's and client's
	// certificate and key are all there (a host both receives and sends
	// migrations).
	Complete bool `json:"complete"`
	// KeysPrivate: no private key is readable or writable by other users.
	KeysPrivate bool `json:"keys_private"`
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

// LibvirtDaemon is one libvirt daemon: the process that runs (if any),
// the sockets it listens on, and the configuration it runs with.
//
// The configuration fields (ListenTCP … AuditLogging) hold the file's
// value or libvirt's default; they are nil when what the daemon runs with
// cannot be told: the file changed after the daemon started, or could not
// be read.
type LibvirtDaemon struct {
	Name string `json:"name"` // libvirtd | virtproxyd | virtqemud
	// Path is the configuration file the daemon reads: -f/--config from
	// its command line, else /etc/libvirt/NAME.conf.
	Path     string            `json:"path"`
	Settings map[string]string `json:"settings"`

	// Running: a process of this daemon runs (PID, Started, Args).
	Running bool       `json:"running"`
	PID     int64      `json:"pid,omitempty"`
	Started *time.Time `json:"started,omitempty"`
	// Args is the running daemon's command line.
	Args []string `json:"args,omitempty"`
	// Listeners are the TCP addresses ("0.0.0.0:16509") the daemon and, for
	// its socket units, systemd listen on; nil when they could not be read.
	Listeners []string `json:"listeners"`
	// SocketUnitsActive are NAME-tcp.socket / NAME-tls.socket units for
	// which systemd holds a listening socket.
	SocketUnitsActive []string `json:"socket_units_active"`

	ListenTCP  *bool   `json:"listen_tcp,omitempty"` // default off
	ListenTLS  *bool   `json:"listen_tls,omitempty"` // default on (only with --listen)
	ListenAddr *string `json:"listen_addr,omitempty"`
	AuthTCP    *string `json:"auth_tcp,omitempty"` // default "sasl"
	AuthTLS    *string `json:"auth_tls,omitempty"` // default "none" (certificates)
	// AuthUnixRO and AuthUnixRW default to "polkit" where the distro builds
	// with polkit (Debian, Ubuntu, RHEL family, SUSE), "" when not known.
	AuthUnixRO      *string `json:"auth_unix_ro,omitempty"`
	AuthUnixRW      *string `json:"auth_unix_rw,omitempty"`
	UnixSockGroup   *string `json:"unix_sock_group,omitempty"`    // default "root"
	UnixSockROPerms *string `json:"unix_sock_ro_perms,omitempty"` // default "0777"
	// UnixSockRWPerms defaults to "0777" with polkit, else "0700".
	UnixSockRWPerms         *string  `json:"unix_sock_rw_perms,omitempty"`
	TLSNoVerifyCertificate  *bool    `json:"tls_no_verify_certificate,omitempty"`
	TLSAllowedDNList        []string `json:"tls_allowed_dn_list"`
	SASLAllowedUsernameList []string `json:"sasl_allowed_username_list"`
	AuditLevel              *int64   `json:"audit_level,omitempty"` // default 1
	AuditLogging            *bool    `json:"audit_logging,omitempty"`
	// ListenFlag: --listen is on the running daemon's command line, or,
	// for a daemon not running, in its start arguments (/etc/default/NAME,
	// /etc/sysconfig/NAME).
	ListenFlag bool `json:"listen_flag"`
	// TCPSocketUnit / TLSSocketUnit: systemd NAME-tcp.socket / NAME-tls.socket
	// is enabled (linked under /etc/systemd/system/sockets.target.wants).
	TCPSocketUnit bool `json:"tcp_socket_unit"`
	TLSSocketUnit bool `json:"tls_socket_unit"`
	// TCPEnabled and TLSEnabled are derived: the daemon accepts plain TCP
	// (or TLS) connections now (a listener on that port, its own or
	// systemd's) or will when it starts (an enabled socket unit, or
	// --listen with listen_tcp / listen_tls). Nil when the listeners could
	// not be read and the configuration does not show one.
	TCPEnabled *bool `json:"tcp_enabled,omitempty"`
	TLSEnabled *bool `json:"tls_enabled,omitempty"`
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
	// Shmems are the domain's shared-memory devices (<shmem>: ivshmem,
	// ivshmem-plain, ivshmem-doorbell).
	Shmems []KVMShmem `json:"shmems"`

	// Runtime is what the running QEMU process of the domain shows (local
	// URIs only); nil for a domain that is not running or whose process
	// could not be read (a gap says why).
	Runtime *KVMRuntime `json:"runtime,omitempty"`
	// RunsAsRoot, Sandbox and DumpGuestCore are effective: for a running
	// guest, what its QEMU process got (user and group from
	// /proc/PID/status, -sandbox and -machine dump-guest-core from its
	// command line); for a stopped one, what the domain XML and qemu.conf
	// will give it. EffectiveSource names which.
	RunsAsRoot    *bool `json:"runs_as_root,omitempty"`
	Sandbox       *bool `json:"sandbox,omitempty"`
	DumpGuestCore *bool `json:"dump_guest_core,omitempty"`
	// MACConfined is effective too: the host has an SELinux or AppArmor
	// security driver and this guest runs (or will run) under its label.
	// On a host with neither, every guest is unconfined, whatever its XML.
	MACConfined     *bool  `json:"mac_confined,omitempty"`
	EffectiveSource string `json:"effective_source"`
}

// KVMRuntime is a running domain's QEMU process.
type KVMRuntime struct {
	PID int64 `json:"pid"`
	// Source names the process and what of it was read.
	Source string `json:"source"`
	// Executable is /proc/PID/exe; ExecutableDeleted: it ends in
	// "(deleted)", i.e. the binary was replaced (a package upgrade) after
	// the process started, which still runs the old code.
	Executable        string     `json:"executable"`
	ExecutableDeleted bool       `json:"executable_deleted"`
	UID               int64      `json:"uid"`
	GID               int64      `json:"gid"`
	Started           *time.Time `json:"started,omitempty"`
	// Args are the options hvaudit reads from the command line (-name,
	// -machine, -sandbox, -vnc, -spice, TLS credential objects), secrets
	// removed.
	Args []string `json:"args"`
}

// KVMShmem is one <shmem> device: memory shared with the host and with
// other guests that map the same name.
type KVMShmem struct {
	Name  string `json:"name"`
	Model string `json:"model"` // ivshmem | ivshmem-plain | ivshmem-doorbell
	// Server: a doorbell device connected to an ivshmem server socket.
	Server string `json:"server,omitempty"`
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
	// ListenScope says where the display can be reached from: "local"
	// (loopback, a UNIX socket, no listener), "management" (an address of
	// the host's management interface), "all" (every interface: 0.0.0.0,
	// ::, or no address at all) or "other" (another address of the host).
	// Nil when the address is not known.
	ListenScope *string `json:"listen_scope,omitempty"`
	// Source names where these facts were read: the QEMU process's command
	// line for a running guest on a local URI, else the domain XML and
	// qemu.conf.
	Source string `json:"source"`
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
	// Egress are the host interfaces a NAT, routed or open network's
	// traffic leaves through: forward/@dev, else the interfaces of the
	// host's default route. Empty for other modes; nil when unknown.
	Egress     []string `json:"egress"`
	Active     *bool    `json:"active,omitempty"`
	Autostart  *bool    `json:"autostart,omitempty"`
	Persistent *bool    `json:"persistent,omitempty"`
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
