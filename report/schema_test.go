package report

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// schemaDoc is the embedded schema, decoded, for tests that compare its
// enums with the Go constants.
func schemaDoc(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(JSONSchema(), &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestSchemaIsDraft202012AndCompiles(t *testing.T) {
	doc := schemaDoc(t)
	if doc["$schema"] != "https://json-schema.org/draft/2020-12/schema" || doc["$id"] != SchemaID {
		t.Errorf("$schema = %v, $id = %v", doc["$schema"], doc["$id"])
	}
	if _, err := compiledSchema(); err != nil {
		t.Fatal(err)
	}
	// JSONSchema hands out copies: changing one must not change validation.
	b := JSONSchema()
	b[0] = 'x'
	if JSONSchema()[0] != '{' {
		t.Error("JSONSchema returned the embedded bytes themselves")
	}
}

// The schema's enums repeat Go constants; a status, area or severity added
// on one side only must fail here, not in a user's pipeline.
func TestSchemaEnumsMatchGo(t *testing.T) {
	defs := schemaDoc(t)["$defs"].(map[string]any)
	enum := func(name string) []string {
		var out []string
		for _, v := range defs[name].(map[string]any)["enum"].([]any) {
			out = append(out, v.(string))
		}
		slices.Sort(out)
		return out
	}
	sorted := func(s ...string) []string { s = slices.Clone(s); slices.Sort(s); return s }
	checksFor := []struct {
		def  string
		want []string
	}{
		{"status", sorted(string(findings.StatusPass), string(findings.StatusFail), string(findings.StatusError), string(findings.StatusNotApplicable), string(findings.StatusWaived))},
		{"observed_status", sorted(string(findings.StatusPass), string(findings.StatusFail), string(findings.StatusError), string(findings.StatusNotApplicable))},
		{"severity", sorted(string(findings.SeverityCritical), string(findings.SeverityHigh), string(findings.SeverityMedium), string(findings.SeverityLow), string(findings.SeverityInfo))},
		{"area", sorted(findings.Areas...)},
		{"object_kind", sorted(inventory.KindTarget, inventory.KindHost, inventory.KindVM, inventory.KindNetwork)},
	}
	for _, c := range checksFor {
		if got := enum(c.def); !slices.Equal(got, c.want) {
			t.Errorf("schema $defs/%s = %v, Go has %v", c.def, got, c.want)
		}
	}
}

func TestSchemaAcceptsSampleRuns(t *testing.T) {
	if err := ValidateJSON(writeFormat(t, "json", Options{}, sampleRun())); err != nil {
		t.Errorf("sample run: %v", err)
	}
	// A complete run with every target collected and nothing waived.
	run := sampleRun()
	run.Targets = slices.DeleteFunc(run.Targets, func(tr TargetResult) bool { return tr.Status != TargetOK })
	run.Findings = slices.DeleteFunc(run.Findings, func(f findings.Finding) bool { return f.Status == findings.StatusError })
	run.Run.TailoringSHA256, run.Run.WaiversSHA256 = "", ""
	run.Summary = summarize(run.Findings, nil)
	if err := ValidateJSON(writeFormat(t, "json", Options{}, run)); err != nil {
		t.Errorf("complete run: %v", err)
	}
}

// mutate decodes the sample report, applies change, and re-encodes it.
func mutate(t *testing.T, change func(doc map[string]any)) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(writeFormat(t, "json", Options{}, sampleRun()), &doc); err != nil {
		t.Fatal(err)
	}
	change(doc)
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func obj(v any) map[string]any { return v.(map[string]any) }
func arr(v any) []any          { return v.([]any) }

// findingWith returns the first finding in doc with the given status.
func findingWith(doc map[string]any, status string) map[string]any {
	for _, f := range arr(doc["findings"]) {
		if obj(f)["status"] == status {
			return obj(f)
		}
	}
	panic("sample run has no " + status + " finding")
}

func targetWith(doc map[string]any, status string) map[string]any {
	for _, tr := range arr(doc["targets"]) {
		if obj(tr)["status"] == status {
			return obj(tr)
		}
	}
	panic("sample run has no " + status + " target")
}

func TestSchemaRejects(t *testing.T) {
	cases := []struct {
		name   string
		change func(doc map[string]any)
		where  string // a JSON pointer the error must name
	}{
		{"wrong schema id", func(d map[string]any) { d["schema"] = "hvaudit/report/v2" }, "/schema"},
		{"unknown top-level field", func(d map[string]any) { d["extra"] = true }, ""},
		{"missing summary", func(d map[string]any) { delete(d, "summary") }, ""},
		{"wrong status", func(d map[string]any) { findingWith(d, "fail")["status"] = "failed" }, "/findings/"},
		{"missing check_id", func(d map[string]any) { delete(findingWith(d, "fail"), "check_id") }, "/findings/"},
		{"missing evidence", func(d map[string]any) { delete(findingWith(d, "pass"), "evidence") }, "/findings/"},
		{"unknown finding field", func(d map[string]any) { findingWith(d, "pass")["score"] = 1 }, "/findings/"},
		{"wrong severity", func(d map[string]any) { findingWith(d, "fail")["severity"] = "severe" }, "/findings/"},
		{"wrong area", func(d map[string]any) { findingWith(d, "fail")["area"] = "network" }, "/findings/"},
		{"wrong object kind", func(d map[string]any) { obj(findingWith(d, "fail")["object"])["kind"] = "datastore" }, "/findings/"},
		{"evidence without source", func(d map[string]any) {
			delete(obj(arr(findingWith(d, "fail")["evidence"])[0]), "source")
		}, "/findings/"},
		{"waived without observed_status", func(d map[string]any) { delete(findingWith(d, "waived"), "observed_status") }, "/findings/"},
		{"waived hiding a pass", func(d map[string]any) { findingWith(d, "waived")["observed_status"] = "pass" }, "/findings/"},
		{"waived without waiver", func(d map[string]any) { delete(findingWith(d, "waived"), "waiver") }, "/findings/"},
		{"waived by an expired waiver", func(d map[string]any) { obj(findingWith(d, "waived")["waiver"])["expired"] = true }, "/findings/"},
		{"observed_status waived", func(d map[string]any) { findingWith(d, "waived")["observed_status"] = "waived" }, "/findings/"},
		{"observed_status contradicts status", func(d map[string]any) { findingWith(d, "pass")["observed_status"] = "fail" }, "/findings/"},
		{"live waiver on an unwaived finding", func(d map[string]any) {
			findingWith(d, "pass")["waiver"] = map[string]any{"check_id": "X", "justification": "j", "expires": "2030-01-01"}
		}, "/findings/"},
		{"error without message", func(d map[string]any) { findingWith(d, "error")["message"] = "" }, "/findings/"},
		{"refs not lists", func(d map[string]any) { obj(findingWith(d, "fail")["refs"])["stig"] = "ESXI-80-000193" }, "/findings/"},
		{"target status", func(d map[string]any) { targetWith(d, "ok")["status"] = "failed" }, "/targets/"},
		{"failed target without error", func(d map[string]any) { delete(targetWith(d, "error"), "error") }, "/targets/"},
		{"collected target without collected_at", func(d map[string]any) { delete(targetWith(d, "ok"), "collected_at") }, "/targets/"},
		{"bad collected_at", func(d map[string]any) { targetWith(d, "ok")["collected_at"] = "yesterday" }, "/targets/"},
		{"negative calls", func(d map[string]any) { obj(targetWith(d, "ok")["collector"])["calls"] = -1 }, "/targets/"},
		{"bad baseline digest", func(d map[string]any) { obj(obj(d["run"])["baseline"])["sha256"] = "abc" }, "/run/baseline/sha256"},
		{"bad as_of", func(d map[string]any) { obj(obj(d["run"])["advisories"])["as_of"] = "March" }, "/run/advisories/as_of"},
		{"score above 100", func(d map[string]any) { obj(d["summary"])["score"] = 101 }, "/summary/score"},
		{"score as string", func(d map[string]any) { obj(d["summary"])["score"] = "21.4" }, "/summary/score"},
		{"missing complete", func(d map[string]any) { delete(obj(d["summary"]), "complete") }, "/summary"},
		{"unknown area in by_area", func(d map[string]any) {
			obj(obj(d["summary"])["by_area"])["networking"] = obj(obj(d["summary"])["by_area"])["patch"]
		}, "networking"},
		{"unknown count", func(d map[string]any) { obj(obj(d["summary"])["counts"])["skipped"] = 0 }, "/summary/counts"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := ValidateJSON(mutate(t, c.change))
			if err == nil {
				t.Fatal("validated; the schema should reject it")
			}
			if !strings.Contains(err.Error(), "does not match") || !strings.Contains(err.Error(), c.where) {
				t.Errorf("error does not point at %q:\n%v", c.where, err)
			}
		})
	}
}

func TestValidateJSONNotJSON(t *testing.T) {
	err := ValidateJSON([]byte("{\"schema\": "))
	if err == nil || !strings.Contains(err.Error(), "not valid JSON") {
		t.Errorf("error = %v", err)
	}
}
