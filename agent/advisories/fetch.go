package advisories

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

//go:embed index.toml
var indexTOML []byte

// Sources are the base URLs of the feeds, each overridable (a mirror, or a
// test server).
type Sources struct {
	// CVEList serves CVEProject/cvelistV5's files: <base>/cves/2026/47xxx/CVE-2026-47876.json.
	CVEList string
	// MSRC serves Microsoft's CVRF documents: <base>/2026-Jun.
	MSRC string
	// DebianTracker serves the security tracker's data: <base>/DSA/list.
	DebianTracker string
	// DebianChangelog serves Debian's changelogs: <base>/main/q/qemu/stable_changelog.
	DebianChangelog string
}

// DefaultSources are the vendors' own services.
func DefaultSources() Sources {
	return Sources{
		CVEList:         "https://raw.githubusercontent.com/CVEProject/cvelistV5/main",
		MSRC:            "https://api.msrc.microsoft.com/cvrf/v3.0/cvrf",
		DebianTracker:   "https://salsa.debian.org/security-tracker-team/security-tracker/-/raw/master/data",
		DebianChangelog: "https://metadata.ftp-master.debian.org/changelogs",
	}
}

// feedIndex is index.toml: what an online update fetches.
type feedIndex struct {
	CVEList     indexCVEs `toml:"cvelist"`
	MSRCCVEList indexCVEs `toml:"msrc_cvelist"`
	MSRCCVRF    struct {
		FirstMonth time.Time `toml:"first_month"`
	} `toml:"msrc_cvrf"`
	DebianTracker struct {
		Lists []string `toml:"lists"`
	} `toml:"debian_tracker"`
	DebianChangelog []struct {
		Line    string `toml:"line"`
		Product string `toml:"product"`
		Path    string `toml:"path"`
	} `toml:"debian_changelog"`
}

type indexCVEs struct {
	CompleteThrough time.Time `toml:"complete_through"`
	Note            string    `toml:"note"`
	CVEs            []string  `toml:"cves"`
}

