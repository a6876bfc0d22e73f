<#
.SYNOPSIS
    Writes an hvaudit snapshot of this Hyper-V host, for `hvaudit audit --snapshot FILE`.

.DESCRIPTION
    Runs on the Hyper-V host itself and writes an hvaudit/snapshot/v1 file
    (platform "hyperv") whose "data" is exactly what hvaudit's WinRM source
    records: for each WMI class, the output of

        Get-CimInstance -Namespace NS -ClassName CLASS |
            Select-Object -Property P1,P2,... | ConvertTo-Json -Depth 4 -Compress

    and the update build revision (UBR) read through StdRegProv.GetDWORDValue.

    Read-only: the script only runs Get-CimInstance queries and that one
    registry read. It stores no credential. The file describes the host's
    security configuration: keep it where audit evidence is kept.

    The query list below must stay equal to the Go collector's Catalog
    (collectors/hyperv/source.go); a unit test checks it.

.PARAMETER OutputPath
    The snapshot file to write (UTF-8 JSON).

.PARAMETER TargetName
    How reports name this host; defaults to the computer name in lower case.

.EXAMPLE
    powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\Get-HvauditSnapshot.ps1 -OutputPath C:\Temp\hv01.hvaudit.json

    Then, on the audit machine: hvaudit audit --snapshot hv01.hvaudit.json
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)]
    [string] $OutputPath,

    [string] $TargetName = $env:COMPUTERNAME.ToLowerInvariant()
)

Set-StrictMode -Version 2
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$ScriptVersion = '2'
$Schema = 'hvaudit/snapshot/v1'
$Platform = 'hyperv'

# One query per class, never per VM. Keep in step with Catalog in source.go.
$Queries = @(
    @{ Namespace = 'root\cimv2'; Class = 'Win32_OperatingSystem'; Properties = @('CSName','Caption','Version','BuildNumber','LastBootUpTime','ProductType') }
    @{ Namespace = 'root\cimv2'; Class = 'Win32_QuickFixEngineering'; Properties = @('HotFixID','Description','InstalledOn','InstalledBy') }
    @{ Namespace = 'root\cimv2'; Class = 'Win32_NetworkAdapterConfiguration'; Properties = @('Description','InterfaceIndex','IPEnabled','IPAddress','IPSubnet','DefaultIPGateway') }
    @{ Namespace = 'root\virtualization\v2'; Class = 'Msvm_ComputerSystem'; Properties = @('Name','ElementName','Caption','EnabledState','OnTimeInMilliseconds','TimeOfLastStateChange','InstallDate') }
    @{ Namespace = 'root\virtualization\v2'; Class = 'Msvm_VirtualSystemSettingData'; Properties = @('InstanceID','ConfigurationID','VirtualSystemIdentifier','VirtualSystemType','VirtualSystemSubType','ElementName','Version','SecureBootEnabled','SecureBootTemplateId','AutomaticSnapshotsEnabled','CreationTime','IsAutomaticSnapshot','DebugPortEnabled') }
    @{ Namespace = 'root\virtualization\v2'; Class = 'Msvm_SecuritySettingData'; Properties = @('InstanceID','TpmEnabled','KsdEnabled','ShieldingRequested','DataProtectionRequested','EncryptStateAndVmMigrationTraffic','VirtualizationBasedSecurityOptOut','BindToHostTpm') }
    @{ Namespace = 'root\virtualization\v2'; Class = 'Msvm_SecurityElement'; Properties = @('SystemName','Shielded','EncryptStateAndVmMigrationTrafficEnabled') }
    @{ Namespace = 'root\virtualization\v2'; Class = 'Msvm_GuestServiceInterfaceComponentSettingData'; Properties = @('InstanceID','EnabledState') }
    @{ Namespace = 'root\virtualization\v2'; Class = 'Msvm_ProcessorSettingData'; Properties = @('InstanceID','ExposeVirtualizationExtensions','DisableSpeculationControls','HwThreadsPerCore') }
    @{ Namespace = 'root\virtualization\v2'; Class = 'Msvm_VirtualEthernetSwitch'; Properties = @('Name','ElementName') }
    @{ Namespace = 'root\virtualization\v2'; Class = 'Msvm_EthernetSwitchPort'; Properties = @('Name','SystemName','ElementName') }
    @{ Namespace = 'root\virtualization\v2'; Class = 'Msvm_SyntheticEthernetPortSettingData'; Properties = @('InstanceID','ElementName','Address','StaticMacAddress') }
    @{ Namespace = 'root\virtualization\v2'; Class = 'Msvm_EthernetPortAllocationSettingData'; Properties = @('InstanceID','ElementName','HostResource','Parent','EnabledState') }
    @{ Namespace = 'root\virtualization\v2'; Class = 'Msvm_EthernetSwitchPortVlanSettingData'; Properties = @('InstanceID','OperationMode','AccessVlanId','NativeVlanId','TrunkVlanIdArray','PrimaryVlanId','SecondaryVlanId') }
    @{ Namespace = 'root\virtualization\v2'; Class = 'Msvm_EthernetSwitchPortSecuritySettingData'; Properties = @('InstanceID','AllowMacSpoofing','EnableDhcpGuard','EnableRouterGuard','MonitorMode') }
    @{ Namespace = 'root\virtualization\v2'; Class = 'Msvm_VirtualSystemMigrationServiceSettingData'; Properties = @('EnableVirtualSystemMigration','AuthenticationType','EnableCompression','EnableSmbTransport','MaximumActiveVirtualSystemMigration','MaximumActiveStorageMigration') }
    @{ Namespace = 'root\virtualization\v2'; Class = 'Msvm_VirtualSystemMigrationNetworkSettingData'; Properties = @('InstanceID','SubnetNumber','PrefixLength','Metric','Tags') }
    @{ Namespace = 'root\virtualization\v2'; Class = 'Msvm_VirtualSystemManagementServiceSettingData'; Properties = @('EnhancedSessionModeEnabled','DefaultVirtualHardDiskPath','DefaultExternalDataRoot') }
    @{ Namespace = 'root\Microsoft\Windows\SMB'; Class = 'MSFT_SmbServerConfiguration'; Properties = @('EncryptData','RejectUnencryptedAccess','RequireSecuritySignature') }
    @{ Namespace = 'root\Microsoft\Windows\DeviceGuard'; Class = 'Win32_DeviceGuard'; Properties = @('VirtualizationBasedSecurityStatus','SecurityServicesConfigured','SecurityServicesRunning','RequiredSecurityProperties','AvailableSecurityProperties'); Optional = $true }
    @{ Namespace = 'root\Microsoft\Windows\Hgs'; Class = 'MSFT_HgsClientConfiguration'; Properties = @('IsHostGuarded','Mode','AttestationOperationMode','AttestationStatus','AttestationServerUrl','KeyProtectionServerUrl'); Optional = $true }
)

