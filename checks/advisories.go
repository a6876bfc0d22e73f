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

	"github.com/hvaudit/hvaudit/collectors/inventory"
	"github.com/hvaudit/hvaudit/configs"
)

// Advisories is the merged patch-level data of every file in an advisory
// directory (configs/advisories/*.toml, or --advisories DIR).
type Advisories struct {
	// AsOf is the oldest file's as_of: the set is only as current as its
	// stalest part.
	AsOf time.Time
	// SHA256 covers every file's name and bytes, in name order.
	SHA256 string
	// Source is "builtin" or the directory loaded.
	Source string
	// productAsOf is, per product, the oldest as_of among the files that
	// describe it: a target's data is only as current as that.
	productAsOf  map[string]time.Time
	ReleaseLines []ReleaseLine
	Entries      []Advisory
}

// ReleaseLine is one product release line and, where known, its end of life.
type ReleaseLine struct {
	Product string     `toml:"product"`
	Line    string     `toml:"line"`
	EOLDate *time.Time `toml:"eol_date"`
	File    string     `toml:"-"`
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
	ReleaseLines []ReleaseLine `toml:"release_line"`
	Advisories   []Advisory    `toml:"advisory"`
}

// LoadAdvisories loads every *.toml in dir and merges them; "" loads the
// embedded set.
func LoadAdvisories(dir string) (*Advisories, error) {
	var fsys fs.FS
	var prefix string
	adv := &Advisories{productAsOf: map[string]time.Time{}}
	if dir == "" {
		sub, err := fs.Sub(configs.Advisories, "advisories")
		if err != nil {
			return nil, err
		}
		fsys, prefix, adv.Source = sub, "configs/advisories", "builtin"
	} else {
		fsys, prefix, adv.Source = os.DirFS(dir), dir, dir
	}
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
	lines := map[string]string{}
	for _, n := range names {
		data, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("advisories: %w", err)
		}
		file := filepath.ToSlash(path.Join(prefix, n))
		if dir != "" {
			file = filepath.Join(dir, n)
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
		noteProduct := func(product string) {
			if old, ok := adv.productAsOf[product]; !ok || asOf.Before(old) {
				adv.productAsOf[product] = asOf
			}
		}
		for i, rl := range af.ReleaseLines {
			at := fmt.Sprintf("%s:%d: release_line %s %s", file, loc.tableLine("release_line", i), rl.Product, rl.Line)
			if rl.Product == "" || rl.Line == "" {
				return nil, fmt.Errorf("%s: product and line are required", at)
			}
			key := rl.Product + "\x00" + rl.Line
			if prev, dup := lines[key]; dup {
				return nil, fmt.Errorf("%s: already defined in %s", at, prev)
			}
			lines[key] = file
			if rl.EOLDate != nil {
				d := dateOnly(*rl.EOLDate)
				rl.EOLDate = &d
			}
			rl.File = file
			noteProduct(rl.Product)
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
			case a.Severity != "" && Severity(a.Severity).Rank() < 0:
				return nil, fmt.Errorf("%s: severity %q is not one of critical, high, medium, low, info", at, a.Severity)
			}
			key := a.ID + "\x00" + a.Product + "\x00" + a.ReleaseLine
			if prev, dup := seen[key]; dup {
				return nil, fmt.Errorf("%s: already defined for release line %s in %s", at, a.ReleaseLine, prev)
			}
			seen[key] = file
			a.File = file
			noteProduct(a.Product)
			adv.Entries = append(adv.Entries, a)
		}
	}
	adv.SHA256 = hex.EncodeToString(h.Sum(nil))
	return adv, nil
}

