package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	oscal "github.com/defenseunicorns/go-oscal/src/types/oscal-1-1-3"
	"github.com/google/uuid"

	"github.com/hvaudit/hvaudit/checks/findings"
)

// oscalWriter writes an OSCAL Assessment Results document (OSCAL 1.1.3,
// JSON) for FedRAMP/NIST tooling:
//
//   - one result per run;
//   - one observation per finding (method TEST), whose subject is an
//     inventory item for the finding's object (defined in the result's
//     local-definitions), with the evidence as relevant-evidence and check
//     id, status, severity, area and framework ids as props; a target that
//     could not be collected gets an observation saying so;
//   - one finding per check, whose target is the check (type objective-id,
//     target-id = check id) and whose status sums up the check's
//     observations: any fail → not-satisfied/fail; else any error →
//     not-satisfied/other; else any waived → not-satisfied with the waiver
//     as a related risk; else any pass → satisfied/pass. A check that
//     applied to nothing (all not_applicable) has observations but no
//     finding;
//   - one risk per waiver: status deviation-approved with the waiver's
//     expiry as deadline, or open when the waiver has expired;
//   - reviewed-controls lists the NIST SP 800-53 controls the checks map to
//     (include-all when none do); import-ap points at a back-matter resource
//     describing the baseline, since hvaudit has no separate assessment plan.
//
// Identity. Every uuid is a UUIDv5 over stable keys, so a rerun against the
// same estate produces the same ids and documents diff cleanly:
// observations and risks over (target, check id, object id), inventory items
// over (target, object kind, object id), findings over the check id, the
// document over (baseline id, target names), back-matter resources over the
// file's identity. What changes from run to run: the result's uuid (from the
// run id, so results of several runs never collide), metadata.version (the
// run id), metadata.last-modified (the run's end), the result's start and
// end, each observation's collected time, and of course statuses, values
// and props. A consequence: results of two runs cannot be merged into one
// document as they stand, since their observations share uuids.
type oscalWriter struct{}

func (oscalWriter) Format() string { return "oscal" }

// OSCALVersion is the OSCAL version the writer emits.
const OSCALVersion = "1.1.3"

// oscalNS qualifies hvaudit's own props. It names, it is not fetched.
const oscalNS = "https://github.com/hvaudit/hvaudit/ns/oscal"

// uuidNamespace roots every stable id hvaudit derives (OSCAL and CKLB).
var uuidNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/hvaudit/hvaudit"))

// stableUUID derives a UUIDv5 from a kind and key parts. Parts are joined
// with NUL, which no key contains, so ("a", "bc") and ("ab", "c") differ.
func stableUUID(kind string, parts ...string) string {
	return uuid.NewSHA1(uuidNamespace, []byte(kind+"\x00"+strings.Join(parts, "\x00"))).String()
}

