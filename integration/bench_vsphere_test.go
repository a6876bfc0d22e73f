//go:build linux

package integration

// The vSphere scale benchmarks. hvaudit audits simulated vCenters that
// esxisim serves from a process of its own, so the audit's time and memory
// are its own; it runs as the built binary, and the kernel reports the
// child's peak RSS (getrusage ru_maxrss). Beside it, in the same run and
// against the same simulator, the benchmark measures:
//
//   - the floor: the least any tool can do to read the VM properties an
//     audit reads (log in, one container view, paged RetrievePropertiesEx,
//     log out), as `govc object.collect` would;
//   - per-object fetching: the same properties one VM at a time, as
//     scripts built on PowerCLI's Get-View or govc per object do.
//
// The machine's load average is logged before and after each, since the
// figures mean little without it.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/hvaudit/hvaudit/collectors"
	"github.com/hvaudit/hvaudit/collectors/esxi"
)

// benchPageSize is the page size of the floor and per-object listings, the
// collector's own default.
const benchPageSize = 1000

// BenchmarkVSphereScale audits a 20-host / 2,000-VM and a 100-host /
// 10,000-VM vCenter (HVAUDIT_BENCH_SIZES="20x2000,100x10000") and reports
// the audit's wall time against the floor's and per-object fetching's,
// its peak RSS and its round trips.
func BenchmarkVSphereScale(b *testing.B) {
	for _, s := range benchSizes(b, "HVAUDIT_BENCH_SIZES", "20x2000,100x10000") {
		b.Run(fmt.Sprintf("hosts=%d/vms=%d", s.hosts, s.vms), func(b *testing.B) {
			benchVSphere(b, s, 0)
		})
	}
}

// BenchmarkVSphereLatency is BenchmarkVSphereScale with 30 ms added to
// every SOAP call (the simulator's method delay), as a vCenter across a
// WAN answers: round trips in sequence, not bytes, then set the time.
func BenchmarkVSphereLatency(b *testing.B) {
	for _, s := range benchSizes(b, "HVAUDIT_BENCH_LATENCY_SIZES", "20x2000") {
		b.Run(fmt.Sprintf("hosts=%d/vms=%d/delay=30ms", s.hosts, s.vms), func(b *testing.B) {
			benchVSphere(b, s, 30*time.Millisecond)
		})
	}
}

