package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	sarif "github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/hvaudit/hvaudit/checks/findings"
)

// sarifWriter writes SARIF 2.1.0 (OASIS) for code-scanning dashboards and
// SIEMs that ingest it.
//
//   - tool.driver.rules: one rule per check in the run (passing ones too, so
//     the rule list is the catalog that was applied), sorted by id, with the
//     title as shortDescription, the expected state as fullDescription, the
//     remediation as help, the first docs reference as helpUri and area,
//     severity, GitHub's security-severity and the framework ids as
//     properties.
//   - results: one per fail and error finding, and one per waived finding
//     carrying an accepted external suppression with the waiver. A fail is
//     kind "fail" with a level from the severity (critical and high: error;
//     medium and low: warning; info: note). An error is kind "open" (the
//     check could not decide) and, as SARIF §3.27.9 requires of any kind but
//     "fail", level "none". Passing and not-applicable findings are not
//     results.
//   - locations are logical: the object, fully qualified as
//     target/kind/id. There is no file to point at.
//   - partialFingerprints["hvaudit/v1"] hashes (target, check id, object
//     kind, object id), the keys `hvaudit diff` matches on, so consumers
//     track one finding across runs.
//   - a target that could not be collected is an error notification in the
//     invocation, whose executionSuccessful is false.
type sarifWriter struct{}

func (sarifWriter) Format() string { return "sarif" }

// sarifInformationURI is where the tool's documentation lives; it is data
// in the report, never fetched.
const sarifInformationURI = "https://github.com/hvaudit/hvaudit"

// sarifFingerprintKey names hvaudit's partial fingerprint; the version
// suffix changes if the hashed keys ever do.
const sarifFingerprintKey = "hvaudit/v1"

func (sarifWriter) Write(w io.Writer, run *Run) error {
	r, err := prepare(run)
	if err != nil {
		return err
	}
	doc := buildSARIF(r)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("sarif: %w", err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

func buildSARIF(r *Run) *sarif.Report {
	doc := sarif.NewReport()
	toolName := orDefault(r.Tool.Name, "hvaudit")
	sr := sarif.NewRunWithInformationURI(toolName, sarifInformationURI)
	if v := r.Tool.Version; v != "" {
		sr.Tool.Driver.WithVersion(v)
		sr.Tool.Driver.WithSemanticVersion(strings.TrimPrefix(v, "v"))
	}

	// Rules first, sorted by check id, so result.ruleIndex is stable.
	first := map[string]findings.Finding{}
	var ids []string
	for _, f := range r.Findings {
		if _, ok := first[f.CheckID]; !ok {
			first[f.CheckID] = f
			ids = append(ids, f.CheckID)
		}
	}
	slices.Sort(ids)
	index := map[string]int{}
	for i, id := range ids {
		index[id] = i
		sr.Tool.Driver.Rules = append(sr.Tool.Driver.Rules, sarifRule(first[id]))
	}

	for _, f := range r.Findings {
		if res := sarifResult(f, index[f.CheckID]); res != nil {
			sr.AddResult(res)
		}
	}

	inv := sarif.NewInvocation().WithExecutionSuccessful(true)
	if !r.Run.Started.IsZero() {
		inv.WithStartTimeUtc(r.Run.Started.UTC().Format(time.RFC3339Nano))
	}
	if !r.Run.Finished.IsZero() {
		inv.WithEndTimeUtc(r.Run.Finished.UTC().Format(time.RFC3339Nano))
	}
	for _, t := range r.Targets {
		if t.Status == TargetOK {
			continue
		}
		inv.WithExecutionSuccessful(false)
		n := sarif.NewNotification()
		n.Level = "error"
		n.WithMessage(sarif.NewTextMessage(clean(t.Name, false) + " could not be audited: " +
			clean(orDefault(t.Error, "no error message recorded"), true)))
		n.WithProperties(sarif.NewPropertyBag().Add("target", clean(t.Name, false)).Add("uri", clean(t.URI, false)))
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, n)
	}
	sr.AddInvocation(inv)

	if r.Run.ID != "" {
		// GitHub reads the part before the last slash as the analysis
		// category: one category per baseline.
		sr.WithAutomationDetails(sarif.NewRunAutomationDetails().
			WithID(toolName + "/" + orDefault(r.Run.Baseline.ID, "baseline") + "/" + r.Run.ID))
	}
	props := sarif.NewPropertyBag().
		Add("run_id", r.Run.ID).
		Add("baseline", r.Run.Baseline).
		Add("complete", r.Summary.Complete).
		Add("score", r.Summary.Score).
		Add("score_without_waivers", r.Summary.ScoreWithoutWaivers).
		Add("counts", r.Summary.Counts)
	sr.WithProperties(props)
	doc.AddRun(sr)
	return doc
}

func sarifRule(f findings.Finding) *sarif.ReportingDescriptor {
	rule := sarif.NewRule(f.CheckID).
		WithShortDescription(sarif.NewMultiformatMessageString().WithText(clean(orDefault(f.Title, f.CheckID), false)))
	if f.Expected != "" {
		rule.WithFullDescription(sarif.NewMultiformatMessageString().WithText("Expected: " + clean(f.Expected, true)))
	}
	help := clean(f.Remediation, true)
	if refs := refsText(f.Refs); refs != "" {
		if help != "" {
			help += "\n\n"
		}
		help += "References: " + refs
	}
	if help != "" {
		rule.WithHelp(sarif.NewMultiformatMessageString().WithText(help))
	}
	// helpUri must be an absolute URI; the first docs reference that is one.
	for _, d := range f.Refs.Docs {
		if u, err := url.Parse(d); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
			rule.WithHelpURI(d)
			break
		}
	}
	cfg := sarif.NewReportingConfiguration()
	cfg.Level = sarifLevel(f.Severity)
	rule.WithDefaultConfiguration(cfg)

	props := sarif.NewPropertyBag().
		Add("area", f.Area).
		Add("severity", string(f.Severity)).
		Add("refs", f.Refs)
	if s := sarifSecuritySeverity(f.Severity); s != "" {
		props.Add("security-severity", s)
	}
	props.WithTags([]string{"security", "hvaudit", f.Area})
	rule.WithProperties(props)
	return rule
}

