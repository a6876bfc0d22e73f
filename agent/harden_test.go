package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hvaudit/hvaudit/agent/diff"
	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/collectors"
	"github.com/hvaudit/hvaudit/collectors/inventory"
	"github.com/hvaudit/hvaudit/report"
)

// hostile is a VM name an attacker with a tenant account can choose: it
// clears the screen, retitles the terminal, reverses text, sends a C1 CSI
// and tries to forge a row and a column.
const hostile = "evil\x1b[2J\x1b]0;pwned\x07\u202e\u009b31m\tFORGED\nNEW FAILURES (99)\r"

// rawControl reports a byte or rune no human-readable output may carry.
func rawControl(s string) (rune, bool) {
	for _, r := range s {
		switch {
		case r == '\n':
		case r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f || r == '\u202e':
			return r, true
		}
	}
	return 0, false
}

// The diff table neutralises names and messages from both reports: no
// escape reaches the terminal, and a tab or newline forges no column or row.
func TestWriteDiffTableNeutralizes(t *testing.T) {
	f := fnd("vc01", "C-1", "vm-1", "fail")
	f.Object.Name = hostile
	f.Message = "server said:\x1b[2J\nREGRESSED (7)"
	old := mkRun("old", []report.TargetResult{okTarget("vc01")}, fnd("vc01", "C-1", "vm-1", "pass"))
	bad := errTarget("kvm\tx")
	bad.Error = "dial: \x1b]0;owned\x07\nforged line"
	neu := mkRun("new", []report.TargetResult{okTarget("vc01"), bad}, f)
	var b bytes.Buffer
	if err := diff.WriteTable(&b, diff.Runs(old, neu, nil)); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if r, bad := rawControl(out); bad {
		t.Errorf("diff table carries raw %U:\n%s", r, out)
	}
	for _, forged := range []string{"\nNEW FAILURES (99)", "\nREGRESSED (7)", "\nforged line", "\tFORGED"} {
		if strings.Contains(out, forged) {
			t.Errorf("diff table forged %q:\n%s", forged, out)
		}
	}
	if !strings.Contains(out, `evil\x1b[2J\x1b]0;pwned\x07\u202e\u009b31m\tFORGED\nNEW FAILURES (99)\r`) {
		t.Errorf("the hostile name is not shown escaped:\n%s", out)
	}
}

// An error after a fail, or a fail after an error, at any position, gives
// 3: incomplete wins over failing whatever the order (the bug was the last
// status winning).
func TestExitCodeOrderIndependent(t *testing.T) {
	ok := []report.TargetResult{{Status: report.TargetOK}}
	f := func(st findings.Status) findings.Finding {
		return findings.Finding{Severity: findings.SeverityHigh, Status: st}
	}
	for _, order := range [][]findings.Status{
		{findings.StatusFail, findings.StatusError},
		{findings.StatusError, findings.StatusFail},
		{findings.StatusFail, findings.StatusError, findings.StatusPass, findings.StatusFail},
		{findings.StatusPass, findings.StatusError, findings.StatusFail, findings.StatusNotApplicable},
	} {
		var fs []findings.Finding
		for _, s := range order {
			fs = append(fs, f(s))
		}
		if got := ExitCode(&report.Run{Targets: ok, Findings: fs}, findings.SeverityLow); got != ExitIncomplete {
			t.Errorf("findings %v: exit %d, want %d", order, got, ExitIncomplete)
		}
	}
}

