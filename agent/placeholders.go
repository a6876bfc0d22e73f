package agent

import (
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/report"
)

// Output paths may name the run they hold, so a scheduled audit keeps one
// file per run instead of overwriting the last: {date} and {time} (the
// run's start, UTC, 2006-01-02 and 150405), {run_id}, and {target}, which
// writes one file per target holding that target's part of the run.
var placeholderRE = regexp.MustCompile(`\{[^{}]*\}`)

var placeholders = map[string]bool{"{date}": true, "{time}": true, "{target}": true, "{run_id}": true}

// ValidatePlaceholders refuses a path with a {word} hvaudit does not know:
// a typo would otherwise end up in a file name.
func ValidatePlaceholders(path string) error {
	for _, m := range placeholderRE.FindAllString(path, -1) {
		if !placeholders[m] {
			return fmt.Errorf("output path %q: unknown placeholder %s (use {date}, {time}, {target}, {run_id})", path, m)
		}
	}
	return nil
}

// NamesTarget tells whether a path is written once per target.
func NamesTarget(path string) bool { return strings.Contains(path, "{target}") }

// ExpandPath fills the placeholders of an output path for a run; target is
// the target the file holds ("" when the run's targets share one file).
func ExpandPath(path string, run *report.Run, target string) string {
	started := run.Run.Started.UTC()
	return strings.NewReplacer(
		"{date}", started.Format("2006-01-02"),
		"{time}", started.Format("150405"),
		"{run_id}", fileSafe(run.Run.ID),
		"{target}", fileSafe(target),
	).Replace(path)
}

// ExpandTargetPath fills {target} alone, for a file written per target
// before the run's report exists (audit --save-snapshot).
func ExpandTargetPath(path, target string) string {
	return strings.ReplaceAll(path, "{target}", fileSafe(target))
}

// expandOutput fills an output's placeholders for a run (and a target);
// placeholders in its directories mean those are made when it is written.
func expandOutput(o Output, run *report.Run, target string) Output {
	dir := filepath.Dir(o.Path)
	if report.TakesDirectory(o.Format, o.Path) {
		dir = o.Path
	}
	return Output{Format: o.Format, Path: ExpandPath(o.Path, run, target), Display: o.Display,
		makeDirs: placeholderRE.MatchString(dir)}
}

// PlaceholderGlob turns a path's placeholders into '*', for finding the
// files (and leftovers) an output writes.
func PlaceholderGlob(path string) string {
	return placeholderRE.ReplaceAllString(path, "*")
}

// fileSafe keeps a name usable as one path element on every platform.
func fileSafe(s string) string {
	if s == "" {
		return "_"
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, strings.TrimLeft(s, "."))
}

// SplitByTarget returns one run per target: the same run information, that
// target's result and findings, and a summary of those findings alone.
func SplitByTarget(run *report.Run) []*report.Run {
	out := make([]*report.Run, 0, len(run.Targets))
	for _, t := range run.Targets {
		part := &report.Run{Schema: run.Schema, Tool: run.Tool, Run: run.Run,
			Targets: []report.TargetResult{t}, Findings: []findings.Finding{}}
		for _, f := range run.Findings {
			if f.Target == t.Name {
				part.Findings = append(part.Findings, f)
			}
		}
		var failed []string
		if t.Status == report.TargetError {
			failed = []string{t.Name}
		}
		part.Summary = findings.Summarize(part.Findings, failed)
		out = append(out, part)
	}
	return out
}

// WriteRunOutputs writes every output of a run with its placeholders
// filled: an output whose path names {target} is written once per target.
// It returns the regular files written, for signing. Like WriteOutputs, an
// output that fails does not stop the others: the failures of every batch
// come back as one *OutputError.
func WriteRunOutputs(run *report.Run, outs []Output, stdout io.Writer) ([]string, error) {
	var whole, perTarget []Output
	for _, o := range outs {
		switch {
		case o.ToStdout():
			whole = append(whole, o)
		case NamesTarget(o.Path):
			perTarget = append(perTarget, o)
		default:
			whole = append(whole, expandOutput(o, run, ""))
		}
	}
	all := &OutputError{}
	files := writeAll(run, whole, stdout, all)
	if len(perTarget) > 0 {
		for _, part := range SplitByTarget(run) {
			name := part.Targets[0].Name
			expanded := make([]Output, len(perTarget))
			for i, o := range perTarget {
				expanded[i] = expandOutput(o, part, name)
			}
			files = append(files, writeAll(part, expanded, stdout, all)...)
		}
	}
	if len(all.Failed) > 0 {
		return files, all
	}
	return files, nil
}
