<#
.SYNOPSIS
Front End and Edge certificates for a new Skype for Business deployment: publish the topology,
request and assign the Front End and OAuth certificates, then have the Edge server request and
assign its own external certificate in a remote block.

.DESCRIPTION
Written for cscert's Pester suite in the style of the certificate section of an automated
Skype for Business deployment script, rlevchenko/powershell-skype (skype_install.ps1): names
built from the domain into variables, Publish-CsTopology -Force piped to Out-Null, requests with
the subject details spelled out whose results are kept in variables and handed to
Set-CsCertificate -Reference, configuration exported to the local store and the pool started.
The Edge part runs remotely with $using: variables, as deployment scripts do for Edge servers.
No code was copied. Get-CsPool, Enable-CsTopology, Export-/Import-CsConfiguration, Start-CsPool
and Invoke-Command are test doubles here (LyncTestDoubles.ps1).

.EXAMPLE
./Deploy-PoolCertificates.ps1 -TopologyFile ./topology.xml -CAName ./lab-ca -DomainRoot contoso.com
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $TopologyFile,
    [Parameter(Mandatory)] [string] $CAName,
    [string] $DomainRoot = 'contoso.com'
)
$ErrorActionPreference = 'Stop'
Import-Module CsCertificate

## Variables ##
$sip = 'sip' + '.' + $DomainRoot
$frontEnd = Get-CsPool | Where-Object { $_.Services -match '^Registrar:' } | Select-Object -First 1
$edgePool = Get-CsPool | Where-Object { $_.Services -match '^EdgeServer:' } | Select-Object -First 1
$subject = @{ Country = 'US'; State = 'Washington'; City = 'Redmond'; Organization = 'Contoso, Inc' }

# Publish and enable the topology
Publish-CsTopology -FileName $TopologyFile -Force -Confirm:$false | Out-Null
Enable-CsTopology | Out-Null

# Request and assign certificates
$certServer = Request-CsCertificate -New -Type Default, WebServicesInternal, WebServicesExternal -CA $CAName @subject `
    -FriendlyName "Skype FE $($frontEnd.Fqdn)" -PrivateKeyExportable $True -KeySize 2048 -DomainName $sip -AllSipDomain -Verbose:$false
# The OAuth certificate is named after the SIP domain; the domain is also given as a SAN.
$certOAuth = Request-CsCertificate -New -Type OAuthTokenIssuer -CA $CAName @subject -FriendlyName 'Skype OAuth' `
    -PrivateKeyExportable $True -KeySize 2048 -AllSipDomain -DomainName $DomainRoot -Verbose:$false
Set-CsCertificate -Reference $certServer -Type Default, WebServicesInternal, WebServicesExternal -Confirm:$false
Set-CsCertificate -Identity Global -Reference $certOAuth -Type OAuthTokenIssuer -Confirm:$false
Write-Host "Front End: $($certServer.Thumbprint); OAuth: $($certOAuth.Thumbprint)"

$bytes = Export-CsConfiguration -AsBytes
Import-CsConfiguration -ByteInput $bytes -LocalStore | Out-Null

# The Edge server requests its external certificate itself (the key never leaves it).
$edgeThumbprint = Invoke-Command -ComputerName $edgePool.Computers -ScriptBlock {
    Import-Module CsCertificate
    $edgeTypes = 'AccessEdgeExternal', 'DataEdgeExternal', 'AudioVideoAuthentication'
    $cert = Request-CsCertificate -New -Type $edgeTypes -CA $using:CAName -ComputerFqdn $null -PrivateKeyExportable $true `
        -ClientEKU $true -FriendlyName "Edge external $using:DomainRoot" -WarningAction SilentlyContinue
    Set-CsCertificate -Type $edgeTypes -Thumbprint $cert.Thumbprint -Confirm:$false | Out-Null
    $cert.Thumbprint
}
Write-Host "Edge: $edgeThumbprint"

Start-CsPool -PoolFqdn $frontEnd.Fqdn -Force -Confirm:$false | Out-Null
