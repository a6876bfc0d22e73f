package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hvaudit/hvaudit/agent"
	"github.com/hvaudit/hvaudit/agent/history"
	"github.com/hvaudit/hvaudit/report"
)

// historyFlags locate the history: --history, or the [serve] history of
// --config.
type historyFlags struct {
	history, config, format, target string
}

func (h *historyFlags) register(cmd *cobra.Command, formats string) {
	cmd.Flags().StringVar(&h.history, "history", "", "history: a SQLite file or a postgres:// URL")
	cmd.Flags().StringVar(&h.config, "config", "", "read the history location from this config's [serve] history")
	cmd.Flags().StringVar(&h.format, "format", "table", formats)
	cmd.Flags().StringVar(&h.target, "target", "", "only this target")
}

func (h *historyFlags) open(ctx context.Context, mustExist bool) (*history.Store, error) {
	loc := h.history
	if loc == "" && h.config != "" {
		cfg, err := agent.LoadConfig(h.config)
		if err != nil {
			return nil, usageError(err)
		}
		loc = cfg.Serve.History
	}
	if loc == "" {
		return nil, usageError(errors.New("give --history PATH (a SQLite file or postgres:// URL) or --config FILE with [serve] history"))
	}
	s, err := history.Open(ctx, loc, history.Options{MustExist: mustExist})
	if err != nil {
		return nil, usageError(err)
	}
	return s, nil
}

func (h *historyFlags) tableOrJSON() error {
	if h.format != "table" && h.format != "json" {
		return usageError(fmt.Errorf("--format %q: use table or json", h.format))
	}
	return nil
}

func newHistoryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "history",
		Short: "Read the run history that serve and audit --history keep",
		Long: `Read the history of runs: every target's run with its score, counts, drift and
whole report. Works while serve is running (SQLite in WAL mode; PostgreSQL).`,
	}
	cmd.AddCommand(newHistoryListCmd(), newHistoryShowCmd(), newHistoryTrendCmd(), newHistoryPruneCmd())
	return cmd
}

func newHistoryListCmd() *cobra.Command {
	var h historyFlags
	var limit int
	var since time.Duration
	cmd := &cobra.Command{
		Use:     "list --history PATH",
		Short:   "List stored runs, oldest first (json: an array, one element per run)",
		Example: "  hvaudit history list --history /var/lib/hvaudit/history.db --format json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := h.tableOrJSON(); err != nil {
				return err
			}
			s, err := h.open(cmd.Context(), true)
			if err != nil {
				return err
			}
			defer s.Close()
			q := history.Query{Target: h.target, Limit: limit}
			if since > 0 {
				q.Since = time.Now().Add(-since)
			}
			runs, err := s.List(cmd.Context(), q)
			if err != nil {
				return usageError(err)
			}
			if h.format == "json" {
				return history.WriteRunsJSON(cmd.OutOrStdout(), runs)
			}
			return history.WriteRunsTable(cmd.OutOrStdout(), runs)
		},
	}
	h.register(cmd, "table or json")
	cmd.Flags().IntVar(&limit, "limit", 0, "only the newest N runs")
	cmd.Flags().DurationVar(&since, "since", 0, "only runs started within this long, e.g. 168h")
	return cmd
}

func newHistoryShowCmd() *cobra.Command {
	var h historyFlags
	cmd := &cobra.Command{
		Use:   "show RUN_ID --history PATH",
		Short: "Print a stored run's report (a unique prefix of the run id is enough)",
		Long: `Print a stored run's report in a report format: table (default), json (the
hvaudit/report/v1 document, which 'hvaudit report --from' and 'hvaudit diff'
read), or any other format 'hvaudit report' writes.`,
		Example: "  hvaudit history show 3f2a --history /var/lib/hvaudit/history.db --format json > run.json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w, err := report.For(h.format, report.Options{Color: agent.IsTerminal(cmd.OutOrStdout())})
			if err != nil {
				return usageError(err)
			}
			s, err := h.open(cmd.Context(), true)
			if err != nil {
				return err
			}
			defer s.Close()
			run, _, err := s.Report(cmd.Context(), args[0], h.target)
			if err != nil {
				return usageError(err)
			}
			return w.Write(cmd.OutOrStdout(), run)
		},
	}
	h.register(cmd, "table, json, or another report format ("+strings.Join(report.Formats(), ", ")+")")
	return cmd
}

func newHistoryTrendCmd() *cobra.Command {
	var h historyFlags
	var since time.Duration
	cmd := &cobra.Command{
		Use:     "trend --history PATH",
		Short:   "Each target's score over its runs, with deltas and new failures",
		Example: "  hvaudit history trend --history /var/lib/hvaudit/history.db --since 720h",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := h.tableOrJSON(); err != nil {
				return err
			}
			s, err := h.open(cmd.Context(), true)
			if err != nil {
				return err
			}
			defer s.Close()
			q := history.Query{Target: h.target}
			if since > 0 {
				q.Since = time.Now().Add(-since)
			}
			runs, err := s.List(cmd.Context(), q)
			if err != nil {
				return usageError(err)
			}
			trends := history.Trend(runs)
			if h.format == "json" {
				return writeJSON(cmd.OutOrStdout(), trends)
			}
			return history.WriteTrendTable(cmd.OutOrStdout(), trends)
		},
	}
	h.register(cmd, "table or json")
	cmd.Flags().DurationVar(&since, "since", 0, "only runs started within this long, e.g. 720h")
	return cmd
}

func newHistoryPruneCmd() *cobra.Command {
	var h historyFlags
	var olderThan string
	cmd := &cobra.Command{
		Use:   "prune --history PATH --older-than 400d",
		Short: "Delete runs older than a age (each target's newest run is kept)",
		Long: `Delete runs (and their drift events) started longer ago than --older-than, in
days (400d) or as a Go duration (9600h). Each target's newest run is kept, so
the next run still has something to compare with. serve prunes by itself
with [serve] retention_days.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			age, err := parseAge(olderThan)
			if err != nil {
				return usageError(err)
			}
			s, err := h.open(cmd.Context(), true)
			if err != nil {
				return err
			}
			defer s.Close()
			cutoff := time.Now().Add(-age)
			n, err := s.Prune(cmd.Context(), cutoff)
			if err != nil {
				return usageError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "pruned %d runs started before %s (each target's newest run is kept)\n", n, cutoff.UTC().Format(time.RFC3339))
			return nil
		},
	}
	h.register(cmd, "unused")
	cmd.Flags().StringVar(&olderThan, "older-than", "", "age of the runs to delete: 400d, or a duration such as 9600h (required)")
	return cmd
}

// parseAge reads "400d" or a Go duration.
func parseAge(s string) (time.Duration, error) {
	if s == "" {
		return 0, errors.New("--older-than is required (e.g. 400d)")
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 1 {
			return 0, fmt.Errorf("--older-than %q: use a number of days such as 400d", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("--older-than %q: use days (400d) or a duration (9600h)", s)
	}
	return d, nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
