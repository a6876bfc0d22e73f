package libvirt

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hvaudit/hvaudit/collectors"
	"github.com/hvaudit/hvaudit/collectors/inventory"
	"github.com/hvaudit/hvaudit/collectors/inventory/inventorytest"
)

var collected = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// fixtureData builds, without libvirt, the Data a Fetch of testdata/node.xml
// would record: the domain and network XMLs of the fixtures, the host
// interfaces, and (when hostRoot is set) the host files.
func fixtureData(t *testing.T, hostRoot string) *Data {
	t.Helper()
	files, err := filepath.Glob("testdata/domains/*.xml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	sort.Strings(files)
	d := &Data{URI: "qemu:///system", Driver: "qemu", ReadOnly: true, ConnType: "QEMU", LibVersion: 9000000, HypervisorVersion: 7002022,
		Hostname: "kvm01", CapabilitiesXML: capsXML}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		doc, _ := StripGraphicsPasswords(strings.Replace(string(b), "type='test'", "type='kvm'", 1))
		x, err := ParseDomainXML(doc)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		state := "running"
		if strings.Contains(doc, "<test:runstate>5") {
			state = "shutoff"
		}
		d.Domains = append(d.Domains, DomainRecord{Name: x.Name, UUID: x.UUID, State: state, XML: doc, Tainting: []string{}, Snapshots: []SnapshotRecord{}})
	}
	d.Networks = []NetworkRecord{
		{Name: "mgmt-bridge", UUID: "8d2f2a8c-1111-4c5e-9a51-000000000001", XML: `<network><name>mgmt-bridge</name><forward mode='bridge'/><bridge name='br-mgmt'/></network>`},
		{Name: "isolated", UUID: "8d2f2a8c-1111-4c5e-9a51-000000000002", XML: `<network><name>isolated</name><bridge name='virbr9'/></network>`},
		{Name: "guests-nat", UUID: "8d2f2a8c-1111-4c5e-9a51-000000000003", XML: `<network><name>guests-nat</name><forward mode='nat' dev='br-mgmt'/><bridge name='virbr1'/></network>`},
	}
	d.Interfaces = []InterfaceRecord{
		{Name: "br-mgmt", XML: `<interface type='bridge' name='br-mgmt'><bridge><interface type='ethernet' name='eno1'/></bridge></interface>`},
		{Name: "eno2", XML: `<interface type='ethernet' name='eno2'/>`},
	}
	if hostRoot != "" {
		d.Local = true
		d.Host, d.Runtime = ReadLocal(hostRoot, false, d.Domains)
	}
	return d
}

const capsXML = `<capabilities><host><uuid>x</uuid>
<secmodel><model>none</model><doi>0</doi></secmodel>
<secmodel><model>dac</model><doi>0</doi><baselabel type='kvm'>+64055:+64055</baselabel></secmodel>
</host></capabilities>`

func snapshotOf(t *testing.T, d *Data, uri string, gaps []inventory.Gap) *collectors.Snapshot {
	t.Helper()
	raw, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return &collectors.Snapshot{Schema: collectors.SnapshotSchema, Platform: "kvm", CollectedAt: collected,
		Target: collectors.SnapshotTarget{Name: "kvm01", URI: uri, Transport: inventory.Transport{TLSVerified: true, Method: "local"}},
		Gaps:   gaps, Data: raw}
}

