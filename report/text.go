package report

import (
	"strings"
	"unicode"
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
// long property path or URL never overflows.
func wrap(s string, width int) []string {
	if width < 1 {
		width = 1
	}
	var out []string
	for _, para := range strings.Split(s, "\n") {
		words := strings.Fields(para)
		if len(words) == 0 {
			continue
		}
		line := ""
		for _, w := range words {
			for runeLen(w) > width {
				if line != "" {
					out = append(out, line)
					line = ""
				}
				r := []rune(w)
				out = append(out, string(r[:width]))
				w = string(r[width:])
			}
			switch {
			case line == "":
				line = w
			case runeLen(line)+1+runeLen(w) <= width:
				line += " " + w
			default:
				out = append(out, line)
				line = w
			}
		}
		if line != "" {
			out = append(out, line)
		}
	}
	return out
}

// clean makes text from the audited estate safe to print on a terminal.
// VM names, messages and evidence come from the hypervisor and its tenants;
// an escape sequence in a VM name must not recolour, move the cursor or
// retitle the auditor's terminal. Control characters are shown escaped
// (\x1b) so a planted one stays visible. Newlines survive only when
// multiline is set (prose fields); tabs become spaces.
func clean(s string, multiline bool) string {
	if !strings.ContainsFunc(s, needsCleaning) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' && multiline:
			b.WriteRune('\n')
		case r == '\n' || r == '\t' || r == '\r':
			b.WriteRune(' ')
		case r == utf8.RuneError:
			b.WriteRune('?')
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029':
			b.WriteString(escapeRune(r))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func needsCleaning(r rune) bool {
	return unicode.IsControl(r) || r == utf8.RuneError || r == '\u2028' || r == '\u2029'
}

func escapeRune(r rune) string {
	const hex = "0123456789abcdef"
	if r < 0x100 {
		return `\x` + string(hex[r>>4]) + string(hex[r&0xf])
	}
	return `\u` + string(hex[r>>12&0xf]) + string(hex[r>>8&0xf]) + string(hex[r>>4&0xf]) + string(hex[r&0xf])
}