func writeFile(t *testing.T, path, body string, mode os.FileMode) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// A vSphere or remote Hyper-V target without a password is refused before
// anything is contacted, naming the target and the ways to give one;
// libvirt, local Hyper-V and Kerberos targets need none.
func TestBuildTargetNeedsPassword(t *testing.T) {
	t.Setenv(PasswordEnv, "")
	os.Unsetenv(PasswordEnv)
	for _, uri := range []string{"vsphere://auditor@vc01", "esxi://root@esx01", "hyperv://auditor@hv01", "hyperv://auditor@localhost:5986"} {
		_, err := BuildTarget(TargetConfig{URI: uri}, time.Minute)
		var ce *ConfigError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), "has no password") ||
			!strings.Contains(err.Error(), "--password-file") || !strings.Contains(err.Error(), "HVAUDIT_PASSWORD") ||
			!strings.Contains(err.Error(), "password_env") {
			t.Errorf("%s without a password: %v", uri, err)
		}
	}
	// An empty password from any source is no password.
	empty := writeFile(t, filepath.Join(t.TempDir(), "pw"), "\n", 0o600)
	t.Setenv("EMPTY_PW", "")
	for _, tc := range []TargetConfig{{URI: "vsphere://a@vc01", PasswordFile: empty}, {URI: "vsphere://a@vc01", PasswordEnv: "EMPTY_PW"}} {
		if _, err := BuildTarget(tc, time.Minute); err == nil || !strings.Contains(err.Error(), "has no password") {
			t.Errorf("%+v: %v", tc, err)
		}
	}
	for _, uri := range []string{"qemu:///system", "qemu+ssh://root@kvm01/system", "test:///default", "hyperv://localhost", "hyperv:///", "hyperv://auditor@hv01?auth=kerberos"} {
		if _, err := BuildTarget(TargetConfig{URI: uri}, time.Minute); err != nil {
			t.Errorf("%s refused without a password: %v", uri, err)
		}
	}
	t.Setenv(PasswordEnv, "s3cret")
	if tg, err := BuildTarget(TargetConfig{URI: "vsphere://auditor@vc01"}, time.Minute); err != nil || tg.Password.Reveal() != "s3cret" {
		t.Errorf("password from the environment: %v", err)
	}
}

// Two targets with the same name (any case) are refused, naming both.
func TestBuildTargetsRefusesDuplicateNames(t *testing.T) {
	_, err := BuildTargets([]TargetSource{
		{Config: TargetConfig{URI: "qemu:///system"}, Origin: "a.toml [[target]] 1"},
		{Config: TargetConfig{URI: "qemu+ssh://root@kvm02/system", Name: "kvm02"}, Origin: "a.toml [[target]] 2"},
		{Config: TargetConfig{URI: "QEMU:///system"}, Origin: "--target QEMU:///system"},
	}, time.Minute)
	var ce *ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), `two targets are named "`) ||
		!strings.Contains(err.Error(), "a.toml [[target]] 1 (qemu:///system)") || !strings.Contains(err.Error(), "--target QEMU:///system") {
		t.Errorf("duplicate target names: %v", err)
	}
	ts, err := BuildTargets([]TargetSource{
		{Config: TargetConfig{URI: "qemu:///system", Name: "kvm01"}},
		{Config: TargetConfig{URI: "qemu:///system", Name: "kvm01-again"}},
	}, time.Minute)
	if err != nil || len(ts) != 2 {
		t.Errorf("distinct names refused: %v", err)
	}
}

func inv(vms ...inventory.VM) *inventory.Inventory {
	return &inventory.Inventory{Platform: "kvm", Hosts: []inventory.Host{{ID: "h1", Name: "kvm01"}}, VMs: vms}
}

// An inventory holding one object twice is refused; distinct ids pass,
// whatever their names.
func TestDuplicateObject(t *testing.T) {
	err := duplicateObject(inv(inventory.VM{ID: "u1", Name: "a"}, inventory.VM{ID: "u2", Name: "a"}, inventory.VM{ID: "u1", Name: "b\x1b[2J"}))
	var dup *DuplicateObjectError
	if !errors.As(err, &dup) || dup.Kind != "vm" || dup.ID != "u1" ||
		err.Error() != `vm id "u1" appears twice (named "a" and "b\x1b[2J"); refusing the data rather than scoring the object twice` {
		t.Errorf("duplicate VM: %v", err)
	}
	if err := duplicateObject(inv(inventory.VM{ID: "u1", Name: "same"}, inventory.VM{ID: "u2", Name: "same"})); err != nil {
		t.Errorf("same names, distinct ids: %v", err)
	}
	i := inv()
	i.Networks = []inventory.Network{{ID: "n", Name: "x"}, {ID: "n", Name: "y"}}
	if err := duplicateObject(i); !errors.As(err, &dup) || dup.Kind != "network" {
		t.Errorf("duplicate network: %v", err)
	}
}

