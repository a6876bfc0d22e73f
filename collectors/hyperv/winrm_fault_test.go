package hyperv_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hvaudit/hvaudit/collectors"
	"github.com/hvaudit/hvaudit/collectors/hyperv"
	"github.com/hvaudit/hvaudit/collectors/hyperv/winrmtest"
	"github.com/hvaudit/hvaudit/collectors/inventory/inventorytest"
)

// These tests run the real WinRM source (masterzen/winrm, the NTLM
// negotiator, hvaudit's TLS settings and PowerShell framing) against a
// WS-Management listener that answers from a recorded fixture, with
// faults injected.

const password = "s3cret-Pa55word"

// listener serves testdata/<fixture>'s recorded classes over WinRM.
func listener(t *testing.T, fixture string) *winrmtest.Server {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", fixture, "snapshot.json"))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := collectors.DecodeSnapshot(b)
	if err != nil {
		t.Fatal(err)
	}
	var d hyperv.Data
	if err := json.Unmarshal(snap.Data, &d); err != nil {
		t.Fatal(err)
	}
	classes := map[string]winrmtest.Result{}
	for _, q := range d.Queries {
		if q.Error != "" {
			classes[q.Class] = winrmtest.Result{Error: q.Error}
			continue
		}
		j, _ := json.Marshal(q.Instances)
		classes[q.Class] = winrmtest.Result{JSON: string(j)}
	}
	methods := map[string]winrmtest.Result{}
	for _, m := range d.Methods {
		j, _ := json.Marshal(m.Result)
		methods[m.Class+"."+m.Method] = winrmtest.Result{JSON: string(j)}
	}
	s := winrmtest.New(classes, methods)
	t.Cleanup(s.Close)
	return s
}

func pin(s *winrmtest.Server) collectors.TLSOptions {
	_, s256 := collectors.Thumbprints(s.Certificate())
	return collectors.TLSOptions{Thumbprint: s256}
}

// fetch audits the listener through the collector, as hvaudit does.
func fetch(t *testing.T, s *winrmtest.Server, host string, o collectors.TLSOptions) (*collectors.Snapshot, error) {
	t.Helper()
	u, _ := url.Parse(s.URL)
	if host == "" {
		host = u.Hostname()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	snap, err := hyperv.New().Fetch(ctx, collectors.Target{Name: "hv", URI: "hyperv://CORP%5Cauditor@" + host + ":" + u.Port(),
		Password: collectors.NewSecret(password), TLS: o, Timeout: 10 * time.Second})
	if err != nil && strings.Contains(err.Error(), password) {
		t.Fatalf("error reveals the password: %v", err)
	}
	return snap, err
}

// TestWinRMEndToEnd: the listener's recorded host maps like the fixture.
func TestWinRMEndToEnd(t *testing.T) {
	s := listener(t, "compliant")
	snap, err := fetch(t, s, "", pin(s))
	if err != nil {
		t.Fatal(err)
	}
	inv, err := hyperv.New().Normalize(snap)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.VMs) != 2 || inv.Hosts[0].Patch == nil || inv.Hosts[0].Patch.Build != "20348.5622" || inv.Target.Settings["source"] != "winrm" ||
		inv.Target.Settings["powershell_version"] != "5.1.20348.2582" {
		t.Errorf("VMs %d patch %+v settings %v", len(inv.VMs), inv.Hosts[0].Patch, inv.Target.Settings)
	}
}

// TestWinRMRefusesRedirects: an HTTPS listener that redirects to plain
// HTTP must not get the SOAP body or the NTLM exchange sent there.
func TestWinRMRefusesRedirects(t *testing.T) {
	var plain atomic.Int64
	var leaked atomic.Value
	http1 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plain.Add(1)
		b, _ := io.ReadAll(r.Body)
		leaked.Store(r.Header.Get("Authorization") + string(b))
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer http1.Close()
	s := listener(t, "compliant")
	s.Set(func(s *winrmtest.Server) { s.Redirect = http1.URL + "/wsman" })
	_, err := fetch(t, s, "", pin(s))
	if err == nil || !strings.Contains(err.Error(), "redirect") {
		t.Errorf("redirect followed or not named: %v", err)
	}
	if n := plain.Load(); n != 0 {
		t.Errorf("%d requests reached the plain-HTTP server after the redirect (sent: %.120q)", n, leaked.Load())
	}
	if s.Requests.Load() == 0 {
		t.Error("the HTTPS listener was never reached")
	}
}

// TestWinRMCAFile: --ca-file verifies the chain and the host name. A CA
// file path that skipped verification would pass the wrong-CA and
// wrong-name cases.
func TestWinRMCAFile(t *testing.T) {
	s := listener(t, "compliant")
	dir := t.TempDir()
	right := filepath.Join(dir, "right.pem")
	writePEM(t, right, s.Certificate().Raw)
	wrong := filepath.Join(dir, "wrong.pem")
	writePEM(t, wrong, selfSigned(t))

	if _, err := fetch(t, s, "", collectors.TLSOptions{CAFile: right}); err != nil {
		t.Fatalf("right CA: %v", err)
	}
	reached := s.Requests.Load()
	if _, err := fetch(t, s, "", collectors.TLSOptions{CAFile: wrong}); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a CA file that did not sign the listener's certificate was accepted: %v", err)
	}
	// httptest's certificate names 127.0.0.1, ::1 and example.com, not localhost.
	if _, err := fetch(t, s, "localhost", collectors.TLSOptions{CAFile: right}); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a certificate for another name was accepted: %v", err)
	}
	if s.Requests.Load() != reached {
		t.Error("a request passed a failed verification")
	}
	if _, err := fetch(t, s, "", collectors.TLSOptions{CAFile: filepath.Join(dir, "missing.pem")}); err == nil || !strings.Contains(err.Error(), "CA file") {
		t.Errorf("missing CA file: %v", err)
	}
}

