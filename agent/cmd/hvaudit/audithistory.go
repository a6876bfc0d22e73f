package main

import (
	"fmt"
	"io"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/hvaudit/hvaudit/agent"
	"github.com/hvaudit/hvaudit/agent/drift"
	"github.com/hvaudit/hvaudit/agent/history"
	"github.com/hvaudit/hvaudit/agent/metrics"
	"github.com/hvaudit/hvaudit/agent/serve"
	"github.com/hvaudit/hvaudit/checks"
	"github.com/hvaudit/hvaudit/report"
)

// recordAudit is `audit --history` and `--metrics-textfile`, for cron users
// without the daemon: the run is stored like serve stores it, its drift
// against each target's previous run is printed (and POSTed to the
// config's [serve] webhook_url), and the metrics serve would expose are
// written for node_exporter.
func recordAudit(cmd *cobra.Command, f *auditFlags, cfg *agent.Config, run *report.Run, outs []agent.Output, log zerolog.Logger) error {
	if f.history == "" {
		serve.LogOutcomes(log, run) // with a history, the recorder logs it
	}
	if f.history == "" && f.metricsTextfile == "" {
		return nil
	}
	m := metrics.New(false)
	m.Observe(run)
	if f.history != "" {
		store, err := history.Open(cmd.Context(), f.history, history.Options{})
		if err != nil {
			return usageError(err)
		}
		defer store.Close()
		b, err := checks.LoadBaseline(pickRef(f.baseline, cfg.Baseline))
		if err != nil {
			return usageError(err)
		}
		wh, warnings, err := serve.WebhookFor(cfg)
		if err != nil {
			return usageError(err)
		}
		for _, w := range warnings {
			log.Warn().Msg(w)
		}
		rec := &serve.Recorder{Store: store, Aliases: b.AliasMap(), Log: log, Agent: serve.AgentName(),
			Notify: func(p drift.Payload) {
				if wh == nil {
					return
				}
				if err := wh.Send(cmd.Context(), p); err != nil {
					log.Error().Err(err).Str("target", p.Target).Msg("drift webhook failed")
				}
			}}
		outcomes, err := rec.Record(cmd.Context(), run)
		if err != nil {
			return &agent.ExitError{Code: agent.ExitUsage, Err: err}
		}
		printDrift(driftWriter(cmd, outs), outcomes)
		for _, o := range outcomes {
			// The textfile is read by a fresh node_exporter scrape each
			// time: the counter is the history's count for the target.
			name := o.Run.Targets[0].Name
			n, err := store.DriftCount(cmd.Context(), name)
			if err != nil {
				return usageError(err)
			}
			m.AddDrift(name, n)
		}
	}
	if f.metricsTextfile != "" {
		if err := m.WriteTextfile(f.metricsTextfile); err != nil {
			return usageError(err)
		}
	}
	return nil
}

func pickRef(flag, conf string) string {
	switch {
	case flag != "":
		return flag
	case conf != "":
		return conf
	}
	return "builtin:default"
}

// driftWriter is standard output unless a report goes there: then the
// drift goes to standard error, so the report stays parseable.
func driftWriter(cmd *cobra.Command, outs []agent.Output) io.Writer {
	for _, o := range outs {
		if o.ToStdout() {
			return cmd.ErrOrStderr()
		}
	}
	return cmd.OutOrStdout()
}

func printDrift(w io.Writer, outcomes []serve.Outcome) {
	for _, o := range outcomes {
		t := o.Run.Targets[0]
		switch {
		case t.Status == report.TargetError:
			fmt.Fprintf(w, "drift %s: not compared (the target could not be read: %s)\n", t.Name, t.Error)
		case o.FirstRun:
			fmt.Fprintf(w, "drift %s: first readable run in the history, nothing to compare with\n", t.Name)
		case len(o.Events) == 0:
			fmt.Fprintf(w, "drift %s: nothing newly failing since the previous run\n", t.Name)
		default:
			fmt.Fprintf(w, "drift %s: %d newly failing since run %s\n", t.Name, len(o.Events), o.Events[0].PreviousRunID)
			for _, e := range o.Events {
				fmt.Fprintf(w, "  %-8s %-18s %-24s %s → %s  (%s, %s)\n", e.Severity, e.CheckID, e.Object.Name, e.OldStatus, e.NewStatus, e.Class, e.Cause)
			}
		}
	}
}
