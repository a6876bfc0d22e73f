package advisories

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/feeds/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// cvrfFixture is a CVRF document in the structure Microsoft publishes
// (products nested in branches, severity threats, Vendor Fix remediations
// with KB, SubType and FixedBuild), with February 2026's numbers for
// Windows Server 2022 and 2025. It is constructed, not recorded: see
// testdata/README.md.
func cvrfFixture(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/cvrf/2026-Feb-constructed.xml")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseCVRF(t *testing.T) {
	cur, err := loadMSCurated()
	if err != nil {
		t.Fatal(err)
	}
	fixes, err := parseCVRF("2026-Feb.xml", cvrfFixture(t), cur.lineOf)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fixes {
		got = append(got, fmt.Sprintf("%s %s %s %s %s %s %s", date(f.Month), f.CVE, f.Product, f.KB, f.SubType, f.Build, f.Severity))
	}
	want := []string{
		"2026-02-10 CVE-2026-21248 Windows Server 2022 KB5075906 Security Update 20348.4773 high",
		"2026-02-10 CVE-2026-21248 Windows Server 2022 (Server Core installation) KB5075906 Security Update 20348.4773 ",
		"2026-02-10 CVE-2026-21248 Windows Server 2022 KB5075943 Security Hotpatch Update 20348.4711 high",
		"2026-02-10 CVE-2026-21248 Windows Server 2022 (Server Core installation) KB5075943 Security Hotpatch Update 20348.4711 ",
		"2026-02-10 CVE-2026-21248 Windows Server 2025 (Server Core installation) KB5075899 Security Update 26100.32370 ",
		"2026-02-10 CVE-2026-21248 Windows Server 2025 KB5075899 Security Update 26100.32370 high",
		"2026-02-10 CVE-2026-21248 Windows Server 2025 (Server Core installation) KB5075942 Security Hotpatch Update 26100.32313 ",
		"2026-02-10 CVE-2026-21248 Windows Server 2025 KB5075942 Security Hotpatch Update 26100.32313 high",
		"2026-02-10 CVE-2026-21519 Windows Server 2022 KB5075906 Security Update 20348.4773 high",
		"2026-02-10 CVE-2026-21519 Windows Server 2022 (Server Core installation) KB5075906 Security Update 20348.4773 ",
		"2026-02-10 CVE-2026-21519 Windows Server 2022 KB5075943 Security Hotpatch Update 20348.4711 high",
		"2026-02-10 CVE-2026-21519 Windows Server 2022 (Server Core installation) KB5075943 Security Hotpatch Update 20348.4711 ",
	}
	if !slices.Equal(got, want) {
		t.Errorf("fixes:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, bad := range []struct{ doc, want string }{
		{`<html><body>not found</body></html>`, "not a CVRF document"},
		{`<cvrf:cvrfdoc xmlns:cvrf="x"><cvrf:DocumentTracking><cvrf:Identification><cvrf:ID>2026-Jun</cvrf:ID></cvrf:Identification><cvrf:InitialReleaseDate>June</cvrf:InitialReleaseDate></cvrf:DocumentTracking></cvrf:cvrfdoc>`, `InitialReleaseDate "June"`},
		{strings.Replace(string(cvrfFixture(t)), "10.0.20348.4773", "10.0.17763.4773", 1), `Windows Server 2022: fixed build "10.0.17763.4773" is not 10.0.20348.<UBR>`},
	} {
		if _, err := parseCVRF("x.xml", []byte(bad.doc), cur.lineOf); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%v, want %q", err, bad.want)
		}
	}
}

