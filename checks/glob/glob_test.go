package glob

import (
	"errors"
	"path"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestGlob(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "qemu:///system", true}, // the bug: path.Match's * stops at '/'
		{"qemu:*", "qemu:///system", true},
		{"*system", "qemu+ssh://kvm01/system", true},
		{"*", "", true},
		{"", "anything", true},
		{"vc0?", "vc01", true},
		{"vc0?", "vc0/", true},
		{"vc0?", "vc012", false},
		{"ESXI-VM-*", "ESXI-VM-MIG-01", true},
		{"ESXI-VM-*", "esxi-vm-mig-01", false},
		{"ESXI-VM-*", "XESXI-VM-1", false},
		{"web-[0-9][0-9]", "web-07", true},
		{"web-[^0-9]*", "web-07", false},
		{"web-[^0-9]*", "web-a7", true},
		{`a\*b`, "a*b", true},
		{`a\*b`, "axb", false},
		{"a.b", "axb", false}, // '.' is literal
		{"(x|y)+", "(x|y)+", true},
		{"[.]", ".", true},
		{"[\\]]", "]", true},
		{"日本*", "日本語", true},
	}
	for _, c := range cases {
		g, err := Compile(c.pattern)
		if err != nil {
			t.Errorf("CompileGlob(%q): %v", c.pattern, err)
			continue
		}
		if got := g.Match(c.s); got != c.want {
			t.Errorf("%q matches %q = %v, want %v", c.pattern, c.s, got, c.want)
		}
	}
	for _, bad := range []string{"[", "web-[", "a\\", "[]", "[a-]", "[z-a]", "[-a]"} {
		if _, err := Compile(bad); err == nil {
			t.Errorf("CompileGlob(%q) accepted a bad pattern", bad)
		}
	}
}

// FuzzGlobAgreesWithPathMatch: away from '/', a Glob means what path.Match
// means, so waiver files written for the old matcher keep their meaning.
func FuzzGlobAgreesWithPathMatch(f *testing.F) {
	for _, s := range [][2]string{{"vc*", "vc01"}, {"[a-c]?", "b1"}, {`\*`, "*"}, {"[^x]", "y"}, {"a[", "a"}, {"*-??-[0-9]", "ESXI-VM-3"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		// '/' is where the two differ on purpose; "" matches everything
		// in a waiver and nothing in path.Match.
		// Waiver files are TOML, always UTF-8.
		if pattern == "" || strings.Contains(pattern+s, "/") || !utf8.ValidString(pattern) || !utf8.ValidString(s) {
			return
		}
		want, perr := path.Match(pattern, s)
		g, gerr := Compile(pattern)
		if perr == nil && errors.Is(gerr, errBackwardsRange) {
			return // refused on purpose (see Glob)
		}
		if (perr != nil) != (gerr != nil) {
			t.Fatalf("pattern %q: path.Match error %v, CompileGlob error %v", pattern, perr, gerr)
		}
		if gerr != nil {
			return
		}
		if got := g.Match(s); got != want {
			t.Fatalf("%q matches %q: Glob %v, path.Match %v", pattern, s, got, want)
		}
	})
}
