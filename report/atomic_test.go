package report

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// dirEntries lists the names in dir, so tests can prove no temporary file
// was left behind.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteFileAtomicWritesWithMode(t *testing.T) {
	for _, mode := range []os.FileMode{0o640, 0o600, 0o400} {
		t.Run(fmt.Sprintf("%#o", mode), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "report.json")
			err := WriteFileAtomic(path, mode, func(w io.Writer) error {
				_, err := io.WriteString(w, "hello\n")
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(path)
			if err != nil || string(b) != "hello\n" {
				t.Fatalf("content = %q, %v", b, err)
			}
			if runtime.GOOS != "windows" {
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				if got := fi.Mode().Perm(); got != mode {
					t.Errorf("mode = %#o, want %#o", got, mode)
				}
			}
			if names := dirEntries(t, dir); len(names) != 1 {
				t.Errorf("directory holds %v, want only report.json", names)
			}
		})
	}
}

func TestWriteFileAtomicReplacesAndTightensMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.txt")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(path, 0o640, func(w io.Writer) error {
		_, err := io.WriteString(w, "new")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if string(b) != "new" {
		t.Errorf("content = %q, want new", b)
	}
	if fi, _ := os.Stat(path); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o640 {
		t.Errorf("mode = %#o, want 0640 (a world-readable old file must not stay so)", fi.Mode().Perm())
	}
}

// failingWrite writes part of its output and then fails, the way a writer
// dies on a broken template or a full disk.
func failingWrite(w io.Writer) error {
	if _, err := io.WriteString(w, strings.Repeat("partial ", 10000)); err != nil {
		return err
	}
	return errors.New("renderer broke halfway")
}

func TestWriteFileAtomicFailureLeavesNoFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.json")
	err := WriteFileAtomic(path, 0o640, failingWrite)
	if err == nil || !strings.Contains(err.Error(), "renderer broke halfway") || !strings.Contains(err.Error(), path) {
		t.Fatalf("error = %v, want the write error and the path", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("destination exists after a failed write: %v", err)
	}
	if names := dirEntries(t, dir); len(names) != 0 {
		t.Errorf("temporary files left behind: %v", names)
	}
}

func TestWriteFileAtomicFailureKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.json")
	if err := os.WriteFile(path, []byte("previous report"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(path, 0o640, failingWrite); err == nil {
		t.Fatal("no error from a failing write")
	}
	b, _ := os.ReadFile(path)
	if string(b) != "previous report" {
		t.Errorf("old file changed to %q", truncate(string(b), 40))
	}
	if names := dirEntries(t, dir); len(names) != 1 {
		t.Errorf("directory holds %v, want only report.json", names)
	}
}

func TestWriteFileAtomicPanicCleansUp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.json")
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the panic was swallowed")
			}
		}()
		_ = WriteFileAtomic(path, 0o640, func(w io.Writer) error {
			_, _ = io.WriteString(w, "partial")
			panic("writer bug")
		})
	}()
	if names := dirEntries(t, dir); len(names) != 0 {
		t.Errorf("files left behind after a panic: %v", names)
	}
}

func TestWriteFileAtomicRefusesLooseMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.json")
	called := false
	for _, mode := range []os.FileMode{0o644, 0o660, 0o750, 0o4640} {
		err := WriteFileAtomic(path, mode, func(io.Writer) error { called = true; return nil })
		if err == nil || !strings.Contains(err.Error(), "looser") {
			t.Errorf("mode %#o: error = %v, want a refusal", mode, err)
		}
	}
	if called {
		t.Error("write ran although the mode was refused")
	}
	if names := dirEntries(t, dir); len(names) != 0 {
		t.Errorf("files created: %v", names)
	}
}

func TestWriteFileAtomicMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "dir", "report.json")
	err := WriteFileAtomic(path, 0o640, func(io.Writer) error { return nil })
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error = %v, want ErrNotExist", err)
	}
}

func TestWriteFileAtomicRelativePath(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := WriteFileAtomic("out.txt", 0o640, func(w io.Writer) error {
		_, err := io.WriteString(w, "x")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile("out.txt"); err != nil || string(b) != "x" {
		t.Errorf("out.txt = %q, %v", b, err)
	}
}