// The month's cumulative update is the Security Update its CVEs name, not
// the hotpatch with the lower build, which the entry's source names.
func TestWindowsEntryIsTheMonthsCumulativeUpdate(t *testing.T) {
	cur, _ := loadMSCurated()
	fixes, err := parseCVRF("msrc-cvrf/2026-Feb.xml", cvrfFixture(t), cur.lineOf)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range windowsEntries(cur, fixes, nil) {
		got = append(got, fmt.Sprintf("%s %s %s %s %s", e.ReleaseLine, e.ID, e.FixedBuild, strings.Join(e.CVEs, ","), e.Severity))
		if e.ReleaseLine == "20348" && !strings.Contains(e.Source, "hotpatch KB5075943 (20348.4711) fixes them too") {
			t.Errorf("hotpatch not named: %s", e.Source)
		}
	}
	want := []string{"20348 KB5075906 20348.4773 CVE-2026-21248,CVE-2026-21519 high", "26100 KB5075899 26100.32370 CVE-2026-21248 high"}
	if !slices.Equal(got, want) {
		t.Errorf("February 2026 entries:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Built from a CVE record, which names no KB, the entry takes the KB
	// microsoft.toml knows for its build.
	rec, err := parseMicrosoftRecord("r.json", readTestdata(t, "msrc-cvelist/CVE-2026-21248.json"), cur.lineOf)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range windowsEntries(cur, nil, rec) {
		if e.ReleaseLine == "14393" && (e.ID != "KB5075999" || e.FixedBuild != "14393.8868" || !strings.Contains(e.Source, "KB from Microsoft CVRF 2026-Feb")) {
			t.Errorf("record entry %+v", e)
		}
	}
}

// Microsoft's CVE records give the fixed build per Windows Server product
// and the Patch Tuesday; other CNAs' records are not read.
func TestParseMicrosoftRecord(t *testing.T) {
	cur, _ := loadMSCurated()
	data := readTestdata(t, "msrc-cvelist/CVE-2026-85880.json")
	fixes, err := parseMicrosoftRecord("msrc-cvelist/CVE-2026-85880.json", data, cur.lineOf)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fixes {
		got = append(got, f.Line+"="+f.Build+"@"+date(f.Month))
	}
	want := []string{"14393=14393.9512@2026-09-08", "14393=14393.9512@2026-09-08", "17763=17763.9245@2026-09-08",
		"17763=17763.9245@2026-09-08", "20348=20348.5622@2026-09-08"}
	if !slices.Equal(got, want) {
		t.Errorf("fixes %v, want %v", got, want)
	}
	vmware := readTestdata(t, "cvelist/CVE-2026-47876.json")
	if f, err := parseMicrosoftRecord("cvelist/CVE-2026-47876.json", vmware, cur.lineOf); err != nil || f != nil {
		t.Errorf("VMware record read as Microsoft's: %v %v", f, err)
	}
	bad := strings.Replace(string(data), `"lessThan": "10.0.20348.5622"`, `"lessThan": "10.0.20348"`, 1)
	if _, err := parseMicrosoftRecord("r.json", []byte(bad), cur.lineOf); err == nil || !strings.Contains(err.Error(), `r.json: CVE-2026-85880, Windows Server 2022: fixed build "10.0.20348" is not 10.0.20348.<UBR>`) {
		t.Errorf("bad build: %v", err)
	}
}

// The tracker's DSA list: DSA-3259-1 (VENOM) fixed jessie's qemu in
// 1:2.1+dfsg-12; +deb8u1 is DSA-3284-1's.
func TestParseTrackerList(t *testing.T) {
	adv, err := parseTrackerList("DSA.list", readTestdata(t, "debian-tracker/DSA.list"))
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]trackerAdvisory{}
	for _, a := range adv {
		found[a.ID] = a
	}
	if len(adv) != 31 {
		t.Errorf("%d advisories, want 31", len(adv))
	}
	v := found["DSA-3259-1"]
	if v.Package != "qemu" || v.Fixed["jessie"] != "1:2.1+dfsg-12" || !slices.Contains(v.CVEs, "CVE-2015-3456") || date(v.Date) != "2015-05-13" {
		t.Errorf("DSA-3259-1: %+v", v)
	}
	if found["DSA-3284-1"].Fixed["jessie"] != "1:2.1+dfsg-12+deb8u1" {
		t.Errorf("DSA-3284-1: %+v", found["DSA-3284-1"])
	}
	if f := found["DSA-3283-1"].Fixed; f["wheezy"] != "1.5.3-5+deb7u6" || f["jessie"] != "1.7.5-11+deb8u1" {
		t.Errorf("two releases in one DSA: %+v", f)
	}
	if _, err := parseTrackerList("DSA.list", []byte("[13 May 2015] DSA-3259-1 qemu - security update\nstray line\n")); err == nil || !strings.Contains(err.Error(), "DSA.list:2: not a DSA/DLA list line") {
		t.Errorf("stray line: %v", err)
	}
}

// Debian's bookworm qemu changelog: every upload, its date and the CVEs it
// names.
func TestParseChangelog(t *testing.T) {
	set, err := OpenFeeds("testdata/feeds", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := readFeedFile(set, "debian-changelog/debian-12/qemu.changelog.gz")
	if err != nil {
		t.Fatal(err)
	}
	ents, err := parseChangelog("qemu.changelog", b)
	if err != nil {
		t.Fatal(err)
	}
	top := ents[0]
	if top.Version != "1:7.2+dfsg-7+deb12u18" || !slices.Equal(top.Dists, []string{"bookworm"}) || !slices.Equal(top.CVEs, []string{"CVE-2025-11234"}) || date(top.Date) != "2025-12-16" {
		t.Errorf("newest entry %+v", top)
	}
	for _, bad := range []struct{ text, want string }{
		{"not a header\n", "qemu.changelog:1: not a Debian changelog entry header"},
		{"qemu (1:1-1) bookworm; urgency=medium\n\n  * CVE-2099-1\n", "qemu.changelog:1: entry 1:1-1 has no trailer line"},
		{"qemu (1:1-1) bookworm; urgency=medium\n\n -- A <a@b>  yesterday\n", `trailer date "yesterday"`},
	} {
		if _, err := parseChangelog("qemu.changelog", []byte(bad.text)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%v, want %q", err, bad.want)
		}
	}
}
