package hyperv

// sources names, per model field, the WMI class and property it is read
// from. The longest matching prefix wins (inventory.Inventory.Sources).
func sources() map[string]string {
	const (
		os   = "Win32_OperatingSystem"
		vssd = "Msvm_VirtualSystemSettingData"
		ssd  = "Msvm_SecuritySettingData"
		cs   = "Msvm_ComputerSystem"
		mig  = "Msvm_VirtualSystemMigrationServiceSettingData"
		dg   = "Win32_DeviceGuard"
		hgs  = "MSFT_HgsClientConfiguration"
		ep   = "Msvm_EthernetPortAllocationSettingData"
		vlan = "Msvm_EthernetSwitchPortVlanSettingData"
		sec  = "Msvm_EthernetSwitchPortSecuritySettingData"
		mnet = "Msvm_VirtualSystemMigrationNetworkSettingData"
		smb  = "MSFT_SmbServerConfiguration"
	)
	return map[string]string{
		"target.version":                                    os + ".Version + StdRegProv UBR",
		"host.name":                                         os + ".CSName",
		"host.patch":                                        os + ".BuildNumber, .Version + StdRegProv GetDWORDValue(HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion, UBR)",
		"host.management":                                   ep + ".HostResource (Msvm_InternalEthernetPort: management-OS vNIC) + " + vlan,
		"host.vmkernel_nics":                                ep + " with HostResource Msvm_InternalEthernetPort (management-OS vNICs)",
		"host.hyperv.os_caption":                            os + ".Caption",
		"host.hyperv.build_number":                          os + ".BuildNumber",
		"host.hyperv.ubr":                                   "StdRegProv.GetDWORDValue(HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion, UBR)",
		"host.hyperv.last_boot":                             os + ".LastBootUpTime",
		"host.hyperv.hotfixes":                              "Win32_QuickFixEngineering",
		"host.hyperv.newest_hotfix_days":                    "Win32_QuickFixEngineering.InstalledOn",
		"host.hyperv.migration":                             mig,
		"host.hyperv.migration.enabled":                     mig + ".EnableVirtualSystemMigration",
		"host.hyperv.migration.authentication":              mig + ".AuthenticationType",
		"host.hyperv.migration.compression":                 mig + ".EnableCompression",
		"host.hyperv.migration.smb_transport":               mig + ".EnableSmbTransport",
		"host.hyperv.migration.networks":                    mnet + ".SubnetNumber, .PrefixLength",
		"host.hyperv.migration.any_network":                 mnet + " rows for a /0 (0.0.0.0/0, ::0/0) or tagged Microsoft:UserManagedAllNetworks",
		"host.hyperv.migration.dedicated_networks":          mnet + " rows other than a /0",
		"host.hyperv.migration.management_overlap":          mnet + " rows vs the management subnets (Win32_NetworkAdapterConfiguration interfaces with a DefaultIPGateway)",
		"host.hyperv.migration.transport":                   mig + ".EnableCompression, .EnableSmbTransport (as Get-VMHost's VirtualMachineMigrationPerformanceOption reads them)",
		"host.hyperv.management_subnets":                    "Win32_NetworkAdapterConfiguration.IPAddress, .IPSubnet of IP-enabled interfaces with a DefaultIPGateway",
		"host.hyperv.management_vnics_own_vlan":             ep + " (Msvm_InternalEthernetPort on an external switch with VMs) + " + vlan + ".OperationMode, .AccessVlanId vs the VM ports' VLANs",
		"host.hyperv.smb":                                   smb,
		"host.hyperv.smb.encrypt_data":                      smb + ".EncryptData",
		"host.hyperv.smb.reject_unencrypted_access":         smb + ".RejectUnencryptedAccess",
		"host.hyperv.smb.require_security_signature":        smb + ".RequireSecuritySignature",
		"host.hyperv.device_guard":                          dg,
		"host.hyperv.device_guard.vbs_status":               dg + ".VirtualizationBasedSecurityStatus",
		"host.hyperv.device_guard.vbs_running":              dg + ".VirtualizationBasedSecurityStatus",
		"host.hyperv.device_guard.hvci_running":             dg + ".SecurityServicesRunning",
		"host.hyperv.device_guard.credential_guard_running": dg + ".SecurityServicesRunning",
		"host.hyperv.hgs":                                   hgs,
		"host.hyperv.hgs.is_host_guarded":                   hgs + ".IsHostGuarded",
		"host.hyperv.hgs.attestation_mode":                  hgs + ".AttestationOperationMode",
		"host.hyperv.management_os_shares_vm_switch":        ep + ".HostResource (Msvm_ExternalEthernetPort and Msvm_InternalEthernetPort on one Msvm_VirtualEthernetSwitch)",
		"host.hyperv.management_os_shares_vm_vlan":          ep + " + " + vlan + ".OperationMode, .AccessVlanId, .TrunkVlanIdArray",
		"host.hyperv.enhanced_session_mode":                 "Msvm_VirtualSystemManagementServiceSettingData.EnhancedSessionModeEnabled",
		"vm.name":                                           cs + ".ElementName",
		"vm.power_state":                                    cs + ".EnabledState",
		"vm.template":                                       "Hyper-V has no VM templates",
		"vm.firmware":                                       vssd + ".VirtualSystemSubType (generation 2 → efi)",
		"vm.secure_boot":                                    vssd + ".SecureBootEnabled",
		"vm.vtpm":                                           ssd + ".TpmEnabled",
		"vm.encryption.confidential":                        ssd + ".ShieldingRequested, Msvm_SecurityElement.Shielded",
		"vm.encryption.all_disks":                           "not read (BitLocker)",
		"vm.migration.encryption":                           ssd + ".EncryptStateAndVmMigrationTraffic",
		"vm.snapshots":                                      vssd + " with VirtualSystemType Microsoft:Hyper-V:Snapshot:Realized (.ElementName, .CreationTime)",
		"vm.oldest_snapshot_days":                           vssd + ".CreationTime of checkpoints",
		"vm.nics":                                           "Msvm_SyntheticEthernetPortSettingData + " + ep,
		"vm.nics.on_management_network":                     ep + ".HostResource (switch) + " + vlan + " vs the management-OS vNICs of an external switch",
		"vm.hyperv.state":                                   cs + ".EnabledState",
		"vm.hyperv.uptime_seconds":                          cs + ".OnTimeInMilliseconds",
		"vm.hyperv.last_state_change":                       cs + ".TimeOfLastStateChange",
		"vm.hyperv.days_in_state":                           cs + ".TimeOfLastStateChange, or .InstallDate for a VM that never changed state",
		"vm.hyperv.never_changed_state":                     cs + ".TimeOfLastStateChange (the CIM zero date 1601-01-01)",
		"vm.hyperv.created":                                 cs + ".InstallDate",
		"vm.hyperv.other_snapshots":                         vssd + " with VirtualSystemType Microsoft:Hyper-V:Snapshot:Recovery, :Planned, :Missing, :Replica:* (not checkpoints)",
		"vm.hyperv.ports.vlan_mode":                         vlan + ".OperationMode",
		"vm.hyperv.generation":                              vssd + ".VirtualSystemSubType",
		"vm.hyperv.configuration_version":                   vssd + ".Version",
		"vm.hyperv.secure_boot_template":                    vssd + ".SecureBootTemplateId",
		"vm.hyperv.secure_boot_template_id":                 vssd + ".SecureBootTemplateId",
		"vm.hyperv.automatic_checkpoints":                   vssd + ".AutomaticSnapshotsEnabled",
		"vm.hyperv.debug_port":                              vssd + ".DebugPortEnabled",
		"vm.hyperv.ksd_enabled":                             ssd + ".KsdEnabled",
		"vm.hyperv.shielding_requested":                     ssd + ".ShieldingRequested",
		"vm.hyperv.data_protection_requested":               ssd + ".DataProtectionRequested",
		"vm.hyperv.encrypt_state_and_migration_traffic":     ssd + ".EncryptStateAndVmMigrationTraffic",
		"vm.hyperv.vbs_opt_out":                             ssd + ".VirtualizationBasedSecurityOptOut",
		"vm.hyperv.bind_to_host_tpm":                        ssd + ".BindToHostTpm",
		"vm.hyperv.shielded":                                "Msvm_SecurityElement.Shielded",
		"vm.hyperv.encryption_active":                       "Msvm_SecurityElement.EncryptStateAndVmMigrationTrafficEnabled",
		"vm.hyperv.guest_service_interface":                 "Msvm_GuestServiceInterfaceComponentSettingData.EnabledState",
		"vm.hyperv.nested_virtualization":                   "Msvm_ProcessorSettingData.ExposeVirtualizationExtensions",
		"vm.hyperv.speculation_controls_disabled":           "Msvm_ProcessorSettingData.DisableSpeculationControls",
		"vm.hyperv.hw_threads_per_core":                     "Msvm_ProcessorSettingData.HwThreadsPerCore",
		"vm.hyperv.ports":                                   ep,
		"vm.hyperv.ports.vlans":                             vlan + ".OperationMode, .AccessVlanId, .NativeVlanId, .TrunkVlanIdArray, .PrimaryVlanId, .SecondaryVlanId",
		"vm.hyperv.ports.mac_spoofing":                      sec + ".AllowMacSpoofing",
		"vm.hyperv.ports.dhcp_guard":                        sec + ".EnableDhcpGuard",
		"vm.hyperv.ports.router_guard":                      sec + ".EnableRouterGuard",
		"vm.hyperv.ports.monitor_mode":                      sec + ".MonitorMode",
		"network":                                           "Msvm_VirtualEthernetSwitch",
		"network.management":                                ep + ".HostResource Msvm_InternalEthernetPort on the switch",
		"network.vms":                                       ep + ".HostResource of VM ports",
		"network.hyperv.type":                               ep + ".HostResource (Msvm_ExternalEthernetPort → external, Msvm_InternalEthernetPort only → internal)",
	}
}
