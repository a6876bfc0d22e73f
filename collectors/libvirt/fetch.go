//go:build linux && libvirt_dlopen && cgo

package libvirt

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	golibvirt "libvirt.org/go/libvirt"
	"libvirt.org/go/libvirtxml"

	"github.com/hvaudit/hvaudit/collectors"
	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// ErrLibraryMissing is Fetch's error when libvirt.so.0 cannot be loaded.
var ErrLibraryMissing = errors.New("libvirt client library not installed (Debian: libvirt0)")

// Fetch connects (read-only unless the URI asks for hvaudit_rw=1), reads
// versions, capabilities, every domain's XML, networks and host
// interfaces, and for a local URI the host files, and returns them as a
// snapshot. It calls only read APIs. libvirt calls do not take a context:
// when ctx ends first, Fetch returns at once and the collection finishes
// and closes its connection in the background.
func (c *Collector) Fetch(ctx context.Context, t collectors.Target) (*collectors.Snapshot, error) {
	u, err := parseURI(t.URI)
	if err != nil {
		return nil, err
	}
	type result struct {
		snap *collectors.Snapshot
		err  error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- result{err: fmt.Errorf("libvirt collector crashed: %v", r)}
			}
		}()
		s, err := c.fetch(ctx, u, t)
		done <- result{s, err}
	}()
	select {
	case r := <-done:
		return r.snap, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("libvirt %s: %w", redactedURI(u), ctx.Err())
	}
}

type fetcher struct {
	calls atomic.Int64
	conn  *golibvirt.Connect
	mu    sync.Mutex
	gaps  inventory.Gaps
}

// proveReadOnly asks the daemon to confirm the connection is read-only:
// the secure domain XML (console passwords) is refused on a read-only
// connection and nothing else is. A daemon that hands it out was given a
// read-write connection, whatever hvaudit asked for; the XML is dropped
// unread.
func (f *fetcher) proveReadOnly(doms []golibvirt.Domain) (bool, string) {
	if len(doms) == 0 {
		return true, "not confirmed by the daemon (no domain to ask about); hvaudit opened it with virConnectOpenReadOnly"
	}
	f.call()
	_, err := doms[0].GetXMLDesc(golibvirt.DOMAIN_XML_SECURE)
	var le golibvirt.Error
	switch {
	case err == nil:
		return false, "the daemon answered virDomainGetXMLDesc(VIR_DOMAIN_XML_SECURE), which a read-only connection refuses: this connection is read-write"
	case errors.As(err, &le) && le.Code == golibvirt.ERR_OPERATION_DENIED:
		return true, "the daemon refused virDomainGetXMLDesc(VIR_DOMAIN_XML_SECURE): " + le.Message
	}
	return true, "not confirmed by the daemon (" + libvirtMessage(err) + "); hvaudit opened it with virConnectOpenReadOnly"
}

// keepExisting drops the domains undefined between listing and reading,
// each with a gap: they no longer exist to be audited.
func (f *fetcher) keepExisting(recs []DomainRecord) []DomainRecord {
	out := recs[:0]
	for _, r := range recs {
		if r.gone {
			id := strings.ToLower(r.UUID)
			if r.UUID == "" {
				id = "*"
			}
			f.gap(inventory.KindVM, id, "vm", fmt.Sprintf("domain %s was undefined between listing and reading (%s); skipped", r.Name, r.Error))
			continue
		}
		out = append(out, r)
	}
	return out
}

// isGone: the domain no longer exists.
func isGone(err error) bool {
	var le golibvirt.Error
	return errors.As(err, &le) && le.Code == golibvirt.ERR_NO_DOMAIN
}

func (f *fetcher) call() { f.calls.Add(1) }

// libvirtMessage is the message of a libvirt error, without the Go
// binding's virError(Code=…) wrapping.
func libvirtMessage(err error) string {
	var le golibvirt.Error
	if errors.As(err, &le) {
		return le.Message
	}
	return err.Error()
}

// connectError maps a failed connection to a plain reason; a missing
// client library is named with the package that provides it.
func connectError(err error, uri string) error {
	msg := libvirtMessage(err)
	if strings.Contains(msg, "Failed to open libvirt.so") || strings.Contains(msg, "libvirt.so.0: cannot open shared object") {
		return ErrLibraryMissing
	}
	return fmt.Errorf("connecting to %s: %s", uri, msg)
}

