package report

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"testing"
)

// FuzzReadRun feeds the JSON report reader used by `diff` and `report
// --from` arbitrary input. Whatever it accepts must render in every format
// without a panic: a report file is outside data, and rendering it is what
// report --from does next.
func FuzzReadRun(f *testing.F) {
	if b, err := os.ReadFile("testdata/report.json.golden"); err == nil {
		f.Add(b)
	}
	if b, err := json.Marshal(sampleRun()); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"schema":"hvaudit/report/v1"}`))
	f.Add([]byte(`{"schema":"hvaudit/snapshot/v1"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		run, err := ReadRun(bytes.NewReader(data))
		if err != nil {
			return
		}
		if run.Schema != Schema {
			t.Fatalf("ReadRun accepted schema %q", run.Schema)
		}
		for _, name := range Formats() {
			w, err := For(name, Options{})
			if err != nil {
				t.Fatal(err)
			}
			_ = w.Write(io.Discard, run)
		}
		// cklb renders per asset into a directory: build every document.
		if lists, err := checklistsOf(run); err == nil {
			for _, l := range lists {
				_ = l.Doc()
			}
		}
	})
}
