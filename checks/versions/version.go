// Package versions compares the versions of patch levels the way their
// packaging does: Debian's dpkg, RPM, or dotted upstream versions. Advisory
// assessment (checks) and the advisory data builders (agent/advisories)
// use it.
package versions

import (
	"fmt"
	"strings"

	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// Compare compares two versions under an inventory.PatchLevel.Scheme and
// returns -1, 0 or 1. "" is treated as inventory.SchemeUpstream. Distro package
// versions carry backported fixes, so advisory data for a distro release
// line must give the distro's fixed package version and be compared with
// the distro's rules (dpkg: 1:7.2+dfsg-7+deb12u18 < 1:7.2+dfsg-7+deb12u20;
// "~" sorts before everything).
func Compare(scheme, a, b string) (int, error) {
	switch scheme {
	case inventory.SchemeDpkg:
		return compareDpkg(a, b), nil
	case inventory.SchemeRPM:
		return compareRPM(a, b), nil
	case inventory.SchemeUpstream, "":
		return rpmvercmp(a, b), nil
	}
	return 0, fmt.Errorf("unknown version scheme %q", scheme)
}

// splitEVR splits [epoch:]version[-release]; release splits at the last "-".
// A non-numeric "epoch" is kept as part of the version.
func splitEVR(v string) (epoch int, ver, rel string) {
	if i := strings.IndexByte(v, ':'); i > 0 {
		e, ok := 0, true
		for _, c := range v[:i] {
			if c < '0' || c > '9' {
				ok = false
				break
			}
			e = e*10 + int(c-'0')
		}
		if ok {
			epoch, v = e, v[i+1:]
		}
	}
	if i := strings.LastIndexByte(v, '-'); i >= 0 {
		return epoch, v[:i], v[i+1:]
	}
	return epoch, v, ""
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compareDpkg implements dpkg's verrevcmp (deb-version(7)).
func compareDpkg(a, b string) int {
	ea, va, ra := splitEVR(a)
	eb, vb, rb := splitEVR(b)
	if c := cmpInt(ea, eb); c != 0 {
		return c
	}
	if c := dpkgVerrevcmp(va, vb); c != 0 {
		return c
	}
	return dpkgVerrevcmp(ra, rb)
}

func dpkgOrder(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return 0
	case c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z':
		return int(c)
	case c == '~':
		return -1
	case c != 0:
		return int(c) + 256
	}
	return 0
}

func dpkgVerrevcmp(a, b string) int {
	i, j := 0, 0
	at := func(s string, k int) byte {
		if k < len(s) {
			return s[k]
		}
		return 0
	}
	isDigit := func(c byte) bool { return c >= '0' && c <= '9' }
	for i < len(a) || j < len(b) {
		firstDiff := 0
		for (i < len(a) && !isDigit(a[i])) || (j < len(b) && !isDigit(b[j])) {
			ac, bc := dpkgOrder(at(a, i)), dpkgOrder(at(b, j))
			if i < len(a) && isDigit(a[i]) {
				ac = 0
			}
			if j < len(b) && isDigit(b[j]) {
				bc = 0
			}
			if ac != bc {
				return cmpInt(ac, bc)
			}
			i++
			j++
		}
		for i < len(a) && a[i] == '0' {
			i++
		}
		for j < len(b) && b[j] == '0' {
			j++
		}
		for i < len(a) && isDigit(a[i]) && j < len(b) && isDigit(b[j]) {
			if firstDiff == 0 {
				firstDiff = cmpInt(int(a[i]), int(b[j]))
			}
			i++
			j++
		}
		if i < len(a) && isDigit(a[i]) {
			return 1
		}
		if j < len(b) && isDigit(b[j]) {
			return -1
		}
		if firstDiff != 0 {
			return firstDiff
		}
	}
	return 0
}

// compareRPM compares [epoch:]version-release the way rpm does.
func compareRPM(a, b string) int {
	ea, va, ra := splitEVR(a)
	eb, vb, rb := splitEVR(b)
	if c := cmpInt(ea, eb); c != 0 {
		return c
	}
	if c := rpmvercmp(va, vb); c != 0 {
		return c
	}
	if ra == "" || rb == "" {
		return 0
	}
	return rpmvercmp(ra, rb)
}

// rpmvercmp is rpm's segment comparison: alphanumeric runs compared
// numerically or lexically, numbers newer than letters, "~" older than
// anything, "^" newer than the end of the string.
func rpmvercmp(a, b string) int {
	if a == b {
		return 0
	}
	isAlnum := func(c byte) bool {
		return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	}
	isDigit := func(c byte) bool { return c >= '0' && c <= '9' }
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		for i < len(a) && !isAlnum(a[i]) && a[i] != '~' && a[i] != '^' {
			i++
		}
		for j < len(b) && !isAlnum(b[j]) && b[j] != '~' && b[j] != '^' {
			j++
		}
		// Tilde: older than anything, even the end.
		at, bt := i < len(a) && a[i] == '~', j < len(b) && b[j] == '~'
		if at || bt {
			if !at {
				return 1
			}
			if !bt {
				return -1
			}
			i++
			j++
			continue
		}
		// Caret: newer than the end, older than anything else.
		ac, bc := i < len(a) && a[i] == '^', j < len(b) && b[j] == '^'
		if ac || bc {
			if i >= len(a) {
				return -1
			}
			if j >= len(b) {
				return 1
			}
			if !ac {
				return 1
			}
			if !bc {
				return -1
			}
			i++
			j++
			continue
		}
		if i >= len(a) || j >= len(b) {
			break
		}
		si, sj := i, j
		numeric := isDigit(a[i])
		if numeric {
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				j++
			}
		} else {
			for i < len(a) && isAlnum(a[i]) && !isDigit(a[i]) {
				i++
			}
			for j < len(b) && isAlnum(b[j]) && !isDigit(b[j]) {
				j++
			}
		}
		sa, sb := a[si:i], b[sj:j]
		if sb == "" {
			// Segments of different kinds: numeric is newer.
			if numeric {
				return 1
			}
			return -1
		}
		if numeric {
			sa, sb = strings.TrimLeft(sa, "0"), strings.TrimLeft(sb, "0")
			if c := cmpInt(len(sa), len(sb)); c != 0 {
				return c
			}
		}
		if c := strings.Compare(sa, sb); c != 0 {
			return c
		}
	}
	switch {
	case i >= len(a) && j >= len(b):
		return 0
	case i >= len(a):
		return -1
	}
	return 1
}
