package checks

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	debversion "github.com/knqyf263/go-deb-version"
	rpmversion "github.com/knqyf263/go-rpm-version"

	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/checks/versions"
	"github.com/hvaudit/hvaudit/collectors/inventory"
	"github.com/hvaudit/hvaudit/configs"
)

// Advisories is the merged patch-level data of every file in an advisory
// directory (configs/advisories/*.toml, or --advisories DIR).
type Advisories struct {
	// AsOf is the oldest file's as_of, the day the data was last edited: for
	// information only. Freshness is judged per product from
	// Product.CompleteThrough.
	AsOf time.Time
	// SHA256 covers every file's name and bytes, in name order.
	SHA256 string
	// Source is "builtin" or the directory loaded.
	Source       string
	Products     map[string]Product
	ReleaseLines []ReleaseLine
	Entries      []Advisory
}

// Product is one product the data covers and how far.
type Product struct {
	Name string `toml:"name"`
	// CompleteThrough is the last day up to which every advisory the vendor
	// published for the product is in the data.
	CompleteThrough time.Time `toml:"complete_through"`
	// Coverage says what CompleteThrough rests on (which vendor records
	// were read), for people reading the data.
	Coverage string `toml:"coverage"`
	File     string `toml:"-"`
}

// ReleaseLine is one product release line and, where known, its end of life.
type ReleaseLine struct {
	Product string     `toml:"product"`
	Line    string     `toml:"line"`
	EOLDate *time.Time `toml:"eol_date"`
	// Covered: every advisory of the product for this line up to the
	// product's complete_through is in the data. A line that is not covered
	// cannot pass a patch check (its missing fixes are unknown).
	Covered bool `toml:"covered"`
	// Note says why a line is not covered, where the data knows.
	Note string `toml:"note"`
	File string `toml:"-"`
}

// Advisory is one vendor advisory as it applies to one release line.
type Advisory struct {
	ID          string `toml:"id"`
	Product     string `toml:"product"`
	ReleaseLine string `toml:"release_line"`
	// FixedBuild is the minimum fixed build (or package version) in this
	// line; "" means the line gets no fix and UpgradeTo names where to go.
	FixedBuild string     `toml:"fixed_build"`
	UpgradeTo  string     `toml:"upgrade_to"`
	FixedName  string     `toml:"fixed_name"`
	CVEs       []string   `toml:"cves"`
	Severity   string     `toml:"severity"`
	Source     string     `toml:"source"`
	Verified   bool       `toml:"verified"`
	Published  *time.Time `toml:"published"`
	File       string     `toml:"-"`
}

type advisoryFile struct {
	AsOf         time.Time     `toml:"as_of"`
	Products     []Product     `toml:"product"`
	ReleaseLines []ReleaseLine `toml:"release_line"`
	Advisories   []Advisory    `toml:"advisory"`
}

// LoadAdvisories loads every *.toml in dir and merges them; "" loads the
// embedded set.
func LoadAdvisories(dir string) (*Advisories, error) {
	if dir == "" {
		sub, err := fs.Sub(configs.Advisories, "advisories")
		if err != nil {
			return nil, err
		}
		return LoadAdvisoriesFS(sub, "configs/advisories", "builtin")
	}
	return LoadAdvisoriesFS(os.DirFS(dir), dir, dir)
}

