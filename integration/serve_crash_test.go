package integration

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite" // to check the history file's integrity directly

	"github.com/hvaudit/hvaudit/collectors/esxi/esxisim"
)

// messages counts log lines with a given message.
func (l *lineLog) messages(msg string) int {
	n := 0
	for _, line := range l.snapshot() {
		if strings.Contains(line, `"message":"`+msg+`"`) {
			n++
		}
	}
	return n
}

// TestServeKill9MidRun kills serve with SIGKILL while it collects a
// target (the simulator answers every call 250 ms late, so a run takes
// seconds), restarts it and checks that the history is intact (SQLite's
// integrity check, every stored report readable), that the interrupted run
// left nothing, that a temporary report file a killed writer leaves is
// removed at start, and that every report file is whole.
func TestServeKill9MidRun(t *testing.T) {
	sim := startSim(t, esxisim.Options{Delay: 250 * time.Millisecond})
	dir := t.TempDir()
	listen := freeAddr(t)
	cfg := writeServeConfig(t, dir, sim, serveConfig{listen: listen, history: "history.db", cron: "@every 2s",
		outputs: []string{"json=reports/{target}-{run_id}.json", "html=reports/{target}-{run_id}.html"}})
	hist := filepath.Join(dir, "history.db")
	reports := filepath.Join(dir, "reports")

	p := startServe(t, cfg)
	p.waitRuns(t, 1, 2*time.Minute)
	p.waitFor(t, "the second run to start collecting", time.Minute, func() bool { return p.logs.messages("collecting") >= 2 })
	time.Sleep(time.Second)
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.done
	if got := len(p.logs.events("run")); got != 1 {
		t.Fatalf("the kill was meant to land mid-run: %d runs had finished", got)
	}
	// The first run outlasted a tick: that tick was skipped, and said so.
	skips := p.logs.events("skip")
	if len(skips) == 0 || skips[0]["reason"] != "still_running" || skips[0]["level"] != "warn" {
		t.Errorf("a tick during a slow run: skip events %v", skips)
	}

	db, err := sql.Open("sqlite", "file:"+hist)
	if err != nil {
		t.Fatal(err)
	}
	var check string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check after kill -9: %q %v", check, err)
	}
	db.Close()
	runs := historyList(t, hist)
	if len(runs) != 1 {
		t.Fatalf("%d runs stored after kill -9 during the second run, want 1", len(runs))
	}
	// What a writer killed mid-file leaves: report.WriteFileAtomic's
	// temporary file. The restart must remove it.
	leftover := filepath.Join(reports, ".vc01-0000.json.tmp-123456")
	if err := os.WriteFile(leftover, []byte(`{"schema": "hvaudit/rep`), 0o600); err != nil {
		t.Fatal(err)
	}

	p2 := startServe(t, cfg)
	p2.waitRuns(t, 1, 2*time.Minute)
	if code := p2.stop(t, time.Minute); code != 0 {
		t.Fatalf("serve exited %d on SIGTERM", code)
	}
	if _, err := os.Stat(leftover); !os.IsNotExist(err) {
		t.Errorf("the partial report %s survived the restart (%v)", leftover, err)
	}
	runs = historyList(t, hist)
	if len(runs) != 2 {
		t.Fatalf("%d runs after the restart, want 2", len(runs))
	}
	ids := map[string]bool{}
	for _, r := range runs {
		ids[r.RunID] = true
		show := runHV(t, nil, "history", "show", r.RunID, "--history", hist, "--format", "json")
		if show.code != 0 || !strings.Contains(show.stdout, r.RunID) {
			t.Errorf("history show %s: exit %d %s", r.RunID, show.code, show.stderr)
		}
	}
	hidden, _ := filepath.Glob(filepath.Join(reports, ".*"))
	if len(hidden) > 0 {
		t.Errorf("partial files left in %s: %v", reports, hidden)
	}
	files, _ := filepath.Glob(filepath.Join(reports, "*.json"))
	if len(files) != 2 {
		t.Errorf("%d JSON reports for 2 stored runs: %v", len(files), files)
	}
	for _, f := range files {
		run := readRun(t, f) // whole: it validates against the schema
		if !ids[run.Run.ID] {
			t.Errorf("%s holds run %s, which the history does not know", f, run.Run.ID)
		}
	}
	t.Logf("a run took %.1f s against the slowed simulator; killed 1 s into the second", runs[0].DurationSeconds)
}

// TestServeBoundsConcurrencyAndCancelsAfterGrace: with concurrency = 1 two
// targets due at every tick never run at once; SIGTERM during a run that
// outlasts shutdown_grace cancels it, stores and writes nothing for it,
// and exits 0.
func TestServeBoundsConcurrencyAndCancelsAfterGrace(t *testing.T) {
	sim := startSim(t, esxisim.Options{Delay: 150 * time.Millisecond})
	dir := t.TempDir()
	cfg := writeServeConfig(t, dir, sim, serveConfig{listen: freeAddr(t), history: "history.db", cron: "@every 1s",
		concurrency: 1, grace: "1s", moreTargets: []string{"vc01-again"}, outputs: []string{"json=reports/{target}-{run_id}.json"}})
	hist := filepath.Join(dir, "history.db")
	p := startServe(t, cfg)
	p.waitRuns(t, 3, 2*time.Minute)
	collecting := p.logs.messages("collecting")
	p.waitFor(t, "the next run to start", time.Minute, func() bool { return p.logs.messages("collecting") > collecting })
	finishedBefore := len(p.logs.events("run"))
	if code := p.stop(t, time.Minute); code != 0 {
		t.Fatalf("exit %d on SIGTERM", code)
	}
	if n := p.logs.messages("run cancelled by shutdown: nothing written or stored"); n != 1 || len(p.logs.events("run")) != finishedBefore {
		t.Errorf("%d cancelled runs logged, %d runs finished after SIGTERM; want 1 and 0", n, len(p.logs.events("run"))-finishedBefore)
	}
	runs := historyList(t, hist)
	if len(runs) != finishedBefore {
		t.Errorf("%d stored runs, %d finished ones logged", len(runs), finishedBefore)
	}
	targets := map[string]int{}
	for i, r := range runs {
		targets[r.Target]++
		if i > 0 && r.Started.Before(runs[i-1].Finished) {
			t.Errorf("with concurrency 1, %s (%s) started before %s (%s) finished", r.RunID[:8], r.Target, runs[i-1].RunID[:8], runs[i-1].Target)
		}
	}
	if len(targets) != 2 {
		t.Errorf("runs per target: %v", targets)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "reports", "*"))
	hidden, _ := filepath.Glob(filepath.Join(dir, "reports", ".*"))
	if len(files) != len(runs) || len(hidden) != 0 {
		t.Errorf("%d report files (%d partial) for %d runs", len(files), len(hidden), len(runs))
	}
}
