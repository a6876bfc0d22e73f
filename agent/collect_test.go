package agent

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hvaudit/hvaudit/collectors"
	_ "github.com/hvaudit/hvaudit/collectors/all" // the cmd links the collectors; the tests here do the same
	"github.com/hvaudit/hvaudit/collectors/esxi/esxisim"
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
