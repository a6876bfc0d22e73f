package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/hvaudit/hvaudit/checks"
	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/collectors/esxi/esxisim"
)

// The CLI catches mistakes: every refusal exits 2 and names what it takes.
func TestCLIRefusals(t *testing.T) {
	dir := t.TempDir()
	tailoring := writeText(t, dir, "t.toml", "[params]\nesxi_max_snapshot_days = 10\n", 0o644)
	unreachable := []string{"--target", "vsphere://auditor@127.0.0.1:1", "--insecure"}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"platform", []string{"checks", "list", "--platform", "vmware"}, `--platform "vmware" is not one of esxi, kvm, hyperv, any (did you mean esxi?)`},
		{"area", []string{"checks", "list", "--area", "patching"}, `--area "patching" is not one of patch, management-network, vm-encryption, migration-encryption, host-access, console, host-integrity, isolation, side-channel, resource-reuse, logging, time, sprawl, audit-transport (did you mean patch?)`},
		{"list format", []string{"checks", "list", "--format", "yaml"}, `--format "yaml" is not one of table, json`},
		{"threat", []string{"checks", "list", "--threat", "vm-escapes"}, `--threat "vm-escapes" is not one of vm-escape, privilege-elevation,`},
		{"params format", []string{"checks", "params", "--format", "csv"}, `--format "csv" is not one of table, json`},
		{"threats format", []string{"checks", "threats", "--format", "html"}, `--format "html" is not one of table, json, markdown`},
		{"unknown check", []string{"checks", "show", "NOPE-99"}, `no check "NOPE-99" in baseline default: not a check id, a former id, nor a STIG, SCG or CIS id a check answers`},
		{"STIG rule no check automates", []string{"checks", "show", "V-258729"}, "V-258729 (VMware vSphere 8.0 ESXi STIG ESXI-80-000006) is a rule no check of baseline default automates: its checklists list it as Not Reviewed"},
		{"unknown param", []string{"checks", "list", "--tailoring", tailoring}, "params.esxi_max_snapshot_days: the baseline has no such param; its params are esxi_acceptance_levels_allowed, esxi_account_lock_failures_max,"},
		{"audit format", append([]string{"audit", "--format", "yaml"}, unreachable...), `unknown report format "yaml" (known formats: cklb, csv, html, json, junit, oscal, sarif, table)`},
		{"fail-on", append([]string{"audit", "--fail-on", "urgent"}, unreachable...), `--fail-on "urgent" is not one of critical, high, medium, low, info, none`},
		{"color", append([]string{"audit", "--color", "sometimes"}, unreachable...), `--color "sometimes" is not one of auto, always, never`},
		{"verbose and quiet", append([]string{"audit", "-v", "-q"}, unreachable...), "--verbose and --quiet cannot be combined"},
		{"audit area", append([]string{"audit", "--area", "patching"}, unreachable...), `--area "patching" is not one of patch,`},
		{"audit check", append([]string{"audit", "--check", "ESXI-NOPE-*"}, unreachable...), `--check "ESXI-NOPE-*" names no check of baseline default (see 'hvaudit checks list')`},
		{"audit object", append([]string{"audit", "--object", "web-["}, unreachable...), `--object "web-[" is not a valid pattern`},
		{"govc URI", []string{"audit", "--target", "https://vc01/sdk"}, `target "https://vc01/sdk": no collector for scheme "https"; did you mean vsphere://vc01?`},
		{"typo scheme", []string{"audit", "--target", "vshpere://auditor@vc01"}, "did you mean vsphere://auditor@vc01?"},
		{"foreign scheme", []string{"audit", "--target", "ftp://x"}, `no collector for scheme "ftp"; use vsphere://[user@]host for vCenter or ESXi, qemu:///system or qemu+ssh://[user@]host/system for KVM, hyperv://[user@]host for Hyper-V`},
		{"report color", []string{"report", "--from", "x.json", "--color", "no"}, `--color "no" is not one of auto, always, never`},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := runHV(t, []string{"HVAUDIT_PASSWORD=x"}, c.args...)
			if r.code != 2 || !strings.Contains(r.stderr, c.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 2 and %q", r.code, r.stderr, c.want)
			}
			if strings.Contains(r.stderr, "collecting") {
				t.Errorf("a target was contacted despite the refusal:\n%s", r.stderr)
			}
			// A foreign scheme gets one suggestion, not the list of schemes.
			if strings.Count(r.stderr, "://") > 6 {
				t.Errorf("the message lists schemes: %s", r.stderr)
			}
		})
	}
}