// BenchmarkVSphereFleet audits 50 small simulated vCenters, each answering
// every call 30 ms late, in one run with --concurrency 50, beside an audit
// of one of them alone: bounded concurrency should make the fleet cost
// about its slowest target, not the sum. (Without the injected latency,
// 50 simulators on a few cores are CPU-bound and show nothing about
// concurrency.)
func BenchmarkVSphereFleet(b *testing.B) {
	n := envInt("HVAUDIT_BENCH_FLEET", 50)
	s := benchSize{hosts: 2, vms: 40}
	sim := startSimProcess(b, s, n, 30*time.Millisecond)
	dir := b.TempDir()
	cfg := filepath.Join(dir, "fleet.toml")
	var conf strings.Builder
	var env []string
	for i, ep := range sim.endpoints {
		fmt.Fprintf(&conf, "[[target]]\nname = \"vc%02d\"\nuri = \"vsphere://%s@%s\"\nthumbprint = \"%s\"\npassword_env = \"HVAUDIT_BENCH_PW_%d\"\n\n",
			i+1, ep.Username, ep.Host, ep.Thumbprint, i+1)
		env = append(env, fmt.Sprintf("HVAUDIT_BENCH_PW_%d=%s", i+1, ep.Password))
	}
	if err := os.WriteFile(cfg, []byte(conf.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		logLoad(b, "before")
		one := auditChild(b, sim.endpoints[0], dir, nil)
		all := runAudit(b, dir, env, "--config", cfg, "--concurrency", strconv.Itoa(n))
		if len(all.report.Targets) != n {
			b.Fatalf("the fleet audit reported %d targets, want %d", len(all.report.Targets), n)
		}
		var slowest, sum int64
		for _, t := range all.report.Targets {
			if t.Status != "ok" {
				b.Fatalf("target %s: %s %s", t.Name, t.Status, t.Error)
			}
			slowest = max(slowest, t.Collector.DurationMS)
			sum += t.Collector.DurationMS
		}
		logLoad(b, "after")
		b.ReportMetric(all.wall.Seconds(), "fleet-s")
		b.ReportMetric(one.wall.Seconds(), "one-target-s")
		b.ReportMetric(all.wall.Seconds()/one.wall.Seconds(), "fleet/one")
		b.ReportMetric(float64(slowest)/1000, "slowest-collect-s")
		b.ReportMetric(float64(sum)/1000, "sum-collect-s")
		b.ReportMetric(float64(all.maxRSSKiB)/1024, "fleet-peak-RSS-MiB")
		b.Logf("%d vCenters (%d hosts, %d VMs each, 30 ms per call): all at once %.2fs, one alone %.2fs (fleet/one %.2f); "+
			"in the fleet run the slowest collection took %.2fs, all collections together %.2fs; peak RSS %.0f MiB",
			n, s.hosts, s.vms, all.wall.Seconds(), one.wall.Seconds(), all.wall.Seconds()/one.wall.Seconds(),
			float64(slowest)/1000, float64(sum)/1000, float64(all.maxRSSKiB)/1024)
	}
}

// benchVSphere measures, against one simulated vCenter, the floor and the
// audit (alternately, HVAUDIT_BENCH_ROUNDS times each, best of each kept:
// the machine is shared) and per-object fetching once.
func benchVSphere(b *testing.B, s benchSize, delay time.Duration) {
	sim := startSimProcess(b, s, 1, delay)
	ep := sim.endpoints[0]
	vmPaths := esxi.Properties("VirtualMachine")
	rounds := envInt("HVAUDIT_BENCH_ROUNDS", 2)
	dir := b.TempDir()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		logLoad(b, "before")
		var floor collection
		var audit auditResult
		for r := 0; r < rounds; r++ {
			f, err := floorCollect(context.Background(), ep, "VirtualMachine", vmPaths)
			if err != nil {
				b.Fatal(err)
			}
			if f.objects != s.vms {
				b.Fatalf("the floor read %d VMs, want %d", f.objects, s.vms)
			}
			a := auditChild(b, ep, dir, &s)
			b.Logf("round %d: floor %.2fs, audit %.2fs, audit peak RSS %.0f MiB", r+1, f.wall.Seconds(), a.wall.Seconds(), float64(a.maxRSSKiB)/1024)
			if r == 0 || f.wall < floor.wall {
				floor = f
			}
			if r == 0 || a.wall < audit.wall {
				audit = a
			}
			audit.maxRSSKiB = max(audit.maxRSSKiB, a.maxRSSKiB)
		}
		per, err := perObjectCollect(context.Background(), ep, "VirtualMachine", vmPaths)
		if err != nil {
			b.Fatal(err)
		}
		if per.objects != s.vms {
			b.Fatalf("per-object fetching read %d VMs, want %d", per.objects, s.vms)
		}
		logLoad(b, "after")
		calls := audit.report.Targets[0].Collector.Calls
		collect := float64(audit.report.Targets[0].Collector.DurationMS) / 1000
		b.ReportMetric(floor.wall.Seconds(), "floor-s")
		b.ReportMetric(audit.wall.Seconds(), "audit-s")
		b.ReportMetric(per.wall.Seconds(), "per-object-s")
		b.ReportMetric(audit.wall.Seconds()/floor.wall.Seconds(), "audit/floor")
		b.ReportMetric(audit.wall.Seconds()/per.wall.Seconds(), "audit/per-object")
		b.ReportMetric(float64(audit.maxRSSKiB)/1024, "audit-peak-RSS-MiB")
		b.ReportMetric(collect, "audit-collect-s")
		b.ReportMetric(float64(calls), "audit-round-trips")
		b.ReportMetric(float64(floor.calls), "floor-round-trips")
		b.ReportMetric(float64(per.calls), "per-object-round-trips")
		b.ReportMetric(float64(len(audit.report.Findings)), "findings")
		b.Logf("%d hosts, %d VMs, %s per call: floor %.2fs (%d round trips) | audit %.2fs = %.2f× floor (its collection %.2fs), %d round trips, peak RSS %.0f MiB, %d findings | "+
			"per-object %.2fs (%d round trips): audit = %.3f× per-object",
			s.hosts, s.vms, delay, floor.wall.Seconds(), floor.calls, audit.wall.Seconds(), audit.wall.Seconds()/floor.wall.Seconds(), collect, calls,
			float64(audit.maxRSSKiB)/1024, len(audit.report.Findings), per.wall.Seconds(), per.calls, audit.wall.Seconds()/per.wall.Seconds())
	}
}

