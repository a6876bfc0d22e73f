package diff

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/report/reporttest"

	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/report"
)

// The runs and findings come from report/reporttest.
var (
	fnd       = reporttest.Finding
	mkRun     = reporttest.Run
	okTarget  = reporttest.OKTarget
	errTarget = reporttest.ErrTarget
)

// TestDiffClasses walks every cell of the classification table on Class,
// with waived findings compared on their observed status.
func TestDiffClasses(t *testing.T) {
	cases := []struct {
		old, new string // "" = absent
		want     Class
		gate     bool
	}{
		{"", "not_applicable", Appeared, false},
		{"", "pass", Appeared, false},
		{"", "fail", NewFailure, true},
		{"", "error", NewFailure, true},
		{"not_applicable", "", Disappeared, false},
		{"fail", "", Disappeared, false},
		{"not_applicable", "not_applicable", Unchanged, false},
		{"not_applicable", "pass", Changed, false},
		{"not_applicable", "fail", NewFailure, true},
		{"not_applicable", "error", NewFailure, true},
		{"pass", "not_applicable", Changed, false},
		{"pass", "pass", Unchanged, false},
		{"pass", "fail", NewFailure, true},
		{"pass", "error", NewFailure, true},
		{"fail", "not_applicable", Changed, false},
		{"fail", "pass", Fixed, false},
		{"fail", "fail", Unchanged, false},
		{"fail", "error", Regressed, false},
		{"error", "not_applicable", Changed, false},
		{"error", "pass", Fixed, false},
		{"error", "fail", Improved, false},
		{"error", "error", Unchanged, false},
		// Waivers: observed status decides the class; a waived new failure
		// is listed but does not gate.
		{"fail", "waived:fail", Unchanged, false},
		{"waived:fail", "fail", Unchanged, false}, // waiver lapsed or removed
		{"waived:fail", "pass", Fixed, false},
		{"waived:fail", "waived:error", Regressed, false},
		{"pass", "waived:fail", NewFailure, false},
		{"", "waived:error", NewFailure, false},
		{"waived:error", "", Disappeared, false},
	}
	for _, c := range cases {
		var of, nf []findings.Finding
		if c.old != "" {
			of = append(of, fnd("vc01", "C-1", "vm-1", c.old))
		}
		if c.new != "" {
			nf = append(nf, fnd("vc01", "C-1", "vm-1", c.new))
		}
		d := Runs(mkRun("o", []report.TargetResult{okTarget("vc01")}, of...), mkRun("n", []report.TargetResult{okTarget("vc01")}, nf...), nil)
		if len(d.Findings) != 1 {
			t.Fatalf("%s → %s: %d entries", c.old, c.new, len(d.Findings))
		}
		got := d.Findings[0]
		if got.Class != c.want || got.Gate != c.gate || d.NewlyFailing() != c.gate || d.Counts.Of(c.want) != 1 {
			t.Errorf("%s → %s: class %s gate %v (newly failing %v), want %s gate %v", c.old, c.new, got.Class, got.Gate, d.NewlyFailing(), c.want, c.gate)
		}
		if (got.Old == nil) != (c.old == "") || (got.New == nil) != (c.new == "") {
			t.Errorf("%s → %s: sides %+v %+v", c.old, c.new, got.Old, got.New)
		}
		if strings.HasPrefix(c.new, "waived:") && (got.New.Status != findings.StatusWaived || got.New.ObservedStatus == "" || got.New.Waiver == nil) {
			t.Errorf("%s → %s: waived side lost its status or waiver: %+v", c.old, c.new, got.New)
		}
	}
}

