package libvirt

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"libvirt.org/go/libvirtxml"

	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// ParseDomainXML unmarshals a domain XML and applies the checks libvirt's
// own parser makes (and a few the QEMU driver makes), so a definition
// libvirt would refuse is reported as such instead of being audited as if
// it ran. Errors read "domain NAME: …".
func ParseDomainXML(doc string) (*libvirtxml.Domain, error) {
	var d libvirtxml.Domain
	if err := d.Unmarshal(doc); err != nil {
		return nil, fmt.Errorf("domain XML does not parse: %w", err)
	}
	if err := validateDomain(&d, doc); err != nil {
		name := d.Name
		if name == "" {
			name = "(unnamed)"
		}
		return &d, fmt.Errorf("domain %s: %w", name, err)
	}
	return &d, nil
}

// rawDomain reads what libvirtxml drops but validation needs.
type rawDomain struct {
	Disks []struct {
		Target struct {
			Dev string `xml:"dev,attr"`
		} `xml:"target"`
		Encryption *rawEncryption `xml:"encryption"`
		Source     *struct {
			Encryption *rawEncryption `xml:"encryption"`
		} `xml:"source"`
	} `xml:"devices>disk"`
}

type rawEncryption struct {
	Cipher *struct{} `xml:"cipher"`
	IVGen  *struct{} `xml:"ivgen"`
}

func validateDomain(d *libvirtxml.Domain, doc string) error {
	var errs []error
	if strings.TrimSpace(d.Name) == "" {
		errs = append(errs, errors.New("missing <name>"))
	}
	// Domain-level seclabels: with several, each needs a model (type
	// 'none' may stand without one), and a model appears once.
	if len(d.SecLabel) > 1 {
		seen := map[string]bool{}
		for _, s := range d.SecLabel {
			if s.Model == "" {
				if s.Type != "none" {
					errs = append(errs, errors.New("missing security model when using multiple <seclabel> elements"))
				}
				continue
			}
			if seen[s.Model] {
				errs = append(errs, fmt.Errorf("<seclabel> for model %s given twice", s.Model))
			}
			seen[s.Model] = true
		}
	}
	if d.Devices != nil {
		for _, t := range d.Devices.TPMs {
			if t.Backend == nil {
				errs = append(errs, fmt.Errorf("missing TPM device backend (<tpm model='%s'> has no <backend>)", t.Model))
			}
		}
		errs = append(errs, duplicateHostdevs(d.Devices.Hostdevs)...)
		var raw rawDomain
		if err := xml.Unmarshal([]byte(doc), &raw); err == nil {
			for _, rd := range raw.Disks {
				src := rd.Source != nil && rd.Source.Encryption != nil
				if rd.Encryption != nil && src {
					errs = append(errs, fmt.Errorf("disk %s: <encryption> given both on the disk and on its <source>", rd.Target.Dev))
				}
				for _, e := range []*rawEncryption{rd.Encryption, sourceEnc(rd.Source)} {
					if e != nil && (e.Cipher != nil || e.IVGen != nil) {
						errs = append(errs, fmt.Errorf("disk %s: <cipher>/<ivgen> are not allowed in a domain disk's <encryption> (they belong to the volume)", rd.Target.Dev))
					}
				}
			}
		}
		for _, disk := range d.Devices.Disks {
			errs = append(errs, deviceSecLabelDups(diskName(disk), diskSecLabels(disk))...)
		}
		if d.Type == "kvm" || d.Type == "qemu" {
			errs = append(errs, qemuRules(d)...)
		}
	}
	return errors.Join(errs...)
}

func sourceEnc(s *struct {
	Encryption *rawEncryption `xml:"encryption"`
}) *rawEncryption {
	if s == nil {
		return nil
	}
	return s.Encryption
}

// qemuRules are checks the QEMU driver applies when it validates a domain.
func qemuRules(d *libvirtxml.Domain) []error {
	var errs []error
	for _, disk := range d.Devices.Disks {
		enc := diskEncryption(disk)
		if enc == nil || !strings.HasPrefix(enc.Format, "luks") || enc.Engine == "librbd" {
			continue
		}
		if disk.Driver != nil && disk.Driver.Type != "" && disk.Driver.Type != "raw" && disk.Driver.Type != "qcow2" {
			errs = append(errs, fmt.Errorf("disk %s: LUKS encryption needs a raw or qcow2 image, not %s", diskName(disk), disk.Driver.Type))
		}
	}
	for i, ifc := range d.Devices.Interfaces {
		if ifc.Source != nil && ifc.Source.Hostdev != nil && ifc.FilterRef != nil {
			errs = append(errs, fmt.Errorf("interface %d (type hostdev): an nwfilter (<filterref>) cannot apply to a passed-through NIC", i))
		}
	}
	return errs
}

