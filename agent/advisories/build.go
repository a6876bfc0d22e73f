package advisories

import (
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"

	"github.com/hvaudit/hvaudit/checks"
	"github.com/hvaudit/hvaudit/checks/versions"
	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// productData is one product's generated advisory file before rendering.
type productData struct {
	Name, File, Title string
	AsOf              time.Time
	Product           checks.Product
	Lines             []checks.ReleaseLine
	Entries           []checks.Advisory
}

// Build turns a verified feed set into advisory files, by file name. Only
// the products whose feeds are in the set are built: esxi, vcenter and
// vmware-tools from cvelist (VMware's CVE records); windows-server from
// msrc-cvrf and msrc-cvelist; qemu and libvirt from debian-tracker and
// debian-changelog.
func Build(set *FeedSet) (map[string][]byte, error) {
	cur, err := loadCurated()
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, build := range []func(*FeedSet) (string, []byte, bool, error){buildWindows, buildKVM} {
		name, data, ok, err := build(set)
		if err != nil {
			return nil, err
		}
		if ok {
			out[name] = data
		}
	}
	feed, ok := set.Feeds["cvelist"]
	if !ok {
		return out, nil
	}
	var fixes []recordFix
	for _, f := range set.filesOf("cvelist") {
		if !strings.HasSuffix(f, ".json") {
			continue
		}
		data, err := fs.ReadFile(set.FS, f)
		if err != nil {
			return nil, err
		}
		fx, err := parseCVERecord(f, data, cur)
		if err != nil {
			return nil, err
		}
		fixes = append(fixes, fx...)
	}
	for _, p := range cur.Products {
		pd, err := buildProduct(cur, p.Name, fixes, feed)
		if err != nil {
			return nil, err
		}
		pd.File, pd.Title = p.File, p.Title
		out[p.File] = render(pd)
	}
	return out, nil
}

// entryKey groups the CVEs of one advisory that share a fix in one line.
type entryKey struct {
	advisory, line, fixed, upgrade string
	verified                       bool
}

func buildProduct(cur *curated, product string, all []recordFix, feed Feed) (*productData, error) {
	pd := &productData{Name: product, AsOf: feed.Retrieved}
	pd.Product = checks.Product{Name: product, CompleteThrough: feed.CompleteThrough,
		Coverage: fmt.Sprintf("every VMware CNA CVE record in the cvelist feed through %s (%s)", feed.CompleteThrough.Format("2006-01-02"), feed.Note)}
	decls := cur.lines(product)
	notes := map[string][]string{} // line → why it lost its coverage
	type group struct {
		cves      []string
		severity  string
		published time.Time
		name      string
		ranges    []string
	}
	groups := map[entryKey]*group{}
	add := func(k entryKey, f recordFix, name, rng string) {
		g := groups[k]
		if g == nil {
			g = &group{published: f.Published, name: name}
			groups[k] = g
		}
		if !contains(g.cves, f.CVE) {
			g.cves = append(g.cves, f.CVE)
		}
		if !contains(g.ranges, rng) {
			g.ranges = append(g.ranges, rng)
		}
		if rank(f.Severity) > rank(g.severity) {
			g.severity = f.Severity
		}
		if f.Published.Before(g.published) {
			g.published = f.Published
		}
	}
	// Per CVE and family: the lines the record fixes, then the lines of the
	// family below them, which only an upgrade fixes.
	type cveFam struct{ cve, fam string }
	byCF := map[cveFam][]recordFix{}
	var order []cveFam
	for _, f := range all {
		if f.Product != product {
			continue
		}
		k := cveFam{f.CVE, f.Family}
		if _, ok := byCF[k]; !ok {
			order = append(order, k)
		}
		byCF[k] = append(byCF[k], f)
	}
	for _, k := range order {
		fs := byCF[k]
		fixedLines := map[string]fixedIn{}
		noFix := false
		var highest string
		for _, f := range fs {
			if f.LessThan == "" {
				noFix = true
				continue
			}
			fi, err := resolveFix(product, f.LessThan, cur)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", f.File, f.CVE, err)
			}
			if fi.Line != k.fam && !strings.HasPrefix(fi.Line, k.fam+".") {
				// The family's fix lives in another line (Tools 11.x is
				// fixed by 12.5.1): the family's lines must upgrade.
				for _, d := range decls {
					if inFamily(d.Line, k.fam) {
						add(entryKey{advisory: f.Advisory, line: d.Line, upgrade: f.LessThan, verified: true}, f,
							"no fix in "+d.Line+"; upgrade to "+fi.Name, fmt.Sprintf("%s %s lessThan %q", f.Family, product, f.LessThan))
					}
				}
				continue
			}
			fixedLines[fi.Line] = fi
			if highest == "" || cmpLine(fi.Line, highest) > 0 {
				highest = fi.Line
			}
			if fi.Build == "" {
				notes[fi.Line] = appendOnce(notes[fi.Line], f.LessThan)
				add(entryKey{advisory: f.Advisory, line: fi.Line, upgrade: f.LessThan, verified: false}, f,
					fi.Name+" (build number not in the data)", fmt.Sprintf("%s lessThan %q", k.fam, f.LessThan))
				continue
			}
			rng := fmt.Sprintf("%s lessThan %q", k.fam, f.LessThan)
			if fi.Source != "" {
				// The number is not the vendor's: say where it is from.
				add(entryKey{advisory: f.Advisory, line: fi.Line, fixed: fi.Build, verified: false}, f, fi.Name,
					rng+"; build "+fi.Build+" from "+fi.Source)
				continue
			}
			add(entryKey{advisory: f.Advisory, line: fi.Line, fixed: fi.Build, verified: true}, f, fi.Name, rng)
		}
		f0 := fs[0]
		for _, d := range decls {
			if !inFamily(d.Line, k.fam) {
				continue
			}
			if _, ok := fixedLines[d.Line]; ok {
				continue
			}
			switch {
			case noFix && len(fixedLines) == 0:
				// The vendor lists the family as affected with no fix.
				to := newestFixedLine(all, f0.CVE, product, cur)
				if to == "" {
					to = "a release line the vendor still fixes"
				}
				add(entryKey{advisory: f0.Advisory, line: d.Line, upgrade: to, verified: true}, f0,
					"no fix for "+k.fam+"; upgrade to "+to, fmt.Sprintf("%s affected, no fixed version", k.fam))
			case highest != "" && cmpLine(d.Line, highest) < 0:
				// A line below the fixed ones: its builds fall in the
				// affected range and only an upgrade leaves it.
				add(entryKey{advisory: f0.Advisory, line: d.Line, upgrade: highest, verified: false}, f0,
					"no fix for "+d.Line+"; update to "+highest+" or later (inferred: the record names fixes for "+strings.Join(sortedKeys(fixedLines), ", ")+" only)",
					fmt.Sprintf("%s: no fix listed for %s", k.fam, d.Line))
			}
			// Lines above every fixed line shipped after the fix.
		}
	}
	// Lines: as declared, losing coverage where a fix has no build.
	for _, d := range decls {
		rl := checks.ReleaseLine{Product: product, Line: d.Line, EOLDate: d.EOLDate, Covered: d.Covered}
		if n := notes[d.Line]; len(n) > 0 && d.Covered {
			rl.Covered = false
			rl.Note = "VMware's records name the fixes " + strings.Join(n, ", ") + ", whose build numbers are not in the data (Broadcom's build-number list was not read)"
		}
		pd.Lines = append(pd.Lines, rl)
	}
	// Entries: one per advisory and line; an advisory whose CVEs need
	// different builds in one line gets one entry per build.
	perLine := map[string]int{}
	for k := range groups {
		perLine[k.advisory+"\x00"+k.line]++
	}
	for k, g := range groups {
		id := k.advisory
		sort.Strings(g.cves)
		if perLine[k.advisory+"\x00"+k.line] > 1 {
			id += " (" + strings.Join(g.cves, ", ") + ")"
		}
		sort.Strings(g.ranges)
		paths := make([]string, len(g.cves))
		for i, c := range g.cves {
			paths[i] = cvelistPath(c)
		}
		src := "VMware CNA text of CVE record"
		if len(paths) > 1 {
			src += "s"
		}
		src += " " + strings.Join(paths, ", ") + " (CVEProject/cvelistV5): " + strings.Join(g.ranges, "; ")
		if !k.verified {
			src = "inferred from " + src
		}
		pub := g.published
		pd.Entries = append(pd.Entries, checks.Advisory{
			ID: id, Product: product, ReleaseLine: k.line, FixedBuild: k.fixed, UpgradeTo: k.upgrade,
			FixedName: g.name, CVEs: g.cves, Severity: g.severity, Source: src, Verified: k.verified, Published: &pub,
		})
	}
	sort.Slice(pd.Entries, func(i, j int) bool {
		a, b := pd.Entries[i], pd.Entries[j]
		if !a.Published.Equal(*b.Published) {
			return a.Published.Before(*b.Published)
		}
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		return cmpLine(a.ReleaseLine, b.ReleaseLine) > 0
	})
	return pd, nil
}

