package main

import (
	"fmt"
	"strings"

	"github.com/hvaudit/hvaudit/report/stig"
)

// InSpec controls, as vmware/dod-compliance-and-automation publishes them
// for each STIG release, open with the rule's metadata:
//
//	control 'ESXI-80-000193' do
//	  title '…'
//	  desc '…discussion…'
//	  desc 'check', '…'
//	  desc 'fix', '…'
//	  impact 0.5
//	  tag severity: 'medium'
//	  tag gid: 'V-258754'
//	  tag rid: 'SV-258754r958478_rule'
//	  tag stig_id: 'ESXI-80-000193'
//	  tag gtitle: 'SRG-OS-000095-VMM-000480'
//	  tag cci: ['CCI-000381', …]
//
// followed by the test code, which is not read: parsing stops at the first
// statement that is none of title, desc, impact and tag. Strings are Ruby
// literals: '…', "…" (without interpolation) and %q(…).

// inspecControl is one control's metadata.
type inspecControl struct {
	ID    string
	Title string
	Desc  map[string]string // "" is the discussion
	Tags  map[string][]string
}

func parseInSpec(src string) (*inspecControl, error) {
	l := &rubyLexer{s: src}
	if !l.seek("control") {
		return nil, fmt.Errorf("no control")
	}
	id, err := l.str()
	if err != nil {
		return nil, fmt.Errorf("control id: %w", err)
	}
	if l.skipSpace(); l.ident() != "do" {
		return nil, fmt.Errorf("control %s: expected do at %s", id, l.pos())
	}
	c := &inspecControl{ID: id, Desc: map[string]string{}, Tags: map[string][]string{}}
	for {
		l.skipSpace()
		start := l.i
		switch word := l.ident(); word {
		case "title":
			if c.Title, err = l.str(); err != nil {
				return nil, fmt.Errorf("control %s: title: %w", id, err)
			}
		case "desc":
			first, err := l.str()
			if err != nil {
				return nil, fmt.Errorf("control %s: desc: %w", id, err)
			}
			if l.skipSpace(); l.peek() == ',' {
				l.i++
				text, err := l.str()
				if err != nil {
					return nil, fmt.Errorf("control %s: desc %q: %w", id, first, err)
				}
				c.Desc[first] = text
			} else {
				c.Desc[""] = first
			}
		case "impact":
			l.skipSpace()
			for l.i < len(l.s) && strings.ContainsRune("0123456789.", rune(l.s[l.i])) {
				l.i++
			}
		case "tag":
			l.skipSpace()
			key := l.ident()
			if key == "" || l.peek() != ':' {
				return nil, fmt.Errorf("control %s: tag without key at %s", id, l.pos())
			}
			l.i++
			if l.skipSpace(); l.peek() == '[' {
				if c.Tags[key], err = l.strList(); err != nil {
					return nil, fmt.Errorf("control %s: tag %s: %w", id, key, err)
				}
			} else {
				v, err := l.str()
				if err != nil {
					return nil, fmt.Errorf("control %s: tag %s: %w", id, key, err)
				}
				c.Tags[key] = []string{v}
			}
		default:
			// The test code starts here.
			l.i = start
			return c, nil
		}
	}
}

