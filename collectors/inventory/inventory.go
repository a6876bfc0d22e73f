// Package inventory is the neutral model every collector fills and every
// check reads. It imports the standard library only.
//
// Unknown is not false: a value a collector could not read is absent (a nil
// pointer, slice or map) and a Gap says why. Collectors never fill a default
// for something they did not see. The JSON names below are also the field
// names that baseline expressions use (vm.migration.encryption, …).
package inventory

import "time"

// Platforms (DESIGN.md §2).
const (
	PlatformESXi   = "esxi"
	PlatformKVM    = "kvm"
	PlatformHyperV = "hyperv"
)

// Object kinds, which are also the check scopes and the CEL variable names.
const (
	KindTarget  = "target"
	KindHost    = "host"
	KindVM      = "vm"
	KindNetwork = "network"
)

// Inventory is everything one target yielded, in neutral form.
type Inventory struct {
	Platform    string    `json:"platform"`
	CollectedAt time.Time `json:"collected_at"`
	Target      Target    `json:"target"`
	Hosts       []Host    `json:"hosts"`
	VMs         []VM      `json:"vms"`
	Networks    []Network `json:"networks"`
	// Gaps are the values the collector tried to read and could not.
	Gaps Gaps `json:"gaps"`
	// Sources maps a field path ("vm.migration.encryption") to where the
	// platform reads it ("VirtualMachine config.migrateEncryption"), so every
	// finding can name its evidence's origin. The longest matching prefix
	// wins (SourceOf).
	Sources map[string]string `json:"sources"`
}

// Target holds facts about the endpoint itself: a vCenter, a libvirt
// connection, a Hyper-V host's management service.
type Target struct {
	Name     string `json:"name"`
	URI      string `json:"uri"`
	Platform string `json:"platform"`
	// Kind says what answered: "vcenter", "esxi", "libvirt", "hyperv".
	Kind       *string `json:"kind,omitempty"`
	Product    *string `json:"product,omitempty"`
	Version    *string `json:"version,omitempty"`
	Build      *string `json:"build,omitempty"`
	APIVersion *string `json:"api_version,omitempty"`
	// Patch is the management server's own patch level (vCenter), absent
	// where the target is a single host whose level lives on Host.Patch.
	Patch *PatchLevel `json:"patch,omitempty"`
	// KeyProviders registered for VM encryption (vCenter key management).
	KeyProviders []KeyProvider `json:"key_providers,omitempty"`
	// Settings are management-server settings by their own key.
	Settings map[string]string `json:"settings,omitempty"`
	// Transport is absent when the snapshot audited did not record it.
	Transport *Transport `json:"transport,omitempty"`
	// ESXi holds vCenter facts (esxi.go); nil on other platforms.
	ESXi *ESXiTarget `json:"esxi,omitempty"`
}

// Transport records how hvaudit itself reached the target (area audit-transport).
type Transport struct {
	// TLSVerified is false only when the user turned verification off.
	TLSVerified bool `json:"tls_verified"`
	// Method is "ca" (system or --ca-file roots), "thumbprint" (pinned),
	// "insecure", or "local" (no network: a local socket or API).
	Method string `json:"method"`
}

// KeyProvider is a key management server cluster or native key provider.
type KeyProvider struct {
	ID      string `json:"id"`
	Default bool   `json:"default"`
	Servers int    `json:"servers"`
}

// PatchLevel identifies a product build precisely enough to compare it with
// advisory data, which is only ever done within one release line.
type PatchLevel struct {
	// Product is the advisory product key: "esxi", "vcenter", …
	Product string `json:"product"`
	// ReleaseLine is what builds are compared within: "8.0.3", "7.0.3".
	ReleaseLine string `json:"release_line"`
	Version     string `json:"version"`
	Build       string `json:"build"`
	FullName    string `json:"full_name,omitempty"`
	// Scheme says how Version compares with advisory data: "dpkg" or "rpm"
	// for distro package versions (release line "debian-12", "rhel-9"),
	// "upstream" or "" for dotted upstream versions. See checks/versions.
	Scheme string `json:"scheme,omitempty"`
}

