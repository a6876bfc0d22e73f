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

	mu      sync.Mutex
	methods []string
}

// Start builds the model, starts its HTTPS server and applies the estate.
func Start(ctx context.Context, e *Estate, o Options) (*Sim, error) {
	var m *simulator.Model
	if o.Standalone {
		m = simulator.ESX()
		m.Machine = len(e.VMs)
	} else {
		m = simulator.VPX()
		m.Host, m.Cluster, m.ClusterHost = 0, 1, len(e.Hosts)
		m.Machine = len(e.VMs)
		if e.VCenter.Version != "" {
			m.ServiceContent.About.Version = e.VCenter.Version
			m.ServiceContent.About.Build = e.VCenter.Build
			m.ServiceContent.About.FullName = fmt.Sprintf("VMware vCenter Server %s build-%s", e.VCenter.Version, e.VCenter.Build)
			m.ServiceContent.About.ApiVersion = "8.0.3.0"
		}
	}
	if m.ClusterHost == 0 && !o.Standalone {
		m.ClusterHost = 1
	}
	m.Autostart = false
	if err := m.Create(); err != nil {
		return nil, fmt.Errorf("creating the simulator model: %w", err)
	}
	s := &Sim{model: m, Username: "auditor", Password: randomPassword()}
	if err := s.apply(e, o.Standalone); err != nil {
		m.Remove()
		return nil, err
	}
	if o.Delay > 0 {
		m.DelayConfig.Delay = int(o.Delay / time.Millisecond)
	}
	m.Service.TLS = new(tls.Config)
	m.Service.Listen = &url.URL{User: url.UserPassword(s.Username, s.Password)}
	s.server = m.Service.NewServer()
	// Record every SOAP method server-side: the read-only proof must not
	// depend on the client's own bookkeeping.
	s.server.Config.Handler = s.record(s.server.Config.Handler)
	// govmomi tries a verified handshake before falling back to a pinned
	// thumbprint, so the server sees a refused handshake per connection;
	// its log line would only clutter the demo's output.
	s.server.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.URL = &url.URL{Scheme: "https", Host: s.server.URL.Host, Path: "/sdk"}
	sum := sha256Hex(s.server.Certificate().Raw)
	s.Thumbprint = sum
	return s, nil
}

