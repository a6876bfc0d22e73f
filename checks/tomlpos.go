package checks

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// The TOML decoder reports positions for syntax errors only; semantic errors
// (a bad expression, an unknown enum value) are found after decoding, when
// the key positions are gone. locator recovers them from the source text so
// every loading error names the line a user has to edit.

type locator struct {
	lines []string
}

func newLocator(data []byte) *locator {
	return &locator{lines: strings.Split(string(data), "\n")}
}

// header reports whether line i is the table header "[name]" or "[[name]]"
// (whitespace and a trailing comment allowed).
func header(line, name string, array bool) bool {
	t := strings.TrimSpace(line)
	if i := strings.Index(t, "#"); i >= 0 {
		t = strings.TrimSpace(t[:i])
	}
	if array {
		if !strings.HasPrefix(t, "[[") || !strings.HasSuffix(t, "]]") {
			return false
		}
		return strings.TrimSpace(t[2:len(t)-2]) == name
	}
	if !strings.HasPrefix(t, "[") || !strings.HasSuffix(t, "]") || strings.HasPrefix(t, "[[") {
		return false
	}
	return strings.TrimSpace(t[1:len(t)-1]) == name
}

func isHeader(line string) bool {
	return strings.HasPrefix(strings.TrimSpace(line), "[")
}

// tableLine is the 1-based line of the i-th [[name]] header, 0 when absent.
func (l *locator) tableLine(name string, i int) int {
	n := 0
	for ln, line := range l.lines {
		if header(line, name, true) {
			if n == i {
				return ln + 1
			}
			n++
		}
	}
	return 0
}

// keyRE matches `key =` at the start of a line or inside an inline table.
func keyRE(key string) *regexp.Regexp {
	q := regexp.QuoteMeta(key)
	return regexp.MustCompile(`(^|[{,]\s*|^\s+)("` + q + `"|'` + q + `'|` + q + `)\s*=`)
}

// blockKeyLine finds key inside the block that starts at line start (1-based)
// and runs to the next header; the header's line when not found.
func (l *locator) blockKeyLine(start int, key string) int {
	if start <= 0 {
		return 0
	}
	re := keyRE(key)
	for ln := start; ln < len(l.lines); ln++ {
		if isHeader(l.lines[ln]) {
			break
		}
		if re.MatchString(l.lines[ln]) {
			return ln + 1
		}
	}
	return start
}

// sectionLine is the line of the [name] header, 0 when absent.
func (l *locator) sectionLine(name string) int {
	for ln, line := range l.lines {
		if header(line, name, false) {
			return ln + 1
		}
	}
	return 0
}

// keyLine finds an undecoded key: its last part assigned below the first
// header of its first part (or anywhere for a top-level key).
func (l *locator) keyLine(k toml.Key) int {
	if len(k) == 0 {
		return 0
	}
	from := 0
	if len(k) > 1 {
		for ln, line := range l.lines {
			t := strings.TrimSpace(line)
			if header(line, strings.Join(k[:len(k)-1], "."), false) || header(line, k[0], true) ||
				strings.HasPrefix(t, "["+k[0]+".") || strings.HasPrefix(t, "["+k[0]+"]") {
				from = ln
				break
			}
		}
	}
	re := keyRE(k[len(k)-1])
	for ln := from; ln < len(l.lines); ln++ {
		if re.MatchString(l.lines[ln]) {
			return ln + 1
		}
	}
	// A table header that is itself unknown ([foo] or [check.X.foo]).
	for ln, line := range l.lines {
		if header(line, k.String(), false) || header(line, k.String(), true) {
			return ln + 1
		}
	}
	return 0
}

var (
	tomlLineRE    = regexp.MustCompile(`^toml: line (\d+) (.*)$`)
	tomlLastKeyRE = regexp.MustCompile(`^\(last key "([^"]*)"\): `)
)

// tomlError puts a decoder error in the file:line: form. The line comes
// from the error's byte offset: the decoder's own line number is one too far
// when the offending character is the newline ending the line.
func tomlError(file string, data []byte, err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		msg := pe.Message
		if pe.LastKey != "" {
			msg = fmt.Sprintf("%s (key %q)", msg, pe.LastKey)
		}
		line := pe.Position.Line
		if st := pe.Position.Start; st > 0 && st <= len(data) {
			line = bytes.Count(data[:st], []byte("\n")) + 1
		}
		return fmt.Errorf("%s:%d: %s", file, line, msg)
	}
	if m := tomlLineRE.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return fmt.Errorf("%s:%d: %s", file, n, tomlLastKeyRE.ReplaceAllString(m[2], "$1: "))
	}
	return fmt.Errorf("%s: %s", file, strings.TrimPrefix(err.Error(), "toml: "))
}

// at formats a position prefix; line 0 leaves it out.
func at(file string, line int) string {
	if line > 0 {
		return fmt.Sprintf("%s:%d", file, line)
	}
	return file
}
