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
	hostID     string
	now        time.Time
	readOnly   bool
	qemu       *inventory.QEMUConfig // nil when qemu.conf was not read
	qemuReason string
	mgmt       *mgmtInfo
	networks   map[string]*inventory.Network // libvirt networks by name; nil when unread
	netReason  string
}

// gapper collects gaps for one object.
type gapper struct {
	obj  string
	gaps *[]inventory.Gap
}

func (g gapper) add(field, reason string) {
	*g.gaps = append(*g.gaps, inventory.Gap{Object: g.obj, Field: field, Reason: reason})
}

var powerStates = map[string]string{
	"running": "on", "blocked": "on", "paused": "suspended", "pmsuspended": "suspended",
	"shutdown": "on", "shutoff": "off", "crashed": "off",
}

// mapDomain turns one parsed domain into a VM.
func mapDomain(rec DomainRecord, d *libvirtxml.Domain, dc *domainContext, gaps *[]inventory.Gap) inventory.VM {
	id := strings.ToLower(d.UUID)
	if id == "" {
		id = strings.ToLower(rec.UUID)
	}
	if id == "" {
		id = "name:" + d.Name
	}
	g := gapper{obj: inventory.ObjectKey(inventory.KindVM, id), gaps: gaps}
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

	mapFirmware(d, &vm, g)

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
	}

	// TPM.
	vm.VTPM = inventory.Ptr(len(devs.TPMs) > 0)
	if len(devs.TPMs) > 0 {
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

	mapInterfaces(d, devs, &vm, dc, g, counts)
	mapGraphics(rec, devs, &vm, dc, g)

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

func mapFirmware(d *libvirtxml.Domain, vm *inventory.VM, g gapper) {
	os := d.OS
	if os == nil {
		os = &libvirtxml.DomainOS{}
	}
	arch := ""
	if os.Type != nil {
		arch = os.Type.Arch
	}
	efi := os.Firmware == "efi"
	if l := os.Loader; l != nil {
		p := strings.ToLower(l.Path)
		if l.Type == "pflash" || strings.Contains(p, "ovmf") || strings.Contains(p, "edk2") || strings.Contains(p, "aavmf") || strings.Contains(p, "qemu_efi") {
			efi = true
		}
	}
	switch {
	case efi:
		vm.Firmware = inventory.Ptr("efi")
		sb := os.Loader != nil && os.Loader.Secure == "yes"
		if os.FirmwareInfo != nil {
			for _, f := range os.FirmwareInfo.Features {
				if f.Name == "secure-boot" {
					sb = f.Enabled == "yes"
				}
			}
		}
		vm.SecureBoot = inventory.Ptr(sb)
	case arch == "" || arch == "x86_64" || arch == "i686":
		vm.Firmware = inventory.Ptr("bios")
		vm.SecureBoot = inventory.Ptr(false)
	default:
		reason := fmt.Sprintf("no UEFI loader in the domain XML and %s guests have no BIOS firmware to assume", arch)
		g.add("vm.firmware", reason)
		g.add("vm.secure_boot", reason)
	}
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

// mapGraphics records every display and picks the most exposed remote one
// as the neutral Console.
func mapGraphics(rec DomainRecord, devs *libvirtxml.DomainDeviceList, vm *inventory.VM, dc *domainContext, g gapper) {
	var remote []int
	passwordUnknown := false
	for i, gr := range devs.Graphics {
		kg := graphicsInfo(gr, i, rec, dc)
		if kg.Type == "vnc" || kg.Type == "spice" || kg.Type == "rdp" {
			remote = append(remote, i)
			if kg.PasswordSet == nil && kg.ListenType != "socket" && kg.ListenType != "none" {
				passwordUnknown = true
			}
		}
		vm.KVM.Graphics = append(vm.KVM.Graphics, kg)
	}
	if passwordUnknown {
		reason := "console passwords are only in the secure domain XML, which needs a read-write connection (add ?" + ReadWriteParam + "=1)"
		g.add("vm.kvm.graphics.password_set", reason)
		g.add("vm.console.password_set", reason)
	}
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
			on := q.SpiceTLS && (gr.Spice.TLSPort > 0 || gr.Spice.AutoPort == "yes" || gr.Spice.DefaultMode == "secure")
			tls, sasl, globalPass = inventory.Ptr(on), inventory.Ptr(q.SpiceSASL), inventory.Ptr(q.SpicePasswordSet)
		} else if gr.Spice.TLSPort > 0 {
			tls = inventory.Ptr(true)
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
		return inventory.KVMGraphics{Type: typ, ListenType: "none", Exposed: inventory.Ptr(false)}
	}
	kg := inventory.KVMGraphics{Type: typ, TLS: tls, SASL: sasl}
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
	switch kg.ListenType {
	case "socket", "none":
		kg.Exposed = inventory.Ptr(false)
	case "network":
		// A network listen binds the network's address: reachable from
		// at least that network.
		kg.Exposed = inventory.Ptr(!isLoopback(kg.Listen))
	default:
		if kg.Listen != "" {
			kg.Exposed = inventory.Ptr(!isLoopback(kg.Listen))
		}
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
