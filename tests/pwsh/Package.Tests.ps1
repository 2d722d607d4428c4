# The module where scripts look for it: a default install.sh (cscert on the PATH, no cmdlet-name
# links) lets pwsh autoload the cmdlets; Lync and SkypeForBusiness load them for scripts that ask
# for those names; PSResourceGet publishes the module with its binary and installs it runnable;
# dates are local [datetime]s as Lync's are. Each case runs in its own pwsh with a temp HOME.

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:Work = New-TestDir 'package'
    $script:Ca = New-LabCa (Join-Path $Work 'lab-ca')
    $script:Store = Join-Path $Work 'store'
    $script:StoreEnv = @{ CSCERT_STORE = $Store; CSCERT_COMPUTERFQDN = 'Edge.contoso.com' }
    # A store with the Edge certificate assigned, made with the binary itself.
    foreach ($argv in @(
            @('Publish-CsTopology', '-FileName', $TopologyFixture, '-Force'),
            @('Request-CsCertificate', '-New', '-Type', 'AccessEdgeExternal', '-CA', $Ca, '-KeyAlg', 'ECDH_P256'))) {
        $r = Invoke-Cscert -Argv $argv -Environment $StoreEnv
        if ($r.Code -ne 0) { throw "$($argv[0]) failed: $($r.Stderr)" }
    }
    $script:Thumbprint = ($r.Stdout | ConvertFrom-Json).Thumbprint
    $r = Invoke-Cscert -Argv @('Set-CsCertificate', '-Type', 'AccessEdgeExternal', '-Thumbprint', $Thumbprint) -Environment $StoreEnv
    if ($r.Code -ne 0) { throw "Set-CsCertificate failed: $($r.Stderr)" }

    # A fresh HOME with cscert installed by install.sh (extra options given); returns the HOME.
    function Install-Fresh([string] $Name, [string[]] $Options = @()) {
        $h = Join-Path $Work $Name
        New-Item -ItemType Directory -Path $h | Out-Null
        $out = & bash (Join-Path $RepoRoot 'scripts/install.sh') --binary $CscertExe --prefix (Join-Path $h '.local') `
            --module-path (Join-Path $h '.local/share/powershell/Modules') @Options 2>&1
        if ($LASTEXITCODE -ne 0) { throw "install.sh failed: $out" }
        $script:InstallOutput = "$out"
        $h
    }
    function Invoke-Installed([string] $HomeDir, [string] $Source, [hashtable] $Extra = @{}) {
        $envs = $StoreEnv.Clone()
        $envs['PATH'] = (Join-Path $HomeDir '.local/bin') + [System.IO.Path]::PathSeparator + $env:PATH
        foreach ($k in $Extra.Keys) { $envs[$k] = $Extra[$k] }
        Invoke-ChildPwsh -Source $Source -HomeDir $HomeDir -Environment $envs
    }
    $script:DefaultHome = Install-Fresh 'home-default'
    $script:DefaultInstallOutput = $InstallOutput
}

AfterAll {
    Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction Ignore
}

Describe 'A default install (scripts/install.sh)' {
    It 'puts cscert on the PATH and no cmdlet-name links, and says so' {
        Test-Path (Join-Path $DefaultHome '.local/bin/cscert') | Should -BeTrue
        Test-Path (Join-Path $DefaultHome '.local/bin/Get-CsCertificate') | Should -BeFalse
        $DefaultInstallOutput | Should -Match 'no cmdlet-name links'
        $DefaultInstallOutput | Should -Match 'pwsh loads it by itself'
    }

    It 'lets pwsh autoload the module: objects without Import-Module' {
        $r = Invoke-Installed $DefaultHome @'
(Get-Command Get-CsCertificate).CommandType
$c = Get-CsCertificate -Type AccessEdgeExternal
$c.GetType().Name
$c.Thumbprint
'@
        $r.Code | Should -Be 0 -Because $r.Stderr
        $lines = $r.Stdout -split '\r?\n'
        $lines[0..2] | Should -Be 'Function', 'PSCustomObject', $Thumbprint
    }

    It '--links adds the cmdlet names, and a later default install takes them away again' {
        $h = Install-Fresh 'home-links' @('--links')
        (Get-Item (Join-Path $h '.local/bin/Get-CsCertificate')).LinkTarget | Should -Be 'cscert'
        $InstallOutput | Should -Match 'installed links for: .*Get-CsCertificate'
        $out = & bash (Join-Path $RepoRoot 'scripts/install.sh') --binary $CscertExe --prefix (Join-Path $h '.local') `
            --module-path (Join-Path $h '.local/share/powershell/Modules') 2>&1
        $LASTEXITCODE | Should -Be 0 -Because "$out"
        Test-Path (Join-Path $h '.local/bin/Get-CsCertificate') | Should -BeFalse
    }
}

