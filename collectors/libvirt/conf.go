package libvirt

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// This file reads libvirt's configuration files (qemu.conf, libvirtd.conf,
// virtqemud.conf …) the way libvirt's own parser does (src/util/virconf.c,
// libvirt 9.0), so hvaudit judges the values the daemon reads:
//
//   - "name = value" statements, separated by a newline or ';'; a name
//     starts with a letter and continues with letters, digits and '_';
//   - a value is an integer (optional sign, digits), a string in '…' or
//     "…" that ends on its line, a """triple-quoted""" string that may
//     span lines (no escapes in any of them), or a [ list ] of values
//     that may span lines and end with a trailing comma;
//   - '#' starts a comment, also after a value;
//   - a name set twice: the first statement counts (virConfGetValue
//     returns the first entry);
//   - typed reads are strict: a flag must be the integer 0 or 1, a string
//     setting must be a string. Anything else makes libvirt refuse the
//     file, and hvaudit reports the file as unreadable.
//
// Errors name the line and what was expected, never text from the file:
// a value may be a password.

// ConfValue is one value of a libvirt configuration file.
type ConfValue struct {
	IsInt  bool
	IsList bool
	// Negative: the integer was written with a '-' (libvirt types it as
	// signed, which its unsigned and boolean reads refuse).
	Negative bool
	Int      int64
	Str      string
	// List holds the items of a list, each a value of its own.
	List []ConfValue
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
			if s.IsInt || s.IsList {
				q[i] = s.String()
			} else {
				q[i] = strconv.Quote(s.Str)
			}
		}
		return "[" + strings.Join(q, ", ") + "]"
	}
	return v.Str
}

func (v ConfValue) isString() bool { return !v.IsInt && !v.IsList }

// confEntry is one statement; valStart and valEnd delimit its value in the
// text, so a secret can be blanked in place.
type confEntry struct {
	key              string
	val              ConfValue
	line             int
	valStart, valEnd int
}

// Conf is a parsed libvirt configuration file.
type Conf struct {
	entries []confEntry
}

// Get returns the value libvirt uses for key: the first statement's.
func (c *Conf) Get(key string) (ConfValue, bool) {
	if c == nil {
		return ConfValue{}, false
	}
	for _, e := range c.entries {
		if e.key == key {
			return e.val, true
		}
	}
	return ConfValue{}, false
}

// Settings renders every key libvirt reads (the first of each) as a
// string map.
func (c *Conf) Settings() map[string]string {
	out := map[string]string{}
	if c == nil {
		return out
	}
	for _, e := range c.entries {
		if _, seen := out[e.key]; !seen {
			out[e.key] = e.val.String()
		}
	}
	return out
}

// confReader reads typed settings with libvirt's defaults and collects
// the type errors for which libvirt would refuse the file.
type confReader struct {
	c    *Conf
	errs []string
}

func (r *confReader) fail(key, want string) {
	r.errs = append(r.errs, key+" must be "+want)
}

// err returns the type errors, naming the file.
func (r *confReader) err(path string) error {
	if len(r.errs) == 0 {
		return nil
	}
	return fmt.Errorf("%s: libvirt refuses this file: %s", path, strings.Join(r.errs, "; "))
}

func (r *confReader) has(key string) bool { _, ok := r.c.Get(key); return ok }

func (r *confReader) str(key, def string) string {
	v, ok := r.c.Get(key)
	if !ok {
		return def
	}
	if !v.isString() {
		r.fail(key, "a string")
		return def
	}
	return v.Str
}

// boolean is virConfGetValueBool: an unsigned integer, 0 or 1.
func (r *confReader) boolean(key string, def bool) bool {
	v, ok := r.c.Get(key)
	if !ok {
		return def
	}
	if !v.IsInt || v.Negative || v.Int > 1 {
		r.fail(key, "0 or 1")
		return def
	}
	return v.Int == 1
}

// integer is virConfGetValueInt (signed) or, with unsigned, UInt.
func (r *confReader) integer(key string, def int64, unsigned bool) int64 {
	v, ok := r.c.Get(key)
	if !ok {
		return def
	}
	if !v.IsInt || unsigned && v.Negative {
		if unsigned {
			r.fail(key, "an unsigned integer")
		} else {
			r.fail(key, "an integer")
		}
		return def
	}
	return v.Int
}