func (oscalWriter) Write(w io.Writer, run *Run) error {
	r, err := prepare(run)
	if err != nil {
		return err
	}
	doc := buildOSCAL(r)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(oscal.OscalModels{AssessmentResults: doc}); err != nil {
		return fmt.Errorf("oscal: %w", err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// oscalTime is a timestamp OSCAL accepts: UTC, and never Go's zero time
// (year 1, which OSCAL's date pattern rejects).
func oscalTime(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t.UTC()
		}
	}
	return time.Unix(0, 0).UTC()
}

// buildOSCAL maps a run to OSCAL assessment results: the baseline and the
// data it used in back matter, an inventory item per object, an
// observation per finding (and per target that could not be audited), a
// finding per check with its status, and a risk per waiver.
func buildOSCAL(r *Run) *oscal.AssessmentResults {
	b := newOSCALBuilder(r)
	b.unauditedTargets()
	for _, f := range r.Findings {
		b.observe(f)
	}
	end := oscalTime(r.Run.Finished, r.Run.Started)
	resources := oscalResources(r)
	targetNames := make([]string, 0, len(r.Targets))
	for _, t := range r.Targets {
		targetNames = append(targetNames, t.Name)
	}
	base := r.Run.Baseline
	return &oscal.AssessmentResults{
		UUID: stableUUID("assessment-results", append([]string{base.ID}, targetNames...)...),
		Metadata: oscal.Metadata{
			Title:        clean(strings.TrimSuffix(strings.TrimSpace(b.toolName+" assessment results: "+base.ID+" "+base.Version), ":"), false),
			LastModified: end,
			Version:      orDefault(r.Run.ID, end.Format(time.RFC3339)),
			OscalVersion: OSCALVersion,
		},
		ImportAp: oscal.ImportAp{
			Href:    "#" + resources[0].UUID,
			Remarks: "hvaudit has no assessment plan document; this points at the baseline in back-matter.",
		},
		Results:    []oscal.Result{b.result(end)},
		BackMatter: &oscal.BackMatter{Resources: &resources},
	}
}

// oscalResources is the back matter: what the run was judged against,
// the baseline first.
func oscalResources(r *Run) []oscal.Resource {
	base := r.Run.Baseline
	resources := []oscal.Resource{{
		UUID:        stableUUID("resource/baseline", base.ID, base.Version),
		Title:       strings.TrimSpace("Baseline " + base.ID + " " + base.Version),
		Description: "The hvaudit baseline (checks, parameters and framework mappings) this assessment applied. hvaudit has no separate assessment plan: the baseline stands for it.",
		Props:       propsOf("baseline-id", base.ID, "baseline-version", base.Version, "sha256", base.SHA256),
	}}
	for _, extra := range []struct{ kind, title, sum, asOf string }{
		{"tailoring", "Tailoring file", r.Run.TailoringSHA256, ""},
		{"waivers", "Waiver file", r.Run.WaiversSHA256, ""},
		{"advisories", "Advisory data", r.Run.Advisories.SHA256, r.Run.Advisories.AsOf},
	} {
		if extra.sum == "" {
			continue
		}
		resources = append(resources, oscal.Resource{
			UUID:  stableUUID("resource/"+extra.kind, extra.sum),
			Title: extra.title,
			Props: propsOf("sha256", extra.sum, "as-of", extra.asOf),
		})
	}
	return resources
}

// checkStatus sums up a check's findings as an OSCAL objective status; ok
// is false when the check applied to nothing.
func checkStatus(c findings.Counts, waivedError bool) (oscal.ObjectiveStatus, bool) {
	switch {
	case c.Fail > 0:
		return oscal.ObjectiveStatus{State: "not-satisfied", Reason: "fail"}, true
	case c.Error > 0:
		return oscal.ObjectiveStatus{State: "not-satisfied", Reason: "other",
			Remarks: "The check could not be evaluated on every object; see the observations."}, true
	case c.Waived > 0:
		st := oscal.ObjectiveStatus{State: "not-satisfied", Reason: "fail",
			Remarks: "Not satisfied, with an approved deviation (waiver); see the related risks."}
		if waivedError {
			st.Reason = "other"
		}
		return st, true
	case c.Pass > 0:
		return oscal.ObjectiveStatus{State: "satisfied", Reason: "pass"}, true
	}
	return oscal.ObjectiveStatus{}, false
}

func checkSummary(c findings.Counts) string {
	var parts []string
	for _, x := range []struct {
		n    int
		what string
	}{{c.Fail, "fail"}, {c.Error, "error"}, {c.Waived, "waived"}, {c.Pass, "pass"}, {c.NotApplicable, "not applicable"}} {
		if x.n > 0 {
			parts = append(parts, strconv.Itoa(x.n)+" "+x.what)
		}
	}
	return "Outcome over the objects checked: " + strings.Join(parts, ", ") + "."
}

func resultDescription(r *Run) string {
	c := r.Summary.Counts
	s := fmt.Sprintf("Automated hypervisor hardening audit of %s against baseline %s: %d fail, %d error, %d waived, %d pass, %d not applicable. Score %s (%s without waivers).",
		plural(len(r.Targets), "target"), strings.TrimSpace(orDefault(r.Run.Baseline.ID, "(unnamed)")+" "+r.Run.Baseline.Version),
		c.Fail, c.Error, c.Waived, c.Pass, c.NotApplicable,
		scoreProp(r.Summary.Score), scoreProp(r.Summary.ScoreWithoutWaivers))
	if !r.Summary.Complete {
		s += " The audit is incomplete: " + incompleteReason(r)
	}
	return s
}

func scoreProp(s *float64) string {
	if s == nil {
		return "none"
	}
	return formatScore(s)
}

func observationRemarks(f findings.Finding) string {
	var parts []string
	if f.Expected != "" {
		parts = append(parts, "Expected: "+f.Expected)
	}
	if f.Status != findings.StatusPass && f.Status != findings.StatusNotApplicable && f.Remediation != "" {
		parts = append(parts, "Remediation: "+f.Remediation)
	}
	if f.Waiver != nil {
		parts = append(parts, "Waiver: "+waiverText(f.Waiver))
	}
	return clean(strings.Join(parts, "\n\n"), true)
}

// waiverRisk records a waiver as an accepted risk (or, once expired, an
// open one).
func waiverRisk(f findings.Finding, obsUUID string) oscal.Risk {
	w := f.Waiver
	risk := oscal.Risk{
		UUID:                stableUUID("risk", f.Target, f.CheckID, f.Object.ID),
		Title:               clean("Waiver: "+f.CheckID+" on "+objectLabel(f.Object), false),
		Description:         clean("Waiver "+waiverText(w), true),
		Statement:           clean(orDefault(f.Title, f.CheckID)+" is not met on "+objectLabel(f.Object)+" (target "+f.Target+"): "+orDefault(f.Message, "see the observation"), true),
		Status:              "deviation-approved",
		RelatedObservations: &[]oscal.RelatedObservation{{ObservationUuid: obsUUID}},
		Props:               propsOf("approver", w.Approver, "waiver-expires", w.Expires, "check-id", f.CheckID),
	}
	if w.Expired {
		risk.Status = "open"
	}
	if t, ok := parseWaiverExpiry(w.Expires); ok {
		risk.Deadline = &t
	}
	return risk
}

// parseWaiverExpiry reads a waiver's expiry: RFC 3339 (what the checks
// package writes) or a bare date (the start of that day, UTC).
func parseWaiverExpiry(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), true
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.UTC(), true
	}
	return time.Time{}, false
}

