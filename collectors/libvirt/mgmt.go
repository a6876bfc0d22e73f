package libvirt

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"

	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// Management separation is a question about layer 2: can a guest's frames
// reach the segment the host is managed on? A guest attached to a device
// reaches every wire below it. Going down, a bridge or bond passes frames
// as they are, a VLAN interface tags them. So a guest on a bridge over
// bond0 reaches bond0 untagged and can send frames tagged with the
// management VLAN of bond0.10 itself; a guest on a bridge over bond0.20
// only reaches VLAN 20. And a NAT, routed or open network sends the
// guests' traffic out of its egress interface: when that is the
// management interface, the guests are on the management network as far
// as every host there is concerned.

// ifNode is one host interface of the topology libvirt reports.
type ifNode struct {
	name    string
	lower   []ifEdge // the devices this one sends its frames through
	ips     []netip.Addr
	gateway bool
	bridge  bool
}

// ifEdge leads to a lower device; tag is the VLAN the upper device adds.
type ifEdge struct {
	dev string
	tag string
}

// wireSeg is a physical (lowest) device and the VLAN tags frames carry
// there, outermost first ("" untagged).
type wireSeg struct {
	dev  string
	tags string
}

// mgmtInfo is the derived management network of the host.
type mgmtInfo struct {
	// ifaces carry the management address or the default route; addrs are
	// their addresses.
	ifaces []string
	addrs  []netip.Addr
	// known: ifaces were found, so separation can be judged.
	known bool
	// nodes is the host's interface topology (empty when libvirt's
	// interface list was not read: every device is then only itself).
	nodes map[string]*ifNode
	// defaultRoute are the interfaces of the host's default route, where
	// NAT and routed traffic leaves; nil when unknown.
	defaultRoute []string
	reason       string
	// how says why ifaces were chosen.
	how string
}

// testMgmt is a management network of bare interfaces, for tests.
func testMgmt(ifaces ...string) *mgmtInfo {
	return &mgmtInfo{ifaces: ifaces, known: true, nodes: map[string]*ifNode{}, defaultRoute: ifaces}
}

// reach returns the wire segments a device's frames can reach.
func (m *mgmtInfo) reach(dev string) map[wireSeg]bool {
	out := map[wireSeg]bool{}
	var walk func(dev, tags string, depth int)
	walk = func(dev, tags string, depth int) {
		n := m.nodes[dev]
		if n == nil || len(n.lower) == 0 || depth > 16 {
			out[wireSeg{dev, tags}] = true
			return
		}
		for _, e := range n.lower {
			t := tags
			if e.tag != "" {
				// A lower VLAN device adds the outer tag.
				t = strings.Trim(e.tag+"/"+tags, "/")
			}
			walk(e.dev, t, depth+1)
		}
	}
	walk(dev, "", 0)
	return out
}

// onSegment: a guest attached to dev can put frames on the management
// segment — it reaches a wire the management interface uses, untagged
// (so it can forge any VLAN tag) or with the management VLAN's tags.
func (m *mgmtInfo) onSegment(dev string) bool {
	if dev == "" {
		return false
	}
	guest := m.reach(dev)
	for _, mi := range m.ifaces {
		if mi == dev {
			return true
		}
		for ms := range m.reach(mi) {
			for gs := range guest {
				if gs.dev == ms.dev && (gs.tags == "" || gs.tags == ms.tags) {
					return true
				}
			}
		}
	}
	return false
}

// routesOnto: traffic routed out of dev enters the management network —
// dev is a management interface or sends to exactly its segments.
func (m *mgmtInfo) routesOnto(dev string) bool {
	for _, mi := range m.ifaces {
		if mi == dev {
			return true
		}
		a, b := m.reach(dev), m.reach(mi)
		if len(a) > 0 && len(a) == len(b) {
			same := true
			for s := range a {
				same = same && b[s]
			}
			if same {
				return true
			}
		}
	}
	return false
}

// unknownReason explains an unknown management interface.
func (m *mgmtInfo) unknownReason() string {
	r := "the host's management interface is unknown"
	if m != nil && m.reason != "" {
		r += ": " + m.reason
	}
	return r
}

// judgeNetwork sets a libvirt network's management verdict and egress;
// a non-empty result says why the verdict is unknown.
func (m *mgmtInfo) judgeNetwork(n *inventory.Network, x *libvirtxml.Network) string {
	k := n.KVM
	switch k.ForwardMode {
	case "nat", "route", "open":
		switch {
		case x.Forward != nil && x.Forward.Dev != "":
			k.Egress = []string{x.Forward.Dev}
		case m != nil && m.defaultRoute != nil:
			k.Egress = append([]string{}, m.defaultRoute...)
		}
	default:
		k.Egress = []string{}
	}
	if m == nil || !m.known {
		return m.unknownReason()
	}
	on := false
	switch k.ForwardMode {
	case "bridge", "private", "vepa", "passthrough", "hostdev":
		on = m.onSegment(k.Bridge)
		for _, d := range k.ForwardDevs {
			on = on || m.onSegment(d)
		}
	case "nat", "route", "open":
		if k.Egress == nil {
			return fmt.Sprintf("network %s %ss its guests' traffic out of the host's default route, which is unknown", n.Name, k.ForwardMode)
		}
		for _, e := range k.Egress {
			on = on || m.routesOnto(e)
		}
	}
	n.Management = inventory.Ptr(on)
	return ""
}

