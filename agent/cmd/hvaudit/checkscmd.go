package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/hvaudit/hvaudit/checks"
)

func newChecksCmd() *cobra.Command {
	var baseline, tailoring string
	cmd := &cobra.Command{Use: "checks", Short: "List or show the checks of a baseline"}
	cmd.PersistentFlags().StringVar(&baseline, "baseline", "builtin:default", "baseline file or builtin:NAME")
	cmd.PersistentFlags().StringVar(&tailoring, "tailoring", "", "tailoring file to apply first")
	load := func() (*checks.Baseline, error) {
		b, err := checks.LoadBaseline(baseline)
		if err != nil {
			return nil, usageError(err)
		}
		if tailoring != "" {
			if err := b.Tailor(tailoring); err != nil {
				return nil, usageError(err)
			}
		}
		return b, nil
	}

	var platform, area, threat, format string
	list := &cobra.Command{
		Use:   "list",
		Short: "List checks, optionally filtered by platform and area",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if threat != "" && !slices.Contains(checks.Threats, threat) {
				return usageError(fmt.Errorf("--threat %q is not one of %s", threat, strings.Join(checks.Threats, ", ")))
			}
			b, err := load()
			if err != nil {
				return err
			}
			var sel []checks.Check
			for _, c := range b.Checks() {
				if platform != "" && c.Platform != platform && c.Platform != "any" {
					continue
				}
				if area != "" && c.Area != area {
					continue
				}
				if threat != "" && !slices.Contains(c.Threats, threat) {
					continue
				}
				sel = append(sel, c)
			}
			switch format {
			case "json":
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(sel)
			case "table", "":
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tPLATFORM\tSCOPE\tAREA\tSEVERITY\tTITLE")
				for _, c := range sel {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Platform, c.Scope, c.Area, c.Severity, c.Title)
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "\n%d checks in %s %s\n", len(sel), b.ID, b.Version)
				return nil
			default:
				return usageError(fmt.Errorf("--format %q: use table or json", format))
			}
		},
	}
	list.Flags().StringVar(&platform, "platform", "", "esxi, kvm or hyperv")
	list.Flags().StringVar(&area, "area", "", "area, e.g. migration-encryption")
	list.Flags().StringVar(&threat, "threat", "", "threat the check guards against, e.g. vm-escape")
	list.Flags().StringVar(&format, "format", "table", "table or json")

	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show one check: what it reads, expects, why, and how to fix it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := load()
			if err != nil {
				return err
			}
			for _, c := range b.Checks() {
				if strings.EqualFold(c.ID, args[0]) || slices.ContainsFunc(c.Aliases, func(a string) bool { return strings.EqualFold(a, args[0]) }) {
					printCheck(cmd, c)
					return nil
				}
			}
			return usageError(fmt.Errorf("no check %q in baseline %s (see 'hvaudit checks list')", args[0], b.ID))
		},
	}
	var threatsFormat string
	threats := &cobra.Command{
		Use:   "threats",
		Short: "Show which checks guard against each threat, per platform",
		Long: `For every threat of the vocabulary, the enabled checks that guard against
it on each platform: where a cell is empty or short, coverage is thin.
--format markdown prints the table the README carries.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := load()
			if err != nil {
				return err
			}
			platforms := []string{"esxi", "kvm", "hyperv"}
			cov := b.ThreatCoverage(platforms)
			w := cmd.OutOrStdout()
			switch threatsFormat {
			case "json":
				type row struct {
					Threat      string              `json:"threat"`
					Description string              `json:"description"`
					Checks      map[string][]string `json:"checks"`
				}
				rows := make([]row, 0, len(checks.Threats))
				for _, th := range checks.Threats {
					rows = append(rows, row{th, checks.ThreatDescriptions[th], cov[th]})
				}
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			case "markdown":
				fmt.Fprintln(w, "| threat | what it means | ESXi/vCenter | KVM/QEMU | Hyper-V |")
				fmt.Fprintln(w, "|---|---|---|---|---|")
				for _, th := range checks.Threats {
					fmt.Fprintf(w, "| `%s` | %s |", th, checks.ThreatDescriptions[th])
					for _, p := range platforms {
						fmt.Fprintf(w, " %s |", coverageCell(cov[th][p]))
					}
					fmt.Fprintln(w)
				}
				return nil
			case "table", "":
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "THREAT\tESXI\tKVM\tHYPERV\tWHAT IT MEANS")
				for _, th := range checks.Threats {
					fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\n", th, len(cov[th]["esxi"]), len(cov[th]["kvm"]), len(cov[th]["hyperv"]), checks.ThreatDescriptions[th])
				}
				return tw.Flush()
			default:
				return usageError(fmt.Errorf("--format %q: use table, json or markdown", threatsFormat))
			}
		},
	}
	threats.Flags().StringVar(&threatsFormat, "format", "table", "table (counts), json or markdown (with the check ids)")
	cmd.AddCommand(list, show, threats)
	return cmd
}

func printCheck(cmd *cobra.Command, c checks.Check) {
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "%s  %s\n\n", c.ID, c.Title)
	fmt.Fprintf(w, "platform:  %s\nscope:     %s\narea:      %s\nthreats:   %s\nseverity:  %s\n",
		c.Platform, c.Scope, c.Area, strings.Join(c.Threats, ", "), c.Severity)
	if len(c.Aliases) > 0 {
		fmt.Fprintf(w, "formerly:  %s\n", strings.Join(c.Aliases, ", "))
	}
	if c.Applies != "" {
		fmt.Fprintf(w, "applies:   %s\n", c.Applies)
	}
	fmt.Fprintf(w, "expr:      %s\nexpected:  %s\nevidence:  %s\n", c.Expr, c.Expected, strings.Join(c.Evidence, ", "))
	fmt.Fprintf(w, "\nRationale\n  %s\n\nRemediation\n  %s\n", c.Rationale, c.Remediation)
	refs := []struct {
		name string
		ids  []string
	}{{"STIG", c.Refs.STIG}, {"SCG", c.Refs.SCG}, {"CIS", c.Refs.CIS}, {"NIST 800-53", c.Refs.NIST80053}, {"Docs", c.Refs.Docs}}
	fmt.Fprintln(w, "\nReferences")
	for _, r := range refs {
		if len(r.ids) > 0 {
			fmt.Fprintf(w, "  %-12s %s\n", r.name+":", strings.Join(r.ids, ", "))
		}
	}
}

// coverageCell is a markdown cell: how many checks, then their ids.
func coverageCell(ids []string) string {
	if len(ids) == 0 {
		return "**none**"
	}
	return fmt.Sprintf("%d: %s", len(ids), strings.Join(ids, ", "))
}
