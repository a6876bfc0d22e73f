package checks

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// schemes of the shipped products' release lines.
func shippedScheme(product, line string) string {
	switch {
	case strings.HasPrefix(line, "debian-"):
		return inventory.SchemeDpkg
	case strings.HasPrefix(line, "rhel-"):
		return inventory.SchemeRPM
	case product == "esxi" || product == "vcenter":
		return ""
	}
	return inventory.SchemeUpstream
}

// justBelow is a build one step below b in its scheme.
func justBelow(t *testing.T, scheme, b string) string {
	if scheme == inventory.SchemeDpkg || scheme == inventory.SchemeRPM {
		return b + "~" // sorts before b in both
	}
	i := strings.LastIndexAny(b, ".") + 1
	n, err := strconv.Atoi(b[i:])
	if err != nil || n == 0 {
		t.Fatalf("no build below %q", b)
	}
	return b[:i] + strconv.Itoa(n-1)
}

// Every release line of the shipped data behaves as DESIGN.md §4 says: a
// build one below an advisory's fixed build fails naming that advisory, the
// newest fixed build passes, an end-of-life line is end of life, a line
// without coverage never yields a pass (its missing fixes are absent), and
// a line the data does not know is an error.
func TestShippedAdvisoriesEveryLine(t *testing.T) {
	adv, err := LoadAdvisories("")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	checked := 0
	for _, rl := range adv.ReleaseLines {
		scheme := shippedScheme(rl.Product, rl.Line)
		lvl := func(b string) inventory.PatchLevel {
			return inventory.PatchLevel{Product: rl.Product, ReleaseLine: rl.Line, Build: b, Version: b, Scheme: scheme}
		}
		eol := rl.EOLDate != nil && !now.Before(*rl.EOLDate)
		if !rl.Covered {
			pa, err := adv.Assess(lvl("99999999"), now)
			if err != nil || pa.Missing != nil || pa.Covered || pa.EOL != eol {
				t.Errorf("%s %s without coverage: %+v %v", rl.Product, rl.Line, pa, err)
			}
			continue
		}
		for _, e := range adv.Entries {
			if e.Product != rl.Product || e.ReleaseLine != rl.Line {
				continue
			}
			if e.FixedBuild == "" {
				// No fix in the line: missing whatever the build.
				pa, err := adv.Assess(lvl("99999999"), now)
				if err != nil || !slices.Contains(pa.Missing, e.ID) {
					t.Errorf("%s %s: %s (no fix) not missing: %v %v", rl.Product, rl.Line, e.ID, pa.Missing, err)
				}
				continue
			}
			below := justBelow(t, scheme, e.FixedBuild)
			pa, err := adv.Assess(lvl(below), now)
			if err != nil || !slices.Contains(pa.Missing, e.ID) || pa.EOL != eol {
				t.Errorf("%s %s at %s: %s not missing: %v %v", rl.Product, rl.Line, below, e.ID, pa.Missing, err)
			}
			pa, _ = adv.Assess(lvl(e.FixedBuild), now)
			if slices.Contains(pa.Missing, e.ID) {
				t.Errorf("%s %s at %s: %s still missing", rl.Product, rl.Line, e.FixedBuild, e.ID)
			}
			checked++
		}
		// The newest fixed build carries every fix that has one.
		pa, err := adv.Assess(lvl("0"), now)
		if err != nil {
			t.Errorf("%s %s: %v", rl.Product, rl.Line, err)
			continue
		}
		if pa.LatestFixedBuild != "" {
			top, _ := adv.Assess(lvl(pa.LatestFixedBuild), now)
			for _, id := range top.MissingAdvisories {
				if id.FixedBuild != "" {
					t.Errorf("%s %s at the newest fixed build %s still misses %s", rl.Product, rl.Line, pa.LatestFixedBuild, id.ID)
				}
			}
		}
	}
	// Every entry with a fixed build was exercised (the count of the
	// shipped data; it changes only when the data is regenerated).
	if checked != 91 {
		t.Errorf("%d fixed entries checked, want 91", checked)
	}
	// Retired lines fail as end of life; unknown lines are errors.
	for _, c := range []struct{ product, line string }{{"esxi", "6.7.0"}, {"vcenter", "6.5.0"}, {"esxi", "7.0.3"}, {"qemu", "debian-10"}, {"qemu", "rhel-7"}} {
		pa, err := adv.Assess(inventory.PatchLevel{Product: c.product, ReleaseLine: c.line, Build: "1", Version: "1", Scheme: shippedScheme(c.product, c.line)}, now)
		if err != nil || !pa.EOL {
			t.Errorf("%s %s not end of life: %+v %v", c.product, c.line, pa, err)
		}
	}
	var ul *UnknownLineError
	for _, c := range []struct{ product, line string }{{"esxi", "5.5.0"}, {"windows-server", "25398"}, {"qemu", "ubuntu-24.04"}} {
		if _, err := adv.Assess(inventory.PatchLevel{Product: c.product, ReleaseLine: c.line, Build: "1", Version: "1"}, now); !errors.As(err, &ul) {
			t.Errorf("%s %s: %v, want unknown line", c.product, c.line, err)
		}
	}
	// A line with an end-of-life date ahead and no advisories (RHEL 8's
	// qemu-kvm) never passes: its missing fixes are unknown.
	pa, err := adv.Assess(inventory.PatchLevel{Product: "qemu", ReleaseLine: "rhel-8", Version: "2.12.0-1.el8", Scheme: inventory.SchemeRPM}, now)
	if err != nil || pa.Missing != nil || pa.EOL {
		t.Errorf("rhel-8: %+v %v", pa, err)
	}
	// VMSA-2026-0006: ESXi 8.0 U3j (25429389) lacks the VMXNET3 fix.
	pa, _ = adv.Assess(inventory.PatchLevel{Product: "esxi", ReleaseLine: "8.0.3", Build: "25429389"}, now)
	if !slices.Contains(pa.MissingCVEs, "CVE-2026-47876") || pa.LatestFixedBuild != "25595708" {
		t.Errorf("8.0 U3j: %v latest %s", pa.MissingCVEs, pa.LatestFixedBuild)
	}
}