// TestNormalizeLocalFixture: a local qemu:///system snapshot with the
// fixture host root; the management network comes from /proc/net/route.
func TestNormalizeLocalFixture(t *testing.T) {
	d := fixtureData(t, "testdata/hostroot")
	// The passwords were stripped; record them as a secure read would.
	for i := range d.Domains {
		if d.Domains[i].Name == "vnc-open" || d.Domains[i].Name == "sev-guest" {
			d.Domains[i].Secure, d.Domains[i].GraphicsPasswords = true, []bool{false}
		}
		if d.Domains[i].Name == "vnc-protected" {
			d.Domains[i].Secure, d.Domains[i].GraphicsPasswords = true, []bool{true, false}
		}
	}
	inv, err := New().Normalize(snapshotOf(t, d, "qemu:///system", []inventory.Gap{{Object: "vm:*", Field: "vm.x", Reason: "from fetch"}}))
	if err != nil {
		t.Fatal(err)
	}
	checkExpectations(t, inv, true)
	if inventorytest.ReasonUnder(inv.Gaps, "vm:*", "vm.x") != "from fetch" {
		t.Errorf("snapshot gaps not carried into the inventory")
	}
	h := inv.Hosts[0]
	if h.ID != "kvm01" {
		t.Errorf("host id %q", h.ID)
	}
	k := h.KVM
	if inventorytest.Show(k.MACConfinement) != "false" || strings.Join(k.SecurityModels, ",") != "none,dac" {
		t.Errorf("secmodels %v mac %s", k.SecurityModels, inventorytest.Show(k.MACConfinement))
	}
	q := k.QEMU
	switch {
	case q == nil:
		t.Fatal("qemu.conf not mapped")
	case q.Sandbox || q.SeccompSandbox != 0:
		t.Errorf("seccomp_sandbox = 0 not seen: %+v", q)
	case q.User != "libvirt-qemu" || inventorytest.Show(q.RunsAsRoot) != "false":
		t.Errorf("Debian default user: %q root %s", q.User, inventorytest.Show(q.RunsAsRoot))
	case q.VNCListen != "127.0.0.1" || q.VNCTLS || !q.VNCTLSX509Verify || q.MigrateTLSForce || !q.MigrateTLSX509Verify || !q.DumpGuestCore:
		t.Errorf("qemu.conf defaults/settings wrong: %+v", q)
	case strings.Join(q.SecurityDriver, ",") != "apparmor":
		t.Errorf("security_driver %v", q.SecurityDriver)
	}
	// libvirtd runs with --listen -f libvirtd-listen.conf and listens on
	// 0.0.0.0:16509; /etc/libvirt/libvirtd.conf, harmless, is not what runs.
	if len(k.Daemons) != 1 {
		t.Fatalf("daemons %+v", k.Daemons)
	}
	dm := k.Daemons[0]
	if !dm.Running || dm.PID != 1200 || dm.Path != "/etc/libvirt/libvirtd-listen.conf" || inventorytest.Show(dm.TCPEnabled) != "true" || inventorytest.Show(dm.AuthTCP) != "none" ||
		inventorytest.Show(dm.TLSEnabled) != "false" || strings.Join(dm.Listeners, ",") != "0.0.0.0:16509" || !dm.ListenFlag {
		t.Errorf("libvirtd %+v", dm)
	}
	if k.QEMUDriverDaemon != "libvirtd" || inventorytest.Show(k.Nested) != "true" || inventorytest.Show(k.KernelAuditEnabled) != "false" {
		t.Errorf("qemu driver %q nested %s kernel audit %s (%s)", k.QEMUDriverDaemon, inventorytest.Show(k.Nested), inventorytest.Show(k.KernelAuditEnabled), k.KernelAuditSource)
	}
	if len(k.Firmware) != 3 || k.Firmware[0].Name != "40-edk2-x86_64-secure-enrolled.json" {
		t.Errorf("firmware %+v", k.Firmware)
	}
	if mt := k.MigrationTLS; mt == nil || mt.Dir != "/etc/pki/qemu" || mt.Complete || len(mt.Present) != 0 {
		t.Errorf("migration TLS %+v", k.MigrationTLS)
	}
	// vnc-open runs as root, unsandboxed, with guest memory in core dumps,
	// on a replaced binary, with VNC on every interface: what its process
	// shows, whatever qemu.conf says now.
	vo := inventorytest.VM(t, inv, "vnc-open")
	if r := vo.KVM.Runtime; r == nil || r.PID != 2100 || !r.ExecutableDeleted || r.UID != 0 {
		t.Errorf("vnc-open runtime %+v", vo.KVM.Runtime)
	}
	if inventorytest.Show(vo.KVM.RunsAsRoot) != "true" || inventorytest.Show(vo.KVM.Sandbox) != "false" || inventorytest.Show(vo.KVM.DumpGuestCore) != "true" || inventorytest.Show(vo.KVM.MACConfined) != "false" {
		t.Errorf("vnc-open effective root %s sandbox %s dump %s mac %s", inventorytest.Show(vo.KVM.RunsAsRoot), inventorytest.Show(vo.KVM.Sandbox), inventorytest.Show(vo.KVM.DumpGuestCore), inventorytest.Show(vo.KVM.MACConfined))
	}
	if g := vo.KVM.Graphics[0]; inventorytest.Show(g.ListenScope) != "all" || inventorytest.Show(g.PasswordSet) != "false" || inventorytest.Show(g.TLS) != "false" || !strings.Contains(g.Source, "QEMU process 2100 command line (-vnc)") {
		t.Errorf("vnc-open display %+v", g)
	}
	sg := inventorytest.VM(t, inv, "sev-guest")
	if inventorytest.Show(sg.KVM.RunsAsRoot) != "false" || inventorytest.Show(sg.KVM.Sandbox) != "true" || inventorytest.Show(sg.KVM.DumpGuestCore) != "false" || sg.KVM.Runtime == nil || sg.KVM.Runtime.ExecutableDeleted {
		t.Errorf("sev-guest effective %+v", sg.KVM)
	}
	for _, a := range sg.KVM.Runtime.Args {
		if strings.Contains(a, "c2VjcmV0") || strings.Contains(a, "masterKey0") {
			t.Errorf("a secret object's data was kept: %q", a)
		}
	}
	// A running guest without a pid file: its effective facts are errors
	// naming the file, never qemu.conf's values.
	lg := inventorytest.VM(t, inv, "luks-guest")
	if lg.KVM.Runtime != nil || lg.KVM.Sandbox != nil || !strings.Contains(inventorytest.ReasonUnder(inv.Gaps, "vm:"+lg.ID, "vm.kvm.sandbox"), "/run/libvirt/qemu/luks-guest.pid") {
		t.Errorf("luks-guest: sandbox %s gap %q", inventorytest.Show(lg.KVM.Sandbox), inventorytest.ReasonUnder(inv.Gaps, "vm:"+lg.ID, "vm.kvm.sandbox"))
	}
	if strings.Join(k.CPUVulnerable, ",") != "spec_rstack_overflow,spec_store_bypass" || strings.Join(k.SMTVulnerable, ",") != "l1tf,mds" {
		t.Errorf("vulnerable %v smt %v", k.CPUVulnerable, k.SMTVulnerable)
	}
	if inventorytest.Show(k.SMTControl) != "on" || k.KSMRun == nil || *k.KSMRun != 1 {
		t.Errorf("smt %s ksm %v", inventorytest.Show(k.SMTControl), k.KSMRun)
	}
	if _, ok := k.Packages["qemu-system-arm"]; ok {
		t.Errorf("a removed package counted as installed")
	}
	if h.Patch == nil || h.Patch.Product != "qemu" || h.Patch.Build != "7.2.22" || h.Patch.Scheme != inventory.SchemeDpkg {
		t.Errorf("patch %+v", h.Patch)
	}
	if len(h.Components) != 2 || h.Components[1].Product != "libvirt" || h.Components[1].Version != "9.0.0-4+deb12u2" {
		t.Errorf("components %+v", h.Components)
	}
	if h.Management == nil || strings.Join(h.Management.Interfaces, ",") != "br-mgmt" {
		t.Errorf("management %+v", h.Management)
	}
	// qemu.conf's spice_password gives vnc-protected's SPICE display a
	// password; its VNC display has its own.
	vp := inventorytest.VM(t, inv, "vnc-protected")
	if inventorytest.Show(vp.KVM.Graphics[1].PasswordSet) != "true" {
		t.Errorf("spice password from qemu.conf not applied: %+v", vp.KVM.Graphics[1])
	}
	if inv.Sources["vm.console"] == "" || !strings.Contains(inv.Sources["host.kvm.qemu.migrate_tls_force"], "qemu.conf migrate_tls_force") {
		t.Errorf("sources incomplete")
	}
}

