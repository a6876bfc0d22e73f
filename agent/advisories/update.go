// Package advisories keeps the patch-level advisory data fresh: it builds
// advisory files from the vendors' feeds (VMware's CVE records today), shows
// what changed, writes them atomically to the advisory directory, and
// merges that directory with the embedded data for audits.
package advisories

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing/fstest"
	"time"

	"github.com/hvaudit/hvaudit/checks"
	"github.com/hvaudit/hvaudit/configs"
)

// DefaultDir is where updated advisory data lives when neither --dir nor
// the config names a directory: /var/lib/hvaudit/advisories for root, else
// the user's data directory.
func DefaultDir() string {
	if os.Geteuid() == 0 {
		return "/var/lib/hvaudit/advisories"
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "hvaudit", "advisories")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "hvaudit", "advisories")
	}
	return filepath.Join(os.TempDir(), "hvaudit-advisories")
}

// Change is what an update changed for one product.
type Change struct {
	Product          string
	AdvisoriesAdded  []string // "ID line"
	LinesAdded       []string
	CompleteThrough  [2]time.Time // before (zero if new), after
	EntriesBefore    int
	EntriesAfter     int
	VerifiedAfter    int
	ReplacedByUpdate bool
}

// Update builds advisory files from a verified feed set, lays them over the
// data currently in dir (or the embedded data when dir holds none), checks
// that the result loads, and writes it to dir atomically. With dryRun it
// only reports the changes.
func Update(set *FeedSet, dir string, dryRun bool) ([]Change, error) {
	built, err := Build(set)
	if err != nil {
		return nil, err
	}
	if len(built) == 0 {
		return nil, errors.New("the feed directory holds no feed this version can build from (known: cvelist, msrc-cvrf, msrc-cvelist, debian-tracker, debian-changelog)")
	}
	base, err := currentFiles(dir)
	if err != nil {
		return nil, err
	}
	next := map[string][]byte{}
	for n, b := range base {
		next[n] = b
	}
	for n, b := range built {
		next[n] = b
	}
	before, err := load(base, "current data")
	if err != nil {
		return nil, err
	}
	after, err := load(next, "updated data")
	if err != nil {
		return nil, fmt.Errorf("the updated data does not load, nothing written: %w", err)
	}
	changes := diff(before, after)
	if dryRun {
		return changes, nil
	}
	return changes, writeAtomically(dir, next)
}

