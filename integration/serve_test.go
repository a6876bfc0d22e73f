package integration

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/hvaudit/hvaudit/agent/drift"
	"github.com/hvaudit/hvaudit/agent/history"
	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/collectors/esxi/esxisim"
	"github.com/hvaudit/hvaudit/report"
)

// webhookSink is a local receiver for drift POSTs.
type webhookSink struct {
	mu    sync.Mutex
	posts []webhookPost
}

type webhookPost struct {
	body      []byte
	signature string
}

func (s *webhookSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.posts = append(s.posts, webhookPost{body: b, signature: r.Header.Get(drift.SignatureHeader)})
	s.mu.Unlock()
}

func (s *webhookSink) all() []webhookPost {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]webhookPost(nil), s.posts...)
}

// TestServeSchedulesHistoryDriftMetrics runs `hvaudit serve` against the
// simulator on a 3-second schedule. It checks that the history holds every
// run, that /metrics (read with Prometheus' own parser) carries the
// contract's series with the values of the latest stored run, that
// switching a VM's vMotion encryption off between runs produces one drift
// event, one signed webhook POST and one counter increment, that the trend
// page renders in Chromium, and that SIGTERM exits 0 with every report
// file whole.
func TestServeSchedulesHistoryDriftMetrics(t *testing.T) {
	sim := startSim(t, esxisim.Options{})
	dir := t.TempDir()
	const secret = "webhook-test-secret-0123456789"
	sink := &webhookSink{}
	hook := httptest.NewServer(sink)
	defer hook.Close()
	listen := freeAddr(t)
	base := "http://" + listen
	cfg := writeServeConfig(t, dir, sim, serveConfig{listen: listen, history: "state/history.db", cron: "@every 3s",
		webhookURL: hook.URL + "/hvaudit", secret: secret,
		outputs: []string{"json=reports/{target}-{date}T{time}-{run_id}.json"}})
	hist := filepath.Join(dir, "state", "history.db")

	p := startServe(t, cfg)
	p.waitRuns(t, 2, 2*time.Minute)
	fams := scrape(t, base)
	if v, ok := sample(fams, "hvaudit_drift_new_failures_total", map[string]string{"target": "vc01"}); !ok || v != 0 {
		t.Fatalf("drift counter before any change: %v (present %v), want 0", v, ok)
	}
	if len(p.logs.events("drift")) != 0 || len(sink.all()) != 0 {
		t.Fatalf("drift before any change: %d log events, %d POSTs", len(p.logs.events("drift")), len(sink.all()))
	}
	// history list works while serve writes (SQLite WAL).
	if runs := historyList(t, hist); len(runs) < 2 {
		t.Fatalf("history while serving: %d runs", len(runs))
	}

	// The regression: db-01's vMotion encryption goes from required to
	// disabled in the simulator.
	setMigrateEncryption(t, sim, "db-01", "disabled")
	changed := time.Now()
	var after []history.Run
	p.waitFor(t, "two runs started after the change", 2*time.Minute, func() bool {
		after = nil
		for _, r := range historyList(t, hist) {
			if r.Started.After(changed) {
				after = append(after, r)
			}
		}
		return len(after) >= 2
	})
	p.waitFor(t, "the webhook POST", 30*time.Second, func() bool { return len(sink.all()) > 0 })

	// One drift event in the log, naming the check, the object and why.
	events := p.logs.events("drift")
	if len(events) != 1 {
		t.Fatalf("%d drift log events, want 1: %v", len(events), events)
	}
	e := events[0]
	if e["check"] != "ESXI-VM-MIG-01" || e["object"] != "db-01" || e["old_status"] != "pass" || e["new_status"] != "fail" ||
		e["class"] != "new_failure" || e["cause"] != drift.CauseEstate || e["target"] != "vc01" || e["object_id"] == "" {
		t.Errorf("drift log event: %v", e)
	}
	if after[0].NewFailures != 1 || after[1].NewFailures != 0 {
		t.Errorf("new failures recorded with the runs after the change: %d, %d; want 1, 0", after[0].NewFailures, after[1].NewFailures)
	}

	// The metrics carry the latest stored run's values, exactly.
	var latest history.Run
	for attempt := 0; ; attempt++ {
		before := historyList(t, hist)
		fams = scrape(t, base)
		now := historyList(t, hist)
		latest = now[len(now)-1]
		if before[len(before)-1].RunID == latest.RunID {
			break
		}
		if attempt == 5 {
			t.Fatal("the history kept changing while scraping")
		}
	}
	vc01 := map[string]string{"target": "vc01"}
	assertSample(t, fams, "hvaudit_drift_new_failures_total", vc01, 1)
	assertSample(t, fams, "hvaudit_score", vc01, *latest.Score)
	assertSample(t, fams, "hvaudit_target_up", vc01, 1)
	assertSample(t, fams, "hvaudit_last_run_timestamp_seconds", vc01, float64(latest.Finished.UnixMilli())/1000)
	if v, _ := sample(fams, "hvaudit_run_duration_seconds", vc01); v <= 0 || v-latest.DurationSeconds > 0.002 || latest.DurationSeconds-v > 0.002 {
		t.Errorf("hvaudit_run_duration_seconds = %v, the stored run took %v s", v, latest.DurationSeconds)
	}
	show := runHV(t, nil, "history", "show", latest.RunID, "--history", hist, "--format", "json")
	if show.code != 0 {
		t.Fatalf("history show: %d %s", show.code, show.stderr)
	}
	var stored report.Run
	if err := json.Unmarshal([]byte(show.stdout), &stored); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, f := range stored.Findings {
		counts[string(f.Status)+"/"+string(f.Severity)]++
	}
	series := 0
	for _, st := range []findings.Status{findings.StatusPass, findings.StatusFail, findings.StatusError, findings.StatusNotApplicable, findings.StatusWaived} {
		for _, sev := range []findings.Severity{findings.SeverityCritical, findings.SeverityHigh, findings.SeverityMedium, findings.SeverityLow, findings.SeverityInfo} {
			assertSample(t, fams, "hvaudit_findings", map[string]string{"target": "vc01", "status": string(st), "severity": string(sev)},
				float64(counts[string(st)+"/"+string(sev)]))
			series++
		}
	}
	if counts["fail/medium"] == 0 || latest.Counts.Fail != stored.Summary.Counts.Fail {
		t.Errorf("stored run: %d medium failures; list says %d failures, the report %d", counts["fail/medium"], latest.Counts.Fail, stored.Summary.Counts.Fail)
	}
	t.Logf("latest run %s: score %.2f, %d pass / %d fail / %d error, %.2f s; %d findings series", latest.RunID[:8], *latest.Score,
		latest.Counts.Pass, latest.Counts.Fail, latest.Counts.Error, latest.DurationSeconds, series)

	// The webhook: one POST, signed with the shared secret, naming the
	// target, the check, the object (id and name) and the statuses.
	posts := sink.all()
	if len(posts) != 1 {
		t.Fatalf("%d webhook POSTs, want 1", len(posts))
	}
	// Checked as a receiver would, independently of hvaudit's own code.
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(posts[0].body)
	if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); !hmac.Equal([]byte(posts[0].signature), []byte(want)) {
		t.Errorf("X-Hvaudit-Signature %q, want %q (HMAC-SHA256 of the body)", posts[0].signature, want)
	}
	var payload drift.Payload
	if err := json.Unmarshal(posts[0].body, &payload); err != nil {
		t.Fatal(err)
	}
	if payload.Schema != drift.PayloadSchema || payload.Target != "vc01" || len(payload.Events) != 1 || payload.RunID != after[0].RunID {
		t.Fatalf("webhook payload: %s", posts[0].body)
	}
	if pe := payload.Events[0]; pe.CheckID != "ESXI-VM-MIG-01" || pe.Object.Name != "db-01" || pe.Object.ID == "" || pe.Object.ID != e["object_id"] ||
		pe.OldStatus != "pass" || pe.NewStatus != "fail" || pe.Cause != drift.CauseEstate {
		t.Errorf("webhook event: %+v", pe)
	}

	// The API answers what the history holds.
	code, body := httpGet(t, base+"/api/runs?target=vc01")
	var apiRuns []history.Run
	if code != 200 || json.Unmarshal(body, &apiRuns) != nil || len(apiRuns) < len(historyList(t, hist))-1 {
		t.Errorf("/api/runs: %d, %d runs: %s", code, len(apiRuns), body)
	}
	code, body = httpGet(t, base+"/api/runs/latest")
	var latestRuns []history.Run
	if code != 200 || json.Unmarshal(body, &latestRuns) != nil || len(latestRuns) != 1 || latestRuns[0].Target != "vc01" {
		t.Errorf("/api/runs/latest: %d %s", code, body)
	}
	if code, body = httpGet(t, base+"/healthz"); code != 200 || !strings.Contains(string(body), `"status": "ok"`) {
		t.Errorf("/healthz: %d %s", code, body)
	}

	checkTrendPage(t, base)

	start := time.Now()
	if code := p.stop(t, time.Minute); code != 0 {
		t.Fatalf("serve exited %d on SIGTERM, want 0", code)
	}
	t.Logf("SIGTERM to exit: %s", time.Since(start).Round(time.Millisecond))

	// The history holds every run the log reported, and every report file
	// is whole and belongs to a stored run.
	runs := historyList(t, hist)
	stored2 := map[string]bool{}
	for _, r := range runs {
		stored2[r.RunID] = true
		if r.Target != "vc01" || r.Status != "ok" || r.Agent == "" || r.Score == nil {
			t.Errorf("stored run: %+v", r)
		}
	}
	outcomes := p.logs.events("run")
	if len(outcomes) != len(runs) {
		t.Errorf("%d outcome lines, %d stored runs", len(outcomes), len(runs))
	}
	for _, o := range outcomes {
		if id, _ := o["run_id"].(string); !stored2[id] {
			t.Errorf("run %v was logged but is not in the history", o["run_id"])
		}
		if o["level"] != "info" || o["score"] == nil || o["duration_ms"] == nil || o["new_failures"] == nil {
			t.Errorf("outcome line: %v", o)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "reports", "*"))
	hidden, _ := filepath.Glob(filepath.Join(dir, "reports", ".*"))
	if len(hidden) > 0 {
		t.Errorf("partial report files left: %v", hidden)
	}
	if len(files) != len(runs) {
		t.Errorf("%d report files for %d runs", len(files), len(runs))
	}
	for _, f := range files {
		run := readRun(t, f)
		if !stored2[run.Run.ID] || !strings.Contains(filepath.Base(f), run.Run.ID) || !strings.HasPrefix(filepath.Base(f), "vc01-"+run.Run.Started.UTC().Format("2006-01-02T150405")) {
			t.Errorf("report file %s holds run %s", filepath.Base(f), run.Run.ID)
		}
	}
	fi, _ := os.Stat(hist)
	t.Logf("%d runs stored in %s (%d bytes before WAL checkpoint); report blob %d bytes gzipped", len(runs), filepath.Base(hist), fi.Size(), runs[0].ReportBytes)
}

