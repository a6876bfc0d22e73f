package hyperv

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/collectors"
	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// fixtureCases are the synthetic fixture cases under testdata/.
var fixtureCases = []string{"compliant", "mgmt-shared-vlan", "weak-vms", "credssp-migration", "ws2016-de-ps51", "ws2025-ps7-converged"}

// loadCase reads testdata/<name>/snapshot.json, checking it is marked synthetic.
func loadCase(t testing.TB, name string) *collectors.Snapshot {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name, "snapshot.json"))
	if err != nil {
		t.Fatal(err)
	}
	var mark struct {
		Synthetic *bool `json:"synthetic"`
	}
	if err := json.Unmarshal(b, &mark); err != nil || mark.Synthetic == nil || !*mark.Synthetic {
		t.Fatalf("%s: fixture is not marked \"synthetic\": true", name)
	}
	s, err := collectors.DecodeSnapshot(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return s
}

func loadData(t testing.TB, name string) *Data {
	t.Helper()
	var d Data
	if err := json.Unmarshal(loadCase(t, name).Data, &d); err != nil {
		t.Fatal(err)
	}
	return &d
}

func normalizeCase(t testing.TB, name string) *inventory.Inventory {
	t.Helper()
	inv, err := New().Normalize(loadCase(t, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return inv
}

func vmByName(t testing.TB, inv *inventory.Inventory, name string) inventory.VM {
	t.Helper()
	for _, v := range inv.VMs {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no VM %q", name)
	return inventory.VM{}
}

func netByName(t testing.TB, inv *inventory.Inventory, name string) inventory.Network {
	t.Helper()
	for _, n := range inv.Networks {
		if n.Name == name {
			return n
		}
	}
	t.Fatalf("no network %q", name)
	return inventory.Network{}
}

// gapFor returns the reason of the first gap on a field prefix for an object.
func gapFor(inv *inventory.Inventory, object, field string) string {
	for _, g := range inv.Gaps {
		if g.Object == object && strings.HasPrefix(g.Field, field) {
			return g.Reason
		}
	}
	return ""
}

func boolp(p *bool) string {
	if p == nil {
		return "nil"
	}
	if *p {
		return "true"
	}
	return "false"
}

func strp(p *string) string {
	if p == nil {
		return "nil"
	}
	return *p
}

func intp(p *int64) string {
	if p == nil {
		return "nil"
	}
	return itoa(*p)
}

func itoa(i int64) string {
	b, _ := json.Marshal(i)
	return string(b)
}

var inventoryForTest = inventory.Inventory{}
