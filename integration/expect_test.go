package integration

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/report"
)

// wantExit is the exit code DESIGN.md §5 gives a run, worked out from the
// report itself: 3 when a target could not be read or an error finding is
// at or above failOn, else 1 when a fail is, else 0.
func wantExit(run *report.Run, failOn findings.Severity) int {
	incomplete, failing := false, false
	for _, t := range run.Targets {
		incomplete = incomplete || t.Status != report.TargetOK
	}
	for _, f := range run.Findings {
		if f.Severity.Rank() < failOn.Rank() {
			continue
		}
		incomplete = incomplete || f.Status == findings.StatusError
		failing = failing || f.Status == findings.StatusFail
	}
	switch {
	case incomplete:
		return 3
	case failing:
		return 1
	}
	return 0
}

// severityWeight is DESIGN.md §4's weight, written out here rather than
// taken from the checks package, so the test recomputes the score itself.
var severityWeight = map[findings.Severity]int{"critical": 10, "high": 6, "medium": 3, "low": 1, "info": 0}

// wantScores recomputes a set of findings' score and score without
// waivers (passed weight over pass + fail + error weight, two decimals).
func wantScores(fs []findings.Finding) (score, withoutWaivers *float64) {
	var passed, total, passedAll, totalAll int
	for _, f := range fs {
		w := severityWeight[f.Severity]
		switch f.Status {
		case findings.StatusPass:
			passed, total, passedAll, totalAll = passed+w, total+w, passedAll+w, totalAll+w
		case findings.StatusFail, findings.StatusError:
			total, totalAll = total+w, totalAll+w
		case findings.StatusWaived:
			totalAll += w
		}
	}
	ratio := func(p, t int) *float64 {
		if t == 0 {
			return nil
		}
		v := float64(int64(float64(p)*10000/float64(t)+0.5)) / 100
		return &v
	}
	return ratio(passed, total), ratio(passedAll, totalAll)
}

// assertScoresExact checks the run's overall and per-target scores against
// the recomputation.
func assertScoresExact(t *testing.T, run *report.Run) {
	t.Helper()
	eq := func(a, b *float64) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }
	show := func(p *float64) string {
		if p == nil {
			return "null"
		}
		return strings.TrimRight(strings.TrimRight(jsonNum(*p), "0"), ".")
	}
	s, sw := wantScores(run.Findings)
	if !eq(run.Summary.Score, s) || !eq(run.Summary.ScoreWithoutWaivers, sw) {
		t.Errorf("score %s (without waivers %s), recomputed %s (%s)", show(run.Summary.Score), show(run.Summary.ScoreWithoutWaivers), show(s), show(sw))
	}
	byTarget := map[string][]findings.Finding{}
	for _, f := range run.Findings {
		byTarget[f.Target] = append(byTarget[f.Target], f)
	}
	for name, fs := range byTarget {
		s, sw := wantScores(fs)
		got := run.Summary.ByTarget[name]
		if !eq(got.Score, s) || !eq(got.ScoreWithoutWaivers, sw) {
			t.Errorf("target %s: score %s (%s), recomputed %s (%s)", name, show(got.Score), show(got.ScoreWithoutWaivers), show(s), show(sw))
		}
	}
}

func jsonNum(f float64) string {
	b, _ := json.Marshal(f)
	return string(b) + "."
}
