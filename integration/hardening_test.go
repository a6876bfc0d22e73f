//go:build unix

package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hvaudit/hvaudit/collectors/esxi/esxisim"
	"github.com/hvaudit/hvaudit/report"
)

// mknodChar makes a private character device (1,3 null; 1,7 full) as
// root, so a regression that renames over a device destroys only the
// test's copy; without root the machine's own device is safe to use.
func mknodChar(t *testing.T, name string, minor uint32) string {
	t.Helper()
	if os.Geteuid() != 0 {
		return "/dev/" + name
	}
	p := filepath.Join(t.TempDir(), name)
	if err := syscall.Mknod(p, syscall.S_IFCHR|0o666, int(1<<8|minor)); err != nil {
		skipUnlessRequired(t, fmt.Sprintf("mknod: %v", err))
	}
	return p
}

// readFIFO starts a reader on a new FIFO and returns its path and what it
// read once the writer closed it.
func readFIFO(t *testing.T, dir, name string) (string, func() []byte) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 1)
	go func() {
		f, err := os.Open(p)
		if err != nil {
			got <- nil
			return
		}
		b, _ := io.ReadAll(f)
		f.Close()
		got <- b
	}()
	return p, func() []byte {
		select {
		case b := <-got:
			return b
		case <-time.After(30 * time.Second):
			t.Errorf("nothing was written into the FIFO %s", p)
			return nil
		}
	}
}

func isFIFO(p string) bool {
	fi, err := os.Lstat(p)
	return err == nil && fi.Mode()&os.ModeNamedPipe != 0
}

// TestEveryFormatToFIFOAndThroughSymlinks renders a saved report in every
// format to a FIFO, through a symlink to a FIFO and to a character device:
// each gets exactly the bytes a regular file gets, and stays what it was.
// A symlink to a regular file is refused (exit 2), the link and its target
// untouched. cklb writes a directory and refuses a FIFO.
func TestEveryFormatToFIFOAndThroughSymlinks(t *testing.T) {
	sim := startSim(t, esxisim.Options{})
	dir := t.TempDir()
	src := filepath.Join(dir, "r.json")
	auditDemo(t, sim, src)
	null := mknodChar(t, "null", 3)
	for _, format := range report.Formats() {
		t.Run(format, func(t *testing.T) {
			d := t.TempDir()
			if format == "cklb" {
				fifo, read := readFIFO(t, d, "pipe")
				r := runHV(t, nil, "report", "--from", src, "--format", format, "--output", fifo)
				if r.code != 2 || !strings.Contains(r.stderr, "is not a directory") {
					t.Errorf("cklb to a FIFO: exit %d: %s", r.code, r.stderr)
				}
				// Unblock the reader: nothing else will open the FIFO.
				if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
					w.Close()
				}
				read()
				if r := runHV(t, nil, "report", "--from", src, "--format", format, "--output", d); r.code != 0 {
					t.Errorf("cklb to a directory: exit %d: %s", r.code, r.stderr)
				}
				estate := demoEstateCounts(t)["vcsa-demo"]
				if files, _ := filepath.Glob(filepath.Join(d, "*.cklb")); len(files) != 1+estate["host"]+estate["vm"] {
					t.Errorf("cklb wrote %v, want one checklist per asset (the vCenter, its hosts and VMs)", files)
				}
				return
			}
			plain := filepath.Join(d, "plain")
			if r := runHV(t, nil, "report", "--from", src, "--format", format, "--output", plain); r.code != 0 {
				t.Fatalf("to a file: exit %d: %s", r.code, r.stderr)
			}
			want, err := os.ReadFile(plain)
			if err != nil || len(want) == 0 {
				t.Fatalf("file output: %v (%d bytes)", err, len(want))
			}

			fifo, read := readFIFO(t, d, "pipe")
			if r := runHV(t, nil, "report", "--from", src, "--format", format, "--output", fifo); r.code != 0 {
				t.Errorf("to a FIFO: exit %d: %s", r.code, r.stderr)
			}
			if got := read(); !bytes.Equal(got, want) {
				t.Errorf("the FIFO's reader got %d bytes, the file %d", len(got), len(want))
			}
			if !isFIFO(fifo) {
				t.Errorf("the FIFO was replaced")
			}

			fifo2, read2 := readFIFO(t, d, "pipe2")
			link := filepath.Join(d, "to-pipe")
			if err := os.Symlink(fifo2, link); err != nil {
				t.Fatal(err)
			}
			if r := runHV(t, nil, "report", "--from", src, "--format", format, "--output", link); r.code != 0 {
				t.Errorf("through a symlink to a FIFO: exit %d: %s", r.code, r.stderr)
			}
			if got := read2(); !bytes.Equal(got, want) {
				t.Errorf("through the symlink the reader got %d bytes, the file %d", len(got), len(want))
			}
			if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 || !isFIFO(fifo2) {
				t.Errorf("the symlink or its FIFO was replaced")
			}

			devLink := filepath.Join(d, "to-null")
			if err := os.Symlink(null, devLink); err != nil {
				t.Fatal(err)
			}
			if r := runHV(t, nil, "report", "--from", src, "--format", format, "--output", devLink); r.code != 0 {
				t.Errorf("through a symlink to a device: exit %d: %s", r.code, r.stderr)
			}
			if fi, err := os.Stat(null); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
				t.Errorf("the device %s is now %v", null, fi.Mode())
			}

			fileLink := filepath.Join(d, "to-file")
			if err := os.Symlink(plain, fileLink); err != nil {
				t.Fatal(err)
			}
			r := runHV(t, nil, "report", "--from", src, "--format", format, "--output", fileLink)
			if r.code != 2 || !strings.Contains(r.stderr, "is a symbolic link") {
				t.Errorf("through a symlink to a file: exit %d, want 2: %s", r.code, r.stderr)
			}
			if fi, err := os.Lstat(fileLink); err != nil || fi.Mode()&os.ModeSymlink == 0 {
				t.Error("the symlink to a file was replaced")
			}
			if got, _ := os.ReadFile(plain); !bytes.Equal(got, want) {
				t.Error("the symlink's target changed")
			}
		})
	}

	// audit and collect follow the same rules.
	d := t.TempDir()
	fifo, read := readFIFO(t, d, "audit-pipe")
	r := runHV(t, nil, "audit", "--target", targetURI(sim), "--password-file", passwordFile(t, sim.Password),
		"--thumbprint", sim.Thumbprint, "--format", "json", "--output", fifo)
	run := new(report.Run)
	if err := json.Unmarshal(read(), run); err != nil || len(run.Findings) == 0 {
		t.Errorf("audit into a FIFO: exit %d, %v: %s", r.code, err, r.stderr)
	} else if r.code != wantExit(run, "low") {
		t.Errorf("audit into a FIFO: exit %d, want %d", r.code, wantExit(run, "low"))
	}
	fifo, read = readFIFO(t, d, "collect-pipe")
	r = runHV(t, nil, "collect", "--target", targetURI(sim), "--password-file", passwordFile(t, sim.Password),
		"--thumbprint", sim.Thumbprint, "--output", fifo)
	if b := read(); r.code != 0 || !bytes.Contains(b, []byte(`"schema": "hvaudit/snapshot/v1"`)) || !isFIFO(fifo) {
		t.Errorf("collect into a FIFO: exit %d, %d bytes: %s", r.code, len(b), r.stderr)
	}
}

