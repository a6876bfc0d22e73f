package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	sarif "github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"
)

// sarifSchemaErr checks a document against the SARIF 2.1.0 schema, copied
// from go-sarif's module (testdata/sarif-schema-2.1.0.SOURCE.md).
func sarifSchemaErr(out []byte) error {
	f, err := os.Open(filepath.Join("testdata", "sarif-schema-2.1.0.json"))
	if err != nil {
		return err
	}
	defer f.Close()
	schemaDoc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return err
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	const url = "sarif-schema-2.1.0.json"
	if err := c.AddResource(url, schemaDoc); err != nil {
		return err
	}
	sch, err := c.Compile(url)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}

func TestSARIFGolden(t *testing.T) {
	out := writeFormat(t, "sarif", Options{}, sampleRun())
	golden(t, "report.sarif.golden", out)
	if err := sarifSchemaErr(out); err != nil {
		t.Fatalf("output does not validate against SARIF 2.1.0: %v", err)
	}
	// go-sarif's own validation of the parsed document, as a second
	// opinion from another validator.
	doc, err := sarif.FromBytes(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(); err != nil {
		t.Fatalf("go-sarif rejects the output: %v", err)
	}
}

// The schema check must be able to fail, or passing it means nothing.
func TestSARIFSchemaRejectsBrokenDocument(t *testing.T) {
	out := writeFormat(t, "sarif", Options{}, sampleRun())
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	doc["runs"].([]any)[0].(map[string]any)["results"].([]any)[0].(map[string]any)["level"] = "fatal"
	broken, _ := json.Marshal(doc)
	if err := sarifSchemaErr(broken); err == nil {
		t.Fatal("a result with level \"fatal\" validated")
	}
}

func TestSARIFContent(t *testing.T) {
	run := sampleRun()
	out := writeFormat(t, "sarif", Options{}, run)
	var doc struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID   string `json:"id"`
						Help struct {
							Text string `json:"text"`
						} `json:"help"`
						Properties map[string]any `json:"properties"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Invocations []struct {
				ExecutionSuccessful        bool `json:"executionSuccessful"`
				ToolExecutionNotifications []struct {
					Level   string                `json:"level"`
					Message struct{ Text string } `json:"message"`
				} `json:"toolExecutionNotifications"`
			} `json:"invocations"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Kind      string `json:"kind"`
				Level     string `json:"level"`
				Locations []struct {
					LogicalLocations []struct {
						Name               string `json:"name"`
						FullyQualifiedName string `json:"fullyQualifiedName"`
						Kind               string `json:"kind"`
					} `json:"logicalLocations"`
				} `json:"locations"`
				PartialFingerprints map[string]string `json:"partialFingerprints"`
				Suppressions        []struct {
					Kind, Status, Justification string
				} `json:"suppressions"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != "2.1.0" || len(doc.Runs) != 1 {
		t.Fatalf("version %q, %d runs", doc.Version, len(doc.Runs))
	}
	r := doc.Runs[0]
	if len(r.Tool.Driver.Rules) != 11 {
		t.Errorf("%d rules, want one per check (11)", len(r.Tool.Driver.Rules))
	}
	// 5 fail + 1 error + 2 waived; passes and n/a are not results.
	if len(r.Results) != 8 {
		t.Fatalf("%d results, want 8", len(r.Results))
	}
	type want struct{ kind, level string }
	wants := map[string]want{
		"ESXI-HOST-ACC-01|esx01.lab/host/host-21":    {"fail", "error"},
		"ESXI-TGT-TLS-01|esx01.lab/target/esx01.lab": {"fail", "error"},
		"ESXI-HOST-LOG-01|esx01.lab/host/host-21":    {"fail", "warning"},
		"ESXI-VM-ENC-01|esx01.lab/vm/4210a3c1-0002":  {"fail", "warning"},
		"ESXI-VM-CON-01|esx01.lab/vm/4210a3c1-0003":  {"fail", "warning"},
		"ESXI-HOST-PATCH-01|esx01.lab/host/host-21":  {"open", "none"},
		"ESXI-VM-MIG-01|esx01.lab/vm/4210a3c1-0001":  {"fail", "error"},
		"VC-TGT-LOG-01|vc01/target/vc01":             {"open", "none"},
	}
	fingerprints := map[string]bool{}
	suppressed := 0
	for _, res := range r.Results {
		if res.RuleIndex < 0 || res.RuleIndex >= len(r.Tool.Driver.Rules) || r.Tool.Driver.Rules[res.RuleIndex].ID != res.RuleID {
			t.Errorf("%s: ruleIndex %d does not point at its rule", res.RuleID, res.RuleIndex)
		}
		if len(res.Locations) != 1 || len(res.Locations[0].LogicalLocations) != 1 {
			t.Errorf("%s: locations = %+v", res.RuleID, res.Locations)
			continue
		}
		ll := res.Locations[0].LogicalLocations[0]
		key := res.RuleID + "|" + ll.FullyQualifiedName
		w, ok := wants[key]
		if !ok {
			t.Errorf("unexpected result %s", key)
			continue
		}
		delete(wants, key)
		if res.Kind != w.kind || res.Level != w.level {
			t.Errorf("%s: kind/level %s/%s, want %s/%s", key, res.Kind, res.Level, w.kind, w.level)
		}
		fp := res.PartialFingerprints["hvaudit/v1"]
		if len(fp) != 64 || fingerprints[fp] {
			t.Errorf("%s: fingerprint %q missing or shared", key, fp)
		}
		fingerprints[fp] = true
		if len(res.Suppressions) > 0 {
			suppressed++
			s := res.Suppressions[0]
			if s.Kind != "external" || s.Status != "accepted" || s.Justification == "" {
				t.Errorf("%s: suppression %+v", key, s)
			}
		}
	}
	for key := range wants {
		t.Errorf("no result for %s", key)
	}
	if suppressed != 2 {
		t.Errorf("%d suppressed results, want the 2 waived findings", suppressed)
	}
	if len(r.Invocations) != 1 || r.Invocations[0].ExecutionSuccessful ||
		len(r.Invocations[0].ToolExecutionNotifications) != 1 || r.Invocations[0].ToolExecutionNotifications[0].Level != "error" {
		t.Errorf("invocations = %+v, want one unsuccessful with kvm01's error", r.Invocations)
	}
	for _, rule := range r.Tool.Driver.Rules {
		if rule.ID == "ESXI-HOST-ACC-01" {
			if rule.Properties["area"] != "host-access" || rule.Properties["severity"] != "critical" ||
				rule.Properties["security-severity"] != "9.5" || rule.Properties["refs"] == nil || rule.Help.Text == "" {
				t.Errorf("rule %s = %+v", rule.ID, rule)
			}
		}
	}
}

// A finding keeps its fingerprint across runs whatever else changes.
func TestSARIFFingerprintStable(t *testing.T) {
	a := sampleRun().Findings[2]
	b := a
	b.Status, b.Message, b.Severity = "pass", "different", "low"
	if findingFingerprint(a) != findingFingerprint(b) {
		t.Error("fingerprint depends on status, message or severity")
	}
	b.Object.ID = "host-22"
	if findingFingerprint(a) == findingFingerprint(b) {
		t.Error("fingerprint ignores the object id")
	}
}

func TestSARIFWriterContract(t *testing.T) { checkWriterContract(t, "sarif") }

func TestSARIFEmptyRunValid(t *testing.T) {
	if err := sarifSchemaErr(writeFormat(t, "sarif", Options{}, &Run{})); err != nil {
		t.Error(err)
	}
}
