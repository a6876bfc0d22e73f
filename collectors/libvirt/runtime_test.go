package libvirt

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hvaudit/hvaudit/collectors/inventory"
	"github.com/hvaudit/hvaudit/collectors/inventory/inventorytest"
)

// copyTree copies a fixture host root (symbolic links included) into a
// temporary directory a test may change.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(l, to)
		case d.IsDir():
			return os.MkdirAll(to, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func writeFile(t *testing.T, root, p, content string) {
	t.Helper()
	full := filepath.Join(root, p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// normalizeRoot normalizes the fixture estate with a host root.
func normalizeRoot(t *testing.T, root string, edit func(*Data)) *inventory.Inventory {
	t.Helper()
	d := fixtureData(t, root)
	if edit != nil {
		edit(d)
	}
	inv, err := New().Normalize(snapshotOf(t, d, "qemu:///system", nil))
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func TestParseProcNetTCP(t *testing.T) {
	v4 := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
		"   0: 0100007F:407D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 11 1 0 100 0 0 10 0\n" +
		"   1: 0A00000A:9C4A 0B00000A:407D 01 00000000:00000000 00:00000000 00000000     0        0 12 1 0 100 0 0 10 0\n"
	got, err := ParseProcNetTCP(v4)
	if err != nil || len(got) != 1 || got[11].String() != "127.0.0.1:16509" {
		t.Errorf("v4: %v %v", got, err)
	}
	v6 := "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
		"   0: 00000000000000000000000000000000:4082 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 21 1 0 100 0 0 10 0\n" +
		"   1: 0000000000000000FFFF00000A00000A:407D 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 22 1 0 100 0 0 10 0\n"
	got, err = ParseProcNetTCP(v6)
	if err != nil || got[21].String() != "[::]:16514" || got[22].String() != "10.0.0.10:16509" {
		t.Errorf("v6: %v %v", got, err)
	}
	for _, bad := range []string{"", "garbage\n", "local_address\n 0: 0100007F 00000000:0000 0A a b c d e 11"} {
		if _, err := ParseProcNetTCP(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseDaemonArgs(t *testing.T) {
	for _, c := range []struct {
		args   string
		listen bool
		config string
	}{
		{"/usr/sbin/libvirtd", false, ""},
		{"/usr/sbin/libvirtd --listen -f /etc/x.conf", true, "/etc/x.conf"},
		{"libvirtd -l --config /c", true, "/c"},
		{"libvirtd --config=/c -d", false, "/c"},
		{"libvirtd -f/c --timeout 120", false, "/c"},
		{"libvirtd -dl", true, ""},
		{"virtqemud --timeout 120", false, ""},
	} {
		got := parseDaemonArgs(strings.Fields(c.args))
		if got.listen != c.listen || got.config != c.config {
			t.Errorf("%q: %+v", c.args, got)
		}
	}
	if unitPort("[Socket]\nListenStream=0.0.0.0:16510\n") != 16510 || unitPort("ListenStream=[::]:16514") != 16514 || unitPort("ListenStream=/run/x.sock") != 0 {
		t.Error("unitPort")
	}
}

func TestFilterQEMUArgs(t *testing.T) {
	in := []string{"/usr/bin/qemu-system-x86_64", "-name", "guest=g,debug-threads=on", "-object", "secret,id=s0,data=SECRETDATA,keyid=masterKey0",
		"-object", "tls-creds-x509,id=vnc-tls-creds0,dir=/etc/pki/libvirt-vnc,endpoint=server,verify-peer=on",
		"-blockdev", `{"driver":"file","filename":"/var/lib/libvirt/images/g.qcow2"}`,
		"-spice", "port=5901,addr=0.0.0.0,password=OLDPLAINPW,seamless-migration=on", "-device", "ivshmem-plain,memdev=shmmem-shmem0", "-device", "virtio-net-pci,netdev=n0"}
	out := strings.Join(filterQEMUArgs(in), " ")
	for _, leak := range []string{"SECRETDATA", "OLDPLAINPW", "g.qcow2", "virtio-net"} {
		if strings.Contains(out, leak) {
			t.Errorf("kept %q: %s", leak, out)
		}
	}
	for _, kept := range []string{"guest=g", "tls-creds-x509,id=vnc-tls-creds0", "password=[REDACTED]", "ivshmem-plain"} {
		if !strings.Contains(out, kept) {
			t.Errorf("lost %q: %s", kept, out)
		}
	}
}

func TestParseRuntimeDisplays(t *testing.T) {
	args := []string{"qemu", "-object", "tls-creds-x509,id=vnc-tls-creds0,dir=/etc/pki/libvirt-vnc,endpoint=server,verify-peer=on",
		"-vnc", "0.0.0.0:1,audiodev=a", "-vnc", ":2", "-vnc", "[::1]:3,password=on,tls-creds=vnc-tls-creds0,sasl=on",
		"-vnc", "vnc=unix:/run/vnc,,sock", "-vnc", "none", "-vnc", "10.0.0.10:4,tls-creds=undefined-object",
		"-spice", "port=5901,tls-port=5902,addr=0.0.0.0,disable-ticketing=on,x509-dir=/etc/pki/libvirt-spice",
		"-spice", "tls-port=5903,addr=10.0.0.10,x509-dir=/p", "-spice", "unix=on,addr=/run/spice.sock,disable-ticketing=on"}
	want := []runtimeDisplay{
		{typ: "vnc", listenType: "address", listen: "0.0.0.0"},
		{typ: "vnc", listenType: "address", listen: ""},
		{typ: "vnc", listenType: "address", listen: "::1", password: true, tls: true, sasl: true},
		{typ: "vnc", listenType: "socket", listen: "/run/vnc,sock"},
		{typ: "vnc", listenType: "none"},
		{typ: "vnc", listenType: "address", listen: "10.0.0.10"},
		{typ: "spice", listenType: "address", listen: "0.0.0.0"},
		{typ: "spice", listenType: "address", listen: "10.0.0.10", password: true, tls: true},
		{typ: "spice", listenType: "socket", listen: "/run/spice.sock"},
	}
	got := parseRuntimeDisplays(args)
	if len(got) != len(want) {
		t.Fatalf("got %d displays: %+v", len(got), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("display %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestConfigChangedAfterDaemonStart: qemu.conf and the daemon's -f file
// edited after the daemon started no longer say what runs: the host's
// qemu.conf facts, a stopped guest's effective facts and the daemon's
// settings are errors naming the change; running guests and listening
// sockets are still read from their processes.
func TestConfigChangedAfterDaemonStart(t *testing.T) {
	root := copyTree(t, "testdata/hostroot")
	// libvirtd (start tick 1000) started at 2100-01-01T00:00:10Z.
	later := time.Date(2100, 1, 2, 0, 0, 0, 0, time.UTC)
	for _, p := range []string{"etc/libvirt/qemu.conf", "etc/libvirt/libvirtd-listen.conf"} {
		if err := os.Chtimes(filepath.Join(root, p), later, later); err != nil {
			t.Fatal(err)
		}
	}
	inv := normalizeRoot(t, root, nil)
	k := inv.Hosts[0].KVM
	if k.QEMU != nil || !strings.Contains(inventorytest.ReasonUnder(inv.Gaps, "host:kvm01", "host.kvm.qemu"), "changed at 2100-01-02T00:00:00Z, after libvirtd (PID 1200) started at 2100-01-01T00:00:10Z") {
		t.Errorf("qemu.conf: %+v gap %q", k.QEMU, inventorytest.ReasonUnder(inv.Gaps, "host:kvm01", "host.kvm.qemu"))
	}
	stopped := inventorytest.VM(t, inv, "stopped-passthrough")
	if stopped.KVM.Sandbox != nil || !strings.Contains(inventorytest.ReasonUnder(inv.Gaps, "vm:"+stopped.ID, "vm.kvm.sandbox"), "changed at") {
		t.Errorf("stopped guest sandbox %s gap %q", inventorytest.Show(stopped.KVM.Sandbox), inventorytest.ReasonUnder(inv.Gaps, "vm:"+stopped.ID, "vm.kvm.sandbox"))
	}
	if vo := inventorytest.VM(t, inv, "vnc-open"); inventorytest.Show(vo.KVM.Sandbox) != "false" || inventorytest.Show(vo.KVM.RunsAsRoot) != "true" {
		t.Errorf("running guest no longer judged by its process")
	}
	dm := k.Daemons[0]
	if dm.AuthTCP != nil || dm.TLSAllowedDNList != nil || inventorytest.Show(dm.TCPEnabled) != "true" {
		t.Errorf("stale daemon config: auth %s dn %v tcp %s", inventorytest.Show(dm.AuthTCP), dm.TLSAllowedDNList, inventorytest.Show(dm.TCPEnabled))
	}
	if r := inventorytest.ReasonUnder(inv.Gaps, "host:kvm01", "host.kvm.daemons"); !strings.Contains(r, "libvirtd-listen.conf changed at") {
		t.Errorf("daemon gap %q", r)
	}
}

// TestSocketActivatedListener: a daemon that is not running still accepts
// TCP when systemd holds its -tcp.socket listener.
func TestSocketActivatedListener(t *testing.T) {
	root := copyTree(t, "testdata/hostroot")
	if err := os.RemoveAll(filepath.Join(root, "proc/1200")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, root, "proc/1/net/tcp", "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"+
		"   0: 00000000:407D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 777 1 0 100 0 0 10 0\n")
	if err := os.Symlink("socket:[777]", filepath.Join(root, "proc/1/fd/40")); err != nil {
		t.Fatal(err)
	}
	k := normalizeRoot(t, root, nil).Hosts[0].KVM
	if len(k.Daemons) != 1 {
		t.Fatalf("daemons %+v", k.Daemons)
	}
	d := k.Daemons[0]
	if d.Running || strings.Join(d.SocketUnitsActive, ",") != "libvirtd-tcp.socket" || inventorytest.Show(d.TCPEnabled) != "true" || inventorytest.Show(d.AuthTCP) != "sasl" {
		t.Errorf("socket-activated libvirtd %+v", d)
	}
	if k.QEMUDriverDaemon != "" {
		t.Errorf("qemu driver daemon %q with no daemon running", k.QEMUDriverDaemon)
	}
}

// TestMissingPermissionNamesIt: listeners and processes that could not be
// read leave the facts unknown, with the permission named.
func TestMissingPermissionNamesIt(t *testing.T) {
	if r := describe("/proc/1200/fd", fs.ErrPermission); !strings.Contains(r, "CAP_SYS_PTRACE") {
		t.Errorf("describe: %q", r)
	}
	if r := describe("/etc/libvirt/qemu.conf", &fs.PathError{Op: "open", Path: "/x", Err: fs.ErrPermission}); !strings.Contains(r, "readable by root only") {
		t.Errorf("describe: %q", r)
	}
	inv := normalizeRoot(t, "testdata/hostroot", func(d *Data) {
		for i := range d.Runtime.Daemons {
			d.Runtime.Daemons[i].Listeners = nil
			d.Runtime.Daemons[i].ListenersError = describe("/proc/1200/fd", fs.ErrPermission)
		}
		// Without --listen the configuration shows no listener either.
		d.Runtime.Daemons[0].Args = []string{"/usr/sbin/libvirtd", "-f", "/etc/libvirt/libvirtd-listen.conf"}
		delete(d.Host.Files, "/etc/default/libvirtd")
		p := d.Runtime.Domains["vnc-open"]
		p.Error = describe("/proc/2100/status", errors.Join(fs.ErrPermission))
		d.Runtime.Domains["vnc-open"] = p
	})
	dm := inv.Hosts[0].KVM.Daemons[0]
	if dm.TCPEnabled != nil || !strings.Contains(inventorytest.ReasonUnder(inv.Gaps, "host:kvm01", "host.kvm.daemons.tcp_enabled"), "CAP_SYS_PTRACE") {
		t.Errorf("tcp_enabled %s gap %q", inventorytest.Show(dm.TCPEnabled), inventorytest.ReasonUnder(inv.Gaps, "host:kvm01", "host.kvm.daemons.tcp_enabled"))
	}
	vo := inventorytest.VM(t, inv, "vnc-open")
	if vo.KVM.RunsAsRoot != nil || vo.KVM.Sandbox != nil || !strings.Contains(inventorytest.ReasonUnder(inv.Gaps, "vm:"+vo.ID, "vm.kvm.sandbox"), "CAP_SYS_PTRACE") {
		t.Errorf("vnc-open: root %s sandbox %s gap %q", inventorytest.Show(vo.KVM.RunsAsRoot), inventorytest.Show(vo.KVM.Sandbox), inventorytest.ReasonUnder(inv.Gaps, "vm:"+vo.ID, "vm.kvm.sandbox"))
	}
}

func TestKernelAuditAndNested(t *testing.T) {
	one, zero := int64(1), int64(0)
	cmd := func(s string) *string { return &s }
	for _, c := range []struct {
		rt   Runtime
		want string
		src  string
	}{
		{Runtime{KernelAudit: &KernelAudit{Enabled: &one}}, "true", "AUDIT_GET"},
		{Runtime{KernelAudit: &KernelAudit{Enabled: &zero}, AuditdRunning: true}, "false", "AUDIT_GET"},
		{Runtime{KernelAudit: &KernelAudit{Error: "EPERM"}, KernelCmdline: cmd("ro audit=1")}, "true", "audit=1"},
		{Runtime{KernelCmdline: cmd("ro audit=0"), AuditdRunning: true}, "false", "audit=0"},
		{Runtime{KernelCmdline: cmd("ro"), AuditdRunning: true}, "true", "auditd"},
		{Runtime{KernelCmdline: cmd("ro quiet")}, "false", "drops audit records"},
		{Runtime{Errors: map[string]string{"/proc/cmdline": "gone"}}, "nil", ""},
	} {
		var gaps inventory.Gaps
		got, src := kernelAudit(&c.rt, gapper{kind: inventory.KindHost, id: "h", gaps: &gaps})
		if inventorytest.Show(got) != c.want || !strings.Contains(src, c.src) || (got == nil) != (len(gaps) == 1) {
			t.Errorf("%+v: %s %q gaps %v", c.rt, inventorytest.Show(got), src, gaps)
		}
	}
	for _, c := range []struct {
		files  map[string]string
		sysmod bool
		want   string
	}{
		{map[string]string{nestedParams[0]: "Y\n"}, true, "true"},
		{map[string]string{nestedParams[1]: "1\n"}, true, "true"},
		{map[string]string{nestedParams[0]: "N\n"}, true, "false"},
		{map[string]string{}, true, "false"}, // no kvm vendor module loaded
		{map[string]string{}, false, "nil"},
		{map[string]string{nestedParams[0]: "maybe"}, true, "nil"},
	} {
		var gaps inventory.Gaps
		hf := &HostFiles{Files: c.files, Exists: map[string]bool{pathSysModule: c.sysmod}}
		if got := nestedVirt(hf, gapper{kind: inventory.KindHost, id: "h", gaps: &gaps}); inventorytest.Show(got) != c.want || (got == nil) != (len(gaps) == 1) {
			t.Errorf("%v: %s gaps %v", c.files, inventorytest.Show(got), gaps)
		}
	}
}

// TestMACConfinementConsistent: on a host without SELinux or AppArmor,
// guests asking for a dynamic label, for none or for nothing all run
// with DAC only, and all are unconfined; with AppArmor only type none is.
func TestMACConfinementConsistent(t *testing.T) {
	doms := map[string]string{
		"dynamic": `<seclabel type='dynamic' model='apparmor' relabel='yes'/>`,
		"none":    `<seclabel type='none'/>`,
		"absent":  ``,
	}
	for _, host := range []struct {
		models []string
		want   map[string]string
	}{
		{[]string{"none", "dac"}, map[string]string{"dynamic": "false", "none": "false", "absent": "false"}},
		{[]string{"apparmor", "dac"}, map[string]string{"dynamic": "true", "none": "false", "absent": "true"}},
	} {
		for name, lab := range doms {
			x, err := ParseDomainXML(`<domain type='kvm'><name>` + name + `</name><os><type arch='x86_64'>hvm</type></os>` + lab + `</domain>`)
			if err != nil {
				t.Fatal(err)
			}
			q, _ := QEMUConfigFrom(&Conf{}, "debian")
			var gaps inventory.Gaps
			dc := &domainContext{hostCtx: hostCtx{secModels: host.models, qemu: q}}
			if got := inventorytest.Show(macConfined(x, nil, dc, gapper{kind: inventory.KindVM, id: "x", gaps: &gaps})); got != host.want[name] {
				t.Errorf("models %v, seclabel %s: confined %s", host.models, name, got)
			}
		}
	}
}

// TestManagementThroughParents: management on bond0.10; guests on a
// bridge over bond0 can tag their frames with VLAN 10 and are on it, on
// bond0.20 they are not; a NAT network leaving through the management
// interface is on it.
func TestManagementThroughParents(t *testing.T) {
	d := fixtureData(t, "")
	d.URI = "qemu+ssh://kvm01/system"
	d.ConnectionAddresses = []string{"10.10.0.5"}
	d.Interfaces = []InterfaceRecord{
		{Name: "bond0.10", XML: `<interface type='vlan' name='bond0.10'><protocol family='ipv4'><ip address='10.10.0.5' prefix='24'/><route gateway='10.10.0.1'/></protocol><vlan tag='10'><interface name='bond0'/></vlan></interface>`},
		{Name: "bond0.20", XML: `<interface type='vlan' name='bond0.20'><vlan tag='20'><interface name='bond0'/></vlan></interface>`},
		{Name: "bond0", XML: `<interface type='bond' name='bond0'><bond mode='active-backup'><interface type='ethernet' name='eno1'/><interface type='ethernet' name='eno2'/></bond></interface>`},
		{Name: "br0", XML: `<interface type='bridge' name='br0'><bridge><interface type='bond' name='bond0'/></bridge></interface>`},
		{Name: "br20", XML: `<interface type='bridge' name='br20'><bridge><interface type='vlan' name='bond0.20'/></bridge></interface>`},
		{Name: "eno3", XML: `<interface type='ethernet' name='eno3'><protocol family='ipv4'><ip address='192.168.9.5' prefix='24'/></protocol></interface>`},
	}
	d.Networks = []NetworkRecord{
		{Name: "over-bond", UUID: "8d2f2a8c-1111-4c5e-9a51-000000000011", XML: `<network><name>over-bond</name><forward mode='bridge'/><bridge name='br0'/></network>`},
		{Name: "vlan20", UUID: "8d2f2a8c-1111-4c5e-9a51-000000000012", XML: `<network><name>vlan20</name><forward mode='bridge'/><bridge name='br20'/></network>`},
		{Name: "nat-default", UUID: "8d2f2a8c-1111-4c5e-9a51-000000000013", XML: `<network><name>nat-default</name><forward mode='nat'/><bridge name='virbr0'/></network>`},
		{Name: "nat-eno3", UUID: "8d2f2a8c-1111-4c5e-9a51-000000000014", XML: `<network><name>nat-eno3</name><forward mode='nat' dev='eno3'/><bridge name='virbr3'/></network>`},
		{Name: "macvtap-eno2", UUID: "8d2f2a8c-1111-4c5e-9a51-000000000015", XML: `<network><name>macvtap-eno2</name><forward mode='bridge'><interface dev='eno2'/></forward></network>`},
	}
	inv, err := New().Normalize(snapshotOf(t, d, d.URI, nil))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"over-bond": "true", "vlan20": "false", "nat-default": "true", "nat-eno3": "false", "macvtap-eno2": "true"} {
		if got := inventorytest.Show(inventorytest.Network(t, inv, name).Management); got != want {
			t.Errorf("network %s on management = %s, want %s (egress %v)", name, got, want, inventorytest.Network(t, inv, name).KVM.Egress)
		}
	}
	mn := inv.Hosts[0].Management
	if mn == nil || strings.Join(mn.Interfaces, ",") != "bond0.10" || len(mn.VLANs) != 1 || mn.VLANs[0] != 10 {
		t.Errorf("management %+v", mn)
	}
	if got := strings.Join(inventorytest.Network(t, inv, "nat-default").KVM.Egress, ","); got != "bond0.10" {
		t.Errorf("nat-default egress %q", got)
	}
}

func TestShmemDevices(t *testing.T) {
	vm, _, err := NormalizeDomainXML(`<domain type='kvm'><name>s</name><devices>
<shmem name='plain'><model type='ivshmem-plain'/><size unit='M'>4</size></shmem>
<shmem name='bell'><model type='ivshmem-doorbell'/><server path='/tmp/sock'/></shmem>
<shmem name='legacy'/></devices></domain>`)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, s := range vm.KVM.Shmems {
		got = append(got, s.Name+"/"+s.Model+"/"+s.Server)
	}
	if strings.Join(got, " ") != "plain/ivshmem-plain/ bell/ivshmem-doorbell//tmp/sock legacy/ivshmem/" {
		t.Errorf("shmems %v", got)
	}
}

func TestMigrationTLSCredentials(t *testing.T) {
	root := copyTree(t, "testdata/hostroot")
	for _, f := range tlsCredentialFiles {
		writeFile(t, root, "etc/pki/qemu/"+f, "pem")
	}
	if err := os.Chmod(filepath.Join(root, "etc/pki/qemu/server-key.pem"), 0o640); err != nil {
		t.Fatal(err)
	}
	k := normalizeRoot(t, root, nil).Hosts[0].KVM
	if mt := k.MigrationTLS; mt == nil || !mt.Complete || mt.KeysPrivate {
		t.Errorf("client-key.pem 0644 not seen: %+v", k.MigrationTLS)
	}
	if err := os.Chmod(filepath.Join(root, "etc/pki/qemu/client-key.pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	k = normalizeRoot(t, root, nil).Hosts[0].KVM
	if mt := k.MigrationTLS; mt == nil || !mt.Complete || !mt.KeysPrivate {
		t.Errorf("private keys: %+v", k.MigrationTLS)
	}
}
