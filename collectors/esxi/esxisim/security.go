package esxisim

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
	"github.com/vmware/govmomi/vsan"
	vsansim "github.com/vmware/govmomi/vsan/simulator"
	vsantypes "github.com/vmware/govmomi/vsan/types"
)

// What the security checks read that govmomi's simulator does not serve:
// the host managers HostImageConfigManager, HostAccessManager and
// HostSnmpSystem (registered here per host, with the methods the collector
// calls), the host's state encryption, AD membership and vSAN membership,
// fault tolerance state, distributed switch and port group policies, and
// vSAN's data services (govmomi's vSAN simulator, seeded here).

// HostSecurity is a host's declared security state; unset fields keep the
// simulator's defaults, and an unregistered manager answers every call with
// ManagedObjectNotFound, as a real host without it would fault.
type HostSecurity struct {
	// AcceptanceLevel registers a HostImageConfigManager answering it
	// (vmware_certified, vmware_accepted, partner, community).
	AcceptanceLevel string `toml:"acceptance_level"`
	// LockdownExceptions registers a HostAccessManager with these users.
	LockdownExceptions *[]string `toml:"lockdown_exceptions"`
	// StateEncryption sets runtime.stateEncryption.
	StateEncryption *StateEncryption `toml:"state_encryption"`
	// ADDomain joins the host to an Active Directory domain.
	ADDomain string `toml:"ad_domain"`
	// SNMP registers a HostSnmpSystem with this configuration.
	SNMP *SNMP `toml:"snmp"`
	// VSAN marks the host as a vSAN member (config.vsanHostConfig.enabled).
	VSAN bool `toml:"vsan"`
	// NFSDatastores mounts NFS volumes with these names.
	NFSDatastores []string `toml:"nfs_datastores"`
	// SoftwareISCSI adds the software iSCSI adapter (vmhba65).
	SoftwareISCSI bool `toml:"software_iscsi"`
	// CertificateIssuerOrg issues the host certificate (certificate_days)
	// in that organisation's name instead of "VMware".
	CertificateIssuerOrg string `toml:"certificate_issuer_org"`
}

// StateEncryption is runtime.stateEncryption.
type StateEncryption struct {
	ProtectionMode    string `toml:"protection_mode"` // tpm | none
	RequireSecureBoot bool   `toml:"require_secure_boot"`
}

// SNMP is a host's SNMP agent (v1/v2c as the vSphere API shows it).
type SNMP struct {
	Enabled     bool     `toml:"enabled"`
	Communities []string `toml:"communities"`
	TrapTargets []string `toml:"trap_targets"` // "host:port"
}

// VMSecurity is a VM's declared security state.
type VMSecurity struct {
	// FaultTolerance is runtime.faultToleranceState (default notConfigured).
	FaultTolerance string `toml:"fault_tolerance"`
}

// PortgroupPolicy is a distributed port group's port policy; unset, the
// simulator's default (blocking overridable, reset at disconnect) stays.
type PortgroupPolicy struct {
	// OverridesAllowed names the VMwareDVSPortgroupPolicy flags to allow
	// ("vlanOverrideAllowed", "securityPolicyOverrideAllowed", …).
	OverridesAllowed []string `toml:"overrides_allowed"`
	// ResetAtDisconnect sets portConfigResetAtDisconnect.
	ResetAtDisconnect *bool `toml:"reset_at_disconnect"`
}

// DVSwitch is the switch-wide settings of every distributed switch.
type DVSwitch struct {
	MirrorSessions     []string `toml:"mirror_sessions"`
	DiscoveryProtocol  string   `toml:"discovery_protocol"`  // cdp | lldp
	DiscoveryOperation string   `toml:"discovery_operation"` // none | listen | advertise | both
	HealthChecks       []string `toml:"health_checks"`       // vlan-mtu, teaming
}

// VSAN is the data services of every vSAN cluster.
type VSAN struct {
	DataAtRestEncryption    bool `toml:"data_at_rest_encryption"`
	DataInTransitEncryption bool `toml:"data_in_transit_encryption"`
}

