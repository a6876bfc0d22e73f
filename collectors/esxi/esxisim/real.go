package esxisim

import "fmt"

// Estates shaped like real ones. Their shapes were learnt from public
// `govc object.save` recordings of vCenter 6.7 and 7.0.1 (two of them
// VMware Cloud on AWS) and govmomi's simulator/esx models captured from
// real hosts; no recorded data is copied: names, ids and addresses here are
// made up. Build numbers are VMware's (Broadcom KB 316595 for ESXi).

// realOptions are advanced options as real hosts hold them; the simulator
// sends the Security.* and SOAP ones as xsd:int and the rest as xsd:long,
// as real hosts do (intOptions).
func realOptions(hardened bool) map[string]any {
	o := map[string]any{
		"Security.AccountLockFailures": int64(5), "Security.AccountUnlockTime": int64(900),
		"Security.PasswordHistory": int64(0), "Security.PasswordMaxDays": int64(99999),
		"Config.HostAgent.vmacore.soap.sessionTimeout": int64(30),
		"Mem.ShareForceSalting":                        int64(2), "Mem.MemEagerZero": int64(0),
		"UserVars.ESXiShellInteractiveTimeOut": int64(0), "UserVars.ESXiShellTimeOut": int64(0),
		"UserVars.DcuiTimeOut": int64(600), "UserVars.HostClientSessionTimeout": int64(900),
		"UserVars.SuppressShellWarning": int64(0), "Net.BlockGuestBPDU": int64(0),
		"Config.HostAgent.plugins.solo.enableMob": false, "VMkernel.Boot.execInstalledOnly": false,
		"DCUI.Access": "root", "Syslog.global.logHost": "",
	}
	if hardened {
		o["Security.AccountLockFailures"] = int64(3)
		o["Net.BlockGuestBPDU"] = int64(1)
		o["Syslog.global.logHost"] = "udp://syslog.example.net:514"
	}
	return o
}

// ft turns fault tolerance on for a VM (runtime.faultToleranceState running).
func ft(v VM) VM {
	v.FaultTolerance = "running"
	return v
}

// VMCLike is a VMware Cloud on AWS-like SDDC: vCenter 7.0.1 (API 7.0.1.1,
// so no vSphere 7.0.2 properties), three ESXi 7.0.1 hosts whose only
// switching is NSX-T's N-VDS (vmknics on hidden management segments, no
// standard port groups), VMs on NSX segments, outbound-only firewall
// rulesets enabled and open to all, no slpd, and VMs whose page-sharing
// salts are mostly their own.
func VMCLike() *Estate {
	e := &Estate{VCenter: VCenter{Version: "7.0.1", Build: "17004997", APIVersion: "7.0.1.1"}}
	seg := func(name string, n int, hidden bool) Segment {
		return Segment{Name: name, ID: fmt.Sprintf("0d7e1c52-4b1a-4c7e-9a55-%012d", n), Hidden: hidden}
	}
	e.Segments = []Segment{
		seg("mgmt-vmk0-seg", 1, true), seg("vsan-vmk1-seg", 2, true), seg("vmotion-vmk2-seg", 3, true),
		seg("cgw-vdi", 10, false), seg("cgw-apps", 11, false),
	}
	for i := 1; i <= 3; i++ {
		h := Host{
			Name: fmt.Sprintf("esx-%02d.sddc.example.net", i), Version: "7.0.1", Build: "16850804", Lockdown: "lockdownDisabled",
			NTP: []string{"169.254.169.123"}, CertificateDays: 400, Options: realOptions(i != 3),
			Segments: []string{"cgw-vdi", "cgw-apps"},
			VMKNICs: []VMKNIC{
				{Device: "vmk0", Segment: "mgmt-vmk0-seg", IP: fmt.Sprintf("10.2.32.%d", 10+i), Services: []string{"management"}},
				{Device: "vmk1", Segment: "vsan-vmk1-seg", IP: fmt.Sprintf("10.2.48.%d", 10+i), Services: []string{"vsan"}},
				{Device: "vmk2", Segment: "vmotion-vmk2-seg", IP: fmt.Sprintf("10.2.64.%d", 10+i), Services: []string{"vmotion"}},
			},
			Services: map[string]Service{"TSM-SSH": {Policy: "off"}, "TSM": {Policy: "off"}, "ntpd": {Running: true, Policy: "on"}},
		}
		if i != 3 {
			// Inbound services restricted to the SDDC's management network;
			// esx-03 was left open.
			h.FirewallAllowedIPs = []string{"10.2.0.0/16"}
		}
		e.Hosts = append(e.Hosts, h)
	}
	vm := func(name, host, network, salt string) VM {
		v := VM{Name: name, Host: host, Power: "on", MigrateEncryption: "opportunistic", Firmware: "efi", SecureBoot: true, Network: network,
			ExtraConfig: map[string]string{"isolation.tools.copy.disable": "TRUE", "isolation.tools.paste.disable": "TRUE"}}
		if salt != "" {
			v.ExtraConfig["sched.mem.pshare.salt"] = salt
		}
		return v
	}
	e.VMs = []VM{
		// Unique per-VM salts (UUIDs), as seen on real desktop pools.
		ft(vm("vdi-001", "esx-01.sddc.example.net", "cgw-vdi", "6f1c8d2e-31a4-4e0b-9c7d-1a2b3c4d5e01")),
		vm("vdi-002", "esx-02.sddc.example.net", "cgw-vdi", "6f1c8d2e-31a4-4e0b-9c7d-1a2b3c4d5e02"),
		// Two VMs that share one salt share memory pages again.
		vm("app-001", "esx-01.sddc.example.net", "cgw-apps", "apps-pool"),
		vm("app-002", "esx-02.sddc.example.net", "cgw-apps", "apps-pool"),
		// Salt 0 is what every unsalted VM uses with Mem.ShareForceSalting 1.
		vm("app-003", "esx-03.sddc.example.net", "cgw-apps", "0"),
		// A VM on the hosts' management segment.
		vm("rogue-001", "esx-03.sddc.example.net", "mgmt-vmk0-seg", ""),
	}
	return e
}

