package libvirt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/collectors/inventory"
)

func TestReadHostFilesFixture(t *testing.T) {
	h := ReadHostFiles("testdata/hostroot", false)
	for _, p := range []string{pathQEMUConf, daemonConfPath("libvirtd"), "/etc/default/libvirtd", pathVulnDir + "/mds", pathSMTControl, pathKSMRun, pathDpkgStatus, pathOSRelease, pathProcNetRoute} {
		if _, ok := h.Files[p]; !ok {
			t.Errorf("%s not read", p)
		}
	}
	for _, p := range []string{daemonConfPath("virtqemud"), daemonConfPath("virtproxyd"), "/etc/sysconfig/libvirtd"} {
		found := false
		for _, m := range h.Missing {
			found = found || m == p
		}
		if !found {
			t.Errorf("%s not listed as missing: %v", p, h.Missing)
		}
	}
	if strings.Contains(h.Files[pathQEMUConf], "hunter2") {
		t.Error("qemu.conf stored with its password")
	}
	st := h.Files[pathDpkgStatus]
	if strings.Contains(st, "bash") || strings.Contains(st, "Description") || !strings.Contains(st, "Package: qemu-system-x86") {
		t.Errorf("dpkg status not filtered:\n%s", st)
	}
	if got := strings.Join(h.Dirs[pathSocketsWants], ","); got != "libvirtd-ro.socket,libvirtd.socket" {
		t.Errorf("sockets.target.wants = %q", got)
	}
}

func TestReadHostFilesUnreadable(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc/libvirt/qemu.conf"), 0o755); err != nil { // a directory, not a file
		t.Fatal(err)
	}
	h := ReadHostFiles(root, false)
	if _, ok := h.Errors[pathQEMUConf]; !ok {
		t.Errorf("errors %v", h.Errors)
	}
	if len(h.Files) != 0 {
		t.Errorf("files read from an empty root: %v", h.Files)
	}
}

func TestParseDpkgStatus(t *testing.T) {
	m := ParseDpkgStatus("Package: a\nStatus: install ok installed\nVersion: 1:2.0-1\n\nPackage: b\nStatus: deinstall ok config-files\nVersion: 3\n\nPackage: c\nVersion: 4\nStatus: hold ok installed\nDescription: x\n more\n")
	if len(m) != 2 || m["a"] != "1:2.0-1" || m["c"] != "4" {
		t.Errorf("got %v", m)
	}
}

func TestParseOSRelease(t *testing.T) {
	m := ParseOSRelease("# c\nID=rocky\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.4\"\nPRETTY_NAME='Rocky \\\"Blue\\\"'\n")
	if m["ID"] != "rocky" || m["ID_LIKE"] != "rhel centos fedora" || m["VERSION_ID"] != "9.4" || m["PRETTY_NAME"] != `Rocky "Blue"` {
		t.Errorf("got %v", m)
	}
}

func TestParseProcNetRoute(t *testing.T) {
	b, err := os.ReadFile("testdata/hostroot/proc/net/route")
	if err != nil {
		t.Fatal(err)
	}
	routes, err := ParseProcNetRoute(string(b))
	if err != nil {
		t.Fatal(err)
	}
	if len(routes) != 3 || !routes[0].Default() || routes[0].Gateway != 0x0100000A || routes[1].Default() {
		t.Errorf("routes %+v", routes)
	}
	if got := defaultRouteIfaces(routes); strings.Join(got, ",") != "br-mgmt" {
		t.Errorf("default route ifaces %v", got)
	}
	for _, bad := range []string{"", "garbage", "Iface Destination\neth0 zz 0 1 0 0 0 0", "Iface\neth0 00000000"} {
		if _, err := ParseProcNetRoute(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestReleaseLine(t *testing.T) {
	for _, c := range []struct {
		m    string
		want string
	}{
		{"ID=debian\nVERSION_ID=\"12\"", "debian-12"},
		{"ID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"22.04\"", "ubuntu-22.04"},
		{"ID=rocky\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.4\"", "rhel-9"},
		{"ID=\"rhel\"\nVERSION_ID=\"9.2\"", "rhel-9"},
		{"ID=fedora\nVERSION_ID=40", "fedora-40"},
	} {
		hf := &HostFiles{Files: map[string]string{pathOSRelease: c.m}}
		if got := releaseLine(hostOS(hf, gapper{gaps: new(inventory.Gaps)})); got != c.want {
			t.Errorf("%q: %q, want %q", c.m, got, c.want)
		}
	}
}

// TestUnparseableQEMUConfKeepsSecret: a qemu.conf libvirt cannot parse is
// neither stored nor quoted; the host's qemu.conf facts end as a gap that
// names the line, so the checks on them are errors without the secret.
func TestUnparseableQEMUConfKeepsSecret(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "etc/libvirt")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	const marker = "MARKER-7f3a-tail"
	text := "vnc_listen = \"0.0.0.0\"\nvnc_password = \"\"\"first line\n" + marker + "\" \n"
	if err := os.WriteFile(filepath.Join(dir, "qemu.conf"), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	h := ReadHostFiles(root, false)
	if _, stored := h.Files[pathQEMUConf]; stored {
		t.Fatal("an unparseable qemu.conf was stored")
	}
	reason := h.Errors[pathQEMUConf]
	if !strings.Contains(reason, "line 2: unterminated string") || strings.Contains(reason, marker) || strings.Contains(reason, "first") {
		t.Errorf("error %q", reason)
	}
	var gaps inventory.Gaps
	q, why := qemuConfig(h, "debian", gapper{kind: inventory.KindHost, id: "h", gaps: &gaps})
	if q != nil || !strings.Contains(why, "line 2") || strings.Contains(why, marker) {
		t.Errorf("qemuConfig = %+v, %q", q, why)
	}
}
