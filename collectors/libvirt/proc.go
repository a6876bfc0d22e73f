package libvirt

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// This file reads what runs on a local KVM host from its /proc (under the
// host root): libvirt's daemons with their command lines and listening
// sockets, systemd's sockets for libvirt's socket units, and each running
// domain's QEMU process. It only reads files; whether they are the
// machine's own /proc or a copy is the host root's business.

// Runtime is what the host's /proc showed when Fetch ran.
type Runtime struct {
	// BootTime is /proc/stat btime (Unix seconds); process start times are
	// derived from it and the clock tick.
	BootTime int64 `json:"boot_time,omitempty"`
	// Daemons are the processes of libvirtd, virtqemud and virtproxyd.
	Daemons []ProcessRecord `json:"daemons"`
	// Systemd is PID 1 when it is systemd: it holds the listening sockets
	// of socket-activated units.
	Systemd *ProcessRecord `json:"systemd,omitempty"`
	// Domains maps a running domain's name to its QEMU process, found
	// through the pid file libvirt writes for it.
	Domains map[string]ProcessRecord `json:"domains"`
	// AuditdRunning: an auditd process runs.
	AuditdRunning bool `json:"auditd_running"`
	// KernelCmdline is /proc/cmdline (the audit= boot parameter).
	KernelCmdline *string `json:"kernel_cmdline,omitempty"`
	// KernelAudit is the kernel's answer to AUDIT_GET, when it was asked.
	KernelAudit *KernelAudit `json:"kernel_audit,omitempty"`
	// Errors maps what could not be read to why ("/proc": …).
	Errors map[string]string `json:"errors,omitempty"`
}

// KernelAudit is the kernel audit status.
type KernelAudit struct {
	// Enabled is audit_status.enabled: 0 off, 1 on, 2 on and locked.
	// Nil when the kernel could not be asked (Error says why).
	Enabled *int64 `json:"enabled,omitempty"`
	Error   string `json:"error,omitempty"`
}

// ProcessRecord is one process as /proc shows it.
type ProcessRecord struct {
	PID  int64  `json:"pid"`
	Name string `json:"name"` // /proc/PID/comm
	// Args is the command line; for QEMU only the options hvaudit reads,
	// with secrets removed (see qemuArgsKept).
	Args []string `json:"args"`
	// Exe is the /proc/PID/exe link ("/usr/bin/qemu-system-x86_64
	// (deleted)" once the binary was replaced).
	Exe string `json:"exe,omitempty"`
	// UID and GID are the real, effective, saved and filesystem ids from
	// /proc/PID/status.
	UID []int64 `json:"uid"`
	GID []int64 `json:"gid"`
	// CapEff is the effective capability mask (hex) from /proc/PID/status.
	CapEff string `json:"cap_eff,omitempty"`
	// StartTicks is /proc/PID/stat starttime: clock ticks after boot.
	StartTicks int64 `json:"start_ticks,omitempty"`
	// Label is /proc/PID/attr/current: the SELinux context or AppArmor
	// profile the process runs under ("" when no LSM reports one).
	Label string `json:"label,omitempty"`
	// Listeners are the TCP sockets in LISTEN state among the process's
	// open files; nil when they could not be read (ListenersError).
	Listeners      []SocketAddr `json:"listeners"`
	ListenersError string       `json:"listeners_error,omitempty"`
	// PIDFile is the pid file the process was found through (domains).
	PIDFile string `json:"pid_file,omitempty"`
	// Error is set when the process could not be read.
	Error string `json:"error,omitempty"`
}

// SocketAddr is one listening TCP socket.
type SocketAddr struct {
	Addr string `json:"addr"`
	Port int    `json:"port"`
}

