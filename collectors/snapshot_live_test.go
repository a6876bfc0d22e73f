package collectors

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// liveFixture is LiveData that counts its encodings.
type liveFixture struct {
	VMs     []string
	encoded int
	fail    error
}

func (l *liveFixture) EncodeData() (json.RawMessage, error) {
	l.encoded++
	if l.fail != nil {
		return nil, l.fail
	}
	return json.Marshal(l.VMs)
}

// TestLiveDataIsEncodedOnlyWhenWritten: NewSnapshot keeps LiveData in
// memory unencoded; writing the snapshot (MarshalJSON) or asking for its
// raw data encodes it once, and the file reads back with the same data.
func TestLiveDataIsEncodedOnlyWhenWritten(t *testing.T) {
	live := &liveFixture{VMs: []string{"web-01", "db-01"}}
	s, err := NewSnapshot("esxi", SnapshotTarget{Name: "vc01"}, live, 7, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Live() != live || len(s.Data) != 0 || live.encoded != 0 {
		t.Fatalf("live %v, %d bytes of data, %d encodings: want the data in memory and nothing encoded", s.Live(), len(s.Data), live.encoded)
	}
	file, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DataFor("esxi"); err != nil || live.encoded != 1 {
		t.Fatalf("DataFor: %v after %d encodings, want the data encoded once", err, live.encoded)
	}
	back, err := DecodeSnapshot(file)
	if err != nil {
		t.Fatal(err)
	}
	if string(back.Data) != `["web-01","db-01"]` || back.Live() != nil || back.Stats.Calls != 7 {
		t.Fatalf("read back: data %s, live %v, %d calls", back.Data, back.Live(), back.Stats.Calls)
	}

	// Data that is not LiveData is encoded at once, as before.
	plain, err := NewSnapshot("kvm", SnapshotTarget{}, map[string]int{"domains": 2}, 1, inventory.Gaps{})
	if err != nil || string(plain.Data) != `{"domains":2}` || plain.Live() != nil {
		t.Fatalf("plain data: %v, %s, live %v", err, plain.Data, plain.Live())
	}
}

// TestLiveDataEncodingFailureNamesThePlatform: a snapshot whose data cannot
// be encoded is not written at all, and the error says whose data it was.
func TestLiveDataEncodingFailureNamesThePlatform(t *testing.T) {
	s, err := NewSnapshot("esxi", SnapshotTarget{}, &liveFixture{fail: errors.New("unsupported value")}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := json.Marshal(s); err == nil || !strings.Contains(err.Error(), "encoding the esxi snapshot data: unsupported value") {
		t.Fatalf("marshal gave %d bytes, err %v", len(b), err)
	}
}
