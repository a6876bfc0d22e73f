package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hvaudit/hvaudit/collectors/esxi/esxisim"
)

// TestHTMLReportInChromium opens the HTML report of a real audit in headless
// Chromium (Debian's chromium package) and checks that it renders the score
// with its own script, logs no console error, makes no network request, and
// can be captured as a screenshot.
//
// Console messages come from Chromium's log (--enable-logging=stderr); the
// report logs one marker line once its script has run, so an empty error
// list means "no errors", not "no logging". Network requests come from the
// net log: a request is the page's when its network isolation key is the
// file:// page; Chromium's own background requests (component updates, time)
// have other keys and are ignored.
func TestHTMLReportInChromium(t *testing.T) {
	browser, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("HVAUDIT_REQUIRE_CHROMIUM") != "" {
			t.Fatal("chromium not installed (Debian: chromium; make deps installs it)")
		}
		t.Skip("chromium not installed (Debian: chromium); make deps installs it as root")
	}
	sim := startSim(t, esxisim.Options{})
	dir := t.TempDir()
	html := filepath.Join(dir, "report.html")
	r := runHV(t, []string{"HVAUDIT_PASSWORD=" + sim.Password}, "audit", "--target", targetURI(sim),
		"--thumbprint", sim.Thumbprint, "--format", "html", "--output", html)
	if r.code == 2 {
		t.Fatalf("audit: exit 2: %s", r.stderr)
	}

	netlog := filepath.Join(dir, "net.json")
	shot := filepath.Join(dir, "report.png")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser,
		"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--enable-logging=stderr", "--v=0",
		"--log-net-log="+netlog, "--host-resolver-rules=MAP * ~NOTFOUND",
		"--window-size=1400,1000", "--virtual-time-budget=5000",
		"--screenshot="+shot, "--dump-dom", "file://"+html)
	cmd.Dir = dir
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}

	var consoleLines, consoleErrors []string
	for _, line := range strings.Split(stderr.String(), "\n") {
		if !strings.Contains(line, ":CONSOLE") {
			continue
		}
		consoleLines = append(consoleLines, line)
		if !strings.Contains(line, "hvaudit-report-ready") {
			consoleErrors = append(consoleErrors, line)
		}
	}
	if len(consoleLines) == 0 {
		t.Errorf("the report's script never logged its ready marker (hvaudit-report-ready): did it run?")
	}
	for _, l := range consoleErrors {
		t.Errorf("console: %s", l)
	}

	for _, u := range netlogURLs(t, netlog, "file://") {
		if !strings.HasPrefix(u, "file:") { // the report itself
			t.Errorf("the report made a network request: %s", u)
		}
	}

	dom := stdout.String()
	for _, want := range []string{"esx-prod-02", "ESXI-VM-MIG-01", "web-01", "Score"} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered page lacks %q", want)
		}
	}
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 10_000 {
		t.Errorf("screenshot %s: %v (size %v)", shot, err, fi)
	} else if out := os.Getenv("HVAUDIT_SCREENSHOT_DIR"); out != "" {
		b, _ := os.ReadFile(shot)
		_ = os.WriteFile(filepath.Join(out, "report.png"), b, 0o644)
	}
}

// netlogURLs lists, once each, the URLs a Chromium net log shows the page
// of site (its network isolation key: "http://127.0.0.1", "file://")
// requesting.
func netlogURLs(t *testing.T, path, site string) []string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("net log: %v", err)
	}
	var nl struct {
		Events []struct {
			Params map[string]any `json:"params"`
		} `json:"events"`
	}
	if err := json.Unmarshal(raw, &nl); err != nil {
		t.Fatalf("net log %s: %v", path, err)
	}
	seen := map[string]bool{}
	var urls []string
	for _, e := range nl.Events {
		u, _ := e.Params["url"].(string)
		nik, _ := e.Params["network_isolation_key"].(string)
		// Chromium's own background requests (time, updates, accounts)
		// carry no page's isolation key; the page's requests carry its
		// site's.
		if u == "" || seen[u] || strings.HasPrefix(u, "data:") || !strings.Contains(nik, site) {
			continue
		}
		seen[u] = true
		urls = append(urls, u)
	}
	return urls
}

