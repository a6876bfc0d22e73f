package esxisim

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"encoding/xml"
	"fmt"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// Options choose the simulator's shape.
type Options struct {
	// Standalone simulates a single ESXi host instead of a vCenter.
	Standalone bool
	// Delay is added to every SOAP method (timeout tests).
	Delay time.Duration
	// Faults the server injects (fault tests).
	Faults Faults
}

// Sim is a running simulator.
type Sim struct {
	// URL is the SDK endpoint, https://127.0.0.1:PORT/sdk, without userinfo.
	URL                *url.URL
	Username, Password string
	// Thumbprint is the server certificate's SHA-256, hex with colons.
	Thumbprint string

	model  *simulator.Model
	server *simulator.Server
	behave *server

	mu      sync.Mutex
	methods []string
}

// Start builds the model, starts its HTTPS server and applies the estate.
func Start(ctx context.Context, e *Estate, o Options) (*Sim, error) {
	var m *simulator.Model
	api := apiOf(e.VCenter.APIVersion, e.VCenter.Version)
	if o.Standalone {
		m = simulator.ESX()
		m.Machine = len(e.VMs)
		if len(e.Hosts) > 0 && e.Hosts[0].Version != "" {
			h := e.Hosts[0]
			api = apiOf(h.APIVersion, h.Version)
			m.ServiceContent.About.Version, m.ServiceContent.About.Build = h.Version, h.Build
			m.ServiceContent.About.FullName = fmt.Sprintf("VMware ESXi %s build-%s", h.Version, h.Build)
		}
	} else {
		m = simulator.VPX()
		m.Host, m.Cluster, m.ClusterHost = 0, 1, max(1, len(e.Hosts))
		m.Machine = len(e.VMs)
		m.Portgroup = max(1, len(e.DVPortgroups))
		if e.VCenter.Version != "" {
			m.ServiceContent.About.Version = e.VCenter.Version
			m.ServiceContent.About.Build = e.VCenter.Build
			m.ServiceContent.About.FullName = fmt.Sprintf("VMware vCenter Server %s build-%s", e.VCenter.Version, e.VCenter.Build)
		}
	}
	m.ServiceContent.About.ApiVersion = api
	m.Autostart = false
	if err := m.Create(); err != nil {
		return nil, fmt.Errorf("creating the simulator model: %w", err)
	}
	s := &Sim{model: m, Username: "auditor", Password: randomPassword()}
	s.behave = &server{api: api, faults: o.Faults, pc: m.ServiceContent.PropertyCollector}
	if err := s.apply(e, o.Standalone); err != nil {
		m.Remove()
		return nil, err
	}
	s.install()
	if o.Delay > 0 {
		m.DelayConfig.Delay = int(o.Delay / time.Millisecond)
	}
	m.Service.TLS = new(tls.Config)
	m.Service.Listen = &url.URL{User: url.UserPassword(s.Username, s.Password)}
	s.server = m.Service.NewServer()
	// Record every SOAP method server-side: the read-only proof must not
	// depend on the client's own bookkeeping.
	s.server.Config.Handler = s.record(s.behave.resetting(s.server.Config.Handler))
	// govmomi tries a verified handshake before falling back to a pinned
	// thumbprint, so the server sees a refused handshake per connection;
	// its log line would only clutter the demo's output.
	s.server.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.remove()
	s.URL = &url.URL{Scheme: "https", Host: s.server.URL.Host, Path: "/sdk"}
	sum := sha256Hex(s.server.Certificate().Raw)
	s.Thumbprint = sum
	return s, nil
}

// apiOf is the API release declared, else the product version's.
func apiOf(api, version string) string {
	switch {
	case api != "":
		return api
	case version != "":
		return version + ".0"
	}
	return "8.0.3.0"
}

// install makes the server behave like vCenter where the simulator does
// not (server.go).
func (s *Sim) install() {
	reg := s.model.Map()
	servers.Store(reg, s.behave)
	pc := &propertyCollector{}
	pc.Self = s.model.ServiceContent.PropertyCollector
	reg.Put(pc)
}

