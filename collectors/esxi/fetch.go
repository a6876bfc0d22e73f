package esxi

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"reflect"
	"strings"
	"sync/atomic"
	"time"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/hvaudit/hvaudit/collectors"
	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// Fetch logs in, reads everything the baseline needs, and logs out.
func (c *Collector) Fetch(ctx context.Context, t collectors.Target) (*collectors.Snapshot, error) {
	u, user, err := endpoint(t.URI)
	if err != nil {
		return nil, err
	}
	counter := &countingRT{onCall: c.opts.OnCall}
	vc, err := connect(ctx, u, t.TLS, counter)
	if err != nil {
		return nil, err
	}
	if err := login(ctx, vc, u.Host, user, t.Password); err != nil {
		return nil, err
	}
	defer func() {
		// Log out even when the audit's context is done: a leaked session
		// is a finding on the auditor's side.
		lctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = session.NewManager(vc).Logout(lctx)
	}()
	data, err := c.retrieveRecovering(ctx, vc, func() error { return login(ctx, vc, u.Host, user, t.Password) })
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", u.Host, err)
	}
	shown := collectors.SnapshotTarget{Name: t.Name, URI: collectors.Redact(t.URI),
		Transport: inventory.Transport{TLSVerified: !t.TLS.Insecure, Method: t.TLS.Method()}}
	return collectors.NewSnapshot(Platform, shown, data, int(counter.n.Load()), nil)
}

// retrieveRecovering reads the estate, surviving what a long collection on
// a real vCenter meets: a session that expires or is terminated (log in
// again, once) and a connection cut mid-page (start again, once). Either
// way the whole retrieval is redone: views and continuation tokens belong
// to the lost session or page, so nothing half-read is kept.
func (c *Collector) retrieveRecovering(ctx context.Context, vc *vim25.Client, relogin func() error) (*Data, error) {
	var recovered []string
	relogged, restarted := false, false
	for {
		data, err := retrieve(ctx, vc, c.opts.PageSize)
		switch {
		case err == nil:
			data.Recovered = recovered
			return data, nil
		case ctx.Err() != nil:
			return nil, err
		case isSessionLost(err) && !relogged:
			relogged = true
			if lerr := relogin(); lerr != nil {
				return nil, fmt.Errorf("the session ended during collection (%w) and logging in again failed: %w", err, lerr)
			}
			recovered = append(recovered, "the session ended during collection ("+rootCause(err).Error()+"); logged in again and read everything again")
		case isTransient(err) && !restarted:
			restarted = true
			recovered = append(recovered, "the connection broke during collection ("+rootCause(err).Error()+"); read everything again")
		default:
			return nil, err
		}
	}
}

// endpoint turns vsphere://user@host[:port] into the SDK URL.
func endpoint(raw string) (*url.URL, string, error) {
	u, err := collectors.ParseTargetURI(raw)
	if err != nil {
		return nil, "", err
	}
	if u.Host == "" {
		return nil, "", fmt.Errorf("target %q has no host (expected vsphere://user@host[:port])", collectors.Redact(raw))
	}
	user := ""
	if u.User != nil {
		user = u.User.Username()
	}
	return &url.URL{Scheme: "https", Host: u.Host, Path: "/sdk"}, user, nil
}

// connect builds a verified SOAP client: system roots or a CA file by
// default, a thumbprint pin when given, no verification only on request.
func connect(ctx context.Context, u *url.URL, o collectors.TLSOptions, counter *countingRT) (*vim25.Client, error) {
	sc := soap.NewClient(u, o.Insecure)
	if o.CAFile != "" {
		if err := sc.SetRootCAs(o.CAFile); err != nil {
			return nil, fmt.Errorf("reading CA file %s: %w", o.CAFile, err)
		}
	}
	if o.Thumbprint != "" {
		sc.SetThumbprint(u.Host, collectors.ColonHex(collectors.NormalizeThumbprint(o.Thumbprint)))
	}
	counter.rt = sc
	vc, err := vim25.NewClient(ctx, sc)
	counter.count("RetrieveServiceContent")
	if err != nil {
		return nil, explainConnect(ctx, u.Host, o, err)
	}
	vc.RoundTripper = counter
	return vc, nil
}

// explainConnect turns an untrusted certificate into advice that shows the
// presented thumbprint, so pinning is one copy-paste away.
func explainConnect(ctx context.Context, host string, o collectors.TLSOptions, err error) error {
	if soap.IsCertificateUntrusted(err) || strings.Contains(err.Error(), "thumbprint does not match") {
		fp := presentedThumbprint(ctx, host)
		if o.Thumbprint != "" {
			return fmt.Errorf("TLS certificate of %s does not match the pinned thumbprint (presented SHA-256 %s)", host, fp)
		}
		return fmt.Errorf("TLS certificate of %s is not trusted (%w); to trust it, pin it with --thumbprint %s or pass its CA with --ca-file", host, rootCause(err), fp)
	}
	return fmt.Errorf("connecting to %s: %w", host, err)
}

// presentedThumbprint reads the server's leaf certificate without trusting
// it, only to show its fingerprint in an error message.
func presentedThumbprint(ctx context.Context, host string) string {
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 10 * time.Second}, Config: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // read only to display
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return "(unavailable: " + err.Error() + ")"
	}
	defer conn.Close()
	certs := conn.(*tls.Conn).ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return "(no certificate presented)"
	}
	_, s256 := collectors.Thumbprints(certs[0])
	return collectors.ColonHex(s256)
}

func rootCause(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

// login authenticates. The password is revealed here and nowhere else; the
// error never carries it.
func login(ctx context.Context, vc *vim25.Client, host, user string, pw collectors.Secret) error {
	if user == "" {
		return fmt.Errorf("target %s has no user name (vsphere://user@%s)", host, host)
	}
	err := session.NewManager(vc).Login(ctx, url.UserPassword(user, pw.Reveal()))
	if err == nil {
		return nil
	}
	if fault.Is(err, &types.InvalidLogin{}) || fault.Is(err, &types.NotAuthenticated{}) {
		return fmt.Errorf("login to %s as %s failed: incorrect user name or password", host, user)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("login to %s as %s: %w", host, user, ctx.Err())
	}
	return fmt.Errorf("login to %s as %s failed: %s", host, user, scrub(err.Error(), pw))
}

// scrub removes a secret from a message as a last line of defence.
func scrub(msg string, pw collectors.Secret) string {
	if p := pw.Reveal(); p != "" {
		msg = strings.ReplaceAll(msg, p, "[REDACTED]")
	}
	return msg
}

// countingRT counts SOAP round trips and reports each method's name.
type countingRT struct {
	rt     soap.RoundTripper
	n      atomic.Int64
	onCall func(string)
}

func (c *countingRT) RoundTrip(ctx context.Context, req, res soap.HasFault) error {
	c.count(methodName(req))
	return c.rt.RoundTrip(ctx, req, res)
}

func (c *countingRT) count(method string) {
	c.n.Add(1)
	if c.onCall != nil {
		c.onCall(method)
	}
}

// methodName derives "RetrievePropertiesEx" from *methods.RetrievePropertiesExBody.
func methodName(req any) string {
	t := reflect.TypeOf(req)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return strings.TrimSuffix(t.Name(), "Body")
}
