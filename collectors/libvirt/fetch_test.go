//go:build linux && libvirt_dlopen && cgo

package libvirt

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	golibvirt "libvirt.org/go/libvirt"

	"github.com/hvaudit/hvaudit/collectors"
	"github.com/hvaudit/hvaudit/collectors/inventory"
	"github.com/hvaudit/hvaudit/collectors/inventory/inventorytest"
)

// nodeURI is the test-driver URI of testdata/node.xml.
func nodeURI(t *testing.T, query string) string {
	t.Helper()
	p, err := filepath.Abs("testdata/node.xml")
	if err != nil {
		t.Fatal(err)
	}
	return "test://" + p + query
}

// skipWithoutLibrary skips when libvirt's client library is missing from
// this machine, unless HVAUDIT_REQUIRE_LIBVIRT is set (CI), which makes it
// a failure.
func skipWithoutLibrary(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, ErrLibraryMissing) {
		return
	}
	if os.Getenv("HVAUDIT_REQUIRE_LIBVIRT") != "" {
		t.Fatal("libvirt0 is not installed (HVAUDIT_REQUIRE_LIBVIRT is set)")
	}
	t.Skip("libvirt0 is not installed: apt-get install libvirt0 (HVAUDIT_REQUIRE_LIBVIRT=1 makes this a failure)")
}

// fetchNode fetches the test-driver estate and normalizes it after a JSON
// round trip, as `hvaudit collect` + `audit --snapshot` would. It skips
// only when the libvirt client library is missing from this machine.
func fetchNode(t *testing.T, query, hostRoot string) (*collectors.Snapshot, []byte, *inventory.Inventory) {
	t.Helper()
	c := New()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	snap, err := c.Fetch(ctx, collectors.Target{Name: "testnode", URI: nodeURI(t, query), HostRoot: hostRoot})
	skipWithoutLibrary(t, err)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	raw, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	back, err := collectors.DecodeSnapshot(raw)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := c.Normalize(back)
	if err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	return back, raw, inv
}

// Available, asked through the registry as the demo asks it, agrees with
// Fetch: nil exactly when the test driver's estate can be read.
func TestAvailableAgreesWithFetch(t *testing.T) {
	c, err := collectors.ForPlatform(Platform)
	if err != nil {
		t.Fatal(err)
	}
	avail := collectors.Available(c)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, ferr := c.Fetch(ctx, collectors.Target{Name: "testnode", URI: nodeURI(t, "")})
	if !errors.Is(avail, ErrLibraryMissing) && errors.Is(ferr, ErrLibraryMissing) {
		t.Fatalf("Available = %v, yet Fetch failed with %v", avail, ferr)
	}
	skipWithoutLibrary(t, avail)
	if avail != nil || ferr != nil {
		t.Errorf("Available = %v, Fetch err = %v", avail, ferr)
	}
}

