package agent

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/hvaudit/hvaudit/report"
)

// NewLogger builds the zerolog logger for --log-level and --log-format.
// Logs go to stderr so stdout stays the report. Log lines carry names and
// error text from the audited estate, so both formats pass every value
// through report.Neutralize's rule: nothing a VM name or a server message
// holds can recolour, clear or retitle a terminal tailing the log, or
// start a forged line.
func NewLogger(w io.Writer, level, format string) (zerolog.Logger, error) {
	return NewLoggerColor(w, level, format, "auto")
}

// NewLoggerColor is NewLogger with a --color mode (ColorModes) for the
// console format: auto colours a terminal unless NO_COLOR is set.
func NewLoggerColor(w io.Writer, level, format, color string) (zerolog.Logger, error) {
	if level == "" {
		level = "info"
	}
	lvl, err := zerolog.ParseLevel(strings.ToLower(level))
	if err != nil || lvl == zerolog.NoLevel {
		return zerolog.Nop(), configErrorf("log level %q: use trace, debug, info, warn or error", level)
	}
	var out io.Writer
	switch format {
	case "", "console":
		out = consoleWriter(w, color)
	case "json":
		out = jsonNeutralizer{w}
	default:
		return zerolog.Nop(), configErrorf("log format %q: use console or json", format)
	}
	return zerolog.New(out).Level(lvl).With().Timestamp().Logger(), nil
}

// consoleWriter is zerolog's console format with every message and value
// neutralised; colour (on a terminal only) is added around the escaped text.
func consoleWriter(w io.Writer, color string) zerolog.ConsoleWriter {
	noColor := !colorFor(color, os.Getenv("NO_COLOR"), isTerminal(w))
	paint := func(code, s string) string {
		if noColor || s == "" {
			return s
		}
		return "\x1b[" + code + "m" + s + "\x1b[0m"
	}
	safe := func(i any) string {
		switch v := i.(type) {
		case nil:
			return ""
		case []byte:
			// zerolog hands over bools, nulls and objects as their JSON.
			return report.Neutralize(string(v), false)
		}
		return report.Neutralize(fmt.Sprint(i), false)
	}
	return zerolog.ConsoleWriter{
		Out: w, TimeFormat: time.RFC3339, NoColor: noColor,
		FormatMessage:       func(i any) string { return paint("1", safe(i)) },
		FormatFieldValue:    safe,
		FormatErrFieldValue: func(i any) string { return paint("1;31", safe(i)) },
	}
}

// jsonNeutralizer escapes, inside the JSON log line, what zerolog's encoder
// leaves raw (C1 controls, bidi and other format characters). zerolog
// hands each event to Write whole.
type jsonNeutralizer struct{ w io.Writer }

func (j jsonNeutralizer) Write(p []byte) (int, error) {
	if _, err := j.w.Write(report.NeutralizeJSON(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}
