// Package collectors holds the contract between the agent and each platform:
// the Collector interface, the registry keyed by URI scheme, the Target a
// collector reads and the Snapshot it returns.
package collectors

import (
	"context"

	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// Collector reads one platform. Fetch does read-only I/O and nothing else;
// Normalize is a pure function, so every mapping is testable offline.
type Collector interface {
	// Platform is "esxi", "kvm" or "hyperv".
	Platform() string
	// Fetch reads the target through its management API, read-only.
	Fetch(ctx context.Context, t Target) (*Snapshot, error)
	// Normalize turns a snapshot into the neutral inventory without I/O.
	Normalize(s *Snapshot) (*inventory.Inventory, error)
}

// Availability is implemented by a collector that can tell, before any
// target is contacted, that it cannot collect from this binary or this
// machine (libvirt: its client library is not installed).
type Availability interface {
	// Available returns why the collector cannot work here, or nil.
	Available() error
}

// Available returns why c cannot collect here, or nil when it can (or
// cannot tell before trying). Callers ask it to say up front what a
// target would otherwise fail on, without importing the platform's
// package.
func Available(c Collector) error {
	if a, ok := c.(Availability); ok {
		return a.Available()
	}
	return nil
}