func loadIndex() (*feedIndex, error) {
	var ix feedIndex
	md, err := toml.NewDecoder(bytes.NewReader(indexTOML)).Decode(&ix)
	if err != nil {
		return nil, fmt.Errorf("index.toml: %w", err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("index.toml: unknown key %q", und[0].String())
	}
	return &ix, nil
}

// Fetcher downloads the feeds into a feed directory.
type Fetcher struct {
	// Client makes the requests; nil is a client with Go's default,
	// verified TLS.
	Client  *http.Client
	Sources Sources
	// Now is the day of the fetch (time.Now when nil).
	Now func() time.Time
	// FirstMonth is the first CVRF document fetched (index.toml's when zero).
	FirstMonth time.Time
	// TrackerLists are the tracker files fetched (index.toml's when nil).
	TrackerLists []string
}

// maxFeedFile bounds one download: the largest, a month's CVRF document,
// is under 10 MiB.
const maxFeedFile = 64 << 20

// Fetch writes a complete feed directory (the layout --from reads, with
// feeds.toml and SHA256SUMS) to dir, which must not exist. It is written
// beside dir and renamed into place only when every file arrived: a
// failure leaves nothing behind and names the URL that failed.
func (f *Fetcher) Fetch(ctx context.Context, dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return fmt.Errorf("feed directory %s already exists", dir)
	}
	ix, err := loadIndex()
	if err != nil {
		return err
	}
	now := time.Now()
	if f.Now != nil {
		now = f.Now()
	}
	today := dateOnly(now)
	client := f.Client
	if client == nil {
		client = &http.Client{Timeout: 2 * time.Minute}
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".feeds-partial-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	files := map[string][]byte{}
	get := func(url, accept string) ([]byte, int, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, 0, fmt.Errorf("GET %s: %w", url, err)
		}
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := client.Do(req)
		if err != nil {
			var ue *neturl.Error // its text repeats the URL
			if errors.As(err, &ue) {
				err = ue.Err
			}
			return nil, 0, fmt.Errorf("GET %s: %w", url, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, resp.StatusCode, fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, maxFeedFile+1))
		if err != nil {
			return nil, resp.StatusCode, fmt.Errorf("GET %s: %w", url, err)
		}
		if len(b) > maxFeedFile {
			return nil, resp.StatusCode, fmt.Errorf("GET %s: larger than %d bytes", url, maxFeedFile)
		}
		return b, resp.StatusCode, nil
	}
	base := func(s string) string { return strings.TrimRight(s, "/") }
	var feeds []Feed
	for _, c := range []struct {
		feed string
		list indexCVEs
	}{{"cvelist", ix.CVEList}, {"msrc-cvelist", ix.MSRCCVEList}} {
		for _, id := range c.list.CVEs {
			b, _, err := get(base(f.Sources.CVEList)+"/"+cvelistPath(id), "application/json")
			if err != nil {
				return err
			}
			files[c.feed+"/"+id+".json"] = b
		}
		feeds = append(feeds, Feed{Name: c.feed, Retrieved: today, CompleteThrough: c.list.CompleteThrough, Note: c.list.Note})
	}
	// One CVRF document per month up to this one; only this month's may
	// be missing (not published before its Patch Tuesday).
	last, first := "", ix.MSRCCVRF.FirstMonth
	if !f.FirstMonth.IsZero() {
		first = f.FirstMonth
	}
	for m := first; !m.After(today); m = m.AddDate(0, 1, 0) {
		id := m.Format("2006-Jan")
		b, status, err := get(base(f.Sources.MSRC)+"/"+id, "application/xml")
		if status == http.StatusNotFound && m.Year() == today.Year() && m.Month() == today.Month() {
			break
		}
		if err != nil {
			return err
		}
		files["msrc-cvrf/"+id+".xml"] = b
		last = id
	}
	feeds = append(feeds, Feed{Name: "msrc-cvrf", Retrieved: today, CompleteThrough: today,
		Note: fmt.Sprintf("every CVRF document from %s to %s", first.Format("2006-Jan"), last)})
	lists := ix.DebianTracker.Lists
	if f.TrackerLists != nil {
		lists = f.TrackerLists
	}
	for _, l := range lists {
		b, _, err := get(base(f.Sources.DebianTracker)+"/"+l, "")
		if err != nil {
			return err
		}
		files["debian-tracker/"+strings.ReplaceAll(l, "/list", ".list")] = b
	}
	feeds = append(feeds, Feed{Name: "debian-tracker", Retrieved: today, CompleteThrough: today, Note: "the tracker's lists as fetched"})
	for _, c := range ix.DebianChangelog {
		b, _, err := get(base(f.Sources.DebianChangelog)+"/"+c.Path, "")
		if err != nil {
			return err
		}
		files["debian-changelog/"+c.Line+"/"+c.Product+".changelog"] = b
	}
	feeds = append(feeds, Feed{Name: "debian-changelog", Retrieved: today, CompleteThrough: today, Note: "the changelogs of each line's newest packages as fetched"})

	var ft strings.Builder
	for _, fd := range feeds {
		fmt.Fprintf(&ft, "[[feed]]\nname = %s\nretrieved = %s\ncomplete_through = %s\nnote = %s\n\n", q(fd.Name), date(fd.Retrieved), date(fd.CompleteThrough), q(fd.Note))
	}
	files[feedsName] = []byte(ft.String())
	var names []string
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var sums strings.Builder
	for _, n := range names {
		p := filepath.Join(tmp, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, files[n], 0o644); err != nil {
			return err
		}
		h := sha256.Sum256(files[n])
		fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(h[:]), n)
	}
	if err := os.WriteFile(filepath.Join(tmp, manifestName), []byte(sums.String()), 0o644); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return errors.Join(fmt.Errorf("feed directory %s", dir), err)
	}
	return nil
}
