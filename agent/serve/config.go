// Package serve is `hvaudit serve`: it audits targets on cron schedules,
// keeps every run in the history, raises drift events, and serves
// Prometheus metrics, a JSON API and a trend page over HTTP.
package serve

import (
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/hvaudit/hvaudit/agent"
	"github.com/hvaudit/hvaudit/agent/drift"
	"github.com/hvaudit/hvaudit/collectors"
)

// DefaultListen is loopback: metrics and reports name the estate's
// weaknesses, so reaching them from elsewhere is a deliberate choice.
const DefaultListen = "127.0.0.1:9812"

// Settings is a loaded, validated config: everything a run needs, built
// before anything runs, so SIGHUP can swap it whole or not at all.
type Settings struct {
	Config      *agent.Config
	Judge       *agent.Judge
	Targets     map[string]collectors.Target
	Schedules   []Schedule
	Outputs     []agent.Output // files only: a daemon has no standard output
	Concurrency int

	Listen      string
	TLS         *tls.Config // nil: plain HTTP (loopback only)
	BearerToken string      // "" on loopback without bearer_token_file

	History        string
	Retention      time.Duration // 0 keeps every run
	Webhook        *drift.Webhook
	RunTimeout     time.Duration // 0: each target's timeout plus a minute
	ShutdownGrace  time.Duration
	Warnings       []string // worth logging, not worth refusing
	DroppedOutputs int
}

// Schedule is one [[schedule]] with its cron expression parsed.
type Schedule struct {
	Name    string
	Cron    string
	Spec    cron.Schedule
	Targets []string
	Jitter  time.Duration
}

// cronParser accepts robfig/cron's standard syntax: five fields, or a
// descriptor (@daily, @hourly, @every 5s).
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Load reads and checks a config for serve. Every problem is an
// agent.ConfigError naming the file.
func Load(path string) (*Settings, error) {
	cfg, err := agent.LoadConfig(path)
	if err != nil {
		return nil, err
	}
	s, err := build(cfg)
	if err != nil {
		return nil, &agent.ConfigError{Err: fmt.Errorf("%s: %w", path, err)}
	}
	return s, nil
}

func build(cfg *agent.Config) (*Settings, error) {
	sv := cfg.Serve
	s := &Settings{Config: cfg, Targets: map[string]collectors.Target{}, Listen: sv.Listen, History: sv.History,
		Concurrency: cfg.Concurrency, RunTimeout: sv.RunTimeout.Duration, ShutdownGrace: sv.ShutdownGrace.Duration}
	if s.Listen == "" {
		s.Listen = DefaultListen
	}
	if s.Concurrency == 0 {
		s.Concurrency = 4
	}
	if s.ShutdownGrace == 0 {
		s.ShutdownGrace = 30 * time.Second
	}
	if s.History == "" {
		return nil, fmt.Errorf("[serve] history is required: a SQLite file (e.g. /var/lib/hvaudit/history.db) or a postgres:// URL")
	}
	if sv.RetentionDays < 0 {
		return nil, fmt.Errorf("[serve] retention_days must be 0 (keep every run) or more, got %d", sv.RetentionDays)
	}
	s.Retention = time.Duration(sv.RetentionDays) * 24 * time.Hour
	if err := s.buildTargets(cfg); err != nil {
		return nil, err
	}
	if err := s.buildSchedules(cfg.Schedules); err != nil {
		return nil, err
	}
	for _, o := range cfg.Outputs {
		if o.Path == "" || o.Path == "-" {
			s.DroppedOutputs++
			continue
		}
		s.Outputs = append(s.Outputs, agent.Output{Format: o.Format, Path: o.Path})
	}
	if s.DroppedOutputs > 0 {
		s.Warnings = append(s.Warnings, fmt.Sprintf("%d [[output]] to standard output ignored: serve writes files only (the outcome of each run is logged)", s.DroppedOutputs))
	}
	// The daemon creates report directories as runs need them
	// (reports/{date}/…), so a directory that does not exist yet is fine
	// when it can be made.
	if err := agent.ValidateDaemonOutputs(s.Outputs); err != nil {
		return nil, err
	}
	if err := s.buildListener(sv); err != nil {
		return nil, err
	}
	if err := s.buildWebhook(sv); err != nil {
		return nil, err
	}
	judge, err := agent.LoadJudge(agent.Request{Baseline: cfg.Baseline, Tailoring: cfg.Tailoring, Waivers: cfg.Waivers, Advisories: cfg.Advisories})
	if err != nil {
		return nil, err
	}
	s.Judge = judge
	return s, nil
}

func (s *Settings) buildTargets(cfg *agent.Config) error {
	timeout := cfg.Timeout.Duration
	if timeout == 0 {
		timeout = 5 * time.Minute
	}
	srcs := make([]agent.TargetSource, len(cfg.Targets))
	for i, tc := range cfg.Targets {
		srcs[i] = agent.TargetSource{Config: tc, Origin: fmt.Sprintf("[[target]] %d", i+1)}
	}
	// BuildTargets refuses two targets with one name: names key the history.
	targets, err := agent.BuildTargets(srcs, timeout)
	if err != nil {
		return err
	}
	for _, t := range targets {
		s.Targets[t.Name] = t
	}
	return nil
}

