package integration

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/collectors/esxi/esxisim"
	"github.com/hvaudit/hvaudit/collectors/libvirt"
)

// A change window: audit only what the change touched, record the scope,
// score only it, and compare with the full audit from before.
func TestChangeWindowAudit(t *testing.T) {
	sim := startSim(t, esxisim.Options{})
	dir := t.TempDir()
	args := []string{"audit", "--target", targetURI(sim), "--password-file", passwordFile(t, sim.Password), "--thumbprint", sim.Thumbprint}
	// Before the change: a full audit with vMotion encryption not judged.
	drop := writeText(t, dir, "drop.toml", "[check.ESXI-VM-MIG-01]\nenabled = false\n", 0o600)
	before := filepath.Join(dir, "before.json")
	if r := runHV(t, nil, append(args, "--tailoring", drop, "--format", "json", "--output", before)...); r.code == 2 {
		t.Fatalf("before: %s", r.stderr)
	}
	// After it: only that check, only the web tier.
	after := filepath.Join(dir, "after.json")
	// A waiver of a check outside the scope is not "unused": the narrowed
	// run cannot tell. An expired one still is.
	waivers := writeText(t, dir, "w.toml", `[[waiver]]
check = "ESXI-NET-01"
justification = "shared vmk until the re-cabling"
expires = 2099-12-31T00:00:00Z

[[waiver]]
check = "ESXI-ACC-01"
justification = "lapsed"
expires = 2020-01-01T00:00:00Z
`, 0o600)
	r := runHV(t, nil, append(args, "--check", "esxi-vm-mig-01", "--object", "web-*", "--waivers", waivers, "--format", "json", "--output", after, "--format", "table")...)
	if r.code != 1 {
		t.Fatalf("narrowed audit: exit %d, want 1 (web-01 fails); %s", r.code, r.stderr)
	}
	run := readRun(t, after)
	if s := run.Run.Scope; s == nil || !slices.Equal(s.Checks, []string{"esxi-vm-mig-01"}) || !slices.Equal(s.Objects, []string{"web-*"}) || s.Areas != nil {
		t.Errorf("run.scope = %+v", run.Run.Scope)
	}
	var got []string
	for _, f := range run.Findings {
		got = append(got, f.CheckID+"@"+f.Object.Name+"="+string(f.Status))
	}
	if want := []string{"ESXI-VM-MIG-01@web-01=fail", "ESXI-VM-MIG-01@web-02=pass"}; !slices.Equal(got, want) {
		t.Errorf("findings %v, want %v", got, want)
	}
	if u := run.Run.UnusedWaivers; len(u) != 1 || u[0].Check != "ESXI-ACC-01" || u[0].Reason != "expired" {
		t.Errorf("unused waivers %+v, want only the expired one", u)
	}
	// Medium weight 3 passed of 6.
	if run.Summary.Score == nil || *run.Summary.Score != 50 {
		t.Errorf("score %v, want 50", scoreOf(run))
	}
	if !strings.Contains(r.stdout, "Scope       narrowed to checks esxi-vm-mig-01; objects web-*: the score covers only these") {
		t.Errorf("the table does not show the scope:\n%.1200s", r.stdout)
	}

	// The diff compares what both covered: no "disappeared" flood; the
	// medium new failure gates at medium, not at high.
	d := runHV(t, nil, "diff", before, after, "--fail-on-new")
	if d.code != 1 || strings.Contains(d.stdout, "DISAPPEARED") || !strings.Contains(d.stdout, "note: NEW was narrowed to checks esxi-vm-mig-01; objects web-*") ||
		!strings.Contains(d.stdout, "NEW FAILURES (1)") {
		t.Errorf("diff: exit %d\n%s", d.code, d.stdout)
	}
	if d := runHV(t, nil, "diff", before, after, "--fail-on-new", "--fail-on", "high"); d.code != 0 || !strings.Contains(d.stdout, "nothing newly failing at or above high") {
		t.Errorf("diff --fail-on high: exit %d\n%s", d.code, d.stdout)
	}
	if d := runHV(t, nil, "diff", before, after, "--fail-on-new", "--fail-on", "medium"); d.code != 1 || !strings.Contains(d.stdout, "1 newly failing at or above medium (fails --fail-on-new)") {
		t.Errorf("diff --fail-on medium: exit %d\n%s", d.code, d.stdout)
	}
	if d := runHV(t, nil, "diff", before, after, "--fail-on", "urgent"); d.code != 2 || !strings.Contains(d.stderr, `--fail-on "urgent" is not one of critical, high, medium, low, info, none`) {
		t.Errorf("diff --fail-on urgent: exit %d %s", d.code, d.stderr)
	}
}

