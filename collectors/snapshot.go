package collectors

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// SnapshotSchema is the snapshot file's schema id (DESIGN.md §1, contract).
const SnapshotSchema = "hvaudit/snapshot/v1"

// Snapshot is the raw evidence one Fetch read. Data is the platform's own
// shape; it never holds a secret. NewSnapshot builds one and
// DecodeSnapshot reads one back: nothing else fills the envelope, except
// the agent's collect step, which owns the tool's identity and the timing.
type Snapshot struct {
	Schema      string          `json:"schema"`
	Tool        Tool            `json:"tool"`
	Platform    string          `json:"platform"`
	Target      SnapshotTarget  `json:"target"`
	CollectedAt time.Time       `json:"collected_at"`
	Gaps        inventory.Gaps  `json:"gaps"`
	Data        json.RawMessage `json:"data"`
	// Stats describe the collection itself; kept so a re-audit of a saved
	// snapshot still reports what the live run cost.
	Stats Stats `json:"collector"`

	// live is what Fetch read, kept in memory when it is LiveData: a live
	// audit normalizes it as it is, and Data is encoded from it only when
	// the snapshot is written.
	live LiveData
}

// LiveData is snapshot data big enough that encoding it, and decoding it
// again for Normalize, would cost an audit more than reading it did (a
// vCenter's objects: seconds and hundreds of megabytes at 10,000 VMs).
// NewSnapshot keeps it in memory instead of encoding it; EncodeData gives
// the exact JSON a snapshot file holds, so a saved snapshot normalizes to
// what the live audit did.
type LiveData interface {
	EncodeData() (json.RawMessage, error)
}

// DataWriter is LiveData that can also stream its encoding: a snapshot
// file of a large estate is then written without ever holding its encoded
// data in memory. WriteData writes JSON equivalent to EncodeData's.
type DataWriter interface {
	LiveData
	WriteData(w io.Writer) error
}

// Live returns the data Fetch read when it is still in memory (a live
// audit), or nil (a snapshot read from a file, or data NewSnapshot encoded
// at once). Normalize may use it instead of decoding Data.
func (s *Snapshot) Live() any {
	if s == nil || s.live == nil {
		return nil
	}
	return s.live
}

// Encode fills Data from the in-memory data, if it is not filled yet.
func (s *Snapshot) Encode() error {
	if len(s.Data) > 0 || s.live == nil {
		return nil
	}
	raw, err := s.live.EncodeData()
	if err != nil {
		return fmt.Errorf("encoding the %s snapshot data: %w", s.Platform, err)
	}
	s.Data = raw
	return nil
}

// MarshalJSON writes the snapshot file's form, encoding in-memory data
// first: whoever writes a snapshot gets its data, however it was built.
func (s *Snapshot) MarshalJSON() ([]byte, error) {
	if err := s.Encode(); err != nil {
		return nil, err
	}
	type file Snapshot // the same fields, without this method
	return json.Marshal((*file)(s))
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

// NewSnapshot wraps what one Fetch read in the snapshot envelope, stamped
// with the time now: data is the platform's raw shape (JSON-encoded here
// unless it already is a json.RawMessage, kept in memory when it is
// LiveData), calls the API round trips the
// collector made, gaps what it could not read (Fetch records few; most
// gaps are found by Normalize). The tool's identity and the duration are
// left to the agent's collect step, which alone knows them.
func NewSnapshot(platform string, target SnapshotTarget, data any, calls int, gaps inventory.Gaps) (*Snapshot, error) {
	live, isLive := data.(LiveData)
	raw, ok := data.(json.RawMessage)
	if !ok && !isLive {
		var err error
		if raw, err = json.Marshal(data); err != nil {
			return nil, fmt.Errorf("encoding the %s snapshot data: %w", platform, err)
		}
	}
	if gaps == nil {
		gaps = inventory.Gaps{}
	}
	return &Snapshot{
		Schema:      SnapshotSchema,
		Platform:    platform,
		Target:      target,
		CollectedAt: time.Now().UTC(),
		Gaps:        gaps,
		Data:        raw,
		Stats:       Stats{Calls: calls},
		live:        live,
	}, nil
}

// WriteJSON writes the snapshot file: the envelope indented, the data as
// the collector encodes it. In-memory data that is a DataWriter is
// streamed into its place; other data is encoded first (Encode).
func (s *Snapshot) WriteJSON(w io.Writer) error {
	dw, streams := s.live.(DataWriter)
	if len(s.Data) > 0 || !streams {
		if err := s.Encode(); err != nil {
			return err
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	// The envelope with empty data, then the data spliced in where it
	// stands: a string cannot hold these bytes (its quotes are escaped).
	env := *s
	env.live, env.Data = nil, json.RawMessage("null")
	head, err := json.MarshalIndent(&env, "", "  ")
	if err != nil {
		return err
	}
	before, after, ok := bytes.Cut(head, []byte(dataSplice))
	if !ok {
		return errors.New("encoding the snapshot: the envelope has no data field")
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.Write(before)
	bw.WriteString(dataOpen)
	if err := dw.WriteData(bw); err != nil {
		return fmt.Errorf("encoding the %s snapshot data: %w", s.Platform, err)
	}
	bw.Write(after)
	bw.WriteByte('\n')
	return bw.Flush()
}

const (
	dataSplice = "\n  \"data\": null"
	dataOpen   = "\n  \"data\": "
)

// DecodeSnapshot reads a snapshot file's content and checks its envelope:
// the schema this build reads, a platform and data. The data itself is
// the platform collector's to decode (Snapshot.DataFor).
func DecodeSnapshot(b []byte) (*Snapshot, error) {
	var s Snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	if s.Schema != SnapshotSchema {
		return nil, fmt.Errorf("schema is %q, expected %q", s.Schema, SnapshotSchema)
	}
	if s.Platform == "" || len(s.Data) == 0 {
		return nil, errors.New("platform and data are required")
	}
	return &s, nil
}

// DataFor returns the snapshot's raw data for a collector's Normalize,
// after checking the snapshot is that platform's.
func (s *Snapshot) DataFor(platform string) (json.RawMessage, error) {
	if s == nil {
		return nil, errors.New("no snapshot")
	}
	if s.Platform != platform {
		return nil, fmt.Errorf("snapshot is for platform %q, not %q", s.Platform, platform)
	}
	if err := s.Encode(); err != nil {
		return nil, err
	}
	return s.Data, nil
}