// onManagement decides whether a guest NIC of the given type and source
// reaches the management network; a non-empty reason means unknown.
func (dc *domainContext) onManagement(typ, src string) (bool, string) {
	switch typ {
	case "user", "mcast", "udp", "server", "client", "null", "internal":
		return false, ""
	}
	if dc.mgmt == nil || !dc.mgmt.known {
		return false, dc.mgmt.unknownReason()
	}
	switch typ {
	case "bridge", "direct":
		return dc.mgmt.onSegment(src), ""
	case "network":
		if dc.networks == nil {
			return false, dc.netReason
		}
		n := dc.networks[src]
		if n == nil {
			return false, fmt.Sprintf("network %q is not among the host's libvirt networks", src)
		}
		if n.Management == nil {
			return false, fmt.Sprintf("whether network %q reaches the management network is unknown", src)
		}
		return *n.Management, ""
	}
	return false, fmt.Sprintf("a %s interface attaches outside libvirt's networks (tap, vhost-user, VF or vDPA device), so its segment is unknown", typ)
}

// hostTopology reads libvirt's host interface definitions into a graph.
func hostTopology(d *Data, g gapper) (map[string]*ifNode, []string) {
	nodes := map[string]*ifNode{}
	var order []string
	node := func(name string) *ifNode {
		n := nodes[name]
		if n == nil {
			n = &ifNode{name: name}
			nodes[name] = n
			order = append(order, name)
		}
		return n
	}
	addEdge := func(n *ifNode, e ifEdge) {
		for _, x := range n.lower {
			if x == e {
				return
			}
		}
		n.lower = append(n.lower, e)
	}
	var walk func(x *libvirtxml.Interface)
	walk = func(x *libvirtxml.Interface) {
		if x == nil || x.Name == "" {
			return
		}
		hi := node(x.Name)
		for _, p := range x.Protocol {
			for _, ip := range p.IPs {
				if a, err := netip.ParseAddr(ip.Address); err == nil {
					hi.ips = append(hi.ips, a.Unmap())
				}
			}
			for _, r := range p.Route {
				if r.Gateway != "" {
					hi.gateway = true
				}
			}
		}
		var kids []libvirtxml.Interface
		if x.Bridge != nil {
			hi.bridge = true
			kids = x.Bridge.Interfaces
		}
		if x.Bond != nil {
			kids = append(kids, x.Bond.Interfaces...)
		}
		for i := range kids {
			addEdge(hi, ifEdge{dev: kids[i].Name})
			walk(&kids[i])
		}
		if v := x.VLAN; v != nil && v.Interface != nil {
			tag := ""
			if v.Tag != nil {
				tag = strconv.FormatUint(uint64(*v.Tag), 10)
			}
			addEdge(hi, ifEdge{dev: v.Interface.Name, tag: tag})
			walk(v.Interface)
		}
	}
	for _, r := range d.Interfaces {
		var x libvirtxml.Interface
		if err := x.Unmarshal(r.XML); err != nil {
			g.add("host.vmkernel_nics", fmt.Sprintf("interface %s XML does not parse: %v", r.Name, err))
			continue
		}
		walk(&x)
	}
	return nodes, order
}

// managementNetwork finds the interfaces that carry the host's management
// address (the address hvaudit connected to) or its default route,
// records the host's interfaces, and returns what judging separation
// needs.
func managementNetwork(d *Data, h *inventory.Host, g gapper) *mgmtInfo {
	nodes, order := hostTopology(d, g)
	m := &mgmtInfo{nodes: nodes, defaultRoute: defaultRoute(d, nodes, order, g)}
	mgmt, how := managementIfaces(d, nodes, order, m.defaultRoute)
	upper := upperDevices(nodes, order)
	h.VMKernelNICs = hostNICs(d, nodes, order, upper, mgmt)
	if len(mgmt) == 0 {
		m.reason = noManagementReason(d)
		g.add("host.management", m.reason)
		return m
	}
	m.ifaces, m.known, m.how = mgmt, true, how
	for _, n := range mgmt {
		if hi := nodes[n]; hi != nil {
			m.addrs = append(m.addrs, hi.ips...)
		}
	}
	h.Management = m.managementFacts(upper)
	return m
}

