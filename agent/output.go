package agent

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/mattn/go-isatty"

	"github.com/hvaudit/hvaudit/collectors"
	"github.com/hvaudit/hvaudit/report"
)

// Output is one report to write; Path "" or "-" is standard output.
type Output struct {
	Format string
	Path   string
	// Display is how a human-readable format looks (verbosity; colour and
	// width on standard output).
	Display Display
}

// ToStdout reports whether the output goes to standard output.
func (o Output) ToStdout() bool { return o.Path == "" || o.Path == "-" }

// PairOutputs pairs --format and --output flags by position. A format
// without an output goes to standard output; only one may.
func PairOutputs(formats, paths []string) ([]Output, error) {
	if len(paths) > len(formats) {
		return nil, configErrorf("--output %s has no --format before it", paths[len(formats)])
	}
	var outs []Output
	stdout := 0
	for i, f := range formats {
		o := Output{Format: f}
		if i < len(paths) {
			o.Path = paths[i]
		}
		if o.ToStdout() {
			stdout++
		}
		outs = append(outs, o)
	}
	if stdout > 1 {
		return nil, configErrorf("only one --format may write to standard output; give the others an --output")
	}
	return outs, nil
}

// ValidateOutputs checks every format is known before anything is collected.
func ValidateOutputs(outs []Output) error {
	for _, o := range outs {
		if _, err := report.For(o.Format, report.Options{}); err != nil {
			return &ConfigError{Err: err}
		}
		if err := ValidatePlaceholders(o.Path); err != nil {
			return &ConfigError{Err: err}
		}
	}
	return nil
}

// WriteOutputs renders the run in every requested format. Files are written
// atomically; colour is used only on a terminal.
func WriteOutputs(run *report.Run, outs []Output, stdout io.Writer) error {
	for _, o := range outs {
		opts := o.Display.options(o.ToStdout(), stdout)
		w, err := report.For(o.Format, opts)
		if err != nil {
			return &ConfigError{Err: err}
		}
		if o.ToStdout() {
			if err := w.Write(stdout, run); err != nil {
				return fmt.Errorf("writing %s report: %w", o.Format, err)
			}
			continue
		}
		if dw, ok := w.(report.DirWriter); ok {
			// One file per asset (cklb): --output names a directory.
			if _, err := dw.WriteDir(o.Path, run); err != nil {
				return fmt.Errorf("writing %s report to %s: %w", o.Format, o.Path, err)
			}
			continue
		}
		if err := report.WriteFileAtomic(o.Path, 0o640, func(f io.Writer) error { return w.Write(f, run) }); err != nil {
			return fmt.Errorf("writing %s report to %s: %w", o.Format, o.Path, err)
		}
	}
	return nil
}

// WriteSnapshot saves a snapshot atomically, mode 0640.
func WriteSnapshot(path string, s *collectors.Snapshot) error {
	return report.WriteFileAtomic(path, 0o640, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	})
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// IsTerminal reports whether w is an interactive terminal.
func IsTerminal(w io.Writer) bool { return isTerminal(w) }

func fileSHA256(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}
