package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hvaudit/hvaudit/agent"
	"github.com/hvaudit/hvaudit/report"
)

func newReportCmd() *cobra.Command {
	var from, sign string
	var formats, outputs []string
	var display agent.Display
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Render a saved JSON report in any format",
		Long: `Read a native JSON report (hvaudit/report/v1) and render it in one or more
formats. Every format is rendered from this document, so all of them agree.
--format and --output pair by position as in 'audit'; a --format without an
--output writes to standard output (one at most); no --format writes the table.

Outputs are checked before the input is read, under the rules of 'audit'
(see 'hvaudit audit --help').

Exit codes: 0 written; 2 usage error or unreadable input (the message names
the file and, for a JSON error, the line); 4 a report could not be written
(the message names what was written).`,
		Example: `  hvaudit report --from vc01.json --format table
  hvaudit report --from vc01.json --format json --output copy.json --format table --output vc01.txt --sign audit.key`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" {
				return usageError(fmt.Errorf("report needs --from RUN.json"))
			}
			outs := []agent.Output{{Format: "table"}}
			if len(formats) > 0 || len(outputs) > 0 {
				o, err := agent.PairOutputs(formats, outputs)
				if err != nil {
					return usageError(err)
				}
				outs = o
			}
			if err := agent.ValidateOutputs(outs); err != nil {
				return usageError(err)
			}
			if err := display.Check(); err != nil {
				return usageError(err)
			}
			outs = withDisplay(outs, display)
			var signer *signing
			if sign != "" {
				s, err := newSigning(sign, outs)
				if err != nil {
					return err
				}
				signer = s
			}
			run, err := agent.ReadRunFile(from)
			if err != nil {
				return usageError(err)
			}
			files, err := agent.WriteOutputs(run, outs, cmd.OutOrStdout())
			if err != nil {
				return &agent.ExitError{Code: agent.ExitOutput, Err: err}
			}
			agent.NoteChecklists(run, outs, newStderrLogger(cmd))
			return signer.sign(cmd, files)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&from, "from", "", "native JSON report to read (hvaudit/report/v1)")
	fs.StringArrayVar(&formats, "format", nil, "report format: "+strings.Join(report.Formats(), ", ")+" (repeatable, pairs with --output)")
	fs.StringArrayVar(&outputs, "output", nil, "report file for the --format at the same position ('-' = stdout)")
	fs.StringVar(&sign, "sign", "", "Ed25519 private key (PKCS #8 PEM, mode 0600): write FILE.sig beside each report file")
	registerDisplay(cmd, &display)
	mustComplete(cmd, "format", completeValues(report.Formats()))
	return cmd
}
