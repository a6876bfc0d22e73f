package esxi

import (
	"fmt"
	"sort"
	"strings"

	"github.com/vmware/govmomi/vim25/types"

	"github.com/hvaudit/hvaudit/collectors/inventory"
)

func (n *normalizer) vms() {
	n.vmIDs = map[string]string{}
	n.vmKnown = map[string]bool{}
	for _, p := range n.byType("VirtualMachine") {
		name, _ := p.str("name")
		id := p.ref.Value
		if s, ok := p.str("config.instanceUuid"); ok && s != "" {
			id = s
		} else if s, ok := p.str("config.uuid"); ok && s != "" {
			id = s
		}
		n.vmIDs[p.ref.Value] = id
		n.vmKnown[id] = true
		vm := inventory.VM{ID: id, Name: name}
		if r, ok := p.vals["runtime.host"].(types.ManagedObjectReference); ok {
			if hid, ok := n.hostIDs[r.Value]; ok {
				vm.Host = inventory.Ptr(hid)
			}
		}
		// What a VM's configuration has depends on its host's release.
		api := ""
		if vm.Host != nil {
			api = n.hostAPI[*vm.Host]
		}
		miss := func(field, path string) { n.absent(inventory.KindVM, id, field, p, path, api, "its host is at") }
		if s, ok := p.str("runtime.powerState"); ok {
			vm.PowerState = inventory.Ptr(map[string]string{"poweredOn": "on", "poweredOff": "off", "suspended": "suspended"}[s])
		} else {
			miss("vm.power_state", "runtime.powerState")
		}
		if s, ok := p.str("runtime.connectionState"); ok {
			vm.ConnectionState = inventory.Ptr(s)
		}
		if b, ok := p.vals["config.template"].(bool); ok {
			vm.Template = inventory.Ptr(b)
		} else {
			miss("vm.template", "config.template")
		}
		if s, ok := p.str("config.guestFullName"); ok {
			vm.GuestOS = inventory.Ptr(s)
		}
		if s, ok := p.str("config.firmware"); ok && s != "" {
			vm.Firmware = inventory.Ptr(s)
		} else {
			miss("vm.firmware", "config.firmware")
		}
		if bo, ok := p.vals["config.bootOptions"].(*types.VirtualMachineBootOptions); ok && bo != nil {
			vm.SecureBoot = inventory.Ptr(bo.EfiSecureBootEnabled != nil && *bo.EfiSecureBootEnabled)
		} else if bo, ok := p.vals["config.bootOptions"].(types.VirtualMachineBootOptions); ok {
			vm.SecureBoot = inventory.Ptr(bo.EfiSecureBootEnabled != nil && *bo.EfiSecureBootEnabled)
		} else {
			miss("vm.secure_boot", "config.bootOptions")
		}
		if fl, ok := p.vals["config.flags"].(types.VirtualMachineFlagInfo); ok && fl.EnableLogging != nil {
			vm.LoggingEnabled = inventory.Ptr(*fl.EnableLogging)
		} else {
			miss("vm.logging_enabled", "config.flags.enableLogging")
		}
		n.vmMigration(p, &vm, miss)
		n.vmSettings(p, &vm)
		n.vmDevices(p, &vm, miss)
		n.vmSnapshots(p, &vm)
		n.vmTools(p, &vm)
		n.esxiVM(p, &vm)
		n.inv.VMs = append(n.inv.VMs, vm)
	}
	sort.Slice(n.inv.VMs, func(a, b int) bool { return n.inv.VMs[a].Name < n.inv.VMs[b].Name })
}

// migrationWords maps vSphere's encryption modes to neutral words.
var migrationWords = map[string]string{
	"disabled": "disabled", "opportunistic": "opportunistic", "required": "required",
	"ftEncryptionDisabled": "disabled", "ftEncryptionOpportunistic": "opportunistic", "ftEncryptionRequired": "required",
}

func (n *normalizer) vmMigration(p props, vm *inventory.VM, miss func(field, path string)) {
	m := &inventory.VMMigration{}
	if s, ok := p.str("config.migrateEncryption"); ok && s != "" {
		m.Encryption = inventory.Ptr(word(migrationWords, s))
	} else {
		miss("vm.migration.encryption", "config.migrateEncryption")
	}
	if s, ok := p.str("config.ftEncryptionMode"); ok && s != "" {
		m.FTEncryption = inventory.Ptr(word(migrationWords, s))
	} else {
		miss("vm.migration.ft_encryption", "config.ftEncryptionMode")
	}
	vm.Migration = m
}

func word(m map[string]string, s string) string {
	if w, ok := m[s]; ok {
		return w
	}
	return s
}

// settingPrefixes are the extraConfig keys hardening checks read; the rest
// of extraConfig (which can be large) is not kept.
var settingPrefixes = []string{"isolation.", "tools.", "RemoteDisplay.", "mks.", "log.", "sched.mem.pshare.salt", "svga.", "pciPassthru", "vmx.log."}

