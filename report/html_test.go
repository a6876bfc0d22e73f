package report

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/hvaudit/hvaudit/checks/findings"
)

// htmlTags parses a page as a browser's tokenizer would and returns its
// start tags, so tests judge elements and attributes, not substrings.
func htmlTags(t *testing.T, page string) []html.Token {
	t.Helper()
	z := html.NewTokenizer(strings.NewReader(page))
	var tags []html.Token
	for {
		switch z.Next() {
		case html.ErrorToken:
			if z.Err() != io.EOF {
				t.Fatal(z.Err())
			}
			return tags
		case html.StartTagToken, html.SelfClosingTagToken:
			tags = append(tags, z.Token())
		}
	}
}

func TestHTMLGolden(t *testing.T) {
	golden(t, "report.html.golden", writeFormat(t, "html", Options{}, sampleRun()))
}

// The file must open offline and never reach out: no element loads
// anything from elsewhere. Links a reader may click (<a href>) are fine.
func TestHTMLSelfContained(t *testing.T) {
	run := sampleRun()
	run.Findings[2].Refs.Docs = []string{"https://knowledge.broadcom.com/external/article?legacyId=2143832"}
	out := string(writeFormat(t, "html", Options{}, run))
	scripts := 0
	for _, tag := range htmlTags(t, out) {
		switch tag.Data {
		case "script":
			scripts++
		case "link", "img", "iframe", "embed", "object", "source", "video", "audio", "frame", "base":
			t.Errorf("<%s> in the page", tag.Data)
		}
		for _, a := range tag.Attr {
			switch a.Key {
			case "src", "srcset", "poster", "data", "action", "formaction", "background", "xlink:href":
				t.Errorf("<%s %s=%q> loads something", tag.Data, a.Key, a.Val)
			case "href":
				if tag.Data != "a" {
					t.Errorf("<%s href=%q> in the page", tag.Data, a.Val)
				}
			}
			if strings.Contains(a.Val, "://") && a.Key != "href" && a.Key != "content" && !strings.HasPrefix(a.Key, "data-") {
				t.Errorf("URL in <%s %s=%q>", tag.Data, a.Key, a.Val)
			}
		}
	}
	if scripts != 1 {
		t.Errorf("%d script elements, want exactly the inline one", scripts)
	}
	for _, re := range []*regexp.Regexp{regexp.MustCompile(`(?i)@import`), regexp.MustCompile(`(?i)url\(`)} {
		if m := re.FindString(htmlCSS); m != "" {
			t.Errorf("the stylesheet loads something: %q", m)
		}
	}
	if !strings.Contains(out, `<a href="https://knowledge.broadcom.com/external/article?legacyId=2143832" rel="noopener noreferrer">`) {
		t.Error("a docs reference is not a link")
	}
}

// The Content Security Policy allows exactly the inline style and script
// the page carries, by hash, and nothing else.
func TestHTMLContentSecurityPolicy(t *testing.T) {
	out := string(writeFormat(t, "html", Options{}, sampleRun()))
	csp := regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]*)">`).FindStringSubmatch(out)
	if csp == nil {
		t.Fatal("no Content-Security-Policy")
	}
	policy := strings.ReplaceAll(strings.ReplaceAll(csp[1], "&#39;", "'"), "&#43;", "+")
	hash := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	script := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindStringSubmatch(out)
	style := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(out)
	if script == nil || style == nil {
		t.Fatal("no inline script or style")
	}
	for _, want := range []string{"default-src 'none'", "script-src " + hash(script[1]), "style-src " + hash(style[1]), "base-uri 'none'"} {
		if !strings.Contains(policy, want) {
			t.Errorf("policy %q lacks %q", policy, want)
		}
	}
	// The page must not rely on what the policy forbids: inline style
	// attributes and inline event handlers.
	for _, tag := range htmlTags(t, out) {
		for _, a := range tag.Attr {
			if a.Key == "style" || strings.HasPrefix(a.Key, "on") {
				t.Errorf("<%s %s> is blocked by the policy", tag.Data, a.Key)
			}
		}
	}
}

