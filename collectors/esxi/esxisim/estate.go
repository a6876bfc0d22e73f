// Package esxisim starts govmomi's vSphere simulator in-process and seeds it
// with a declared estate, for `hvaudit demo`, integration tests and
// benchmarks. What the vSphere API cannot set on the simulator (services,
// NTP, lockdown, vmknic tags, standard port groups, builds) is set on its
// objects directly, under the simulator's locks.
package esxisim

import (
	"bytes"
	"fmt"
	"io/fs"

	"github.com/BurntSushi/toml"
)

// Estate is a declared vSphere estate (configs/demo/vsphere.toml).
type Estate struct {
	VCenter VCenter `toml:"vcenter"`
	Hosts   []Host  `toml:"host"`
	VMs     []VM    `toml:"vm"`
	// DVPortgroups reconfigure the simulator's distributed port groups in order.
	DVPortgroups []DVPortgroup `toml:"dvportgroup"`
	// Segments are NSX segments (opaque networks).
	Segments []Segment `toml:"segment"`
	// DeliberateGaps are the findings the estate leaves in error on
	// purpose, to show what error means; the demo names them.
	DeliberateGaps []DeliberateGap `toml:"deliberate_gap"`
	EstateSecurity
}

// DeliberateGap is a check an estate leaves in error on purpose on the
// objects named, and why: something hvaudit cannot read on a real estate
// either.
type DeliberateGap struct {
	Check   string   `toml:"check"`
	Objects []string `toml:"objects"`
	Why     string   `toml:"why"`
}

// VCenter is the management server's identity and key management.
type VCenter struct {
	Version string `toml:"version"`
	Build   string `toml:"build"`
	// APIVersion is the API release the server speaks ("7.0.1.1"); by
	// default Version plus ".0". Properties newer than it are unknown to
	// the server, which refuses them as a real one does (InvalidProperty).
	APIVersion  string `toml:"api_version"`
	KeyProvider string `toml:"key_provider"` // registered and made default when set
	// DVSType is the distributed switch's managed object type: a real
	// vCenter's "VmwareDistributedVirtualSwitch" (the default) or the
	// simulator's own "DistributedVirtualSwitch".
	DVSType string `toml:"dvs_type"`
	VCenterSecurity
}

// Host is one ESXi host. Unset fields keep the simulator's defaults, so a
// property the simulator does not return stays unreturned.
type Host struct {
	Name    string `toml:"name"`
	Version string `toml:"version"`
	Build   string `toml:"build"`
	// APIVersion the host speaks; by default Version plus ".0".
	APIVersion string `toml:"api_version"`
	// ConnectionState as vCenter reports it ("notResponding",
	// "disconnected"); unset, the host is connected.
	ConnectionState string             `toml:"connection_state"`
	Lockdown        string             `toml:"lockdown"`
	SecureBoot      *bool              `toml:"secure_boot"`
	NTP             []string           `toml:"ntp"`
	CertificateDays int                `toml:"certificate_days"` // 0: no certificate
	Services        map[string]Service `toml:"services"`
	Options         map[string]any     `toml:"options"`
	VSwitchSecurity *Security          `toml:"vswitch_security"`
	Portgroups      []Portgroup        `toml:"portgroup"`
	VMKNICs         []VMKNIC           `toml:"vmk"`
	// FirewallAllowedIPs, when set, limits every enabled ruleset that
	// accepts inbound connections to these networks (the simulator's
	// default opens them to all).
	FirewallAllowedIPs []string `toml:"firewall_allowed_networks"`
	// FirewallSystemRulesets are the rulesets whose allowed addresses only
	// the system sets (ipListUserConfigurable false); a host at API 8.0.2 or
	// later marks every other ruleset user-configurable, an older one says
	// nothing, as real hosts do.
	FirewallSystemRulesets []string `toml:"firewall_system_rulesets"`
	// Segments lists the NSX segments the host's N-VDS carries (by name).
	Segments []string `toml:"segments"`
	HostSecurity
}

// Service is a host service's state.
type Service struct {
	Running bool   `toml:"running"`
	Policy  string `toml:"policy"`
}

// Security is a layer-2 security policy.
type Security struct {
	AllowPromiscuous bool `toml:"allow_promiscuous"`
	ForgedTransmits  bool `toml:"forged_transmits"`
	MACChanges       bool `toml:"mac_changes"`
}