// Legacy is an on-premises estate in the middle of an upgrade: vCenter
// 7.0.1 (API 7.0.1.1) with an ESXi 6.7 U3 host and two ESXi 7.0.1 hosts,
// one of them not responding. Distributed switching is a real vCenter's
// VmwareDistributedVirtualSwitch with an uplink port group (a 0-4094
// trunk), a nested-lab trunk port group, and management on a distributed
// port group; the 6.7 host keeps management on vSwitch0, where a VM port
// group shares its VLAN under another name.
func Legacy() *Estate {
	e := &Estate{VCenter: VCenter{Version: "7.0.1", Build: "17004997", APIVersion: "7.0.1.1", KeyProvider: "kp-legacy"}}
	e.DVPortgroups = []DVPortgroup{
		{Name: "dvpg-app-120", VLAN: 120, Security: &Security{}},
		{Name: "dvpg-mgmt-110", VLAN: 110, Security: &Security{}},
		{Name: "dvpg-nested-trunk", Trunk: [][2]int32{{0, 4094}}, Security: &Security{AllowPromiscuous: true, ForgedTransmits: true, MACChanges: true}},
	}
	svc := map[string]Service{"TSM-SSH": {Policy: "off"}, "TSM": {Policy: "off"}, "ntpd": {Running: true, Policy: "on"}}
	e.Hosts = []Host{
		{
			Name: "esx67-01.lab.example.net", Version: "6.7.0", Build: "14320388", APIVersion: "6.7.3", Lockdown: "lockdownDisabled",
			NTP: []string{"ntp.lab.example.net"}, CertificateDays: 200, Options: realOptions(true), Services: svc,
			VSwitchSecurity: &Security{},
			Portgroups: []Portgroup{
				{Name: "vmk-Management-172.20.0.0/24", VLAN: 0},
				{Name: "Management-172.20.0.0/24", VLAN: 0},
				{Name: "Guest Trunk", VLAN: 4095},
				{Name: "VM Network 20", VLAN: 20},
			},
			VMKNICs: []VMKNIC{{Device: "vmk0", Portgroup: "vmk-Management-172.20.0.0/24", IP: "172.20.0.11", Services: []string{"management"}}},
		},
		{
			Name: "esx701-01.lab.example.net", Version: "7.0.1", Build: "16850804", Lockdown: "lockdownNormal",
			NTP: []string{"ntp.lab.example.net"}, CertificateDays: 200, Options: realOptions(true), Services: svc,
			FirewallAllowedIPs: []string{"172.20.0.0/24"},
			VMKNICs:            []VMKNIC{{Device: "vmk0", DVPortgroup: "dvpg-mgmt-110", IP: "172.20.110.12", Services: []string{"management"}}},
		},
		{
			Name: "esx701-02.lab.example.net", Version: "7.0.1", Build: "16850804", Lockdown: "lockdownNormal", ConnectionState: "notResponding",
			NTP: []string{"ntp.lab.example.net"}, CertificateDays: 200, Options: realOptions(true), Services: svc,
			VMKNICs: []VMKNIC{{Device: "vmk0", DVPortgroup: "dvpg-mgmt-110", IP: "172.20.110.13", Services: []string{"management"}}},
		},
	}
	vm := func(name, host, network, migrate string) VM {
		return VM{Name: name, Host: host, Power: "on", MigrateEncryption: migrate, Firmware: "bios", Network: network}
	}
	e.VMs = []VM{
		ft(vm("jump-67", "esx67-01.lab.example.net", "Management-172.20.0.0/24", "opportunistic")),
		vm("web-67", "esx67-01.lab.example.net", "VM Network 20", "opportunistic"),
		vm("sniffer-67", "esx67-01.lab.example.net", "Guest Trunk", "opportunistic"),
		vm("app-701", "esx701-01.lab.example.net", "dvpg-app-120", "required"),
		vm("nested-esx-01", "esx701-01.lab.example.net", "dvpg-nested-trunk", "opportunistic"),
		vm("app-stale", "esx701-02.lab.example.net", "dvpg-app-120", "disabled"),
	}
	return e
}
