package inventory

import (
	"regexp"
	"strings"
)

// SourceOf names where the platform reads the value at path: the Sources
// entry of the longest prefix of path, "" when none.
func (inv *Inventory) SourceOf(path string) string {
	path = canonicalPath(path)
	best, bestLen := "", -1
	for k, v := range inv.Sources {
		if len(k) > bestLen && under(path, k) {
			best, bestLen = v, len(k)
		}
	}
	return best
}

// indexRE matches a list index or a map key in a path.
var indexRE = regexp.MustCompile(`\[(\d+|"(?:[^"\\]|\\.)*")\]`)

// canonicalPath turns a path as expressions write it into the form of gap
// fields and Sources keys: a list index goes ("vm.nics[0].x" → "vm.nics.x"),
// a map key becomes a segment (`host.options["a"]` → "host.options.a").
func canonicalPath(p string) string {
	if !strings.Contains(p, "[") {
		return p
	}
	return indexRE.ReplaceAllStringFunc(p, func(m string) string {
		if m[1] == '"' {
			return "." + m[2:len(m)-2]
		}
		return ""
	})
}

// under reports whether path is prefix itself or lies below it.
func under(path, prefix string) bool {
	return path == prefix || strings.HasPrefix(path, prefix) &&
		(path[len(prefix)] == '.' || path[len(prefix)] == '[')
}
