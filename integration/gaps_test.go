package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hvaudit/hvaudit/agent"
	"github.com/hvaudit/hvaudit/collectors"
	"github.com/hvaudit/hvaudit/collectors/esxi/esxisim"
	"github.com/hvaudit/hvaudit/collectors/inventory"
	"github.com/hvaudit/hvaudit/collectors/libvirt"
)

// noReason is what the engine says for an absent value no gap explains.
const noReason = "recorded no reason"

// TestEveryGapHasItsReason: in every collector's inventories (the ESXi
// simulator, libvirt's test driver with and without a host root,
// read-only and read-write, and every recorded Hyper-V snapshot), every
// gap has a reason, and no finding of builtin:default, nor its evidence
// (also where the check does not apply), meets an absent value that no gap
// explains.
func TestEveryGapHasItsReason(t *testing.T) {
	judge, err := agent.LoadJudge(agent.Request{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var invs []namedInv

	// ESXi: the demo vCenter and a standalone host.
	for _, opts := range []esxisim.Options{{}, {Standalone: true}} {
		sim := startSim(t, opts)
		tg := collectors.Target{Name: "esxi", URI: targetURI(sim), Password: collectors.NewSecret(sim.Password),
			TLS: collectors.TLSOptions{Thumbprint: sim.Thumbprint}, Timeout: time.Minute}
		invs = append(invs, collectAndNormalize(t, ctx, tg))
	}
	// libvirt: the collector's fixture estate through the test driver.
	node, err := filepath.Abs("../collectors/libvirt/testdata/node.xml")
	if err != nil {
		t.Fatal(err)
	}
	root, _ := filepath.Abs("../collectors/libvirt/testdata/hostroot")
	for _, tg := range []collectors.Target{
		{Name: "kvm-ro", URI: "test://" + node},
		{Name: "kvm-rw", URI: "test://" + node + "?" + libvirt.ReadWriteParam + "=1"},
		{Name: "kvm-ro-root", URI: "test://" + node, HostRoot: root},
		{Name: "kvm-rw-root", URI: "test://" + node + "?" + libvirt.ReadWriteParam + "=1", HostRoot: root},
	} {
		tg.Timeout = time.Minute
		if err := libvirt.New().Available(); err != nil {
			if os.Getenv("HVAUDIT_REQUIRE_LIBVIRT") == "" {
				t.Log("libvirt0 not installed: libvirt inventories skipped (HVAUDIT_REQUIRE_LIBVIRT=1 makes this a failure)")
				break
			}
			t.Fatal(err)
		}
		invs = append(invs, collectAndNormalize(t, ctx, tg))
	}
	// Hyper-V: every recorded snapshot.
	snaps, _ := filepath.Glob("../collectors/hyperv/testdata/*/snapshot.json")
	if len(snaps) == 0 {
		t.Fatal("no Hyper-V snapshots under collectors/hyperv/testdata")
	}
	for _, p := range snaps {
		invs = append(invs, normalizeSnapshotFile(t, p))
	}

	for _, ni := range invs {
		for _, g := range ni.inv.Gaps {
			if strings.TrimSpace(g.Reason) == "" {
				t.Errorf("%s: gap on %s %s has no reason", ni.name, g.Object, g.Field)
			}
		}
		for _, f := range judge.Engine.Evaluate(ni.name, ni.inv) {
			if strings.Contains(f.Message, noReason) {
				t.Errorf("%s: %s on %s: %s", ni.name, f.CheckID, f.Object.Name, f.Message)
			}
			for _, e := range f.Evidence {
				if s, ok := e.Observed.(string); ok && strings.Contains(s, noReason) {
					t.Errorf("%s: %s on %s: evidence %s: %s", ni.name, f.CheckID, f.Object.Name, e.Field, s)
				}
			}
		}
	}
	t.Logf("%d inventories checked", len(invs))
}

type namedInv struct {
	name string
	inv  *inventory.Inventory
}

func collectAndNormalize(t *testing.T, ctx context.Context, tg collectors.Target) namedInv {
	t.Helper()
	snap, err := agent.Collect(ctx, tg, nopLogger())
	if err != nil {
		t.Fatalf("%s: collect: %v", tg.Name, err)
	}
	c, err := collectors.ForPlatform(snap.Platform)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := c.Normalize(snap)
	if err != nil {
		t.Fatalf("%s: normalize: %v", tg.Name, err)
	}
	return namedInv{tg.Name, inv}
}

func normalizeSnapshotFile(t *testing.T, p string) namedInv {
	t.Helper()
	snap, err := agent.ReadSnapshot(p)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	c, err := collectors.ForPlatform(snap.Platform)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := c.Normalize(snap)
	if err != nil {
		t.Fatalf("%s: normalize: %v", p, err)
	}
	return namedInv{p, inv}
}
