package hyperv

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	ntlmssp "github.com/Azure/go-ntlmssp"
	krbclient "github.com/jcmturner/gokrb5/v8/client"
	krbconfig "github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/masterzen/winrm"
	"github.com/masterzen/winrm/soap"

	"github.com/hvaudit/hvaudit/collectors"
)

// DefaultWinRMPort is WinRM over HTTPS. hvaudit does not speak WinRM over
// plain HTTP: the masterzen client encrypts no message body itself.
const DefaultWinRMPort = 5986

// errRedirect is returned when the listener redirects.
var errRedirect = errors.New("WinRM listener redirected and hvaudit does not follow redirects (they would send the request and the authentication elsewhere)")

// maxResponse bounds one SOAP response body.
const maxResponse = 64 << 20

// TLSConfig builds the TLS client configuration for a target: verified
// against the system roots (or TLSOptions.CAFile) by default; a thumbprint
// pins the leaf certificate (SHA-1 or SHA-256) instead of a chain;
// Insecure turns verification off (the audit then reports it).
func TLSConfig(serverName string, o collectors.TLSOptions) (*tls.Config, error) {
	cfg := &tls.Config{ServerName: serverName, MinVersion: tls.VersionTLS12}
	switch {
	case o.Insecure:
		cfg.InsecureSkipVerify = true //nolint:gosec // the user asked; reported as a failing audit-transport finding
	case o.Thumbprint != "":
		want := collectors.NormalizeThumbprint(o.Thumbprint)
		if len(want) != 40 && len(want) != 64 {
			return nil, fmt.Errorf("thumbprint %q is neither a SHA-1 nor a SHA-256 fingerprint", o.Thumbprint)
		}
		cfg.InsecureSkipVerify = true //nolint:gosec // replaced by the pin check below
		cfg.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return errors.New("the server presented no certificate")
			}
			leaf, err := x509.ParseCertificate(raw[0])
			if err != nil {
				return fmt.Errorf("server certificate does not parse: %w", err)
			}
			s1, s256 := collectors.Thumbprints(leaf)
			if want == s1 || want == s256 {
				return nil
			}
			return fmt.Errorf("server certificate thumbprint %s does not match the pinned %s", collectors.ColonHex(s256), collectors.ColonHex(want))
		}
	case o.CAFile != "":
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate", o.CAFile)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// WinRMConfig is how the WinRM source reaches a host.
type WinRMConfig struct {
	Host string
	Port int
	// User is "name", "DOMAIN\name" or "name@REALM".
	User     string
	Password collectors.Secret
	// Auth is "ntlm" (default) or "kerberos".
	Auth string
	// Kerberos: realm (default: from User, else krb5.conf's default),
	// krb5.conf path (default $KRB5_CONFIG, else /etc/krb5.conf), a
	// credential cache used when no password is given (default
	// $KRB5CCNAME), and the SPN (default HTTP/host).
	Realm, Krb5Conf, CCache, SPN string
	TLS                          collectors.TLSOptions
	// Timeout bounds each HTTP exchange; 0 means 60 s.
	Timeout time.Duration
}

// WinRMSource runs the queries as PowerShell over WinRM (HTTPS).
type WinRMSource struct {
	client *winrm.Client
	post   *poster
}

var _ Batcher = (*WinRMSource)(nil)

// NewWinRMSource prepares a WinRM connection; nothing is sent until the
// first query.
func NewWinRMSource(c WinRMConfig) (*WinRMSource, error) {
	if c.Host == "" {
		return nil, errors.New("no host to connect to")
	}
	if c.Port == 0 {
		c.Port = DefaultWinRMPort
	}
	if c.Timeout == 0 {
		c.Timeout = 60 * time.Second
	}
	tcfg, err := TLSConfig(c.Host, c.TLS)
	if err != nil {
		return nil, err
	}
	base := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tcfg,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: c.Timeout + 30*time.Second,
		ForceAttemptHTTP2:     false,
	}
	p := &poster{
		url:    "https://" + net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) + "/wsman",
		secret: c.Password,
	}
	switch strings.ToLower(c.Auth) {
	case "", "ntlm", "negotiate":
		if c.Password.IsZero() {
			return nil, errors.New("WinRM with NTLM needs a password (--password-file, HVAUDIT_PASSWORD or the config's password_file); or use ?auth=kerberos with a credential cache")
		}
		if c.User == "" {
			return nil, errors.New("WinRM needs a user in the URI (hyperv://auditor@host or hyperv://DOMAIN%5Cauditor@host)")
		}
		p.client = &http.Client{Transport: ntlmssp.Negotiator{RoundTripper: noBasic{base}}}
		user, pw := c.User, c.Password
		p.auth = func(r *http.Request) error {
			// The negotiator turns these into an NTLM exchange; noBasic
			// refuses to let them leave as Basic authentication.
			r.SetBasicAuth(user, pw.Reveal())
			return nil
		}
	case "kerberos":
		kc, err := kerberosClient(c)
		if err != nil {
			return nil, err
		}
		spn := c.SPN
		if spn == "" {
			spn = "HTTP/" + c.Host
		}
		p.client = &http.Client{Transport: noBasic{base}}
		p.auth = func(r *http.Request) error { return spnego.SetSPNEGOHeader(kc, r, spn) }
	default:
		return nil, fmt.Errorf("auth %q is not supported (ntlm or kerberos)", c.Auth)
	}
	p.client.Timeout = 0 // commands are long-polled; the context bounds them
	// Never follow a redirect: the client would re-send the SOAP body and
	// run the NTLM exchange wherever the listener points, plain HTTP
	// included. A WinRM listener has no reason to redirect.
	p.client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		return fmt.Errorf("%w: %s answered with a redirect to %s", errRedirect, redactText(via[0].URL.String(), c.Password), redactText(req.URL.Redacted(), c.Password))
	}
	params := *winrm.DefaultParameters
	params.Timeout = "PT60S"
	params.TransportDecorator = func() winrm.Transporter { return p }
	// The winrm client gets no credentials: authentication is the poster's.
	client, err := winrm.NewClientWithParameters(&winrm.Endpoint{Host: c.Host, Port: c.Port, HTTPS: true, Timeout: c.Timeout}, "", "", &params)
	if err != nil {
		return nil, err
	}
	return &WinRMSource{client: client, post: p}, nil
}

