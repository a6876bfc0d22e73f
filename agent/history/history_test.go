package history

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hvaudit/hvaudit/agent/diff"
	"github.com/hvaudit/hvaudit/agent/drift"
	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/report"
)

var t0 = time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)

// part builds one target's run with VM findings given as "id=status".
func part(id, target string, started time.Time, statuses ...string) *report.Run {
	var fs []findings.Finding
	for _, s := range statuses {
		obj, st, _ := strings.Cut(s, "=")
		fs = append(fs, findings.Finding{
			CheckID: "ESXI-VM-MIG-01", Title: "vMotion encrypted", Area: "migration-encryption", Severity: findings.SeverityMedium,
			Status: findings.Status(st), Target: target, Object: findings.ObjectRef{Kind: "vm", ID: "uuid-" + obj, Name: obj},
			Evidence: []findings.Evidence{}, Expected: "required", Remediation: "enable it",
		})
	}
	if fs == nil {
		fs = []findings.Finding{}
	}
	return &report.Run{
		Schema: report.Schema, Tool: report.Tool{Name: "hvaudit", Version: "test"},
		Run: report.RunInfo{ID: id, Started: started, Finished: started.Add(1500 * time.Millisecond),
			Baseline:   report.BaselineInfo{ID: "default", Version: "1", SHA256: strings.Repeat("b", 64)},
			Advisories: report.AdvisoriesInfo{AsOf: "2026-11-01", SHA256: strings.Repeat("a", 64)}},
		Targets:  []report.TargetResult{{Name: target, URI: "vsphere://" + target, Platform: "esxi", Status: report.TargetOK, CollectedAt: &started}},
		Findings: fs, Summary: findings.Summarize(fs, nil),
	}
}

