package libvirt

import (
	"fmt"
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"

	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// A running guest is judged by its QEMU process: the user and group it
// runs as, its -sandbox and -machine dump-guest-core options, its -vnc and
// -spice options and its security label. A stopped guest is judged by
// what the daemon will give it when it starts: its domain XML and
// qemu.conf, which count only while the daemon has not been left running
// with an older qemu.conf (see qemuConfStale).

// hasProcess: libvirt states in which the domain's QEMU process exists.
func hasProcess(state string) bool {
	switch state {
	case "running", "blocked", "paused", "pmsuspended", "shutdown":
		return true
	}
	return false
}

// domainRuntime returns the QEMU process of a running domain, or why
// there is none to read.
func (dc *domainContext) domainRuntime(name string) (*ProcessRecord, string) {
	if dc.rt == nil {
		if dc.rtReason != "" {
			return nil, dc.rtReason
		}
		return nil, "the host's processes were not read"
	}
	if dc.rtReason != "" {
		return nil, dc.rtReason
	}
	p, ok := dc.rt.Domains[name]
	switch {
	case !ok:
		return nil, "the QEMU process of this running guest was not looked up (qemu:///session guests run as their user)"
	case p.Error != "":
		return nil, "its QEMU process could not be read: " + p.Error
	}
	return &p, ""
}

// processSource names a QEMU process as evidence.
func processSource(p *ProcessRecord, what string) string {
	return fmt.Sprintf("QEMU process %d %s (/proc/%d, found through %s)", p.PID, what, p.PID, p.PIDFile)
}

// mapEffective fills vm.kvm.runtime and the effective isolation facts.
func mapEffective(rec DomainRecord, d *libvirtxml.Domain, vm *inventory.VM, dc *domainContext, g gapper) {
	k := vm.KVM
	if hasProcess(rec.State) {
		p, reason := dc.domainRuntime(d.Name)
		if p != nil {
			mapRuntime(p, vm, dc)
			k.MACConfined = macConfined(d, p, dc, g)
			return
		}
		g.add("vm.kvm.runtime", reason)
		// The live XML still tells the DAC label the process got.
		if uid, gid, ok := dacLabel(d, "dac"); ok {
			k.RunsAsRoot = inventory.Ptr(uid == 0 || gid == 0)
		} else {
			g.add("vm.kvm.runs_as_root", "a running guest's user is read from its QEMU process, and "+reason)
		}
		g.add("vm.kvm.sandbox", "a running guest's seccomp sandbox is read from its QEMU command line, and "+reason)
		if d.Memory != nil && (d.Memory.DumpCore == "on" || d.Memory.DumpCore == "off") {
			k.DumpGuestCore = inventory.Ptr(d.Memory.DumpCore == "on")
		} else {
			g.add("vm.kvm.dump_guest_core", "a running guest's dump-guest-core is read from its QEMU command line, and "+reason)
		}
		k.EffectiveSource = "live domain XML (the QEMU process was not read: " + reason + ")"
		k.MACConfined = macConfined(d, nil, dc, g)
		return
	}
	// Not running: what the daemon will give it on start.
	g.add("vm.kvm.runtime", "the guest is not running: it has no QEMU process")
	k.EffectiveSource = "domain XML and " + pathQEMUConf + " (the guest is not running)"
	q := dc.qemu
	if uid, gid, ok := dacLabel(d, "dac"); ok {
		k.RunsAsRoot = inventory.Ptr(uid == 0 || gid == 0)
	} else if q != nil && q.RunsAsRoot != nil {
		k.RunsAsRoot = inventory.Ptr(*q.RunsAsRoot || isRootName(q.Group))
	} else if q != nil {
		g.add("vm.kvm.runs_as_root", "qemu.conf sets no user and the distribution's default is not known")
	} else {
		g.add("vm.kvm.runs_as_root", "a stopped guest runs as qemu.conf's user, and "+dc.qemuReason)
	}
	if q != nil {
		k.Sandbox = inventory.Ptr(q.SeccompSandbox == 1)
	} else {
		g.add("vm.kvm.sandbox", "a stopped guest gets qemu.conf's seccomp_sandbox, and "+dc.qemuReason)
	}
	switch {
	case d.Memory != nil && (d.Memory.DumpCore == "on" || d.Memory.DumpCore == "off"):
		k.DumpGuestCore = inventory.Ptr(d.Memory.DumpCore == "on")
	case q != nil:
		k.DumpGuestCore = inventory.Ptr(q.DumpGuestCore)
	default:
		g.add("vm.kvm.dump_guest_core", "the domain sets no <memory dumpCore>, so qemu.conf's dump_guest_core decides, and "+dc.qemuReason)
	}
	k.MACConfined = macConfined(d, nil, dc, g)
}

func isRootName(s string) bool { return s == "root" || s == "+0" || s == "0" }

// mapRuntime reads a running guest's facts from its QEMU process.
func mapRuntime(p *ProcessRecord, vm *inventory.VM, dc *domainContext) {
	k := vm.KVM
	rt := &inventory.KVMRuntime{PID: p.PID, Source: processSource(p, "command line and status"), Executable: strings.TrimSuffix(p.Exe, " (deleted)"),
		ExecutableDeleted: exeDeleted(p.Exe), UID: -1, GID: -1, Args: append([]string{}, p.Args...), Started: procStart(dc.rt, *p)}
	root := false
	if len(p.UID) > 0 {
		rt.UID = p.UID[0]
		for _, id := range p.UID {
			root = root || id == 0
		}
	}
	if len(p.GID) > 0 {
		rt.GID = p.GID[0]
		for _, id := range p.GID {
			root = root || id == 0
		}
	}
	k.Runtime = rt
	k.EffectiveSource = rt.Source
	if len(p.UID) > 0 && len(p.GID) > 0 {
		k.RunsAsRoot = inventory.Ptr(root)
	}
	sandbox := false
	dump := true // QEMU's default without dump-guest-core=off
	for i := 1; i+1 < len(p.Args); i++ {
		switch p.Args[i] {
		case "-sandbox":
			o := qemuOpts(p.Args[i+1])
			sandbox = o[""] == "on"
		case "-machine", "-M":
			if v, ok := qemuOpts(p.Args[i+1])["dump-guest-core"]; ok {
				dump = v == "on"
			}
		}
	}
	k.Sandbox = inventory.Ptr(sandbox)
	k.DumpGuestCore = inventory.Ptr(dump)
}

// dacLabel reads a static DAC label "+UID:+GID" (or names) of the
// domain's seclabel for model; ok is false without one.
func dacLabel(d *libvirtxml.Domain, model string) (uid, gid int64, ok bool) {
	for _, s := range d.SecLabel {
		if s.Model != model || s.Label == "" {
			continue
		}
		u, gr, found := strings.Cut(s.Label, ":")
		if !found {
			return 0, 0, false
		}
		id := func(x string) (int64, bool) {
			x = strings.TrimSpace(x)
			if x == "root" {
				return 0, true
			}
			n, err := strconv.ParseInt(strings.TrimPrefix(x, "+"), 10, 64)
			return n, err == nil
		}
		a, okA := id(u)
		b, okB := id(gr)
		if okA && okB {
			return a, b, true
		}
		// A user name other than root: not root, but only the user is known.
		return 1, 1, u != "" && gr != "" && u != "root" && gr != "root"
	}
	return 0, 0, false
}

// macConfined decides whether an SELinux or AppArmor label confines the
// guest, the same way for every guest of a host: no MAC security driver
// on the host confines nobody, whatever the domain XML asks for.
func macConfined(d *libvirtxml.Domain, p *ProcessRecord, dc *domainContext, g gapper) *bool {
	if dc.secModels == nil {
		g.add("vm.kvm.mac_confined", "confinement depends on the host's security drivers, and "+dc.secReason)
		return nil
	}
	var mac []string
	for _, m := range dc.secModels {
		if m == "selinux" || m == "apparmor" {
			mac = append(mac, m)
		}
	}
	if len(mac) == 0 {
		return inventory.Ptr(false)
	}
	if p != nil && p.Label != "" {
		l := p.Label
		switch {
		case strings.Contains(l, "svirt_"), strings.HasPrefix(l, "libvirt-") && strings.Contains(l, "(enforce)"):
			return inventory.Ptr(true)
		case l == "unconfined", strings.Contains(l, "unconfined_t"), strings.Contains(l, "(complain)"):
			return inventory.Ptr(false)
		}
	}
	// The domain's seclabel for each MAC driver; a single seclabel without
	// a model applies to the host's first (primary) driver.
	for i, m := range mac {
		var lab *libvirtxml.DomainSecLabel
		for j := range d.SecLabel {
			s := &d.SecLabel[j]
			if s.Model == m || s.Model == "" && len(d.SecLabel) == 1 && i == 0 && dc.secModels[0] == m {
				lab = s
			}
		}
		switch {
		case lab != nil && lab.Type == "none":
			continue
		case lab != nil:
			return inventory.Ptr(true)
		case dc.qemu != nil && dc.qemu.SecurityDefaultConfined:
			return inventory.Ptr(true) // libvirt gives it a dynamic label
		case dc.qemu != nil:
			continue // security_default_confined = 0: unconfined
		default:
			g.add("vm.kvm.mac_confined", "the domain has no "+m+" seclabel, so qemu.conf's security_default_confined decides, and "+dc.qemuReason)
			return nil
		}
	}
	return inventory.Ptr(false)
}
