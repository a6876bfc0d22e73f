package libvirt

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// ConfValue is one value of a libvirt configuration file (virconf syntax):
// an integer, a string, or a list of strings.
type ConfValue struct {
	IsInt  bool
	IsList bool
	Int    int64
	Str    string
	List   []string
}

// String renders the value the way Settings maps show it: integers and
// strings as written (without quotes), lists in the file's own syntax
// (["a", "b"]) because items may contain commas.
func (v ConfValue) String() string {
	switch {
	case v.IsInt:
		return strconv.FormatInt(v.Int, 10)
	case v.IsList:
		q := make([]string, len(v.List))
		for i, s := range v.List {
			q[i] = strconv.Quote(s)
		}
		return "[" + strings.Join(q, ", ") + "]"
	}
	return v.Str
}

// Bool interprets the value as libvirt does for flags: a non-zero integer
// is true. A string "1", "yes" or "true" is accepted too.
func (v ConfValue) Bool() bool {
	if v.IsInt {
		return v.Int != 0
	}
	switch strings.ToLower(strings.TrimSpace(v.Str)) {
	case "1", "yes", "true", "on":
		return true
	}
	return false
}

// Conf is a parsed libvirt configuration file; a key set twice keeps its
// last value, as libvirt does.
type Conf map[string]ConfValue

// Settings renders every key as a string map.
func (c Conf) Settings() map[string]string {
	out := make(map[string]string, len(c))
	for k, v := range c {
		out[k] = v.String()
	}
	return out
}

func (c Conf) str(key, def string) string {
	if v, ok := c[key]; ok {
		return v.String()
	}
	return def
}

func (c Conf) boolean(key string, def bool) bool {
	if v, ok := c[key]; ok {
		return v.Bool()
	}
	return def
}

func (c Conf) integer(key string, def int64) int64 {
	v, ok := c[key]
	if !ok {
		return def
	}
	if v.IsInt {
		return v.Int
	}
	if n, err := strconv.ParseInt(strings.TrimSpace(v.Str), 10, 64); err == nil {
		return n
	}
	return def
}

func (c Conf) list(key string) []string {
	v, ok := c[key]
	if !ok {
		return []string{}
	}
	if v.IsList {
		return append([]string{}, v.List...)
	}
	if !v.IsInt && v.Str == "" {
		return []string{}
	}
	return []string{v.String()}
}

// ParseConf parses libvirt's configuration syntax (qemu.conf,
// libvirtd.conf): "key = value" lines, where a value is an integer, a
// single- or double-quoted string or a [ list, of, strings ] that may span
// lines; "#" starts a comment. Errors name the line.
func ParseConf(text string) (Conf, error) {
	p := confParser{s: text, line: 1}
	out := Conf{}
	for {
		p.skipBlank(true)
		if p.eof() {
			return out, nil
		}
		key := p.ident()
		if key == "" {
			return nil, p.errorf("expected a setting name, found %q", p.peekWord())
		}
		p.skipBlank(false)
		if !p.consume('=') {
			return nil, p.errorf("expected '=' after %q", key)
		}
		p.skipBlank(false)
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		out[key] = v
		p.skipBlank(false)
		p.consume(';')
		p.skipBlank(false)
		if !p.eof() && p.s[p.i] != '\n' && p.s[p.i] != '\r' {
			return nil, p.errorf("unexpected %q after the value of %q", p.peekWord(), key)
		}
	}
}

type confParser struct {
	s    string
	i    int
	line int
}

func (p *confParser) eof() bool { return p.i >= len(p.s) }

func (p *confParser) errorf(format string, a ...any) error {
	return fmt.Errorf("line %d: %s", p.line, fmt.Sprintf(format, a...))
}

func (p *confParser) peekWord() string {
	end := p.i
	for end < len(p.s) && end-p.i < 20 && p.s[end] != '\n' {
		end++
	}
	return p.s[p.i:end]
}

