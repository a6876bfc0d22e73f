package advisories

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// The msrc-cvelist feed: Microsoft's own CVE records (CVE JSON 5, as
// CVEProject/cvelistV5 publishes them, assigner "microsoft"). For every
// Windows Server product a record lists "lessThan": the first build of the
// monthly cumulative update that fixes it ("10.0.20348.5386"); datePublic
// is the Patch Tuesday. The records name no KB number.

// parseMicrosoftRecord reads one record and returns its Windows Server
// fixes. A record of another CNA, or not published, yields nothing.
func parseMicrosoftRecord(file string, data []byte, lineOf func(string) string) ([]windowsFix, error) {
	var r cveRecord
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: not a CVE record: %w", file, err)
	}
	if r.DataType != "CVE_RECORD" || r.CVEMetadata.CVEID == "" {
		return nil, fmt.Errorf("%s: not a CVE record (dataType %q, cveId %q)", file, r.DataType, r.CVEMetadata.CVEID)
	}
	if r.CVEMetadata.AssignerShortName != "microsoft" || r.CVEMetadata.State != "PUBLISHED" {
		return nil, nil
	}
	public := r.Containers.CNA.DatePublic
	if public == "" {
		public = r.CVEMetadata.DatePublished
	}
	day, err := time.Parse(time.RFC3339, public)
	if err != nil {
		return nil, fmt.Errorf("%s: datePublic %q: %w", file, public, err)
	}
	severity := ""
	for _, m := range r.Containers.CNA.Metrics {
		if m.CVSSV31 != nil {
			severity = strings.ToLower(m.CVSSV31.BaseSeverity)
		}
	}
	var out []windowsFix
	for _, a := range r.Containers.CNA.Affected {
		line := lineOf(a.Product)
		if line == "" {
			continue
		}
		for _, v := range a.Versions {
			if v.Status != "affected" {
				continue
			}
			if v.LessThan == "" {
				return nil, fmt.Errorf("%s: %s: %s is affected with no fixed build", file, r.CVEMetadata.CVEID, a.Product)
			}
			build, err := windowsBuild(line, v.LessThan)
			if err != nil {
				return nil, fmt.Errorf("%s: %s, %s: %w", file, r.CVEMetadata.CVEID, a.Product, err)
			}
			out = append(out, windowsFix{Month: dateOnly(day), Doc: cvelistPath(r.CVEMetadata.CVEID), File: file,
				CVE: r.CVEMetadata.CVEID, Line: line, Product: a.Product, SubType: "Security Update", Build: build, Severity: severity})
		}
	}
	return out, nil
}
