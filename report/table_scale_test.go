package report

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/checks/findings"
)

// --quiet is one line, whatever the width: the failing counts by severity,
// the other statuses, the score and why the run is incomplete.
func TestTableQuietIsTheSummaryLine(t *testing.T) {
	for _, width := range []int{60, 100} {
		out := string(writeFormat(t, "table", Options{Quiet: true, Width: width}, sampleRun()))
		want := "Summary: 5 fail (2 critical, 0 high, 2 medium, 1 low), 1 error, 2 waived, 2 pass, 2 n/a; score 21.4 (18.4 without waivers) on 3 targets; INCOMPLETE: 1 target not audited (kvm01); 1 finding in error\n"
		if out != want {
			t.Errorf("width %d:\n got %q\nwant %q", width, out, want)
		}
	}
}

// A certificate thumbprint, a URI or a CVE list is never cut inside a
// token: a token wider than the line gets a line of its own, whole; a JSON
// list breaks after its commas.
func TestTableNeverWrapsInsideAToken(t *testing.T) {
	thumb := "4C:3D:58:C2:80:EA:08:A0:67:53:79:A8:D5:3B:7C:77:6A:8A:40:EE:D1:80:4E:17:26:39:5B:D7:07:23:D4:D8"
	run := sampleRun()
	for i := range run.Targets {
		if run.Targets[i].Status != TargetOK {
			run.Targets[i].Error = "x509: certificate signed by unknown authority; pin it with --thumbprint " + thumb +
				" or see https://docs.example.com/hvaudit/connecting-to-a-host-whose-certificate-is-self-signed"
		}
	}
	cves := []any{}
	for i := range 30 {
		cves = append(cves, fmt.Sprintf("CVE-2025-%05d", 22200+i))
	}
	for i := range run.Findings {
		if run.Findings[i].CheckID == "ESXI-VM-ENC-01" && run.Findings[i].Status == findings.StatusFail {
			run.Findings[i].Evidence = append(run.Findings[i].Evidence, findings.Evidence{Field: "patch.missing_cves", Observed: cves, Source: "hvaudit advisory data"})
		}
	}
	for _, width := range []int{60, 80, 100} {
		out := string(writeFormat(t, "table", Options{Verbose: true, Width: width}, run))
		if !strings.Contains(out, thumb) {
			t.Errorf("width %d: the thumbprint was cut", width)
		}
		if !strings.Contains(out, "https://docs.example.com/hvaudit/connecting-to-a-host-whose-certificate-is-self-signed") {
			t.Errorf("width %d: the URL was cut", width)
		}
		for _, c := range cves {
			if !strings.Contains(out, `"`+c.(string)+`"`) {
				t.Errorf("width %d: %s was cut", width, c)
			}
		}
		// Only a token that cannot fit makes a line wider than asked: the
		// line is that token, after at most its label ("from").
		for i, line := range strings.Split(out, "\n") {
			if runeLen(line) > width && len(strings.Fields(line)) > 2 {
				t.Errorf("width %d: line %d has %d columns: %q", width, i+1, runeLen(line), line)
			}
		}
	}
}

func TestWrapTokens(t *testing.T) {
	for _, c := range []struct {
		in    string
		width int
		want  []string
	}{
		{"", 10, nil},
		{"one two three", 7, []string{"one two", "three"}},
		{"a  b\n\nc", 10, []string{"a b", "c"}},
		{"x abcdefghij y", 4, []string{"x", "abcdefghij", "y"}},
		{`["CVE-2025-1","CVE-2025-2","CVE-2025-3"]`, 30, []string{`["CVE-2025-1","CVE-2025-2",`, `"CVE-2025-3"]`}},
		{"list: a,b", 6, []string{"list:", "a,b"}},
		{"trailing, comma", 9, []string{"trailing,", "comma"}},
	} {
		if got := wrapTokens(c.in, c.width); !slices.Equal(got, c.want) {
			t.Errorf("wrapTokens(%q, %d) = %q, want %q", c.in, c.width, got, c.want)
		}
	}
}

// One line per check: the whole title and as many object names as fit,
// else the title shortened at a word for the first name; never a name cut.
func TestCheckLineRest(t *testing.T) {
	objs := []string{"esx-legacy-01", "esx-prod-02", "esx-prod-03"}
	for _, c := range []struct {
		title string
		objs  []string
		room  int
		want  string
	}{
		{"Lockdown mode is enabled", objs, 80, "Lockdown mode is enabled: esx-legacy-01, esx-prod-02, esx-prod-03"},
		{"Lockdown mode is enabled", objs, 61, "Lockdown mode is enabled: esx-legacy-01, esx-prod-02, +1 more"},
		{"Lockdown mode is enabled", objs, 50, "Lockdown mode is enabled: esx-legacy-01, +2 more"},
		{"Shell, DCUI and Host Client sessions time out", objs, 50, "Shell, DCUI and Host...: esx-legacy-01, +2 more"},
		{"Shell, DCUI and Host Client sessions time out", []string{"a-very-long-virtual-machine-name-indeed-it-is"}, 40, "Shell, DCUI and Host Client sessions..."},
	} {
		if got := checkLineRest(c.title, c.objs, c.room); got != c.want || runeLen(got) > c.room {
			t.Errorf("checkLineRest(%q, %d) = %q, want %q", c.title, c.room, got, c.want)
		}
	}
}

// At scale the default output grows by one line per failing check, not per
// finding: 5,000 VMs failing the same ten checks are ten lines.
func TestTableScalesWithChecksNotFindings(t *testing.T) {
	run := sampleRun()
	run.Targets = run.Targets[:1]
	var fs []findings.Finding
	for vm := range 5000 {
		for c := range 10 {
			fs = append(fs, findings.Finding{
				CheckID: fmt.Sprintf("ESXI-VM-X-%02d", c), Title: "a check", Area: "isolation", Severity: findings.SeverityMedium,
				Status: findings.StatusFail, Target: run.Targets[0].Name,
				Object:   findings.ObjectRef{Kind: "vm", ID: fmt.Sprintf("vm-%d", vm), Name: fmt.Sprintf("vm-%04d", vm)},
				Evidence: []findings.Evidence{{Field: "vm.x", Observed: true, Source: "s"}},
			})
		}
	}
	run.Findings = fs
	run.Summary = summarize(fs, nil)
	out := string(writeFormat(t, "table", Options{}, run))
	if n := strings.Count(out, "\n"); n > 60 {
		t.Errorf("50,000 findings of 10 checks print %d lines", n)
	}
	if !strings.Contains(out, "  FAIL   medium    ESXI-VM-X-00  5000  a check: vm-0000, vm-0001, vm-0002") {
		t.Errorf("check line missing:\n%s", out)
	}
}
