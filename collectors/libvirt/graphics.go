package libvirt

import (
	"fmt"
	"net/netip"
	"strings"

	"libvirt.org/go/libvirtxml"

	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// Consoles: a domain's graphics devices, where they listen, how they are
// protected, and what the running QEMU actually serves.

// mapGraphics records every display, from the QEMU command line for a
// running guest whose process was read, else from the domain XML and
// qemu.conf, and picks the most exposed remote one as the neutral Console.
func mapGraphics(rec DomainRecord, devs *libvirtxml.DomainDeviceList, vm *inventory.VM, dc *domainContext, g gapper) {
	var remote []int
	for i, gr := range devs.Graphics {
		vm.KVM.Graphics = append(vm.KVM.Graphics, graphicsInfo(gr, i, rec, dc))
		if t := vm.KVM.Graphics[i].Type; t == "vnc" || t == "spice" || t == "rdp" {
			remote = append(remote, i)
		}
	}
	if hasProcess(rec.State) {
		if p, _ := dc.domainRuntime(vm.Name); p != nil {
			if err := applyRuntimeGraphics(vm.KVM.Graphics, p, dc); err != "" {
				g.add("vm.kvm.graphics", err)
				vm.KVM.Graphics = []inventory.KVMGraphics{}
				g.add("vm.console", err)
				return
			}
		}
	}
	graphicsGaps(vm.KVM.Graphics, dc, g)
	if len(remote) == 0 {
		vm.Console = &inventory.Console{Type: "none"}
		return
	}
	// The most exposed display speaks for the VM: exposed first, then the
	// one without a password, then the first.
	best := -1
	rank := func(kg inventory.KVMGraphics) int {
		r := 0
		if kg.Exposed == nil || *kg.Exposed {
			r += 4
		}
		if kg.PasswordSet == nil || !*kg.PasswordSet {
			r += 2
		}
		if kg.TLS == nil || !*kg.TLS {
			r++
		}
		return r
	}
	for _, i := range remote {
		if best < 0 || rank(vm.KVM.Graphics[i]) > rank(vm.KVM.Graphics[best]) {
			best = i
		}
	}
	kg := vm.KVM.Graphics[best]
	if kg.Exposed == nil {
		g.add("vm.console", "the display listens on qemu.conf's default address, and "+dc.qemuReason)
		return
	}
	c := &inventory.Console{Type: kg.Type, Exposed: *kg.Exposed, Listen: kg.Listen}
	if kg.PasswordSet != nil {
		c.PasswordSet = *kg.PasswordSet
	}
	if kg.TLS != nil {
		c.TLS = *kg.TLS
	} else {
		g.add("vm.console.tls", "console TLS is set in qemu.conf (vnc_tls, spice_tls), and "+dc.qemuReason)
	}
	vm.Console = c
}

// graphicsGaps gives every unknown display fact its reason.
func graphicsGaps(gs []inventory.KVMGraphics, dc *domainContext, g gapper) {
	seen := map[string]bool{}
	add := func(field, reason string) {
		if !seen[field] {
			seen[field] = true
			g.add(field, reason)
		}
	}
	for _, kg := range gs {
		if kg.Type != "vnc" && kg.Type != "spice" && kg.Type != "rdp" {
			continue
		}
		if kg.Exposed == nil || kg.ListenScope == nil {
			r := "the display listens on qemu.conf's default address, and " + dc.qemuReason
			add("vm.kvm.graphics.exposed", r)
			add("vm.kvm.graphics.listen_scope", r)
		}
		if kg.PasswordSet == nil && kg.ListenType != "socket" && kg.ListenType != "none" {
			r := "console passwords are only in the secure domain XML, which needs a read-write connection (add ?" + ReadWriteParam + "=1), or on the running guest's QEMU command line (local URIs)"
			add("vm.kvm.graphics.password_set", r)
			add("vm.console.password_set", r)
		}
		if kg.TLS == nil {
			r := "console TLS is set in qemu.conf (vnc_tls, spice_tls), and " + dc.qemuReason
			if kg.Type == "rdp" {
				r = "libvirt does not say whether an RDP display is encrypted"
			}
			add("vm.kvm.graphics.tls", r)
		}
		if kg.SASL == nil {
			r := "console SASL is set in qemu.conf (vnc_sasl, spice_sasl), and " + dc.qemuReason
			if kg.Type == "rdp" {
				r = "libvirt does not say how an RDP display authenticates"
			}
			add("vm.kvm.graphics.sasl", r)
		}
	}
}

// listenScope classifies where a display can be reached from; nil when
// the address is unknown.
func listenScope(listenType, addr string, dc *domainContext) *string {
	switch listenType {
	case "socket", "none":
		return inventory.Ptr("local")
	case "network":
		if addr == "" {
			return nil
		}
	}
	a := strings.Trim(strings.TrimSpace(addr), "[]")
	if a == "" {
		return nil
	}
	if strings.EqualFold(a, "localhost") {
		return inventory.Ptr("local")
	}
	ip, err := netip.ParseAddr(a)
	switch {
	case err != nil:
		return inventory.Ptr("other") // a host name: reachable wherever it resolves
	case ip.IsUnspecified():
		return inventory.Ptr("all")
	case ip.IsLoopback():
		return inventory.Ptr("local")
	}
	if dc.mgmt != nil {
		for _, m := range dc.mgmt.addrs {
			if m == ip.Unmap() {
				return inventory.Ptr("management")
			}
		}
	}
	return inventory.Ptr("other")
}

func graphicsInfo(gr libvirtxml.DomainGraphic, idx int, rec DomainRecord, dc *domainContext) inventory.KVMGraphics {
	var (
		typ                   string
		attrListen, socket    string
		listeners             []libvirtxml.DomainGraphicListener
		passwd                bool
		defaultListen         string
		tls, sasl, globalPass *bool
	)
	q := dc.qemu
	switch {
	case gr.VNC != nil:
		typ, attrListen, socket, listeners, passwd = "vnc", gr.VNC.Listen, gr.VNC.Socket, gr.VNC.Listeners, gr.VNC.Passwd != ""
		if q != nil {
			defaultListen = q.VNCListen
			tls, sasl, globalPass = inventory.Ptr(q.VNCTLS), inventory.Ptr(q.VNCSASL), inventory.Ptr(q.VNCPasswordSet)
		}
	case gr.Spice != nil:
		typ, attrListen, listeners, passwd = "spice", gr.Spice.Listen, gr.Spice.Listeners, gr.Spice.Passwd != ""
		if q != nil {
			defaultListen = q.SpiceListen
			plain := gr.Spice.Port > 0 || gr.Spice.AutoPort == "yes" && gr.Spice.DefaultMode != "secure"
			secure := q.SpiceTLS && (gr.Spice.TLSPort > 0 || gr.Spice.AutoPort == "yes")
			tls, sasl, globalPass = inventory.Ptr(secure && (!plain || gr.Spice.DefaultMode == "secure")), inventory.Ptr(q.SpiceSASL), inventory.Ptr(q.SpicePasswordSet)
		}
	case gr.RDP != nil:
		typ, attrListen, listeners, passwd = "rdp", gr.RDP.Listen, gr.RDP.Listeners, gr.RDP.Passwd != ""
	default:
		switch {
		case gr.SDL != nil:
			typ = "sdl"
		case gr.EGLHeadless != nil:
			typ = "egl-headless"
		case gr.DBus != nil:
			typ = "dbus"
		case gr.Desktop != nil:
			typ = "desktop"
		default:
			typ = "unknown"
		}
		return inventory.KVMGraphics{Type: typ, ListenType: "none", Exposed: inventory.Ptr(false), ListenScope: inventory.Ptr("local"),
			TLS: inventory.Ptr(false), SASL: inventory.Ptr(false), Source: "domain XML /domain/devices/graphics (a local display)"}
	}
	kg := inventory.KVMGraphics{Type: typ, TLS: tls, SASL: sasl, Source: "domain XML /domain/devices/graphics and " + pathQEMUConf}
	switch {
	case socket != "":
		kg.ListenType, kg.Listen = "socket", socket
	case len(listeners) > 0:
		l := listeners[0]
		switch {
		case l.Socket != nil:
			kg.ListenType, kg.Listen = "socket", l.Socket.Socket
		case l.Network != nil:
			kg.ListenType, kg.Listen = "network", l.Network.Network
			if l.Network.Address != "" {
				kg.Listen = l.Network.Address
			}
		case l.Address != nil:
			kg.ListenType, kg.Listen = "address", l.Address.Address
		default:
			kg.ListenType = "none"
		}
	default:
		kg.ListenType, kg.Listen = "address", attrListen
	}
	if kg.ListenType == "address" && kg.Listen == "" {
		if typ == "vnc" && q != nil && q.VNCAutoUnixSocket {
			kg.ListenType = "socket"
		} else {
			kg.Listen = defaultListen
		}
	}
	if kg.ListenType == "network" && len(listeners) > 0 && listeners[0].Network != nil && listeners[0].Network.Address == "" {
		// The address of a libvirt network's bridge: never loopback, and
		// only once the guest runs is it known which.
		kg.ListenScope = inventory.Ptr("other")
	} else {
		kg.ListenScope = listenScope(kg.ListenType, kg.Listen, dc)
	}
	if kg.ListenScope != nil {
		kg.Exposed = inventory.Ptr(*kg.ListenScope != "local")
	}
	switch {
	case passwd:
		kg.PasswordSet = inventory.Ptr(true)
	case rec.Secure && idx < len(rec.GraphicsPasswords):
		kg.PasswordSet = inventory.Ptr(rec.GraphicsPasswords[idx] || globalPass != nil && *globalPass)
	case globalPass != nil && *globalPass:
		kg.PasswordSet = inventory.Ptr(true)
	}
	return kg
}

// runtimeDisplay is one -vnc or -spice option of a QEMU command line.
type runtimeDisplay struct {
	typ        string
	listenType string
	listen     string
	password   bool
	tls, sasl  bool
}

// parseRuntimeDisplays reads the displays libvirt 9.0 passes to QEMU
// (qemuBuildGraphicsVNCCommandLine, …SPICECommandLine): what the process
// really listens on and requires.
func parseRuntimeDisplays(args []string) []runtimeDisplay {
	tlsObjects := map[string]bool{}
	for i := 1; i+1 < len(args); i++ {
		if args[i] == "-object" && strings.HasPrefix(args[i+1], "tls-creds-x509,") {
			tlsObjects[qemuOpts(args[i+1])["id"]] = true
		}
	}
	var out []runtimeDisplay
	for i := 1; i+1 < len(args); i++ {
		o := qemuOpts(args[i+1])
		switch args[i] {
		case "-vnc":
			d := runtimeDisplay{typ: "vnc", password: o["password"] == "on", sasl: o["sasl"] == "on"}
			d.tls = o["tls-creds"] != "" && tlsObjects[o["tls-creds"]]
			first := o[""]
			if v, ok := o["vnc"]; ok { // the implied key, spelled out
				first = v
			}
			switch {
			case first == "none":
				d.listenType = "none"
			case strings.HasPrefix(first, "vnc=unix:"), strings.HasPrefix(first, "unix:"):
				d.listenType, d.listen = "socket", first[strings.Index(first, "unix:")+5:]
			default:
				d.listenType = "address"
				host := first
				if j := strings.LastIndexByte(first, ':'); j >= 0 {
					host = first[:j]
				}
				d.listen = strings.Trim(host, "[]")
			}
			out = append(out, d)
		case "-spice":
			d := runtimeDisplay{typ: "spice", sasl: o["sasl"] == "on", password: o["disable-ticketing"] != "on"}
			_, unix := o["unix"]
			plain, secure := o["port"] != "" && o["port"] != "0", o["tls-port"] != "" && o["tls-port"] != "0"
			switch {
			case unix:
				d.listenType, d.listen = "socket", o["addr"]
			case !plain && !secure:
				d.listenType = "none"
			default:
				d.listenType, d.listen = "address", o["addr"]
			}
			d.tls = secure && (!plain || o["tls-channel"] == "default")
			out = append(out, d)
		}
	}
	return out
}

// applyRuntimeGraphics replaces the XML's view of VNC and SPICE displays
// with what the QEMU process was started with, in order. A non-empty
// result says why that could not be done.
func applyRuntimeGraphics(gs []inventory.KVMGraphics, p *ProcessRecord, dc *domainContext) string {
	disp := parseRuntimeDisplays(p.Args)
	byType := map[string][]runtimeDisplay{}
	for _, d := range disp {
		byType[d.typ] = append(byType[d.typ], d)
	}
	want := map[string]int{}
	for _, kg := range gs {
		if kg.Type == "vnc" || kg.Type == "spice" {
			want[kg.Type]++
		}
	}
	for t, n := range want {
		if len(byType[t]) != n {
			return fmt.Sprintf("QEMU process %d has %d -%s options for the %d %s displays of its domain XML", p.PID, len(byType[t]), t, n, t)
		}
	}
	for t, n := range map[string]int{"vnc": len(byType["vnc"]), "spice": len(byType["spice"])} {
		if n > want[t] {
			return fmt.Sprintf("QEMU process %d has %d -%s options for the %d %s displays of its domain XML", p.PID, n, t, want[t], t)
		}
	}
	next := map[string]int{}
	for i := range gs {
		kg := &gs[i]
		if kg.Type != "vnc" && kg.Type != "spice" {
			continue
		}
		d := byType[kg.Type][next[kg.Type]]
		next[kg.Type]++
		kg.ListenType, kg.Listen = d.listenType, d.listen
		if d.listenType == "address" && d.listen == "" {
			kg.ListenScope = inventory.Ptr("all") // QEMU binds every interface
		} else {
			kg.ListenScope = listenScope(d.listenType, d.listen, dc)
		}
		kg.Exposed = inventory.Ptr(*kg.ListenScope != "local")
		kg.PasswordSet, kg.TLS, kg.SASL = inventory.Ptr(d.password), inventory.Ptr(d.tls), inventory.Ptr(d.sasl)
		kg.Source = processSource(p, "command line (-"+kg.Type+")")
	}
	return ""
}
