package report

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// MaxFileMode is the loosest mode WriteFileAtomic accepts: reports and
// snapshots describe weaknesses of an estate, so nobody outside the owner's
// group reads them (DESIGN.md §8).
const MaxFileMode os.FileMode = 0o640

// WriteFileAtomic writes a file through write so that readers see either the
// old content or the complete new one, never a torn file. The data goes to a
// temporary file in the destination's directory (a rename is only atomic
// within one file system), which is flushed, fsynced, given mode and renamed
// over path. On any error, or a panic in write, the temporary file is removed
// and path is left as it was.
//
// mode must be MaxFileMode (0640) or stricter; looser modes are refused
// before anything is written.
func WriteFileAtomic(path string, mode os.FileMode, write func(io.Writer) error) (err error) {
	if mode&^MaxFileMode != 0 {
		return fmt.Errorf("writing %s: mode %#o is looser than %#o", path, mode, MaxFileMode)
	}
	if write == nil {
		return fmt.Errorf("writing %s: no write function", path)
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	// The leading dot keeps the half-written file out of casual listings and
	// globs such as *.json while it exists.
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	done := false
	defer func() {
		// Runs on errors and on panics alike: the temporary file must not
		// outlive a failed write.
		if !done {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()

	bw := bufio.NewWriter(tmp)
	if err := write(bw); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	// Without fsync a crash soon after the rename can leave an empty file
	// under the final name on some file systems.
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("writing %s: sync: %w", path, err)
	}
	// Explicit chmod because CreateTemp's 0600 and the umask are not what
	// the caller asked for.
	if err := tmp.Chmod(mode); err != nil {
		return fmt.Errorf("writing %s: chmod: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: close: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	done = true
	syncDir(dir)
	return nil
}

// syncDir makes the rename itself durable. It is best effort: some systems
// (Windows, some network file systems) cannot open or fsync a directory, and
// the file is already complete under its final name.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
