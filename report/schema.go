package report

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// SchemaID is the $id of the report's JSON Schema. It names the schema; it
// is not fetched (the schema is embedded).
const SchemaID = "https://github.com/hvaudit/hvaudit/report/schema/report-v1.schema.json"

// schemaJSON is report/schema/report-v1.schema.json, the JSON Schema
// (draft 2020-12) of hvaudit/report/v1. It ships inside the binary so
// ValidateJSON needs no file and no network.
//
//go:embed schema/report-v1.schema.json
var schemaJSON []byte

// JSONSchema returns the report's JSON Schema document. It returns a copy:
// a caller that changes it must not change what ValidateJSON checks.
func JSONSchema() []byte { return bytes.Clone(schemaJSON) }

// compiledSchema compiles the embedded schema once, on first use.
var compiledSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return nil, fmt.Errorf("report schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	// Formats are only annotations in 2020-12 unless asserted. Asserting
	// them makes "date-time" and "date" checks real: a timestamp written
	// by hand or by another tool in the wrong shape fails validation.
	c.AssertFormat()
	if err := c.AddResource(SchemaID, doc); err != nil {
		return nil, fmt.Errorf("report schema: %w", err)
	}
	sch, err := c.Compile(SchemaID)
	if err != nil {
		return nil, fmt.Errorf("report schema: %w", err)
	}
	return sch, nil
})

// ValidateJSON checks that data is a JSON report valid against the embedded
// hvaudit/report/v1 schema. The error lists every violation with its JSON
// pointer, e.g. "at '/findings/3/status': value must be one of ...".
func ValidateJSON(data []byte) error {
	sch, err := compiledSchema()
	if err != nil {
		// The schema is embedded and tested; failing here is a build defect,
		// not bad input, so say so rather than blaming the report.
		return fmt.Errorf("internal error: %w", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return describeJSONError(data, err)
	}
	if err := checkNumbers(data); err != nil {
		return err
	}
	if err := sch.Validate(inst); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			// The first line only names the schema's URL; the violations,
			// each with its JSON pointer, follow it.
			msg := ve.Error()
			if i := strings.IndexByte(msg, '\n'); i >= 0 {
				msg = msg[i+1:]
			}
			return fmt.Errorf("report does not match the %s schema:\n%s", Schema, msg)
		}
		return fmt.Errorf("report does not match the %s schema: %w", Schema, err)
	}
	return nil
}

// maxNumberLen bounds a number in a report: hvaudit writes scores, counts
// and evidence values, none longer than a 64-bit integer or a float.
const maxNumberLen = 64

// checkNumbers refuses numbers the schema validator cannot take: it
// converts each to a big.Rat and panics on one big.Rat refuses (an
// exponent such as 1e9999999; found by FuzzReadRun), and a number of a
// million digits would make that conversion slow. The error names the line.
func checkNumbers(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return describeJSONError(data, err)
		}
		n, ok := tok.(json.Number)
		if !ok {
			continue
		}
		if len(n) > maxNumberLen || !ratOK(n.String()) {
			line, col := lineCol(data, dec.InputOffset())
			shown := n.String()
			if len(shown) > 24 {
				shown = shown[:24] + "…"
			}
			return fmt.Errorf("report: number %s at line %d, column %d is out of range", shown, line, col)
		}
	}
}

func ratOK(s string) bool {
	_, ok := new(big.Rat).SetString(s)
	return ok
}
