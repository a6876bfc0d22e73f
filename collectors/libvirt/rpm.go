package libvirt

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	rpmdb "github.com/knqyf263/go-rpmdb/pkg"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver go-rpmdb's SQLite reader opens

	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// RPM-based hosts (RHEL, Rocky, Alma, Fedora, SUSE) keep installed package
// versions in the RPM database, in one of three formats go-rpmdb reads:
// SQLite (RHEL 9+, Fedora 33+), Berkeley DB (RHEL 7/8) or NDB (SUSE).
// rpmDBPaths are where they live, in order of preference.
var rpmDBPaths = []string{
	"/var/lib/rpm/rpmdb.sqlite",
	"/usr/lib/sysimage/rpm/rpmdb.sqlite",
	"/var/lib/rpm/Packages.db",
	"/usr/lib/sysimage/rpm/Packages.db",
	"/var/lib/rpm/Packages",
}

// maxRPMDBBytes bounds the copy of a SQLite database.
const maxRPMDBBytes = 512 << 20

// readRPMDatabase stores, under the database's path in Files, the QEMU and
// libvirt packages it lists, one "NAME [EPOCH:]VERSION-RELEASE ARCH" per
// line: the snapshot keeps what the audit needs, never the binary database.
// A host without an RPM database adds nothing (dpkg hosts).
func (h *HostFiles) readRPMDatabase() {
	for _, p := range rpmDBPaths {
		if _, err := os.Stat(h.full(p)); err != nil {
			continue
		}
		pkgs, err := ReadRPMPackages(h.full(p), relevantPackage)
		if err != nil {
			h.Errors[p] = err.Error()
			return
		}
		h.Files[p] = FormatRPMPackages(pkgs)
		return
	}
}

// RPMPackage is one installed package of an RPM database.
type RPMPackage struct {
	Name, Version, Arch string // Version is [EPOCH:]VERSION-RELEASE
}

// ReadRPMPackages lists the packages of an RPM database file whose name
// keep accepts (nil keeps all), sorted by name. A SQLite database is read
// from a private copy, so the audited host's database and its directory
// are never written (SQLite would add -shm and -wal files beside it).
func ReadRPMPackages(path string, keep func(string) bool) ([]RPMPackage, error) {
	open := path
	if strings.HasSuffix(path, ".sqlite") {
		tmp, err := copyToTemp(path)
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(filepath.Dir(tmp))
		open = tmp
	}
	db, err := rpmdb.Open(open)
	if err != nil {
		return nil, fmt.Errorf("RPM database %s: %w", path, err)
	}
	defer db.Close()
	list, err := db.ListPackages()
	if err != nil {
		return nil, fmt.Errorf("RPM database %s: %w", path, err)
	}
	var out []RPMPackage
	for _, p := range list {
		if keep != nil && !keep(p.Name) {
			continue
		}
		v := p.Version + "-" + p.Release
		if p.Epoch != nil && *p.Epoch != 0 {
			v = strconv.Itoa(*p.Epoch) + ":" + v
		}
		out = append(out, RPMPackage{Name: p.Name, Version: v, Arch: p.Arch})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Version < out[j].Version
	})
	return out, nil
}

func copyToTemp(path string) (string, error) {
	src, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer src.Close()
	dir, err := os.MkdirTemp("", "hvaudit-rpmdb-")
	if err != nil {
		return "", err
	}
	dst := filepath.Join(dir, filepath.Base(path))
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	n, err := io.Copy(f, io.LimitReader(src, maxRPMDBBytes+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > maxRPMDBBytes {
		err = fmt.Errorf("RPM database %s is larger than %d bytes", path, maxRPMDBBytes)
	}
	if err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dst, nil
}

// FormatRPMPackages renders packages as stored in a snapshot.
func FormatRPMPackages(pkgs []RPMPackage) string {
	var b strings.Builder
	for _, p := range pkgs {
		fmt.Fprintf(&b, "%s %s %s\n", p.Name, p.Version, p.Arch)
	}
	return b.String()
}

// ParseRPMPackages reads FormatRPMPackages's text back into name →
// version (the first of several installed versions wins, like dpkg's).
func ParseRPMPackages(text string) map[string]string {
	out := map[string]string{}
	for _, l := range strings.Split(text, "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		if _, dup := out[f[0]]; !dup {
			out[f[0]] = f[1]
		}
	}
	return out
}

// rpmPackages returns the packages of the RPM database read into hf, if
// one was.
func rpmPackages(hf *HostFiles) (map[string]string, bool) {
	for _, p := range rpmDBPaths {
		if s, ok := hf.Files[p]; ok {
			return ParseRPMPackages(s), true
		}
	}
	return nil, false
}

// packageScheme is how the host's package versions compare: RPM's rules
// when they came from an RPM database and dpkg's status was not read.
func packageScheme(hf *HostFiles) string {
	if hf == nil {
		return inventory.SchemeDpkg
	}
	if _, dpkg := hf.Files[pathDpkgStatus]; !dpkg {
		if _, ok := rpmPackages(hf); ok {
			return inventory.SchemeRPM
		}
	}
	return inventory.SchemeDpkg
}
