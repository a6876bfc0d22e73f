package collectors

import (
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
)

var (
	regMu      sync.RWMutex
	bySchemes  = map[string]Collector{}
	byPlatform = map[string]Collector{}
	// notAudited are schemes a collector recognises but does not audit
	// (libvirt's xen://, lxc://): a target URI with one still reaches the
	// collector, which ends it as a target error naming what is missing,
	// but Schemes does not offer them.
	notAudited = map[string]bool{}
)

// Register makes a collector answer for URI schemes and normalize its
// platform's snapshots. A scheme registered twice, or a platform by two
// collectors, is a programming error and panics, so two collectors can
// never silently shadow each other; the registry is left as it was.
func Register(c Collector, schemes ...string) {
	regMu.Lock()
	defer regMu.Unlock()
	register(c, schemes)
}

// RegisterNotAudited makes a collector answer for URI schemes it recognises
// but cannot audit yet, so such a target ends as its error rather than as
// "no collector"; Schemes leaves them out.
func RegisterNotAudited(c Collector, schemes ...string) {
	regMu.Lock()
	defer regMu.Unlock()
	register(c, schemes)
	for _, s := range schemes {
		notAudited[strings.ToLower(s)] = true
	}
}

func register(c Collector, schemes []string) {
	if prev, ok := byPlatform[c.Platform()]; ok && !sameCollector(prev, c) {
		panic(fmt.Sprintf("collectors: platform %q registered twice (%T and %T)", c.Platform(), prev, c))
	}
	lower := make([]string, len(schemes))
	for i, s := range schemes {
		lower[i] = strings.ToLower(s)
		if prev, ok := bySchemes[lower[i]]; ok || slices.Contains(lower[:i], lower[i]) {
			if !ok {
				prev = c
			}
			panic(fmt.Sprintf("collectors: scheme %q registered twice (%s and %s)", lower[i], prev.Platform(), c.Platform()))
		}
	}
	for _, s := range lower {
		bySchemes[s] = c
	}
	byPlatform[c.Platform()] = c
}

// sameCollector: one collector registering more schemes (libvirt's
// audited and not-audited ones) is not a second collector.
func sameCollector(a, b Collector) bool {
	return reflect.TypeOf(a) == reflect.TypeOf(b) && reflect.TypeOf(a).Comparable() && a == b
}

// ForURI returns the collector for a target URI's scheme. An unknown scheme
// gets a suggestion: the URI as hvaudit would write it when the scheme is
// another tool's habit (govc's https://vc01/sdk), or the nearest scheme
// when it looks like a typo.
func ForURI(raw string) (Collector, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return nil, fmt.Errorf("target %q is not a URI (expected scheme://[user@]host, e.g. vsphere://auditor@vc01)", Redact(raw))
	}
	regMu.RLock()
	defer regMu.RUnlock()
	if c, ok := bySchemes[strings.ToLower(u.Scheme)]; ok {
		return c, nil
	}
	if s := suggestURI(u); s != "" {
		return nil, fmt.Errorf("target %q: no collector for scheme %q; did you mean %s?", Redact(raw), u.Scheme, s)
	}
	return nil, fmt.Errorf("target %q: no collector for scheme %q; %s", Redact(raw), u.Scheme, schemeHelp)
}

// schemeHelp says which URIs hvaudit audits, one form per platform, rather
// than listing every transport variant.
const schemeHelp = "use vsphere://[user@]host for vCenter or ESXi, qemu:///system or qemu+ssh://[user@]host/system for KVM, hyperv://[user@]host for Hyper-V ('hvaudit version' lists every scheme)"

// foreignSchemes are other tools' URI schemes and the platform scheme the
// same target has in hvaudit.
var foreignSchemes = map[string]string{
	"https": "vsphere", "http": "vsphere", "vi": "vsphere", "vmware": "vsphere", "vc": "vsphere", "vcsa": "vsphere",
	"kvm": "qemu", "libvirt": "qemu", "ssh": "qemu+ssh", "qemu+kvm": "qemu",
	"winrm": "hyperv", "wsman": "hyperv", "hyper-v": "hyperv", "hv": "hyperv", "wmi": "hyperv",
}

// suggestURI rewrites u with the scheme it most likely meant, or "" when
// nothing is close. Only the scheme, user and host carry over: a vSphere
// SDK path (/sdk) or a WinRM path (/wsman) is not part of hvaudit's URI.
func suggestURI(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	to, ok := foreignSchemes[scheme]
	if !ok {
		to = nearestScheme(scheme)
	}
	if to == "" {
		return ""
	}
	out := url.URL{Scheme: to, Host: u.Host}
	if u.User != nil {
		out.User = url.User(u.User.Username()) // never a password
	}
	if c := bySchemes[to]; c != nil && c.Platform() == "kvm" {
		out.Path = u.Path // qemu:///system keeps its path
		if out.Path == "" {
			out.Path = "/system"
		}
	}
	return out.String()
}

// nearestScheme is the audited scheme within two edits of s, if exactly
// one is nearest (vshpere → vsphere, hyprev → hyperv).
func nearestScheme(s string) string {
	best, bestD, ties := "", 3, 0
	for cand := range bySchemes {
		if notAudited[cand] {
			continue
		}
		d := editDistance(s, cand)
		switch {
		case d < bestD:
			best, bestD, ties = cand, d, 0
		case d == bestD:
			ties++
		}
	}
	if ties > 0 {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between two short strings,
// counting a swap of neighbours as one edit (a typist's commonest slip).
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range rb {
		d[0][j+1] = j + 1
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// ForPlatform returns the collector that normalizes a platform's snapshots.
func ForPlatform(p string) (Collector, error) {
	regMu.RLock()
	defer regMu.RUnlock()
	if c, ok := byPlatform[p]; ok {
		return c, nil
	}
	return nil, fmt.Errorf("no collector for platform %q", p)
}

// Schemes lists the URI schemes hvaudit audits, sorted: the registered
// schemes without those recognised only to be refused.
func Schemes() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]string, 0, len(bySchemes))
	for s := range bySchemes {
		if !notAudited[s] {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// Platforms lists the registered platforms, sorted.
func Platforms() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]string, 0, len(byPlatform))
	for p := range byPlatform {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