// Host is one hypervisor host.
type Host struct {
	ID              string  `json:"id"`
	Name            string  `json:"name"`
	Cluster         *string `json:"cluster,omitempty"`
	ConnectionState *string `json:"connection_state,omitempty"`
	// APIVersion is the management API release the host speaks (vSphere
	// API "7.0.3.0"), where the platform has one.
	APIVersion *string     `json:"api_version,omitempty"`
	Patch      *PatchLevel `json:"patch,omitempty"`
	// Certificate of the host's management endpoint.
	Certificate *Certificate `json:"certificate,omitempty"`
	// LockdownMode uses the platform's words ("lockdownDisabled", …).
	LockdownMode *string `json:"lockdown_mode,omitempty"`
	// Services by key ("TSM-SSH", "ntpd", …); nil when unread.
	Services map[string]Service `json:"services,omitempty"`
	// Options are the host's advanced settings by key. A key missing from a
	// read map was not reported by the host.
	Options    map[string]any `json:"options,omitempty"`
	NTP        *NTP           `json:"ntp,omitempty"`
	SecureBoot *bool          `json:"secure_boot,omitempty"`
	Firewall   *Firewall      `json:"firewall,omitempty"`
	// VMKernelNICs are the host's own network interfaces (vmk*, management
	// OS vNICs, the bridge carrying the management address).
	VMKernelNICs []HostNIC `json:"vmkernel_nics,omitempty"`
	// VSwitches are host-local virtual switches.
	VSwitches []VSwitch `json:"vswitches,omitempty"`
	// Management is derived: how the management network is laid out.
	Management *ManagementNetwork `json:"management,omitempty"`
	// Components are further patchable parts of the host besides Patch
	// (KVM: Patch is QEMU; Components hold QEMU and libvirt).
	Components []PatchLevel `json:"components,omitempty"`
	// KVM holds libvirt/QEMU host facts (kvm.go); nil on other platforms.
	KVM *KVMHost `json:"kvm,omitempty"`
	// HyperV holds Hyper-V host facts (hyperv.go); nil on other platforms.
	HyperV *HyperVHost `json:"hyperv,omitempty"`
	// ESXi holds ESXi host facts (esxi.go); nil on other platforms.
	ESXi *ESXiHost `json:"esxi,omitempty"`
}

// Certificate is an X.509 certificate as the platform presented it.
type Certificate struct {
	Subject string `json:"subject"`
	Issuer  string `json:"issuer"`
	// IssuerOrganization is the issuer's O attribute (the first one), ""
	// when it has none.
	IssuerOrganization string    `json:"issuer_organization"`
	NotAfter           time.Time `json:"not_after"`
	// DaysLeft is derived from NotAfter and the collection time.
	DaysLeft int `json:"days_left"`
}

// Service is a host daemon and its start policy.
type Service struct {
	Key     string `json:"key"`
	Label   string `json:"label"`
	Running bool   `json:"running"`
	// Policy is "on" (start with host), "off" (manual) or "automatic".
	Policy string `json:"policy"`
}

// NTP is the host's time configuration.
type NTP struct {
	Servers []string `json:"servers"`
}

// Firewall is the host firewall's state.
type Firewall struct {
	IncomingBlocked bool `json:"incoming_blocked"`
	// OpenRulesets are the enabled rulesets that accept inbound traffic from
	// any address and whose allowed addresses the user can restrict (where
	// the platform says which those are): the inbound exposure a user can fix.
	OpenRulesets []string `json:"open_rulesets"`
	// Rulesets are every ruleset as the host reports it.
	Rulesets []FirewallRuleset `json:"rulesets,omitempty"`
}

// FirewallRuleset is one host firewall ruleset (a service's ports).
type FirewallRuleset struct {
	Key     string `json:"key"`
	Enabled bool   `json:"enabled"`
	// Inbound and Outbound say which directions its rules open.
	Inbound  bool `json:"inbound"`
	Outbound bool `json:"outbound"`
	// AllIP: any address may connect (no allowed-address list).
	AllIP bool `json:"all_ip"`
	// UserConfigurable says whether the user may set the allowed addresses;
	// absent where the platform does not say (vSphere before 8.0 U2).
	UserConfigurable *bool `json:"user_configurable,omitempty"`
}

// HostNIC is a host interface that carries host traffic (a vmknic on ESXi).
type HostNIC struct {
	Device string `json:"device"`
	// Portgroup is the port group's (or NSX segment's) name.
	Portgroup string `json:"portgroup"`
	Switch    string `json:"switch"`
	// Segment is the NSX segment (opaque network) id, when on one.
	Segment  string `json:"segment,omitempty"`
	VLAN     *int64 `json:"vlan,omitempty"`
	NetStack string `json:"netstack"`
	IP       string `json:"ip"`
	// Services are the traffic types tagged on it, in neutral words:
	// management, vmotion, provisioning, ft-logging, vsan, replication, …
	Services []string `json:"services"`
}

// VSwitch is a host-local (standard) virtual switch.
type VSwitch struct {
	Name     string          `json:"name"`
	Security *SecurityPolicy `json:"security,omitempty"`
}

