// Package stig is the catalog of the DISA STIG benchmarks hvaudit writes
// checklists for: every rule of each benchmark with DISA's identifiers
// (group id V-…, rule id SV-…r…_rule, STIG id), severity, CCIs and text.
//
// The data lives in configs/stig/*.json, generated from published sources by
// configs/stig/gen (each file names its source); this package only reads it.
package stig

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"

	stigdata "github.com/hvaudit/hvaudit/configs/stig"
)

// Benchmark is one STIG release, as DISA publishes it.
type Benchmark struct {
	// StigID is the XCCDF benchmark id (VMW_vSphere_8-0_ESXi_STIG): what
	// STIG Viewer and STIG Manager match a checklist's stig on.
	StigID string `json:"stig_id"`
	// Title is the benchmark's title; DisplayName is the title without
	// "Security Technical Implementation Guide", as STIG Viewer shows it.
	Title       string `json:"title"`
	DisplayName string `json:"display_name"`
	// Version and ReleaseInfo are the XCCDF version ("2") and
	// release-info text ("Release: 3 Benchmark Date: 02 Apr 2025").
	Version     string `json:"version"`
	ReleaseInfo string `json:"release_info"`
	// ReferenceIdentifier is DISA's DPMS target id, when the source
	// carries it.
	ReferenceIdentifier string `json:"reference_identifier,omitempty"`
	// CheckContentHref names the XCCDF file checks refer to.
	CheckContentHref string `json:"check_content_href,omitempty"`
	// Asset says which audited objects get a checklist of this benchmark.
	Asset  Asset  `json:"asset"`
	Source Source `json:"source"`
	Rules  []Rule `json:"rules"`
}

// Asset selects the audited objects a benchmark describes, one checklist
// each: objects of Kind on targets of Platform, where the target's product
// contains Product and its build starts with OSBuild (each when set).
type Asset struct {
	Platform string `json:"platform"`
	// Kind is an object kind of the report: target, host or vm.
	Kind    string `json:"kind"`
	Product string `json:"product,omitempty"`
	// OSBuild tells Windows Server releases apart (20348 is 2022).
	OSBuild string `json:"os_build,omitempty" toml:"os_build"`
	// Release is the product release the benchmark was written for
	// ("8.0"). An asset of another release still gets the checklist when
	// the catalog has none for its own, and the checklist says so.
	Release string `json:"release,omitempty" toml:"release"`
}

// Source says where a benchmark's data was read.
type Source struct {
	// Description in words: publisher, release and the form read.
	Description string `json:"description"`
	Repository  string `json:"repository"`
	Commit      string `json:"commit"`
	Path        string `json:"path"`
	License     string `json:"license"`
}

// Rule is one rule (a DISA "vulnerability") of a benchmark.
type Rule struct {
	GroupID    string `json:"group_id"`    // V-258728
	GroupTitle string `json:"group_title"` // SRG-OS-000021-VMM-000050
	RuleIDSrc  string `json:"rule_id_src"` // SV-258728r958388_rule
	// Version is DISA's "STIG ID" (ESXI-80-000005): what hvaudit's checks
	// cite in refs.stig.
	Version   string   `json:"rule_version"`
	Severity  string   `json:"severity"` // high | medium | low
	Weight    string   `json:"weight"`
	Title     string   `json:"rule_title"`
	CCIs      []string `json:"ccis"`
	LegacyIDs []string `json:"legacy_ids,omitempty"`

	Discussion               string `json:"discussion,omitempty"`
	CheckContent             string `json:"check_content,omitempty"`
	FixText                  string `json:"fix_text,omitempty"`
	FalsePositives           string `json:"false_positives,omitempty"`
	FalseNegatives           string `json:"false_negatives,omitempty"`
	Documentable             string `json:"documentable,omitempty"`
	Mitigations              string `json:"mitigations,omitempty"`
	PotentialImpacts         string `json:"potential_impacts,omitempty"`
	ThirdPartyTools          string `json:"third_party_tools,omitempty"`
	MitigationControl        string `json:"mitigation_control,omitempty"`
	Responsibility           string `json:"responsibility,omitempty"`
	SecurityOverrideGuidance string `json:"security_override_guidance,omitempty"`
	IAControls               string `json:"ia_controls,omitempty"`
}

// RuleID is the rule id without its "_rule" suffix (SV-258728r958388), the
// form STIG Viewer 3 writes in a checklist's rule_id.
func (r Rule) RuleID() string { return strings.TrimSuffix(r.RuleIDSrc, "_rule") }

// Identifier shapes, as DISA writes them.
var (
	GroupIDPattern = regexp.MustCompile(`^V-[0-9]+$`)
	RuleIDPattern  = regexp.MustCompile(`^SV-[0-9]+r[0-9]+_rule$`)
	CCIPattern     = regexp.MustCompile(`^CCI-[0-9]{6}$`)
)

