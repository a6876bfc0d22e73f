package checks

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hvaudit/hvaudit/collectors/inventory"
)

func TestLoadAdvisories(t *testing.T) {
	adv := mustAdvisories(t)
	if want := time.Date(2026, 9, 15, 0, 0, 0, 0, time.UTC); !adv.AsOf.Equal(want) {
		t.Errorf("as_of %v, want the oldest file's %v", adv.AsOf, want)
	}
	if len(adv.Entries) != 4 || len(adv.ReleaseLines) != 5 || len(adv.Products) != 2 || len(adv.SHA256) != 64 {
		t.Errorf("entries %d lines %d products %d sha %q", len(adv.Entries), len(adv.ReleaseLines), len(adv.Products), adv.SHA256)
	}
	// Freshness is per product, from complete_through: a standalone host
	// runs esxi only (2026-10-31, 20 days before testNow); with vCenter the
	// stalest is vcenter (2026-08-31, 81 days), whatever the files' as_of.
	host := &inventory.Inventory{Hosts: []inventory.Host{{Patch: &inventory.PatchLevel{Product: "esxi"}}}}
	if info, why := adv.Info(testNow, host); why != "" || info.Stalest == nil || info.Stalest.Product != "esxi" || info.Stalest.AgeDays != 20 {
		t.Errorf("esxi: %+v (%s)", info.Stalest, why)
	}
	withVC := &inventory.Inventory{Target: inventory.Target{Patch: &inventory.PatchLevel{Product: "vcenter"}}, Hosts: host.Hosts}
	info, why := adv.Info(testNow, withVC)
	if why != "" || info.Stalest.Product != "vcenter" || info.Stalest.AgeDays != 81 || len(info.Products) != 2 || *info.AgeDays != 66 {
		t.Errorf("vcenter: %+v %+v (%s)", info.Stalest, info.Products, why)
	}
	// VMware Tools levels on VMs count as products the estate runs.
	vms := &inventory.Inventory{Hosts: host.Hosts, VMs: []inventory.VM{{Patch: &inventory.PatchLevel{Product: "vmware-tools"}}}}
	if info, why := adv.Info(testNow, vms); info.Stalest != nil || !strings.Contains(why, "does not cover vmware-tools") {
		t.Errorf("tools: %+v %q", info.Stalest, why)
	}
	// Unknown products, or no patch level at all: stalest absent, with the reason.
	other := &inventory.Inventory{Hosts: []inventory.Host{{Patch: &inventory.PatchLevel{Product: "xen"}}}}
	if info, why := adv.Info(testNow, other); info.Stalest != nil || !strings.Contains(why, "does not cover xen, which the target runs") {
		t.Errorf("xen: %v %q", info.Stalest, why)
	}
	if info, why := adv.Info(testNow, &inventory.Inventory{}); info.Stalest != nil || !strings.Contains(why, "no patch level") {
		t.Errorf("empty: %v %q", info.Stalest, why)
	}
	if _, err := LoadAdvisories(""); err != nil {
		t.Errorf("embedded advisories: %v", err)
	}
}