// remove deletes the objects the faults ask to remove, once the server
// (which needs some of them to start) is running.
func (s *Sim) remove() {
	reg, sctx := s.model.Map(), s.model.Service.Context
	for _, typ := range s.behave.faults.Remove {
		for _, obj := range reg.AllReference(typ) {
			reg.Remove(sctx, obj.Reference())
		}
	}
}

// PEM is the server certificate, to trust it as a CA (--ca-file tests).
func (s *Sim) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.server.Certificate().Raw})
}

// Close stops the server and releases the model.
func (s *Sim) Close() {
	s.server.Close()
	servers.Delete(s.model.Map())
	s.model.Remove()
}

// Methods returns every SOAP method received so far, in order.
func (s *Sim) Methods() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.methods...)
}

func (s *Sim) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			body, err := io.ReadAll(r.Body)
			if err == nil {
				r.Body = io.NopCloser(bytes.NewReader(body))
				if name := soapMethod(body); name != "" {
					s.mu.Lock()
					s.methods = append(s.methods, name)
					s.mu.Unlock()
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// soapMethod returns the first element inside the SOAP Body.
func soapMethod(body []byte) string {
	dec := xml.NewDecoder(bytes.NewReader(body))
	inBody := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		if se, ok := tok.(xml.StartElement); ok {
			if inBody {
				return se.Name.Local
			}
			inBody = se.Name.Local == "Body"
		}
	}
}

func randomPassword() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "Sim-" + hex.EncodeToString(b)
}

func sha256Hex(der []byte) string {
	sum := sha256.Sum256(der)
	out := make([]byte, 0, len(sum)*3)
	for i, b := range sum {
		if i > 0 {
			out = append(out, ':')
		}
		out = append(out, fmt.Sprintf("%02X", b)...)
	}
	return string(out)
}

// apply writes the estate onto the simulator's objects.
func (s *Sim) apply(e *Estate, standalone bool) error {
	sctx := s.model.Service.Context
	reg := sctx.Map
	hosts := entities(reg.All("HostSystem"))
	if len(hosts) < len(e.Hosts) && !(standalone && len(hosts) == 1) {
		return fmt.Errorf("the simulator has %d hosts for %d declared", len(hosts), len(e.Hosts))
	}
	if e.VCenter.KeyProvider != "" && !standalone {
		if ref := s.model.ServiceContent.CryptoManager; ref != nil {
			if cm, ok := reg.Get(*ref).(*simulator.CryptoManagerKmip); ok {
				sctx.WithLock(cm, func() {
					cm.KmipServers = append(cm.KmipServers, types.KmipClusterInfo{
						ClusterId: types.KeyProviderId{Id: e.VCenter.KeyProvider}, UseAsDefault: true,
						Servers: []types.KmipServerInfo{{Name: "kms01", Address: "kms01.example.com", Port: 5696}},
					})
				})
			}
		}
	}
	dv, err := s.applyDistributed(e, standalone)
	if err != nil {
		return err
	}
	segs, err := s.applySegments(e, standalone)
	if err != nil {
		return err
	}
	hostRefs := map[string]types.ManagedObjectReference{}
	now := time.Now()
	for i, h := range e.Hosts {
		if i >= len(hosts) {
			break
		}
		sh := reg.Get(hosts[i]).(*simulator.HostSystem)
		var err error
		sctx.WithLock(sh, func() { err = applyHost(sh, h, dv, segs, now) })
		if err != nil {
			return fmt.Errorf("host %s: %w", h.Name, err)
		}
		hostRefs[h.Name] = sh.Reference()
	}
	vms := entities(reg.All("VirtualMachine"))
	if len(vms) < len(e.VMs) {
		return fmt.Errorf("the simulator has %d VMs for %d declared", len(vms), len(e.VMs))
	}
	for i, v := range e.VMs {
		svm := reg.Get(vms[i]).(*simulator.VirtualMachine)
		hostRef, ok := hostRefs[v.Host]
		if !ok && len(hosts) > 0 {
			hostRef = hosts[0]
		}
		sctx.WithLock(svm, func() { applyVM(svm, v, hostRef, e.VCenter.KeyProvider, dv, segs, now, i) })
		if seg, ok := segs.byName[v.Network]; ok && seg.net != nil {
			sctx.WithLock(seg.net, func() { seg.net.Vm = append(seg.net.Vm, svm.Reference()) })
		}
	}
	return s.applySecurity(e)
}