func diskSecLabels(disk libvirtxml.DomainDisk) []libvirtxml.DomainDeviceSecLabel {
	if disk.Source == nil {
		return nil
	}
	switch s := disk.Source; {
	case s.File != nil:
		return s.File.SecLabel
	case s.Block != nil:
		return s.Block.SecLabel
	case s.Volume != nil:
		return s.Volume.SecLabel
	}
	return nil
}

func deviceSecLabelDups(dev string, labels []libvirtxml.DomainDeviceSecLabel) []error {
	seen := map[string]bool{}
	var errs []error
	for _, l := range labels {
		if seen[l.Model] {
			errs = append(errs, fmt.Errorf("disk %s: <seclabel> for model %q given twice", dev, l.Model))
		}
		seen[l.Model] = true
	}
	return errs
}

// duplicateHostdevs finds host devices assigned twice.
func duplicateHostdevs(hds []libvirtxml.DomainHostdev) []error {
	seen := map[string]bool{}
	var errs []error
	for _, h := range hds {
		typ, src := hostdevSource(h)
		if src == "" {
			continue
		}
		k := typ + " " + src
		if seen[k] {
			errs = append(errs, fmt.Errorf("hostdev %s %s is assigned twice", typ, src))
		}
		seen[k] = true
	}
	return errs
}

func u(p *uint) uint {
	if p == nil {
		return 0
	}
	return *p
}

func pciAddr(a *libvirtxml.DomainAddressPCI) string {
	if a == nil {
		return ""
	}
	return fmt.Sprintf("%04x:%02x:%02x.%x", u(a.Domain), u(a.Bus), u(a.Slot), u(a.Function))
}

func usbSource(s *libvirtxml.DomainHostdevSubsysUSBSource) string {
	if s == nil {
		return ""
	}
	if s.Vendor != nil || s.Product != nil {
		v, p := "", ""
		if s.Vendor != nil {
			v = s.Vendor.ID
		}
		if s.Product != nil {
			p = s.Product.ID
		}
		return v + ":" + p
	}
	if s.Address != nil {
		return fmt.Sprintf("bus %d device %d", u(s.Address.Bus), u(s.Address.Device))
	}
	return ""
}

// hostdevSource names a host device: its type and address.
func hostdevSource(h libvirtxml.DomainHostdev) (typ, src string) {
	switch {
	case h.SubsysPCI != nil:
		if h.SubsysPCI.Source != nil {
			src = pciAddr(h.SubsysPCI.Source.Address)
		}
		return "pci", src
	case h.SubsysUSB != nil:
		return "usb", usbSource(h.SubsysUSB.Source)
	case h.SubsysSCSI != nil:
		if s := h.SubsysSCSI.Source; s != nil {
			switch {
			case s.Host != nil && s.Host.Adapter != nil:
				src = s.Host.Adapter.Name
				if a := s.Host.Address; a != nil {
					src += fmt.Sprintf(" %d:%d:%d", u(a.Bus), u(a.Target), u(a.Unit))
				}
			case s.ISCSI != nil:
				src = s.ISCSI.Name
			}
		}
		return "scsi", src
	case h.SubsysSCSIHost != nil:
		return "scsi_host", ""
	case h.SubsysMDev != nil:
		if s := h.SubsysMDev.Source; s != nil && s.Address != nil {
			src = s.Address.UUID
		}
		return "mdev", src
	case h.CapsStorage != nil:
		return "storage", h.CapsStorage.Source.Block
	case h.CapsMisc != nil:
		return "misc", h.CapsMisc.Source.Char
	case h.CapsNet != nil:
		return "net", h.CapsNet.Source.Interface
	}
	return "unknown", ""
}

func diskName(d libvirtxml.DomainDisk) string {
	if d.Target != nil && d.Target.Dev != "" {
		return d.Target.Dev
	}
	if d.Alias != nil && d.Alias.Name != "" {
		return d.Alias.Name
	}
	return "(no target)"
}

// diskEncryption returns the disk's encryption, on its source (current
// form) or on the disk (legacy form).
func diskEncryption(d libvirtxml.DomainDisk) *libvirtxml.DomainDiskEncryption {
	if d.Source != nil && d.Source.Encryption != nil {
		return d.Source.Encryption
	}
	return d.Encryption
}

