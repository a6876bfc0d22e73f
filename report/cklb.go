package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/hvaudit/hvaudit/checks"
)

// cklbWriter writes a DISA STIG Viewer 3 checklist (CKLB, JSON) for the
// findings whose check carries STIG ids (refs.stig), for DoD auditors who
// work in STIG Viewer or STIG Manager.
//
//   - One stig per benchmark, told by the STIG id's prefix: ESXI-80 is the
//     vSphere 8.0 ESXi STIG, VMCH-80 the Virtual Machine STIG, VCSA-80 the
//     vCenter STIG; an unknown prefix becomes a stig of its own named after
//     it.
//   - One rule per STIG id, the id as rule_version (DISA's "STIG ID"). A
//     rule sums up every finding mapped to it, over all objects and checks:
//     open if any is open, else not_reviewed if any is, else not_a_finding
//     if any passed, else not_applicable. Per finding: pass → not_a_finding,
//     fail → open, error → not_reviewed, not_applicable → not_applicable,
//     waived → open (a waiver accepts a risk, it does not close the
//     finding) with the waiver in comments. finding_details lists each
//     object's outcome and evidence.
//   - target_data comes from the run's target. A checklist describes one
//     asset, so a run over several targets gives a roll-up whose host_name
//     lists them all and whose comments say so; audit one target per run for
//     one checklist per asset.
//
// hvaudit knows a rule's STIG id but not DISA's group id (V-…) or rule id
// (SV-…_rule), nor the benchmark's release, CCIs and check text: those
// fields are left empty. Tools that merge a checklist into a benchmark by
// rule id need them filled in from the benchmark.
type cklbWriter struct{}

func (cklbWriter) Format() string { return "cklb" }

// CKLBVersion is the cklb_version the writer emits.
const CKLBVersion = "1.0"

// CKLB rule statuses.
const (
	cklbNotAFinding   = "not_a_finding"
	cklbOpen          = "open"
	cklbNotApplicable = "not_applicable"
	cklbNotReviewed   = "not_reviewed"
)

// cklbBenchmark names the DISA STIG a family of STIG ids belongs to.
type cklbBenchmark struct {
	ID, Name, Display string
}

// cklbBenchmarks maps STIG id prefixes to benchmarks. The ids and names
// follow DISA's published vSphere 8.0 STIGs.
var cklbBenchmarks = map[string]cklbBenchmark{
	"ESXI-80": {"VMW_vSphere_8-0_ESXi_STIG", "VMware vSphere 8.0 ESXi Security Technical Implementation Guide", "VMware vSphere 8.0 ESXi"},
	"VMCH-80": {"VMW_vSphere_8-0_Virtual_Machine_STIG", "VMware vSphere 8.0 Virtual Machine Security Technical Implementation Guide", "VMware vSphere 8.0 Virtual Machine"},
	"VCSA-80": {"VMW_vSphere_8-0_vCenter_STIG", "VMware vSphere 8.0 vCenter Security Technical Implementation Guide", "VMware vSphere 8.0 vCenter"},
}

func benchmarkFor(stigID string) cklbBenchmark {
	parts := strings.SplitN(stigID, "-", 3)
	prefix := stigID
	if len(parts) == 3 {
		prefix = parts[0] + "-" + parts[1]
	}
	if b, ok := cklbBenchmarks[prefix]; ok {
		return b
	}
	return cklbBenchmark{ID: prefix, Name: prefix + " STIG (benchmark not identified by hvaudit)", Display: prefix}
}

// CKLB document. Field order follows the files STIG Viewer 3 writes.
type cklbDoc struct {
	Title       string         `json:"title"`
	ID          string         `json:"id"`
	Active      bool           `json:"active"`
	Mode        int            `json:"mode"`
	HasPath     bool           `json:"has_path"`
	TargetData  cklbTargetData `json:"target_data"`
	Stigs       []cklbStig     `json:"stigs"`
	CKLBVersion string         `json:"cklb_version"`
}

