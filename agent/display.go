package agent

import (
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/hvaudit/hvaudit/report"
)

// Display is how the human-readable report looks on standard output:
// verbosity, colour and width. Files are always plain and DefaultWidth
// wide, so a report file reads the same wherever it was written.
type Display struct {
	// Verbose adds every failing object's evidence and remediation.
	Verbose bool
	// Quiet prints the summary line alone.
	Quiet bool
	// Color is "auto" (the default: colour on a terminal unless NO_COLOR
	// is set), "always" or "never".
	Color string
}

// ColorModes are the values --color takes.
var ColorModes = []string{"auto", "always", "never"}

// Check refuses a colour mode that is not one of ColorModes and the two
// opposite verbosities at once.
func (d Display) Check() error {
	if d.Color != "" && !slices.Contains(ColorModes, d.Color) {
		return configErrorf("--color %q is not one of %s", d.Color, strings.Join(ColorModes, ", "))
	}
	if d.Verbose && d.Quiet {
		return configErrorf("--verbose and --quiet cannot be combined")
	}
	return nil
}

// options are the writer options for an output: colour and the terminal's
// width only on standard output.
func (d Display) options(toStdout bool, stdout io.Writer) report.Options {
	o := report.Options{Verbose: d.Verbose, Quiet: d.Quiet}
	if !toStdout {
		return o
	}
	o.Color = colorFor(d.Color, os.Getenv("NO_COLOR"), isTerminal(stdout))
	o.Width = outputWidth(stdout)
	return o
}

// colorFor decides colour: --color always and never win; auto colours a
// terminal unless NO_COLOR is set to anything non-empty (no-color.org).
func colorFor(mode, noColor string, terminal bool) bool {
	switch mode {
	case "always":
		return true
	case "never":
		return false
	}
	return noColor == "" && terminal
}

// OutputWidth is the width a listing on w should fit: see outputWidth.
func OutputWidth(w io.Writer) int { return outputWidth(w) }

// outputWidth is the width to render at: $COLUMNS when it is a number (the
// user's, or the shell's, statement of the width), else the terminal's,
// else 0 (the writer's default).
func outputWidth(w io.Writer) int {
	if c, err := strconv.Atoi(strings.TrimSpace(os.Getenv("COLUMNS"))); err == nil && c > 0 {
		return c
	}
	if f, ok := w.(*os.File); ok && isTerminal(f) {
		return terminalWidth(f)
	}
	return 0
}