// distributed is what hosts and VMs need to attach to distributed port groups.
type distributed struct {
	switchUUID string
	keys       map[string]string // port group name → key
}

// applyDistributed reconfigures the simulator's distributed port groups as
// declared and gives the switch the type a real vCenter gives it.
func (s *Sim) applyDistributed(e *Estate, standalone bool) (distributed, error) {
	sctx := s.model.Service.Context
	reg := sctx.Map
	dv := distributed{keys: map[string]string{}}
	pgs := entities(reg.All("DistributedVirtualPortgroup"))
	di := 0
	for _, ref := range pgs {
		pg := reg.Get(ref).(*simulator.DistributedVirtualPortgroup)
		if (pg.Config.Uplink != nil && *pg.Config.Uplink) || strings.Contains(pg.Name, "DVUplinks") {
			continue
		}
		dv.keys[pg.Name] = pg.Key
		if di >= len(e.DVPortgroups) {
			continue
		}
		d := e.DVPortgroups[di]
		di++
		sctx.WithLock(pg, func() {
			if d.Name != "" {
				pg.Name, pg.Config.Name = d.Name, d.Name
				dv.keys[d.Name] = pg.Key
			}
			set := &types.VMwareDVSPortSetting{Vlan: &types.VmwareDistributedVirtualSwitchVlanIdSpec{VlanId: d.VLAN}}
			if len(d.Trunk) > 0 {
				trunk := &types.VmwareDistributedVirtualSwitchTrunkVlanSpec{}
				for _, r := range d.Trunk {
					trunk.VlanId = append(trunk.VlanId, types.NumericRange{Start: r[0], End: r[1]})
				}
				set.Vlan = trunk
			}
			if d.Security != nil {
				set.SecurityPolicy = &types.DVSSecurityPolicy{
					AllowPromiscuous: &types.BoolPolicy{Value: ptr(d.Security.AllowPromiscuous)},
					ForgedTransmits:  &types.BoolPolicy{Value: ptr(d.Security.ForgedTransmits)},
					MacChanges:       &types.BoolPolicy{Value: ptr(d.Security.MACChanges)},
				}
			}
			pg.Config.DefaultPortConfig = set
			if d.NSXSegment != "" {
				pg.Config.BackingType, pg.Config.LogicalSwitchUuid = "nsx", d.NSXSegment
			}
		})
	}
	if di < len(e.DVPortgroups) && !standalone {
		return dv, fmt.Errorf("the simulator has %d distributed port groups for %d declared", di, len(e.DVPortgroups))
	}
	for _, obj := range reg.AllReference("DistributedVirtualSwitch") {
		dvs := obj.(*simulator.DistributedVirtualSwitch)
		var uplinks []types.ManagedObjectReference
		for _, pref := range pgs {
			pg := reg.Get(pref).(*simulator.DistributedVirtualPortgroup)
			if strings.Contains(pg.Name, "DVUplinks") {
				uplinks = append(uplinks, pref)
			}
		}
		sctx.WithLock(dvs, func() {
			// vcsim leaves config.uplinkPortgroup empty; a real vCenter lists
			// the uplink port group there (and marks it config.uplink).
			if cfg := dvs.Config; cfg != nil {
				cfg.GetDVSConfigInfo().UplinkPortgroup = uplinks
			}
			dv.switchUUID = dvs.Uuid
		})
		if e.VCenter.DVSType != "DistributedVirtualSwitch" {
			retype(sctx, dvs, "VmwareDistributedVirtualSwitch")
		}
	}
	return dv, nil
}

