package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hvaudit/hvaudit/agent"
	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/collectors"
	"github.com/hvaudit/hvaudit/report"
)

// connFlags are the connection flags shared by audit and collect; on the
// command line they apply to every --target given there.
type connFlags struct {
	passwordFile string
	insecure     bool
	caFile       string
	thumbprint   string
	timeout      time.Duration
}

func (c *connFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&c.passwordFile, "password-file", "", "file holding the password (mode 0600 or stricter); else $"+agent.PasswordEnv)
	fs.BoolVar(&c.insecure, "insecure", false, "do not verify TLS certificates (reported as a failing audit-transport finding)")
	fs.StringVar(&c.caFile, "ca-file", "", "PEM file of CA certificates to trust")
	fs.StringVar(&c.thumbprint, "thumbprint", "", "pin the target certificate by SHA-256 (or SHA-1) thumbprint")
	fs.DurationVar(&c.timeout, "timeout", 0, "per-target collection timeout (default 5m)")
}

func (c *connFlags) target(uri string) agent.TargetConfig {
	return agent.TargetConfig{
		URI: uri, PasswordFile: c.passwordFile, CAFile: c.caFile, Thumbprint: c.thumbprint,
		Insecure: c.insecure, Timeout: agent.Duration{Duration: c.timeout},
	}
}

type auditFlags struct {
	conn                                     connFlags
	config                                   string
	targets, snapshots, formats, outputs     []string
	concurrency                              int
	baseline, tailoring, waivers, advisories string
	failOn, logLevel, logFormat              string
	sign                                     string
	history, metricsTextfile                 string
	saveSnapshot                             string
	display                                  agent.Display
	scope                                    report.Scope
}

// registerDisplay adds the flags that shape the human-readable report.
func registerDisplay(cmd *cobra.Command, d *agent.Display) {
	fs := cmd.Flags()
	fs.BoolVarP(&d.Verbose, "verbose", "v", false, "table: add each failing object's evidence and each check's remediation")
	fs.BoolVarP(&d.Quiet, "quiet", "q", false, "table: print only the summary line")
	fs.StringVar(&d.Color, "color", "auto", "colour on standard output: auto (a terminal, unless NO_COLOR is set), always or never")
	mustComplete(cmd, "color", completeValues(agent.ColorModes))
}

// withDisplay gives every output the display flags.
func withDisplay(outs []agent.Output, d agent.Display) []agent.Output {
	for i := range outs {
		outs[i].Display = d
	}
	return outs
}

