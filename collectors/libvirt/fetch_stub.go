//go:build !(linux && libvirt_dlopen && cgo)

package libvirt

import (
	"context"
	"errors"

	"github.com/hvaudit/hvaudit/collectors"
)

// ErrNotBuiltIn is Fetch's error in a binary built without libvirt.
var ErrNotBuiltIn = errors.New("libvirt collector not built in (build with -tags libvirt_dlopen on Linux, cgo enabled)")

// Fetch reports that this binary cannot talk to libvirt. An unsupported
// driver is still named as such.
func (c *Collector) Fetch(_ context.Context, t collectors.Target) (*collectors.Snapshot, error) {
	if _, err := parseURI(t.URI); err != nil {
		return nil, err
	}
	return nil, ErrNotBuiltIn
}

// Available always reports that this build has no libvirt.
func (c *Collector) Available() error { return ErrNotBuiltIn }
