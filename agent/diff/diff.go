// Package diff compares two runs (`hvaudit diff`, and drift between a
// target's runs in serve): findings paired across runs and classed, score
// deltas, targets that appeared or stopped answering, and the change-window
// gate. It reads reports only, never a collector or the agent.
package diff

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/checks/glob"
	"github.com/hvaudit/hvaudit/report"
)

// Schema is the schema id of `hvaudit diff --format json`.
const Schema = "hvaudit/diff/v1"

// Class is what happened to one finding between two runs.
//
// Findings match on (target, check id, object id) (DESIGN.md §3). Each pair
// is classified on its observed status: the status, or observed_status for a
// waived finding. A waiver is an accepted risk, not a change to the estate,
// so adding, removing or lapsing one never moves a finding between classes;
// the entry still shows both reported statuses. "Failing" means fail or
// error, and error ranks worse than fail (it is an incomplete audit, exit 3,
// which wins over exit 1): pass < fail < error. not_applicable and pass are
// both "not failing" but are different statuses.
//
//	OLD \ NEW     absent       not_applicable  pass       fail          error
//	absent        –            appeared        appeared   new_failure   new_failure
//	n/a           disappeared  unchanged       changed    new_failure   new_failure
//	pass          disappeared  changed         unchanged  new_failure   new_failure
//	fail          disappeared  changed         fixed      unchanged     regressed
//	error         disappeared  changed         fixed      improved      unchanged
type Class string

// Diff classes, in the order reports list them.
const (
	NewFailure  Class = "new_failure" // failing in NEW; absent, pass or not_applicable in OLD
	Regressed   Class = "regressed"   // failing in both, worse in NEW (fail → error)
	Fixed       Class = "fixed"       // failing in OLD, pass in NEW
	Improved    Class = "improved"    // failing in both, better in NEW (error → fail)
	Changed     Class = "changed"     // not failing in NEW, status differs (pass ↔ not_applicable, failing → not_applicable)
	Unchanged   Class = "unchanged"   // same observed status
	Appeared    Class = "appeared"    // only in NEW, not failing
	Disappeared Class = "disappeared" // only in OLD, whatever its status
)

// Classes lists every class in report order.
var Classes = []Class{NewFailure, Regressed, Fixed, Improved, Changed, Unchanged, Appeared, Disappeared}

// RunRef identifies one side of a diff.
type RunRef struct {
	File            string              `json:"file,omitempty"`
	ID              string              `json:"id"`
	Started         time.Time           `json:"started"`
	Baseline        report.BaselineInfo `json:"baseline"`
	TailoringSHA256 string              `json:"tailoring_sha256,omitempty"`
	WaiversSHA256   string              `json:"waivers_sha256,omitempty"`
}

// Side is one finding as one run reported it.
type Side struct {
	Status         findings.Status  `json:"status"`
	ObservedStatus findings.Status  `json:"observed_status,omitempty"`
	Message        string           `json:"message,omitempty"`
	Waiver         *findings.Waiver `json:"waiver,omitempty"`
}

// FindingDiff is one matched (or unmatched) finding.
type FindingDiff struct {
	Class    Class              `json:"class"`
	Target   string             `json:"target"`
	CheckID  string             `json:"check_id"`
	Object   findings.ObjectRef `json:"object"`
	Title    string             `json:"title"`
	Area     string             `json:"area"`
	Severity findings.Severity  `json:"severity"`
	// Old and New are null when the finding is absent from that run.
	Old *Side `json:"old"`
	New *Side `json:"new"`
	// Gate is true when this entry makes --fail-on-new exit 1: a new
	// failure not covered by a live waiver in NEW.
	Gate bool `json:"gate"`
}

// ScoreDelta is a score in both runs; Delta is NEW − OLD, null when either
// side was not scored.
type ScoreDelta struct {
	Old                 *float64 `json:"old"`
	New                 *float64 `json:"new"`
	Delta               *float64 `json:"delta"`
	OldWithoutWaivers   *float64 `json:"old_without_waivers"`
	NewWithoutWaivers   *float64 `json:"new_without_waivers"`
	DeltaWithoutWaivers *float64 `json:"delta_without_waivers"`
}

