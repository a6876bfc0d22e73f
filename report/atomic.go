package report

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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
	if err := keepOwner(tmp, path); err != nil {
		return fmt.Errorf("writing %s: keeping the owner of the file it replaces: %w", path, err)
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

// DestKind says how an output path is written.
type DestKind int

const (
	// DestFile is a regular file, new or existing: written atomically.
	DestFile DestKind = iota + 1
	// DestStream is a character device or a FIFO (/dev/null, /dev/tty, a
	// named pipe, /dev/stdout when it leads to one): written in place, never
	// replaced, so /dev/null stays a device.
	DestStream
	// DestDir is a directory for a format that writes several files.
	DestDir
)

// Destination is an output path after InspectDestination: what it is and,
// for a file, the mode the report gets.
type Destination struct {
	Path string
	Kind DestKind
	// Mode is the new file's mode: an existing file keeps its own when it
	// is 0640 or stricter, anything looser (or a new file) gets 0640.
	Mode os.FileMode
}

// InspectDestination decides how path is written, or refuses it, before
// anything is audited or written. wantDir is set for formats that write a
// directory of files.
//
//   - a missing path is a new file; its directory must exist and be writable;
//   - a regular file is replaced atomically, keeping a mode of 0640 or
//     stricter (0600 stays 0600; 0644 becomes 0640);
//   - a character device or a FIFO is written in place;
//   - a symbolic link is followed only when it leads to a character device
//     or a FIFO (/dev/stdout, /dev/fd/N). A link to a file or directory is
//     refused: replacing the link would break it, and writing through it lets
//     whoever planted it in a shared directory choose what root overwrites;
//   - a block device, socket or other special file is refused;
//   - a directory is refused for a one-file format and required for a
//     directory format: an existing, writable one, or a new one whose parent
//     takes new entries.
func InspectDestination(path string, wantDir bool) (Destination, error) {
	d := Destination{Path: path, Kind: DestFile, Mode: MaxFileMode}
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if wantDir {
			// Created when written, so its parent must take new entries.
			d.Kind = DestDir
		}
		return d, checkWritableDir(parentDir(path), path)
	case err != nil:
		return d, fmt.Errorf("%s: %w", path, unwrapPathError(err))
	}
	m := fi.Mode()
	if m&fs.ModeSymlink != 0 {
		target, _ := os.Readlink(path)
		ti, err := os.Stat(path)
		if err != nil {
			return d, fmt.Errorf("%s is a symbolic link to %s, which cannot be opened: %w", path, target, unwrapPathError(err))
		}
		if isStream(ti.Mode()) && !wantDir {
			d.Kind = DestStream
			return d, nil
		}
		hint := "give the target's own path"
		if strings.HasPrefix(path, "/dev/std") || strings.HasPrefix(path, "/dev/fd/") || strings.HasPrefix(path, "/proc/self/fd/") {
			hint = "for standard output, use '-'"
		}
		return d, fmt.Errorf("%s is a symbolic link (to %s); hvaudit writes through links only to devices and pipes: %s", path, target, hint)
	}
	switch {
	case m.IsDir():
		if !wantDir {
			return d, fmt.Errorf("%s is a directory; this format writes one file: give a file name", path)
		}
		d.Kind = DestDir
		return d, checkWritableDir(path, path)
	case wantDir:
		return d, fmt.Errorf("%s is not a directory; this format writes one file per asset into a directory", path)
	case m.IsRegular():
		if perm := m.Perm(); perm&^MaxFileMode == 0 {
			d.Mode = perm
		}
		return d, checkWritableDir(parentDir(path), path)
	case isStream(m):
		d.Kind = DestStream
		return d, nil
	case m&fs.ModeDevice != 0:
		return d, fmt.Errorf("%s is a block device; reports go to files, directories, pipes or character devices", path)
	case m&fs.ModeSocket != 0:
		return d, fmt.Errorf("%s is a socket; reports go to files, directories, pipes or character devices", path)
	}
	return d, fmt.Errorf("%s is a special file (%s); reports go to files, directories, pipes or character devices", path, m.Type())
}

// isStream is a character device or a FIFO: written in place.
func isStream(m fs.FileMode) bool {
	return m&fs.ModeNamedPipe != 0 || m&fs.ModeCharDevice != 0 && m&fs.ModeDevice != 0
}

func parentDir(path string) string {
	dir := filepath.Dir(path)
	if dir == "" {
		return "."
	}
	return dir
}

// checkWritableDir proves dir takes new files the way writing will: by
// creating and removing an empty hidden file. Permission bits alone do not
// tell (read-only mounts, ACLs, root).
func checkWritableDir(dir, forPath string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("%s: directory %s: %w", forPath, dir, unwrapPathError(err))
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s: %s is not a directory", forPath, dir)
	}
	f, err := os.CreateTemp(dir, ".hvaudit-probe-*")
	if err != nil {
		return fmt.Errorf("%s: directory %s is not writable: %w", forPath, dir, unwrapPathError(err))
	}
	name := f.Name()
	_ = f.Close()
	_ = os.Remove(name)
	return nil
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// WriteDestination writes one output. The path is inspected again at
// write time, since it may have changed while the audit ran: a file is
// written atomically (WriteFileAtomic), a device or FIFO in place, and
// every write, flush and close error is returned (a full disk, /dev/full).
func WriteDestination(path string, write func(io.Writer) error) error {
	d, err := InspectDestination(path, false)
	if err != nil {
		return err
	}
	if d.Kind == DestStream {
		return writeStream(path, write)
	}
	return WriteFileAtomic(path, d.Mode, write)
}

// writeStream writes to a device or FIFO without creating, truncating or
// replacing it. Opening a FIFO waits for its reader, as any writer does.
func writeStream(path string, write func(io.Writer) error) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("writing %s: close: %w", path, cerr)
		}
	}()
	// The path may have been swapped for a file since it was inspected;
	// nothing was created or truncated yet, so refusing now costs nothing.
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if !isStream(fi.Mode()) {
		return fmt.Errorf("writing %s: it stopped being a device or pipe while the audit ran", path)
	}
	bw := bufio.NewWriter(f)
	if err := write(bw); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