func (c *Collector) fetch(ctx context.Context, u uriInfo, t collectors.Target) (*collectors.Snapshot, error) {
	f := &fetcher{}
	shown := redactedURI(u)
	readOnly := !u.ReadWrite
	var err error
	f.call()
	switch {
	case !t.Password.IsZero():
		var flags golibvirt.ConnectFlags
		if readOnly {
			flags = golibvirt.CONNECT_RO
		}
		user := ""
		if p, perr := url.Parse(u.LibvirtURI); perr == nil && p.User != nil {
			user = p.User.Username()
		}
		auth := &golibvirt.ConnectAuth{
			CredType: []golibvirt.ConnectCredentialType{golibvirt.CRED_AUTHNAME, golibvirt.CRED_PASSPHRASE},
			Callback: func(creds []*golibvirt.ConnectCredential) {
				for _, cr := range creds {
					switch cr.Type {
					case golibvirt.CRED_AUTHNAME:
						cr.Result = user
					case golibvirt.CRED_PASSPHRASE:
						cr.Result = t.Password.Reveal()
					}
					cr.ResultLen = len(cr.Result)
				}
			},
		}
		f.conn, err = golibvirt.NewConnectWithAuth(u.LibvirtURI, auth, flags)
	case readOnly:
		f.conn, err = golibvirt.NewConnectReadOnly(u.LibvirtURI)
	default:
		f.conn, err = golibvirt.NewConnect(u.LibvirtURI)
	}
	if err != nil {
		return nil, connectError(err, shown)
	}
	defer func() { f.call(); _, _ = f.conn.Close() }()

	d := &Data{URI: shown, Driver: u.Driver, Transport: u.Transport, ReadOnly: readOnly, Errors: map[string]string{}}
	fail := func(item string, err error) { d.Errors[item] = libvirtMessage(err) }

	f.call()
	if v, err := f.conn.GetType(); err == nil {
		d.ConnType = v
	} else {
		fail("type", err)
	}
	f.call()
	if v, err := f.conn.GetLibVersion(); err == nil {
		d.LibVersion = uint64(v)
	} else {
		fail("lib_version", err)
	}
	f.call()
	if v, err := f.conn.GetVersion(); err == nil {
		d.HypervisorVersion = uint64(v)
	} else {
		fail("hypervisor_version", err)
	}
	f.call()
	if v, err := f.conn.GetHostname(); err == nil {
		d.Hostname = v
	} else {
		fail("hostname", err)
	}
	f.call()
	if v, err := f.conn.GetCapabilities(); err == nil {
		d.CapabilitiesXML = v
	} else {
		fail("capabilities", err)
	}
	if !readOnly {
		f.call()
		if v, err := f.conn.GetDomainCapabilities("", "", "", "", 0); err == nil {
			d.DomainCapabilitiesXML = v
		} else {
			fail("domain_capabilities", err)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	f.call()
	doms, err := f.conn.ListAllDomains(0)
	if err != nil {
		return nil, fmt.Errorf("listing domains on %s: %s", shown, libvirtMessage(err))
	}
	if readOnly {
		d.ReadOnly, d.ReadOnlyProof = f.proveReadOnly(doms)
	}
	if c.afterList != nil {
		c.afterList()
	}
	d.Domains = f.keepExisting(c.readDomains(ctx, f, doms, readOnly))
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// A daemon that went away (restarted, stopped) mid-collection leaves
	// a snapshot of whatever was read before: refuse it as a whole.
	f.call()
	if alive, err := f.conn.IsAlive(); err != nil || !alive {
		reason := "the connection is no longer alive"
		if err != nil {
			reason = libvirtMessage(err)
		}
		return nil, fmt.Errorf("libvirt connection to %s lost during collection (was the daemon restarted?): %s", shown, reason)
	}
	d.Networks = f.readNetworks(d)
	d.Interfaces = f.readInterfaces(d)

	switch {
	case u.Driver == "qemu" && u.Local():
		d.Local = true
		d.Host, d.Runtime = ReadLocal(t.HostRoot, u.Session(), d.Domains)
	case u.Driver == "test" && t.HostRoot != "":
		d.Local = true
		d.Host, d.Runtime = ReadLocal(t.HostRoot, false, d.Domains)
	case u.Driver == "test":
		d.HostSkipped = "the test driver has no host files; set host_root to a fixture tree to audit them"
	}
	if !u.Local() && u.Host != "" {
		d.ConnectionAddresses = resolve(ctx, u.Host, d)
	}
	if len(d.Errors) == 0 {
		d.Errors = nil
	}
	d.Redact()

	target := collectors.SnapshotTarget{Name: t.Name, URI: shown, Transport: transport(u)}
	return collectors.NewSnapshot(Platform, target, d, int(f.calls.Load()), f.gaps)
}

var stateNames = map[golibvirt.DomainState]string{
	golibvirt.DOMAIN_NOSTATE: "nostate", golibvirt.DOMAIN_RUNNING: "running", golibvirt.DOMAIN_BLOCKED: "blocked",
	golibvirt.DOMAIN_PAUSED: "paused", golibvirt.DOMAIN_SHUTDOWN: "shutdown", golibvirt.DOMAIN_SHUTOFF: "shutoff",
	golibvirt.DOMAIN_CRASHED: "crashed", golibvirt.DOMAIN_PMSUSPENDED: "pmsuspended",
}

// readDomains reads every domain with bounded concurrency, keeping the
// order ListAllDomains returned.
func (c *Collector) readDomains(ctx context.Context, f *fetcher, doms []golibvirt.Domain, readOnly bool) []DomainRecord {
	n := c.Concurrency
	if n <= 0 {
		n = 8
	}
	out := make([]DomainRecord, len(doms))
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i := range doms {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { _ = doms[i].Free() }()
			if ctx.Err() != nil {
				out[i] = DomainRecord{Error: ctx.Err().Error()}
				return
			}
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i] = f.readDomain(&doms[i], readOnly)
		}(i)
	}
	wg.Wait()
	return out
}