// Target changes.
const (
	TargetUnchanged   = "unchanged"
	TargetAppeared    = "appeared"
	TargetDisappeared = "disappeared"
	TargetNewError    = "new_error" // ok in OLD, error in NEW: its findings vanish, so it gates
	TargetRecovered   = "recovered" // error in OLD, ok in NEW
)

// TargetDiff is one target in either run.
type TargetDiff struct {
	Name      string     `json:"name"`
	Change    string     `json:"change"`
	OldStatus string     `json:"old_status,omitempty"`
	NewStatus string     `json:"new_status,omitempty"`
	Error     string     `json:"error,omitempty"` // NEW's error
	Score     ScoreDelta `json:"score"`
	// Gate is true when the target could not be audited in NEW but was
	// audited in OLD (or is new): a target that stops answering must not
	// pass the change-window gate by making its failures disappear.
	Gate bool `json:"gate"`
	// NotCompared counts OLD's findings of a target that is an error in
	// NEW: they are this one line, not a "disappeared" row each.
	NotCompared int `json:"not_compared,omitempty"`
}

// Narrowing records the scopes (audit --check, --area, --object) of the
// runs a diff compares: only findings both runs covered are compared.
type Narrowing struct {
	Old *report.Scope `json:"old,omitempty"`
	New *report.Scope `json:"new,omitempty"`
	// Dropped counts the findings left out because the other run's scope
	// did not cover them.
	Dropped int `json:"dropped"`
}

// Counts counts findings per class.
type Counts struct {
	NewFailure  int `json:"new_failure"`
	Regressed   int `json:"regressed"`
	Fixed       int `json:"fixed"`
	Improved    int `json:"improved"`
	Changed     int `json:"changed"`
	Unchanged   int `json:"unchanged"`
	Appeared    int `json:"appeared"`
	Disappeared int `json:"disappeared"`
}

func (c *Counts) ptr(k Class) *int {
	switch k {
	case NewFailure:
		return &c.NewFailure
	case Regressed:
		return &c.Regressed
	case Fixed:
		return &c.Fixed
	case Improved:
		return &c.Improved
	case Changed:
		return &c.Changed
	case Unchanged:
		return &c.Unchanged
	case Appeared:
		return &c.Appeared
	}
	return &c.Disappeared
}

// Of returns the count of one class.
func (c Counts) Of(k Class) int { return *c.ptr(k) }

// ObjectKey names an object across runs: target, kind and id.
type ObjectKey struct {
	Target string `json:"target"`
	Kind   string `json:"kind"`
	ID     string `json:"id"`
	Name   string `json:"name"`
}

// AddedRemoved lists what is only in NEW (added) or only in OLD (removed).
type AddedRemoved[T any] struct {
	Added   []T `json:"added"`
	Removed []T `json:"removed"`
}

// RunDiff is the result of comparing two runs (hvaudit/diff/v1).
type RunDiff struct {
	Schema          string     `json:"schema"`
	Old             RunRef     `json:"old"`
	New             RunRef     `json:"new"`
	BaselineChanged bool       `json:"baseline_changed"`
	Score           ScoreDelta `json:"score"`
	Counts          Counts     `json:"counts"`
	// Gating counts what trips --fail-on-new: gating findings plus gating
	// targets.
	Gating int `json:"gating"`
	// FailOn is the lowest severity of a new failure that gates (diff
	// --fail-on); "" gates every severity, "none" nothing.
	FailOn string `json:"fail_on,omitempty"`
	// Narrowed is set when either run was narrowed.
	Narrowed *Narrowing              `json:"narrowed,omitempty"`
	Targets  []TargetDiff            `json:"targets"`
	Checks   AddedRemoved[string]    `json:"checks"`
	Objects  AddedRemoved[ObjectKey] `json:"objects"`
	Findings []FindingDiff           `json:"findings"`
}

// NewlyFailing reports whether --fail-on-new should exit 1.
func (d *RunDiff) NewlyFailing() bool { return d.Gating > 0 }