func TestFetchTestDriverReadOnly(t *testing.T) {
	snap, raw, inv := fetchNode(t, "", "")
	if snap.Platform != "kvm" || snap.Schema != collectors.SnapshotSchema {
		t.Errorf("platform %q schema %q", snap.Platform, snap.Schema)
	}
	// Every libvirt call is counted: open, type, library and hypervisor
	// version, host name, capabilities, the domain list, the read-only
	// proof, per domain name, UUID, state, persistence, autostart, XML,
	// taint messages and snapshot list (no snapshots here), the liveness
	// check, the network list and per network name, UUID, active,
	// autostart, persistence and XML, the interface list and per
	// interface name, active and XML (closing comes after the count).
	const domains, networks, ifaces = 11, 3, 2
	if want := 1 + 5 + 1 + 1 + 8*domains + 1 + 1 + 6*networks + 1 + 3*ifaces; snap.Stats.Calls != want {
		t.Errorf("Stats.Calls = %d, want %d", snap.Stats.Calls, want)
	}
	// The daemon itself confirmed the connection is read-only: swapping
	// virConnectOpenReadOnly for virConnectOpen fails here.
	var data Data
	if err := json.Unmarshal(snap.Data, &data); err != nil {
		t.Fatal(err)
	}
	if !data.ReadOnly || !strings.Contains(data.ReadOnlyProof, "the daemon refused virDomainGetXMLDesc(VIR_DOMAIN_XML_SECURE)") {
		t.Errorf("read-only not proven: %v %q", data.ReadOnly, data.ReadOnlyProof)
	}
	if inv.Target.Settings["read_only"] != "true" || !inv.Hosts[0].KVM.ReadOnlyConnection {
		t.Errorf("read-only connection not recorded: %v", inv.Target.Settings)
	}
	if snap.Target.Transport.Method != "local" {
		t.Errorf("transport %+v", snap.Target.Transport)
	}
	if strings.Contains(string(raw), "s3cret-vnc-pw") || strings.Contains(string(raw), "passwd=") {
		t.Errorf("snapshot holds a console password")
	}
	if len(inv.VMs) != 11 || len(inv.Networks) != 3 || len(inv.Hosts) != 1 {
		t.Fatalf("got %d VMs, %d networks, %d hosts; want 11, 3, 1", len(inv.VMs), len(inv.Networks), len(inv.Hosts))
	}
	checkExpectations(t, inv, false)

	// Read-only: passwords are unknown and say why, never "not set".
	vm := inventorytest.VM(t, inv, "vnc-open")
	if vm.KVM.Graphics[0].PasswordSet != nil {
		t.Errorf("vnc-open: password_set known on a read-only connection")
	}
	if r := inventorytest.ReasonUnder(inv.Gaps, "vm:"+vm.ID, "vm.console.password_set"); !strings.Contains(r, "read-write connection") {
		t.Errorf("vnc-open: password gap %q", r)
	}
	// Without a host root the test driver has no host files.
	h := inv.Hosts[0]
	if h.ID != "test-node" || h.KVM.QEMU != nil || h.KVM.CPUVulnerabilities != nil {
		t.Errorf("host %q: host files read without host_root", h.ID)
	}
	if r := inventorytest.ReasonUnder(inv.Gaps, "host:test-node", "host.kvm.qemu"); !strings.Contains(r, "host_root") {
		t.Errorf("qemu.conf gap %q", r)
	}
	// The management bridge comes from the interface carrying the gateway.
	if h.Management == nil || strings.Join(h.Management.Interfaces, ",") != "br-mgmt" {
		t.Errorf("management %+v", h.Management)
	}
	if r := inventorytest.ReasonUnder(inv.Gaps, "host:test-node", "host.kvm.launch_security"); !strings.Contains(r, "read-write") {
		t.Errorf("domcaps gap %q", r)
	}
	if m := inventorytest.Network(t, inv, "mgmt-bridge").Management; m == nil || !*m {
		t.Errorf("mgmt-bridge network not on the management network")
	}
	// NAT out of br-mgmt puts the guests' traffic on the management
	// network; the isolated network stays off it.
	if n := inventorytest.Network(t, inv, "guests-nat"); n.Management == nil || !*n.Management || strings.Join(n.KVM.Egress, ",") != "br-mgmt" {
		t.Errorf("NAT network egressing through br-mgmt: management %s egress %v", inventorytest.Show(n.Management), n.KVM.Egress)
	}
	if m := inventorytest.Network(t, inv, "isolated").Management; m == nil || *m {
		t.Errorf("isolated network counted as the management network")
	}
	stopped := inventorytest.VM(t, inv, "stopped-passthrough")
	if inventorytest.Show(stopped.PowerState) != "off" || stopped.Devices.PCIPassthrough != 1 || len(stopped.KVM.Hostdevs) != 1 {
		t.Errorf("stopped-passthrough: power %s devices %+v hostdevs %+v", inventorytest.Show(stopped.PowerState), stopped.Devices, stopped.KVM.Hostdevs)
	}
	sev := inventorytest.VM(t, inv, "sev-guest")
	if ls := sev.KVM.LaunchSecurity; ls == nil || inventorytest.Show(ls.DebugAllowed) != "false" || inventorytest.Show(ls.EncryptedState) != "true" {
		t.Errorf("sev-guest launch security %+v", sev.KVM.LaunchSecurity)
	}
	if inventorytest.Show(sev.Firmware) != "efi" || inventorytest.Show(sev.SecureBoot) != "true" || inventorytest.Show(sev.VTPM) != "true" || !sev.KVM.TPM.StateEncrypted || !sev.KVM.NoSharePages {
		t.Errorf("sev-guest firmware %s secure boot %s vtpm %s tpm %+v", inventorytest.Show(sev.Firmware), inventorytest.Show(sev.SecureBoot), inventorytest.Show(sev.VTPM), sev.KVM.TPM)
	}
}