// Portgroup is a standard port group.
type Portgroup struct {
	Name string `toml:"name"`
	VLAN int32  `toml:"vlan"`
	// VSwitch is the standard switch it belongs to (default: the first).
	VSwitch  string    `toml:"vswitch"`
	Security *Security `toml:"security"`
}

// VMKNIC is a VMkernel interface with its service tags (vSphere nicTypes),
// on a standard port group, a distributed port group or an NSX segment.
type VMKNIC struct {
	Device      string   `toml:"device"`
	Portgroup   string   `toml:"portgroup"`
	DVPortgroup string   `toml:"dvportgroup"`
	Segment     string   `toml:"segment"`
	NetStack    string   `toml:"netstack"`
	IP          string   `toml:"ip"`
	Services    []string `toml:"services"`
}

// VM is one virtual machine.
type VM struct {
	Name              string            `toml:"name"`
	Host              string            `toml:"host"`
	Power             string            `toml:"power"` // on | off | suspended
	Template          bool              `toml:"template"`
	MigrateEncryption string            `toml:"migrate_encryption"`
	FTEncryption      string            `toml:"ft_encryption"`
	Encrypted         bool              `toml:"encrypted"`
	VTPM              bool              `toml:"vtpm"`
	Firmware          string            `toml:"firmware"`
	SecureBoot        bool              `toml:"secure_boot"`
	Network           string            `toml:"network"`
	SnapshotAgeDays   []int             `toml:"snapshot_age_days"`
	ExtraConfig       map[string]string `toml:"extra_config"`
	Floppy            bool              `toml:"floppy"`
	SerialPort        bool              `toml:"serial_port"`
	// Logging sets config.flags.enableLogging; unset, the simulator's
	// default (not returned) stays.
	Logging *bool `toml:"logging"`
	// ToolsVersion is the VMware Tools release in the guest ("12.5.4"),
	// served as guest.toolsVersion packed as vSphere packs it; unset, the
	// simulator's "0" (Tools not installed) stays.
	ToolsVersion string `toml:"tools_version"`
	VMSecurity
}

// DVPortgroup reconfigures a distributed port group.
type DVPortgroup struct {
	Name string `toml:"name"`
	VLAN int32  `toml:"vlan"`
	// Trunk, when set, makes it a VLAN trunk of these [start, end] ranges.
	Trunk    [][2]int32 `toml:"trunk"`
	Security *Security  `toml:"security"`
	// NSXSegment, when set, backs the port group with that NSX segment id
	// (NSX-T on a vSphere 7 distributed switch): backingType "nsx".
	NSXSegment string `toml:"nsx_segment"`
	PortgroupPolicy
}

// Segment is an NSX segment. vCenter lists it as an OpaqueNetwork unless
// Hidden (VMware Cloud keeps its management segments out of the customer's
// inventory; only the hosts know them).
type Segment struct {
	Name   string `toml:"name"`
	ID     string `toml:"id"`
	Hidden bool   `toml:"hidden"`
}

// LoadEstate reads an estate file; unknown keys are errors naming the file
// and the key, so a typo never silently drops part of the estate.
func LoadEstate(fsys fs.FS, path string) (*Estate, error) {
	b, err := fs.ReadFile(fsys, path)
	if err != nil {
		return nil, fmt.Errorf("estate: %w", err)
	}
	var e Estate
	md, err := toml.NewDecoder(bytes.NewReader(b)).Decode(&e)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("%s: unknown key %q", path, und[0].String())
	}
	if err := e.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &e, nil
}

// validate checks the references inside an estate.
func (e *Estate) validate() error {
	segs := map[string]bool{}
	for _, s := range e.Segments {
		if s.Name == "" || s.ID == "" || segs[s.Name] {
			return fmt.Errorf("every segment needs a unique name and an id (got %q)", s.Name)
		}
		segs[s.Name] = true
	}
	names := map[string]bool{}
	for _, h := range e.Hosts {
		if h.Name == "" || names[h.Name] {
			return fmt.Errorf("every host needs a unique name (got %q)", h.Name)
		}
		names[h.Name] = true
		for _, k := range h.VMKNICs {
			if k.Segment != "" && !segs[k.Segment] {
				return fmt.Errorf("host %s: %s is on unknown segment %q", h.Name, k.Device, k.Segment)
			}
		}
	}
	for _, g := range e.DeliberateGaps {
		if g.Check == "" || len(g.Objects) == 0 || g.Why == "" {
			return fmt.Errorf("every deliberate_gap needs a check, objects and why (got %q)", g.Check)
		}
	}
	for _, v := range e.VMs {
		if v.Host != "" && !names[v.Host] {
			return fmt.Errorf("VM %s is on unknown host %q", v.Name, v.Host)
		}
		if v.ToolsVersion != "" {
			if _, err := packToolsVersion(v.ToolsVersion); err != nil {
				return fmt.Errorf("VM %s: %w", v.Name, err)
			}
		}
	}
	return nil
}

