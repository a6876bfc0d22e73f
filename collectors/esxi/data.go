package esxi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/vmware/govmomi/vim25/types"
)

// Data is the snapshot's raw evidence: the ServiceContent's about info and
// every ObjectContent the property collector returned, exactly as returned
// (including MissingSet faults), in govmomi's own JSON form with type
// discriminators so interface-typed values survive a round trip.
type Data struct {
	About       types.AboutInfo       `json:"about"`
	RetrievedAt time.Time             `json:"retrievedAt"`
	Objects     []types.ObjectContent `json:"objects"`
}

func encodeData(d *Data) (json.RawMessage, error) {
	var buf bytes.Buffer
	if err := types.NewJSONEncoder(&buf).Encode(d); err != nil {
		return nil, fmt.Errorf("encoding vSphere data: %w", err)
	}
	return json.RawMessage(bytes.TrimSpace(buf.Bytes())), nil
}

func decodeData(raw []byte) (*Data, error) {
	var d Data
	if err := types.NewJSONDecoder(bytes.NewReader(raw)).Decode(&d); err != nil {
		return nil, fmt.Errorf("decoding vSphere snapshot data: %w", err)
	}
	return &d, nil
}
