<#
.SYNOPSIS
Installs cscert for the current user, from pwsh on Windows, Linux or macOS.

.DESCRIPTION
- The binary goes to -BinPath (default: ~/.local/bin on Linux/macOS,
  %LOCALAPPDATA%\Programs\cscert on Windows, which is added to the user's PATH). With -Links,
  also one link per cmdlet name (Request-CsCertificate, ...) for other shells (hard links on
  Windows, symbolic links elsewhere); without them pwsh autoloads the module's cmdlets, which a
  native command of the same name would hide.
- The module CsCertificate, with its own copy of the binary (bin/<platform>/), goes to
  -ModulePath (default: the user's module folder, Documents\PowerShell\Modules on Windows,
  ~/.local/share/powershell/Modules elsewhere), in a CsCertificate\<version> folder. Never inside
  cscert's store folder.
- Modules named Lync and SkypeForBusiness that load CsCertificate, for scripts that ask for
  those names, only where no module of that name exists (-NoCompatModules: none).
Without -Binary, cscert is built with `cargo build --release` (honouring $env:CARGO_TARGET_DIR).

.EXAMPLE
./scripts/install.ps1

.EXAMPLE
./scripts/install.ps1 -Binary ./target/debug/cscert -ModulePath ~/modules
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    [string] $BinPath,
    [string] $ModulePath,
    [string] $Binary,
    [switch] $Links,
    [switch] $NoCompatModules
)
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
$repo = Split-Path -Parent $PSScriptRoot
$exeName = if ($IsWindows) { 'cscert.exe' } else { 'cscert' }

if (-not $Binary) {
    $target = if ($env:CARGO_TARGET_DIR) { $env:CARGO_TARGET_DIR } else { Join-Path $repo 'target' }
    if (-not [System.IO.Path]::IsPathRooted($target)) { $target = Join-Path $repo $target }
    Push-Location $repo
    try {
        & cargo build --release --locked
        if ($LASTEXITCODE -ne 0) { throw "cargo build failed ($LASTEXITCODE)" }
    }
    finally { Pop-Location }
    $Binary = Join-Path $target 'release' $exeName
}
$Binary = (Resolve-Path -LiteralPath $Binary).ProviderPath

if (-not $BinPath) {
    $BinPath = if ($IsWindows) { Join-Path $env:LOCALAPPDATA 'Programs\cscert' } else { Join-Path $HOME '.local/bin' }
}
if (-not $ModulePath) {
    $ModulePath = if ($IsWindows) {
        Join-Path ([Environment]::GetFolderPath('MyDocuments')) 'PowerShell\Modules'
    }
    else {
        $data = if ($env:XDG_DATA_HOME) { $env:XDG_DATA_HOME } else { Join-Path $HOME '.local/share' }
        Join-Path $data 'powershell/Modules'
    }
}

# The module must not land in the store folder (cscert.db lives there, owner-only).
$store = if ($env:CSCERT_STORE) { $env:CSCERT_STORE }
elseif ($IsWindows) { Join-Path $env:APPDATA 'cscert\data' }
elseif ($IsMacOS) { Join-Path $HOME 'Library/Application Support/cscert' }
else { Join-Path $(if ($env:XDG_DATA_HOME) { $env:XDG_DATA_HOME } else { Join-Path $HOME '.local/share' }) 'cscert' }
$full = { param($p) [System.IO.Path]::TrimEndingDirectorySeparator([System.IO.Path]::GetFullPath($p)) + [System.IO.Path]::DirectorySeparatorChar }
if ((& $full $ModulePath).StartsWith((& $full $store), [StringComparison]::OrdinalIgnoreCase)) {
    throw "$ModulePath is inside the cscert store folder $store; choose another -ModulePath"
}

New-Item -ItemType Directory -Force -Path $BinPath | Out-Null
$exe = Join-Path $BinPath $exeName
Copy-Item -LiteralPath $Binary -Destination "$exe.new" -Force
Move-Item -LiteralPath "$exe.new" -Destination $exe -Force
if (-not $IsWindows) { & chmod 0755 $exe }

$cmdlets = & $exe --help | Where-Object { $_ -match '^\s+([A-Z][a-z]+-Cs[A-Za-z]+)\s' } | ForEach-Object { $Matches[1] }
if (-not $cmdlets) { throw "$exe lists no cmdlets" }
foreach ($c in $cmdlets) {
    $link = Join-Path $BinPath $(if ($IsWindows) { "$c.exe" } else { $c })
    # A link an earlier install made would hide the module's cmdlet from autoloading.
    Remove-Item -LiteralPath $link -Force -ErrorAction Ignore
    if (-not $Links) { continue }
    if ($IsWindows) { New-Item -ItemType HardLink -Path $link -Target $exe | Out-Null }
    else { New-Item -ItemType SymbolicLink -Path $link -Target $exeName | Out-Null }
}

$version = ((& $exe --version) -split ' ')[1]
$dest = Join-Path $ModulePath 'CsCertificate' $version
if (Test-Path -LiteralPath $dest) { Remove-Item -LiteralPath $dest -Recurse -Force }
New-Item -ItemType Directory -Force -Path $dest | Out-Null
# The module files come from the binary being installed, so they match its tables; the module
# carries that binary (bin/<platform>/) and prefers it to one on the PATH.
& $exe module --out $dest --with-binary
if ($LASTEXITCODE -ne 0) { throw "cscert module failed ($LASTEXITCODE)" }

$compat = @()
if (-not $NoCompatModules) {
    foreach ($name in 'Lync', 'SkypeForBusiness') {
        $ours = Join-Path $ModulePath $name
        $foreign = @(Get-Module -ListAvailable -Name $name) + @(Get-ChildItem -Path (Join-Path $ours '*' "$name.psd1") -ErrorAction Ignore | ForEach-Object { [pscustomobject]@{ Path = $_.FullName } }) |
            Where-Object { -not (Select-String -LiteralPath $_.Path -SimpleMatch 'cscert module --compat' -Quiet) }
        if ($foreign) {
            Write-Host "note: a module named $name exists ($(@($foreign)[0].Path)); not installing cscert's"
            continue
        }
        if (Test-Path -LiteralPath $ours) { Remove-Item -LiteralPath $ours -Recurse -Force }
        & $exe module --compat $name --out (Join-Path $ours $version)
        if ($LASTEXITCODE -ne 0) { throw "cscert module --compat $name failed ($LASTEXITCODE)" }
        $compat += $name
    }
}

if ($IsWindows) {
    $userPath = [Environment]::GetEnvironmentVariable('Path', 'User')
    if (($userPath -split ';') -notcontains $BinPath) {
        [Environment]::SetEnvironmentVariable('Path', ($userPath.TrimEnd(';') + ";$BinPath").TrimStart(';'), 'User')
        Write-Host "added $BinPath to the user's PATH (new sessions)"
    }
}
Write-Host "installed $exe"
if ($Links) { Write-Host "installed links for: $($cmdlets -join ' ') (pwsh: Import-Module CsCertificate, or the links run natively)" }
else { Write-Host 'no cmdlet-name links (other shells: cscert <Cmdlet-Name> ..., or install again with -Links)' }
Write-Host "installed the pwsh module in $dest (pwsh loads it by itself when a cmdlet is used)"
if ($compat) { Write-Host "installed the modules $($compat -join ', ') (they load CsCertificate)" }