type benchSize struct{ hosts, vms int }

// benchSizes reads "HOSTSxVMS,…" from the environment variable, else def.
func benchSizes(b *testing.B, env, def string) []benchSize {
	spec := os.Getenv(env)
	if spec == "" {
		spec = def
	}
	var out []benchSize
	for _, f := range strings.Split(spec, ",") {
		h, v, ok := strings.Cut(strings.TrimSpace(f), "x")
		hosts, err1 := strconv.Atoi(h)
		vms, err2 := strconv.Atoi(v)
		if !ok || err1 != nil || err2 != nil || hosts < 1 || vms < 1 {
			b.Fatalf("%s: %q is not HOSTSxVMS", env, f)
		}
		out = append(out, benchSize{hosts, vms})
	}
	return out
}

// logLoad logs the machine's load average: on a shared machine the
// figures mean little without it.
func logLoad(b *testing.B, when string) {
	if l, err := os.ReadFile("/proc/loadavg"); err == nil {
		b.Logf("load average %s: %s", when, strings.Join(strings.Fields(string(l))[:3], " "))
	}
}

// simEndpoint is one line of esxisim's output.
type simEndpoint struct {
	URL        string `json:"url"`
	Host       string `json:"host"`
	Username   string `json:"username"`
	Password   string `json:"password"`
	Thumbprint string `json:"thumbprint"`
	SetupMS    int64  `json:"setup_ms"`
}

// esxisimBinary builds the simulator command once, beside hvaudit.
var esxisimBinary = sync.OnceValues(func() (string, error) {
	bin := filepath.Join(filepath.Dir(binary), "esxisim")
	build := exec.Command("go", "build", "-o", bin, "./collectors/esxi/esxisim/cmd/esxisim")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building esxisim: %v\n%s", err, out)
	}
	return bin, nil
})

type simProcess struct{ endpoints []simEndpoint }

// startSimProcess starts esxisim serving count vCenters of size s and
// waits until they listen; closing its standard input at cleanup stops it.
func startSimProcess(b *testing.B, s benchSize, count int, delay time.Duration) *simProcess {
	b.Helper()
	bin, err := esxisimBinary()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, "-hosts", strconv.Itoa(s.hosts), "-vms", strconv.Itoa(s.vms),
		"-count", strconv.Itoa(count), "-delay", delay.String())
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(time.Minute):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	p := &simProcess{}
	sc := bufio.NewScanner(stdout)
	for len(p.endpoints) < count && sc.Scan() {
		var ep simEndpoint
		if err := json.Unmarshal(sc.Bytes(), &ep); err != nil {
			b.Fatalf("esxisim said %q: %v", sc.Text(), err)
		}
		p.endpoints = append(p.endpoints, ep)
	}
	if len(p.endpoints) < count {
		b.Fatalf("esxisim stopped after %d of %d vCenters: %v", len(p.endpoints), count, sc.Err())
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	b.Logf("esxisim: %d vCenter(s) of %d hosts and %d VMs ready in %s (in process %d)",
		count, s.hosts, s.vms, time.Since(start).Round(time.Second), cmd.Process.Pid)
	return p
}