// --version and `version` name the build; `version` lists only the schemes
// that are audited (libvirt's xen://, lxc://, vbox:// are recognised only
// to be refused).
func TestVersion(t *testing.T) {
	r := runHV(t, nil, "--version")
	if r.code != 0 || !regexp.MustCompile(`^hvaudit \S+ \(go[0-9.]+, [a-z0-9]+/[a-z0-9]+\)\n$`).MatchString(r.stdout) {
		t.Errorf("--version: exit %d, %q", r.code, r.stdout)
	}
	v := runHV(t, nil, "version")
	if v.code != 0 || !strings.HasPrefix(v.stdout, r.stdout) {
		t.Fatalf("version: exit %d, %q", v.code, v.stdout)
	}
	want := "schemes: esxi, hyperv, qemu, qemu+ext, qemu+libssh, qemu+libssh2, qemu+ssh, qemu+tcp, qemu+tls, qemu+unix, test, vcenter, vsphere\n"
	if !strings.HasSuffix(v.stdout, want) {
		t.Errorf("version lists %q, want %q", v.stdout, want)
	}
}

// checks show takes a check's id, a former id, and the ids of the
// benchmarks it answers.
func TestChecksShowByFrameworkID(t *testing.T) {
	for _, c := range []struct{ id, head, check string }{
		{"VMCH-80-000203", "VMCH-80-000203 (VMware vSphere 8.0 Virtual Machine STIG) is answered by ESXI-VM-MIG-01\n", "ESXI-VM-MIG-01  vMotion of the VM is encrypted"},
		{"V-258728", "V-258728 (VMware vSphere 8.0 ESXi STIG ESXI-80-000005) is answered by ESXI-ACC-09\n", "ESXI-ACC-09  Accounts lock after failed logins"},
		{"SV-258728r958388_rule", "SV-258728r958388_rule (VMware vSphere 8.0 ESXi STIG ESXI-80-000005) is answered by ESXI-ACC-09\n", "ESXI-ACC-09  "},
		{"esxi-8.updates", "esxi-8.updates (SCG) is answered by ESXI-PATCH-01\n", "ESXI-PATCH-01  "},
		{"esxi-vm-mig-01", "ESXI-VM-MIG-01  vMotion of the VM is encrypted\n", "Remediation"},
	} {
		r := runHV(t, nil, "checks", "show", c.id)
		if r.code != 0 || !strings.HasPrefix(r.stdout, c.head) || !strings.Contains(r.stdout, c.check) {
			t.Errorf("checks show %s: exit %d\n%s", c.id, r.code, r.stdout)
		}
	}
	// A former id finds the check that replaced it.
	for _, c := range shippedChecks(t) {
		if len(c.Aliases) == 0 {
			continue
		}
		if r := runHV(t, nil, "checks", "show", c.Aliases[0]); r.code != 0 || !strings.HasPrefix(r.stdout, c.ID+"  ") {
			t.Errorf("checks show %s (alias of %s): exit %d %q", c.Aliases[0], c.ID, r.code, r.stdout)
		}
		break
	}
}