Describe 'The module names scripts ask for (Lync, SkypeForBusiness)' {
    It 'runs a script that starts with #Requires -Modules Lync' {
        $r = Invoke-Installed $DefaultHome @'
#Requires -Modules Lync
(Get-CsCertificate -Type AccessEdgeExternal).Thumbprint
@(Get-Command -Module Lync).Name -contains 'Request-CsCertificate'
'@
        $r.Code | Should -Be 0 -Because $r.Stderr
        ($r.Stdout -split '\r?\n')[0..1] | Should -Be $Thumbprint, 'True'
    }

    It 'Import-Module SkypeForBusiness loads the cmdlets without an error' {
        $r = Invoke-Installed $DefaultHome @'
$ErrorActionPreference = 'Stop'
Import-Module SkypeForBusiness
(Get-CsCertificate -Type AccessEdgeExternal).Thumbprint
'@
        $r.Code | Should -Be 0 -Because $r.Stderr
        $r.Stderr | Should -BeNullOrEmpty
        ($r.Stdout -split '\r?\n')[0] | Should -Be $Thumbprint
    }

    It 'leaves an existing module of that name alone, and --no-compat-modules installs none' {
        $h = Join-Path $Work 'home-real-lync'
        $real = Join-Path $h '.local/share/powershell/Modules/Lync/5.0.0'
        New-Item -ItemType Directory -Path $real | Out-Null
        Set-Content -LiteralPath (Join-Path $real 'Lync.psd1') -Value "@{ ModuleVersion = '5.0.0'; GUID = '$([guid]::NewGuid())' }"
        $out = & bash (Join-Path $RepoRoot 'scripts/install.sh') --binary $CscertExe --prefix (Join-Path $h '.local') `
            --module-path (Join-Path $h '.local/share/powershell/Modules') 2>&1
        $LASTEXITCODE | Should -Be 0 -Because "$out"
        "$out" | Should -Match 'a module named Lync exists'
        @(Get-ChildItem (Join-Path $h '.local/share/powershell/Modules/Lync')).Name | Should -Be '5.0.0'
        Test-Path (Join-Path $h '.local/share/powershell/Modules/SkypeForBusiness') | Should -BeTrue
        $none = Install-Fresh 'home-no-compat' @('--no-compat-modules')
        Test-Path (Join-Path $none '.local/share/powershell/Modules/Lync') | Should -BeFalse
        Test-Path (Join-Path $none '.local/share/powershell/Modules/SkypeForBusiness') | Should -BeFalse
    }
}

Describe 'Install-PSResource CsCertificate' {
    It 'publishes to a local repository, installs into an empty module path, and a cmdlet runs from the installed copy' {
        $h = Join-Path $Work 'home-psresource'
        $pkg = Join-Path $Work 'pkg/CsCertificate'
        $repo = Join-Path $Work 'psrepo'
        New-Item -ItemType Directory -Path $h, $repo | Out-Null
        & $CscertExe module --out $pkg --with-binary
        $LASTEXITCODE | Should -Be 0
        $m = Test-ModuleManifest (Join-Path $pkg 'CsCertificate.psd1')
        # The project's address comes from Cargo.toml's `repository`, and only from there.
        $repoLine = Select-String -Path (Join-Path $RepoRoot 'Cargo.toml') -Pattern '^repository\s*=\s*"(.+)"' | Select-Object -First 1
        if ($repoLine) {
            $url = $repoLine.Matches[0].Groups[1].Value
            "$($m.ProjectUri)" | Should -Be $url
            "$($m.LicenseUri)" | Should -Be "$url/blob/main/LICENSE"
        } else {
            $m.ProjectUri | Should -BeNullOrEmpty
        }
        $m.ReleaseNotes | Should -Not -BeNullOrEmpty
        $r = Invoke-ChildPwsh -HomeDir $h -Environment $StoreEnv -Source @"
`$ErrorActionPreference = 'Stop'
Register-PSResourceRepository -Name CscertLocal -Uri '$repo' -Trusted
Publish-PSResource -Path '$pkg' -Repository CscertLocal
Install-PSResource -Name CsCertificate -Repository CscertLocal -Scope CurrentUser -TrustRepository
`$base = (Get-Module -ListAvailable CsCertificate).ModuleBase
`$exe = Get-Item (Join-Path `$base 'bin/*/cscert')
'before: ' + `$exe.UnixMode
Import-Module CsCertificate
'exe: ' + (& (Get-Module CsCertificate) { Resolve-CsCertExe })
'thumbprint: ' + (Get-CsCertificate -Type AccessEdgeExternal).Thumbprint
'after: ' + (Get-Item `$exe.FullName).UnixMode
"@
        $r.Code | Should -Be 0 -Because "$($r.Stdout)`n$($r.Stderr)"
        $r.Stderr | Should -Not -Match 'cannot be retrieved because it has not been set'
        $lines = $r.Stdout -split '\r?\n'
        # A .nupkg is a zip: the installed binary arrives without its execute bit...
        $lines | Where-Object { $_ -like 'before: *' } | Should -Be 'before: -rw-r--r--'
        # ...and the module runs its own copy, made executable.
        $lines | Where-Object { $_ -like 'exe: *' } | Should -BeLike "exe: $h/.local/share/powershell/Modules/CsCertificate/*/bin/*/cscert"
        $lines | Where-Object { $_ -like 'thumbprint: *' } | Should -Be "thumbprint: $Thumbprint"
        $lines | Where-Object { $_ -like 'after: *' } | Should -Be 'after: -rwxr-xr-x'
    }

    It 'a module binary that cannot be started is one clear error, never one about the module''s variables' {
        $h = Join-Path $Work 'home-broken'
        $mods = Join-Path $h '.local/share/powershell/Modules/CsCertificate/0.1.0'
        New-Item -ItemType Directory -Path $mods | Out-Null
        & $CscertExe module --out $mods --with-binary
        # Not a program at all: executable, but no format the system can start.
        $exe = Get-Item (Join-Path $mods 'bin/*/cscert')
        Set-Content -LiteralPath $exe.FullName -Value 'not a program'
        & chmod 0755 $exe.FullName
        $r = Invoke-ChildPwsh -HomeDir $h -Environment $StoreEnv -Source @'
try { Get-CsCertificate; 'no error' } catch { 'error: ' + $_.FullyQualifiedErrorId + ': ' + $_.Exception.Message }
'@
        $r.Stdout | Should -Match "error: CscertNotStarted,Get-CsCertificate: cscert at '.*bin/.*/cscert' could not be started"
        "$($r.Stdout)$($r.Stderr)" | Should -Not -Match 'has not been set'
    }
}

Describe 'Dates as Lync gives them' {
    It 'NotAfter is a local [datetime] that compares with Get-Date under a non-UTC TZ; the JSON stays UTC' {
        $json = (Invoke-Cscert -Argv @('Get-CsCertificate', '-Type', 'AccessEdgeExternal') -Environment $StoreEnv).Stdout | ConvertFrom-Json -DateKind String
        $json.NotAfter | Should -Match '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$'
        $r = Invoke-Installed $DefaultHome @"
`$c = Get-CsCertificate -Type AccessEdgeExternal
`$c.NotAfter.Kind
[TimeZoneInfo]::Local.BaseUtcOffset.TotalHours
# Get-Date gives local time: the same instant must compare equal, a minute later greater.
`$c.NotAfter -eq (Get-Date -Date '$($json.NotAfter)')
`$c.NotAfter -lt (Get-Date -Date '$($json.NotAfter)').AddMinutes(1)
`$c.NotAfter -lt (Get-Date).AddDays(30)
"@ -Extra @{ TZ = 'Asia/Tokyo' }
        $r.Code | Should -Be 0 -Because $r.Stderr
        $lines = $r.Stdout -split '\r?\n'
        $lines[0..4] | Should -Be 'Local', '9', 'True', 'True', 'False'
    }
}
