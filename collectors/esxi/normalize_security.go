package esxi

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"github.com/vmware/govmomi/vim25/types"

	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// Normalization of the security pass (retrieve_security.go): the facts that
// hang off Host.ESXi, VM.ESXi, Network.ESXi and Target.ESXi.

// Reasons for facts the vSphere SOAP API does not show at all: the finding
// is an error naming where the fact can be read, never a silent gap.
const (
	whyHostTLSProfile = "the host's TLS server profile is shown only by esxcli " +
		"(esxcli system tls server get --show-current-boot-profile, ESXi 8.0 Update 3 and later), which hvaudit does not run"
	whyVCenterTLSProfile = "vCenter's global TLS profile is shown only by the appliance REST API " +
		"(GET https://VCENTER/api/appliance/tls/profiles/global, vCenter 8.0 Update 3 and later), which hvaudit does not call yet"
	whySNMPv3   = "SNMPv3 targets and their authentication are shown only by esxcli (esxcli system snmp get), which hvaudit does not run"
	whyISCSINFS = "the VMkernel interfaces iSCSI is bound to (esxcli iscsi networkportal list) and NFS uses are not read by hvaudit: " +
		"confirm they carry no other traffic and sit on a storage-only VLAN"
)

var securitySources = map[string]string{
	"host.certificate.issuer_organization": "HostSystem config.certificate (issuer O)",
	"host.esxi.acceptance_level":           "HostImageConfigManager.HostImageConfigGetAcceptance",
	"host.esxi.state_encryption":           "HostSystem runtime.stateEncryption",
	"host.esxi.ad_joined":                  "HostSystem config.authenticationManagerInfo (HostActiveDirectoryInfo.joinedDomain)",
	"host.esxi.vcenter_managed":            "HostSystem summary.managementServerIp (or the target is a vCenter)",
	"host.esxi.lockdown_exceptions":        "HostAccessManager.QueryLockdownExceptions",
	"host.esxi.tls_profile":                "esxcli system tls server get",
	"host.esxi.snmp":                       "HostSnmpSystem configuration",
	"host.esxi.snmp.v3_authenticated":      "esxcli system snmp get",
	"host.esxi.ip_storage":                 "HostSystem config.virtualNicManagerInfo, config.storageDevice.hostBusAdapter, config.fileSystemVolume.mountInfo",
	"host.esxi.log_dir_persistent":         "HostSystem config.option Syslog.global.logDir, ScratchConfig.CurrentScratchLocation",
	"vm.esxi.fault_tolerance":              "VirtualMachine runtime.faultToleranceState",
	"network.esxi":                         "DistributedVirtualPortgroup config.policy",
	"target.esxi.distributed_switches":     "DistributedVirtualSwitch config.{vspanSession,linkDiscoveryProtocolConfig,healthCheckConfig}",
	"target.esxi.vsan_clusters":            "vsanHealth VsanVcClusterConfigSystem.VsanClusterGetConfig",
	"target.esxi.tls_profile":              "vCenter appliance REST API /api/appliance/tls/profiles/global",
}

// asValue reads a property govmomi may hand over by value or by pointer.
func asValue[T any](v any) (T, bool) {
	switch x := v.(type) {
	case T:
		return x, true
	case *T:
		if x != nil {
			return *x, true
		}
	}
	var zero T
	return zero, false
}

// enumString reads a string-based enum of any govmomi type.
func enumString(v any) (string, bool) {
	rv := reflect.ValueOf(v)
	if rv.IsValid() && rv.Kind() == reflect.String {
		return rv.String(), true
	}
	return "", false
}

// query finds the answer of method about an object.
func (n *normalizer) query(about types.ManagedObjectReference, method string) (Query, bool) {
	if n.queries == nil {
		n.queries = map[string]Query{}
		for _, q := range n.data.Queries {
			n.queries[q.Method+"/"+q.About.Type+":"+q.About.Value] = q
		}
	}
	q, ok := n.queries[method+"/"+about.Type+":"+about.Value]
	return q, ok
}