// EstateSecurity is the estate-wide security state.
type EstateSecurity struct {
	DVSwitch *DVSwitch `toml:"dvswitch"`
	VSAN     *VSAN     `toml:"vsan"`
}

// VCenterSecurity is how the audit account is set up.
type VCenterSecurity struct {
	// AuditorReadOnly gives the audit account the Read-Only role only:
	// QueryLockdownExceptions then faults with NoPermission (Global.Settings).
	AuditorReadOnly bool `toml:"auditor_read_only"`
	// Settings are added to vCenter's advanced settings (OptionManager).
	Settings map[string]any `toml:"settings"`
}

// imageConfigManager serves HostImageConfigGetAcceptance.
type imageConfigManager struct {
	mo.HostImageConfigManager
	level string
}

func (m *imageConfigManager) HostImageConfigGetAcceptance(*simulator.Context, *types.HostImageConfigGetAcceptance) soap.HasFault {
	return &methods.HostImageConfigGetAcceptanceBody{Res: &types.HostImageConfigGetAcceptanceResponse{Returnval: m.level}}
}

// hostAccessManager serves QueryLockdownExceptions, which needs the
// Global.Settings privilege: a Read-Only auditor gets NoPermission.
type hostAccessManager struct {
	mo.HostAccessManager
	host       types.ManagedObjectReference
	exceptions []string
	readOnly   bool
}

func (m *hostAccessManager) QueryLockdownExceptions(*simulator.Context, *types.QueryLockdownExceptions) soap.HasFault {
	if m.readOnly {
		return &methods.QueryLockdownExceptionsBody{Fault_: simulator.Fault("Permission to perform this operation was denied.",
			&types.NoPermission{Object: &m.host, PrivilegeId: "Global.Settings"})}
	}
	return &methods.QueryLockdownExceptionsBody{Res: &types.QueryLockdownExceptionsResponse{Returnval: append([]string(nil), m.exceptions...)}}
}

// snmpSystem serves the configuration property.
type snmpSystem struct {
	mo.HostSnmpSystem
}

