//go:build linux

// The helpers check the test may run, stop socket-activated libvirt units
// found active and start them again afterwards, start daemons they stop by
// their pid, and restore every file a test changes. Only the KVM tests
// (build tag libvirtd) use them; they need root.
package libvirtdtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// RequireEnv is the variable that turns a skip into a failure (CI sets it).
const RequireEnv = "HVAUDIT_REQUIRE_LIBVIRTD"

// Require skips (or, with HVAUDIT_REQUIRE_LIBVIRTD set, fails) unless the
// test runs as root with libvirtd, virtlogd and QEMU installed.
func Require(t *testing.T) {
	t.Helper()
	fail := t.Skipf
	if os.Getenv(RequireEnv) != "" {
		fail = t.Fatalf
	}
	if os.Geteuid() != 0 {
		fail("needs root to start libvirtd (%s=1 makes this a failure)", RequireEnv)
	}
	for _, b := range []string{"libvirtd", "virtlogd", "qemu-system-x86_64"} {
		if Binary(b) == "" {
			fail("%s not installed (make deps; %s=1 makes this a failure)", b, RequireEnv)
		}
	}
}

// Binary finds a program in PATH or the sbin directories.
func Binary(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, d := range []string{"/usr/sbin", "/sbin", "/usr/bin"} {
		if _, err := os.Stat(filepath.Join(d, name)); err == nil {
			return filepath.Join(d, name)
		}
	}
	return ""
}

// libvirtUnits are the systemd units through which a libvirt daemon may
// run or listen.
var libvirtUnits = []string{
	"libvirtd.service", "libvirtd.socket", "libvirtd-ro.socket", "libvirtd-admin.socket", "libvirtd-tcp.socket", "libvirtd-tls.socket",
	"virtqemud.service", "virtqemud.socket", "virtqemud-ro.socket", "virtqemud-admin.socket",
	"virtproxyd.service", "virtproxyd.socket", "virtproxyd-ro.socket", "virtproxyd-admin.socket", "virtproxyd-tcp.socket", "virtproxyd-tls.socket",
}

// systemdRunning: PID 1 is a running systemd we can ask.
func systemdRunning() bool {
	if _, err := os.Stat("/run/systemd/system"); err != nil {
		return false
	}
	return exec.Command("systemctl", "is-system-running").Run() == nil ||
		exec.Command("systemctl", "list-units", "--no-pager", "--quiet").Run() == nil
}

// lockPath serialises the tests that run a libvirtd: go test runs the
// packages' test binaries in parallel, and there is one system daemon.
const lockPath = "/run/hvaudit-libvirtd-test.lock"

// exclusive waits until no other test process runs a libvirtd, and holds
// that until the test ends (after its daemons are stopped: cleanups run
// last-registered first).
func exclusive(t *testing.T) {
	t.Helper()
	f, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatalf("locking %s: %v", lockPath, err)
	}
	t.Cleanup(func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	})
}

// StopSystemDaemons takes the libvirtd test lock, stops the libvirt units
// systemd has active and starts them again when the test ends. A libvirt
// daemon running outside systemd (not started by a test) cannot be stopped
// safely: the test then fails rather than touch it.
func StopSystemDaemons(t *testing.T) {
	t.Helper()
	exclusive(t)
	if systemdRunning() {
		var active []string
		for _, u := range libvirtUnits {
			if exec.Command("systemctl", "is-active", "--quiet", u).Run() == nil {
				active = append(active, u)
			}
		}
		if len(active) > 0 {
			if out, err := exec.Command("systemctl", append([]string{"stop"}, active...)...).CombinedOutput(); err != nil {
				t.Fatalf("systemctl stop %v: %v\n%s", active, err, out)
			}
			t.Logf("stopped %v; they start again when the test ends", active)
			t.Cleanup(func() {
				if out, err := exec.Command("systemctl", append([]string{"start"}, active...)...).CombinedOutput(); err != nil {
					t.Errorf("restarting %v: %v\n%s", active, err, out)
				}
			})
		}
	}
	if pids := Running("libvirtd", "virtqemud", "virtproxyd"); len(pids) > 0 {
		t.Fatalf("libvirt daemons not started by this test are running (pids %v): stop them first", pids)
	}
}

// Running lists the pids of processes with one of the given names.
func Running(names ...string) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
		if err != nil {
			continue
		}
		for _, n := range names {
			if strings.TrimSpace(string(b)) == n {
				out = append(out, pid)
			}
		}
	}
	return out
}

// Daemon is a daemon this test started.
type Daemon struct {
	Name string
	PID  int
	pidf string
}

// Start runs "name -d --pid-file F args…" and stops the daemon by its pid
// when the test ends (or at Stop).
func Start(t *testing.T, name string, args ...string) *Daemon {
	t.Helper()
	if err := os.MkdirAll("/run/libvirt", 0o755); err != nil {
		t.Fatal(err)
	}
	d := &Daemon{Name: name, pidf: filepath.Join(t.TempDir(), name+".pid")}
	cmd := exec.Command(Binary(name), append([]string{"-d", "--pid-file", d.pidf}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s -d: %v\n%s", name, err, out)
	}
	for i := 0; i < 200 && d.PID == 0; i++ {
		if b, err := os.ReadFile(d.pidf); err == nil {
			d.PID, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
		if d.PID == 0 {
			time.Sleep(25 * time.Millisecond)
		}
	}
	if d.PID <= 0 {
		t.Fatalf("%s wrote no pid to %s", name, d.pidf)
	}
	t.Cleanup(func() { d.Stop() })
	return d
}

// Stop ends the daemon (SIGTERM, then SIGKILL after 10 s) and waits.
func (d *Daemon) Stop() {
	if d.PID <= 0 {
		return
	}
	_ = syscall.Kill(d.PID, syscall.SIGTERM)
	for i := 0; i < 400 && syscall.Kill(d.PID, 0) == nil; i++ {
		time.Sleep(25 * time.Millisecond)
	}
	if syscall.Kill(d.PID, 0) == nil {
		_ = syscall.Kill(d.PID, syscall.SIGKILL)
		time.Sleep(100 * time.Millisecond)
	}
	d.PID = 0
}

// KeepFile saves a file's content, mode and times (or its absence) and
// puts them back when the test ends.
func KeepFile(t *testing.T, path string) {
	t.Helper()
	st, err := os.Stat(path)
	if os.IsNotExist(err) {
		t.Cleanup(func() { _ = os.Remove(path) })
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.WriteFile(path, b, st.Mode().Perm()); err != nil {
			t.Errorf("restoring %s: %v", path, err)
			return
		}
		_ = os.Chmod(path, st.Mode().Perm())
		_ = os.Chtimes(path, st.ModTime(), st.ModTime())
	})
}

// FreePort returns a TCP port free on 127.0.0.1 now.
func FreePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// WriteFile writes a file the test created (removed at the end).
func WriteFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

// Describe is a short form of a daemon for messages.
func (d *Daemon) String() string { return fmt.Sprintf("%s (pid %d)", d.Name, d.PID) }
