package checks

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hvaudit/hvaudit/checks/findings"
)

const waiverFileText = `[[waiver]]
check = "T-VM-MIG-01"
target = "vc0*"
object = "app-*"
justification = "legacy cluster, replaced in Q1"
approver = "ciso@example.com"
expires = 2026-12-31T00:00:00Z

[[waiver]]
check = "T-VM-SNAP-*"
object = "vm-2"
justification = "backup appliance keeps snapshots"
expires = 2026-11-01T00:00:00+01:00

[[waiver]]
check = "T-HOST-SSH-01"
justification = "never matches a pass"
expires = 2027-01-01T00:00:00Z
`

func TestWaivers(t *testing.T) {
	w, err := LoadWaivers(writeFile(t, t.TempDir(), "w.toml", waiverFileText))
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Rules) != 3 || w.Rules[1].Line != 9 || len(w.SHA256) != 64 {
		t.Fatalf("rules %+v", w.Rules)
	}
	fs := []findings.Finding{
		{CheckID: "T-VM-MIG-01", Target: "vc01", Object: findings.ObjectRef{Kind: "vm", ID: "vm-2", Name: "app-plain"}, Status: findings.StatusFail, Message: "observed x"},
		{CheckID: "T-VM-MIG-01", Target: "vc01", Object: findings.ObjectRef{Kind: "vm", ID: "vm-3", Name: "app-unread"}, Status: findings.StatusError, Message: "absent"},
		{CheckID: "T-VM-MIG-01", Target: "vc01", Object: findings.ObjectRef{Kind: "vm", ID: "vm-1", Name: "app-ok"}, Status: findings.StatusPass},
		{CheckID: "T-VM-MIG-01", Target: "vc01", Object: findings.ObjectRef{Kind: "vm", ID: "vm-4", Name: "tmpl"}, Status: findings.StatusFail},
		{CheckID: "T-VM-MIG-01", Target: "other", Object: findings.ObjectRef{Kind: "vm", ID: "vm-9", Name: "app-x"}, Status: findings.StatusFail},
		{CheckID: "T-VM-SNAP-01", Target: "vc01", Object: findings.ObjectRef{Kind: "vm", ID: "vm-2", Name: "app-plain"}, Status: findings.StatusFail, Message: "observed 90"},
		{CheckID: "T-HOST-SSH-01", Target: "vc01", Object: findings.ObjectRef{Kind: "host", ID: "h", Name: "esx"}, Status: findings.StatusPass},
		{CheckID: "T-HOST-SSH-01", Target: "vc01", Object: findings.ObjectRef{Kind: "host", ID: "h2", Name: "esx2"}, Status: findings.StatusNotApplicable},
	}
	unused := w.Apply(fs, testNow)
	want := []struct {
		status, observed findings.Status
		waived, expired  bool
	}{
		{findings.StatusWaived, findings.StatusFail, true, false},
		{findings.StatusWaived, findings.StatusError, true, false},
		{findings.StatusPass, "", false, false},
		{findings.StatusFail, "", false, false},
		{findings.StatusFail, "", false, false},
		{findings.StatusFail, "", true, true},
		{findings.StatusPass, "", false, false},
		{findings.StatusNotApplicable, "", false, false},
	}
	for i, w := range want {
		f := fs[i]
		if f.Status != w.status || f.ObservedStatus != w.observed || (f.Waiver != nil) != w.waived ||
			(f.Waiver != nil && f.Waiver.Expired != w.expired) {
			t.Errorf("finding %d: %+v waiver %+v", i, f, f.Waiver)
		}
	}
	if fs[0].Waiver.Justification != "legacy cluster, replaced in Q1" || fs[0].Waiver.Expires != "2026-12-31T00:00:00Z" {
		t.Errorf("waiver %+v", fs[0].Waiver)
	}
	if !strings.Contains(fs[5].Message, "observed 90; waiver expired 2026-11-01T00:00:00+01:00") {
		t.Errorf("expired message %q", fs[5].Message)
	}
	if len(unused) != 2 || unused[0].Check != "T-VM-SNAP-*" || unused[1].Check != "T-HOST-SSH-01" {
		t.Errorf("unused %+v", unused)
	}
	// The injected clock decides expiry: the day before, the waiver holds.
	fs2 := []findings.Finding{{CheckID: "T-VM-SNAP-01", Target: "vc01", Object: findings.ObjectRef{ID: "vm-2", Name: "n"}, Status: findings.StatusFail}}
	w.Apply(fs2, time.Date(2026, 10, 31, 22, 59, 0, 0, time.UTC))
	if fs2[0].Status != findings.StatusWaived {
		t.Errorf("waiver not live before expiry: %+v", fs2[0])
	}
	fs3 := []findings.Finding{{CheckID: "T-VM-SNAP-01", Target: "vc01", Object: findings.ObjectRef{ID: "vm-2", Name: "n"}, Status: findings.StatusFail}}
	w.Apply(fs3, time.Date(2026, 10, 31, 23, 0, 0, 0, time.UTC))
	if fs3[0].Status != findings.StatusFail || fs3[0].Waiver == nil || !fs3[0].Waiver.Expired {
		t.Errorf("waiver live at expiry: %+v", fs3[0])
	}
}