// TestDiffRuns: a two-target estate where one target changes and another
// stops answering; scores, appeared and disappeared checks and objects.
func TestDiffRuns(t *testing.T) {
	old := mkRun("run-old", []report.TargetResult{okTarget("vc01"), okTarget("vc02"), errTarget("vc03"), okTarget("vc04")},
		fnd("vc01", "C-1", "vm-1", "pass"),
		fnd("vc01", "C-1", "vm-2", "fail"),
		fnd("vc01", "C-2", "vm-1", "fail"),
		fnd("vc01", "C-OLD", "vm-1", "pass"), // check dropped from the baseline
		fnd("vc01", "C-1", "vm-gone", "fail"),
		fnd("vc02", "C-1", "vm-9", "pass"),
		fnd("vc04", "C-1", "vm-4", "fail"),
	)
	cur := mkRun("run-new", []report.TargetResult{okTarget("vc01"), errTarget("vc02"), okTarget("vc03"), okTarget("vc05")},
		fnd("vc01", "C-1", "vm-1", "fail"),   // new failure
		fnd("vc01", "C-1", "vm-2", "pass"),   // fixed
		fnd("vc01", "C-2", "vm-1", "error"),  // regressed
		fnd("vc01", "C-NEW", "vm-1", "pass"), // appeared (new check)
		fnd("vc01", "C-1", "vm-new", "pass"), // appeared (new object)
		fnd("vc03", "C-1", "vm-3", "fail"),   // recovered target, its failure is new
		fnd("vc05", "C-1", "vm-5", "pass"),
	)
	cur.Run.Baseline.Version = "2"
	d := Runs(old, cur, nil)

	if d.Schema != "hvaudit/diff/v1" || d.Old.ID != "run-old" || d.New.ID != "run-new" || !d.BaselineChanged {
		t.Errorf("header %+v %+v changed=%v", d.Old, d.New, d.BaselineChanged)
	}
	// vc02's finding is not a "disappeared" row: vc02 is one target line.
	want := Counts{NewFailure: 2, Regressed: 1, Fixed: 1, Appeared: 3, Disappeared: 3}
	if d.Counts != want {
		t.Errorf("counts %+v, want %+v", d.Counts, want)
	}
	// Two new failures and vc02 newly in error.
	if d.Gating != 3 || !d.NewlyFailing() {
		t.Errorf("gating %d", d.Gating)
	}
	changes := map[string]string{}
	for _, td := range d.Targets {
		changes[td.Name] = td.Change
		if td.Name == "vc02" && (!td.Gate || td.Error != "connection refused" || td.Score.New != nil || td.Score.Delta != nil || td.NotCompared != 1) {
			t.Errorf("vc02 %+v", td)
		}
	}
	wantChanges := map[string]string{"vc01": TargetUnchanged, "vc02": TargetNewError, "vc03": TargetRecovered, "vc04": TargetDisappeared, "vc05": TargetAppeared}
	for k, v := range wantChanges {
		if changes[k] != v {
			t.Errorf("target %s: %q, want %q (all: %v)", k, changes[k], v, changes)
		}
	}
	// vc01: old passed 12 of 30 weight (C-1 vm-1, C-OLD), new 18 of 30.
	vc01 := d.Targets[0].Score
	if vc01.Old == nil || *vc01.Old != 40 || vc01.New == nil || *vc01.New != 60 || *vc01.Delta != 20 {
		t.Errorf("vc01 score %+v", vc01)
	}
	if d.Score.Delta == nil || *d.Score.Delta != round2(*cur.Summary.Score-*old.Summary.Score) {
		t.Errorf("overall score %+v", d.Score)
	}
	if strings.Join(d.Checks.Added, ",") != "C-NEW" || strings.Join(d.Checks.Removed, ",") != "C-OLD" {
		t.Errorf("checks %+v", d.Checks)
	}
	var added, removed []string
	for _, o := range d.Objects.Added {
		added = append(added, o.Target+"/"+o.ID)
	}
	for _, o := range d.Objects.Removed {
		removed = append(removed, o.Target+"/"+o.ID)
	}
	if strings.Join(added, ",") != "vc01/vm-new,vc03/vm-3,vc05/vm-5" || strings.Join(removed, ",") != "vc01/vm-gone,vc04/vm-4" {
		t.Errorf("objects added %v removed %v", added, removed)
	}
	// Entries are in report order: target, kind, name, check.
	for i := 1; i < len(d.Findings); i++ {
		a, b := d.Findings[i-1], d.Findings[i]
		if a.Target > b.Target || (a.Target == b.Target && a.Object.Name > b.Object.Name) {
			t.Errorf("order: %s/%s before %s/%s", a.Target, a.Object.Name, b.Target, b.Object.Name)
		}
	}

	var js bytes.Buffer
	if err := WriteJSON(&js, d); err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back["schema"] != Schema || back["gating"] != float64(3) {
		t.Errorf("json head: schema %v gating %v", back["schema"], back["gating"])
	}
	if c := back["counts"].(map[string]any); c["new_failure"] != float64(2) || c["unchanged"] != float64(0) {
		t.Errorf("json counts %v", c)
	}
	if !strings.Contains(js.String(), `"old": null`) {
		t.Error("an absent side must be null in JSON")
	}

	var tb bytes.Buffer
	if err := WriteTable(&tb, d); err != nil {
		t.Fatal(err)
	}
	out := tb.String()
	for _, s := range []string{
		"NEW FAILURES (2)", "REGRESSED (1)", "FIXED (1)", "APPEARED (3)", "DISAPPEARED (3)",
		"pass → fail", "fail → error", "fail → pass", "absent → pass",
		"baselines differ", "target new error: connection refused (its 1 finding in OLD not compared)", "target recovered",
		"checks only in NEW: C-NEW", "3 newly failing (fails --fail-on-new)",
		"new failure 2 · regressed 1 · fixed 1 · improved 0 · changed 0 · unchanged 0 · appeared 3 · disappeared 3",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("table lacks %q:\n%s", s, out)
		}
	}
	if strings.Contains(out, "UNCHANGED") {
		t.Error("the table lists unchanged findings; it should only count them")
	}
}

