// Package libvirt is the KVM/QEMU collector (platform "kvm"). It reads a
// libvirt connection read-only through libvirt.org/go/libvirt, built with
// the libvirt_dlopen tag so no libvirt headers are needed to build and a
// missing libvirt.so.0 at run time is an error, not a crash. For a local
// URI (qemu:///system, qemu:///session) it also reads host files (qemu.conf,
// libvirtd.conf, /sys CPU vulnerabilities, SMT, KSM, dpkg status,
// os-release) under Target.HostRoot.
//
// Fetch records raw evidence (domain and network XML as libvirt returned
// it, host files as found; see Data); Normalize maps it to the neutral
// inventory without I/O and is built on every platform, with or without
// the libvirt library.
//
// Its steps sit where every collector keeps them: New and the
// registration here (URIs in uri.go); Fetch in fetch.go (fetch_stub.go
// without libvirt; host files in hostfiles.go, proc.go and rpm.go);
// Normalize and the pure normalizeData in normalize.go (host.go, mgmt.go,
// domain.go with domain_validate.go and graphics.go for the parts of the
// model); where each field is read in sources.go.
package libvirt

import (
	"github.com/hvaudit/hvaudit/collectors"
	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// Platform is the platform this collector serves.
const Platform = inventory.PlatformKVM

// Schemes are the URI schemes this collector audits: QEMU/KVM over every
// remote transport and libvirt's test driver (test:///abs/node.xml, which
// counts as kvm).
var Schemes = []string{"qemu", "qemu+ssh", "qemu+libssh", "qemu+libssh2", "qemu+tls", "qemu+tcp", "qemu+unix", "qemu+ext", "test"}

// NotAuditedSchemes are other libvirt drivers' schemes: recognised, so such
// a target ends as a target error "libvirt driver X not supported yet"
// (DESIGN.md §2), but not offered as schemes that work.
var NotAuditedSchemes = func() []string {
	var s []string
	for _, d := range unsupportedDrivers {
		for _, t := range []string{"", "+ssh", "+tls", "+tcp", "+unix"} {
			s = append(s, d+t)
		}
	}
	return s
}()

// unsupportedDrivers are libvirt drivers whose URIs are recognised but not
// audited yet. libvirt's esx/vpx/hyperv drivers are left out: those
// platforms have their own collectors.
var unsupportedDrivers = []string{"xen", "lxc", "vbox", "bhyve", "ch", "openvz", "vz"}

// ReadWriteParam is the URI query parameter that asks for a read-write
// connection (qemu:///system?hvaudit_rw=1). It is removed before the URI
// reaches libvirt. A read-write connection reads the secure domain XML
// (console passwords, recorded as set/not set only) and domain
// capabilities; hvaudit still calls only read APIs.
const ReadWriteParam = "hvaudit_rw"

// Collector reads QEMU/KVM hosts through libvirt.
type Collector struct {
	// Concurrency bounds the per-domain API calls in flight; 0 means 8.
	Concurrency int
	// afterList, when set (tests), runs between listing the domains and
	// reading them: where a domain can be undefined or the daemon
	// restarted.
	afterList func()
}

// New returns a collector with default settings.
func New() *Collector { return &Collector{} }

func init() {
	c := New()
	collectors.Register(c, Schemes...)
	collectors.RegisterNotAudited(c, NotAuditedSchemes...)
}

var (
	_ collectors.Collector    = (*Collector)(nil)
	_ collectors.Availability = (*Collector)(nil)
)

// Platform returns "kvm".
func (c *Collector) Platform() string { return Platform }
