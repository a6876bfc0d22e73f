package hyperv

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hvaudit/hvaudit/collectors/inventory"
)

type vmIndex map[string]*inventory.VM

// byOwner groups a class's instances by the VM that owns them: the first
// InstanceID segment (Microsoft:VMGUID\…), or the SystemName. Instances of
// checkpoints (whose first segment is the checkpoint's id) and of
// switches fall out because no VM has their id.
func byOwner(rows Instances, vms vmIndex, keyProp string) map[string]Instance {
	out := map[string]Instance{}
	for _, in := range rows {
		v, ok := prop(in, keyProp)
		if !ok {
			continue
		}
		s, _ := asString(v)
		owner := normID(s)
		if keyProp == "InstanceID" {
			segs := idSegments(s)
			if len(segs) == 0 {
				continue
			}
			owner = segs[0]
		}
		if _, isVM := vms[owner]; isVM {
			if _, dup := out[owner]; !dup {
				out[owner] = in
			}
		}
	}
	return out
}

// mapVMs reads Msvm_ComputerSystem and every per-VM settings class.
func (m *mapper) mapVMs() vmIndex {
	rows, _ := m.rows("Msvm_ComputerSystem")
	vms := vmIndex{}
	var order []string
	for _, in := range rows {
		name, _ := asString(unwrapProp(in, "Name"))
		if !guidRE.MatchString(name) {
			continue // the host's own row ("Hosting Computer System")
		}
		id := normID(name)
		if _, dup := vms[id]; dup {
			continue
		}
		key := object{inventory.KindVM, id}
		r := m.reader(key, "Msvm_ComputerSystem", in)
		vm := &inventory.VM{ID: id, Name: id, Host: inventory.Ptr(m.host.ID), Template: inventory.Ptr(false), HyperV: &inventory.HyperVVM{}}
		if s := r.str("vm.name", "ElementName"); s != nil && *s != "" {
			vm.Name = *s
		}
		hv := vm.HyperV
		if st := r.enum("vm.power_state", "EnabledState", vmStateNames); st != nil {
			hv.EnabledState = st
			hv.State = vmStates[*st]
			if hv.State == "" {
				hv.State = fmt.Sprintf("Unknown(%d)", *st)
			}
			switch hv.State {
			case "Running", "Starting", "Stopping", "ShuttingDown", "Saving", "Pausing", "Resuming", "Snapshotting", "Reset":
				vm.PowerState = inventory.Ptr("on")
			case "Off":
				vm.PowerState = inventory.Ptr("off")
			case "Saved", "Paused":
				vm.PowerState = inventory.Ptr("suspended")
			default:
				m.gap(key, "vm.power_state", fmt.Sprintf("Msvm_ComputerSystem.EnabledState %d is not a power state", *st))
			}
		} else {
			hv.State = "Unknown"
		}
		if ms := opt(r, "OnTimeInMilliseconds", asInt); ms != nil {
			hv.UptimeSeconds = inventory.Ptr(*ms / 1000)
		}
		// InstallDate is when the VM was created; it dates a VM that
		// never changed state.
		hv.Created = opt(r, "InstallDate", asTime)
		if v, ok := r.raw("vm.hyperv.days_in_state", "TimeOfLastStateChange"); ok {
			switch t, known := asTime(v); {
			case known:
				hv.LastStateChange = &t
				hv.DaysInState = inventory.Ptr(m.days(t))
			case isCIMZeroDate(v):
				// WMI's zero date: created and never started.
				hv.NeverChangedState = true
				m.gap(key, "vm.hyperv.last_state_change", "never: the VM has not changed state since it was created (Msvm_ComputerSystem.TimeOfLastStateChange is the CIM zero date 1601-01-01)")
				if hv.Created != nil {
					hv.DaysInState = inventory.Ptr(m.days(*hv.Created))
				} else {
					m.gap(key, "vm.hyperv.days_in_state", "the VM never changed state (Msvm_ComputerSystem.TimeOfLastStateChange is the CIM zero date 1601-01-01) and its creation time, Msvm_ComputerSystem.InstallDate, was not read")
				}
			default:
				r.bad("vm.hyperv.days_in_state", "TimeOfLastStateChange", v)
			}
		}
		vms[id] = vm
		order = append(order, id)
	}
	m.mapVSSD(vms)
	m.mapSecurity(vms)
	m.mapGuestServices(vms)
	m.mapProcessors(vms)
	for _, id := range order {
		m.inv.VMs = append(m.inv.VMs, *vms[id])
	}
	// Point the index at the inventory's copies so later steps edit them.
	for i := range m.inv.VMs {
		vms[m.inv.VMs[i].ID] = &m.inv.VMs[i]
	}
	m.gap(everyVM, "vm.encryption.all_disks", "Hyper-V VM disks are encrypted by BitLocker on the host volume or in the guest, which WMI's virtualization namespace does not report")
	return vms
}

