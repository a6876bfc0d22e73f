// Command gen regenerates hvaudit's STIG rule catalog (configs/stig/*.json)
// from the published sources that configs/stig/sources.toml names.
//
//	go run ./configs/stig/gen -src vmware/dod-compliance-and-automation=DIR -src microsoft/PowerStig=DIR
//
// Each DIR is a clone or bare mirror of the repository holding the commit
// sources.toml names; files are read with `git show COMMIT:PATH`, so the
// output depends only on that commit, never on a work tree.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/hvaudit/hvaudit/report/stig"
)

type sourcesFile struct {
	Benchmark []source `toml:"benchmark"`
}

// source is one [[benchmark]] of sources.toml.
type source struct {
	File        string `toml:"file"`
	Form        string `toml:"form"`
	Repository  string `toml:"repository"`
	Commit      string `toml:"commit"`
	Path        string `toml:"path"`
	License     string `toml:"license"`
	Description string `toml:"description"`
	// Identity for sources that carry none (inspec).
	StigID              string     `toml:"stig_id"`
	Title               string     `toml:"title"`
	Version             string     `toml:"version"`
	ReleaseInfo         string     `toml:"release_info"`
	ReferenceIdentifier string     `toml:"reference_identifier"`
	CheckContentHref    string     `toml:"check_content_href"`
	Asset               stig.Asset `toml:"asset"`
}

// reader reads files of one commit of a repository.
type reader interface {
	file(commit, p string) ([]byte, error)
	dir(commit, p string) ([]string, error)
}

// gitDir reads through git, from a clone or a bare mirror.
type gitDir string

func (g gitDir) git(args ...string) ([]byte, error) {
	cmd := exec.Command("git", append([]string{"-C", string(g)}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

func (g gitDir) file(commit, p string) ([]byte, error) { return g.git("show", commit+":"+p) }

func (g gitDir) dir(commit, p string) ([]string, error) {
	out, err := g.git("ls-tree", "--name-only", commit, strings.TrimSuffix(p, "/")+"/")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l != "" {
			names = append(names, path.Base(l))
		}
	}
	return names, nil
}

func main() {
	var srcs multiFlag
	flag.Var(&srcs, "src", "OWNER/REPO=DIR: where a repository named in sources.toml is cloned (repeatable)")
	dir := flag.String("dir", "configs/stig", "the catalog directory: sources.toml is read and *.json written here")
	flag.Parse()
	readers := map[string]reader{}
	for _, s := range srcs {
		repo, d, ok := strings.Cut(s, "=")
		if !ok {
			fatal(fmt.Errorf("-src %q: want OWNER/REPO=DIR", s))
		}
		readers[repo] = gitDir(d)
	}
	if err := run(*dir, readers); err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "gen:", err)
	os.Exit(1)
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// run regenerates every benchmark of dir/sources.toml; nothing is written
// unless every benchmark was built and validated.
func run(dir string, readers map[string]reader) error {
	var sf sourcesFile
	md, err := toml.DecodeFile(filepath.Join(dir, "sources.toml"), &sf)
	if err != nil {
		return err
	}
	if und := md.Undecoded(); len(und) > 0 {
		return fmt.Errorf("sources.toml: unknown key %s", und[0])
	}
	out := map[string][]byte{}
	var errs []error
	for _, s := range sf.Benchmark {
		r := readers[s.Repository]
		if r == nil {
			errs = append(errs, fmt.Errorf("%s: no -src for %s", s.File, s.Repository))
			continue
		}
		b, err := build(s, r)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.File, err))
			continue
		}
		data, err := encode(b)
		if err != nil {
			return err
		}
		out[s.File] = data
		fmt.Fprintf(os.Stderr, "%s: %s %s, %d rules\n", s.File, b.StigID, b.ReleaseInfo, len(b.Rules))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	for name, data := range out {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// build reads one benchmark from its source.
func build(s source, r reader) (*stig.Benchmark, error) {
	var b *stig.Benchmark
	switch s.Form {
	case "xccdf":
		data, err := r.file(s.Commit, s.Path)
		if err != nil {
			return nil, err
		}
		if b, err = parseXCCDF(data); err != nil {
			return nil, err
		}
	case "inspec":
		names, err := r.dir(s.Commit, s.Path)
		if err != nil {
			return nil, err
		}
		b = &stig.Benchmark{
			StigID: s.StigID, Title: s.Title, DisplayName: displayName(s.Title), Version: s.Version,
			ReleaseInfo: s.ReleaseInfo, ReferenceIdentifier: s.ReferenceIdentifier, CheckContentHref: s.CheckContentHref,
		}
		for _, n := range names {
			if !strings.HasSuffix(n, ".rb") {
				continue
			}
			data, err := r.file(s.Commit, path.Join(s.Path, n))
			if err != nil {
				return nil, err
			}
			c, err := parseInSpec(string(data))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", n, err)
			}
			rule, err := c.rule()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", n, err)
			}
			b.Rules = append(b.Rules, rule)
		}
		// DISA orders a benchmark by group id.
		slices.SortFunc(b.Rules, func(x, y stig.Rule) int { return groupNumber(x.GroupID) - groupNumber(y.GroupID) })
	default:
		return nil, fmt.Errorf("form %q: want xccdf or inspec", s.Form)
	}
	b.Asset = s.Asset
	b.Source = stig.Source{Description: s.Description, Repository: s.Repository, Commit: s.Commit, Path: s.Path, License: s.License}
	return b, b.Validate()
}

func groupNumber(id string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(id, "V-"))
	return n
}

// encode writes a benchmark as indented JSON, text unescaped so diffs
// between releases read as text.
func encode(b *stig.Benchmark) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(b); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