// skipBlank skips spaces and comments, and newlines when nl is set.
func (p *confParser) skipBlank(nl bool) {
	for !p.eof() {
		switch c := p.s[p.i]; {
		case c == ' ' || c == '\t' || c == '\r':
			p.i++
		case c == '\n' && nl:
			p.i++
			p.line++
		case c == '#':
			for !p.eof() && p.s[p.i] != '\n' {
				p.i++
			}
		default:
			return
		}
	}
}

func (p *confParser) consume(c byte) bool {
	if !p.eof() && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *confParser) ident() string {
	start := p.i
	for !p.eof() {
		c := p.s[p.i]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || p.i > start && (c >= '0' && c <= '9' || c == '.' || c == '-') {
			p.i++
			continue
		}
		break
	}
	return p.s[start:p.i]
}

func (p *confParser) value() (ConfValue, error) {
	if p.eof() {
		return ConfValue{}, p.errorf("missing value")
	}
	switch c := p.s[p.i]; {
	case c == '"' || c == '\'':
		s, err := p.str()
		return ConfValue{Str: s}, err
	case c == '[':
		p.i++
		list := []string{}
		for {
			p.skipBlank(true)
			if p.eof() {
				return ConfValue{}, p.errorf("list not closed with ']'")
			}
			if p.consume(']') {
				return ConfValue{IsList: true, List: list}, nil
			}
			if c := p.s[p.i]; c != '"' && c != '\'' {
				return ConfValue{}, p.errorf("list items must be quoted strings, found %q", p.peekWord())
			}
			s, err := p.str()
			if err != nil {
				return ConfValue{}, err
			}
			list = append(list, s)
			p.skipBlank(true)
			if p.consume(']') {
				return ConfValue{IsList: true, List: list}, nil
			}
			if !p.consume(',') {
				return ConfValue{}, p.errorf("expected ',' or ']' in list, found %q", p.peekWord())
			}
		}
	case c == '-' || c == '+' || c >= '0' && c <= '9':
		start := p.i
		p.i++
		for !p.eof() && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
		n, err := strconv.ParseInt(p.s[start:p.i], 10, 64)
		if err != nil {
			return ConfValue{}, p.errorf("bad number %q", p.s[start:p.i])
		}
		return ConfValue{IsInt: true, Int: n}, nil
	}
	return ConfValue{}, p.errorf("expected a number, string or list, found %q", p.peekWord())
}

func (p *confParser) str() (string, error) {
	q := p.s[p.i]
	// virconf also knows """triple-quoted""" strings, which may span lines.
	if q == '"' && strings.HasPrefix(p.s[p.i:], `"""`) {
		end := strings.Index(p.s[p.i+3:], `"""`)
		if end < 0 {
			return "", p.errorf("string not closed with \"\"\"")
		}
		s := p.s[p.i+3 : p.i+3+end]
		p.line += strings.Count(s, "\n")
		p.i += 3 + end + 3
		return s, nil
	}
	p.i++
	start := p.i
	for !p.eof() && p.s[p.i] != q {
		if p.s[p.i] == '\n' {
			return "", p.errorf("string not closed on its line")
		}
		p.i++
	}
	if p.eof() {
		return "", p.errorf("string not closed")
	}
	s := p.s[start:p.i]
	p.i++
	return s, nil
}

// secretKey matches configuration keys whose values are secrets.
var secretKey = regexp.MustCompile(`(?i)(password|passwd|secret_key|psk)`)

var secretLine = regexp.MustCompile(`^(\s*)([A-Za-z_][A-Za-z0-9_.-]*)(\s*=\s*)(.*)$`)

// RedactConf blanks the values of password settings (vnc_password,
// spice_password …) in a configuration file's text, so the file can be
// stored as evidence: a set password reads "[REDACTED]", an empty one
// stays empty.
func RedactConf(text string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		m := secretLine.FindStringSubmatch(l)
		if m == nil || !secretKey.MatchString(m[2]) {
			continue
		}
		v := strings.TrimSpace(m[4])
		if v == `""` || v == `''` {
			continue
		}
		lines[i] = m[1] + m[2] + m[3] + `"` + redacted + `"`
	}
	return strings.Join(lines, "\n")
}

const redacted = "[REDACTED]"

// sortedKeys returns a map's keys sorted.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