// TestWriteFailureExits4: a report that cannot be written after the audit
// ran (a full disk) exits 4 — over the findings' 3 or 1 — and names what
// was written; the other outputs are still written. The same for
// report --from and collect.
func TestWriteFailureExits4(t *testing.T) {
	sim := startSim(t, esxisim.Options{})
	dir := t.TempDir()
	full := mknodChar(t, "full", 7)
	good := filepath.Join(dir, "r.json")
	r := runHV(t, nil, "audit", "--target", targetURI(sim), "--password-file", passwordFile(t, sim.Password),
		"--thumbprint", sim.Thumbprint, "--format", "csv", "--output", full, "--format", "json", "--output", good)
	if r.code != 4 {
		t.Fatalf("audit with a full output: exit %d, want 4: %s", r.code, r.stderr)
	}
	run := readRun(t, good)
	for _, want := range []string{"csv to " + full, "no space left on device", "written: json to " + good,
		"exit " + string(rune('0'+wantExit(run, "low"))) + " without this failure"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if r := runHV(t, nil, "report", "--from", good, "--format", "table", "--output", full); r.code != 4 || !strings.Contains(r.stderr, "written: nothing") {
		t.Errorf("report --from to a full device: exit %d: %s", r.code, r.stderr)
	}
	r = runHV(t, nil, "collect", "--target", targetURI(sim), "--password-file", passwordFile(t, sim.Password),
		"--thumbprint", sim.Thumbprint, "--output", full)
	if r.code != 4 || !strings.Contains(r.stderr, "was read, but the snapshot was not written") {
		t.Errorf("collect to a full device: exit %d: %s", r.code, r.stderr)
	}
}

// TestRefusedBeforeContact: a missing password, an output that cannot be
// written and two targets with one name all exit 2 before the simulator
// sees a single request, and before any report file exists.
func TestRefusedBeforeContact(t *testing.T) {
	sim := startSim(t, esxisim.Options{})
	dir := t.TempDir()
	pw := passwordFile(t, sim.Password)
	file := writeText(t, dir, "exists.json", "{}", 0o600)
	report := filepath.Join(dir, "r.json")
	uri := targetURI(sim)
	cfg := writeText(t, dir, "agent.toml", `[[target]]
uri = "`+uri+`"
password_file = "`+pw+`"
thumbprint = "`+sim.Thumbprint+`"
`, 0o600)
	for _, c := range []struct {
		name string
		env  []string
		args []string
		want []string
	}{
		{"no password", []string{"HVAUDIT_PASSWORD="}, []string{"--target", uri, "--thumbprint", sim.Thumbprint, "--format", "json", "--output", report},
			[]string{"has no password", "--password-file", "HVAUDIT_PASSWORD", "password_env"}},
		{"json to a directory", nil, []string{"--target", uri, "--password-file", pw, "--thumbprint", sim.Thumbprint, "--format", "csv", "--output", report, "--format", "json", "--output", dir},
			[]string{"is a directory"}},
		{"cklb to a file", nil, []string{"--target", uri, "--password-file", pw, "--thumbprint", sim.Thumbprint, "--format", "json", "--output", report, "--format", "cklb", "--output", file},
			[]string{"is not a directory"}},
		{"missing directory", nil, []string{"--target", uri, "--password-file", pw, "--thumbprint", sim.Thumbprint, "--format", "json", "--output", filepath.Join(dir, "no", "r.json")},
			[]string{"no such file or directory"}},
		{"same name twice", nil, []string{"--config", cfg, "--target", uri, "--password-file", pw, "--thumbprint", sim.Thumbprint, "--format", "json", "--output", report},
			[]string{"two targets are named", cfg + " [[target]] 1", "--target " + uri}},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := len(sim.Methods())
			r := runHV(t, c.env, append([]string{"audit"}, c.args...)...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2: %s", r.code, r.stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q: %s", w, r.stderr)
				}
			}
			if n := len(sim.Methods()) - before; n != 0 {
				t.Errorf("the simulator received %d requests", n)
			}
			if _, err := os.Stat(report); err == nil {
				t.Error("a report was written")
			}
		})
	}
}

