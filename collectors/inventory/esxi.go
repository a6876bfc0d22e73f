package inventory

// vSphere facts that only ESXi and vCenter have, read through the vSphere
// API (and, for vSAN, vCenter's vsanHealth endpoint). The neutral fields
// carry what every platform shares; the types below hold what only vSphere
// has, in its own words where they matter. They hang off Target.ESXi,
// Host.ESXi, VM.ESXi and Network.ESXi.
//
// As everywhere in this package, a nil pointer or slice is a value the
// collector could not read (a Gap says why, naming the property, the method
// or the command that would show it); an empty, non-nil slice was read and
// is empty.

// ESXiTarget is what vCenter itself reports beyond the neutral Target.
type ESXiTarget struct {
	// DistributedSwitches are vCenter's distributed switches.
	DistributedSwitches []DistributedSwitch `json:"distributed_switches"`
	// VSANClusters are the clusters whose hosts run vSAN; empty when no
	// cluster does.
	VSANClusters []VSANCluster `json:"vsan_clusters"`
	// TLSProfile is vCenter's global TLS profile ("NIST_2024"), which only
	// the appliance REST API shows.
	TLSProfile *string `json:"tls_profile,omitempty"`
}

// DistributedSwitch is one vSphere distributed switch's switch-wide settings.
type DistributedSwitch struct {
	Name string `json:"name"`
	// MirrorSessions names the port mirroring (VSPAN) sessions configured,
	// enabled or not.
	MirrorSessions []string `json:"mirror_sessions"`
	// DiscoveryProtocol is "cdp" or "lldp"; DiscoveryOperation is "none",
	// "listen", "advertise" or "both" (linkDiscoveryProtocolConfig).
	DiscoveryProtocol  *string `json:"discovery_protocol,omitempty"`
	DiscoveryOperation *string `json:"discovery_operation,omitempty"`
	// HealthChecks names the health checks turned on: "vlan-mtu",
	// "teaming" (healthCheckConfig).
	HealthChecks []string `json:"health_checks"`
}

// VSANCluster is a cluster with vSAN enabled and its data services.
type VSANCluster struct {
	Name string `json:"name"`
	// DataAtRestEncryption is dataEncryptionConfig.encryptionEnabled;
	// DataInTransitEncryption is dataInTransitEncryptionConfig.enabled.
	DataAtRestEncryption    *bool `json:"data_at_rest_encryption,omitempty"`
	DataInTransitEncryption *bool `json:"data_in_transit_encryption,omitempty"`
}

// ESXiHost is what one ESXi host reports beyond the neutral Host.
type ESXiHost struct {
	// AcceptanceLevel is the host image acceptance level, in the API's
	// words: vmware_certified, vmware_accepted, partner or community.
	AcceptanceLevel *string `json:"acceptance_level,omitempty"`
	// StateEncryption is runtime.stateEncryption (vSphere API 7.0.3 and
	// later): how the host's configuration is encrypted.
	StateEncryption *StateEncryption `json:"state_encryption,omitempty"`
	// ADJoined: the host is joined to an Active Directory domain.
	ADJoined *bool `json:"ad_joined,omitempty"`
	// VCenterManaged: a vCenter manages the host.
	VCenterManaged *bool `json:"vcenter_managed,omitempty"`
	// LockdownExceptions are the lockdown mode exception users.
	LockdownExceptions []string `json:"lockdown_exceptions"`
	// TLSProfile is the host's TLS server profile ("NIST_2024"), which
	// only esxcli shows.
	TLSProfile *string `json:"tls_profile,omitempty"`
	SNMP       *SNMP   `json:"snmp,omitempty"`
	// IPStorage is derived: how IP-based storage traffic is laid out.
	IPStorage *IPStorage `json:"ip_storage,omitempty"`
	// LogDirPersistent is derived from Syslog.global.logDir and
	// ScratchConfig.CurrentScratchLocation: local logs survive a reboot.
	LogDirPersistent *bool `json:"log_dir_persistent,omitempty"`
}

// StateEncryption is how the host protects its configuration's key.
type StateEncryption struct {
	// ProtectionMode is "tpm" or "none".
	ProtectionMode string `json:"protection_mode"`
	// RequireSecureBoot: the key is released only under UEFI Secure Boot.
	RequireSecureBoot bool `json:"require_secure_boot"`
	// RequireExecInstalledOnly: the key is released only while
	// execInstalledOnly is enforced.
	RequireExecInstalledOnly bool `json:"require_exec_installed_only"`
}

// SNMP is the host's SNMP agent as the vSphere API shows it (HostSnmpSystem):
// SNMPv1/v2c communities and targets. SNMPv3 users and targets are shown by
// esxcli only. Community strings are secrets: only their count is kept.
type SNMP struct {
	Enabled bool `json:"enabled"`
	// Communities counts the v1/v2c read-only communities configured.
	Communities int `json:"communities"`
	// TrapTargets are the v1/v2c notification receivers ("host:port").
	TrapTargets []string `json:"trap_targets"`
	// V3Authenticated: every SNMPv3 target uses authentication.
	V3Authenticated *bool `json:"v3_authenticated,omitempty"`
}

// IPStorage describes the VMkernel interfaces IP-based storage uses.
type IPStorage struct {
	// Used: the host uses vSAN, software/dependent iSCSI or NFS.
	Used bool `json:"used"`
	// VSANInterfaces carry vSAN traffic; VSANShared lists the other
	// traffic types tagged on them.
	VSANInterfaces []string `json:"vsan_interfaces"`
	VSANShared     []string `json:"vsan_shared"`
	// ISCSIAdapters are the host's iSCSI adapters; NFSDatastores its NFS
	// mounts.
	ISCSIAdapters []string `json:"iscsi_adapters"`
	NFSDatastores []string `json:"nfs_datastores"`
	// ISCSINFSIsolated: the interfaces iSCSI and NFS use carry nothing
	// else. True when neither is used; otherwise unknown until the iSCSI
	// port bindings are read.
	ISCSINFSIsolated *bool `json:"iscsi_nfs_isolated,omitempty"`
}

// ESXiVM is what vSphere reports about one VM beyond the neutral VM.
type ESXiVM struct {
	// FaultTolerance is runtime.faultToleranceState: notConfigured,
	// disabled, enabled, needSecondary, starting or running.
	FaultTolerance *string `json:"fault_tolerance,omitempty"`
}

// ESXiNetwork is a distributed port group's policy.
type ESXiNetwork struct {
	// OverridesAllowed names the port policies individual ports may
	// override (config.policy.*OverrideAllowed, livePortMovingAllowed),
	// except blocking ports, which the STIG permits.
	OverridesAllowed []string `json:"overrides_allowed"`
	// ResetAtDisconnect is config.policy.portConfigResetAtDisconnect.
	ResetAtDisconnect *bool `json:"reset_at_disconnect,omitempty"`
}