func TestLoadWaiversErrors(t *testing.T) {
	rule := func(extra string) string {
		return "# waivers\n[[waiver]]\ncheck = \"X\"\njustification = \"j\"\nexpires = 2026-12-31T00:00:00Z\n" + extra
	}
	cases := []struct{ body, at, want string }{
		{strings.Replace(rule(""), "justification = \"j\"\n", "", 1), "[[waiver]]", "justification is required"},
		{strings.Replace(rule(""), "expires = 2026-12-31T00:00:00Z\n", "", 1), "[[waiver]]", "expires is required"},
		{strings.Replace(rule(""), "2026-12-31T00:00:00Z", "2026-12-31", 1), "expires", "expires needs a zone"},
		{strings.Replace(rule(""), "2026-12-31T00:00:00Z", "2026-12-31T00:00:00", 1), "expires", "expires needs a zone"},
		{strings.Replace(rule(""), "2026-12-31T00:00:00Z", `"soon"`, 1), "expires", "expires"},
		{strings.Replace(rule(""), "check = \"X\"\n", "", 1), "[[waiver]]", "check is required"},
		{rule("object = \"[\"\n"), "object", "not a valid pattern"},
		{rule("reason = \"x\"\n"), "reason", `unknown key "waiver.reason"`},
		{rule("target = \"vc01\n"), "target", "newlines"},
	}
	for _, c := range cases {
		p := writeFile(t, t.TempDir(), "w.toml", c.body)
		_, err := LoadWaivers(p)
		if err == nil {
			t.Errorf("%q loaded", c.body)
			continue
		}
		prefix := p + ":" + strconv.Itoa(lineOf(t, c.body, c.at)) + ":"
		if !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %q, want prefix %q and %q", err, prefix, c.want)
		}
	}
}

func TestWaiverExpiresQuotedAndExpiring(t *testing.T) {
	body := `[[waiver]]
check = "A"
justification = "quoted zone accepted"
expires = "2026-07-01T12:00:00+02:00"

[[waiver]]
check = "B"
justification = "lapsed"
expires = 2026-01-01T00:00:00Z

[[waiver]]
check = "C"
justification = "far"
expires = 2030-01-01T00:00:00Z
`
	w, err := LoadWaivers(writeFile(t, t.TempDir(), "w.toml", body))
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Rules[0].Expires; !got.Equal(time.Date(2026, 7, 1, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("quoted expiry %v", got)
	}
	now := time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC)
	expiring, expired := w.Expiring(now, 30*24*time.Hour)
	if len(expiring) != 1 || expiring[0].Check != "A" || len(expired) != 1 || expired[0].Check != "B" || expired[0].Line != 6 {
		t.Errorf("expiring %+v expired %+v", expiring, expired)
	}
	// Thirty days earlier A lapses beyond the window; C never is within it.
	expiring, _ = w.Expiring(now.AddDate(0, 0, -30), 30*24*time.Hour)
	if len(expiring) != 0 {
		t.Errorf("expiring 30 days earlier: %+v", expiring)
	}
	for _, bad := range []string{`"2026-07-01T12:00:00"`, `"2026-07-01"`, `"tomorrow"`} {
		p := writeFile(t, t.TempDir(), "w.toml", strings.Replace(body, `"2026-07-01T12:00:00+02:00"`, bad, 1))
		if _, err := LoadWaivers(p); err == nil || !strings.HasPrefix(err.Error(), p+":4:") || !strings.Contains(err.Error(), "zone") {
			t.Errorf("expires = %s: %v", bad, err)
		}
	}
}

// TestWaiverFirstLiveRuleWins: an expired rule ahead of a live one for the
// same finding does not stop the live one, and leaves no expiry note.
func TestWaiverFirstLiveRuleWins(t *testing.T) {
	now := time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC)
	ws := &Waivers{Rules: []WaiverRule{
		{Check: "X", Justification: "old", Expires: now.Add(-time.Hour), Line: 1},
		{Check: "X", Object: "vm-*", Justification: "renewed", Expires: now.Add(time.Hour), Line: 7},
		{Check: "X", Target: "other", Justification: "other target", Expires: now.Add(time.Hour), Line: 13},
	}}
	fs := []findings.Finding{
		{CheckID: "X", Target: "vc", Object: findings.ObjectRef{Kind: "vm", ID: "vm-1", Name: "a"}, Status: findings.StatusError, Message: "absent"},
		{CheckID: "X", Target: "vc", Object: findings.ObjectRef{Kind: "host", ID: "host-1", Name: "h"}, Status: findings.StatusFail, Message: "m"},
	}
	unused := ws.Apply(fs, now)
	if fs[0].Status != findings.StatusWaived || fs[0].ObservedStatus != findings.StatusError || fs[0].Waiver.Justification != "renewed" || fs[0].Message != "absent" {
		t.Errorf("live rule: %+v %+v", fs[0], fs[0].Waiver)
	}
	if fs[1].Status != findings.StatusFail || fs[1].ObservedStatus != "" || !fs[1].Waiver.Expired ||
		fs[1].Message != "m; waiver expired "+now.Add(-time.Hour).Format(time.RFC3339) {
		t.Errorf("expired rule: %+v %+v", fs[1], fs[1].Waiver)
	}
	if len(unused) != 2 || unused[0].Line != 1 || unused[1].Line != 13 {
		t.Errorf("unused %+v", unused)
	}
	if !ws.Rules[0].Expired(now) || ws.Rules[1].Expired(now) || !ws.Rules[1].Expired(now.Add(time.Hour)) {
		t.Error("Expired: a waiver holds up to, not including, its expiry instant")
	}
}

