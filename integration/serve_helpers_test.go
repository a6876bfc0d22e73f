package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/hvaudit/hvaudit/agent/history"
	"github.com/hvaudit/hvaudit/collectors/esxi/esxisim"
)

// serveConfig is what the serve tests vary in an agent config.
type serveConfig struct {
	listen, history, cron string
	webhookURL, secret    string // secret "" = no webhook_secret_file
	outputs               []string
	extra                 string // appended to [serve]
	targetTimeout         string // default 2m
	grace                 string // shutdown_grace, default 30s
	concurrency           int
	moreTargets           []string // more names for the same simulator, all in the schedule
}

// writeServeConfig writes an agent config for serve in dir, with the
// simulator as target vc01 and every file path relative to the config.
func writeServeConfig(t *testing.T, dir string, sim *esxisim.Sim, c serveConfig) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "vc01.password"), []byte(sim.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if c.grace == "" {
		c.grace = "30s"
	}
	if c.concurrency == 0 {
		c.concurrency = 4
	}
	fmt.Fprintf(&b, "log_format = \"json\"\nlog_level = \"info\"\nconcurrency = %d\n\n[serve]\nlisten = %q\nhistory = %q\nshutdown_grace = %q\nretention_days = 400\n",
		c.concurrency, c.listen, c.history, c.grace)
	if c.webhookURL != "" {
		fmt.Fprintf(&b, "webhook_url = %q\n", c.webhookURL)
	}
	if c.secret != "" {
		if err := os.WriteFile(filepath.Join(dir, "webhook.secret"), []byte(c.secret+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		b.WriteString("webhook_secret_file = \"webhook.secret\"\n")
	}
	b.WriteString(c.extra)
	names := append([]string{"vc01"}, c.moreTargets...)
	fmt.Fprintf(&b, "\n[[schedule]]\nname = \"test\"\ncron = %q\ntargets = [\"%s\"]\n", c.cron, strings.Join(names, `", "`))
	if c.targetTimeout == "" {
		c.targetTimeout = "2m"
	}
	for _, name := range names {
		fmt.Fprintf(&b, "\n[[target]]\nname = %q\nuri = %q\npassword_file = \"vc01.password\"\nthumbprint = %q\ntimeout = %q\n",
			name, targetURI(sim), sim.Thumbprint, c.targetTimeout)
	}
	for _, o := range c.outputs {
		format, path, _ := strings.Cut(o, "=")
		fmt.Fprintf(&b, "\n[[output]]\nformat = %q\npath = %q\n", format, path)
	}
	p := filepath.Join(dir, "agent.toml")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serveProc is a running `hvaudit serve`.
type serveProc struct {
	cmd  *exec.Cmd
	logs *lineLog
	done chan struct{}
	code int
}

// lineLog collects a process's log lines as they come.
type lineLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *lineLog) add(s string) {
	l.mu.Lock()
	l.lines = append(l.lines, s)
	l.mu.Unlock()
}

func (l *lineLog) snapshot() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// events returns the JSON log lines whose "event" field is ev.
func (l *lineLog) events(ev string) []map[string]any {
	var out []map[string]any
	for _, line := range l.snapshot() {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["event"] == ev {
			out = append(out, m)
		}
	}
	return out
}

func startServe(t *testing.T, config string, env ...string) *serveProc {
	t.Helper()
	cmd := exec.Command(binary, "serve", "--config", config)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProc{cmd: cmd, logs: &lineLog{}, done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			p.logs.add(sc.Text())
		}
		err := cmd.Wait()
		if ee, ok := err.(*exec.ExitError); ok {
			p.code = ee.ExitCode()
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("serve log (%s):\n%s", config, strings.Join(p.logs.snapshot(), "\n"))
		}
	})
	return p
}

// waitFor polls cond until it holds or the timeout passes.
func (p *serveProc) waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		select {
		case <-p.done:
			t.Fatalf("serve exited (code %d) while waiting for %s", p.code, what)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// runsLogged waits for n outcome lines.
func (p *serveProc) waitRuns(t *testing.T, n int, timeout time.Duration) {
	t.Helper()
	p.waitFor(t, fmt.Sprintf("%d finished runs", n), timeout, func() bool { return len(p.logs.events("run")) >= n })
}

// stop sends SIGTERM and returns the exit code.
func (p *serveProc) stop(t *testing.T, timeout time.Duration) int {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
		return p.code
	case <-time.After(timeout):
		t.Fatalf("serve did not exit within %s of SIGTERM", timeout)
	}
	return -1
}

// historyList runs `hvaudit history list --format json`.
func historyList(t *testing.T, hist string, env ...string) []history.Run {
	t.Helper()
	r := runHV(t, env, "history", "list", "--history", hist, "--format", "json")
	if r.code != 0 {
		t.Fatalf("history list: exit %d: %s", r.code, r.stderr)
	}
	var runs []history.Run
	if err := json.Unmarshal([]byte(r.stdout), &runs); err != nil {
		t.Fatalf("history list --format json is not a JSON array of runs: %v\n%s", err, r.stdout)
	}
	return runs
}

func httpGet(t *testing.T, u string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// scrape reads /metrics with Prometheus' own text parser.
func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	code, body := httpGet(t, base+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics does not parse as Prometheus text: %v", err)
	}
	return fams
}

// sample returns the value of the series with exactly these labels; ok is
// false when there is none.
func sample(fams map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	f, ok := fams[name]
	if !ok {
		return 0, false
	}
	for _, m := range f.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		match := true
		for _, l := range m.GetLabel() {
			if labels[l.GetName()] != l.GetValue() {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Untyped != nil:
			return m.GetUntyped().GetValue(), true
		}
	}
	return 0, false
}

// setMigrateEncryption changes a simulated VM's vMotion encryption through
// the vSphere API, as an administrator would.
func setMigrateEncryption(t *testing.T, sim *esxisim.Sim, vmName, mode string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	u := *sim.URL
	u.User = url.UserPassword(sim.Username, sim.Password)
	c, err := govmomi.NewClient(ctx, &u, true)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Logout(ctx) }()
	finder := find.NewFinder(c.Client, true)
	dc, err := finder.DefaultDatacenter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	finder.SetDatacenter(dc)
	vm, err := finder.VirtualMachine(ctx, vmName)
	if err != nil {
		t.Fatal(err)
	}
	task, err := vm.Reconfigure(ctx, types.VirtualMachineConfigSpec{MigrateEncryption: mode})
	if err != nil {
		t.Fatal(err)
	}
	if err := task.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}