// LoadAdvisoriesFS loads every *.toml of fsys; prefix is how file names
// appear in errors and source names the set in reports.
func LoadAdvisoriesFS(fsys fs.FS, prefix, source string) (*Advisories, error) {
	adv := &Advisories{Source: source, Products: map[string]Product{}}
	names, err := fs.Glob(fsys, "*.toml")
	if err != nil {
		return nil, fmt.Errorf("advisories %s: %w", prefix, err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("advisories %s: no *.toml files", prefix)
	}
	sort.Strings(names)
	h := sha256.New()
	seen := map[string]string{}
	lines := map[string]int{}
	// productAt remembers where a product was first used, for the error
	// when no file declares it.
	productAt := map[string]string{}
	for _, n := range names {
		data, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("advisories: %w", err)
		}
		file := filepath.ToSlash(path.Join(prefix, n))
		if prefix != "configs/advisories" {
			file = filepath.Join(prefix, n)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(data))
		h.Write(data)
		var af advisoryFile
		md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&af)
		if err != nil {
			return nil, tomlError(file, data, err)
		}
		loc := newLocator(data)
		if und := md.Undecoded(); len(und) > 0 {
			return nil, fmt.Errorf("%s:%d: unknown key %q", file, loc.keyLine(und[0]), und[0].String())
		}
		if !md.IsDefined("as_of") {
			return nil, fmt.Errorf("%s: as_of is missing", file)
		}
		asOf := dateOnly(af.AsOf)
		if adv.AsOf.IsZero() || asOf.Before(adv.AsOf) {
			adv.AsOf = asOf
		}
		for i, p := range af.Products {
			at := fmt.Sprintf("%s:%d: product %s", file, loc.tableLine("product", i), p.Name)
			switch {
			case p.Name == "":
				return nil, fmt.Errorf("%s: name is required", at)
			case p.CompleteThrough.IsZero():
				return nil, fmt.Errorf("%s: complete_through is required (the last day up to which every advisory is in)", at)
			}
			if prev, dup := adv.Products[p.Name]; dup {
				return nil, fmt.Errorf("%s: already declared in %s", at, prev.File)
			}
			p.CompleteThrough = dateOnly(p.CompleteThrough)
			p.File = file
			adv.Products[p.Name] = p
		}
		for i, rl := range af.ReleaseLines {
			at := fmt.Sprintf("%s:%d: release_line %s %s", file, loc.tableLine("release_line", i), rl.Product, rl.Line)
			if rl.Product == "" || rl.Line == "" {
				return nil, fmt.Errorf("%s: product and line are required", at)
			}
			key := rl.Product + "\x00" + rl.Line
			if prev, dup := lines[key]; dup {
				return nil, fmt.Errorf("%s: already defined in %s", at, adv.ReleaseLines[prev].File)
			}
			lines[key] = len(adv.ReleaseLines)
			if rl.EOLDate != nil {
				d := dateOnly(*rl.EOLDate)
				rl.EOLDate = &d
			}
			rl.File = file
			if _, ok := productAt[rl.Product]; !ok {
				productAt[rl.Product] = at
			}
			adv.ReleaseLines = append(adv.ReleaseLines, rl)
		}
		for i, a := range af.Advisories {
			at := fmt.Sprintf("%s:%d: advisory %s", file, loc.tableLine("advisory", i), a.ID)
			switch {
			case a.ID == "" || a.Product == "" || a.ReleaseLine == "":
				return nil, fmt.Errorf("%s: id, product and release_line are required", at)
			case a.FixedBuild == "" && a.UpgradeTo == "":
				return nil, fmt.Errorf("%s: fixed_build or upgrade_to is required", at)
			case a.Source == "":
				return nil, fmt.Errorf("%s: source is required", at)
			case a.Severity != "" && findings.Severity(a.Severity).Rank() < 0:
				return nil, fmt.Errorf("%s: severity %q is not one of critical, high, medium, low, info", at, a.Severity)
			}
			key := a.ID + "\x00" + a.Product + "\x00" + a.ReleaseLine
			if prev, dup := seen[key]; dup {
				return nil, fmt.Errorf("%s: already defined for release line %s in %s", at, a.ReleaseLine, prev)
			}
			seen[key] = file
			a.File = file
			if _, ok := productAt[a.Product]; !ok {
				productAt[a.Product] = at
			}
			adv.Entries = append(adv.Entries, a)
		}
	}
	// Every product and line an entry uses must be declared, so coverage
	// and freshness are always stated, never assumed.
	for p, at := range productAt {
		if _, ok := adv.Products[p]; !ok {
			return nil, fmt.Errorf("%s: product %s is not declared in any [[product]] (with its complete_through)", at, p)
		}
	}
	for _, a := range adv.Entries {
		if _, ok := lines[a.Product+"\x00"+a.ReleaseLine]; !ok {
			return nil, fmt.Errorf("%s: advisory %s: release line %s of %s is not declared in any [[release_line]]", a.File, a.ID, a.ReleaseLine, a.Product)
		}
	}
	adv.SHA256 = hex.EncodeToString(h.Sum(nil))
	return adv, nil
}

