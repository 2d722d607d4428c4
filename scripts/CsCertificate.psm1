# CsCertificate.psm1 - makes the Lync certificate cmdlet names resolve to the cscert binary.
#
#   Import-Module ./scripts/CsCertificate.psm1
#   $cert = Request-CsCertificate -New -Type Default -CA ./lab-ca
#   Set-CsCertificate -Type Default -Thumbprint $cert.Thumbprint
#
# The functions pass their arguments to cscert as argv strings (arrays joined with commas,
# SecureStrings converted to plain text in memory, dates in ISO 8601, objects as JSON), turn
# the JSON Lines on stdout back into objects, and re-raise cscert's error records as real
# ErrorRecords with the same FullyQualifiedErrorId.

$script:CsCertExe = $env:CSCERT_EXE
if (-not $script:CsCertExe) {
    $here = Split-Path -Parent $PSCommandPath
    foreach ($candidate in @(
            (Join-Path $here 'cscert.exe'), (Join-Path $here 'cscert'),
            (Join-Path $here '../target/release/cscert.exe'), (Join-Path $here '../target/release/cscert'))) {
        if (Test-Path -LiteralPath $candidate) { $script:CsCertExe = (Resolve-Path -LiteralPath $candidate).Path; break }
    }
}
if (-not $script:CsCertExe) {
    $found = Get-Command -Name cscert -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($found) { $script:CsCertExe = $found.Source }
}

function ConvertTo-CsCertArgument {
    param($Value)
    if ($null -eq $Value) { return @() }
    if ($Value -is [System.Security.SecureString]) {
        $bstr = [System.Runtime.InteropServices.Marshal]::SecureStringToBSTR($Value)
        try { return , [System.Runtime.InteropServices.Marshal]::PtrToStringBSTR($bstr) }
        finally { [System.Runtime.InteropServices.Marshal]::ZeroFreeBSTR($bstr) }
    }
    if ($Value -is [datetime]) { return , $Value.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ') }
    if ($Value -is [bool]) { return , ($(if ($Value) { 'True' } else { 'False' })) }
    if ($Value -is [System.Management.Automation.SwitchParameter]) { return , ($(if ($Value.IsPresent) { 'True' } else { 'False' })) }
    if ($Value -is [string]) { return , $Value }
    if ($Value -is [System.Collections.IDictionary] -or $Value -is [psobject] -and $Value.PSObject.Properties['Thumbprint']) {
        return , ($Value | ConvertTo-Json -Compress -Depth 4)
    }
    if ($Value -is [System.Collections.IEnumerable]) {
        return , (($Value | ForEach-Object { ConvertTo-CsCertArgument $_ }) -join ',')
    }
    return , [string]$Value
}

function Invoke-CsCert {
    param([string]$Cmdlet, [object[]]$Arguments)
    if (-not $script:CsCertExe) {
        throw "cscert was not found: set `$env:CSCERT_EXE, put cscert on the PATH, or next to this module."
    }
    $argv = [System.Collections.Generic.List[string]]::new()
    foreach ($a in $Arguments) {
        foreach ($s in (ConvertTo-CsCertArgument $a)) { $argv.Add($s) }
    }
    $old = $env:CSCERT_ERROR_FORMAT
    $env:CSCERT_ERROR_FORMAT = 'json'
    try {
        & $script:CsCertExe $Cmdlet @argv 2>&1 | ForEach-Object {
            if ($_ -is [System.Management.Automation.ErrorRecord]) {
                $line = $_.Exception.Message
                if ($line.StartsWith('{')) {
                    $r = $line | ConvertFrom-Json
                    $category = [System.Management.Automation.ErrorCategory]::NotSpecified
                    [void][Enum]::TryParse($r.Category, [ref]$category)
                    $record = [System.Management.Automation.ErrorRecord]::new(
                        [System.Exception]::new($r.Message), $r.FullyQualifiedErrorId, $category, $r.TargetObject)
                    Write-Error -ErrorRecord $record
                }
                elseif ($line.StartsWith('WARNING: ')) { Write-Warning $line.Substring(9) }
                elseif ($line.StartsWith('VERBOSE: ')) { Write-Verbose $line.Substring(9) -Verbose }
                elseif ($line.StartsWith('DEBUG: ')) { Write-Debug $line.Substring(7) }
                else { Write-Host $line }
            }
            elseif ($_ -is [string] -and $_.StartsWith('{')) { $_ | ConvertFrom-Json }
            else { $_ }
        }
    }
    finally { $env:CSCERT_ERROR_FORMAT = $old }
}

foreach ($name in 'Request-CsCertificate', 'Import-CsCertificate', 'Set-CsCertificate', 'Get-CsCertificate',
    'Remove-CsCertificate', 'Test-CsCertificateConfiguration', 'Export-CsCertificate', 'Test-CsCertificate',
    'Publish-CsTopology', 'Get-CsTopology') {
    # No param block: PowerShell leaves binding to cscert, which applies the real cmdlets' rules.
    # Bound to this module, so that the function sees the module's private Invoke-CsCert (a bare
    # [scriptblock]::Create runs in the caller's scope, where Invoke-CsCert does not exist).
    $body = $ExecutionContext.SessionState.Module.NewBoundScriptBlock(
        [scriptblock]::Create("Invoke-CsCert -Cmdlet '$name' -Arguments `$args"))
    Set-Item -Path "function:script:$name" -Value $body
}

Export-ModuleMember -Function 'Request-CsCertificate', 'Import-CsCertificate', 'Set-CsCertificate', 'Get-CsCertificate',
'Remove-CsCertificate', 'Test-CsCertificateConfiguration', 'Export-CsCertificate', 'Test-CsCertificate',
'Publish-CsTopology', 'Get-CsTopology'
