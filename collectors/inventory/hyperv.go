package inventory

import "time"

// Hyper-V facts read through WMI (root\virtualization\v2, root\cimv2,
// root\Microsoft\Windows\DeviceGuard, root\Microsoft\Windows\Hgs). The
// neutral fields (Host.Patch, VM.VTPM, VM.SecureBoot, VM.Firmware,
// VM.Encryption, VM.Migration, VM.NICs, Host.Management, …) carry what every
// platform shares; the types below hold what only Hyper-V has, in its own
// words where they matter. They hang off Host.HyperV, VM.HyperV and
// Network.HyperV.
//
// As everywhere in this package, a nil pointer or slice is a value the
// collector could not read (a Gap says why, naming the WMI class and
// property); an empty, non-nil slice was read and is empty.

// HyperVHost is what one Hyper-V host's management OS reports.
type HyperVHost struct {
	// ComputerName is Win32_OperatingSystem.CSName.
	ComputerName string `json:"computer_name"`
	// OSCaption is Win32_OperatingSystem.Caption ("Microsoft Windows
	// Server 2022 Datacenter").
	OSCaption *string `json:"os_caption,omitempty"`
	// BuildNumber is Win32_OperatingSystem.BuildNumber ("20348").
	BuildNumber *string `json:"build_number,omitempty"`
	// UBR is the update build revision (registry HKLM\SOFTWARE\Microsoft\
	// Windows NT\CurrentVersion UBR), the number after the build.
	UBR      *int64     `json:"ubr,omitempty"`
	LastBoot *time.Time `json:"last_boot,omitempty"`
	// Hotfixes are Win32_QuickFixEngineering rows, newest first.
	Hotfixes []HyperVHotfix `json:"hotfixes"`
	// NewestHotfixDays is derived: whole days between the newest hotfix
	// with a readable InstalledOn and the collection time.
	NewestHotfixDays *int64 `json:"newest_hotfix_days,omitempty"`
	// Migration is the host's live-migration service configuration.
	Migration *HyperVMigrationService `json:"migration,omitempty"`
	// DeviceGuard is Win32_DeviceGuard: VBS, HVCI and Credential Guard.
	DeviceGuard *HyperVDeviceGuard `json:"device_guard,omitempty"`
	// HGS is the Host Guardian Service client configuration.
	HGS *HyperVHGS `json:"hgs,omitempty"`
	// ManagementOSSharesVMSwitch is derived: a management-OS vNIC sits on an
	// external switch that a VM is connected to.
	ManagementOSSharesVMSwitch *bool `json:"management_os_shares_vm_switch,omitempty"`
	// ManagementOSSharesVMVLAN is derived: moreover one of those VMs' ports
	// reaches a VLAN of such a management-OS vNIC (untagged counts as VLAN 0).
	ManagementOSSharesVMVLAN *bool `json:"management_os_shares_vm_vlan,omitempty"`
	// EnhancedSessionMode is Msvm_VirtualSystemManagementServiceSettingData.
	// EnhancedSessionModeEnabled.
	EnhancedSessionMode *bool `json:"enhanced_session_mode,omitempty"`
	// DefaultVHDPath and DefaultDataRoot are where new VMs' disks and
	// configuration go by default.
	DefaultVHDPath  *string `json:"default_vhd_path,omitempty"`
	DefaultDataRoot *string `json:"default_data_root,omitempty"`
	// ManagementVNICsOwnVLAN is derived for Microsoft's converged design
	// (host vNICs on a VM switch, usually a SET team): every management-OS
	// vNIC on an external switch that carries VMs is in access mode on a
	// tagged VLAN that no VM port on that switch reaches. True when no
	// vNIC shares a VM switch.
	ManagementVNICsOwnVLAN *bool `json:"management_vnics_own_vlan,omitempty"`
	// ManagementSubnets are the subnets (CIDR) of the host's IP interfaces
	// that carry a default gateway (Win32_NetworkAdapterConfiguration):
	// the management network in Microsoft's guidance, where only the
	// management adapter has a gateway. Link-local addresses are left out.
	ManagementSubnets []string `json:"management_subnets"`
	// SMB is the host's SMB server configuration (MSFT_SmbServerConfiguration),
	// which protects live migration over SMB and the host's shares.
	SMB *HyperVSMBServer `json:"smb,omitempty"`
}

