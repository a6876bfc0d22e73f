//go:build linux && libvirt_dlopen && cgo && libvirtd

package libvirt

// Integration test against a real libvirtd with QEMU (no KVM needed: the
// domains run under TCG). Needs root and, on Debian 12:
//
//	apt-get install -y --no-install-recommends libvirt-daemon-system \
//	    libvirt-daemon-driver-qemu qemu-system-x86
//
// Run: go test -tags 'libvirt_dlopen libvirtd' -run TestDaemon ./collectors/libvirt/
//
// The test starts virtlogd and libvirtd itself, defines domains through
// the API on a read-write connection of its own (the collector's
// connection stays read-only), audits qemu:///system with the host's real
// files, and stops both daemons by pid.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	golibvirt "libvirt.org/go/libvirt"

	"github.com/hvaudit/hvaudit/collectors"
)

// startDaemon runs "name -d --pid-file F" and returns a stop function that
// kills the daemon by the pid it wrote.
func startDaemon(t *testing.T, name string) {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		for _, p := range []string{"/usr/sbin/" + name, "/sbin/" + name} {
			if _, e := os.Stat(p); e == nil {
				bin, err = p, nil
			}
		}
	}
	if err != nil {
		const hint = "apt-get install libvirt-daemon-system libvirt-daemon-driver-qemu qemu-system-x86, or make deps"
		if os.Getenv("HVAUDIT_REQUIRE_LIBVIRT") == "" {
			t.Skipf("%s not installed (%s; HVAUDIT_REQUIRE_LIBVIRT=1 makes this a failure)", name, hint)
		}
		t.Fatalf("%s not installed (%s)", name, hint)
	}
	pidFile := filepath.Join("/run/libvirt", "hvaudit-test-"+name+".pid")
	if out, err := exec.Command(bin, "-d", "--pid-file", pidFile).CombinedOutput(); err != nil {
		t.Fatalf("%s -d: %v\n%s", name, err, out)
	}
	var pid int
	for i := 0; i < 100; i++ {
		if b, err := os.ReadFile(pidFile); err == nil {
			if pid, err = strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if pid <= 0 {
		t.Fatalf("%s wrote no pid to %s", name, pidFile)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(pid, syscall.SIGTERM)
		for i := 0; i < 100 && syscall.Kill(pid, 0) == nil; i++ {
			time.Sleep(50 * time.Millisecond)
		}
		_ = os.Remove(pidFile)
	})
}

const daemonDomain = `<domain type='qemu'>
  <name>%s</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    %s
  </devices>
</domain>`

func TestDaemonQEMUSystem(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to start libvirtd and virtlogd")
	}
	if err := os.MkdirAll("/run/libvirt", 0o755); err != nil {
		t.Fatal(err)
	}
	startDaemon(t, "virtlogd")
	startDaemon(t, "libvirtd")

	// The test's own read-write connection defines the domains.
	var admin *golibvirt.Connect
	var err error
	for i := 0; i < 100; i++ {
		if admin, err = golibvirt.NewConnect("qemu:///system"); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("connecting to qemu:///system: %v", err)
	}
	defer admin.Close()
	defs := map[string]string{
		"hvaudit-open-vnc": `<graphics type='vnc' port='-1' autoport='yes' listen='0.0.0.0'/>`,
		"hvaudit-plain":    `<graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'/>`,
	}
	for name, devs := range defs {
		dom, err := admin.DomainDefineXML(fmt.Sprintf(daemonDomain, name, devs))
		if err != nil {
			t.Fatalf("defining %s: %v", name, err)
		}
		defer func(d *golibvirt.Domain) { _ = d.Destroy(); _ = d.Undefine(); _ = d.Free() }(dom)
		if name == "hvaudit-plain" {
			if err := dom.Create(); err != nil {
				t.Logf("starting %s under TCG failed (%v); auditing it shut off", name, err)
			}
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := New()
	snap, err := c.Fetch(ctx, collectors.Target{Name: "local", URI: "qemu:///system"})
	if errors.Is(err, ErrLibraryMissing) {
		t.Fatal("libvirt0 missing")
	}
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	inv, err := c.Normalize(snap)
	if err != nil {
		t.Fatal(err)
	}
	h := inv.Hosts[0]
	if strp(h.KVM.Driver) != "QEMU" || !h.KVM.ReadOnlyConnection || h.Patch == nil || h.Patch.Product != "qemu" {
		t.Errorf("host %+v patch %+v", h.KVM, h.Patch)
	}
	if h.KVM.QEMU == nil || h.KVM.Packages["qemu-system-x86"] == "" || h.KVM.CPUVulnerabilities == nil {
		t.Errorf("local host files not read: gaps %+v", inv.Gaps)
	}
	open := vmByName(t, inv, "hvaudit-open-vnc")
	if open.Console == nil || !open.Console.Exposed || strp(open.PowerState) != "off" {
		t.Errorf("open VNC: console %+v power %s", open.Console, strp(open.PowerState))
	}
	plain := vmByName(t, inv, "hvaudit-plain")
	if plain.Console == nil || plain.Console.Exposed {
		t.Errorf("loopback VNC: console %+v", plain.Console)
	}
	if strp(plain.PowerState) == "on" && (plain.KVM.Tainting == nil || len(plain.KVM.SecLabels) == 0) {
		t.Errorf("running domain: tainting %v seclabels %v", plain.KVM.Tainting, plain.KVM.SecLabels)
	}
	if snap.Stats.Calls < 15 {
		t.Errorf("calls %d", snap.Stats.Calls)
	}
}