func (a SocketAddr) String() string {
	if strings.Contains(a.Addr, ":") {
		return "[" + a.Addr + "]:" + strconv.Itoa(a.Port)
	}
	return a.Addr + ":" + strconv.Itoa(a.Port)
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat starttime: 100 on
// every Linux architecture libvirt runs on.
const clockTicks = 100

// runDirSystem is where the system QEMU driver writes a pid file per
// running domain (src/qemu/qemu_conf.c: stateDir = RUNSTATEDIR/libvirt/qemu).
const runDirSystem = "/run/libvirt/qemu"

// Permission hints name what a read needs: another user's /proc entries
// need root or CAP_SYS_PTRACE; libvirt's configuration (qemu.conf is 0600
// on Debian) and TLS keys need root.
const (
	procPermissionHint = "needs root or CAP_SYS_PTRACE: run hvaudit as root"
	filePermissionHint = "readable by root only: run hvaudit as root"
)

// procReader reads /proc under a host root.
type procReader struct {
	root string
	rt   *Runtime
}

func (r *procReader) full(p string) string {
	return filepath.Join(r.root, filepath.FromSlash(strings.TrimPrefix(p, "/")))
}

func (r *procReader) read(p string) (string, error) {
	b, err := os.ReadFile(r.full(p))
	return string(b), err
}

// describe turns a read error into a reason that names the permission
// missing, where that is the cause.
func describe(p string, err error) string {
	switch {
	case errors.Is(err, fs.ErrPermission) && strings.HasPrefix(p, "/proc/"):
		return p + ": permission denied (" + procPermissionHint + ")"
	case errors.Is(err, fs.ErrPermission):
		return p + ": permission denied (" + filePermissionHint + ")"
	case errors.Is(err, fs.ErrNotExist):
		return p + ": does not exist"
	}
	return err.Error()
}

// RunningDomain names a domain whose QEMU process is looked up.
type RunningDomain struct{ Name, UUID string }

// ReadRuntime reads the host's /proc under root ("/" when empty): the
// libvirt daemons, systemd, auditd and the QEMU processes of the given
// running domains (system URIs; a session's processes belong to its
// user and are not looked up). It never fails: what cannot be read is in
// Errors or on the record concerned.
func ReadRuntime(root string, domains []RunningDomain, session bool) *Runtime {
	if root == "" {
		root = "/"
	}
	rt := &Runtime{Daemons: []ProcessRecord{}, Domains: map[string]ProcessRecord{}, Errors: map[string]string{}}
	r := &procReader{root: root, rt: rt}
	if s, err := r.read("/proc/stat"); err == nil {
		rt.BootTime = bootTime(s)
	} else {
		rt.Errors["/proc/stat"] = describe("/proc/stat", err)
	}
	if s, err := r.read("/proc/cmdline"); err == nil {
		s = strings.TrimSpace(s)
		rt.KernelCmdline = &s
	} else {
		rt.Errors["/proc/cmdline"] = describe("/proc/cmdline", err)
	}
	entries, err := os.ReadDir(r.full("/proc"))
	if err != nil {
		rt.Errors["/proc"] = describe("/proc", err)
	}
	for _, e := range entries {
		pid, err := strconv.ParseInt(e.Name(), 10, 64)
		if err != nil || pid <= 0 {
			continue
		}
		comm, err := r.read(fmt.Sprintf("/proc/%d/comm", pid))
		if err != nil {
			continue // the process ended while we looked
		}
		switch name := strings.TrimSpace(comm); {
		case isDaemonName(name):
			rt.Daemons = append(rt.Daemons, r.process(pid, true, nil))
		case pid == 1 && name == "systemd":
			p := r.process(pid, true, nil)
			rt.Systemd = &p
		case name == "auditd":
			rt.AuditdRunning = true
		}
	}
	sort.Slice(rt.Daemons, func(a, b int) bool { return rt.Daemons[a].PID < rt.Daemons[b].PID })
	if !session {
		for _, d := range domains {
			rt.Domains[d.Name] = r.domainProcess(d)
		}
	}
	if root == "/" {
		rt.KernelAudit = kernelAuditStatus()
	}
	if len(rt.Errors) == 0 {
		rt.Errors = nil
	}
	return rt
}

func isDaemonName(n string) bool {
	for _, d := range daemonNames {
		if n == d {
			return true
		}
	}
	return false
}

// bootTime reads btime from /proc/stat.
func bootTime(stat string) int64 {
	for _, l := range strings.Split(stat, "\n") {
		if v, ok := strings.CutPrefix(l, "btime "); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}

// domainProcess finds a running domain's QEMU process through the pid
// file libvirt keeps for it, and checks that the process is that domain's
// QEMU (a stale pid file may name a reused PID).
func (r *procReader) domainProcess(d RunningDomain) ProcessRecord {
	pidFile := runDirSystem + "/" + d.Name + ".pid"
	s, err := r.read(pidFile)
	if err != nil {
		return ProcessRecord{PIDFile: pidFile, Error: describe(pidFile, err)}
	}
	pid, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || pid <= 0 {
		return ProcessRecord{PIDFile: pidFile, Error: pidFile + ": not a process id"}
	}
	p := r.process(pid, false, filterQEMUArgs)
	p.PIDFile = pidFile
	if p.Error == "" && !qemuOfDomain(p.Args, d) {
		p.Error = fmt.Sprintf("process %d named by %s is not the QEMU of domain %s (a stale pid file?)", pid, pidFile, d.Name)
	}
	return p
}

// qemuOfDomain: the command line names the domain (-name guest=NAME or
// -name NAME) or its UUID (-uuid).
func qemuOfDomain(args []string, d RunningDomain) bool {
	for i := 0; i+1 < len(args); i++ {
		switch args[i] {
		case "-uuid":
			if d.UUID != "" && strings.EqualFold(args[i+1], d.UUID) {
				return true
			}
		case "-name":
			v := args[i+1]
			if g, ok := qemuOpts(v)["guest"]; ok {
				v = g
			} else {
				v, _, _ = strings.Cut(v, ",")
			}
			if v == d.Name {
				return true
			}
		}
	}
	return false
}

// process reads one process. With sockets, its listening TCP sockets are
// read too; filter, when set, reduces the command line to what may be
// stored.
func (r *procReader) process(pid int64, sockets bool, filter func([]string) []string) ProcessRecord {
	p := ProcessRecord{PID: pid}
	dir := fmt.Sprintf("/proc/%d", pid)
	comm, err := r.read(dir + "/comm")
	if err != nil {
		p.Error = describe(dir, err)
		return p
	}
	p.Name = strings.TrimSpace(comm)
	if s, err := r.read(dir + "/cmdline"); err == nil {
		args := strings.Split(strings.TrimRight(s, "\x00"), "\x00")
		if len(args) == 1 && args[0] == "" {
			args = []string{}
		}
		if filter != nil {
			args = filter(args)
		}
		p.Args = args
	} else {
		p.Error = describe(dir+"/cmdline", err)
	}
	if s, err := r.read(dir + "/status"); err == nil {
		p.UID, p.GID, p.CapEff = parseStatus(s)
	} else if p.Error == "" {
		p.Error = describe(dir+"/status", err)
	}
	if s, err := r.read(dir + "/stat"); err == nil {
		p.StartTicks = statStartTicks(s)
	}
	if l, err := os.Readlink(r.full(dir + "/exe")); err == nil {
		p.Exe = l
	} else if errors.Is(err, fs.ErrPermission) && p.Error == "" {
		p.Error = describe(dir+"/exe", err)
	}
	if s, err := r.read(dir + "/attr/current"); err == nil {
		p.Label = strings.TrimRight(s, "\x00\n")
	}
	if sockets {
		p.Listeners, p.ListenersError = r.listeners(dir)
	}
	return p
}

// parseStatus reads the Uid, Gid and CapEff lines of /proc/PID/status.
func parseStatus(s string) (uid, gid []int64, capEff string) {
	ids := func(v string) []int64 {
		var out []int64
		for _, f := range strings.Fields(v) {
			n, err := strconv.ParseInt(f, 10, 64)
			if err != nil {
				return nil
			}
			out = append(out, n)
		}
		return out
	}
	for _, l := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		switch k {
		case "Uid":
			uid = ids(v)
		case "Gid":
			gid = ids(v)
		case "CapEff":
			capEff = strings.TrimSpace(v)
		}
	}
	return uid, gid, capEff
}

// statStartTicks reads field 22 (starttime) of /proc/PID/stat; the
// command name in parentheses may itself hold spaces and parentheses.
func statStartTicks(s string) int64 {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	// After the name: state is field 3, so starttime (22) is f[19].
	if len(f) < 20 {
		return 0
	}
	n, _ := strconv.ParseInt(f[19], 10, 64)
	return n
}

// listeners matches the process's socket file descriptors with the TCP
// sockets in LISTEN state of its network namespace.
func (r *procReader) listeners(dir string) ([]SocketAddr, string) {
	table := map[uint64]SocketAddr{}
	for _, f := range []string{"/net/tcp", "/net/tcp6"} {
		s, err := r.read(dir + f)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && f == "/net/tcp6" {
				continue // no IPv6
			}
			return nil, describe(dir+f, err)
		}
		socks, err := ParseProcNetTCP(s)
		if err != nil {
			return nil, dir + f + ": " + err.Error()
		}
		for inode, a := range socks {
			table[inode] = a
		}
	}
	fds, err := os.ReadDir(r.full(dir + "/fd"))
	if err != nil {
		return nil, describe(dir+"/fd", err)
	}
	out := []SocketAddr{}
	seen := map[SocketAddr]bool{}
	for _, fd := range fds {
		l, err := os.Readlink(r.full(dir + "/fd/" + fd.Name()))
		if err != nil {
			if errors.Is(err, fs.ErrPermission) {
				return nil, describe(dir+"/fd", err)
			}
			continue // closed meanwhile
		}
		ino, ok := socketInode(l)
		if !ok {
			continue
		}
		if a, ok := table[ino]; ok && !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, ""
}

// socketInode reads "socket:[12345]".
func socketInode(link string) (uint64, bool) {
	s, ok := strings.CutPrefix(link, "socket:[")
	if !ok || !strings.HasSuffix(s, "]") {
		return 0, false
	}
	n, err := strconv.ParseUint(strings.TrimSuffix(s, "]"), 10, 64)
	return n, err == nil
}

// ParseProcNetTCP returns the sockets in LISTEN state of a /proc/net/tcp
// or tcp6 table by inode. Addresses are hex in the kernel's byte order:
// each 32-bit word little-endian on the architectures libvirt runs on.
func ParseProcNetTCP(text string) (map[uint64]SocketAddr, error) {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) == 0 || !strings.Contains(lines[0], "local_address") {
		return nil, errors.New("not a /proc/net/tcp table (no local_address header)")
	}
	out := map[uint64]SocketAddr{}
	for i, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		if len(f) < 10 {
			return nil, fmt.Errorf("line %d: %d fields, want at least 10", i+2, len(f))
		}
		if f[3] != "0A" { // TCP_LISTEN
			continue
		}
		hexAddr, hexPort, ok := strings.Cut(f[1], ":")
		if !ok {
			return nil, fmt.Errorf("line %d: local address without a port", i+2)
		}
		port, err := strconv.ParseUint(hexPort, 16, 16)
		if err != nil {
			return nil, fmt.Errorf("line %d: bad port", i+2)
		}
		addr, err := kernelHexAddr(hexAddr)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+2, err)
		}
		inode, err := strconv.ParseUint(f[9], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: bad inode", i+2)
		}
		out[inode] = SocketAddr{Addr: addr.String(), Port: int(port)}
	}
	return out, nil
}