// retype re-registers a distributed switch under another managed object
// type. Port groups point at the switch's own Self, so they follow.
func retype(sctx *simulator.Context, dvs *simulator.DistributedVirtualSwitch, typ string) {
	reg := sctx.Map
	old := dvs.Self
	reg.Remove(sctx, old)
	dvs.Self = types.ManagedObjectReference{Type: typ, Value: old.Value}
	reg.Put(dvs)
	if dvs.Parent != nil {
		if f, ok := reg.Get(*dvs.Parent).(*simulator.Folder); ok {
			sctx.WithLock(f, func() {
				for i, c := range f.ChildEntity {
					if c == old {
						f.ChildEntity[i] = dvs.Self
					}
				}
			})
		}
	}
}

// segment is one NSX segment of the estate.
type segment struct {
	Segment
	net *mo.OpaqueNetwork // nil when hidden
}

type segments struct{ byName map[string]*segment }

// applySegments lists the visible NSX segments as opaque networks in the
// datacenter's network folder, as vCenter does for NSX-T.
func (s *Sim) applySegments(e *Estate, standalone bool) (segments, error) {
	sctx := s.model.Service.Context
	reg := sctx.Map
	out := segments{byName: map[string]*segment{}}
	var folder *simulator.Folder
	for _, dc := range reg.All("Datacenter") {
		if d, ok := dc.(*simulator.Datacenter); ok {
			folder, _ = reg.Get(d.NetworkFolder).(*simulator.Folder)
			break
		}
	}
	for _, sg := range e.Segments {
		seg := &segment{Segment: sg}
		out.byName[sg.Name] = seg
		if sg.Hidden || standalone {
			continue
		}
		if folder == nil {
			return out, fmt.Errorf("segment %s: the simulator has no network folder", sg.Name)
		}
		if err := folder.AddOpaqueNetwork(sctx, types.OpaqueNetworkSummary{NetworkSummary: types.NetworkSummary{Name: sg.Name}, OpaqueNetworkId: sg.ID, OpaqueNetworkType: "nsx.LogicalSwitch"}); err != nil {
			return out, fmt.Errorf("segment %s: %w", sg.Name, err)
		}
		for _, obj := range reg.AllReference("OpaqueNetwork") {
			if on, ok := obj.(*mo.OpaqueNetwork); ok {
				if sum, ok := on.Summary.(*types.OpaqueNetworkSummary); ok && sum.OpaqueNetworkId == sg.ID {
					seg.net = on
				}
			}
		}
	}
	return out, nil
}

// entities returns references sorted by name for a stable mapping.
func entities(list []mo.Entity) []types.ManagedObjectReference {
	sort.Slice(list, func(a, b int) bool { return list[a].Entity().Name < list[b].Entity().Name })
	out := make([]types.ManagedObjectReference, len(list))
	for i, e := range list {
		out[i] = e.Reference()
	}
	return out
}

// hostFirewall gives the host its own copy of the firewall (the simulator's
// hosts share one), restricted as declared, with the ruleset ownership a
// host at API 8.0.2 or later reports.
func hostFirewall(sh *simulator.HostSystem, h Host, api string) {
	if sh.Config.Firewall == nil {
		return
	}
	info := *sh.Config.Firewall
	info.Ruleset = append([]types.HostFirewallRuleset(nil), info.Ruleset...)
	if len(h.FirewallAllowedIPs) > 0 {
		info.DefaultPolicy.IncomingBlocked = ptr(true)
	}
	for i := range info.Ruleset {
		rs := &info.Ruleset[i]
		if !older(api, "8.0.2.0") {
			rs.IpListUserConfigurable = ptr(!slices.Contains(h.FirewallSystemRulesets, rs.Key))
		}
		inbound := slices.ContainsFunc(rs.Rule, func(r types.HostFirewallRule) bool { return r.Direction == types.HostFirewallRuleDirectionInbound })
		if !rs.Enabled || !inbound || len(h.FirewallAllowedIPs) == 0 {
			continue // outbound-only rulesets stay open to all, as admins leave them
		}
		allowed := &types.HostFirewallRulesetIpList{AllIp: false}
		for _, n := range h.FirewallAllowedIPs {
			addr, bits, _ := strings.Cut(n, "/")
			prefix, _ := strconv.Atoi(bits)
			allowed.IpNetwork = append(allowed.IpNetwork, types.HostFirewallRulesetIpNetwork{Network: addr, PrefixLength: int32(prefix)})
		}
		rs.AllowedHosts = allowed
	}
	sh.Config.Firewall = &info
}