// chromiumPath finds Debian's chromium, or skips (fails under CI, which
// installs it).
func chromiumPath(t *testing.T) string {
	t.Helper()
	exe, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("HVAUDIT_REQUIRE_CHROMIUM") != "" {
			t.Fatal("chromium not installed (Debian: chromium; make deps installs it)")
		}
		t.Skip("chromium not installed (Debian: chromium); make deps installs it as root")
	}
	return exe
}

var (
	demoOnce sync.Once
	demoDir  string
	demoErr  string
)

// demoReports runs `hvaudit demo` once for the test binary and returns the
// directory of its reports.
func demoReports(t *testing.T) string {
	t.Helper()
	demoOnce.Do(func() {
		dir := filepath.Join(filepath.Dir(binary), "demo")
		r := runHV(t, nil, "demo", "--dir", dir)
		if r.code != 0 {
			demoErr = fmt.Sprintf("demo: exit %d: %s", r.code, r.stderr)
			return
		}
		demoDir = dir
	})
	if demoErr != "" {
		t.Fatal(demoErr)
	}
	return demoDir
}

// artifactDir is where browser tests keep their screenshots for people to
// look at: $HVAUDIT_ARTIFACT_DIR, else bin/test-artifacts in the repository.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("HVAUDIT_ARTIFACT_DIR")
	if dir == "" {
		dir = filepath.Join("..", "bin", "test-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(dir)
	return abs
}

// measureJS shows everything the report can show (every status, every
// finding's detail, every expression), then measures the document against
// the window and names the widest elements that stick out.
const measureJS = `(() => {
  document.querySelectorAll('input[name=status]').forEach(b => { b.checked = true; });
  const form = document.getElementById('filters');
  if (form) { form.dispatchEvent(new Event('change')); }
  const all = document.getElementById('expand-all');
  if (all) { all.click(); }
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  const de = document.documentElement;
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('.scroll')) { continue; }
    const r = el.getBoundingClientRect();
    if (r.right > window.innerWidth + 0.5) {
      out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className ? '.' + String(el.className).replace(/ /g, '.') : '') + ' right=' + Math.round(r.right));
      if (out.length >= 8) { break; }
    }
  }
  const tables = Array.from(document.querySelectorAll('.scroll')).filter(s => s.scrollWidth > s.clientWidth).length;
  return {scrollWidth: de.scrollWidth, innerWidth: window.innerWidth, details: document.querySelectorAll('tbody.finding.open').length, scrollingBoxes: tables, wide: out};
})()`

// TestHTMLReportFitsTheWindow opens the demo's HTML report (both estates,
// long CVE lists, every finding's detail open) at 800 and 1,400 CSS pixels
// and at an A4 page's printable width (190 mm, 718 px) in print media: the
// document is never wider than the window; wide tables scroll inside their
// own box. A screenshot of each is kept in the artifact directory.
func TestHTMLReportFitsTheWindow(t *testing.T) {
	exe := chromiumPath(t)
	dir := demoReports(t)
	html := filepath.Join(dir, "report.html")
	b := startBrowser(t, exe)
	out := artifactDir(t)
	for _, c := range []struct {
		name   string
		width  int
		media  string
		screen bool
	}{
		{"800", 800, "", true},
		{"1400", 1400, "", true},
		{"print-a4", 718, "print", false},
	} {
		b.media(t, c.media)
		b.open(t, "file://"+html, c.width, 1000)
		var m struct {
			ScrollWidth, InnerWidth, Details, ScrollingBoxes int
			Wide                                             []string
		}
		b.eval(t, measureJS, &m)
		t.Logf("%s: document %d px wide in a %d px window; %d findings open; %d boxes scroll", c.name, m.ScrollWidth, m.InnerWidth, m.Details, m.ScrollingBoxes)
		if m.InnerWidth != c.width {
			t.Errorf("%s: window is %d px, want %d", c.name, m.InnerWidth, c.width)
		}
		if m.ScrollWidth > m.InnerWidth {
			t.Errorf("%s: the document is %d px wide in a %d px window; sticking out: %v", c.name, m.ScrollWidth, m.InnerWidth, m.Wide)
		}
		if m.Details < 100 {
			t.Errorf("%s: only %d findings opened; the measurement must cover their evidence", c.name, m.Details)
		}
		b.eval(t, `(() => { window.scrollTo(0, 0); document.querySelectorAll('input[name=status]').forEach(b => { b.checked = ['fail','error','waived'].includes(b.value); }); document.getElementById('filters').dispatchEvent(new Event('change')); document.getElementById('collapse-all').click(); document.querySelectorAll('details').forEach(d => { d.open = false; }); const f = document.querySelector('tbody.finding:not([hidden]) button.toggle'); if (f) { f.click(); } return true; })()`, new(bool))
		shots := map[string]bool{"report-" + c.name + ".png": false}
		if c.screen {
			// And the findings, the first one open, for a reviewer to see
			// its evidence.
			shots["report-"+c.name+"-findings.png"] = false
		}
		for _, name := range []string{"report-" + c.name + ".png", "report-" + c.name + "-findings.png"} {
			full, ok := shots[name]
			if !ok {
				continue
			}
			if strings.HasSuffix(name, "-findings.png") {
				b.eval(t, `(() => { document.getElementById('findings-section').scrollIntoView(); return true; })()`, new(bool))
			}
			p := filepath.Join(out, name)
			if err := os.WriteFile(p, b.screenshot(t, full), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("screenshot: %s", p)
		}
	}
}

// TestDemoReportsNameWhatWasRead checks the demo's reports as a newcomer
// sees them: targets by the names the demo gives them, the KVM estate at
// the path it was read from next to the reports (not a temporary
// directory that is gone when the reader looks), and a STIG Viewer
// checklist per vSphere asset in cklb/.
func TestDemoReportsNameWhatWasRead(t *testing.T) {
	dir := demoReports(t)
	run := readRun(t, filepath.Join(dir, "report.json"))
	page, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, tr := range run.Targets {
		names[tr.Name] = tr.URI
	}
	if _, ok := names["vcsa-demo"]; !ok {
		t.Errorf("targets %v lack vcsa-demo", names)
	}
	if uri, ok := names["kvm-demo"]; ok {
		want := "test://" + filepath.ToSlash(filepath.Join(dir, "kvm-estate", "node.xml")) + "?hvaudit_rw=1"
		if uri != want {
			t.Errorf("kvm-demo read from %s, want %s", uri, want)
		}
		if _, err := os.Stat(filepath.Join(dir, "kvm-estate", "node.xml")); err != nil {
			t.Errorf("the KVM estate the report names is not there: %v", err)
		}
	} else {
		t.Log("libvirt's client library is missing: the demo audited vSphere only")
	}
	if strings.Contains(string(page), "hvaudit-demo-kvm-") {
		t.Error("the HTML report still shows a temporary path")
	}
	for _, name := range []string{"vcsa-demo", "kvm-demo"} {
		if _, ok := names[name]; ok && !strings.Contains(string(page), "<strong>"+name+"</strong>") {
			t.Errorf("the targets table does not name %s", name)
		}
	}
	entries, err := os.ReadDir(filepath.Join(dir, "cklb"))
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range entries {
		files = append(files, e.Name())
	}
	want := []string{"app-01.cklb", "db-01.cklb", "esx-legacy-01.cklb", "esx-prod-01.cklb", "esx-prod-02.cklb",
		"jump-01.cklb", "tmpl-rhel9.cklb", "vcsa-demo.cklb", "web-01.cklb", "web-02.cklb"}
	if strings.Join(files, " ") != strings.Join(want, " ") {
		t.Errorf("hvaudit-demo/cklb holds %v, want %v (no KVM checklist: DISA has no KVM STIG)", files, want)
	}
}
