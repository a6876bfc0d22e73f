package inventory

import (
	"fmt"
	"strings"
)

// Gap records a value that could not be read. Object is "kind:id" for one
// object, or "kind:*" for every object of that kind; Field is the model path
// ("host.lockdown_mode") or a prefix of it ("host.services").
type Gap struct {
	Object string `json:"object"`
	Field  string `json:"field"`
	Reason string `json:"reason"`
	// Since is set when the value is absent because the object's API
	// release predates the field: the release that introduced it ("7.0.2").
	// Checks choose whether that makes them not_applicable or error.
	Since string `json:"since,omitempty"`
}

// ObjectKey builds the Gap.Object form for one object.
func ObjectKey(kind, id string) string { return kind + ":" + id }

// Gaps are the values a collector tried to read and could not. Add and
// AddSince are how a collector records one; Index is how the engine finds
// the one behind an absent value.
type Gaps []Gap

// Add records that field of the object kind:id (id "*": of every object of
// the kind) could not be read, and why. Every finding that meets the
// absent value quotes the reason, so a gap without one is a collector bug:
// Add panics on it, as registering a scheme twice does, and the tests
// that normalize every collector's estates find it.
func (g *Gaps) Add(kind, id, field, reason string) {
	g.AddSince(kind, id, field, reason, "")
}

// AddSince records a gap for a field the object's API release predates:
// since is the release that introduced it.
func (g *Gaps) AddSince(kind, id, field, reason, since string) {
	if strings.TrimSpace(reason) == "" {
		panic(fmt.Sprintf("inventory: the gap on %s %s has no reason", ObjectKey(kind, id), field))
	}
	*g = append(*g, Gap{Object: ObjectKey(kind, id), Field: field, Reason: reason, Since: since})
}

// GapIndex finds the gap behind an absent value. Build it once per
// inventory (Gaps.Index); it is read-only then, safe for concurrent use.
type GapIndex struct {
	byObject map[string][]indexedGap
}

type indexedGap struct {
	gap   *Gap
	field string // gap.Field as a canonical path
}

// Index files the gaps by object. The index points into g: g must not
// change while the index is used.
func (g Gaps) Index() *GapIndex {
	x := &GapIndex{byObject: make(map[string][]indexedGap)}
	for i := range g {
		o := g[i].Object
		x.byObject[o] = append(x.byObject[o], indexedGap{gap: &g[i], field: canonicalPath(g[i].Field)})
	}
	return x
}

// For returns the gap that explains why path is absent on the object
// kind:id, nil when none does: the most specific gap at or above path,
// else one below it (the collector recorded vm.migration.encryption and
// the expression stopped at vm.migration). Gaps on kind:* count for every
// object of the kind. List indices and map keys in path ("vm.nics[0]",
// `host.options["a"]`) match the field they index.
func (x *GapIndex) For(kind, id, path string) *Gap {
	path = canonicalPath(path)
	keys := []string{ObjectKey(kind, id)}
	if id != "*" {
		keys = append(keys, ObjectKey(kind, "*"))
	}
	var above, below *indexedGap
	for _, k := range keys {
		for i := range x.byObject[k] {
			g := &x.byObject[k][i]
			switch {
			case under(path, g.field):
				if above == nil || len(g.field) > len(above.field) {
					above = g
				}
			case under(g.field, path):
				if below == nil {
					below = g
				}
			}
		}
	}
	switch {
	case above != nil:
		return above.gap
	case below != nil:
		return below.gap
	}
	return nil
}
