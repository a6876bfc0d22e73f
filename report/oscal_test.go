package report

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/defenseunicorns/go-oscal/src/pkg/validation"
	oscal "github.com/defenseunicorns/go-oscal/src/types/oscal-1-1-3"

	"github.com/hvaudit/hvaudit/checks/findings"
)

// validateOSCAL validates a document with go-oscal, which embeds NIST's
// complete schemas after "doctoring" them so they compile
// (/work/shared/schemas/SOURCE.md explains why the raw schema does not).
func validateOSCAL(out []byte) error {
	v, err := validation.NewValidator(out)
	if err != nil {
		return err
	}
	if err := v.Validate(); err != nil {
		// %v, not Error(): the schema error's tree says where it failed.
		return fmt.Errorf("%v", err)
	}
	return nil
}

func parseOSCAL(t *testing.T, out []byte) *oscal.AssessmentResults {
	t.Helper()
	var doc oscal.OscalModels
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.AssessmentResults == nil {
		t.Fatal("no assessment-results")
	}
	return doc.AssessmentResults
}

func TestOSCALGoldenAndValid(t *testing.T) {
	out := writeFormat(t, "oscal", Options{}, sampleRun())
	golden(t, "report.oscal.golden", out)
	if err := validateOSCAL(out); err != nil {
		t.Fatalf("output does not validate as OSCAL %s: %v", OSCALVersion, err)
	}
}

// The validator must be able to say no, or its yes means nothing.
func TestOSCALValidatorRejectsBrokenDocument(t *testing.T) {
	out := writeFormat(t, "oscal", Options{}, sampleRun())
	for name, breakIt := range map[string]func(ar map[string]any){
		"bad state": func(ar map[string]any) {
			f := ar["results"].([]any)[0].(map[string]any)["findings"].([]any)[0].(map[string]any)
			f["target"].(map[string]any)["status"].(map[string]any)["state"] = "mostly-fine"
		},
		"no methods": func(ar map[string]any) {
			delete(ar["results"].([]any)[0].(map[string]any)["observations"].([]any)[0].(map[string]any), "methods")
		},
		"bad uuid": func(ar map[string]any) { ar["uuid"] = "not-a-uuid" },
	} {
		var doc map[string]any
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatal(err)
		}
		breakIt(doc["assessment-results"].(map[string]any))
		broken, _ := json.Marshal(doc)
		if validateOSCAL(broken) == nil {
			t.Errorf("%s: a broken document validated", name)
		}
	}
}

