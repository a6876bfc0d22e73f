package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/report"
)

// Runs and files for the agent's tests (agent/diff's tests build the same
// runs for themselves).

// fnd builds a finding of a VM check; status "waived:fail" is a waived
// finding observed as fail.
func fnd(target, check, id, status string) findings.Finding {
	f := findings.Finding{
		CheckID: check, Title: check + " title", Area: "isolation", Severity: findings.SeverityHigh,
		Target: target, Object: findings.ObjectRef{Kind: "vm", ID: id, Name: "name-" + id},
		Status: findings.Status(status), Message: "msg " + status,
	}
	if obs, ok := strings.CutPrefix(status, "waived:"); ok {
		f.Status, f.ObservedStatus = findings.StatusWaived, findings.Status(obs)
		f.Waiver = &findings.Waiver{CheckID: check, Justification: "accepted", Expires: "2030-01-01T00:00:00Z"}
	}
	return f
}

func mkRun(id string, targets []report.TargetResult, fs ...findings.Finding) *report.Run {
	var failed []string
	for _, t := range targets {
		if t.Status == report.TargetError {
			failed = append(failed, t.Name)
		}
	}
	return &report.Run{
		Schema: report.Schema, Tool: report.Tool{Name: "hvaudit", Version: "test"},
		Run: report.RunInfo{ID: id, Started: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC),
			Baseline: report.BaselineInfo{ID: "b", Version: "1", SHA256: strings.Repeat("a", 64)}},
		Targets: targets, Findings: fs, Summary: findings.Summarize(fs, failed),
	}
}

func okTarget(name string) report.TargetResult {
	return report.TargetResult{Name: name, Platform: "esxi", Status: report.TargetOK}
}

func errTarget(name string) report.TargetResult {
	return report.TargetResult{Name: name, Platform: "esxi", Status: report.TargetError, Error: "connection refused"}
}

func writeTemp(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
