package agent

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hvaudit/hvaudit/collectors"
	_ "github.com/hvaudit/hvaudit/collectors/all" // the cmd links the collectors; the tests here do the same
	"github.com/hvaudit/hvaudit/collectors/esxi/esxisim"
	"github.com/hvaudit/hvaudit/collectors/inventory"
	"github.com/hvaudit/hvaudit/configs"
)

// TestCollectStampsTheEnvelope: the collect step, not the collector, names
// the tool and its version, the target as configured, and how long the
// collection took; the collector's own part (platform, URI, calls) is kept.
func TestCollectStampsTheEnvelope(t *testing.T) {
	estate, err := esxisim.LoadEstate(configs.Demo, "demo/vsphere.toml")
	if err != nil {
		t.Fatal(err)
	}
	sim, err := esxisim.Start(context.Background(), estate, esxisim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	old := Version
	Version = "1.2.3-envelope"
	t.Cleanup(func() { Version = old })

	uri := "vsphere://" + sim.Username + "@" + sim.URL.Host
	tg := collectors.Target{Name: "vc-configured-name", URI: uri, Password: collectors.NewSecret(sim.Password),
		TLS: collectors.TLSOptions{Thumbprint: sim.Thumbprint}, Timeout: time.Minute}
	before := time.Now().UTC()
	snap, err := Collect(context.Background(), tg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if snap.Tool != (collectors.Tool{Name: "hvaudit", Version: "1.2.3-envelope"}) {
		t.Errorf("tool = %+v, want hvaudit 1.2.3-envelope", snap.Tool)
	}
	if snap.Schema != collectors.SnapshotSchema || snap.Platform != "esxi" || snap.Target.Name != "vc-configured-name" || snap.Target.URI != uri {
		t.Errorf("envelope schema %q platform %q target %+v", snap.Schema, snap.Platform, snap.Target)
	}
	if snap.CollectedAt.Before(before) || snap.CollectedAt.After(time.Now().UTC()) || snap.Gaps == nil {
		t.Errorf("collected_at %v (collection began %v), gaps %v", snap.CollectedAt, before, snap.Gaps)
	}
	if snap.Stats.Calls == 0 || snap.Stats.DurationMS <= 0 {
		t.Errorf("stats %+v: the collector counts calls, the collect step times them", snap.Stats)
	}
}

// reasonlessCollector records a gap without a reason, the collector bug
// inventory.Gaps.Add refuses by panicking.
type reasonlessCollector struct{}

func (reasonlessCollector) Platform() string { return "reasonless-test" }
func (reasonlessCollector) Fetch(context.Context, collectors.Target) (*collectors.Snapshot, error) {
	return nil, errors.New("unused")
}
func (reasonlessCollector) Normalize(*collectors.Snapshot) (*inventory.Inventory, error) {
	inv := &inventory.Inventory{Platform: "reasonless-test"}
	inv.Gaps.Add(inventory.KindVM, "1", "vm.nics", "")
	return inv, nil
}

func init() { collectors.Register(reasonlessCollector{}, "reasonless-test") }

// A gap without a reason fails its target, with the reason why, and the
// rest of the run goes on: from a snapshot file as on a live audit.
func TestReasonlessGapFailsItsTargetOnly(t *testing.T) {
	dir := t.TempDir()
	snap := filepath.Join(dir, "s.json")
	body := `{"schema":"hvaudit/snapshot/v1","platform":"reasonless-test","target":{"name":"bad","uri":"reasonless-test://x"},"data":{}}`
	if err := os.WriteFile(snap, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	run, err := Audit(context.Background(), Request{Snapshots: []string{snap, "../collectors/hyperv/testdata/compliant/snapshot.json"}, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Targets) != 2 {
		t.Fatalf("targets %+v", run.Targets)
	}
	for _, tr := range run.Targets {
		switch tr.Name {
		case "bad":
			if tr.Status != "error" || tr.Error != "normalizing reasonless-test data: the collector crashed: inventory: the gap on vm:1 vm.nics has no reason" {
				t.Errorf("bad target: %s %q", tr.Status, tr.Error)
			}
		default:
			if tr.Status != "ok" {
				t.Errorf("%s: %s %s", tr.Name, tr.Status, tr.Error)
			}
		}
	}
}

// Errors carry their cause (%w), so callers can test for it: a missing
// file stays fs.ErrNotExist through the message that names it.
func TestErrorsKeepTheirCause(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "absent.json")
	_, err := ReadSnapshot(missing)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "absent.json") {
		t.Errorf("ReadSnapshot: %v", err)
	}
	_, err = LoadConfig(missing)
	var ce *ConfigError
	if !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &ce) {
		t.Errorf("LoadConfig: %v", err)
	}
	_, err = Audit(context.Background(), Request{Snapshots: []string{missing}, Log: zerolog.Nop()})
	if !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &ce) {
		t.Errorf("Audit --snapshot: %v", err)
	}
}