// observed is the status a diff compares: observed_status for a waived
// finding (a waived finding without one, which the schema forbids, counts as
// fail).
func observed(f *findings.Finding) findings.Status {
	if f.Status == findings.StatusWaived {
		if f.ObservedStatus != "" {
			return f.ObservedStatus
		}
		return findings.StatusFail
	}
	return f.Status
}

// failRank orders failing statuses: 0 not failing, 1 fail, 2 error.
func failRank(s findings.Status) int {
	switch s {
	case findings.StatusFail:
		return 1
	case findings.StatusError:
		return 2
	}
	return 0
}

// classify applies the table on Class; nil means absent.
func classify(old, new *findings.Finding) Class {
	switch {
	case old == nil && new == nil:
		return Unchanged
	case old == nil:
		if failRank(observed(new)) > 0 {
			return NewFailure
		}
		return Appeared
	case new == nil:
		return Disappeared
	}
	o, n := observed(old), observed(new)
	ro, rn := failRank(o), failRank(n)
	switch {
	case o == n:
		return Unchanged
	case ro == 0 && rn > 0:
		return NewFailure
	case ro > 0 && rn > ro:
		return Regressed
	case ro > 0 && rn > 0:
		return Improved
	case ro > 0 && n == findings.StatusPass:
		return Fixed
	}
	return Changed
}

func side(f *findings.Finding) *Side {
	if f == nil {
		return nil
	}
	return &Side{Status: f.Status, ObservedStatus: f.ObservedStatus, Message: f.Message, Waiver: f.Waiver}
}

func findingKey(f *findings.Finding) string {
	return f.Target + "\x00" + f.CheckID + "\x00" + f.Object.ID
}

