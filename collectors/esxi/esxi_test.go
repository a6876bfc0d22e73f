package esxi

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/hvaudit/hvaudit/collectors"
	"github.com/hvaudit/hvaudit/collectors/esxi/esxisim"
	"github.com/hvaudit/hvaudit/collectors/inventory"
	"github.com/hvaudit/hvaudit/configs"
)

func startDemo(t *testing.T, o esxisim.Options) *esxisim.Sim {
	t.Helper()
	e, err := esxisim.LoadEstate(configs.Demo, "demo/vsphere.toml")
	if err != nil {
		t.Fatal(err)
	}
	sim, err := esxisim.Start(context.Background(), e, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	return sim
}

func target(sim *esxisim.Sim, tls collectors.TLSOptions) collectors.Target {
	return collectors.Target{Name: "vc", URI: "vsphere://" + sim.Username + "@" + sim.URL.Host, Password: collectors.NewSecret(sim.Password), TLS: tls, Timeout: time.Minute}
}

func fetchNormalize(t *testing.T, c *Collector, tg collectors.Target) (*collectors.Snapshot, *inventory.Inventory) {
	t.Helper()
	snap, err := c.Fetch(context.Background(), tg)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := c.Normalize(snap)
	if err != nil {
		t.Fatal(err)
	}
	return snap, inv
}

func TestFetchNormalizeDemoEstate(t *testing.T) {
	sim := startDemo(t, esxisim.Options{})
	c := New(Options{})
	snap, inv := fetchNormalize(t, c, target(sim, collectors.TLSOptions{Thumbprint: sim.Thumbprint}))
	b, _ := json.MarshalIndent(inv, "", " ")
	t.Logf("%s", b)
	_ = snap
}