// collection is what one read of a simulated vCenter cost.
type collection struct {
	wall           time.Duration
	calls, objects int
}

// countingRT counts round trips.
type countingRT struct {
	soap.RoundTripper
	n atomic.Int64
}

func (c *countingRT) RoundTrip(ctx context.Context, req, res soap.HasFault) error {
	c.n.Add(1)
	return c.RoundTripper.RoundTrip(ctx, req, res)
}

// benchSession logs in to ep with a verified (pinned) connection and
// returns the client, its call counter (the login counted) and a logout.
func benchSession(ctx context.Context, ep simEndpoint) (*vim25.Client, *countingRT, func(), error) {
	u := &url.URL{Scheme: "https", Host: ep.Host, Path: "/sdk"}
	sc := soap.NewClient(u, false)
	sc.SetThumbprint(ep.Host, collectors.ColonHex(collectors.NormalizeThumbprint(ep.Thumbprint)))
	vc, err := vim25.NewClient(ctx, sc)
	if err != nil {
		return nil, nil, nil, err
	}
	cnt := &countingRT{RoundTripper: vc.RoundTripper}
	cnt.n.Add(1) // RetrieveServiceContent
	vc.RoundTripper = cnt
	sm := session.NewManager(vc)
	if err := sm.Login(ctx, url.UserPassword(ep.Username, ep.Password)); err != nil {
		return nil, nil, nil, err
	}
	return vc, cnt, func() { _ = sm.Logout(ctx) }, nil
}

// floorCollect reads paths of every object of type typ the way the least
// any tool can: one container view, RetrievePropertiesEx pages of 1,000,
// nothing kept. It is the floor an audit is measured against.
func floorCollect(ctx context.Context, ep simEndpoint, typ string, paths []string) (collection, error) {
	start := time.Now()
	vc, cnt, logout, err := benchSession(ctx, ep)
	if err != nil {
		return collection{}, err
	}
	v, err := view.NewManager(vc).CreateContainerView(ctx, vc.ServiceContent.RootFolder, []string{typ}, true)
	if err != nil {
		return collection{}, err
	}
	spec := types.PropertyFilterSpec{
		ObjectSet: []types.ObjectSpec{{Obj: v.Reference(), Skip: types.NewBool(true),
			SelectSet: []types.BaseSelectionSpec{&types.TraversalSpec{Type: "ContainerView", Path: "view"}}}},
		PropSet: []types.PropertySpec{{Type: typ, PathSet: paths}},
	}
	n, err := retrieveAll(ctx, vc, spec)
	if err != nil {
		return collection{}, err
	}
	_ = v.Destroy(ctx)
	logout()
	return collection{wall: time.Since(start), calls: int(cnt.n.Load()), objects: n}, nil
}

// perObjectCollect reads the same properties one object at a time: the
// objects are listed (one view, its references in pages), then each is
// read with a call of its own, in sequence, as a script's pipeline does.
func perObjectCollect(ctx context.Context, ep simEndpoint, typ string, paths []string) (collection, error) {
	start := time.Now()
	vc, cnt, logout, err := benchSession(ctx, ep)
	if err != nil {
		return collection{}, err
	}
	v, err := view.NewManager(vc).CreateContainerView(ctx, vc.ServiceContent.RootFolder, []string{typ}, true)
	if err != nil {
		return collection{}, err
	}
	refs, err := v.Find(ctx, []string{typ}, nil)
	if err != nil {
		return collection{}, err
	}
	_ = v.Destroy(ctx)
	read := 0
	for _, ref := range refs {
		n, err := retrieveAll(ctx, vc, types.PropertyFilterSpec{
			ObjectSet: []types.ObjectSpec{{Obj: ref}},
			PropSet:   []types.PropertySpec{{Type: typ, PathSet: paths}},
		})
		if err != nil {
			return collection{}, err
		}
		read += n
	}
	logout()
	return collection{wall: time.Since(start), calls: int(cnt.n.Load()), objects: read}, nil
}