func unwrapProp(in Instance, p string) any {
	v, _ := prop(in, p)
	return v
}

// mapVSSD reads Msvm_VirtualSystemSettingData: the realized configuration
// of each VM, and its checkpoints.
func (m *mapper) mapVSSD(vms vmIndex) {
	const cls = "Msvm_VirtualSystemSettingData"
	rows, why := m.rows(cls)
	if why != "" {
		for _, f := range []string{"vm.firmware", "vm.secure_boot", "vm.snapshots", "vm.oldest_snapshot_days", "vm.hyperv.other_snapshots", "vm.hyperv.generation", "vm.hyperv.configuration_version", "vm.hyperv.automatic_checkpoints", "vm.hyperv.debug_port"} {
			m.gap(everyVM, f, why)
		}
		return
	}
	realized := map[string]Instance{}
	snaps := map[string][]inventory.VMSnapshot{}
	snapGaps := map[string]string{}
	others := map[string][]inventory.HyperVSnapshotRow{}
	for _, in := range rows {
		typ, _ := asString(unwrapProp(in, "VirtualSystemType"))
		owner := ""
		if s, ok := asString(unwrapProp(in, "VirtualSystemIdentifier")); ok {
			owner = normID(s)
		}
		if owner == "" {
			if s, ok := asString(unwrapProp(in, "InstanceID")); ok {
				if segs := idSegments(s); len(segs) > 0 {
					owner = segs[0]
				}
			}
		}
		if _, isVM := vms[owner]; !isVM {
			continue
		}
		switch kind := settingsKind(typ); kind {
		case "checkpoint":
			name, _ := asString(unwrapProp(in, "ElementName"))
			ct, ok := asTime(unwrapProp(in, "CreationTime"))
			if !ok {
				snapGaps[owner] = fmt.Sprintf("%s.CreationTime of checkpoint %q is missing or unreadable", cls, name)
				continue
			}
			snaps[owner] = append(snaps[owner], inventory.VMSnapshot{Name: name, Created: ct})
		case "other-snapshot":
			row := inventory.HyperVSnapshotRow{Type: typ}
			row.Name, _ = asString(unwrapProp(in, "ElementName"))
			if ct, ok := asTime(unwrapProp(in, "CreationTime")); ok {
				row.Created = &ct
			}
			others[owner] = append(others[owner], row)
		case "realized":
			if _, dup := realized[owner]; !dup {
				realized[owner] = in
			}
		}
	}
	for id, vm := range vms {
		key := object{inventory.KindVM, id}
		// Read and empty is an empty list, never nil (nil is unknown).
		list := append([]inventory.VMSnapshot{}, snaps[id]...)
		sort.Slice(list, func(a, b int) bool { return list[a].Created.Before(list[b].Created) })
		if reason, bad := snapGaps[id]; bad {
			m.gap(key, "vm.snapshots", reason)
			m.gap(key, "vm.oldest_snapshot_days", reason)
		} else {
			if list == nil {
				list = []inventory.VMSnapshot{} // read, and there are none
			}
			vm.Snapshots = list
			oldest := int64(0)
			if len(list) > 0 {
				oldest = m.days(list[0].Created)
			}
			vm.OldestSnapshotDays = &oldest
		}
		o := append([]inventory.HyperVSnapshotRow{}, others[id]...)
		sort.Slice(o, func(a, b int) bool { return o[a].Type+o[a].Name < o[b].Type+o[b].Name })
		vm.HyperV.OtherSnapshots = o
		in, ok := realized[id]
		if !ok {
			reason := cls + " has no realized configuration for the VM"
			for _, f := range []string{"vm.firmware", "vm.secure_boot", "vm.hyperv.generation", "vm.hyperv.configuration_version", "vm.hyperv.automatic_checkpoints", "vm.hyperv.debug_port"} {
				m.gap(key, f, reason)
			}
			continue
		}
		r := m.reader(key, cls, in)
		hv := vm.HyperV
		if st := r.str("vm.hyperv.generation", "VirtualSystemSubType"); st != nil {
			switch {
			case strings.HasSuffix(*st, ":1") || *st == "1":
				hv.Generation = inventory.Ptr(int64(1))
			case strings.HasSuffix(*st, ":2") || *st == "2":
				hv.Generation = inventory.Ptr(int64(2))
			default:
				r.bad("vm.hyperv.generation", "VirtualSystemSubType", *st)
			}
		}
		if hv.Generation != nil {
			if *hv.Generation == 2 {
				vm.Firmware = inventory.Ptr("efi")
				vm.SecureBoot = r.boolean("vm.secure_boot", "SecureBootEnabled")
			} else {
				// Generation 1 firmware is BIOS, which has no Secure Boot.
				vm.Firmware = inventory.Ptr("bios")
				vm.SecureBoot = inventory.Ptr(false)
			}
		} else {
			m.gap(key, "vm.firmware", "the VM's generation is unknown")
			m.gap(key, "vm.secure_boot", "the VM's generation is unknown")
		}
		hv.ConfigurationVersion = r.str("vm.hyperv.configuration_version", "Version")
		if tid := opt(r, "SecureBootTemplateId", asString); tid != nil && *tid != "" {
			id := normID(*tid)
			hv.SecureBootTemplateID = &id
			hv.SecureBootTemplate = inventory.Ptr(secureBootTemplates[id])
		}
		hv.AutomaticCheckpoints = r.boolean("vm.hyperv.automatic_checkpoints", "AutomaticSnapshotsEnabled")
		if dp := r.enum("vm.hyperv.debug_port", "DebugPortEnabled", debugNames); dp != nil {
			hv.DebugPort = inventory.Ptr(*dp != 0)
		}
	}
}

