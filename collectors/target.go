package collectors

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// Secret holds a credential. Every way a value is usually printed — fmt
// verbs, JSON, zerolog's Stringer path — yields "[REDACTED]"; only Reveal
// returns the value, and only collectors call it when they log in.
type Secret struct{ v string }

// NewSecret wraps a credential.
func NewSecret(s string) Secret { return Secret{v: s} }

// Reveal returns the credential for the one place that needs it.
func (s Secret) Reveal() string { return s.v }

// IsZero reports whether no credential was given.
func (s Secret) IsZero() bool { return s.v == "" }

const redacted = "[REDACTED]"

func (s Secret) String() string               { return redacted }
func (s Secret) GoString() string             { return redacted }
func (s Secret) Format(f fmt.State, _ rune)   { _, _ = f.Write([]byte(redacted)) }
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// TLSOptions say how to trust the target's certificate. Verification against
// the system roots (or CAFile) is the default.
type TLSOptions struct {
	CAFile string
	// Thumbprint pins the leaf certificate: SHA-1 or SHA-256 hex, colons optional.
	Thumbprint string
	Insecure   bool
}

// Method names the trust method for the audit-transport finding.
func (o TLSOptions) Method() string {
	switch {
	case o.Insecure:
		return "insecure"
	case o.Thumbprint != "":
		return "thumbprint"
	default:
		return "ca"
	}
}

// Target is one endpoint to audit.
type Target struct {
	// Name is how reports refer to the target; defaults to the URI's host.
	Name string
	// URI carries no password: vsphere://auditor@vc01, qemu:///system.
	URI      string
	Password Secret
	TLS      TLSOptions
	Timeout  time.Duration
	// HostRoot is where host files are read for local libvirt URIs.
	HostRoot string
}

// ParseTargetURI parses a target URI and refuses one that embeds a password.
func ParseTargetURI(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("target %q is not a valid URI", Redact(raw))
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			return nil, fmt.Errorf("target %q embeds a password; use --password-file, HVAUDIT_PASSWORD or the config's password_file", Redact(raw))
		}
	}
	return u, nil
}

// DefaultName derives a target's display name from its URI.
func DefaultName(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return Redact(raw)
	}
	if u.Host != "" {
		return u.Host
	}
	// Local URIs (qemu:///system, test:///path/node.xml): the URI without
	// its query is the clearest name there is.
	u.RawQuery, u.User = "", nil
	return u.String()
}

// Redact removes any password from a URI so it can be shown. A URI that
// does not parse keeps only what follows its last '@' (the host part): a
// password may itself hold '@', so cutting at the first one could print
// the rest of it.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		i := strings.LastIndex(raw, "@")
		if i < 0 {
			return raw
		}
		scheme := ""
		if j := strings.Index(raw[:i], "://"); j >= 0 && !strings.ContainsAny(raw[:j], ":/@") {
			scheme = raw[:j+3]
		}
		return scheme + redacted + raw[i:]
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	return u.String()
}

// PasswordWays says where a password can come from, for error messages.
const PasswordWays = "--password-file FILE (mode 0600), the HVAUDIT_PASSWORD environment variable, or password_file / password_env in the config's [[target]]"

// NeedsPassword reports whether a target logs in with a password: every
// vSphere target, and a remote Hyper-V host over NTLM. A local Hyper-V
// target runs as the current account, Kerberos may use a credential cache,
// and libvirt authenticates through SSH keys, TLS client certificates or
// the socket's permissions.
func NeedsPassword(raw string) bool {
	c, err := ForURI(raw)
	if err != nil {
		return false
	}
	switch c.Platform() {
	case inventory.PlatformESXi:
		return true
	case inventory.PlatformHyperV:
		u, err := url.Parse(raw)
		if err != nil {
			return true
		}
		if strings.EqualFold(u.Query().Get("auth"), "kerberos") {
			return false
		}
		// As collectors/hyperv reads it: these hosts without a port are
		// local WMI.
		switch strings.ToLower(u.Hostname()) {
		case "", "localhost", "127.0.0.1", "::1", ".":
			return u.Port() != ""
		}
		return true
	}
	return false
}

// CheckPassword refuses a target that needs a password and has none,
// before anything is contacted: logging in with an empty password fails
// on every run and locks the audit account out.
func (t Target) CheckPassword() error {
	if !t.Password.IsZero() || !NeedsPassword(t.URI) {
		return nil
	}
	return fmt.Errorf("target %s (%s) has no password: give it with %s", t.Name, Redact(t.URI), PasswordWays)
}

// NormalizeThumbprint upper-cases a fingerprint and strips separators.
func NormalizeThumbprint(fp string) string {
	r := strings.NewReplacer(":", "", " ", "", "-", "")
	return strings.ToUpper(r.Replace(strings.TrimSpace(fp)))
}

// Thumbprints returns the SHA-1 and SHA-256 fingerprints of a certificate in
// the form NormalizeThumbprint produces, for pin comparison and messages.
func Thumbprints(c *x509.Certificate) (sha1Hex, sha256Hex string) {
	s1 := sha1.Sum(c.Raw)
	s256 := sha256.Sum256(c.Raw)
	return strings.ToUpper(hex.EncodeToString(s1[:])), strings.ToUpper(hex.EncodeToString(s256[:]))
}

// ColonHex formats a normalized thumbprint with colons, as vSphere shows it.
func ColonHex(fp string) string {
	var b strings.Builder
	for i := 0; i < len(fp); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		end := i + 2
		if end > len(fp) {
			end = len(fp)
		}
		b.WriteString(fp[i:end])
	}
	return b.String()
}