function ConvertTo-JsonString([string] $Text) {
    # A JSON string literal, escaped by ConvertTo-Json itself.
    ConvertTo-Json -InputObject $Text -Compress
}

$start = Get-Date
$queryParts = foreach ($q in $Queries) {
    $head = '{"namespace":' + (ConvertTo-JsonString $q.Namespace) + ',"class":' + (ConvertTo-JsonString $q.Class)
    try {
        $json = Get-CimInstance -Namespace $q.Namespace -ClassName $q.Class -ErrorAction Stop |
            Select-Object -Property $q.Properties | ConvertTo-Json -Depth 4 -Compress
        if ($null -eq $json) { $json = '[]' }
        $head + ',"instances":' + ($json -join '') + '}'
    }
    catch {
        Write-Verbose ("{0}: {1}" -f $q.Class, $_.Exception.Message)
        $head + ',"instances":null,"error":' + (ConvertTo-JsonString $_.Exception.Message) + '}'
    }
}

# The update build revision: HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion UBR.
$methodHead = '{"namespace":"root\\cimv2","class":"StdRegProv","method":"GetDWORDValue"'
try {
    $ubrArgs = @{ hDefKey = [uint32]2147483650; sSubKeyName = 'SOFTWARE\Microsoft\Windows NT\CurrentVersion'; sValueName = 'UBR' }
    $json = Invoke-CimMethod -Namespace 'root\cimv2' -ClassName 'StdRegProv' -MethodName 'GetDWORDValue' -Arguments $ubrArgs -ErrorAction Stop |
        Select-Object -Property 'ReturnValue', 'uValue' | ConvertTo-Json -Depth 4 -Compress
    if ($null -eq $json) { $json = 'null' }
    $methodPart = $methodHead + ',"result":' + ($json -join '') + '}'
}
catch {
    $methodPart = $methodHead + ',"result":null,"error":' + (ConvertTo-JsonString $_.Exception.Message) + '}'
}

$data = '{"source":"capture","host":' + (ConvertTo-JsonString $env:COMPUTERNAME) +
    ',"ps_version":' + (ConvertTo-JsonString ([string]$PSVersionTable.PSVersion)) +
    ',"queries":[' + ($queryParts -join ',') + '],"methods":[' + $methodPart + ']}'

$collectedAt = (Get-Date).ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", [Globalization.CultureInfo]::InvariantCulture)
$durationMs = [int64]((Get-Date) - $start).TotalMilliseconds
$calls = $Queries.Count + 1

$snapshot = '{"schema":' + (ConvertTo-JsonString $Schema) +
    ',"tool":{"name":"Get-HvauditSnapshot.ps1","version":' + (ConvertTo-JsonString $ScriptVersion) + '}' +
    ',"platform":' + (ConvertTo-JsonString $Platform) +
    ',"target":{"name":' + (ConvertTo-JsonString $TargetName) + ',"uri":"hyperv://localhost","transport":{"tls_verified":true,"method":"local"}}' +
    ',"collected_at":"' + $collectedAt + '","gaps":[],"data":' + $data +
    ',"collector":{"duration_ms":' + $durationMs + ',"calls":' + $calls + '}}'

# Write atomically: a temporary file in the same directory, then rename.
$full = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($OutputPath)
$tmp = $full + '.tmp'
[IO.File]::WriteAllText($tmp, $snapshot, (New-Object Text.UTF8Encoding $false))
Move-Item -LiteralPath $tmp -Destination $full -Force
$failed = @($queryParts | Where-Object { $_ -like '*"error":*' }).Count
Write-Host ("hvaudit snapshot written to {0} ({1} queries, {2} failed)" -f $full, $Queries.Count, $failed)
