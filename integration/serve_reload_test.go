package integration

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hvaudit/hvaudit/collectors/esxi/esxisim"
)

// TestServeReloadTimeoutAndTLS: serve on loopback with TLS and a bearer
// token; a target slower than its timeout ends each run as a target error
// (target_up 0, no score); SIGHUP with an invalid config keeps the running
// one and says why; SIGHUP with a fixed config applies it.
func TestServeReloadTimeoutAndTLS(t *testing.T) {
	sim := startSim(t, esxisim.Options{Delay: 250 * time.Millisecond})
	dir := t.TempDir()
	certPEM := writeTLSPair(t, dir)
	const token = "test-bearer-token-0123456789abcdef"
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	listen := freeAddr(t)
	base := "https://" + listen
	tlsExtra := "tls_cert_file = \"cert.pem\"\ntls_key_file = \"key.pem\"\nbearer_token_file = \"token\"\n"
	sc := serveConfig{listen: listen, history: "history.db", cron: "@every 2s", extra: tlsExtra, targetTimeout: "1s"}
	cfg := writeServeConfig(t, dir, sim, sc)

	p := startServe(t, cfg)
	p.waitRuns(t, 1, time.Minute)
	first := p.logs.events("run")[0]
	if first["status"] != "error" || first["level"] != "error" || !strings.Contains(first["target_error"].(string), "timed out") {
		t.Errorf("a run slower than its timeout: %v", first)
	}

	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(certPEM)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}, Timeout: 30 * time.Second}
	get := func(path, tok string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, path := range []string{"/metrics", "/api/runs", "/api/runs/latest", "/"} {
		if code, _ := get(path, ""); code != http.StatusUnauthorized {
			t.Errorf("%s without the token: %d, want 401", path, code)
		}
		if code, _ := get(path, "wrong-token-wrong-token-wrong"); code != http.StatusUnauthorized {
			t.Errorf("%s with a wrong token: %d, want 401", path, code)
		}
	}
	if code, _ := get("/healthz", ""); code != 200 {
		t.Errorf("/healthz without the token: %d, want 200", code)
	}
	metricsNow := func() string {
		code, body := get("/metrics", token)
		if code != 200 {
			t.Fatalf("/metrics with the token: %d", code)
		}
		return body
	}
	m := metricsNow()
	if !strings.Contains(m, `hvaudit_target_up{target="vc01"} 0`) || strings.Contains(m, "hvaudit_score{") || strings.Contains(m, "hvaudit_findings{") {
		t.Errorf("metrics of an unreadable target: want target_up 0 and no score or findings series:\n%s", grepLines(m, "hvaudit_"))
	}

	// An invalid config on SIGHUP: refused, the running one stays.
	good, _ := os.ReadFile(cfg)
	if err := os.WriteFile(cfg, []byte(strings.Replace(string(good), `cron = "@every 2s"`, `cron = "every two seconds"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	runsBefore := len(p.logs.events("run"))
	_ = p.cmd.Process.Signal(syscall.SIGHUP)
	p.waitFor(t, "the refused reload", 30*time.Second, func() bool { return p.logs.messages("config reload failed: keeping the running config") == 1 })
	for _, e := range p.logs.events("reload") {
		if e["level"] == "error" && !strings.Contains(e["error"].(string), "every two seconds") {
			t.Errorf("the refused reload does not say why: %v", e)
		}
	}
	p.waitRuns(t, runsBefore+1, time.Minute) // still auditing on the old config

	// A fixed config on SIGHUP: applied (a new schedule, a longer timeout).
	sc.targetTimeout = "2m"
	fixedPath := writeServeConfig(t, dir, sim, sc)
	fixedSrc, err := os.ReadFile(fixedPath)
	if err != nil {
		t.Fatal(err)
	}
	fixed := strings.Replace(string(fixedSrc), `name = "test"`, `name = "second"`, 1)
	if err := os.WriteFile(cfg, []byte(fixed), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Process.Signal(syscall.SIGHUP)
	p.waitFor(t, "the reload", 30*time.Second, func() bool { return p.logs.messages("config reloaded") == 1 })
	p.waitFor(t, "a readable run after the reload", 2*time.Minute, func() bool {
		runs := p.logs.events("run")
		return runs[len(runs)-1]["status"] == "ok"
	})
	if code, body := get("/healthz", ""); code != 200 || !strings.Contains(body, `"schedule": "second"`) {
		t.Errorf("/healthz after the reload: %d %s", code, body)
	}
	m = metricsNow()
	if !strings.Contains(m, `hvaudit_target_up{target="vc01"} 1`) || !strings.Contains(m, `hvaudit_score{target="vc01"}`) {
		t.Errorf("metrics after the fix:\n%s", grepLines(m, "hvaudit_"))
	}
	if code := p.stop(t, time.Minute); code != 0 {
		t.Fatalf("exit %d on SIGTERM", code)
	}
}

// TestServeRefusesWideListenWithoutTLS: beyond loopback, serve needs TLS
// and a bearer token, and refuses to start without them (exit 2).
func TestServeRefusesWideListenWithoutTLS(t *testing.T) {
	sim := startSim(t, esxisim.Options{})
	dir := t.TempDir()
	cfg := writeServeConfig(t, dir, sim, serveConfig{listen: "0.0.0.0:9812", history: "history.db", cron: "@every 1m"})
	r := runHV(t, nil, "serve", "--config", cfg)
	if r.code != 2 || !strings.Contains(r.stderr, "beyond loopback") || !strings.Contains(r.stderr, "bearer_token_file, tls_cert_file, tls_key_file") {
		t.Errorf("serve on 0.0.0.0 without TLS: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "history.db")); !os.IsNotExist(err) {
		t.Errorf("a refused start created the history (%v)", err)
	}
}

func grepLines(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// writeTLSPair writes a self-signed cert.pem/key.pem for 127.0.0.1.
func writeTLSPair(t *testing.T, dir string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hvaudit test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certPEM
}
