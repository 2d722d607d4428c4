<#
.SYNOPSIS
Renews the certificates of this server that expire soon, copying each from the one in use so
that no subject alternative name is forgotten, and rolls the new one in at a computed time.

.DESCRIPTION
Written for cscert's Pester suite in the style of greiginsydney/Update-SfbCertificate.ps1: it
reads the running certificate of the given uses with Get-CsCertificate, takes its subject
fields and SANs as the template, builds the Request-CsCertificate command line as a string
(passing options through, `-ComputerFqdn $null` for Edge servers) and runs it with
Invoke-Expression. Unlike that script, it then stages the new certificate itself with
Set-CsCertificate -Roll -EffectiveDate. No code was copied.

.EXAMPLE
./Update-ExpiringCertificate.ps1 -CA ./lab-ca -DaysLeft 45 -RollInHours 2 -ComputerFqdn $null
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $CA,
    [int] $DaysLeft = 30,
    [double] $RollInHours = 24,
    [AllowNull()] [string] $ComputerFqdn,
    [bool] $PrivateKeyExportable = $true
)
$ErrorActionPreference = 'Stop'
Import-Module CsCertificate

# "CN=a, OU=IT, O="Contoso, Inc", L=Redmond, S=WA, C=US" -> @{ CN = 'a'; OU = 'IT'; ... }
function ConvertFrom-SubjectName([string] $Subject) {
    $fields = @{}
    foreach ($m in [regex]::Matches($Subject, '(?:^|,\s*)([A-Za-z]+)=("(?:[^"]|"")*"|[^,]*)')) {
        $fields[$m.Groups[1].Value.ToUpperInvariant()] = $m.Groups[2].Value.Trim('"')
    }
    $fields
}

$rollAt = (Get-Date).AddHours($RollInHours)
$expiring = Get-CsCertificate | Where-Object { $_.NotAfter -lt (Get-Date).AddDays($DaysLeft) -and -not $_.SourceScope }
if (-not $expiring) { Write-Host 'Nothing expires within the next ' $DaysLeft ' days.'; return }

foreach ($group in ($expiring | Group-Object Thumbprint)) {
    $old = $group.Group[0]
    $types = @($group.Group.Use)
    $fields = ConvertFrom-SubjectName $old.Subject
    Write-Host "Renewing $($old.Thumbprint) ($($old.Subject)), expires $($old.NotAfter.ToString('d')), used for $($types -join ', ')"

    # The request, built from the running certificate.
    $command = "Request-CsCertificate -New -Type $($types -join ',') -CA '$CA'"
    $command += " -DomainName '$($old.AlternativeNames -join ',')'"
    $command += " -FriendlyName 'Renewal of $($old.Thumbprint.Substring(0, 8)) $((Get-Date).ToString('yyyy-MM-dd'))'"
    $command += " -PrivateKeyExportable `$$PrivateKeyExportable"
    foreach ($pair in @(@('O', 'Organization'), @('OU', 'OU'), @('L', 'City'), @('S', 'State'), @('C', 'Country'))) {
        if ($fields[$pair[0]]) { $command += " -$($pair[1]) '$($fields[$pair[0]] -replace "'", "''")'" }
    }
    if ($PSBoundParameters.ContainsKey('ComputerFqdn')) {
        # `-ComputerFqdn $null` on an Edge server: this computer, as the topology knows it.
        $command += if ([string]::IsNullOrEmpty($ComputerFqdn)) { ' -ComputerFqdn $null' } else { " -ComputerFqdn '$ComputerFqdn'" }
    }
    Write-Verbose $command
    $new = Invoke-Expression $command

    try {
        Set-CsCertificate -Type $types -Thumbprint $new.Thumbprint -Roll -EffectiveDate $rollAt -Confirm:$false -ErrorAction Stop | Out-Null
    }
    catch {
        Write-Warning "The new certificate $($new.Thumbprint) could not be staged: $($_.Exception.Message)"
        throw
    }
    Write-Host "Staged $($new.Thumbprint) for $($types -join ', ') at $($rollAt.ToString('u'))"
}