// intOptions are the advanced options real hosts type xsd:int (IntOption);
// the rest of the integers hvaudit reads are xsd:long (LongOption). Seen in
// govc object.save recordings of ESXi 6.7 and 7.0 hosts.
var intOptions = map[string]bool{
	"Security.AccountLockFailures": true, "Security.AccountUnlockTime": true, "Security.PasswordHistory": true,
	"Security.PasswordMaxDays": true, "Security.SshSessionLimit": true, "Config.HostAgent.vmacore.soap.sessionTimeout": true,
	"Config.HostAgent.vmacore.soap.maxSessionCount": true, "Syslog.global.defaultRotate": true, "Syslog.global.defaultSize": true,
}

// optionValue types a declared option as a real host would send it.
func optionValue(key string, v any) any {
	if n, ok := v.(int64); ok && intOptions[key] {
		return int32(n)
	}
	return v
}

func applyHost(sh *simulator.HostSystem, h Host, dv distributed, segs segments, now time.Time) error {
	sh.Name = h.Name
	sh.Summary.Config.Name = h.Name
	api := apiOf(h.APIVersion, h.Version)
	if h.Build != "" {
		p := sh.Config.Product
		p.Version, p.Build, p.ApiVersion = h.Version, h.Build, api
		p.FullName = fmt.Sprintf("VMware ESXi %s build-%s", h.Version, h.Build)
		sh.Config.Product = p
		cp := p
		sh.Summary.Config.Product = &cp
	}
	if h.ConnectionState != "" {
		st := types.HostSystemConnectionState(h.ConnectionState)
		sh.Runtime.ConnectionState = st
		sh.Summary.Runtime.ConnectionState = st
	}
	if h.Lockdown != "" {
		sh.Config.LockdownMode = types.HostLockdownMode(h.Lockdown)
	}
	if h.SecureBoot != nil {
		if sh.Capability == nil {
			sh.Capability = &types.HostCapability{}
		}
		sh.Capability.UefiSecureBoot = ptr(*h.SecureBoot)
	}
	if h.NTP != nil {
		sh.Config.DateTimeInfo = &types.HostDateTimeInfo{NtpConfig: &types.HostNtpConfig{Server: append([]string{}, h.NTP...)}}
	}
	if h.CertificateDays != 0 {
		pemBytes, err := selfSigned(h.Name, now.Add(time.Duration(h.CertificateDays)*24*time.Hour))
		if err != nil {
			return err
		}
		sh.Config.Certificate = pemBytes
	}
	hostFirewall(sh, h, api)
	if sh.Config.Service != nil {
		known := map[string]bool{}
		for i, svc := range sh.Config.Service.Service {
			known[svc.Key] = true
			if st, ok := h.Services[svc.Key]; ok {
				sh.Config.Service.Service[i].Running = st.Running
				sh.Config.Service.Service[i].Policy = st.Policy
			}
		}
		// Services a real host has but the simulator's model lacks (slpd,
		// snmpd on some versions) are added as declared.
		svcKeys := make([]string, 0, len(h.Services))
		for k := range h.Services {
			if !known[k] {
				svcKeys = append(svcKeys, k)
			}
		}
		sort.Strings(svcKeys)
		for _, k := range svcKeys {
			st := h.Services[k]
			sh.Config.Service.Service = append(sh.Config.Service.Service, types.HostService{Key: k, Label: k, Running: st.Running, Policy: st.Policy})
		}
	}
	keys := make([]string, 0, len(h.Options))
	for k := range h.Options {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		sh.Config.Option = append(sh.Config.Option, &types.OptionValue{Key: k, Value: optionValue(k, h.Options[k])})
	}
	if sh.Config.Network == nil {
		return nil
	}
	net := *sh.Config.Network // the simulator's hosts share one value: copy
	sh.Config.Network = &net
	if err := applyHostNetwork(&net, h, dv, segs); err != nil {
		return err
	}
	if len(h.VMKNICs) > 0 {
		sh.Config.VirtualNicManagerInfo = vnicManagerInfo(net.Vnic, h.VMKNICs)
	}
	return nil
}