// TestDiffSameRunAndWaiverOnly: a run against itself, and against a copy
// where a waiver now covers a failure, newly fails nothing.
func TestDiffSameRunAndWaiverOnly(t *testing.T) {
	tg := []report.TargetResult{okTarget("vc01")}
	a := mkRun("a", tg, fnd("vc01", "C-1", "vm-1", "fail"), fnd("vc01", "C-2", "vm-1", "pass"), fnd("vc01", "C-3", "vm-1", "error"))
	d := Runs(a, a, nil)
	if d.NewlyFailing() || d.Counts != (Counts{Unchanged: 3}) || *d.Score.Delta != 0 {
		t.Errorf("self diff %+v score %+v", d.Counts, d.Score)
	}
	var tb bytes.Buffer
	_ = WriteTable(&tb, d)
	if !strings.Contains(tb.String(), "nothing newly failing") || !strings.Contains(tb.String(), "±0.00") {
		t.Errorf("self diff table:\n%s", tb.String())
	}
	b := mkRun("b", tg, fnd("vc01", "C-1", "vm-1", "waived:fail"), fnd("vc01", "C-2", "vm-1", "pass"), fnd("vc01", "C-3", "vm-1", "waived:error"))
	d = Runs(a, b, nil)
	if d.NewlyFailing() || d.Counts != (Counts{Unchanged: 3}) {
		t.Errorf("waiver-only diff %+v", d.Counts)
	}
	// The score moves (waived findings leave the denominator); the score
	// without waivers does not.
	if *d.Score.Delta <= 0 || *d.Score.DeltaWithoutWaivers != 0 {
		t.Errorf("waiver-only score %+v", d.Score)
	}
}

// TestDiffDuplicateKeysPairInOrder: a malformed run repeating a key still
// pairs one to one.
func TestDiffDuplicateKeysPairInOrder(t *testing.T) {
	tg := []report.TargetResult{okTarget("vc01")}
	a := mkRun("a", tg, fnd("vc01", "C-1", "vm-1", "fail"), fnd("vc01", "C-1", "vm-1", "pass"))
	b := mkRun("b", tg, fnd("vc01", "C-1", "vm-1", "fail"))
	d := Runs(a, b, nil)
	if d.Counts != (Counts{Unchanged: 1, Disappeared: 1}) {
		t.Errorf("%+v", d.Counts)
	}
}

// TestDiffFollowsAliases: a check renamed between two runs pairs under its
// current id, so the rename shows as one unchanged finding, not as a
// disappeared and an appeared one; the old run is left as it was.
func TestDiffFollowsAliases(t *testing.T) {
	tg := []report.TargetResult{okTarget("vc01")}
	a := mkRun("a", tg, fnd("vc01", "OLD-1", "vm-1", "fail"), fnd("vc01", "C-2", "vm-1", "pass"))
	b := mkRun("b", tg, fnd("vc01", "NEW-1", "vm-1", "fail"), fnd("vc01", "C-2", "vm-1", "pass"))
	if d := Runs(a, b, nil); d.Counts != (Counts{Unchanged: 1, NewFailure: 1, Disappeared: 1}) {
		t.Errorf("without aliases %+v", d.Counts)
	}
	d := Runs(a, b, map[string]string{"OLD-1": "NEW-1"})
	if d.Counts != (Counts{Unchanged: 2}) || d.NewlyFailing() || len(d.Checks.Added)+len(d.Checks.Removed) != 0 {
		t.Errorf("with aliases %+v, checks %+v", d.Counts, d.Checks)
	}
	if a.Findings[0].CheckID != "OLD-1" {
		t.Errorf("Runs rewrote its input: %s", a.Findings[0].CheckID)
	}
}