// collectSnapshot saves the demo estate's snapshot and returns its text.
func collectSnapshot(t *testing.T, sim *esxisim.Sim, path string) string {
	t.Helper()
	r := runHV(t, nil, "collect", "--target", targetURI(sim), "--password-file", passwordFile(t, sim.Password),
		"--thumbprint", sim.Thumbprint, "--output", path)
	if r.code != 0 {
		t.Fatalf("collect: exit %d: %s", r.code, r.stderr)
	}
	return mustRead(t, path)
}

// TestHostileNamesAndIdentity plants a hostile VM name in a snapshot (as a
// tenant can name a VM) and checks the table (evidence values included),
// the diff and the log show it escaped; two snapshots of one target name
// are refused naming both files; a snapshot that holds a VM twice is
// refused.
func TestHostileNamesAndIdentity(t *testing.T) {
	sim := startSim(t, esxisim.Options{})
	dir := t.TempDir()
	clean := filepath.Join(dir, "clean.json")
	text := collectSnapshot(t, sim, clean)

	// JSON escapes, so the snapshot stays valid: ESC [2J, an OSC title, RLO,
	// a C1 CSI, a tab and a newline.
	const hostileJSON = `web-01\u001b[2J\u001b]0;pwned\u0007\u202e\u009b31m\tFORGED\nNEW FAILURES (99)`
	if !strings.Contains(text, `"web-01"`) {
		t.Fatal("the snapshot has no web-01 to rename")
	}
	hostile := writeText(t, dir, "hostile.json", strings.ReplaceAll(text, `"web-01"`, `"`+hostileJSON+`"`), 0o600)
	// --verbose: the table lists every object in full, with its evidence.
	r := runHV(t, nil, "audit", "--snapshot", hostile, "--format", "json", "--output", filepath.Join(dir, "h.json"), "--format", "table",
		"--log-level", "debug", "--verbose")
	if r.code == 2 {
		t.Fatalf("audit of the hostile snapshot: exit 2: %s", r.stderr)
	}
	// Without ESXI-VM-MIG-01 in the clean run, the hostile run's web-01
	// finding of it is a row of the diff (disappeared).
	drop := writeText(t, dir, "drop.toml", "[check.ESXI-VM-MIG-01]\nenabled = false\n", 0o600)
	r2 := runHV(t, nil, "audit", "--snapshot", clean, "--tailoring", drop, "--format", "json", "--output", filepath.Join(dir, "c.json"))
	if r2.code == 2 {
		t.Fatalf("audit of the clean snapshot: %s", r2.stderr)
	}
	d := runHV(t, nil, "diff", filepath.Join(dir, "h.json"), filepath.Join(dir, "c.json"))
	for name, out := range map[string]string{"table": r.stdout, "log": r.stderr, "diff": d.stdout} {
		for _, raw := range []string{"\x1b", "\x07", "\u202e", "\u009b", "\tFORGED", "\nNEW FAILURES (99)"} {
			if strings.Contains(out, raw) {
				t.Errorf("%s output carries %q raw", name, raw)
			}
		}
	}
	const shown = `web-01\x1b[2J\x1b]0;pwned\x07\u202e\u009b31m\tFORGED\n`
	if !strings.Contains(r.stdout, shown) {
		t.Errorf("the table does not show the hostile name escaped:\n%.2000s", r.stdout)
	}
	if !strings.Contains(d.stdout, shown+"NEW FAILURES (99)") {
		t.Errorf("the diff does not show the hostile name escaped:\n%s", d.stdout)
	}

	// The same target in two snapshots: refused, naming both files.
	again := writeText(t, dir, "again.json", text, 0o600)
	r = runHV(t, nil, "audit", "--snapshot", clean, "--snapshot", again, "--format", "json", "--output", filepath.Join(dir, "x.json"))
	if r.code != 2 || !strings.Contains(r.stderr, "snapshots "+clean+" and "+again+" both hold target") || !strings.Contains(r.stderr, "collect --name") {
		t.Errorf("two snapshots of one target: exit %d: %s", r.code, r.stderr)
	}
	// …and accepted once collected under another name.
	renamed := filepath.Join(dir, "renamed.json")
	if r := runHV(t, nil, "collect", "--target", targetURI(sim), "--name", "vc-second", "--password-file", passwordFile(t, sim.Password),
		"--thumbprint", sim.Thumbprint, "--output", renamed); r.code != 0 {
		t.Fatalf("collect --name: %d %s", r.code, r.stderr)
	}
	out := filepath.Join(dir, "two.json")
	r = runHV(t, nil, "audit", "--snapshot", clean, "--snapshot", renamed, "--format", "json", "--output", out)
	if run := readRun(t, out); len(run.Targets) != 2 || r.code != wantExit(run, "low") {
		t.Errorf("two distinct names: %d targets, exit %d: %s", len(run.Targets), r.code, r.stderr)
	}

	// One VM twice in a snapshot: refused, not scored twice.
	var snap map[string]any
	if err := json.Unmarshal([]byte(text), &snap); err != nil {
		t.Fatal(err)
	}
	data := snap["data"].(map[string]any)
	objs := data["objects"].([]any)
	var vm any
	for _, o := range objs {
		if b, _ := json.Marshal(o); bytes.Contains(b, []byte(`"db-01"`)) && bytes.Contains(b, []byte(`"VirtualMachine"`)) {
			vm = o
			break
		}
	}
	if vm == nil {
		t.Fatal("no db-01 VirtualMachine object in the snapshot")
	}
	// A second VM object (another moref) with db-01's properties, its
	// instance UUID included: two inventory VMs with one id. (The same
	// moref twice is one object read in two passes, which the ESXi
	// normalizer merges.)
	var twin map[string]any
	raw, _ := json.Marshal(vm)
	if err := json.Unmarshal(raw, &twin); err != nil {
		t.Fatal(err)
	}
	twin["obj"].(map[string]any)["value"] = "vm-twin"
	data["objects"] = append(objs, twin)
	b, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	dup := writeText(t, dir, "dup.json", string(b), 0o600)
	r = runHV(t, nil, "audit", "--snapshot", dup, "--format", "json", "--output", filepath.Join(dir, "dup-report.json"))
	if r.code != 2 || !strings.Contains(r.stderr, "snapshot "+dup+": vm id") || !strings.Contains(r.stderr, "appears twice") {
		t.Errorf("a VM twice in a snapshot: exit %d: %s", r.code, r.stderr)
	}
}
