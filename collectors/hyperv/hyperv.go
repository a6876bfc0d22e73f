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
package hyperv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

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

// uriInfo is a hyperv:// URI taken apart.
type uriInfo struct {
	Local bool
	Host  string
	Port  int
	User  string
	// Query parameters: auth (ntlm|kerberos), realm, krb5conf, ccache, spn.
	Auth, Realm, Krb5Conf, CCache, SPN string
}

var uriParams = map[string]bool{"auth": true, "realm": true, "krb5conf": true, "ccache": true, "spn": true}

// parseURI reads hyperv://[user@]host[:port][?auth=kerberos&realm=…].
func parseURI(raw string) (uriInfo, error) {
	u, err := collectors.ParseTargetURI(raw)
	if err != nil {
		return uriInfo{}, err
	}
	if !strings.EqualFold(u.Scheme, Scheme) {
		return uriInfo{}, fmt.Errorf("target %q is not a hyperv:// URI", collectors.Redact(raw))
	}
	info := uriInfo{Host: u.Hostname()}
	if u.User != nil {
		info.User = u.User.Username()
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return info, fmt.Errorf("target %q: port %q is not valid", collectors.Redact(raw), p)
		}
		info.Port = n
	}
	if u.Path != "" && u.Path != "/" {
		return info, fmt.Errorf("target %q: a hyperv URI has no path (hyperv://[user@]host[:port])", collectors.Redact(raw))
	}
	q := u.Query()
	for k := range q {
		if !uriParams[k] {
			return info, fmt.Errorf("target %q: unknown parameter %q (known: auth, realm, krb5conf, ccache, spn)", collectors.Redact(raw), k)
		}
	}
	info.Auth, info.Realm, info.Krb5Conf, info.CCache, info.SPN = strings.ToLower(q.Get("auth")), q.Get("realm"), q.Get("krb5conf"), q.Get("ccache"), q.Get("spn")
	switch info.Auth {
	case "", "ntlm", "kerberos":
	default:
		return info, fmt.Errorf("target %q: auth %q is not supported (ntlm or kerberos)", collectors.Redact(raw), info.Auth)
	}
	switch strings.ToLower(info.Host) {
	case "", "localhost", "127.0.0.1", "::1", ".":
		info.Local = info.Port == 0
	}
	if info.Local && info.User != "" {
		return info, fmt.Errorf("target %q: local collection runs as the current account; remove the user", collectors.Redact(raw))
	}
	return info, nil
}

// transport records how hvaudit reached the host.
func transport(u uriInfo, o collectors.TLSOptions) inventory.Transport {
	if u.Local {
		return inventory.Transport{TLSVerified: true, Method: "local"}
	}
	return inventory.Transport{TLSVerified: !o.Insecure, Method: o.Method()}
}

// shownURI is the URI as recorded: user, host and port, no parameters
// that could name local files.
func shownURI(u uriInfo) string {
	if u.Local {
		return "hyperv://localhost"
	}
	p := &url.URL{Scheme: Scheme, Host: u.Host}
	if u.Port != 0 {
		p.Host = net.JoinHostPort(u.Host, strconv.Itoa(u.Port))
	}
	if u.User != "" {
		p.User = url.User(u.User)
	}
	if u.Auth != "" {
		p.RawQuery = "auth=" + u.Auth
	}
	return p.String()
}

// openSource picks the source for a URI.
func openSource(_ context.Context, u uriInfo, t collectors.Target) (Source, error) {
	if u.Local {
		return openLocal()
	}
	return NewWinRMSource(WinRMConfig{
		Host: u.Host, Port: u.Port, User: u.User, Password: t.Password, Auth: u.Auth,
		Realm: u.Realm, Krb5Conf: u.Krb5Conf, CCache: u.CCache, SPN: u.SPN, TLS: t.TLS, Timeout: t.Timeout,
	})
}

// Fetch reads the host: every Catalog query and the UBR, read-only. A
// query that fails is recorded with its error (Normalize turns it into
// gaps); the target fails only when the host answers nothing at all.
func (c *Collector) Fetch(ctx context.Context, t collectors.Target) (snap *collectors.Snapshot, err error) {
	u, err := parseURI(t.URI)
	if err != nil {
		return nil, err
	}
	src, err := c.open(ctx, u, t)
	if err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			snap, err = nil, fmt.Errorf("hyperv collector crashed: %v", r)
		}
		_ = src.Close()
	}()
	d, err := Collect(ctx, src)
	if err != nil {
		return nil, fmt.Errorf("hyperv %s: %w", shownURI(u), err)
	}
	d.Host = u.Host
	if u.Local {
		d.Host = "localhost"
	}
	shown := collectors.SnapshotTarget{Name: t.Name, URI: shownURI(u), Transport: transport(u, t.TLS)}
	return collectors.NewSnapshot(Platform, shown, d, src.Calls(), nil)
}

// sourceName says what a Source is, for Data.Source.
func sourceName(src Source) string {
	switch s := src.(type) {
	case *WinRMSource:
		return "winrm"
	case *ReplaySource:
		return "replay"
	case interface{ Name() string }:
		return s.Name()
	}
	return "unknown"
}

// Collect runs every Catalog query and method call through a source. It
// fails when the host answered none of them (bad credentials, an
// unreachable host, a missing Hyper-V role is a recorded error instead).
func Collect(ctx context.Context, src Source) (*Data, error) {
	d := &Data{Source: sourceName(src)}
	if b, ok := src.(Batcher); ok {
		qr, mr, err := b.QueryBatch(ctx, Catalog, Methods)
		if err != nil {
			return nil, err
		}
		d.Queries, d.Methods = qr, mr
		if w, ok := src.(*WinRMSource); ok {
			d.PSVersion = w.psVersion()
		}
	} else {
		for _, q := range Catalog {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			r := QueryResult{Namespace: q.Namespace, Class: q.Class, Instances: Instances{}}
			if err := q.Validate(); err != nil {
				return nil, err
			}
			list, err := src.Query(ctx, q)
			if err != nil {
				r.Error = err.Error()
			} else {
				for i := range list {
					list[i] = keep(list[i], q.Properties)
				}
				r.Instances = list
			}
			d.Queries = append(d.Queries, r)
		}
		for _, m := range Methods {
			if err := m.Validate(); err != nil {
				return nil, err
			}
			r := MethodResult{Namespace: m.Namespace, Class: m.Class, Method: m.Method}
			if res, err := src.Method(ctx, m); err != nil {
				r.Error = err.Error()
			} else {
				r.Result = keep(res, m.Outputs)
			}
			d.Methods = append(d.Methods, r)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	answered := false
	var first string
	for _, q := range d.Queries {
		if q.Error == "" {
			answered = true
			break
		}
		if first == "" {
			first = q.Class + ": " + q.Error
		}
	}
	if !answered {
		return nil, fmt.Errorf("the host answered no query (%s)", first)
	}
	return d, nil
}