func TestOSCALContent(t *testing.T) {
	run := sampleRun()
	ar := parseOSCAL(t, writeFormat(t, "oscal", Options{}, run))
	if ar.Metadata.OscalVersion != "1.1.3" {
		t.Errorf("oscal-version = %q", ar.Metadata.OscalVersion)
	}
	if len(ar.Results) != 1 {
		t.Fatalf("%d results, want one per run", len(ar.Results))
	}
	res := ar.Results[0]
	// One observation per finding, plus one for the target not audited.
	if got, want := len(*res.Observations), len(run.Findings)+1; got != want {
		t.Errorf("%d observations, want %d", got, want)
	}
	// One finding per check that applied to something: 11 checks, of which
	// ESXI-VM-TOOLS-01 and VC-TGT-NTP-01 applied to nothing.
	if got := len(*res.Findings); got != 9 {
		t.Errorf("%d findings, want 9", got)
	}
	// One risk per waiver, the expired one included.
	if got := len(*res.Risks); got != 3 {
		t.Errorf("%d risks, want 3", got)
	}

	obsByUUID := map[string]oscal.Observation{}
	for _, o := range *res.Observations {
		if _, dup := obsByUUID[o.UUID]; dup {
			t.Errorf("duplicate observation uuid %s", o.UUID)
		}
		obsByUUID[o.UUID] = o
	}
	items := map[string]bool{}
	for _, it := range *res.LocalDefinitions.InventoryItems {
		items[it.UUID] = true
	}
	for _, o := range *res.Observations {
		if o.Subjects == nil || len(*o.Subjects) != 1 || !items[(*o.Subjects)[0].SubjectUuid] {
			t.Errorf("observation %q has no subject defined in local-definitions", o.Title)
		}
	}
	risks := map[string]oscal.Risk{}
	for _, r := range *res.Risks {
		risks[r.UUID] = r
	}
	want := map[string]struct{ state, reason string }{
		"ESXI-HOST-ACC-01":   {"not-satisfied", "fail"},
		"ESXI-HOST-PATCH-01": {"not-satisfied", "other"},
		"ESXI-VM-ENC-01":     {"not-satisfied", "fail"},
		"ESXI-VM-MIG-01":     {"not-satisfied", "fail"},
		"ESXI-NET-MGMT-01":   {"satisfied", "pass"},
		"VC-TGT-LOG-01":      {"not-satisfied", "other"},
	}
	for _, f := range *res.Findings {
		for _, ro := range *f.RelatedObservations {
			if _, ok := obsByUUID[ro.ObservationUuid]; !ok {
				t.Errorf("finding %s links a missing observation", f.Target.TargetId)
			}
		}
		if f.RelatedRisks != nil {
			for _, rr := range *f.RelatedRisks {
				if _, ok := risks[rr.RiskUuid]; !ok {
					t.Errorf("finding %s links a missing risk", f.Target.TargetId)
				}
			}
		}
		if w, ok := want[f.Target.TargetId]; ok {
			if f.Target.Status.State != w.state || f.Target.Status.Reason != w.reason {
				t.Errorf("finding %s = %s/%s, want %s/%s", f.Target.TargetId, f.Target.Status.State, f.Target.Status.Reason, w.state, w.reason)
			}
			delete(want, f.Target.TargetId)
		}
	}
	for id := range want {
		t.Errorf("no finding for %s", id)
	}
	// ESXI-VM-ENC-01 covers two VMs: one pass, one fail.
	for _, f := range *res.Findings {
		if f.Target.TargetId == "ESXI-VM-ENC-01" && len(*f.RelatedObservations) != 2 {
			t.Errorf("ESXI-VM-ENC-01 links %d observations, want 2", len(*f.RelatedObservations))
		}
	}
	statuses := map[string]int{}
	for _, r := range *res.Risks {
		statuses[r.Status]++
		if r.Status == "deviation-approved" && r.Deadline == nil {
			t.Errorf("risk %q has no deadline", r.Title)
		}
	}
	if statuses["deviation-approved"] != 2 || statuses["open"] != 1 {
		t.Errorf("risk statuses = %v, want 2 deviation-approved and 1 open (expired)", statuses)
	}
	var ctl []string
	for _, c := range *res.ReviewedControls.ControlSelections[0].IncludeControls {
		ctl = append(ctl, c.ControlId)
	}
	if got := strings.Join(ctl, ","); got != "cm-6,cm-7,sc-8" {
		t.Errorf("reviewed controls = %s", got)
	}
	if !strings.HasPrefix(ar.ImportAp.Href, "#") || ar.BackMatter == nil ||
		(*ar.BackMatter.Resources)[0].UUID != strings.TrimPrefix(ar.ImportAp.Href, "#") {
		t.Errorf("import-ap %q does not point at the baseline resource", ar.ImportAp.Href)
	}
}