// SecurityPolicy is a switch or port group's layer-2 security policy.
type SecurityPolicy struct {
	AllowPromiscuous *bool `json:"allow_promiscuous,omitempty"`
	ForgedTransmits  *bool `json:"forged_transmits,omitempty"`
	MACChanges       *bool `json:"mac_changes,omitempty"`
}

// ManagementNetwork is derived in Normalize from the host's interfaces.
type ManagementNetwork struct {
	// Interfaces carry management traffic.
	Interfaces []string `json:"interfaces"`
	// SharedServices are the other traffic types on those interfaces.
	SharedServices []string `json:"shared_services"`
	// Networks are the port groups or bridges the management interfaces use.
	Networks []string `json:"networks"`
	// VLANs of the management interfaces (where known).
	VLANs []int64 `json:"vlans"`
	// MigrationInterfaces carry live migration; MigrationShared lists the
	// other traffic types on them; MigrationVLANs their VLANs.
	MigrationInterfaces []string `json:"migration_interfaces"`
	MigrationShared     []string `json:"migration_shared"`
	MigrationVLANs      []int64  `json:"migration_vlans"`
	// MigrationNetStacks are the TCP/IP stacks migration interfaces use.
	MigrationNetStacks []string `json:"migration_netstacks"`
}

// VM is one virtual machine or domain.
type VM struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Host is the id of the host the VM is registered on, where known.
	Host            *string       `json:"host,omitempty"`
	PowerState      *string       `json:"power_state,omitempty"` // on | off | suspended
	Template        *bool         `json:"template,omitempty"`
	ConnectionState *string       `json:"connection_state,omitempty"`
	GuestOS         *string       `json:"guest_os,omitempty"`
	Firmware        *string       `json:"firmware,omitempty"` // efi | bios
	SecureBoot      *bool         `json:"secure_boot,omitempty"`
	VTPM            *bool         `json:"vtpm,omitempty"`
	Encryption      *VMEncryption `json:"encryption,omitempty"`
	Migration       *VMMigration  `json:"migration,omitempty"`
	// Settings are the VM's key/value configuration (vSphere extraConfig),
	// restricted to the keys the collector reads. A key missing from a read
	// map is not set on the VM.
	Settings map[string]string `json:"settings,omitempty"`
	Devices  *VMDevices        `json:"devices,omitempty"`
	Disks    []Disk            `json:"disks,omitempty"`
	NICs     []VMNIC           `json:"nics,omitempty"`
	Console  *Console          `json:"console,omitempty"`
	// Snapshots, flattened from the snapshot tree; empty when there are none.
	Snapshots []VMSnapshot `json:"snapshots,omitempty"`
	// OldestSnapshotDays is derived: age in whole days of the oldest
	// snapshot at collection time, 0 when there is none.
	OldestSnapshotDays *int64 `json:"oldest_snapshot_days,omitempty"`
	LoggingEnabled     *bool  `json:"logging_enabled,omitempty"`
	// SaltSharedWith names the other VMs that carry the same page-sharing
	// salt (vSphere sched.mem.pshare.salt), so may share memory pages with
	// this one; empty when the VM has no salt or a salt of its own.
	SaltSharedWith []string `json:"salt_shared_with,omitempty"`
	// Patch is the level of the patchable software the platform reports
	// inside the VM: VMware Tools on ESXi (product "vmware-tools").
	Patch *PatchLevel `json:"patch,omitempty"`
	// KVM holds libvirt domain facts (kvm.go); nil on other platforms.
	KVM *KVMDomain `json:"kvm,omitempty"`
	// HyperV holds Hyper-V VM facts (hyperv.go); nil on other platforms.
	HyperV *HyperVVM `json:"hyperv,omitempty"`
	// ESXi holds vSphere VM facts (esxi.go); nil on other platforms.
	ESXi *ESXiVM `json:"esxi,omitempty"`
}

// VMEncryption describes encryption of the VM's files and disks.
type VMEncryption struct {
	// HomeEncrypted: the VM's configuration files are encrypted.
	HomeEncrypted *bool `json:"home_encrypted,omitempty"`
	// KeyProvider that holds the VM's key, where encrypted.
	KeyProvider *string `json:"key_provider,omitempty"`
	// AllDisks is derived: every virtual disk is encrypted.
	AllDisks *bool `json:"all_disks,omitempty"`
	// Confidential names confidential-computing protection ("sev", "sev-snp",
	// "tdx", "shielded") or "none".
	Confidential *string `json:"confidential,omitempty"`
}