func kerberosClient(c WinRMConfig) (*krbclient.Client, error) {
	path := c.Krb5Conf
	if path == "" {
		path = os.Getenv("KRB5_CONFIG")
	}
	if path == "" {
		path = "/etc/krb5.conf"
	}
	cfg, err := krbconfig.Load(path)
	if err != nil {
		return nil, fmt.Errorf("kerberos configuration %s: %w", path, err)
	}
	user, realm := c.User, c.Realm
	if i := strings.LastIndex(user, "@"); i > 0 {
		if realm == "" {
			realm = strings.ToUpper(user[i+1:])
		}
		user = user[:i]
	}
	if i := strings.Index(user, `\`); i >= 0 {
		user = user[i+1:]
	}
	if realm == "" {
		realm = cfg.LibDefaults.DefaultRealm
	}
	if !c.Password.IsZero() {
		if user == "" {
			return nil, errors.New("kerberos with a password needs a user in the URI")
		}
		return krbclient.NewWithPassword(user, realm, c.Password.Reveal(), cfg, krbclient.DisablePAFXFAST(true)), nil
	}
	cc := c.CCache
	if cc == "" {
		cc = strings.TrimPrefix(os.Getenv("KRB5CCNAME"), "FILE:")
	}
	if cc == "" {
		return nil, errors.New("kerberos needs a password or a credential cache (?ccache=PATH or KRB5CCNAME)")
	}
	b, err := os.ReadFile(cc)
	if err != nil {
		return nil, fmt.Errorf("kerberos credential cache: %w", err)
	}
	var ccache credentials.CCache
	if err := ccache.Unmarshal(b); err != nil {
		return nil, fmt.Errorf("kerberos credential cache %s: %w", cc, err)
	}
	return krbclient.NewFromCCache(&ccache, cfg, krbclient.DisablePAFXFAST(true))
}

// noBasic refuses requests that would send a password as HTTP Basic
// authentication: hvaudit authenticates with NTLM or Kerberos only.
type noBasic struct{ rt http.RoundTripper }

func (n noBasic) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasPrefix(strings.ToLower(r.Header.Get("Authorization")), "basic ") {
		return nil, errors.New("the server offers neither Negotiate nor NTLM authentication; hvaudit does not send a password as Basic authentication")
	}
	return n.rt.RoundTrip(r)
}

// poster is the winrm.Transporter: one HTTPS POST per SOAP message, with
// our TLS configuration and authentication, counted and bounded by ctx.
type poster struct {
	url    string
	client *http.Client
	auth   func(*http.Request) error
	secret collectors.Secret
	calls  atomic.Int64
	ctx    context.Context
	// psVersion is what the last batch reported.
	psVersion string
}

func (p *poster) Transport(*winrm.Endpoint) error { return nil }

func (p *poster) Post(_ *winrm.Client, m *soap.SoapMessage) (string, error) {
	p.calls.Add(1)
	ctx := p.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, strings.NewReader(m.String()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
	if err := p.auth(req); err != nil {
		return "", fmt.Errorf("authentication: %s", redactText(err.Error(), p.secret))
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return "", errors.New(redactText(err.Error(), p.secret))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return "", fmt.Errorf("reading the WinRM response: %s", redactText(err.Error(), p.secret))
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return string(body), nil
	case http.StatusUnauthorized:
		return "", errors.New("WinRM refused the credentials (HTTP 401): check the user, the password, and that the account is in Remote Management Users")
	}
	msg := soapFault(string(body))
	if msg == "" {
		msg = truncate(strings.TrimSpace(string(body)), 200)
	}
	return "", fmt.Errorf("WinRM answered HTTP %d: %s", resp.StatusCode, redactText(msg, p.secret))
}

var (
	faultText = regexp.MustCompile(`(?s)<(?:\w+:)?Message[^>]*>(.*?)</(?:\w+:)?Message>|<(?:\w+:)?Text[^>]*>(.*?)</(?:\w+:)?Text>`)
	tags      = regexp.MustCompile(`<[^>]*>`)
)

// soapFault extracts a WS-Management fault's message.
func soapFault(body string) string {
	m := faultText.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	s := m[1]
	if s == "" {
		s = m[2]
	}
	return strings.TrimSpace(html.UnescapeString(tags.ReplaceAllString(s, "")))
}

var urlUserinfo = regexp.MustCompile(`(?i)([a-z][a-z0-9+.-]*://)[^/@\s]+@`)

// redactText removes credentials from a message: userinfo in URLs and
// any occurrence of the password itself.
func redactText(s string, secret collectors.Secret) string {
	s = urlUserinfo.ReplaceAllString(s, "$1")
	if pw := secret.Reveal(); pw != "" {
		s = strings.ReplaceAll(s, pw, "[REDACTED]")
	}
	return s
}

// Calls counts HTTPS round trips.
func (s *WinRMSource) Calls() int { return int(s.post.calls.Load()) }

// Close has nothing to release: each command's shell is deleted after use.
func (s *WinRMSource) Close() error {
	s.post.client.CloseIdleConnections()
	return nil
}

// Query runs one query (a batch of one).
func (s *WinRMSource) Query(ctx context.Context, q Query) (Instances, error) {
	qr, _, err := s.QueryBatch(ctx, []Query{q}, nil)
	if err != nil {
		return nil, err
	}
	if qr[0].Error != "" {
		return nil, errors.New(qr[0].Error)
	}
	return qr[0].Instances, nil
}

// Method makes one method call.
func (s *WinRMSource) Method(ctx context.Context, m MethodCall) (Instance, error) {
	_, mr, err := s.QueryBatch(ctx, nil, []MethodCall{m})
	if err != nil {
		return nil, err
	}
	if mr[0].Error != "" {
		return nil, errors.New(mr[0].Error)
	}
	return mr[0].Result, nil
}

// psVersion is the PowerShell version the last batch reported.
func (s *WinRMSource) psVersion() string { return s.post.psVersion }

// QueryBatch runs queries and method calls in as few PowerShell processes
// as the command-line limit allows. A failure of one query is recorded in
// its result; a failure of the connection or of a whole command is the
// error.
func (s *WinRMSource) QueryBatch(ctx context.Context, qs []Query, ms []MethodCall) ([]QueryResult, []MethodResult, error) {
	cmds, err := BuildCommands(qs, ms)
	if err != nil {
		return nil, nil, err
	}
	s.post.ctx = ctx
	defer func() { s.post.ctx = nil }()
	results := map[int]rawResult{}
	for _, cmd := range cmds {
		stdout, stderr, code, err := s.client.RunWithContextWithString(ctx, cmd, "")
		if err != nil {
			return nil, nil, fmt.Errorf("WinRM %s: %s", s.post.url, redactText(err.Error(), s.post.secret))
		}
		got, ps, perr := ParseOutput(stdout)
		if perr != nil {
			return nil, nil, fmt.Errorf("WinRM output: %w", perr)
		}
		if ps != "" {
			s.post.psVersion = ps
		}
		if len(got) == 0 {
			msg := CLIXMLErrors(stderr)
			if msg == "" {
				msg = fmt.Sprintf("PowerShell exited with code %d and wrote no result", code)
			}
			return nil, nil, fmt.Errorf("PowerShell on the host: %s", redactText(truncate(msg, 500), s.post.secret))
		}
		for k, v := range got {
			results[k] = v
		}
	}
	return assemble(qs, ms, results)
}

// assemble turns framed raw results into query and method results.
func assemble(qs []Query, ms []MethodCall, results map[int]rawResult) ([]QueryResult, []MethodResult, error) {
	qr := make([]QueryResult, len(qs))
	for i, q := range qs {
		qr[i] = QueryResult{Namespace: q.Namespace, Class: q.Class, Instances: Instances{}}
		r, ok := results[i]
		switch {
		case !ok:
			qr[i].Error = "no result: PowerShell stopped before this query"
		case !r.ok:
			qr[i].Error = errorMessage(r.body)
		default:
			list, err := ParseInstances(r.body)
			if err != nil {
				qr[i].Error = err.Error()
				continue
			}
			qr[i].Instances = list
		}
	}
	mr := make([]MethodResult, len(ms))
	for j, m := range ms {
		mr[j] = MethodResult{Namespace: m.Namespace, Class: m.Class, Method: m.Method}
		r, ok := results[len(qs)+j]
		switch {
		case !ok:
			mr[j].Error = "no result: PowerShell stopped before this call"
		case !r.ok:
			mr[j].Error = errorMessage(r.body)
		default:
			list, err := ParseInstances(r.body)
			switch {
			case err != nil:
				mr[j].Error = err.Error()
			case len(list) != 1:
				mr[j].Error = fmt.Sprintf("the call returned %d results, expected 1", len(list))
			default:
				mr[j].Result = list[0]
			}
		}
	}
	return qr, mr, nil
}
