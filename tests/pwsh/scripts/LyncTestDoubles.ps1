# TEST DOUBLES -- NOT PART OF CSCERT.
#
# The admin scripts in this folder call Lync Server cmdlets that have nothing to do with
# certificates (Get-CsPool, Enable-CsTopology, Start-CsPool, ...) and run remote blocks with
# Invoke-Command -ComputerName. On a real server those exist; here they are small stand-ins so that
# the scripts run unchanged under pwsh on Linux. AdminScripts.Tests.ps1 dot-sources this file
# before each script. Every double records its call in $global:LyncDoubleCalls.

$global:LyncDoubleCalls = [System.Collections.Generic.List[string]]::new()

# TEST DOUBLE: the pools of the published topology (tests/fixtures/topology/single-edge).
function global:Get-CsPool {
    [CmdletBinding()] param([Parameter(Position = 0)] [string] $Identity)
    $global:LyncDoubleCalls.Add('Get-CsPool')
    $pools = @(
        [pscustomobject]@{ Identity = 'skypefe.contoso.com'; Fqdn = 'skypefe.contoso.com'; Site = 'Site:TVP'; Services = @('Registrar:skypefe.contoso.com', 'WebServer:skypefe.contoso.com'); Computers = @('skypefe.contoso.com') }
        [pscustomobject]@{ Identity = 'Edge.contoso.com'; Fqdn = 'Edge.contoso.com'; Site = 'Site:TVP'; Services = @('EdgeServer:Edge.contoso.com'); Computers = @('Edge.contoso.com') }
    )
    if ($Identity) { $pools | Where-Object Identity -EQ $Identity } else { $pools }
}

# TEST DOUBLES: topology, configuration replication and services.
function global:Enable-CsTopology { [CmdletBinding()] param() $global:LyncDoubleCalls.Add('Enable-CsTopology') }
function global:Export-CsConfiguration {
    [CmdletBinding()] param([switch] $AsBytes)
    $global:LyncDoubleCalls.Add('Export-CsConfiguration')
    , [byte[]](1, 2, 3)
}
function global:Import-CsConfiguration {
    [CmdletBinding()] param([byte[]] $ByteInput, [switch] $LocalStore)
    $global:LyncDoubleCalls.Add('Import-CsConfiguration')
}
function global:Start-CsPool {
    [CmdletBinding(SupportsShouldProcess)] param([string] $PoolFqdn, [switch] $Force)
    $global:LyncDoubleCalls.Add("Start-CsPool $PoolFqdn")
}
function global:Stop-CsWindowsService {
    [CmdletBinding()] param([string] $Name, [switch] $NoWait, [switch] $Force)
    $global:LyncDoubleCalls.Add('Stop-CsWindowsService')
}
function global:Start-CsWindowsService {
    [CmdletBinding()] param([string] $Name)
    $global:LyncDoubleCalls.Add('Start-CsWindowsService')
}

# TEST DOUBLE: PowerShell remoting. The block runs in a thread job (so $using: works as it does
# remotely) in a fresh runspace, acting as that computer: cscert's "this computer" is
# CSCERT_COMPUTERFQDN, set for the duration of the call.
function global:Invoke-Command {
    [CmdletBinding()]
    param([string[]] $ComputerName, [scriptblock] $ScriptBlock, [object[]] $ArgumentList)
    foreach ($computer in $ComputerName) {
        $global:LyncDoubleCalls.Add("Invoke-Command $computer")
        $saved = $env:CSCERT_COMPUTERFQDN
        $env:CSCERT_COMPUTERFQDN = $computer
        try {
            $job = Start-ThreadJob -ScriptBlock $ScriptBlock -ArgumentList $ArgumentList
            Receive-Job -Job $job -Wait -AutoRemoveJob -ErrorAction Stop
        }
        finally { $env:CSCERT_COMPUTERFQDN = $saved }
    }
}

# TEST DOUBLE: the ACME client (le64.exe in the imitated script) that gets a certificate from
# Let's Encrypt and writes it as a PFX. Here the lab CA in $env:LAB_CA_DIR signs it, with openssl.
function global:Invoke-AcmeClient {
    [CmdletBinding()]
    param([string] $Domains, [string] $Name, [string] $ExportPfx, [string] $Path = '.')
    $global:LyncDoubleCalls.Add("Invoke-AcmeClient $Domains")
    $names = $Domains -split ',' | ForEach-Object Trim
    $ca = $env:LAB_CA_DIR
    $key = Join-Path $Path "$Name.key"; $csr = Join-Path $Path "$Name.csr"; $crt = Join-Path $Path "$Name.crt"
    $san = 'subjectAltName=' + (($names | ForEach-Object { "DNS:$_" }) -join ',')
    & openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -keyout $key -out $csr -subj "/CN=$($names[0])" -addext $san 2>$null
    $ext = Join-Path $Path "$Name.ext"
    Set-Content -LiteralPath $ext -Value 'extendedKeyUsage=serverAuth,clientAuth'
    & openssl x509 -req -in $csr -CA (Join-Path $ca 'ca.crt') -CAkey (Join-Path $ca 'ca.key') -CAcreateserial -days 90 `
        -copy_extensions copy -extfile $ext -out $crt 2>$null
    # The PFX password through the environment: not on openssl's command line either.
    $env:ACME_PFX_PASS = $ExportPfx
    try { & openssl pkcs12 -export -inkey $key -in $crt -passout env:ACME_PFX_PASS -out (Join-Path $Path "$Name.pfx") 2>$null }
    finally { Remove-Item Env:ACME_PFX_PASS }
    if ($LASTEXITCODE -ne 0) { throw "the ACME double could not write $Name.pfx" }
    Remove-Item $key, $csr, $ext
}
