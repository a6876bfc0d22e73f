package report

import (
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Text helpers for the formats people read. Widths are counted in runes:
// report text is mostly ASCII, and counting display cells would need a
// width table for little gain.

// ANSI SGR styles. Only the table writer's painter emits them, and only
// when Options.Color is set.
const (
	styleNone    = ""
	styleBold    = "1"
	styleDim     = "2"
	styleRed     = "31"
	styleBoldRed = "1;31"
	styleGreen   = "32"
	styleYellow  = "33"
	styleBoldYel = "1;33"
	styleBlue    = "34"
	styleMagenta = "1;35"
	styleCyan    = "36"
)

// ellipsis marks truncated text. ASCII, so output stays readable in
// consoles and CI logs that do not render UTF-8.
const ellipsis = "..."

func runeLen(s string) int { return utf8.RuneCountInString(s) }

// truncate shortens s to at most width runes, ending in an ellipsis when
// something was cut.
func truncate(s string, width int) string {
	if width <= 0 {
		return ""
	}
	if runeLen(s) <= width {
		return s
	}
	if width <= len(ellipsis) {
		return string([]rune(s)[:width])
	}
	return string([]rune(s)[:width-len(ellipsis)]) + ellipsis
}

// pad right-pads s with spaces to width runes.
func pad(s string, width int) string {
	if n := runeLen(s); n < width {
		return s + strings.Repeat(" ", width-n)
	}
	return s
}

// padLeft left-pads s with spaces to width runes (right alignment).
func padLeft(s string, width int) string {
	if n := runeLen(s); n < width {
		return strings.Repeat(" ", width-n) + s
	}
	return s
}

// wrap breaks s into lines of at most width runes at spaces. Newlines in s
// start a new paragraph (remediation text is often a list of steps); runs
// of spaces collapse. A word longer than the width is broken hard, so a
// long property path or URL never overflows. It runs in time linear in
// len(s): a long word is cut from one rune slice, never re-converted per
// piece (a 200,000-character error message once took 30 s).
func wrap(s string, width int) []string {
	if width < 1 {
		width = 1
	}
	var out []string
	for _, para := range strings.Split(s, "\n") {
		line, lineLen := "", 0
		for _, w := range strings.Fields(para) {
			wLen := runeLen(w)
			if wLen > width {
				if line != "" {
					out = append(out, line)
				}
				r := []rune(w)
				for len(r) > width {
					out = append(out, string(r[:width]))
					r = r[width:]
				}
				line, lineLen = string(r), len(r)
				continue
			}
			switch {
			case line == "":
				line, lineLen = w, wLen
			case lineLen+1+wLen <= width:
				line += " " + w
				lineLen += 1 + wLen
			default:
				out = append(out, line)
				line, lineLen = w, wLen
			}
		}
		if line != "" {
			out = append(out, line)
		}
	}
	return out
}

// clean is Neutralize under the name the writers have always used.
func clean(s string, multiline bool) string { return Neutralize(s, multiline) }

// Neutralize makes text that came from an audited estate safe to show to
// people. VM and host names, server error messages and evidence are chosen
// by the hypervisor and its tenants, so a name must not recolour, clear or
// retitle the auditor's terminal, reorder what it shows, or forge a row of
// a table or a line of a log. Every human-readable output uses this one
// function — the table, diff, log lines, the progress line and the final
// "hvaudit:" error line — whether or not it goes to a terminal.
//
// Escaped so they stay visible (\x1b, \u0085, \u202e, \xff):
//   - C0 controls and DEL, C1 controls (U+0080–U+009F: U+009B is a
//     one-character CSI on some terminals);
//   - format characters (Unicode Cf: bidi overrides and isolates such as
//     U+202E, zero-width characters, tag characters), which change what a
//     reader sees without being seen;
//   - the line and paragraph separators U+2028 and U+2029;
//   - bytes that are not UTF-8.
//
// A tab is shown as \t and a carriage return as \r. A newline is shown as
// \n unless multiline is set (prose such as a remediation or a message,
// whose lines the writers indent), where it is kept; CRLF counts as one.
func Neutralize(s string, multiline bool) string {
	if !needsNeutralizing(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteString(escapeByte(s[i]))
		case r == '\r' && multiline && strings.HasPrefix(s[i+1:], "\n"):
			// CRLF is one line break in Windows text (WinRM messages).
		case r == '\n' && multiline:
			b.WriteByte('\n')
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case unsafeRune(r):
			b.WriteString(escapeRune(r))
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// NeutralizeJSON applies Neutralize's rule to a JSON document (a log line)
// in JSON's own syntax: every rune Neutralize would escape becomes a \uXXXX
// escape (a surrogate pair above U+FFFF), DEL included. Encoders escape C0
// controls already; C1 controls, bidi and other format characters pass
// through them raw and would reach whoever tails the log. Such runes occur
// only inside strings, where the escape means the same character, so the
// document decodes to the same values. Invalid UTF-8 is left as it is.
func NeutralizeJSON(b []byte) []byte {
	clean := true
	for i := 0; i < len(b); i++ {
		if b[i] >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == 0x7f || (r >= 0x80 && !(r == utf8.RuneError && size <= 1) && unsafeRune(r)) {
			if r > 0xffff {
				r1, r2 := utf16.EncodeRune(r)
				out = appendJSONEscape(appendJSONEscape(out, r1), r2)
			} else {
				out = appendJSONEscape(out, r)
			}
		} else {
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	return out
}

func appendJSONEscape(out []byte, r rune) []byte {
	const hex = "0123456789abcdef"
	return append(out, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
}

// needsNeutralizing is the fast path: most names are plain.
func needsNeutralizing(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c >= 0x80 {
			goto slow
		}
	}
	return false
slow:
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 || unsafeRune(r) || r == '\n' || r == '\t' || r == '\r' {
			return true
		}
		i += size
	}
	return false
}

// unsafeRune reports a rune Neutralize escapes (other than tab, CR, LF).
func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}

func escapeByte(c byte) string {
	const hex = "0123456789abcdef"
	return `\x` + string(hex[c>>4]) + string(hex[c&0xf])
}

// escapeRune writes r as Go does: \xNN below 0x80, else \uNNNN.
func escapeRune(r rune) string {
	const hex = "0123456789abcdef"
	if r < 0x80 {
		return escapeByte(byte(r))
	}
	if r > 0xffff {
		return `\U` + string(hex[r>>28&0xf]) + string(hex[r>>24&0xf]) + string(hex[r>>20&0xf]) + string(hex[r>>16&0xf]) +
			string(hex[r>>12&0xf]) + string(hex[r>>8&0xf]) + string(hex[r>>4&0xf]) + string(hex[r&0xf])
	}
	return `\u` + string(hex[r>>12&0xf]) + string(hex[r>>8&0xf]) + string(hex[r>>4&0xf]) + string(hex[r&0xf])
}