// queryResult decodes a query's result into out, or explains why it cannot:
// the method was never called (the manager is not known), or it faulted.
func (n *normalizer) queryResult(p props, managerPath, method, manager string, out any) string {
	q, ok := n.query(p.ref, method)
	if !ok {
		if _, known := p.vals[managerPath].(types.ManagedObjectReference); !known {
			return p.why(managerPath)
		}
		return manager + "." + method + " was not called"
	}
	if q.Fault != "" {
		return manager + "." + method + " failed: " + q.Fault
	}
	if err := json.Unmarshal(q.Result, out); err != nil {
		return manager + "." + method + " answer not understood: " + err.Error()
	}
	return ""
}

// esxiHost fills Host.ESXi. It runs after hostNetwork, whose service tags
// tell the vSAN interfaces apart.
func (n *normalizer) esxiHost(p props, h *inventory.Host) {
	e := &inventory.ESXiHost{}
	gap := func(field, reason string) { n.gap(inventory.KindHost, h.ID, field, reason) }

	var level string
	if why := n.queryResult(p, "configManager.imageConfigManager", methodAcceptance, "HostImageConfigManager", &level); why != "" {
		gap("host.esxi.acceptance_level", why)
	} else {
		e.AcceptanceLevel = inventory.Ptr(level)
	}

	if se, ok := asValue[types.HostRuntimeInfoStateEncryptionInfo](p.vals["runtime.stateEncryption"]); ok {
		e.StateEncryption = &inventory.StateEncryption{
			ProtectionMode:           se.ProtectionMode,
			RequireSecureBoot:        se.RequireSecureBoot != nil && *se.RequireSecureBoot,
			RequireExecInstalledOnly: se.RequireExecInstalledOnly != nil && *se.RequireExecInstalledOnly,
		}
	} else {
		gap("host.esxi.state_encryption", p.why("runtime.stateEncryption")+" (it exists from vSphere API 7.0.3)")
	}

	if am, ok := asValue[types.HostAuthenticationManagerInfo](p.vals["config.authenticationManagerInfo"]); ok {
		joined := false
		for _, s := range am.AuthConfig {
			if ad, isAD := s.(*types.HostActiveDirectoryInfo); isAD && (ad.JoinedDomain != "" || ad.DomainMembershipStatus != "") {
				joined = true
			}
		}
		e.ADJoined = inventory.Ptr(joined)
	} else {
		gap("host.esxi.ad_joined", p.why("config.authenticationManagerInfo"))
	}

	if n.inv.Target.Kind != nil && *n.inv.Target.Kind == "vcenter" {
		e.VCenterManaged = inventory.Ptr(true)
	} else if ip, ok := p.str("summary.managementServerIp"); ok {
		e.VCenterManaged = inventory.Ptr(ip != "")
	} else if _, bad := p.missing["summary.managementServerIp"]; bad {
		gap("host.esxi.vcenter_managed", p.why("summary.managementServerIp"))
	} else {
		// vSphere leaves the property unset on a host no vCenter manages.
		e.VCenterManaged = inventory.Ptr(false)
	}

	var exceptions []string
	if why := n.queryResult(p, "configManager.hostAccessManager", methodExceptions, "HostAccessManager", &exceptions); why != "" {
		gap("host.esxi.lockdown_exceptions", why)
	} else {
		e.LockdownExceptions = append([]string{}, exceptions...)
		sort.Strings(e.LockdownExceptions)
	}

	gap("host.esxi.tls_profile", whyHostTLSProfile)
	n.snmp(p, h, e)
	n.ipStorage(p, h, e)
	n.logDir(h, e)
	h.ESXi = e
}

func (n *normalizer) snmp(p props, h *inventory.Host, e *inventory.ESXiHost) {
	ref, ok := p.vals["configManager.snmpSystem"].(types.ManagedObjectReference)
	if !ok {
		n.gap(inventory.KindHost, h.ID, "host.esxi.snmp", p.why("configManager.snmpSystem"))
		return
	}
	sys, read := n.objs[ref]
	cfg, ok := asValue[types.HostSnmpConfigSpec](sys.vals["configuration"])
	switch {
	case !read:
		n.gap(inventory.KindHost, h.ID, "host.esxi.snmp", "HostSnmpSystem configuration not returned by the server")
		return
	case !ok:
		n.gap(inventory.KindHost, h.ID, "host.esxi.snmp", sys.why("configuration"))
		return
	case cfg.Enabled == nil:
		n.gap(inventory.KindHost, h.ID, "host.esxi.snmp", "HostSnmpSystem configuration.enabled not returned by the server")
		return
	}
	s := &inventory.SNMP{Enabled: *cfg.Enabled, Communities: len(cfg.ReadOnlyCommunities), TrapTargets: []string{}}
	for _, t := range cfg.TrapTargets {
		s.TrapTargets = append(s.TrapTargets, fmt.Sprintf("%s:%d", t.HostName, t.Port))
	}
	n.gap(inventory.KindHost, h.ID, "host.esxi.snmp.v3_authenticated", whySNMPv3)
	e.SNMP = s
}

