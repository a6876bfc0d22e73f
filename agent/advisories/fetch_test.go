package advisories

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hvaudit/hvaudit/checks"
)

// feedServer serves the recorded excerpts under the paths the vendors
// use, over TLS; fail names paths that answer 500.
func feedServer(t *testing.T, fail ...string) (*httptest.Server, Sources) {
	t.Helper()
	set, err := OpenFeeds("testdata/feeds", nil)
	if err != nil {
		t.Fatal(err)
	}
	routes := map[string]string{} // URL path → feed file
	for _, f := range set.Files {
		switch dir, name := filepath.Dir(f), filepath.Base(f); dir {
		case "cvelist", "msrc-cvelist":
			routes["/cvelist/"+cvelistPath(strings.TrimSuffix(name, ".json"))] = f
		case "debian-tracker":
			routes["/tracker/"+strings.TrimSuffix(name, ".list")+"/list"] = f
		}
	}
	cvrf, err := os.ReadFile("testdata/cvrf/2026-Feb-constructed.xml")
	if err != nil {
		t.Fatal(err)
	}
	routes["/changelog/main/q/qemu/stable_changelog"] = "debian-changelog/debian-13/qemu.changelog.gz"
	routes["/changelog/main/libv/libvirt/stable_changelog"] = "debian-changelog/debian-13/libvirt.changelog.gz"
	routes["/changelog/main/q/qemu/oldstable_changelog"] = "debian-changelog/debian-12/qemu.changelog.gz"
	routes["/changelog/main/libv/libvirt/oldstable_changelog"] = "debian-changelog/debian-12/libvirt.changelog.gz"
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if slices.Contains(fail, r.URL.Path) {
			http.Error(w, "broken", http.StatusInternalServerError)
			return
		}
		if r.URL.Path == "/msrc/2026-Feb" {
			w.Write(cvrf)
			return
		}
		f, ok := routes[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		b, err := readFeedFile(set, f) // changelogs are served plain, as Debian does
		if err != nil {
			t.Error(err)
		}
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv, Sources{CVEList: srv.URL + "/cvelist", MSRC: srv.URL + "/msrc", DebianTracker: srv.URL + "/tracker", DebianChangelog: srv.URL + "/changelog"}
}

// On 2026-03-05 (February's CVRF document out, March's not yet), an
// online update fetches every feed over TLS and builds the shipped entries.
func TestFetchBuildsTheShippedEntries(t *testing.T) {
	srv, src := feedServer(t)
	f := &Fetcher{Client: srv.Client(), Sources: src, FirstMonth: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), TrackerLists: []string{"DSA/list"},
		Now: func() time.Time { return time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC) }}
	dir := filepath.Join(t.TempDir(), "feeds")
	if err := f.Fetch(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	set, err := OpenFeeds(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := set.filesOf("msrc-cvrf"); !slices.Equal(got, []string{"msrc-cvrf/2026-Feb.xml"}) {
		t.Errorf("CVRF documents fetched: %v", got)
	}
	if ct := set.Feeds["msrc-cvrf"].CompleteThrough; !ct.Equal(time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("msrc-cvrf complete_through %s", ct)
	}
	built, err := Build(set)
	if err != nil {
		t.Fatal(err)
	}
	fetched := loadBuilt(t, built)
	shipped := mustEmbedded(t)
	for _, c := range []struct{ product, line string }{{"windows-server", "14393"}, {"windows-server", "17763"},
		{"qemu", "debian-12"}, {"libvirt", "debian-13"}, {"qemu", "debian-8"}, {"esxi", "8.0.3"}, {"vcenter", "8.0.3"}} {
		got, want := entriesOf(fetched, c.product, c.line), entriesOf(shipped, c.product, c.line)
		if len(want) == 0 || !slices.Equal(got, want) {
			t.Errorf("%s %s: fetched %v, shipped %v", c.product, c.line, got, want)
		}
	}
	// February of 20348 comes from the CVRF document: same update and
	// build as the record gives, with the document's CVEs.
	for _, e := range fetched.Entries {
		if e.ReleaseLine == "20348" && e.Published.Month() == time.February {
			if e.ID != "KB5075906" || e.FixedBuild != "20348.4773" || strings.Join(e.CVEs, ",") != "CVE-2026-21248,CVE-2026-21519" || !e.Verified {
				t.Errorf("February 2022 entry from CVRF: %+v", e)
			}
		}
	}
}

// A failed download names its URL, and neither the feed directory nor the
// advisory directory is touched.
func TestFetchFailureNamesTheURLAndWritesNothing(t *testing.T) {
	srv, src := feedServer(t, "/msrc/2026-Feb")
	feb := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	f := &Fetcher{Client: srv.Client(), Sources: src, FirstMonth: feb, TrackerLists: []string{"DSA/list"}, Now: func() time.Time { return time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC) }}
	adv := filepath.Join(t.TempDir(), "advisories")
	os.MkdirAll(adv, 0o755)
	os.WriteFile(filepath.Join(adv, "esxi.toml"), []byte("as_of = 2026-01-01\n"), 0o644)
	feeds := filepath.Join(t.TempDir(), "feeds")
	_, err := FetchAndUpdate(context.Background(), f, feeds, adv, false)
	if err == nil || !strings.Contains(err.Error(), "GET "+srv.URL+"/msrc/2026-Feb: 500 Internal Server Error") {
		t.Fatalf("error %v, want the URL that failed", err)
	}
	if _, err := os.Stat(feeds); !os.IsNotExist(err) {
		t.Errorf("half-fetched feed directory left: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(feeds))
	if len(entries) != 0 {
		t.Errorf("leftovers beside the feed directory: %v", entries)
	}
	if b, _ := os.ReadFile(filepath.Join(adv, "esxi.toml")); string(b) != "as_of = 2026-01-01\n" {
		t.Errorf("advisory directory changed: %q", b)
	}
	// Before its Patch Tuesday a month has no document: that is not an
	// error for the current month, but it is for an earlier one.
	srv2, src2 := feedServer(t)
	f2 := &Fetcher{Client: srv2.Client(), Sources: src2, FirstMonth: feb, TrackerLists: []string{"DSA/list"}, Now: func() time.Time { return time.Date(2026, 4, 20, 0, 0, 0, 0, time.UTC) }}
	if err := f2.Fetch(context.Background(), filepath.Join(t.TempDir(), "f")); err == nil || !strings.Contains(err.Error(), "/msrc/2026-Mar: 404 Not Found") {
		t.Errorf("missing March document in April: %v", err)
	}
}

// The default client verifies TLS: a server whose certificate it does not
// trust is refused.
func TestFetchVerifiesTLS(t *testing.T) {
	_, src := feedServer(t)
	f := &Fetcher{Sources: src}
	err := f.Fetch(context.Background(), filepath.Join(t.TempDir(), "feeds"))
	if err == nil || !strings.Contains(err.Error(), "certificate") || !strings.Contains(err.Error(), src.CVEList) {
		t.Errorf("untrusted server accepted or error unnamed: %v", err)
	}
}

func loadBuilt(t *testing.T, built map[string][]byte) *checks.Advisories {
	t.Helper()
	dir := t.TempDir()
	for n, b := range built {
		os.WriteFile(filepath.Join(dir, n), b, 0o644)
	}
	a, err := checks.LoadAdvisories(dir)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// entriesOf lists "id fixed_build cves verified" of one line, in order.
func entriesOf(a *checks.Advisories, product, line string) []string {
	var out []string
	for _, e := range a.Entries {
		if e.Product == product && e.ReleaseLine == line {
			var b bytes.Buffer
			b.WriteString(e.ID + " " + e.FixedBuild + " " + strings.Join(e.CVEs, ",") + " ")
			if e.Verified {
				b.WriteString("verified")
			}
			out = append(out, b.String())
		}
	}
	return out
}
