package integration

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/collectors/esxi/esxisim"
)

// auditDemo audits a running demo simulator to a JSON report with extra
// flags. The exit code must be exactly the one the report's own findings
// give (wantExit), and the scores exactly what they add up to.
func auditDemo(t *testing.T, sim *esxisim.Sim, out string, extra ...string) result {
	t.Helper()
	args := append([]string{"audit", "--target", targetURI(sim), "--password-file", passwordFile(t, sim.Password),
		"--thumbprint", sim.Thumbprint, "--format", "json", "--output", out}, extra...)
	r := runHV(t, nil, args...)
	if r.code == 2 || r.code == 4 {
		t.Fatalf("audit %v: exit %d; stderr:\n%s", extra, r.code, r.stderr)
	}
	run := readRun(t, out)
	if want := wantExit(run, "low"); r.code != want {
		t.Fatalf("audit %v: exit %d, the report's findings give %d; stderr:\n%s", extra, r.code, want, r.stderr)
	}
	assertScoresExact(t, run)
	return r
}

func writeText(t *testing.T, dir, name, body string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

const demoWaivers = `# accepted risks for the demo estate
[[waiver]]
check = "ESXI-VM-MIG-01"
object = "web-01"
justification = "legacy web tier, replaced next quarter"
approver = "ciso@example.com"
expires = 2099-12-31T00:00:00Z

[[waiver]]
check = "ESXI-NET-04"
object = "jump-01"
justification = "jump host was to move off the management network"
approver = "ciso@example.com"
expires = 2020-01-01T00:00:00Z

[[waiver]]
check = "ESXI-VM-MIG-01"
object = "db-01"
justification = "db-01 passes: this waiver never applies"
expires = 2099-12-31T00:00:00Z
`

// TestWaiversEndToEnd: a live waiver waives a failing finding and keeps its
// observed status; an expired one waives nothing and the finding says so; a
// waiver that matches only a pass is reported unused; the run records the
// waivers file's sha256; a malformed file stops the audit before the
// simulator sees a single call.
func TestWaiversEndToEnd(t *testing.T) {
	sim := startSim(t, esxisim.Options{})
	dir := t.TempDir()
	wf := writeText(t, dir, "waivers.toml", demoWaivers, 0o644)
	out := filepath.Join(dir, "r.json")
	r := auditDemo(t, sim, out, "--waivers", wf)
	run := readRun(t, out)

	web := assertStatus(t, run, "ESXI-VM-MIG-01", "web-01", findings.StatusWaived)
	if web.ObservedStatus != findings.StatusFail || web.Waiver == nil || web.Waiver.Expired ||
		web.Waiver.Justification != "legacy web tier, replaced next quarter" || web.Waiver.Approver != "ciso@example.com" ||
		web.Waiver.Expires != "2099-12-31T00:00:00Z" {
		t.Errorf("web-01 waived finding: observed %q waiver %+v", web.ObservedStatus, web.Waiver)
	}
	jump := assertStatus(t, run, "ESXI-NET-04", "jump-01", findings.StatusFail)
	if jump.Waiver == nil || !jump.Waiver.Expired || !strings.Contains(jump.Message, "waiver expired 2020-01-01T00:00:00Z") {
		t.Errorf("jump-01 expired waiver: message %q waiver %+v", jump.Message, jump.Waiver)
	}
	db := assertStatus(t, run, "ESXI-VM-MIG-01", "db-01", findings.StatusPass)
	if db.Waiver != nil || db.ObservedStatus != "" {
		t.Errorf("a waiver touched a pass: %+v", db)
	}
	if run.Run.WaiversSHA256 != sha256File(t, wf) {
		t.Errorf("waivers_sha256 %q, want the file's %q", run.Run.WaiversSHA256, sha256File(t, wf))
	}
	// Waiving web-01's failure takes its weight (medium, 3) out of the
	// score's denominator and nothing else: recompute both scores from the
	// findings with that one finding unwaived.
	if run.Summary.Counts.Waived != 1 {
		t.Errorf("summary: %d waived, want 1", run.Summary.Counts.Waived)
	}
	unwaived := slices.Clone(run.Findings)
	for i := range unwaived {
		if unwaived[i].Status == findings.StatusWaived {
			unwaived[i].Status = unwaived[i].ObservedStatus
		}
	}
	if plain, _ := wantScores(unwaived); run.Summary.ScoreWithoutWaivers == nil || plain == nil || *run.Summary.ScoreWithoutWaivers != *plain {
		t.Errorf("score without waivers %v, want the unwaived score %v", run.Summary.ScoreWithoutWaivers, plain)
	}
	// Unused waivers are logged with file and line; the expired one too.
	for _, want := range []string{wf + ":16", "unused waiver: it matched no fail or error finding", wf + ":9", "it has expired"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, wf+":2") {
		t.Errorf("the live waiver was reported unused:\n%s", r.stderr)
	}
	// …and recorded in the run, so the auditor's copy says so too.
	unused := map[int]string{}
	for _, u := range run.Run.UnusedWaivers {
		if u.File != wf {
			t.Errorf("unused waiver file %q, want %q", u.File, wf)
		}
		unused[u.Line] = u.Reason
	}
	if len(unused) != 2 || unused[16] != "matched-nothing" || unused[9] != "expired" {
		t.Errorf("run.unused_waivers %+v, want line 16 matched-nothing and line 9 expired", run.Run.UnusedWaivers)
	}

	// A malformed waivers file: exit 2 naming file and line, nothing collected.
	bad := writeText(t, dir, "bad.toml", strings.Replace(demoWaivers, "expires = 2020-01-01T00:00:00Z", "expires = 2020-01-01T00:00:00", 1), 0o644)
	before := len(sim.Methods())
	r = runHV(t, nil, "audit", "--target", targetURI(sim), "--password-file", passwordFile(t, sim.Password),
		"--thumbprint", sim.Thumbprint, "--waivers", bad, "--format", "json", "--output", filepath.Join(dir, "bad.json"))
	if r.code != 2 || !strings.Contains(r.stderr, bad+":14:") || !strings.Contains(r.stderr, "zone") {
		t.Errorf("malformed waivers: exit %d, stderr %s", r.code, r.stderr)
	}
	if n := len(sim.Methods()) - before; n != 0 {
		t.Errorf("a malformed waivers file still let the audit send %d calls", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "bad.json")); err == nil {
		t.Error("a report was written for a malformed waivers file")
	}
}

func TestWaiversLint(t *testing.T) {
	dir := t.TempDir()
	soon := time.Now().Add(10 * 24 * time.Hour).UTC().Format(time.RFC3339)
	wf := writeText(t, dir, "w.toml", demoWaivers+`
[[waiver]]
check = "ESXI-VM-*"
target = "vc*"
justification = "renewal pending"
expires = "`+soon+`"
`, 0o644)
	r := runHV(t, nil, "waivers", "lint", wf)
	if r.code != 0 {
		t.Fatalf("lint: exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"4 waivers, 1 expiring within 30 days, 1 expired", wf + ":22: ESXI-VM-* target=vc* expires " + soon,
		wf + ":9: ESXI-NET-04 object=jump-01 expired 2020-01-01T00:00:00Z"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("lint output lacks %q:\n%s", want, r.stdout)
		}
	}
	for body, line := range map[string]string{
		strings.Replace(demoWaivers, `justification = "db-01 passes: this waiver never applies"`+"\n", "", 1): ":16:",
		strings.Replace(demoWaivers, `object = "web-01"`, `object = "web-["`, 1):                              ":4:",
		strings.Replace(demoWaivers, "approver", "approved_by", 1):                                            ":6:",
		demoWaivers + "[[waiver]\n": ":21:",
	} {
		p := writeText(t, t.TempDir(), "bad.toml", body, 0o644)
		r := runHV(t, nil, "waivers", "lint", p)
		if r.code != 2 || !strings.Contains(r.stderr, p+line) {
			t.Errorf("lint of a bad file: exit %d, want 2 with %s%s; stderr %s", r.code, p, line, r.stderr)
		}
	}
	if r := runHV(t, nil, "waivers", "lint", filepath.Join(dir, "missing.toml")); r.code != 2 {
		t.Errorf("lint of a missing file: exit %d", r.code)
	}
	// A blank justification, and a check glob that matches no check of the
	// baseline (a typo that would waive nothing for ever).
	for body, want := range map[string]string{
		strings.Replace(demoWaivers, `"legacy web tier, replaced next quarter"`, `"   "`, 1): ":5: waiver ESXI-VM-MIG-01: justification is required",
		strings.Replace(demoWaivers, `check = "ESXI-NET-04"`, `check = "ESXI-NTE-04"`, 1):    `:10: waiver check "ESXI-NTE-04" matches no check in baseline default`,
		strings.Replace(demoWaivers, `check = "ESXI-NET-04"`, `check = "ESX-*"`, 1):          `:10: waiver check "ESX-*" matches no check in baseline default`,
	} {
		p := writeText(t, t.TempDir(), "w.toml", body, 0o644)
		if r := runHV(t, nil, "waivers", "lint", p); r.code != 2 || !strings.Contains(r.stderr, p+want) {
			t.Errorf("lint: exit %d, want 2 with %s%s: %s", r.code, p, want, r.stderr)
		}
	}
	// A waiver for every target, qemu:///system included, is valid.
	star := writeText(t, dir, "star.toml", "[[waiver]]\ncheck = \"KVM-*\"\ntarget = \"*\"\njustification = \"lab\"\nexpires = 2099-01-01T00:00:00Z\n", 0o644)
	if r := runHV(t, nil, "waivers", "lint", star); r.code != 0 {
		t.Errorf("lint of a target=\"*\" waiver: exit %d: %s", r.code, r.stderr)
	}
}

// TestReportFrom renders a saved report again: JSON round-trips (the same
// document; a second round is byte for byte stable), other formats render,
// and bad input exits 2 naming the file and line.
func TestReportFrom(t *testing.T) {
	sim := startSim(t, esxisim.Options{})
	dir := t.TempDir()
	orig := filepath.Join(dir, "r.json")
	auditDemo(t, sim, orig)

	copy1, copy2, table := filepath.Join(dir, "c1.json"), filepath.Join(dir, "c2.json"), filepath.Join(dir, "r.txt")
	r := runHV(t, nil, "report", "--from", orig, "--format", "json", "--output", copy1, "--format", "table", "--output", table)
	if r.code != 0 {
		t.Fatalf("report: exit %d: %s", r.code, r.stderr)
	}
	readRun(t, copy1) // validates against the schema
	var a, b any
	for p, v := range map[string]*any{orig: &a, copy1: &b} {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, v); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(a, b) {
		t.Error("report --from … --format json is not the same document as its input")
	}
	if r := runHV(t, nil, "report", "--from", copy1, "--format", "json", "--output", copy2); r.code != 0 {
		t.Fatalf("second round: exit %d: %s", r.code, r.stderr)
	}
	c1, _ := os.ReadFile(copy1)
	c2, _ := os.ReadFile(copy2)
	if !bytes.Equal(c1, c2) {
		t.Error("a report rendered from a rendered report differs byte for byte")
	}
	if txt, _ := os.ReadFile(table); !strings.Contains(string(txt), "web-01") {
		t.Errorf("table rendering lacks the findings:\n%.500s", txt)
	}
	if fi, _ := os.Stat(table); fi.Mode().Perm()&0o027 != 0 {
		t.Errorf("rendered report mode %v", fi.Mode().Perm())
	}
	if r := runHV(t, nil, "report", "--from", orig); r.code != 0 || !strings.Contains(r.stdout, "web-01") {
		t.Errorf("report to stdout: exit %d: %s", r.code, r.stderr)
	}

	truncated := writeText(t, dir, "trunc.json", "{\n  \"schema\": \"hvaudit/report/v1\",\n  \"tool\": {\n", 0o600)
	garbled := writeText(t, dir, "garbled.json", "{\n  \"schema\": \"hvaudit/report/v1\",\n  \"tool\": }\n", 0o600)
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--from", garbled}, []string{garbled, "line 3"}},
		{[]string{"--from", truncated}, []string{truncated, "not valid JSON"}},
		{[]string{"--from", filepath.Join(dir, "missing.json")}, []string{"missing.json"}},
		{[]string{"--from", orig, "--format", "json", "--format", "table"}, []string{"standard output"}},
		{[]string{"--from", orig, "--format", "nope"}, []string{"unknown report format"}},
		{[]string{"--format", "json"}, []string{"--from"}},
	} {
		r := runHV(t, nil, append([]string{"report"}, c.args...)...)
		if r.code != 2 {
			t.Errorf("report %v: exit %d, want 2", c.args, r.code)
		}
		for _, w := range c.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("report %v: stderr lacks %q: %s", c.args, w, r.stderr)
			}
		}
	}
}