// encryptedFormat reports whether an encryption format protects data at
// rest: LUKS does; legacy qcow AES-CBC encryption does not count.
func encryptedFormat(format string) bool {
	switch format {
	case "luks", "luks2", "luks-any":
		return true
	}
	return false
}

func diskHasMedia(d libvirtxml.DomainDisk) bool {
	s := d.Source
	if s == nil {
		return false
	}
	return s.File != nil && s.File.File != "" || s.Block != nil && s.Block.Dev != "" || s.Network != nil || s.Volume != nil
}

// isLoopback reports a loopback listen address (or "localhost").
func isLoopback(addr string) bool {
	addr = strings.Trim(strings.TrimSpace(addr), "[]")
	if strings.EqualFold(addr, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(addr)
	return err == nil && ip.IsLoopback()
}

// domainContext is what mapping a domain needs from the rest of the
// snapshot.
type domainContext struct {
	hostID   string
	now      time.Time
	readOnly bool
	// hostCtx holds qemu.conf, the management network, /proc, the
	// security models and the firmware descriptors.
	hostCtx
	networks  map[string]*inventory.Network // libvirt networks by name; nil when unread
	netReason string
}

// gapper records the gaps of one object.
type gapper struct {
	kind, id string
	gaps     *inventory.Gaps
}

func (g gapper) add(field, reason string) { g.gaps.Add(g.kind, g.id, field, reason) }

var powerStates = map[string]string{
	"running": "on", "blocked": "on", "paused": "suspended", "pmsuspended": "suspended",
	"shutdown": "on", "shutoff": "off", "crashed": "off",
}

// mapDomain turns one parsed domain into a VM.
func mapDomain(rec DomainRecord, d *libvirtxml.Domain, dc *domainContext, gaps *inventory.Gaps) inventory.VM {
	id := strings.ToLower(d.UUID)
	if id == "" {
		id = strings.ToLower(rec.UUID)
	}
	if id == "" {
		id = "name:" + d.Name
	}
	g := gapper{kind: inventory.KindVM, id: id, gaps: gaps}
	vm := inventory.VM{ID: id, Name: d.Name, Template: inventory.Ptr(false)}
	if dc.hostID != "" {
		vm.Host = inventory.Ptr(dc.hostID)
	}
	k := &inventory.KVMDomain{
		DomainType: d.Type, State: rec.State, Persistent: rec.Persistent, Autostart: rec.Autostart,
		SecLabels: []inventory.KVMSecLabel{}, Graphics: []inventory.KVMGraphics{},
		Hostdevs: []inventory.KVMHostdev{}, Interfaces: []inventory.KVMInterface{},
	}
	vm.KVM = k
	if ps, ok := powerStates[rec.State]; ok {
		vm.PowerState = inventory.Ptr(ps)
	} else {
		g.add("vm.power_state", "domain state not read")
	}

	mapFirmware(d, &vm, dc, g)

	devs := d.Devices
	if devs == nil {
		devs = &libvirtxml.DomainDeviceList{}
	}
	// Disks and encryption.
	vm.Disks = []inventory.Disk{}
	counts := &inventory.VMDevices{}
	all := true
	for _, disk := range devs.Disks {
		switch disk.Device {
		case "floppy":
			counts.Floppies++
			continue
		case "cdrom":
			if diskHasMedia(disk) {
				counts.ConnectedCDROMs++
			}
			continue
		}
		dd := inventory.Disk{Name: diskName(disk), Mode: "persistent"}
		if disk.Transient != nil {
			dd.Mode = "transient"
			counts.NonPersistentDisk++
		}
		if enc := diskEncryption(disk); enc != nil {
			dd.EncryptionFormat = enc.Format
			if dd.EncryptionFormat == "" {
				dd.EncryptionFormat = "default"
			}
			dd.Encrypted = encryptedFormat(enc.Format)
		}
		all = all && dd.Encrypted
		vm.Disks = append(vm.Disks, dd)
	}
	enc := &inventory.VMEncryption{AllDisks: inventory.Ptr(all), Confidential: inventory.Ptr("none")}
	vm.Encryption = enc
	if ls := launchSecurity(d.LaunchSecurity); ls != nil {
		k.LaunchSecurity = ls
		enc.Confidential = inventory.Ptr(ls.Type)
	} else {
		// Absent by design, not unread: say so where evidence shows it.
		g.add("vm.kvm.launch_security", "the domain has no <launchSecurity>")
	}

	// TPM.
	vm.VTPM = inventory.Ptr(len(devs.TPMs) > 0)
	if len(devs.TPMs) == 0 {
		g.add("vm.kvm.tpm", "the domain has no <tpm> device")
	} else {
		t := devs.TPMs[0]
		kt := &inventory.KVMTPM{Model: t.Model}
		if b := t.Backend; b != nil {
			switch {
			case b.Emulator != nil:
				kt.Backend, kt.Version = "emulator", b.Emulator.Version
				kt.StateEncrypted = b.Emulator.Encryption != nil && b.Emulator.Encryption.Secret != ""
			case b.Passthrough != nil:
				kt.Backend = "passthrough"
			case b.External != nil:
				kt.Backend = "external"
			}
		}
		k.TPM = kt
	}

	// Other devices.
	counts.SerialPorts = int64(len(devs.Serials))
	counts.ParallelPorts = int64(len(devs.Parallels))
	for _, c := range devs.Controllers {
		if c.Type == "usb" && c.Model != "none" {
			counts.USBControllers++
		}
	}
	for _, h := range devs.Hostdevs {
		typ, src := hostdevSource(h)
		k.Hostdevs = append(k.Hostdevs, inventory.KVMHostdev{Type: typ, Source: src})
		if typ == "pci" {
			counts.PCIPassthrough++
		}
	}
	vm.Devices = counts

	// Security labels and memory.
	for _, s := range d.SecLabel {
		k.SecLabels = append(k.SecLabels, inventory.KVMSecLabel{Type: s.Type, Model: s.Model, Relabel: s.Relabel, Label: s.Label})
		if s.Type == "none" || s.Model == "none" {
			k.Unconfined = true
		}
	}
	k.NoSharePages = d.MemoryBacking != nil && d.MemoryBacking.MemoryNosharepages != nil
	if d.Memory != nil {
		k.DumpCore = d.Memory.DumpCore
	}
	k.CustomQEMUArgs = d.QEMUCommandline != nil && (len(d.QEMUCommandline.Args) > 0 || len(d.QEMUCommandline.Envs) > 0)

	k.Shmems = []inventory.KVMShmem{}
	for _, sh := range devs.Shmems {
		ks := inventory.KVMShmem{Name: sh.Name, Model: "ivshmem"}
		if sh.Model != nil && sh.Model.Type != "" {
			ks.Model = sh.Model.Type
		}
		if sh.Server != nil {
			ks.Server = sh.Server.Path
			if ks.Server == "" {
				ks.Server = "/var/lib/libvirt/shmem-" + sh.Name + "-sock"
			}
		}
		k.Shmems = append(k.Shmems, ks)
	}

	mapInterfaces(d, devs, &vm, dc, g, counts)
	mapGraphics(rec, devs, &vm, dc, g)
	mapEffective(rec, d, &vm, dc, g)

	// Tainting and snapshots come from the API, not the XML.
	if rec.Tainting != nil {
		k.Tainting = append([]string{}, rec.Tainting...)
	} else {
		reason := "tainting messages not read"
		if rec.TaintingError != "" {
			reason += ": " + rec.TaintingError
		}
		g.add("vm.kvm.tainting", reason)
	}
	if rec.Snapshots != nil {
		vm.Snapshots = []inventory.VMSnapshot{}
		var oldest int64
		for _, s := range rec.Snapshots {
			created := time.Unix(s.CreationTime, 0).UTC()
			vm.Snapshots = append(vm.Snapshots, inventory.VMSnapshot{Name: s.Name, Created: created})
			if days := int64(dc.now.Sub(created).Hours() / 24); days > oldest {
				oldest = days
			}
		}
		sort.Slice(vm.Snapshots, func(a, b int) bool { return vm.Snapshots[a].Created.Before(vm.Snapshots[b].Created) })
		vm.OldestSnapshotDays = inventory.Ptr(oldest)
	} else {
		g.add("vm.snapshots", "domain snapshots not read")
		g.add("vm.oldest_snapshot_days", "domain snapshots not read")
	}
	return vm
}

func launchSecurity(ls *libvirtxml.DomainLaunchSecurity) *inventory.KVMLaunchSecurity {
	if ls == nil {
		return nil
	}
	switch {
	case ls.SEV != nil:
		k := &inventory.KVMLaunchSecurity{Type: "sev", KernelHashes: ls.SEV.KernelHashes}
		if p := ls.SEV.Policy; p != nil {
			k.Policy = inventory.Ptr(uint64(*p))
			k.DebugAllowed = inventory.Ptr(*p&0x1 == 0) // NODBG clear
			k.EncryptedState = inventory.Ptr(*p&0x4 != 0)
		}
		return k
	case ls.SEVSNP != nil:
		k := &inventory.KVMLaunchSecurity{Type: "sev-snp", KernelHashes: ls.SEVSNP.KernelHashes, EncryptedState: inventory.Ptr(true)}
		if p := ls.SEVSNP.Policy; p != nil {
			k.Policy = inventory.Ptr(*p)
			k.DebugAllowed = inventory.Ptr(*p&(1<<19) != 0)
		}
		return k
	case ls.TDX != nil:
		k := &inventory.KVMLaunchSecurity{Type: "tdx", EncryptedState: inventory.Ptr(true)}
		if p := ls.TDX.Policy; p != nil {
			k.Policy = inventory.Ptr(uint64(*p))
			k.DebugAllowed = inventory.Ptr(*p&0x1 != 0)
		}
		return k
	case ls.S390PV != nil:
		return &inventory.KVMLaunchSecurity{Type: "s390-pv", EncryptedState: inventory.Ptr(true)}
	}
	return nil
}

// mapInterfaces fills NICs and decides, once, whether each is on the
// management network.
func mapInterfaces(d *libvirtxml.Domain, devs *libvirtxml.DomainDeviceList, vm *inventory.VM, dc *domainContext, g gapper, counts *inventory.VMDevices) {
	vm.NICs = []inventory.VMNIC{}
	for i, ifc := range devs.Interfaces {
		ki := inventory.KVMInterface{}
		if ifc.MAC != nil {
			ki.MAC = ifc.MAC.Address
		}
		if ifc.Model != nil {
			ki.Model = ifc.Model.Type
		}
		if ifc.FilterRef != nil {
			ki.Filter = ifc.FilterRef.Filter
		}
		ki.Type, ki.Source = interfaceSource(ifc)
		vm.KVM.Interfaces = append(vm.KVM.Interfaces, ki)
		if ki.Type == "hostdev" {
			vm.KVM.Hostdevs = append(vm.KVM.Hostdevs, inventory.KVMHostdev{Type: "interface", Source: ki.Source})
			counts.PCIPassthrough++
		}

		name := fmt.Sprintf("net%d", i)
		switch {
		case ifc.Alias != nil && ifc.Alias.Name != "":
			name = ifc.Alias.Name
		case ifc.Target != nil && ifc.Target.Dev != "":
			name = ifc.Target.Dev
		}
		nic := inventory.VMNIC{Name: name, MAC: ki.MAC, Network: ki.Source}
		on, reason := dc.onManagement(ki.Type, ki.Source)
		if reason != "" {
			g.add("vm.nics.on_management_network", fmt.Sprintf("NIC %s (%s %s): %s", name, ki.Type, ki.Source, reason))
		} else {
			nic.OnManagementNetwork = inventory.Ptr(on)
		}
		if ki.Type == "network" && dc.networks != nil {
			if n := dc.networks[ki.Source]; n != nil {
				n.VMs = append(n.VMs, vm.ID)
			}
		}
		vm.NICs = append(vm.NICs, nic)
	}
}

// interfaceSource names an interface's type and where it attaches.
func interfaceSource(ifc libvirtxml.DomainInterface) (typ, src string) {
	s := ifc.Source
	if s == nil {
		return "unknown", ""
	}
	switch {
	case s.Network != nil:
		return "network", s.Network.Network
	case s.Bridge != nil:
		return "bridge", s.Bridge.Bridge
	case s.Direct != nil:
		return "direct", s.Direct.Dev
	case s.User != nil:
		return "user", ""
	case s.Ethernet != nil:
		if ifc.Target != nil {
			return "ethernet", ifc.Target.Dev
		}
		return "ethernet", ""
	case s.VHostUser != nil:
		if c := s.VHostUser.Chardev; c != nil && c.UNIX != nil {
			return "vhostuser", c.UNIX.Path
		}
		return "vhostuser", s.VHostUser.Dev
	case s.Hostdev != nil:
		if s.Hostdev.PCI != nil {
			return "hostdev", pciAddr(s.Hostdev.PCI.Address)
		}
		return "hostdev", usbSource(s.Hostdev.USB)
	case s.VDPA != nil:
		return "vdpa", s.VDPA.Device
	case s.Server != nil:
		return "server", s.Server.Address
	case s.Client != nil:
		return "client", s.Client.Address
	case s.MCast != nil:
		return "mcast", s.MCast.Address
	case s.UDP != nil:
		return "udp", s.UDP.Address
	case s.Internal != nil:
		return "internal", s.Internal.Name
	case s.Null != nil:
		return "null", ""
	case s.VDS != nil:
		return "vds", ""
	}
	return "unknown", ""
}

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
