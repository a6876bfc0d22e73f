//go:build unix

package report

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
}

// An existing report keeps a mode of 0640 or stricter; a looser one is
// tightened to 0640, never loosened.
func TestWriteDestinationKeepsStrictModes(t *testing.T) {
	for _, c := range []struct{ before, after os.FileMode }{{0o600, 0o600}, {0o400, 0o400}, {0o640, 0o640}, {0o644, 0o640}, {0o666, 0o640}} {
		p := filepath.Join(t.TempDir(), "r.json")
		if err := os.WriteFile(p, []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, c.before); err != nil {
			t.Fatal(err)
		}
		if err := WriteDestination(p, writeString("new")); err != nil {
			t.Fatalf("%#o: %v", c.before, err)
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != c.after {
			t.Errorf("existing %#o became %#o, want %#o", c.before, got, c.after)
		}
		if b, _ := os.ReadFile(p); string(b) != "new" {
			t.Errorf("content %q", b)
		}
	}
}

// charDevice returns a character device (1,3 is null, 1,7 full). As root it
// is a private node made with mknod, so a regression that renames over the
// device destroys only the test's copy, never the machine's /dev/null; as
// another user /dev/null itself is safe (its directory is not writable).
func charDevice(t *testing.T, name string, major, minor uint32) string {
	t.Helper()
	if os.Geteuid() != 0 {
		return "/dev/" + name
	}
	p := filepath.Join(t.TempDir(), name)
	if err := syscall.Mknod(p, syscall.S_IFCHR|0o666, int(major<<8|minor)); err != nil {
		skipUnlessRequired(t, fmt.Sprintf("mknod %s: %v (no CAP_MKNOD)", p, err))
	}
	return p
}

// A character device stays a device: it is written in place, not replaced
// by a regular file (as root, the old rename destroyed /dev/null).
func TestWriteDestinationDevNullStaysADevice(t *testing.T) {
	null := charDevice(t, "null", 1, 3)
	if err := WriteDestination(null, writeString("report")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(null)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("%s is now %v", null, fi.Mode())
	}
}

// /dev/full fails every write with ENOSPC: the error must surface.
func TestWriteDestinationReportsENOSPC(t *testing.T) {
	full := charDevice(t, "full", 1, 7)
	err := WriteDestination(full, writeString(strings.Repeat("x", 10_000)))
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("writing %s: %v, want ENOSPC", full, err)
	}
}

// A FIFO is written in place: the reader gets the report, and the FIFO is
// still a FIFO afterwards.
func TestWriteDestinationFIFO(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte)
	go func() {
		f, err := os.Open(p)
		if err != nil {
			got <- nil
			return
		}
		b, _ := io.ReadAll(f)
		f.Close()
		got <- b
	}()
	if err := WriteDestination(p, writeString("through the pipe")); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-got:
		if string(b) != "through the pipe" {
			t.Errorf("reader got %q", b)
		}
	case <-time.After(10 * time.Second):
		// The writer never opened the FIFO (it replaced it instead); the
		// reader stays blocked in open.
		t.Error("the FIFO's reader got nothing in 10 s")
	}
	if fi, _ := os.Lstat(p); fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("FIFO became %v", fi.Mode())
	}
}

