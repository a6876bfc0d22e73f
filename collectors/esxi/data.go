package esxi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/vmware/govmomi/vim25/types"

	"github.com/hvaudit/hvaudit/collectors"
)

// Data is the snapshot's raw evidence: the ServiceContent's about info and
// every ObjectContent the property collector returned, exactly as returned
// (including MissingSet faults), in govmomi's own JSON form with type
// discriminators so interface-typed values survive a round trip. An object
// the server refused as a whole (ManagedObjectNotFound, NoPermission) is
// recorded as an ObjectContent whose every requested property is missing
// with that fault.
type Data struct {
	About       types.AboutInfo       `json:"about"`
	RetrievedAt time.Time             `json:"retrievedAt"`
	Objects     []types.ObjectContent `json:"objects"`
	// Queries are the answers of read methods that have no property
	// (retrieve_security.go), one per object and method.
	Queries []Query `json:"queries,omitempty"`
	// Skipped are the properties not asked for because the server's API
	// release predates them or the server refused them as unknown.
	Skipped []SkippedProperty `json:"skipped,omitempty"`
	// Recovered says what went wrong during collection and was survived
	// (an expired session, a dropped connection): everything was read again.
	Recovered []string `json:"recovered,omitempty"`
}

// SkippedProperty is a property path hvaudit did not read, and why.
type SkippedProperty struct {
	Type   string `json:"type"`
	Path   string `json:"path"`
	Since  string `json:"since,omitempty"`
	Reason string `json:"reason"`
}

// EncodeData implements collectors.LiveData: a live audit normalizes Data
// as read, and it is encoded only when a snapshot is written.
func (d *Data) EncodeData() (json.RawMessage, error) { return encodeData(d) }

var _ collectors.DataWriter = (*Data)(nil)

// WriteData implements collectors.DataWriter: the same JSON as EncodeData,
// one object at a time, so saving a 10,000-VM snapshot never holds the
// encoded estate in memory.
func (d *Data) WriteData(w io.Writer) error {
	head := *d
	head.Objects = nil
	var buf bytes.Buffer
	enc := types.NewJSONEncoder(&buf)
	if err := enc.Encode(&head); err != nil {
		return err
	}
	// govmomi's encoder writes a nil slice as null; the objects go there.
	before, after, ok := bytes.Cut(bytes.TrimSpace(buf.Bytes()), []byte(`"objects":null`))
	if !ok {
		return fmt.Errorf("encoding vSphere data: no objects field in %.80s", buf.Bytes())
	}
	if _, err := w.Write(append(before, `"objects":[`...)); err != nil {
		return err
	}
	for i := range d.Objects {
		buf.Reset()
		if err := enc.Encode(&d.Objects[i]); err != nil {
			return fmt.Errorf("encoding vSphere data: object %d: %w", i, err)
		}
		obj := bytes.TrimSpace(buf.Bytes())
		if i > 0 {
			obj = append([]byte{','}, obj...)
		}
		if _, err := w.Write(obj); err != nil {
			return err
		}
	}
	if _, err := w.Write(append([]byte("]"), after...)); err != nil {
		return err
	}
	return nil
}

func encodeData(d *Data) (json.RawMessage, error) {
	var buf bytes.Buffer
	if err := types.NewJSONEncoder(&buf).Encode(d); err != nil {
		return nil, fmt.Errorf("encoding vSphere data: %w", err)
	}
	return json.RawMessage(bytes.TrimSpace(buf.Bytes())), nil
}

// decodeData reads the snapshot data back. govmomi's discriminator-aware
// decoder copies the rest of its input for every typed value, which grows
// with the square of the input: fed a 5,000-VM snapshot whole it runs for
// minutes and takes gigabytes. Splitting with the standard decoder first and
// decoding each object on its own keeps the cost linear.
func decodeData(raw []byte) (*Data, error) {
	var parts struct {
		About       json.RawMessage   `json:"about"`
		RetrievedAt time.Time         `json:"retrievedAt"`
		Objects     []json.RawMessage `json:"objects"`
		Queries     []Query           `json:"queries"`
		Skipped     []SkippedProperty `json:"skipped"`
		Recovered   []string          `json:"recovered"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return nil, fmt.Errorf("decoding vSphere snapshot data: %w", err)
	}
	d := &Data{RetrievedAt: parts.RetrievedAt, Objects: make([]types.ObjectContent, len(parts.Objects)),
		Queries: parts.Queries, Skipped: parts.Skipped, Recovered: parts.Recovered}
	if len(parts.About) > 0 {
		if err := types.NewJSONDecoder(bytes.NewReader(parts.About)).Decode(&d.About); err != nil {
			return nil, fmt.Errorf("decoding vSphere snapshot data: about: %w", err)
		}
	}
	for i, o := range parts.Objects {
		if err := types.NewJSONDecoder(bytes.NewReader(o)).Decode(&d.Objects[i]); err != nil {
			return nil, fmt.Errorf("decoding vSphere snapshot data: object %d: %w", i, err)
		}
	}
	return d, nil
}
