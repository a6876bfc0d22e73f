package esxi

import "maps"

// sources names, per model field, the vSphere object and property it is
// read from. The longest matching prefix wins (inventory.Inventory.SourceOf).
func sources() map[string]string {
	s := map[string]string{
		"target.kind":                   "ServiceContent about.apiType",
		"target.version":                "ServiceContent about.version",
		"target.build":                  "ServiceContent about.build",
		"target.patch":                  "ServiceContent about.{version,build}",
		"target.key_providers":          "CryptoManagerKmip kmipServers",
		"target.settings":               "OptionManager (vCenter settings) setting",
		"target.transport":              "hvaudit connection settings (--insecure, --thumbprint, --ca-file)",
		"host.patch":                    "HostSystem summary.config.product.{version,build}",
		"host.certificate":              "HostSystem config.certificate",
		"host.lockdown_mode":            "HostSystem config.lockdownMode",
		"host.services":                 "HostSystem config.service.service[key]",
		"host.options":                  "HostSystem config.option (advanced settings)",
		"host.ntp":                      "HostSystem config.dateTimeInfo.ntpConfig.server",
		"host.secure_boot":              "HostSystem capability.uefiSecureBoot",
		"host.firewall":                 "HostSystem config.firewall",
		"host.firewall.open_rulesets":   "HostSystem config.firewall.ruleset[] (enabled, inbound rule, allowedHosts.allIp, ipListUserConfigurable)",
		"host.api_version":              "HostSystem summary.config.product.apiVersion",
		"host.vmkernel_nics":            "HostSystem config.network.vnic (portgroup, distributedVirtualPort, opaqueNetwork), config.virtualNicManagerInfo",
		"host.vswitches":                "HostSystem config.network.vswitch[].spec.policy.security",
		"host.management":               "HostSystem config.virtualNicManagerInfo.netConfig[].selectedVnic, config.network.vnic[].portgroup",
		"vm.power_state":                "VirtualMachine runtime.powerState",
		"vm.connection_state":           "VirtualMachine runtime.connectionState",
		"vm.host":                       "VirtualMachine runtime.host",
		"host.connection_state":         "HostSystem runtime.connectionState",
		"host.cluster":                  "HostSystem parent",
		"network.kind":                  "network type (HostPortGroup, DistributedVirtualPortgroup, OpaqueNetwork)",
		"network.segment":               "OpaqueNetwork summary.opaqueNetworkId / DistributedVirtualPortgroup config.logicalSwitchUuid",
		"network.vlan_ranges":           "DistributedVirtualPortgroup config.defaultPortConfig.vlan (trunk) / HostPortGroup spec.vlanId 4095",
		"vm.salt_shared_with":           "VirtualMachine config.extraConfig sched.mem.pshare.salt, compared across the target's VMs",
		"network.uplink":                "DistributedVirtualSwitch config.uplinkPortgroup",
		"vm.template":                   "VirtualMachine config.template",
		"vm.firmware":                   "VirtualMachine config.firmware",
		"vm.secure_boot":                "VirtualMachine config.bootOptions.efiSecureBootEnabled",
		"vm.vtpm":                       "VirtualMachine config.hardware.device (VirtualTPM)",
		"vm.encryption":                 "VirtualMachine config.keyId, config.hardware.device[VirtualDisk].backing.keyId",
		"vm.encryption.confidential":    "VirtualMachine config.sevEnabled",
		"vm.migration.encryption":       "VirtualMachine config.migrateEncryption",
		"vm.migration.ft_encryption":    "VirtualMachine config.ftEncryptionMode",
		"vm.settings":                   "VirtualMachine config.extraConfig",
		"vm.devices":                    "VirtualMachine config.hardware.device",
		"vm.disks":                      "VirtualMachine config.hardware.device[VirtualDisk]",
		"vm.nics":                       "VirtualMachine config.hardware.device[VirtualEthernetCard].backing (port group, distributed port, NSX opaque network)",
		"vm.nics.on_management_network": "VirtualMachine NIC backing vs where every host's management vmknics sit (switch and VLAN, or NSX segment)",
		"vm.snapshots":                  "VirtualMachine snapshot.rootSnapshotList[].createTime",
		"vm.oldest_snapshot_days":       "VirtualMachine snapshot.rootSnapshotList[].createTime",
		"vm.logging_enabled":            "VirtualMachine config.flags.enableLogging",
		"network.vlan":                  "port group VLAN (config.network.portgroup[].spec.vlanId / defaultPortConfig.vlan)",
		"network.trunk":                 "port group VLAN (config.network.portgroup[].spec.vlanId / defaultPortConfig.vlan)",
		"network.security":              "port group security policy (computedPolicy.security / defaultPortConfig.securityPolicy)",
		"network.management":            "host management vmk portgroups",
		"network.vms":                   "VMs whose NIC backing uses the port group",
		"vm.patch":                      "VirtualMachine " + toolsVersionPath + " (decoded: major<<10 | minor<<5 | patch)",
	}
	maps.Copy(s, securitySources)
	return s
}
