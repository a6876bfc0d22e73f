package hyperv

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/hvaudit/hvaudit/collectors"
	"github.com/hvaudit/hvaudit/collectors/inventory"
)

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
