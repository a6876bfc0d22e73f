// Package sign writes and checks detached report signatures (`--sign
// KEYFILE`, `hvaudit verify`, `hvaudit keygen`).
//
// The signature of FILE is written to FILE.sig: the standard base64 of the
// 64-byte Ed25519 signature (pure Ed25519 over the file's exact bytes, no
// prehash) and a newline. verify also accepts the raw 64 bytes, which is
// what `openssl pkeyutl -sign -rawin` writes, so either tool can check the
// other's signatures.
//
// Keys are PEM: the private key a "PRIVATE KEY" block (PKCS #8), the public
// key a "PUBLIC KEY" block (PKIX), as `hvaudit keygen` and
// `openssl genpkey -algorithm ed25519` write them. The private key file must
// be mode 0600 or stricter, like a password file.
package sign

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hvaudit/hvaudit/report"
)

// Suffix is appended to a report's path to name its signature.
const Suffix = ".sig"

// ErrMismatch means the signature does not verify: the file was
// changed after signing, or signed with another key.
var ErrMismatch = errors.New("signature does not match: the file was tampered with after signing, or signed with another key")

// LoadPrivateKey reads an Ed25519 private key, refusing one that group or
// others can read. Errors are ConfigErrors naming the file.
func LoadPrivateKey(path string) (ed25519.PrivateKey, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("signing key: %v", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("signing key %s has mode %04o; make it 0600 or stricter (chmod 600 %s)", path, perm, path)
	}
	der, err := readPEM(path, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %v", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key %s is a %T, not an Ed25519 key (openssl genpkey -algorithm ed25519)", path, k)
	}
	return priv, nil
}

// LoadPublicKey reads an Ed25519 public key ("PUBLIC KEY" PEM, PKIX).
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	der, err := readPEM(path, "PUBLIC KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("public key %s: %v", path, err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("public key %s is a %T, not an Ed25519 key", path, k)
	}
	return pub, nil
}

// readPEM returns the DER of the first PEM block, which must have the given
// type.
func readPEM(path, typ string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading key: %v", err)
	}
	block, _ := pem.Decode(data)
	switch {
	case block == nil:
		return nil, fmt.Errorf("%s: no PEM block: expected -----BEGIN %s-----", path, typ)
	case block.Type == "ENCRYPTED PRIVATE KEY":
		return nil, fmt.Errorf("%s: the key is encrypted; hvaudit reads an unencrypted key protected by its file mode (openssl pkey -in %s -out plain.key)", path, path)
	case block.Type != typ:
		return nil, fmt.Errorf("%s: PEM block is %q, expected %q", path, block.Type, typ)
	}
	return block.Bytes, nil
}

// Fingerprint names a public key: "SHA256:" and the unpadded base64 of the
// SHA-256 of its PKIX encoding.
func Fingerprint(pub ed25519.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "?"
	}
	sum := sha256.Sum256(der)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}

// File writes path's detached signature to path.sig, atomically.
func File(path string, key ed25519.PrivateKey) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("signing: %w", err)
	}
	sig := ed25519.Sign(key, data)
	sigPath := path + Suffix
	err = report.WriteFileAtomic(sigPath, 0o640, func(w io.Writer) error {
		_, err := io.WriteString(w, base64.StdEncoding.EncodeToString(sig)+"\n")
		return err
	})
	return sigPath, err
}

// Files writes FILE.sig beside every report file written (the list
// WriteOutputs returns: regular files only).
func Files(files []string, key ed25519.PrivateKey) ([]string, error) {
	var sigs []string
	for _, p := range files {
		sp, err := File(p, key)
		if err != nil {
			return sigs, err
		}
		sigs = append(sigs, sp)
	}
	return sigs, nil
}

// Verify checks path against its detached signature (sigPath, default
// path.sig). It returns ErrMismatch (wrapped, naming the file) when
// the signature does not verify, and a ConfigError when an input cannot be
// read or is not a signature at all.
func Verify(path, sigPath string, pub ed25519.PublicKey) error {
	if sigPath == "" {
		sigPath = path + Suffix
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("verify: %v", err)
	}
	raw, err := os.ReadFile(sigPath)
	if err != nil {
		return fmt.Errorf("verify: %v (sign with --sign KEYFILE, which writes FILE%s)", err, Suffix)
	}
	sig, err := decodeSignature(raw)
	if err != nil {
		return fmt.Errorf("%s: %v", sigPath, err)
	}
	if !ed25519.Verify(pub, data, sig) {
		return fmt.Errorf("%s: %w", path, ErrMismatch)
	}
	return nil
}

// decodeSignature accepts base64 (what hvaudit writes) or the raw 64 bytes
// (what openssl writes). The two cannot be confused: base64 of 64 bytes is
// 88 characters.
func decodeSignature(raw []byte) ([]byte, error) {
	if len(raw) == ed25519.SignatureSize {
		return raw, nil
	}
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, fmt.Errorf("not an Ed25519 signature (expected base64 of %d bytes, or the raw bytes)", ed25519.SignatureSize)
	}
	return sig, nil
}

// GenerateKeyPair writes a new Ed25519 key pair for `hvaudit keygen`:
// prefix.key (PKCS #8 PEM, mode 0600) and prefix.pub (PKIX PEM). Existing
// files are never overwritten.
func GenerateKeyPair(prefix string) (keyPath, pubPath string, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", "", err
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", "", err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", "", err
	}
	keyPath, pubPath = prefix+".key", prefix+".pub"
	for _, p := range []string{keyPath, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return "", "", fmt.Errorf("%s exists; not overwriting a key", p)
		}
	}
	if err := writeNew(keyPath, 0o600, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER})); err != nil {
		return "", "", err
	}
	if err := writeNew(pubPath, 0o644, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})); err != nil {
		_ = os.Remove(keyPath)
		return "", "", err
	}
	return keyPath, pubPath, nil
}

// writeNew creates a file that must not exist yet, with mode.
func writeNew(path string, mode os.FileMode, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("%v", err)
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return err
	}
	if err := f.Chmod(mode); err != nil { // exactly mode, whatever the umask
		_ = f.Close()
		_ = os.Remove(path)
		return err
	}
	return f.Close()
}
