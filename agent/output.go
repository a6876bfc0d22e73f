package agent

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/mattn/go-isatty"

	"github.com/hvaudit/hvaudit/agent/sign"
	"github.com/hvaudit/hvaudit/collectors"
	"github.com/hvaudit/hvaudit/report"
)

// Output is one report to write; Path "", "-" or "/dev/stdout" is
// standard output.
type Output struct {
	Format string
	Path   string
	// Display is how a human-readable format looks (verbosity; colour and
	// width on standard output).
	Display Display
	// makeDirs: Path was expanded from one whose directory holds a
	// placeholder (reports/{date}/…), so its directories are created.
	makeDirs bool
}

// ToStdout reports whether the output goes to standard output.
// "/dev/stdout" is taken as "-": opened by name it is a link that leads to
// a file when standard output is redirected to one, and links to files are
// not written through.
func (o Output) ToStdout() bool { return o.Path == "" || o.Path == "-" || o.Path == "/dev/stdout" }

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

// ValidateOutputs checks every output before anything is collected, read
// or written: the format is known; a directory format (cklb) names a
// directory, existing and writable or new in a directory that takes new
// entries (or a single ".cklb" file); every other format goes to standard
// output or to a path that is not a directory, whose directory exists and
// takes new files; no two outputs share a path or standard output. Every
// error is a ConfigError.
func ValidateOutputs(outs []Output) error { return validateOutputs(outs, false) }

// ValidateDaemonOutputs is ValidateOutputs for `serve`, which creates a
// report's directory when a run needs it: a directory that does not exist
// yet passes when its nearest existing ancestor is a writable directory.
func ValidateDaemonOutputs(outs []Output) error { return validateOutputs(outs, true) }

func validateOutputs(outs []Output, makeDirs bool) error {
	seen := map[string]int{}
	stdout := -1
	for i, o := range outs {
		if _, err := report.For(o.Format, report.Options{}); err != nil {
			return &ConfigError{Err: err}
		}
		if err := ValidatePlaceholders(o.Path); err != nil {
			return &ConfigError{Err: err}
		}
		dir := report.TakesDirectory(o.Format, o.Path)
		if o.ToStdout() {
			if stdout >= 0 {
				return configErrorf("--format %s and --format %s both write to standard output; give one an --output", outs[stdout].Format, o.Format)
			}
			stdout = i
			continue
		}
		if sample, ok := inspectablePath(o.Path); ok {
			if makeDirs {
				sample = creatablePath(sample)
			}
			if _, err := report.InspectDestination(sample, dir); err != nil {
				return configErrorf("--output for --format %s: %w", o.Format, err)
			}
		} else if err := checkPlaceholderDirs(o.Path, makeDirs); err != nil {
			return configErrorf("--output for --format %s: %w", o.Format, err)
		}
		key := filepath.Clean(o.Path)
		if j, dup := seen[key]; dup {
			return configErrorf("--format %s and --format %s both write %s", outs[j].Format, o.Format, o.Path)
		}
		seen[key] = i
	}
	return nil
}

// inspectablePath is the path ValidateOutputs can check before the run:
// the path itself, or, when placeholders ({date}, {target}…) fill only its
// last element, that element filled with sample values (the directory
// must exist and take new files either way). Placeholders in a directory
// name the run creates: nothing to check yet.
func inspectablePath(path string) (string, bool) {
	if !placeholderRE.MatchString(path) {
		return path, true
	}
	dir, base := filepath.Split(path)
	if placeholderRE.MatchString(dir) {
		return "", false
	}
	return filepath.Join(dir, placeholderRE.ReplaceAllString(base, "hvaudit-check")), true
}

