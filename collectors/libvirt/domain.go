package libvirt

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"libvirt.org/go/libvirtxml"

	"github.com/hvaudit/hvaudit/collectors/inventory"
)

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
	counts := &inventory.VMDevices{}
	mapDisks(d, devs, &vm, counts, g)
	mapTPM(devs, &vm, g)
	countDevices(devs, k, counts)
	vm.Devices = counts
	mapConfinement(d, k)
	k.Shmems = shmems(devs)

	mapInterfaces(d, devs, &vm, dc, g, counts)
	mapGraphics(rec, devs, &vm, dc, g)
	mapEffective(rec, d, &vm, dc, g)
	mapFromAPI(rec, &vm, dc, g)
	return vm
}

// mapDisks lists the disks with their encryption, counts removable media
// and transient disks, and sets the VM's encryption facts.
func mapDisks(d *libvirtxml.Domain, devs *libvirtxml.DomainDeviceList, vm *inventory.VM, counts *inventory.VMDevices, g gapper) {
	vm.Disks = []inventory.Disk{}
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
		vm.KVM.LaunchSecurity = ls
		enc.Confidential = inventory.Ptr(ls.Type)
	} else {
		// Absent by design, not unread: say so where evidence shows it.
		g.add("vm.kvm.launch_security", "the domain has no <launchSecurity>")
	}
}

// mapTPM sets the VM's virtual TPM and its backend.
func mapTPM(devs *libvirtxml.DomainDeviceList, vm *inventory.VM, g gapper) {
	vm.VTPM = inventory.Ptr(len(devs.TPMs) > 0)
	if len(devs.TPMs) == 0 {
		g.add("vm.kvm.tpm", "the domain has no <tpm> device")
		return
	}
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
	vm.KVM.TPM = kt
}

// countDevices counts serial and parallel ports, USB controllers and
// passed-through host devices, and lists the latter.
func countDevices(devs *libvirtxml.DomainDeviceList, k *inventory.KVMDomain, counts *inventory.VMDevices) {
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
}

// mapConfinement records what keeps the guest from the host as the XML
// defines it: security labels, memory sharing and core dumps, and QEMU
// arguments passed past libvirt.
func mapConfinement(d *libvirtxml.Domain, k *inventory.KVMDomain) {
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
}

// shmems lists the shared-memory devices and their servers' sockets.
func shmems(devs *libvirtxml.DomainDeviceList) []inventory.KVMShmem {
	out := []inventory.KVMShmem{}
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
		out = append(out, ks)
	}
	return out
}

// mapFromAPI adds what comes from libvirt's API rather than the XML: the
// tainting messages and the snapshots.
func mapFromAPI(rec DomainRecord, vm *inventory.VM, dc *domainContext, g gapper) {
	if rec.Tainting != nil {
		vm.KVM.Tainting = append([]string{}, rec.Tainting...)
	} else {
		reason := "tainting messages not read"
		if rec.TaintingError != "" {
			reason += ": " + rec.TaintingError
		}
		g.add("vm.kvm.tainting", reason)
	}
	if rec.Snapshots == nil {
		g.add("vm.snapshots", "domain snapshots not read")
		g.add("vm.oldest_snapshot_days", "domain snapshots not read")
		return
	}
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
