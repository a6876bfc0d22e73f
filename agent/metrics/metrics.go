// Package metrics exposes audit results as Prometheus series, for `serve`'s
// /metrics and for node_exporter's textfile collector (`audit
// --metrics-textfile`). The target label is the target's name from the
// config.
package metrics

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/report"
)

// Statuses and severities every target's hvaudit_findings series covers,
// zeros included, so "no critical failure" is a 0 and not a missing series.
var (
	statuses   = []findings.Status{findings.StatusPass, findings.StatusFail, findings.StatusError, findings.StatusNotApplicable, findings.StatusWaived}
	severities = []findings.Severity{findings.SeverityCritical, findings.SeverityHigh, findings.SeverityMedium, findings.SeverityLow, findings.SeverityInfo}
)

// Set is one registry of hvaudit's series.
type Set struct {
	reg       *prometheus.Registry
	score     *prometheus.GaugeVec
	findings  *prometheus.GaugeVec
	up        *prometheus.GaugeVec
	lastRun   *prometheus.GaugeVec
	duration  *prometheus.GaugeVec
	drift     *prometheus.CounterVec
	runs      *prometheus.CounterVec
	skipped   *prometheus.CounterVec
	webhookKO *prometheus.CounterVec
}

// New builds a Set; process adds the Go runtime and process collectors
// (for a daemon, not for a textfile).
func New(process bool) *Set {
	s := &Set{
		reg: prometheus.NewRegistry(),
		score: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "hvaudit_score",
			Help: "Score of the target's last audit, 0-100 (severity-weighted pass over pass+fail+error); absent when nothing was scored."}, []string{"target"}),
		findings: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "hvaudit_findings",
			Help: "Findings of the target's last audit by status and severity; absent when the target could not be read."}, []string{"target", "status", "severity"}),
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "hvaudit_target_up",
			Help: "1 when the target's last audit could read it, 0 when the target ended in error."}, []string{"target"}),
		lastRun: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "hvaudit_last_run_timestamp_seconds",
			Help: "When the target's last audit finished (Unix time)."}, []string{"target"}),
		duration: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "hvaudit_run_duration_seconds",
			Help: "How long the target's last audit took, collection to verdict."}, []string{"target"}),
		drift: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hvaudit_drift_new_failures_total",
			Help: "Drift events: findings newly failing or regressed since the target's previous run."}, []string{"target"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hvaudit_runs_total",
			Help: "Audit runs by outcome: ok, target_error, failed (not stored), cancelled."}, []string{"target", "result"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hvaudit_runs_skipped_total",
			Help: "Scheduled runs not started: still_running (the previous run of the target), locked (another agent), done (another agent ran this tick)."}, []string{"target", "reason"}),
		webhookKO: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hvaudit_webhook_failures_total",
			Help: "Drift webhook deliveries that failed after every retry."}, []string{"target"}),
	}
	s.reg.MustRegister(s.score, s.findings, s.up, s.lastRun, s.duration, s.drift)
	if process {
		s.reg.MustRegister(s.runs, s.skipped, s.webhookKO,
			collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	return s
}

// Registry is what /metrics serves.
func (s *Set) Registry() *prometheus.Registry { return s.reg }

// Observe records one target's run (a run split by target).
func (s *Set) Observe(part *report.Run) {
	for _, t := range part.Targets {
		s.observeTarget(part, t)
	}
}

func (s *Set) observeTarget(run *report.Run, t report.TargetResult) {
	name := t.Name
	s.lastRun.WithLabelValues(name).Set(float64(run.Run.Finished.UnixMilli()) / 1000)
	s.duration.WithLabelValues(name).Set(run.Run.Finished.Sub(run.Run.Started).Seconds())
	s.drift.WithLabelValues(name) // the series exists from the first run on, at 0
	if t.Status == report.TargetError {
		s.up.WithLabelValues(name).Set(0)
		// Nothing is known about the target: no score, no counts (a 0
		// would read as "no failures").
		s.score.DeleteLabelValues(name)
		s.findings.DeletePartialMatch(prometheus.Labels{"target": name})
		return
	}
	s.up.WithLabelValues(name).Set(1)
	if sc, ok := run.Summary.ByTarget[name]; ok && sc.Score != nil {
		s.score.WithLabelValues(name).Set(*sc.Score)
	} else {
		s.score.DeleteLabelValues(name)
	}
	bySeverity := map[findings.Severity]*findings.Counts{}
	for _, sev := range severities {
		bySeverity[sev] = &findings.Counts{}
	}
	for _, f := range run.Findings {
		if c := bySeverity[f.Severity]; c != nil && f.Target == name {
			c.Add(f.Status)
		}
	}
	for _, st := range statuses {
		for _, sev := range severities {
			s.findings.WithLabelValues(name, string(st), string(sev)).Set(float64(bySeverity[sev].Of(st)))
		}
	}
}

// AddDrift counts a run's drift events.
func (s *Set) AddDrift(target string, n int) { s.drift.WithLabelValues(target).Add(float64(n)) }

// RunDone counts a run by outcome.
func (s *Set) RunDone(target, result string) { s.runs.WithLabelValues(target, result).Inc() }

// Skipped counts a run that did not start, and why.
func (s *Set) Skipped(target, reason string) { s.skipped.WithLabelValues(target, reason).Inc() }

// WebhookFailed counts a drift POST that failed for good.
func (s *Set) WebhookFailed(target string) { s.webhookKO.WithLabelValues(target).Inc() }

// Forget drops a target's series (it left the config).
func (s *Set) Forget(target string) {
	for _, v := range []*prometheus.GaugeVec{s.score, s.up, s.lastRun, s.duration} {
		v.DeleteLabelValues(target)
	}
	s.findings.DeletePartialMatch(prometheus.Labels{"target": target})
	s.drift.DeleteLabelValues(target)
}

// WriteTextfile writes the series for node_exporter's textfile collector,
// atomically (a scrape never reads half a file).
func (s *Set) WriteTextfile(path string) error {
	if err := prometheus.WriteToTextfile(path, s.reg); err != nil {
		return fmt.Errorf("metrics textfile %s: %w", path, err)
	}
	return nil
}