// checks params lists every param of the shipped baselines with its value
// and the checks that read it.
func TestChecksParams(t *testing.T) {
	r := runHV(t, nil, "checks", "params", "--format", "json")
	if r.code != 0 {
		t.Fatalf("checks params: %d %s", r.code, r.stderr)
	}
	var got []checks.Param
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join("..", "configs", "baselines", "*.toml"))
	want := map[string]bool{}
	var exprs strings.Builder
	for _, f := range files {
		var doc struct {
			Params map[string]any `toml:"params"`
			Check  []struct{ Applies, Expr, Expected string }
		}
		if _, err := toml.DecodeFile(f, &doc); err != nil {
			t.Fatal(err)
		}
		for k := range doc.Params {
			want[k] = true
		}
		for _, c := range doc.Check {
			exprs.WriteString(c.Applies + " " + c.Expr + " " + c.Expected + "\n")
		}
	}
	if len(got) != len(want) || len(got) < 40 {
		t.Errorf("checks params lists %d params, the baseline files hold %d", len(got), len(want))
	}
	for _, p := range got {
		if !want[p.Name] || p.File == "" {
			t.Errorf("param %+v", p)
		}
		if len(p.Checks) == 0 && strings.Contains(exprs.String(), "params."+p.Name) {
			t.Errorf("param %s is read by a check but lists none", p.Name)
		}
	}
	table := runHV(t, nil, "checks", "params")
	if !strings.Contains(table.stdout, "esxi_vmotion_encryption_allowed = [\"opportunistic\", \"required\"]\n  used by: ESXI-VM-MIG-01\n  set in:  configs/baselines/esxi.toml\n") {
		t.Errorf("checks params table:\n%s", table.stdout)
	}
}

// Shell completion offers the values of every closed flag and check ids.
func TestCompletion(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"audit", "--format", ""}, []string{"cklb", "csv", "html", "json", "junit", "oscal", "sarif", "table"}},
		{[]string{"audit", "--fail-on", ""}, []string{"critical", "high", "medium", "low", "info", "none"}},
		{[]string{"audit", "--color", ""}, []string{"auto", "always", "never"}},
		{[]string{"audit", "--area", ""}, findings.Areas},
		{[]string{"checks", "list", "--platform", ""}, []string{"esxi", "kvm", "hyperv", "any"}},
		{[]string{"checks", "list", "--threat", ""}, findings.Threats},
		{[]string{"report", "--format", ""}, []string{"cklb", "csv", "html", "json", "junit", "oscal", "sarif", "table"}},
		{[]string{"checks", "show", "ESXI-VM-MIG"}, []string{"ESXI-VM-MIG-01\tvMotion of the VM is encrypted", "ESXI-VM-MIG-02\tFault tolerance logging of the VM is encrypted"}},
		{[]string{"audit", "--check", "KVM-MIG-0"}, nil},
	} {
		r := runHV(t, nil, append([]string{"__complete"}, c.args...)...)
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if len(lines) == 0 || !strings.HasPrefix(lines[len(lines)-1], ":") {
			t.Fatalf("%v: %q", c.args, r.stdout)
		}
		got := lines[:len(lines)-1]
		if c.want == nil {
			if len(got) < 2 || !strings.HasPrefix(got[0], "KVM-MIG-0") {
				t.Errorf("%v: %q", c.args, got)
			}
			continue
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%v completes %q, want %q", c.args, got, c.want)
		}
	}
}

// --fail-on none never exits 1, nor 3 for error findings; 3 still means a
// target could not be read.
func TestFailOnNone(t *testing.T) {
	sim := startSim(t, esxisim.Options{})
	pw := passwordFile(t, sim.Password)
	r := runHV(t, nil, "audit", "--target", targetURI(sim), "--password-file", pw, "--thumbprint", sim.Thumbprint,
		"--fail-on", "none", "--quiet")
	if r.code != 0 || !strings.Contains(r.stdout, " fail (") || !strings.Contains(r.stdout, "INCOMPLETE") {
		t.Errorf("demo estate (fails and errors) with --fail-on none: exit %d, %q", r.code, r.stdout)
	}
	r = runHV(t, nil, "audit", "--target", targetURI(sim), "--target", "vsphere://auditor@127.0.0.1:1", "--password-file", pw,
		"--thumbprint", sim.Thumbprint, "--fail-on", "none", "--quiet")
	if r.code != 3 {
		t.Errorf("a target that could not be read with --fail-on none: exit %d, want 3", r.code)
	}
}

