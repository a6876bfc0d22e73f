package advisories

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// The cvelist feed: CVE records (CVE JSON 5, as CVEProject/cvelistV5
// publishes them, one file per CVE) whose CNA is VMware. For ESXi the
// records' affected versions carry the fixed build strings
// ("lessThan": "ESXi80U3k-25595708"); for vCenter they name the release
// ("8.0 U3k"); for VMware Tools the version ("12.5.4").

// cveRecord is the part of a CVE JSON 5 record the updater reads.
type cveRecord struct {
	DataType    string `json:"dataType"`
	CVEMetadata struct {
		CVEID             string `json:"cveId"`
		AssignerShortName string `json:"assignerShortName"`
		State             string `json:"state"`
		DatePublished     string `json:"datePublished"`
	} `json:"cveMetadata"`
	Containers struct {
		CNA struct {
			Title      string `json:"title"`
			DatePublic string `json:"datePublic"`
			Affected   []struct {
				Vendor   string `json:"vendor"`
				Product  string `json:"product"`
				Versions []struct {
					Version  string `json:"version"`
					LessThan string `json:"lessThan"`
					Status   string `json:"status"`
				} `json:"versions"`
			} `json:"affected"`
			Metrics []struct {
				CVSSV31 *struct {
					BaseSeverity string  `json:"baseSeverity"`
					BaseScore    float64 `json:"baseScore"`
				} `json:"cvssV3_1"`
			} `json:"metrics"`
			References []struct {
				URL string `json:"url"`
			} `json:"references"`
		} `json:"cna"`
	} `json:"containers"`
}

// recordFix is one affected range of one product in one CVE record.
type recordFix struct {
	CVE       string
	Product   string // the advisory product: esxi, vcenter, vmware-tools
	Family    string // the version family the range covers: "8.0", "9.1", "12"
	LessThan  string // "" when the record names no fixed version
	Severity  string
	Published time.Time
	Advisory  string // VMSA id, or the Broadcom notification when unmapped
	File      string // the record's path in the feed, for sources
}

var (
	vmsaInURL         = regexp.MustCompile(`VMSA-\d{4}-\d{4}`)
	notificationInURL = regexp.MustCompile(`SecurityAdvisories/0/(\d+)`)
	notificationAtEnd = regexp.MustCompile(`/(\d+)/?$`)
)

// parseCVERecord reads one record and returns its fixes for the products
// the curated data names. A record of another CNA, or not published, yields
// nothing; a malformed one is an error naming the file.
func parseCVERecord(file string, data []byte, cur *curated) ([]recordFix, error) {
	var r cveRecord
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: not a CVE record: %w", file, err)
	}
	if r.DataType != "CVE_RECORD" || r.CVEMetadata.CVEID == "" {
		return nil, fmt.Errorf("%s: not a CVE record (dataType %q, cveId %q)", file, r.DataType, r.CVEMetadata.CVEID)
	}
	if r.CVEMetadata.AssignerShortName != "vmware" || r.CVEMetadata.State != "PUBLISHED" {
		return nil, nil
	}
	published, err := time.Parse(time.RFC3339, r.CVEMetadata.DatePublished)
	if err != nil {
		return nil, fmt.Errorf("%s: datePublished %q: %w", file, r.CVEMetadata.DatePublished, err)
	}
	severity := ""
	for _, m := range r.Containers.CNA.Metrics {
		if m.CVSSV31 != nil {
			severity = strings.ToLower(m.CVSSV31.BaseSeverity)
		}
	}
	advisory := ""
	for _, ref := range r.Containers.CNA.References {
		if id := vmsaInURL.FindString(ref.URL); id != "" {
			advisory = id
			break
		}
		n := notificationInURL.FindStringSubmatch(ref.URL)
		if n == nil {
			n = notificationAtEnd.FindStringSubmatch(ref.URL)
		}
		if n != nil {
			advisory = cur.vmsaFor(n[1])
			break
		}
	}
	if advisory == "" {
		return nil, fmt.Errorf("%s: %s links no VMSA or Broadcom advisory", file, r.CVEMetadata.CVEID)
	}
	var out []recordFix
	for _, a := range r.Containers.CNA.Affected {
		product := cur.productFor(a.Product)
		if product == "" {
			continue
		}
		for _, v := range a.Versions {
			if v.Status != "affected" {
				continue
			}
			// "12.x.x, 11.x.x" names several families in one range.
			for _, fam := range strings.Split(v.Version, ",") {
				fam = family(product, strings.TrimSpace(fam))
				if fam == "" {
					continue
				}
				out = append(out, recordFix{
					CVE: r.CVEMetadata.CVEID, Product: product, Family: fam, LessThan: strings.TrimSpace(v.LessThan),
					Severity: severity, Published: dateOnly(published), Advisory: advisory, File: file,
				})
			}
		}
	}
	return out, nil
}

