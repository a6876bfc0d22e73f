package checks

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// The corpus test holds every shipped check to DESIGN.md §4: ids unique,
// remediation, expected and a reference present, and for every check a
// pass, a fail and an error case that really end in those statuses.
//
// Cases live in testdata/cases/<platform>/<CHECK-ID>.json:
//
//	{"pass": <inventory>, "fail": <inventory>, "error": <inventory>}
//
// Each inventory holds one object of the check's scope (the target itself
// for target-scoped checks). Unknown JSON fields are rejected so a typo in a
// case cannot pass as an absent value. The clock is the inventory's
// collected_at (testNow when unset), so date-dependent checks such as the
// advisory data's age can have fail cases.

const casesDir = "testdata/cases"

type corpusCase struct {
	Pass  *inventory.Inventory `json:"pass"`
	Fail  *inventory.Inventory `json:"fail"`
	Error *inventory.Inventory `json:"error"`
}

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
	for _, k := range []struct {
		want Status
		inv  *inventory.Inventory
	}{{StatusPass, cc.Pass}, {StatusFail, cc.Fail}, {StatusError, cc.Error}} {
		if k.inv == nil {
			t.Errorf("%s: no %q case", file, k.want)
			continue
		}
		inv := k.inv
		if inv.Platform == "" && c.Platform != "any" {
			inv.Platform = c.Platform
		}
		if n := objectsInScope(inv, c.Scope); n != 1 {
			t.Errorf("%s: %s case holds %d objects of scope %s, want 1", file, k.want, n, c.Scope)
			continue
		}
		now := testNow
		if !inv.CollectedAt.IsZero() {
			now = inv.CollectedAt
		}
		e, err := NewEngine(b, adv, func() time.Time { return now })
		if err != nil {
			t.Fatal(err)
		}
		var got []Finding
		for _, f := range e.Evaluate("case", inv) {
			if f.CheckID == c.ID {
				got = append(got, f)
			}
		}
		if len(got) != 1 {
			t.Errorf("%s: %s case: %d findings of %s (platform %q), want 1", file, k.want, len(got), c.ID, inv.Platform)
			continue
		}
		if got[0].Status != k.want {
			t.Errorf("%s: %s case ended %s: %s", file, k.want, got[0].Status, got[0].Message)
		}
		// An error must say why: a gap's reason or an unknown release line,
		// never a bare CEL failure or a gap nobody explained.
		if k.want == StatusError && (strings.Contains(got[0].Message, "recorded no reason") || strings.HasPrefix(got[0].Message, "evaluation error")) {
			t.Errorf("%s: error case gives no reason: %s", file, got[0].Message)
		}
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
