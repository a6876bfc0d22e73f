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
package libvirt

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/hvaudit/hvaudit/collectors"
	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// Platform is the platform this collector serves.
const Platform = inventory.PlatformKVM

// Schemes are the URI schemes this collector answers for: QEMU/KVM over
// every remote transport, libvirt's test driver (test:///abs/node.xml,
// which counts as kvm), and other libvirt drivers, which end as a target
// error "libvirt driver X not supported yet" (DESIGN.md §2).
var Schemes = func() []string {
	s := []string{"qemu", "qemu+ssh", "qemu+libssh", "qemu+libssh2", "qemu+tls", "qemu+tcp", "qemu+unix", "test"}
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
}

// New returns a collector with default settings.
func New() *Collector { return &Collector{} }

func init() { collectors.Register(New(), Schemes...) }

var _ collectors.Collector = (*Collector)(nil)

// Platform returns "kvm".
func (c *Collector) Platform() string { return Platform }

// uriInfo is a libvirt URI taken apart.
type uriInfo struct {
	Driver    string // qemu, test, xen …
	Transport string // "", unix, ssh, libssh, libssh2, tls, tcp, ext
	Host      string // host[:port]; "" for a local daemon
	Path      string // /system, /session, /abs/path/node.xml
	ReadWrite bool   // hvaudit_rw=1 given
	NoVerify  bool   // no_verify=1 given (TLS peer not verified)
	// LibvirtURI is the URI handed to libvirt (hvaudit parameters removed).
	LibvirtURI string
}

// Local reports whether the daemon runs on this machine, so its host
// files are in reach under the host root.
func (u uriInfo) Local() bool {
	return u.Host == "" && (u.Transport == "" || u.Transport == "unix")
}

// Session reports a per-user (qemu:///session) connection.
func (u uriInfo) Session() bool { return strings.HasPrefix(u.Path, "/session") }

// parseURI splits a libvirt URI and checks that the driver is one we audit.
func parseURI(raw string) (uriInfo, error) {
	u, err := collectors.ParseTargetURI(raw)
	if err != nil {
		return uriInfo{}, err
	}
	if u.Scheme == "" {
		return uriInfo{}, fmt.Errorf("target %q is not a libvirt URI (expected qemu:///system, qemu+ssh://host/system, test:///abs/node.xml)", collectors.Redact(raw))
	}
	scheme := strings.ToLower(u.Scheme)
	info := uriInfo{Driver: scheme, Host: u.Host, Path: u.Path}
	if i := strings.IndexByte(scheme, '+'); i >= 0 {
		info.Driver, info.Transport = scheme[:i], scheme[i+1:]
	}
	switch info.Driver {
	case "qemu", "test":
	default:
		return info, fmt.Errorf("libvirt driver %s not supported yet (only qemu:// and test:// URIs are audited)", info.Driver)
	}
	switch info.Transport {
	case "", "unix", "ssh", "libssh", "libssh2", "tls", "tcp", "ext":
	default:
		return info, fmt.Errorf("libvirt transport %q is not known (use unix, ssh, libssh, libssh2, tls or tcp)", info.Transport)
	}
	q := u.Query()
	if v := q.Get(ReadWriteParam); v != "" {
		info.ReadWrite = v == "1" || strings.EqualFold(v, "true") || strings.EqualFold(v, "yes")
		q.Del(ReadWriteParam)
	}
	info.NoVerify = q.Get("no_verify") == "1"
	u.RawQuery = q.Encode()
	info.LibvirtURI = u.String()
	if info.Driver == "test" && !strings.HasPrefix(info.Path, "/") {
		return info, fmt.Errorf("test driver URI %q needs an absolute path (test:///default or test:///abs/path/node.xml)", collectors.Redact(raw))
	}
	return info, nil
}

// transport records how the collector reached the target, for the
// audit-transport checks: "local" for a local socket (and the in-process
// test driver), "ssh" for an SSH tunnel (ssh verifies the host key), "ca"
// for TLS verified against libvirt's CA, "insecure" for TLS with
// no_verify=1 or for plain TCP.
func transport(u uriInfo) inventory.Transport {
	switch u.Transport {
	case "ssh", "libssh", "libssh2", "ext":
		return inventory.Transport{TLSVerified: true, Method: "ssh"}
	case "tls":
		if u.NoVerify {
			return inventory.Transport{TLSVerified: false, Method: "insecure"}
		}
		return inventory.Transport{TLSVerified: true, Method: "ca"}
	case "tcp":
		return inventory.Transport{TLSVerified: false, Method: "insecure"}
	}
	if u.Host != "" {
		// qemu://host/system defaults to TLS.
		if u.NoVerify {
			return inventory.Transport{TLSVerified: false, Method: "insecure"}
		}
		return inventory.Transport{TLSVerified: true, Method: "ca"}
	}
	return inventory.Transport{TLSVerified: true, Method: "local"}
}

// redactedURI is the URI as recorded: no credentials, no hvaudit params.
func redactedURI(u uriInfo) string {
	p, err := url.Parse(u.LibvirtURI)
	if err != nil {
		return collectors.Redact(u.LibvirtURI)
	}
	if p.User != nil {
		p.User = url.User(p.User.Username())
	}
	return p.String()
}