func (f *fetcher) readDomain(dom *golibvirt.Domain, readOnly bool) DomainRecord {
	var r DomainRecord
	f.call()
	r.Name, _ = dom.GetName()
	f.call()
	r.UUID, _ = dom.GetUUIDString()
	f.call()
	if st, _, err := dom.GetState(); err == nil {
		r.State = stateNames[st]
	}
	f.call()
	if p, err := dom.IsPersistent(); err == nil {
		r.Persistent = &p
	}
	f.call()
	if a, err := dom.GetAutostart(); err == nil {
		r.Autostart = &a
	}
	var flags golibvirt.DomainXMLFlags
	if !readOnly {
		flags = golibvirt.DOMAIN_XML_SECURE
	}
	f.call()
	doc, err := dom.GetXMLDesc(flags)
	if err != nil && flags != 0 && !isGone(err) {
		// Secure XML refused (e.g. polkit): fall back to the plain XML.
		f.call()
		doc, err = dom.GetXMLDesc(0)
		flags = 0
	}
	if err != nil {
		r.Error, r.gone = libvirtMessage(err), isGone(err)
		return r
	}
	r.Secure = flags != 0
	x, had, err := RedactDomainXML(doc)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	r.XML = x
	if r.Secure {
		r.GraphicsPasswords = had
	}
	f.call()
	if msgs, err := dom.GetMessages(golibvirt.DOMAIN_MESSAGE_TAINTING); err == nil {
		r.Tainting = append([]string{}, msgs...)
	} else {
		r.TaintingError = libvirtMessage(err)
	}
	f.call()
	if snaps, err := dom.ListAllSnapshots(0); err == nil {
		r.Snapshots = []SnapshotRecord{}
		for i := range snaps {
			s := &snaps[i]
			f.call()
			if x, err := s.GetXMLDesc(0); err == nil {
				var ds libvirtxml.DomainSnapshot
				if ds.Unmarshal(x) == nil {
					var ct int64
					fmt.Sscan(ds.CreationTime, &ct)
					r.Snapshots = append(r.Snapshots, SnapshotRecord{Name: ds.Name, CreationTime: ct})
				}
			}
			_ = s.Free()
		}
	}
	return r
}

func (f *fetcher) readNetworks(d *Data) []NetworkRecord {
	f.call()
	nets, err := f.conn.ListAllNetworks(0)
	if err != nil {
		d.Errors["networks"] = libvirtMessage(err)
		return nil
	}
	out := make([]NetworkRecord, 0, len(nets))
	for i := range nets {
		n := &nets[i]
		var r NetworkRecord
		f.call()
		r.Name, _ = n.GetName()
		f.call()
		r.UUID, _ = n.GetUUIDString()
		f.call()
		if v, err := n.IsActive(); err == nil {
			r.Active = &v
		}
		f.call()
		if v, err := n.GetAutostart(); err == nil {
			r.Autostart = &v
		}
		f.call()
		if v, err := n.IsPersistent(); err == nil {
			r.Persistent = &v
		}
		f.call()
		if x, err := n.GetXMLDesc(0); err == nil {
			r.XML = x
			out = append(out, r)
		} else {
			f.gap(inventory.KindNetwork, r.UUID, "network", "network XML not read: "+libvirtMessage(err))
		}
		_ = n.Free()
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out
}

func (f *fetcher) readInterfaces(d *Data) []InterfaceRecord {
	f.call()
	ifs, err := f.conn.ListAllInterfaces(0)
	if err != nil {
		d.Errors["interfaces"] = libvirtMessage(err)
		return nil
	}
	out := make([]InterfaceRecord, 0, len(ifs))
	for i := range ifs {
		n := &ifs[i]
		var r InterfaceRecord
		f.call()
		r.Name, _ = n.GetName()
		f.call()
		if v, err := n.IsActive(); err == nil {
			r.Active = &v
		}
		f.call()
		if x, err := n.GetXMLDesc(0); err == nil {
			r.XML = x
			out = append(out, r)
		} else {
			f.gap(inventory.KindHost, "*", "host.vmkernel_nics", "interface "+r.Name+" XML not read: "+libvirtMessage(err))
		}
		_ = n.Free()
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out
}

func (f *fetcher) gap(kind, id, field, reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gaps.Add(kind, id, field, reason)
}

// resolve returns the IP addresses of the URI's host: the address the
// host is managed through.
func resolve(ctx context.Context, hostport string, d *Data) []string {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if ip := net.ParseIP(host); ip != nil {
		return []string{ip.String()}
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(rctx, host)
	if err != nil {
		d.Errors["connection_addresses"] = err.Error()
		return nil
	}
	sort.Strings(addrs)
	return addrs
}

// Available reports whether libvirt's client library can be loaded, so
// callers (the demo) can say how to install it before any target fails.
func (c *Collector) Available() error {
	if _, err := golibvirt.GetVersion(); err != nil {
		return connectError(err, "")
	}
	return nil
}
