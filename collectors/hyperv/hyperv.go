// Package hyperv is the Hyper-V collector (platform "hyperv"). It reads a
// host's WMI — root\virtualization\v2 for VMs, switches and migration,
// root\cimv2 for the OS build, hotfixes and (through StdRegProv) the UBR,
// root\Microsoft\Windows\DeviceGuard and root\Microsoft\Windows\Hgs — with
// one query per class, never per VM, through one of three sources:
//
//   - WinRM (any OS): hyperv://[user@]host[:port] runs Get-CimInstance …
//     | ConvertTo-Json over HTTPS (5986), certificate verified by default,
//     NTLM or Kerberos;
//   - local WMI (Windows build only): hyperv://localhost or hyperv:///,
//     through github.com/microsoft/wmi;
//   - replay: a recorded Data, for tests and for snapshots written by the
//     capture script (capture/Get-HvauditSnapshot.ps1).
//
// Fetch records the instances as Data; Normalize maps them to the neutral
// inventory without I/O and is built on every platform, so Linux tests
// cover every mapping.
//
// Its steps sit where every collector keeps them: New and the
// registration here (URIs in uri.go); Fetch in fetch.go (the sources in
// winrm.go, local_*.go and replay.go); Normalize and the pure
// normalizeData in normalize.go (hosts, VMs and networks in
// normalize_host.go, normalize_vm.go, network.go and network_mgmt.go); where each field is
// read in sources.go.
package hyperv

import (
	"context"
	"errors"

	"github.com/hvaudit/hvaudit/collectors"
	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// Platform is the platform this collector serves.
const Platform = inventory.PlatformHyperV

// Scheme is the URI scheme this collector answers for.
const Scheme = "hyperv"

// ErrLocalNeedsWindows is Fetch's error for a local URI in a binary built
// for another OS.
var ErrLocalNeedsWindows = errors.New("local Hyper-V collection needs the Windows build (or audit the host remotely: hyperv://user@host)")

// Collector reads Hyper-V hosts.
type Collector struct {
	// open returns the source for a URI; tests replace it.
	open func(ctx context.Context, u uriInfo, t collectors.Target) (Source, error)
}

// New returns a collector with default settings.
func New() *Collector { return &Collector{open: openSource} }

func init() { collectors.Register(New(), Scheme) }

var _ collectors.Collector = (*Collector)(nil)

// Platform returns "hyperv".
func (c *Collector) Platform() string { return Platform }
