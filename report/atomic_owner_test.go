//go:build unix

package report

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestWriteFileAtomicKeepsTheReplacedFilesOwner: root rewriting a report
// an operator's account owns leaves it that account's (uid and gid 65534
// here); a new file is root's.
func TestWriteFileAtomicKeepsTheReplacedFilesOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		skipUnlessRequired(t, "only root can give a file another owner")
	}
	dir := t.TempDir()
	old := filepath.Join(dir, "r.json")
	if err := os.WriteFile(old, []byte("old"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(old, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(old, 0o640, writeString("new")); err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(dir, "fresh.json")
	if err := WriteFileAtomic(fresh, 0o640, writeString("new")); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]uint32{old: 65534, fresh: 0} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if st.Uid != want || st.Gid != want {
			t.Errorf("%s: owner %d:%d, want %d:%d", filepath.Base(path), st.Uid, st.Gid, want, want)
		}
	}
	if b, _ := os.ReadFile(old); string(b) != "new" {
		t.Errorf("content %q", b)
	}
}
