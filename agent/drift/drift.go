// Package drift finds what got worse between two runs of one target and
// tells someone: one event per new failure or regression, and a signed
// webhook POST.
//
// Two runs are compared with `hvaudit diff`'s logic (agent/diff): a
// finding is matched on (target, check id, object id) and classed on its
// observed status, so adding or removing a waiver is not drift. What is
// drift is a new_failure or a regressed finding that no live waiver covers
// in the newer run: a waived finding is an accepted risk, not news.
package drift

import (
	"time"

	"github.com/hvaudit/hvaudit/agent/diff"
	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/report"
)

// Causes: why a finding got worse. Only estate-changed is drift of the
// estate itself; the others coincide with a change to what it is judged
// against, and say so rather than raise a false alarm about the estate.
const (
	CauseEstate     = "estate-changed"     // same baseline and advisory data: the estate changed
	CauseBaseline   = "baseline-changed"   // the baseline or tailoring differs between the runs
	CauseAdvisories = "advisories-changed" // the advisory data differs and the finding is a patch-level one
)

// Object is the object a finding is about.
type Object struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Event is one finding that got worse between two runs of a target.
type Event struct {
	Target        string            `json:"target"`
	RunID         string            `json:"run_id"`
	PreviousRunID string            `json:"previous_run_id"`
	At            time.Time         `json:"at"` // the newer run's start
	CheckID       string            `json:"check_id"`
	Title         string            `json:"title"`
	Area          string            `json:"area"`
	Severity      findings.Severity `json:"severity"`
	Object        Object            `json:"object"`
	Class         diff.Class        `json:"class"`      // new_failure or regressed
	OldStatus     string            `json:"old_status"` // observed status before; "absent" when the finding is new
	NewStatus     string            `json:"new_status"`
	Cause         string            `json:"cause"`
}

// Detect compares the previous run of a target with the current one.
// aliases is the baseline's AliasMap, so a renamed check pairs with its
// successor. prev nil (a target's first run) has no drift.
func Detect(prev, cur *report.Run, aliases map[string]string) []Event {
	if prev == nil || cur == nil {
		return nil
	}
	d := diff.Runs(prev, cur, aliases)
	baselineChanged := prev.Run.Baseline.SHA256 != cur.Run.Baseline.SHA256 ||
		prev.Run.TailoringSHA256 != cur.Run.TailoringSHA256
	advisoriesChanged := prev.Run.Advisories.SHA256 != cur.Run.Advisories.SHA256
	var events []Event
	for _, f := range d.Findings {
		if f.Class != diff.NewFailure && f.Class != diff.Regressed {
			continue
		}
		if f.New == nil || f.New.Status == findings.StatusWaived {
			continue
		}
		e := Event{
			Target: f.Target, RunID: cur.Run.ID, PreviousRunID: prev.Run.ID, At: cur.Run.Started,
			CheckID: f.CheckID, Title: f.Title, Area: f.Area, Severity: f.Severity,
			Object: Object{Kind: f.Object.Kind, ID: f.Object.ID, Name: f.Object.Name},
			Class:  f.Class, OldStatus: observed(f.Old), NewStatus: observed(f.New), Cause: CauseEstate,
		}
		switch {
		case baselineChanged:
			e.Cause = CauseBaseline
		case advisoriesChanged && f.Area == "patch":
			e.Cause = CauseAdvisories
		}
		events = append(events, e)
	}
	return events
}

// observed is the status diff compares: observed_status for a waived
// finding, "absent" when the run has no such finding.
func observed(s *diff.Side) string {
	switch {
	case s == nil:
		return "absent"
	case s.Status == findings.StatusWaived && s.ObservedStatus != "":
		return string(s.ObservedStatus)
	}
	return string(s.Status)
}
