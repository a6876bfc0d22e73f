package serve

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/rs/zerolog"

	"github.com/hvaudit/hvaudit/agent"
	"github.com/hvaudit/hvaudit/agent/drift"
	"github.com/hvaudit/hvaudit/agent/history"
	"github.com/hvaudit/hvaudit/agent/metrics"
	"github.com/hvaudit/hvaudit/report"
)

// Recorder files a finished run: one stored run per target, drift against
// that target's previous readable run, metrics, one outcome line per
// target, and the drift events to Notify. `serve` and `audit --history`
// share it, so a cron job and the daemon record runs the same way.
type Recorder struct {
	Store   *history.Store
	Aliases map[string]string // the baseline's AliasMap
	Metrics *metrics.Set      // nil: none
	Log     zerolog.Logger
	Agent   string // who ran it (AgentName)
	// Notify receives each target's drift events (nil: nobody).
	Notify func(drift.Payload)
}

// Outcome is what recording one target's run found.
type Outcome struct {
	Run    *report.Run // the target's part of the run
	Events []drift.Event
	// FirstRun is true when the history had no earlier readable run of
	// the target to compare with.
	FirstRun bool
}

// AgentName identifies this process in the history: host and PID, so two
// agents on one host stay apart.
func AgentName() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	return fmt.Sprintf("%s/%d", host, os.Getpid())
}

// Record stores every target of a run. Saving is not cut short by ctx's
// cancellation (a SIGTERM arriving while a run is filed still files it);
// it has its own bound.
func (r *Recorder) Record(ctx context.Context, run *report.Run) ([]Outcome, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	var out []Outcome
	for _, part := range agent.SplitByTarget(run) {
		o, err := r.recordTarget(ctx, part)
		if err != nil {
			return out, err
		}
		out = append(out, o)
	}
	return out, nil
}

func (r *Recorder) recordTarget(ctx context.Context, part *report.Run) (Outcome, error) {
	t := part.Targets[0]
	o := Outcome{Run: part}
	if t.Status == report.TargetOK {
		prev, _, err := r.Store.LatestReport(ctx, t.Name, true)
		if err != nil {
			return o, err
		}
		o.FirstRun = prev == nil
		o.Events = drift.Detect(prev, part, r.Aliases)
	}
	if err := r.Store.Save(ctx, part, r.Agent, o.Events); err != nil {
		return o, err
	}
	if r.Metrics != nil {
		r.Metrics.Observe(part)
		r.Metrics.AddDrift(t.Name, len(o.Events))
	}
	for _, e := range o.Events {
		r.Log.Warn().Str("event", "drift").Str("target", e.Target).Str("check", e.CheckID).Str("severity", string(e.Severity)).
			Str("object", e.Object.Name).Str("object_id", e.Object.ID).Str("object_kind", e.Object.Kind).
			Str("class", string(e.Class)).Str("old_status", e.OldStatus).Str("new_status", e.NewStatus).
			Str("cause", e.Cause).Str("run_id", e.RunID).Str("previous_run_id", e.PreviousRunID).
			Msg("drift: " + e.CheckID + " on " + e.Object.Name + " " + e.OldStatus + " → " + e.NewStatus)
	}
	r.logOutcome(o)
	if len(o.Events) > 0 && r.Notify != nil {
		r.Notify(drift.NewPayload(o.Events))
	}
	return o, nil
}

// logOutcome writes the one line per run that journald, a log shipper or
// a person reading the log needs: target, score, counts, new failures and
// how long it took.
func (r *Recorder) logOutcome(o Outcome) {
	outcomeEvent(r.Log, o.Run).Int("new_failures", len(o.Events)).Bool("first_run", o.FirstRun).Msg("audit run finished")
}

// LogOutcomes logs the outcome line of each target of a run that is not
// recorded in a history (`audit` without --history): the same line
// without drift.
func LogOutcomes(log zerolog.Logger, run *report.Run) {
	for _, part := range agent.SplitByTarget(run) {
		outcomeEvent(log, part).Msg("audit run finished")
	}
}

func outcomeEvent(log zerolog.Logger, part *report.Run) *zerolog.Event {
	t := part.Targets[0]
	c := part.Summary.Counts
	ev := log.Info()
	if t.Status == report.TargetError {
		ev = log.Error().Str("target_error", t.Error)
	}
	ev = ev.Str("event", "run").Str("target", t.Name).Str("run_id", part.Run.ID).Str("status", t.Status)
	if part.Summary.Score != nil {
		ev = ev.Float64("score", *part.Summary.Score)
	} else {
		ev = ev.Interface("score", nil)
	}
	return ev.Int("pass", c.Pass).Int("fail", c.Fail).Int("error", c.Error).Int("waived", c.Waived).Int("not_applicable", c.NotApplicable).
		Int64("duration_ms", part.Run.Finished.Sub(part.Run.Started).Milliseconds())
}
