package report

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/checks/findings"
)

func writeFormat(t *testing.T, format string, opts Options, run *Run) []byte {
	t.Helper()
	w, err := For(format, opts)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := w.Write(&buf, run); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestJSONGolden(t *testing.T) {
	out := writeFormat(t, "json", Options{}, sampleRun())
	golden(t, "report.json.golden", out)
	if err := ValidateJSON(out); err != nil {
		t.Fatalf("the writer's own output does not validate: %v", err)
	}
}

func TestJSONSortsFindingsWithoutTouchingInput(t *testing.T) {
	run := sampleRun()
	before := make([]string, len(run.Findings))
	for i, f := range run.Findings {
		before[i] = f.CheckID + "/" + f.Object.ID
	}
	out := writeFormat(t, "json", Options{}, run)
	for i, f := range run.Findings {
		if before[i] != f.CheckID+"/"+f.Object.ID {
			t.Fatal("Write reordered the caller's findings")
		}
	}
	var got Run
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(got.Findings); i++ {
		if compareFindings(&got.Findings[i-1], &got.Findings[i]) > 0 {
			t.Errorf("findings %d and %d out of order: %s/%s/%s/%s before %s/%s/%s/%s", i-1, i,
				got.Findings[i-1].Target, got.Findings[i-1].Object.Kind, got.Findings[i-1].Object.Name, got.Findings[i-1].CheckID,
				got.Findings[i].Target, got.Findings[i].Object.Kind, got.Findings[i].Object.Name, got.Findings[i].CheckID)
		}
	}
}

// Any input order gives byte-identical output: golden files, diff and
// signatures depend on it.
func TestJSONDeterministic(t *testing.T) {
	want := writeFormat(t, "json", Options{}, sampleRun())
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		run := sampleRun()
		rng.Shuffle(len(run.Findings), func(i, j int) { run.Findings[i], run.Findings[j] = run.Findings[j], run.Findings[i] })
		if got := writeFormat(t, "json", Options{}, run); !bytes.Equal(got, want) {
			t.Fatal("output depends on the order findings were given in")
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	first := writeFormat(t, "json", Options{}, sampleRun())
	run, err := ReadRun(bytes.NewReader(first))
	if err != nil {
		t.Fatal(err)
	}
	if second := writeFormat(t, "json", Options{}, run); !bytes.Equal(first, second) {
		t.Errorf("write → read → write changed the report:\n%s", second)
	}
}

// A run built with nil slices and maps still writes the arrays and objects
// the schema requires, never null.
func TestJSONEmptyRun(t *testing.T) {
	run := &Run{Tool: Tool{Name: "hvaudit", Version: "dev"}, Run: RunInfo{
		ID: "x", Baseline: BaselineInfo{ID: "b", Version: "1", SHA256: strings.Repeat("0", 64)},
		Advisories: AdvisoriesInfo{AsOf: "2026-01-01"},
	}}
	run.Targets = []TargetResult{{Name: "t", URI: "test:///default", Platform: "kvm", Status: TargetError, Error: "boom"}}
	run.Findings = []findings.Finding{{CheckID: "X-1", Area: "patch", Severity: findings.SeverityLow, Status: findings.StatusPass,
		Target: "t", Object: findings.ObjectRef{Kind: "host", ID: "h", Name: "h"}}}
	out := writeFormat(t, "json", Options{}, run)
	// Only scores may be null here (nothing was scored).
	for _, m := range regexp.MustCompile(`"(\w+)": null`).FindAllSubmatch(out, -1) {
		if k := string(m[1]); k != "score" && k != "score_without_waivers" {
			t.Errorf("%s is null; an empty array or object belongs there", k)
		}
	}
	for _, want := range []string{`"schema": "hvaudit/report/v1"`, `"gaps": []`, `"evidence": []`, `"by_target": {}`} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	if err := ValidateJSON(out); err != nil {
		t.Error(err)
	}
}

func TestJSONRefusesOtherSchema(t *testing.T) {
	run := sampleRun()
	run.Schema = "hvaudit/report/v2"
	w, _ := For("json", Options{})
	if err := w.Write(&bytes.Buffer{}, run); err == nil || !strings.Contains(err.Error(), "hvaudit/report/v2") {
		t.Errorf("error = %v, want a schema mismatch", err)
	}
	if err := w.Write(&bytes.Buffer{}, nil); err == nil {
		t.Error("writing a nil run did not fail")
	}
}

func TestReadRunErrors(t *testing.T) {
	valid := string(writeFormat(t, "json", Options{}, sampleRun()))
	cases := []struct {
		name, input string
		want        []string
	}{
		{"empty", "  \n", []string{"empty"}},
		{"syntax", "{\n  \"schema\": \"hvaudit/report/v1\",\n  oops\n}", []string{"not valid JSON", "line 3"}},
		{"truncated", valid[:len(valid)/2], []string{"not valid JSON"}},
		{"array", "[1,2]", []string{"expected a JSON object"}},
		{"no schema", `{"tool":{}}`, []string{`no "schema" field`}},
		{"snapshot", `{"schema":"hvaudit/snapshot/v1"}`, []string{"snapshot", "audit --snapshot"}},
		{"newer report", `{"schema":"hvaudit/report/v2"}`, []string{`"hvaudit/report/v2" is not supported`}},
		{"foreign", `{"schema":"https://example.org/other"}`, []string{"not an hvaudit report"}},
		{"bad status", strings.Replace(valid, `"status": "fail"`, `"status": "failed"`, 1), []string{"does not match", "/findings/", "status"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadRun(strings.NewReader(c.input))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// Evidence values keep their exact JSON form through ReadRun: a 64-bit
// number would lose digits as a float64.
func TestReadRunKeepsNumbers(t *testing.T) {
	run := sampleRun()
	run.Findings[1].Evidence[0].Observed = json.Number("18446744073709551615")
	out := writeFormat(t, "json", Options{}, run)
	back, err := ReadRun(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if again := writeFormat(t, "json", Options{}, back); !bytes.Contains(again, []byte("18446744073709551615")) {
		t.Error("a large evidence number changed on the way through ReadRun")
	}
}

// Evidence observed as a Go struct (a host service, a NIC) is written with
// sorted keys, as it reads back, so re-rendering a saved run gives the same
// bytes; the caller's run keeps its struct.
func TestJSONRoundTripStructEvidence(t *testing.T) {
	type service struct {
		Key     string `json:"key"`
		Running bool   `json:"running"`
		Policy  string `json:"policy"`
	}
	run := sampleRun()
	run.Findings[0].Evidence = append([]findings.Evidence{}, run.Findings[0].Evidence...)
	run.Findings[0].Evidence = append(run.Findings[0].Evidence, findings.Evidence{
		Field: `host.services["TSM-SSH"]`, Observed: service{Key: "TSM-SSH", Running: true, Policy: "on"}, Source: "HostSystem config.service",
	}, findings.Evidence{Field: "host.patch.build", Observed: int64(24784735), Source: "HostSystem summary.config.product.build"})
	first := writeFormat(t, "json", Options{}, run)
	if !regexp.MustCompile(`"key": "TSM-SSH",\s*"policy": "on",\s*"running": true`).Match(first) {
		t.Errorf("struct evidence not canonical:\n%s", first)
	}
	back, err := ReadRun(bytes.NewReader(first))
	if err != nil {
		t.Fatal(err)
	}
	if second := writeFormat(t, "json", Options{}, back); !bytes.Equal(first, second) {
		t.Errorf("write → read → write changed the report")
	}
	last := run.Findings[0].Evidence[len(run.Findings[0].Evidence)-2]
	if _, ok := last.Observed.(service); !ok {
		t.Errorf("the caller's evidence was changed to %T", last.Observed)
	}
}