// TestWinRMFaults: 401 and 500 end the target with a clear error;
// truncated JSON and a batch that stops early become that class's gaps,
// never facts.
func TestWinRMFaults(t *testing.T) {
	t.Run("401", func(t *testing.T) {
		s := listener(t, "compliant")
		s.Set(func(s *winrmtest.Server) { s.Status = http.StatusUnauthorized })
		if _, err := fetch(t, s, "", pin(s)); err == nil || !strings.Contains(err.Error(), "refused the credentials (HTTP 401)") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("500", func(t *testing.T) {
		s := listener(t, "compliant")
		s.Set(func(s *winrmtest.Server) {
			s.Status, s.Body = http.StatusInternalServerError, winrmtest.Fault("The WS-Management service cannot process the request because the XML is invalid.")
		})
		if _, err := fetch(t, s, "", pin(s)); err == nil || !strings.Contains(err.Error(), "HTTP 500: The WS-Management service cannot process the request because the XML is invalid.") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("truncated JSON", func(t *testing.T) {
		s := listener(t, "compliant")
		s.Set(func(s *winrmtest.Server) {
			s.Rewrite = func(class, j string) string {
				if class == "Msvm_EthernetPortAllocationSettingData" {
					return j[:len(j)/2]
				}
				return j
			}
		})
		snap, err := fetch(t, s, "", pin(s))
		if err != nil {
			t.Fatal(err)
		}
		inv, err := hyperv.New().Normalize(snap)
		if err != nil {
			t.Fatal(err)
		}
		for _, vm := range inv.VMs {
			if vm.HyperV.Ports != nil || vm.NICs != nil {
				t.Errorf("%s: ports %v from truncated JSON", vm.Name, vm.HyperV.Ports)
			}
		}
		if r := inventorytest.Reason(inv.Gaps, "vm:*", "vm.hyperv.ports"); !strings.Contains(r, "Msvm_EthernetPortAllocationSettingData query failed: instances are not JSON") {
			t.Errorf("ports gap %q", r)
		}
		if inv.Hosts[0].HyperV.ManagementOSSharesVMSwitch != nil {
			t.Error("management picture invented from truncated data")
		}
	})
	t.Run("output cut between lines", func(t *testing.T) {
		// PowerShell stopped after ten results: the rest are unknown.
		s := listener(t, "compliant")
		s.Set(func(s *winrmtest.Server) {
			s.Output = func(out string) string { return strings.Join(strings.SplitAfter(out, "\n")[:10], "") }
		})
		snap, err := fetch(t, s, "", pin(s))
		if err != nil {
			t.Fatal(err)
		}
		inv, err := hyperv.New().Normalize(snap)
		if err != nil {
			t.Fatal(err)
		}
		var d hyperv.Data
		if err := json.Unmarshal(snap.Data, &d); err != nil {
			t.Fatal(err)
		}
		stopped := map[string]bool{}
		for _, q := range d.Queries {
			if q.Error == "no result: PowerShell stopped before this query" {
				stopped[q.Class] = true
			}
		}
		if !stopped["Msvm_EthernetPortAllocationSettingData"] || len(stopped) < 3 {
			t.Fatalf("queries without a result: %v", stopped)
		}
		hv := inv.Hosts[0].HyperV
		for class, invented := range map[string]bool{
			"Msvm_EthernetPortAllocationSettingData":        inv.VMs[0].HyperV.Ports != nil,
			"Msvm_VirtualSystemMigrationServiceSettingData": hv.Migration != nil,
			"MSFT_SmbServerConfiguration":                   hv.SMB != nil,
			"Win32_DeviceGuard":                             hv.DeviceGuard != nil,
			"Msvm_SecuritySettingData":                      inv.VMs[0].VTPM != nil,
		} {
			if stopped[class] && invented {
				t.Errorf("facts of %s invented though it never answered", class)
			}
		}
	})
	t.Run("output cut inside a line", func(t *testing.T) {
		// A result line cut inside its base64 is a malformed batch: the
		// collection fails rather than keep half-read data.
		s := listener(t, "compliant")
		s.Set(func(s *winrmtest.Server) {
			s.Output = func(out string) string {
				lines := strings.SplitAfter(out, "\n")
				cut := strings.TrimRight(lines[4], "\r\n")
				return strings.Join(lines[:4], "") + cut[:len(cut)-3] + "\r\n"
			}
		})
		if _, err := fetch(t, s, "", pin(s)); err == nil || !strings.Contains(err.Error(), "result line") {
			t.Errorf("err = %v", err)
		}
	})
}

func writePEM(t *testing.T, path string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// selfSigned makes an unrelated CA certificate for 127.0.0.1.
func selfSigned(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "Other CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, DNSNames: []string{"example.com"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}