// Names and messages from the estate are data, never markup or script.
func TestHTMLEscaping(t *testing.T) {
	const evil = `<script>alert(1)</script>`
	run := sampleRun()
	for i := range run.Findings {
		if run.Findings[i].CheckID == "ESXI-VM-CON-01" {
			f := &run.Findings[i]
			f.Object.Name = evil
			f.Message = `"><img src=x onerror=alert(2)>`
			f.Evidence[0].Observed = `</td></tr></tbody></table>` + evil
			f.Refs.Docs = []string{"javascript:alert(3)"}
			f.Waiver = &findings.Waiver{Justification: evil, Expires: "2027-01-01T00:00:00Z"}
		}
	}
	run.Targets[0].Product = evil
	out := string(writeFormat(t, "html", Options{}, run))
	scripts := 0
	for _, tag := range htmlTags(t, out) {
		if tag.Data == "script" {
			scripts++
		}
		if tag.Data == "img" {
			t.Error("an <img> from a message reached the page")
		}
		for _, a := range tag.Attr {
			if strings.HasPrefix(a.Key, "on") {
				t.Errorf("event handler <%s %s=%q>", tag.Data, a.Key, a.Val)
			}
			if a.Key == "href" && !strings.HasPrefix(a.Val, "https://") && !strings.HasPrefix(a.Val, "#") {
				t.Errorf("unsafe link %q", a.Val)
			}
		}
	}
	if scripts != 1 {
		t.Errorf("%d script elements: a name reached the page as markup", scripts)
	}
	if strings.Contains(out, "</table>"+evil) {
		t.Error("evidence closed the table")
	}
	// html/template neutralises the unsafe URL; the text stays visible.
	if !strings.Contains(out, `<a href="#ZgotmplZ" rel="noopener noreferrer">javascript:alert(3)</a>`) {
		t.Error("a javascript: reference was not neutralised")
	}
	if !strings.Contains(out, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the object name is not shown escaped")
	}
	// In attributes too (the filter's search text, the sort keys).
	if !strings.Contains(out, `data-object="vm &lt;script&gt;alert(1)&lt;/script&gt;"`) {
		t.Error("the object name is not escaped in data attributes")
	}
}