// A VM without VMware Tools (no patch level) is not judged by the Tools
// check; one whose Tools release the data does not know is an error.
func TestToolsCheckOnVMs(t *testing.T) {
	b, err := LoadBaseline("builtin:esxi")
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(b, nil, func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) })
	if err != nil {
		t.Fatal(err)
	}
	tools := func(ver, line string) *inventory.PatchLevel {
		return &inventory.PatchLevel{Product: "vmware-tools", ReleaseLine: line, Version: ver, Build: ver, Scheme: "upstream"}
	}
	inv := &inventory.Inventory{Platform: "esxi", Target: inventory.Target{Name: "vc", Platform: "esxi"}, VMs: []inventory.VM{
		{ID: "1", Name: "no-tools", Template: inventory.Ptr(false)},
		{ID: "2", Name: "tools-10", Template: inventory.Ptr(false), Patch: tools("10.3.26", "10")},
		{ID: "3", Name: "tools-12.5.3", Template: inventory.Ptr(false), Patch: tools("12.5.3", "12")},
		{ID: "4", Name: "tools-12.5.4", Template: inventory.Ptr(false), Patch: tools("12.5.4", "12")},
	}}
	want := map[string]findings.Status{"no-tools": findings.StatusNotApplicable, "tools-10": findings.StatusError, "tools-12.5.3": findings.StatusFail, "tools-12.5.4": findings.StatusPass}
	for _, f := range e.Evaluate("vc", inv) {
		if f.CheckID != "ESXI-VM-PATCH-01" {
			continue
		}
		if f.Status != want[f.Object.Name] {
			t.Errorf("%s: %s (%s)", f.Object.Name, f.Status, f.Message)
		}
		if f.Object.Name == "tools-12.5.3" && !strings.Contains(f.Message, `"VMSA-2025-0015"`) {
			t.Errorf("fail does not name VMSA-2025-0015: %s", f.Message)
		}
		delete(want, f.Object.Name)
	}
	if len(want) != 0 {
		t.Errorf("no finding for %v", want)
	}
}
