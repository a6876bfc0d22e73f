package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/hvaudit/hvaudit/checks"
)

// lintWindow is how far ahead `waivers lint` warns about expiry.
const lintWindow = 30 * 24 * time.Hour

func newWaiversCmd() *cobra.Command {
	var baseline string
	cmd := &cobra.Command{Use: "waivers", Short: "Work with waiver files (accepted risks)"}
	lint := &cobra.Command{
		Use:   "lint FILE",
		Short: "Check a waivers file; list waivers expiring within 30 days and expired ones",
		Long: `Load a waivers file exactly as 'audit --waivers' does and summarise it.

A waiver is a [[waiver]] table: check (id or glob, required), target and
object (globs; object matches the object's name or id; empty matches all),
justification (required, not blank), approver, expires (RFC 3339 date-time
with a zone, required). It covers fail and error findings only, until it
expires. '*' and '?' match '/' too, so target = "*" covers qemu:///system.
Every check glob must match a check (or a former id) of the baseline
(--baseline, default builtin:default): a typo would waive nothing.

Exit codes: 0 valid (expiring and expired waivers are listed, not errors);
2 invalid, with FILE:LINE.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ws, err := checks.LoadWaivers(args[0])
			if err != nil {
				return usageError(err)
			}
			b, err := checks.LoadBaseline(baseline)
			if err != nil {
				return usageError(err)
			}
			if errs := ws.UnknownChecks(b); len(errs) > 0 {
				return usageError(errors.Join(errs...))
			}
			now := time.Now()
			expiring, expired := ws.Expiring(now, lintWindow)
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%s: %d waivers, %d expiring within 30 days, %d expired\n", args[0], len(ws.Rules), len(expiring), len(expired))
			for _, r := range expiring {
				fmt.Fprintf(w, "  %s:%d: %s expires %s (in %d days)\n", r.File, r.Line, describeWaiver(r),
					r.Expires.Format(time.RFC3339), int(r.Expires.Sub(now).Hours()/24))
			}
			for _, r := range expired {
				fmt.Fprintf(w, "  %s:%d: %s expired %s: it waives nothing\n", r.File, r.Line, describeWaiver(r), r.Expires.Format(time.RFC3339))
			}
			return nil
		},
	}
	lint.Flags().StringVar(&baseline, "baseline", "builtin:default", "baseline whose checks the waivers must name (file or builtin:NAME)")
	cmd.AddCommand(lint)
	return cmd
}

func describeWaiver(r checks.WaiverRule) string {
	s := r.Check
	if r.Target != "" {
		s += " target=" + r.Target
	}
	if r.Object != "" {
		s += " object=" + r.Object
	}
	return s
}
