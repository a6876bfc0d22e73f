package report

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/checks/findings"
)

// limitRun has, per VM, a passing high check, a failing medium check and,
// for every third VM, an erroring low check: n VMs.
func limitRun(n int) *Run {
	var fs []findings.Finding
	add := func(vm int, check string, sev findings.Severity, st findings.Status) {
		name := fmt.Sprintf("vm-%03d", vm)
		fs = append(fs, findings.Finding{CheckID: check, Title: check + " title", Area: "vm-isolation", Severity: sev, Status: st,
			Target: "vc", Object: findings.ObjectRef{Kind: "vm", ID: name, Name: name}})
	}
	for vm := 0; vm < n; vm++ {
		add(vm, "V-PASS", findings.SeverityHigh, findings.StatusPass)
		add(vm, "V-FAIL", findings.SeverityMedium, findings.StatusFail)
		if vm%3 == 0 {
			add(vm, "V-ERR", findings.SeverityLow, findings.StatusError)
		}
	}
	return &Run{Schema: Schema, Targets: []TargetResult{{Name: "vc", Platform: "esxi", Status: TargetOK}},
		Findings: fs, Summary: summarize(fs, nil)}
}

// TestHTMLSummarisesPastRowLimit: past the row limit the page lists the
// findings that need action first (fail, then error, by severity) up to
// the limit, says how many others there are and of what status, and
// counts every finding per check with how many of each are listed.
func TestHTMLSummarisesPastRowLimit(t *testing.T) {
	defer func(n int) { htmlRowLimit = n }(htmlRowLimit)
	htmlRowLimit = 100

	// 90 VMs: 90 fail, 30 error, 90 pass = 210 findings.
	page := string(writeFormat(t, "html", Options{}, limitRun(90)))
	if got := strings.Count(page, `<tbody class="finding"`); got != 100 {
		t.Errorf("%d finding rows, want the limit, 100", got)
	}
	if got := strings.Count(page, `<tbody class="finding" id="f1" data-status="fail"`); got != 1 {
		t.Error("the first row is not a failing finding")
	}
	if strings.Contains(page, `data-status="pass"`) {
		t.Error("a passing finding is listed while failing and erroring ones were left out")
	}
	want := `This run has 210 findings. The 100 that need action first (failing, then error, then waived; the highest severity first) are listed one by one below; the other 110 (0 fail, 20 error, 0 waived, 90 pass, 0 n/a) are counted per check in &#34;By check&#34;. The JSON and CSV reports list every finding.`
	if !strings.Contains(page, want) {
		t.Errorf("page lacks the summary banner %q", want)
	}
	wantRows := []string{
		"Check|Title|Severity|Area|Fail|Error|Waived|Pass|N/A|Listed below",
		"V-ERR|V-ERR title|low|vm-isolation|0|30|0|0|0|10",
		"V-FAIL|V-FAIL title|medium|vm-isolation|90|0|0|0|0|90",
		"V-PASS|V-PASS title|high|vm-isolation|0|0|0|90|0|0",
	}
	if got := rows(t, page, "bycheck"); strings.Join(got, "\n") != strings.Join(wantRows, "\n") {
		t.Errorf("#bycheck rows:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantRows, "\n"))
	}

	// At the limit every finding is a row and nothing is summarised.
	page = string(writeFormat(t, "html", Options{}, limitRun(40))) // 40+40+14 = 94
	if got := strings.Count(page, `<tbody class="finding"`); got != 94 || strings.Contains(page, `id="bycheck"`) || strings.Contains(page, "banner summarised") {
		t.Errorf("under the limit: %d rows (want 94), by-check table or banner present", got)
	}
}
