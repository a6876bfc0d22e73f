package libvirt

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Host file paths, as they are on the audited host.
const (
	pathQEMUConf      = "/etc/libvirt/qemu.conf"
	pathSocketsWants  = "/etc/systemd/system/sockets.target.wants"
	pathVulnDir       = "/sys/devices/system/cpu/vulnerabilities"
	pathSMTControl    = "/sys/devices/system/cpu/smt/control"
	pathSMTActive     = "/sys/devices/system/cpu/smt/active"
	pathKSMRun        = "/sys/kernel/mm/ksm/run"
	pathDpkgStatus    = "/var/lib/dpkg/status"
	pathOSRelease     = "/etc/os-release"
	pathOSReleaseLib  = "/usr/lib/os-release"
	pathProcNetRoute  = "/proc/net/route"
	pathSysModule     = "/sys/module"
	pathFirmwareData  = "/usr/share/qemu/firmware"
	pathFirmwareConf  = "/etc/qemu/firmware"
	pathQEMUPKI       = "/etc/pki/qemu"
	maxHostFileBytes  = 4 << 20
	skipLibvirtConfig = "libvirt-config"
)

// daemonNames are the libvirt daemons whose configuration is read:
// monolithic libvirtd, and the modular virtproxyd (remote listeners) and
// virtqemud (the QEMU driver's own socket).
var daemonNames = []string{"libvirtd", "virtproxyd", "virtqemud"}

func daemonConfPath(name string) string { return "/etc/libvirt/" + name + ".conf" }

// daemonArgsPaths hold a daemon's start arguments (Debian, RHEL).
func daemonArgsPaths(name string) []string {
	return []string{"/etc/default/" + name, "/etc/sysconfig/" + name}
}

// socketUnitPaths are where systemd looks for a unit file, the first
// found winning.
func socketUnitPaths(unit string) []string {
	return []string{"/etc/systemd/system/" + unit, "/usr/lib/systemd/system/" + unit, "/lib/systemd/system/" + unit}
}

// nestedParams are the kvm vendor modules' nested parameters.
var nestedParams = []string{"/sys/module/kvm_intel/parameters/nested", "/sys/module/kvm_amd/parameters/nested"}

// tlsCredentialFiles are the files of a QEMU TLS credentials directory.
var tlsCredentialFiles = []string{"ca-cert.pem", "server-cert.pem", "server-key.pem", "client-cert.pem", "client-key.pem"}

// ReadHostFiles reads the host files a KVM audit needs under root ("/" when
// empty). For a qemu:///session connection the system daemons'
// configuration does not apply and is skipped. It never fails: a file that
// is absent is listed in Missing, one that cannot be read in Errors.
// Password values are redacted before they are stored; the dpkg status
// file is filtered to libvirt and QEMU packages.
func ReadHostFiles(root string, session bool) *HostFiles {
	if root == "" {
		root = "/"
	}
	h := &HostFiles{Root: root, Files: map[string]string{}, Dirs: map[string][]string{}, Missing: []string{}, Errors: map[string]string{},
		ModTimes: map[string]time.Time{}, Modes: map[string]uint32{}, Exists: map[string]bool{}}
	if session {
		h.Skipped = map[string]string{skipLibvirtConfig: "qemu:///session uses the connecting user's configuration under ~/.config/libvirt, which is not read"}
	} else {
		h.readConfFile(pathQEMUConf)
		for _, d := range daemonNames {
			h.readConfFile(daemonConfPath(d))
			for _, p := range daemonArgsPaths(d) {
				h.readFile(p, nil)
			}
			for _, u := range []string{d + "-tcp.socket", d + "-tls.socket"} {
				for _, p := range socketUnitPaths(u) {
					if h.readOptional(p) {
						break
					}
				}
			}
		}
		h.readDir(pathSocketsWants)
		h.readTLSCredentials()
	}
	h.readFirmwareDescriptors()
	for _, p := range nestedParams {
		h.readOptional(p)
	}
	h.exists(pathSysModule)
	if names, ok := h.readDir(pathVulnDir); ok {
		for _, n := range names {
			h.readFile(pathVulnDir+"/"+n, nil)
		}
	}
	h.readFile(pathSMTControl, nil)
	h.readFile(pathSMTActive, nil)
	h.readFile(pathKSMRun, nil)
	h.readDpkgStatus()
	h.readRPMDatabase()
	if !h.readFile(pathOSRelease, nil) {
		h.readFile(pathOSReleaseLib, nil)
	}
	h.readFile(pathProcNetRoute, nil)
	if len(h.Errors) == 0 {
		h.Errors = nil
	}
	return h
}

func (h *HostFiles) full(p string) string {
	return filepath.Join(h.Root, filepath.FromSlash(strings.TrimPrefix(p, "/")))
}