// HyperVSMBServer is MSFT_SmbServerConfiguration (root\Microsoft\Windows\SMB),
// what Get-SmbServerConfiguration shows.
type HyperVSMBServer struct {
	// EncryptData: the server encrypts every session (SMB 3 encryption).
	EncryptData *bool `json:"encrypt_data,omitempty"`
	// RejectUnencryptedAccess: clients that cannot encrypt are refused
	// when encryption is required.
	RejectUnencryptedAccess *bool `json:"reject_unencrypted_access,omitempty"`
	// RequireSecuritySignature: every session must be signed
	// ("Microsoft network server: Digitally sign communications (always)").
	RequireSecuritySignature *bool `json:"require_security_signature,omitempty"`
}

// HyperVHotfix is one installed update.
type HyperVHotfix struct {
	ID          string `json:"id"` // "KB5044281"
	Description string `json:"description"`
	InstalledBy string `json:"installed_by,omitempty"`
	// InstalledOn is nil when the host wrote no date or one in a form not
	// understood; InstalledOnRaw keeps what it wrote (its format depends
	// on the host's locale).
	InstalledOn    *time.Time `json:"installed_on,omitempty"`
	InstalledOnRaw string     `json:"installed_on_raw,omitempty"`
}

// HyperVMigrationService is Msvm_VirtualSystemMigrationServiceSettingData
// with the host's Msvm_VirtualSystemMigrationNetworkSettingData rows.
type HyperVMigrationService struct {
	Enabled *bool `json:"enabled,omitempty"`
	// Authentication is "kerberos" or "credssp" (AuthenticationType 1 / 0).
	Authentication *string `json:"authentication,omitempty"`
	Compression    *bool   `json:"compression,omitempty"`
	// SMBTransport: migration data goes over SMB (EnableSmbTransport).
	SMBTransport *bool `json:"smb_transport,omitempty"`
	// Transport is derived as Hyper-V's PowerShell module reads it
	// (VirtualMachineMigrationPerformanceOption): "compression" when
	// EnableCompression is set, else "smb" when EnableSmbTransport is set,
	// else "tcpip".
	Transport                  *string `json:"transport,omitempty"`
	MaxActiveMigrations        *int64  `json:"max_active_migrations,omitempty"`
	MaxActiveStorageMigrations *int64  `json:"max_active_storage_migrations,omitempty"`
	// Networks are the networks live migration may use, as CIDR
	// ("10.20.0.0/24"), the "use any network" rows (0.0.0.0/0, ::/0)
	// included; empty when none is configured.
	Networks []string `json:"networks"`
	// AnyNetwork is derived: migration may use any network
	// (Set-VMHost -UseAnyNetworkForMigration, which Hyper-V records as
	// 0.0.0.0/0 and ::0/0 rows tagged Microsoft:UserManagedAllNetworks);
	// any /0 row counts, whatever its tag.
	AnyNetwork *bool `json:"any_network,omitempty"`
	// DedicatedNetworks is derived: at least one migration network that is
	// not a /0 is configured (migration is restricted to listed subnets).
	DedicatedNetworks *bool `json:"dedicated_networks,omitempty"`
	// ManagementOverlap is derived: a migration network (other than /0)
	// overlaps one of the host's management subnets.
	ManagementOverlap *bool `json:"management_overlap,omitempty"`
}