type cklbTargetData struct {
	TargetType     string `json:"target_type"`
	HostName       string `json:"host_name"`
	IPAddress      string `json:"ip_address"`
	MACAddress     string `json:"mac_address"`
	FQDN           string `json:"fqdn"`
	Comments       string `json:"comments"`
	Role           string `json:"role"`
	IsWebDatabase  bool   `json:"is_web_database"`
	TechnologyArea string `json:"technology_area"`
	WebDBSite      string `json:"web_db_site"`
	WebDBInstance  string `json:"web_db_instance"`
}

type cklbStig struct {
	StigName            string     `json:"stig_name"`
	DisplayName         string     `json:"display_name"`
	StigID              string     `json:"stig_id"`
	ReleaseInfo         string     `json:"release_info"`
	Version             string     `json:"version"`
	UUID                string     `json:"uuid"`
	ReferenceIdentifier string     `json:"reference_identifier"`
	Size                int        `json:"size"`
	Rules               []cklbRule `json:"rules"`
}

type cklbRule struct {
	UUID                     string            `json:"uuid"`
	StigUUID                 string            `json:"stig_uuid"`
	TargetKey                *string           `json:"target_key"`
	StigRef                  *string           `json:"stig_ref"`
	GroupID                  string            `json:"group_id"`
	RuleID                   string            `json:"rule_id"`
	RuleIDSrc                string            `json:"rule_id_src"`
	Weight                   string            `json:"weight"`
	Classification           string            `json:"classification"`
	Severity                 string            `json:"severity"`
	RuleVersion              string            `json:"rule_version"`
	GroupTitle               string            `json:"group_title"`
	RuleTitle                string            `json:"rule_title"`
	FixText                  string            `json:"fix_text"`
	FalsePositives           string            `json:"false_positives"`
	FalseNegatives           string            `json:"false_negatives"`
	Discussion               string            `json:"discussion"`
	CheckContent             string            `json:"check_content"`
	Documentable             string            `json:"documentable"`
	Mitigations              string            `json:"mitigations"`
	PotentialImpacts         string            `json:"potential_impacts"`
	ThirdPartyTools          string            `json:"third_party_tools"`
	MitigationControl        string            `json:"mitigation_control"`
	Responsibility           string            `json:"responsibility"`
	SecurityOverrideGuidance string            `json:"security_override_guidance"`
	IAControls               string            `json:"ia_controls"`
	CheckContentRef          cklbRef           `json:"check_content_ref"`
	LegacyIDs                []string          `json:"legacy_ids"`
	CCIs                     []string          `json:"ccis"`
	GroupTree                []cklbGroup       `json:"group_tree"`
	CreatedAt                string            `json:"createdAt"`
	UpdatedAt                string            `json:"updatedAt"`
	STIGUuid                 string            `json:"STIGUuid"`
	Status                   string            `json:"status"`
	Overrides                map[string]string `json:"overrides"`
	Comments                 string            `json:"comments"`
	FindingDetails           string            `json:"finding_details"`
}

type cklbRef struct {
	Href string `json:"href"`
	Name string `json:"name"`
}

type cklbGroup struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description"`
}