// applySecurity writes the declared security state onto the simulator's
// objects; it runs after apply, under the same locks.
func (s *Sim) applySecurity(e *Estate) error {
	sctx := s.model.Service.Context
	reg := sctx.Map
	byName := map[string]*simulator.HostSystem{}
	for _, ent := range reg.All("HostSystem") {
		sh := reg.Get(ent.Reference()).(*simulator.HostSystem)
		byName[sh.Name] = sh
	}
	for _, h := range e.Hosts {
		sh := byName[h.Name] // apply named them; a standalone model has the first only
		if sh == nil {
			continue
		}
		var err error
		sctx.WithLock(sh, func() {
			if err = s.applyHostSecurity(reg, sh, h.HostSecurity, e.VCenter.AuditorReadOnly); err == nil && h.CertificateIssuerOrg != "" && h.CertificateDays != 0 {
				sh.Config.Certificate, err = selfSignedAs(h.Name, h.CertificateIssuerOrg, time.Now().Add(time.Duration(h.CertificateDays)*24*time.Hour))
			}
		})
		if err != nil {
			return fmt.Errorf("host %s: %w", h.Name, err)
		}
	}
	vmsByName := map[string]*simulator.VirtualMachine{}
	for _, ent := range reg.All("VirtualMachine") {
		svm := reg.Get(ent.Reference()).(*simulator.VirtualMachine)
		vmsByName[svm.Name] = svm
	}
	for _, v := range e.VMs {
		svm := vmsByName[v.Name]
		if svm == nil {
			continue
		}
		state := types.VirtualMachineFaultToleranceStateNotConfigured
		if v.FaultTolerance != "" {
			state = types.VirtualMachineFaultToleranceState(v.FaultTolerance)
		}
		sctx.WithLock(svm, func() { svm.Runtime.FaultToleranceState = state; svm.Summary.Runtime.FaultToleranceState = state })
	}
	for _, d := range e.DVPortgroups {
		for _, ent := range reg.All("DistributedVirtualPortgroup") {
			pg := reg.Get(ent.Reference()).(*simulator.DistributedVirtualPortgroup)
			if pg.Name != d.Name || (d.OverridesAllowed == nil && d.ResetAtDisconnect == nil) {
				continue
			}
			var err error
			sctx.WithLock(pg, func() { err = applyPortgroupPolicy(pg, d.PortgroupPolicy) })
			if err != nil {
				return fmt.Errorf("dvportgroup %s: %w", d.Name, err)
			}
		}
	}
	if sw := e.DVSwitch; sw != nil {
		// The switch has a real vCenter's type name unless the estate keeps
		// the simulator's (applyDistributed).
		for _, ent := range append(reg.All("VmwareDistributedVirtualSwitch"), reg.All("DistributedVirtualSwitch")...) {
			dvs := reg.Get(ent.Reference()).(*simulator.DistributedVirtualSwitch)
			var err error
			sctx.WithLock(dvs, func() { err = applySwitch(dvs, sw) })
			if err != nil {
				return err
			}
		}
	}
	if len(e.VCenter.Settings) > 0 && s.model.ServiceContent.Setting != nil {
		om, ok := reg.Get(*s.model.ServiceContent.Setting).(*simulator.OptionManager)
		if !ok {
			return fmt.Errorf("vCenter settings: no OptionManager")
		}
		keys := make([]string, 0, len(e.VCenter.Settings))
		for k := range e.VCenter.Settings {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		sctx.WithLock(om, func() {
			for _, k := range keys {
				om.Setting = append(om.Setting, &types.OptionValue{Key: k, Value: e.VCenter.Settings[k]})
			}
		})
	}
	return s.registerVSAN(e)
}

func (s *Sim) applyHostSecurity(reg *simulator.Registry, sh *simulator.HostSystem, h HostSecurity, readOnly bool) error {
	id := sh.Reference().Value
	if h.AcceptanceLevel != "" {
		m := &imageConfigManager{level: h.AcceptanceLevel}
		m.Self = types.ManagedObjectReference{Type: "HostImageConfigManager", Value: "imageConfigManager-" + id}
		reg.Put(m)
		sh.ConfigManager.ImageConfigManager = &m.Self
	}
	if h.LockdownExceptions != nil {
		m := &hostAccessManager{host: sh.Reference(), exceptions: *h.LockdownExceptions, readOnly: readOnly}
		m.Self = types.ManagedObjectReference{Type: "HostAccessManager", Value: "hostAccessManager-" + id}
		m.LockdownMode = sh.Config.LockdownMode
		reg.Put(m)
		sh.ConfigManager.HostAccessManager = &m.Self
	}
	if h.SNMP != nil {
		m := &snmpSystem{}
		m.Self = types.ManagedObjectReference{Type: "HostSnmpSystem", Value: "snmpSystem-" + id}
		m.Configuration = types.HostSnmpConfigSpec{Enabled: ptr(h.SNMP.Enabled), Port: 161, ReadOnlyCommunities: h.SNMP.Communities}
		for _, t := range h.SNMP.TrapTargets {
			host, port, _ := strings.Cut(t, ":")
			var p int32
			_, _ = fmt.Sscan(port, &p)
			m.Configuration.TrapTargets = append(m.Configuration.TrapTargets, types.HostSnmpDestination{HostName: host, Port: p, Community: "public"})
		}
		reg.Put(m)
		sh.ConfigManager.SnmpSystem = &m.Self
	}
	if se := h.StateEncryption; se != nil {
		sh.Runtime.StateEncryption = &types.HostRuntimeInfoStateEncryptionInfo{ProtectionMode: se.ProtectionMode, RequireSecureBoot: ptr(se.RequireSecureBoot), RequireExecInstalledOnly: ptr(false)}
	}
	if h.ADDomain != "" && sh.Config.AuthenticationManagerInfo != nil {
		for _, a := range sh.Config.AuthenticationManagerInfo.AuthConfig {
			if ad, ok := a.(*types.HostActiveDirectoryInfo); ok {
				ad.JoinedDomain, ad.DomainMembershipStatus = h.ADDomain, "ok"
			}
		}
	}
	if h.VSAN && sh.Config.VsanHostConfig != nil {
		sh.Config.VsanHostConfig.Enabled = ptr(true)
	}
	if h.SoftwareISCSI && sh.Config.StorageDevice != nil {
		sh.Config.StorageDevice.HostBusAdapter = append(sh.Config.StorageDevice.HostBusAdapter, &types.HostInternetScsiHba{
			HostHostBusAdapter: types.HostHostBusAdapter{Key: "key-vim.host.InternetScsiHba-vmhba65", Device: "vmhba65", Model: "iSCSI Software Adapter", Driver: "iscsi_vmk", Status: "online"},
			IsSoftwareBased:    true, NetworkBindingSupport: "optional", IScsiName: "iqn.1998-01.com.vmware:" + sh.Name,
		})
	}
	if len(h.NFSDatastores) > 0 && sh.Config.FileSystemVolume != nil {
		for _, name := range h.NFSDatastores {
			sh.Config.FileSystemVolume.MountInfo = append(sh.Config.FileSystemVolume.MountInfo, types.HostFileSystemMountInfo{
				MountInfo: types.HostMountInfo{Path: "/vmfs/volumes/" + name, AccessMode: "readWrite", Mounted: ptr(true), Accessible: ptr(true)},
				Volume:    &types.HostNasVolume{HostFileSystemVolume: types.HostFileSystemVolume{Type: "NFS41", Name: name}, RemoteHost: "nfs01.example.com", RemotePath: "/export/" + name},
			})
		}
	}
	return nil
}

// portgroupPolicyFlags sets VMwareDVSPortgroupPolicy's override flags by name.
var portgroupPolicyFlags = map[string]func(*types.VMwareDVSPortgroupPolicy){
	"shapingOverrideAllowed":             func(p *types.VMwareDVSPortgroupPolicy) { p.ShapingOverrideAllowed = true },
	"vendorConfigOverrideAllowed":        func(p *types.VMwareDVSPortgroupPolicy) { p.VendorConfigOverrideAllowed = true },
	"livePortMovingAllowed":              func(p *types.VMwareDVSPortgroupPolicy) { p.LivePortMovingAllowed = true },
	"networkResourcePoolOverrideAllowed": func(p *types.VMwareDVSPortgroupPolicy) { p.NetworkResourcePoolOverrideAllowed = ptr(true) },
	"trafficFilterOverrideAllowed":       func(p *types.VMwareDVSPortgroupPolicy) { p.TrafficFilterOverrideAllowed = ptr(true) },
	"vlanOverrideAllowed":                func(p *types.VMwareDVSPortgroupPolicy) { p.VlanOverrideAllowed = true },
	"uplinkTeamingOverrideAllowed":       func(p *types.VMwareDVSPortgroupPolicy) { p.UplinkTeamingOverrideAllowed = true },
	"securityPolicyOverrideAllowed":      func(p *types.VMwareDVSPortgroupPolicy) { p.SecurityPolicyOverrideAllowed = true },
	"ipfixOverrideAllowed":               func(p *types.VMwareDVSPortgroupPolicy) { p.IpfixOverrideAllowed = ptr(true) },
	"macManagementOverrideAllowed":       func(p *types.VMwareDVSPortgroupPolicy) { p.MacManagementOverrideAllowed = ptr(true) },
}

func applyPortgroupPolicy(pg *simulator.DistributedVirtualPortgroup, d PortgroupPolicy) error {
	// The hardened default vSphere gives new port groups.
	pol := &types.VMwareDVSPortgroupPolicy{
		DVPortgroupPolicy: types.DVPortgroupPolicy{
			BlockOverrideAllowed: true, PortConfigResetAtDisconnect: true,
			NetworkResourcePoolOverrideAllowed: ptr(false), TrafficFilterOverrideAllowed: ptr(false),
		},
		IpfixOverrideAllowed: ptr(false), MacManagementOverrideAllowed: ptr(false),
	}
	for _, name := range d.OverridesAllowed {
		set, ok := portgroupPolicyFlags[name]
		if !ok {
			return fmt.Errorf("unknown port policy override %q", name)
		}
		set(pol)
	}
	if d.ResetAtDisconnect != nil {
		pol.PortConfigResetAtDisconnect = *d.ResetAtDisconnect
	}
	pg.Config.Policy = pol
	return nil
}

func applySwitch(dvs *simulator.DistributedVirtualSwitch, sw *DVSwitch) error {
	cfg, ok := dvs.Config.(*types.VMwareDVSConfigInfo)
	if !ok {
		return fmt.Errorf("distributed switch %s: config is %T, not VMwareDVSConfigInfo", dvs.Name, dvs.Config)
	}
	cfg.VspanSession = nil
	for i, name := range sw.MirrorSessions {
		cfg.VspanSession = append(cfg.VspanSession, types.VMwareVspanSession{Key: fmt.Sprintf("session-%d", i), Name: name, Enabled: true, SessionType: "dvPortMirror"})
	}
	if sw.DiscoveryProtocol != "" || sw.DiscoveryOperation != "" {
		cfg.LinkDiscoveryProtocolConfig = &types.LinkDiscoveryProtocolConfig{Protocol: sw.DiscoveryProtocol, Operation: sw.DiscoveryOperation}
	}
	on := map[string]bool{}
	for _, c := range sw.HealthChecks {
		if c != "vlan-mtu" && c != "teaming" {
			return fmt.Errorf("distributed switch %s: unknown health check %q (vlan-mtu, teaming)", dvs.Name, c)
		}
		on[c] = true
	}
	cfg.HealthCheckConfig = []types.BaseDVSHealthCheckConfig{
		&types.VMwareDVSVlanMtuHealthCheckConfig{VMwareDVSHealthCheckConfig: types.VMwareDVSHealthCheckConfig{DVSHealthCheckConfig: types.DVSHealthCheckConfig{Enable: ptr(on["vlan-mtu"]), Interval: 1}}},
		&types.VMwareDVSTeamingHealthCheckConfig{VMwareDVSHealthCheckConfig: types.VMwareDVSHealthCheckConfig{DVSHealthCheckConfig: types.DVSHealthCheckConfig{Enable: ptr(on["teaming"]), Interval: 1}}},
	}
	return nil
}

// registerVSAN serves vCenter's vsanHealth endpoint with govmomi's vSAN
// simulator: every cluster with a vSAN host reports vSAN enabled with the
// declared data services.
func (s *Sim) registerVSAN(e *Estate) error {
	if e.VSAN == nil {
		return nil
	}
	r := vsansim.New()
	ccs, ok := r.Get(vsan.VsanVcClusterConfigSystemInstance).(*vsansim.ClusterConfigSystem)
	if !ok {
		return fmt.Errorf("the vSAN simulator has no cluster configuration system")
	}
	ccs.Config = map[types.ManagedObjectReference]*vsantypes.VsanConfigInfoEx{}
	reg := s.model.Service.Context.Map
	for _, ent := range reg.All("ClusterComputeResource") {
		cluster := reg.Get(ent.Reference()).(*simulator.ClusterComputeResource)
		member := false
		for _, h := range cluster.Host {
			if sh, ok := reg.Get(h).(*simulator.HostSystem); ok && sh.Config.VsanHostConfig != nil && sh.Config.VsanHostConfig.Enabled != nil && *sh.Config.VsanHostConfig.Enabled {
				member = true
			}
		}
		if !member {
			continue
		}
		ccs.Config[cluster.Reference()] = &vsantypes.VsanConfigInfoEx{
			VsanClusterConfigInfo:         vsantypes.VsanClusterConfigInfo{Enabled: ptr(true)},
			DataEncryptionConfig:          &vsantypes.VsanDataEncryptionConfig{EncryptionEnabled: e.VSAN.DataAtRestEncryption},
			DataInTransitEncryptionConfig: &vsantypes.VsanDataInTransitEncryptionConfig{Enabled: ptr(e.VSAN.DataInTransitEncryption)},
		}
	}
	s.model.Service.RegisterSDK(r)
	return nil
}