// family reduces a record's version ("8.0", "9.1.x.x", "13.x.x.x", "12.5.x")
// to the release-line family it covers: major.minor for ESXi and vCenter,
// the major for VMware Tools.
func family(product, v string) string {
	var parts []string
	for _, p := range strings.Split(v, ".") {
		if p == "" || p == "x" || p == "X" {
			break
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return ""
	}
	if product == "vmware-tools" {
		return parts[0]
	}
	if len(parts) > 2 {
		parts = parts[:2]
	}
	return strings.Join(parts, ".")
}

func dateOnly(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

var (
	// ESXi80U3k-25595708, ESXi80U2sb-23305545, ESXi80U3-24022510
	esxiUpdateBuild = regexp.MustCompile(`^ESXi(\d)(\d)U(\d)([a-z]*)-(\d+)$`)
	// ESXi-9.0.2.0100-25595025
	esxiDottedBuild = regexp.MustCompile(`^ESXi-(\d+)\.(\d+)\.(\d+)\.(\d+)-(\d+)$`)
	// 8.0 U3k, 7.0 U3r, 8.0 U3
	vcenterUpdate = regexp.MustCompile(`^(\d+)\.(\d+) U(\d)([a-z]*)$`)
	// 9.1.0.0300
	vcenterDotted = regexp.MustCompile(`^(\d+)\.(\d+)\.(\d+)\.(\d+)$`)
)

// fixedIn is where a record's fixed version lands: its release line and
// the build (or version) audits compare with; build "" when the record's
// name cannot be turned into one (vCenter releases without a known build).
type fixedIn struct {
	Line, Build, Name string
	// Source names where a build that is not in the record came from.
	Source string
}

// resolveFix turns a record's lessThan into a release line and build.
func resolveFix(product, lessThan string, cur *curated) (fixedIn, error) {
	switch product {
	case "esxi":
		if m := esxiUpdateBuild.FindStringSubmatch(lessThan); m != nil {
			return fixedIn{Line: m[1] + "." + m[2] + "." + m[3], Build: m[5],
				Name: fmt.Sprintf("ESXi %s.%s Update %s%s (%s)", m[1], m[2], m[3], m[4], lessThan)}, nil
		}
		if m := esxiDottedBuild.FindStringSubmatch(lessThan); m != nil {
			return fixedIn{Line: m[1] + "." + m[2] + "." + m[3], Build: m[5], Name: "ESX " + lessThan}, nil
		}
	case "vcenter":
		line := ""
		if m := vcenterUpdate.FindStringSubmatch(lessThan); m != nil {
			line = m[1] + "." + m[2] + "." + m[3]
		} else if m := vcenterDotted.FindStringSubmatch(lessThan); m != nil {
			line = m[1] + "." + m[2] + "." + m[3]
		}
		if line != "" {
			f := fixedIn{Line: line, Name: "vCenter Server " + lessThan}
			if b, ok := cur.vcenterBuild(lessThan); ok {
				f.Build, f.Source = b.Build, b.Source
			} else if b, ok := cur.laterVCenterBuild(lessThan, line); ok {
				// vCenter updates are cumulative: a later release with a
				// known build fixes this too. Comparing with it never
				// passes a build that lacks the fix; builds between the
				// two are reported missing.
				f.Build, f.Source = b.Build, b.Source
				f.Name += fmt.Sprintf(" (its build is not in the data; compared with the later %s, build %s)", b.Release, b.Build)
			}
			return f, nil
		}
	case "vmware-tools":
		parts := strings.Split(lessThan, ".")
		if len(parts) >= 2 && allDigits(parts...) {
			// 13.0.5.0 and 13.0.5 are one release; compare on three parts.
			for len(parts) > 3 && parts[len(parts)-1] == "0" {
				parts = parts[:len(parts)-1]
			}
			return fixedIn{Line: parts[0], Build: strings.Join(parts, "."), Name: "VMware Tools " + lessThan}, nil
		}
	}
	return fixedIn{}, fmt.Errorf("fixed version %q of %s has an unknown form", lessThan, product)
}

func allDigits(ss ...string) bool {
	for _, s := range ss {
		if s == "" {
			return false
		}
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		}
	}
	return true
}
