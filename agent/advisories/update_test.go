package advisories

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hvaudit/hvaudit/checks"
	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// copyFeeds copies testdata/feeds to a temporary directory a test may change.
func copyFeeds(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.Walk("testdata/feeds", func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("testdata/feeds", p)
		if fi.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// rewriteManifest recomputes SHA256SUMS after a test changed files.
func rewriteManifest(t *testing.T, dir string) {
	t.Helper()
	var lines []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		rel, _ := filepath.Rel(dir, p)
		if fi.IsDir() || rel == manifestName || rel == signatureName {
			return nil
		}
		b, _ := os.ReadFile(p)
		h := sha256.Sum256(b)
		lines = append(lines, hex.EncodeToString(h[:])+"  "+filepath.ToSlash(rel))
		return nil
	})
	sort.Strings(lines)
	if err := os.WriteFile(filepath.Join(dir, manifestName), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestOpenFeedsRefusesWhatTheManifestDoesNotVouchFor(t *testing.T) {
	cases := []struct {
		name   string
		change func(dir string)
		want   string
	}{
		{"changed file", func(d string) {
			os.WriteFile(filepath.Join(d, "cvelist/CVE-2026-47876.json"), []byte("{}"), 0o644)
		}, "cvelist/CVE-2026-47876.json: sha256 does not match SHA256SUMS"},
		{"extra file", func(d string) {
			os.WriteFile(filepath.Join(d, "cvelist/CVE-2099-0001.json"), []byte("{}"), 0o644)
		}, "CVE-2099-0001.json is not in SHA256SUMS"},
		{"missing file", func(d string) { os.Remove(filepath.Join(d, "cvelist/CVE-2024-22253.json")) },
			"files in SHA256SUMS are missing: cvelist/CVE-2024-22253.json"},
		{"no manifest", func(d string) { os.Remove(filepath.Join(d, manifestName)) }, "needs a SHA256SUMS manifest"},
	}
	for _, c := range cases {
		dir := copyFeeds(t)
		c.change(dir)
		_, err := OpenFeeds(dir, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

func TestOpenFeedsSignature(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	dir := copyFeeds(t)
	if _, err := OpenFeeds(dir, pub); err == nil || !strings.Contains(err.Error(), "--pubkey given but SHA256SUMS.sig") {
		t.Errorf("unsigned accepted with --pubkey: %v", err)
	}
	manifest, _ := os.ReadFile(filepath.Join(dir, manifestName))
	sig := base64.StdEncoding.EncodeToString(ed25519.Sign(priv, manifest)) + "\n"
	os.WriteFile(filepath.Join(dir, signatureName), []byte(sig), 0o644)
	if _, err := OpenFeeds(dir, pub); err != nil {
		t.Errorf("signed by the key: %v", err)
	}
	if _, err := OpenFeeds(dir, other); err == nil || !strings.Contains(err.Error(), "signature does not match") {
		t.Errorf("other key accepted: %v", err)
	}
	// A file changed and the manifest rewritten to match: the signature
	// no longer covers the manifest.
	os.WriteFile(filepath.Join(dir, "cvelist/CVE-2026-47876.json"), []byte("{}"), 0o644)
	rewriteManifest(t, dir)
	if _, err := OpenFeeds(dir, pub); err == nil || !strings.Contains(err.Error(), "signature does not match") {
		t.Errorf("re-manifested tampering accepted: %v", err)
	}
}

func TestUpdateWritesShowsChangesAndAuditsUseIt(t *testing.T) {
	set, err := OpenFeeds("testdata/feeds", nil)
	if err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "advisories")
	// Against the embedded data, built from the same excerpts: nothing moves.
	changes, err := Update(set, target, false)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	PrintChanges(&out, changes)
	if !strings.Contains(out.String(), "esxi: complete_through unchanged; entries 60 → 60 (24 verified); advisories added 0; lines added 0") {
		t.Errorf("changes:\n%s", out.String())
	}
	// A newer record in the feed: the entry appears, complete_through moves.
	dir := copyFeeds(t)
	rec, _ := os.ReadFile(filepath.Join(dir, "cvelist/CVE-2026-47876.json"))
	rec = bytes.ReplaceAll(rec, []byte("CVE-2026-47876"), []byte("CVE-2026-99999"))
	rec = bytes.ReplaceAll(rec, []byte("2026-07-30T12:31:52.158Z"), []byte("2026-11-10T12:00:00.000Z"))
	rec = bytes.ReplaceAll(rec, []byte("ESXi80U3k-25595708"), []byte("ESXi80U3m-25999999"))
	rec = bytes.ReplaceAll(rec, []byte("SecurityAdvisories/0/38017"), []byte("SecurityAdvisories/0/39999"))
	os.WriteFile(filepath.Join(dir, "cvelist/CVE-2026-99999.json"), rec, 0o644)
	feeds, _ := os.ReadFile(filepath.Join(dir, feedsName))
	feeds = bytes.Replace(feeds, []byte("complete_through = 2026-09-30"), []byte("complete_through = 2026-11-30"), 1)
	os.WriteFile(filepath.Join(dir, feedsName), feeds, 0o644)
	rewriteManifest(t, dir)
	set2, err := OpenFeeds(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	changes, err = Update(set2, target, false)
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	PrintChanges(&out, changes)
	for _, want := range []string{
		"esxi: complete_through 2026-09-30 → 2026-11-30; entries 60 → 68 (27 verified); advisories added 8; lines added 0",
		"  + Broadcom-SA-39999 8.0.3\n",
		"kvm", // untouched products are listed too
	} {
		if want == "kvm" {
			if !strings.Contains(out.String(), "qemu: complete_through unchanged") {
				t.Errorf("qemu not listed:\n%s", out.String())
			}
			continue
		}
		if !strings.Contains(out.String(), want) {
			t.Errorf("missing %q in:\n%s", want, out.String())
		}
	}
	// The audit's data: the directory's esxi (newer), the embedded rest.
	eff, err := Effective(target)
	if err != nil {
		t.Fatal(err)
	}
	if got := eff.Products["esxi"].CompleteThrough.Format("2006-01-02"); got != "2026-11-30" {
		t.Errorf("esxi complete_through %s", got)
	}
	if !strings.Contains(eff.Source, "(esxi, vcenter, vmware-tools)") {
		t.Errorf("source %q", eff.Source)
	}
	pa, err := eff.Assess(inventory.PatchLevel{Product: "esxi", ReleaseLine: "8.0.3", Build: "25595708"}, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || fmt.Sprint(pa.Missing) != "[Broadcom-SA-39999]" {
		t.Errorf("assessment with the updated data: %v %v", pa.Missing, err)
	}
	// A directory older than the embedded data does not win.
	old := checks.MergeNewer(eff, mustEmbedded(t))
	if old.Products["esxi"].CompleteThrough.Format("2006-01-02") != "2026-11-30" {
		t.Error("older data replaced newer")
	}
	// Dry run writes nothing.
	fresh := filepath.Join(t.TempDir(), "adv")
	if _, err := Update(set2, fresh, true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Errorf("dry run wrote %s", fresh)
	}
	// Status names every product with its counts.
	out.Reset()
	PrintStatus(&out, eff, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	if !strings.Contains(out.String(), "esxi           2026-11-30             1d       68       27") {
		t.Errorf("status:\n%s", out.String())
	}
}

func mustEmbedded(t *testing.T) *checks.Advisories {
	a, err := checks.LoadAdvisories("")
	if err != nil {
		t.Fatal(err)
	}
	return a
}
