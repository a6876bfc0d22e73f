package checks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// nested builds a depth-deep comprehension over the host's options: the
// shape that once ran past a minute.
func nested(depth int) string {
	expr := "true"
	for i := depth; i > 0; i-- {
		expr = fmt.Sprintf("host.options.all(k%d, %s)", i, expr)
	}
	return expr
}

// TestCostLimitAtLoad: an expression whose worst case exceeds the limit
// refuses the baseline, naming the file, line and check; the shipped
// baseline and shallow nesting load.
func TestCostLimitAtLoad(t *testing.T) {
	dir := t.TempDir()
	body := baseHeader + checkTOML("OK-NEST-3", "host", nested(3)) + checkTOML("DEEP-NEST-5", "host", nested(5))
	p := writeFile(t, dir, "deep.toml", body)
	_, err := LoadBaseline(p)
	if err == nil {
		t.Fatal("a five-deep comprehension loaded")
	}
	want := fmt.Sprintf("%s:%d: check DEEP-NEST-5: expr: estimated cost", p, lineOf(t, body, nested(5)))
	if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "exceeds the limit") {
		t.Errorf("error %q lacks %q", err, want)
	}
	if strings.Contains(err.Error(), "OK-NEST-3") {
		t.Errorf("three nested comprehensions were refused: %v", err)
	}
	// Evidence expressions are bounded too.
	ev := baseHeader + checkTOML("EV-DEEP", "host", "true", fmt.Sprintf("evidence = [%q]", nested(5)))
	if _, err := LoadBaseline(writeFile(t, dir, "ev.toml", ev)); err == nil || !strings.Contains(err.Error(), "check EV-DEEP: evidence: estimated cost") {
		t.Errorf("deep evidence expression: %v", err)
	}
	if _, err := LoadBaseline("builtin:default"); err != nil {
		t.Errorf("the shipped baseline exceeds the cost limit: %v", err)
	}
}

// costlyEngine loads a baseline whose check passes the load-time estimate
// but, over a host with many options, does far more work than its budget.
func costlyEngine(t *testing.T) *Engine {
	t.Helper()
	body := baseHeader + checkTOML("COSTLY-01", "host", nested(2)) + checkTOML("CHEAP-01", "host", `host.name != ""`)
	b, err := LoadBaseline(writeFile(t, t.TempDir(), "costly.toml", body))
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(b, nil, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func manyOptions(n int) *inventory.Inventory {
	opts := make(map[string]any, n)
	for i := range n {
		opts[fmt.Sprintf("Opt.%d", i)] = float64(i)
	}
	return &inventory.Inventory{
		Platform: inventory.PlatformESXi, CollectedAt: testNow,
		Target: inventory.Target{Name: "vc01", Platform: inventory.PlatformESXi},
		Hosts:  []inventory.Host{{ID: "host-1", Name: "esx-big", Options: opts}},
	}
}

// TestCostLimitAtRunTime: an evaluation over its budget ends that finding
// as error, quickly; the other checks of the object are judged as usual.
func TestCostLimitAtRunTime(t *testing.T) {
	e := costlyEngine(t)
	start := time.Now()
	fs := e.Evaluate("vc01", manyOptions(20_000)) // 4·10^8 steps unbounded
	took := time.Since(start)
	byID := map[string]findings.Finding{}
	for _, f := range fs {
		byID[f.CheckID] = f
	}
	costly := byID["COSTLY-01"]
	if costly.Status != findings.StatusError || !strings.Contains(costly.Message, "exceeded its budget of") {
		t.Errorf("COSTLY-01: %s %q, want error naming the step budget", costly.Status, costly.Message)
	}
	if cheap := byID["CHEAP-01"]; cheap.Status != findings.StatusPass {
		t.Errorf("CHEAP-01: %s %q, want pass", cheap.Status, cheap.Message)
	}
	t.Logf("budget exceeded after %v", took)
	// Over a small host the same check passes: the budget is not a ban.
	for _, f := range e.Evaluate("vc01", manyOptions(10)) {
		if f.Status != findings.StatusPass {
			t.Errorf("%s over 10 options: %s %q", f.CheckID, f.Status, f.Message)
		}
	}
}

// TestEvaluateRespectsContext: once the run's context ends, evaluation
// stops and the findings say why, in the words the agent gave the cause.
func TestEvaluateRespectsContext(t *testing.T) {
	e := loadTestEngine(t)
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("evaluation ran past --timeout 1s"))
	fs := e.EvaluateContext(ctx, "vc01", testInventory())
	if len(fs) == 0 {
		t.Fatal("no findings")
	}
	for _, f := range fs {
		if f.Status != findings.StatusError || !strings.Contains(f.Message, "evaluation ran past --timeout 1s") {
			t.Errorf("%s on %s: %s %q after the context ended", f.CheckID, f.Object.Name, f.Status, f.Message)
		}
	}
	// A comprehension already running stops at its next check of the
	// context, well before its cost budget would.
	costly := costlyEngine(t)
	ctx, cancel2 := context.WithTimeoutCause(context.Background(), 20*time.Millisecond, errors.New("evaluation ran past --timeout 20ms"))
	defer cancel2()
	for _, f := range costly.EvaluateContext(ctx, "vc01", manyOptions(20_000)) {
		if f.CheckID == "COSTLY-01" && (f.Status != findings.StatusError || !strings.Contains(f.Message, "--timeout 20ms")) {
			t.Errorf("COSTLY-01 under a 20 ms deadline: %s %q", f.Status, f.Message)
		}
	}
}