// backends returns the stores to run a test against: always a SQLite
// file, and PostgreSQL when HVAUDIT_POSTGRES_URL names a server.
func backends(t *testing.T) map[string]func(t *testing.T) *Store {
	m := map[string]func(t *testing.T) *Store{
		"sqlite": func(t *testing.T) *Store {
			s, err := Open(context.Background(), filepath.Join(t.TempDir(), "h.db"), Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
	}
	if url := postgresURL(t); url != "" {
		m["postgres"] = func(t *testing.T) *Store {
			s, err := Open(context.Background(), freshSchema(t, url), Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
	}
	return m
}

func TestSaveListShow(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t)
			r1 := part("11111111-aaaa", "vc01", t0, "web-01=pass", "db-01=fail")
			r2 := part("22222222-bbbb", "vc01", t0.Add(time.Hour), "web-01=fail", "db-01=fail")
			r3 := part("33333333-cccc", "kvm01", t0.Add(30*time.Minute), "vm1=pass")
			ev := drift.Detect(r1, r2, nil)
			if len(ev) != 1 {
				t.Fatalf("drift between r1 and r2: %d events, want 1", len(ev))
			}
			for _, c := range []struct {
				r  *report.Run
				ev []drift.Event
			}{{r1, nil}, {r3, nil}, {r2, ev}} {
				if err := s.Save(ctx, c.r, "agent-a", c.ev); err != nil {
					t.Fatal(err)
				}
			}
			runs, err := s.List(ctx, Query{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range runs {
				got = append(got, fmt.Sprintf("%s/%s/%v/%d/%d/%d", r.RunID[:8], r.Target, *r.Score, r.Counts.Pass, r.Counts.Fail, r.NewFailures))
			}
			want := "11111111/vc01/50/1/1/0 33333333/kvm01/100/1/0/0 22222222/vc01/0/0/2/1"
			if strings.Join(got, " ") != want {
				t.Errorf("list = %s\nwant   %s", strings.Join(got, " "), want)
			}
			if runs[0].DurationSeconds != 1.5 || !runs[0].Started.Equal(t0) || runs[0].Agent != "agent-a" || runs[0].ReportBytes == 0 {
				t.Errorf("first run: %+v", runs[0])
			}
			if last, _ := s.List(ctx, Query{Target: "vc01", Limit: 1}); len(last) != 1 || last[0].RunID != r2.Run.ID {
				t.Errorf("the newest vc01 run: %+v", last)
			}
			if since, _ := s.List(ctx, Query{Since: t0.Add(time.Minute)}); len(since) != 2 {
				t.Errorf("runs since t0+1m: %d, want 2", len(since))
			}

			rep, meta, err := s.Report(ctx, "2222", "")
			if err != nil {
				t.Fatal(err)
			}
			if rep.Run.ID != r2.Run.ID || len(rep.Findings) != 2 || meta.Target != "vc01" {
				t.Errorf("report by prefix: %s, %d findings", rep.Run.ID, len(rep.Findings))
			}
			if _, _, err := s.Report(ctx, "9", ""); err == nil || !strings.Contains(err.Error(), `no run "9"`) {
				t.Errorf("unknown run: %v", err)
			}
			if err := s.Save(ctx, part("3333zzzz", "kvm01", t0.Add(2*time.Hour)), "agent-a", nil); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.Report(ctx, "3333", ""); err == nil || !strings.Contains(err.Error(), "ambiguous") {
				t.Errorf("ambiguous prefix: %v", err)
			}

			latest, err := s.Latest(ctx, "vc01", true)
			if err != nil || latest == nil || latest.RunID != r2.Run.ID {
				t.Errorf("latest vc01: %+v, %v", latest, err)
			}
			if none, err := s.Latest(ctx, "nobody", false); none != nil || err != nil {
				t.Errorf("latest of an unknown target: %+v, %v", none, err)
			}
			events, err := s.Events(ctx, Query{Target: "vc01"})
			if err != nil || len(events) != 1 {
				t.Fatalf("events: %+v, %v", events, err)
			}
			e := events[0]
			if e.CheckID != "ESXI-VM-MIG-01" || e.Object.Name != "web-01" || e.Object.ID != "uuid-web-01" || e.OldStatus != "pass" ||
				e.NewStatus != "fail" || e.Class != diff.NewFailure || e.Cause != drift.CauseEstate || e.PreviousRunID != r1.Run.ID || !e.At.Equal(r2.Run.Started) {
				t.Errorf("stored event: %+v", e)
			}
			if n, _ := s.DriftCount(ctx, "vc01"); n != 1 {
				t.Errorf("drift count %d", n)
			}
			if ts, _ := s.Targets(ctx); strings.Join(ts, ",") != "kvm01,vc01" {
				t.Errorf("targets %v", ts)
			}
		})
	}
}

// TestPruneKeepsEachTargetsNewestRun: retention deletes old runs and their
// events, but never the run the next drift comparison needs.
func TestPruneKeepsEachTargetsNewestRun(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t)
			old1 := part("old-1", "vc01", t0.AddDate(0, 0, -500), "a=pass")
			old2 := part("old-2", "vc01", t0.AddDate(0, 0, -450), "a=fail")
			cur := part("new-1", "vc01", t0, "a=fail")
			lonely := part("lonely", "gone01", t0.AddDate(0, 0, -600), "a=pass")
			for _, r := range []*report.Run{old1, lonely, cur} {
				if err := s.Save(ctx, r, "a", nil); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Save(ctx, old2, "a", drift.Detect(old1, old2, nil)); err != nil {
				t.Fatal(err)
			}
			n, err := s.Prune(ctx, t0.AddDate(0, 0, -400))
			if err != nil {
				t.Fatal(err)
			}
			if n != 2 {
				t.Errorf("pruned %d runs, want 2 (old-1, old-2)", n)
			}
			runs, _ := s.List(ctx, Query{})
			var ids []string
			for _, r := range runs {
				ids = append(ids, r.RunID)
			}
			if strings.Join(ids, ",") != "lonely,new-1" {
				t.Errorf("left after prune: %v", ids)
			}
			if ev, _ := s.Events(ctx, Query{}); len(ev) != 0 {
				t.Errorf("events of pruned runs survived: %+v", ev)
			}
		})
	}
}