var uuidV5 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// Ids survive reruns: a second run of the same estate, with another run
// id, other times and other outcomes, keeps every observation, finding,
// risk and inventory item uuid; the result's uuid changes.
func TestOSCALStableIDs(t *testing.T) {
	first := parseOSCAL(t, writeFormat(t, "oscal", Options{}, sampleRun()))
	rerun := sampleRun()
	rerun.Run.ID = "11111111-2222-4333-8444-555555555555"
	rerun.Run.Started = rerun.Run.Started.Add(24 * time.Hour)
	rerun.Run.Finished = rerun.Run.Finished.Add(24 * time.Hour)
	for i := range rerun.Findings {
		f := &rerun.Findings[i]
		f.Message = "rerun: " + f.Message
		if f.Status == findings.StatusFail {
			f.Status = findings.StatusPass
		}
	}
	second := parseOSCAL(t, writeFormat(t, "oscal", Options{}, rerun))

	ids := func(ar *oscal.AssessmentResults) map[string]string {
		m := map[string]string{"document": ar.UUID}
		res := ar.Results[0]
		for _, o := range *res.Observations {
			m["observation "+o.Title] = o.UUID
		}
		for _, f := range *res.Findings {
			m["finding "+f.Target.TargetId] = f.UUID
		}
		for _, r := range *res.Risks {
			m["risk "+r.Title] = r.UUID
		}
		for _, it := range *res.LocalDefinitions.InventoryItems {
			m["item "+it.Description] = it.UUID
		}
		return m
	}
	a, b := ids(first), ids(second)
	for k, v := range a {
		if !uuidV5.MatchString(v) {
			t.Errorf("%s: %q is not a UUIDv5", k, v)
		}
		if w, ok := b[k]; ok && w != v {
			t.Errorf("%s: uuid changed across runs (%s → %s)", k, v, w)
		}
	}
	for _, k := range []string{"observation ESXI-HOST-ACC-01 on host esx01.lab", "finding ESXI-HOST-ACC-01", "document"} {
		if _, ok := b[k]; !ok {
			t.Errorf("%s missing from the rerun", k)
		}
	}
	if first.Results[0].UUID == second.Results[0].UUID {
		t.Error("two runs share a result uuid")
	}
}

func TestOSCALControlIDs(t *testing.T) {
	for in, want := range map[string]string{"CM-7": "cm-7", "IA-5(1)": "ia-5.1", "sc-7 (3)": "sc-7.3", "AC-02": "ac-2"} {
		if got, ok := oscalControlID(in); !ok || got != want {
			t.Errorf("oscalControlID(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if _, ok := oscalControlID("not a control"); ok {
		t.Error("accepted a non-control")
	}
	if got := oscalToken("1st check/x"); got != "_1st_check_x" {
		t.Errorf("oscalToken = %q", got)
	}
}

func TestOSCALWriterContract(t *testing.T) { checkWriterContract(t, "oscal") }

// Edge shapes still validate: an empty run (no findings, no controls, no
// times) and a run whose checks map to no 800-53 control (include-all).
func TestOSCALEdgeCasesValid(t *testing.T) {
	noControls := sampleRun()
	for i := range noControls.Findings {
		noControls.Findings[i].Refs.NIST80053 = nil
	}
	for name, run := range map[string]*Run{"empty": {}, "no controls": noControls} {
		out := writeFormat(t, "oscal", Options{}, run)
		if err := validateOSCAL(out); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// A status outside the contract (a report written by a newer hvaudit, or
// edited) never makes a check satisfied: beside a pass it counts as an
// error.
func TestOSCALUnknownStatusIsNotAPass(t *testing.T) {
	run := sampleRun()
	for _, f := range run.Findings {
		if f.CheckID == "ESXI-NET-MGMT-01" {
			f.Status, f.Object.ID = "skipped", f.Object.ID+"-other"
			run.Findings = append(run.Findings, f)
			break
		}
	}
	res := parseOSCAL(t, writeFormat(t, "oscal", Options{}, run)).Results[0]
	for _, f := range *res.Findings {
		if f.Target.TargetId == "ESXI-NET-MGMT-01" {
			if st := f.Target.Status; st.State != "not-satisfied" || st.Reason != "other" {
				t.Errorf("ESXI-NET-MGMT-01 with a pass and an unknown status = %s/%s, want not-satisfied/other", st.State, st.Reason)
			}
			return
		}
	}
	t.Error("no finding for ESXI-NET-MGMT-01")
}