func newAuditCmd() *cobra.Command {
	f := &auditFlags{}
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Collect targets (or read snapshots) and score them against the baseline",
		Long: `Audit targets read-only and report every finding with its evidence.

Exit codes: 0 nothing failing at or above --fail-on; 1 a failing finding at or
above it; 2 usage or configuration error (nothing audited); 3 incomplete (a
target could not be read, or an error finding at or above --fail-on); 4 the
audit ran but a report could not be written (wins over 3 and 1; the message
names what was written). --fail-on none never exits 1; 3 then means only
that a target could not be read.

--check, --area and --object narrow the run to what a change touched: only
those findings are reported and scored, and the report records the scope
(run.scope).

Every output is checked before any target is contacted: the format is known,
cklb names an existing directory (one checklist per target), every other
format a file whose directory exists and is writable, '-' (standard output),
a FIFO or a character device. A symbolic link is written through only when
it leads to a device or FIFO (/dev/stdout); a link to a file is refused. An
existing file keeps its mode when it is 0640 or stricter.`,
		Example: `  hvaudit audit --target vsphere://auditor@vc01.example.com --password-file ~/.vc01 \
      --format json --output vc01.json --format table
  hvaudit audit --config /etc/hvaudit/agent.toml
  hvaudit audit --snapshot vc01.snapshot.json --baseline ./site.toml
  hvaudit audit --config agent.toml --history /var/lib/hvaudit/history.db --metrics-textfile /var/lib/node_exporter/hvaudit.prom
  hvaudit audit --config agent.toml --check ESXI-VM-MIG-01 --object 'web-*' --fail-on high`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runAudit(cmd, f) },
	}
	fs := cmd.Flags()
	f.conn.register(fs)
	fs.StringVar(&f.config, "config", "", "agent config file (TOML)")
	fs.StringArrayVar(&f.targets, "target", nil, "target URI, e.g. vsphere://auditor@vc01 (repeatable)")
	fs.StringArrayVar(&f.snapshots, "snapshot", nil, "audit a saved snapshot instead of a live target (repeatable)")
	fs.IntVar(&f.concurrency, "concurrency", 0, "targets collected at once (default 4)")
	fs.StringVar(&f.baseline, "baseline", "", "baseline file or builtin:NAME (default builtin:default)")
	fs.StringVar(&f.tailoring, "tailoring", "", "tailoring file: params, severities, disabled checks")
	fs.StringVar(&f.waivers, "waivers", "", "waivers file: accepted risks with justification and expiry")
	fs.StringVar(&f.advisories, "advisories", "", "directory of advisory data newer than the embedded set")
	fs.StringArrayVar(&f.formats, "format", nil, "report format: "+strings.Join(report.Formats(), ", ")+" (repeatable, pairs with --output)")
	fs.StringArrayVar(&f.outputs, "output", nil, "report file for the --format at the same position ('-' = stdout)")
	fs.StringVar(&f.failOn, "fail-on", "", "lowest severity that makes the exit code non-zero: "+strings.Join(agent.FailOnValues, ", ")+" (default low)")
	fs.StringVar(&f.logLevel, "log-level", "", "trace, debug, info, warn, error (default info)")
	fs.StringVar(&f.logFormat, "log-format", "", "console or json (default console)")
	fs.StringVar(&f.sign, "sign", "", "Ed25519 private key (PKCS #8 PEM, mode 0600): write FILE.sig beside each report file")
	fs.StringVar(&f.history, "history", "", "store the run in this history (SQLite file or postgres:// URL) and print drift against the previous run")
	fs.StringVar(&f.metricsTextfile, "metrics-textfile", "", "write the run's Prometheus series to this file (node_exporter textfile collector)")
	fs.StringVar(&f.saveSnapshot, "save-snapshot", "", "also save each live target's raw evidence as a snapshot file; {target} in the path names it (required with several targets)")
	fs.StringSliceVar(&f.scope.Checks, "check", nil, "audit only these checks: ids, former ids or globs (ESXI-VM-*); repeatable")
	fs.StringSliceVar(&f.scope.Areas, "area", nil, "audit only these areas, e.g. migration-encryption; repeatable")
	fs.StringSliceVar(&f.scope.Objects, "object", nil, "audit only objects whose name or id matches these globs (web-*); repeatable")
	registerDisplay(cmd, &f.display)
	mustComplete(cmd, "format", completeValues(report.Formats()))
	mustComplete(cmd, "fail-on", completeValues(agent.FailOnValues))
	mustComplete(cmd, "area", completeValues(findings.Areas))
	mustComplete(cmd, "check", checkIDCompletion)
	mustComplete(cmd, "log-level", completeValues([]string{"trace", "debug", "info", "warn", "error"}))
	mustComplete(cmd, "log-format", completeValues([]string{"console", "json"}))
	return cmd
}

