package agent

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/hvaudit/hvaudit/collectors"
)

// PasswordEnv is the environment variable a password may come from.
const PasswordEnv = "HVAUDIT_PASSWORD"

// BuildTarget turns a target's configuration into a collectors.Target,
// refusing URIs with embedded passwords and password files others can read.
func BuildTarget(tc TargetConfig, defaultTimeout time.Duration) (collectors.Target, error) {
	if _, err := collectors.ParseTargetURI(tc.URI); err != nil {
		return collectors.Target{}, &ConfigError{Err: err}
	}
	if _, err := collectors.ForURI(tc.URI); err != nil {
		return collectors.Target{}, &ConfigError{Err: err}
	}
	t := collectors.Target{
		Name:     tc.Name,
		URI:      tc.URI,
		TLS:      collectors.TLSOptions{CAFile: tc.CAFile, Thumbprint: tc.Thumbprint, Insecure: tc.Insecure},
		Timeout:  tc.Timeout.Duration,
		HostRoot: tc.HostRoot,
	}
	if t.Name == "" {
		t.Name = collectors.DefaultName(tc.URI)
	}
	if t.Timeout == 0 {
		t.Timeout = defaultTimeout
	}
	if t.TLS.Insecure && t.TLS.Thumbprint != "" {
		return t, configErrorf("target %s: --insecure and --thumbprint contradict each other", t.Name)
	}
	if t.TLS.CAFile != "" {
		if _, err := os.Stat(t.TLS.CAFile); err != nil {
			return t, configErrorf("target %s: ca_file: %w", t.Name, err)
		}
	}
	pw, err := resolvePassword(tc)
	if err != nil {
		return t, &ConfigError{Err: fmt.Errorf("target %s: %w", t.Name, err)}
	}
	t.Password = pw
	if err := t.CheckPassword(); err != nil {
		return t, &ConfigError{Err: err}
	}
	return t, nil
}

// TargetSource is one target's configuration and where it was given, so a
// clash can name both places.
type TargetSource struct {
	Config TargetConfig
	Origin string // "agent.toml [[target]] 2", "--target"
}

// BuildTargets builds every target and refuses two with the same name
// (compared without case): reports, scores, waivers, diff and history all
// key on the name, so two hosts called qemu:///system would merge into
// one. Names are compared before each target is built, so a clash is
// reported first, whatever else is wrong with the second target.
func BuildTargets(srcs []TargetSource, defaultTimeout time.Duration) ([]collectors.Target, error) {
	byName := map[string]int{}
	for i, src := range srcs {
		name := src.Config.Name
		if name == "" {
			name = collectors.DefaultName(src.Config.URI)
		}
		key := strings.ToLower(name)
		if j, dup := byName[key]; dup {
			return nil, configErrorf("two targets are named %q: %s (%s) and %s (%s); give each a distinct name (the config's [[target]] name = \"…\")",
				name, srcs[j].Origin, collectors.Redact(srcs[j].Config.URI), src.Origin, collectors.Redact(src.Config.URI))
		}
		byName[key] = i
	}
	out := make([]collectors.Target, 0, len(srcs))
	for _, src := range srcs {
		t, err := BuildTarget(src.Config, defaultTimeout)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// resolvePassword reads the password from a file, a named variable or
// HVAUDIT_PASSWORD, in that order of preference.
func resolvePassword(tc TargetConfig) (collectors.Secret, error) {
	switch {
	case tc.PasswordFile != "":
		return ReadPasswordFile(tc.PasswordFile)
	case tc.PasswordEnv != "":
		v, ok := os.LookupEnv(tc.PasswordEnv)
		if !ok {
			return collectors.Secret{}, fmt.Errorf("password_env %s is not set", tc.PasswordEnv)
		}
		return collectors.NewSecret(v), nil
	default:
		return collectors.NewSecret(os.Getenv(PasswordEnv)), nil
	}
}

// ReadPasswordFile reads a password file, refusing one that group or others
// can read: a world-readable credential is a finding of its own.
func ReadPasswordFile(path string) (collectors.Secret, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return collectors.Secret{}, fmt.Errorf("password file: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return collectors.Secret{}, fmt.Errorf("password file %s has mode %04o; make it 0600 or stricter (chmod 600 %s)", path, perm, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return collectors.Secret{}, fmt.Errorf("password file: %w", err)
	}
	return collectors.NewSecret(strings.TrimRight(string(b), "\r\n")), nil
}