// Scaled is a uniform estate for benchmarks: hosts alternate between a
// hardened and a neglected profile and VMs between compliant and not.
func Scaled(hosts, vms int) *Estate {
	e := &Estate{VCenter: VCenter{Version: "8.0.3", Build: "24322831", KeyProvider: "kp-bench"}}
	for i := 0; i < hosts; i++ {
		h := Host{
			Name: fmt.Sprintf("esx-%04d", i), Version: "8.0.3", Build: "24674464", Lockdown: "lockdownNormal",
			SecureBoot: ptr(i%2 == 0), NTP: []string{"ntp1.example.com"}, CertificateDays: 200,
			Services: map[string]Service{"TSM-SSH": {Running: i%3 == 0, Policy: "off"}, "ntpd": {Running: true, Policy: "on"}},
			Options: map[string]any{
				"Mem.ShareForceSalting": int64(2 * (i % 2)), "UserVars.ESXiShellInteractiveTimeOut": int64(900),
				"Syslog.global.logHost": "tcp://syslog.example.com:514", "VMkernel.Boot.execInstalledOnly": i%2 == 0,
			},
			VSwitchSecurity: &Security{},
			Portgroups:      []Portgroup{{Name: "Management Network", VLAN: 10}, {Name: "vMotion", VLAN: 20}, {Name: "VM Network", VLAN: 100}},
			VMKNICs: []VMKNIC{
				{Device: "vmk0", Portgroup: "Management Network", IP: fmt.Sprintf("10.0.%d.%d", i/250, i%250+1), Services: []string{"management"}},
				{Device: "vmk1", Portgroup: "vMotion", NetStack: "vmotion", IP: fmt.Sprintf("10.1.%d.%d", i/250, i%250+1), Services: []string{"vmotion"}},
			},
		}
		h.AcceptanceLevel, h.LockdownExceptions = "partner", &[]string{}
		if i%4 == 1 {
			h.AcceptanceLevel = "community"
			h.Build = "22380479" // 8.0.2 line, behind
			h.Version = "8.0.2"
			h.VMKNICs[0].Services = []string{"management", "vmotion"}
		}
		e.Hosts = append(e.Hosts, h)
	}
	modes := []string{"required", "opportunistic", "disabled"}
	for i := 0; i < vms; i++ {
		v := VM{
			Name: fmt.Sprintf("vm-%05d", i), Host: e.Hosts[i%hosts].Name, Power: "on",
			MigrateEncryption: modes[i%3], FTEncryption: "ftEncryptionOpportunistic",
			Firmware: "efi", SecureBoot: i%2 == 0, VTPM: i%5 == 0, Network: "VM Network",
			ExtraConfig: map[string]string{"isolation.tools.copy.disable": "TRUE", "isolation.tools.paste.disable": "TRUE"},
		}
		if i%10 == 0 {
			v.SnapshotAgeDays = []int{90}
		}
		e.VMs = append(e.VMs, v)
	}
	return e
}

func ptr[T any](v T) *T { return &v }

// packToolsVersion packs "major.minor.patch" as guest.toolsVersion carries
// it: major<<10 | minor<<5 | patch ("12.5.4" is "12452").
func packToolsVersion(v string) (string, error) {
	var major, minor, patch uint
	if n, err := fmt.Sscanf(v, "%d.%d.%d", &major, &minor, &patch); err != nil || n != 3 || minor > 31 || patch > 31 {
		return "", fmt.Errorf("tools_version %q is not major.minor.patch (minor and patch below 32)", v)
	}
	return fmt.Sprint(major<<10 | minor<<5 | patch), nil
}
