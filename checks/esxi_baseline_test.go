package checks

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/collectors/inventory"
	"github.com/hvaudit/hvaudit/configs"
)

// TestESXiRefsVerified: every STIG and SCG id an ESXi check cites is listed
// in configs/baselines/SOURCES-esxi.md, where each was checked against the
// published content (and the retired or misnamed ones are not).
func TestESXiRefsVerified(t *testing.T) {
	src, err := fs.ReadFile(configs.Baselines, "baselines/SOURCES-esxi.md")
	if err != nil {
		t.Fatal(err)
	}
	verified := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\| ([A-Za-z0-9.-]+) \|`).FindAllStringSubmatch(string(src), -1) {
		verified[m[1]] = true
	}
	b, err := LoadBaseline("builtin:default")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range b.Checks() {
		if c.Platform != inventory.PlatformESXi {
			continue
		}
		for _, id := range append(append([]string{}, c.Refs.STIG...), c.Refs.SCG...) {
			n++
			if !verified[id] {
				t.Errorf("%s:%d: %s cites %s, which SOURCES-esxi.md does not list as verified", c.File, c.Line, c.ID, id)
			}
		}
	}
	for _, retired := range []string{"ESXI-80-000161", "VCSA-80-000286", "VCSA-80-000294", "vm-8.encryption", "vm-8.vtpm",
		"esxi-8.supress-shell-warning", "esxi-8.dcui-access", "esxi-8.execinstalledonly-enforce"} {
		if verified[retired] {
			t.Errorf("SOURCES-esxi.md lists %s as verified", retired)
		}
	}
	if n < 150 {
		t.Errorf("only %d references checked: the baseline was not read", n)
	}
}

// esxiCase returns the pass inventory of a shipped case file, to vary.
func esxiCase(t *testing.T, id string) *inventory.Inventory {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(casesDir, "esxi", id+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var cc corpusCase
	if err := json.Unmarshal(data, &cc); err != nil {
		t.Fatal(err)
	}
	return cc.Pass
}

// statusOf evaluates one check of b over inv.
func statusOf(t *testing.T, b *Baseline, id string, inv *inventory.Inventory) findings.Finding {
	t.Helper()
	c, ok := b.Check(id)
	if !ok {
		t.Fatalf("no check %s", id)
	}
	f, ok := evalCase(t, b, nil, c, id, "variant", inv)
	if !ok {
		t.FailNow()
	}
	return f
}

func tailored(t *testing.T, toml string) *Baseline {
	t.Helper()
	b, err := LoadBaseline("builtin:default")
	if err != nil {
		t.Fatal(err)
	}
	if toml != "" {
		p := filepath.Join(t.TempDir(), "tailoring.toml")
		if err := os.WriteFile(p, []byte(toml), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := b.Tailor(p); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// The cases that fooled the checks before issue 10, each with its status now.

func TestFTEncryptionJudgedOnlyWhereFTRuns(t *testing.T) {
	b := tailored(t, "")
	for _, tc := range []struct {
		state, mode string
		want        findings.Status
	}{
		// A VM without fault tolerance used to fail for its (unused) mode.
		{"notConfigured", "disabled", findings.StatusNotApplicable},
		{"disabled", "disabled", findings.StatusNotApplicable},
		{"running", "disabled", findings.StatusFail},
		{"needSecondary", "disabled", findings.StatusFail},
		{"running", "opportunistic", findings.StatusPass},
		{"", "disabled", findings.StatusError}, // state unknown
	} {
		inv := esxiCase(t, "ESXI-VM-MIG-02")
		vm := &inv.VMs[0]
		vm.Migration.FTEncryption = inventory.Ptr(tc.mode)
		if tc.state == "" {
			vm.ESXi = nil
			inv.Gaps = append(inv.Gaps, inventory.Gap{Object: "vm:" + vm.ID, Field: "vm.esxi.fault_tolerance", Reason: "VirtualMachine runtime.faultToleranceState not returned by the server"})
		} else {
			vm.ESXi = &inventory.ESXiVM{FaultTolerance: inventory.Ptr(tc.state)}
		}
		f := statusOf(t, b, "ESXI-VM-MIG-02", inv)
		if f.Status != tc.want {
			t.Errorf("FT %q, mode %s: %s (%s), want %s", tc.state, tc.mode, f.Status, f.Message, tc.want)
		}
		if tc.want == findings.StatusError && !strings.Contains(f.Message, "runtime.faultToleranceState") {
			t.Errorf("unknown FT state: message %q does not say why", f.Message)
		}
	}
}

func TestIsolationSettingsUnsetAreSecure(t *testing.T) {
	b := tailored(t, "")
	for _, id := range []string{"ESXI-VM-ISO-01", "ESXI-VM-ISO-02"} {
		keys := b.Params()[map[string]string{"ESXI-VM-ISO-01": "esxi_vm_clipboard_keys", "ESXI-VM-ISO-02": "esxi_vm_device_keys"}[id]].([]any)
		for _, tc := range []struct {
			name  string
			value string // "" leaves the key unset
			want  findings.Status
		}{
			{"every key unset (a default VM, which used to fail)", "", findings.StatusPass},
			{"every key TRUE", "TRUE", findings.StatusPass},
			{"every key true", "true", findings.StatusPass},
			{"every key FALSE", "FALSE", findings.StatusFail},
		} {
			inv := esxiCase(t, id)
			vm := &inv.VMs[0]
			vm.Settings = map[string]string{"RemoteDisplay.maxConnections": "1"}
			for _, k := range keys {
				if tc.value != "" {
					vm.Settings[k.(string)] = tc.value
				}
			}
			if f := statusOf(t, b, id, inv); f.Status != tc.want {
				t.Errorf("%s, %s: %s, want %s", id, tc.name, f.Status, tc.want)
			}
		}
	}
	// Where the check text says absence is a finding, it still is.
	inv := esxiCase(t, "ESXI-VM-CON-01")
	delete(inv.VMs[0].Settings, "RemoteDisplay.maxConnections")
	if f := statusOf(t, b, "ESXI-VM-CON-01", inv); f.Status != findings.StatusFail {
		t.Errorf("ESXI-VM-CON-01 without RemoteDisplay.maxConnections: %s, want fail (VMCH-80-000195)", f.Status)
	}
}

func TestSNMPFollowsItsCheckText(t *testing.T) {
	notUsed, used := tailored(t, ""), tailored(t, "[params]\nesxi_snmp_used = true\n")
	type snmp struct {
		enabled     bool
		communities int
		targets     []string
		v3          *bool // nil: only esxcli shows it
	}
	for _, tc := range []struct {
		name    string
		used    bool
		s       snmp
		running bool
		want    findings.Status
		msg     string
	}{
		{"disabled", false, snmp{}, false, findings.StatusPass, ""},
		{"disabled, used at this site", true, snmp{}, false, findings.StatusPass, ""},
		// A running snmpd with v3 only used to fail whatever its configuration.
		{"v3 only where SNMP is used: only esxcli can tell", true, snmp{enabled: true}, true, findings.StatusError, "esxcli system snmp get"},
		{"v3 with authentication where SNMP is used", true, snmp{enabled: true, v3: inventory.Ptr(true)}, true, findings.StatusPass, ""},
		{"v3 without authentication", true, snmp{enabled: true, v3: inventory.Ptr(false)}, true, findings.StatusFail, ""},
		{"enabled but not used", false, snmp{enabled: true, v3: inventory.Ptr(true)}, true, findings.StatusFail, ""},
		{"a v1/v2c community where SNMP is used", true, snmp{enabled: true, communities: 1}, true, findings.StatusFail, ""},
		{"a v1/v2c trap target where SNMP is used", true, snmp{enabled: true, targets: []string{"nms01:162"}}, true, findings.StatusFail, ""},
	} {
		b := notUsed
		if tc.used {
			b = used
		}
		inv := esxiCase(t, "ESXI-ACC-06")
		h := &inv.Hosts[0]
		targets := tc.s.targets
		if targets == nil {
			targets = []string{}
		}
		h.ESXi.SNMP = &inventory.SNMP{Enabled: tc.s.enabled, Communities: tc.s.communities, TrapTargets: targets, V3Authenticated: tc.s.v3}
		if tc.s.v3 == nil {
			inv.Gaps = append(inv.Gaps, inventory.Gap{Object: "host:" + h.ID, Field: "host.esxi.snmp.v3_authenticated",
				Reason: "SNMPv3 targets and their authentication are shown only by esxcli (esxcli system snmp get), which hvaudit does not run"})
		}
		h.Services["snmpd"] = inventory.Service{Key: "snmpd", Running: tc.running, Policy: "on"}
		f := statusOf(t, b, "ESXI-ACC-06", inv)
		if f.Status != tc.want || !strings.Contains(f.Message, tc.msg) {
			t.Errorf("%s: %s (%q), want %s mentioning %q", tc.name, f.Status, f.Message, tc.want, tc.msg)
		}
	}
}

func TestAccountUnlockTime(t *testing.T) {
	b := tailored(t, "")
	for unlock, want := range map[int64]findings.Status{0: findings.StatusFail, 300: findings.StatusFail, 899: findings.StatusFail, 900: findings.StatusPass, 1800: findings.StatusPass} {
		inv := esxiCase(t, "ESXI-ACC-09")
		inv.Hosts[0].Options["Security.AccountUnlockTime"] = unlock
		if f := statusOf(t, b, "ESXI-ACC-09", inv); f.Status != want {
			t.Errorf("Security.AccountUnlockTime %d: %s, want %s", unlock, f.Status, want)
		}
	}
}

func TestCertificateIssuerIsJudged(t *testing.T) {
	// A certificate years from expiry from an unapproved CA passed the check
	// that cited ESXI-80-000229; the issuer check now fails it.
	inv := esxiCase(t, "ESXI-CERT-02")
	inv.Hosts[0].Certificate.Issuer = "O=VMware Installer"
	inv.Hosts[0].Certificate.IssuerOrganization = "VMware Installer"
	inv.Hosts[0].Certificate.DaysLeft = 3000
	b := tailored(t, "")
	if f := statusOf(t, b, "ESXI-CERT-01", inv); f.Status != findings.StatusPass {
		t.Errorf("ESXI-CERT-01 (expiry): %s", f.Status)
	}
	if f := statusOf(t, b, "ESXI-CERT-02", inv); f.Status != findings.StatusFail {
		t.Errorf("ESXI-CERT-02 (issuer): %s, want fail", f.Status)
	}
	// The approved issuer is a param.
	b = tailored(t, "[params]\nesxi_certificate_issuer_orgs_allowed = [\"VMware Installer\"]\n")
	if f := statusOf(t, b, "ESXI-CERT-02", inv); f.Status != findings.StatusPass {
		t.Errorf("ESXI-CERT-02 with the issuer approved: %s, want pass", f.Status)
	}
	if c, _ := b.Check("ESXI-CERT-01"); len(c.Refs.STIG) != 0 {
		t.Errorf("ESXI-CERT-01 (expiry) still cites %v", c.Refs.STIG)
	}
}

func TestNTPServersFromTheApprovedList(t *testing.T) {
	inv := esxiCase(t, "ESXI-TIME-01")
	b := tailored(t, "[params]\nesxi_ntp_servers_allowed = [\"ntp1.example.com\"]\n")
	if f := statusOf(t, b, "ESXI-TIME-01", inv); f.Status != findings.StatusFail {
		t.Errorf("ntp2.example.com is not on the approved list: %s, want fail", f.Status)
	}
	b = tailored(t, "[params]\nesxi_ntp_servers_allowed = [\"ntp1.example.com\", \"ntp2.example.com\"]\n")
	if f := statusOf(t, b, "ESXI-TIME-01", inv); f.Status != findings.StatusPass {
		t.Errorf("every server approved: %s, want pass", f.Status)
	}
}

func TestLockdownExceptionsNeedGlobalSettings(t *testing.T) {
	b := tailored(t, "")
	inv := esxiCase(t, "ESXI-ACC-16")
	h := &inv.Hosts[0]
	h.ESXi.LockdownExceptions = nil
	inv.Gaps = append(inv.Gaps, inventory.Gap{Object: "host:" + h.ID, Field: "host.esxi.lockdown_exceptions",
		Reason: "HostAccessManager.QueryLockdownExceptions failed: NoPermission: the audit account needs the Global.Settings privilege"})
	if f := statusOf(t, b, "ESXI-ACC-16", inv); f.Status != findings.StatusError || !strings.Contains(f.Message, "Global.Settings") {
		t.Errorf("under Read-Only: %s %q, want error naming Global.Settings", f.Status, f.Message)
	}
	inv = esxiCase(t, "ESXI-ACC-16")
	inv.Hosts[0].ESXi.VCenterManaged = inventory.Ptr(false)
	inv.Hosts[0].ESXi.LockdownExceptions = []string{"anyone"}
	if f := statusOf(t, b, "ESXI-ACC-16", inv); f.Status != findings.StatusNotApplicable {
		t.Errorf("host no vCenter manages: %s, want not_applicable", f.Status)
	}
	b = tailored(t, "[params]\nesxi_lockdown_exception_users_allowed = [\"svc-backup\"]\n")
	inv = esxiCase(t, "ESXI-ACC-16")
	inv.Hosts[0].ESXi.LockdownExceptions = []string{"svc-backup"}
	if f := statusOf(t, b, "ESXI-ACC-16", inv); f.Status != findings.StatusPass {
		t.Errorf("approved exception user: %s, want pass", f.Status)
	}
}

func TestESXAdminsGroupOnlyWhereADJoined(t *testing.T) {
	b := tailored(t, "")
	inv := esxiCase(t, "ESXI-ACC-15")
	inv.Hosts[0].ESXi.ADJoined = inventory.Ptr(false)
	inv.Hosts[0].Options["Config.HostAgent.plugins.hostsvc.esxAdminsGroup"] = "ESX Admins"
	if f := statusOf(t, b, "ESXI-ACC-15", inv); f.Status != findings.StatusNotApplicable {
		t.Errorf("host not in AD: %s, want not_applicable", f.Status)
	}
}
