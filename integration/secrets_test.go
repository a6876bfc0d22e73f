package integration

import (
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hvaudit/hvaudit/agent"
	"github.com/hvaudit/hvaudit/collectors"
	"github.com/hvaudit/hvaudit/collectors/esxi/esxisim"
	"github.com/hvaudit/hvaudit/collectors/libvirt"
)

// reportFormats are every format hvaudit writes (cklb only where the
// platform has a STIG).
var reportFormats = []string{"json", "table", "html", "csv", "junit", "sarif", "oscal", "cklb"}

// Markers planted in every secret-bearing field (libvirt.SecretFields;
// for vSphere and WinRM the only secret is the password, which no
// snapshot stores).
const (
	mkVNC      = "MKS-VNC-PASSWD"
	mkSpice    = "MKS-SPICE-PASSWD"
	mkRDP      = "MKS-RDP-PASSWD"
	mkCookie   = "MKS-DISK-COOKIE"
	mkBacking  = "MKS-BACKING-COOKIE"
	mkISCSI    = "MKS-ISCSI-USAGE"
	mkRBD      = "MKS-RBD-USAGE"
	mkHostdev  = "MKS-HOSTDEV-USAGE"
	mkQuery    = "MKS-QUERY-TOKEN"
	mkConfVNC  = "MKS-QEMUCONF-VNC"
	mkConfTail = "MKS-QEMUCONF-TAIL"
	mkConfList = "MKS-QEMUCONF-LIST"
	mkDaemon   = "MKS-DAEMON-CONF"
	mkQEMUArg  = "MKS-QEMU-ARG"
	mkWinRM    = "MKS-WINRM-PASSWORD"
)

// secretNode is a test-driver node whose one domain carries a marker in
// every secret-bearing field of a domain XML.
const secretNode = `<node>
  <interface type='ethernet' name='eth0'><start mode='onboot'/><protocol family='ipv4'><ip address='10.9.0.5' prefix='24'/><route gateway='10.9.0.1'/></protocol></interface>
  <domain type='test'>
    <name>hva-secrets</name>
    <uuid>6f1c0b7e-0000-4000-8000-0000000000ab</uuid>
    <memory>131072</memory>
    <os><type arch='x86_64'>hvm</type></os>
    <devices>
      <disk type='network' device='disk'>
        <source protocol='https' name='/images/a.qcow2' query='token=` + mkQuery + `'>
          <host name='images.example' port='443'/>
          <cookies><cookie name='session'>` + mkCookie + `</cookie></cookies>
        </source>
        <backingStore type='network'><format type='raw'/><source protocol='http' name='/base.raw'><host name='images.example'/><cookies><cookie name='b'>` + mkBacking + `</cookie></cookies></source></backingStore>
        <target dev='vda' bus='virtio'/>
      </disk>
      <disk type='network' device='disk'>
        <source protocol='iscsi' name='iqn.2013-07.com.example:iscsi-nopool/1'>
          <host name='10.0.0.1' port='3260'/>
          <auth username='myuser'><secret type='iscsi' usage='` + mkISCSI + `'/></auth>
        </source>
        <target dev='vdb' bus='virtio'/>
      </disk>
      <disk type='network' device='disk'>
        <auth username='admin'><secret type='ceph' usage='` + mkRBD + `'/></auth>
        <source protocol='rbd' name='pool/image'><host name='mon1' port='6789'/></source>
        <target dev='vdc' bus='virtio'/>
      </disk>
      <hostdev mode='subsystem' type='scsi'>
        <source protocol='iscsi' name='iqn.2014-08.com.example:iscsi-pool/1'>
          <host name='10.0.0.2'/>
          <auth username='u'><secret type='iscsi' usage='` + mkHostdev + `'/></auth>
        </source>
      </hostdev>
      <graphics type='vnc' port='5900' passwd='` + mkVNC + `' listen='0.0.0.0'/>
      <graphics type='spice' autoport='yes' passwd='` + mkSpice + `'/>
      <graphics type='rdp' autoport='yes' passwd='` + mkRDP + `'/>
    </devices>
  </domain>
</node>
`