// Outputs are validated before anything runs: unknown formats, directory
// mismatches, a link to a file, a missing directory, two outputs on one
// path, cklb to standard output.
func TestValidateOutputs(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, filepath.Join(dir, "r.json"), "{}", 0o600)
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		outs []Output
		want string
	}{
		{[]Output{{Format: "yaml", Path: file}}, "unknown report format"},
		{[]Output{{Format: "json", Path: dir}}, "is a directory"},
		{[]Output{{Format: "cklb", Path: file}}, "is not a directory"},
		{[]Output{{Format: "cklb", Path: filepath.Join(dir, "nope", "cklb")}}, "no such file or directory"},
		{[]Output{{Format: "json", Path: link}}, "is a symbolic link"},
		{[]Output{{Format: "json", Path: filepath.Join(dir, "missing", "r.json")}}, "no such file or directory"},
		{[]Output{{Format: "json", Path: file}, {Format: "csv", Path: filepath.Join(dir, ".", "r.json")}}, "both write"},
		{[]Output{{Format: "json", Path: "-"}, {Format: "table", Path: "/dev/stdout"}}, "both write to standard output"},
	} {
		err := ValidateOutputs(c.outs)
		var ce *ConfigError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want a ConfigError with %q", c.outs, err, c.want)
		}
	}
	if err := ValidateOutputs([]Output{{Format: "json", Path: file}, {Format: "cklb", Path: dir}, {Format: "table", Path: "/dev/stdout"},
		{Format: "csv", Path: "/dev/null"}, {Format: "cklb", Path: filepath.Join(dir, "new-dir")}, {Format: "cklb", Path: filepath.Join(dir, "one.cklb")}}); err != nil {
		t.Errorf("valid outputs refused: %v", err)
	}
}

// One failing output does not stop the others; the error names what
// failed and what was written.
func TestWriteOutputsPartialFailure(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		skipUnlessRequired(t, "no /dev/full")
	}
	dir := t.TempDir()
	run := mkRun("r", []report.TargetResult{okTarget("vc01")}, fnd("vc01", "C-1", "vm-1", "fail"))
	outs := []Output{{Format: "json", Path: filepath.Join(dir, "r.json")}, {Format: "csv", Path: "/dev/full"}, {Format: "table"}}
	var stdout bytes.Buffer
	files, err := WriteOutputs(run, outs, &stdout)
	var oe *OutputError
	if !errors.As(err, &oe) {
		t.Fatalf("err %v, want an OutputError", err)
	}
	want := "writing reports failed: csv to /dev/full: writing /dev/full: write /dev/full: no space left on device; written: json to " +
		filepath.Join(dir, "r.json") + ", table to standard output"
	if err.Error() != want {
		t.Errorf("error:\n%s\nwant:\n%s", err, want)
	}
	if len(files) != 1 || files[0] != filepath.Join(dir, "r.json") || stdout.Len() == 0 {
		t.Errorf("files %v, stdout %d bytes", files, stdout.Len())
	}
	ee := OutputFailure(err, ExitFailing)
	if ee.Code != ExitOutput || !strings.Contains(ee.Error(), "exit 1 without this failure") {
		t.Errorf("OutputFailure: %d %v", ee.Code, ee)
	}
}

