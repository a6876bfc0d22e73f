package agent

import (
	"io"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// NewLogger builds the zerolog logger for --log-level and --log-format.
// Logs go to stderr so stdout stays the report.
func NewLogger(w io.Writer, level, format string) (zerolog.Logger, error) {
	if level == "" {
		level = "info"
	}
	lvl, err := zerolog.ParseLevel(strings.ToLower(level))
	if err != nil || lvl == zerolog.NoLevel {
		return zerolog.Nop(), configErrorf("log level %q: use trace, debug, info, warn or error", level)
	}
	var out io.Writer = w
	switch format {
	case "", "console":
		out = zerolog.ConsoleWriter{Out: w, TimeFormat: time.RFC3339, NoColor: !isTerminal(w)}
	case "json":
	default:
		return zerolog.Nop(), configErrorf("log format %q: use console or json", format)
	}
	return zerolog.New(out).Level(lvl).With().Timestamp().Logger(), nil
}