// currentFiles are the advisory files in dir, or the embedded ones when dir
// does not exist yet.
func currentFiles(dir string) (map[string][]byte, error) {
	var fsys fs.FS
	if _, err := os.Stat(dir); err == nil {
		fsys = os.DirFS(dir)
	} else if errors.Is(err, fs.ErrNotExist) {
		sub, err := fs.Sub(configs.Advisories, "advisories")
		if err != nil {
			return nil, err
		}
		fsys = sub
	} else {
		return nil, err
	}
	names, err := fs.Glob(fsys, "*.toml")
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, n := range names {
		if out[n], err = fs.ReadFile(fsys, n); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func load(files map[string][]byte, name string) (*checks.Advisories, error) {
	m := fstest.MapFS{}
	for n, b := range files {
		m[n] = &fstest.MapFile{Data: b, Mode: 0o644}
	}
	return checks.LoadAdvisoriesFS(m, name, name)
}

// diff lists, per product of after, what is new against before.
func diff(before, after *checks.Advisories) []Change {
	var out []Change
	for _, p := range sortedProducts(after) {
		c := Change{Product: p, CompleteThrough: [2]time.Time{{}, after.Products[p].CompleteThrough}}
		if bp, ok := before.Products[p]; ok {
			c.CompleteThrough[0] = bp.CompleteThrough
		}
		old := map[string]bool{}
		for _, e := range before.Entries {
			if e.Product == p {
				old[e.ID+" "+e.ReleaseLine] = true
				c.EntriesBefore++
			}
		}
		for _, e := range after.Entries {
			if e.Product != p {
				continue
			}
			c.EntriesAfter++
			if e.Verified {
				c.VerifiedAfter++
			}
			if k := e.ID + " " + e.ReleaseLine; !old[k] {
				c.AdvisoriesAdded = append(c.AdvisoriesAdded, k)
			}
		}
		oldLines := map[string]bool{}
		for _, l := range before.ReleaseLines {
			oldLines[l.Product+" "+l.Line] = true
		}
		for _, l := range after.ReleaseLines {
			if l.Product == p && !oldLines[l.Product+" "+l.Line] {
				c.LinesAdded = append(c.LinesAdded, l.Line)
			}
		}
		out = append(out, c)
	}
	return out
}

func sortedProducts(a *checks.Advisories) []string {
	var ps []string
	for p := range a.Products {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}

// PrintChanges writes what an update changed, one block per product.
func PrintChanges(w io.Writer, changes []Change) {
	for _, c := range changes {
		moved := "unchanged"
		if !c.CompleteThrough[0].Equal(c.CompleteThrough[1]) {
			from := "new"
			if !c.CompleteThrough[0].IsZero() {
				from = date(c.CompleteThrough[0])
			}
			moved = from + " → " + date(c.CompleteThrough[1])
		}
		fmt.Fprintf(w, "%s: complete_through %s; entries %d → %d (%d verified); advisories added %d; lines added %d\n",
			c.Product, moved, c.EntriesBefore, c.EntriesAfter, c.VerifiedAfter, len(c.AdvisoriesAdded), len(c.LinesAdded))
		for _, a := range c.AdvisoriesAdded {
			fmt.Fprintf(w, "  + %s\n", a)
		}
		if len(c.LinesAdded) > 0 {
			fmt.Fprintf(w, "  + lines %s\n", strings.Join(c.LinesAdded, ", "))
		}
	}
}

// writeAtomically replaces dir with files: a sibling temporary directory
// is written in full, then renamed over dir, so readers see the old set or
// the new one, never a mix.
func writeAtomically(dir string, files map[string][]byte) error {
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, ".advisories-new-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(tmp, n), b, 0o644); err != nil {
			return err
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	old := ""
	if _, err := os.Stat(dir); err == nil {
		old = tmp + ".old"
		if err := os.Rename(dir, old); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			_ = os.Rename(old, dir)
		}
		return err
	}
	if old != "" {
		return os.RemoveAll(old)
	}
	return nil
}

// Effective is the advisory data an audit uses: the embedded data, and per
// product the data in dir where its complete_through is later. dir "" or a
// directory that does not exist gives the embedded data alone.
func Effective(dir string) (*checks.Advisories, error) {
	embedded, err := checks.LoadAdvisories("")
	if err != nil {
		return nil, err
	}
	if dir == "" {
		return embedded, nil
	}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return embedded, nil
	}
	local, err := checks.LoadAdvisories(dir)
	if err != nil {
		return nil, err
	}
	return checks.MergeNewer(embedded, local), nil
}

// PrintStatus writes, per product, where its data comes from, its
// complete_through, and how many entries and verified entries it has.
func PrintStatus(w io.Writer, a *checks.Advisories, now time.Time) {
	fmt.Fprintf(w, "advisory data: %s (edited %s)\n", a.Source, date(a.AsOf))
	fmt.Fprintf(w, "%-14s %-16s %8s %8s %8s %6s  %s\n", "PRODUCT", "COMPLETE_THROUGH", "AGE", "ENTRIES", "VERIFIED", "LINES", "FILE")
	for _, p := range sortedProducts(a) {
		n, v, l := 0, 0, 0
		for _, e := range a.Entries {
			if e.Product == p {
				n++
				if e.Verified {
					v++
				}
			}
		}
		for _, rl := range a.ReleaseLines {
			if rl.Product == p {
				l++
			}
		}
		pr := a.Products[p]
		age := int(now.Sub(pr.CompleteThrough) / (24 * time.Hour))
		fmt.Fprintf(w, "%-14s %-16s %7dd %8d %8d %6d  %s\n", p, date(pr.CompleteThrough), age, n, v, l, pr.File)
	}
}

// FetchAndUpdate fetches the feeds with f into feedsDir (a temporary
// directory, removed afterwards, when "") and updates dir from them. A
// failed download stops it before dir is touched.
func FetchAndUpdate(ctx context.Context, f *Fetcher, feedsDir, dir string, dryRun bool) ([]Change, error) {
	if feedsDir == "" {
		tmp, err := os.MkdirTemp("", "hvaudit-feeds-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		feedsDir = filepath.Join(tmp, "feeds")
	}
	if err := f.Fetch(ctx, feedsDir); err != nil {
		return nil, fmt.Errorf("fetching the feeds, nothing written: %w", err)
	}
	set, err := OpenFeeds(feedsDir, nil)
	if err != nil {
		return nil, err
	}
	return Update(set, dir, dryRun)
}