func runAudit(cmd *cobra.Command, f *auditFlags) error {
	cfg := &agent.Config{}
	if f.config != "" {
		c, err := agent.LoadConfig(f.config)
		if err != nil {
			return usageError(err)
		}
		cfg = c
	}
	pick := func(flag, conf string) string {
		if flag != "" {
			return flag
		}
		return conf
	}
	log, err := agent.NewLoggerColor(cmd.ErrOrStderr(), pick(f.logLevel, cfg.LogLevel), pick(f.logFormat, cfg.LogFormat), f.display.Color)
	if err != nil {
		return usageError(err)
	}
	failOn, err := agent.ParseSeverity(pick(pick(f.failOn, cfg.FailOn), "low"))
	if err != nil {
		return usageError(err)
	}
	if err := f.display.Check(); err != nil {
		return usageError(err)
	}
	if err := oneOfEach("area", f.scope.Areas, findings.Areas); err != nil {
		return err
	}
	outs, err := outputsFrom(f, cfg)
	if err != nil {
		return usageError(err)
	}
	outs = withDisplay(outs, f.display)
	var signer *signing
	if f.sign != "" {
		if signer, err = newSigning(f.sign, outs); err != nil {
			return err
		}
	}
	if len(f.snapshots) > 0 && len(f.targets) > 0 {
		return usageError(errors.New("--snapshot and --target cannot be combined"))
	}
	timeout := cfg.Timeout.Duration
	if f.conn.timeout > 0 {
		timeout = f.conn.timeout
	}
	if timeout == 0 {
		timeout = 5 * time.Minute
	}
	var targets []collectors.Target
	if len(f.snapshots) == 0 {
		var srcs []agent.TargetSource
		for i, tc := range cfg.Targets {
			srcs = append(srcs, agent.TargetSource{Config: tc, Origin: fmt.Sprintf("%s [[target]] %d", f.config, i+1)})
		}
		for _, uri := range f.targets {
			srcs = append(srcs, agent.TargetSource{Config: f.conn.target(uri), Origin: "--target " + collectors.Redact(uri)})
		}
		if targets, err = agent.BuildTargets(srcs, timeout); err != nil {
			return usageError(err)
		}
	}
	saver, err := newSnapshotSaver(f.saveSnapshot, f.snapshots, targets, log)
	if err != nil {
		return usageError(err)
	}
	concurrency := cfg.Concurrency
	if f.concurrency > 0 {
		concurrency = f.concurrency
	}
	req := agent.Request{
		Targets: targets, Snapshots: f.snapshots,
		Baseline: pick(f.baseline, cfg.Baseline), Tailoring: pick(f.tailoring, cfg.Tailoring),
		Waivers: pick(f.waivers, cfg.Waivers), Advisories: pick(f.advisories, cfg.Advisories),
		Concurrency: concurrency, Timeout: timeout, Log: log, SaveSnapshot: saver.saveFunc(),
	}
	if len(f.scope.Checks)+len(f.scope.Areas)+len(f.scope.Objects) > 0 {
		req.Scope = &f.scope
	}
	if stderrIsTTY() {
		req.Progress = cmd.ErrOrStderr()
	}
	run, err := agent.Audit(cmd.Context(), req)
	if err != nil {
		return usageError(err)
	}
	code := agent.ExitCode(run, failOn)
	files, err := agent.WriteRunOutputs(run, outs, cmd.OutOrStdout())
	if err == nil {
		err = saver.failed()
	}
	if err != nil {
		return agent.OutputFailure(err, code)
	}
	agent.NoteChecklists(run, outs, log)
	if err := signer.sign(cmd, files); err != nil {
		return err
	}
	if err := recordAudit(cmd, f, cfg, run, outs, log); err != nil {
		return err
	}
	if code != agent.ExitOK {
		return &agent.ExitError{Code: code}
	}
	return nil
}

// outputsFrom pairs --format/--output; without flags the config's outputs
// apply; with neither, the table goes to standard output.
func outputsFrom(f *auditFlags, cfg *agent.Config) ([]agent.Output, error) {
	var outs []agent.Output
	switch {
	case len(f.formats) > 0 || len(f.outputs) > 0:
		o, err := agent.PairOutputs(f.formats, f.outputs)
		if err != nil {
			return nil, err
		}
		outs = o
	case len(cfg.Outputs) > 0:
		for _, o := range cfg.Outputs {
			outs = append(outs, agent.Output{Format: o.Format, Path: o.Path})
		}
	default:
		outs = []agent.Output{{Format: "table"}}
	}
	return outs, agent.ValidateOutputs(outs)
}

