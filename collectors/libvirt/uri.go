package libvirt

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/hvaudit/hvaudit/collectors"
	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// uriInfo is a libvirt URI taken apart the way libvirt's remote driver
// takes it apart (src/remote/remote_driver.c doRemoteOpen, libvirt 9.0).
type uriInfo struct {
	Driver    string // qemu, test, xen …
	Transport string // "", unix, ssh, libssh, libssh2, tls, tcp, ext
	Host      string // host[:port]; "" for a local daemon
	Path      string // /system, /session, /abs/path/node.xml
	ReadWrite bool   // hvaudit_rw=1 given
	// NoVerify is the last no_verify parameter read as libvirt reads it:
	// any non-zero integer turns verification off (TLS: the server's
	// certificate; ssh: StrictHostKeyChecking=no).
	NoVerify bool
	// KnownHostsVerify is the last known_hosts_verify parameter, lower
	// case ("normal" when absent): libssh and libssh2 accept new host keys
	// with "auto" and any key with "ignore".
	KnownHostsVerify string
	// LibvirtURI is the URI handed to libvirt: the URI as given with the
	// hvaudit parameters removed and every other byte kept.
	LibvirtURI string
}

// Local reports whether the daemon runs on this machine, so its host
// files are in reach under the host root.
func (u uriInfo) Local() bool {
	return u.Host == "" && (u.Transport == "" || u.Transport == "unix")
}

// Session reports a per-user (qemu:///session) connection.
func (u uriInfo) Session() bool { return strings.HasPrefix(u.Path, "/session") }

// uriParam is one query parameter, decoded as libvirt decodes it; start
// and end delimit its section in the query, separator included.
type uriParam struct {
	name, value string
	start, end  int
}

// splitQuery splits a query string the way libvirt's virURIParseParams
// does: sections end at the next '&', or at the next ';' when no '&'
// follows; "name" alone has the value ""; "=value" is ignored; %XX is
// decoded and '+' is kept as it is.
func splitQuery(q string) ([]uriParam, error) {
	var out []uriParam
	for pos := 0; pos < len(q); {
		rest := q[pos:]
		end := strings.IndexByte(rest, '&')
		if end < 0 {
			end = strings.IndexByte(rest, ';')
		}
		if end < 0 {
			end = len(rest)
		}
		sec := rest[:end]
		start := pos
		pos += end
		if pos < len(q) {
			pos++ // the separator
		}
		if sec == "" || sec[0] == '=' {
			continue
		}
		name, value, _ := strings.Cut(sec, "=")
		n, err := url.PathUnescape(name)
		if err != nil {
			return nil, fmt.Errorf("URI parameter %q: %w", name, err)
		}
		v, err := url.PathUnescape(value)
		if err != nil {
			return nil, fmt.Errorf("URI parameter %s: bad escape in its value", n)
		}
		out = append(out, uriParam{name: n, value: v, start: start, end: pos})
	}
	return out, nil
}

// libvirtInt parses an integer the way virStrToLong_i does (strtol base 10
// with nothing after the digits): leading blanks and a sign are allowed,
// "01" is 1, "1x", "" and "0x1" are errors.
func libvirtInt(s string) (int64, error) {
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	n, err := strconv.ParseInt(t, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("not an integer: %q", s)
	}
	return n, nil
}

// parseURI splits a libvirt URI, checks that the driver is one we audit
// and reads the parameters that decide how the connection is verified.
func parseURI(raw string) (uriInfo, error) {
	u, err := collectors.ParseTargetURI(raw)
	if err != nil {
		return uriInfo{}, err
	}
	if u.Scheme == "" {
		return uriInfo{}, fmt.Errorf("target %q is not a libvirt URI (expected qemu:///system, qemu+ssh://host/system, test:///abs/node.xml)", collectors.Redact(raw))
	}
	scheme := strings.ToLower(u.Scheme)
	info := uriInfo{Driver: scheme, Host: u.Host, Path: u.Path, KnownHostsVerify: "normal"}
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
		return info, fmt.Errorf("libvirt transport %q is not known (use unix, ssh, libssh, libssh2, tls, tcp or ext)", info.Transport)
	}
	params, err := splitQuery(u.RawQuery)
	if err != nil {
		return info, fmt.Errorf("target %q: %w", collectors.Redact(raw), err)
	}
	query := u.RawQuery
	var drop []uriParam
	for _, p := range params {
		// libvirt compares parameter names case-insensitively and the
		// last occurrence wins.
		switch strings.ToLower(p.name) {
		case ReadWriteParam:
			v := strings.ToLower(p.value)
			info.ReadWrite = v == "1" || v == "true" || v == "yes"
			drop = append(drop, p)
		case "no_verify":
			n, err := libvirtInt(p.value)
			if err != nil {
				return info, fmt.Errorf("target %q: no_verify: %w (libvirt refuses such a URI)", collectors.Redact(raw), err)
			}
			info.NoVerify = n != 0
		case "known_hosts_verify":
			v := strings.ToLower(p.value)
			switch v {
			case "normal", "auto", "ignore":
				info.KnownHostsVerify = v
			default:
				return info, fmt.Errorf("target %q: known_hosts_verify=%q is not normal, auto or ignore (libvirt refuses such a URI)", collectors.Redact(raw), p.value)
			}
		}
	}
	// The URI libvirt gets is the original text without hvaudit's own
	// sections, so it reads exactly the parameters judged here.
	for i := len(drop) - 1; i >= 0; i-- {
		query = query[:drop[i].start] + query[drop[i].end:]
	}
	query = strings.TrimRight(query, "&;")
	lu := *u
	lu.RawQuery = query
	lu.ForceQuery = false
	info.LibvirtURI = lu.String()
	if info.Driver == "test" && !strings.HasPrefix(info.Path, "/") {
		return info, fmt.Errorf("test driver URI %q needs an absolute path (test:///default or test:///abs/path/node.xml)", collectors.Redact(raw))
	}
	return info, nil
}

// transport records how the collector reached the target, for the
// audit-transport checks, judged as libvirt 9.0 connects:
//   - unix (a local socket, and the in-process test driver): "local";
//   - tls (also qemu://host/ without a transport): the server certificate
//     is checked against libvirt's CA ("ca") unless no_verify is non-zero;
//   - ssh: OpenSSH checks the host key ("ssh") unless no_verify is
//     non-zero, which adds StrictHostKeyChecking=no;
//   - libssh, libssh2: the host key is checked against known_hosts unless
//     known_hosts_verify is auto (new keys accepted) or ignore (libvirt
//     does not pass no_verify to these two);
//   - tcp: plain text; ext: whatever program the URI names, which libvirt
//     itself never counts as secure.
func transport(u uriInfo) inventory.Transport {
	insecure := inventory.Transport{TLSVerified: false, Method: "insecure"}
	switch u.Transport {
	case "ssh":
		if u.NoVerify {
			return insecure
		}
		return inventory.Transport{TLSVerified: true, Method: "ssh"}
	case "libssh", "libssh2":
		if u.KnownHostsVerify != "normal" {
			return insecure
		}
		return inventory.Transport{TLSVerified: true, Method: "ssh"}
	case "tls":
		if u.NoVerify {
			return insecure
		}
		return inventory.Transport{TLSVerified: true, Method: "ca"}
	case "tcp", "ext":
		return insecure
	case "unix":
		return inventory.Transport{TLSVerified: true, Method: "local"}
	}
	if u.Host != "" {
		// qemu://host/system defaults to TLS.
		if u.NoVerify {
			return insecure
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