// settingsKind sorts a Msvm_VirtualSystemSettingData row by
// VirtualSystemType. Microsoft's class documentation lists
// System:Realized (a VM's current settings), System:Planned,
// Snapshot:Realized ("a snapshot of a realized virtual machine": the
// checkpoints users take, standard or production), Snapshot:Recovery (a
// backup's recovery snapshot), Snapshot:Planned, Snapshot:Missing and
// Snapshot:Replica:* (Hyper-V Replica's recovery points). Only
// Snapshot:Realized counts as a checkpoint; the other snapshot rows are
// kept as evidence. A row without a type is taken as the VM's own
// settings (old captures).
func settingsKind(typ string) string {
	t := strings.ToLower(strings.TrimSpace(typ))
	switch {
	case t == "" || t == "microsoft:hyper-v:system:realized":
		return "realized"
	case t == "microsoft:hyper-v:snapshot:realized":
		return "checkpoint"
	case strings.HasPrefix(t, "microsoft:hyper-v:snapshot:"):
		return "other-snapshot"
	}
	return "other"
}

// mapSecurity reads Msvm_SecuritySettingData (configured) and
// Msvm_SecurityElement (runtime).
func (m *mapper) mapSecurity(vms vmIndex) {
	const cls = "Msvm_SecuritySettingData"
	rows, why := m.rows(cls)
	fields := []string{"vm.vtpm", "vm.encryption.confidential", "vm.migration.encryption",
		"vm.hyperv.shielding_requested", "vm.hyperv.encrypt_state_and_migration_traffic", "vm.hyperv.vbs_opt_out"}
	if why != "" {
		for _, f := range fields {
			m.gap(everyVM, f, why)
		}
	}
	owned := byOwner(rows, vms, "InstanceID")
	const elCls = "Msvm_SecurityElement"
	elRows, elWhy := m.rows(elCls)
	elFields := []string{"vm.hyperv.shielded", "vm.hyperv.encryption_active"}
	if elWhy != "" {
		for _, f := range elFields {
			m.gap(everyVM, f, elWhy)
		}
	}
	elements := byOwner(elRows, vms, "SystemName")
	for id, vm := range vms {
		key := object{inventory.KindVM, id}
		hv := vm.HyperV
		if why == "" {
			in, ok := owned[id]
			if !ok {
				for _, f := range fields {
					m.gap(key, f, cls+" has no instance for the VM")
				}
			} else {
				r := m.reader(key, cls, in)
				vm.VTPM = r.boolean("vm.vtpm", "TpmEnabled")
				hv.KSDEnabled = opt(r, "KsdEnabled", asBool)
				hv.ShieldingRequested = r.boolean("vm.hyperv.shielding_requested", "ShieldingRequested")
				hv.DataProtectionRequested = opt(r, "DataProtectionRequested", asBool)
				hv.EncryptStateAndMigrationTraffic = r.boolean("vm.hyperv.encrypt_state_and_migration_traffic", "EncryptStateAndVmMigrationTraffic")
				hv.VBSOptOut = r.boolean("vm.hyperv.vbs_opt_out", "VirtualizationBasedSecurityOptOut")
				hv.BindToHostTPM = opt(r, "BindToHostTpm", asBool)
				if e := hv.EncryptStateAndMigrationTraffic; e != nil {
					word := "disabled"
					if *e {
						word = "required"
					}
					vm.Migration = &inventory.VMMigration{Encryption: &word}
				} else {
					m.gap(key, "vm.migration.encryption", cls+".EncryptStateAndVmMigrationTraffic was not read")
				}
			}
		}
		if elWhy == "" {
			if in, ok := elements[id]; ok {
				r := m.reader(key, elCls, in)
				hv.Shielded = r.boolean("vm.hyperv.shielded", "Shielded")
				hv.EncryptionActive = r.boolean("vm.hyperv.encryption_active", "EncryptStateAndVmMigrationTrafficEnabled")
			} else {
				for _, f := range elFields {
					m.gap(key, f, elCls+" has no instance for the VM")
				}
			}
		}
		enc := &inventory.VMEncryption{}
		switch {
		case hv.Shielded != nil && *hv.Shielded, hv.ShieldingRequested != nil && *hv.ShieldingRequested:
			enc.Confidential = inventory.Ptr("shielded")
		case hv.ShieldingRequested != nil:
			enc.Confidential = inventory.Ptr("none")
		case why == "" && owned[id] != nil:
			m.gap(key, "vm.encryption.confidential", cls+".ShieldingRequested was not read")
		}
		vm.Encryption = enc
	}
}

