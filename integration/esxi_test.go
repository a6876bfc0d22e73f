package integration

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/collectors/esxi/esxisim"
	"github.com/hvaudit/hvaudit/report"
)

// untimed disables the one check whose status follows the calendar (the
// advisory data's age), so the exact counts and score below do not change
// with the day the tests run.
func untimed(t *testing.T) string {
	t.Helper()
	return writeText(t, t.TempDir(), "untimed.toml", "[check.HVA-ADVISORY-01]\nenabled = false\n", 0o644)
}

func scoreOf(run *report.Run) any {
	if run.Summary.Score == nil {
		return nil
	}
	return *run.Summary.Score
}

// statusCounts counts findings by status for one target.
func statusCounts(run *report.Run) map[findings.Status]int {
	out := map[findings.Status]int{}
	for _, f := range run.Findings {
		out[f.Status]++
	}
	return out
}

// TestDemoEstateStatuses audits the demo estate through the binary with the
// certificate pinned and asserts concrete statuses for named objects, the
// exit code and the score.
func TestDemoEstateStatuses(t *testing.T) {
	sim := startSim(t, esxisim.Options{})
	out := filepath.Join(t.TempDir(), "r.json")
	r := runHV(t, nil, "audit", "--target", targetURI(sim), "--password-file", passwordFile(t, sim.Password),
		"--thumbprint", sim.Thumbprint, "--tailoring", untimed(t), "--format", "json", "--output", out)
	// Errors (the estate's deliberate gaps) outrank failures.
	if r.code != 3 {
		t.Fatalf("exit %d, want 3 (incomplete: findings in error); stderr:\n%s", r.code, r.stderr)
	}
	run := readRun(t, out)
	if len(run.Targets) != 1 || run.Targets[0].Status != report.TargetOK {
		t.Fatalf("target not audited: %+v", run.Targets)
	}
	// vMotion encryption: disabled fails, required passes.
	assertStatus(t, run, "ESXI-VM-MIG-01", "web-01", findings.StatusFail)
	assertStatus(t, run, "ESXI-VM-MIG-01", "db-01", findings.StatusPass)
	// Patch level: a host below the fixed build of its release line fails; a
	// current one passes; an end-of-life line fails.
	assertStatus(t, run, "ESXI-PATCH-01", "esx-prod-02", findings.StatusFail)
	assertStatus(t, run, "ESXI-PATCH-01", "esx-prod-01", findings.StatusPass)
	assertStatus(t, run, "ESXI-PATCH-03", "esx-legacy-01", findings.StatusFail)
	// Separation: a vmk carrying management and vMotion fails.
	assertStatus(t, run, "ESXI-NET-01", "esx-prod-02", findings.StatusFail)
	assertStatus(t, run, "ESXI-NET-01", "esx-prod-01", findings.StatusPass)
	// A VM attached to the management portgroup fails; one on an NSX
	// segment of its own passes.
	assertStatus(t, run, "ESXI-NET-04", "jump-01", findings.StatusFail)
	assertStatus(t, run, "ESXI-NET-04", "db-01", findings.StatusPass)
	assertStatus(t, run, "ESXI-NET-04", "web-02", findings.StatusPass)
	// The NSX segment is audited; what only NSX Manager knows is an error
	// that says so.
	if f := assertStatus(t, run, "ESXI-NET-07", "nsx-web-segment", findings.StatusError); !strings.Contains(f.Message, "NSX Manager") {
		t.Errorf("NSX segment security: %q", f.Message)
	}
	// An ESXi 7.0 host under an 8.0 vCenter: the result names the API.
	if f := assertStatus(t, run, "ESXI-INT-01", "esx-legacy-01", findings.StatusError); !strings.Contains(f.Message,
		"HostSystem capability.uefiSecureBoot is not available before vSphere API 8.0.3 (the host is at API 7.0.3)") {
		t.Errorf("secure boot on a 7.0 host: %q", f.Message)
	}
	assertStatus(t, run, "ESXI-INT-01", "esx-prod-01", findings.StatusPass)
	// slpd: running fails, stopped passes, not installed passes.
	assertStatus(t, run, "ESXI-ACC-04", "esx-prod-02", findings.StatusFail)
	assertStatus(t, run, "ESXI-ACC-04", "esx-prod-01", findings.StatusPass)
	assertStatus(t, run, "ESXI-ACC-04", "esx-legacy-01", findings.StatusPass)
	// Salts: two VMs cloned with one salt fail; VMs without one pass.
	assertStatus(t, run, "ESXI-VM-SC-01", "web-01", findings.StatusFail)
	assertStatus(t, run, "ESXI-VM-SC-01", "web-02", findings.StatusFail)
	assertStatus(t, run, "ESXI-VM-SC-01", "db-01", findings.StatusPass)
	// VMware Tools below a VMSA's fixed version fails; a current one passes.
	assertStatus(t, run, "ESXI-VM-PATCH-01", "web-01", findings.StatusFail)
	assertStatus(t, run, "ESXI-VM-PATCH-01", "db-01", findings.StatusPass)
	// Templates are considered but not judged on vMotion.
	assertStatus(t, run, "ESXI-VM-MIG-01", "tmpl-rhel9", findings.StatusNotApplicable)
	// Pinned TLS is verified transport.
	assertStatus(t, run, "HVA-TRANSPORT-01", run.Targets[0].Name, findings.StatusPass)

	// A property the simulator does not return ends as error with the reason.
	var sawGapError bool
	for _, f := range run.Findings {
		if f.Status == findings.StatusError && strings.Contains(f.Message, "not collected") {
			sawGapError = true
			if f.Message == "" || !strings.Contains(f.Message, ":") {
				t.Errorf("%s on %s: error without a reason: %q", f.CheckID, f.Object.Name, f.Message)
			}
		}
		if f.Status != findings.StatusNotApplicable && len(f.Evidence) == 0 {
			t.Errorf("%s on %s (%s) carries no evidence", f.CheckID, f.Object.Name, f.Status)
		}
		for _, e := range f.Evidence {
			if e.Source == "" {
				t.Errorf("%s on %s: evidence %s has no source", f.CheckID, f.Object.Name, e.Field)
			}
		}
	}
	if !sawGapError {
		t.Error("no finding ended as error for a property the simulator does not return")
	}
	// The whole result, pinned: any status that changes shows here.
	want := map[findings.Status]int{findings.StatusPass: 198, findings.StatusFail: 96, findings.StatusError: 9, findings.StatusNotApplicable: 72}
	if got := statusCounts(run); !reflect.DeepEqual(got, want) {
		t.Errorf("status counts %v, want %v", got, want)
	}
	if run.Summary.Score == nil || *run.Summary.Score != 63.39 {
		t.Errorf("demo estate score %v, want 63.39", scoreOf(run))
	}
}

