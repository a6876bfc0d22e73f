package advisories

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/hvaudit/hvaudit/checks"
	"github.com/hvaudit/hvaudit/checks/versions"
	"github.com/hvaudit/hvaudit/collectors/inventory"
)

//go:embed distros.toml
var distrosTOML []byte

// distroCurated is what the Debian feeds do not carry (distros.toml).
type distroCurated struct {
	Products []struct {
		Name           string `toml:"name"`
		TrackerPackage string `toml:"tracker_package"`
	} `toml:"product"`
	ReleaseLines []struct {
		Products []string   `toml:"products"`
		Line     string     `toml:"line"`
		Codename string     `toml:"codename"`
		EOLDate  *time.Time `toml:"eol_date"`
		Covered  bool       `toml:"covered"`
		Note     string     `toml:"note"`
	} `toml:"release_line"`
	Manual []checks.Advisory `toml:"manual"`
}

func loadDistroCurated() (*distroCurated, error) {
	var c distroCurated
	md, err := toml.NewDecoder(bytes.NewReader(distrosTOML)).Decode(&c)
	if err != nil {
		return nil, fmt.Errorf("distros.toml: %w", err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("distros.toml: unknown key %q", und[0].String())
	}
	return &c, nil
}

// readFeedFile reads a feed file, gunzipping names ending in .gz (Debian
// ships changelogs compressed).
func readFeedFile(set *FeedSet, name string) ([]byte, error) {
	b, err := fs.ReadFile(set.FS, name)
	if err != nil || !strings.HasSuffix(name, ".gz") {
		return b, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return io.ReadAll(zr)
}

// buildKVM builds kvm.toml (qemu and libvirt) from the debian-tracker and
// debian-changelog feeds; ok is false when the set holds neither.
func buildKVM(set *FeedSet) (name string, data []byte, ok bool, err error) {
	tFeed, hasT := set.Feeds["debian-tracker"]
	cFeed, hasC := set.Feeds["debian-changelog"]
	if !hasT && !hasC {
		return "", nil, false, nil
	}
	cur, err := loadDistroCurated()
	if err != nil {
		return "", nil, false, err
	}
	var tracker []trackerAdvisory
	for _, f := range set.filesOf("debian-tracker") {
		if path.Base(f) != "DSA.list" && path.Base(f) != "DLA.list" {
			continue
		}
		b, err := readFeedFile(set, f)
		if err != nil {
			return "", nil, false, err
		}
		adv, err := parseTrackerList(f, b)
		if err != nil {
			return "", nil, false, err
		}
		tracker = append(tracker, adv...)
	}
	// debian-changelog/<line>/<product>.changelog[.gz]
	changelogs := map[string]string{} // "product line" → file
	for _, f := range set.filesOf("debian-changelog") {
		parts := strings.Split(f, "/")
		if len(parts) != 3 {
			continue
		}
		prod := strings.TrimSuffix(strings.TrimSuffix(parts[2], ".gz"), ".changelog")
		changelogs[prod+" "+parts[1]] = f
	}
	var through, asOf time.Time
	var notes []string
	for _, f := range []Feed{tFeed, cFeed} {
		if f.Name == "" {
			continue
		}
		if f.CompleteThrough.After(through) {
			through = f.CompleteThrough
		}
		if f.Retrieved.After(asOf) {
			asOf = f.Retrieved
		}
		notes = append(notes, fmt.Sprintf("%s through %s", f.Name, date(f.CompleteThrough)))
	}
	var pds []*productData
	for _, p := range cur.Products {
		pd := &productData{Name: p.Name, AsOf: asOf}
		pd.Product = checks.Product{Name: p.Name, CompleteThrough: through,
			Coverage: "the covered Debian lines from Debian's own changelogs and security tracker (" + strings.Join(notes, "; ") + "); other lines are not covered"}
		entries := map[string]*checks.Advisory{} // "line version"
		get := func(line, version string) (*checks.Advisory, bool) {
			k := line + " " + version
			e, ok := entries[k]
			if !ok {
				e = &checks.Advisory{Product: p.Name, ReleaseLine: line, FixedBuild: version, Verified: true}
				entries[k] = e
			}
			return e, ok
		}
		for _, a := range tracker {
			if a.Package != p.TrackerPackage {
				continue
			}
			for codename, version := range a.Fixed {
				line := cur.lineOf(p.Name, codename)
				if line == "" {
					continue
				}
				e, _ := get(line, version)
				e.ID = a.ID
				e.FixedName = fmt.Sprintf("%s %s (%s)", a.Package, version, codename)
				e.CVEs = appendAll(e.CVEs, a.CVEs...)
				d := a.Date
				e.Published = &d
				e.Source = fmt.Sprintf("Debian security tracker %s (%s): \"[%s] - %s %s\"", a.ID, a.File, codename, a.Package, version)
			}
		}
		coveredBy := map[string]string{} // line → changelog file
		for _, rl := range cur.ReleaseLines {
			if rl.Codename == "" || !contains(rl.Products, p.Name) {
				continue
			}
			f, ok := changelogs[p.Name+" "+rl.Line]
			if !ok {
				continue
			}
			coveredBy[rl.Line] = f
			b, err := readFeedFile(set, f)
			if err != nil {
				return "", nil, false, err
			}
			ents, err := parseChangelog(f, b)
			if err != nil {
				return "", nil, false, err
			}
			// Oldest first: a CVE belongs to the first upload of the
			// release that names it.
			seen := map[string]bool{}
			for i := len(ents) - 1; i >= 0; i-- {
				ce := ents[i]
				if !inRelease(ce.Dists, rl.Codename) {
					continue
				}
				var fresh []string
				for _, c := range ce.CVEs {
					if !seen[c] {
						seen[c] = true
						fresh = append(fresh, c)
					}
				}
				if len(fresh) == 0 {
					continue
				}
				e, existed := get(rl.Line, ce.Version)
				e.CVEs = appendAll(e.CVEs, fresh...)
				src := fmt.Sprintf("Debian changelog of %s (%s), entry %s (%s)", ce.Package, f, ce.Version, strings.Join(ce.Dists, " "))
				if existed {
					e.Source += "; " + src
					continue
				}
				e.ID = "debian:" + p.Name + ":" + ce.Version
				e.FixedName = fmt.Sprintf("%s %s (%s)", ce.Package, ce.Version, rl.Codename)
				d := ce.Date
				e.Published = &d
				e.Source = src
			}
		}
		for _, rl := range cur.ReleaseLines {
			if !contains(rl.Products, p.Name) {
				continue
			}
			l := checks.ReleaseLine{Product: p.Name, Line: rl.Line, EOLDate: rl.EOLDate, Covered: rl.Covered, Note: rl.Note}
			if rl.Covered && coveredBy[rl.Line] == "" {
				l.Covered = false
				l.Note = "the debian-changelog feed holds no " + p.Name + " changelog of " + rl.Codename
			}
			pd.Lines = append(pd.Lines, l)
		}
		for _, e := range entries {
			sort.Strings(e.CVEs)
			pd.Entries = append(pd.Entries, *e)
		}
		for _, m := range cur.Manual {
			if m.Product == p.Name {
				pd.Entries = append(pd.Entries, m)
			}
		}
		sort.Slice(pd.Entries, func(i, j int) bool {
			a, b := pd.Entries[i], pd.Entries[j]
			if a.ReleaseLine != b.ReleaseLine {
				return a.ReleaseLine > b.ReleaseLine
			}
			if c := compareIn(a.ReleaseLine, a.FixedBuild, b.FixedBuild); c != 0 {
				return c < 0
			}
			return a.ID < b.ID
		})
		pds = append(pds, pd)
	}
	header := "# GENERATED by `hvaudit advisories update` from the debian-tracker feed\n" +
		"# (the Debian security tracker's DSA and DLA lists) and the\n" +
		"# debian-changelog feed (Debian's package changelogs), with\n" +
		"# agent/advisories/distros.toml; do not edit: change those and\n" +
		"# regenerate (see configs/advisories/README.md).\n#\n" +
		commentBlock("QEMU and libvirt patch levels for KVM hosts (platform \"kvm\"): products \"qemu\" (the distro's qemu-system-x86 / qemu-kvm package, else QEMU's upstream version) and \"libvirt\" (the distro's libvirt-daemon package, else libvirt's upstream version). Release lines follow the collector (collectors/libvirt, releaseLine): debian-12 (dpkg versions), rhel-9 (rpm epoch:version-release), \"7.2\" (upstream, when no package version was read). Builds are compared only within one line.",
			"verified = true: the fixed version and its CVEs were read in Debian's own tracker data or changelog. A CVE belongs to the first upload of the release whose changelog entry names it. Entries with verified = false are kept by hand in distros.toml (RHEL, upstream QEMU): no Red Hat record with fixed packages was readable.")
	return "kvm.toml", renderFile(header, asOf, pds...), true, nil
}

func (c *distroCurated) lineOf(product, codename string) string {
	for _, rl := range c.ReleaseLines {
		if rl.Codename == codename && contains(rl.Products, product) {
			return rl.Line
		}
	}
	return ""
}

// inRelease: an upload targets the release ("bookworm",
// "bookworm-security"), not unstable or experimental.
func inRelease(dists []string, codename string) bool {
	for _, d := range dists {
		if d == codename || strings.HasPrefix(d, codename+"-") {
			return true
		}
	}
	return false
}

// compareIn orders two versions of one line by the line's scheme.
func compareIn(line, a, b string) int {
	scheme := inventory.SchemeUpstream
	switch {
	case strings.HasPrefix(line, "debian-"):
		scheme = inventory.SchemeDpkg
	case strings.HasPrefix(line, "rhel-"):
		scheme = inventory.SchemeRPM
	}
	c, _ := versions.Compare(scheme, a, b)
	return c
}

func appendAll(ss []string, add ...string) []string {
	for _, s := range add {
		ss = appendOnce(ss, s)
	}
	return ss
}