// The table on standard output: --quiet is the summary line, COLUMNS sets
// the width, --color always colours a pipe, NO_COLOR uncolours a terminal.
func TestTerminalDisplay(t *testing.T) {
	sim := startSim(t, esxisim.Options{})
	args := []string{"audit", "--target", targetURI(sim), "--password-file", passwordFile(t, sim.Password), "--thumbprint", sim.Thumbprint}
	quiet := runHV(t, nil, append(args, "-q")...)
	if strings.Count(quiet.stdout, "\n") != 1 || !regexp.MustCompile(`^Summary: \d+ fail \(\d+ critical, \d+ high, \d+ medium, \d+ low\), 9 error, \d+ pass, \d+ n/a; score [0-9.]+ on 1 target; INCOMPLETE: 9 findings in error\n$`).MatchString(quiet.stdout) {
		t.Errorf("--quiet: %q", quiet.stdout)
	}
	for _, width := range []string{"80", "132"} {
		r := runHV(t, []string{"COLUMNS=" + width}, args...)
		longest := 0
		for _, l := range strings.Split(r.stdout, "\n") {
			longest = max(longest, len([]rune(l)))
		}
		if width == "80" && longest > 80 || width == "132" && longest <= 100 {
			t.Errorf("COLUMNS=%s: longest line %d", width, longest)
		}
		if strings.Contains(r.stdout, "\x1b[") {
			t.Errorf("COLUMNS=%s: colour on a pipe", width)
		}
	}
	if r := runHV(t, nil, append(args, "--color", "always")...); !strings.Contains(r.stdout, "\x1b[1;31mFAIL\x1b[0m") {
		t.Error("--color always did not colour")
	}
	// On a terminal (script(1) gives the command one, standard output and
	// error both): colour, unless NO_COLOR or --color never, in the report
	// and in the log lines alike.
	script, err := exec.LookPath("script")
	if err != nil {
		skipUnlessRequired(t, "script(1) not installed (Debian: bsdutils): the terminal cases need it")
	}
	onTTY := func(env []string, extra ...string) string {
		cmd := exec.Command(script, "-qec", strings.Join(append(append([]string{binary}, args...), extra...), " "), "/dev/null")
		cmd.Env = append(os.Environ(), env...)
		out, _ := cmd.Output()
		return string(out)
	}
	if out := onTTY(nil); !strings.Contains(out, "\x1b[1;31mFAIL") {
		t.Errorf("no colour on a terminal:\n%.300s", out)
	}
	if out := onTTY([]string{"NO_COLOR=1"}); strings.Contains(out, "\x1b[") || !strings.Contains(out, "FAIL") {
		t.Errorf("NO_COLOR=1 on a terminal:\n%.300s", out)
	}
	if out := onTTY(nil, "--color", "never"); strings.Contains(out, "\x1b[") {
		t.Error("--color never coloured a terminal")
	}
}

// STIG Viewer checklists of the demo estate: the ESXi 7.0 host's checklist
// is the vSphere 8.0 one, and the run's output says so.
func TestChecklistNotesOnStderr(t *testing.T) {
	sim := startSim(t, esxisim.Options{})
	dir := filepath.Join(t.TempDir(), "cklb")
	r := runHV(t, nil, "audit", "--target", targetURI(sim), "--password-file", passwordFile(t, sim.Password), "--thumbprint", sim.Thumbprint,
		"--format", "cklb", "--output", dir)
	if r.code == 2 {
		t.Fatalf("exit 2: %s", r.stderr)
	}
	want := "cklb: Host esx-legacy-01 of target " + sim.URL.Host + " runs release 7.0.3, for which hvaudit's STIG catalog has no benchmark: this checklist is the VMware vSphere 8.0 ESXi STIG"
	if !strings.Contains(r.stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
	}
	b, err := os.ReadFile(filepath.Join(dir, "esx-legacy-01.cklb"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "This host runs release 7.0.3, for which hvaudit's STIG catalog has no benchmark") {
		t.Error("esx-legacy-01.cklb does not say it is the 8.0 benchmark on a 7.0 host")
	}
}

// skipUnlessRequired skips a test whose tool or kernel feature is missing,
// or fails it when HVAUDIT_REQUIRE_TOOLS is set (CI sets it), so no test
// silently stops guarding anything on the machine that must run it.
func skipUnlessRequired(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("HVAUDIT_REQUIRE_TOOLS") != "" {
		t.Fatalf("%s, and HVAUDIT_REQUIRE_TOOLS is set", why)
	}
	t.Skip(why)
}