// TestNormalizeRemote: a remote URI reads no host files; every host-file
// fact is a "needs local access" gap, and the management interface comes
// from the address hvaudit connected to.
func TestNormalizeRemote(t *testing.T) {
	d := fixtureData(t, "")
	d.URI, d.Transport = "qemu+ssh://kvm01/system", "ssh"
	d.Interfaces = []InterfaceRecord{
		{Name: "br-mgmt", XML: `<interface type='bridge' name='br-mgmt'><protocol family='ipv4'><ip address='10.0.0.10' prefix='24'/></protocol><bridge><interface type='ethernet' name='eno1'/></bridge></interface>`},
		{Name: "eno2", XML: `<interface type='ethernet' name='eno2'><protocol family='ipv4'><ip address='192.168.50.10' prefix='24'/><route gateway='192.168.50.1'/></protocol></interface>`},
	}
	d.ConnectionAddresses = []string{"10.0.0.10"}
	inv, err := New().Normalize(snapshotOf(t, d, "qemu+ssh://kvm01/system", nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"host.kvm.qemu", "host.kvm.daemons", "host.kvm.cpu_vulnerabilities", "host.kvm.smt_control", "host.kvm.ksm_run", "host.kvm.packages"} {
		if r := inventorytest.ReasonUnder(inv.Gaps, "host:kvm01", f); !strings.Contains(r, "needs local access") {
			t.Errorf("%s gap %q", f, r)
		}
	}
	h := inv.Hosts[0]
	if h.KVM.QEMU != nil || h.KVM.Packages != nil {
		t.Errorf("host files invented for a remote URI")
	}
	// Without packages the patch level is QEMU's upstream version.
	if h.Patch == nil || h.Patch.Scheme != inventory.SchemeUpstream || h.Patch.Version != "7.2.22" || h.Patch.ReleaseLine != "7.2" {
		t.Errorf("patch %+v", h.Patch)
	}
	// The connection address beats eno2's gateway.
	if h.Management == nil || strings.Join(h.Management.Interfaces, ",") != "br-mgmt" {
		t.Errorf("management %+v", h.Management)
	}
	if on := inventorytest.VM(t, inv, "mgmt-bridged").NICs[0].OnManagementNetwork; inventorytest.Show(on) != "true" {
		t.Errorf("mgmt-bridged on management = %s", inventorytest.Show(on))
	}
	// An address display without qemu.conf: listen known from the XML.
	if c := inventorytest.VM(t, inv, "vnc-open").Console; c == nil || !c.Exposed {
		t.Errorf("vnc-open console %+v", c)
	}
	if r := inventorytest.ReasonUnder(inv.Gaps, "vm:"+inventorytest.VM(t, inv, "vnc-open").ID, "vm.console.tls"); !strings.Contains(r, "needs local access") {
		t.Errorf("console tls gap %q", r)
	}
}

// TestNormalizeUnknownManagement: with no interfaces, routes or address,
// bridged NICs are unknown (nil) with a reason, never false.
func TestNormalizeUnknownManagement(t *testing.T) {
	d := fixtureData(t, "")
	d.URI = "qemu+tls://kvm01/system"
	d.Interfaces = nil
	d.Errors = map[string]string{"interfaces": "this function is not supported by the connection driver: virConnectListAllInterfaces"}
	inv, err := New().Normalize(snapshotOf(t, d, d.URI, nil))
	if err != nil {
		t.Fatal(err)
	}
	vm := inventorytest.VM(t, inv, "mgmt-bridged")
	if vm.NICs[0].OnManagementNetwork != nil {
		t.Fatalf("unknown management network reported as %s", inventorytest.Show(vm.NICs[0].OnManagementNetwork))
	}
	if r := inventorytest.ReasonUnder(inv.Gaps, "vm:"+vm.ID, "vm.nics.on_management_network"); !strings.Contains(r, "virConnectListAllInterfaces") {
		t.Errorf("gap %q", r)
	}
	// A user-mode NIC is never on the management network.
	if inventorytest.Show(inventorytest.VM(t, inv, "unconfined").NICs[0].OnManagementNetwork) != "false" {
		t.Errorf("user-mode NIC")
	}
}

func TestNormalizeSessionSkipsSystemConfig(t *testing.T) {
	d := fixtureData(t, "")
	d.Local, d.Host = true, ReadHostFiles("testdata/hostroot", true)
	inv, err := New().Normalize(snapshotOf(t, d, "qemu:///session", nil))
	if err != nil {
		t.Fatal(err)
	}
	k := inv.Hosts[0].KVM
	if k.QEMU != nil || k.Daemons != nil || k.CPUVulnerabilities == nil {
		t.Errorf("session: qemu %v daemons %v vulns %v", k.QEMU, k.Daemons, k.CPUVulnerabilities)
	}
	if r := inventorytest.ReasonUnder(inv.Gaps, "host:kvm01", "host.kvm.qemu"); !strings.Contains(r, "session") {
		t.Errorf("gap %q", r)
	}
}

func TestNormalizeKeepsBrokenDomainsAsGaps(t *testing.T) {
	d := fixtureData(t, "")
	d.Domains = append(d.Domains,
		DomainRecord{Name: "gone", UUID: "11111111-2222-3333-4444-555555555555", Error: "Domain not found"},
		DomainRecord{Name: "tpm", UUID: "11111111-2222-3333-4444-666666666666", XML: `<domain type='kvm'><name>tpm</name><devices><tpm model='tpm-tis'/></devices></domain>`},
		DomainRecord{Name: "junk", XML: `<domain><name>junk`},
	)
	inv, err := New().Normalize(snapshotOf(t, d, "qemu:///system", nil))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"gone": "Domain not found", "tpm": "missing TPM device backend", "junk": "does not parse"} {
		vm := inventorytest.VM(t, inv, name)
		if vm.Encryption != nil || vm.Console != nil {
			t.Errorf("%s: facts invented for an unreadable domain", name)
		}
		if r := inventorytest.ReasonUnder(inv.Gaps, "vm:"+vm.ID, "vm"); !strings.Contains(r, want) {
			t.Errorf("%s: gap %q, want %q", name, r, want)
		}
	}
}