func assertSample(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string, want float64) {
	t.Helper()
	got, ok := sample(fams, name, labels)
	if !ok {
		t.Errorf("/metrics has no %s%v", name, labels)
		return
	}
	if got != want {
		t.Errorf("%s%v = %v, want %v", name, labels, got, want)
	}
}

// checkTrendPage opens the trend page in headless Chromium: it renders the
// chart and the open drift with its own script, logs no console error and
// requests nothing beyond its own origin.
func checkTrendPage(t *testing.T, base string) {
	t.Helper()
	browser, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("HVAUDIT_REQUIRE_CHROMIUM") != "" {
			t.Fatal("chromium not installed (Debian: chromium; make deps installs it)")
		}
		t.Log("chromium not installed: the trend page is not checked in a browser")
		return
	}
	dir := t.TempDir()
	netlog, shot := filepath.Join(dir, "net.json"), filepath.Join(dir, "trend.png")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser,
		"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--enable-logging=stderr", "--v=0", "--user-data-dir="+filepath.Join(dir, "profile"),
		"--log-net-log="+netlog, "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--window-size=1200,900", "--virtual-time-budget=5000",
		"--screenshot="+shot, "--dump-dom", base+"/")
	cmd.Dir = dir
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	ready := false
	for _, line := range strings.Split(stderr.String(), "\n") {
		if !strings.Contains(line, ":CONSOLE") {
			continue
		}
		if strings.Contains(line, "hvaudit-trend-ready") {
			ready = true
			continue
		}
		t.Errorf("trend page console: %s", line)
	}
	if !ready {
		t.Error("the trend page's script never logged hvaudit-trend-ready: did it run?")
	}
	urls := netlogURLs(t, netlog, "127.0.0.1")
	if len(urls) == 0 {
		t.Error("the net log shows no request of the page itself: is the filter right?")
	}
	for _, u := range urls {
		if !strings.HasPrefix(u, base+"/") {
			t.Errorf("the trend page requested %s, beyond its origin %s", u, base)
		}
	}
	dom := stdout.String()
	for _, want := range []string{`data-ready="1"`, `data-target="vc01"`, "<polyline", `class="pt"`, "ESXI-VM-MIG-01", "db-01", "estate-changed"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the rendered trend page lacks %q", want)
		}
	}
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 10_000 {
		t.Errorf("screenshot %s: %v", shot, err)
	} else if out := os.Getenv("HVAUDIT_SCREENSHOT_DIR"); out != "" {
		b, _ := os.ReadFile(shot)
		_ = os.WriteFile(filepath.Join(out, "trend.png"), b, 0o644)
	}
}
