package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	r, err := prepare(run)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// Messages and expected values hold "<", ">" and "&" (comparisons,
	// XPaths); HTML escaping would only make the file harder to read and
	// changes nothing for JSON parsers.
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// prepare returns a copy of run in the contract's canonical form, leaving
// the caller's Run untouched: schema set, findings sorted, nil slices and
// maps replaced by empty ones so the document always has the arrays and
// objects the schema requires. Writers render the prepared copy, so every
// format agrees on order.
func prepare(run *Run) (*Run, error) {
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

	r.Findings = sortedFindings(run.Findings)
	for i := range r.Findings {
		if r.Findings[i].Evidence == nil {
			r.Findings[i].Evidence = []findings.Evidence{}
			continue
		}
		ev := make([]findings.Evidence, len(r.Findings[i].Evidence))
		copy(ev, r.Findings[i].Evidence)
		for j := range ev {
			o, err := canonicalObserved(ev[j].Observed)
			if err != nil {
				return nil, fmt.Errorf("report: evidence %s of %s: %w", ev[j].Field, r.Findings[i].CheckID, err)
			}
			ev[j].Observed = o
		}
		r.Findings[i].Evidence = ev
	}

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

// sortedFindings returns a copy of fs in the contract's order: target,
// object kind, object name, check id (DESIGN.md §6). The engine sorts too;
// sorting again here is defensive, because golden files, diff and
// signatures break on any other order. Object id breaks the remaining ties
// (two VMs may share a name in different datacenters) so the order is total.
func sortedFindings(fs []findings.Finding) []findings.Finding {
	out := make([]findings.Finding, len(fs))
	copy(out, fs)
	slices.SortStableFunc(out, compareFindings)
	return out
}

func compareFindings(a, b findings.Finding) int {
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