func (cklbWriter) Write(w io.Writer, run *Run) error {
	r, err := prepare(run)
	if err != nil {
		return err
	}
	doc := buildCKLB(r)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("cklb: %w", err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// cklbStatus maps one finding to a checklist status.
func cklbStatus(s checks.Status) string {
	switch s {
	case checks.StatusPass:
		return cklbNotAFinding
	case checks.StatusFail, checks.StatusWaived:
		return cklbOpen
	case checks.StatusNotApplicable:
		return cklbNotApplicable
	}
	return cklbNotReviewed
}

// cklbRank orders statuses for the roll-up: the worst one wins.
var cklbRank = map[string]int{cklbOpen: 3, cklbNotReviewed: 2, cklbNotAFinding: 1, cklbNotApplicable: 0}

// cklbSeverity turns hvaudit's severity into a STIG category's word (CAT I
// high, CAT II medium, CAT III low). DISA's own severity for the rule is
// not known to hvaudit; this is the check's.
func cklbSeverity(s checks.Severity) string {
	switch s {
	case checks.SeverityCritical, checks.SeverityHigh:
		return "high"
	case checks.SeverityMedium:
		return "medium"
	}
	return "low"
}

func buildCKLB(r *Run) *cklbDoc {
	toolName := orDefault(r.Tool.Name, "hvaudit")
	tool := strings.TrimSpace(toolName + " " + r.Tool.Version)
	stamp := oscalTime(r.Run.Finished, r.Run.Started).Format("2006-01-02T15:04:05.000Z")
	base := strings.TrimSpace(r.Run.Baseline.ID + " " + r.Run.Baseline.Version)

	type ruleAcc struct {
		findings []checks.Finding
	}
	type stigAcc struct {
		bench cklbBenchmark
		rules map[string]*ruleAcc
	}
	stigs := map[string]*stigAcc{}
	targets := map[string]bool{}
	for _, f := range r.Findings {
		for _, id := range f.Refs.STIG {
			id = strings.TrimSpace(id)
			if id == "" {
				continue
			}
			b := benchmarkFor(id)
			sa := stigs[b.ID]
			if sa == nil {
				sa = &stigAcc{bench: b, rules: map[string]*ruleAcc{}}
				stigs[b.ID] = sa
			}
			ra := sa.rules[id]
			if ra == nil {
				ra = &ruleAcc{}
				sa.rules[id] = ra
			}
			ra.findings = append(ra.findings, f)
			targets[f.Target] = true
		}
	}

	doc := &cklbDoc{Mode: 1, HasPath: true, CKLBVersion: CKLBVersion, Stigs: []cklbStig{}}
	stigIDs := make([]string, 0, len(stigs))
	for id := range stigs {
		stigIDs = append(stigIDs, id)
	}
	slices.Sort(stigIDs)
	for _, sid := range stigIDs {
		sa := stigs[sid]
		stigUUID := stableUUID("cklb/stig", sid)
		st := cklbStig{
			StigName: sa.bench.Name, DisplayName: sa.bench.Display, StigID: sid,
			ReleaseInfo: "", Version: "", UUID: stigUUID, ReferenceIdentifier: "",
		}
		ruleIDs := make([]string, 0, len(sa.rules))
		for id := range sa.rules {
			ruleIDs = append(ruleIDs, id)
		}
		slices.Sort(ruleIDs)
		for _, rid := range ruleIDs {
			st.Rules = append(st.Rules, cklbRuleOf(rid, stigUUID, sa.rules[rid].findings, stamp, tool, base))
		}
		st.Size = len(st.Rules)
		doc.Stigs = append(doc.Stigs, st)
	}

	doc.TargetData = cklbTarget(r, targets, tool, base)
	names := make([]string, 0, len(doc.Stigs))
	for _, s := range doc.Stigs {
		names = append(names, s.DisplayName)
	}
	doc.Title = clean(strings.TrimSpace(doc.TargetData.HostName+" - "+orDefault(strings.Join(names, ", "), "no STIG rules")), false)
	targetNames := make([]string, 0, len(targets))
	for t := range targets {
		targetNames = append(targetNames, t)
	}
	slices.Sort(targetNames)
	doc.ID = stableUUID("cklb", append([]string{r.Run.Baseline.ID}, targetNames...)...)
	return doc
}

func cklbRuleOf(stigID, stigUUID string, fs []checks.Finding, stamp, tool, base string) cklbRule {
	status, worst := cklbNotApplicable, checks.SeverityInfo
	var titles, fixes, checkIDs []string
	var details, comments []string
	for _, f := range fs {
		if s := cklbStatus(f.Status); cklbRank[s] > cklbRank[status] {
			status = s
		}
		if f.Severity.Rank() > worst.Rank() {
			worst = f.Severity
		}
		if !slices.Contains(checkIDs, f.CheckID) {
			checkIDs = append(checkIDs, f.CheckID)
			titles = append(titles, clean(f.Title, false))
			if f.Remediation != "" {
				fixes = append(fixes, clean(f.CheckID+": "+f.Remediation, true))
			}
		}
		details = append(details, cklbDetail(f))
		if w := f.Waiver; w != nil {
			what := "Waiver"
			if f.Status != checks.StatusWaived {
				what = "Expired waiver (the finding stays open)"
			}
			comments = append(comments, clean(what+" for "+f.CheckID+" on "+objectLabel(f.Object)+" (target "+f.Target+"): "+waiverText(w), true))
		}
	}
	comments = append(comments, clean("Assessed automatically by "+tool+" against baseline "+base+" (checks "+strings.Join(checkIDs, ", ")+").", false))
	return cklbRule{
		UUID:           stableUUID("cklb/rule", stigID),
		StigUUID:       stigUUID,
		Weight:         "10.0",
		Classification: "UNCLASSIFIED",
		Severity:       cklbSeverity(worst),
		RuleVersion:    clean(stigID, false),
		RuleTitle:      strings.Join(titles, " / "),
		FixText:        strings.Join(fixes, "\n\n"),
		CheckContent:   "Automated check by " + tool + ": " + strings.Join(checkIDs, ", ") + ". See finding_details for each object's observed values.",
		Documentable:   "false",
		LegacyIDs:      []string{},
		CCIs:           []string{},
		GroupTree:      []cklbGroup{},
		CreatedAt:      stamp,
		UpdatedAt:      stamp,
		STIGUuid:       stigUUID,
		Status:         status,
		Overrides:      map[string]string{},
		Comments:       strings.Join(comments, "\n"),
		FindingDetails: strings.Join(details, "\n\n"),
	}
}

// cklbDetail is one finding's part of finding_details.
func cklbDetail(f checks.Finding) string {
	var b strings.Builder
	status := strings.ToUpper(string(f.Status))
	if f.Status == checks.StatusWaived && f.ObservedStatus != "" {
		status += " (observed " + string(f.ObservedStatus) + ")"
	}
	b.WriteString("[" + status + "] " + f.CheckID + " on " + objectLabel(f.Object))
	if f.Object.ID != "" && f.Object.ID != f.Object.Name {
		b.WriteString(" (" + f.Object.ID + ")")
	}
	b.WriteString(", target " + f.Target + ": " + orDefault(f.Message, f.Title))
	for _, e := range f.Evidence {
		b.WriteString("\n  observed: " + e.Field + " = " + observedText(e.Observed))
		if e.Source != "" {
			b.WriteString(" (from " + e.Source + ")")
		}
	}
	if f.Expected != "" {
		b.WriteString("\n  expected: " + f.Expected)
	}
	return clean(b.String(), true)
}

// cklbTarget fills target_data from the run's target.
func cklbTarget(r *Run, withRules map[string]bool, tool, base string) cklbTargetData {
	td := cklbTargetData{TargetType: "Computing", Role: "None"}
	var names []string
	var chosen []TargetResult
	for _, t := range r.Targets {
		if withRules[t.Name] {
			chosen = append(chosen, t)
			names = append(names, t.Name)
		}
	}
	// Targets with STIG findings not listed in the run still count.
	for name := range withRules {
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	var notes []string
	switch {
	case len(names) == 1:
		name := names[0]
		td.HostName = clean(name, false)
		if ip := net.ParseIP(name); ip != nil {
			td.IPAddress = ip.String()
		} else if strings.Contains(name, ".") {
			td.FQDN = clean(name, false)
		}
		if len(chosen) == 1 {
			t := chosen[0]
			notes = append(notes, clean(strings.TrimSpace(product(t)+" ("+t.Platform+"), "+t.URI), false))
		}
	case len(names) > 1:
		td.HostName = clean(strings.Join(names, ", "), false)
		notes = append(notes, "Roll-up of "+plural(len(names), "target")+": each rule sums up every object on every target. Audit one target per run for a checklist per asset.")
		for _, t := range chosen {
			notes = append(notes, clean(t.Name+": "+strings.TrimSpace(product(t)+" ("+t.Platform+"), "+t.URI), false))
		}
	}
	for _, t := range r.Targets {
		if t.Status != TargetOK {
			notes = append(notes, clean("Not audited: "+t.Name+": "+orDefault(t.Error, "no error message recorded"), false))
		}
	}
	when := ""
	if !r.Run.Finished.IsZero() {
		when = " on " + r.Run.Finished.UTC().Format(time.RFC3339)
	}
	notes = append(notes, clean("Checklist written by "+tool+" from run "+orDefault(r.Run.ID, "(no id)")+when+", baseline "+base+".", false))
	td.Comments = strings.Join(notes, "\n")
	return td
}