func TestLoadAdvisoriesErrors(t *testing.T) {
	cases := []struct{ body, at, want string }{
		{"as_of = 2026-11-01\n[[advisory]]\nid = \"A\"\nproduct = \"esxi\"\nrelease_line = \"8.0.3\"\nfixed_build = \"1\"\nsource = \"s\"\nfixd = 1\n",
			"fixd", `unknown key "advisory.fixd"`},
		{"as_of = 2026-11-01\n[[advisory]]\nid = \"A\"\nproduct = \"esxi\"\nrelease_line = \"8.0.3\"\nsource = \"s\"\n",
			"[[advisory]]", "advisory A: fixed_build or upgrade_to is required"},
		{"as_of = 2026-11-01\n[[advisory]]\nid = \"A\"\nproduct = \"esxi\"\nrelease_line = \"8.0.3\"\nfixed_build = \"1\"\nsource = \"s\"\nseverity = \"huge\"\n",
			"[[advisory]]", `severity "huge"`},
		{"as_of = 2026-11-01\n[[release_line]]\nproduct = \"esxi\"\nline = \"8.0.3\"\n[[release_line]]\nproduct = \"esxi\"\nline = \"8.0.3\"\n",
			"[[release_line]]\nproduct = \"esxi\"\nline = \"8.0.3\"\n[[release_line]]", "already defined"},
		{"as_of = 2026-11-01\n[[advisory]\n", "[[advisory]", "x.toml:2:"},
		{"as_of = 2026-11-01\n[[release_line]]\nproduct = \"esxi\"\nline = \"8.0.3\"\n",
			"[[release_line]]", "product esxi is not declared in any [[product]]"},
		{"as_of = 2026-11-01\n[[product]]\nname = \"esxi\"\n",
			"[[product]]", "complete_through is required"},
		{"as_of = 2026-11-01\n[[product]]\nname = \"esxi\"\ncomplete_through = 2026-10-01\n[[advisory]]\nid = \"A\"\nproduct = \"esxi\"\nrelease_line = \"9.9.9\"\nfixed_build = \"1\"\nsource = \"s\"\n",
			"", "release line 9.9.9 of esxi is not declared in any [[release_line]]"},
	}
	for _, c := range cases {
		dir := t.TempDir()
		p := writeFile(t, dir, "x.toml", c.body)
		_, err := LoadAdvisories(dir)
		if err == nil {
			t.Errorf("%q loaded", c.body)
			continue
		}
		if c.at == "" {
			if !strings.HasPrefix(err.Error(), p+": ") || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q, want %q", err, c.want)
			}
			continue
		}
		line := strings.Count(c.body[:strings.LastIndex(c.body, strings.Split(c.at, "\n")[0])], "\n") + 1
		if c.at == "[[release_line]]\nproduct = \"esxi\"\nline = \"8.0.3\"\n[[release_line]]" {
			line = 5
		}
		prefix := p + ":" + strconv.Itoa(line) + ":"
		if !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %q, want prefix %q and %q", err, prefix, c.want)
		}
	}
}

func TestAssess(t *testing.T) {
	adv := mustAdvisories(t)
	lvl := func(line, build string) inventory.PatchLevel {
		return inventory.PatchLevel{Product: "esxi", ReleaseLine: line, Build: build}
	}
	cases := []struct {
		name       string
		p          inventory.PatchLevel
		missing    []string
		eol        bool
		unverified []string
	}{
		{"below both", lvl("8.0.3", "24280767"), []string{"VMSA-2025-0004", "VMSA-2025-0013"}, false, []string{"VMSA-2025-0013"}},
		{"at first fix", lvl("8.0.3", "24585383"), []string{"VMSA-2025-0013"}, false, []string{"VMSA-2025-0013"}},
		{"at latest fix", lvl("8.0.3", "24784735"), []string{}, false, []string{"VMSA-2025-0013"}},
		{"above", lvl("8.0.3", "99999999"), []string{}, false, []string{"VMSA-2025-0013"}},
		// Numeric, not lexical: "9" < "24585383".
		{"short build", lvl("8.0.3", "9"), []string{"VMSA-2025-0004", "VMSA-2025-0013"}, false, []string{"VMSA-2025-0013"}},
		// 7.0.3's fix is build 24784741, higher than 8.0.3's 24784735: a
		// cross-line comparison would call 24784736 fixed in 7.0.3 wrongly
		// or the 8.0.3 build missing; each line is judged by its own entry.
		{"own line only", lvl("7.0.3", "24784736"), []string{"VMSA-2025-0013"}, true, []string{}},
		{"7.0.3 fixed", lvl("7.0.3", "24784741"), []string{}, true, []string{}},
	}
	for _, c := range cases {
		pa, err := adv.Assess(c.p, testNow)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !reflect.DeepEqual(pa.Missing, c.missing) || pa.EOL != c.eol || !reflect.DeepEqual(pa.Unverified, c.unverified) || !pa.KnownLine || !pa.Covered {
			t.Errorf("%s: %+v", c.name, pa)
		}
	}
	pa, _ := adv.Assess(lvl("8.0.3", "1"), testNow)
	if pa.LatestFixedBuild != "24784735" || !reflect.DeepEqual(pa.MissingCVEs, []string{"CVE-2025-22224", "CVE-2025-22225", "CVE-2025-41236"}) {
		t.Errorf("latest %q cves %v", pa.LatestFixedBuild, pa.MissingCVEs)
	}
	// Each missing advisory names its fixed build and whether the number
	// was read from the vendor.
	want := []MissingAdvisory{
		{ID: "VMSA-2025-0004", CVEs: []string{"CVE-2025-22224", "CVE-2025-22225"}, FixedBuild: "24585383", Verified: true, Source: "https://support.broadcom.com/"},
		{ID: "VMSA-2025-0013", CVEs: []string{"CVE-2025-41236"}, FixedBuild: "24784735", Verified: false, Source: "https://support.broadcom.com/"},
	}
	if !reflect.DeepEqual(pa.MissingAdvisories, want) || pa.CompleteThrough == nil || pa.CompleteThrough.Format("2006-01-02") != "2026-10-31" {
		t.Errorf("details %+v through %v", pa.MissingAdvisories, pa.CompleteThrough)
	}
	// A known line nobody covered: end of life is judged, missing fixes are
	// unknown (nil, so checks reading them end in error), whether or not its
	// end of life has come.
	for _, c := range []struct {
		line string
		eol  bool
	}{{"8.0.2", false}, {"6.5.0", true}} {
		pa, err := adv.Assess(lvl(c.line, "99999999"), testNow)
		if err != nil || pa.Covered || pa.Missing != nil || pa.MissingCVEs != nil || pa.EOL != c.eol || !pa.KnownLine {
			t.Errorf("uncovered %s: %+v %v", c.line, pa, err)
		}
	}
	// No fix in the line: always missing, whatever the build.
	pa, err := adv.Assess(inventory.PatchLevel{Product: "vcenter", ReleaseLine: "7.0.2", Build: "99999999"}, testNow)
	if err != nil || !reflect.DeepEqual(pa.Missing, []string{"VMSA-2024-0019"}) {
		t.Errorf("no-fix line: %+v %v", pa, err)
	}
	// EOL only from eol_date on.
	pa, _ = adv.Assess(lvl("7.0.3", "24784741"), time.Date(2025, 10, 1, 23, 0, 0, 0, time.UTC))
	if pa.EOL {
		t.Error("eol before eol_date")
	}
	_, err = adv.Assess(lvl("6.7.0", "1"), testNow)
	var ul *UnknownLineError
	if !errors.As(err, &ul) || err.Error() != "release line 6.7.0 of esxi is not in the advisory data (as of 2026-09-15)" {
		t.Errorf("unknown line: %v", err)
	}
	// Same line string, other product: unknown, never compared.
	if _, err := adv.Assess(inventory.PatchLevel{Product: "vcenter", ReleaseLine: "8.0.3", Build: "1"}, testNow); !errors.As(err, &ul) {
		t.Errorf("vcenter 8.0.3 judged by esxi data: %v", err)
	}
}