// A target that errors in NEW is one line however many findings it had: a
// down vCenter of 5,000 VMs must not flood the diff with "disappeared".
func TestDiffTargetDownIsOneLine(t *testing.T) {
	var of []findings.Finding
	for i := range 500 {
		of = append(of, fnd("vc01", "C-1", "vm-"+strconv.Itoa(i), "fail"))
	}
	d := Runs(mkRun("o", []report.TargetResult{okTarget("vc01")}, of...), mkRun("n", []report.TargetResult{errTarget("vc01")}), nil)
	if len(d.Findings) != 0 || d.Counts.Disappeared != 0 || len(d.Objects.Removed) != 0 || len(d.Targets) != 1 ||
		d.Targets[0].NotCompared != 500 || !d.Targets[0].Gate || d.Gating != 1 {
		t.Errorf("findings %d, counts %+v, objects removed %d, targets %+v", len(d.Findings), d.Counts, len(d.Objects.Removed), d.Targets)
	}
	var tb bytes.Buffer
	if err := WriteTable(&tb, d); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(tb.String(), "\n"); n > 12 || !strings.Contains(tb.String(), "target new error: connection refused (its 500 findings in OLD not compared)") {
		t.Errorf("%d lines:\n%s", n, tb.String())
	}
}

// --fail-on with --fail-on-new: only new failures at or above the severity
// gate; a target newly in error gates at any severity but none.
func TestDiffGateFrom(t *testing.T) {
	low := fnd("vc01", "C-LOW", "vm-1", "fail")
	low.Severity = findings.SeverityLow
	crit := fnd("vc01", "C-CRIT", "vm-1", "fail")
	crit.Severity = findings.SeverityCritical
	old := mkRun("o", []report.TargetResult{okTarget("vc01"), okTarget("vc02")})
	for _, c := range []struct {
		failOn   findings.Severity
		vc02Down bool
		gating   int
	}{
		{findings.SeverityLow, false, 2},
		{findings.SeverityHigh, false, 1},
		{findings.SeverityCritical, false, 1},
		{findings.SeverityHigh, true, 2},
		{findings.FailOnNone, true, 0},
	} {
		targets := []report.TargetResult{okTarget("vc01"), okTarget("vc02")}
		if c.vc02Down {
			targets[1] = errTarget("vc02")
		}
		d := Runs(old, mkRun("n", targets, low, crit), nil)
		d.GateFrom(c.failOn)
		if d.Gating != c.gating || d.NewlyFailing() != (c.gating > 0) || d.FailOn != string(c.failOn) {
			t.Errorf("--fail-on %s (vc02 down %v): gating %d, want %d", c.failOn, c.vc02Down, d.Gating, c.gating)
		}
	}
}

// A narrowed run compares with a full one on what both covered: OLD's
// findings outside NEW's scope are left out, not "disappeared".
func TestDiffNarrowedRun(t *testing.T) {
	old := mkRun("o", []report.TargetResult{okTarget("vc01")},
		fnd("vc01", "C-1", "web-1", "fail"), fnd("vc01", "C-1", "db-1", "fail"),
		fnd("vc01", "C-2", "web-1", "fail"), fnd("vc01", "C-OLD", "web-2", "fail"))
	cur := mkRun("n", []report.TargetResult{okTarget("vc01")}, fnd("vc01", "C-1", "web-1", "pass"), fnd("vc01", "C-1", "web-2", "pass"))
	cur.Run.Scope = &report.Scope{Checks: []string{"c-prev"}, Objects: []string{"name-web-*"}}
	d := Runs(old, cur, map[string]string{"C-PREV": "C-1", "C-OLD": "C-1"})
	if d.Narrowed == nil || d.Narrowed.Dropped != 2 || d.Counts.Disappeared != 0 || d.Counts.Fixed != 2 {
		t.Errorf("narrowed %+v counts %+v", d.Narrowed, d.Counts)
	}
	var tb bytes.Buffer
	if err := WriteTable(&tb, d); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"note: NEW was narrowed to checks c-prev; objects name-web-*", "note: only findings both runs covered are compared (2 left out)"} {
		if !strings.Contains(tb.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, tb.String())
		}
	}
}