func (n *normalizer) vmSettings(p props, vm *inventory.VM) {
	arr, ok := p.vals["config.extraConfig"].(types.ArrayOfOptionValue)
	if !ok {
		// An empty extraConfig is not returned; that is only "no settings"
		// when the VM's configuration itself was readable.
		_, cfg := p.vals["config.hardware.device"]
		if _, present := p.vals["config.extraConfig"]; !present && (p.faulted("config.extraConfig") || !cfg) {
			n.gap(inventory.KindVM, vm.ID, "vm.settings", p.why("config.extraConfig"))
			return
		}
	}
	vm.Settings = map[string]string{}
	for _, o := range arr.OptionValue {
		ov := o.GetOptionValue()
		for _, pre := range settingPrefixes {
			if strings.HasPrefix(ov.Key, pre) {
				vm.Settings[ov.Key] = fmt.Sprint(ov.Value)
				break
			}
		}
		if dvFilterKey.MatchString(ov.Key) {
			vm.Settings[ov.Key] = fmt.Sprint(ov.Value)
		}
	}
}

func (n *normalizer) vmDevices(p props, vm *inventory.VM, miss func(field, path string)) {
	enc := &inventory.VMEncryption{}
	if b, ok := p.vals["config.sevEnabled"].(bool); ok && b {
		enc.Confidential = inventory.Ptr("sev")
	} else if p.faulted("config.sevEnabled") {
		miss("vm.encryption.confidential", "config.sevEnabled")
	} else {
		// Unset, or a release before SEV support (7.0.1): no SEV either way.
		enc.Confidential = inventory.Ptr("none")
	}
	k, ok := p.vals["config.keyId"].(*types.CryptoKeyId)
	if kv, isVal := p.vals["config.keyId"].(types.CryptoKeyId); isVal {
		k, ok = &kv, true // the property collector returns it by value
	}
	if ok && k != nil {
		enc.HomeEncrypted = inventory.Ptr(true)
		if k.ProviderId != nil {
			enc.KeyProvider = inventory.Ptr(k.ProviderId.Id)
		}
	} else if _, present := p.vals["config.keyId"]; !present {
		// An unencrypted VM has no keyId: absent here is the answer, as
		// long as the VM's configuration itself was readable.
		if _, cfg := p.vals["config.hardware.device"]; cfg && !p.faulted("config.keyId") {
			enc.HomeEncrypted = inventory.Ptr(false)
			n.gap(inventory.KindVM, vm.ID, "vm.encryption.key_provider", "the VM is not encrypted, so it has no key provider")
		} else {
			n.gap(inventory.KindVM, vm.ID, "vm.encryption.home_encrypted", p.why("config.keyId"))
		}
	}
	vm.Encryption = enc
	arr, ok := p.vals["config.hardware.device"].(types.ArrayOfVirtualDevice)
	if !ok {
		for _, f := range []string{"vm.devices", "vm.disks", "vm.nics", "vm.vtpm", "vm.encryption.all_disks"} {
			miss(f, "config.hardware.device")
		}
		return
	}
	dev := &inventory.VMDevices{}
	vm.Disks, vm.NICs = []inventory.Disk{}, []inventory.VMNIC{}
	vtpm := false
	allDisks := true
	for _, d := range arr.VirtualDevice {
		label := ""
		if di := d.GetVirtualDevice().DeviceInfo; di != nil {
			label = di.GetDescription().Label
		}
		switch x := d.(type) {
		case *types.VirtualDisk:
			disk := inventory.Disk{Name: label}
			switch b := x.Backing.(type) {
			case *types.VirtualDiskFlatVer2BackingInfo:
				disk.Mode = b.DiskMode
				if b.KeyId != nil {
					disk.Encrypted = true
					if b.KeyId.ProviderId != nil {
						disk.KeyProvider = b.KeyId.ProviderId.Id
					}
				}
			case *types.VirtualDiskSeSparseBackingInfo:
				disk.Mode = b.DiskMode
				disk.Encrypted = b.KeyId != nil
			case *types.VirtualDiskSparseVer2BackingInfo:
				disk.Mode = b.DiskMode
				disk.Encrypted = b.KeyId != nil
			case *types.VirtualDiskRawDiskMappingVer1BackingInfo:
				disk.Mode = b.DiskMode
			}
			if disk.Mode == "independent_nonpersistent" {
				dev.NonPersistentDisk++
			}
			allDisks = allDisks && disk.Encrypted
			vm.Disks = append(vm.Disks, disk)
		case *types.VirtualTPM:
			vtpm = true
		case *types.VirtualFloppy:
			dev.Floppies++
		case *types.VirtualSerialPort:
			dev.SerialPorts++
		case *types.VirtualParallelPort:
			dev.ParallelPorts++
		case *types.VirtualUSBController, *types.VirtualUSBXHCIController:
			dev.USBControllers++
		case *types.VirtualCdrom:
			if c := x.Connectable; c != nil && c.Connected {
				dev.ConnectedCDROMs++
			}
		case *types.VirtualPCIPassthrough:
			dev.PCIPassthrough++
		case types.BaseVirtualEthernetCard:
			card := x.GetVirtualEthernetCard()
			nic := inventory.VMNIC{Name: label, MAC: card.MacAddress}
			// Placeholders ("dvpg:KEY", "nsx:ID") are resolved to names in
			// networks(), once every network is known.
			switch b := card.Backing.(type) {
			case *types.VirtualEthernetCardNetworkBackingInfo:
				nic.Network = b.DeviceName
			case *types.VirtualEthernetCardDistributedVirtualPortBackingInfo:
				nic.Network = "dvpg:" + b.Port.PortgroupKey
			case *types.VirtualEthernetCardOpaqueNetworkBackingInfo:
				nic.Network = "nsx:" + b.OpaqueNetworkId
			default:
				nic.Network = ""
				n.gap(inventory.KindVM, vm.ID, "vm.nics.on_management_network", fmt.Sprintf("NIC %s: its backing %T is not one hvaudit places", label, card.Backing))
			}
			vm.NICs = append(vm.NICs, nic)
		}
	}
	vm.Devices, vm.VTPM = dev, inventory.Ptr(vtpm)
	enc.AllDisks = inventory.Ptr(allDisks && len(vm.Disks) > 0)
	if len(vm.Disks) == 0 {
		enc.AllDisks = inventory.Ptr(true) // nothing unencrypted to hold data
	}
}

