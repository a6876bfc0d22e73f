package integration

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/hvaudit/hvaudit/collectors/esxi/esxisim"
)

// runHVIn runs the binary in a working directory.
func runHVIn(t *testing.T, dir string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestAuditHistoryDriftAndTextfile is the cron user's path: `audit
// --config FILE --history PATH --metrics-textfile PATH`, run from another
// working directory (config paths resolve against the config file), with
// placeholders in the output path. The second run, after a VM's vMotion
// encryption was switched off, prints the drift and counts it.
func TestAuditHistoryDriftAndTextfile(t *testing.T) {
	sim := startSim(t, esxisim.Options{})
	dir := t.TempDir()
	cfg := writeServeConfig(t, dir, sim, serveConfig{listen: "127.0.0.1:0", history: "unused.db", cron: "@daily",
		outputs: []string{"json=reports/{target}-{date}-{run_id}.json"}})
	if err := os.Mkdir(filepath.Join(dir, "reports"), 0o750); err != nil {
		t.Fatal(err)
	}
	hist := filepath.Join(dir, "history.db")
	prom := filepath.Join(dir, "hvaudit.prom")
	elsewhere := t.TempDir()
	audit := func() result {
		r := runHVIn(t, elsewhere, "audit", "--config", cfg, "--history", hist, "--metrics-textfile", prom)
		if r.code != 3 {
			t.Fatalf("audit: exit %d, want 3 (the simulated estate has error findings)\n%s", r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, `"message":"audit run finished"`) || !strings.Contains(r.stderr, `"target":"vc01"`) {
			t.Errorf("no outcome line in the log:\n%s", r.stderr)
		}
		return r
	}
	textfile := func() (drift, score float64) {
		b, err := os.ReadFile(prom)
		if err != nil {
			t.Fatal(err)
		}
		p := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := p.TextToMetricFamilies(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("the textfile does not parse: %v", err)
		}
		d, ok1 := sample(fams, "hvaudit_drift_new_failures_total", map[string]string{"target": "vc01"})
		s, ok2 := sample(fams, "hvaudit_score", map[string]string{"target": "vc01"})
		if _, ok := sample(fams, "hvaudit_findings", map[string]string{"target": "vc01", "status": "fail", "severity": "medium"}); !ok1 || !ok2 || !ok {
			t.Fatalf("textfile series missing:\n%s", b)
		}
		return d, s
	}

	r := audit()
	if !strings.Contains(r.stdout, "drift vc01: first readable run in the history") {
		t.Errorf("first run's drift line:\n%s", r.stdout)
	}
	if d, _ := textfile(); d != 0 {
		t.Errorf("drift counter after the first run: %v", d)
	}

	setMigrateEncryption(t, sim, "db-01", "disabled")
	r = audit()
	if !strings.Contains(r.stdout, "drift vc01: 1 newly failing since run") ||
		!strings.Contains(r.stdout, "ESXI-VM-MIG-01") || !strings.Contains(r.stdout, "db-01") || !strings.Contains(r.stdout, "pass → fail") ||
		!strings.Contains(r.stdout, "estate-changed") {
		t.Errorf("second run's drift:\n%s", r.stdout)
	}
	d, score := textfile()
	runs := historyList(t, hist)
	if d != 1 || len(runs) != 2 || runs[1].NewFailures != 1 || score != *runs[1].Score {
		t.Errorf("after the regression: counter %v, %d runs, score %v (stored %v)", d, len(runs), score, runs[len(runs)-1].Score)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "reports", "vc01-"+time.Now().UTC().Format("2006-01-02")+"-*.json"))
	if len(files) != 2 {
		t.Fatalf("reports written through placeholders: %v", files)
	}
	for _, f := range files {
		if run := readRun(t, f); !strings.HasSuffix(f, run.Run.ID+".json") {
			t.Errorf("%s holds run %s", f, run.Run.ID)
		}
	}
	if _, err := os.Stat(filepath.Join(elsewhere, "reports")); !os.IsNotExist(err) {
		t.Errorf("outputs were written relative to the working directory")
	}

	tr := runHV(t, nil, "history", "trend", "--history", hist)
	if tr.code != 0 || !strings.Contains(tr.stdout, "vc01") || strings.Count(tr.stdout, "\n") < 4 {
		t.Errorf("history trend: exit %d\n%s%s", tr.code, tr.stdout, tr.stderr)
	}
	t.Logf("history trend:\n%s", tr.stdout)

	// Without --history, audit still logs its outcome line per target.
	plain := runHVIn(t, elsewhere, "audit", "--config", cfg, "--log-format", "json")
	if plain.code != 3 || !strings.Contains(plain.stderr, `"event":"run","target":"vc01"`) || !strings.Contains(plain.stderr, `"message":"audit run finished"`) {
		t.Errorf("audit without --history: exit %d, no outcome line:\n%s", plain.code, plain.stderr)
	}

	if r := runHV(t, nil, "history", "prune", "--history", hist, "--older-than", "1d"); r.code != 0 || !strings.HasPrefix(r.stdout, "pruned 0 runs") {
		t.Errorf("prune of nothing old: %d %s%s", r.code, r.stdout, r.stderr)
	}
	for _, bad := range [][]string{
		{"history", "prune", "--history", hist, "--older-than", "soon"},
		{"history", "show", "ffffffff", "--history", hist},
		{"history", "list", "--history", filepath.Join(dir, "missing.db")},
		{"history", "list", "--history", hist, "--format", "yaml"},
		{"history", "list", "--history", "postgres://u:pw@127.0.0.1:1/db"},
	} {
		if r := runHV(t, nil, bad...); r.code != 2 || r.stderr == "" || strings.Contains(r.stderr, ":pw@") {
			t.Errorf("%v: exit %d, stderr %q; want 2 with a reason (and no password)", bad, r.code, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); !os.IsNotExist(err) {
		t.Error("reading a missing history created it")
	}
}