// Validate reports every rule whose identifiers are missing or malformed,
// every duplicate, and missing benchmark identity, all at once.
func (b *Benchmark) Validate() error {
	var problems []string
	for _, f := range []struct{ name, v string }{
		{"stig_id", b.StigID}, {"title", b.Title}, {"display_name", b.DisplayName},
		{"version", b.Version}, {"release_info", b.ReleaseInfo},
		{"source.repository", b.Source.Repository}, {"source.commit", b.Source.Commit}, {"source.path", b.Source.Path},
		{"asset.platform", b.Asset.Platform}, {"asset.kind", b.Asset.Kind},
	} {
		if strings.TrimSpace(f.v) == "" {
			problems = append(problems, f.name+" is empty")
		}
	}
	if !strings.HasPrefix(b.ReleaseInfo, "Release: ") {
		problems = append(problems, fmt.Sprintf("release_info %q does not start with \"Release: \"", b.ReleaseInfo))
	}
	if len(b.Rules) == 0 {
		problems = append(problems, "no rules")
	}
	seen := map[string]string{}
	for i, r := range b.Rules {
		at := fmt.Sprintf("rule %d (%s)", i, r.Version)
		if !GroupIDPattern.MatchString(r.GroupID) {
			problems = append(problems, fmt.Sprintf("%s: group_id %q is not V-<n>", at, r.GroupID))
		}
		if !RuleIDPattern.MatchString(r.RuleIDSrc) {
			problems = append(problems, fmt.Sprintf("%s: rule_id_src %q is not SV-<n>r<n>_rule", at, r.RuleIDSrc))
		} else if strings.TrimPrefix(r.GroupID, "V-") != strings.SplitN(strings.TrimPrefix(r.RuleIDSrc, "SV-"), "r", 2)[0] {
			problems = append(problems, fmt.Sprintf("%s: rule_id_src %q does not belong to group %s", at, r.RuleIDSrc, r.GroupID))
		}
		if r.Version == "" || r.Title == "" || r.GroupTitle == "" {
			problems = append(problems, at+": rule_version, rule_title or group_title is empty")
		}
		if !slices.Contains([]string{"high", "medium", "low"}, r.Severity) {
			problems = append(problems, fmt.Sprintf("%s: severity %q", at, r.Severity))
		}
		if len(r.CCIs) == 0 {
			problems = append(problems, at+": no CCI")
		}
		for _, c := range r.CCIs {
			if !CCIPattern.MatchString(c) {
				problems = append(problems, fmt.Sprintf("%s: CCI %q", at, c))
			}
		}
		for _, id := range []string{r.GroupID, r.RuleIDSrc, r.Version} {
			if prev, dup := seen[id]; dup && id != "" {
				problems = append(problems, fmt.Sprintf("%s: %s already used by %s", at, id, prev))
			}
			seen[id] = at
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("benchmark %s: %s", b.StigID, strings.Join(problems, "; "))
	}
	return nil
}

// Catalog is every benchmark hvaudit knows.
type Catalog struct {
	Benchmarks []*Benchmark
	byVersion  map[string]Ref
	byStigID   map[string]*Benchmark
}

// Ref locates one rule in the catalog.
type Ref struct {
	Benchmark *Benchmark
	Rule      *Rule
}

// Lookup finds a rule by its STIG id (rule_version, ESXI-80-000193).
func (c *Catalog) Lookup(stigID string) (Ref, bool) {
	r, ok := c.byVersion[strings.TrimSpace(stigID)]
	return r, ok
}

// Benchmark returns the benchmark with an XCCDF id.
func (c *Catalog) Benchmark(stigID string) *Benchmark { return c.byStigID[stigID] }

// Read loads every *.json benchmark file of dir in fsys and checks it.
func Read(fsys fs.FS, dir string) (*Catalog, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	c := &Catalog{byVersion: map[string]Ref{}, byStigID: map[string]*Benchmark{}}
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		b := &Benchmark{}
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(b); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if err := b.Validate(); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if c.byStigID[b.StigID] != nil {
			return nil, fmt.Errorf("%s: benchmark %s is already defined", name, b.StigID)
		}
		c.byStigID[b.StigID] = b
		c.Benchmarks = append(c.Benchmarks, b)
		for i := range b.Rules {
			r := &b.Rules[i]
			if prev, dup := c.byVersion[r.Version]; dup {
				return nil, fmt.Errorf("%s: STIG id %s is also in %s", name, r.Version, prev.Benchmark.StigID)
			}
			c.byVersion[r.Version] = Ref{Benchmark: b, Rule: r}
		}
	}
	return c, nil
}

var (
	builtinOnce sync.Once
	builtin     *Catalog
	builtinErr  error
)

// Builtin is the catalog shipped in configs/stig, read once.
func Builtin() (*Catalog, error) {
	builtinOnce.Do(func() {
		builtin, builtinErr = Read(stigdata.Catalog, ".")
	})
	return builtin, builtinErr
}
