//go:build linux && libvirt_dlopen && cgo && libvirtd

package libvirt

// Tests against a real libvirtd with QEMU (no KVM needed: the domains run
// under TCG). They need root and, on Debian 12, `make deps`; CI runs them
// as root with HVAUDIT_REQUIRE_LIBVIRTD=1. Run alone:
//
//	go test -tags 'libvirt_dlopen libvirtd' -run TestDaemon ./collectors/libvirt/
//
// Each test starts virtlogd and libvirtd itself (after stopping any
// socket-activated libvirt units, started again afterwards), defines
// domains on a read-write connection of its own (the collector's stays
// read-only), and stops both daemons by pid.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	golibvirt "libvirt.org/go/libvirt"

	"github.com/hvaudit/hvaudit/collectors"
	"github.com/hvaudit/hvaudit/collectors/inventory/inventorytest"
	"github.com/hvaudit/hvaudit/collectors/libvirt/libvirtdtest"
)

const daemonDomain = `<domain type='qemu'>
  <name>%s</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    %s
  </devices>
</domain>`

// startLibvirtd starts virtlogd and libvirtd and returns libvirtd and a
// read-write connection for the test's own use.
func startLibvirtd(t *testing.T, args ...string) (*libvirtdtest.Daemon, *golibvirt.Connect) {
	t.Helper()
	libvirtdtest.Require(t)
	libvirtdtest.StopSystemDaemons(t)
	libvirtdtest.Start(t, "virtlogd")
	d := libvirtdtest.Start(t, "libvirtd", args...)
	return d, adminConnect(t)
}

