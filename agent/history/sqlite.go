package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver, "sqlite"
)

// openSQLite opens a history file in WAL mode: readers (`hvaudit history`,
// the HTTP API) never wait for the writer, and a process killed mid-write
// leaves the last committed state. synchronous=FULL makes a commit durable
// before Save returns.
func openSQLite(ctx context.Context, path string, o Options) (*Store, error) {
	created := false
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if o.MustExist {
			return nil, fmt.Errorf("history %s: no such file (serve or audit --history creates it)", path)
		}
		// The history holds every weakness of the estate: create it
		// private before SQLite creates it with its own default mode.
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("history %s: %w", path, err)
		}
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("history %s: %w", path, err)
		}
		if f != nil {
			f.Close()
			created = true
		}
	} else if err != nil {
		return nil, fmt.Errorf("history %s: %w", path, err)
	}
	q := url.Values{}
	// Per-connection settings only: journal_mode and auto_vacuum live in
	// the file and are set once, below; setting them on every connection
	// would make a reader wait for the writer.
	for _, p := range []string{"busy_timeout(15000)", "synchronous(FULL)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate") // writers take the lock up front: no deadlock upgrading a read
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("history %s: %w", path, err)
	}
	db.SetConnMaxIdleTime(time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("history %s: %w", path, err)
	}
	if created {
		// Only an empty file takes auto_vacuum; prunes then give space back.
		_, _ = db.ExecContext(pctx, "PRAGMA auto_vacuum = INCREMENTAL")
	}
	var mode string
	if err := db.QueryRowContext(pctx, "PRAGMA journal_mode").Scan(&mode); err == nil && mode != "wal" {
		err = db.QueryRowContext(pctx, "PRAGMA journal_mode = WAL").Scan(&mode)
	}
	if mode != "wal" {
		db.Close()
		return nil, fmt.Errorf("history %s: cannot use WAL mode (journal_mode is %q)", path, mode)
	}
	return &Store{db: db, where: path, locks: newLocalLocks(), dialect: dialect{
		name:   "sqlite",
		schema: migrationsFor("REAL", "BLOB", "INTEGER PRIMARY KEY AUTOINCREMENT"),
		reclaim: func(ctx context.Context, db *sql.DB) {
			_, _ = db.ExecContext(ctx, "PRAGMA incremental_vacuum")
			_, _ = db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
		},
	}}, nil
}