func findingProps(f findings.Finding) *[]oscal.Property {
	kv := []string{
		"check-id", f.CheckID,
		"result", string(f.Status),
		"observed-status", string(f.ObservedStatus),
		"severity", string(f.Severity),
		"area", f.Area,
		"target", f.Target,
		"object-kind", f.Object.Kind,
		"object-id", f.Object.ID,
	}
	return propsOf(append(kv, refPairs(f.Refs)...)...)
}

// refPairs lists framework ids as name/value pairs for propsOf, one per id.
func refPairs(r findings.Refs) []string {
	var kv []string
	for _, x := range []struct {
		name string
		ids  []string
	}{{"stig", r.STIG}, {"scg", r.SCG}, {"cis", r.CIS}, {"nist80053", r.NIST80053}} {
		for _, id := range x.ids {
			kv = append(kv, x.name, id)
		}
	}
	return kv
}

// propsOf builds hvaudit-namespaced props from name/value pairs, or nil
// when there are none. A pair whose value is empty is left out: OSCAL
// property values must be non-empty, single-line and trimmed, so values are
// cleaned and their whitespace collapsed.
func propsOf(kv ...string) *[]oscal.Property {
	var out []oscal.Property
	for i := 0; i+1 < len(kv); i += 2 {
		v := strings.Join(strings.Fields(clean(kv[i+1], false)), " ")
		if v == "" {
			continue
		}
		out = append(out, oscal.Property{Name: kv[i], Value: v, Ns: oscalNS})
	}
	if len(out) == 0 {
		return nil
	}
	return &out
}

var (
	controlRe  = regexp.MustCompile(`^([A-Za-z]{2})-(\d+)(?:\s*\((\d+)\))?$`)
	tokenStart = regexp.MustCompile(`^(\pL|_)`)
	tokenBad   = regexp.MustCompile(`[^\pL\pN._-]`)
)

// oscalControlID turns an 800-53 id as baselines write it ("IA-5(1)") into
// the id OSCAL catalogs use ("ia-5.1").
func oscalControlID(s string) (string, bool) {
	m := controlRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return "", false
	}
	id := strings.ToLower(m[1]) + "-" + strings.TrimLeft(m[2], "0")
	if m[3] != "" {
		id += "." + strings.TrimLeft(m[3], "0")
	}
	return id, true
}

// compareControlIDs orders "ac-2" < "ac-2.1" < "ac-12" < "cm-6".
func compareControlIDs(a, b string) int {
	key := func(s string) (string, int, int) {
		fam, rest, _ := strings.Cut(s, "-")
		base, enh, _ := strings.Cut(rest, ".")
		n, _ := strconv.Atoi(base)
		e, _ := strconv.Atoi(enh)
		return fam, n, e
	}
	fa, na, ea := key(a)
	fb, nb, eb := key(b)
	if c := strings.Compare(fa, fb); c != 0 {
		return c
	}
	if na != nb {
		return na - nb
	}
	return ea - eb
}

// oscalToken makes s a valid OSCAL token (an XML NCName): characters
// outside letters, digits, '.', '-', '_' become '_', and a leading
// non-letter gets a '_' in front.
func oscalToken(s string) string {
	s = tokenBad.ReplaceAllString(s, "_")
	if !tokenStart.MatchString(s) {
		s = "_" + s
	}
	return s
}
