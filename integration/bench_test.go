package integration

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hvaudit/hvaudit/agent"
	"github.com/hvaudit/hvaudit/collectors"
	"github.com/hvaudit/hvaudit/collectors/inventory"
	"github.com/hvaudit/hvaudit/collectors/libvirt"
)

// benchAudit collects t b.N times, normalizes and evaluates builtin:default,
// and reports collection time, normalize+evaluate time, API calls (named
// calls), findings and peak RSS; check asserts the inventory's size.
func benchAudit(b *testing.B, t collectors.Target, calls string, check func(*inventory.Inventory)) {
	judge, err := agent.LoadJudge(agent.Request{})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c0 := time.Now()
		snap, err := agent.Collect(context.Background(), t, nopLogger())
		if err != nil {
			b.Fatal(err)
		}
		collect := time.Since(c0)
		c, _ := collectors.ForPlatform(snap.Platform)
		e0 := time.Now()
		inv, err := c.Normalize(snap)
		if err != nil {
			b.Fatal(err)
		}
		findings := judge.Engine.Evaluate(t.Name, inv)
		eval := time.Since(e0)
		check(inv)
		b.ReportMetric(collect.Seconds(), "collect-s")
		b.ReportMetric(eval.Seconds(), "normalize+eval-s")
		b.ReportMetric(float64(snap.Stats.Calls), calls)
		b.ReportMetric(float64(len(findings)), "findings")
	}
	b.ReportMetric(peakRSSMiB(), "peak-RSS-MiB")
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// peakRSSMiB reads the process's high-water resident set (Linux VmHWM).
func peakRSSMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			f := strings.Fields(l)
			if len(f) >= 2 {
				kb, _ := strconv.ParseFloat(f[1], 64)
				return kb / 1024
			}
		}
	}
	return 0
}

func nopLogger() zerolog.Logger { return zerolog.Nop() }

// BenchmarkAuditKVM audits 2,000 libvirt test-driver domains end to end
// (collector through the real libvirt client library, engine) and reports
// collection and evaluation time, libvirt calls and peak memory. It needs
// Debian's libvirt0 (make deps).
func BenchmarkAuditKVM(b *testing.B) {
	if err := libvirt.New().Available(); err != nil {
		b.Skipf("libvirt client library: %v", err)
	}
	n := envInt("HVAUDIT_BENCH_DOMAINS", 2000)
	uri := writeKVMEstate(b, b.TempDir(), n)
	t := collectors.Target{Name: "bench-kvm", URI: uri, Timeout: 30 * time.Minute}
	benchAudit(b, t, "libvirt-calls", func(inv *inventory.Inventory) {
		if len(inv.VMs) != n {
			b.Fatalf("collected %d domains, want %d", len(inv.VMs), n)
		}
	})
}
