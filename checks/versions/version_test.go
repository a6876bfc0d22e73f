package versions

import (
	"testing"

	"github.com/hvaudit/hvaudit/collectors/inventory"
)

func TestCompare(t *testing.T) {
	cases := []struct {
		scheme, a, b string
		want         int
	}{
		// dpkg: epoch, revision, "~", Debian security-update suffixes.
		{inventory.SchemeDpkg, "1:7.2+dfsg-7+deb12u18", "1:7.2+dfsg-7+deb12u18", 0},
		{inventory.SchemeDpkg, "1:7.2+dfsg-7+deb12u18", "1:7.2+dfsg-7+deb12u6", 1},
		{inventory.SchemeDpkg, "1:7.2+dfsg-7", "1:7.2+dfsg-7+deb12u1", -1},
		{inventory.SchemeDpkg, "9.0.0-4", "9.0.0-4+deb12u1", -1},
		{inventory.SchemeDpkg, "1:5.2+dfsg-11", "7.2+dfsg-7", 1},
		{inventory.SchemeDpkg, "1.0~rc1-1", "1.0-1", -1},
		{inventory.SchemeDpkg, "1.0-1", "1.0-1~bpo12+1", 1},
		{inventory.SchemeDpkg, "1.10", "1.9", 1},
		{inventory.SchemeDpkg, "1.0a", "1.0", 1},
		{inventory.SchemeDpkg, "1.0+", "1.0a", 1},
		// rpm: numbers beat letters, "~" sorts first, release compared.
		{inventory.SchemeRPM, "8.2.0-11.el9_4.1", "8.2.0-11.el9_4", 1},
		{inventory.SchemeRPM, "2:8.2.0-11.el9", "8.2.0-11.el9", 1},
		{inventory.SchemeRPM, "10.0.0-6.el9", "9.0.0-10.el9", 1},
		{inventory.SchemeRPM, "1.0~rc1", "1.0", -1},
		{inventory.SchemeRPM, "1.0a", "1.0.1", -1},
		{inventory.SchemeRPM, "1.0^git1", "1.0", 1},
		{inventory.SchemeRPM, "1.0", "1.0^git1", -1},
		{inventory.SchemeRPM, "1.05", "1.5", 0},
		// upstream dotted versions.
		{inventory.SchemeUpstream, "7.2.22", "7.2.9", 1},
		{"", "9.0.0", "10.5.0", -1},
		{inventory.SchemeUpstream, "8.0", "8.0.0", -1},
	}
	for _, c := range cases {
		got, err := Compare(c.scheme, c.a, c.b)
		if err != nil || got != c.want {
			t.Errorf("%s %q vs %q = %d, %v; want %d", c.scheme, c.a, c.b, got, err, c.want)
		}
		if back, _ := Compare(c.scheme, c.b, c.a); back != -c.want {
			t.Errorf("%s %q vs %q not antisymmetric", c.scheme, c.b, c.a)
		}
	}
	if _, err := Compare("semver2", "1", "2"); err == nil {
		t.Error("unknown scheme accepted")
	}
}

func FuzzCompare(f *testing.F) {
	f.Add("1:7.2+dfsg-7+deb12u18", "1:7.2+dfsg-7~bpo")
	f.Add("8.2.0-11.el9_4.1", "8.2.0^1~2")
	f.Fuzz(func(t *testing.T, a, b string) {
		for _, s := range []string{inventory.SchemeDpkg, inventory.SchemeRPM, inventory.SchemeUpstream} {
			x, _ := Compare(s, a, b)
			y, _ := Compare(s, b, a)
			if x != -y {
				t.Fatalf("%s: cmp(%q,%q)=%d but cmp(%q,%q)=%d", s, a, b, x, b, a, y)
			}
			if z, _ := Compare(s, a, a); z != 0 {
				t.Fatalf("%s: cmp(%q,%q)=%d", s, a, a, z)
			}
		}
	})
}
