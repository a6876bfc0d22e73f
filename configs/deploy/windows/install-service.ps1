<#
.SYNOPSIS
  Installs `hvaudit serve` as a Windows service on a Hyper-V host.

.DESCRIPTION
  hvaudit.exe runs under the service control manager (golang.org/x/sys/windows/svc):
  Stop and Shutdown end it like SIGTERM elsewhere (runs in flight finish for
  [serve] shutdown_grace, then are cancelled). It logs one JSON line per event to
  the Application event log, source "hvaudit". It runs as the virtual account
  NT SERVICE\hvaudit, a member of "Hyper-V Administrators" (what local WMI reads
  of root\virtualization\v2 need); grant it Enable Account on
  root\Microsoft\Windows\DeviceGuard and root\Microsoft\Windows\Hgs (WMI Control)
  or those facts are reported as gaps. To reload the config, restart the service.

  The config ($ConfigDir\agent.toml) audits this host with target
  uri = "hyperv://localhost" (local WMI, no password) and keeps its history in
  [serve] history = "C:\ProgramData\hvaudit\history.db".

.EXAMPLE
  .\install-service.ps1 -Exe 'C:\Program Files\hvaudit\hvaudit.exe'
#>
[CmdletBinding()]
param(
    [string]$Exe = 'C:\Program Files\hvaudit\hvaudit.exe',
    [string]$ConfigDir = 'C:\ProgramData\hvaudit'
)
$ErrorActionPreference = 'Stop'
$name = 'hvaudit'
$account = "NT SERVICE\$name"
$config = Join-Path $ConfigDir 'agent.toml'

if (-not (Test-Path $Exe)) { throw "hvaudit.exe not found at $Exe" }
if (-not (Test-Path $config)) { throw "no config at $config (see configs/agent.example.toml)" }

# The event log source the service writes to.
if (-not [System.Diagnostics.EventLog]::SourceExists($name)) {
    New-EventLog -LogName Application -Source $name
}

New-Service -Name $name -DisplayName 'hvaudit scheduled audits' `
    -Description 'Audits this Hyper-V host against a hardening baseline on a schedule (read-only).' `
    -BinaryPathName "`"$Exe`" serve --config `"$config`"" -StartupType Automatic | Out-Null
# A virtual account: no password to manage, no rights but those granted here.
sc.exe config $name obj= $account | Out-Null
# Restart after a crash: after 1 minute, twice, then after 10 minutes.
sc.exe failure $name reset= 86400 actions= restart/60000/restart/60000/restart/600000 | Out-Null

Add-LocalGroupMember -Group 'Hyper-V Administrators' -Member $account -ErrorAction SilentlyContinue

# The config directory holds the history and any secret: the service account
# and administrators only.
icacls $ConfigDir /inheritance:r /grant:r "SYSTEM:(OI)(CI)F" "Administrators:(OI)(CI)F" "${account}:(OI)(CI)M" | Out-Null

Start-Service $name
Get-Service $name
