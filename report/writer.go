package report

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// Writer renders a Run in one output format.
type Writer interface {
	// Format is the name the writer is selected by (--format).
	Format() string
	// Write renders run to w. It never modifies run.
	Write(w io.Writer, run *Run) error
}

// DirWriter is implemented by formats that write several files into a
// directory rather than one stream (cklb: one checklist per asset). The
// caller hands such a format its --output path as the directory.
type DirWriter interface {
	// WriteDir renders run into dir and returns the paths written. Files
	// are written under the rules of every report file (WriteDestination):
	// atomically, keeping a strict mode, never through a symlink.
	WriteDir(dir string, run *Run) ([]string, error)
}

// TakesDirectory reports whether format writes a directory (DirWriter) at
// path. A path named after the format ("x.cklb") that is not an existing
// directory takes a single file instead: a run with one asset. An unknown
// format takes no directory.
func TakesDirectory(format, path string) bool {
	w, err := For(format, Options{})
	if err != nil {
		return false
	}
	if _, ok := w.(DirWriter); !ok {
		return false
	}
	if strings.HasSuffix(strings.ToLower(path), "."+w.Format()) {
		fi, err := os.Stat(path)
		return err == nil && fi.IsDir()
	}
	return true
}

// Options tune how a writer renders. Formats that have no use for an option
// ignore it, so callers can pass the same Options to every writer.
type Options struct {
	// Color allows ANSI colour. The caller decides (a terminal, no NO_COLOR);
	// writers never probe the output themselves, so files stay plain.
	Color bool
	// Verbose adds, in formats meant for people, every failing object's
	// evidence and each check's remediation.
	Verbose bool
	// Width is the line width human-readable formats wrap to; 0 means
	// DefaultWidth.
	Width int
	// Quiet makes formats meant for people print only their summary line.
	Quiet bool
}

// DefaultWidth is the line width of human-readable output when Options.Width
// is not set: wide enough for evidence lines, narrow enough for a split
// terminal.
const DefaultWidth = 100

// ErrUnknownFormat is wrapped by For when no writer has the format's name.
var ErrUnknownFormat = errors.New("unknown report format")

// writers maps each format name to its constructor. It is a literal rather
// than init-time registration so the set of formats is visible in one place
// and never depends on which files were linked in: adding a format is one
// file with its writer plus one line here.
var writers = map[string]func(Options) Writer{
	"json":  func(Options) Writer { return jsonWriter{} },
	"table": func(o Options) Writer { return newTableWriter(o) },
	"csv":   func(Options) Writer { return csvWriter{} },
	"junit": func(Options) Writer { return junitWriter{} },
	"sarif": func(Options) Writer { return sarifWriter{} },
	"oscal": func(Options) Writer { return oscalWriter{} },
	"html":  func(Options) Writer { return htmlWriter{} },
	"cklb":  func(Options) Writer { return cklbWriter{} },
}

// Formats lists the known format names, sorted.
func Formats() []string {
	names := make([]string, 0, len(writers))
	for name := range writers {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// For returns the writer for a format name (case-insensitive). An unknown
// name is an error that lists the known ones, so a typo in --format is
// fixed from the message alone.
func For(format string, opts Options) (Writer, error) {
	name := strings.ToLower(strings.TrimSpace(format))
	newWriter, ok := writers[name]
	if !ok {
		return nil, fmt.Errorf("%w %q (known formats: %s)", ErrUnknownFormat, format, strings.Join(Formats(), ", "))
	}
	return newWriter(opts), nil
}