func runRef(r *report.Run) RunRef {
	return RunRef{ID: r.Run.ID, Started: r.Run.Started, Baseline: r.Run.Baseline,
		TailoringSHA256: r.Run.TailoringSHA256, WaiversSHA256: r.Run.WaiversSHA256}
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

func delta(o, n *float64) *float64 {
	if o == nil || n == nil {
		return nil
	}
	d := round2(*n - *o)
	return &d
}

func scoreDelta(o, n, ow, nw *float64) ScoreDelta {
	return ScoreDelta{Old: o, New: n, Delta: delta(o, n), OldWithoutWaivers: ow, NewWithoutWaivers: nw, DeltaWithoutWaivers: delta(ow, nw)}
}

// Runs compares two runs. It is pure: the runs are not modified.
// aliases maps a renamed check's former id to its current one (a
// baseline's AliasMap), so a finding of KVM-MIG-03 in an old report pairs
// with its successor's in a new one; nil compares ids as they are.
//
// Two things are not compared finding by finding. OLD's findings of a
// target that is an error in NEW are one target-level line (TargetDiff's
// NotCompared), not a "disappeared" row each. And when either run was
// narrowed (run.scope), findings outside the other run's scope are left
// out (Narrowed), so a change-window audit compares with a full one.
func Runs(old, new *report.Run, aliases map[string]string) *RunDiff {
	old, new = withCurrentIDs(old, aliases), withCurrentIDs(new, aliases)
	var narrowed *Narrowing
	if old.Run.Scope != nil || new.Run.Scope != nil {
		narrowed = &Narrowing{Old: old.Run.Scope, New: new.Run.Scope}
		former := map[string][]string{}
		for a, id := range aliases {
			former[id] = append(former[id], a)
		}
		inOld, inNew := scopeFilter(old.Run.Scope, former), scopeFilter(new.Run.Scope, former)
		both := func(f *findings.Finding) bool { return inOld(f) && inNew(f) }
		var dropped int
		old, dropped = keepFindings(old, both)
		narrowed.Dropped += dropped
		new, dropped = keepFindings(new, both)
		narrowed.Dropped += dropped
	}
	newErrors := map[string]bool{}
	for _, t := range new.Targets {
		if t.Status == report.TargetError {
			newErrors[t.Name] = true
		}
	}
	notCompared := map[string]int{}
	old, _ = keepFindings(old, func(f *findings.Finding) bool {
		if newErrors[f.Target] {
			notCompared[f.Target]++
			return false
		}
		return true
	})
	d := &RunDiff{Narrowed: narrowed,
		Schema: Schema, Old: runRef(old), New: runRef(new),
		BaselineChanged: old.Run.Baseline != new.Run.Baseline,
		Score: scoreDelta(old.Summary.Score, new.Summary.Score,
			old.Summary.ScoreWithoutWaivers, new.Summary.ScoreWithoutWaivers),
		Findings: []FindingDiff{},
		Targets:  []TargetDiff{},
		Checks:   AddedRemoved[string]{Added: []string{}, Removed: []string{}},
		Objects:  AddedRemoved[ObjectKey]{Added: []ObjectKey{}, Removed: []ObjectKey{}},
	}

	// Pair findings. Keys are unique in a well-formed run; should one repeat,
	// its occurrences pair in order rather than collapsing.
	oldByKey := map[string][]int{}
	for i := range old.Findings {
		k := findingKey(&old.Findings[i])
		oldByKey[k] = append(oldByKey[k], i)
	}
	matched := make([]bool, len(old.Findings))
	add := func(o, n *findings.Finding) {
		ref := n
		if ref == nil {
			ref = o
		}
		fd := FindingDiff{
			Class: classify(o, n), Target: ref.Target, CheckID: ref.CheckID, Object: ref.Object,
			Title: ref.Title, Area: ref.Area, Severity: ref.Severity, Old: side(o), New: side(n),
		}
		fd.Gate = fd.Class == NewFailure && n.Status != findings.StatusWaived
		d.Findings = append(d.Findings, fd)
	}
	for i := range new.Findings {
		n := &new.Findings[i]
		var o *findings.Finding
		k := findingKey(n)
		if idx := oldByKey[k]; len(idx) > 0 {
			o = &old.Findings[idx[0]]
			matched[idx[0]] = true
			oldByKey[k] = idx[1:]
		}
		add(o, n)
	}
	for i := range old.Findings {
		if !matched[i] {
			add(&old.Findings[i], nil)
		}
	}
	slices.SortStableFunc(d.Findings, func(a, b FindingDiff) int {
		return cmp.Or(strings.Compare(a.Target, b.Target), strings.Compare(a.Object.Kind, b.Object.Kind),
			strings.Compare(a.Object.Name, b.Object.Name), strings.Compare(a.CheckID, b.CheckID),
			strings.Compare(a.Object.ID, b.Object.ID))
	})
	for i := range d.Findings {
		f := &d.Findings[i]
		*d.Counts.ptr(f.Class)++
		if f.Gate {
			d.Gating++
		}
	}

	d.Checks.Added, d.Checks.Removed = addedRemoved(old, new, func(f *findings.Finding) (string, string) {
		return f.CheckID, f.CheckID
	})
	d.Objects.Added, d.Objects.Removed = addedRemoved(old, new, func(f *findings.Finding) (string, ObjectKey) {
		return f.Target + "\x00" + f.Object.Kind + "\x00" + f.Object.ID,
			ObjectKey{Target: f.Target, Kind: f.Object.Kind, ID: f.Object.ID, Name: f.Object.Name}
	})

	d.Targets = diffTargets(old, new)
	for i, t := range d.Targets {
		d.Targets[i].NotCompared = notCompared[t.Name]
		if t.Gate {
			d.Gating++
		}
	}
	return d
}

// GateFrom makes only new failures at or above severity gate (diff
// --fail-on): a change window can be held to high and critical. A target
// that newly cannot be read gates at every severity but "none", which
// gates nothing.
func (d *RunDiff) GateFrom(failOn findings.Severity) {
	d.FailOn, d.Gating = string(failOn), 0
	for i := range d.Findings {
		f := &d.Findings[i]
		f.Gate = failOn != findings.FailOnNone && f.Class == NewFailure && f.New != nil && f.New.Status != findings.StatusWaived &&
			f.Severity.Rank() >= failOn.Rank()
		if f.Gate {
			d.Gating++
		}
	}
	for i := range d.Targets {
		t := &d.Targets[i]
		t.Gate = failOn != findings.FailOnNone && (t.Change == TargetNewError || t.Change == TargetAppeared && t.NewStatus == report.TargetError)
		if t.Gate {
			d.Gating++
		}
	}
}

// keepFindings returns r with only the findings keep accepts (a copy when
// any is dropped) and how many were dropped. The summary is left as it
// was: scores compare the runs as they were scored.
func keepFindings(r *report.Run, keep func(*findings.Finding) bool) (*report.Run, int) {
	var kept []findings.Finding
	dropped := 0
	for i := range r.Findings {
		if keep(&r.Findings[i]) {
			kept = append(kept, r.Findings[i])
		} else {
			dropped++
		}
	}
	if dropped == 0 {
		return r, 0
	}
	cp := *r
	cp.Findings = kept
	return &cp, dropped
}

// scopeFilter tells whether a finding is within a run's recorded scope
// (nil: everything). Check patterns match the current id or a former one.
func scopeFilter(s *report.Scope, former map[string][]string) func(*findings.Finding) bool {
	if s == nil {
		return func(*findings.Finding) bool { return true }
	}
	globs := func(ps []string, upper bool) []*glob.Glob {
		var out []*glob.Glob
		for _, p := range ps {
			if upper {
				p = strings.ToUpper(p)
			}
			if g, err := glob.Compile(p); err == nil {
				out = append(out, g)
			}
		}
		return out
	}
	ids, objects := globs(s.Checks, true), globs(s.Objects, false)
	return func(f *findings.Finding) bool {
		if len(ids) > 0 && !slices.ContainsFunc(ids, func(g *glob.Glob) bool {
			return g.Match(strings.ToUpper(f.CheckID)) || slices.ContainsFunc(former[f.CheckID], func(a string) bool { return g.Match(strings.ToUpper(a)) })
		}) {
			return false
		}
		if len(s.Areas) > 0 && !slices.Contains(s.Areas, f.Area) {
			return false
		}
		return len(objects) == 0 || slices.ContainsFunc(objects, func(g *glob.Glob) bool { return g.Match(f.Object.Name) || g.Match(f.Object.ID) })
	}
}

// withCurrentIDs returns r with every aliased check id replaced by the
// current one; r itself is untouched (a copy is made only when needed).
func withCurrentIDs(r *report.Run, aliases map[string]string) *report.Run {
	if len(aliases) == 0 {
		return r
	}
	var out *report.Run
	for i := range r.Findings {
		id, ok := aliases[r.Findings[i].CheckID]
		if !ok {
			continue
		}
		if out == nil {
			cp := *r
			cp.Findings = slices.Clone(r.Findings)
			out = &cp
		}
		out.Findings[i].CheckID = id
	}
	if out == nil {
		return r
	}
	return out
}

// addedRemoved lists the values whose key occurs in only one run, in first
// seen order of the run they are in.
func addedRemoved[T any](old, new *report.Run, key func(*findings.Finding) (string, T)) (added, removed []T) {
	set := func(r *report.Run) (map[string]bool, []string, map[string]T) {
		seen, vals := map[string]bool{}, map[string]T{}
		var order []string
		for i := range r.Findings {
			k, v := key(&r.Findings[i])
			if !seen[k] {
				seen[k] = true
				order = append(order, k)
				vals[k] = v
			}
		}
		return seen, order, vals
	}
	oseen, oorder, ovals := set(old)
	nseen, norder, nvals := set(new)
	added, removed = []T{}, []T{}
	for _, k := range norder {
		if !oseen[k] {
			added = append(added, nvals[k])
		}
	}
	for _, k := range oorder {
		if !nseen[k] {
			removed = append(removed, ovals[k])
		}
	}
	return added, removed
}

func diffTargets(old, new *report.Run) []TargetDiff {
	type pair struct{ o, n *report.TargetResult }
	byName := map[string]*pair{}
	var names []string
	get := func(name string) *pair {
		p, ok := byName[name]
		if !ok {
			p = &pair{}
			byName[name] = p
			names = append(names, name)
		}
		return p
	}
	for i := range old.Targets {
		get(old.Targets[i].Name).o = &old.Targets[i]
	}
	for i := range new.Targets {
		get(new.Targets[i].Name).n = &new.Targets[i]
	}
	slices.Sort(names)
	out := []TargetDiff{}
	for _, name := range names {
		p := byName[name]
		td := TargetDiff{Name: name}
		var oscore, nscore findings.Score
		if p.o != nil {
			td.OldStatus = p.o.Status
			oscore = old.Summary.ByTarget[name]
		}
		if p.n != nil {
			td.NewStatus, td.Error = p.n.Status, p.n.Error
			nscore = new.Summary.ByTarget[name]
		}
		td.Score = scoreDelta(oscore.Score, nscore.Score, oscore.ScoreWithoutWaivers, nscore.ScoreWithoutWaivers)
		switch {
		case p.o == nil:
			td.Change = TargetAppeared
			td.Gate = p.n.Status == report.TargetError
		case p.n == nil:
			td.Change = TargetDisappeared
		case p.o.Status != report.TargetError && p.n.Status == report.TargetError:
			td.Change, td.Gate = TargetNewError, true
		case p.o.Status == report.TargetError && p.n.Status != report.TargetError:
			td.Change = TargetRecovered
		default:
			td.Change = TargetUnchanged
		}
		out = append(out, td)
	}
	return out
}

// WriteJSON writes the diff as hvaudit/diff/v1.
func WriteJSON(w io.Writer, d *RunDiff) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(d)
}

