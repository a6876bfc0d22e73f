// Package reporttest builds the runs and findings that tests of whatever
// reads reports (the agent's outputs, diff, drift) compare and write.
package reporttest

import (
	"strings"
	"time"

	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/report"
)

// Finding is a high-severity isolation finding on VM id (named "name-"+id)
// with the given status; "waived:fail" is a waived finding observed as
// fail.
func Finding(target, check, id, status string) findings.Finding {
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

// Run is a run with id, started 2026-11-20 12:00 UTC, of those targets
// and findings, summarised as the engine does.
func Run(id string, targets []report.TargetResult, fs ...findings.Finding) *report.Run {
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

// OKTarget is an ESXi target that was read.
func OKTarget(name string) report.TargetResult {
	return report.TargetResult{Name: name, Platform: "esxi", Status: report.TargetOK}
}

// ErrTarget is an ESXi target that could not be read.
func ErrTarget(name string) report.TargetResult {
	return report.TargetResult{Name: name, Platform: "esxi", Status: report.TargetError, Error: "connection refused"}
}
