package checks

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// The corpus test holds every shipped check to DESIGN.md §4: ids unique,
// remediation, expected and a reference present, and for every check a
// pass, a fail and an error case that really end in those statuses.
//
// Cases live in testdata/cases/<platform>/<CHECK-ID>.json:
//
//	{"pass": <inventory>, "error": <inventory>,
//	 "fail": {"<the condition that fails>": <inventory>, ...}}
//
// Each inventory holds one object of the check's scope (the target itself
// for target-scoped checks). An expression that combines conditions (see
// conditions) needs, for each condition, a fail case in which that
// condition is false and no other is: drop the condition from the
// expression and that case would stop failing. Unknown JSON fields are rejected so a typo in a
// case cannot pass as an absent value. The clock is the inventory's
// collected_at (testNow when unset), so date-dependent checks such as the
// advisory data's age can have fail cases.

const casesDir = "testdata/cases"

type corpusCase struct {
	Pass  *inventory.Inventory            `json:"pass"`
	Fail  map[string]*inventory.Inventory `json:"fail"`
	Error *inventory.Inventory            `json:"error"`
}

// conditionDebt lists checks whose case files do not yet hold a fail case
// per condition. It only shrinks: the test fails when a listed check is
// covered, so the entry must go.
var conditionDebt = map[string]bool{}

func TestCorpusBuiltinDefault(t *testing.T) {
	b, err := LoadBaseline("builtin:default")
	if err != nil {
		t.Fatalf("builtin:default does not load: %v", err)
	}
	adv, err := LoadAdvisories("")
	if err != nil {
		t.Fatalf("embedded advisory data does not load: %v", err)
	}
	checks := b.Checks()
	if len(checks) == 0 {
		t.Fatal("builtin:default has no checks")
	}

	var missing []string
	ids := map[string]bool{}
	for _, c := range checks {
		if ids[c.ID] {
			t.Errorf("%s:%d: check %s: id not unique", c.File, c.Line, c.ID)
		}
		ids[c.ID] = true
		if strings.TrimSpace(c.Remediation) == "" {
			t.Errorf("%s:%d: check %s: no remediation", c.File, c.Line, c.ID)
		}
		if strings.TrimSpace(c.Expected) == "" {
			t.Errorf("%s:%d: check %s: no expected", c.File, c.Line, c.ID)
		}
		if len(c.Threats) == 0 {
			t.Errorf("%s:%d: check %s: no threats", c.File, c.Line, c.ID)
		}
		r := c.Refs
		if len(r.STIG)+len(r.SCG)+len(r.CIS)+len(r.NIST80053)+len(r.Docs) == 0 {
			t.Errorf("%s:%d: check %s: no reference", c.File, c.Line, c.ID)
		}
		file := filepath.Join(casesDir, c.Platform, c.ID+".json")
		data, err := os.ReadFile(file)
		if errors.Is(err, fs.ErrNotExist) {
			missing = append(missing, file)
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		c := c
		t.Run(c.ID, func(t *testing.T) { runCorpusCase(t, b, adv, c, file, data) })
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d checks in builtin:default have no case file:\n  %s",
			len(missing), len(checks), strings.Join(missing, "\n  "))
	}

	// Case files for checks that no longer exist are stale.
	var stale []string
	_ = filepath.WalkDir(casesDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
			return nil
		}
		if !ids[strings.TrimSuffix(filepath.Base(p), ".json")] {
			stale = append(stale, p)
		}
		return nil
	})
	sort.Strings(stale)
	if len(stale) > 0 {
		t.Errorf("case files for checks not in builtin:default:\n  %s", strings.Join(stale, "\n  "))
	}
}

