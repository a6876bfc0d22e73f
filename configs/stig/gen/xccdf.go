package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"regexp"
	"strings"

	"github.com/hvaudit/hvaudit/report/stig"
)

// XCCDF 1.1 as DISA publishes STIGs (U_…_Manual-xccdf.xml): only the
// parts a checklist needs.
type xccdfBenchmark struct {
	ID        string       `xml:"id,attr"`
	Title     string       `xml:"title"`
	PlainText []xccdfPlain `xml:"plain-text"`
	Version   string       `xml:"version"`
	Groups    []xccdfGroup `xml:"Group"`
}

type xccdfPlain struct {
	ID   string `xml:"id,attr"`
	Text string `xml:",chardata"`
}

type xccdfGroup struct {
	ID    string    `xml:"id,attr"`
	Title string    `xml:"title"`
	Rule  xccdfRule `xml:"Rule"`
}

type xccdfRule struct {
	ID          string `xml:"id,attr"`
	Severity    string `xml:"severity,attr"`
	Weight      string `xml:"weight,attr"`
	Version     string `xml:"version"`
	Title       string `xml:"title"`
	Description string `xml:"description"`
	Reference   struct {
		Identifier string `xml:"identifier"`
	} `xml:"reference"`
	Idents []struct {
		System string `xml:"system,attr"`
		Value  string `xml:",chardata"`
	} `xml:"ident"`
	FixText string `xml:"fixtext"`
	Check   struct {
		Ref struct {
			Href string `xml:"href,attr"`
		} `xml:"check-content-ref"`
		Content string `xml:"check-content"`
	} `xml:"check"`
}

// parseXCCDF reads a DISA XCCDF benchmark: its identity and every rule.
func parseXCCDF(data []byte) (*stig.Benchmark, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // DISA's files often start with a BOM
	var x xccdfBenchmark
	if err := xml.Unmarshal(data, &x); err != nil {
		return nil, fmt.Errorf("XCCDF: %w", err)
	}
	b := &stig.Benchmark{StigID: x.ID, Title: strings.TrimSpace(x.Title), Version: strings.TrimSpace(x.Version)}
	for _, p := range x.PlainText {
		if p.ID == "release-info" {
			b.ReleaseInfo = strings.TrimSpace(p.Text)
		}
	}
	b.DisplayName = displayName(b.Title)
	for _, g := range x.Groups {
		r := g.Rule
		rule := stig.Rule{
			GroupID: g.ID, GroupTitle: strings.TrimSpace(g.Title), RuleIDSrc: r.ID,
			Version: strings.TrimSpace(r.Version), Severity: r.Severity, Weight: orDefault(r.Weight, "10.0"),
			Title: strings.TrimSpace(r.Title), CCIs: []string{},
			FixText: trimText(r.FixText), CheckContent: trimText(r.Check.Content),
		}
		for _, id := range r.Idents {
			v := strings.TrimSpace(id.Value)
			switch {
			case strings.HasPrefix(v, "CCI-"):
				rule.CCIs = append(rule.CCIs, v)
			case strings.HasSuffix(id.System, "/legacy"):
				rule.LegacyIDs = append(rule.LegacyIDs, v)
			}
		}
		setDescription(&rule, r.Description)
		if b.ReferenceIdentifier == "" {
			b.ReferenceIdentifier = strings.TrimSpace(r.Reference.Identifier)
		}
		if b.CheckContentHref == "" {
			b.CheckContentHref = r.Check.Ref.Href
		}
		b.Rules = append(b.Rules, rule)
	}
	return b, nil
}

// descriptionTag matches one element of the escaped pseudo-XML DISA puts
// in a rule's description (<VulnDiscussion>…</VulnDiscussion><FalsePositives>…).
var descriptionTag = regexp.MustCompile(`(?s)<(\w+)>(.*?)</(\w+)>`)

func setDescription(r *stig.Rule, desc string) {
	fields := map[string]*string{
		"VulnDiscussion": &r.Discussion, "FalsePositives": &r.FalsePositives, "FalseNegatives": &r.FalseNegatives,
		"Documentable": &r.Documentable, "Mitigations": &r.Mitigations, "PotentialImpacts": &r.PotentialImpacts,
		"ThirdPartyTools": &r.ThirdPartyTools, "MitigationControl": &r.MitigationControl,
		"Responsibility": &r.Responsibility, "SeverityOverrideGuidance": &r.SecurityOverrideGuidance,
		"IAControls": &r.IAControls,
	}
	for _, m := range descriptionTag.FindAllStringSubmatch(desc, -1) {
		if m[1] != m[3] {
			continue
		}
		if p, ok := fields[m[1]]; ok {
			*p = trimText(m[2])
		}
	}
}

// displayName is a benchmark title as STIG Viewer lists it: without the
// "Security Technical Implementation Guide" every title ends in.
func displayName(title string) string {
	return strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(title), "Security Technical Implementation Guide"))
}

func trimText(s string) string { return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n")) }

func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}