// HyperVDeviceGuard is Win32_DeviceGuard. The arrays use Microsoft's
// numbers: SecurityServices 1 Credential Guard, 2 HVCI, 3 System Guard
// Secure Launch; SecurityProperties 1 hypervisor support, 2 Secure Boot,
// 3 DMA protection, ….
type HyperVDeviceGuard struct {
	// VBSStatus: 0 not enabled, 1 enabled but not running, 2 running.
	VBSStatus                   *int64  `json:"vbs_status,omitempty"`
	SecurityServicesConfigured  []int64 `json:"security_services_configured"`
	SecurityServicesRunning     []int64 `json:"security_services_running"`
	RequiredSecurityProperties  []int64 `json:"required_security_properties"`
	AvailableSecurityProperties []int64 `json:"available_security_properties"`
	// Derived from the above.
	VBSRunning             *bool `json:"vbs_running,omitempty"`
	HVCIRunning            *bool `json:"hvci_running,omitempty"`
	CredentialGuardRunning *bool `json:"credential_guard_running,omitempty"`
}

// HyperVHGS is MSFT_HgsClientConfiguration, the guarded-host attestation
// client.
type HyperVHGS struct {
	IsHostGuarded *bool `json:"is_host_guarded,omitempty"`
	// AttestationMode is "tpm", "ad" (admin-trusted) or "unknown"
	// (AttestationOperationMode); other words are kept lower-cased.
	AttestationMode        *string `json:"attestation_mode,omitempty"`
	Mode                   *int64  `json:"mode,omitempty"`
	AttestationStatus      *int64  `json:"attestation_status,omitempty"`
	AttestationServerURL   string  `json:"attestation_server_url,omitempty"`
	KeyProtectionServerURL string  `json:"key_protection_server_url,omitempty"`
}

// HyperVVM is what Hyper-V's WMI says about one VM beyond the neutral fields.
type HyperVVM struct {
	// State is the state in Hyper-V's words (Msvm_ComputerSystem
	// EnabledState): Running, Off, Saved, Paused, Starting, Saving,
	// Stopping, Pausing, Resuming, or "Unknown(N)".
	State        string `json:"state"`
	EnabledState *int64 `json:"enabled_state,omitempty"`
	// UptimeSeconds is OnTimeInMilliseconds / 1000.
	UptimeSeconds *int64 `json:"uptime_seconds,omitempty"`
	// LastStateChange is Msvm_ComputerSystem.TimeOfLastStateChange; nil
	// when the VM never changed state (WMI writes the CIM zero date,
	// 1601-01-01, for a VM created and never started: NeverChangedState).
	LastStateChange   *time.Time `json:"last_state_change,omitempty"`
	NeverChangedState bool       `json:"never_changed_state,omitempty"`
	// Created is Msvm_ComputerSystem.InstallDate, when the VM was created.
	Created *time.Time `json:"created,omitempty"`
	// DaysInState is derived: whole days since LastStateChange at
	// collection time, or since Created for a VM that never changed state
	// (a long-off VM has State Off and a large value).
	DaysInState *int64 `json:"days_in_state,omitempty"`
	// Generation is 1 or 2 (VirtualSystemSubType Microsoft:Hyper-V:SubType:N).
	Generation *int64 `json:"generation,omitempty"`
	// ConfigurationVersion is Msvm_VirtualSystemSettingData.Version ("10.0").
	ConfigurationVersion *string `json:"configuration_version,omitempty"`
	// SecureBootTemplateID is the template GUID (upper case);
	// SecureBootTemplate its name where known (MicrosoftWindows,
	// MicrosoftUEFICertificateAuthority), else "".
	SecureBootTemplateID *string `json:"secure_boot_template_id,omitempty"`
	SecureBootTemplate   *string `json:"secure_boot_template,omitempty"`
	AutomaticCheckpoints *bool   `json:"automatic_checkpoints,omitempty"`
	// DebugPort: the kernel debug port is enabled (DebugPortEnabled 1 or 2).
	DebugPort *bool `json:"debug_port,omitempty"`
	// From Msvm_SecuritySettingData (configured).
	KSDEnabled                      *bool `json:"ksd_enabled,omitempty"`
	ShieldingRequested              *bool `json:"shielding_requested,omitempty"`
	DataProtectionRequested         *bool `json:"data_protection_requested,omitempty"`
	EncryptStateAndMigrationTraffic *bool `json:"encrypt_state_and_migration_traffic,omitempty"`
	VBSOptOut                       *bool `json:"vbs_opt_out,omitempty"`
	BindToHostTPM                   *bool `json:"bind_to_host_tpm,omitempty"`
	// From Msvm_SecurityElement (runtime; nil when the VM has none).
	Shielded         *bool `json:"shielded,omitempty"`
	EncryptionActive *bool `json:"encryption_active,omitempty"`
	// GuestServiceInterface: the Guest Service Interface integration
	// service (host-to-guest file copy) is enabled.
	GuestServiceInterface *bool `json:"guest_service_interface,omitempty"`
	// From Msvm_ProcessorSettingData.
	NestedVirtualization        *bool  `json:"nested_virtualization,omitempty"`
	SpeculationControlsDisabled *bool  `json:"speculation_controls_disabled,omitempty"`
	HwThreadsPerCore            *int64 `json:"hw_threads_per_core,omitempty"`
	// Ports are the VM's switch ports (one per synthetic network adapter);
	// nil when the port allocations could not be read.
	Ports []HyperVPort `json:"ports"`
	// OtherSnapshots are Msvm_VirtualSystemSettingData rows of the VM that
	// Microsoft does not document as checkpoints (VirtualSystemType
	// Snapshot:Recovery, :Planned, :Missing, :Replica:*): kept as evidence,
	// not counted in Snapshots.
	OtherSnapshots []HyperVSnapshotRow `json:"other_snapshots,omitempty"`
}

