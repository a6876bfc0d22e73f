package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/hvaudit/hvaudit/agent"
	"github.com/hvaudit/hvaudit/agent/demo"
)

func newDemoCmd() *cobra.Command {
	var dir string
	var display agent.Display
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Audit an embedded simulated estate and write its reports to ./hvaudit-demo/",
		Long: `Starts govmomi's vSphere simulator in-process, seeds an estate that mixes
compliant and non-compliant hosts and VMs, audits it exactly as a real vCenter
is audited (TLS pinned, read-only), together with a KVM estate through
libvirt's test driver (when libvirt0 is installed), prints the report and
writes the report files. --verbose, --quiet and --color shape the printed
report as for audit. Exits 0 when the audit completed: its findings are the point; 2 when
--dir cannot take the reports (checked first); 3 when the audit could not
read its estate; 4 when a report could not be written.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := display.Check(); err != nil {
				return usageError(err)
			}
			log, err := agent.NewLoggerColor(cmd.ErrOrStderr(), "warn", "console", display.Color)
			if err != nil {
				return usageError(err)
			}
			err = demo.Run(cmd.Context(), demo.Options{Dir: dir, Out: cmd.OutOrStdout(), Log: log, Display: display})
			var oe *agent.OutputError
			var ce *agent.ConfigError
			switch {
			case err == nil:
			case errors.As(err, &oe):
				return &agent.ExitError{Code: agent.ExitOutput, Err: err}
			case errors.As(err, &ce):
				return usageError(err)
			default:
				return &agent.ExitError{Code: agent.ExitIncomplete, Err: err}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "hvaudit-demo", "directory for the report files")
	registerDisplay(cmd, &display)
	return cmd
}