func applyHostNetwork(net *types.HostNetworkInfo, h Host, dv distributed, segs segments) error {
	net.Vswitch = append([]types.HostVirtualSwitch(nil), net.Vswitch...)
	if h.VSwitchSecurity != nil && len(net.Vswitch) > 0 {
		sec := &types.HostNetworkSecurityPolicy{AllowPromiscuous: ptr(h.VSwitchSecurity.AllowPromiscuous), ForgedTransmits: ptr(h.VSwitchSecurity.ForgedTransmits), MacChanges: ptr(h.VSwitchSecurity.MACChanges)}
		vs := net.Vswitch[0]
		pol := types.HostNetworkPolicy{}
		if vs.Spec.Policy != nil {
			pol = *vs.Spec.Policy
		}
		pol.Security = sec
		vs.Spec.Policy = &pol
		net.Vswitch[0] = vs
	}
	if len(h.Segments) > 0 && len(h.Portgroups) == 0 {
		// An N-VDS host (VMware Cloud): no standard switching at all.
		net.Vswitch, net.Portgroup = nil, nil
	}
	for _, name := range h.Segments {
		if seg := segs.byName[name]; seg != nil {
			net.OpaqueNetwork = append(net.OpaqueNetwork, types.HostOpaqueNetworkInfo{OpaqueNetworkId: seg.ID, OpaqueNetworkName: seg.Name, OpaqueNetworkType: "nsx.LogicalSwitch"})
		}
	}
	if len(h.Portgroups) > 0 {
		vs := "vSwitch0"
		if len(net.Vswitch) > 0 {
			vs = net.Vswitch[0].Name
		}
		net.Portgroup = nil
		for _, pg := range h.Portgroups {
			sec := &types.HostNetworkSecurityPolicy{AllowPromiscuous: ptr(false), ForgedTransmits: ptr(false), MacChanges: ptr(false)}
			if h.VSwitchSecurity != nil {
				sec = &types.HostNetworkSecurityPolicy{AllowPromiscuous: ptr(h.VSwitchSecurity.AllowPromiscuous), ForgedTransmits: ptr(h.VSwitchSecurity.ForgedTransmits), MacChanges: ptr(h.VSwitchSecurity.MACChanges)}
			}
			if pg.Security != nil {
				sec = &types.HostNetworkSecurityPolicy{AllowPromiscuous: ptr(pg.Security.AllowPromiscuous), ForgedTransmits: ptr(pg.Security.ForgedTransmits), MacChanges: ptr(pg.Security.MACChanges)}
			}
			sw := vs
			if pg.VSwitch != "" {
				sw = pg.VSwitch
			}
			net.Portgroup = append(net.Portgroup, types.HostPortGroup{
				Key:            "key-vim.host.PortGroup-" + pg.Name,
				Spec:           types.HostPortGroupSpec{Name: pg.Name, VlanId: pg.VLAN, VswitchName: sw, Policy: types.HostNetworkPolicy{Security: sec}},
				ComputedPolicy: types.HostNetworkPolicy{Security: sec},
			})
		}
	}
	if len(h.VMKNICs) == 0 {
		return nil
	}
	net.Vnic = nil
	for _, k := range h.VMKNICs {
		ns := k.NetStack
		if ns == "" {
			ns = "defaultTcpipStack"
		}
		vn := types.HostVirtualNic{
			Device: k.Device, Key: "key-vim.host.VirtualNic-" + k.Device, Portgroup: k.Portgroup,
			Spec: types.HostVirtualNicSpec{Ip: &types.HostIpConfig{IpAddress: k.IP, SubnetMask: "255.255.255.0"}, NetStackInstanceKey: ns},
		}
		switch {
		case k.DVPortgroup != "":
			key, ok := dv.keys[k.DVPortgroup]
			if !ok {
				return fmt.Errorf("%s: no distributed port group %q", k.Device, k.DVPortgroup)
			}
			vn.Portgroup = ""
			vn.Spec.DistributedVirtualPort = &types.DistributedVirtualSwitchPortConnection{SwitchUuid: dv.switchUUID, PortgroupKey: key}
		case k.Segment != "":
			seg := segs.byName[k.Segment]
			vn.Portgroup = "" // as real hosts report it
			vn.Spec.OpaqueNetwork = &types.HostVirtualNicOpaqueNetworkSpec{OpaqueNetworkId: seg.ID, OpaqueNetworkType: "nsx.LogicalSwitch"}
			if !slices.Contains(h.Segments, k.Segment) {
				net.OpaqueNetwork = append(net.OpaqueNetwork, types.HostOpaqueNetworkInfo{OpaqueNetworkId: seg.ID, OpaqueNetworkName: seg.Name, OpaqueNetworkType: "nsx.LogicalSwitch"})
			}
		}
		net.Vnic = append(net.Vnic, vn)
	}
	return nil
}