// defaultRoute names the interfaces of the default route: from
// /proc/net/route of a local host, else a gateway in libvirt's interface
// definitions.
func defaultRoute(d *Data, nodes map[string]*ifNode, order []string, g gapper) []string {
	var route []string
	if d.Host != nil {
		if s, ok := d.Host.Files[pathProcNetRoute]; ok {
			routes, err := ParseProcNetRoute(s)
			if err != nil {
				g.add("host.management", pathProcNetRoute+": "+err.Error())
			} else {
				route = defaultRouteIfaces(routes)
			}
		}
	}
	if route == nil && d.Interfaces != nil {
		for _, n := range order {
			if nodes[n].gateway {
				route = append(route, n)
			}
		}
	}
	return route
}

// managementIfaces picks the management interfaces, and says how: those
// carrying the address hvaudit connected to, else the default route's.
func managementIfaces(d *Data, nodes map[string]*ifNode, order, route []string) (mgmt []string, how string) {
	var conn []netip.Addr
	for _, s := range d.ConnectionAddresses {
		if a, err := netip.ParseAddr(s); err == nil {
			conn = append(conn, a.Unmap())
		}
	}
	for _, n := range order {
		for _, ip := range nodes[n].ips {
			for _, c := range conn {
				if ip == c {
					mgmt = append(mgmt, n)
				}
			}
		}
	}
	if len(mgmt) > 0 {
		return mgmt, "carries the address hvaudit connected to"
	}
	if len(route) > 0 {
		return append([]string{}, route...), "carries the default route"
	}
	return nil, ""
}

// upperDevices maps each device to the bridge or bond using it untagged.
func upperDevices(nodes map[string]*ifNode, order []string) map[string]string {
	upper := map[string]string{}
	for _, n := range order {
		for _, e := range nodes[n].lower {
			if e.tag == "" {
				upper[e.dev] = n
			}
		}
	}
	return upper
}

// hostNICs lists the host's addressed interfaces with their switch (the
// bridge they are or sit on), VLAN and whether they carry management; nil
// when the interfaces were not read.
func hostNICs(d *Data, nodes map[string]*ifNode, order []string, upper map[string]string, mgmt []string) []inventory.HostNIC {
	if d.Interfaces == nil {
		return nil
	}
	nics := []inventory.HostNIC{}
	for _, n := range order {
		hi := nodes[n]
		if len(hi.ips) == 0 {
			continue
		}
		nic := inventory.HostNIC{Device: n, IP: hi.ips[0].String(), Services: []string{}}
		if hi.bridge {
			nic.Switch = n
		} else if p := upper[n]; p != "" {
			nic.Switch = p
		}
		for _, e := range hi.lower {
			if e.tag != "" {
				if v, err := strconv.ParseInt(e.tag, 10, 64); err == nil {
					nic.VLAN = inventory.Ptr(v)
				}
			}
		}
		if slices.Contains(mgmt, n) {
			nic.Services = append(nic.Services, "management")
		}
		nics = append(nics, nic)
	}
	return nics
}

// noManagementReason says why no management interface was found.
func noManagementReason(d *Data) string {
	switch {
	case d.Interfaces == nil && d.Host == nil:
		return d.why("interfaces", "host interfaces were not read") + "; the host's routes need local access"
	case len(d.ConnectionAddresses) > 0:
		return fmt.Sprintf("no host interface carries %s and no default route was found", strings.Join(d.ConnectionAddresses, ", "))
	}
	return "no host interface carries a default route or the address hvaudit connected to"
}

// managementFacts is the host's management network: its interfaces, the
// bridges they are on and the VLANs they reach. Which traffic shares
// those interfaces, and the migration network, are not visible through
// libvirt: left nil (unknown).
func (m *mgmtInfo) managementFacts(upper map[string]string) *inventory.ManagementNetwork {
	mn := &inventory.ManagementNetwork{Interfaces: m.ifaces, Networks: []string{}, VLANs: []int64{}}
	for _, n := range m.ifaces {
		if hi := m.nodes[n]; hi != nil && hi.bridge {
			mn.Networks = append(mn.Networks, n)
		} else if p := upper[n]; p != "" {
			mn.Networks = append(mn.Networks, p)
		}
		for s := range m.reach(n) {
			if s.tags == "" {
				continue
			}
			outer, _, _ := strings.Cut(s.tags, "/")
			if v, err := strconv.ParseInt(outer, 10, 64); err == nil && !containsInt(mn.VLANs, v) {
				mn.VLANs = append(mn.VLANs, v)
			}
		}
	}
	sort.Slice(mn.VLANs, func(a, b int) bool { return mn.VLANs[a] < mn.VLANs[b] })
	return mn
}

func containsInt(s []int64, v int64) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
