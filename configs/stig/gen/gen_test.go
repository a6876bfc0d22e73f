package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/report/stig"
)

// The inputs below are written for these tests in the shapes DISA's XCCDF
// and VMware's InSpec controls use; their ids and text are made up.

const sampleXCCDF = "\xef\xbb\xbf" + `<?xml version="1.0" encoding="utf-8"?><Benchmark xmlns:dc="http://purl.org/dc/elements/1.1/" id="Sample_OS_STIG" xml:lang="en" xmlns="http://checklists.nist.gov/xccdf/1.1">
<status date="2026-01-01">accepted</status><title>Sample OS Security Technical Implementation Guide</title>
<plain-text id="release-info">Release: 4 Benchmark Date: 01 Jan 2026</plain-text><plain-text id="generator">x</plain-text><version>3</version>
<Profile id="MAC-1_Classified"><title>I</title><select idref="V-100001" selected="true" /></Profile>
<Group id="V-100001"><title>SRG-OS-000001-GPOS-00001</title><description>&lt;GroupDescription&gt;&lt;/GroupDescription&gt;</description>
<Rule id="SV-100001r200001_rule" weight="10.0" severity="high"><version>SAMP-00-000010</version><title>The system must do one thing &amp; another.</title>
<description>&lt;VulnDiscussion&gt;Why it matters.&lt;/VulnDiscussion&gt;&lt;FalsePositives&gt;&lt;/FalsePositives&gt;&lt;Documentable&gt;false&lt;/Documentable&gt;&lt;Mitigations&gt;Some.&lt;/Mitigations&gt;</description>
<reference><dc:title>DPMS Target Sample</dc:title><dc:identifier>9999</dc:identifier></reference>
<ident system="http://cyber.mil/legacy">V-1</ident><ident system="http://cyber.mil/legacy">SV-1</ident>
<ident system="http://cyber.mil/cci">CCI-000001</ident><ident system="http://cyber.mil/cci">CCI-000002</ident>
<fixtext fixref="F-1_fix">Do it.</fixtext><fix id="F-1_fix" />
<check system="C-1_chk"><check-content-ref href="Sample_OS_STIG.xml" name="M" /><check-content>Look.

If not, this is a finding.</check-content></check></Rule></Group>
<Group id="V-100002"><title>SRG-OS-000002-GPOS-00002</title><description>&lt;GroupDescription&gt;&lt;/GroupDescription&gt;</description>
<Rule id="SV-100002r200002_rule" weight="10.0" severity="low"><version>SAMP-00-000020</version><title>Second.</title><description>&lt;VulnDiscussion&gt;Two.&lt;/VulnDiscussion&gt;</description>
<ident system="http://cyber.mil/cci">CCI-000003</ident><fixtext fixref="F-2_fix">Fix two.</fixtext>
<check system="C-2_chk"><check-content-ref href="Sample_OS_STIG.xml" name="M" /><check-content>Check two.</check-content></check></Rule></Group>
</Benchmark>`

func TestParseXCCDF(t *testing.T) {
	b, err := parseXCCDF([]byte(sampleXCCDF))
	if err != nil {
		t.Fatal(err)
	}
	if b.StigID != "Sample_OS_STIG" || b.Version != "3" || b.ReleaseInfo != "Release: 4 Benchmark Date: 01 Jan 2026" ||
		b.DisplayName != "Sample OS" || b.ReferenceIdentifier != "9999" || b.CheckContentHref != "Sample_OS_STIG.xml" {
		t.Errorf("identity = %+v", b)
	}
	if len(b.Rules) != 2 {
		t.Fatalf("%d rules", len(b.Rules))
	}
	r := b.Rules[0]
	want := stig.Rule{
		GroupID: "V-100001", GroupTitle: "SRG-OS-000001-GPOS-00001", RuleIDSrc: "SV-100001r200001_rule",
		Version: "SAMP-00-000010", Severity: "high", Weight: "10.0", Title: "The system must do one thing & another.",
		CCIs: []string{"CCI-000001", "CCI-000002"}, LegacyIDs: []string{"V-1", "SV-1"},
		Discussion: "Why it matters.", CheckContent: "Look.\n\nIf not, this is a finding.", FixText: "Do it.",
		Documentable: "false", Mitigations: "Some.",
	}
	if fmt.Sprintf("%+v", r) != fmt.Sprintf("%+v", want) {
		t.Errorf("rule =\n%+v\nwant\n%+v", r, want)
	}
	if r.RuleID() != "SV-100001r200001" {
		t.Errorf("RuleID = %s", r.RuleID())
	}
	if _, err := parseXCCDF([]byte("<Benchmark")); err == nil {
		t.Error("broken XML accepted")
	}
}

func inspecControlText(id, gid, rid string) string {
	return `control '` + id + `' do
  title "The host's thing must be 'set'."
  desc 'Why: it\'s needed.

Really.
'
  desc 'check', %q(Run (this) and see \) here.)
  desc 'fix', 'Set it.'
  impact 0.5
  tag check_id: 'C-1r1_chk'
  tag severity: 'medium'
  tag gid: '` + gid + `'
  tag rid: '` + rid + `'
  tag stig_id: '` + id + `'
  tag gtitle: 'SRG-OS-000001-VMM-000001'
  tag satisfies: ['SRG-OS-000001-VMM-000001', 'SRG-OS-000002-VMM-000002']
  tag cci: ['CCI-000010',
            'CCI-000011']
  tag nist: ['AC-1 a']

  # the test code is not read
  describe powercli_command("Get-Thing #{name}") do
    its('stdout.strip') { should cmp 'x' }
  end
end
`
}