// mapGuestServices reads the Guest Service Interface's configured state.
func (m *mapper) mapGuestServices(vms vmIndex) {
	const cls = "Msvm_GuestServiceInterfaceComponentSettingData"
	rows, why := m.rows(cls)
	if why != "" {
		m.gap(everyVM, "vm.hyperv.guest_service_interface", why)
		return
	}
	owned := byOwner(rows, vms, "InstanceID")
	for id, vm := range vms {
		key := object{inventory.KindVM, id}
		in, ok := owned[id]
		if !ok {
			m.gap(key, "vm.hyperv.guest_service_interface", cls+" has no instance for the VM")
			continue
		}
		r := m.reader(key, cls, in)
		if st := r.enum("vm.hyperv.guest_service_interface", "EnabledState", enabledNames); st != nil {
			switch *st {
			case 2:
				vm.HyperV.GuestServiceInterface = inventory.Ptr(true)
			case 3:
				vm.HyperV.GuestServiceInterface = inventory.Ptr(false)
			default:
				r.bad("vm.hyperv.guest_service_interface", "EnabledState", *st)
			}
		}
	}
}

// mapProcessors reads nested virtualization and speculation controls.
func (m *mapper) mapProcessors(vms vmIndex) {
	const cls = "Msvm_ProcessorSettingData"
	rows, why := m.rows(cls)
	if why != "" {
		m.gap(everyVM, "vm.hyperv.nested_virtualization", why)
		m.gap(everyVM, "vm.hyperv.speculation_controls_disabled", why)
		m.gap(everyVM, "vm.hyperv.hw_threads_per_core", why)
		return
	}
	owned := byOwner(rows, vms, "InstanceID")
	for id, vm := range vms {
		key := object{inventory.KindVM, id}
		in, ok := owned[id]
		if !ok {
			m.gap(key, "vm.hyperv.nested_virtualization", cls+" has no instance for the VM")
			m.gap(key, "vm.hyperv.speculation_controls_disabled", cls+" has no instance for the VM")
			m.gap(key, "vm.hyperv.hw_threads_per_core", cls+" has no instance for the VM")
			continue
		}
		r := m.reader(key, cls, in)
		vm.HyperV.NestedVirtualization = r.boolean("vm.hyperv.nested_virtualization", "ExposeVirtualizationExtensions")
		vm.HyperV.SpeculationControlsDisabled = r.boolean("vm.hyperv.speculation_controls_disabled", "DisableSpeculationControls")
		vm.HyperV.HwThreadsPerCore = r.integer("vm.hyperv.hw_threads_per_core", "HwThreadsPerCore")
	}
}
