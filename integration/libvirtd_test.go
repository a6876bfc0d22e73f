//go:build linux && libvirt_dlopen && cgo && libvirtd

package integration

// TestLibvirtdRuntimeTruth audits a real libvirtd and real QEMU guests
// (TCG, no KVM needed) through the binary and asserts each case of "judge
// what runs, not what a file says": none of them may pass. It needs root
// (CI sets HVAUDIT_REQUIRE_LIBVIRTD=1); it stops socket-activated libvirt
// units and starts them again, and restores /etc/libvirt/qemu.conf.

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	golibvirt "libvirt.org/go/libvirt"

	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/collectors/libvirt/libvirtdtest"
	"github.com/hvaudit/hvaudit/report"
)

const qemuConfPath = "/etc/libvirt/qemu.conf"

// guest is a test domain: its devices (and os element), and whether it runs.
type guest struct {
	name, os, devices, extra string
	start                    bool
}

func (g guest) xml() string {
	osEl := g.os
	if osEl == "" {
		osEl = `<os><type arch='x86_64' machine='pc'>hvm</type></os>`
	}
	return fmt.Sprintf(`<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>%s%s<devices>%s</devices></domain>`,
		g.name, osEl, g.extra, g.devices)
}

func TestLibvirtdRuntimeTruth(t *testing.T) {
	libvirtdtest.Require(t)
	ovmf := true
	if _, err := os.Stat("/usr/share/OVMF/OVMF_CODE_4M.ms.fd"); err != nil {
		if os.Getenv("HVAUDIT_REQUIRE_OVMF") != "" {
			t.Fatal("ovmf not installed (make deps)")
		}
		ovmf = false
		t.Log("ovmf not installed: the Secure Boot guests are left out (HVAUDIT_REQUIRE_OVMF=1 makes this a failure)")
	}
	libvirtdtest.StopSystemDaemons(t)
	libvirtdtest.KeepFile(t, qemuConfPath)
	tmp := t.TempDir()

	// qemu.conf as the daemon reads it at start: guests as root, no
	// sandbox, guest memory in core dumps.
	libvirtdtest.WriteFile(t, qemuConfPath, "user = \"root\"\ngroup = \"root\"\nseccomp_sandbox = 0\ndump_guest_core = 1\n", 0o600)
	// libvirtd with --listen and a configuration given with -f: plain TCP,
	// no authentication, on 127.0.0.1 and a free port.
	port := libvirtdtest.FreePort(t)
	conf := filepath.Join(tmp, "libvirtd-listen.conf")
	libvirtdtest.WriteFile(t, conf, fmt.Sprintf("listen_tls = 0\nlisten_tcp = 1\ntcp_port = \"%d\"\nlisten_addr = \"127.0.0.1\"\nauth_tcp = \"none\"\n", port), 0o600)
	libvirtdtest.Start(t, "virtlogd")
	libvirtdtest.Start(t, "libvirtd", "--listen", "-f", conf)
	admin := connectRW(t)

	// A QEMU binary that a "package upgrade" will replace under a running guest.
	emuDir, err := os.MkdirTemp("/var/lib", "hvaudit-test-emu-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(emuDir) })
	// QEMU finds its modules and data relative to its own directory
	// (DIR/bin → DIR/lib/…/qemu, DIR/share/qemu): link them there.
	emulator := filepath.Join(emuDir, "bin", "qemu-system-x86_64")
	for _, l := range [][2]string{{"/usr/lib/x86_64-linux-gnu/qemu", "lib/x86_64-linux-gnu/qemu"}, {"/usr/share", "share"}} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(emuDir, l[1])), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(l[0], filepath.Join(emuDir, l[1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(emulator), 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, libvirtdtest.Binary("qemu-system-x86_64"), emulator)

	guests := []guest{
		{name: "hva-vnc-open", devices: `<graphics type='vnc' port='-1' autoport='yes' listen='0.0.0.0'/>`, start: true},
		{name: "hva-stopped", devices: `<graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'/>`},
		{name: "hva-shmem", devices: `<shmem name='hvaudit-shm'><model type='ivshmem-plain'/><size unit='M'>1</size></shmem>`},
		{name: "hva-sec-dynamic", extra: `<seclabel type='dynamic' model='dac' relabel='yes'/>`, start: true},
		{name: "hva-sec-none", extra: `<seclabel type='none'/>`, start: true},
		{name: "hva-sec-absent", start: true},
		{name: "hva-old-binary", devices: `<emulator>` + emulator + `</emulator>`, start: true},
	}
	if ovmf {
		guests = append(guests,
			guest{name: "hva-efi-auto", os: `<os firmware='efi'><type arch='x86_64' machine='q35'>hvm</type></os>`, extra: `<features><acpi/><smm state='on'/></features>`, start: true},
			guest{name: "hva-efi-nokeys", os: `<os><type arch='x86_64' machine='q35'>hvm</type><loader readonly='yes' secure='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.secboot.fd</loader><nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'/></os>`, extra: `<features><acpi/><smm state='on'/></features>`},
			guest{name: "hva-efi-smm-only", os: `<os><type arch='x86_64' machine='q35'>hvm</type><loader readonly='yes' secure='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader><nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'/></os>`, extra: `<features><acpi/><smm state='on'/></features>`},
		)
	}
	for _, g := range guests {
		dom, err := admin.DomainDefineXML(g.xml())
		if err != nil {
			t.Fatalf("defining %s: %v", g.name, err)
		}
		name := g.name
		t.Cleanup(func() {
			if d, err := admin.LookupDomainByName(name); err == nil {
				_ = d.Destroy()
				_ = d.UndefineFlags(golibvirt.DOMAIN_UNDEFINE_NVRAM)
				_ = d.Free()
			}
		})
		if g.start {
			if err := dom.Create(); err != nil {
				t.Fatalf("starting %s under TCG: %v", g.name, err)
			}
		}
		_ = dom.Free()
	}
	// The upgrade: the running guest's binary goes away.
	if err := os.Remove(emulator); err != nil {
		t.Fatal(err)
	}
	// qemu.conf edited after the daemon started: consoles get a password
	// and TLS, guests no longer root, the sandbox and core dump defaults
	// return. The running guests got none of it.
	time.Sleep(1100 * time.Millisecond) // a later mtime than the daemon's start, at one-second resolution
	libvirtdtest.WriteFile(t, qemuConfPath, "vnc_password = \"hvaudit-not-loaded\"\nvnc_tls = 1\n", 0o600)

	out := filepath.Join(tmp, "report.json")
	r := runHV(t, nil, "audit", "--target", "qemu:///system", "--format", "json", "--output", out, "--log-level", "debug")
	if r.code != 1 && r.code != 3 {
		t.Fatalf("audit: exit %d\n%s", r.code, r.stderr)
	}
	run := readRun(t, out)
	if len(run.Targets) != 1 || run.Targets[0].Status != report.TargetOK {
		t.Fatalf("target not audited: %+v", run.Targets)
	}
	if strings.Contains(r.stderr+r.stdout, "hvaudit-not-loaded") || strings.Contains(mustRead(t, out), "hvaudit-not-loaded") {
		t.Error("the qemu.conf password reached an output")
	}
	f := findingIndex(run)
	expect := func(check, object string, want findings.Status, msg string) findings.Finding {
		t.Helper()
		got, ok := f[check+"/"+object]
		if !ok {
			t.Errorf("%s on %s: no finding", check, object)
			return findings.Finding{}
		}
		if got.Status != want || msg != "" && !strings.Contains(got.Message, msg) {
			t.Errorf("%s on %s: %s (%s), want %s with %q", check, object, got.Status, got.Message, want, msg)
		}
		return got
	}
	evidence := func(fd findings.Finding, field string) string {
		for _, e := range fd.Evidence {
			if e.Field == field {
				return fmt.Sprint(e.Observed)
			}
		}
		return ""
	}

	// Consoles: VNC on 0.0.0.0 without password or TLS, whatever
	// qemu.conf says now; the evidence is the QEMU process.
	for _, c := range []string{"KVM-CON-01", "KVM-CON-02", "KVM-CON-05"} {
		fd := expect(c, "hva-vnc-open", findings.StatusFail, "")
		if src := evidence(fd, "vm.kvm.graphics.map(g, g.source)"); !strings.Contains(src, "QEMU process") {
			t.Errorf("%s cites %q, not the QEMU process", c, src)
		}
	}
	// Host isolation: the running guest still runs as root, unsandboxed,
	// with dump-guest-core=on; a stopped guest's facts are errors, as
	// qemu.conf changed after the daemon read it.
	for _, c := range []string{"KVM-ISO-04", "KVM-ISO-05", "KVM-ISO-09"} {
		fd := expect(c, "hva-vnc-open", findings.StatusFail, "")
		if src := evidence(fd, "vm.kvm.effective_source"); !strings.Contains(src, "QEMU process") {
			t.Errorf("%s cites %q, not the QEMU process", c, src)
		}
		expect(c, "hva-stopped", findings.StatusError, "changed at")
	}
	// The daemon: --listen with -f, auth_tcp none, a TCP listener.
	host := ""
	for k, v := range f {
		if strings.HasPrefix(k, "KVM-ACC-01/") {
			host, _ = strings.CutPrefix(k, "KVM-ACC-01/")
			_ = v
		}
	}
	acc := expect("KVM-ACC-01", host, findings.StatusFail, "")
	if l := evidence(acc, "host.kvm.daemons.map(d, d.listeners)"); !strings.Contains(l, fmt.Sprintf("127.0.0.1:%d", port)) {
		t.Errorf("listeners %s, want 127.0.0.1:%d", l, port)
	}
	if p := evidence(acc, "host.kvm.daemons.map(d, d.path)"); !strings.Contains(p, conf) {
		t.Errorf("daemon config %s, want %s", p, conf)
	}
	expect("KVM-ACC-02", host, findings.StatusFail, "")
	// Host-wide qemu.conf facts are errors too: the file is not what runs.
	expect("KVM-CON-03", host, findings.StatusError, "changed at")
	// Logging: with the kernel's audit off, libvirt's records are lost.
	log := f["KVM-LOG-01/"+host]
	if evidence(log, "host.kvm.kernel_audit_enabled") == "false" && log.Status != findings.StatusFail {
		t.Errorf("KVM-LOG-01 with kernel audit off: %s", log.Status)
	}
	// Seclabels: on this host (no SELinux, no AppArmor) dynamic, none and
	// nothing all run with DAC only: one verdict, and not pass.
	sec := expect("KVM-ISO-03", "hva-sec-dynamic", findings.StatusFail, "")
	for _, g := range []string{"hva-sec-none", "hva-sec-absent", "hva-vnc-open"} {
		if got := f["KVM-ISO-03/"+g]; got.Status != sec.Status {
			t.Errorf("KVM-ISO-03 on %s: %s, on hva-sec-dynamic: %s", g, got.Status, sec.Status)
		}
	}
	expect("KVM-ISO-14", "hva-shmem", findings.StatusFail, "")
	expect("KVM-ENC-01", "hva-vnc-open", findings.StatusNotApplicable, "")
	// A guest started before its QEMU binary was replaced.
	expect("KVM-PATCH-05", "hva-old-binary", findings.StatusFail, "")
	expect("KVM-PATCH-05", "hva-vnc-open", findings.StatusPass, "")
	if ovmf {
		// libvirt chose the enrolled-keys firmware for the running guest.
		expect("KVM-ENC-07", "hva-efi-auto", findings.StatusPass, "")
		// Secure Boot image with an empty variable store, and secure='yes'
		// on an image without Secure Boot.
		expect("KVM-ENC-07", "hva-efi-nokeys", findings.StatusFail, "")
		expect("KVM-ENC-07", "hva-efi-smm-only", findings.StatusFail, "")
	}
}

// findingIndex maps "CHECK/object name" to the finding.
func findingIndex(run *report.Run) map[string]findings.Finding {
	out := map[string]findings.Finding{}
	for _, f := range run.Findings {
		out[f.CheckID+"/"+f.Object.Name] = f
	}
	return out
}

func connectRW(t *testing.T) *golibvirt.Connect {
	t.Helper()
	var err error
	for i := 0; i < 400; i++ {
		var c *golibvirt.Connect
		if c, err = golibvirt.NewConnect("qemu:///system"); err == nil {
			t.Cleanup(func() { _, _ = c.Close() })
			return c
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("connecting to qemu:///system: %v", err)
	return nil
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
