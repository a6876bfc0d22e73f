package agent

import (
	"path/filepath"
	"strings"
)

// ServeConfig is the [serve] table: how `hvaudit serve` listens, where it
// keeps its history and where it sends drift events. The serve package
// validates it; here it is only read and its paths resolved.
type ServeConfig struct {
	Listen            string `toml:"listen"`              // default 127.0.0.1:9812
	History           string `toml:"history"`             // SQLite file, or postgres://… for a shared store
	WebhookURL        string `toml:"webhook_url"`         // drift events are POSTed here as JSON
	WebhookSecretFile string `toml:"webhook_secret_file"` // HMAC-SHA256 key for X-Hvaudit-Signature
	RetentionDays     int    `toml:"retention_days"`      // 0 keeps every run
	TLSCertFile       string `toml:"tls_cert_file"`
	TLSKeyFile        string `toml:"tls_key_file"`
	BearerTokenFile   string `toml:"bearer_token_file"` // required beyond loopback
	// RunTimeout bounds one target's whole run (collect, evaluate, write,
	// store); default: the target's timeout plus a minute.
	RunTimeout Duration `toml:"run_timeout"`
	// ShutdownGrace is how long SIGTERM lets in-flight runs finish before
	// cancelling them (default 30s).
	ShutdownGrace Duration `toml:"shutdown_grace"`
}

// ScheduleConfig is one [[schedule]] table.
type ScheduleConfig struct {
	Name    string   `toml:"name"`
	Cron    string   `toml:"cron"` // robfig/cron: five fields, or @daily, @every 5s, …
	Targets []string `toml:"targets"`
	Jitter  Duration `toml:"jitter"` // a random delay in [0, jitter) per target and tick
}

// IsPostgresURL tells whether a history location names a PostgreSQL
// server rather than a SQLite file.
func IsPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// resolvePaths makes every relative path in the file relative to the
// directory holding it, so a config means the same whatever the working
// directory of the process reading it (a systemd unit runs in /).
func (c *Config) resolvePaths(dir string) {
	abs := func(p *string) {
		if *p == "" || *p == "-" || filepath.IsAbs(*p) {
			return
		}
		*p = filepath.Join(dir, *p)
	}
	if !strings.HasPrefix(c.Baseline, "builtin:") {
		abs(&c.Baseline)
	}
	abs(&c.Tailoring)
	abs(&c.Waivers)
	abs(&c.Advisories)
	for i := range c.Outputs {
		abs(&c.Outputs[i].Path)
	}
	for i := range c.Targets {
		t := &c.Targets[i]
		abs(&t.PasswordFile)
		abs(&t.CAFile)
		abs(&t.HostRoot)
	}
	s := &c.Serve
	if !IsPostgresURL(s.History) {
		abs(&s.History)
	}
	abs(&s.WebhookSecretFile)
	abs(&s.TLSCertFile)
	abs(&s.TLSKeyFile)
	abs(&s.BearerTokenFile)
}