// Log lines neutralise names and server text in both formats; the JSON
// form stays valid JSON that decodes to the same strings.
func TestLoggerNeutralizes(t *testing.T) {
	for _, format := range []string{"console", "json"} {
		var b bytes.Buffer
		log, err := NewLogger(&b, "info", format)
		if err != nil {
			t.Fatal(err)
		}
		log.Error().Str("target", hostile).Err(errors.New("server: " + hostile)).Msg("target failed " + hostile)
		out := b.String()
		if r, bad := rawControl(strings.TrimSuffix(out, "\n")); bad || strings.Count(out, "\n") != 1 {
			t.Errorf("%s log carries raw %U or several lines:\n%q", format, r, out)
		}
		if format == "json" {
			var m map[string]string
			if err := json.Unmarshal(b.Bytes(), &m); err != nil || m["target"] != hostile {
				t.Errorf("json log no longer decodes to the name: %v %q", err, m["target"])
			}
		}
	}
}

// hostileCollector fails every fetch with a server message full of
// terminal controls, as a hostile or broken endpoint can.
type hostileCollector struct{}

func (hostileCollector) Platform() string { return "hostile-test" }
func (hostileCollector) Fetch(context.Context, collectors.Target) (*collectors.Snapshot, error) {
	return nil, errors.New("server said: " + hostile)
}
func (hostileCollector) Normalize(*collectors.Snapshot) (*inventory.Inventory, error) {
	return nil, errors.New("unused")
}

func init() { collectors.Register(hostileCollector{}, "hostile-test") }

// The progress line shows a hostile target name and server error escaped,
// on one line.
func TestProgressLineNeutralizes(t *testing.T) {
	var progress bytes.Buffer
	_, err := Audit(context.Background(), Request{
		Targets:  []collectors.Target{{Name: "vc\x1b[2J" + hostile, URI: "hostile-test://x", Timeout: time.Minute}},
		Progress: &progress, Log: zerolog.Nop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	out := progress.String()
	if r, bad := rawControl(strings.TrimSuffix(out, "\n")); bad || strings.Count(out, "\n") != 1 {
		t.Errorf("progress carries raw %U or several lines: %q", r, out)
	}
	if !strings.Contains(out, `error: server said: evil\x1b[2J`) {
		t.Errorf("progress line: %q", out)
	}
}

// serve creates report directories as runs need them: a missing one is
// fine for it when it can be made, and still refused for `audit`.
func TestValidateDaemonOutputs(t *testing.T) {
	dir := t.TempDir()
	nested := []Output{{Format: "json", Path: filepath.Join(dir, "reports", "{date}", "{target}.json")},
		{Format: "csv", Path: filepath.Join(dir, "reports", "all-{date}.csv")}}
	if err := ValidateDaemonOutputs(nested); err != nil {
		t.Errorf("serve refused directories it can make: %v", err)
	}
	if err := ValidateOutputs(nested[1:]); err == nil {
		t.Error("audit accepted an output whose directory does not exist")
	}
	file := writeFile(t, filepath.Join(dir, "plain"), "x", 0o600)
	if err := ValidateDaemonOutputs([]Output{{Format: "json", Path: filepath.Join(file, "sub", "r.json")}}); err == nil {
		t.Error("serve accepted a directory under a regular file")
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

// TestConsoleLogShowsValuesAsWritten: bools, nulls and numbers read as
// themselves in the console format (zerolog hands the first two over as
// JSON bytes), never as lists of byte values.
func TestConsoleLogShowsValuesAsWritten(t *testing.T) {
	var b bytes.Buffer
	log, err := NewLoggerColor(&b, "info", "console", "never")
	if err != nil {
		t.Fatal(err)
	}
	log.Info().Bool("first_run", true).Interface("score", nil).Float64("pass", 3).Msg("audit run finished")
	out := b.String()
	for _, want := range []string{"first_run=true", "score=null", "pass=3"} {
		if !strings.Contains(out, want) {
			t.Errorf("console log lacks %s:\n%s", want, out)
		}
	}
}