// ipStorage derives which interfaces carry IP storage (ESXI-80-000199):
// vSAN interfaces by their service tag; software or dependent iSCSI by its
// adapter; NFS by its mounts.
func (n *normalizer) ipStorage(p props, h *inventory.Host, e *inventory.ESXiHost) {
	field := "host.esxi.ip_storage"
	if h.Management == nil {
		n.gap(inventory.KindHost, h.ID, field, "the VMkernel interfaces' service tags were not read: "+p.why("config.virtualNicManagerInfo"))
		return
	}
	hbas, ok := p.vals["config.storageDevice.hostBusAdapter"].(types.ArrayOfHostHostBusAdapter)
	if !ok {
		n.gap(inventory.KindHost, h.ID, field, p.why("config.storageDevice.hostBusAdapter"))
		return
	}
	mounts, ok := p.vals["config.fileSystemVolume.mountInfo"].(types.ArrayOfHostFileSystemMountInfo)
	if !ok {
		n.gap(inventory.KindHost, h.ID, field, p.why("config.fileSystemVolume.mountInfo"))
		return
	}
	s := &inventory.IPStorage{VSANInterfaces: []string{}, VSANShared: []string{}, ISCSIAdapters: []string{}, NFSDatastores: []string{}}
	for _, nic := range h.VMKernelNICs {
		if contains(nic.Services, "vsan") {
			s.VSANInterfaces = append(s.VSANInterfaces, nic.Device)
			for _, svc := range nic.Services {
				if svc != "vsan" && svc != "vsan-witness" {
					s.VSANShared = appendUnique(s.VSANShared, svc)
				}
			}
		}
	}
	sort.Strings(s.VSANShared)
	for _, a := range hbas.HostHostBusAdapter {
		if is, ok := a.(*types.HostInternetScsiHba); ok && (is.IsSoftwareBased || is.NetworkBindingSupport == "optional" || is.NetworkBindingSupport == "required") {
			s.ISCSIAdapters = append(s.ISCSIAdapters, is.Device)
		}
	}
	for _, m := range mounts.HostFileSystemMountInfo {
		if v := m.Volume; v != nil {
			if vol := v.GetHostFileSystemVolume(); strings.HasPrefix(strings.ToUpper(vol.Type), "NFS") {
				s.NFSDatastores = append(s.NFSDatastores, vol.Name)
			}
		}
	}
	s.Used = len(s.VSANInterfaces)+len(s.ISCSIAdapters)+len(s.NFSDatastores) > 0
	if len(s.ISCSIAdapters)+len(s.NFSDatastores) == 0 {
		s.ISCSINFSIsolated = inventory.Ptr(true)
	} else {
		n.gap(inventory.KindHost, h.ID, field+".iscsi_nfs_isolated", whyISCSINFS)
	}
	e.IPStorage = s
}

// logDir judges Syslog.global.logDir the way ESXI-80-000243's check text
// does: a named datastore or a /vmfs/volumes path persists; "[] /scratch/…"
// persists unless scratch itself is the RAM disk (/tmp/scratch).
func (n *normalizer) logDir(h *inventory.Host, e *inventory.ESXiHost) {
	field := "host.esxi.log_dir_persistent"
	if h.Options == nil {
		n.gap(inventory.KindHost, h.ID, field, "HostSystem config.option (advanced settings) not read")
		return
	}
	dir, ok := h.Options["Syslog.global.logDir"].(string)
	if !ok {
		n.gap(inventory.KindHost, h.ID, field, "the host does not report Syslog.global.logDir")
		return
	}
	ds, path := splitDatastorePath(dir)
	switch {
	case ds != "", strings.HasPrefix(path, "/vmfs/volumes/"):
		e.LogDirPersistent = inventory.Ptr(true)
	case strings.HasPrefix(path, "/scratch"):
		scratch, ok := h.Options["ScratchConfig.CurrentScratchLocation"].(string)
		if !ok {
			n.gap(inventory.KindHost, h.ID, field, "Syslog.global.logDir is "+dir+" and the host does not report ScratchConfig.CurrentScratchLocation")
			return
		}
		e.LogDirPersistent = inventory.Ptr(strings.HasPrefix(scratch, "/vmfs/volumes/"))
	case path == "":
		n.gap(inventory.KindHost, h.ID, field, "Syslog.global.logDir is empty; esxcli system syslog config get shows where local logs go (LocalLogOutputIsPersistent)")
	default:
		e.LogDirPersistent = inventory.Ptr(false) // /tmp, /var/log: the RAM disk
	}
}

