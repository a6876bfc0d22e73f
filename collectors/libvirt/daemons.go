package libvirt

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// A libvirt daemon is judged by its process: the command line it was
// started with (--listen, -f FILE), the TCP sockets it and systemd (for
// its socket units) listen on, and the configuration file it read, which
// counts only when it has not changed since the daemon started.

// defaultTLSPort is libvirt's TLS port (libvirtd.conf tls_port); a
// listener on any other port is taken for plain TCP.
const defaultTLSPort = 16514

// daemonArgs is what a daemon's command line says.
type daemonArgs struct {
	listen bool
	config string // -f / --config, "" when not given
}

// parseDaemonArgs reads libvirtd's (and virtqemud's, virtproxyd's) getopt
// options: -l/--listen, -f FILE, -fFILE, --config FILE, --config=FILE.
func parseDaemonArgs(args []string) daemonArgs {
	var d daemonArgs
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return d
		case a == "--listen" || a == "-l":
			d.listen = true
		case a == "-f" || a == "--config":
			if i+1 < len(args) {
				d.config = args[i+1]
				i++
			}
		case strings.HasPrefix(a, "--config="):
			d.config = strings.TrimPrefix(a, "--config=")
		case strings.HasPrefix(a, "-f") && !strings.HasPrefix(a, "--"):
			d.config = a[2:]
		case strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && len(a) > 2:
			// Combined short flags: -dl.
			if strings.ContainsRune(a[1:], 'l') && !strings.ContainsAny(a[1:], "fpt") {
				d.listen = true
			}
		}
	}
	return d
}

// unitPort reads the TCP port of a socket unit's ListenStream= ("16509",
// "0.0.0.0:16509", "[::]:16509"); 0 when the unit has none.
func unitPort(text string) int {
	for _, l := range strings.Split(text, "\n") {
		v, ok := strings.CutPrefix(strings.TrimSpace(l), "ListenStream=")
		if !ok || strings.HasPrefix(v, "/") {
			continue
		}
		if i := strings.LastIndexByte(v, ':'); i >= 0 {
			v = v[i+1:]
		}
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
			return n
		}
	}
	return 0
}

// startPrecision is how early a start time read from /proc may be: the
// boot time there is whole seconds. A file written within that second
// after the daemon started is taken as read by it.
const startPrecision = time.Second

// changedAfter: a file modified at mt changed after a process that
// started at start (as /proc tells it) read it.
func changedAfter(mt, start time.Time) bool { return mt.After(start.Add(startPrecision)) }

// procStart is a process's start time, from boot time and start ticks.
func procStart(rt *Runtime, p ProcessRecord) *time.Time {
	if rt == nil || rt.BootTime == 0 || p.StartTicks == 0 {
		return nil
	}
	t := time.Unix(rt.BootTime, 0).Add(time.Duration(p.StartTicks) * time.Second / clockTicks).UTC()
	return &t
}

// daemonState is what daemonsFrom found beyond the model: which daemon
// runs the QEMU driver and since when.
type daemonState struct {
	qemuDriver      string
	qemuDriverPID   int64
	qemuDriverStart *time.Time
}

// systemDaemon picks the process of a system daemon: one running as root
// (a session daemon runs as its user).
func systemDaemon(rt *Runtime, name string) *ProcessRecord {
	if rt == nil {
		return nil
	}
	for i := range rt.Daemons {
		p := &rt.Daemons[i]
		if p.Name == name && (len(p.UID) == 0 || p.UID[0] == 0) {
			return p
		}
	}
	return nil
}

// runtimeReason says why /proc could not be read, "" when it was.
func runtimeReason(rt *Runtime) string {
	switch {
	case rt == nil:
		return "the host's processes were not read"
	case rt.Errors["/proc"] != "":
		return rt.Errors["/proc"]
	}
	return ""
}

