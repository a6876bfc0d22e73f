package libvirt

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"libvirt.org/go/libvirtxml"

	"github.com/hvaudit/hvaudit/collectors/inventory"
)

// Secure Boot is a property of the firmware image and its variable store,
// not of the domain XML: <loader secure='yes'> only keeps the flash
// writable from SMM, and a Secure-Boot-capable image with an empty
// variable store boots anything (setup mode). QEMU's firmware descriptors
// (docs/interop/firmware.json) say which image supports Secure Boot and
// which variable-store template has keys enrolled. This file reads them
// as libvirt 9.0 does (src/qemu/qemu_firmware.c, qemu_interop_config.c)
// and decides a guest's Secure Boot from the descriptor of the firmware it
// runs, or, for an inactive guest with <os firmware='efi'>, of the
// firmware libvirt would pick when it starts.

// firmwareDesc is one parsed descriptor.
type firmwareDesc struct {
	name, path    string
	interfaces    []string
	device        string // flash | memory | kernel
	mode          string // split (the default) | combined | stateless
	executable    string
	nvramTemplate string
	targets       []firmwareTarget
	features      map[string]bool
}

type firmwareTarget struct {
	arch     string
	machines []string
}

// firmwareJSON is the part of firmware.json hvaudit reads.
type firmwareJSON struct {
	InterfaceTypes []string `json:"interface-types"`
	Mapping        struct {
		Device     string `json:"device"`
		Mode       string `json:"mode"`
		Executable struct {
			Filename string `json:"filename"`
		} `json:"executable"`
		NVRAMTemplate struct {
			Filename string `json:"filename"`
		} `json:"nvram-template"`
		Filename string `json:"filename"` // memory mapping
	} `json:"mapping"`
	Targets []struct {
		Architecture string   `json:"architecture"`
		Machines     []string `json:"machines"`
	} `json:"targets"`
	Features []string `json:"features"`
}

// parseFirmwareDesc parses one descriptor file.
func parseFirmwareDesc(name, path, text string) (firmwareDesc, error) {
	var j firmwareJSON
	if err := json.Unmarshal([]byte(text), &j); err != nil {
		return firmwareDesc{}, fmt.Errorf("firmware descriptor %s does not parse: %w", path, err)
	}
	d := firmwareDesc{name: name, path: path, interfaces: j.InterfaceTypes, device: j.Mapping.Device, mode: j.Mapping.Mode,
		executable: j.Mapping.Executable.Filename, nvramTemplate: j.Mapping.NVRAMTemplate.Filename, features: map[string]bool{}}
	if d.device == "memory" {
		d.executable = j.Mapping.Filename
	}
	if d.mode == "" {
		d.mode = "split"
	}
	for _, t := range j.Targets {
		d.targets = append(d.targets, firmwareTarget{arch: t.Architecture, machines: t.Machines})
	}
	for _, f := range j.Features {
		d.features[f] = true
	}
	return d, nil
}

// firmwareDescriptors reads the descriptors in libvirt's order: one per
// file name over /usr/share/qemu/firmware and /etc/qemu/firmware (the
// latter winning), sorted by name, an empty file masking its name. A
// descriptor that does not parse makes libvirt fail every firmware
// lookup, so the whole set is then unknown.
func firmwareDescriptors(hf *HostFiles, session bool) ([]inventory.KVMFirmware, []firmwareDesc, string) {
	if session {
		return nil, nil, "qemu:///session also reads the user's ~/.config/qemu/firmware, which is not read"
	}
	byName := map[string]string{}
	for _, dir := range []string{pathFirmwareData, pathFirmwareConf} {
		if _, bad := hf.Errors[dir]; bad {
			return nil, nil, fileReason(hf, dir)
		}
		for _, n := range hf.Dirs[dir] {
			if !strings.HasPrefix(n, ".") {
				byName[n] = dir + "/" + n
			}
		}
	}
	names := sortedKeys(byName)
	model := []inventory.KVMFirmware{}
	var descs []firmwareDesc
	for _, n := range names {
		p := byName[n]
		text, ok := hf.Files[p]
		if !ok {
			return nil, nil, fileReason(hf, p)
		}
		if len(text) == 0 {
			continue // masks the same name in /usr/share
		}
		d, err := parseFirmwareDesc(n, p, text)
		if err != nil {
			return nil, nil, err.Error() + " (libvirt then finds no firmware at all)"
		}
		descs = append(descs, d)
		feats := sortedKeys(d.features)
		model = append(model, inventory.KVMFirmware{Name: n, Path: p, Executable: d.executable, NVRAMTemplate: d.nvramTemplate, Features: feats})
	}
	return model, descs, ""
}

