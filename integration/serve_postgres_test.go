package integration

import (
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"sort"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx", to make a schema per test

	"github.com/hvaudit/hvaudit/collectors/esxi/esxisim"
)

// postgresURL is the test server .ci/postgres.sh starts; without one the
// test skips, unless HVAUDIT_REQUIRE_POSTGRES says it must run (CI).
func postgresURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("HVAUDIT_POSTGRES_URL")
	if u == "" {
		if os.Getenv("HVAUDIT_REQUIRE_POSTGRES") != "" {
			t.Fatal("HVAUDIT_REQUIRE_POSTGRES is set but HVAUDIT_POSTGRES_URL is not (eval \"$(bash .ci/postgres.sh start)\")")
		}
		t.Skip("no PostgreSQL: set HVAUDIT_POSTGRES_URL (eval \"$(bash .ci/postgres.sh start)\")")
	}
	return u
}

// pgSchema makes an empty schema for one test and returns the URL using it.
func pgSchema(t *testing.T, base string) string {
	t.Helper()
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("it_%d_%d", os.Getpid(), time.Now().UnixNano())
	if _, err := db.Exec("CREATE SCHEMA " + name); err != nil {
		t.Fatalf("creating schema: %v", err)
	}
	t.Cleanup(func() {
		_, _ = db.Exec("DROP SCHEMA " + name + " CASCADE")
		db.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// TestServePostgresTwoAgentsRace runs two `hvaudit serve` processes that
// share one PostgreSQL history and audit the same target every second,
// while a run takes about two seconds: the advisory lock must let one
// agent at a time audit it (stored runs never overlap), the other says it
// skipped, and every run either agent logged is in the shared history.
func TestServePostgresTwoAgentsRace(t *testing.T) {
	pg := pgSchema(t, postgresURL(t))
	sim := startSim(t, esxisim.Options{Delay: 120 * time.Millisecond})
	var agents []*serveProc
	for i := 0; i < 2; i++ {
		dir := t.TempDir()
		cfg := writeServeConfig(t, dir, sim, serveConfig{listen: freeAddr(t), history: pg, cron: "@every 1s"})
		agents = append(agents, startServe(t, cfg))
	}
	// Run until both agents logged lock skips and six runs finished (a
	// minute and a half at most), then judge what happened.
	locked := func() int {
		n := 0
		for _, p := range agents {
			for _, s := range p.logs.events("skip") {
				if s["reason"] == "locked" {
					n++
				}
			}
		}
		return n
	}
	finished := func() int { return len(agents[0].logs.events("run")) + len(agents[1].logs.events("run")) }
	deadline := time.Now().Add(90 * time.Second)
	for (finished() < 6 || locked() < 2) && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	if n := locked(); n < 2 {
		t.Errorf("%d lock skips in %d runs: the agents never found the target locked by the other", n, finished())
	}
	for i, p := range agents {
		if code := p.stop(t, time.Minute); code != 0 {
			t.Errorf("agent %d exited %d on SIGTERM", i, code)
		}
	}

	runs := historyList(t, pg)
	logged := map[string]bool{}
	for _, p := range agents {
		for _, o := range p.logs.events("run") {
			logged[o["run_id"].(string)] = true
		}
	}
	byAgent := map[string]int{}
	sort.Slice(runs, func(a, b int) bool { return runs[a].Started.Before(runs[b].Started) })
	for i, r := range runs {
		byAgent[r.Agent]++
		if !logged[r.RunID] {
			t.Errorf("stored run %s was logged by neither agent", r.RunID)
		}
		delete(logged, r.RunID)
		if r.Status != "ok" {
			t.Errorf("run %s: %s %s", r.RunID, r.Status, r.Error)
		}
		if i > 0 && r.Started.Before(runs[i-1].Finished) {
			t.Errorf("runs overlap: %s (%s, %s–%s) and %s (%s, %s–%s)", runs[i-1].RunID[:8], runs[i-1].Agent,
				runs[i-1].Started.Format("15:04:05.000"), runs[i-1].Finished.Format("15:04:05.000"),
				r.RunID[:8], r.Agent, r.Started.Format("15:04:05.000"), r.Finished.Format("15:04:05.000"))
		}
	}
	for id := range logged {
		t.Errorf("run %s was logged but is not in the shared history", id)
	}
	if len(byAgent) < 1 {
		t.Fatal("no run stored")
	}
	t.Logf("%d runs in the shared history, by agent: %v", len(runs), byAgent)
}
