package esxi

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/collectors/esxi/esxisim"
	"github.com/hvaudit/hvaudit/collectors/inventory"
	"github.com/hvaudit/hvaudit/collectors/inventory/inventorytest"
	"github.com/hvaudit/hvaudit/configs"
)

// The facts of the security pass (retrieve_security.go), read from the demo
// estate through the simulator's own managers and govmomi's vSAN simulator.

func TestSecurityFactsOfDemoHosts(t *testing.T) {
	e, err := esxisim.LoadEstate(configs.Demo, "demo/vsphere.toml")
	if err != nil {
		t.Fatal(err)
	}
	// esx-legacy-01 without the managers the simulator lacks: calls to
	// them fault with ManagedObjectNotFound, and properties the demo sets
	// on it stay at the simulator's defaults (not returned).
	for i := range e.Hosts {
		if e.Hosts[i].Name == "esx-legacy-01" {
			e.Hosts[i].AcceptanceLevel, e.Hosts[i].LockdownExceptions = "", nil
			e.Hosts[i].SNMP, e.Hosts[i].StateEncryption = nil, nil
		}
	}
	sim := startEstate(t, e, esxisim.Options{})
	_, inv := fetchNormalize(t, New(Options{}), pinned(sim))

	p1 := inventorytest.Host(t, inv, "esx-prod-01")
	want1 := &inventory.ESXiHost{
		AcceptanceLevel: inventory.Ptr("partner"),
		StateEncryption: &inventory.StateEncryption{ProtectionMode: "tpm", RequireSecureBoot: true},
		ADJoined:        inventory.Ptr(true), VCenterManaged: inventory.Ptr(true),
		LockdownExceptions: []string{},
		SNMP:               &inventory.SNMP{Enabled: false, Communities: 0, TrapTargets: []string{}},
		IPStorage: &inventory.IPStorage{Used: true, VSANInterfaces: []string{"vmk2"}, VSANShared: []string{},
			ISCSIAdapters: []string{}, NFSDatastores: []string{}, ISCSINFSIsolated: inventory.Ptr(true)},
		LogDirPersistent: inventory.Ptr(true),
	}
	if !reflect.DeepEqual(p1.ESXi, want1) {
		t.Errorf("esx-prod-01 ESXi facts\n got %s\nwant %s", js(p1.ESXi), js(want1))
	}
	if p1.Certificate == nil || p1.Certificate.IssuerOrganization != "U.S. Government" {
		t.Errorf("esx-prod-01 certificate issuer %+v", p1.Certificate)
	}

	p2 := inventorytest.Host(t, inv, "esx-prod-02")
	want2 := &inventory.ESXiHost{
		AcceptanceLevel: inventory.Ptr("community"),
		StateEncryption: &inventory.StateEncryption{ProtectionMode: "none"},
		ADJoined:        inventory.Ptr(true), VCenterManaged: inventory.Ptr(true),
		LockdownExceptions: []string{"svc-backup"},
		SNMP:               &inventory.SNMP{Enabled: true, Communities: 1, TrapTargets: []string{"nms01.example.com:162"}},
		IPStorage: &inventory.IPStorage{Used: true, VSANInterfaces: []string{}, VSANShared: []string{},
			ISCSIAdapters: []string{}, NFSDatastores: []string{"nfs-iso"}},
		LogDirPersistent: inventory.Ptr(false),
	}
	if !reflect.DeepEqual(p2.ESXi, want2) {
		t.Errorf("esx-prod-02 ESXi facts\n got %s\nwant %s", js(p2.ESXi), js(want2))
	}
	// What only esxcli shows is absent, and the gap names the command.
	for field, want := range map[string]string{
		"host.esxi.tls_profile":                   "esxcli system tls server get",
		"host.esxi.snmp.v3_authenticated":         "esxcli system snmp get",
		"host.esxi.ip_storage.iscsi_nfs_isolated": "esxcli iscsi networkportal list",
	} {
		if r := inventorytest.Reason(inv.Gaps, "host:"+p2.ID, field); !strings.Contains(r, want) {
			t.Errorf("esx-prod-02 %s gap %q, want it to name %q", field, r, want)
		}
	}

	// A host whose managers the simulator lacks: each fact is a gap with
	// the fault, and the rest of the host is read.
	legacy := inventorytest.Host(t, inv, "esx-legacy-01")
	if legacy.ESXi == nil || legacy.ESXi.AcceptanceLevel != nil || legacy.ESXi.LockdownExceptions != nil || legacy.ESXi.SNMP != nil {
		t.Fatalf("esx-legacy-01 ESXi facts %s", js(legacy.ESXi))
	}
	for field, want := range map[string]string{
		"host.esxi.acceptance_level":    "HostImageConfigGetAcceptance failed: ManagedObjectNotFound",
		"host.esxi.lockdown_exceptions": "QueryLockdownExceptions failed: ManagedObjectNotFound",
		"host.esxi.snmp":                "HostSnmpSystem configuration not returned",
		"host.esxi.state_encryption":    "vSphere API 7.0.3",
	} {
		if r := inventorytest.Reason(inv.Gaps, "host:"+legacy.ID, field); !strings.Contains(r, want) {
			t.Errorf("esx-legacy-01 %s gap %q, want %q", field, r, want)
		}
	}
	if legacy.Patch == nil || legacy.Services == nil {
		t.Errorf("esx-legacy-01 lost its other facts: patch %v services %v", legacy.Patch, legacy.Services)
	}
}

