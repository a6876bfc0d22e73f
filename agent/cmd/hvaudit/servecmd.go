package main

import (
	"context"
	"errors"
	"io"

	"github.com/spf13/cobra"

	"github.com/hvaudit/hvaudit/agent"
	"github.com/hvaudit/hvaudit/agent/serve"
)

func newServeCmd() *cobra.Command {
	var config, logLevel, logFormat string
	cmd := &cobra.Command{
		Use:   "serve --config FILE",
		Short: "Audit targets on schedules; keep history, raise drift, serve metrics and a trend page",
		Long: `Run as a daemon: audit the config's [[target]]s on its [[schedule]]s, store every
run in the [serve] history (SQLite, or PostgreSQL shared by a fleet), log and
POST drift (new failures since a target's previous run), and serve /metrics,
/healthz, /api/runs, /api/runs/latest and a trend page at / on [serve] listen.

SIGHUP reloads the config (an invalid one is refused and the running config
stays); SIGTERM lets in-flight runs finish (shutdown_grace), cancels the rest
and exits 0. Exit 2 when the config or the listener is refused at start.`,
		Example: `  hvaudit serve --config /etc/hvaudit/agent.toml`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if config == "" {
				return usageError(errors.New("serve needs --config FILE"))
			}
			if serve.IsWindowsService() {
				return serve.RunWindowsService(func(ctx context.Context, out io.Writer) error {
					return runServe(ctx, config, logLevel, "json", out)
				})
			}
			return runServe(cmd.Context(), config, logLevel, logFormat, cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&config, "config", "", "agent config file with [serve] and [[schedule]] (TOML)")
	cmd.Flags().StringVar(&logLevel, "log-level", "", "trace, debug, info, warn, error (default: the config's, else info)")
	cmd.Flags().StringVar(&logFormat, "log-format", "", "console or json (default: the config's, else console)")
	return cmd
}

func runServe(ctx context.Context, config, logLevel, logFormat string, out io.Writer) error {
	cfg, err := agent.LoadConfig(config)
	if err != nil {
		return usageError(err)
	}
	if logLevel == "" {
		logLevel = cfg.LogLevel
	}
	if logFormat == "" {
		logFormat = cfg.LogFormat
	}
	log, err := agent.NewLogger(out, logLevel, logFormat)
	if err != nil {
		return usageError(err)
	}
	if err := serve.Run(ctx, config, log); err != nil {
		return usageError(err)
	}
	return nil
}
