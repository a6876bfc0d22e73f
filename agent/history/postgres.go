package history

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// lockNamespace is the first key of hvaudit's advisory locks ("hvau"), so
// they do not collide with other applications' locks in a shared database.
const lockNamespace = 0x68766175

// openPostgres connects to a shared store. The password never rides in the
// URL (as for targets): it comes from PGPASSWORD or a passfile (PGPASSFILE,
// ~/.pgpass, or passfile= in the URL). TLS is verified by default beyond
// loopback: a URL without sslmode gets sslmode=verify-full.
func openPostgres(ctx context.Context, raw string) (*Store, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("history: not a postgres URL: %w", err)
	}
	where := redactPostgres(u)
	if _, set := u.User.Password(); set {
		return nil, fmt.Errorf("history %s: a password in the URL is refused; use PGPASSWORD or a passfile (PGPASSFILE, passfile=)", where)
	}
	q := u.Query()
	if q.Get("sslmode") == "" && !localPostgres(u) {
		q.Set("sslmode", "verify-full")
		u.RawQuery = q.Encode()
	}
	cfg, err := pgx.ParseConfig(u.String())
	if err != nil {
		return nil, fmt.Errorf("history %s: %w", where, err)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 15 * time.Second
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(16)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("history %s: %w", where, err)
	}
	return &Store{db: db, where: where, dialect: dialect{
		name:   "postgres",
		dollar: true,
		schema: migrationsFor("DOUBLE PRECISION", "BYTEA", "BIGSERIAL PRIMARY KEY"),
		// One migration at a time across the fleet; released at commit.
		lockMigrations: fmt.Sprintf("SELECT pg_advisory_xact_lock(%d, 0)", lockNamespace),
		reclaim:        func(context.Context, *sql.DB) {}, // autovacuum does it
	}}, nil
}

// localPostgres: a Unix socket or a loopback host, where TLS adds nothing.
func localPostgres(u *url.URL) bool {
	h := u.Hostname()
	if h == "" || strings.HasPrefix(h, "/") || strings.HasPrefix(u.Query().Get("host"), "/") {
		return true
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func redactPostgres(u *url.URL) string {
	c := *u
	if c.User != nil {
		c.User = url.User(c.User.Username())
	}
	c.RawQuery = ""
	return c.String()
}