func TestSecurityFactsOfDemoVCenter(t *testing.T) {
	sim := startDemo(t, esxisim.Options{})
	_, inv := fetchNormalize(t, New(Options{}), pinned(sim))

	want := &inventory.ESXiTarget{
		DistributedSwitches: []inventory.DistributedSwitch{{Name: "DVS0", MirrorSessions: []string{},
			DiscoveryProtocol: inventory.Ptr("cdp"), DiscoveryOperation: inventory.Ptr("listen"), HealthChecks: []string{}}},
		VSANClusters: []inventory.VSANCluster{{Name: "DC0_C0", DataAtRestEncryption: inventory.Ptr(false), DataInTransitEncryption: inventory.Ptr(true)}},
	}
	if !reflect.DeepEqual(inv.Target.ESXi, want) {
		t.Errorf("vCenter facts\n got %s\nwant %s", js(inv.Target.ESXi), js(want))
	}
	if r := inventorytest.Reason(inv.Gaps, "target:"+inv.Target.Name, "target.esxi.tls_profile"); !strings.Contains(r, "/api/appliance/tls/profiles/global") {
		t.Errorf("vCenter TLS profile gap %q", r)
	}
	for k, v := range map[string]string{"config.log.level": "info", "VirtualCenter.VimPasswordExpirationInDays": "30", "vpxd.event.syslog.enabled": "false"} {
		if got, ok := inv.Target.Settings[k]; !ok || got != v {
			t.Errorf("vCenter setting %s = %q (present %v), want %q", k, got, ok, v)
		}
	}

	pgs := map[string]*inventory.ESXiNetwork{}
	for _, n := range inv.Networks {
		if n.Kind == "distributed-portgroup" {
			pgs[n.Name] = n.ESXi
		}
	}
	if p := pgs["dvpg-apps"]; p == nil || !reflect.DeepEqual(p.OverridesAllowed, []string{"vlanOverrideAllowed"}) || p.ResetAtDisconnect == nil || !*p.ResetAtDisconnect {
		t.Errorf("dvpg-apps policy %s", js(p))
	}

	ft := map[string]string{}
	for _, v := range inv.VMs {
		if v.ESXi != nil && v.ESXi.FaultTolerance != nil {
			ft[v.Name] = *v.ESXi.FaultTolerance
		}
	}
	if want := map[string]string{"db-01": "running", "web-01": "notConfigured", "web-02": "notConfigured", "app-01": "notConfigured", "jump-01": "notConfigured", "tmpl-rhel9": "notConfigured"}; !reflect.DeepEqual(ft, want) {
		t.Errorf("fault tolerance states %v, want %v", ft, want)
	}
	web := inventorytest.VM(t, inv, "web-01")
	if web.Settings["ethernet0.filter0.name"] != "dvfilter-maclearn" {
		t.Errorf("web-01 dvfilter setting not kept: %v", web.Settings)
	}
}

// TestReadOnlyAuditorLockdownExceptions: under the Read-Only role the
// lockdown exceptions are a gap naming Global.Settings, and nothing else of
// the host or the target is lost.
func TestReadOnlyAuditorLockdownExceptions(t *testing.T) {
	e, err := esxisim.LoadEstate(configs.Demo, "demo/vsphere.toml")
	if err != nil {
		t.Fatal(err)
	}
	e.VCenter.AuditorReadOnly = true
	sim := startEstate(t, e, esxisim.Options{})
	_, inv := fetchNormalize(t, New(Options{}), pinned(sim))
	p1 := inventorytest.Host(t, inv, "esx-prod-01")
	if p1.ESXi.LockdownExceptions != nil {
		t.Fatalf("lockdown exceptions read without Global.Settings: %v", p1.ESXi.LockdownExceptions)
	}
	r := inventorytest.Reason(inv.Gaps, "host:"+p1.ID, "host.esxi.lockdown_exceptions")
	if !strings.Contains(r, "NoPermission") || !strings.Contains(r, "Global.Settings") {
		t.Errorf("gap %q does not name the missing privilege", r)
	}
	if p1.ESXi.AcceptanceLevel == nil || *p1.ESXi.AcceptanceLevel != "partner" {
		t.Errorf("the acceptance level (Read-Only suffices) was lost: %v", p1.ESXi.AcceptanceLevel)
	}
}