// TestDiffChangeWindow audits the demo estate, then audits it under a
// tailoring that demands required vMotion encryption and drops a check:
// the diff names the new failure and --fail-on-new gates on it.
func TestDiffChangeWindow(t *testing.T) {
	sim := startSim(t, esxisim.Options{})
	dir := t.TempDir()
	before, after, waived := filepath.Join(dir, "before.json"), filepath.Join(dir, "after.json"), filepath.Join(dir, "waived.json")
	auditDemo(t, sim, before)
	tailoring := writeText(t, dir, "window.toml", `[params]
esxi_vmotion_encryption_allowed = ["required"]

[check.ESXI-NET-04]
enabled = false
`, 0o644)
	auditDemo(t, sim, after, "--tailoring", tailoring)
	assertStatus(t, readRun(t, after), "ESXI-VM-MIG-01", "app-01", findings.StatusFail)
	strict := filepath.Join(dir, "strict.json") // the params change alone
	auditDemo(t, sim, strict, "--tailoring", writeText(t, dir, "params.toml", "[params]\nesxi_vmotion_encryption_allowed = [\"required\"]\n", 0o644))
	auditDemo(t, sim, waived, "--waivers", writeText(t, dir, "w.toml", demoWaivers, 0o644))

	r := runHV(t, nil, "diff", before, after)
	if r.code != 0 {
		t.Fatalf("diff without --fail-on-new: exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"NEW FAILURES (1)", "app-01", "ESXI-VM-MIG-01", "pass → fail", "DISAPPEARED", "ESXI-NET-04",
		"checks only in OLD: ESXI-NET-04", "1 newly failing"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("diff table lacks %q:\n%s", want, r.stdout)
		}
	}
	if r := runHV(t, nil, "diff", before, after, "--fail-on-new"); r.code != 1 {
		t.Errorf("diff before after --fail-on-new: exit %d, want 1: %s", r.code, r.stderr)
	}
	// Back again: app-01 is fixed, and ESXI-NET-04, enabled again, fails
	// on jump-01 where it was absent: a new failure.
	r = runHV(t, nil, "diff", after, before, "--fail-on-new", "--format", "json")
	if r.code != 1 {
		t.Errorf("diff after before --fail-on-new: exit %d, want 1: %s", r.code, r.stderr)
	}
	d := parseDiff(t, r.stdout)
	if d.Schema != "hvaudit/diff/v1" || d.Gating != 1 || d.Old.File != after || d.Score.Delta == nil {
		t.Errorf("diff JSON head: schema %q gating %d old %q delta %v", d.Schema, d.Gating, d.Old.File, d.Score.Delta)
	}
	if d.Counts["fixed"] != 1 || d.Counts["new_failure"] != 1 || d.Counts["appeared"] == 0 || d.Counts["disappeared"] != 0 {
		t.Errorf("diff JSON counts %v", d.Counts)
	}
	if f := d.find("ESXI-VM-MIG-01", "app-01"); f == nil || f.Class != "fixed" || f.Old.Status != "fail" || f.New.Status != "pass" {
		t.Errorf("app-01 ESXI-VM-MIG-01: %+v", f)
	}
	if f := d.find("ESXI-NET-04", "jump-01"); f == nil || f.Class != "new_failure" || f.Old != nil || f.New.Status != "fail" || !f.Gate {
		t.Errorf("jump-01 ESXI-NET-04: %+v", f)
	}
	// The params change undone: only fixes, the score goes up, exit 0.
	r = runHV(t, nil, "diff", strict, before, "--fail-on-new", "--format", "json")
	if r.code != 0 {
		t.Errorf("diff strict before --fail-on-new: exit %d, want 0: %s", r.code, r.stderr)
	}
	wantDelta := math.Round((*readRun(t, before).Summary.Score-*readRun(t, strict).Summary.Score)*100) / 100
	if d := parseDiff(t, r.stdout); d.Gating != 0 || d.Counts["fixed"] != 1 || d.Counts["unchanged"] != len(d.Items)-1 || d.Score.Delta == nil || *d.Score.Delta != wantDelta {
		t.Errorf("strict → before: gating %d counts %v delta %v, want delta %v", d.Gating, d.Counts, d.Score.Delta, wantDelta)
	}

	// The same estate diffed with itself, and with a run where a waiver
	// hides a failure, newly fails nothing: a waiver is not a change.
	for _, pair := range [][2]string{{before, before}, {before, waived}, {waived, before}} {
		r := runHV(t, nil, "diff", pair[0], pair[1], "--fail-on-new")
		if r.code != 0 || !strings.Contains(r.stdout, "nothing newly failing") {
			t.Errorf("diff %s %s: exit %d\n%s%s", filepath.Base(pair[0]), filepath.Base(pair[1]), r.code, r.stdout, r.stderr)
		}
	}

	garbled := writeText(t, dir, "garbled.json", "{\n  \"schema\": \"hvaudit/report/v1\",\n  \"tool\": }\n", 0o600)
	for _, args := range [][]string{
		{"diff", before, garbled, "--fail-on-new"},
		{"diff", before, filepath.Join(dir, "missing.json")},
		{"diff", before},
		{"diff", before, after, "--format", "csv"},
	} {
		r := runHV(t, nil, args...)
		if r.code != 2 {
			t.Errorf("%v: exit %d, want 2: %s", args, r.code, r.stderr)
		}
	}
	if r := runHV(t, nil, "diff", before, garbled); !strings.Contains(r.stderr, garbled) || !strings.Contains(r.stderr, "line 3") {
		t.Errorf("diff of a garbled report does not name the file and line: %s", r.stderr)
	}
}