// HyperVSnapshotRow is one snapshot-type settings row that is not a checkpoint.
type HyperVSnapshotRow struct {
	Name string `json:"name"`
	// Type is VirtualSystemType ("Microsoft:Hyper-V:Snapshot:Recovery").
	Type    string     `json:"type"`
	Created *time.Time `json:"created,omitempty"`
}

// HyperVPort is one VM network adapter's switch port: its connection,
// VLAN and port security. A port without VLAN or security setting data
// has Hyper-V's defaults (untagged; no spoofing, guards off, no mirroring).
type HyperVPort struct {
	Name     string `json:"name"`
	MAC      string `json:"mac"`
	Switch   string `json:"switch"`
	SwitchID string `json:"switch_id"`
	// Connected: the adapter is connected to a switch.
	Connected bool `json:"connected"`
	// VLANMode is untagged | access | trunk | private; nil when the VLAN
	// settings could not be read.
	VLANMode   *string `json:"vlan_mode,omitempty"`
	AccessVLAN *int64  `json:"access_vlan,omitempty"`
	NativeVLAN *int64  `json:"native_vlan,omitempty"`
	TrunkVLANs []int64 `json:"trunk_vlans,omitempty"`
	// VLANs is derived: every VLAN the port reaches (0 = untagged); nil
	// when the VLAN settings could not be read.
	VLANs       []int64 `json:"vlans"`
	MACSpoofing *bool   `json:"mac_spoofing,omitempty"`
	DHCPGuard   *bool   `json:"dhcp_guard,omitempty"`
	RouterGuard *bool   `json:"router_guard,omitempty"`
	// MonitorMode is port mirroring: 0 none, 1 destination, 2 source.
	MonitorMode *int64 `json:"monitor_mode,omitempty"`
}

// HyperVSwitch is a Hyper-V virtual switch (Msvm_VirtualEthernetSwitch)
// with what its port allocations reveal.
type HyperVSwitch struct {
	// Type is derived: "external" (a port is bound to a physical adapter,
	// Msvm_ExternalEthernetPort), "internal" (only a management-OS port)
	// or "private".
	Type string `json:"type"`
	// ExternalAdapters name the physical adapters bound to it.
	ExternalAdapters []string `json:"external_adapters"`
	// ManagementOS: a management-OS vNIC (Msvm_InternalEthernetPort) is on
	// the switch (New-VMSwitch -AllowManagementOS).
	ManagementOS bool `json:"management_os"`
	// ManagementVNICs name those vNICs; ManagementVLANs are their VLANs
	// (0 = untagged), nil when unknown.
	ManagementVNICs []string `json:"management_vnics"`
	ManagementVLANs []int64  `json:"management_vlans"`
}