// kernelHexAddr decodes an address of /proc/net/tcp{,6}.
func kernelHexAddr(h string) (netip.Addr, error) {
	if len(h) != 8 && len(h) != 32 {
		return netip.Addr{}, fmt.Errorf("address %q is neither IPv4 nor IPv6", h)
	}
	var b [16]byte
	for w := 0; w < len(h)/8; w++ {
		v, err := strconv.ParseUint(h[w*8:w*8+8], 16, 32)
		if err != nil {
			return netip.Addr{}, fmt.Errorf("address %q: %w", h, err)
		}
		b[w*4], b[w*4+1], b[w*4+2], b[w*4+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
	}
	if len(h) == 8 {
		return netip.AddrFrom4([4]byte{b[0], b[1], b[2], b[3]}), nil
	}
	return netip.AddrFrom16(b).Unmap(), nil
}

// exeDeleted reports an /proc/PID/exe link whose file was removed or
// replaced after the process started.
func exeDeleted(exe string) bool { return strings.HasSuffix(exe, " (deleted)") }

// exeBase is the executable's name without the "(deleted)" mark.
func exeBase(exe string) string { return path.Base(strings.TrimSuffix(exe, " (deleted)")) }

// ReadLocal reads what a local URI gives access to: the host's files and
// its /proc, including the QEMU processes of the running domains and the
// configuration files the running daemons were given with -f.
func ReadLocal(root string, session bool, domains []DomainRecord) (*HostFiles, *Runtime) {
	var running []RunningDomain
	for _, d := range domains {
		if d.Error == "" && hasProcess(d.State) {
			running = append(running, RunningDomain{Name: d.Name, UUID: d.UUID})
		}
	}
	h := ReadHostFiles(root, session)
	rt := ReadRuntime(root, running, session)
	if !session {
		for _, p := range rt.Daemons {
			if cfg := parseDaemonArgs(p.Args).config; cfg != "" && (len(p.UID) == 0 || p.UID[0] == 0) {
				h.ReadDaemonConfig(cfg)
			}
		}
	}
	return h, rt
}
