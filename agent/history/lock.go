package history

import (
	"context"
	"database/sql/driver"
	"sync"
	"time"
)

// TryLock claims a target for one run. ok is false when someone else holds
// it: another run in this process or, with PostgreSQL, another agent of
// the fleet (a session-level advisory lock on a connection held for the
// run, so a crashed agent's lock goes with its connection). release must
// be called when ok.
func (s *Store) TryLock(ctx context.Context, target string) (release func(), ok bool, err error) {
	if s.locks != nil {
		return s.locks.try(target)
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, false, s.errorf("locking %s: %w", target, err)
	}
	var got bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1, hashtext($2))`, lockNamespace, target).Scan(&got); err != nil {
		conn.Close()
		return nil, false, s.errorf("locking %s: %w", target, err)
	}
	if !got {
		conn.Close()
		return nil, false, nil
	}
	return func() {
		uctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var released bool
		err := conn.QueryRowContext(uctx, `SELECT pg_advisory_unlock($1, hashtext($2))`, lockNamespace, target).Scan(&released)
		if err != nil || !released {
			// Never hand a connection that may still hold the lock back
			// to the pool: discard it, which ends the session and the lock.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		conn.Close()
	}, true, nil
}

// localLocks serialises runs of one target within a process (SQLite: one
// agent per history file).
type localLocks struct {
	mu   sync.Mutex
	held map[string]bool
}

func newLocalLocks() *localLocks { return &localLocks{held: map[string]bool{}} }

func (l *localLocks) try(target string) (func(), bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[target] {
		return nil, false, nil
	}
	l.held[target] = true
	return func() {
		l.mu.Lock()
		delete(l.held, target)
		l.mu.Unlock()
	}, true, nil
}

func nowMilli() int64 { return time.Now().UnixMilli() }