// TestStandaloneESXiSchemaAndInsecure is the command line against a
// standalone simulated ESXi host; the report validates against the shipped
// schema and --insecure shows up as a failing audit-transport finding.
func TestStandaloneESXiSchemaAndInsecure(t *testing.T) {
	sim := startSim(t, esxisim.Options{Standalone: true})
	out := filepath.Join(t.TempDir(), "r.json")
	r := runHV(t, nil, "audit", "--target", "vsphere://"+sim.Username+"@127.0.0.1:"+sim.URL.Port(),
		"--password-file", passwordFile(t, sim.Password), "--insecure", "--format", "json", "--output", out)
	if r.code == 2 {
		t.Fatalf("exit 2: %s", r.stderr)
	}
	run := readRun(t, out) // validates against report/schema
	if run.Targets[0].Status != report.TargetOK {
		t.Fatalf("standalone target failed: %s", run.Targets[0].Error)
	}
	f := assertStatus(t, run, "HVA-TRANSPORT-01", run.Targets[0].Name, findings.StatusFail)
	if f.Area != "audit-transport" {
		t.Errorf("transport finding in area %q", f.Area)
	}
	// Failing findings (the transport among them) and findings in error
	// (values a standalone host does not return): 3 outranks 1.
	if r.code != 3 || statusCounts(run)[findings.StatusError] == 0 || statusCounts(run)[findings.StatusFail] == 0 {
		t.Errorf("exit %d with counts %v, want 3 with failures and errors", r.code, statusCounts(run))
	}
}

