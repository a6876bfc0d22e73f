package history

import (
	"context"
	"fmt"
)

// migrate brings the schema to this build's version in one transaction.
// Agents sharing a PostgreSQL store may start together: the dialect's lock
// makes the second wait and then find nothing to do. A store written by a
// newer hvaudit is refused rather than misread.
func (s *Store) migrate(ctx context.Context) error {
	steps := s.dialect.schema
	// Up to date: nothing to write, so a reader opening the store while
	// serve writes never waits for the write lock.
	if v, err := s.SchemaVersion(ctx); err == nil && v == len(steps) {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.errorf("migrating: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if s.dialect.lockMigrations != "" {
		if _, err := tx.ExecContext(ctx, s.dialect.lockMigrations); err != nil {
			return s.errorf("locking for migration: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS hvaudit_schema (version INTEGER NOT NULL PRIMARY KEY, applied_ms BIGINT NOT NULL)`); err != nil {
		return s.errorf("migrating: %w", err)
	}
	var have int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM hvaudit_schema`).Scan(&have); err != nil {
		return s.errorf("reading the schema version: %w", err)
	}
	if have > len(steps) {
		return s.errorf("schema version %d is newer than this hvaudit knows (%d): upgrade hvaudit", have, len(steps))
	}
	for v := have + 1; v <= len(steps); v++ {
		for _, stmt := range steps[v-1] {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return s.errorf("migrating to schema version %d: %w", v, err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO hvaudit_schema (version, applied_ms) VALUES (?, ?)`), v, nowMilli()); err != nil {
			return s.errorf("migrating to schema version %d: %w", v, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return s.errorf("migrating: %w", err)
	}
	return nil
}

// SchemaVersion is the schema version the store is at.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM hvaudit_schema`).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("history %s: %w", s.where, err)
	}
	return v, nil
}
