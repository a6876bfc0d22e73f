package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hvaudit/hvaudit/agent"
	"github.com/hvaudit/hvaudit/collectors"
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "hvaudit",
		Short:         "Audit ESXi/vCenter, KVM and Hyper-V against a hardening baseline, read-only",
		Version:       agent.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate(versionLine() + "\n")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &agent.ExitError{Code: agent.ExitUsage, Err: fmt.Errorf("%v\nrun '%s --help' for usage", err, c.CommandPath())}
	})
	root.AddCommand(newAuditCmd(), newCollectCmd(), newChecksCmd(), newDemoCmd(), newVersionCmd())
	root.AddCommand(newReportCmd(), newDiffCmd(), newWaiversCmd(), newVerifyCmd(), newKeygenCmd(), newAdvisoriesCmd())
	root.AddCommand(newServeCmd(), newHistoryCmd())
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version and the collectors built in",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "%s\nschemes: %s\n", versionLine(), strings.Join(collectors.Schemes(), ", "))
			return nil
		},
	}
}

// versionLine is what --version prints and `version` starts with.
func versionLine() string {
	return fmt.Sprintf("hvaudit %s (%s, %s/%s)", agent.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// usageError wraps an error as exit code 2.
func usageError(err error) error {
	if err == nil {
		return nil
	}
	return &agent.ExitError{Code: agent.ExitUsage, Err: err}
}

// stderrIsTTY tells whether progress lines are worth printing.
func stderrIsTTY() bool { return agent.IsTerminal(os.Stderr) }