func (h *HostFiles) note(p string, err error) {
	if errors.Is(err, fs.ErrNotExist) {
		h.Missing = append(h.Missing, p)
		return
	}
	h.Errors[p] = describe(p, err)
}

// ReadDaemonConfig reads a configuration file a running daemon was given
// with -f, unless it was read already.
func (h *HostFiles) ReadDaemonConfig(p string) {
	if _, done := h.Files[p]; done {
		return
	}
	if _, failed := h.Errors[p]; failed {
		return
	}
	if h.Errors == nil {
		h.Errors = map[string]string{}
	}
	h.readConfFile(p)
	if len(h.Errors) == 0 {
		h.Errors = nil
	}
}

// readConfFile stores a libvirt configuration file with its secrets
// redacted, and its modification time; one that does not parse is not
// stored (where its secrets are cannot be told) and its error names the
// line.
func (h *HostFiles) readConfFile(p string) bool {
	raw, ok := h.readRaw(p)
	if !ok {
		return false
	}
	s, err := RedactConf(raw)
	if err != nil {
		h.Errors[p] = err.Error()
		return false
	}
	h.Files[p] = s
	if st, err := os.Stat(h.full(p)); err == nil {
		h.ModTimes[p] = st.ModTime().UTC()
	}
	return true
}

// readOptional reads a file that may well be absent (a unit file in one
// of several places); absence is not recorded.
func (h *HostFiles) readOptional(p string) bool {
	if _, err := os.Stat(h.full(p)); errors.Is(err, fs.ErrNotExist) {
		return false
	}
	return h.readFile(p, nil)
}

// exists records whether a path exists.
func (h *HostFiles) exists(p string) {
	_, err := os.Stat(h.full(p))
	switch {
	case err == nil:
		h.Exists[p] = true
	case errors.Is(err, fs.ErrNotExist):
		h.Exists[p] = false
	default:
		h.note(p, err)
	}
}

// readFirmwareDescriptors reads QEMU's firmware descriptors: libvirt reads
// every file not starting with '.' of both directories, a file in /etc
// replacing the same-named one in /usr/share (an empty one masking it).
func (h *HostFiles) readFirmwareDescriptors() {
	for _, dir := range []string{pathFirmwareData, pathFirmwareConf} {
		names, ok := h.readDir(dir)
		if !ok {
			continue
		}
		for _, n := range names {
			if !strings.HasPrefix(n, ".") {
				h.readFile(dir+"/"+n, nil)
			}
		}
	}
}

// readTLSCredentials records which of the migration TLS files exist and
// their permission bits, in the directory qemu.conf names for migration
// (migrate_tls_x509_cert_dir, else default_tls_x509_cert_dir).
func (h *HostFiles) readTLSCredentials() {
	dir := migrationTLSDir(h.Files[pathQEMUConf])
	for _, f := range tlsCredentialFiles {
		p := dir + "/" + f
		st, err := os.Stat(h.full(p))
		switch {
		case err == nil:
			h.Exists[p] = true
			h.Modes[p] = uint32(st.Mode().Perm())
		case errors.Is(err, fs.ErrNotExist):
			h.Exists[p] = false
		default:
			h.note(p, err)
		}
	}
}

// migrationTLSDir is the directory QEMU's migration TLS credentials are
// read from, per qemu.conf's text (its default when the text is empty or
// does not parse).
func migrationTLSDir(qemuConf string) string {
	c, err := ParseConf(qemuConf)
	if err != nil {
		return pathQEMUPKI
	}
	r := &confReader{c: c}
	return r.str("migrate_tls_x509_cert_dir", r.str("default_tls_x509_cert_dir", pathQEMUPKI))
}

// readRaw returns a file's content (at most maxHostFileBytes), noting a
// missing or unreadable file.
func (h *HostFiles) readRaw(p string) (string, bool) {
	f, err := os.Open(h.full(p))
	if err != nil {
		h.note(p, err)
		return "", false
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxHostFileBytes))
	if err != nil {
		h.note(p, err)
		return "", false
	}
	return string(b), true
}

// readFile stores the file's content, passed through filter when set.
func (h *HostFiles) readFile(p string, filter func(string) string) bool {
	f, err := os.Open(h.full(p))
	if err != nil {
		h.note(p, err)
		return false
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxHostFileBytes))
	if err != nil {
		h.note(p, err)
		return false
	}
	s := string(b)
	if filter != nil {
		s = filter(s)
	}
	h.Files[p] = s
	return true
}