func TestCompareBuilds(t *testing.T) {
	cases := []struct {
		scheme, a, b string
		want         int
	}{
		{"", "24585383", "24585383", 0},
		{"", "9", "24585383", -1},
		{"", "0024585384", "24585383", 1},
		{"", "7.2.22", "7.2.3", 1},
		{"", "8.0.3", "8.0.3a", -1},
		{"dpkg", "1:7.2+dfsg-7+deb12u18", "1:7.2+dfsg-7+deb12u20", -1},
		{"dpkg", "9.0.0-4~bpo", "9.0.0-4", -1},
		{"rpm", "8.2.0-11.el9_4", "8.2.0-2.el9", 1},
	}
	for _, c := range cases {
		got, err := CompareBuilds(c.scheme, c.a, c.b)
		if err != nil || got != c.want {
			t.Errorf("CompareBuilds(%q, %q, %q) = %d, %v; want %d", c.scheme, c.a, c.b, got, err, c.want)
		}
	}
	if _, err := CompareBuilds("", "", "1"); err == nil {
		t.Error("empty build compared")
	}
}

// Distro package versions are compared through the patch level's scheme.
func TestAssessDpkg(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "kvm.toml", `as_of = 2026-11-01
[[product]]
name = "qemu"
complete_through = 2026-10-31
[[release_line]]
product = "qemu"
line = "debian-12"
covered = true
[[advisory]]
id = "DSA-5900-1"
product = "qemu"
release_line = "debian-12"
fixed_build = "1:7.2+dfsg-7+deb12u20"
source = "https://security-tracker.debian.org/"
verified = true
`)
	adv, err := LoadAdvisories(dir)
	if err != nil {
		t.Fatal(err)
	}
	p := inventory.PatchLevel{Product: "qemu", ReleaseLine: "debian-12", Version: "1:7.2+dfsg-7+deb12u18", Build: "ignored", Scheme: "dpkg"}
	pa, err := adv.Assess(p, testNow)
	if err != nil || !reflect.DeepEqual(pa.Missing, []string{"DSA-5900-1"}) || pa.Build != p.Version {
		t.Errorf("%+v %v", pa, err)
	}
}