// rule turns a control into a catalog rule.
func (c *inspecControl) rule() (stig.Rule, error) {
	one := func(key string) string {
		if v := c.Tags[key]; len(v) == 1 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	r := stig.Rule{
		GroupID: one("gid"), GroupTitle: one("gtitle"), RuleIDSrc: one("rid"), Version: one("stig_id"),
		Severity: one("severity"), Weight: "10.0", Title: trimText(c.Title),
		CCIs: append([]string{}, c.Tags["cci"]...), LegacyIDs: c.Tags["legacy"],
		Discussion: trimText(c.Desc[""]), CheckContent: trimText(c.Desc["check"]), FixText: trimText(c.Desc["fix"]),
		Documentable: "false",
	}
	if r.Version != c.ID {
		return r, fmt.Errorf("control %s carries stig_id %q", c.ID, r.Version)
	}
	return r, nil
}

type rubyLexer struct {
	s string
	i int
}

func (l *rubyLexer) pos() string {
	return fmt.Sprintf("line %d", strings.Count(l.s[:l.i], "\n")+1)
}

func (l *rubyLexer) peek() byte {
	if l.i < len(l.s) {
		return l.s[l.i]
	}
	return 0
}

// seek moves past the first line that starts with word.
func (l *rubyLexer) seek(word string) bool {
	for l.i < len(l.s) {
		l.skipSpace()
		if strings.HasPrefix(l.s[l.i:], word+" ") {
			l.i += len(word)
			return true
		}
		nl := strings.IndexByte(l.s[l.i:], '\n')
		if nl < 0 {
			return false
		}
		l.i += nl + 1
	}
	return false
}

func (l *rubyLexer) skipSpace() {
	for l.i < len(l.s) {
		switch c := l.s[l.i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			l.i++
		case c == '#':
			for l.i < len(l.s) && l.s[l.i] != '\n' {
				l.i++
			}
		default:
			return
		}
	}
}

func (l *rubyLexer) ident() string {
	start := l.i
	for l.i < len(l.s) {
		c := l.s[l.i]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' && l.i > start {
			l.i++
			continue
		}
		break
	}
	return l.s[start:l.i]
}

// str reads one Ruby string literal.
func (l *rubyLexer) str() (string, error) {
	l.skipSpace()
	var b strings.Builder
	switch {
	case l.peek() == '\'':
		// Single quotes: only \\ and \' are escapes.
		for l.i++; l.i < len(l.s); l.i++ {
			c := l.s[l.i]
			if c == '\\' && l.i+1 < len(l.s) && (l.s[l.i+1] == '\\' || l.s[l.i+1] == '\'') {
				l.i++
				b.WriteByte(l.s[l.i])
				continue
			}
			if c == '\'' {
				l.i++
				return b.String(), nil
			}
			b.WriteByte(c)
		}
	case l.peek() == '"':
		for l.i++; l.i < len(l.s); l.i++ {
			c := l.s[l.i]
			if c == '#' && l.i+1 < len(l.s) && l.s[l.i+1] == '{' {
				return "", fmt.Errorf("interpolated string at %s", l.pos())
			}
			if c == '\\' && l.i+1 < len(l.s) {
				l.i++
				switch e := l.s[l.i]; e {
				case 'n':
					b.WriteByte('\n')
				case 't':
					b.WriteByte('\t')
				default:
					b.WriteByte(e)
				}
				continue
			}
			if c == '"' {
				l.i++
				return b.String(), nil
			}
			b.WriteByte(c)
		}
	case strings.HasPrefix(l.s[l.i:], "%q("):
		depth := 1
		for l.i += 3; l.i < len(l.s); l.i++ {
			c := l.s[l.i]
			if c == '\\' && l.i+1 < len(l.s) && strings.IndexByte(`\()`, l.s[l.i+1]) >= 0 {
				l.i++
				b.WriteByte(l.s[l.i])
				continue
			}
			if c == '(' {
				depth++
			}
			if c == ')' {
				if depth--; depth == 0 {
					l.i++
					return b.String(), nil
				}
			}
			b.WriteByte(c)
		}
	default:
		return "", fmt.Errorf("expected a string at %s", l.pos())
	}
	return "", fmt.Errorf("unterminated string")
}

// strList reads ['a', 'b'].
func (l *rubyLexer) strList() ([]string, error) {
	l.i++ // [
	out := []string{}
	for {
		if l.skipSpace(); l.peek() == ']' {
			l.i++
			return out, nil
		}
		s, err := l.str()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
		if l.skipSpace(); l.peek() == ',' {
			l.i++
		}
	}
}
