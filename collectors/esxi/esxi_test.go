package esxi

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hvaudit/hvaudit/collectors"
	"github.com/hvaudit/hvaudit/collectors/esxi/esxisim"
	"github.com/hvaudit/hvaudit/collectors/inventory"
	"github.com/hvaudit/hvaudit/collectors/inventory/inventorytest"
	"github.com/hvaudit/hvaudit/configs"
)

func startDemo(t *testing.T, o esxisim.Options) *esxisim.Sim {
	t.Helper()
	e, err := esxisim.LoadEstate(configs.Demo, "demo/vsphere.toml")
	if err != nil {
		t.Fatal(err)
	}
	return startEstate(t, e, o)
}

func startEstate(t testing.TB, e *esxisim.Estate, o esxisim.Options) *esxisim.Sim {
	t.Helper()
	sim, err := esxisim.Start(context.Background(), e, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	return sim
}

func target(sim *esxisim.Sim, tls collectors.TLSOptions) collectors.Target {
	return collectors.Target{Name: "vc", URI: "vsphere://" + sim.Username + "@" + sim.URL.Host, Password: collectors.NewSecret(sim.Password), TLS: tls, Timeout: time.Minute}
}

func pinned(sim *esxisim.Sim) collectors.Target {
	return target(sim, collectors.TLSOptions{Thumbprint: sim.Thumbprint})
}

// fetchNormalize fetches tg and normalizes what was read twice: as a live
// audit does, from memory, and as an audit of the saved snapshot does,
// from its file form. Both must give the same inventory, in every test.
// The snapshot returned has its Data encoded.
func fetchNormalize(t testing.TB, c *Collector, tg collectors.Target) (*collectors.Snapshot, *inventory.Inventory) {
	t.Helper()
	snap, err := c.Fetch(context.Background(), tg)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Live() == nil || len(snap.Data) != 0 {
		t.Fatalf("a live snapshot should keep its data in memory, unencoded (live %T, %d bytes encoded)", snap.Live(), len(snap.Data))
	}
	inv, err := c.Normalize(snap)
	if err != nil {
		t.Fatal(err)
	}
	// The file form as collect and --save-snapshot write it (streamed),
	// and as it was written before streaming (encoded whole): the same
	// JSON.
	var file bytes.Buffer
	if err := snap.WriteJSON(&file); err != nil {
		t.Fatal(err)
	}
	whole, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	var streamed, encoded any
	if err := json.Unmarshal(file.Bytes(), &streamed); err != nil {
		t.Fatalf("the streamed snapshot is not JSON: %v", err)
	}
	if err := json.Unmarshal(whole, &encoded); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(streamed, encoded) {
		t.Fatalf("the streamed snapshot differs from the encoded one:\nstreamed: %.300s\nencoded:  %.300s", file.Bytes(), whole)
	}
	saved, err := collectors.DecodeSnapshot(file.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	offline, err := c.Normalize(saved)
	if err != nil {
		t.Fatal(err)
	}
	if live, off := mustJSON(t, inv), mustJSON(t, offline); live != off {
		t.Fatalf("the live data and its saved snapshot normalize differently:\nlive:  %.400s\nsaved: %.400s", live, off)
	}
	return snap, inv
}

// TestDemoEstateInventory checks the facts the baseline relies on, object by
// object, as the simulator serves them.
func TestDemoEstateInventory(t *testing.T) {
	e, err := esxisim.LoadEstate(configs.Demo, "demo/vsphere.toml")
	if err != nil {
		t.Fatal(err)
	}
	// app-01 with logging left at the simulator's default, which it does
	// not return: the value is unread, with the reason.
	for i := range e.VMs {
		if e.VMs[i].Name == "app-01" {
			e.VMs[i].Logging = nil
		}
	}
	sim := startEstate(t, e, esxisim.Options{})
	_, inv := fetchNormalize(t, New(Options{}), pinned(sim))

	if inv.Target.Kind == nil || *inv.Target.Kind != "vcenter" || inv.Target.Patch == nil || inv.Target.Patch.Product != "vcenter" {
		t.Errorf("target %+v", inv.Target)
	}
	if len(inv.Target.KeyProviders) != 1 || inv.Target.KeyProviders[0].ID != "kp-demo" || !inv.Target.KeyProviders[0].Default {
		t.Errorf("key providers %+v", inv.Target.KeyProviders)
	}
	if tr := inv.Target.Transport; tr == nil || !tr.TLSVerified || tr.Method != "thumbprint" {
		t.Errorf("transport %+v", tr)
	}

	p1 := inventorytest.Host(t, inv, "esx-prod-01")
	if p1.Patch == nil || p1.Patch.ReleaseLine != "8.0.3" || p1.Patch.Build != "25595708" {
		t.Errorf("esx-prod-01 patch %+v", p1.Patch)
	}
	if p1.Management == nil || len(p1.Management.SharedServices) != 0 || !reflect.DeepEqual(p1.Management.MigrationNetStacks, []string{"vmotion"}) {
		t.Errorf("esx-prod-01 management %+v", p1.Management)
	}
	if p1.LockdownMode == nil || *p1.LockdownMode != "lockdownNormal" || p1.SecureBoot == nil || !*p1.SecureBoot {
		t.Errorf("esx-prod-01 lockdown %v secure boot %v", p1.LockdownMode, p1.SecureBoot)
	}
	if p1.Options["Mem.ShareForceSalting"] != int64(2) || p1.Options["VMkernel.Boot.execInstalledOnly"] != true {
		t.Errorf("esx-prod-01 options typed wrong: %#v %#v", p1.Options["Mem.ShareForceSalting"], p1.Options["VMkernel.Boot.execInstalledOnly"])
	}
	if p1.Certificate == nil || p1.Certificate.DaysLeft < 298 || p1.Certificate.DaysLeft > 300 {
		t.Errorf("esx-prod-01 certificate %+v", p1.Certificate)
	}
	if p1.Firewall == nil || !p1.Firewall.IncomingBlocked || len(p1.Firewall.OpenRulesets) != 0 {
		t.Errorf("esx-prod-01 firewall %+v", p1.Firewall)
	}

	p2 := inventorytest.Host(t, inv, "esx-prod-02")
	if p2.Management == nil || !reflect.DeepEqual(p2.Management.Interfaces, []string{"vmk0"}) ||
		!contains(p2.Management.SharedServices, "vmotion") || !contains(p2.Management.SharedServices, "ft-logging") {
		t.Errorf("esx-prod-02 management %+v", p2.Management)
	}
	if s, ok := p2.Services["TSM-SSH"]; !ok || !s.Running || s.Policy != "on" {
		t.Errorf("esx-prod-02 SSH %+v", s)
	}
	if s, ok := p2.Services["slpd"]; !ok || !s.Running {
		t.Errorf("esx-prod-02 slpd %+v", s)
	}

	// What the simulator does not return is absent, with the reason.
	legacy := inventorytest.Host(t, inv, "esx-legacy-01")
	if legacy.SecureBoot != nil {
		t.Errorf("esx-legacy-01 secure boot should be unread, got %v", *legacy.SecureBoot)
	}
	if r := inventorytest.Reason(inv.Gaps, "host:"+legacy.ID, "host.secure_boot"); !strings.Contains(r, "capability.uefiSecureBoot") {
		t.Errorf("esx-legacy-01 secure boot gap %q", r)
	}

	db := inventorytest.VM(t, inv, "db-01")
	if db.Encryption == nil || db.Encryption.HomeEncrypted == nil || !*db.Encryption.HomeEncrypted ||
		db.Encryption.KeyProvider == nil || *db.Encryption.KeyProvider != "kp-demo" {
		t.Errorf("db-01 encryption %+v", db.Encryption)
	}
	if db.Migration == nil || *db.Migration.Encryption != "required" || *db.Migration.FTEncryption != "required" {
		t.Errorf("db-01 migration %+v", db.Migration)
	}
	if db.VTPM == nil || !*db.VTPM || db.LoggingEnabled == nil || !*db.LoggingEnabled {
		t.Errorf("db-01 vtpm %v logging %v", db.VTPM, db.LoggingEnabled)
	}
	web := inventorytest.VM(t, inv, "web-01")
	if web.Migration == nil || *web.Migration.Encryption != "disabled" || web.Encryption == nil || *web.Encryption.HomeEncrypted {
		t.Errorf("web-01 migration %+v encryption %+v", web.Migration, web.Encryption)
	}
	if web.Devices == nil || web.Devices.Floppies != 1 || web.Devices.SerialPorts != 1 {
		t.Errorf("web-01 devices %+v", web.Devices)
	}
	jump := inventorytest.VM(t, inv, "jump-01")
	if len(jump.NICs) != 1 || jump.NICs[0].OnManagementNetwork == nil || !*jump.NICs[0].OnManagementNetwork {
		t.Errorf("jump-01 NICs %+v", jump.NICs)
	}
	if len(db.NICs) != 1 || db.NICs[0].OnManagementNetwork == nil || *db.NICs[0].OnManagementNetwork {
		t.Errorf("db-01 NICs %+v", db.NICs)
	}
	app := inventorytest.VM(t, inv, "app-01")
	if app.OldestSnapshotDays == nil || *app.OldestSnapshotDays != 200 || len(app.Snapshots) != 2 {
		t.Errorf("app-01 snapshots %v %+v", app.OldestSnapshotDays, app.Snapshots)
	}
	if app.LoggingEnabled != nil || !strings.Contains(inventorytest.Reason(inv.Gaps, "vm:"+app.ID, "vm.logging_enabled"), "enableLogging") {
		t.Errorf("app-01 logging should be unread with its reason: %v", app.LoggingEnabled)
	}
	tmpl := inventorytest.VM(t, inv, "tmpl-rhel9")
	if tmpl.Template == nil || !*tmpl.Template {
		t.Errorf("tmpl-rhel9 template %v", tmpl.Template)
	}
	// VMware Tools: the declared release, packed and decoded back; a VM
	// without Tools (guest.toolsVersion "0") has no patch level.
	if web.Patch == nil || web.Patch.Version != "12.3.0" || web.Patch.FullName != "VMware Tools 12.3.0 (guest.toolsVersion 12384)" {
		t.Errorf("web-01 Tools %+v", web.Patch)
	}
	if tmpl.Patch != nil {
		t.Errorf("tmpl-rhel9 has no Tools, got %+v", tmpl.Patch)
	}
}

// TestStandaloneHost: a single ESXi host has no vCenter facts, and says so.
func TestStandaloneHost(t *testing.T) {
	sim := startDemo(t, esxisim.Options{Standalone: true})
	_, inv := fetchNormalize(t, New(Options{}), pinned(sim))
	if inv.Target.Kind == nil || *inv.Target.Kind != "esxi" || inv.Target.KeyProviders != nil {
		t.Fatalf("target %+v", inv.Target)
	}
	if r := inventorytest.Reason(inv.Gaps, "target:"+inv.Target.Name, "target.key_providers"); !strings.Contains(r, "vCenter feature") {
		t.Errorf("key provider gap %q (gaps %+v)", r, inv.Gaps)
	}
	if len(inv.Hosts) != 1 || inv.Hosts[0].ID != inv.Hosts[0].Name {
		t.Errorf("standalone host ids %+v", inv.Hosts)
	}
}

// TestRoundTripsGrowWithPagesOnly: the SOAP call count depends on pages,
// never on VMs or port groups, so an estate of any size that fits one page
// costs the same apart from the two read methods every host answers on its
// own (image acceptance level, lockdown exceptions), and a smaller page
// costs more calls, not a call per object.
func TestRoundTripsGrowWithPagesOnly(t *testing.T) {
	calls := func(hosts, vms int, page int32) int {
		sim := startEstate(t, esxisim.Scaled(hosts, vms), esxisim.Options{})
		snap, _ := fetchNormalize(t, New(Options{PageSize: page}), pinned(sim))
		return snap.Stats.Calls
	}
	small, large := calls(2, 20, 0), calls(6, 150, 0)
	if perHost := 2; large-small != perHost*(6-2) {
		t.Errorf("round trips: %d (2 hosts, 20 VMs) vs %d (6 hosts, 150 VMs), want exactly %d more for 4 more hosts and none for 130 more VMs",
			small, large, perHost*(6-2))
	}
	paged := calls(6, 150, 50)
	objects := 6 + 150
	if paged <= large || paged >= large+objects/10 {
		t.Errorf("page size 50: %d calls, want a few more than %d (one per extra page), never one per object", paged, large)
	}
	t.Logf("calls: one page %d, page size 50 %d", large, paged)
}

// readMethods are the SOAP methods a collection may send, by name: login
// and logout, views, property reads, and the read methods whose answers are
// no property. Every other method (any Update*, Set*, Change*, Reconfig*,
// and Query* too unless named here) fails TestReadOnlyMethods.
var readMethods = map[string]bool{
	"RetrieveServiceContent": true, "Login": true, "Logout": true,
	"CreateContainerView": true, "DestroyView": true,
	"RetrievePropertiesEx": true, "ContinueRetrievePropertiesEx": true,
	// HostImageConfigManager: the image acceptance level (ESXI-80-000133).
	"HostImageConfigGetAcceptance": true,
	// HostAccessManager: lockdown exception users (ESXI-80-000201).
	"QueryLockdownExceptions": true,
	// vsanHealth VsanVcClusterConfigSystem: vSAN data services (VCSA-80-000196, 000304).
	"VsanClusterGetConfig": true,
}

// TestReadOnlyMethods records every SOAP method the simulator served during
// one collection; each must be a read.
func TestReadOnlyMethods(t *testing.T) {
	sim := startDemo(t, esxisim.Options{})
	var mu sync.Mutex
	var clientSide []string
	c := New(Options{OnCall: func(m string) { mu.Lock(); clientSide = append(clientSide, m); mu.Unlock() }})
	fetchNormalize(t, c, pinned(sim))
	served := sim.Methods()
	if len(served) < 5 {
		t.Fatalf("recorded only %v", served)
	}
	seen := map[string]bool{}
	for _, m := range served {
		seen[m] = true
		if !readMethods[m] {
			t.Errorf("collection called %s, which is not on the read-only list", m)
		}
	}
	// The demo estate answers every read method the collector knows, so
	// each one is exercised here.
	for m := range readMethods {
		if !seen[m] && m != "ContinueRetrievePropertiesEx" {
			t.Errorf("the collection never called %s: the list names a method nothing uses", m)
		}
	}
	if len(clientSide) != len(served) {
		t.Errorf("client counted %d calls, server served %d (%v vs %v)", len(clientSide), len(served), clientSide, served)
	}
}

func TestTLSVerification(t *testing.T) {
	sim := startDemo(t, esxisim.Options{Standalone: true})
	c := New(Options{})
	// Default: the self-signed certificate is refused, and the error says
	// how to pin it.
	_, err := c.Fetch(context.Background(), target(sim, collectors.TLSOptions{}))
	if err == nil || !strings.Contains(err.Error(), "--thumbprint "+sim.Thumbprint) {
		t.Errorf("unverified: %v", err)
	}
	wrong := strings.Repeat("AB:", 31) + "AB"
	_, err = c.Fetch(context.Background(), target(sim, collectors.TLSOptions{Thumbprint: wrong}))
	if err == nil || !strings.Contains(err.Error(), "does not match the pinned thumbprint") || !strings.Contains(err.Error(), sim.Thumbprint) {
		t.Errorf("wrong pin: %v", err)
	}
	snap, err := c.Fetch(context.Background(), target(sim, collectors.TLSOptions{Insecure: true}))
	if err != nil {
		t.Fatal(err)
	}
	if snap.Target.Transport.TLSVerified || snap.Target.Transport.Method != "insecure" {
		t.Errorf("insecure transport recorded as %+v", snap.Target.Transport)
	}
}

func TestBadCredentialsNeverEchoThePassword(t *testing.T) {
	sim := startDemo(t, esxisim.Options{Standalone: true})
	tg := pinned(sim)
	const wrong = "Wrong-Pass-Sentinel-7731"
	tg.Password = collectors.NewSecret(wrong)
	_, err := New(Options{}).Fetch(context.Background(), tg)
	if err == nil || !strings.Contains(err.Error(), "login") {
		t.Fatalf("bad credentials: %v", err)
	}
	if strings.Contains(err.Error(), wrong) || strings.Contains(err.Error(), sim.Password) {
		t.Errorf("error leaks a password: %v", err)
	}
}

// TestSnapshotRoundTrip: a snapshot written to JSON and read back
// normalizes to the same inventory, so `audit --snapshot` sees what a live
// audit saw.
func TestSnapshotRoundTrip(t *testing.T) {
	sim := startDemo(t, esxisim.Options{})
	c := New(Options{})
	snap, live := fetchNormalize(t, c, pinned(sim))
	b, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), sim.Password) {
		t.Fatal("snapshot holds the password")
	}
	back, err := collectors.DecodeSnapshot(b)
	if err != nil {
		t.Fatal(err)
	}
	replayed, err := c.Normalize(back)
	if err != nil {
		t.Fatal(err)
	}
	lj, _ := json.Marshal(live)
	rj, _ := json.Marshal(replayed)
	if string(lj) != string(rj) {
		t.Errorf("inventory from the saved snapshot differs from the live one")
	}
}

// BenchmarkNormalize measures turning a 100-host, 5,000-VM collection into
// the inventory: live, from what Fetch holds in memory, and from the saved
// snapshot's file form, object by object (collection itself is measured
// end to end by make bench).
func BenchmarkNormalize(b *testing.B) {
	sim := startEstate(b, esxisim.Scaled(100, 5000), esxisim.Options{})
	c := New(Options{})
	live, _ := fetchNormalize(b, c, pinned(sim))
	file, err := json.Marshal(live)
	if err != nil {
		b.Fatal(err)
	}
	for name, snap := range map[string]func() *collectors.Snapshot{
		"live": func() *collectors.Snapshot { return live },
		"saved": func() *collectors.Snapshot {
			s, err := collectors.DecodeSnapshot(file)
			if err != nil {
				b.Fatal(err)
			}
			return s
		},
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Normalize(snap()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