// retrieveAll pages through a retrieval and counts the objects returned.
func retrieveAll(ctx context.Context, vc *vim25.Client, spec types.PropertyFilterSpec) (int, error) {
	pc := vc.ServiceContent.PropertyCollector
	res, err := methods.RetrievePropertiesEx(ctx, vc, &types.RetrievePropertiesEx{
		This: pc, SpecSet: []types.PropertyFilterSpec{spec}, Options: types.RetrieveOptions{MaxObjects: benchPageSize},
	})
	if err != nil || res.Returnval == nil {
		return 0, err
	}
	n, token := len(res.Returnval.Objects), res.Returnval.Token
	for token != "" {
		next, err := methods.ContinueRetrievePropertiesEx(ctx, vc, &types.ContinueRetrievePropertiesEx{This: pc, Token: token})
		if err != nil {
			return 0, err
		}
		n, token = n+len(next.Returnval.Objects), next.Returnval.Token
	}
	return n, nil
}

// auditResult is one run of `hvaudit audit` as a child process.
type auditResult struct {
	wall      time.Duration
	maxRSSKiB int64
	report    benchReport
}

// benchReport is the part of the JSON report the benchmarks read.
type benchReport struct {
	Targets []struct {
		Name      string `json:"name"`
		Status    string `json:"status"`
		Error     string `json:"error"`
		Collector struct {
			DurationMS int64 `json:"duration_ms"`
			Calls      int   `json:"calls"`
		} `json:"collector"`
	} `json:"targets"`
	Findings []struct {
		Object struct {
			Kind string `json:"kind"`
			ID   string `json:"id"`
		} `json:"object"`
	} `json:"findings"`
}

// auditChild audits ep with the built binary; when want is set, the audit
// must have read exactly that many hosts and VMs.
func auditChild(b *testing.B, ep simEndpoint, dir string, want *benchSize) auditResult {
	b.Helper()
	a := runAudit(b, dir, []string{"HVAUDIT_PASSWORD=" + ep.Password},
		"--target", "vsphere://"+ep.Username+"@"+ep.Host, "--thumbprint", ep.Thumbprint)
	if len(a.report.Targets) != 1 || a.report.Targets[0].Status != "ok" {
		b.Fatalf("audit failed: %+v", a.report.Targets)
	}
	if want != nil {
		hosts, vms := map[string]bool{}, map[string]bool{}
		for _, f := range a.report.Findings {
			switch f.Object.Kind {
			case "host":
				hosts[f.Object.ID] = true
			case "vm":
				vms[f.Object.ID] = true
			}
		}
		if len(hosts) != want.hosts || len(vms) != want.vms {
			b.Fatalf("the audit judged %d hosts and %d VMs, want %d and %d", len(hosts), len(vms), want.hosts, want.vms)
		}
	}
	return a
}

// runAudit runs `hvaudit audit ARGS --format json --output FILE` and
// measures its wall time and peak RSS (the kernel's ru_maxrss of the child).
func runAudit(b *testing.B, dir string, env []string, args ...string) auditResult {
	b.Helper()
	out := filepath.Join(dir, "report.json")
	args = append([]string{"audit", "--format", "json", "--output", out, "--fail-on", "none", "--log-level", "warn"}, args...)
	cmd := exec.Command(binary, args...)
	cmd.Env = append(slices.Clone(os.Environ()), env...)
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("hvaudit %s: %v", strings.Join(args, " "), err)
	}
	res := auditResult{wall: time.Since(start)}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.maxRSSKiB = ru.Maxrss // KiB on Linux
	}
	f, err := os.Open(out)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := json.NewDecoder(bufio.NewReader(f)).Decode(&res.report); err != nil {
		b.Fatalf("reading the report: %v", err)
	}
	return res
}