// daemonsFrom derives each libvirt daemon's state.
func daemonsFrom(hf *HostFiles, rt *Runtime, family string, g gapper) ([]inventory.LibvirtDaemon, daemonState) {
	var st daemonState
	if r, ok := hf.Skipped[skipLibvirtConfig]; ok {
		g.add("host.kvm.daemons", r)
		return nil, st
	}
	procReason := runtimeReason(rt)
	out := []inventory.LibvirtDaemon{}
	for _, name := range daemonNames {
		d := inventory.LibvirtDaemon{Name: name, Path: daemonConfPath(name), SocketUnitsActive: []string{}}
		proc := systemDaemon(rt, name)
		var args daemonArgs
		if proc != nil {
			d.Running, d.PID, d.Args, d.Started = true, proc.PID, proc.Args, procStart(rt, *proc)
			args = parseDaemonArgs(proc.Args)
			if args.config != "" {
				d.Path = args.config
			}
		}
		d.ListenFlag = args.listen
		for _, ap := range daemonArgsPaths(name) {
			d.ListenFlag = d.ListenFlag || hasListenFlag(hf.Files[ap])
		}
		for _, e := range hf.Dirs[pathSocketsWants] {
			d.TCPSocketUnit = d.TCPSocketUnit || e == name+"-tcp.socket"
			d.TLSSocketUnit = d.TLSSocketUnit || e == name+"-tls.socket"
		}

		// The configuration file: what the daemon runs with unless it
		// changed after the daemon started, and what it starts with next.
		fileCfg, cfgReason := daemonFileConfig(hf, name, d.Path, d.Running && args.config != "", family)
		staleReason := ""
		if cfgReason == "" && d.Running && d.Started != nil {
			if mt, ok := hf.ModTimes[d.Path]; ok && changedAfter(mt, *d.Started) {
				staleReason = fmt.Sprintf("%s changed at %s, after %s (PID %d) started at %s: the daemon runs the settings it read then, which hvaudit cannot see (restart it, or audit again once the change is applied)",
					d.Path, mt.Format(time.RFC3339), name, d.PID, d.Started.Format(time.RFC3339))
			}
		}
		tlsPort := defaultTLSPort
		var startTCP, startTLS *bool // listen_tcp / listen_tls at the next start
		if fileCfg != nil {
			tlsPort = fileCfg.tlsPort
			startTCP, startTLS = fileCfg.d.ListenTCP, fileCfg.d.ListenTLS
			if staleReason == "" {
				dc := fileCfg.d
				dc.Running, dc.PID, dc.Args, dc.Started = d.Running, d.PID, d.Args, d.Started
				dc.ListenFlag, dc.TCPSocketUnit, dc.TLSSocketUnit, dc.SocketUnitsActive = d.ListenFlag, d.TCPSocketUnit, d.TLSSocketUnit, d.SocketUnitsActive
				d = dc
			}
		}
		if r := cfgReason + staleReason; r != "" {
			g.add("host.kvm.daemons", name+": "+r)
		}

		// What listens: the daemon's own sockets and systemd's for its
		// socket units.
		listeners, lReason := daemonListeners(&d, proc, rt, hf, procReason, tlsPort)
		_, fileExists := hf.Files[daemonConfPath(name)]
		if !d.Running && !fileExists && len(d.SocketUnitsActive) == 0 && !d.TCPSocketUnit && !d.TLSSocketUnit && d.Path == daemonConfPath(name) {
			continue // not installed here, or never configured
		}
		d.Listeners = listeners
		d.TCPEnabled, d.TLSEnabled = listenerState(d, startTCP, startTLS, listeners, lReason == "", tlsPort)
		if d.TCPEnabled == nil || d.TLSEnabled == nil {
			g.add("host.kvm.daemons.tcp_enabled", name+": its listening sockets are unknown: "+lReason)
			g.add("host.kvm.daemons.tls_enabled", name+": its listening sockets are unknown: "+lReason)
		}
		if lReason != "" && d.Listeners == nil {
			g.add("host.kvm.daemons.listeners", name+": "+lReason)
		}
		out = append(out, d)
	}
	for _, n := range []string{"libvirtd", "virtqemud"} {
		if p := systemDaemon(rt, n); p != nil {
			st.qemuDriver, st.qemuDriverPID, st.qemuDriverStart = n, p.PID, procStart(rt, *p)
			break
		}
	}
	if len(out) == 0 {
		g.add("host.kvm.daemons", "no libvirt daemon runs and none of /etc/libvirt/{libvirtd,virtproxyd,virtqemud}.conf exists under host root "+hf.Root)
		return nil, st
	}
	return out, st
}

