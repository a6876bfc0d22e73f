package collectors

import (
	"encoding/json"
	"errors"
	"io"
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

// streamFixture is LiveData that streams, one VM at a time.
type streamFixture struct {
	liveFixture
	failAt int // write an error at this VM (1-based); 0: never
}

func (s *streamFixture) WriteData(w io.Writer) error {
	io.WriteString(w, "[")
	for i, vm := range s.VMs {
		if s.failAt == i+1 {
			return errors.New("disk full")
		}
		if i > 0 {
			io.WriteString(w, ",")
		}
		b, _ := json.Marshal(vm)
		w.Write(b)
	}
	_, err := io.WriteString(w, "]")
	return err
}

// TestWriteJSONStreamsData: streamed and encoded snapshots read back to
// the same data and envelope; a snapshot whose data is already encoded,
// or is not a DataWriter, is written as a whole; a stream that fails
// fails the write, naming the platform.
func TestWriteJSONStreamsData(t *testing.T) {
	for name, data := range map[string]any{
		"streamed": &streamFixture{liveFixture: liveFixture{VMs: []string{"web-01", `"db"-01`, "app\n01"}}},
		"encoded":  &liveFixture{VMs: []string{"web-01", `"db"-01`, "app\n01"}},
		"plain":    []string{"web-01", `"db"-01`, "app\n01"},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := NewSnapshot("esxi", SnapshotTarget{Name: `vc "01"`}, data, 3, nil)
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			if err := s.WriteJSON(&out); err != nil {
				t.Fatal(err)
			}
			if sf, ok := data.(*streamFixture); ok && (sf.encoded != 0 || len(s.Data) != 0) {
				t.Fatalf("a DataWriter was encoded whole (%d times, %d bytes kept) instead of streamed", sf.encoded, len(s.Data))
			}
			back, err := DecodeSnapshot([]byte(out.String()))
			if err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			var vms []string
			if err := json.Unmarshal(back.Data, &vms); err != nil || len(vms) != 3 || vms[2] != "app\n01" {
				t.Fatalf("data read back: %v %q", err, back.Data)
			}
			if back.Target.Name != `vc "01"` || back.Stats.Calls != 3 || !strings.HasSuffix(out.String(), "}\n") {
				t.Fatalf("envelope read back: %+v\n%s", back, out.String())
			}
		})
	}
	s, _ := NewSnapshot("esxi", SnapshotTarget{}, &streamFixture{liveFixture: liveFixture{VMs: []string{"a", "b"}}, failAt: 2}, 0, nil)
	if err := s.WriteJSON(io.Discard); err == nil || !strings.Contains(err.Error(), "encoding the esxi snapshot data: disk full") {
		t.Fatalf("a failing stream: %v", err)
	}
}