func TestFetchTestDriverReadWriteWithHostRoot(t *testing.T) {
	_, raw, inv := fetchNode(t, "?"+ReadWriteParam+"=1", "testdata/hostroot")
	for _, secret := range []string{"s3cret-vnc-pw", "hunter2-spice", "passwd="} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("snapshot holds %q", secret)
		}
	}
	if strings.Contains(string(raw), ReadWriteParam) {
		t.Errorf("hvaudit parameter leaked into the recorded URI")
	}
	checkExpectations(t, inv, true)
	h := inv.Hosts[0]
	if h.KVM.ReadOnlyConnection {
		t.Errorf("read-write connection recorded as read-only")
	}
	if h.KVM.QEMU == nil || !h.KVM.QEMU.SpicePasswordSet || h.KVM.QEMU.Settings["spice_password"] != "[REDACTED]" {
		t.Fatalf("qemu.conf from host root: %+v", h.KVM.QEMU)
	}
	if h.Patch == nil || h.Patch.Version != "1:7.2+dfsg-7+deb12u18" || h.Patch.ReleaseLine != "debian-12" || h.Patch.Scheme != "dpkg" {
		t.Errorf("patch %+v", h.Patch)
	}
	// The test driver does not implement domain capabilities: the reason
	// is kept.
	if r := inventorytest.ReasonUnder(inv.Gaps, "host:test-node", "host.kvm.launch_security"); !strings.Contains(r, "not supported") {
		t.Errorf("domcaps gap %q", r)
	}
}

func TestFetchRefusesOtherDrivers(t *testing.T) {
	for _, uri := range []string{"xen:///system", "lxc:///", "vbox+ssh://h/session"} {
		_, err := New().Fetch(context.Background(), collectors.Target{URI: uri})
		if err == nil || !strings.Contains(err.Error(), "not supported yet") {
			t.Errorf("%s: %v", uri, err)
		}
	}
}

func TestFetchBadNodeFile(t *testing.T) {
	_, err := New().Fetch(context.Background(), collectors.Target{URI: "test:///nonexistent/node.xml"})
	skipWithoutLibrary(t, err)
	if err == nil || !strings.Contains(err.Error(), "connecting to test:///nonexistent/node.xml") {
		t.Errorf("err = %v", err)
	}
}

func TestConnectErrorNamesMissingLibrary(t *testing.T) {
	// The exact error the dlopen build returns when libvirt.so.0 is absent.
	err := golibvirt.Error{Code: golibvirt.ERR_INTERNAL_ERROR, Message: "Failed to open libvirt.so.0"}
	if got := connectError(err, "qemu:///system"); !errors.Is(got, ErrLibraryMissing) {
		t.Errorf("connectError = %v", got)
	}
	other := golibvirt.Error{Code: golibvirt.ERR_SYSTEM_ERROR, Message: "Failed to connect socket to '/run/libvirt/libvirt-sock-ro': No such file or directory"}
	got := connectError(other, "qemu:///system")
	if errors.Is(got, ErrLibraryMissing) || !strings.Contains(got.Error(), "libvirt-sock-ro") || strings.Contains(got.Error(), "virError") {
		t.Errorf("connectError = %v", got)
	}
}

func TestFetchHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := New().Fetch(ctx, collectors.Target{URI: nodeURI(t, "")})
	skipWithoutLibrary(t, err)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
