package report

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/collectors/inventory"
	"github.com/hvaudit/hvaudit/report/stig"
)

// The checklist document of one asset: its JSON shape (cklbDoc and the
// types under it) and how it is filled (cklbContext).

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
	GroupIDSrc               string            `json:"group_id_src"`
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

// cklbContext is what every checklist of a run shares.
type cklbContext struct {
	tool, base, stamp string
	run               *Run
}

func (c cklbContext) doc(a *asset, automated map[string][]string) *cklbDoc {
	b := a.bench
	docID := stableUUID("cklb", a.target.Name, a.kind, a.id)
	stigUUID := stableUUID("cklb/stig", docID, b.StigID)
	st := cklbStig{
		StigName: b.Title, DisplayName: b.DisplayName, StigID: b.StigID, ReleaseInfo: b.ReleaseInfo,
		Version: b.Version, UUID: stigUUID, ReferenceIdentifier: b.ReferenceIdentifier,
		Rules: make([]cklbRule, 0, len(b.Rules)),
	}
	for i := range b.Rules {
		st.Rules = append(st.Rules, c.rule(a, &b.Rules[i], docID, stigUUID, automated))
	}
	st.Size = len(st.Rules)
	td := c.targetData(a)
	return &cklbDoc{
		Title: clean(td.HostName+" - "+b.DisplayName, false), ID: docID, Mode: 1, HasPath: true,
		TargetData: td, Stigs: []cklbStig{st}, CKLBVersion: CKLBVersion,
	}
}

func (c cklbContext) rule(a *asset, sr *stig.Rule, docID, stigUUID string, automated map[string][]string) cklbRule {
	out := cklbRule{
		UUID: stableUUID("cklb/rule", docID, sr.GroupID), StigUUID: stigUUID,
		GroupID: sr.GroupID, GroupIDSrc: sr.GroupID, RuleID: sr.RuleID(), RuleIDSrc: sr.RuleIDSrc,
		Weight: orDefault(sr.Weight, "10.0"), Classification: "UNCLASSIFIED", Severity: sr.Severity,
		RuleVersion: sr.Version, GroupTitle: sr.GroupTitle, RuleTitle: sr.Title, FixText: sr.FixText,
		FalsePositives: sr.FalsePositives, FalseNegatives: sr.FalseNegatives, Discussion: sr.Discussion,
		CheckContent: sr.CheckContent, Documentable: orDefault(sr.Documentable, "false"), Mitigations: sr.Mitigations,
		PotentialImpacts: sr.PotentialImpacts, ThirdPartyTools: sr.ThirdPartyTools, MitigationControl: sr.MitigationControl,
		Responsibility: sr.Responsibility, SecurityOverrideGuidance: sr.SecurityOverrideGuidance, IAControls: sr.IAControls,
		CheckContentRef: cklbRef{Href: a.bench.CheckContentHref, Name: "M"},
		LegacyIDs:       append([]string{}, sr.LegacyIDs...), CCIs: append([]string{}, sr.CCIs...),
		GroupTree: []cklbGroup{{ID: sr.GroupID, Title: sr.GroupTitle, Description: "<GroupDescription></GroupDescription>"}},
		CreatedAt: c.stamp, UpdatedAt: c.stamp, STIGUuid: stigUUID, Overrides: map[string]string{},
	}
	fs := a.byRule[sr.Version]
	if len(fs) == 0 {
		out.Status = cklbNotReviewed
		if ids := automated[sr.Version]; len(ids) > 0 {
			out.Comments = clean(fmt.Sprintf("Not reviewed: %s checks this rule (%s) but has no result for this asset in this run; review it manually.",
				c.tool, strings.Join(ids, ", ")), false)
		} else {
			out.Comments = clean("Not reviewed: no "+c.tool+" check automates this rule; review it manually.", false)
		}
		return out
	}
	status := cklbNotApplicable
	var checkIDs, details, comments []string
	for _, f := range fs {
		if s := cklbStatus(f.Status); cklbRank[s] > cklbRank[status] {
			status = s
		}
		if !slices.Contains(checkIDs, f.CheckID) {
			checkIDs = append(checkIDs, f.CheckID)
		}
		details = append(details, cklbDetail(f))
		if w := f.Waiver; w != nil {
			what := "Waiver"
			if f.Status != findings.StatusWaived {
				what = "Expired waiver (the finding stays open)"
			}
			comments = append(comments, clean(what+" for "+f.CheckID+" on "+objectLabel(f.Object)+": "+waiverText(w), true))
		}
	}
	comments = append(comments, clean("Assessed automatically by "+c.tool+" against baseline "+c.base+" (checks "+strings.Join(checkIDs, ", ")+").", false))
	out.Status = status
	out.Comments = strings.Join(comments, "\n")
	out.FindingDetails = strings.Join(details, "\n\n")
	return out
}