// cvelistPath is where CVEProject/cvelistV5 keeps a record:
// cves/2026/47xxx/CVE-2026-47876.json.
func cvelistPath(cve string) string {
	parts := strings.Split(cve, "-")
	if len(parts) != 3 || len(parts[2]) < 4 {
		return cve
	}
	return "cves/" + parts[1] + "/" + parts[2][:len(parts[2])-3] + "xxx/" + cve + ".json"
}

// newestFixedLine is the highest line a CVE's record fixes for product.
func newestFixedLine(all []recordFix, cve, product string, cur *curated) string {
	best := ""
	for _, f := range all {
		if f.CVE != cve || f.Product != product || f.LessThan == "" {
			continue
		}
		if fi, err := resolveFix(product, f.LessThan, cur); err == nil && (best == "" || cmpLine(fi.Line, best) > 0) {
			best = fi.Line
		}
	}
	return best
}

func inFamily(line, fam string) bool { return line == fam || strings.HasPrefix(line, fam+".") }

func cmpLine(a, b string) int {
	c, _ := versions.Compare(inventory.SchemeUpstream, a, b)
	return c
}

func rank(s string) int {
	return map[string]int{"low": 1, "medium": 2, "high": 3, "critical": 4}[s]
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func appendOnce(ss []string, s string) []string {
	if contains(ss, s) {
		return ss
	}
	return append(ss, s)
}

func sortedKeys(m map[string]fixedIn) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