// MergeNewer is base with, per product, over's data in its place where
// over's complete_through is later: an updated directory replaces the
// embedded data product by product, never wholesale.
func MergeNewer(base, over *Advisories) *Advisories {
	out := &Advisories{Products: map[string]Product{}, AsOf: base.AsOf}
	from := map[string]*Advisories{}
	var used []string
	for p, bp := range base.Products {
		from[p] = base
		if op, ok := over.Products[p]; ok && op.CompleteThrough.After(bp.CompleteThrough) {
			from[p] = over
		}
	}
	for p := range over.Products {
		if _, ok := from[p]; !ok {
			from[p] = over
		}
	}
	for p, a := range from {
		out.Products[p] = a.Products[p]
		if a == over {
			used = append(used, p)
		}
		if a.AsOf.Before(out.AsOf) {
			out.AsOf = a.AsOf
		}
	}
	for _, a := range []*Advisories{base, over} {
		for _, rl := range a.ReleaseLines {
			if from[rl.Product] == a {
				out.ReleaseLines = append(out.ReleaseLines, rl)
			}
		}
		for _, e := range a.Entries {
			if from[e.Product] == a {
				out.Entries = append(out.Entries, e)
			}
		}
	}
	if len(used) == 0 {
		return base
	}
	sort.Strings(used)
	out.Source = base.Source
	if len(used) > 0 {
		out.Source += " + " + over.Source + " (" + strings.Join(used, ", ") + ")"
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s", base.SHA256, over.SHA256, strings.Join(used, ","))
	out.SHA256 = hex.EncodeToString(h.Sum(nil))
	return out
}

// dateOnly keeps the calendar date of a TOML local date as midnight UTC, so
// ages do not depend on the machine's zone.
func dateOnly(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// ProductFreshness is how current the data is for one product.
type ProductFreshness struct {
	Product         string    `json:"product"`
	CompleteThrough time.Time `json:"complete_through"`
	// AgeDays is whole days from complete_through to the audit.
	AgeDays int64 `json:"age_days"`
}

// products lists the advisory products whose patch levels an inventory
// holds (targets, hosts, their components, VMs), sorted.
func products(inv *inventory.Inventory) []string {
	var out []string
	add := func(p *inventory.PatchLevel) {
		if p != nil && p.Product != "" && !slices.Contains(out, p.Product) {
			out = append(out, p.Product)
		}
	}
	add(inv.Target.Patch)
	for i := range inv.Hosts {
		add(inv.Hosts[i].Patch)
		for j := range inv.Hosts[i].Components {
			add(&inv.Hosts[i].Components[j])
		}
	}
	for i := range inv.VMs {
		add(inv.VMs[i].Patch)
	}
	sort.Strings(out)
	return out
}

// Info is the `advisories` CEL variable at time now for an inventory: the
// freshness of the data for every product the inventory runs, and the
// stalest of them. When a product the inventory runs is not in the data
// (or no patch level was read), stalest is absent and the reason says why.
func (a *Advisories) Info(now time.Time, inv *inventory.Inventory) (AdvisoryInfo, string) {
	asOf := a.AsOf
	info := AdvisoryInfo{AsOf: &asOf, AgeDays: ptrInt(days(now, asOf)), Products: []ProductFreshness{}}
	ps := products(inv)
	if len(ps) == 0 {
		return info, "no patch level was read from the target, so no advisory data applies"
	}
	var unknown []string
	for _, p := range ps {
		prod, ok := a.Products[p]
		if !ok {
			unknown = append(unknown, p)
			continue
		}
		info.Products = append(info.Products, ProductFreshness{Product: p, CompleteThrough: prod.CompleteThrough, AgeDays: days(now, prod.CompleteThrough)})
	}
	if len(unknown) > 0 {
		return info, fmt.Sprintf("the advisory data (%s) does not cover %s, which the target runs", a.Source, strings.Join(unknown, ", "))
	}
	stalest := info.Products[0]
	for _, f := range info.Products[1:] {
		if f.AgeDays > stalest.AgeDays {
			stalest = f
		}
	}
	info.Stalest = &stalest
	return info, ""
}

func days(now, t time.Time) int64 { return int64(now.Sub(t) / (24 * time.Hour)) }

func ptrInt(v int64) *int64 { return &v }

// PatchAssessment is the `patch` CEL variable: a product build compared with
// the advisory data of its release line.
type PatchAssessment struct {
	Product     string `json:"product"`
	ReleaseLine string `json:"release_line"`
	// Build is the value compared: the build number, or the package
	// version for distro (dpkg, rpm) schemes.
	Build     string `json:"build"`
	KnownLine bool   `json:"known_line"`
	// Covered: the data holds every advisory of this line through the
	// product's complete_through. When it does not, missing, missing_cves
	// and missing_advisories are absent and checks reading them are error.
	Covered bool `json:"covered"`
	// CoverageNote says why the line is not covered, where the data knows.
	CoverageNote string     `json:"coverage_note,omitempty"`
	EOL          bool       `json:"eol"`
	EOLDate      *time.Time `json:"eol_date,omitempty"`
	// CompleteThrough is the product's complete_through.
	CompleteThrough *time.Time `json:"complete_through,omitempty"`
	// Missing are the advisories whose fix the build lacks, sorted.
	Missing     []string `json:"missing,omitempty"`
	MissingCVEs []string `json:"missing_cves,omitempty"`
	// MissingAdvisories details each missing advisory: its fixed build (or
	// where to upgrade) and whether that number was read from the vendor.
	MissingAdvisories []MissingAdvisory `json:"missing_advisories,omitempty"`
	// LatestFixedBuild is the highest fixed build any advisory of the line
	// names: the build that fixes everything known.
	LatestFixedBuild string `json:"latest_fixed_build"`
	// Unverified are the ids of unverified entries the build was compared
	// with: the result is only as good as their numbers.
	Unverified []string `json:"unverified"`
}

// MissingAdvisory is one advisory a build lacks.
type MissingAdvisory struct {
	ID         string   `json:"id"`
	CVEs       []string `json:"cves"`
	FixedBuild string   `json:"fixed_build"`
	UpgradeTo  string   `json:"upgrade_to"`
	Verified   bool     `json:"verified"`
	Source     string   `json:"source"`
}

// UnknownLineError is Assess's error for a release line the data does not
// know: the build cannot be judged, which is an error, never a pass.
type UnknownLineError struct {
	Product, Line string
	AsOf          time.Time
}

func (e *UnknownLineError) Error() string {
	return fmt.Sprintf("release line %s of %s is not in the advisory data (as of %s)",
		e.Line, e.Product, e.AsOf.Format("2006-01-02"))
}

// UncoveredReason says why a known but uncovered line's missing fixes are
// absent from an assessment.
func (a *Advisories) UncoveredReason(pa PatchAssessment) string {
	r := fmt.Sprintf("release line %s of %s has no advisory coverage in the advisory data (%s), so its missing fixes are unknown", pa.ReleaseLine, pa.Product, a.Source)
	if pa.CoverageNote != "" {
		r += ": " + pa.CoverageNote
	}
	return r
}

// Assess compares a patch level with the advisories of its own release line
// (builds of different lines are never compared). A line the data does not
// know is an UnknownLineError; a known line without coverage is assessed
// for end of life only (Covered false, Missing nil).
func (a *Advisories) Assess(p inventory.PatchLevel, now time.Time) (PatchAssessment, error) {
	pa := PatchAssessment{
		Product: p.Product, ReleaseLine: p.ReleaseLine, Build: p.Build, Unverified: []string{},
	}
	distro := p.Scheme == inventory.SchemeDpkg || p.Scheme == inventory.SchemeRPM
	if distro || pa.Build == "" {
		pa.Build = p.Version
	}
	if prod, ok := a.Products[p.Product]; ok {
		ct := prod.CompleteThrough
		pa.CompleteThrough = &ct
	}
	for _, rl := range a.ReleaseLines {
		if rl.Product == p.Product && rl.Line == p.ReleaseLine {
			pa.KnownLine, pa.Covered, pa.EOLDate, pa.CoverageNote = true, rl.Covered, rl.EOLDate, rl.Note
			pa.EOL = rl.EOLDate != nil && !now.Before(*rl.EOLDate)
		}
	}
	if !pa.KnownLine {
		return pa, &UnknownLineError{Product: p.Product, Line: p.ReleaseLine, AsOf: a.AsOf}
	}
	if !pa.Covered {
		return pa, nil
	}
	pa.Missing, pa.MissingCVEs, pa.MissingAdvisories = []string{}, []string{}, []MissingAdvisory{}
	cves := map[string]bool{}
	for _, e := range a.Entries {
		if e.Product != p.Product || e.ReleaseLine != p.ReleaseLine {
			continue
		}
		missing := e.FixedBuild == ""
		if !missing {
			c, err := CompareBuilds(p.Scheme, pa.Build, e.FixedBuild)
			if err != nil {
				return pa, fmt.Errorf("%s build %q against %s: %w", p.Product, pa.Build, e.ID, err)
			}
			missing = c < 0
			if pa.LatestFixedBuild == "" {
				pa.LatestFixedBuild = e.FixedBuild
			} else if c2, err := CompareBuilds(p.Scheme, e.FixedBuild, pa.LatestFixedBuild); err == nil && c2 > 0 {
				pa.LatestFixedBuild = e.FixedBuild
			}
		}
		if !e.Verified {
			pa.Unverified = append(pa.Unverified, e.ID)
		}
		if missing {
			pa.Missing = append(pa.Missing, e.ID)
			pa.MissingAdvisories = append(pa.MissingAdvisories, MissingAdvisory{
				ID: e.ID, CVEs: append([]string{}, e.CVEs...), FixedBuild: e.FixedBuild, UpgradeTo: e.UpgradeTo,
				Verified: e.Verified, Source: e.Source})
			for _, c := range e.CVEs {
				if !cves[c] {
					cves[c] = true
					pa.MissingCVEs = append(pa.MissingCVEs, c)
				}
			}
		}
	}
	sort.Strings(pa.Missing)
	sort.Strings(pa.MissingCVEs)
	sort.Strings(pa.Unverified)
	sort.Slice(pa.MissingAdvisories, func(i, j int) bool { return pa.MissingAdvisories[i].ID < pa.MissingAdvisories[j].ID })
	return pa, nil
}

// CompareBuilds compares two builds of one release line: numerically when
// both are all digits (ESXi and vCenter build numbers), else as versions
// under the patch level's scheme (dotted upstream, dpkg or rpm).
func CompareBuilds(scheme, a, b string) (int, error) {
	if a == "" || b == "" {
		return 0, errors.New("empty build")
	}
	if allDigits(a) && allDigits(b) {
		a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
		if len(a) != len(b) {
			return cmpInts(len(a), len(b)), nil
		}
		return strings.Compare(a, b), nil
	}
	switch scheme {
	case inventory.SchemeRPM:
		// RPM's own rpmvercmp rules over [epoch:]version-release.
		return sign(rpmversion.NewVersion(a).Compare(rpmversion.NewVersion(b))), nil
	case inventory.SchemeDpkg:
		va, err := debversion.NewVersion(a)
		if err != nil {
			return 0, fmt.Errorf("dpkg version %q: %w", a, err)
		}
		vb, err := debversion.NewVersion(b)
		if err != nil {
			return 0, fmt.Errorf("dpkg version %q: %w", b, err)
		}
		return sign(va.Compare(vb)), nil
	}
	return versions.Compare(scheme, a, b)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// sign reduces a comparison result to -1, 0 or 1 (go-deb-version returns
// differences).
func sign(c int) int { return cmpInts(c, 0) }

func cmpInts(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