// dateOnly keeps the calendar date of a TOML local date as midnight UTC, so
// ages do not depend on the machine's zone.
func dateOnly(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Info is the `advisories` CEL variable at time now for an inventory: the
// age of the data that covers the products whose patch levels the
// inventory holds. When none of them is covered (or no patch level was
// read), as_of and age_days are absent and the reason says why.
func (a *Advisories) Info(now time.Time, inv *inventory.Inventory) (AdvisoryInfo, string) {
	var products []string
	add := func(p *inventory.PatchLevel) {
		if p != nil && p.Product != "" && !slices.Contains(products, p.Product) {
			products = append(products, p.Product)
		}
	}
	add(inv.Target.Patch)
	for i := range inv.Hosts {
		add(inv.Hosts[i].Patch)
		for j := range inv.Hosts[i].Components {
			add(&inv.Hosts[i].Components[j])
		}
	}
	if len(products) == 0 {
		return AdvisoryInfo{}, "no patch level was read from the target, so no advisory data applies"
	}
	sort.Strings(products)
	var oldest time.Time
	for _, p := range products {
		if t, ok := a.productAsOf[p]; ok && (oldest.IsZero() || t.Before(oldest)) {
			oldest = t
		}
	}
	if oldest.IsZero() {
		return AdvisoryInfo{}, fmt.Sprintf("the advisory data (%s) covers none of the target's products (%s)", a.Source, strings.Join(products, ", "))
	}
	age := int64(now.Sub(oldest) / (24 * time.Hour))
	return AdvisoryInfo{AsOf: &oldest, AgeDays: &age}, ""
}

// PatchAssessment is the `patch` CEL variable: a product build compared with
// the advisory data of its release line.
type PatchAssessment struct {
	Product     string `json:"product"`
	ReleaseLine string `json:"release_line"`
	// Build is the value compared: the build number, or the package
	// version for distro (dpkg, rpm) schemes.
	Build     string `json:"build"`
	KnownLine bool   `json:"known_line"`
	EOL       bool   `json:"eol"`
	// Missing are the advisories whose fix the build lacks, sorted.
	Missing     []string `json:"missing"`
	MissingCVEs []string `json:"missing_cves"`
	// LatestFixedBuild is the highest fixed build any advisory of the line
	// names: the build that fixes everything known.
	LatestFixedBuild string `json:"latest_fixed_build"`
	// Unverified are the ids of unverified entries the build was compared
	// with: the result is only as good as their numbers.
	Unverified []string `json:"unverified"`
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

// Assess compares a patch level with the advisories of its own release line
// (builds of different lines are never compared).
func (a *Advisories) Assess(p inventory.PatchLevel, now time.Time) (PatchAssessment, error) {
	pa := PatchAssessment{
		Product: p.Product, ReleaseLine: p.ReleaseLine, Build: p.Build,
		Missing: []string{}, MissingCVEs: []string{}, Unverified: []string{},
	}
	distro := p.Scheme == inventory.SchemeDpkg || p.Scheme == inventory.SchemeRPM
	if distro || pa.Build == "" {
		pa.Build = p.Version
	}
	for _, rl := range a.ReleaseLines {
		if rl.Product == p.Product && rl.Line == p.ReleaseLine {
			pa.KnownLine = true
			pa.EOL = rl.EOLDate != nil && !now.Before(*rl.EOLDate)
		}
	}
	cves := map[string]bool{}
	for _, e := range a.Entries {
		if e.Product != p.Product || e.ReleaseLine != p.ReleaseLine {
			continue
		}
		pa.KnownLine = true
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
			for _, c := range e.CVEs {
				if !cves[c] {
					cves[c] = true
					pa.MissingCVEs = append(pa.MissingCVEs, c)
				}
			}
		}
	}
	if !pa.KnownLine {
		return pa, &UnknownLineError{Product: p.Product, Line: p.ReleaseLine, AsOf: a.AsOf}
	}
	sort.Strings(pa.Missing)
	sort.Strings(pa.MissingCVEs)
	sort.Strings(pa.Unverified)
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
	return inventory.CompareVersions(scheme, a, b)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func cmpInts(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