func TestSQLiteFileIsPrivateWALAndMustExist(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "h.db")
	if _, err := Open(ctx, path, Options{MustExist: true}); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("MustExist on a missing file: %v", err)
	}
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("history file mode %04o, want 0600", fi.Mode().Perm())
	}
	var mode string
	if err := s.db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode %q (%v), want wal", mode, err)
	}
	if v, err := s.SchemaVersion(ctx); err != nil || v != len(s.dialect.schema) {
		t.Errorf("schema version %d (%v), want %d", v, err, len(s.dialect.schema))
	}
}

// TestReadersDoNotWaitForTheWriter: `hvaudit history list` works while
// serve holds a write transaction open (WAL).
func TestReadersDoNotWaitForTheWriter(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.db")
	w, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Save(ctx, part("r1", "vc01", t0, "a=pass"), "a", nil); err != nil {
		t.Fatal(err)
	}
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`DELETE FROM hvaudit_runs`); err != nil {
		t.Fatal(err)
	}
	r, err := Open(ctx, path, Options{MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	runs, err := r.List(rctx, Query{})
	if err != nil || len(runs) != 1 {
		t.Fatalf("reading during an open write: %d runs, %v", len(runs), err)
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			if _, err := s.db.Exec(s.q(`INSERT INTO hvaudit_schema (version, applied_ms) VALUES (?, 0)`), len(s.dialect.schema)+1); err != nil {
				t.Fatal(err)
			}
			err := s.migrate(context.Background())
			if err == nil || !strings.Contains(err.Error(), "newer than this hvaudit knows") {
				t.Errorf("a newer schema: %v", err)
			}
		})
	}
}

// TestSaveIsAllOrNothing: a run whose drift event cannot be stored leaves
// neither the run nor its other events behind. A trigger makes the second
// event's insert fail after the run row and the first event went in.
func TestSaveIsAllOrNothing(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t)
			boom := map[string][]string{
				"sqlite": {`CREATE TRIGGER boom BEFORE INSERT ON hvaudit_drift_events WHEN NEW.check_id = 'BOOM'
					BEGIN SELECT RAISE(ABORT, 'boom'); END`},
				"postgres": {`CREATE FUNCTION boom() RETURNS trigger AS $$ BEGIN
					IF NEW.check_id = 'BOOM' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`,
					`CREATE TRIGGER boom BEFORE INSERT ON hvaudit_drift_events FOR EACH ROW EXECUTE FUNCTION boom()`},
			}[s.dialect.name]
			for _, stmt := range boom {
				if _, err := s.db.Exec(stmt); err != nil {
					t.Fatal(err)
				}
			}
			r1 := part("r1", "vc01", t0, "a=pass", "b=pass")
			r2 := part("r2", "vc01", t0.Add(time.Hour), "a=fail", "b=fail")
			if err := s.Save(ctx, r1, "a", nil); err != nil {
				t.Fatal(err)
			}
			ev := drift.Detect(r1, r2, nil)
			if len(ev) != 2 {
				t.Fatalf("%d events, want 2", len(ev))
			}
			ev[1].CheckID = "BOOM"
			if err := s.Save(ctx, r2, "a", ev); err == nil || !strings.Contains(err.Error(), "boom") {
				t.Fatalf("save with a failing event: %v", err)
			}
			runs, _ := s.List(ctx, Query{})
			events, _ := s.Events(ctx, Query{})
			if len(runs) != 1 || len(events) != 0 {
				t.Errorf("after the failed save: %d runs, %d events; want 1, 0", len(runs), len(events))
			}
			if err := s.Save(ctx, r1, "a", nil); err == nil {
				t.Error("saving the same run twice succeeded")
			}
		})
	}
}