// splitDatastorePath splits "[datastore1] logs/host" into its datastore
// and path; a plain path has no datastore.
func splitDatastorePath(s string) (string, string) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "[") {
		if i := strings.Index(s, "]"); i > 0 {
			return strings.TrimSpace(s[1:i]), strings.TrimSpace(s[i+1:])
		}
	}
	return "", s
}

// esxiVM fills VM.ESXi.
func (n *normalizer) esxiVM(p props, vm *inventory.VM) {
	e := &inventory.ESXiVM{}
	if s, ok := enumString(p.vals["runtime.faultToleranceState"]); ok && s != "" {
		e.FaultTolerance = inventory.Ptr(s)
	} else {
		n.gap(inventory.KindVM, vm.ID, "vm.esxi.fault_tolerance", p.why("runtime.faultToleranceState"))
	}
	vm.ESXi = e
}

// portgroupOverrides are the port policies the STIG forbids overriding per
// port (VCSA-80-000301); blocking ports may be overridden, and reset at
// disconnect is its own rule (VCSA-80-000302).
func portgroupOverrides(pol types.BaseDVPortgroupPolicy) []string {
	out := []string{}
	b := pol.GetDVPortgroupPolicy()
	flag := func(name string, allowed bool) {
		if allowed {
			out = append(out, name)
		}
	}
	isTrue := func(v *bool) bool { return v != nil && *v }
	flag("shapingOverrideAllowed", b.ShapingOverrideAllowed)
	flag("vendorConfigOverrideAllowed", b.VendorConfigOverrideAllowed)
	flag("livePortMovingAllowed", b.LivePortMovingAllowed)
	flag("networkResourcePoolOverrideAllowed", isTrue(b.NetworkResourcePoolOverrideAllowed))
	flag("trafficFilterOverrideAllowed", isTrue(b.TrafficFilterOverrideAllowed))
	if v, ok := pol.(*types.VMwareDVSPortgroupPolicy); ok {
		flag("vlanOverrideAllowed", v.VlanOverrideAllowed)
		flag("uplinkTeamingOverrideAllowed", v.UplinkTeamingOverrideAllowed)
		flag("securityPolicyOverrideAllowed", v.SecurityPolicyOverrideAllowed)
		flag("ipfixOverrideAllowed", isTrue(v.IpfixOverrideAllowed))
		flag("macManagementOverrideAllowed", isTrue(v.MacManagementOverrideAllowed))
	}
	sort.Strings(out)
	return out
}

// esxiPortgroup fills Network.ESXi of a distributed port group.
func (n *normalizer) esxiPortgroup(pg props, net *inventory.Network) {
	var pol types.BaseDVPortgroupPolicy
	switch v := pg.vals["config.policy"].(type) {
	case types.VMwareDVSPortgroupPolicy:
		pol = &v
	case types.DVPortgroupPolicy:
		pol = &v
	case types.BaseDVPortgroupPolicy:
		pol = v
	}
	if pol == nil || reflect.ValueOf(pol).IsNil() {
		n.gap(inventory.KindNetwork, net.ID, "network.esxi", pg.why("config.policy"))
		return
	}
	net.ESXi = &inventory.ESXiNetwork{
		OverridesAllowed:  portgroupOverrides(pol),
		ResetAtDisconnect: inventory.Ptr(pol.GetDVPortgroupPolicy().PortConfigResetAtDisconnect),
	}
}