// Close stops the server and releases the model.
func (s *Sim) Close() {
	s.server.Close()
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
	hostRefs := map[string]types.ManagedObjectReference{}
	now := time.Now()
	for i, h := range e.Hosts {
		if i >= len(hosts) {
			break
		}
		sh := reg.Get(hosts[i]).(*simulator.HostSystem)
		var err error
		sctx.WithLock(sh, func() { err = applyHost(sh, h, now) })
		if err != nil {
			return fmt.Errorf("host %s: %w", h.Name, err)
		}
		hostRefs[h.Name] = sh.Reference()
		if len(h.FirewallAllowedIPs) > 0 {
			// The simulator's hosts share one firewall object; a host with
			// its own rules gets its own.
			fw := simulator.NewHostFirewallSystem(&sh.HostSystem)
			restrictFirewall(fw, h.FirewallAllowedIPs)
			ref := reg.Put(fw).Reference()
			sctx.WithLock(sh, func() { sh.ConfigManager.FirewallSystem = &ref })
		}
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
	dvpgs := map[string]string{} // name → key
	pgs := entities(reg.All("DistributedVirtualPortgroup"))
	di := 0
	for _, ref := range pgs {
		pg := reg.Get(ref).(*simulator.DistributedVirtualPortgroup)
		if (pg.Config.Uplink != nil && *pg.Config.Uplink) || strings.Contains(pg.Name, "DVUplinks") {
			continue
		}
		dvpgs[pg.Name] = pg.Key
		if di < len(e.DVPortgroups) {
			d := e.DVPortgroups[di]
			di++
			sctx.WithLock(pg, func() {
				if d.Name != "" {
					pg.Name, pg.Config.Name = d.Name, d.Name
					dvpgs[d.Name] = pg.Key
				}
				set := &types.VMwareDVSPortSetting{Vlan: &types.VmwareDistributedVirtualSwitchVlanIdSpec{VlanId: d.VLAN}}
				if d.Security != nil {
					set.SecurityPolicy = &types.DVSSecurityPolicy{
						AllowPromiscuous: &types.BoolPolicy{Value: ptr(d.Security.AllowPromiscuous)},
						ForgedTransmits:  &types.BoolPolicy{Value: ptr(d.Security.ForgedTransmits)},
						MacChanges:       &types.BoolPolicy{Value: ptr(d.Security.MACChanges)},
					}
				}
				pg.Config.DefaultPortConfig = set
			})
		}
	}
	// vcsim leaves config.uplinkPortgroup empty; a real vCenter lists the
	// uplink port group there, which is how the collector recognises it.
	for _, ref := range entities(reg.All("DistributedVirtualSwitch")) {
		dvs := reg.Get(ref).(*simulator.DistributedVirtualSwitch)
		var uplinks []types.ManagedObjectReference
		for _, pref := range pgs {
			pg := reg.Get(pref).(*simulator.DistributedVirtualPortgroup)
			if strings.Contains(pg.Name, "DVUplinks") {
				uplinks = append(uplinks, pref)
			}
		}
		sctx.WithLock(dvs, func() {
			if cfg := dvs.Config; cfg != nil {
				cfg.GetDVSConfigInfo().UplinkPortgroup = uplinks
			}
		})
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
		sctx.WithLock(svm, func() { applyVM(svm, v, hostRef, e.VCenter.KeyProvider, dvpgs, now, i) })
	}
	return s.applySecurity(e)
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

// restrictFirewall limits every enabled ruleset to the given networks
// ("10.0.10.0/24") and blocks incoming traffic by default.
func restrictFirewall(fw *simulator.HostFirewallSystem, networks []string) {
	if fw.FirewallInfo == nil {
		return
	}
	// The simulator's firewall info is one shared value: copy before changing.
	info := *fw.FirewallInfo
	info.Ruleset = append([]types.HostFirewallRuleset(nil), info.Ruleset...)
	fw.FirewallInfo = &info
	fw.FirewallInfo.DefaultPolicy.IncomingBlocked = ptr(true)
	for i := range fw.FirewallInfo.Ruleset {
		rs := &fw.FirewallInfo.Ruleset[i]
		if !rs.Enabled {
			continue
		}
		allowed := &types.HostFirewallRulesetIpList{AllIp: false}
		for _, n := range networks {
			addr, bits, _ := strings.Cut(n, "/")
			prefix, _ := strconv.Atoi(bits)
			allowed.IpNetwork = append(allowed.IpNetwork, types.HostFirewallRulesetIpNetwork{Network: addr, PrefixLength: int32(prefix)})
		}
		rs.AllowedHosts = allowed
	}
}

func applyHost(sh *simulator.HostSystem, h Host, now time.Time) error {
	sh.Name = h.Name
	sh.Summary.Config.Name = h.Name
	if h.Build != "" {
		p := sh.Config.Product
		p.Version, p.Build = h.Version, h.Build
		p.FullName = fmt.Sprintf("VMware ESXi %s build-%s", h.Version, h.Build)
		sh.Config.Product = p
		cp := p
		sh.Summary.Config.Product = &cp
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
		sh.Config.Option = append(sh.Config.Option, &types.OptionValue{Key: k, Value: h.Options[k]})
	}
	net := sh.Config.Network
	if net == nil {
		return nil
	}
	if h.VSwitchSecurity != nil && len(net.Vswitch) > 0 {
		sec := &types.HostNetworkSecurityPolicy{AllowPromiscuous: ptr(h.VSwitchSecurity.AllowPromiscuous), ForgedTransmits: ptr(h.VSwitchSecurity.ForgedTransmits), MacChanges: ptr(h.VSwitchSecurity.MACChanges)}
		if net.Vswitch[0].Spec.Policy == nil {
			net.Vswitch[0].Spec.Policy = &types.HostNetworkPolicy{}
		}
		net.Vswitch[0].Spec.Policy.Security = sec
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
			net.Portgroup = append(net.Portgroup, types.HostPortGroup{
				Key:            "key-vim.host.PortGroup-" + pg.Name,
				Spec:           types.HostPortGroupSpec{Name: pg.Name, VlanId: pg.VLAN, VswitchName: vs, Policy: types.HostNetworkPolicy{Security: sec}},
				ComputedPolicy: types.HostNetworkPolicy{Security: sec},
			})
		}
	}
	if len(h.VMKNICs) > 0 {
		net.Vnic = nil
		byType := map[string][]string{}
		var candidates []types.HostVirtualNic
		for _, k := range h.VMKNICs {
			ns := k.NetStack
			if ns == "" {
				ns = "defaultTcpipStack"
			}
			vn := types.HostVirtualNic{
				Device: k.Device, Key: "key-vim.host.VirtualNic-" + k.Device, Portgroup: k.Portgroup,
				Spec: types.HostVirtualNicSpec{Ip: &types.HostIpConfig{IpAddress: k.IP, SubnetMask: "255.255.255.0"}, NetStackInstanceKey: ns},
			}
			net.Vnic = append(net.Vnic, vn)
			candidates = append(candidates, vn)
			for _, svc := range k.Services {
				byType[svc] = append(byType[svc], svc+"."+vn.Key)
			}
		}
		info := types.HostVirtualNicManagerInfo{}
		for _, nt := range []string{"management", "vmotion", "faultToleranceLogging", "vSphereProvisioning", "vSphereReplication", "vSphereReplicationNFC", "vsan", "vSphereBackupNFC"} {
			info.NetConfig = append(info.NetConfig, types.VirtualNicManagerNetConfig{NicType: nt, MultiSelectAllowed: true, CandidateVnic: candidates, SelectedVnic: byType[nt]})
		}
		sh.Config.VirtualNicManagerInfo = &info
	}
	return nil
}

func applyVM(svm *simulator.VirtualMachine, v VM, host types.ManagedObjectReference, kp string, dvpgs map[string]string, now time.Time, i int) {
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
			if key, ok := dvpgs[v.Network]; ok {
				card.Backing = &types.VirtualEthernetCardDistributedVirtualPortBackingInfo{Port: types.DistributedVirtualSwitchPortConnection{PortgroupKey: key}}
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
