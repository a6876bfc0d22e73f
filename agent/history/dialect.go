package history

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
)

// dialect is what differs between SQLite and PostgreSQL.
type dialect struct {
	name string
	// dollar numbers placeholders ($1, $2, …) as PostgreSQL wants.
	dollar bool
	// schema is each migration's statements, by version (index + 1).
	schema [][]string
	// lockMigrations serialises migrations between agents starting at
	// once; it runs inside the migration transaction.
	lockMigrations string
	// reclaim returns space freed by a prune to the file system.
	reclaim func(ctx context.Context, db *sql.DB)
}

func (d dialect) rebind(q string) string {
	if !d.dollar {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// migrationsFor is the schema, one list of statements per version (index
// + 1). Times are Unix milliseconds in both dialects, so queries and
// comparisons read the same. Append new versions; never edit a released one.
func migrationsFor(real, blob, serial string) [][]string {
	return [][]string{{
		`CREATE TABLE hvaudit_runs (
			run_id TEXT NOT NULL,
			target TEXT NOT NULL,
			started_ms BIGINT NOT NULL,
			finished_ms BIGINT NOT NULL,
			status TEXT NOT NULL,
			error TEXT NOT NULL DEFAULT '',
			score ` + real + `,
			score_without_waivers ` + real + `,
			n_pass INTEGER NOT NULL,
			n_fail INTEGER NOT NULL,
			n_error INTEGER NOT NULL,
			n_not_applicable INTEGER NOT NULL,
			n_waived INTEGER NOT NULL,
			new_failures INTEGER NOT NULL,
			baseline_id TEXT NOT NULL,
			baseline_version TEXT NOT NULL,
			baseline_sha256 TEXT NOT NULL,
			tailoring_sha256 TEXT NOT NULL,
			advisories_sha256 TEXT NOT NULL,
			agent TEXT NOT NULL,
			tool_version TEXT NOT NULL,
			report ` + blob + ` NOT NULL,
			PRIMARY KEY (run_id, target)
		)`,
		`CREATE INDEX hvaudit_runs_target_started ON hvaudit_runs (target, started_ms)`,
		`CREATE INDEX hvaudit_runs_started ON hvaudit_runs (started_ms)`,
		`CREATE TABLE hvaudit_drift_events (
			id ` + serial + `,
			run_id TEXT NOT NULL,
			target TEXT NOT NULL,
			previous_run_id TEXT NOT NULL,
			at_ms BIGINT NOT NULL,
			check_id TEXT NOT NULL,
			title TEXT NOT NULL,
			area TEXT NOT NULL,
			severity TEXT NOT NULL,
			object_kind TEXT NOT NULL,
			object_id TEXT NOT NULL,
			object_name TEXT NOT NULL,
			class TEXT NOT NULL,
			old_status TEXT NOT NULL,
			new_status TEXT NOT NULL,
			cause TEXT NOT NULL
		)`,
		`CREATE INDEX hvaudit_drift_target_at ON hvaudit_drift_events (target, at_ms)`,
		`CREATE INDEX hvaudit_drift_run ON hvaudit_drift_events (run_id, target)`,
	}}
}
