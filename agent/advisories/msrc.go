package advisories

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// The msrc-cvrf feed: Microsoft's monthly security update documents
// (CVRF 1.1 XML, as api.msrc.microsoft.com/cvrf/v3.0/cvrf/<YYYY-Mon> serves
// them, one file per month). Each vulnerability lists, per product, the
// update that fixes it: the KB number (Description), its kind (SubType:
// "Security Update" for the monthly cumulative update, "Security Hotpatch
// Update" for hotpatches) and the fixed build ("10.0.20348.5256").

// windowsFix is one product's fix of one CVE in one month.
type windowsFix struct {
	Month    time.Time // the Patch Tuesday the fix shipped on
	Doc      string    // "2026-Jun", or the CVE record's path
	File     string    // the feed file it was read from
	CVE      string
	Line     string // "20348"
	Product  string // Microsoft's product name
	KB       string // "KB5094128"; "" when the source names none
	SubType  string // "Security Update", "Security Hotpatch Update"
	Build    string // "20348.5256": build.UBR as the collector reports it
	Severity string // critical, high, medium, low
}

type cvrfVuln struct {
	CVE     string `xml:"CVE"`
	Threats []struct {
		Type       string   `xml:"Type,attr"`
		Desc       string   `xml:"Description"`
		ProductIDs []string `xml:"ProductID"`
	} `xml:"Threats>Threat"`
	Remediations []struct {
		Type       string   `xml:"Type,attr"`
		Desc       string   `xml:"Description"`
		ProductIDs []string `xml:"ProductID"`
		SubType    string   `xml:"SubType"`
		FixedBuild string   `xml:"FixedBuild"`
	} `xml:"Remediations>Remediation"`
}

// parseCVRF reads one CVRF document and returns the fixes of the Windows
// Server products lineOf knows. Products sit anywhere in the product tree
// (Microsoft nests them in branches), so the document is read as a stream.
func parseCVRF(file string, data []byte, lineOf func(name string) string) ([]windowsFix, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	var (
		id, released string
		sawRoot      bool
		products     = map[string]string{} // ProductID → name
		vulns        []cvrfVuln
		path         []string
	)
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: not a CVRF document: %w", file, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "cvrfdoc":
				sawRoot = true
			case "FullProductName":
				var name string
				if err := dec.DecodeElement(&name, &t); err != nil {
					return nil, fmt.Errorf("%s: product: %w", file, err)
				}
				for _, a := range t.Attr {
					if a.Name.Local == "ProductID" {
						products[a.Value] = strings.TrimSpace(name)
					}
				}
				continue
			case "Vulnerability":
				var v cvrfVuln
				if err := dec.DecodeElement(&v, &t); err != nil {
					return nil, fmt.Errorf("%s: vulnerability: %w", file, err)
				}
				vulns = append(vulns, v)
				continue
			case "ID":
				if len(path) >= 2 && path[len(path)-1] == "Identification" {
					if err := dec.DecodeElement(&id, &t); err != nil {
						return nil, err
					}
					continue
				}
			case "InitialReleaseDate":
				if len(path) >= 1 && path[len(path)-1] == "DocumentTracking" {
					if err := dec.DecodeElement(&released, &t); err != nil {
						return nil, err
					}
					continue
				}
			}
			path = append(path, t.Name.Local)
		case xml.EndElement:
			if len(path) > 0 {
				path = path[:len(path)-1]
			}
		}
	}
	if !sawRoot || id == "" {
		return nil, fmt.Errorf("%s: not a CVRF document (no cvrfdoc with a DocumentTracking ID)", file)
	}
	day, err := time.Parse("2006-01-02T15:04:05", strings.TrimSpace(released))
	if err != nil {
		return nil, fmt.Errorf("%s: InitialReleaseDate %q: %w", file, released, err)
	}
	var out []windowsFix
	for _, v := range vulns {
		sev := map[string]string{} // ProductID → severity
		for _, t := range v.Threats {
			if t.Type != "Severity" {
				continue
			}
			for _, p := range t.ProductIDs {
				sev[p] = msSeverity(t.Desc)
			}
		}
		for _, r := range v.Remediations {
			if r.Type != "Vendor Fix" {
				continue
			}
			for _, p := range r.ProductIDs {
				name := products[p]
				line := lineOf(name)
				if line == "" {
					continue
				}
				build, err := windowsBuild(line, r.FixedBuild)
				if err != nil {
					return nil, fmt.Errorf("%s: %s, %s: %w", file, v.CVE, name, err)
				}
				kb := strings.TrimSpace(r.Desc)
				if allDigits(kb) {
					kb = "KB" + kb
				}
				out = append(out, windowsFix{Month: dateOnly(day), Doc: id, File: file, CVE: strings.TrimSpace(v.CVE), Line: line,
					Product: name, KB: kb, SubType: strings.TrimSpace(r.SubType), Build: build, Severity: sev[p]})
			}
		}
	}
	return out, nil
}

// windowsBuild turns Microsoft's "10.0.20348.5256" into the collector's
// "20348.5256", checking it belongs to the line.
func windowsBuild(line, fixed string) (string, error) {
	parts := strings.Split(strings.TrimSpace(fixed), ".")
	if len(parts) != 4 || parts[2] != line || !allDigits(parts...) {
		return "", fmt.Errorf("fixed build %q is not 10.0.%s.<UBR>", fixed, line)
	}
	return parts[2] + "." + parts[3], nil
}

// msSeverity maps Microsoft's severity rating to the data's scale.
func msSeverity(s string) string {
	return map[string]string{"Critical": "critical", "Important": "high", "Moderate": "medium", "Low": "low"}[strings.TrimSpace(s)]
}
