package demo

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hvaudit/hvaudit/agent"
	"github.com/hvaudit/hvaudit/checks/findings"
	_ "github.com/hvaudit/hvaudit/collectors/all" // the cmd links the collectors; the demo's tests do the same
	"github.com/hvaudit/hvaudit/collectors/libvirt"
	"github.com/hvaudit/hvaudit/report"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files of the demo's terminal report")

// demoNow is the demo audit's clock in tests: the advisory data's age, and
// so HVA-ADVISORY-01, does not change with the day the tests run.
var demoNow = time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)

// demoRun runs `hvaudit demo` in-process (the simulated vSphere estate and
// the KVM one through libvirt's test driver) and returns its report with
// what changes between runs pinned: the run's id and times, and the times
// in evidence (snapshot and certificate dates follow the real clock).
func demoRun(t *testing.T) (*report.Run, string) {
	t.Helper()
	if err := libvirt.New().Available(); err != nil {
		if os.Getenv("HVAUDIT_REQUIRE_LIBVIRT") != "" {
			t.Fatal(err)
		}
		t.Skipf("the demo's KVM estate needs libvirt0: %v", err)
	}
	dir := t.TempDir()
	var out bytes.Buffer
	if err := Run(context.Background(), Options{Dir: filepath.Join(dir, "demo"), Out: &out, Log: zerolog.Nop(), Now: func() time.Time { return demoNow }}); err != nil {
		t.Fatal(err)
	}
	run, err := agent.ReadRunFile(filepath.Join(dir, "demo", "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	run.Run.ID = "00000000-0000-4000-8000-000000000000"
	run.Run.Started, run.Run.Finished = demoNow, demoNow.Add(3*time.Second)
	for i := range run.Findings {
		run.Findings[i].Message = anyTime.ReplaceAllString(run.Findings[i].Message, demoNow.Format(time.RFC3339))
		for j := range run.Findings[i].Evidence {
			ev := &run.Findings[i].Evidence[j]
			ev.Observed = pinTimes(ev.Observed)
		}
	}
	return run, out.String()
}

var (
	anyTime = regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})`)
	rfc3339 = regexp.MustCompile(`^` + anyTime.String() + `$`)
)

// pinTimes replaces every timestamp in an evidence value with demoNow.
func pinTimes(v any) any {
	switch x := v.(type) {
	case string:
		if rfc3339.MatchString(x) {
			return demoNow.Format(time.RFC3339)
		}
	case []any:
		for i := range x {
			x[i] = pinTimes(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = pinTimes(x[k])
		}
	}
	return v
}

func renderTable(t *testing.T, run *report.Run, o report.Options) string {
	t.Helper()
	w, err := report.For("table", o)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := w.Write(&b, run); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// The demo's terminal report, default, --verbose and --quiet, at 100
// columns: golden files to review (go test ./agent/demo -run TestDemoTerminal
// -update rewrites them).
func TestDemoTerminalReportGolden(t *testing.T) {
	run, _ := demoRun(t)
	for _, c := range []struct {
		file string
		opts report.Options
	}{
		{"demo-table.golden", report.Options{}},
		{"demo-table-verbose.golden", report.Options{Verbose: true}},
		{"demo-table-quiet.golden", report.Options{Quiet: true}},
	} {
		got := renderTable(t, run, c.opts)
		path := filepath.Join("testdata", c.file)
		if *updateGolden {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (go test ./agent/demo -run TestDemoTerminal -update creates it)", err)
		}
		if got != string(want) {
			t.Errorf("%s differs from the output (-update rewrites it after review); got:\n%s", path, got)
		}
	}
}

// The default report names every failing and erroring check of the demo,
// each on its line with its severity and object count, and stays short:
// the demo's whole output (report, notes, deliberate gaps) under 200 lines.
func TestDemoDefaultReportNamesEveryFailingCheck(t *testing.T) {
	run, demoOut := demoRun(t)
	out := renderTable(t, run, report.Options{})
	type key struct {
		target, check string
		status        findings.Status
	}
	groups := map[key][]string{}
	for _, f := range run.Findings {
		if f.Status == findings.StatusFail || f.Status == findings.StatusError {
			k := key{f.Target, f.CheckID, f.Status}
			groups[k] = append(groups[k], f.Object.Name)
		}
	}
	if len(groups) < 90 {
		t.Fatalf("only %d failing or erroring checks: not the demo estate", len(groups))
	}
	lines := strings.Split(out, "\n")
	for k, objs := range groups {
		re := regexp.MustCompile(`^  ` + strings.ToUpper(string(k.status)) + ` +[a-z]+ +` + regexp.QuoteMeta(k.check) + ` +` + strconv.Itoa(len(objs)) + `  `)
		n := slices.IndexFunc(lines, re.MatchString)
		if n < 0 {
			t.Errorf("%s %s on %s (%d objects) has no line", k.status, k.check, k.target, len(objs))
			continue
		}
		if !strings.Contains(lines[n], objs[0]) {
			t.Errorf("%s's line does not name its first object %s: %q", k.check, objs[0], lines[n])
		}
	}
	total := strings.Count(demoOut, "\n")
	if total >= 200 {
		t.Errorf("the demo prints %d lines, want fewer than 200", total)
	}
	t.Logf("demo output: %d lines; report %d lines for %d failing or erroring checks", total, strings.Count(out, "\n"), len(groups))
}
