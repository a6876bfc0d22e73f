package libvirt

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// The libvirt collector's one redaction layer: every value below that can
// hold a secret is removed before a snapshot leaves Fetch (Data.Redact),
// and what the checks need of it is kept as set / not set. The README's
// "Secrets" section lists the same fields; TestNoSecretInAnyOutput
// (integration) plants a marker in each and searches every output.
//
// SecretFields names them, in the README's words.
var SecretFields = []string{
	"domain XML <graphics passwd> (VNC, SPICE, RDP console passwords; kept as set/not set)",
	"domain XML <cookies><cookie> values of network disks and their backing stores",
	"domain XML <auth><secret usage> of iSCSI and Ceph RBD disks and iSCSI host devices (the name of the libvirt secret holding the CHAP or cephx key)",
	"domain XML <source query> of HTTP(S) network disks (URL query strings carry access tokens)",
	"qemu.conf and the daemons' configuration: values of keys named *password*, *passwd*, *passphrase*, *secret* or *psk*, in any syntax (quoted, triple-quoted over lines, lists, numbers; kept as set/not set); a file that does not parse is not stored",
	"QEMU command lines: only the options hvaudit reads are kept, never -object secret data or disk paths, and password= values are replaced",
}

var (
	passwdAttr = regexp.MustCompile(`\s+passwd\s*=\s*("[^"]*"|'[^']*')`)
	usageAttr  = regexp.MustCompile(`(\s+usage\s*=\s*)("[^"]*"|'[^']*')`)
	queryAttr  = regexp.MustCompile(`(\s+query\s*=\s*)("[^"]*"|'[^']*')`)
)

// ErrUnredactable marks domain XML that could not be walked to find its
// secrets; it is not stored.
var ErrUnredactable = errors.New("domain XML not stored: it is not well-formed XML, so its secrets cannot be located")

// edit replaces the bytes [start, end) of the document.
type edit struct {
	start, end int
	text       string
}

// RedactDomainXML removes every secret a domain XML can carry (see
// SecretFields) and reports, per <graphics> element in document order,
// whether it had a passwd attribute. It edits the text in place, so the
// result still parses as the same domain.
func RedactDomainXML(doc string) (string, []bool, error) {
	dec := xml.NewDecoder(strings.NewReader(doc))
	var edits []edit
	var had []bool
	var stack []string
	prev := int64(0)
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", nil, fmt.Errorf("%w (%w)", ErrUnredactable, err)
		}
		off := dec.InputOffset()
		start, end := int(prev), int(off)
		prev = off
		switch t := tok.(type) {
		case xml.StartElement:
			name := t.Name.Local
			tag := doc[start:end]
			newTag := tag
			switch {
			case name == "graphics":
				stripped := passwdAttr.ReplaceAllString(newTag, "")
				had = append(had, stripped != newTag)
				newTag = stripped
			case name == "secret" && len(stack) > 0 && stack[len(stack)-1] == "auth":
				newTag = usageAttr.ReplaceAllString(newTag, `${1}"`+redacted+`"`)
			case name == "source":
				newTag = queryAttr.ReplaceAllString(newTag, `${1}"`+redacted+`"`)
			}
			if newTag != tag {
				edits = append(edits, edit{start, end, newTag})
			}
			// A self-closing tag is followed by its own EndElement.
			stack = append(stack, name)
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case xml.CharData:
			if len(stack) > 0 && stack[len(stack)-1] == "cookie" && strings.TrimSpace(string(t)) != "" {
				edits = append(edits, edit{start, end, redacted})
			}
		}
	}
	if len(edits) == 0 {
		return doc, had, nil
	}
	var b strings.Builder
	last := 0
	for _, e := range edits {
		b.WriteString(doc[last:e.start])
		b.WriteString(e.text)
		last = e.end
	}
	b.WriteString(doc[last:])
	return b.String(), had, nil
}

// StripGraphicsPasswords is RedactDomainXML for callers that only need the
// console passwords gone; an XML that cannot be walked comes back empty.
func StripGraphicsPasswords(doc string) (string, []bool) {
	out, had, err := RedactDomainXML(doc)
	if err != nil {
		return "", nil
	}
	return out, had
}

// Redact applies the redaction layer to everything a snapshot stores. It
// is idempotent: Fetch calls it last, and a snapshot read back can be
// redacted again (hvaudit collect of an older snapshot format).
func (d *Data) Redact() {
	for i := range d.Domains {
		r := &d.Domains[i]
		if r.XML == "" {
			continue
		}
		x, had, err := RedactDomainXML(r.XML)
		if err != nil {
			r.XML, r.Error = "", err.Error()
			continue
		}
		r.XML = x
		if r.Secure && r.GraphicsPasswords == nil {
			r.GraphicsPasswords = had
		}
	}
	if h := d.Host; h != nil {
		for p, text := range h.Files {
			if !isConfFile(p) {
				continue
			}
			out, err := RedactConf(text)
			if err != nil {
				delete(h.Files, p)
				if h.Errors == nil {
					h.Errors = map[string]string{}
				}
				h.Errors[p] = err.Error()
				continue
			}
			h.Files[p] = out
		}
	}
	if rt := d.Runtime; rt != nil {
		for name, p := range rt.Domains {
			p.Args = filterQEMUArgs(p.Args)
			rt.Domains[name] = p
		}
	}
}

// isConfFile: a libvirt configuration file (virconf syntax) among the
// host files: qemu.conf, the daemons' files and any given with -f.
func isConfFile(p string) bool {
	return strings.HasSuffix(p, ".conf") && !strings.HasPrefix(p, "/proc/") && !strings.HasPrefix(p, "/sys/")
}