func TestHTMLFiltersAndSummary(t *testing.T) {
	run := sampleRun()
	out := string(writeFormat(t, "html", Options{}, run))
	if got := strings.Count(out, `<tbody class="finding"`); got != len(run.Findings) {
		t.Errorf("%d finding rows, want %d", got, len(run.Findings))
	}
	for _, want := range []string{
		`id="f-severity"`, `id="f-area"`, `id="f-text"`, `name="status" value="fail" checked`,
		`name="status" value="pass">`, `data-key="sevOrder"`, `data-key="check"`,
		// The waiver-free score appears next to the score, overall and
		// per target and area.
		`<div class="big">21.4</div>`, `<div class="big">18.4</div>`, `value="18.8"`,
		"Not audited: connecting to qemu&#43;tls://kvm01.lab/system",
		"@media print",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	// Failing findings come first, worst severity first.
	first := regexp.MustCompile(`<tbody class="finding" id="f1" data-status="(\w+)" data-status-rank="\d" data-sev-rank="(\d)"`).FindStringSubmatch(out)
	if first == nil || first[1] != "fail" || first[2] != "4" {
		t.Errorf("first finding = %v, want a critical fail", first)
	}
}

func TestHTMLWriterContract(t *testing.T) { checkWriterContract(t, "html") }

// Unused waivers show in the run header, each with its file, line and why.
func TestHTMLListsUnusedWaivers(t *testing.T) {
	run := sampleRun()
	run.Run.UnusedWaivers = []UnusedWaiver{{Check: "ESXI-VM-MIG-01", File: "w<aivers>.toml", Line: 9, Reason: "expired", Expires: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}}
	out := string(writeFormat(t, "html", Options{}, run))
	if !strings.Contains(out, "<dt>Unused waiver</dt>") || !strings.Contains(out, "w&lt;aivers&gt;.toml:9 (ESXI-VM-MIG-01): expired 2020-01-01") {
		t.Errorf("unused waiver not listed (escaped) in the HTML header")
	}
}

// rollupRun has an ESXi and a KVM target whose findings share an area, so
// a rollup that mixed platforms would show.
func rollupRun() *Run {
	f := func(target, check, area string, sev findings.Severity, st findings.Status, refs findings.Refs) findings.Finding {
		msg := ""
		if st == findings.StatusFail {
			msg = `observed host.options["Net.BMCNetworkEnable"] = 1`
		}
		return findings.Finding{CheckID: check, Title: check, Area: area, Severity: sev, Status: st, Target: target, Message: msg,
			Object:   findings.ObjectRef{Kind: "host", ID: target + "-h", Name: target + "-h"},
			Evidence: []findings.Evidence{{Field: `host.options["Net.BMCNetworkEnable"]`, Observed: int64(1), Source: "HostSystem config.option"}},
			Refs:     refs, Expected: "0", Remediation: "r"}
	}
	stig := findings.Refs{STIG: []string{"ESXI-80-000250"}, NIST80053: []string{"SC-7"}}
	cis := findings.Refs{CIS: []string{"1.1"}, NIST80053: []string{"SC-7", "AC-3"}}
	fs := []findings.Finding{
		f("esx", "E-1", "host-access", findings.SeverityHigh, findings.StatusPass, stig),
		f("esx", "E-2", "host-access", findings.SeverityHigh, findings.StatusFail, stig),
		f("esx", "E-3", "logging", findings.SeverityLow, findings.StatusError, findings.Refs{SCG: []string{"esxi-8.logs"}}),
		f("kvm", "K-1", "host-access", findings.SeverityMedium, findings.StatusPass, cis),
	}
	return &Run{Schema: Schema, Targets: []TargetResult{
		{Name: "esx", Platform: "esxi", Status: TargetOK}, {Name: "kvm", Platform: "kvm", Status: TargetOK},
	}, Findings: fs, Summary: summarize(fs, nil)}
}

// rows returns the text of each row of a table, cells joined by "|".
func rows(t *testing.T, page, id string) []string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<table id="` + id + `"[^>]*>(.*?)</table>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no table #%s", id)
	}
	tags := regexp.MustCompile(`<[^>]+>`)
	var out []string
	for _, tr := range regexp.MustCompile(`(?s)<tr[^>]*>(.*?)</tr>`).FindAllStringSubmatch(m[1], -1) {
		var cells []string
		for _, c := range regexp.MustCompile(`(?s)<t[hd][^>]*>(.*?)</t[hd]>`).FindAllStringSubmatch(tr[1], -1) {
			cells = append(cells, strings.TrimSpace(tags.ReplaceAllString(c[1], "")))
		}
		out = append(out, strings.Join(cells, "|"))
	}
	return out
}

