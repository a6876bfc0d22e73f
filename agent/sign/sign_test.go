package sign

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestSignAndVerify(t *testing.T) {
	dir := t.TempDir()
	keyPath, pubPath, err := GenerateKeyPair(filepath.Join(dir, "audit"))
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(keyPath); fi.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v", fi.Mode().Perm())
	}
	if _, _, err := GenerateKeyPair(filepath.Join(dir, "audit")); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("keygen overwrote a key: %v", err)
	}
	key, err := LoadPrivateKey(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := LoadPublicKey(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(key.Public()) {
		t.Fatal("public key does not belong to the private key")
	}

	report := writeTemp(t, dir, "r.json", `{"schema":"hvaudit/report/v1","findings":[{"status":"fail"}]}`+"\n")
	other := writeTemp(t, dir, "r.txt", "table\n")
	sigs, err := Files([]string{report, other}, key)
	if err != nil || len(sigs) != 2 || sigs[0] != report+".sig" || sigs[1] != other+".sig" {
		t.Fatalf("signatures %v: %v", sigs, err)
	}
	raw, _ := os.ReadFile(report + ".sig")
	if s, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(raw))); err != nil || len(s) != ed25519.SignatureSize || !strings.HasSuffix(string(raw), "\n") {
		t.Errorf("signature file %q is not base64 of 64 bytes and a newline", raw)
	}
	if fi, _ := os.Stat(report + ".sig"); fi.Mode().Perm()&^0o640 != 0 {
		t.Errorf("signature mode %v", fi.Mode().Perm())
	}
	if err := Verify(report, "", pub); err != nil {
		t.Errorf("verify: %v", err)
	}
	if err := Verify(other, "", pub); err != nil {
		t.Errorf("verify table: %v", err)
	}

	// A tampered report fails, as does the right report under another key.
	b, _ := os.ReadFile(report)
	if err := os.WriteFile(report, []byte(strings.Replace(string(b), "fail", "pass", 1)), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := Verify(report, "", pub); !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "tampered") {
		t.Errorf("tampered report: %v", err)
	}
	otherPub, _, _ := ed25519.GenerateKey(rand.Reader)
	if err := Verify(other, "", otherPub); !errors.Is(err, ErrMismatch) {
		t.Errorf("other key: %v", err)
	}
	// A signature swapped from another file is a mismatch too.
	if err := Verify(other, report+".sig", pub); !errors.Is(err, ErrMismatch) {
		t.Errorf("swapped signature: %v", err)
	}
	// The raw 64 bytes (openssl's form) are accepted.
	rawSig := ed25519.Sign(key, []byte("table\n"))
	rawPath := writeTemp(t, dir, "raw.sig", string(rawSig))
	if err := Verify(other, rawPath, pub); err != nil {
		t.Errorf("raw signature: %v", err)
	}

	// Bad input is an error naming the file (the command's exit 2), never
	// a mismatch.
	garbage := writeTemp(t, dir, "garbage.sig", "not a signature\n")
	for name, c := range map[string]struct {
		err  error
		file string
	}{
		"no signature":      {Verify(filepath.Join(dir, "nosig.txt"), "", pub), "nosig.txt"},
		"missing signature": {Verify(report, filepath.Join(dir, "none.sig"), pub), "none.sig"},
		"garbage signature": {Verify(report, garbage, pub), garbage + ": not an Ed25519 signature"},
	} {
		if c.err == nil || errors.Is(c.err, ErrMismatch) || !strings.Contains(c.err.Error(), c.file) {
			t.Errorf("%s: %v, want an input error naming %s", name, c.err, c.file)
		}
	}
}

func TestSigningKeyChecks(t *testing.T) {
	dir := t.TempDir()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	good := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	ecPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER})
	pubDER, _ := x509.MarshalPKIXPublicKey(priv.Public())
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})

	write := func(name string, data []byte, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name string
		data []byte
		mode os.FileMode
		want string
	}{
		{"loose.key", good, 0o640, "make it 0600 or stricter"},
		{"world.key", good, 0o644, "0644"},
		{"ec.key", ecPEM, 0o600, "not an Ed25519 key"},
		{"pub-as-key.pem", pubPEM, 0o600, `PEM block is "PUBLIC KEY", expected "PRIVATE KEY"`},
		{"enc.key", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}}), 0o600, "encrypted"},
		{"text.key", []byte("hello"), 0o600, "no PEM block"},
		{"junk.key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2}}), 0o600, "junk.key"},
	}
	for _, c := range cases {
		p := write(c.name, c.data, c.mode)
		_, err := LoadPrivateKey(p)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
	if _, err := LoadPrivateKey(write("ok.key", good, 0o400)); err != nil {
		t.Errorf("0400 key: %v", err)
	}
	if _, err := LoadPublicKey(write("priv-as-pub.pem", good, 0o600)); err == nil || !strings.Contains(err.Error(), `expected "PUBLIC KEY"`) {
		t.Errorf("private key as public: %v", err)
	}
}

// TestOpenSSLInterop checks the README's openssl commands: an openssl key
// signs with hvaudit, openssl verifies hvaudit's signature, and hvaudit
// verifies openssl's raw one.
func TestOpenSSLInterop(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		skipUnlessRequired(t, "openssl not installed (Debian: openssl)")
	}
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(openssl, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
	}
	run("genpkey", "-algorithm", "ed25519", "-out", "audit.key")
	run("pkey", "-in", "audit.key", "-pubout", "-out", "audit.pub")
	if err := os.Chmod(filepath.Join(dir, "audit.key"), 0o600); err != nil {
		t.Fatal(err)
	}
	key, err := LoadPrivateKey(filepath.Join(dir, "audit.key"))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := LoadPublicKey(filepath.Join(dir, "audit.pub"))
	if err != nil {
		t.Fatal(err)
	}
	r := writeTemp(t, dir, "r.json", "{\"a\": 1}\n")
	if _, err := File(r, key); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(r + ".sig")
	bin, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(string(raw)))
	writeTemp(t, dir, "sig.bin", string(bin))
	run("pkeyutl", "-verify", "-pubin", "-inkey", "audit.pub", "-rawin", "-in", "r.json", "-sigfile", "sig.bin")
	run("pkeyutl", "-sign", "-inkey", "audit.key", "-rawin", "-in", "r.json", "-out", "openssl.sig")
	if err := Verify(r, filepath.Join(dir, "openssl.sig"), pub); err != nil {
		t.Errorf("openssl's signature: %v", err)
	}
}

func writeTemp(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// skipUnlessRequired skips a test whose tool or kernel feature is missing,
// or fails it when HVAUDIT_REQUIRE_TOOLS is set (CI sets it), so no test
// silently stops guarding anything on the machine that must run it.
func skipUnlessRequired(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("HVAUDIT_REQUIRE_TOOLS") != "" {
		t.Fatalf("%s, and HVAUDIT_REQUIRE_TOOLS is set", why)
	}
	t.Skip(why)
}