// TestTryLock: a target is claimed by one run at a time; with PostgreSQL
// by one agent of the fleet (two stores are two agents' sessions).
func TestTryLock(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "h.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	assertExclusive(t, s, s)

	url := postgresURL(t)
	if url == "" {
		t.Skip("no PostgreSQL (HVAUDIT_POSTGRES_URL): the fleet lock is not tested")
	}
	u := freshSchema(t, url)
	a, err := Open(ctx, u, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, u, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	assertExclusive(t, a, b)

	// A crashed agent's lock goes with its session: end a's session the
	// way a dead process does, from the server side.
	if _, ok, err := a.TryLock(ctx, "vc09"); err != nil || !ok {
		t.Fatalf("lock: %v %v", ok, err)
	}
	if _, ok, _ := b.TryLock(ctx, "vc09"); ok {
		t.Fatal("vc09 locked twice")
	}
	var killed int
	if err := b.db.QueryRow(`SELECT COUNT(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND granted`,
		lockNamespace).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("ending the lock holder's session: %d sessions, %v", killed, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		rel, ok, err := b.TryLock(ctx, "vc09")
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			rel()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the lock of a closed store was never released")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func assertExclusive(t *testing.T, a, b *Store) {
	t.Helper()
	ctx := context.Background()
	relA, ok, err := a.TryLock(ctx, "vc01")
	if err != nil || !ok {
		t.Fatalf("first lock: ok=%v err=%v", ok, err)
	}
	if _, ok, err := b.TryLock(ctx, "vc01"); err != nil || ok {
		t.Fatalf("second lock on the same target: ok=%v err=%v, want refused", ok, err)
	}
	relOther, ok, err := b.TryLock(ctx, "kvm01")
	if err != nil || !ok {
		t.Fatalf("lock on another target: ok=%v err=%v", ok, err)
	}
	relOther()
	relA()
	relB, ok, err := b.TryLock(ctx, "vc01")
	if err != nil || !ok {
		t.Fatalf("lock after release: ok=%v err=%v", ok, err)
	}
	relB()

	// Many racers, one winner at a time.
	var mu sync.Mutex
	holders, maxHolders, wins := 0, 0, 0
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(s *Store) {
			defer wg.Done()
			rel, ok, err := s.TryLock(ctx, "race")
			if err != nil {
				t.Error(err)
				return
			}
			if !ok {
				return
			}
			mu.Lock()
			holders++
			wins++
			maxHolders = max(maxHolders, holders)
			mu.Unlock()
			time.Sleep(20 * time.Millisecond)
			mu.Lock()
			holders--
			mu.Unlock()
			rel()
		}(map[bool]*Store{true: a, false: b}[i%2 == 0])
	}
	wg.Wait()
	if maxHolders != 1 || wins == 0 {
		t.Errorf("racing for one target: at most %d holders at once (want 1), %d wins", maxHolders, wins)
	}
}

// postgresURL is the test server's URL; without one the PostgreSQL cases
// skip, unless HVAUDIT_REQUIRE_POSTGRES says they must run (CI).
func postgresURL(t *testing.T) string {
	u := os.Getenv("HVAUDIT_POSTGRES_URL")
	if u == "" && os.Getenv("HVAUDIT_REQUIRE_POSTGRES") != "" {
		t.Fatal("HVAUDIT_REQUIRE_POSTGRES is set but HVAUDIT_POSTGRES_URL is not (.ci/postgres.sh start prints it)")
	}
	return u
}

// freshSchema creates an empty schema for one test and returns the URL
// that uses it (search_path), dropping it when the test ends.
func freshSchema(t *testing.T, url string) string {
	t.Helper()
	name := fmt.Sprintf("t_%d_%d", os.Getpid(), time.Now().UnixNano())
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE SCHEMA " + name); err != nil {
		t.Fatalf("creating a test schema on %s: %v", url, err)
	}
	t.Cleanup(func() {
		_, _ = db.Exec("DROP SCHEMA " + name + " CASCADE")
		db.Close()
	})
	return url + "&search_path=" + name
}
