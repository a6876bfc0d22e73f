// Package history keeps every audit run of every target: a SQLite file by
// default (pure Go, WAL mode, so `hvaudit history` reads while `serve`
// writes), or a PostgreSQL database that a fleet of agents shares, where an
// advisory lock keeps two agents from auditing one target at once.
//
// A stored run is one target's part of an audit: its summary as columns
// (what list, trend and the metrics read) and its whole hvaudit/report/v1
// document, gzipped (what show and drift read). A run and its drift events
// are written in one transaction, so a crash leaves either both or neither.
package history

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hvaudit/hvaudit/agent/diff"
	"github.com/hvaudit/hvaudit/agent/drift"
	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/report"
)

// Run is a stored run's summary: one element of `history list --format json`
// and of /api/runs.
type Run struct {
	RunID               string              `json:"run_id"`
	Target              string              `json:"target"`
	Started             time.Time           `json:"started"`
	Finished            time.Time           `json:"finished"`
	DurationSeconds     float64             `json:"duration_seconds"`
	Status              string              `json:"status"` // ok | error
	Error               string              `json:"error,omitempty"`
	Score               *float64            `json:"score"`
	ScoreWithoutWaivers *float64            `json:"score_without_waivers"`
	Counts              findings.Counts     `json:"counts"`
	NewFailures         int                 `json:"new_failures"` // drift events recorded with this run
	Baseline            report.BaselineInfo `json:"baseline"`
	TailoringSHA256     string              `json:"tailoring_sha256,omitempty"`
	AdvisoriesSHA256    string              `json:"advisories_sha256"`
	Agent               string              `json:"agent"` // host and process that ran it
	ReportBytes         int                 `json:"report_bytes"`
}

// Query selects runs or events; zero values select everything.
type Query struct {
	Target string
	Since  time.Time
	Limit  int // the newest Limit, still listed oldest first
}

// Store is an open history.
type Store struct {
	db      *sql.DB
	dialect dialect
	where   string // the location, without credentials, for messages
	locks   *localLocks
}

// Options tune Open.
type Options struct {
	// MustExist refuses to create a new SQLite file: reading commands
	// should say the history is missing, not create an empty one.
	MustExist bool
}

