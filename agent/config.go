package agent

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Config is the agent configuration file (configs/agent.example.toml).
type Config struct {
	LogLevel    string         `toml:"log_level"`
	LogFormat   string         `toml:"log_format"`
	Concurrency int            `toml:"concurrency"`
	Timeout     Duration       `toml:"timeout"`
	Baseline    string         `toml:"baseline"`
	Tailoring   string         `toml:"tailoring"`
	Waivers     string         `toml:"waivers"`
	Advisories  string         `toml:"advisories"`
	FailOn      string         `toml:"fail_on"`
	Outputs     []OutputConfig `toml:"output"`
	Targets     []TargetConfig `toml:"target"`
	// Serve and Schedules are read by `hvaudit serve` (serveconfig.go).
	Serve     ServeConfig      `toml:"serve"`
	Schedules []ScheduleConfig `toml:"schedule"`
	// Path is the absolute path of the file this config was read from.
	Path string `toml:"-"`
}

// OutputConfig is one report to write.
type OutputConfig struct {
	Format string `toml:"format"`
	Path   string `toml:"path"`
}

// TargetConfig is one endpoint with its own connection settings.
type TargetConfig struct {
	Name         string   `toml:"name"`
	URI          string   `toml:"uri"`
	PasswordFile string   `toml:"password_file"`
	PasswordEnv  string   `toml:"password_env"`
	CAFile       string   `toml:"ca_file"`
	Thumbprint   string   `toml:"thumbprint"`
	Insecure     bool     `toml:"insecure"`
	Timeout      Duration `toml:"timeout"`
	HostRoot     string   `toml:"host_root"`
}

// Duration reads "90s", "5m" from TOML.
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("invalid duration %q (use e.g. 90s, 5m)", b)
	}
	d.Duration = v
	return nil
}

// ConfigError is a problem with user input: exit code 2, nothing audited.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// configErrorf builds a ConfigError.
func configErrorf(format string, a ...any) error {
	return &ConfigError{Err: fmt.Errorf(format, a...)}
}

// LoadConfig reads and validates an agent config file. Errors name the file
// and, where the TOML library or the source tells, the line.
func LoadConfig(path string) (*Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, configErrorf("config: %w", err)
	}
	var c Config
	md, err := toml.NewDecoder(bytes.NewReader(src)).Decode(&c)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, configErrorf("%s:%d: %s", path, pe.Position.Line, pe.Message)
		}
		return nil, configErrorf("%s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0]
		return nil, configErrorf("%s:%d: unknown key %q", path, lineOfKey(src, k), k.String())
	}
	if err := c.validate(); err != nil {
		return nil, configErrorf("%s: %w", path, err)
	}
	if c.Path, err = filepath.Abs(path); err != nil {
		return nil, configErrorf("config: %w", err)
	}
	c.resolvePaths(filepath.Dir(c.Path))
	return &c, nil
}

func (c *Config) validate() error {
	switch c.LogFormat {
	case "", "console", "json":
	default:
		return fmt.Errorf("log_format %q: use console or json", c.LogFormat)
	}
	if c.Concurrency < 0 {
		return fmt.Errorf("concurrency must be positive, got %d", c.Concurrency)
	}
	for i, t := range c.Targets {
		if t.URI == "" {
			return fmt.Errorf("target %d (%s): uri is required", i+1, t.Name)
		}
		if t.PasswordFile != "" && t.PasswordEnv != "" {
			return fmt.Errorf("target %s: set password_file or password_env, not both", t.URI)
		}
	}
	for i, o := range c.Outputs {
		if o.Format == "" {
			return fmt.Errorf("output %d: format is required", i+1)
		}
		if err := ValidatePlaceholders(o.Path); err != nil {
			return fmt.Errorf("output %d: %w", i+1, err)
		}
	}
	return nil
}

// lineOfKey finds the line where a dotted key's last part is assigned, so an
// unknown-key error can point at it. It searches after the key's table
// header when there is one; 0 means not found.
func lineOfKey(src []byte, k toml.Key) int {
	if len(k) == 0 {
		return 0
	}
	last := k[len(k)-1]
	lines := strings.Split(string(src), "\n")
	start := 0
	if len(k) > 1 {
		table := strings.Join(k[:len(k)-1], ".")
		for i, l := range lines {
			t := strings.TrimSpace(l)
			if t == "["+table+"]" || t == "[["+table+"]]" {
				start = i
				break
			}
		}
	}
	for i := start; i < len(lines); i++ {
		t := strings.TrimSpace(lines[i])
		if strings.HasPrefix(t, last) {
			rest := strings.TrimSpace(strings.TrimPrefix(t, last))
			if strings.HasPrefix(rest, "=") {
				return i + 1
			}
		}
		if t == "["+last+"]" || t == "[["+last+"]]" {
			return i + 1
		}
	}
	return 0
}