// esxiTarget fills Target.ESXi: vCenter's switches, vSAN clusters and TLS
// profile. A standalone host has none of them.
func (n *normalizer) esxiTarget() {
	t := &n.inv.Target
	id := t.Name
	if t.Kind == nil || *t.Kind != "vcenter" {
		t.ESXi = &inventory.ESXiTarget{}
		for _, f := range []string{"target.esxi.distributed_switches", "target.esxi.vsan_clusters", "target.esxi.tls_profile"} {
			n.gap(inventory.KindTarget, id, f, "a vCenter feature; a standalone ESXi host has none")
		}
		return
	}
	e := &inventory.ESXiTarget{DistributedSwitches: []inventory.DistributedSwitch{}}
	for _, sw := range n.byType("DistributedVirtualSwitch") { // both type names (kindTypes)
		e.DistributedSwitches = append(e.DistributedSwitches, n.distributedSwitch(sw))
	}
	sort.Slice(e.DistributedSwitches, func(a, b int) bool { return e.DistributedSwitches[a].Name < e.DistributedSwitches[b].Name })
	e.VSANClusters = n.vsanClusters()
	n.gap(inventory.KindTarget, id, "target.esxi.tls_profile", whyVCenterTLSProfile)
	t.ESXi = e
}

// distributedSwitch reads a switch from its separate properties (VMware's
// switch) or its whole config (base type).
func (n *normalizer) distributedSwitch(p props) inventory.DistributedSwitch {
	name, _ := p.str("name")
	if name == "" {
		name = p.ref.Value
	}
	s := inventory.DistributedSwitch{Name: name}
	gap := func(field, reason string) {
		n.gap(inventory.KindTarget, n.inv.Target.Name, "target.esxi.distributed_switches."+field, "switch "+name+": "+reason)
	}
	var (
		vspan  []types.VMwareVspanSession
		ldp    *types.LinkDiscoveryProtocolConfig
		checks []types.BaseDVSHealthCheckConfig
	)
	// What the server says about each setting: read (possibly unset, which
	// for a list means empty) or a reason it is unknown.
	whyVspan, whyLDP, whyHC := "", "", ""
	var cfg types.BaseDVSConfigInfo
	switch v := p.vals["config"].(type) {
	case types.VMwareDVSConfigInfo:
		cfg = &v
	case types.DVSConfigInfo:
		cfg = &v
	case types.BaseDVSConfigInfo:
		cfg = v
	}
	if cfg != nil && !reflect.ValueOf(cfg).IsNil() {
		checks = cfg.GetDVSConfigInfo().HealthCheckConfig
		if v, isVMware := cfg.(*types.VMwareDVSConfigInfo); isVMware {
			vspan, ldp = v.VspanSession, v.LinkDiscoveryProtocolConfig
		} else {
			whyVspan = "not a VMware distributed switch (" + p.ref.Type + "): no port mirroring settings"
		}
	} else if !p.has(switchPaths["VmwareDistributedVirtualSwitch"]...) {
		whyVspan, whyHC = p.why("config.vspanSession"), p.why("config.healthCheckConfig")
	} else {
		arr, _ := p.vals["config.vspanSession"].(types.ArrayOfVMwareVspanSession)
		vspan = arr.VMwareVspanSession
		if _, bad := p.missing["config.vspanSession"]; bad {
			whyVspan = p.why("config.vspanSession")
		}
		hc, _ := p.vals["config.healthCheckConfig"].(types.ArrayOfDVSHealthCheckConfig)
		checks = hc.DVSHealthCheckConfig
		if _, bad := p.missing["config.healthCheckConfig"]; bad {
			whyHC = p.why("config.healthCheckConfig")
		}
		if v, ok := asValue[types.LinkDiscoveryProtocolConfig](p.vals["config.linkDiscoveryProtocolConfig"]); ok {
			ldp = &v
		}
	}
	if whyVspan != "" {
		gap("mirror_sessions", whyVspan)
	} else {
		s.MirrorSessions = []string{}
		for _, v := range vspan {
			s.MirrorSessions = append(s.MirrorSessions, v.Name)
		}
	}
	if ldp == nil {
		whyLDP = p.why("config.linkDiscoveryProtocolConfig")
		gap("discovery_operation", whyLDP)
		gap("discovery_protocol", whyLDP)
	} else {
		s.DiscoveryProtocol, s.DiscoveryOperation = inventory.Ptr(ldp.Protocol), inventory.Ptr(ldp.Operation)
	}
	if whyHC != "" {
		gap("health_checks", whyHC)
	} else {
		s.HealthChecks = []string{}
		for _, c := range checks {
			if e := c.GetDVSHealthCheckConfig().Enable; e == nil || !*e {
				continue
			}
			switch c.(type) {
			case *types.VMwareDVSVlanMtuHealthCheckConfig:
				s.HealthChecks = append(s.HealthChecks, "vlan-mtu")
			case *types.VMwareDVSTeamingHealthCheckConfig:
				s.HealthChecks = append(s.HealthChecks, "teaming")
			default:
				s.HealthChecks = append(s.HealthChecks, strings.TrimPrefix(fmt.Sprintf("%T", c), "*types."))
			}
		}
	}
	return s
}

