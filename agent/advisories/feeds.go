package advisories

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// A feed directory holds the vendors' files as they publish them, one
// subdirectory per feed, plus:
//
//	feeds.toml      per feed: when it was retrieved and the day through
//	                which it holds every record (complete_through)
//	SHA256SUMS      "<sha256>  <path>" for every other file (sha256sum -c format)
//	SHA256SUMS.sig  optional: Ed25519 signature over SHA256SUMS, in the
//	                format of signed reports (base64 and a newline, or the
//	                raw 64 bytes); required when a public key is given
//
// Air-gapped sites copy such a directory in and run
// `hvaudit advisories update --from DIR [--pubkey KEY]`.
const (
	manifestName  = "SHA256SUMS"
	signatureName = "SHA256SUMS.sig"
	feedsName     = "feeds.toml"
)

// Feed is one feed's entry in feeds.toml.
type Feed struct {
	Name      string    `toml:"name"`
	Retrieved time.Time `toml:"retrieved"`
	// CompleteThrough: every record the feed published up to this day is
	// in the directory. It becomes complete_through of the products built
	// from the feed.
	CompleteThrough time.Time `toml:"complete_through"`
	Note            string    `toml:"note"`
}

// FeedSet is a verified feed directory.
type FeedSet struct {
	FS    fs.FS
	Dir   string
	Feeds map[string]Feed
	// Files lists every verified file by feed ("cvelist/CVE-….json").
	Files []string
}

// OpenFeeds verifies a feed directory: every file is in the manifest with
// its hash and nothing else is there; with pub set, the manifest must carry
// a valid signature by that key.
func OpenFeeds(dir string, pub ed25519.PublicKey) (*FeedSet, error) {
	fsys := os.DirFS(dir)
	manifest, err := fs.ReadFile(fsys, manifestName)
	if err != nil {
		return nil, fmt.Errorf("feed directory %s: %w (every feed directory needs a %s manifest)", dir, err, manifestName)
	}
	if pub != nil {
		sig, err := fs.ReadFile(fsys, signatureName)
		if err != nil {
			return nil, fmt.Errorf("feed directory %s: --pubkey given but %s: %w", dir, signatureName, err)
		}
		if err := verifySignature(pub, manifest, sig); err != nil {
			return nil, fmt.Errorf("%s: %w", path.Join(dir, signatureName), err)
		}
	}
	want := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(manifest))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		sum, name, ok := strings.Cut(line, "  ")
		name = strings.TrimPrefix(name, "*")
		if !ok || len(sum) != 64 || !fs.ValidPath(name) || name == manifestName || name == signatureName {
			return nil, fmt.Errorf("%s:%d: not \"<sha256>  <relative path>\": %q", path.Join(dir, manifestName), n, line)
		}
		if _, dup := want[name]; dup {
			return nil, fmt.Errorf("%s:%d: %s listed twice", path.Join(dir, manifestName), n, name)
		}
		want[name] = strings.ToLower(sum)
	}
	fsSet := &FeedSet{FS: fsys, Dir: dir, Feeds: map[string]Feed{}}
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || p == manifestName || p == signatureName {
			return nil
		}
		sum, ok := want[p]
		if !ok {
			return fmt.Errorf("%s is not in %s", path.Join(dir, p), manifestName)
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		h := sha256.Sum256(data)
		if hex.EncodeToString(h[:]) != sum {
			return fmt.Errorf("%s: sha256 does not match %s", path.Join(dir, p), manifestName)
		}
		delete(want, p)
		fsSet.Files = append(fsSet.Files, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("feed directory: %w", err)
	}
	if len(want) > 0 {
		var missing []string
		for p := range want {
			missing = append(missing, p)
		}
		sort.Strings(missing)
		return nil, fmt.Errorf("feed directory %s: files in %s are missing: %s", dir, manifestName, strings.Join(missing, ", "))
	}
	sort.Strings(fsSet.Files)
	var ft struct {
		Feeds []Feed `toml:"feed"`
	}
	data, err := fs.ReadFile(fsys, feedsName)
	if err != nil {
		return nil, fmt.Errorf("feed directory %s: %w", dir, err)
	}
	md, err := toml.Decode(string(data), &ft)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path.Join(dir, feedsName), err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("%s: unknown key %q", path.Join(dir, feedsName), und[0].String())
	}
	for _, f := range ft.Feeds {
		if f.Name == "" || f.Retrieved.IsZero() || f.CompleteThrough.IsZero() {
			return nil, fmt.Errorf("%s: feed %q needs name, retrieved and complete_through", path.Join(dir, feedsName), f.Name)
		}
		f.Retrieved, f.CompleteThrough = dateOnly(f.Retrieved), dateOnly(f.CompleteThrough)
		fsSet.Feeds[f.Name] = f
	}
	return fsSet, nil
}

// filesOf lists the verified files of one feed.
func (s *FeedSet) filesOf(feed string) []string {
	var out []string
	for _, f := range s.Files {
		if strings.HasPrefix(f, feed+"/") {
			out = append(out, f)
		}
	}
	return out
}

// verifySignature checks an Ed25519 signature in the signed-report format.
func verifySignature(pub ed25519.PublicKey, msg, sig []byte) error {
	raw := sig
	if len(sig) != ed25519.SignatureSize {
		dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(sig)))
		if err != nil {
			return fmt.Errorf("signature is neither base64 nor %d raw bytes", ed25519.SignatureSize)
		}
		raw = dec
	}
	if len(raw) != ed25519.SignatureSize || !ed25519.Verify(pub, msg, raw) {
		return errors.New("signature does not match: the manifest was changed after signing, or signed with another key")
	}
	return nil
}

// LoadPublicKey reads an Ed25519 public key ("PUBLIC KEY" PEM, PKIX), the
// format `hvaudit verify` takes.
func LoadPublicKey(p string) (ed25519.PublicKey, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	blk, _ := pem.Decode(data)
	if blk == nil || blk.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("public key %s: no PEM \"PUBLIC KEY\" block", p)
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("public key %s: %w", p, err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("public key %s is a %T, not an Ed25519 key", p, k)
	}
	return pub, nil
}
