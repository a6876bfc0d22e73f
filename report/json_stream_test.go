package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/checks/findings"
)

// wholeDocument is the report as one json.Encoder call writes it: what
// the streaming writer must reproduce byte for byte.
func wholeDocument(t *testing.T, run *Run) []byte {
	t.Helper()
	r, err := prepare(run)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestJSONStreamsTheWholeDocumentsBytes: with no findings, one, and enough
// for several chunks on several workers (in reverse order, with names that
// hold the splice's own text), the streamed report is the document encoded
// at once.
func TestJSONStreamsTheWholeDocumentsBytes(t *testing.T) {
	base := sampleRun()
	for _, n := range []int{0, 1, 511, 512, 513, 1500} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			run := *base
			run.Findings = nil
			for i := n - 1; i >= 0; i-- {
				f := base.Findings[i%len(base.Findings)]
				f.Object.Name = fmt.Sprintf("vm-%05d \n  \"findings\": [] <&>", i)
				run.Findings = append(run.Findings, f)
			}
			got := writeFormat(t, "json", Options{}, &run)
			if want := wholeDocument(t, &run); !bytes.Equal(got, want) {
				t.Fatalf("streamed %d findings into %d bytes; encoding the document at once gives %d bytes", n, len(got), len(want))
			}
			if err := ValidateJSON(got); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestJSONStreamStopsAtAnUnencodableFinding: a value JSON cannot hold
// (NaN) in the 700th finding fails the write, naming the check.
func TestJSONStreamStopsAtAnUnencodableFinding(t *testing.T) {
	run := sampleRun()
	f := run.Findings[0]
	for i := 0; i < 1000; i++ {
		g := f
		g.Object.Name = fmt.Sprintf("vm-%04d", i)
		if i == 700 {
			g.CheckID = "BROKEN-1"
			g.Evidence = []findings.Evidence{{Field: "x", Observed: []float64{math.NaN()}}}
		}
		run.Findings = append(run.Findings, g)
	}
	w, err := For("json", Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = w.Write(&bytes.Buffer{}, run)
	if err == nil || !strings.Contains(err.Error(), "BROKEN-1") {
		t.Fatalf("err = %v, want one naming BROKEN-1", err)
	}
}
