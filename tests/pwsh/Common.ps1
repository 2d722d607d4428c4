# Shared by the *.Tests.ps1 files (dot-sourced in BeforeAll / BeforeDiscovery).

$script:RepoRoot = (Resolve-Path -LiteralPath (Join-Path $PSScriptRoot '../..')).ProviderPath
# The binary under test: scripts/test-pwsh builds it and sets CSCERT_TEST_EXE.
$script:CscertExe = $env:CSCERT_TEST_EXE
if (-not $script:CscertExe) { throw 'CSCERT_TEST_EXE is not set: run the suite with scripts/test-pwsh' }
# The pwsh for child processes (a global tool's process path is dotnet, not pwsh).
$script:PwshExe = if ($env:CSCERT_TEST_PWSH) { $env:CSCERT_TEST_PWSH } else { (Get-Command pwsh -CommandType Application | Select-Object -First 1).Source }
$script:TopologyFixture = Join-Path $script:RepoRoot 'tests/fixtures/topology/single-edge.published.xml'

function New-TestDir([string] $Name) {
    $d = Join-Path ([System.IO.Path]::GetTempPath()) ("cscert-pester-$Name-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
    New-Item -ItemType Directory -Path $d | Out-Null
    $d
}

# A lab CA: a folder with ca.crt and ca.key (EC P-256, 10 years), which -CA accepts.
function New-LabCa([string] $Dir, [string] $Cn = 'Contoso Lab Root CA') {
    New-Item -ItemType Directory -Force -Path $Dir | Out-Null
    $out = & openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc `
        -keyout (Join-Path $Dir 'ca.key') -out (Join-Path $Dir 'ca.crt') -subj "/O=Contoso/CN=$Cn" -days 3650 `
        -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' 2>&1
    if ($LASTEXITCODE -ne 0) { throw "openssl could not make the lab CA: $out" }
    $Dir
}

# A copy of tools/record-argv, executable: a native program that records its argv.
function New-ArgvRecorder([string] $Dir) {
    $dest = Join-Path $Dir 'record-argv'
    Copy-Item -LiteralPath (Join-Path $PSScriptRoot 'tools/record-argv') -Destination $dest
    & chmod 0755 $dest
    $dest
}

# Every argv the recorder wrote to $Dir, oldest first, each as a string[].
function Read-ArgvLog([string] $Dir) {
    foreach ($f in (Get-ChildItem -LiteralPath $Dir -Filter 'argv.*' | Sort-Object LastWriteTimeUtc, Name)) {
        $text = [System.IO.File]::ReadAllText($f.FullName)
        $items = if ($text.Length) { $text.Substring(0, $text.Length - 1).Split([char]0) } else { @() }
        , [string[]]$items
    }
}

# Runs the binary with exact argv elements; returns its exit code, output, binding trace and
# JSON error records.
function Invoke-Cscert {
    param([string[]] $Argv, [hashtable] $Environment = @{}, [string] $WorkingDirectory = (Get-Location).ProviderPath)
    $psi = [System.Diagnostics.ProcessStartInfo]::new($script:CscertExe)
    foreach ($a in $Argv) { $psi.ArgumentList.Add($a) }
    $psi.UseShellExecute = $false
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.RedirectStandardInput = $true
    $psi.WorkingDirectory = $WorkingDirectory
    foreach ($v in 'CSCERT_PASSWORD', 'CSCERT_CA_PASSWORD', 'CSCERT_NOW', 'CSCERT_DEBUG_BINDING') { [void]$psi.Environment.Remove($v) }
    $psi.Environment['CSCERT_ERROR_FORMAT'] = 'json'
    foreach ($k in $Environment.Keys) { $psi.Environment[$k] = $Environment[$k] }
    $p = [System.Diagnostics.Process]::Start($psi)
    $p.StandardInput.Close()
    $errTask = $p.StandardError.ReadToEndAsync()
    $stdout = $p.StandardOutput.ReadToEnd()
    $p.WaitForExit()
    $stderr = $errTask.GetAwaiter().GetResult()
    $trace = $null
    $errors = @()
    foreach ($line in ($stderr -split '\r?\n')) {
        if ($line.StartsWith('DEBUG: Bound: ')) { $trace = $line.Substring(14) | ConvertFrom-Json }
        elseif ($line.StartsWith('{')) { $errors += , ($line | ConvertFrom-Json) }
    }
    [pscustomobject]@{ Code = $p.ExitCode; Stdout = $stdout; Stderr = $stderr; Trace = $trace; Errors = $errors }
}

# Runs PowerShell source in a fresh pwsh (-NoProfile -NonInteractive -File) with its own HOME,
# the environment given ($null removes a variable) and PSModulePath/XDG_DATA_HOME removed, so
# its user module folder is HOME's; returns its exit code and output.
function Invoke-ChildPwsh {
    param([string] $Source, [string] $HomeDir, [hashtable] $Environment = @{}, [string] $WorkingDirectory = $HomeDir)
    $file = Join-Path $HomeDir ("run-" + [guid]::NewGuid().ToString('N').Substring(0, 8) + '.ps1')
    Set-Content -LiteralPath $file -Value $Source
    $psi = [System.Diagnostics.ProcessStartInfo]::new($script:PwshExe)
    foreach ($a in '-NoProfile', '-NonInteractive', '-File', $file) { $psi.ArgumentList.Add($a) }
    $psi.UseShellExecute = $false
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.WorkingDirectory = $WorkingDirectory
    foreach ($v in 'PSModulePath', 'XDG_DATA_HOME', 'CSCERT_PASSWORD', 'CSCERT_CA_PASSWORD', 'CSCERT_NOW', 'CSCERT_EXE', 'CSCERT_ARGV_LOG') {
        [void]$psi.Environment.Remove($v)
    }
    $psi.Environment['HOME'] = $HomeDir
    foreach ($k in $Environment.Keys) {
        if ($null -eq $Environment[$k]) { [void]$psi.Environment.Remove($k) } else { $psi.Environment[$k] = $Environment[$k] }
    }
    $p = [System.Diagnostics.Process]::Start($psi)
    $errTask = $p.StandardError.ReadToEndAsync()
    $out = $p.StandardOutput.ReadToEnd()
    $p.WaitForExit()
    [pscustomobject]@{ Code = $p.ExitCode; Stdout = $out; Stderr = $errTask.GetAwaiter().GetResult() }
}
