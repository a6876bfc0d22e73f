package checks

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hvaudit/hvaudit/checks/findings"
	"github.com/hvaudit/hvaudit/checks/glob"
)

// Scope narrows a run to what a change touched (audit --check, --area,
// --object): only findings of the selected checks, in the selected areas,
// on the selected objects are kept, and the score covers only them. An
// empty list does not narrow; the lists combine with AND.
type Scope struct {
	checks  map[string]bool // current check ids; nil = every check
	areas   []string
	objects []*glob.Glob
}

// NewScope resolves a narrowing against a baseline. A check is named by
// its id, a former id (alias) or a glob over ids (ESXI-VM-*, the waivers'
// glob syntax: checks/glob), compared
// without case; one that names no check is an error, as is an area that
// is not one of findings.Areas or an object pattern that is not a valid glob. A
// scope that narrows nothing is nil.
func NewScope(b *Baseline, checkIDs, areas, objects []string) (*Scope, error) {
	if len(checkIDs) == 0 && len(areas) == 0 && len(objects) == 0 {
		return nil, nil
	}
	s := &Scope{areas: areas}
	if len(checkIDs) > 0 {
		s.checks = map[string]bool{}
		for _, want := range checkIDs {
			pattern := strings.ToUpper(strings.TrimSpace(want))
			g, err := glob.Compile(pattern)
			if err != nil || pattern == "" {
				return nil, fmt.Errorf("--check %q is not a check id or a valid pattern", want)
			}
			found := false
			for _, c := range b.checks {
				for _, id := range append([]string{c.ID}, c.Aliases...) {
					if g.Match(strings.ToUpper(id)) {
						s.checks[c.ID], found = true, true
					}
				}
			}
			if !found {
				return nil, fmt.Errorf("--check %q names no check of baseline %s (see 'hvaudit checks list')", want, b.ID)
			}
		}
	}
	for _, a := range areas {
		if !slices.Contains(findings.Areas, a) {
			return nil, fmt.Errorf("--area %q is not one of %s", a, strings.Join(findings.Areas, ", "))
		}
	}
	for _, o := range objects {
		g, err := glob.Compile(o)
		if err != nil || o == "" {
			return nil, fmt.Errorf("--object %q is not a valid pattern (shell wildcards: * ? [a-z])", o)
		}
		s.objects = append(s.objects, g)
	}
	return s, nil
}

// Includes reports whether a finding is within the scope. An object
// pattern matches the object's name or its id.
func (s *Scope) Includes(f *findings.Finding) bool {
	if s == nil {
		return true
	}
	if s.checks != nil && !s.checks[f.CheckID] {
		return false
	}
	if len(s.areas) > 0 && !slices.Contains(s.areas, f.Area) {
		return false
	}
	if len(s.objects) > 0 && !slices.ContainsFunc(s.objects, func(g *glob.Glob) bool {
		return g.Match(f.Object.Name) || g.Match(f.Object.ID)
	}) {
		return false
	}
	return true
}

// Narrow keeps the findings within the scope, in order.
func (s *Scope) Narrow(fs []findings.Finding) []findings.Finding {
	if s == nil {
		return fs
	}
	out := fs[:0:0]
	for i := range fs {
		if s.Includes(&fs[i]) {
			out = append(out, fs[i])
		}
	}
	return out
}