// TestTLSVerifiedByDefault: a self-signed simulator without a pin fails with
// a message that says how to pin; a SHA-256 pin works.
func TestTLSVerifiedByDefault(t *testing.T) {
	sim := startSim(t, esxisim.Options{Standalone: true})
	pw := passwordFile(t, sim.Password)
	out := filepath.Join(t.TempDir(), "r.json")
	r := runHV(t, nil, "audit", "--target", targetURI(sim), "--password-file", pw, "--format", "json", "--output", out)
	if r.code != 3 {
		t.Fatalf("unverified TLS: exit %d, want 3; stderr:\n%s", r.code, r.stderr)
	}
	run := readRun(t, out)
	if run.Targets[0].Status != report.TargetError || !strings.Contains(run.Targets[0].Error, "--thumbprint") {
		t.Errorf("target error %q should say how to pin with --thumbprint", run.Targets[0].Error)
	}
	if !strings.Contains(strings.ToUpper(run.Targets[0].Error), strings.ToUpper(sim.Thumbprint)) {
		t.Errorf("target error %q should show the presented thumbprint %s", run.Targets[0].Error, sim.Thumbprint)
	}
	if len(run.Findings) != 0 {
		t.Errorf("a target that could not be collected has %d findings, want none", len(run.Findings))
	}

	r = runHV(t, nil, "audit", "--target", targetURI(sim), "--password-file", pw, "--thumbprint", sim.Thumbprint,
		"--format", "json", "--output", out)
	run = readRun(t, out)
	if run.Targets[0].Status != report.TargetOK {
		t.Fatalf("pinned thumbprint: target error %q (exit %d)", run.Targets[0].Error, r.code)
	}
	assertStatus(t, run, "HVA-TRANSPORT-01", run.Targets[0].Name, findings.StatusPass)

	wrong := strings.Repeat("AB:", 31) + "AB"
	r = runHV(t, nil, "audit", "--target", targetURI(sim), "--password-file", pw, "--thumbprint", wrong,
		"--format", "json", "--output", out)
	if run = readRun(t, out); r.code != 3 || run.Targets[0].Status != report.TargetError {
		t.Errorf("wrong pin: exit %d, target %+v; want exit 3 and a target error", r.code, run.Targets[0])
	}
}

