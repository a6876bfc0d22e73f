package advisories

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Two Debian feeds:
//
//   - debian-tracker: the security tracker's data/DSA/list and data/DLA/list
//     (salsa.debian.org/security-tracker-team/security-tracker), one block
//     per advisory: "[13 May 2015] DSA-3259-1 qemu - security update", the
//     CVEs in braces, then "[jessie] - qemu 1:2.1+dfsg-12" per release.
//   - debian-changelog: the changelog of a package as Debian ships it
//     (/usr/share/doc/<pkg>/changelog.Debian.gz, or
//     metadata.ftp-master.debian.org), one upload per entry, each naming the
//     CVEs it fixes.

// trackerAdvisory is one DSA or DLA.
type trackerAdvisory struct {
	ID, Package string
	Date        time.Time
	CVEs        []string
	Fixed       map[string]string // release codename → fixed version
	File        string
}

var (
	trackerHead  = regexp.MustCompile(`^\[(\d{2} \w{3} \d{4})\] (D[SL]A-\d+-\d+) (\S+)(?: .*)?$`)
	trackerFixed = regexp.MustCompile(`^\s+\[(\w+)\] - (\S+) (\S+)`)
	cveID        = regexp.MustCompile(`CVE-\d{4}-\d{4,}`)
)

// parseTrackerList reads a DSA or DLA list; advisories of other packages
// are kept too (the builder picks its packages).
func parseTrackerList(file string, data []byte) ([]trackerAdvisory, error) {
	var out []trackerAdvisory
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		if m := trackerHead.FindStringSubmatch(line); m != nil {
			d, err := time.Parse("02 Jan 2006", m[1])
			if err != nil {
				return nil, fmt.Errorf("%s:%d: date %q: %w", file, n, m[1], err)
			}
			out = append(out, trackerAdvisory{ID: m[2], Package: m[3], Date: d, Fixed: map[string]string{}, File: file})
			continue
		}
		if len(out) == 0 || (line[0] != '\t' && line[0] != ' ') {
			return nil, fmt.Errorf("%s:%d: not a DSA/DLA list line: %q", file, n, line)
		}
		cur := &out[len(out)-1]
		t := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(t, "{"):
			for _, c := range cveID.FindAllString(t, -1) {
				cur.CVEs = appendOnce(cur.CVEs, c)
			}
		case strings.HasPrefix(t, "["):
			m := trackerFixed.FindStringSubmatch(line)
			if m == nil || m[2] != cur.Package || strings.HasPrefix(m[3], "<") {
				continue // <not-affected>, <unfixed>, other packages
			}
			cur.Fixed[m[1]] = m[3]
		}
	}
	return out, sc.Err()
}

// changelogEntry is one upload in a Debian changelog.
type changelogEntry struct {
	Package, Version string
	Dists            []string
	Date             time.Time
	CVEs             []string
	Line             int
}

var changelogHead = regexp.MustCompile(`^(\S+) \(([^)]+)\) ([^;]+);`)

// parseChangelog reads a Debian changelog, newest entry first as written.
func parseChangelog(file string, data []byte) ([]changelogEntry, error) {
	var out []changelogEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if m := changelogHead.FindStringSubmatch(line); m != nil {
			out = append(out, changelogEntry{Package: m[1], Version: m[2], Dists: strings.Fields(m[3]), Line: n})
			continue
		}
		if len(out) == 0 {
			if strings.TrimSpace(line) == "" {
				continue
			}
			return nil, fmt.Errorf("%s:%d: not a Debian changelog entry header: %q", file, n, line)
		}
		cur := &out[len(out)-1]
		if strings.HasPrefix(line, " -- ") {
			_, when, ok := strings.Cut(line, ">  ")
			if !ok {
				return nil, fmt.Errorf("%s:%d: trailer without a date: %q", file, n, line)
			}
			// Debian writes single-digit days padded with a space.
			d, err := time.Parse("Mon, 2 Jan 2006 15:04:05 -0700", strings.Join(strings.Fields(when), " "))
			if err != nil {
				return nil, fmt.Errorf("%s:%d: trailer date %q: %w", file, n, when, err)
			}
			cur.Date = dateOnly(d)
			continue
		}
		for _, c := range cveID.FindAllString(line, -1) {
			cur.CVEs = appendOnce(cur.CVEs, c)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, e := range out {
		if e.Date.IsZero() {
			return nil, fmt.Errorf("%s:%d: entry %s has no trailer line", file, e.Line, e.Version)
		}
	}
	return out, nil
}
