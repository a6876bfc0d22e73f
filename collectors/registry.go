package collectors

import (
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
)

var (
	regMu      sync.RWMutex
	bySchemes  = map[string]Collector{}
	byPlatform = map[string]Collector{}
)

// Register makes a collector answer for URI schemes and normalize its
// platform's snapshots. A scheme or a platform registered twice is a
// programming error and panics, so two collectors can never silently
// shadow each other; the registry is left as it was.
func Register(c Collector, schemes ...string) {
	regMu.Lock()
	defer regMu.Unlock()
	if prev, ok := byPlatform[c.Platform()]; ok {
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

// ForURI returns the collector for a target URI's scheme.
func ForURI(raw string) (Collector, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return nil, fmt.Errorf("target %q is not a URI (expected scheme://[user@]host)", Redact(raw))
	}
	regMu.RLock()
	defer regMu.RUnlock()
	if c, ok := bySchemes[strings.ToLower(u.Scheme)]; ok {
		return c, nil
	}
	return nil, fmt.Errorf("target %q: no collector for scheme %q (known: %s)", Redact(raw), u.Scheme, strings.Join(schemesLocked(), ", "))
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

// Schemes lists the registered URI schemes, sorted.
func Schemes() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	return schemesLocked()
}

func schemesLocked() []string {
	out := make([]string, 0, len(bySchemes))
	for s := range bySchemes {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}
