package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/hvaudit/hvaudit/agent"
	"github.com/hvaudit/hvaudit/agent/diff"
	"github.com/hvaudit/hvaudit/checks"
	"github.com/hvaudit/hvaudit/checks/findings"
)

func newDiffCmd() *cobra.Command {
	var format, baseline, failOn string
	var failOnNew bool
	cmd := &cobra.Command{
		Use:   "diff OLD.json NEW.json",
		Short: "Compare two JSON reports: new failures, fixed, regressed, score delta",
		Long: `Compare two native JSON reports. Findings match on (target, check id,
object id) and are classed on their observed status (observed_status for a
waived finding: a waiver is an accepted risk, not a change to the estate):

  new_failure   fail or error in NEW; absent, pass or not_applicable in OLD
  regressed     failing in both, worse in NEW (order: pass < fail < error)
  fixed         fail or error in OLD, pass in NEW
  improved      failing in both, better in NEW (error → fail)
  changed       not failing in NEW, another status than in OLD
                (pass ↔ not_applicable, failing → not_applicable)
  unchanged     same observed status
  appeared      only in NEW, not failing
  disappeared   only in OLD

A check renamed between the runs pairs under its current id: the baseline's
aliases (--baseline, default builtin:default) map former ids to it.

A target audited in OLD that is an error in NEW counts as newly failing: its
findings would otherwise just disappear.

A target that is an error in NEW is one line (its findings in OLD are not
compared one by one). When either run was narrowed (audit --check, --area,
--object), only the findings both runs covered are compared.

Exit codes: 0; 1 with --fail-on-new when something newly fails (a new failure
not covered by a waiver in NEW, at or above --fail-on when given, or a
target newly in error); 2 usage error or unreadable input.`,
		Example: `  hvaudit diff before.json after.json
  hvaudit diff before.json after.json --format json --fail-on-new
  hvaudit diff before.json after.json --fail-on-new --fail-on high`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := oneOf("format", format, listFormats, nil); err != nil {
				return err
			}
			var gateAt findings.Severity
			if failOn != "" {
				sev, err := agent.ParseSeverity(failOn)
				if err != nil {
					return usageError(err)
				}
				gateAt = sev
			}
			old, err := agent.ReadRunFile(args[0])
			if err != nil {
				return usageError(err)
			}
			cur, err := agent.ReadRunFile(args[1])
			if err != nil {
				return usageError(err)
			}
			// Renamed checks pair with their successors: the baseline
			// says which ids are former ids of which check.
			b, err := checks.LoadBaseline(baseline)
			if err != nil {
				return usageError(err)
			}
			d := diff.Runs(old, cur, b.AliasMap())
			d.Old.File, d.New.File = args[0], args[1]
			if gateAt != "" {
				d.GateFrom(gateAt)
			}
			if format == "json" {
				err = diff.WriteJSON(cmd.OutOrStdout(), d)
			} else {
				err = diff.WriteTable(cmd.OutOrStdout(), d)
			}
			if err != nil {
				return usageError(err)
			}
			if failOnNew && d.NewlyFailing() {
				return &agent.ExitError{Code: 1}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "table or json (hvaudit/diff/v1)")
	cmd.Flags().StringVar(&baseline, "baseline", "builtin:default", "baseline whose check aliases pair renamed checks (former id → current id)")
	cmd.Flags().BoolVar(&failOnNew, "fail-on-new", false, "exit 1 when anything newly fails (the change-window gate)")
	cmd.Flags().StringVar(&failOn, "fail-on", "", "with --fail-on-new, only new failures at or above this severity gate: "+strings.Join(agent.FailOnValues, ", ")+" (default: every severity)")
	mustComplete(cmd, "format", completeValues(listFormats))
	mustComplete(cmd, "fail-on", completeValues(agent.FailOnValues))
	return cmd
}