// TestNoSecretInAnyOutput plants a marker in every secret-bearing field of
// every platform and audits live and from a snapshot, in every report
// format, at trace log level: no marker may appear in any report, log,
// error or snapshot.
func TestNoSecretInAnyOutput(t *testing.T) {
	dir := t.TempDir()
	var outputs []string
	run := func(env []string, args ...string) {
		t.Helper()
		r := runHV(t, env, args...)
		if r.code == 2 {
			t.Fatalf("%v: exit 2: %s", args, r.stderr)
		}
		outputs = append(outputs, r.stdout, r.stderr)
	}
	// cklb writes one checklist per asset into a directory, and only for
	// platforms DISA publishes a STIG for (not KVM).
	withFormats := func(prefix string, args ...string) []string {
		for _, f := range reportFormats {
			out := filepath.Join(dir, prefix+"."+f)
			if f == "cklb" {
				if strings.HasPrefix(prefix, "kvm") {
					continue
				}
				if err := os.MkdirAll(out, 0o750); err != nil {
					t.Fatal(err)
				}
			}
			args = append(args, "--format", f, "--output", out)
		}
		return append(args, "--log-level", "trace")
	}

	// libvirt: the domain above, and a host root whose qemu.conf and
	// daemon configuration hold markers in every syntax, and a running
	// guest whose command line holds one.
	kvmRan := false
	if err := libvirt.New().Available(); err != nil && os.Getenv("HVAUDIT_REQUIRE_LIBVIRT") == "" {
		t.Log("libvirt0 not installed: the libvirt part is left out (HVAUDIT_REQUIRE_LIBVIRT=1 makes this a failure)")
	} else {
		node := filepath.Join(dir, "node.xml")
		writeText(t, dir, "node.xml", secretNode, 0o644)
		root := copyDir(t, "../collectors/libvirt/testdata/hostroot", filepath.Join(dir, "hostroot"))
		writeText(t, filepath.Join(root, "etc/libvirt"), "qemu.conf",
			"vnc_password = \"\"\"first line\n"+mkConfTail+"\"\"\"\nspice_password = '"+mkConfVNC+"'\nsasl_secret = [ \""+mkConfList+"\" ]\n", 0o600)
		writeText(t, filepath.Join(root, "etc/libvirt"), "libvirtd-listen.conf", "listen_tcp = 1\nauth_tcp = \"none\"\nsasl_password = \""+mkDaemon+"\"\n", 0o600)
		writeText(t, filepath.Join(root, "run/libvirt/qemu"), "hva-secrets.pid", "2100\n", 0o644)
		args := "/usr/bin/qemu-system-x86_64\x00-name\x00guest=hva-secrets\x00-uuid\x006f1c0b7e-0000-4000-8000-0000000000ab\x00-object\x00secret,id=vnc0-secret,data=" + mkQEMUArg +
			"\x00-spice\x00port=5901,password=" + mkQEMUArg + "\x00-vnc\x000.0.0.0:0\x00"
		writeText(t, filepath.Join(root, "proc/2100"), "cmdline", args, 0o644)
		uri := "test://" + node + "?" + libvirt.ReadWriteParam + "=1"
		cfg := writeText(t, dir, "kvm.toml", "[[target]]\nname = \"kvm-secrets\"\nuri = \""+uri+"\"\nhost_root = \""+root+"\"\n", 0o600)
		run(nil, withFormats("kvm-live", "audit", "--config", cfg)...)
		// hvaudit collect has no host-root flag: write the snapshot the way
		// it does, with agent.Collect and agent.WriteSnapshot.
		snap := filepath.Join(dir, "kvm-snapshot.json")
		sn, err := agent.Collect(context.Background(), collectors.Target{Name: "kvm-secrets", URI: uri, HostRoot: root, Timeout: time.Minute}, nopLogger())
		if err != nil {
			t.Fatal(err)
		}
		if err := agent.WriteSnapshot(snap, sn, io.Discard); err != nil {
			t.Fatal(err)
		}
		run(nil, withFormats("kvm-snap", "audit", "--snapshot", snap)...)
		kvmRan = true
	}

	// vSphere: the password is the secret; none is stored.
	sim := startSim(t, esxisim.Options{Standalone: true})
	env := []string{"HVAUDIT_PASSWORD=" + sim.Password}
	run(env, withFormats("esxi-live", "audit", "--target", targetURI(sim), "--thumbprint", sim.Thumbprint)...)
	esnap := filepath.Join(dir, "esxi-snapshot.json")
	run(env, "collect", "--target", targetURI(sim), "--thumbprint", sim.Thumbprint, "--output", esnap, "--log-level", "trace")
	run(nil, withFormats("esxi-snap", "audit", "--snapshot", esnap)...)

	// WinRM: the password goes to an endpoint that refuses the
	// connection; no error or log may echo it.
	run([]string{"HVAUDIT_PASSWORD=" + mkWinRM}, withFormats("hyperv-live", "audit", "--target", "hyperv://auditor@127.0.0.1:1")...)

	// Every file written, every stdout and stderr.
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(p, "hostroot") || strings.HasSuffix(p, "node.xml") || strings.HasSuffix(p, "kvm.toml") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err == nil {
			outputs = append(outputs, p+"\n"+string(b))
		}
		return nil
	})
	markers := []string{mkVNC, mkSpice, mkRDP, mkCookie, mkBacking, mkISCSI, mkRBD, mkHostdev, mkQuery, mkConfVNC, mkConfTail, mkConfList, mkDaemon, mkQEMUArg, mkWinRM, sim.Password}
	for _, o := range outputs {
		for _, m := range markers {
			if i := strings.Index(o, m); i >= 0 {
				name, _, _ := strings.Cut(o, "\n")
				t.Errorf("marker %s in output (%s): …%s…", m, name, o[max(0, i-80):min(len(o), i+40)])
			}
		}
	}
	// The test would see a leak: the outputs hold the objects around the
	// secrets.
	all := strings.Join(outputs, "\n")
	for _, want := range []string{"hva-secrets", "images.example", "kvm-secrets"} {
		if !strings.Contains(all, want) && kvmRan {
			t.Errorf("no output mentions %q: the test would not see a leak there", want)
		}
	}
	t.Logf("%d outputs searched for %d markers", len(outputs), len(markers))
}

// copyDir copies a directory tree, symbolic links included.
func copyDir(t *testing.T, src, dst string) string {
	t.Helper()
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
