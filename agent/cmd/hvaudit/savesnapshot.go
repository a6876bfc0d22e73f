package main

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/rs/zerolog"

	"github.com/hvaudit/hvaudit/agent"
	"github.com/hvaudit/hvaudit/collectors"
)

// snapshotSaver writes `audit --save-snapshot` files as targets are read.
// The audit goes on when one cannot be written; the run then ends with
// exit 4, as for any output that failed.
type snapshotSaver struct {
	path string
	log  zerolog.Logger
	mu   sync.Mutex
	errs []error
}

// newSnapshotSaver checks the path against every target before any is
// contacted: several targets need {target} in it, so that no file is
// written twice; the rules of --output apply to each file. An empty path
// saves nothing.
func newSnapshotSaver(path string, snapshots []string, targets []collectors.Target, log zerolog.Logger) (*snapshotSaver, error) {
	if path == "" {
		return nil, nil
	}
	if len(snapshots) > 0 {
		return nil, errors.New("--save-snapshot saves what live targets return; it cannot be combined with --snapshot")
	}
	if path == "-" {
		return nil, errors.New("--save-snapshot needs a file: standard output is for reports")
	}
	for _, m := range []string{"{date}", "{time}", "{run_id}"} {
		if strings.Contains(path, m) {
			return nil, fmt.Errorf("--save-snapshot %q: only {target} may be used here", path)
		}
	}
	if err := agent.ValidatePlaceholders(path); err != nil {
		return nil, fmt.Errorf("--save-snapshot: %w", err)
	}
	if len(targets) > 1 && !agent.NamesTarget(path) {
		return nil, fmt.Errorf("--save-snapshot %q: %d targets would write the same file; put {target} in the path", path, len(targets))
	}
	s := &snapshotSaver{path: path, log: log}
	byFile := map[string]string{}
	for _, t := range targets {
		file := s.file(t.Name)
		// {target} keeps only file-safe characters: "vc:1" and "vc_1"
		// would share a file, the second overwriting the first.
		if other, dup := byFile[file]; dup {
			return nil, fmt.Errorf("--save-snapshot %q: targets %q and %q would both be saved as %s", path, other, t.Name, file)
		}
		byFile[file] = t.Name
		if err := agent.ValidateSnapshotOutput(file); err != nil {
			return nil, fmt.Errorf("--save-snapshot: %w", err)
		}
	}
	return s, nil
}

func (s *snapshotSaver) file(target string) string {
	return agent.ExpandTargetPath(s.path, target)
}

// saveFunc is the agent's Request.SaveSnapshot: nil when nothing is
// saved, so a live audit never encodes a snapshot it does not need.
func (s *snapshotSaver) saveFunc() func(*collectors.Snapshot) {
	if s == nil {
		return nil
	}
	return s.save
}

func (s *snapshotSaver) save(snap *collectors.Snapshot) {
	file := s.file(snap.Target.Name)
	err := agent.WriteSnapshot(file, snap, nil)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.errs = append(s.errs, fmt.Errorf("target %s was read, but its snapshot was not saved: %w", snap.Target.Name, err))
		return
	}
	s.log.Info().Str("target", snap.Target.Name).Str("file", file).Msg("snapshot saved")
}

// failed joins the errors of the files that could not be written.
func (s *snapshotSaver) failed() error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(s.errs...)
}