// sarifResult turns a finding into a result, or nil for the statuses that
// are not results (pass, not_applicable).
func sarifResult(f findings.Finding, ruleIndex int) *sarif.Result {
	decided := f.Status
	if f.Status == findings.StatusWaived {
		decided = f.ObservedStatus
	}
	res := sarif.NewRuleResult(f.CheckID).WithRuleIndex(ruleIndex)
	switch {
	case f.Status == findings.StatusFail, f.Status == findings.StatusWaived && decided != findings.StatusError:
		res.WithKind("fail").WithLevel(sarifLevel(f.Severity))
	case f.Status == findings.StatusError, f.Status == findings.StatusWaived:
		res.WithKind("open").WithLevel("none")
	default:
		return nil
	}

	obj := objectLabel(f.Object)
	text := orDefault(f.Message, f.Title)
	if f.Status == findings.StatusError || decided == findings.StatusError {
		text = "could not be checked: " + text
	}
	subject := obj
	if f.Object.Kind != "target" {
		subject += " on target " + f.Target
	}
	res.WithMessage(sarif.NewTextMessage(clean(subject+": "+text, false)))

	ll := sarif.NewLogicalLocation().
		WithName(clean(orDefault(f.Object.Name, f.Object.ID), false)).
		WithFullyQualifiedName(clean(f.Target+"/"+f.Object.Kind+"/"+f.Object.ID, false)).
		WithKind("resource")
	res.AddLocation(sarif.NewLocation().
		WithLogicalLocations([]*sarif.LogicalLocation{ll}).
		WithMessage(sarif.NewTextMessage(obj)))

	res.WithPartialFingerprints(map[string]string{sarifFingerprintKey: findingFingerprint(f)})

	evidence := make([]map[string]any, 0, len(f.Evidence))
	for _, e := range f.Evidence {
		evidence = append(evidence, map[string]any{"field": e.Field, "observed": e.Observed, "source": e.Source})
	}
	props := sarif.NewPropertyBag().
		Add("status", string(f.Status)).
		Add("target", f.Target).
		Add("object", f.Object).
		Add("severity", string(f.Severity)).
		Add("area", f.Area).
		Add("evidence", evidence).
		Add("expected", f.Expected)
	if f.ObservedStatus != "" {
		props.Add("observed_status", string(f.ObservedStatus))
	}
	if f.Waiver != nil {
		props.Add("waiver", f.Waiver)
	}
	res.WithProperties(props)

	if f.Status == findings.StatusWaived && f.Waiver != nil {
		sup := sarif.NewSuppression().WithKind("external").WithStatus("accepted").
			WithJustification(waiverText(f.Waiver))
		res.AddSuppression(sup)
	}
	return res
}

// sarifLevel is the SARIF level of a failing check of a severity.
func sarifLevel(s findings.Severity) string {
	switch s {
	case findings.SeverityCritical, findings.SeverityHigh:
		return "error"
	case findings.SeverityMedium, findings.SeverityLow:
		return "warning"
	}
	return "note"
}

// sarifSecuritySeverity is GitHub code scanning's numeric severity (its
// bands: critical > 9.0, high 7.0-8.9, medium 4.0-6.9, low 0.1-3.9).
// Info has none.
func sarifSecuritySeverity(s findings.Severity) string {
	switch s {
	case findings.SeverityCritical:
		return "9.5"
	case findings.SeverityHigh:
		return "8.0"
	case findings.SeverityMedium:
		return "5.5"
	case findings.SeverityLow:
		return "3.0"
	}
	return ""
}

// findingFingerprint identifies a finding across runs by the keys `diff`
// matches on (DESIGN.md §3): target, check id and object. It is
// independent of status, message and time.
func findingFingerprint(f findings.Finding) string {
	h := sha256.New()
	for _, s := range []string{f.Target, f.CheckID, f.Object.Kind, f.Object.ID} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}
