package libvirt

import "regexp"

var (
	graphicsTag = regexp.MustCompile(`<graphics\b(?:[^>"']|"[^"]*"|'[^']*')*>`)
	passwdAttr  = regexp.MustCompile(`\s+passwd\s*=\s*("[^"]*"|'[^']*')`)
)

// StripGraphicsPasswords removes the passwd attribute of every <graphics>
// element of a domain XML, so the XML can be stored, and reports per
// element, in document order, whether it had one.
func StripGraphicsPasswords(doc string) (string, []bool) {
	var had []bool
	out := graphicsTag.ReplaceAllStringFunc(doc, func(tag string) string {
		stripped := passwdAttr.ReplaceAllString(tag, "")
		had = append(had, stripped != tag)
		return stripped
	})
	return out, had
}