// cklbDetail is one finding's part of finding_details.
func cklbDetail(f findings.Finding) string {
	var b strings.Builder
	status := strings.ToUpper(string(f.Status))
	if f.Status == findings.StatusWaived && f.ObservedStatus != "" {
		status += " (observed " + string(f.ObservedStatus) + ")"
	}
	b.WriteString("[" + status + "] " + f.CheckID + " (" + f.Title + ") on " + objectLabel(f.Object))
	if f.Object.ID != "" && f.Object.ID != f.Object.Name {
		b.WriteString(" (" + f.Object.ID + ")")
	}
	if m := messageBeyondEvidence(f); m != "" {
		b.WriteString(": " + m)
	}
	for _, e := range f.Evidence {
		b.WriteString("\n  observed: " + evidenceLabel(e.Field) + " = " + observedText(e.Observed))
		if e.Source != "" {
			b.WriteString(" (from " + e.Source + ")")
		}
	}
	if f.Expected != "" {
		b.WriteString("\n  expected: " + f.Expected)
	}
	return clean(b.String(), true)
}

// targetData describes the asset: STIG Viewer's "target" is the asset.
func (c cklbContext) targetData(a *asset) cklbTargetData {
	td := cklbTargetData{TargetType: "Computing", Role: "None", HostName: clean(orDefault(a.hostName, a.name), false)}
	if ip := net.ParseIP(a.name); ip != nil {
		td.IPAddress = ip.String()
	} else if strings.Contains(a.name, ".") {
		td.FQDN = clean(a.name, false)
	}
	what := map[string]string{inventory.KindTarget: "Management server", inventory.KindHost: "Host", inventory.KindVM: "Virtual machine"}[a.kind]
	t := a.target
	line := what + " " + a.name
	var about []string
	if a.id != a.name {
		about = append(about, "id "+a.id)
	}
	if a.kind == inventory.KindHost {
		for _, h := range t.Hosts {
			if h.ID == a.id {
				about = append(about, strings.TrimSpace(h.Product+" "+h.Version+" build "+h.Build))
			}
		}
	}
	if len(about) > 0 {
		line += " (" + strings.Join(about, ", ") + ")"
	}
	if a.kind != inventory.KindTarget {
		line += " of target " + t.Name
	}
	if p := product(t); p != "-" || t.URI != "" {
		line += ": " + strings.TrimSpace(strings.TrimSuffix(p, "-")+" ("+t.Platform+")") + ", " + t.URI
	}
	notes := []string{clean(line+".", false)}
	for _, n := range a.notes {
		notes = append(notes, clean(n, false))
	}
	when := ""
	if !c.run.Run.Finished.IsZero() {
		when = " on " + c.run.Run.Finished.UTC().Format(time.RFC3339)
	}
	notes = append(notes, clean("Checklist written by "+c.tool+" from run "+orDefault(c.run.Run.ID, "(no id)")+when+
		", baseline "+c.base+"; benchmark data: "+a.bench.Source.Description+".", false))
	td.Comments = strings.Join(notes, "\n")
	return td
}