func portOf(s string, def int) int64 {
	if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n > 0 {
		return int64(n)
	}
	return int64(def)
}

// daemonListeners collects the TCP addresses a daemon listens on itself
// and through systemd's socket units, and notes which units are active.
// A non-empty reason means the list is incomplete.
func daemonListeners(d *inventory.LibvirtDaemon, proc *ProcessRecord, rt *Runtime, hf *HostFiles, procReason string, tlsPort int) ([]string, string) {
	if procReason != "" {
		return nil, procReason
	}
	var out []string
	reason := ""
	if proc != nil {
		if proc.ListenersError != "" {
			reason = proc.ListenersError
		}
		for _, a := range proc.Listeners {
			out = append(out, a.String())
		}
	}
	if rt.Systemd != nil {
		for _, unit := range []string{d.Name + "-tcp.socket", d.Name + "-tls.socket"} {
			port := 0
			for _, p := range socketUnitPaths(unit) {
				if t, ok := hf.Files[p]; ok {
					port = unitPort(t)
					break
				}
			}
			if port == 0 {
				continue // no such unit on this host
			}
			if rt.Systemd.ListenersError != "" {
				reason = "systemd (PID 1): " + rt.Systemd.ListenersError
				continue
			}
			active := false
			for _, a := range rt.Systemd.Listeners {
				if a.Port == port {
					active = true
					out = append(out, a.String())
				}
			}
			if active {
				d.SocketUnitsActive = append(d.SocketUnitsActive, unit)
			}
		}
	}
	sort.Strings(out)
	out = dedupe(out)
	if out == nil {
		out = []string{}
	}
	if reason != "" && len(out) == 0 {
		return nil, reason
	}
	return out, reason
}

func dedupe(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// listenerState decides whether a daemon accepts TCP and TLS
// connections: now (a listener on the port, its own or systemd's) or when
// it starts (an enabled socket unit, --listen with listen_tcp/listen_tls).
// Unknown (nil) only when the listeners could not be read and the
// configuration shows no listener.
func listenerState(d inventory.LibvirtDaemon, startTCP, startTLS *bool, listeners []string, known bool, tlsPort int) (tcp, tls *bool) {
	listening := func(tlsSocket bool) bool {
		for _, l := range listeners {
			i := strings.LastIndexByte(l, ':')
			port, _ := strconv.Atoi(l[i+1:])
			if (port == tlsPort) == tlsSocket {
				return true
			}
		}
		return false
	}
	conf := func(unit bool, flag *bool) *bool {
		switch {
		case unit:
			return inventory.Ptr(true)
		case d.ListenFlag && flag == nil:
			return nil
		case d.ListenFlag:
			return inventory.Ptr(*flag)
		}
		return inventory.Ptr(false)
	}
	decide := func(now bool, atStart *bool) *bool {
		switch {
		case now || atStart != nil && *atStart:
			return inventory.Ptr(true)
		case known && atStart != nil:
			return inventory.Ptr(false)
		}
		return nil
	}
	return decide(known && listening(false), conf(d.TCPSocketUnit, startTCP)),
		decide(known && listening(true), conf(d.TLSSocketUnit, startTLS))
}

// fileConfig is a daemon's configuration file with defaults applied.
type fileConfig struct {
	d       inventory.LibvirtDaemon
	tlsPort int
}

// daemonFileConfig reads a daemon's configuration file; a missing default
// file means libvirt's defaults, a missing file given with -f does not.
func daemonFileConfig(hf *HostFiles, name, path string, explicit bool, family string) (*fileConfig, string) {
	var c *Conf
	text, have := hf.Files[path]
	_, unreadable := hf.Errors[path]
	switch {
	case have:
		var err error
		if c, err = ParseConf(text); err != nil {
			return nil, path + ": " + err.Error()
		}
	case unreadable || explicit:
		return nil, fileReason(hf, path)
	default:
		c = &Conf{}
	}
	d, err := DaemonConfigFrom(name, path, c, family)
	if err != nil {
		return nil, err.Error()
	}
	r := &confReader{c: c}
	return &fileConfig{d: d, tlsPort: int(portOf(r.str("tls_port", ""), defaultTLSPort))}, ""
}
