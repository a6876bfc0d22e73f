package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"

	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// jsonWriter writes the native report, hvaudit/report/v1 (DESIGN.md §6). It
// is the source of truth every other format is rendered from, so its output
// is deterministic: findings in the contract's order, maps with sorted keys
// (encoding/json sorts them), no empty slice written as null.
type jsonWriter struct{}

func (jsonWriter) Format() string { return "json" }

func (jsonWriter) Write(w io.Writer, run *Run) error {
	r, err := prepareEnvelope(run)
	if err != nil {
		return err
	}
	// The document is streamed: the envelope is encoded with an empty
	// findings array, and the findings are spliced in where it stands,
	// encoded in chunks on every core. The bytes are those of encoding the
	// whole document at once (golden files and signatures rely on that),
	// without ever holding it, or an indented copy of it, in memory.
	head, err := encodeIndented(r, "")
	if err != nil {
		return err
	}
	head = append(head, '\n') // as json.Encoder ends a document
	before, after, ok := bytes.Cut(head, []byte(findingsSplice))
	if !ok {
		return errors.New("report: the encoded envelope has no findings array")
	}
	if _, err := w.Write(before); err != nil {
		return err
	}
	order := sortedOrder(run.Findings)
	if len(order) == 0 {
		_, err := io.WriteString(w, findingsSplice)
		if err == nil {
			_, err = w.Write(after)
		}
		return err
	}
	if _, err := io.WriteString(w, findingsOpen); err != nil {
		return err
	}
	err = encodeChunks(w, len(order), func(buf *bytes.Buffer, i int) error {
		f, err := canonicalFinding(run.Findings[order[i]])
		if err != nil {
			return err
		}
		b, err := encodeIndented(f, findingIndent)
		if err != nil {
			return err
		}
		buf.WriteString(findingIndent)
		buf.Write(b)
		if i < len(order)-1 {
			buf.WriteByte(',')
		}
		buf.WriteByte('\n')
		return nil
	})
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, findingsClose); err != nil {
		return err
	}
	_, err = w.Write(after)
	return err
}

// Where the findings go in the envelope: an empty array at the document's
// first level. A string value cannot hold these bytes (its newlines and
// quotes are escaped), so the cut is unambiguous.
const (
	findingsSplice = "\n  \"findings\": []"
	findingsOpen   = "\n  \"findings\": [\n"
	findingsClose  = "  ]"
	findingIndent  = "    "
)