func runCorpusCase(t *testing.T, b *Baseline, adv *Advisories, c Check, file string, data []byte) {
	var cc corpusCase
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	type namedCase struct {
		want  findings.Status
		label string
		inv   *inventory.Inventory
	}
	cases := []namedCase{{findings.StatusPass, "pass", cc.Pass}, {findings.StatusError, "error", cc.Error}}
	if len(cc.Fail) == 0 {
		t.Errorf("%s: no fail case", file)
	}
	labels := make([]string, 0, len(cc.Fail))
	for l := range cc.Fail {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	for _, l := range labels {
		cases = append(cases, namedCase{findings.StatusFail, "fail " + strconv.Quote(l), cc.Fail[l]})
	}
	for _, k := range cases {
		if k.inv == nil {
			t.Errorf("%s: no %s case", file, k.label)
			continue
		}
		f, ok := evalCase(t, b, adv, c, file, k.label, k.inv)
		if !ok {
			continue
		}
		if f.Status != k.want {
			t.Errorf("%s: %s case ended %s: %s", file, k.label, f.Status, f.Message)
		}
		// An error must say why: a gap's reason or an unknown release line,
		// never a bare CEL failure or a gap nobody explained.
		if k.want == findings.StatusError && (strings.Contains(f.Message, "recorded no reason") || strings.HasPrefix(f.Message, "evaluation error")) {
			t.Errorf("%s: error case gives no reason: %s", file, f.Message)
		}
	}
	checkConditionCoverage(t, b, adv, c, file, cc.Fail)
}

// evalCase evaluates check c alone over a case inventory at the case's
// collection time and returns its one finding.
func evalCase(t *testing.T, b *Baseline, adv *Advisories, c Check, file, label string, inv *inventory.Inventory) (findings.Finding, bool) {
	t.Helper()
	if inv.Platform == "" && c.Platform != "any" {
		inv.Platform = c.Platform
	}
	if n := objectsInScope(inv, c.Scope); n != 1 {
		t.Errorf("%s: %s case holds %d objects of scope %s, want 1", file, label, n, c.Scope)
		return findings.Finding{}, false
	}
	now := testNow
	if !inv.CollectedAt.IsZero() {
		now = inv.CollectedAt
	}
	e, err := NewEngine(b, adv, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	var got []findings.Finding
	for _, f := range e.Evaluate("case", inv) {
		if f.CheckID == c.ID {
			got = append(got, f)
		}
	}
	if len(got) != 1 {
		t.Errorf("%s: %s case: %d findings of %s (platform %q), want 1", file, label, len(got), c.ID, inv.Platform)
		return findings.Finding{}, false
	}
	return got[0], true
}

// checkConditionCoverage demands, for an expression that combines
// conditions, a fail case per condition in which it alone is false.
func checkConditionCoverage(t *testing.T, b *Baseline, adv *Advisories, c Check, file string, fails map[string]*inventory.Inventory) {
	conds, err := conditions(c.Expr)
	if err != nil {
		t.Fatalf("%s: splitting %s: %v", file, c.ID, err)
	}
	if len(conds) < 2 {
		if conditionDebt[c.ID] {
			t.Errorf("%s: %s combines no conditions: remove it from conditionDebt", file, c.ID)
		}
		return
	}
	// One single-check baseline per condition, sharing b's params.
	condBaselines := make([]*Baseline, len(conds))
	for i, src := range conds {
		cc := c
		cc.ID, cc.Applies, cc.Expr, cc.Evidence = c.ID, "", src, nil
		p, err := compileCheck(b.envs[c.Scope], &cc)
		if err != nil {
			t.Fatalf("%s: condition %q of %s does not compile: %v", file, src, c.ID, err)
		}
		cc.prog, cc.Enabled = p, true
		condBaselines[i] = &Baseline{params: b.params, paramsS: b.paramsS, envs: b.envs, checks: []*Check{&cc}}
	}
	covered := make([]bool, len(conds))
	for label, inv := range fails {
		if inv == nil {
			continue
		}
		statuses := make([]findings.Status, len(conds))
		for i := range conds {
			f, ok := evalCase(t, condBaselines[i], adv, c, file, "fail "+strconv.Quote(label), inv)
			if !ok {
				return
			}
			statuses[i] = f.Status
		}
		for i, s := range statuses {
			if s != findings.StatusFail {
				continue
			}
			alone := true
			for j, o := range statuses {
				if j != i && o == findings.StatusFail {
					alone = false
				}
			}
			covered[i] = covered[i] || alone
		}
	}
	var uncovered []string
	for i, ok := range covered {
		if !ok {
			uncovered = append(uncovered, conds[i])
		}
	}
	switch {
	case len(uncovered) > 0 && !conditionDebt[c.ID]:
		t.Errorf("%s: no fail case in which only this condition of %s fails:\n  %s", file, c.ID, strings.Join(uncovered, "\n  "))
	case len(uncovered) == 0 && conditionDebt[c.ID]:
		t.Errorf("%s: every condition of %s has its fail case: remove it from conditionDebt", file, c.ID)
	}
}

func objectsInScope(inv *inventory.Inventory, scope string) int {
	switch scope {
	case inventory.KindTarget:
		return 1
	case inventory.KindHost:
		return len(inv.Hosts)
	case inventory.KindVM:
		return len(inv.VMs)
	case inventory.KindNetwork:
		return len(inv.Networks)
	}
	return 0
}
