// Command hvaudit audits hypervisors against a hardening baseline.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/hvaudit/hvaudit/agent"
	_ "github.com/hvaudit/hvaudit/collectors/all" // links and registers every collector
	"github.com/hvaudit/hvaudit/report"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the CLI and maps errors to the contract's exit codes.
func run(ctx context.Context, args []string, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var exit *agent.ExitError
	if errors.As(err, &exit) {
		if exit.Err != nil {
			printError(stderr, exit.Err)
		}
		return exit.Code
	}
	printError(stderr, err)
	return agent.ExitUsage
}

// printError writes the final "hvaudit:" line. Error text can carry what a
// server or a file said, so it is neutralised like every other
// human-readable output; newlines stay, for hvaudit's own multi-line hints.
func printError(w io.Writer, err error) {
	fmt.Fprintln(w, "hvaudit:", report.Neutralize(err.Error(), true))
}