// A target that cannot be read in NEW is one line of the diff, not a
// "disappeared" row for each of its findings, and it gates.
func TestDiffTargetDownIsOneLine(t *testing.T) {
	sim := startSim(t, esxisim.Options{})
	dir := t.TempDir()
	pw := passwordFile(t, sim.Password)
	config := func(uri string) string {
		return writeText(t, dir, "c.toml", "[[target]]\nname = \"vc\"\nuri = \""+uri+"\"\npassword_file = \""+pw+"\"\nthumbprint = \""+sim.Thumbprint+"\"\ntimeout = \"10s\"\n", 0o600)
	}
	old, cur := filepath.Join(dir, "old.json"), filepath.Join(dir, "new.json")
	if r := runHV(t, nil, "audit", "--config", config(targetURI(sim)), "--format", "json", "--output", old); r.code == 2 {
		t.Fatal(r.stderr)
	}
	if r := runHV(t, nil, "audit", "--config", config("vsphere://auditor@127.0.0.1:1"), "--format", "json", "--output", cur); r.code != 3 {
		t.Fatalf("down target: exit %d %s", r.code, r.stderr)
	}
	n := len(readRun(t, old).Findings)
	d := runHV(t, nil, "diff", old, cur, "--fail-on-new")
	if d.code != 1 || strings.Contains(d.stdout, "DISAPPEARED") || strings.Count(d.stdout, "\n") > 15 ||
		!strings.Contains(d.stdout, "target new error: ") || !strings.Contains(d.stdout, "(its "+strconv.Itoa(n)+" findings in OLD not compared)") {
		t.Errorf("diff: exit %d\n%s", d.code, d.stdout)
	}
}

// collect --config takes the target and its own settings from the config:
// host_root makes a KVM host's files part of the snapshot, so the offline
// audit judges them; without it they are an error.
func TestCollectConfigHostRoot(t *testing.T) {
	if err := libvirt.New().Available(); err != nil {
		if os.Getenv("HVAUDIT_REQUIRE_LIBVIRT") != "" {
			t.Fatal(err)
		}
		t.Skipf("libvirt0 not installed: %v", err)
	}
	node, _ := filepath.Abs("../collectors/libvirt/testdata/node.xml")
	root, _ := filepath.Abs("../collectors/libvirt/testdata/hostroot")
	dir := t.TempDir()
	cfg := writeText(t, dir, "agent.toml", `[[target]]
name = "kvm01"
uri = "test://`+node+`"
host_root = "`+root+`"

[[target]]
name = "kvm02"
uri = "test://`+node+`"
`, 0o600)
	snap := func(args ...string) string {
		out := filepath.Join(dir, strings.Join(args, "-")+".json")
		if r := runHV(t, nil, append([]string{"collect", "--config", cfg, "--output", out}, args...)...); r.code != 0 {
			t.Fatalf("collect %v: exit %d %s", args, r.code, r.stderr)
		}
		rep := filepath.Join(dir, "r-"+filepath.Base(out))
		if r := runHV(t, nil, "audit", "--snapshot", out, "--format", "json", "--output", rep); r.code == 2 {
			t.Fatalf("audit of %s: %s", out, r.stderr)
		}
		return rep
	}
	with := readRun(t, snap("--target", "kvm01"))
	if with.Targets[0].Name != "kvm01" {
		t.Errorf("target name %q", with.Targets[0].Name)
	}
	// qemu.conf under host_root says migrate_tls_force = 0.
	if f := finding(t, with, "KVM-MIG-01", "test-node"); f.Status != findings.StatusFail {
		t.Errorf("with host_root: KVM-MIG-01 %s %s", f.Status, f.Message)
	}
	without := readRun(t, snap("--target", "kvm02"))
	if f := finding(t, without, "KVM-MIG-01", "test-node"); f.Status != findings.StatusError {
		t.Errorf("without host_root: KVM-MIG-01 %s %s", f.Status, f.Message)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "has 2 targets: name one with --target (kvm01, kvm02)"},
		{[]string{"--target", "kvm09"}, `--target "kvm09" is not a target of ` + cfg + " (its targets: kvm01, kvm02)"},
	} {
		r := runHV(t, nil, append([]string{"collect", "--config", cfg, "--output", filepath.Join(dir, "x.json")}, c.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("collect %v: exit %d %s; want 2 and %q", c.args, r.code, r.stderr, c.want)
		}
	}
}