func adminConnect(t *testing.T) *golibvirt.Connect {
	t.Helper()
	var conn *golibvirt.Connect
	var err error
	for i := 0; i < 200; i++ {
		if conn, err = golibvirt.NewConnect("qemu:///system"); err == nil {
			t.Cleanup(func() { _, _ = conn.Close() })
			return conn
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("connecting to qemu:///system: %v", err)
	return nil
}

// define defines a domain and removes it when the test ends.
func define(t *testing.T, conn *golibvirt.Connect, name, devices string, start bool) *golibvirt.Domain {
	t.Helper()
	dom, err := conn.DomainDefineXML(fmt.Sprintf(daemonDomain, name, devices))
	if err != nil {
		t.Fatalf("defining %s: %v", name, err)
	}
	t.Cleanup(func() { undefine(conn, name) })
	if start {
		if err := dom.Create(); err != nil {
			t.Fatalf("starting %s under TCG: %v", name, err)
		}
	}
	return dom
}

// undefine removes a test domain, on a fresh connection when the given
// one died with a restarted daemon, else by its configuration file.
func undefine(conn *golibvirt.Connect, name string) {
	if alive, _ := conn.IsAlive(); !alive {
		if c, err := golibvirt.NewConnect("qemu:///system"); err == nil {
			defer c.Close()
			conn = c
		}
	}
	if d, err := conn.LookupDomainByName(name); err == nil {
		_ = d.Destroy()
		_ = d.UndefineFlags(golibvirt.DOMAIN_UNDEFINE_NVRAM)
		_ = d.Free()
		return
	}
	_ = os.Remove("/etc/libvirt/qemu/" + name + ".xml")
}

func TestDaemonQEMUSystem(t *testing.T) {
	_, admin := startLibvirtd(t)
	define(t, admin, "hvaudit-open-vnc", `<graphics type='vnc' port='-1' autoport='yes' listen='0.0.0.0'/>`, false)
	define(t, admin, "hvaudit-plain", `<graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'/>`, true)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := New()
	snap, err := c.Fetch(ctx, collectors.Target{Name: "local", URI: "qemu:///system"})
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	inv, err := c.Normalize(snap)
	if err != nil {
		t.Fatal(err)
	}
	h := inv.Hosts[0]
	if inventorytest.Show(h.KVM.Driver) != "QEMU" || !h.KVM.ReadOnlyConnection || h.Patch == nil || h.Patch.Product != "qemu" {
		t.Errorf("host %+v patch %+v", h.KVM, h.Patch)
	}
	if !strings.Contains(inv.Target.Settings["read_only_proof"], "the daemon refused") {
		t.Errorf("read-only not proven by the daemon: %q", inv.Target.Settings["read_only_proof"])
	}
	if h.KVM.QEMU == nil || h.KVM.Packages["qemu-system-x86"] == "" || h.KVM.CPUVulnerabilities == nil || h.KVM.QEMUDriverDaemon != "libvirtd" {
		t.Errorf("local host facts not read: qemu driver %q gaps %+v", h.KVM.QEMUDriverDaemon, inv.Gaps)
	}
	open := inventorytest.VM(t, inv, "hvaudit-open-vnc")
	if open.Console == nil || !open.Console.Exposed || inventorytest.Show(open.PowerState) != "off" {
		t.Errorf("open VNC: console %+v power %s", open.Console, inventorytest.Show(open.PowerState))
	}
	plain := inventorytest.VM(t, inv, "hvaudit-plain")
	if plain.Console == nil || plain.Console.Exposed || plain.KVM.Tainting == nil || len(plain.KVM.SecLabels) == 0 {
		t.Errorf("running domain: console %+v tainting %v seclabels %v", plain.Console, plain.KVM.Tainting, plain.KVM.SecLabels)
	}
	// Its process was found and read.
	if rt := plain.KVM.Runtime; rt == nil || rt.PID == 0 || rt.ExecutableDeleted || !strings.Contains(plain.KVM.Graphics[0].Source, "QEMU process") {
		t.Errorf("running domain's process: %+v display %+v", plain.KVM.Runtime, plain.KVM.Graphics)
	}
	// open VNC + plain, each 8 reads, plus the connection-level calls.
	if want := 1 + 5 + 1 + 1 + 2*8 + 1; snap.Stats.Calls < want {
		t.Errorf("calls %d, want at least %d", snap.Stats.Calls, want)
	}
}

// TestDaemonDomainUndefinedMidRead: a domain undefined between listing
// and reading is skipped with a gap, not audited as an empty shell.
func TestDaemonDomainUndefinedMidRead(t *testing.T) {
	_, admin := startLibvirtd(t)
	define(t, admin, "hvaudit-stays", ``, false)
	gone := define(t, admin, "hvaudit-goes", ``, false)
	goneUUID, _ := gone.GetUUIDString()
	c := New()
	c.afterList = func() {
		if err := gone.Undefine(); err != nil {
			t.Errorf("undefining mid-read: %v", err)
		}
	}
	snap, err := c.Fetch(context.Background(), collectors.Target{Name: "local", URI: "qemu:///system"})
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	var d Data
	if err := json.Unmarshal(snap.Data, &d); err != nil {
		t.Fatal(err)
	}
	for _, r := range d.Domains {
		if r.Name == "hvaudit-goes" {
			t.Errorf("undefined domain kept: %+v", r)
		}
	}
	found := false
	for _, g := range snap.Gaps {
		found = found || g.Object == "vm:"+goneUUID && strings.Contains(g.Reason, "undefined between listing and reading")
	}
	if !found {
		t.Errorf("no gap for the undefined domain: %+v", snap.Gaps)
	}
	inv, err := c.Normalize(snap)
	if err != nil {
		t.Fatal(err)
	}
	inventorytest.VM(t, inv, "hvaudit-stays")
}

// TestDaemonRestartedMidAudit: when libvirtd restarts during collection
// the target ends as an error naming the lost connection, promptly.
func TestDaemonRestartedMidAudit(t *testing.T) {
	daemon, admin := startLibvirtd(t)
	for i := 0; i < 3; i++ {
		define(t, admin, fmt.Sprintf("hvaudit-r%d", i), ``, false)
	}
	c := New()
	c.afterList = func() {
		daemon.Stop()
		libvirtdtest.Start(t, "libvirtd")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	_, err := c.Fetch(ctx, collectors.Target{Name: "local", URI: "qemu:///system"})
	if err == nil || !strings.Contains(err.Error(), "lost during collection") {
		t.Fatalf("Fetch after a restart: %v", err)
	}
	if time.Since(start) > 30*time.Second {
		t.Errorf("took %s to notice", time.Since(start))
	}
	// The restarted daemon serves a new audit as usual.
	admin2 := adminConnect(t)
	if _, err := New().Fetch(context.Background(), collectors.Target{Name: "local", URI: "qemu:///system"}); err != nil {
		t.Errorf("Fetch from the restarted daemon: %v", err)
	}
	// Undefine now: the restarted daemon stops before the cleanups of the
	// domains defined through the first one would run.
	for i := 0; i < 3; i++ {
		undefine(admin2, fmt.Sprintf("hvaudit-r%d", i))
	}
}
