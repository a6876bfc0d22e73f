package collectors

import (
	"encoding/json"
	"time"

	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// SnapshotSchema is the snapshot file's schema id (DESIGN.md §1, contract).
const SnapshotSchema = "hvaudit/snapshot/v1"

// Snapshot is the raw evidence one Fetch read. Data is the platform's own
// shape; it never holds a secret.
type Snapshot struct {
	Schema      string          `json:"schema"`
	Tool        Tool            `json:"tool"`
	Platform    string          `json:"platform"`
	Target      SnapshotTarget  `json:"target"`
	CollectedAt time.Time       `json:"collected_at"`
	Gaps        []inventory.Gap `json:"gaps"`
	Data        json.RawMessage `json:"data"`
	// Stats describe the collection itself; kept so a re-audit of a saved
	// snapshot still reports what the live run cost.
	Stats Stats `json:"collector"`
}

// Tool names the program that wrote a snapshot.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// SnapshotTarget is the target as recorded: never a credential.
type SnapshotTarget struct {
	Name string `json:"name"`
	URI  string `json:"uri"`
	// Transport records how the target was reached (audit-transport checks).
	Transport inventory.Transport `json:"transport"`
}

// RecordedTransport is the snapshot's transport for the inventory: nil
// when the snapshot did not record one (a capture made by other tooling),
// so audit-transport checks end as error rather than guess.
func (t SnapshotTarget) RecordedTransport() *inventory.Transport {
	if t.Transport.Method == "" {
		return nil
	}
	tr := t.Transport
	return &tr
}

// Stats is what a collection cost.
type Stats struct {
	DurationMS int64 `json:"duration_ms"`
	// Calls counts API round trips (SOAP requests, libvirt calls, WQL queries).
	Calls int `json:"calls"`
}