// Open opens (and migrates) the history at location: a SQLite file path,
// or a postgres:// URL.
func Open(ctx context.Context, location string, o Options) (*Store, error) {
	if location == "" {
		return nil, errors.New("history: no location given (a SQLite file path or a postgres:// URL)")
	}
	var (
		s   *Store
		err error
	)
	if isPostgres(location) {
		s, err = openPostgres(ctx, location)
	} else {
		s, err = openSQLite(ctx, location, o)
	}
	if err != nil {
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	return s, nil
}

func isPostgres(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Close releases the store.
func (s *Store) Close() error { return s.db.Close() }

// Where names the store for messages (no credentials).
func (s *Store) Where() string { return s.where }

// Ping tells whether the store answers (for /healthz).
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Save stores one target's run with its drift events, atomically.
func (s *Store) Save(ctx context.Context, part *report.Run, agentName string, events []drift.Event) error {
	if len(part.Targets) != 1 {
		return fmt.Errorf("history: a stored run holds one target, this one has %d", len(part.Targets))
	}
	t := part.Targets[0]
	blob, err := compressRun(part)
	if err != nil {
		return err
	}
	sc := part.Summary.ByTarget[t.Name]
	if sc.Score == nil && sc.Counts == (findings.Counts{}) {
		sc = findings.Score{Score: part.Summary.Score, ScoreWithoutWaivers: part.Summary.ScoreWithoutWaivers, Counts: part.Summary.Counts}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.errorf("saving run: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	_, err = tx.ExecContext(ctx, s.q(`INSERT INTO hvaudit_runs (run_id, target, started_ms, finished_ms, status, error,
		score, score_without_waivers, n_pass, n_fail, n_error, n_not_applicable, n_waived, new_failures,
		baseline_id, baseline_version, baseline_sha256, tailoring_sha256, advisories_sha256, agent, tool_version, report)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		part.Run.ID, t.Name, part.Run.Started.UnixMilli(), part.Run.Finished.UnixMilli(), t.Status, t.Error,
		sc.Score, sc.ScoreWithoutWaivers, sc.Counts.Pass, sc.Counts.Fail, sc.Counts.Error, sc.Counts.NotApplicable, sc.Counts.Waived, len(events),
		part.Run.Baseline.ID, part.Run.Baseline.Version, part.Run.Baseline.SHA256, part.Run.TailoringSHA256, part.Run.Advisories.SHA256,
		agentName, part.Tool.Version, blob)
	if err != nil {
		return s.errorf("saving run %s of %s: %w", part.Run.ID, t.Name, err)
	}
	for _, e := range events {
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO hvaudit_drift_events (run_id, target, previous_run_id, at_ms,
			check_id, title, area, severity, object_kind, object_id, object_name, class, old_status, new_status, cause)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			e.RunID, e.Target, e.PreviousRunID, e.At.UnixMilli(), e.CheckID, e.Title, e.Area, string(e.Severity),
			e.Object.Kind, e.Object.ID, e.Object.Name, string(e.Class), e.OldStatus, e.NewStatus, e.Cause)
		if err != nil {
			return s.errorf("saving drift event: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return s.errorf("saving run: %w", err)
	}
	return nil
}

const runColumns = `run_id, target, started_ms, finished_ms, status, error, score, score_without_waivers,
	n_pass, n_fail, n_error, n_not_applicable, n_waived, new_failures, baseline_id, baseline_version,
	baseline_sha256, tailoring_sha256, advisories_sha256, agent, length(report)`

func scanRun(sc interface{ Scan(...any) error }) (Run, error) {
	var r Run
	var started, finished int64
	var score, scoreWO sql.NullFloat64
	err := sc.Scan(&r.RunID, &r.Target, &started, &finished, &r.Status, &r.Error, &score, &scoreWO,
		&r.Counts.Pass, &r.Counts.Fail, &r.Counts.Error, &r.Counts.NotApplicable, &r.Counts.Waived, &r.NewFailures,
		&r.Baseline.ID, &r.Baseline.Version, &r.Baseline.SHA256, &r.TailoringSHA256, &r.AdvisoriesSHA256, &r.Agent, &r.ReportBytes)
	if err != nil {
		return r, err
	}
	r.Started, r.Finished = time.UnixMilli(started).UTC(), time.UnixMilli(finished).UTC()
	r.DurationSeconds = float64(finished-started) / 1000
	if score.Valid {
		r.Score = &score.Float64
	}
	if scoreWO.Valid {
		r.ScoreWithoutWaivers = &scoreWO.Float64
	}
	return r, nil
}

// List returns runs oldest first.
func (s *Store) List(ctx context.Context, q Query) ([]Run, error) {
	where, args := q.where("started_ms")
	query := `SELECT ` + runColumns + ` FROM hvaudit_runs` + where + ` ORDER BY started_ms DESC, target`
	if q.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", q.Limit)
	}
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, s.errorf("listing runs: %w", err)
	}
	defer rows.Close()
	out := []Run{}
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, s.errorf("listing runs: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, s.errorf("listing runs: %w", err)
	}
	// Newest first to apply the limit; oldest first to read.
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

func (q Query) where(timeCol string) (string, []any) {
	var conds []string
	var args []any
	if q.Target != "" {
		conds = append(conds, "target = ?")
		args = append(args, q.Target)
	}
	if !q.Since.IsZero() {
		conds = append(conds, timeCol+" >= ?")
		args = append(args, q.Since.UnixMilli())
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// Latest returns a target's newest run (okOnly: newest run in which the
// target could be read), or nil when there is none.
func (s *Store) Latest(ctx context.Context, target string, okOnly bool) (*Run, error) {
	query := `SELECT ` + runColumns + ` FROM hvaudit_runs WHERE target = ?`
	if okOnly {
		query += ` AND status = 'ok'`
	}
	query += ` ORDER BY started_ms DESC LIMIT 1`
	r, err := scanRun(s.db.QueryRowContext(ctx, s.q(query), target))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, s.errorf("reading the latest run of %s: %w", target, err)
	}
	return &r, nil
}

// Targets lists every target with a stored run.
func (s *Store) Targets(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT target FROM hvaudit_runs ORDER BY target`)
	if err != nil {
		return nil, s.errorf("listing targets: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Report returns a stored run's report, checked against the report schema
// as `hvaudit report --from` would. runID may be a unique prefix; target ""
// accepts any target while that stays unambiguous.
func (s *Store) Report(ctx context.Context, runID, target string) (*report.Run, *Run, error) {
	return s.report(ctx, runID, target, true)
}

func (s *Store) report(ctx context.Context, runID, target string, validate bool) (*report.Run, *Run, error) {
	if runID == "" {
		return nil, nil, errors.New("history: no run id given")
	}
	pattern := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(runID) + "%"
	query := `SELECT ` + runColumns + `, report FROM hvaudit_runs WHERE run_id LIKE ? ESCAPE '\'`
	args := []any{pattern}
	if target != "" {
		query += ` AND target = ?`
		args = append(args, target)
	}
	query += ` ORDER BY started_ms, target LIMIT 2`
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, nil, s.errorf("reading run %s: %w", runID, err)
	}
	defer rows.Close()
	var found []Run
	var blob []byte
	for rows.Next() {
		var r Run
		var started, finished int64
		var score, scoreWO sql.NullFloat64
		var b []byte
		if err := rows.Scan(&r.RunID, &r.Target, &started, &finished, &r.Status, &r.Error, &score, &scoreWO,
			&r.Counts.Pass, &r.Counts.Fail, &r.Counts.Error, &r.Counts.NotApplicable, &r.Counts.Waived, &r.NewFailures,
			&r.Baseline.ID, &r.Baseline.Version, &r.Baseline.SHA256, &r.TailoringSHA256, &r.AdvisoriesSHA256, &r.Agent, &r.ReportBytes, &b); err != nil {
			return nil, nil, s.errorf("reading run %s: %w", runID, err)
		}
		r.Started, r.Finished = time.UnixMilli(started).UTC(), time.UnixMilli(finished).UTC()
		r.DurationSeconds = float64(finished-started) / 1000
		if score.Valid {
			r.Score = &score.Float64
		}
		if scoreWO.Valid {
			r.ScoreWithoutWaivers = &scoreWO.Float64
		}
		found = append(found, r)
		blob = b
	}
	if err := rows.Err(); err != nil {
		return nil, nil, s.errorf("reading run %s: %w", runID, err)
	}
	switch len(found) {
	case 0:
		return nil, nil, fmt.Errorf("history %s: no run %q%s", s.where, runID, forTarget(target))
	case 2:
		if found[0].RunID == found[1].RunID {
			return nil, nil, fmt.Errorf("history %s: run %s audited several targets (%s, %s, …): give --target", s.where, found[0].RunID, found[0].Target, found[1].Target)
		}
		return nil, nil, fmt.Errorf("history %s: run id prefix %q is ambiguous (%s, %s, …)", s.where, runID, found[0].RunID, found[1].RunID)
	}
	run, err := decompressRun(blob, validate)
	if err != nil {
		return nil, nil, s.errorf("run %s of %s: %w", found[0].RunID, found[0].Target, err)
	}
	return run, &found[0], nil
}

func forTarget(t string) string {
	if t == "" {
		return ""
	}
	return " for target " + t
}

// LatestReport returns the report of a target's newest run (okOnly: the
// newest in which it could be read), or nil.
func (s *Store) LatestReport(ctx context.Context, target string, okOnly bool) (*report.Run, *Run, error) {
	r, err := s.Latest(ctx, target, okOnly)
	if err != nil || r == nil {
		return nil, nil, err
	}
	// This store wrote it: decoding is enough (validating a 10,000-VM
	// report against the schema before every drift comparison is not).
	return s.report(ctx, r.RunID, target, false)
}

// Events returns drift events oldest first.
func (s *Store) Events(ctx context.Context, q Query) ([]drift.Event, error) {
	where, args := q.where("at_ms")
	query := `SELECT run_id, target, previous_run_id, at_ms, check_id, title, area, severity, object_kind, object_id,
		object_name, class, old_status, new_status, cause FROM hvaudit_drift_events` + where + ` ORDER BY at_ms DESC, id DESC`
	if q.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", q.Limit)
	}
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, s.errorf("listing drift events: %w", err)
	}
	defer rows.Close()
	out := []drift.Event{}
	for rows.Next() {
		var e drift.Event
		var at int64
		var sev, class string
		if err := rows.Scan(&e.RunID, &e.Target, &e.PreviousRunID, &at, &e.CheckID, &e.Title, &e.Area, &sev,
			&e.Object.Kind, &e.Object.ID, &e.Object.Name, &class, &e.OldStatus, &e.NewStatus, &e.Cause); err != nil {
			return nil, s.errorf("listing drift events: %w", err)
		}
		e.At, e.Severity, e.Class = time.UnixMilli(at).UTC(), findings.Severity(sev), diff.Class(class)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// DriftCount counts the drift events stored for a target.
func (s *Store) DriftCount(ctx context.Context, target string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM hvaudit_drift_events WHERE target = ?`), target).Scan(&n)
	if err != nil {
		return 0, s.errorf("counting drift events: %w", err)
	}
	return n, nil
}

// Prune deletes runs (and their drift events) started before the cutoff,
// except each target's newest run: drift needs something to compare the
// next run with however long a target was away.
func (s *Store) Prune(ctx context.Context, before time.Time) (int, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, s.errorf("pruning: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	res, err := tx.ExecContext(ctx, s.q(`DELETE FROM hvaudit_runs WHERE started_ms < ?
		AND started_ms < (SELECT MAX(r2.started_ms) FROM hvaudit_runs r2 WHERE r2.target = hvaudit_runs.target)`), before.UnixMilli())
	if err != nil {
		return 0, s.errorf("pruning runs: %w", err)
	}
	n, _ := res.RowsAffected()
	if _, err := tx.ExecContext(ctx, `DELETE FROM hvaudit_drift_events WHERE NOT EXISTS
		(SELECT 1 FROM hvaudit_runs r WHERE r.run_id = hvaudit_drift_events.run_id AND r.target = hvaudit_drift_events.target)`); err != nil {
		return 0, s.errorf("pruning drift events: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, s.errorf("pruning: %w", err)
	}
	if n > 0 {
		s.dialect.reclaim(ctx, s.db)
	}
	return int(n), nil
}

func (s *Store) errorf(format string, a ...any) error {
	return fmt.Errorf("history %s: "+format, append([]any{s.where}, a...)...)
}

// q rewrites ? placeholders for the store's dialect.
func (s *Store) q(query string) string { return s.dialect.rebind(query) }

func compressRun(run *report.Run) ([]byte, error) {
	w, err := report.For("json", report.Options{})
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := w.Write(zw, run); err != nil {
		return nil, fmt.Errorf("history: encoding the report: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func decompressRun(blob []byte, validate bool) (*report.Run, error) {
	zr, err := gzip.NewReader(bytes.NewReader(blob))
	if err != nil {
		return nil, fmt.Errorf("stored report: %w", err)
	}
	if validate {
		return report.ReadRun(zr)
	}
	dec := json.NewDecoder(zr)
	dec.UseNumber()
	var run report.Run
	if err := dec.Decode(&run); err != nil {
		return nil, fmt.Errorf("stored report: %w", err)
	}
	return &run, nil
}