// VMMigration describes how the VM's live migration is protected.
type VMMigration struct {
	// Encryption uses neutral words: disabled | opportunistic | required.
	Encryption *string `json:"encryption,omitempty"`
	// FTEncryption: fault-tolerance logging encryption, same words.
	FTEncryption *string `json:"ft_encryption,omitempty"`
}

// VMDevices counts the devices isolation checks care about.
type VMDevices struct {
	Floppies          int64 `json:"floppies"`
	SerialPorts       int64 `json:"serial_ports"`
	ParallelPorts     int64 `json:"parallel_ports"`
	USBControllers    int64 `json:"usb_controllers"`
	ConnectedCDROMs   int64 `json:"connected_cdroms"`
	PCIPassthrough    int64 `json:"pci_passthrough"`
	NonPersistentDisk int64 `json:"nonpersistent_disks"`
}

// Disk is one virtual disk.
type Disk struct {
	Name      string `json:"name"`
	Encrypted bool   `json:"encrypted"`
	// Mode uses the platform's words (persistent, independent_nonpersistent…).
	Mode string `json:"mode"`
	// KeyProvider of the disk's key, where encrypted.
	KeyProvider string `json:"key_provider,omitempty"`
	// EncryptionFormat is the platform's word for the disk's encryption
	// ("luks", "luks2", legacy "qcow"; "default" when none is named), ""
	// when the disk has no encryption.
	EncryptionFormat string `json:"encryption_format,omitempty"`
}

// VMNIC is one guest network adapter.
type VMNIC struct {
	Name string `json:"name"`
	MAC  string `json:"mac"`
	// Network is the name of the port group, segment or bridge, never ""
	// for an attached NIC.
	Network string `json:"network"`
	// Switch and VLAN locate the NIC's layer-2 segment (VLAN absent on a
	// trunk or an NSX segment); Segment is the NSX segment id.
	Switch  string `json:"switch,omitempty"`
	VLAN    *int64 `json:"vlan,omitempty"`
	Segment string `json:"segment,omitempty"`
	// OnManagementNetwork is derived in Normalize: the NIC reaches the
	// network that carries the host's management traffic.
	OnManagementNetwork *bool `json:"on_management_network,omitempty"`
}

// Console is the VM's remote display.
type Console struct {
	Type        string `json:"type"` // vnc | spice | rdp | webmks
	Exposed     bool   `json:"exposed"`
	Listen      string `json:"listen"`
	PasswordSet bool   `json:"password_set"`
	TLS         bool   `json:"tls"`
}

// VMSnapshot is one point-in-time snapshot or checkpoint.
type VMSnapshot struct {
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
}

// Network is a port group, bridge or virtual switch that VMs attach to.
type Network struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Kind: standard-portgroup | distributed-portgroup | nsx-segment |
	// libvirt-network | hyperv-switch.
	Kind string `json:"kind"`
	// Host is the owning host's id for host-local networks.
	Host   *string `json:"host,omitempty"`
	Switch string  `json:"switch"`
	// VLAN is the access VLAN id; 4095 on vSphere standard switches means
	// guest tagging. Trunk is true when the port group passes several VLANs.
	VLAN  *int64 `json:"vlan,omitempty"`
	Trunk *bool  `json:"trunk,omitempty"`
	// VLANRanges are the VLANs a trunk passes.
	VLANRanges []VLANRange `json:"vlan_ranges,omitempty"`
	// Segment is the NSX segment id of an NSX-backed network.
	Segment  string          `json:"segment,omitempty"`
	Security *SecurityPolicy `json:"security,omitempty"`
	// Uplink marks the uplink port group of a distributed switch.
	Uplink bool `json:"uplink"`
	// Management is derived: a host management interface uses this network.
	Management *bool `json:"management,omitempty"`
	// VMs lists the ids of VMs attached.
	VMs []string `json:"vms"`
	// KVM holds libvirt network facts (kvm.go); nil on other platforms.
	KVM *KVMNetwork `json:"kvm,omitempty"`
	// HyperV holds Hyper-V switch facts (hyperv.go); nil on other platforms.
	HyperV *HyperVSwitch `json:"hyperv,omitempty"`
	// ESXi holds distributed port group facts (esxi.go); nil elsewhere.
	ESXi *ESXiNetwork `json:"esxi,omitempty"`
}

// VLANRange is an inclusive range of VLAN ids.
type VLANRange struct {
	Start int64 `json:"start"`
	End   int64 `json:"end"`
}

// Ptr returns a pointer to v; collectors use it to record a read value.
func Ptr[T any](v T) *T { return &v }
