package metrics

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/report"
)

func part(status string, fs ...findings.Finding) *report.Run {
	start := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)
	var failed []string
	if status == report.TargetError {
		failed = []string{"vc01"}
	}
	return &report.Run{Run: report.RunInfo{Started: start, Finished: start.Add(2500 * time.Millisecond)},
		Targets: []report.TargetResult{{Name: "vc01", Status: status}}, Findings: fs, Summary: findings.Summarize(fs, failed)}
}

func f(status findings.Status, sev findings.Severity) findings.Finding {
	return findings.Finding{CheckID: "C", Target: "vc01", Status: status, Severity: sev, Object: findings.ObjectRef{ID: string(status) + string(sev)}}
}

// TestObserve: a readable target's run sets every series, zeros included;
// an unreadable one keeps no score or counts (a 0 would read as "fine").
func TestObserve(t *testing.T) {
	s := New(false)
	s.Observe(part(report.TargetOK, f(findings.StatusPass, findings.SeverityHigh), f(findings.StatusFail, findings.SeverityHigh), f(findings.StatusFail, findings.SeverityLow)))
	s.AddDrift("vc01", 2)
	want := `
# HELP hvaudit_score Score of the target's last audit, 0-100 (severity-weighted pass over pass+fail+error); absent when nothing was scored.
# TYPE hvaudit_score gauge
hvaudit_score{target="vc01"} 46.15
`
	if err := testutil.GatherAndCompare(s.Registry(), strings.NewReader(want), "hvaudit_score"); err != nil {
		t.Error(err)
	}
	if v := testutil.ToFloat64(s.up.WithLabelValues("vc01")); v != 1 {
		t.Errorf("target_up %v", v)
	}
	if v := testutil.ToFloat64(s.duration.WithLabelValues("vc01")); v != 2.5 {
		t.Errorf("duration %v", v)
	}
	if v := testutil.ToFloat64(s.lastRun.WithLabelValues("vc01")); v != 1795140002.5 {
		t.Errorf("last run %v", v)
	}
	if v := testutil.ToFloat64(s.drift.WithLabelValues("vc01")); v != 2 {
		t.Errorf("drift %v", v)
	}
	if n := testutil.CollectAndCount(s.findings); n != 25 {
		t.Errorf("%d findings series, want 5 statuses × 5 severities", n)
	}
	if v := testutil.ToFloat64(s.findings.WithLabelValues("vc01", "fail", "high")); v != 1 {
		t.Errorf("fail/high %v", v)
	}

	s.Observe(part(report.TargetError))
	if v := testutil.ToFloat64(s.up.WithLabelValues("vc01")); v != 0 {
		t.Errorf("target_up of an unreadable target %v", v)
	}
	if n := testutil.CollectAndCount(s.score) + testutil.CollectAndCount(s.findings); n != 0 {
		t.Errorf("an unreadable target kept %d score/findings series", n)
	}

	path := filepath.Join(t.TempDir(), "hvaudit.prom")
	if err := s.WriteTextfile(path); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), `hvaudit_target_up{target="vc01"} 0`) || strings.Contains(string(b), "go_goroutines") {
		t.Errorf("textfile:\n%s", b)
	}
}