// checkPlaceholderDirs checks, for a path whose directories hold
// placeholders (reports/{date}/r.json), the directory they are made in:
// the part before the first placeholder must be a directory that takes
// new entries (for serve, its nearest existing ancestor).
func checkPlaceholderDirs(path string, makeDirs bool) error {
	static := path[:placeholderRE.FindStringIndex(path)[0]]
	if i := strings.LastIndexAny(static, `/\`); i >= 0 {
		static = static[:i+1]
	} else {
		static = ""
	}
	sample := filepath.Join(static, ".hvaudit-new-directory")
	if makeDirs {
		sample = creatablePath(sample)
	}
	_, err := report.InspectDestination(sample, false)
	return err
}

// makeOutputDirs creates the directories of an output whose path was
// expanded from placeholders in its directories (mode 0750): a scheduled
// `audit --output reports/{date}/r.json` needs no hand-made directory per
// day, any more than serve does.
func makeOutputDirs(o Output) error {
	if !o.makeDirs {
		return nil
	}
	dir := filepath.Dir(o.Path)
	if report.TakesDirectory(o.Format, o.Path) {
		dir = o.Path
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("creating the report directory: %w", err)
	}
	return nil
}

// creatablePath is path when its directory exists; otherwise a new file
// name in the nearest existing ancestor, so inspecting it checks that the
// missing directories can be made there.
func creatablePath(path string) string {
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); err == nil {
		return path
	}
	for d := dir; ; {
		parent := filepath.Dir(d)
		if parent == d {
			return path
		}
		if _, err := os.Stat(parent); err == nil {
			return filepath.Join(parent, ".hvaudit-new-directory")
		}
		d = parent
	}
}

// OutputError is a report that could not be written after the audit ran:
// exit 4, which wins over the findings' 3 and 1. It names what failed and
// what was written, so nobody trusts a partial set of files.
type OutputError struct {
	Failed  []string // "json to /dev/full: no space left on device"
	Written []string // "table to standard output", "csv to r.csv"
}

func (e *OutputError) Error() string {
	written := "nothing"
	if len(e.Written) > 0 {
		written = strings.Join(e.Written, ", ")
	}
	return fmt.Sprintf("writing reports failed: %s; written: %s", strings.Join(e.Failed, "; "), written)
}

// WriteOutputs renders the run in every requested format and returns the
// regular files it wrote (for signing). An output that fails does not stop
// the others; the failures come back as one *OutputError. Files are written
// atomically, devices and FIFOs in place (report.WriteDestination); colour
// is used only on a terminal.
func WriteOutputs(run *report.Run, outs []Output, stdout io.Writer) ([]string, error) {
	oe := &OutputError{}
	files := writeAll(run, outs, stdout, oe)
	if len(oe.Failed) > 0 {
		return files, oe
	}
	return files, nil
}

// writeAll writes every output, recording each in oe as written or failed,
// and returns the regular files written.
func writeAll(run *report.Run, outs []Output, stdout io.Writer, oe *OutputError) []string {
	var files []string
	for _, o := range outs {
		what, written, err := writeOutput(run, o, stdout)
		files = append(files, written...)
		if err != nil {
			oe.Failed = append(oe.Failed, what+": "+report.Neutralize(err.Error(), false))
			continue
		}
		oe.Written = append(oe.Written, what)
	}
	return files
}

// writeOutput writes one output; what describes it for messages.
func writeOutput(run *report.Run, o Output, stdout io.Writer) (what string, files []string, err error) {
	opts := o.Display.options(o.ToStdout(), stdout)
	w, err := report.For(o.Format, opts)
	what = o.Format + " to " + o.Path
	if o.ToStdout() {
		what = o.Format + " to standard output"
	}
	if err != nil {
		return what, nil, err
	}
	if dw, ok := w.(report.DirWriter); ok && report.TakesDirectory(o.Format, o.Path) && !o.ToStdout() {
		// One file per asset (cklb): --output names a directory.
		if err := makeOutputDirs(o); err != nil {
			return what, nil, err
		}
		written, err := dw.WriteDir(o.Path, run)
		what = fmt.Sprintf("%s (%d files)", what, len(written))
		return what, written, err
	}
	if o.ToStdout() {
		return what, nil, w.Write(stdout, run)
	}
	if err := makeOutputDirs(o); err != nil {
		return what, nil, err
	}
	d, err := report.InspectDestination(o.Path, false)
	if err != nil {
		return what, nil, err
	}
	if err := report.WriteDestination(o.Path, func(f io.Writer) error { return w.Write(f, run) }); err != nil {
		return what, nil, err
	}
	if d.Kind == report.DestFile {
		files = []string{o.Path}
	}
	return what, files, nil
}

// ValidateSnapshotOutput checks collect's --output before the target is
// contacted, under the rules of a report file.
func ValidateSnapshotOutput(path string) error {
	if path == "-" {
		return nil
	}
	if _, err := report.InspectDestination(path, false); err != nil {
		return configErrorf("--output: %w", err)
	}
	return nil
}

// WriteSnapshot saves a snapshot under the rules of a report output: a
// file atomically (0640, or the existing file's stricter mode), a device or
// FIFO in place; "-" is standard output.
func WriteSnapshot(path string, s *collectors.Snapshot, stdout io.Writer) error {
	encode := s.WriteJSON // streamed: a large estate's data is never held encoded
	if path == "-" {
		return encode(stdout)
	}
	return report.WriteDestination(path, encode)
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

// PrepareSigning loads the --sign key before anything is collected or
// written, and checks there is a file to sign: standard output, devices and
// pipes cannot carry a detached signature beside them.
func PrepareSigning(keyPath string, outs []Output) (ed25519.PrivateKey, error) {
	key, err := sign.LoadPrivateKey(keyPath)
	if err != nil {
		return nil, &ConfigError{Err: err}
	}
	for _, o := range outs {
		if o.ToStdout() {
			continue
		}
		sample, ok := inspectablePath(o.Path)
		if !ok {
			return key, nil // placeholders in the directory: files, never a device
		}
		if d, err := report.InspectDestination(sample, report.TakesDirectory(o.Format, o.Path)); err != nil || d.Kind != report.DestStream {
			return key, nil
		}
	}
	return nil, configErrorf("--sign needs at least one --format with an --output file (standard output, devices and pipes are not signed)")
}