// A waiver written for a check's former id still covers it once the
// waivers follow the baseline's aliases, and only then.
func TestWaiverFollowsAlias(t *testing.T) {
	text := "[[waiver]]\ncheck = \"T-OLD-MIG\"\njustification = \"renamed check\"\nexpires = 2027-01-01T00:00:00Z\n"
	w, err := LoadWaivers(writeFile(t, t.TempDir(), "w.toml", text))
	if err != nil {
		t.Fatal(err)
	}
	finding := func() []findings.Finding {
		return []findings.Finding{{CheckID: "T-VM-MIG-01", Target: "vc01", Object: findings.ObjectRef{Kind: "vm", ID: "vm-2", Name: "app"}, Status: findings.StatusFail}}
	}
	fs := finding()
	w.Apply(fs, testNow)
	if fs[0].Status != findings.StatusFail {
		t.Fatalf("without the baseline's aliases the waiver matched: %s", fs[0].Status)
	}
	b, err := LoadBaseline("testdata/baseline.toml")
	if err != nil {
		t.Fatal(err)
	}
	w.FollowAliases(b)
	fs = finding()
	if unused := w.Apply(fs, testNow); len(unused) != 0 || fs[0].Status != findings.StatusWaived || fs[0].ObservedStatus != findings.StatusFail {
		t.Errorf("alias waiver: status %s, unused %d", fs[0].Status, len(unused))
	}
}

// A waiver for every target covers a libvirt target too: "*" matches '/'.
func TestWaiverStarMatchesURITargets(t *testing.T) {
	w, err := LoadWaivers(writeFile(t, t.TempDir(), "w.toml", `[[waiver]]
check = "T-*"
target = "*"
justification = "lab hosts"
expires = 2099-01-01T00:00:00Z
`))
	if err != nil {
		t.Fatal(err)
	}
	fs := []findings.Finding{{CheckID: "T-VM-MIG-01", Target: "qemu:///system", Object: findings.ObjectRef{Kind: "vm", ID: "u", Name: "g"}, Status: findings.StatusFail}}
	if unused := w.Apply(fs, testNow); len(unused) != 0 || fs[0].Status != findings.StatusWaived {
		t.Errorf("target \"*\" did not waive a qemu:///system finding: %s, unused %d", fs[0].Status, len(unused))
	}
}

// A justification of blanks is no justification.
func TestWaiverBlankJustificationRefused(t *testing.T) {
	for _, j := range []string{"", "   ", "\t\n"} {
		body := "[[waiver]]\ncheck = \"T-VM-MIG-01\"\njustification = " + strconv.Quote(j) + "\nexpires = 2099-01-01T00:00:00Z\n"
		p := writeFile(t, t.TempDir(), "w.toml", body)
		if _, err := LoadWaivers(p); err == nil || !strings.Contains(err.Error(), p+":3: waiver T-VM-MIG-01: justification is required") {
			t.Errorf("justification %q: %v", j, err)
		}
	}
}

// UnknownChecks names, with file and line, every check glob that matches
// no check id or former id of the baseline.
func TestWaiverUnknownChecks(t *testing.T) {
	b, err := LoadBaseline("testdata/baseline.toml")
	if err != nil {
		t.Fatal(err)
	}
	body := `[[waiver]]
check = "T-VM-MIG-01"
justification = "by id"
expires = 2099-01-01T00:00:00Z

[[waiver]]
justification = "a typo"
check = "T-VM-MGI-01"
expires = 2099-01-01T00:00:00Z

[[waiver]]
check = "T-OLD-MIG"
justification = "by former id"
expires = 2099-01-01T00:00:00Z

[[waiver]]
check = "T-HOST-*"
justification = "by glob"
expires = 2099-01-01T00:00:00Z

[[waiver]]
check = "NOPE-*"
justification = "glob matching nothing"
expires = 2099-01-01T00:00:00Z
`
	p := writeFile(t, t.TempDir(), "w.toml", body)
	w, err := LoadWaivers(p)
	if err != nil {
		t.Fatal(err)
	}
	errs := w.UnknownChecks(b)
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	want := []string{
		p + `:8: waiver check "T-VM-MGI-01" matches no check in baseline test 1 (see 'hvaudit checks list')`,
		p + `:22: waiver check "NOPE-*" matches no check in baseline test 1 (see 'hvaudit checks list')`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("UnknownChecks:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