// TestFaultsIsolatePerTarget: unreachable, bad credentials and slower than
// the timeout each end as that target's error with exit 3, while a healthy
// target in the same run is still audited.
func TestFaultsIsolatePerTarget(t *testing.T) {
	good := startSim(t, esxisim.Options{Standalone: true})
	slow := startSim(t, esxisim.Options{Standalone: true, Delay: 3 * time.Second})
	dir := t.TempDir()
	cfg := filepath.Join(dir, "agent.toml")
	pw := passwordFile(t, good.Password)
	badpw := filepath.Join(dir, "bad")
	if err := os.WriteFile(badpw, []byte("not-the-password"), 0o600); err != nil {
		t.Fatal(err)
	}
	slowpw := passwordFile(t, slow.Password)
	conf := `concurrency = 4
timeout = "1s"
[[target]]
name = "good"
uri = "` + targetURI(good) + `"
password_file = "` + pw + `"
thumbprint = "` + good.Thumbprint + `"
timeout = "60s"
[[target]]
name = "unreachable"
uri = "vsphere://auditor@127.0.0.1:1"
password_file = "` + pw + `"
insecure = true
[[target]]
name = "badcreds"
uri = "` + targetURI(good) + `"
password_file = "` + badpw + `"
thumbprint = "` + good.Thumbprint + `"
[[target]]
name = "slow"
uri = "` + targetURI(slow) + `"
password_file = "` + slowpw + `"
thumbprint = "` + slow.Thumbprint + `"
`
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "r.json")
	r := runHV(t, nil, "audit", "--config", cfg, "--format", "json", "--output", out)
	if r.code != 3 {
		t.Fatalf("exit %d, want 3; stderr:\n%s", r.code, r.stderr)
	}
	run := readRun(t, out)
	byName := map[string]report.TargetResult{}
	for _, tr := range run.Targets {
		byName[tr.Name] = tr
	}
	if byName["good"].Status != report.TargetOK {
		t.Errorf("healthy target not audited: %+v", byName["good"])
	}
	for name, want := range map[string]string{"unreachable": "127.0.0.1:1", "badcreds": "login", "slow": "timed out"} {
		tr := byName[name]
		if tr.Status != report.TargetError || !strings.Contains(strings.ToLower(tr.Error), want) {
			t.Errorf("target %s: status %s error %q; want error mentioning %q", name, tr.Status, tr.Error, want)
		}
	}
	var goodFindings int
	for _, f := range run.Findings {
		if f.Target != "good" {
			t.Errorf("finding %s for failed target %s", f.CheckID, f.Target)
		}
		goodFindings++
	}
	if goodFindings == 0 {
		t.Error("the healthy target produced no findings")
	}
	if run.Summary.Complete {
		t.Error("summary says complete although targets failed")
	}
}

// TestNoSecretLeaks audits at debug level, with a failing login too, and
// searches every log line, error and report for the password.
func TestNoSecretLeaks(t *testing.T) {
	sim := startSim(t, esxisim.Options{Standalone: true})
	dir := t.TempDir()
	out := filepath.Join(dir, "r.json")
	snap := filepath.Join(dir, "s.json")
	secret := sim.Password
	var outputs []string
	for _, args := range [][]string{
		{"audit", "--target", targetURI(sim), "--thumbprint", sim.Thumbprint, "--log-level", "trace", "--format", "json", "--output", out, "--format", "table"},
		{"audit", "--target", targetURI(sim), "--thumbprint", sim.Thumbprint, "--log-level", "debug", "--log-format", "json", "--format", "json"},
		{"collect", "--target", targetURI(sim), "--thumbprint", sim.Thumbprint, "--log-level", "debug", "--output", snap},
	} {
		r := runHV(t, []string{"HVAUDIT_PASSWORD=" + secret}, args...)
		outputs = append(outputs, r.stdout, r.stderr)
	}
	// A failing login with a distinctive wrong password must not echo it.
	wrong := "Wr0ng-P@ss-" + strings.Repeat("x", 8)
	r := runHV(t, []string{"HVAUDIT_PASSWORD=" + wrong}, "audit", "--target", targetURI(sim), "--thumbprint", sim.Thumbprint,
		"--log-level", "trace", "--format", "json")
	if r.code != 3 {
		t.Errorf("bad credentials: exit %d, want 3", r.code)
	}
	outputs = append(outputs, r.stdout, r.stderr)
	for _, f := range []string{out, snap} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		outputs = append(outputs, string(b))
	}
	for i, o := range outputs {
		for _, s := range []string{secret, wrong} {
			if strings.Contains(o, s) {
				t.Errorf("output %d contains a password:\n%s", i, o)
			}
		}
	}
	if !strings.Contains(strings.Join(outputs, ""), "login") {
		t.Error("the failing login left no trace in the output; the test would not see a leak")
	}
}
