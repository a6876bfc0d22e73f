package hyperv

import (
	"encoding/json"
	"os"
	"path/filepath"
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

var inventoryForTest = inventory.Inventory{}

func itoa(i int64) string {
	b, _ := json.Marshal(i)
	return string(b)
}