func newCollectCmd() *cobra.Command {
	var conn connFlags
	var config, target, name, output, logLevel, logFormat string
	cmd := &cobra.Command{
		Use:   "collect",
		Short: "Read a target and save its raw evidence as a snapshot file (no secrets)",
		Long: `Read a target and save its raw evidence as a snapshot file (no secrets).

With --config, the target comes from the config file's [[target]] entries,
with its own settings (password_file, ca_file, thumbprint, timeout,
host_root for a local KVM host's files): --target names it (by name or
URI), or may be left out when the file has one target. Connection flags
given on the command line override the file's.

--output is checked before the target is contacted, under the same rules as
an audit's report files. Exit codes: 0 written; 2 usage error (nothing
contacted); 3 the target could not be read; 4 it was read but the snapshot
could not be written.`,
		Example: `  hvaudit collect --target vsphere://auditor@vc01 --password-file ~/.vc01 --output vc01.snapshot.json
  hvaudit collect --target qemu:///system --name kvm01 --output kvm01.snapshot.json
  hvaudit collect --config agent.toml --target kvm01 --output kvm01.snapshot.json
  hvaudit audit --snapshot vc01.snapshot.json --snapshot kvm01.snapshot.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := &agent.Config{}
			if config != "" {
				c, err := agent.LoadConfig(config)
				if err != nil {
					return usageError(err)
				}
				cfg = c
			}
			if (target == "" && config == "") || output == "" {
				return usageError(errors.New("collect needs --target (or --config) and --output"))
			}
			log, err := agent.NewLogger(cmd.ErrOrStderr(), pickString(logLevel, cfg.LogLevel), pickString(logFormat, cfg.LogFormat))
			if err != nil {
				return usageError(err)
			}
			timeout := conn.timeout
			if timeout == 0 {
				timeout = cfg.Timeout.Duration
			}
			if timeout == 0 {
				timeout = 5 * time.Minute
			}
			if err := agent.ValidateSnapshotOutput(output); err != nil {
				return usageError(err)
			}
			tc := conn.target(target)
			if config != "" {
				if tc, err = configTarget(cfg, config, target); err != nil {
					return usageError(err)
				}
				conn.override(cmd, &tc)
			}
			if name != "" {
				tc.Name = name
			}
			t, err := agent.BuildTarget(tc, timeout)
			if err != nil {
				return usageError(err)
			}
			snap, err := agent.Collect(cmd.Context(), t, log)
			if err != nil {
				return &agent.ExitError{Code: agent.ExitIncomplete, Err: err}
			}
			if err := agent.WriteSnapshot(output, snap, cmd.OutOrStdout()); err != nil {
				return &agent.ExitError{Code: agent.ExitOutput, Err: fmt.Errorf("target %s was read, but the snapshot was not written: %w", t.Name, err)}
			}
			log.Info().Str("file", output).Int("calls", snap.Stats.Calls).Msg("snapshot written")
			return nil
		},
	}
	conn.register(cmd.Flags())
	cmd.Flags().StringVar(&config, "config", "", "agent config file (TOML): the target and its settings come from its [[target]] entries")
	cmd.Flags().StringVar(&target, "target", "", "target URI; with --config, the name or URI of one of its targets")
	cmd.Flags().StringVar(&name, "name", "", "the target's name in the snapshot and in reports (default: the URI's host, or the URI for a local one)")
	cmd.Flags().StringVar(&output, "output", "", "snapshot file to write ('-' = stdout)")
	cmd.Flags().StringVar(&logLevel, "log-level", "", "trace, debug, info, warn, error")
	cmd.Flags().StringVar(&logFormat, "log-format", "", "console or json")
	mustComplete(cmd, "log-level", completeValues([]string{"trace", "debug", "info", "warn", "error"}))
	mustComplete(cmd, "log-format", completeValues([]string{"console", "json"}))
	return cmd
}

// configTarget picks the config target --target names (by name, or by URI),
// or the only one when --target is empty.
func configTarget(cfg *agent.Config, file, want string) (agent.TargetConfig, error) {
	var names []string
	for _, tc := range cfg.Targets {
		n := tc.Name
		if n == "" {
			n = collectors.DefaultName(tc.URI)
		}
		names = append(names, n)
		if want != "" && (n == want || tc.URI == want) {
			tc.Name = n
			return tc, nil
		}
	}
	switch {
	case len(cfg.Targets) == 0:
		return agent.TargetConfig{}, fmt.Errorf("%s has no [[target]]", file)
	case want == "" && len(cfg.Targets) == 1:
		tc := cfg.Targets[0]
		tc.Name = names[0]
		return tc, nil
	case want == "":
		return agent.TargetConfig{}, fmt.Errorf("%s has %d targets: name one with --target (%s)", file, len(names), strings.Join(names, ", "))
	}
	return agent.TargetConfig{}, fmt.Errorf("--target %q is not a target of %s (its targets: %s)", collectors.Redact(want), file, strings.Join(names, ", "))
}

// override applies the connection flags given on the command line to a
// target from a config file.
func (c *connFlags) override(cmd *cobra.Command, tc *agent.TargetConfig) {
	fs := cmd.Flags()
	if fs.Changed("password-file") {
		tc.PasswordFile, tc.PasswordEnv = c.passwordFile, ""
	}
	if fs.Changed("ca-file") {
		tc.CAFile = c.caFile
	}
	if fs.Changed("thumbprint") {
		tc.Thumbprint = c.thumbprint
	}
	if fs.Changed("insecure") {
		tc.Insecure = c.insecure
	}
	if fs.Changed("timeout") {
		tc.Timeout = agent.Duration{Duration: c.timeout}
	}
}

func pickString(flag, conf string) string {
	if flag != "" {
		return flag
	}
	return conf
}