func TestParseInSpec(t *testing.T) {
	c, err := parseInSpec("# comment\n" + inspecControlText("SAMP-80-000010", "V-300001", "SV-300001r400001_rule"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.rule()
	if err != nil {
		t.Fatal(err)
	}
	want := stig.Rule{
		GroupID: "V-300001", GroupTitle: "SRG-OS-000001-VMM-000001", RuleIDSrc: "SV-300001r400001_rule",
		Version: "SAMP-80-000010", Severity: "medium", Weight: "10.0", Title: "The host's thing must be 'set'.",
		CCIs: []string{"CCI-000010", "CCI-000011"}, Discussion: "Why: it's needed.\n\nReally.",
		CheckContent: "Run (this) and see ) here.", FixText: "Set it.", Documentable: "false",
	}
	if fmt.Sprintf("%+v", r) != fmt.Sprintf("%+v", want) {
		t.Errorf("rule =\n%+v\nwant\n%+v", r, want)
	}
	// A control whose stig_id tag disagrees with its name is refused.
	c, _ = parseInSpec(strings.Replace(inspecControlText("SAMP-80-000010", "V-1", "SV-1r1_rule"), "tag stig_id: 'SAMP-80-000010'", "tag stig_id: 'SAMP-80-000011'", 1))
	if _, err := c.rule(); err == nil {
		t.Error("mismatched stig_id accepted")
	}
	for name, src := range map[string]string{
		"no control":         "title 'x'",
		"unterminated":       "control 'X' do\n  title 'never closed\n",
		"interpolated title": "control 'X' do\n  title \"a #{b}\"\nend",
		"tag without key":    "control 'X' do\n  tag 'x'\nend",
	} {
		if _, err := parseInSpec(src); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// memReader serves files from a map, as git would from one commit.
type memReader map[string]string

func (m memReader) file(commit, p string) ([]byte, error) {
	if s, ok := m[commit+":"+p]; ok {
		return []byte(s), nil
	}
	return nil, fmt.Errorf("no %s:%s", commit, p)
}

func (m memReader) dir(commit, p string) ([]string, error) {
	var out []string
	for k := range m {
		if rest, ok := strings.CutPrefix(k, commit+":"+p+"/"); ok {
			out = append(out, rest)
		}
	}
	slices.Sort(out)
	return out, nil
}

func TestRunWritesValidatedBenchmarksOnly(t *testing.T) {
	dir := t.TempDir()
	sources := `
[[benchmark]]
file = "os.json"
form = "xccdf"
repository = "o/xccdf"
commit = "c1"
path = "x/os.xml"
license = "public domain"
description = "sample"
asset = { platform = "hyperv", kind = "host", os_build = "1" }

[[benchmark]]
file = "app.json"
form = "inspec"
repository = "o/inspec"
commit = "c2"
path = "p/controls"
license = "Apache-2.0"
description = "sample"
stig_id = "Sample_App_STIG"
title = "Sample App Security Technical Implementation Guide"
version = "1"
release_info = "Release: 2 Benchmark Date: 02 Feb 2026"
asset = { platform = "esxi", kind = "vm" }
`
	if err := os.WriteFile(filepath.Join(dir, "sources.toml"), []byte(sources), 0o644); err != nil {
		t.Fatal(err)
	}
	inspec := memReader{
		// Out of group order on purpose: the benchmark is sorted by V- id.
		"c2:p/controls/SAMP-80-000020.rb": inspecControlText("SAMP-80-000020", "V-300010", "SV-300010r1_rule"),
		"c2:p/controls/SAMP-80-000010.rb": inspecControlText("SAMP-80-000010", "V-300009", "SV-300009r1_rule"),
		"c2:p/controls/README.md":         "not a control",
	}
	readers := map[string]reader{"o/xccdf": memReader{"c1:x/os.xml": sampleXCCDF}, "o/inspec": inspec}
	if err := run(dir, readers); err != nil {
		t.Fatal(err)
	}
	cat, err := stig.Read(os.DirFS(dir), ".")
	if err != nil {
		t.Fatal(err)
	}
	app := cat.Benchmark("Sample_App_STIG")
	if app == nil || len(app.Rules) != 2 || app.Rules[0].GroupID != "V-300009" || app.DisplayName != "Sample App" ||
		app.Source.Commit != "c2" || app.Asset.Kind != "vm" {
		t.Fatalf("app benchmark = %+v", app)
	}
	if os := cat.Benchmark("Sample_OS_STIG"); os == nil || os.Asset.OSBuild != "1" || os.Source.Path != "x/os.xml" {
		t.Fatalf("os benchmark = %+v", os)
	}

	// One broken source: nothing is written, and the error names it.
	if err := os.Remove(filepath.Join(dir, "os.json")); err != nil {
		t.Fatal(err)
	}
	inspec["c2:p/controls/SAMP-80-000030.rb"] = inspecControlText("SAMP-80-000030", "V-300011", "not-a-rule-id")
	err = run(dir, readers)
	if err == nil || !strings.Contains(err.Error(), "app.json") || !strings.Contains(err.Error(), `"not-a-rule-id"`) {
		t.Errorf("err = %v", err)
	}
	if _, statErr := os.Stat(filepath.Join(dir, "os.json")); statErr == nil {
		t.Error("os.json written although app.json failed")
	}
}
