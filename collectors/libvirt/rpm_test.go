package libvirt

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// The RPM host fixtures (testdata/rpm/*) hold real SQLite RPM databases
// made by Debian's rpm and rpmbuild (testdata/rpm/make-rpmdb.sh).
func TestRPMHostPatchLevels(t *testing.T) {
	for _, c := range []struct{ root, qemu string }{
		{"testdata/rpm/rhel9-old", "17:8.2.0-10.el9"},
		{"testdata/rpm/rhel9-fixed", "17:8.2.0-11.el9_4"},
	} {
		d := fixtureData(t, c.root)
		inv, err := New().Normalize(snapshotOf(t, d, "qemu:///system", nil))
		if err != nil {
			t.Fatal(err)
		}
		h := inv.Hosts[0]
		want := &inventory.PatchLevel{Product: "qemu", ReleaseLine: "rhel-9", Version: c.qemu, Build: "7.2.22", Scheme: "rpm",
			FullName: "qemu-kvm " + c.qemu + " (Red Hat Enterprise Linux 9.4 (Plow))"}
		if !reflect.DeepEqual(h.Patch, want) {
			t.Errorf("%s: patch %+v", c.root, h.Patch)
		}
		if len(h.Components) != 2 || h.Components[1].Product != "libvirt" || h.Components[1].Version != "10.0.0-6.2.el9_4" || h.Components[1].Scheme != "rpm" {
			t.Errorf("%s: components %+v", c.root, h.Components)
		}
		if got := h.KVM.Packages; !reflect.DeepEqual(got, map[string]string{"qemu-kvm": c.qemu, "libvirt-daemon": "10.0.0-6.2.el9_4"}) {
			t.Errorf("%s: packages %v", c.root, got)
		}
	}
}

// Reading a SQLite database writes nothing beside it: SQLite's -shm and
// -wal files go to a private copy.
func TestReadRPMPackagesLeavesTheHostDatabaseAlone(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile("testdata/rpm/rhel9-old/var/lib/rpm/rpmdb.sqlite")
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "rpmdb.sqlite")
	if err := os.WriteFile(db, src, 0o444); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o555)
	defer os.Chmod(dir, 0o755)
	pkgs, err := ReadRPMPackages(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if FormatRPMPackages(pkgs) != "libvirt-daemon 10.0.0-6.2.el9_4 noarch\nqemu-kvm 17:8.2.0-10.el9 noarch\n" {
		t.Errorf("packages %q", FormatRPMPackages(pkgs))
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("files beside the database: %v", entries)
	}
}

// Berkeley DB (CentOS 7, RHEL 8) and NDB (SUSE) databases: real
// distribution databases from go-rpmdb's own test data (see
// testdata/rpm/SOURCE), read from the module cache.
func TestReadRPMPackagesBerkeleyAndNDB(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/knqyf263/go-rpmdb").Output()
	if err != nil {
		t.Fatalf("go-rpmdb module: %v", err)
	}
	mod := strings.TrimSpace(string(out))
	for _, c := range []struct {
		db, name, version string
		count             int
	}{
		{"pkg/testdata/centos7-plain/Packages", "bash", "4.2.46-30.el7", 144},
		{"pkg/testdata/ubi8-s390x/Packages", "bash", "4.4.20-3.el8", 183},
		{"pkg/testdata/sle15-bci/Packages.db", "bash", "4.4-19.6.1", 35},
	} {
		pkgs, err := ReadRPMPackages(filepath.Join(mod, c.db), nil)
		if err != nil {
			t.Errorf("%s: %v", c.db, err)
			continue
		}
		got := ParseRPMPackages(FormatRPMPackages(pkgs))
		if len(pkgs) != c.count || got[c.name] != c.version {
			t.Errorf("%s: %d packages, %s %q", c.db, len(pkgs), c.name, got[c.name])
		}
	}
}