func TestInspectDestination(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file.json")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	linkToFile := filepath.Join(dir, "link.json")
	if err := os.Symlink(file, linkToFile); err != nil {
		t.Fatal(err)
	}
	linkToNull := filepath.Join(dir, "null")
	if err := os.Symlink("/dev/null", linkToNull); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(dir, "dangling")
	if err := os.Symlink(filepath.Join(dir, "nowhere"), dangling); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "s.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	cases := []struct {
		path    string
		wantDir bool
		kind    DestKind
		err     string
	}{
		{filepath.Join(dir, "new.json"), false, DestFile, ""},
		{file, false, DestFile, ""},
		{charDevice(t, "null", 1, 3), false, DestStream, ""},
		{linkToNull, false, DestStream, ""},
		{dir, true, DestDir, ""},
		{linkToFile, false, 0, "is a symbolic link (to " + file + ")"},
		{dangling, false, 0, "cannot be opened"},
		{dir, false, 0, "is a directory"},
		{file, true, 0, "is not a directory"},
		{filepath.Join(dir, "missing"), true, DestDir, ""},
		{filepath.Join(dir, "nodir", "missing"), true, 0, "no such file or directory"},
		{filepath.Join(dir, "nodir", "r.json"), false, 0, "no such file or directory"},
		{filepath.Join(file, "r.json"), false, 0, "r.json: not a directory"},
		{sock, false, 0, "is a socket"},
	}
	if _, err := os.Stat("/dev/loop0"); err == nil {
		cases = append(cases, struct {
			path    string
			wantDir bool
			kind    DestKind
			err     string
		}{"/dev/loop0", false, 0, "is a block device"})
	}
	for _, c := range cases {
		d, err := InspectDestination(c.path, c.wantDir)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s (dir %v): error %v, want %q", c.path, c.wantDir, err, c.err)
			}
			continue
		}
		if err != nil || d.Kind != c.kind {
			t.Errorf("%s (dir %v): kind %v, err %v; want kind %v", c.path, c.wantDir, d.Kind, err, c.kind)
		}
	}
	// The link and its target are untouched by the refusal.
	if fi, err := os.Lstat(linkToFile); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symlink was replaced: %v %v", fi.Mode(), err)
	}
	if names := dirEntries(t, dir); len(names) != 5 {
		t.Errorf("inspection left files behind: %v", names)
	}
}

// /dev/stdout redirected to a regular file is a link to a file: refused,
// with the hint to use "-".
func TestInspectDestinationDevStdoutHint(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	link := "/proc/self/fd/" + itoaFD(f.Fd())
	if _, err := os.Lstat(link); err != nil {
		skipUnlessRequired(t, "no /proc/self/fd")
	}
	_, err = InspectDestination(link, false)
	if err == nil || !strings.Contains(err.Error(), "use '-'") {
		t.Errorf("a /proc/self/fd link to a file: %v", err)
	}
}

func itoaFD(fd uintptr) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + fd%10)}, b...)
		fd /= 10
		if fd == 0 {
			return string(b)
		}
	}
}

// cklb writes each asset's checklist into the directory under the same
// rules: a symlink planted at one of its names is refused, its target
// untouched; a strict mode is kept.
func TestCKLBWriteDirRefusesPlantedLinks(t *testing.T) {
	run := sampleRun()
	var w DirWriter = cklbWriter{}
	first := t.TempDir()
	written, err := w.WriteDir(first, run)
	if err != nil || len(written) < 2 {
		t.Fatalf("written %v, %v", written, err)
	}
	dir := t.TempDir()
	victim := writeFileT(t, filepath.Join(t.TempDir(), "victim"), "keep")
	planted := filepath.Join(dir, filepath.Base(written[1]))
	if err := os.Symlink(victim, planted); err != nil {
		t.Fatal(err)
	}
	strict := filepath.Join(dir, filepath.Base(written[0]))
	writeFileT(t, strict, "old")
	if err := os.Chmod(strict, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := w.WriteDir(dir, run)
	if err == nil || !strings.Contains(err.Error(), "is a symbolic link") || len(got) != 1 {
		t.Errorf("planted symlink: written %v, err %v", got, err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Errorf("the symlink's target was overwritten: %q", b)
	}
	if fi, err := os.Stat(strict); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("an existing 0600 checklist became %v", fi.Mode().Perm())
	}
	if !TakesDirectory("cklb", dir) || TakesDirectory("cklb", filepath.Join(dir, "one.cklb")) || TakesDirectory("json", dir) {
		t.Error("TakesDirectory: cklb takes a directory unless given a .cklb file; json never")
	}
}

func writeFileT(t *testing.T, p, body string) string {
	t.Helper()
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