// TestSignedReports: keygen, audit --sign, verify OK; a tampered report
// fails verify with exit 1; bad keys stop the audit before any collection.
func TestSignedReports(t *testing.T) {
	sim := startSim(t, esxisim.Options{})
	dir := t.TempDir()
	prefix := filepath.Join(dir, "audit")
	if r := runHV(t, nil, "keygen", "--out", prefix); r.code != 0 {
		t.Fatalf("keygen: exit %d: %s", r.code, r.stderr)
	}
	if r := runHV(t, nil, "keygen", "--out", prefix); r.code != 2 {
		t.Errorf("keygen over an existing key: exit %d, want 2", r.code)
	}
	key, pub := prefix+".key", prefix+".pub"
	out, txt := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.txt")
	r := runHV(t, nil, "audit", "--target", targetURI(sim), "--password-file", passwordFile(t, sim.Password),
		"--thumbprint", sim.Thumbprint, "--format", "json", "--output", out, "--format", "table", "--output", txt, "--sign", key)
	if want := wantExit(readRun(t, out), "low"); r.code != want {
		t.Fatalf("audit --sign: exit %d, the findings give %d: %s", r.code, want, r.stderr)
	}
	for _, p := range []string{out, txt} {
		if _, err := os.Stat(p + ".sig"); err != nil {
			t.Fatalf("no signature beside %s: %v", p, err)
		}
		r := runHV(t, nil, "verify", p, "--pubkey", pub)
		if r.code != 0 || !strings.Contains(r.stdout, "signature OK") {
			t.Errorf("verify %s: exit %d: %s%s", p, r.code, r.stdout, r.stderr)
		}
	}

	// report --from signs what it renders, too.
	copyPath := filepath.Join(dir, "copy.json")
	if r := runHV(t, nil, "report", "--from", out, "--format", "json", "--output", copyPath, "--sign", key); r.code != 0 {
		t.Fatalf("report --sign: exit %d: %s", r.code, r.stderr)
	}
	if r := runHV(t, nil, "verify", copyPath, "--pubkey", pub); r.code != 0 {
		t.Errorf("verify report --from copy: exit %d: %s", r.code, r.stderr)
	}

	// Tamper: one failing finding turned into a pass.
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	tampered := strings.Replace(string(b), `"status": "fail"`, `"status": "pass"`, 1)
	if tampered == string(b) {
		t.Fatal("no failing finding to tamper with")
	}
	if err := os.WriteFile(out, []byte(tampered), 0o640); err != nil {
		t.Fatal(err)
	}
	r = runHV(t, nil, "verify", out, "--pubkey", pub)
	if r.code != 1 || !strings.Contains(r.stderr, "tampered") {
		t.Errorf("verify of a tampered report: exit %d, want 1 with \"tampered\": %s%s", r.code, r.stdout, r.stderr)
	}
	// A signature from another file does not verify either.
	r = runHV(t, nil, "verify", txt, "--pubkey", pub, "--signature", copyPath+".sig")
	if r.code != 1 {
		t.Errorf("verify with another file's signature: exit %d, want 1", r.code)
	}

	// Bad input to verify is exit 2.
	for _, args := range [][]string{
		{"verify", txt},                  // no --pubkey
		{"verify", txt, "--pubkey", key}, // a private key is not a public key
		{"verify", filepath.Join(dir, "none.json"), "--pubkey", pub},
		{"verify", pub, "--pubkey", pub}, // no pub.sig
	} {
		if r := runHV(t, nil, args...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2: %s", args, r.code, r.stderr)
		}
	}

	// A readable key, or --sign with nothing but stdout, stops the audit
	// before the simulator is called.
	loose := writeText(t, dir, "loose.key", mustRead(t, key), 0o644)
	if err := os.Chmod(loose, 0o644); err != nil {
		t.Fatal(err)
	}
	before := len(sim.Methods())
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--format", "json", "--output", filepath.Join(dir, "x.json"), "--sign", loose}, "0600"},
		{[]string{"--format", "table", "--sign", key}, "--output"},
		{[]string{"--format", "json", "--output", filepath.Join(dir, "x.json"), "--sign", writeText(t, dir, "pub.pem", mustRead(t, pub), 0o600)}, "PRIVATE KEY"},
	} {
		args := append([]string{"audit", "--target", targetURI(sim), "--password-file", passwordFile(t, sim.Password),
			"--thumbprint", sim.Thumbprint}, c.args...)
		r := runHV(t, nil, args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("audit %v: exit %d, want 2 with %q: %s", c.args, r.code, c.want, r.stderr)
		}
	}
	if n := len(sim.Methods()) - before; n != 0 {
		t.Errorf("a bad --sign still let the audit send %d calls", n)
	}
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type diffDoc struct {
	Schema string         `json:"schema"`
	Counts map[string]int `json:"counts"`
	Gating int            `json:"gating"`
	Old    struct{ File string }
	Score  struct{ Delta *float64 }
	Items  []diffItem `json:"findings"`
}

type diffItem struct {
	Class   string `json:"class"`
	CheckID string `json:"check_id"`
	Object  struct{ Name string }
	Old     *struct{ Status string }
	New     *struct{ Status string }
	Gate    bool `json:"gate"`
}

func (d *diffDoc) find(check, object string) *diffItem {
	for i := range d.Items {
		if d.Items[i].CheckID == check && d.Items[i].Object.Name == object {
			return &d.Items[i]
		}
	}
	return nil
}

func parseDiff(t *testing.T, out string) *diffDoc {
	t.Helper()
	var d diffDoc
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("diff JSON: %v\n%.500s", err, out)
	}
	return &d
}
