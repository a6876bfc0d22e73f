package hyperv

import (
	"context"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hvaudit/hvaudit/collectors"
)

const testPassword = "s3cret-Pa55word"

// fakeWinRM is a TLS server with a self-signed certificate that refuses
// every request with 401 and the given WWW-Authenticate challenge, and
// records whether it was reached and whether a Basic header arrived.
type fakeWinRM struct {
	srv     *httptest.Server
	reached atomic.Int64
	basic   atomic.Int64
}

func newFakeWinRM(t *testing.T, challenge string) *fakeWinRM {
	f := &fakeWinRM{}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.reached.Add(1)
		if strings.HasPrefix(strings.ToLower(r.Header.Get("Authorization")), "basic") {
			f.basic.Add(1)
		}
		w.Header().Set("WWW-Authenticate", challenge)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	f.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeWinRM) config(t *testing.T, o collectors.TLSOptions) WinRMConfig {
	u, _ := url.Parse(f.srv.URL)
	port, _ := strconv.Atoi(u.Port())
	return WinRMConfig{Host: u.Hostname(), Port: port, User: `CORP\auditor`, Password: collectors.NewSecret(testPassword), TLS: o, Timeout: 5 * time.Second}
}

func (f *fakeWinRM) query(t *testing.T, o collectors.TLSOptions) error {
	t.Helper()
	src, err := NewWinRMSource(f.config(t, o))
	if err != nil {
		return err
	}
	defer src.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = src.Query(ctx, Catalog[0])
	if err != nil && strings.Contains(err.Error(), testPassword) {
		t.Fatalf("error reveals the password: %v", err)
	}
	return err
}

func TestWinRMVerifiesCertificateByDefault(t *testing.T) {
	f := newFakeWinRM(t, "Negotiate")
	err := f.query(t, collectors.TLSOptions{})
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("self-signed certificate accepted without a pin: %v", err)
	}
	if f.reached.Load() != 0 {
		t.Error("a request reached the server over an unverified connection")
	}
}

func TestWinRMThumbprintPin(t *testing.T) {
	f := newFakeWinRM(t, "Negotiate")
	_, s256 := collectors.Thumbprints(f.srv.Certificate())
	s1, _ := collectors.Thumbprints(f.srv.Certificate())
	for _, pin := range []string{s256, collectors.ColonHex(s1)} {
		err := f.query(t, collectors.TLSOptions{Thumbprint: pin})
		if err == nil || !strings.Contains(err.Error(), "HTTP 401") {
			t.Errorf("pin %s: %v (expected to reach the server and be refused)", pin, err)
		}
	}
	if f.reached.Load() == 0 {
		t.Error("pinned connection never reached the server")
	}
	before := f.reached.Load()
	wrong := strings.Repeat("AB", 32)
	if err := f.query(t, collectors.TLSOptions{Thumbprint: wrong}); err == nil || !strings.Contains(err.Error(), "does not match the pinned") {
		t.Errorf("wrong pin: %v", err)
	}
	if f.reached.Load() != before {
		t.Error("a request passed a wrong pin")
	}
	if _, err := NewWinRMSource(f.config(t, collectors.TLSOptions{Thumbprint: "abc"})); err == nil {
		t.Error("malformed thumbprint accepted")
	}
}

func TestWinRMCAFileAndInsecure(t *testing.T) {
	f := newFakeWinRM(t, "Negotiate")
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := f.query(t, collectors.TLSOptions{CAFile: ca}); err == nil || !strings.Contains(err.Error(), "HTTP 401") {
		t.Errorf("CA file: %v", err)
	}
	if err := f.query(t, collectors.TLSOptions{Insecure: true}); err == nil || !strings.Contains(err.Error(), "HTTP 401") {
		t.Errorf("insecure: %v", err)
	}
	if tr := transport(uriInfo{Host: "h"}, collectors.TLSOptions{Insecure: true}); tr.TLSVerified || tr.Method != "insecure" {
		t.Errorf("insecure transport recorded as %+v", tr)
	}
	if tr := transport(uriInfo{Host: "h"}, collectors.TLSOptions{}); !tr.TLSVerified || tr.Method != "ca" {
		t.Errorf("default transport recorded as %+v", tr)
	}
}

// TestWinRMNeverSendsBasic: a server offering only Basic never receives
// the password.
func TestWinRMNeverSendsBasic(t *testing.T) {
	f := newFakeWinRM(t, `Basic realm="WSMAN"`)
	_, s256 := collectors.Thumbprints(f.srv.Certificate())
	err := f.query(t, collectors.TLSOptions{Thumbprint: s256})
	if err == nil || !strings.Contains(err.Error(), "Basic") {
		t.Errorf("err = %v", err)
	}
	if f.basic.Load() != 0 {
		t.Error("the password was sent as Basic authentication")
	}
}

func TestWinRMConfigErrors(t *testing.T) {
	if _, err := NewWinRMSource(WinRMConfig{Host: "h", User: "u"}); err == nil || !strings.Contains(err.Error(), "needs a password") {
		t.Errorf("no password: %v", err)
	}
	if _, err := NewWinRMSource(WinRMConfig{Host: "h", User: "u", Password: collectors.NewSecret("x"), Auth: "basic"}); err == nil {
		t.Error("basic auth accepted")
	}
	t.Setenv("KRB5CCNAME", "")
	conf := filepath.Join(t.TempDir(), "krb5.conf")
	_ = os.WriteFile(conf, []byte("[libdefaults]\n default_realm = CORP.EXAMPLE\n"), 0o600)
	if _, err := NewWinRMSource(WinRMConfig{Host: "h", Auth: "kerberos", Krb5Conf: conf}); err == nil || !strings.Contains(err.Error(), "credential cache") {
		t.Errorf("kerberos without credentials: %v", err)
	}
	if _, err := NewWinRMSource(WinRMConfig{Host: "h", User: "auditor@CORP.EXAMPLE", Password: collectors.NewSecret("x"), Auth: "kerberos", Krb5Conf: conf}); err != nil {
		t.Errorf("kerberos with a password: %v", err)
	}
}

func TestRedactAndFaults(t *testing.T) {
	s := redactText("Post https://u:"+testPassword+"@h:5986/wsman: bad "+testPassword, collectors.NewSecret(testPassword))
	if strings.Contains(s, testPassword) || strings.Contains(s, "u:") {
		t.Errorf("redacted %q", s)
	}
	fault := `<s:Envelope><s:Body><s:Fault><s:Reason><s:Text xml:lang="en-US">The WS-Management service cannot process the request.</s:Text></s:Reason>` +
		`<s:Detail><f:WSManFault Code="5"><f:Message>Access is denied. </f:Message></f:WSManFault></s:Detail></s:Fault></s:Body></s:Envelope>`
	if got := soapFault(fault); got != "The WS-Management service cannot process the request." && got != "Access is denied." {
		t.Errorf("fault %q", got)
	}
}