// Rollups by severity, by framework and by platform, each platform with
// its own areas: ESXi's host-access (one pass, one fail, both high: 50)
// and KVM's (one pass: 100) are never averaged into one row. By hand:
// ESXi overall 6 of 6+6+1 = 46.15; NIST 800-53, cited by all but E-3,
// 6+3 of 6+6+3 = 60.
func TestHTMLRollups(t *testing.T) {
	page := string(writeFormat(t, "html", Options{}, rollupRun()))
	for id, want := range map[string][]string{
		"severities": {
			"Severity|Score|Without waivers|Fail|Error|Waived|Pass|N/A",
			"high|50.0|50.0|1|0|0|1|0",
			"medium|100.0|100.0|0|0|0|1|0",
			"low|0.0|0.0|0|1|0|0|0",
		},
		"frameworks": {
			"Framework|IDs cited|Score|Without waivers|Fail|Error|Waived|Pass|N/A",
			"STIG|1|50.0|50.0|1|0|0|1|0",
			"SCG|1|0.0|0.0|0|1|0|0|0",
			"CIS|1|100.0|100.0|0|0|0|1|0",
			"NIST 800-53|2|60.0|60.0|1|0|0|2|0",
		},
		"platforms": {
			"Platform / area|Score|Without waivers|Fail|Error|Waived|Pass|N/A",
			"ESXi and vCenter|46.1|46.1|1|1|0|1|0",
			"host-access|50.0|50.0|1|0|0|1|0",
			"logging|0.0|0.0|0|1|0|0|0",
			"KVM/QEMU|100.0|100.0|0|0|0|1|0",
			"host-access|100.0|100.0|0|0|0|1|0",
		},
	} {
		if got := rows(t, page, id); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("#%s rows:\n%s\nwant\n%s", id, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	// The findings filter by platform too.
	for _, want := range []string{`<option value="esxi">ESXi and vCenter</option>`, `<option value="kvm">KVM/QEMU</option>`, `data-platform="kvm"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}

// Evidence reads as field, plain-language label and value; the expression
// the check evaluated is one click away, and a failing row says what was
// observed in words rather than in CEL.
func TestHTMLEvidenceInWords(t *testing.T) {
	page := string(writeFormat(t, "html", Options{}, rollupRun()))
	for _, want := range []string{
		`<th scope="row"><span class="ev-label">Host › advanced setting Net.BMCNetworkEnable</span><details class="expr"><summary>expression</summary><code>host.options[&#34;Net.BMCNetworkEnable&#34;]</code></details></th><td class="mono">1</td><td class="mono source">HostSystem config.option</td>`,
		`<small class="prose">Observed: Host › advanced setting Net.BMCNetworkEnable: 1</small>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(page, `observed host.options`) {
		t.Error("a message restating the evidence as CEL is still shown")
	}
	// A long unbroken value stays in one piece in the page; the style
	// sheet breaks it (the browser test measures that).
	run := rollupRun()
	run.Findings[1].Evidence[0].Observed = strings.Repeat("CVE-2025-22224,", 40)
	if page := string(writeFormat(t, "html", Options{}, run)); !strings.Contains(page, strings.Repeat("CVE-2025-22224,", 40)) {
		t.Error("a long value was altered")
	}
	for _, rule := range []string{".scroll { overflow-x: auto; max-width: 100%;", "overflow-wrap: anywhere;"} {
		if !strings.Contains(htmlCSS, rule) {
			t.Errorf("the style sheet lacks %q", rule)
		}
	}
}

// Every status gets a filter box with the number of its rows, one this page
// does not know (a report from a newer hvaudit) included, checked, or its
// findings could never be shown.
func TestHTMLStatusBoxesCountRows(t *testing.T) {
	run := sampleRun()
	extra := run.Findings[0]
	extra.Status = "skipped"
	run.Findings = append(run.Findings, extra, extra)
	out := string(writeFormat(t, "html", Options{}, run))
	for _, box := range []struct {
		value, label string
		checked      bool
		n            int
	}{
		{"fail", "fail", true, 5}, {"error", "error", true, 1}, {"waived", "waived", true, 2},
		{"pass", "pass", false, 2}, {"not_applicable", "n/a", false, 2}, {"skipped", "skipped", true, 2},
	} {
		checked := ""
		if box.checked {
			checked = " checked"
		}
		s := fmt.Sprintf(`name="status" value="%s"%s> <span class="pill st-%s">%s</span> (%d)`, box.value, checked, box.value, box.label, box.n)
		if !strings.Contains(out, s) {
			t.Errorf("page lacks %s", s)
		}
	}
}
