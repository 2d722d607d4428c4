<#
.SYNOPSIS
Installs cscert for the current user, from pwsh on Windows, Linux or macOS.

.DESCRIPTION
- The binary goes to -BinPath (default: ~/.local/bin on Linux/macOS,
  %LOCALAPPDATA%\Programs\cscert on Windows, which is added to the user's PATH), with one link
  per cmdlet name (Request-CsCertificate, ...) so that scripts find the cmdlet names on the PATH
  even without the module (hard links on Windows, symbolic links elsewhere).
- The module CsCertificate goes to -ModulePath (default: the user's module folder,
  Documents\PowerShell\Modules on Windows, ~/.local/share/powershell/Modules elsewhere), in a
  CsCertificate\<version> folder, so that `Import-Module CsCertificate` works from any folder.
  Never inside cscert's store folder.
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
    [string] $Binary
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
    Remove-Item -LiteralPath $link -Force -ErrorAction Ignore
    if ($IsWindows) { New-Item -ItemType HardLink -Path $link -Target $exe | Out-Null }
    else { New-Item -ItemType SymbolicLink -Path $link -Target $exeName | Out-Null }
}

$version = ((& $exe --version) -split ' ')[1]
$dest = Join-Path $ModulePath 'CsCertificate' $version
if (Test-Path -LiteralPath $dest) { Remove-Item -LiteralPath $dest -Recurse -Force }
New-Item -ItemType Directory -Force -Path $dest | Out-Null
# The module files come from the binary being installed, so they match its tables.
& $exe module --out $dest
if ($LASTEXITCODE -ne 0) { throw "cscert module failed ($LASTEXITCODE)" }
# The module looks for cscert next to itself first: sessions whose PATH lacks BinPath still work.
if ($IsWindows) { Copy-Item -LiteralPath $exe -Destination (Join-Path $dest $exeName) }
else { New-Item -ItemType SymbolicLink -Path (Join-Path $dest $exeName) -Target $exe | Out-Null }

if ($IsWindows) {
    $userPath = [Environment]::GetEnvironmentVariable('Path', 'User')
    if (($userPath -split ';') -notcontains $BinPath) {
        [Environment]::SetEnvironmentVariable('Path', ($userPath.TrimEnd(';') + ";$BinPath").TrimStart(';'), 'User')
        Write-Host "added $BinPath to the user's PATH (new sessions)"
    }
}
Write-Host "installed $exe with links for: $($cmdlets -join ' ')"
Write-Host "installed the pwsh module in $dest (Import-Module CsCertificate)"
