package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/hvaudit/hvaudit/agent"
	"github.com/hvaudit/hvaudit/checks"
	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/report/stig"
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
		Short: "List checks, optionally filtered by platform, area and threat",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, err := range []error{
				oneOf("platform", platform, checks.Platforms, platformSynonyms),
				oneOf("area", area, findings.Areas, nil),
				oneOf("threat", threat, findings.Threats, nil),
				oneOf("format", format, listFormats, nil),
			} {
				if err != nil {
					return err
				}
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
			if format == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(sel)
			}
			var table strings.Builder
			tw := tabwriter.NewWriter(&table, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tPLATFORM\tSCOPE\tAREA\tSEVERITY\tTITLE")
			for _, c := range sel {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Platform, c.Scope, c.Area, c.Severity, c.Title)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			// On a terminal (or with $COLUMNS) each row fits the width,
			// titles cut short with "…"; piped, rows stay whole for grep.
			width := agent.OutputWidth(cmd.OutOrStdout())
			for _, line := range strings.SplitAfter(table.String(), "\n") {
				fmt.Fprint(cmd.OutOrStdout(), fitWidth(line, width))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "\n%d checks in %s %s\n", len(sel), b.ID, b.Version)
			return nil
		},
	}
	list.Flags().StringVar(&platform, "platform", "", "esxi, kvm, hyperv or any")
	list.Flags().StringVar(&area, "area", "", "area, e.g. migration-encryption")
	list.Flags().StringVar(&threat, "threat", "", "threat the check guards against, e.g. vm-escape")
	list.Flags().StringVar(&format, "format", "table", "table or json")
	mustComplete(list, "platform", completeValues(checks.Platforms))
	mustComplete(list, "area", completeValues(findings.Areas))
	mustComplete(list, "threat", completeValues(findings.Threats))
	mustComplete(list, "format", completeValues(listFormats))

	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show one check: what it reads, expects, why, and how to fix it",
		Long: `Show one check by its id, a former id (alias), or an id of the benchmark it
answers: a STIG id (VMCH-80-000203) or its DISA group or rule id (V-258728,
SV-258728r958388_rule), an SCG id or a CIS id. An id several checks answer
shows each of them.`,
		Example: `  hvaudit checks show ESXI-VM-MIG-01
  hvaudit checks show VMCH-80-000203`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: checkIDCompletion,
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := load()
			if err != nil {
				return err
			}
			id := strings.TrimSpace(args[0])
			for _, c := range b.Checks() {
				if strings.EqualFold(c.ID, id) || slices.ContainsFunc(c.Aliases, func(a string) bool { return strings.EqualFold(a, id) }) {
					printCheck(cmd, c)
					return nil
				}
			}
			framework, stigID, found := byFrameworkID(b, id)
			label := framework
			if stigID != "" && !strings.EqualFold(stigID, id) {
				label += " " + stigID
			}
			if len(found) == 0 {
				if stigID != "" {
					return usageError(fmt.Errorf("%s (%s) is a rule no check of baseline %s automates: its checklists list it as Not Reviewed",
						id, label, b.ID))
				}
				return usageError(fmt.Errorf("no check %q in baseline %s: not a check id, a former id, nor a STIG, SCG or CIS id a check answers (see 'hvaudit checks list')", id, b.ID))
			}
			w := cmd.OutOrStdout()
			ids := make([]string, len(found))
			for i, c := range found {
				ids[i] = c.ID
			}
			fmt.Fprintf(w, "%s (%s) is answered by %s\n", id, label, strings.Join(ids, ", "))
			for _, c := range found {
				fmt.Fprintln(w)
				printCheck(cmd, c)
			}
			return nil
		},
	}

	var paramsFormat string
	params := &cobra.Command{
		Use:   "params",
		Short: "List the tailoring params: each one's value and the checks that use it",
		Long: `List every param a tailoring file may set ([params] NAME = value), with its
value (the baseline's default, or the --tailoring file's), the file that set
it, and the checks whose expression or expected text read it.`,
		Example: `  hvaudit checks params
  hvaudit checks params --tailoring site.toml --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := oneOf("format", paramsFormat, listFormats, nil); err != nil {
				return err
			}
			b, err := load()
			if err != nil {
				return err
			}
			ps := b.ParamList()
			w := cmd.OutOrStdout()
			if paramsFormat == "json" {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(ps)
			}
			for _, p := range ps {
				users := strings.Join(p.Checks, ", ")
				if users == "" {
					users = "no check (tailoring it changes nothing)"
				}
				fmt.Fprintf(w, "%s = %s\n  used by: %s\n  set in:  %s\n", p.Name, tomlValue(p.Value), users, p.File)
			}
			fmt.Fprintf(w, "\n%d params in %s %s\n", len(ps), b.ID, b.Version)
			return nil
		},
	}
	params.Flags().StringVar(&paramsFormat, "format", "table", "table or json")
	mustComplete(params, "format", completeValues(listFormats))

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
				rows := make([]row, 0, len(findings.Threats))
				for _, th := range findings.Threats {
					rows = append(rows, row{th, findings.ThreatDescriptions[th], cov[th]})
				}
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			case "markdown":
				fmt.Fprintln(w, "| threat | what it means | ESXi/vCenter | KVM/QEMU | Hyper-V |")
				fmt.Fprintln(w, "|---|---|---|---|---|")
				for _, th := range findings.Threats {
					fmt.Fprintf(w, "| `%s` | %s |", th, findings.ThreatDescriptions[th])
					for _, p := range platforms {
						fmt.Fprintf(w, " %s |", coverageCell(cov[th][p]))
					}
					fmt.Fprintln(w)
				}
				return nil
			case "table", "":
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "THREAT\tESXI\tKVM\tHYPERV\tWHAT IT MEANS")
				for _, th := range findings.Threats {
					fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\n", th, len(cov[th]["esxi"]), len(cov[th]["kvm"]), len(cov[th]["hyperv"]), findings.ThreatDescriptions[th])
				}
				return tw.Flush()
			default:
				return oneOf("format", threatsFormat, []string{"table", "json", "markdown"}, nil)
			}
		},
	}
	threats.Flags().StringVar(&threatsFormat, "format", "table", "table (counts), json or markdown (with the check ids)")
	mustComplete(threats, "format", completeValues([]string{"table", "json", "markdown"}))
	cmd.AddCommand(list, show, params, threats)
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

// listFormats are the formats of the catalog commands.
var listFormats = []string{"table", "json"}

// byFrameworkID finds the checks that answer a benchmark id: a STIG id, a
// DISA group (V-) or rule (SV-) id of a STIG rule, an SCG id or a CIS id.
// framework names what the id is; stigID is set when the id is a rule of
// the STIG catalog (also when no check answers it).
func byFrameworkID(b *checks.Baseline, id string) (framework, stigID string, found []checks.Check) {
	stigID = id
	framework = "STIG"
	if cat, err := stig.Builtin(); err == nil {
		for _, bm := range cat.Benchmarks {
			for _, r := range bm.Rules {
				if strings.EqualFold(r.Version, id) || strings.EqualFold(r.GroupID, id) ||
					strings.EqualFold(r.RuleIDSrc, id) || strings.EqualFold(r.RuleID(), id) {
					stigID, framework = r.Version, bm.DisplayName+" STIG"
				}
			}
		}
	}
	match := func(ids []string, want string) bool {
		return slices.ContainsFunc(ids, func(x string) bool { return strings.EqualFold(x, want) })
	}
	for _, c := range b.Checks() {
		if match(c.Refs.STIG, stigID) {
			found = append(found, c)
		}
	}
	if len(found) > 0 {
		return framework, stigID, found
	}
	if framework != "STIG" {
		return framework, stigID, nil // a catalog rule no check automates
	}
	for _, fw := range []struct {
		name string
		ids  func(checks.Check) []string
	}{{"SCG", func(c checks.Check) []string { return c.Refs.SCG }}, {"CIS", func(c checks.Check) []string { return c.Refs.CIS }}} {
		for _, c := range b.Checks() {
			if match(fw.ids(c), id) {
				found = append(found, c)
			}
		}
		if len(found) > 0 {
			return fw.name, "", found
		}
	}
	return "", "", nil
}

// tomlValue renders a param value as a tailoring file would write it.
func tomlValue(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = tomlValue(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	default:
		return fmt.Sprint(x)
	}
}

// fitWidth cuts a line (its newline kept) to width runes, the last one
// "…"; width 0 leaves it whole.
func fitWidth(line string, width int) string {
	body, nl := strings.CutSuffix(line, "\n")
	runes := []rune(body)
	if width <= 0 || len(runes) <= width {
		return line
	}
	out := string(runes[:width-1]) + "…"
	if nl {
		out += "\n"
	}
	return out
}