func (h *HostFiles) readDir(p string) ([]string, bool) {
	entries, err := os.ReadDir(h.full(p))
	if err != nil {
		h.note(p, err)
		return nil, false
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	h.Dirs[p] = names
	return names, true
}

func (h *HostFiles) readDpkgStatus() {
	f, err := os.Open(h.full(pathDpkgStatus))
	if err != nil {
		h.note(pathDpkgStatus, err)
		return
	}
	defer f.Close()
	s, err := FilterDpkgStatus(f)
	if err != nil {
		h.note(pathDpkgStatus, err)
		return
	}
	h.Files[pathDpkgStatus] = s
}

// relevantPackage: the packages whose versions a KVM patch audit needs.
func relevantPackage(name string) bool {
	return strings.HasPrefix(name, "libvirt") || strings.HasPrefix(name, "qemu")
}

// FilterDpkgStatus keeps the stanzas of libvirt and QEMU packages from a
// dpkg status file, and of them only Package, Status, Architecture, Source
// and Version, so a snapshot stays small.
func FilterDpkgStatus(r io.Reader) (string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var out strings.Builder
	var stanza []string
	keep := false
	flush := func() {
		if keep && len(stanza) > 0 {
			out.WriteString(strings.Join(stanza, "\n"))
			out.WriteString("\n\n")
		}
		stanza, keep = stanza[:0], false
	}
	for sc.Scan() {
		l := sc.Text()
		if strings.TrimSpace(l) == "" {
			flush()
			continue
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok || l[0] == ' ' || l[0] == '\t' {
			continue
		}
		switch k {
		case "Package":
			keep = relevantPackage(strings.TrimSpace(v))
			stanza = append(stanza, l)
		case "Status", "Architecture", "Source", "Version":
			stanza = append(stanza, l)
		}
	}
	flush()
	return out.String(), sc.Err()
}

// ParseDpkgStatus returns installed packages and their versions from a
// dpkg status file (deb822 stanzas). Only packages whose Status ends in
// "installed" count.
func ParseDpkgStatus(text string) map[string]string {
	out := map[string]string{}
	var pkg, ver, status string
	flush := func() {
		f := strings.Fields(status)
		if pkg != "" && ver != "" && len(f) == 3 && f[2] == "installed" {
			if _, dup := out[pkg]; !dup {
				out[pkg] = ver
			}
		}
		pkg, ver, status = "", "", ""
	}
	for _, l := range strings.Split(text, "\n") {
		if strings.TrimSpace(l) == "" {
			flush()
			continue
		}
		if l[0] == ' ' || l[0] == '\t' {
			continue
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch k {
		case "Package":
			pkg = v
		case "Version":
			ver = v
		case "Status":
			status = v
		}
	}
	flush()
	return out
}

// ParseOSRelease parses os-release(5): KEY=value lines, values optionally
// quoted.
func ParseOSRelease(text string) map[string]string {
	out := map[string]string{}
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || l[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			continue
		}
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
			v = strings.NewReplacer(`\"`, `"`, `\\`, `\`, `\$`, `$`, "\\`", "`").Replace(v)
		}
		out[strings.TrimSpace(k)] = v
	}
	return out
}

// Route is one line of /proc/net/route.
type Route struct {
	Iface       string
	Destination uint32
	Gateway     uint32
	Mask        uint32
	Flags       uint32
	Metric      uint32
}

// Default reports a default route that is up.
func (r Route) Default() bool { return r.Destination == 0 && r.Mask == 0 && r.Flags&1 != 0 }

// ParseProcNetRoute parses /proc/net/route (hex fields, header first).
func ParseProcNetRoute(text string) ([]Route, error) {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) == 0 || !strings.HasPrefix(strings.TrimSpace(lines[0]), "Iface") {
		return nil, errors.New("not a /proc/net/route table (no Iface header)")
	}
	hex := func(s string) (uint32, error) {
		n, err := strconv.ParseUint(s, 16, 32)
		return uint32(n), err
	}
	dec := func(s string) (uint32, error) {
		n, err := strconv.ParseUint(s, 10, 32)
		return uint32(n), err
	}
	var out []Route
	for i, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		if len(f) < 8 {
			return nil, fmt.Errorf("route line %d: %d fields, want 11", i+2, len(f))
		}
		var r Route
		var err error
		r.Iface = f[0]
		for _, x := range []struct {
			dst *uint32
			s   string
			fn  func(string) (uint32, error)
		}{{&r.Destination, f[1], hex}, {&r.Gateway, f[2], hex}, {&r.Flags, f[3], hex}, {&r.Metric, f[6], dec}, {&r.Mask, f[7], hex}} {
			if *x.dst, err = x.fn(x.s); err != nil {
				return nil, fmt.Errorf("route line %d: %w", i+2, err)
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// defaultRouteIfaces returns the interfaces carrying an up default route,
// lowest metric first.
func defaultRouteIfaces(routes []Route) []string {
	var def []Route
	for _, r := range routes {
		if r.Default() {
			def = append(def, r)
		}
	}
	sort.SliceStable(def, func(a, b int) bool { return def[a].Metric < def[b].Metric })
	var out []string
	seen := map[string]bool{}
	for _, r := range def {
		if !seen[r.Iface] {
			seen[r.Iface] = true
			out = append(out, r.Iface)
		}
	}
	return out
}