// has reports whether the server answered for any of the paths, with a
// value or a fault: then an absent one is unset, not unread.
func (p props) has(paths ...string) bool {
	for _, path := range paths {
		if _, ok := p.vals[path]; ok {
			return true
		}
		if _, ok := p.missing[path]; ok {
			return true
		}
	}
	return false
}

// mergedWith joins the properties of one object returned by two passes.
func (p props) mergedWith(earlier props, seen bool) props {
	if !seen {
		return p
	}
	for k, v := range earlier.vals {
		if _, ok := p.vals[k]; !ok {
			p.vals[k] = v
		}
	}
	for k, v := range earlier.missing {
		if _, ok := p.missing[k]; !ok {
			p.missing[k] = v
		}
	}
	return p
}

// vsanClusters lists the clusters whose hosts run vSAN, with the data
// services VsanClusterGetConfig reported.
func (n *normalizer) vsanClusters() []inventory.VSANCluster {
	id := n.inv.Target.Name
	clusters := map[types.ManagedObjectReference]bool{}
	for _, h := range n.byType("HostSystem") {
		parent, _ := h.vals["parent"].(types.ManagedObjectReference)
		if parent.Type != "ClusterComputeResource" {
			continue
		}
		on, ok := h.vals["config.vsanHostConfig.enabled"].(bool)
		if !ok {
			name, _ := h.str("name")
			n.gap(inventory.KindTarget, id, "target.esxi.vsan_clusters", "whether host "+name+" runs vSAN is unknown: "+h.why("config.vsanHostConfig.enabled"))
			return nil
		}
		if on {
			clusters[parent] = true
		}
	}
	out := []inventory.VSANCluster{}
	for ref := range clusters {
		name, _ := n.objs[ref].str("name")
		if name == "" {
			name = ref.Value
		}
		c := inventory.VSANCluster{Name: name}
		q, ok := n.query(ref, methodVSANConfig)
		var cfg vsanConfig
		switch {
		case !ok:
			n.gap(inventory.KindTarget, id, "target.esxi.vsan_clusters", "cluster "+name+": VsanClusterGetConfig was not called")
		case q.Fault != "":
			n.gap(inventory.KindTarget, id, "target.esxi.vsan_clusters", "cluster "+name+": VsanVcClusterConfigSystem.VsanClusterGetConfig failed: "+q.Fault)
		case json.Unmarshal(q.Result, &cfg) != nil:
			n.gap(inventory.KindTarget, id, "target.esxi.vsan_clusters", "cluster "+name+": VsanClusterGetConfig answer not understood")
		case cfg.Enabled != nil && !*cfg.Enabled:
			continue // its hosts still say vSAN, the cluster no longer does
		default:
			c.DataAtRestEncryption, c.DataInTransitEncryption = cfg.DataAtRest, cfg.DataInTransit
			if cfg.DataAtRest == nil {
				n.gap(inventory.KindTarget, id, "target.esxi.vsan_clusters.data_at_rest_encryption", "cluster "+name+": VsanClusterGetConfig returned no dataEncryptionConfig")
			}
			if cfg.DataInTransit == nil {
				n.gap(inventory.KindTarget, id, "target.esxi.vsan_clusters.data_in_transit_encryption", "cluster "+name+": VsanClusterGetConfig returned no dataInTransitEncryptionConfig")
			}
		}
		out = append(out, c)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out
}

func firstOf(list []string) string {
	if len(list) == 0 {
		return ""
	}
	return list[0]
}

// dvFilterKey matches the dvfilter settings of a VM's NICs
// ("ethernet0.filter1.name", VMCH-80-000200), kept besides settingPrefixes.
var dvFilterKey = regexp.MustCompile(`(?i)^ethernet[0-9]+\.filter[0-9]+\.name$`)