// canonicalMachines maps "arch/alias" (x86_64/q35) to the canonical
// machine type (pc-q35-7.2) from the capabilities, as libvirt resolves a
// domain's machine before matching firmware.
func canonicalMachines(caps *libvirtxml.Caps) map[string]string {
	out := map[string]string{}
	for _, g := range caps.Guests {
		add := func(ms []libvirtxml.CapsGuestMachine) {
			for _, m := range ms {
				if m.Canonical != "" {
					out[g.Arch.Name+"/"+m.Name] = m.Canonical
				}
			}
		}
		add(g.Arch.Machines)
		for _, d := range g.Arch.Domains {
			add(d.Machines)
		}
	}
	return out
}

// globMatch is GLib's g_pattern_match_simple: '*' and '?' only.
func globMatch(pattern, s string) bool {
	if pattern == "" {
		return s == ""
	}
	switch pattern[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if globMatch(pattern[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && globMatch(pattern[1:], s[1:])
	}
	return s != "" && s[0] == pattern[0] && globMatch(pattern[1:], s[1:])
}

// firmwareRequest is what a domain asks of its firmware.
type firmwareRequest struct {
	arch, machine      string
	features           map[string]string // secure-boot, enrolled-keys: "yes" | "no"
	s3, s4             bool
	loaderSecure       bool
	stateless          bool
	sev, sevES         bool
	loaderPath, nvTmpl string
}

// matches is qemuFirmwareMatchDomain for automatic selection.
func (r firmwareRequest) matches(d firmwareDesc) bool {
	uefi := false
	for _, i := range d.interfaces {
		uefi = uefi || i == "uefi"
	}
	if !uefi {
		return false
	}
	target := false
	for _, t := range d.targets {
		if t.arch != r.arch {
			continue
		}
		for _, m := range t.machines {
			target = target || globMatch(m, r.machine)
		}
	}
	if !target {
		return false
	}
	if r.s3 && !d.features["acpi-s3"] || r.s4 && !d.features["acpi-s4"] {
		return false
	}
	for name, want := range r.features {
		if (want == "yes") != d.features[name] {
			return false
		}
	}
	if r.loaderSecure && !d.features["requires-smm"] {
		return false
	}
	if d.device == "flash" && (r.stateless) != (d.mode == "stateless") {
		return false
	}
	if r.sev && !d.features["amd-sev"] || r.sevES && !d.features["amd-sev-es"] {
		return false
	}
	return true
}

// enforcesSecureBoot: the descriptor's image verifies signatures and its
// variable store comes with keys enrolled (without keys the firmware is
// in setup mode and boots anything).
func (d firmwareDesc) enforcesSecureBoot() bool {
	return d.features["secure-boot"] && d.features["enrolled-keys"]
}

func (d firmwareDesc) describe() string {
	f := sortedKeys(d.features)
	return fmt.Sprintf("descriptor %s (%s; features %s)", d.name, d.executable, strings.Join(f, ", "))
}

// mapFirmware sets vm.firmware and vm.secure_boot.
func mapFirmware(d *libvirtxml.Domain, vm *inventory.VM, dc *domainContext, g gapper) {
	os := d.OS
	if os == nil {
		os = &libvirtxml.DomainOS{}
	}
	arch, machine := "", ""
	if os.Type != nil {
		arch, machine = os.Type.Arch, os.Type.Machine
	}
	efi := os.Firmware == "efi"
	loaderPath := ""
	if l := os.Loader; l != nil {
		loaderPath = strings.TrimSpace(l.Path)
		p := strings.ToLower(loaderPath)
		if l.Type == "pflash" || strings.Contains(p, "ovmf") || strings.Contains(p, "edk2") || strings.Contains(p, "aavmf") || strings.Contains(p, "qemu_efi") {
			efi = true
		}
	}
	if !efi {
		if arch == "" || arch == "x86_64" || arch == "i686" {
			vm.Firmware = inventory.Ptr("bios")
			vm.SecureBoot = inventory.Ptr(false)
			return
		}
		reason := fmt.Sprintf("no UEFI loader in the domain XML and %s guests have no BIOS firmware to assume", arch)
		g.add("vm.firmware", reason)
		g.add("vm.secure_boot", reason)
		return
	}
	vm.Firmware = inventory.Ptr("efi")
	req := firmwareRequest{arch: arch, machine: machine, features: map[string]string{}, loaderPath: loaderPath}
	if os.FirmwareInfo != nil {
		for _, f := range os.FirmwareInfo.Features {
			if f.Name == "secure-boot" || f.Name == "enrolled-keys" {
				req.features[f.Name] = f.Enabled
			}
		}
	}
	if os.Loader != nil {
		req.loaderSecure = os.Loader.Secure == "yes"
		req.stateless = os.Loader.Stateless == "yes"
	}
	if os.NVRam != nil {
		req.nvTmpl = os.NVRam.Template
	}
	if d.PM != nil {
		req.s3 = d.PM.SuspendToMem != nil && d.PM.SuspendToMem.Enabled == "yes"
		req.s4 = d.PM.SuspendToDisk != nil && d.PM.SuspendToDisk.Enabled == "yes"
	}
	if ls := d.LaunchSecurity; ls != nil && ls.SEV != nil {
		req.sev = true
		req.sevES = ls.SEV.Policy != nil && *ls.SEV.Policy&0x4 != 0
	}
	if c, ok := dc.machines[arch+"/"+machine]; ok {
		req.machine = c
	}
	sb, reason := secureBoot(req, os.Firmware == "efi", dc)
	if reason != "" {
		g.add("vm.secure_boot", reason)
		return
	}
	vm.SecureBoot = inventory.Ptr(sb)
}

// secureBoot decides whether the guest's firmware enforces Secure Boot;
// a non-empty reason means it cannot be told.
func secureBoot(req firmwareRequest, auto bool, dc *domainContext) (bool, string) {
	// With automatic selection libvirt only starts firmware that has the
	// features the domain asks for (and lacks those it refuses).
	if auto && req.loaderPath == "" {
		if req.features["secure-boot"] == "no" || req.features["enrolled-keys"] == "no" {
			return false, ""
		}
		if req.features["secure-boot"] == "yes" && req.features["enrolled-keys"] == "yes" {
			return true, ""
		}
	}
	if dc.firmwareReason != "" {
		return false, "Secure Boot is decided by the firmware descriptors, and " + dc.firmwareReason
	}
	if req.loaderPath == "" {
		if !auto {
			return false, "the domain names neither a UEFI loader nor automatic firmware selection"
		}
		// Predict libvirt's choice: the first matching descriptor.
		for _, d := range dc.firmware {
			if req.matches(d) {
				return d.enforcesSecureBoot(), ""
			}
		}
		return false, fmt.Sprintf("no firmware descriptor matches this %s %s guest's requirements, so libvirt would refuse to start it", req.arch, req.machine)
	}
	// A loader given (or chosen by libvirt for a running guest): the
	// descriptors that map it, narrowed by the NVRAM template.
	var cands []firmwareDesc
	for _, d := range dc.firmware {
		if d.device == "flash" && d.executable == req.loaderPath && (req.nvTmpl == "" || d.nvramTemplate == req.nvTmpl) {
			cands = append(cands, d)
		}
	}
	if len(cands) == 0 {
		what := "loader " + req.loaderPath
		if req.nvTmpl != "" {
			what += " with NVRAM template " + req.nvTmpl
		}
		return false, "no firmware descriptor describes " + what + ", so whether it enforces Secure Boot cannot be told"
	}
	sort.Slice(cands, func(a, b int) bool { return cands[a].name < cands[b].name })
	first := cands[0].enforcesSecureBoot()
	for _, d := range cands[1:] {
		if d.enforcesSecureBoot() != first {
			return false, fmt.Sprintf("loader %s is described both with and without enrolled keys (%s, %s) and the domain records no NVRAM template to tell which", req.loaderPath, cands[0].describe(), d.describe())
		}
	}
	return first, ""
}