// list is virConfGetValueStringList with compatString: a list of strings,
// or one string as a one-item list.
func (r *confReader) list(key string) []string {
	v, ok := r.c.Get(key)
	if !ok {
		return []string{}
	}
	if v.isString() {
		return []string{v.Str}
	}
	if !v.IsList {
		r.fail(key, "a string or a list of strings")
		return []string{}
	}
	out := make([]string, 0, len(v.List))
	for _, it := range v.List {
		if !it.isString() {
			r.fail(key, "a list of strings")
			return []string{}
		}
		out = append(out, it.Str)
	}
	return out
}

// ParseConf parses libvirt's configuration syntax. Errors read
// "line N: <what was expected>" and quote nothing from the text.
func ParseConf(text string) (*Conf, error) {
	p := confParser{s: text, line: 1}
	out := &Conf{}
	for {
		p.skip(true)
		if p.eof() {
			return out, nil
		}
		if p.cur() == '#' {
			p.comment()
			continue
		}
		line := p.line
		key := p.name()
		if key == "" {
			return nil, p.errorf("expecting a setting name")
		}
		p.skip(false)
		if !p.consume('=') {
			return nil, p.errorf("expecting '=' after a setting name")
		}
		p.skip(false)
		start := p.i
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		out.entries = append(out.entries, confEntry{key: key, val: v, line: line, valStart: start, valEnd: p.i})
		p.skip(false)
		if !p.eof() && p.cur() == '#' {
			p.comment()
		}
		// A separator: end of text, end of line, or ';'.
		p.skip(false)
		switch {
		case p.eof():
		case p.cur() == '\n' || p.cur() == '\r':
		case p.cur() == ';':
			p.i++
		default:
			return nil, p.errorf("expecting a newline or ';' after a value")
		}
	}
}

type confParser struct {
	s    string
	i    int
	line int
}