func (s *Settings) buildSchedules(list []agent.ScheduleConfig) error {
	if len(list) == 0 {
		return fmt.Errorf("no [[schedule]]: serve needs at least one (name, cron, targets)")
	}
	seen := map[string]bool{}
	for i, sc := range list {
		label := fmt.Sprintf("schedule %d", i+1)
		if sc.Name != "" {
			label = fmt.Sprintf("schedule %q", sc.Name)
		}
		if sc.Name == "" || seen[sc.Name] {
			return fmt.Errorf("%s: every schedule needs a name of its own", label)
		}
		seen[sc.Name] = true
		spec, err := cronParser.Parse(sc.Cron)
		if err != nil {
			return fmt.Errorf("%s: cron %q: %w", label, sc.Cron, err)
		}
		if len(sc.Targets) == 0 {
			return fmt.Errorf("%s: targets is empty", label)
		}
		for _, name := range sc.Targets {
			if _, ok := s.Targets[name]; !ok {
				return fmt.Errorf("%s: no [[target]] is named %q (targets: %s)", label, name, strings.Join(s.targetNames(), ", "))
			}
		}
		if sc.Jitter.Duration < 0 {
			return fmt.Errorf("%s: jitter must not be negative", label)
		}
		s.Schedules = append(s.Schedules, Schedule{Name: sc.Name, Cron: sc.Cron, Spec: spec, Targets: sc.Targets, Jitter: sc.Jitter.Duration})
	}
	return nil
}

func (s *Settings) targetNames() []string {
	var out []string
	for n := range s.Targets {
		out = append(out, n)
	}
	return sortedStrings(out)
}

// buildListener refuses to listen beyond loopback without TLS and a bearer
// token: /metrics and /api/runs tell anyone who asks where the estate is
// weak.
func (s *Settings) buildListener(sv agent.ServeConfig) error {
	host, _, err := net.SplitHostPort(s.Listen)
	if err != nil {
		return fmt.Errorf("[serve] listen %q: %w (use host:port, e.g. %s)", s.Listen, err, DefaultListen)
	}
	if (sv.TLSCertFile == "") != (sv.TLSKeyFile == "") {
		return fmt.Errorf("[serve] tls_cert_file and tls_key_file go together")
	}
	if !isLoopbackHost(host) {
		var missing []string
		for k, v := range map[string]string{"tls_cert_file": sv.TLSCertFile, "tls_key_file": sv.TLSKeyFile, "bearer_token_file": sv.BearerTokenFile} {
			if v == "" {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("[serve] listen %q reaches beyond loopback: that needs TLS and a bearer token (set %s), or listen on 127.0.0.1",
				s.Listen, strings.Join(sortedStrings(missing), ", "))
		}
	}
	if sv.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(sv.TLSCertFile, sv.TLSKeyFile)
		if err != nil {
			return fmt.Errorf("[serve] TLS: %w", err)
		}
		s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if sv.BearerTokenFile != "" {
		tok, err := agent.ReadPasswordFile(sv.BearerTokenFile)
		if err != nil {
			return fmt.Errorf("[serve] bearer_token_file: %w", err)
		}
		if len(tok.Reveal()) < 16 {
			return fmt.Errorf("[serve] bearer_token_file %s: the token is shorter than 16 characters", sv.BearerTokenFile)
		}
		s.BearerToken = tok.Reveal()
	}
	return nil
}

func (s *Settings) buildWebhook(sv agent.ServeConfig) error {
	if sv.WebhookURL == "" {
		if sv.WebhookSecretFile != "" {
			return fmt.Errorf("[serve] webhook_secret_file is set but webhook_url is not")
		}
		return nil
	}
	warning, err := drift.CheckURL(sv.WebhookURL)
	if err != nil {
		return fmt.Errorf("[serve] %w", err)
	}
	if warning != "" {
		s.Warnings = append(s.Warnings, warning)
	}
	s.Webhook = &drift.Webhook{URL: sv.WebhookURL, UserAgent: "hvaudit/" + agent.Version}
	if sv.WebhookSecretFile != "" {
		sec, err := agent.ReadPasswordFile(sv.WebhookSecretFile)
		if err != nil {
			return fmt.Errorf("[serve] webhook_secret_file: %w", err)
		}
		if sec.IsZero() {
			return fmt.Errorf("[serve] webhook_secret_file %s is empty", sv.WebhookSecretFile)
		}
		s.Webhook.Secret = []byte(sec.Reveal())
	}
	return nil
}

// WebhookFor builds the webhook of a config's [serve] table for `audit
// --history` (nil when none is set).
func WebhookFor(cfg *agent.Config) (*drift.Webhook, []string, error) {
	s := &Settings{}
	if err := s.buildWebhook(cfg.Serve); err != nil {
		return nil, nil, err
	}
	return s.Webhook, s.Warnings, nil
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