// vnicManagerInfo tags the vmknics with their services.
func vnicManagerInfo(vnics []types.HostVirtualNic, decl []VMKNIC) *types.HostVirtualNicManagerInfo {
	byType := map[string][]string{}
	for i, k := range decl {
		for _, svc := range k.Services {
			byType[svc] = append(byType[svc], svc+"."+vnics[i].Key)
		}
	}
	info := types.HostVirtualNicManagerInfo{}
	for _, nt := range []string{"management", "vmotion", "faultToleranceLogging", "vSphereProvisioning", "vSphereReplication", "vSphereReplicationNFC", "vsan", "vSphereBackupNFC"} {
		info.NetConfig = append(info.NetConfig, types.VirtualNicManagerNetConfig{NicType: nt, MultiSelectAllowed: true, CandidateVnic: vnics, SelectedVnic: byType[nt]})
	}
	return &info
}

func applyVM(svm *simulator.VirtualMachine, v VM, host types.ManagedObjectReference, kp string, dv distributed, segs segments, now time.Time, i int) {
	svm.Name = v.Name
	svm.Config.Name = v.Name
	if svm.Summary.Config.Name != "" {
		svm.Summary.Config.Name = v.Name
	}
	svm.Runtime.Host = &host
	svm.Summary.Runtime.Host = &host
	power := map[string]types.VirtualMachinePowerState{"on": types.VirtualMachinePowerStatePoweredOn, "off": types.VirtualMachinePowerStatePoweredOff, "suspended": types.VirtualMachinePowerStateSuspended}[v.Power]
	if power != "" {
		svm.Runtime.PowerState = power
		svm.Summary.Runtime.PowerState = power
	}
	svm.Config.Template = v.Template
	svm.Config.MigrateEncryption = v.MigrateEncryption
	svm.Config.FtEncryptionMode = v.FTEncryption
	if v.Firmware != "" {
		svm.Config.Firmware = v.Firmware
	}
	if svm.Config.BootOptions == nil {
		svm.Config.BootOptions = &types.VirtualMachineBootOptions{}
	}
	svm.Config.BootOptions.EfiSecureBootEnabled = ptr(v.SecureBoot)
	if v.Logging != nil {
		svm.Config.Flags.EnableLogging = ptr(*v.Logging)
	}
	if v.ToolsVersion != "" {
		packed, _ := packToolsVersion(v.ToolsVersion) // validated when the estate loaded
		svm.Guest.ToolsVersion = packed
	}
	keys := make([]string, 0, len(v.ExtraConfig))
	for k := range v.ExtraConfig {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		svm.Config.ExtraConfig = append(svm.Config.ExtraConfig, &types.OptionValue{Key: k, Value: v.ExtraConfig[k]})
	}
	var keyID *types.CryptoKeyId
	if v.Encrypted && kp != "" {
		keyID = &types.CryptoKeyId{KeyId: fmt.Sprintf("key-%04d", i), ProviderId: &types.KeyProviderId{Id: kp}}
		svm.Config.KeyId = keyID
	}
	devs := svm.Config.Hardware.Device
	for _, d := range devs {
		switch x := d.(type) {
		case *types.VirtualDisk:
			if b, ok := x.Backing.(*types.VirtualDiskFlatVer2BackingInfo); ok && keyID != nil {
				b.KeyId = keyID
			}
		case types.BaseVirtualEthernetCard:
			if v.Network == "" {
				continue
			}
			card := x.GetVirtualEthernetCard()
			if seg, ok := segs.byName[v.Network]; ok {
				card.Backing = &types.VirtualEthernetCardOpaqueNetworkBackingInfo{OpaqueNetworkId: seg.ID, OpaqueNetworkType: "nsx.LogicalSwitch"}
			} else if key, ok := dv.keys[v.Network]; ok {
				card.Backing = &types.VirtualEthernetCardDistributedVirtualPortBackingInfo{Port: types.DistributedVirtualSwitchPortConnection{SwitchUuid: dv.switchUUID, PortgroupKey: key}}
			} else {
				card.Backing = &types.VirtualEthernetCardNetworkBackingInfo{VirtualDeviceDeviceBackingInfo: types.VirtualDeviceDeviceBackingInfo{DeviceName: v.Network}}
			}
		}
	}
	if v.VTPM {
		devs = append(devs, &types.VirtualTPM{VirtualDevice: types.VirtualDevice{Key: 11000, DeviceInfo: &types.Description{Label: "Virtual TPM", Summary: "Virtual TPM"}}})
	}
	if v.Floppy {
		devs = append(devs, &types.VirtualFloppy{VirtualDevice: types.VirtualDevice{Key: 8000, DeviceInfo: &types.Description{Label: "Floppy drive 1"}}})
	}
	if v.SerialPort {
		devs = append(devs, &types.VirtualSerialPort{VirtualDevice: types.VirtualDevice{Key: 9000, DeviceInfo: &types.Description{Label: "Serial port 1"}}})
	}
	svm.Config.Hardware.Device = devs
	if len(v.SnapshotAgeDays) > 0 {
		var roots []types.VirtualMachineSnapshotTree
		for j, age := range v.SnapshotAgeDays {
			roots = append(roots, types.VirtualMachineSnapshotTree{
				Snapshot: types.ManagedObjectReference{Type: "VirtualMachineSnapshot", Value: fmt.Sprintf("snapshot-%d-%d", i, j)},
				Vm:       svm.Reference(), Name: fmt.Sprintf("%s-snap-%d", v.Name, j),
				CreateTime: now.Add(-time.Duration(age) * 24 * time.Hour).UTC(), State: svm.Runtime.PowerState,
			})
		}
		svm.Snapshot = &types.VirtualMachineSnapshotInfo{RootSnapshotList: roots}
	}
}

// UnrelatedCA returns a CA certificate (PEM) that signed nothing the
// simulator presents: trusting it alone must not let a client in.
func UnrelatedCA() ([]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "Unrelated CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// selfSigned makes a host certificate expiring at notAfter.
func selfSigned(cn string, notAfter time.Time) ([]byte, error) {
	return selfSignedAs(cn, "VMware", notAfter)
}

// selfSignedAs makes a host certificate in org's name.
func selfSignedAs(cn, org string, notAfter time.Time) ([]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn, Organization: []string{org}},
		NotBefore: notAfter.AddDate(-2, 0, 0), NotAfter: notAfter, DNSNames: []string{cn},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}
