package checks

import (
	"regexp"
	"slices"
	"sort"
)

// Param is one tailoring param: its value (tailoring applied), the file
// that set it, and the checks whose applies, expr or expected read it.
type Param struct {
	Name   string   `json:"name"`
	Value  any      `json:"value"`
	File   string   `json:"file"`
	Checks []string `json:"checks"`
}

// paramUseRE finds params.NAME in an expression or in {params.NAME} of an
// expected text.
var paramUseRE = regexp.MustCompile(`\bparams\.([A-Za-z_][A-Za-z0-9_]*)`)

// ParamList lists every param of the baseline, sorted by name, with the
// checks that use it (a param no check reads has none: a tailoring of it
// changes nothing).
func (b *Baseline) ParamList() []Param {
	users := map[string][]string{}
	for _, c := range b.checks {
		for _, text := range []string{c.Applies, c.Expr, c.Expected} {
			for _, m := range paramUseRE.FindAllStringSubmatch(text, -1) {
				if !slices.Contains(users[m[1]], c.ID) {
					users[m[1]] = append(users[m[1]], c.ID)
				}
			}
		}
	}
	out := make([]Param, 0, len(b.params))
	for name, v := range b.params {
		ids := users[name]
		if ids == nil {
			ids = []string{}
		}
		sort.Strings(ids)
		out = append(out, Param{Name: name, Value: v, File: b.paramsFiles[name], Checks: ids})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// paramNames lists the baseline's param names, sorted.
func (b *Baseline) paramNames() []string {
	out := make([]string, 0, len(b.params))
	for k := range b.params {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
