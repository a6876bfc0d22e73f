package collectors

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// A snapshot built by NewSnapshot survives the file round trip through
// DecodeSnapshot whole, and its data reaches only its own platform.
func TestSnapshotEnvelopeRoundTrip(t *testing.T) {
	before := time.Now().UTC()
	target := SnapshotTarget{Name: "h1", URI: "test:///n.xml", Transport: inventory.Transport{TLSVerified: true, Method: "local"}}
	s, err := NewSnapshot("kvm", target, map[string]int{"domains": 2}, 7, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Schema != SnapshotSchema || s.Platform != "kvm" || s.Target != target || s.Stats != (Stats{Calls: 7}) ||
		string(s.Data) != `{"domains":2}` || s.Gaps == nil || len(s.Gaps) != 0 || s.CollectedAt.Before(before) || s.Tool != (Tool{}) {
		t.Fatalf("NewSnapshot: %+v", s)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeSnapshot(b)
	if err != nil {
		t.Fatal(err)
	}
	if rb, _ := json.Marshal(back); string(rb) != string(b) {
		t.Errorf("round trip changed the snapshot:\n%s\n%s", b, rb)
	}
	if d, err := back.DataFor("kvm"); err != nil || string(d) != `{"domains":2}` {
		t.Errorf("DataFor(kvm) = %s, %v", d, err)
	}
	if _, err := back.DataFor("esxi"); err == nil || err.Error() != `snapshot is for platform "kvm", not "esxi"` {
		t.Errorf("DataFor(esxi) err = %v", err)
	}
	var none *Snapshot
	if _, err := none.DataFor("kvm"); err == nil {
		t.Error("DataFor on no snapshot succeeded")
	}
	// Raw data is kept as it is, not encoded again.
	raw, err := NewSnapshot("esxi", target, json.RawMessage(`{"objects":[]}`), 1, []inventory.Gap{{Object: "vm:*", Field: "vm", Reason: "r"}})
	if err != nil || string(raw.Data) != `{"objects":[]}` || len(raw.Gaps) != 1 {
		t.Errorf("NewSnapshot(raw) = %+v, %v", raw, err)
	}
	if _, err := NewSnapshot("kvm", target, func() {}, 0, nil); err == nil || !strings.Contains(err.Error(), "kvm snapshot data") {
		t.Errorf("unencodable data: err %v", err)
	}
}

func TestDecodeSnapshotRefusesBadEnvelopes(t *testing.T) {
	for body, want := range map[string]string{
		`{"schema":"hvaudit/snapshot/v2","platform":"kvm","data":{}}`: `schema is "hvaudit/snapshot/v2", expected "hvaudit/snapshot/v1"`,
		`{"schema":"hvaudit/snapshot/v1","data":{}}`:                  "platform and data are required",
		`{"schema":"hvaudit/snapshot/v1","platform":"kvm"}`:           "platform and data are required",
		`{"schema":`: "unexpected end of JSON input",
	} {
		if _, err := DecodeSnapshot([]byte(body)); err == nil || err.Error() != want {
			t.Errorf("%s: err %v, want %q", body, err, want)
		}
	}
}