func TestNormalizeRejectsForeignSnapshots(t *testing.T) {
	c := New()
	if _, err := c.Normalize(&collectors.Snapshot{Platform: "esxi", Data: []byte(`{}`)}); err == nil {
		t.Error("esxi snapshot accepted")
	}
	if _, err := c.Normalize(&collectors.Snapshot{Platform: "kvm", Data: []byte(`[1,2]`)}); err == nil || !strings.Contains(err.Error(), "not libvirt data") {
		t.Errorf("err = %v", err)
	}
	if _, err := c.Normalize(nil); err == nil {
		t.Error("nil snapshot accepted")
	}
}

// TestParseURI holds the libvirt URI reading to libvirt 9.0's own
// (remote_driver.c, viruri.c, virnetsocket.c): which transport verifies
// its peer decides HVA-TRANSPORT-01, so every case asserts TLSVerified.
func TestParseURI(t *testing.T) {
	cases := []struct {
		uri                string
		local, session, rw bool
		libvirt, method    string
		verified           bool
		err                string
	}{
		{uri: "qemu:///system", local: true, libvirt: "qemu:///system", method: "local", verified: true},
		{uri: "qemu:///session?hvaudit_rw=1", local: true, session: true, rw: true, libvirt: "qemu:///session", method: "local", verified: true},
		{uri: "qemu+unix:///system?socket=/run/x", local: true, libvirt: "qemu+unix:///system?socket=/run/x", method: "local", verified: true},
		{uri: "qemu+ssh://root@kvm01/system", libvirt: "qemu+ssh://root@kvm01/system", method: "ssh", verified: true},
		{uri: "qemu+ssh://kvm01/system?no_verify=1", libvirt: "qemu+ssh://kvm01/system?no_verify=1", method: "insecure"},
		{uri: "qemu+ssh://kvm01/system?no_verify=0", libvirt: "qemu+ssh://kvm01/system?no_verify=0", method: "ssh", verified: true},
		// libssh and libssh2 read known_hosts_verify; libvirt does not
		// hand them no_verify.
		{uri: "qemu+libssh://kvm01/system", libvirt: "qemu+libssh://kvm01/system", method: "ssh", verified: true},
		{uri: "qemu+libssh://kvm01/system?known_hosts_verify=ignore", libvirt: "qemu+libssh://kvm01/system?known_hosts_verify=ignore", method: "insecure"},
		{uri: "qemu+libssh2://kvm01/system?known_hosts_verify=auto", libvirt: "qemu+libssh2://kvm01/system?known_hosts_verify=auto", method: "insecure"},
		{uri: "qemu+libssh2://kvm01/system?known_hosts_verify=IGNORE", libvirt: "qemu+libssh2://kvm01/system?known_hosts_verify=IGNORE", method: "insecure"},
		{uri: "qemu+libssh://kvm01/system?known_hosts_verify=normal", libvirt: "qemu+libssh://kvm01/system?known_hosts_verify=normal", method: "ssh", verified: true},
		{uri: "qemu+libssh://kvm01/system?no_verify=1", libvirt: "qemu+libssh://kvm01/system?no_verify=1", method: "ssh", verified: true},
		{uri: "qemu+tls://kvm01/system?no_verify=1", libvirt: "qemu+tls://kvm01/system?no_verify=1", method: "insecure"},
		// Any non-zero integer counts, as strtol reads it.
		{uri: "qemu+tls://kvm01/system?no_verify=2", libvirt: "qemu+tls://kvm01/system?no_verify=2", method: "insecure"},
		{uri: "qemu+tls://kvm01/system?no_verify=01", libvirt: "qemu+tls://kvm01/system?no_verify=01", method: "insecure"},
		{uri: "qemu+tls://kvm01/system?no_verify=-1", libvirt: "qemu+tls://kvm01/system?no_verify=-1", method: "insecure"},
		{uri: "qemu+tls://kvm01/system?no_verify=%201", libvirt: "qemu+tls://kvm01/system?no_verify=%201", method: "insecure"},
		{uri: "qemu+tls://kvm01/system?NO_VERIFY=1", libvirt: "qemu+tls://kvm01/system?NO_VERIFY=1", method: "insecure"},
		// The last occurrence wins, in either order.
		{uri: "qemu+tls://kvm01/system?no_verify=0&no_verify=1", libvirt: "qemu+tls://kvm01/system?no_verify=0&no_verify=1", method: "insecure"},
		{uri: "qemu+tls://kvm01/system?no_verify=1&No_Verify=0", libvirt: "qemu+tls://kvm01/system?no_verify=1&No_Verify=0", method: "ca", verified: true},
		// ';' separates only where no '&' follows.
		{uri: "qemu+tls://kvm01/system?pkipath=/p;no_verify=1", libvirt: "qemu+tls://kvm01/system?pkipath=/p;no_verify=1", method: "insecure"},
		{uri: "qemu+tls://kvm01/system?hvaudit_rw=1&no_verify=0", rw: true, libvirt: "qemu+tls://kvm01/system?no_verify=0", method: "ca", verified: true},
		{uri: "qemu+tcp://kvm01/system", libvirt: "qemu+tcp://kvm01/system", method: "insecure"},
		{uri: "qemu+ext:///system?command=/opt/tunnel", libvirt: "qemu+ext:///system?command=/opt/tunnel", method: "insecure"},
		{uri: "qemu://kvm01/system", libvirt: "qemu://kvm01/system", method: "ca", verified: true},
		{uri: "qemu://kvm01/system?no_verify=1", libvirt: "qemu://kvm01/system?no_verify=1", method: "insecure"},
		{uri: "test:///default", local: true, libvirt: "test:///default", method: "local", verified: true},
		{uri: "qemu+tls://kvm01/system?no_verify=yes", err: "no_verify"},
		{uri: "qemu+tls://kvm01/system?no_verify=", err: "no_verify"},
		{uri: "qemu+tls://kvm01/system?no_verify=0x1", err: "no_verify"},
		{uri: "qemu+libssh://kvm01/system?known_hosts_verify=never", err: "known_hosts_verify"},
		{uri: "xen:///system", err: "libvirt driver xen not supported yet"},
		{uri: "lxc+ssh://h/", err: "libvirt driver lxc not supported yet"},
		{uri: "qemu+carrier-pigeon://h/system", err: "transport"},
		{uri: "test://relative", err: "absolute path"},
		{uri: "qemu+ssh://u:pw@h/system", err: "embeds a password"},
	}
	for _, c := range cases {
		u, err := parseURI(c.uri)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err %v, want %q", c.uri, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.uri, err)
			continue
		}
		tr := transport(u)
		if u.Local() != c.local || u.Session() != c.session || u.ReadWrite != c.rw || u.LibvirtURI != c.libvirt || tr.Method != c.method || tr.TLSVerified != c.verified {
			t.Errorf("%s: local %v session %v rw %v uri %q method %q verified %v", c.uri, u.Local(), u.Session(), u.ReadWrite, u.LibvirtURI, tr.Method, tr.TLSVerified)
		}
	}
}

func TestRegistered(t *testing.T) {
	for _, s := range []string{"qemu", "qemu+ssh", "qemu+libssh", "qemu+libssh2", "qemu+tls", "qemu+tcp", "qemu+unix", "qemu+ext", "test", "xen", "lxc"} {
		c, err := collectors.ForURI(s + ":///x")
		if err != nil || c.Platform() != "kvm" {
			t.Errorf("%s: %v", s, err)
		}
	}
	if c, err := collectors.ForPlatform("kvm"); err != nil || c.Platform() != "kvm" {
		t.Errorf("platform kvm: %v", err)
	}
}