func fmtScore(s *float64) string {
	if s == nil {
		return "–"
	}
	return fmt.Sprintf("%.2f", *s)
}

func fmtDelta(s *float64) string {
	if s == nil {
		return "–"
	}
	if *s == 0 {
		return "±0.00"
	}
	return fmt.Sprintf("%+.2f", *s)
}

func fmtSide(s *Side) string {
	switch {
	case s == nil:
		return "absent"
	case s.Status == findings.StatusWaived:
		return fmt.Sprintf("waived(%s)", cmp.Or(s.ObservedStatus, findings.StatusFail))
	}
	return string(s.Status)
}

var classTitles = map[Class]string{
	NewFailure: "NEW FAILURES", Regressed: "REGRESSED", Fixed: "FIXED", Improved: "IMPROVED",
	Changed: "CHANGED", Appeared: "APPEARED", Disappeared: "DISAPPEARED",
}

// WriteTable writes the diff for people: scores, counts, then every
// finding that changed, grouped by class (unchanged ones are only counted).
// Every text taken from the reports (names, ids, titles, messages, file
// names) goes through safe: a tab or newline in a VM name would otherwise
// forge columns and rows, and an escape sequence reach the terminal.
func WriteTable(w io.Writer, d *RunDiff) error {
	safe := func(s string) string { return report.Neutralize(s, false) }
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, s := range []struct {
		label string
		r     RunRef
	}{{"OLD", d.Old}, {"NEW", d.New}} {
		fmt.Fprintf(tw, "%s\t%s\trun %s\tstarted %s\tbaseline %s %s\n", s.label, safe(cmp.Or(s.r.File, "-")), safe(s.r.ID),
			s.r.Started.UTC().Format(time.RFC3339), safe(s.r.Baseline.ID), safe(s.r.Baseline.Version))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if n := d.Narrowed; n != nil {
		for _, x := range []struct {
			side string
			s    *report.Scope
		}{{"OLD", n.Old}, {"NEW", n.New}} {
			if x.s != nil {
				fmt.Fprintf(w, "note: %s was narrowed to %s\n", x.side, safe(scopeWords(x.s)))
			}
		}
		fmt.Fprintf(w, "note: only findings both runs covered are compared (%d left out)\n", n.Dropped)
	}
	if d.BaselineChanged {
		fmt.Fprintf(w, "note: the baselines differ (%s %s → %s %s): checks may have been added, removed or changed\n",
			safe(d.Old.Baseline.ID), safe(d.Old.Baseline.Version), safe(d.New.Baseline.ID), safe(d.New.Baseline.Version))
	}

	fmt.Fprintln(w)
	fmt.Fprintln(tw, "SCORE\tOLD\tNEW\tDELTA\tWITHOUT WAIVERS (OLD → NEW)")
	row := func(name string, s ScoreDelta, note string) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s → %s (%s)%s\n", name, fmtScore(s.Old), fmtScore(s.New), fmtDelta(s.Delta),
			fmtScore(s.OldWithoutWaivers), fmtScore(s.NewWithoutWaivers), fmtDelta(s.DeltaWithoutWaivers), note)
	}
	row("overall", d.Score, "")
	for _, t := range d.Targets {
		note := ""
		if t.Change != TargetUnchanged {
			note = "  target " + strings.ReplaceAll(t.Change, "_", " ")
			if t.Error != "" {
				note += ": " + safe(firstLine(t.Error))
			}
			if t.NotCompared > 0 {
				what := "findings"
				if t.NotCompared == 1 {
					what = "finding"
				}
				note += fmt.Sprintf(" (its %d %s in OLD not compared)", t.NotCompared, what)
			}
		}
		row("  "+safe(t.Name), t.Score, note)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w)
	var parts []string
	for _, c := range Classes {
		parts = append(parts, fmt.Sprintf("%s %d", strings.ReplaceAll(string(c), "_", " "), d.Counts.Of(c)))
	}
	fmt.Fprintln(w, strings.Join(parts, " · "))

	for _, c := range Classes {
		if c == Unchanged || d.Counts.Of(c) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s (%d)\n", classTitles[c], d.Counts.Of(c))
		fmt.Fprintln(tw, "  SEVERITY\tTARGET\tOBJECT\tCHECK\tOLD → NEW\tTITLE")
		for i := range d.Findings {
			f := &d.Findings[i]
			if f.Class != c {
				continue
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s %s\t%s\t%s → %s\t%s\n", safe(string(f.Severity)), safe(f.Target), safe(f.Object.Kind),
				safe(cmp.Or(f.Object.Name, f.Object.ID)), safe(f.CheckID), safe(fmtSide(f.Old)), safe(fmtSide(f.New)), safe(f.Title))
			if (c == NewFailure || c == Regressed) && f.New != nil && f.New.Message != "" {
				fmt.Fprintf(tw, "  \t\t\t\t\t  %s\n", safe(firstLine(f.New.Message)))
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	if len(d.Checks.Added)+len(d.Checks.Removed) > 0 {
		fmt.Fprintf(w, "\nchecks only in NEW: %s\nchecks only in OLD: %s\n", safe(joinOrNone(d.Checks.Added)), safe(joinOrNone(d.Checks.Removed)))
	}
	if len(d.Objects.Added)+len(d.Objects.Removed) > 0 {
		names := func(ks []ObjectKey) []string {
			var s []string
			for _, k := range ks {
				s = append(s, safe(fmt.Sprintf("%s/%s %s", k.Target, k.Kind, cmp.Or(k.Name, k.ID))))
			}
			return s
		}
		fmt.Fprintf(w, "objects only in NEW: %s\nobjects only in OLD: %s\n", joinOrNone(names(d.Objects.Added)), joinOrNone(names(d.Objects.Removed)))
	}

	fmt.Fprintln(w)
	at := ""
	if d.FailOn != "" && d.FailOn != string(findings.SeverityInfo) {
		at = " at or above " + safe(d.FailOn)
	}
	if d.FailOn == string(findings.FailOnNone) {
		at = " (--fail-on none: nothing gates)"
	}
	if d.NewlyFailing() {
		_, err := fmt.Fprintf(w, "%d newly failing%s (fails --fail-on-new)\n", d.Gating, at)
		return err
	}
	_, err := fmt.Fprintf(w, "nothing newly failing%s\n", at)
	return err
}

// scopeWords describes a run's scope in one line.
func scopeWords(s *report.Scope) string {
	var parts []string
	for _, x := range []struct {
		what string
		v    []string
	}{{"checks", s.Checks}, {"areas", s.Areas}, {"objects", s.Objects}} {
		if len(x.v) > 0 {
			parts = append(parts, x.what+" "+strings.Join(x.v, ", "))
		}
	}
	return strings.Join(parts, "; ")
}

func joinOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}