func (p *confParser) eof() bool   { return p.i >= len(p.s) }
func (p *confParser) cur() byte   { return p.s[p.i] }
func isEOL(c byte) bool           { return c == '\n' || c == '\r' }
func isBlank(c byte) bool         { return c == ' ' || c == '\t' }
func isAlpha(c byte) bool         { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool         { return c >= '0' && c <= '9' }
func (p *confParser) next(c byte) { p.i++; p.countLine(c) }

func (p *confParser) countLine(c byte) {
	if c == '\n' {
		p.line++
	}
}

func (p *confParser) errorf(what string) error {
	return fmt.Errorf("line %d: %s", p.line, what)
}

// skip passes blanks, and line ends too when eol is set.
func (p *confParser) skip(eol bool) {
	for !p.eof() && (isBlank(p.cur()) || eol && isEOL(p.cur())) {
		p.next(p.cur())
	}
}

func (p *confParser) comment() {
	for !p.eof() && !isEOL(p.cur()) {
		p.i++
	}
}

func (p *confParser) consume(c byte) bool {
	if !p.eof() && p.cur() == c {
		p.i++
		return true
	}
	return false
}

func (p *confParser) name() string {
	start := p.i
	if p.eof() || !isAlpha(p.cur()) {
		return ""
	}
	for !p.eof() && (isAlpha(p.cur()) || isDigit(p.cur()) || p.cur() == '_') {
		p.i++
	}
	return p.s[start:p.i]
}

func (p *confParser) value() (ConfValue, error) {
	if p.eof() {
		return ConfValue{}, p.errorf("expecting a value")
	}
	switch c := p.cur(); {
	case c == '"' || c == '\'':
		s, err := p.str()
		return ConfValue{Str: s}, err
	case c == '[':
		p.i++
		list := []ConfValue{}
		p.skipListBlank()
		if !p.eof() && p.cur() != ']' {
			v, err := p.value()
			if err != nil {
				return ConfValue{}, err
			}
			list = append(list, v)
			p.skipListBlank()
		}
		for !p.eof() && p.cur() != ']' {
			if p.cur() != ',' {
				return ConfValue{}, p.errorf("expecting ',' or ']' in a list")
			}
			p.i++
			p.skipListBlank()
			if !p.eof() && p.cur() == ']' {
				break
			}
			v, err := p.value()
			if err != nil {
				return ConfValue{}, err
			}
			list = append(list, v)
			p.skipListBlank()
		}
		if !p.consume(']') {
			return ConfValue{}, p.errorf("list is not closed with ']'")
		}
		return ConfValue{IsList: true, List: list}, nil
	case isDigit(c) || c == '-' || c == '+':
		neg := c == '-'
		if c == '-' || c == '+' {
			p.i++
		}
		if p.eof() || !isDigit(p.cur()) {
			return ConfValue{}, p.errorf("unterminated number")
		}
		// libvirt accumulates without an overflow check; a number too
		// large for 64 bits is refused here rather than wrapped.
		var n int64
		for !p.eof() && isDigit(p.cur()) {
			d := int64(p.cur() - '0')
			if n > (1<<63-1-d)/10 {
				return ConfValue{}, p.errorf("number too large")
			}
			n = n*10 + d
			p.i++
		}
		if neg {
			n = -n
		}
		return ConfValue{IsInt: true, Negative: neg, Int: n}, nil
	}
	return ConfValue{}, p.errorf("expecting a value (a number, a quoted string or a list)")
}

// skipListBlank passes blanks and line ends inside a list. libvirt's
// list parser knows no comments there: a '#' inside a list is an error.
func (p *confParser) skipListBlank() { p.skip(true) }

func (p *confParser) str() (string, error) {
	q := p.cur()
	// virconf: """ opens a triple-quoted string only when more than six
	// bytes remain.
	if q == '"' && p.i+6 < len(p.s) && strings.HasPrefix(p.s[p.i:], `"""`) {
		p.i += 3
		start, startLine := p.i, p.line
		for p.i+2 < len(p.s) && !strings.HasPrefix(p.s[p.i:], `"""`) {
			p.next(p.cur())
		}
		if !strings.HasPrefix(p.s[p.i:], `"""`) {
			// Name the line the string opened on, not the end of file.
			p.i, p.line = len(p.s), startLine
			return "", p.errorf("unterminated string")
		}
		s := p.s[start:p.i]
		p.i += 3
		return s, nil
	}
	p.i++
	start := p.i
	for !p.eof() && p.cur() != q && !isEOL(p.cur()) {
		p.i++
	}
	if p.eof() || p.cur() != q {
		return "", p.errorf("unterminated string")
	}
	s := p.s[start:p.i]
	p.i++
	return s, nil
}

// secretKey matches configuration keys whose values are secrets
// (vnc_password, spice_password, and any *_secret / psk setting).
var secretKey = regexp.MustCompile(`(?i)(password|passwd|passphrase|secret|psk)`)

const redacted = "[REDACTED]"

// ErrConfSyntax marks a configuration file that does not parse.
var ErrConfSyntax = errors.New("not valid libvirt configuration syntax")

// RedactConf returns a configuration file's text with the value of every
// secret setting replaced, in whatever syntax it was written (quoted,
// triple-quoted over several lines, a list, a number): a non-empty string
// reads "[REDACTED]", an empty one stays empty, and a value of another
// type keeps its type (0, or a list of "[REDACTED]") so a reader still
// sees what libvirt would refuse. Text that does not parse is not
// returned at all: where the secrets are cannot be told. The error names
// the line and never quotes the text.
func RedactConf(text string) (string, error) {
	c, err := ParseConf(text)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrConfSyntax, err)
	}
	var b strings.Builder
	last := 0
	for _, e := range c.entries {
		if !secretKey.MatchString(e.key) {
			continue
		}
		repl := ""
		switch v := e.val; {
		case v.IsInt:
			repl = "0"
		case v.IsList && len(v.List) == 0:
			continue
		case v.IsList:
			repl = `["` + redacted + `"]`
		case v.Str == "":
			continue
		default:
			repl = `"` + redacted + `"`
		}
		b.WriteString(text[last:e.valStart])
		b.WriteString(repl)
		last = e.valEnd
	}
	b.WriteString(text[last:])
	return b.String(), nil
}

// sortedKeys returns a map's keys sorted.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
