// Package esxi reads vCenter and standalone ESXi through the vSphere SOAP
// API (govmomi), read-only: it logs in, reads properties through container
// views with paged RetrievePropertiesEx, and logs out. Nothing else.
//
// Its steps sit where every collector keeps them: New and the
// registration here; Fetch in fetch.go (the paged reads in retrieve*.go);
// Normalize and the pure normalizeData in normalize.go (one
// normalize_*.go per part of the model); where each field is read in
// sources.go.
package esxi

import (
	"github.com/hvaudit/hvaudit/collectors"
	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// Platform is this collector's platform name.
const Platform = inventory.PlatformESXi

// Options tune a collector; the registered default uses zero values.
type Options struct {
	// PageSize is RetrievePropertiesEx's MaxObjects (default 1000): large
	// enough that round trips grow with pages, never with objects.
	PageSize int32
	// OnCall, when set, sees the name of every SOAP method sent.
	OnCall func(method string)
}

// Collector reads vSphere endpoints.
type Collector struct{ opts Options }

// New returns a collector with options.
func New(o Options) *Collector {
	if o.PageSize <= 0 {
		o.PageSize = 1000
	}
	return &Collector{opts: o}
}

func init() {
	collectors.Register(New(Options{}), "vsphere", "vcenter", "esxi")
}

var _ collectors.Collector = (*Collector)(nil)

// Platform implements collectors.Collector.
func (c *Collector) Platform() string { return Platform }
