// Package glob is the selector syntax of waivers, audit --check and
// --object, and a run's recorded scope: shell-style wildcards over a whole
// check id, target or object name. The engine and diff share it, so a diff
// reads a run's scope exactly as the audit applied it.
package glob

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Glob is a waiver selector: shell-style wildcards over a whole check id,
// target name or object name. Unlike path.Match, '*' and '?' match '/' too:
// target names are URIs (qemu:///system) and object ids can be paths, and
// target = "*" must mean every target. The syntax is path.Match's:
//
//   - any run of characters, '/' included
//     ?         any one character
//     [abc]     one of the characters; [a-z] a range; [^a-z] none of them
//     \c        the character c itself
//
// The empty pattern matches everything. A backwards range ([z-a]), which
// path.Match accepts and which matches nothing, is refused as the typo it
// is. Matching is linear in the input (it compiles to a regular
// expression), whatever the pattern.
type Glob struct {
	re    *regexp.Regexp
	never bool
}

var (
	errBadGlob = errors.New("syntax error in pattern")
	// errBackwardsRange is a class range such as [z-a]. path.Match accepts
	// it and matches nothing with it; in a waiver it can only be a typo.
	errBackwardsRange = fmt.Errorf("%w: backwards range", errBadGlob)
)

// Compile parses a pattern.
func Compile(pattern string) (*Glob, error) {
	if pattern == "" {
		return &Glob{}, nil
	}
	if !utf8.ValidString(pattern) {
		return nil, fmt.Errorf("%w: not UTF-8", errBadGlob)
	}
	var b strings.Builder
	b.WriteString(`(?s)\A`)
	for i := 0; i < len(pattern); {
		switch c := pattern[i]; c {
		case '*':
			b.WriteString(`.*`)
			i++
		case '?':
			b.WriteString(`.`)
			i++
		case '\\':
			r, size := utf8.DecodeRuneInString(pattern[i+1:])
			if size == 0 {
				return nil, fmt.Errorf("%w: trailing backslash", errBadGlob)
			}
			b.WriteString(regexp.QuoteMeta(string(r)))
			i += 1 + size
		case '[':
			n, err := globClass(pattern[i:], &b)
			if err != nil {
				return nil, err
			}
			i += n
		default:
			r, size := utf8.DecodeRuneInString(pattern[i:])
			b.WriteString(regexp.QuoteMeta(string(r)))
			i += size
		}
	}
	b.WriteString(`\z`)
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errBadGlob, err)
	}
	return &Glob{re: re}, nil
}

// globClass translates the character class at the start of p ("[...]")
// and returns how many bytes it used. Every member is written as \x{…} so
// nothing in it means anything to the regular expression syntax.
func globClass(p string, b *strings.Builder) (int, error) {
	b.WriteByte('[')
	i := 1
	if i < len(p) && p[i] == '^' {
		b.WriteByte('^')
		i++
	}
	members := 0
	char := func() (rune, error) {
		if i >= len(p) {
			return 0, fmt.Errorf("%w: unclosed [", errBadGlob)
		}
		if p[i] == '\\' {
			i++
		} else if p[i] == '-' || p[i] == ']' {
			return 0, fmt.Errorf("%w: %q in a [...] class must be escaped", errBadGlob, p[i])
		}
		r, size := utf8.DecodeRuneInString(p[i:])
		if size == 0 {
			return 0, fmt.Errorf("%w: unclosed [", errBadGlob)
		}
		i += size
		return r, nil
	}
	for {
		if i >= len(p) {
			return 0, fmt.Errorf("%w: unclosed [", errBadGlob)
		}
		if p[i] == ']' && members > 0 {
			b.WriteByte(']')
			return i + 1, nil
		}
		lo, err := char()
		if err != nil {
			return 0, err
		}
		fmt.Fprintf(b, `\x{%x}`, lo)
		if i < len(p) && p[i] == '-' {
			i++
			hi, err := char()
			if err != nil {
				return 0, err
			}
			if hi < lo {
				return 0, fmt.Errorf("%w %c-%c", errBackwardsRange, lo, hi)
			}
			fmt.Fprintf(b, `-\x{%x}`, hi)
		}
		members++
	}
}

// Never returns a selector that matches nothing: what a pattern that does
// not compile selects.
func Never() *Glob { return &Glob{never: true} }

// Match reports whether s matches the whole pattern.
func (g *Glob) Match(s string) bool {
	switch {
	case g == nil || g.never:
		return false
	case g.re == nil:
		return true
	}
	return g.re.MatchString(s)
}