func (n *normalizer) vmSnapshots(p props, vm *inventory.VM) {
	vm.Snapshots = []inventory.VMSnapshot{}
	var walk func([]types.VirtualMachineSnapshotTree)
	walk = func(list []types.VirtualMachineSnapshotTree) {
		for _, s := range list {
			vm.Snapshots = append(vm.Snapshots, inventory.VMSnapshot{Name: s.Name, Created: s.CreateTime.UTC()})
			walk(s.ChildSnapshotList)
		}
	}
	// No snapshot property means no snapshots: vSphere omits it then.
	if info, ok := p.vals["snapshot"].(*types.VirtualMachineSnapshotInfo); ok && info != nil {
		walk(info.RootSnapshotList)
	} else if info, ok := p.vals["snapshot"].(types.VirtualMachineSnapshotInfo); ok {
		walk(info.RootSnapshotList)
	} else if r, bad := p.missing["snapshot"]; bad {
		vm.Snapshots = nil
		n.gap(inventory.KindVM, vm.ID, "vm.snapshots", "VirtualMachine snapshot could not be read: "+r)
		n.gap(inventory.KindVM, vm.ID, "vm.oldest_snapshot_days", "VirtualMachine snapshot could not be read: "+r)
		return
	}
	var oldest int64
	for _, s := range vm.Snapshots {
		if d := int64(n.at.Sub(s.Created).Hours() / 24); d > oldest {
			oldest = d
		}
	}
	vm.OldestSnapshotDays = inventory.Ptr(oldest)
}

// networks resolves NIC placement: which networks VMs attach to and which
// of those carry a host's management traffic.

// saltKey is the VM setting that picks the page-sharing salt.
const saltKey = "sched.mem.pshare.salt"

// salts derives which VMs share a page-sharing salt. By default every VM's
// salt is its own (vc.uuid); a salt set on two VMs lets them share memory
// pages again, which is the side channel salting closes. A salt is only
// known unique when every VM's settings were read.
func (n *normalizer) salts() {
	bySalt := map[string][]string{}
	var unread []string
	for _, vm := range n.inv.VMs {
		if vm.Settings == nil {
			unread = append(unread, vm.Name)
			continue
		}
		if s, ok := vm.Settings[saltKey]; ok {
			bySalt[s] = append(bySalt[s], vm.Name)
		}
	}
	for i := range n.inv.VMs {
		vm := &n.inv.VMs[i]
		if vm.Settings == nil {
			n.gap(inventory.KindVM, vm.ID, "vm.salt_shared_with", "the VM's settings (config.extraConfig) were not read")
			continue
		}
		s, ok := vm.Settings[saltKey]
		switch {
		case !ok:
			vm.SaltSharedWith = []string{}
		case len(unread) > 0:
			n.gap(inventory.KindVM, vm.ID, "vm.salt_shared_with", "the settings of "+strings.Join(unread, ", ")+" were not read, so whether they carry the same salt is unknown")
		default:
			vm.SaltSharedWith = without(bySalt[s], vm.Name)
		}
	}
}
