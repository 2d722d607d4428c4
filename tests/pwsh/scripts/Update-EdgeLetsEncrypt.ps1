<#
.SYNOPSIS
Gets three certificates from an ACME CA (Let's Encrypt) for the Edge Server's external roles
and assigns one to each role, as a scheduled task would.

.DESCRIPTION
Written for cscert's Pester suite in the style of pcdiks/SfB-and-LetsEncrypt
(Update-Certificates.ps1): a mandatory PFX password and one FQDN parameter per Edge role, the
Skype services stopped around the renewal, an ACME client run once per role that leaves a PFX,
each PFX imported and its thumbprint handed to Set-CsCertificate for its role, then a clean-up.
No code was copied. The ACME client (le64.exe there) and Stop-/Start-CsWindowsService are test
doubles here (LyncTestDoubles.ps1).

.PARAMETER PfxPassword
The password that protects the PFX files the ACME client writes.

.EXAMPLE
./Update-EdgeLetsEncrypt.ps1 -PfxPassword V3ryStr0ng -SipFQDN sip.contoso.com -WebFQDN sip.contoso.com -AvFQDN sip.contoso.com
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true, HelpMessage = 'Enter a password to protect the pfx files')]
    [string] $PfxPassword,
    [Parameter(Mandatory = $true)] [string] $SipFQDN,
    [Parameter(Mandatory = $true)] [string] $WebFQDN,
    [Parameter(Mandatory = $true)] [string] $AvFQDN,
    [string] $WorkPath = $PWD.Path,
    [string] $ReportPath
)
Import-Module CsCertificate
$securePfx = ConvertTo-SecureString $PfxPassword -AsPlainText -Force

Write-Host 'Stopping Skype for Business services...'
Stop-CsWindowsService -NoWait -Force

# One certificate per role; the ACME client leaves <name>.pfx in the work folder.
$roles = [ordered]@{
    sip = @{ Fqdn = $SipFQDN; Type = 'AccessEdgeExternal' }
    web = @{ Fqdn = $WebFQDN; Type = 'DataEdgeExternal' }
    av  = @{ Fqdn = $AvFQDN; Type = 'AudioVideoAuthentication' }
}
$assigned = @{}
foreach ($name in $roles.Keys) {
    $role = $roles[$name]
    Write-Host "Start request for $($role.Fqdn)"
    Invoke-AcmeClient -Domains $role.Fqdn -Name $name -ExportPfx $PfxPassword -Path $WorkPath

    # Splatted: the report file is optional and $null when not asked for.
    $importArgs = @{
        Path                 = Join-Path $WorkPath "$name.pfx"
        Password             = $securePfx
        PrivateKeyExportable = $true
        Report               = $ReportPath
        Confirm              = $false
    }
    try {
        $imported = Import-CsCertificate @importArgs -ErrorAction Stop
    }
    catch {
        Write-Warning "Import of $name.pfx failed: $($_.Exception.Message) ($($_.FullyQualifiedErrorId))"
        throw
    }
    Set-CsCertificate -Thumbprint $imported.Thumbprint -Type $role.Type -Confirm:$false -Verbose:$false | Out-Null
    $assigned[$role.Type] = $imported.Thumbprint
}

# This script does not manage the XMPP role: a certificate left on it from before is unassigned.
Write-Host 'Cleaning up certificates of roles this script does not renew...'
Get-CsCertificate | Where-Object { $_.Use -eq 'XmppServer' -and $_.Thumbprint -notin $assigned.Values } |
    Remove-CsCertificate -Confirm:$false

Write-Host 'Cleaning up work files...'
Get-ChildItem -Path (Join-Path $WorkPath '*.pfx') | Remove-Item

Write-Host 'Starting Skype for Business services...'
Start-CsWindowsService
