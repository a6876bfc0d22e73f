package integration

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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

	for _, u := range pageRequests(t, netlog) {
		t.Errorf("the report made a network request: %s", u)
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

// pageRequests lists the URLs the page itself asked for, from a Chromium
// net log.
func pageRequests(t *testing.T, path string) []string {
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
		if u == "" || strings.HasPrefix(u, "file:") || strings.HasPrefix(u, "data:") || !strings.HasPrefix(nik, "file://") || seen[u] {
			continue
		}
		seen[u] = true
		urls = append(urls, u)
	}
	return urls
}