// encodeIndented is encoding/json's indented form of v as the report
// writes it (no HTML escaping), without the trailing newline, as it
// appears nested under prefix.
func encodeIndented(v any, prefix string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent(prefix, "  ")
	// Messages and expected values hold "<", ">" and "&" (comparisons,
	// XPaths); HTML escaping would only make the file harder to read and
	// changes nothing for JSON parsers.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// encodeChunks writes n items in order, each chunk of them encoded by one
// of GOMAXPROCS workers into its own buffer: the report's largest part
// costs a fraction of its serial time and a few chunks of memory.
func encodeChunks(w io.Writer, n int, encode func(buf *bytes.Buffer, i int) error) error {
	const chunk = 512
	type result struct {
		buf bytes.Buffer
		err error
	}
	chunks := (n + chunk - 1) / chunk
	workers := min(runtime.GOMAXPROCS(0), chunks)
	// Each chunk's result arrives on its own channel; the writer takes
	// them in order, and at most 2×workers chunks are held at once.
	pending := make(chan chan *result, 2*workers)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(pending)
		sem := make(chan struct{}, workers)
		for c := 0; c < chunks; c++ {
			out := make(chan *result, 1)
			select {
			case pending <- out:
			case <-stop:
				return
			}
			select {
			case sem <- struct{}{}:
			case <-stop:
				return
			}
			go func(c int) {
				defer func() { <-sem }()
				r := &result{}
				for i := c * chunk; i < min(n, (c+1)*chunk) && r.err == nil; i++ {
					r.err = encode(&r.buf, i)
				}
				out <- r
			}(c)
		}
	}()
	for out := range pending {
		r := <-out
		if r.err != nil {
			return r.err
		}
		if _, err := w.Write(r.buf.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// prepare returns a copy of run in the contract's canonical form, leaving
// the caller's Run untouched: schema set, findings sorted, nil slices and
// maps replaced by empty ones so the document always has the arrays and
// objects the schema requires. Writers render the prepared copy, so every
// format agrees on order.
func prepare(run *Run) (*Run, error) {
	r, err := prepareEnvelope(run)
	if err != nil {
		return nil, err
	}
	order := sortedOrder(run.Findings)
	r.Findings = make([]findings.Finding, len(order))
	for i, k := range order {
		if r.Findings[i], err = canonicalFinding(run.Findings[k]); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// prepareEnvelope is prepare without the findings: r.Findings is empty.
func prepareEnvelope(run *Run) (*Run, error) {
	if run == nil {
		return nil, errors.New("report: no run to write")
	}
	r := *run
	switch r.Schema {
	case "":
		r.Schema = Schema
	case Schema:
	default:
		return nil, fmt.Errorf("report: run has schema %q; this writer writes %q", r.Schema, Schema)
	}

	r.Targets = make([]TargetResult, len(run.Targets))
	copy(r.Targets, run.Targets)
	// The engine lists targets by name; sorting here too keeps output
	// stable whoever built the Run.
	slices.SortStableFunc(r.Targets, func(a, b TargetResult) int { return strings.Compare(a.Name, b.Name) })
	for i := range r.Targets {
		if r.Targets[i].Gaps == nil {
			r.Targets[i].Gaps = []inventory.Gap{}
		}
	}
	r.Findings = []findings.Finding{}

	if r.Summary.ByTarget == nil {
		r.Summary.ByTarget = map[string]findings.Score{}
	}
	if r.Summary.ByArea == nil {
		r.Summary.ByArea = map[string]findings.Score{}
	}
	if r.Summary.BySeverity == nil {
		r.Summary.BySeverity = map[string]findings.Score{}
	}
	if r.Summary.ByThreat == nil {
		// A report written before threats existed has none to list.
		r.Summary.ByThreat = map[string]findings.Score{}
	}
	return &r, nil
}

// canonicalFinding is f as writers render it: evidence never null, and
// each observed value in its canonical form, on a copy of the evidence.
func canonicalFinding(f findings.Finding) (findings.Finding, error) {
	if f.Evidence == nil {
		f.Evidence = []findings.Evidence{}
		return f, nil
	}
	ev := make([]findings.Evidence, len(f.Evidence))
	copy(ev, f.Evidence)
	for j := range ev {
		o, err := canonicalObserved(ev[j].Observed)
		if err != nil {
			return f, fmt.Errorf("report: evidence %s of %s: %w", ev[j].Field, f.CheckID, err)
		}
		ev[j].Observed = o
	}
	f.Evidence = ev
	return f, nil
}

// canonicalObserved gives an observed value the form it has after a JSON
// round trip (structs become objects with sorted keys), so a run rendered
// live and the same run read back with ReadRun render to the same bytes:
// signatures and diffs of re-rendered reports stay meaningful.
func canonicalObserved(v any) (any, error) {
	switch v.(type) {
	case nil, string, bool, int, int64, float64, json.Number:
		return v, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	return out, nil
}

// sortedOrder returns the indexes of fs in the contract's order: target,
// object kind, object name, check id (DESIGN.md §6). The engine sorts too;
// sorting again here is defensive, because golden files, diff and
// signatures break on any other order. Object id breaks the remaining ties
// (two VMs may share a name in different datacenters) so the order is total.
// Sorting indexes leaves the findings where they are: no copy of them.
func sortedOrder(fs []findings.Finding) []int {
	order := make([]int, len(fs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return compareFindings(&fs[a], &fs[b]) })
	return order
}

func compareFindings(a, b *findings.Finding) int {
	if c := strings.Compare(a.Target, b.Target); c != 0 {
		return c
	}
	if c := strings.Compare(a.Object.Kind, b.Object.Kind); c != 0 {
		return c
	}
	if c := strings.Compare(a.Object.Name, b.Object.Name); c != 0 {
		return c
	}
	if c := strings.Compare(a.CheckID, b.CheckID); c != 0 {
		return c
	}
	return strings.Compare(a.Object.ID, b.Object.ID)
}

// ReadRun reads a JSON report (for `hvaudit report --from`, `diff`,
// `verify`). It checks, in order, that the input is JSON, that it declares
// the hvaudit/report/v1 schema, and that it validates against that schema,
// and says which of these failed: a snapshot passed by mistake, a report
// from a newer hvaudit and a hand-edited status each get their own message.
func ReadRun(r io.Reader) (*Run, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading report: %w", err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("report is empty")
	}
	var head struct {
		Schema *string `json:"schema"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, describeJSONError(data, err)
	}
	switch {
	case head.Schema == nil:
		return nil, fmt.Errorf("not an hvaudit report: it has no \"schema\" field (expected %q)", Schema)
	case *head.Schema == Schema:
	case strings.HasPrefix(*head.Schema, "hvaudit/snapshot/"):
		return nil, fmt.Errorf("this is a snapshot (%s), not a report: audit it with `hvaudit audit --snapshot FILE`", *head.Schema)
	case strings.HasPrefix(*head.Schema, "hvaudit/report/"):
		return nil, fmt.Errorf("report schema %q is not supported: this hvaudit reads %q", *head.Schema, Schema)
	default:
		return nil, fmt.Errorf("not an hvaudit report: schema is %q, expected %q", *head.Schema, Schema)
	}
	if err := ValidateJSON(data); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	// Evidence values are untyped; UseNumber keeps them exactly as written
	// (a 64-bit counter or build number survives a round trip).
	dec.UseNumber()
	var run Run
	if err := dec.Decode(&run); err != nil {
		return nil, describeJSONError(data, err)
	}
	return &run, nil
}

// describeJSONError turns a decoding error into one that says where the
// problem is, since report files are long.
func describeJSONError(data []byte, err error) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		line, col := lineCol(data, syn.Offset)
		return fmt.Errorf("report is not valid JSON: line %d, column %d: %w", line, col, syn)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		if typ.Field == "" {
			return fmt.Errorf("not an hvaudit report: expected a JSON object, found %s", typ.Value)
		}
		line, col := lineCol(data, typ.Offset)
		return fmt.Errorf("report field %q at line %d, column %d: %s where %s was expected", typ.Field, line, col, typ.Value, typ.Type)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("report is not valid JSON: it ends early (truncated file?)")
	}
	return fmt.Errorf("reading report: %w", err)
}

// lineCol converts a byte offset into a 1-based line and column.
func lineCol(data []byte, offset int64) (line, col int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(offset) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}