// TestVSANFaultIsAGap: a vSAN cluster whose vsanHealth endpoint does not
// answer keeps its entry, with the fault as the reason, and the target is
// still read.
func TestVSANFaultIsAGap(t *testing.T) {
	e, err := esxisim.LoadEstate(configs.Demo, "demo/vsphere.toml")
	if err != nil {
		t.Fatal(err)
	}
	e.VSAN = nil // the vsanHealth endpoint is not served
	sim := startEstate(t, e, esxisim.Options{})
	_, inv := fetchNormalize(t, New(Options{}), pinned(sim))
	if inv.Target.ESXi == nil || len(inv.Target.ESXi.VSANClusters) != 1 {
		t.Fatalf("vSAN clusters %s", js(inv.Target.ESXi))
	}
	c := inv.Target.ESXi.VSANClusters[0]
	if c.Name != "DC0_C0" || c.DataAtRestEncryption != nil || c.DataInTransitEncryption != nil {
		t.Errorf("cluster %s", js(c))
	}
	if r := inventorytest.Reason(inv.Gaps, "target:"+inv.Target.Name, "target.esxi.vsan_clusters"); !strings.Contains(r, "cluster DC0_C0: VsanVcClusterConfigSystem.VsanClusterGetConfig failed") {
		t.Errorf("vSAN gap %q", r)
	}
	if len(inv.Hosts) != 3 || len(inv.VMs) != 6 {
		t.Errorf("the rest of the estate was not read: %d hosts, %d VMs", len(inv.Hosts), len(inv.VMs))
	}
}

// TestSNMPCommunitiesNeverStored: community strings are credentials; the
// snapshot keeps how many there are, never what they are.
func TestSNMPCommunitiesNeverStored(t *testing.T) {
	e, err := esxisim.LoadEstate(configs.Demo, "demo/vsphere.toml")
	if err != nil {
		t.Fatal(err)
	}
	const secret = "s3cret-community-7f"
	for i := range e.Hosts {
		if e.Hosts[i].Name == "esx-prod-02" {
			e.Hosts[i].SNMP.Communities = []string{secret, "second-" + secret}
		}
	}
	sim := startEstate(t, e, esxisim.Options{})
	snap, inv := fetchNormalize(t, New(Options{}), pinned(sim))
	b, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), secret) {
		t.Fatal("the snapshot holds an SNMP community string")
	}
	if p2 := inventorytest.Host(t, inv, "esx-prod-02"); p2.ESXi.SNMP == nil || p2.ESXi.SNMP.Communities != 2 {
		t.Errorf("communities not counted: %s", js(p2.ESXi.SNMP))
	}
}

func TestLogDirPersistence(t *testing.T) {
	for _, tc := range []struct {
		dir, scratch string
		want         *bool
	}{
		{"[datastore1] logs", "", inventory.Ptr(true)},
		{"[] /vmfs/volumes/datastore1/logs", "", inventory.Ptr(true)},
		{"[] /scratch/log", "/vmfs/volumes/5f1e-aa/.locker", inventory.Ptr(true)},
		{"[] /scratch/log", "/tmp/scratch", inventory.Ptr(false)},
		{"/var/log", "", inventory.Ptr(false)},
		{"[] /scratch/log", "-", nil}, // scratch location not reported: unknown
		{"", "", nil},
	} {
		n := &normalizer{inv: &inventory.Inventory{}}
		h := &inventory.Host{ID: "h", Options: map[string]any{"Syslog.global.logDir": tc.dir}}
		if tc.scratch != "" && tc.scratch != "-" {
			h.Options["ScratchConfig.CurrentScratchLocation"] = tc.scratch
		}
		e := &inventory.ESXiHost{}
		n.logDir(h, e)
		if !reflect.DeepEqual(e.LogDirPersistent, tc.want) {
			t.Errorf("logDir %q scratch %q: persistent %v, want %v", tc.dir, tc.scratch, js(e.LogDirPersistent), js(tc.want))
		}
		if tc.want == nil && len(n.inv.Gaps) != 1 {
			t.Errorf("logDir %q: unknown without a gap (%v)", tc.dir, n.inv.Gaps)
		}
	}
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
