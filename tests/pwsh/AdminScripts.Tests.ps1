# Admin-style scripts (tests/pwsh/scripts) run unchanged under pwsh with the module installed by
# scripts/install.sh into a temp HOME, each in its own pwsh process and store, and must leave the
# expected certificates assigned. The non-certificate Lync cmdlets they call are test doubles
# (scripts/LyncTestDoubles.ps1).

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:Work = New-TestDir 'admin'
    $script:FakeHome = Join-Path $Work 'home'
    $script:Ca = New-LabCa (Join-Path $Work 'lab-ca')
    $script:Log = Join-Path $Work 'argv'
    New-Item -ItemType Directory -Path $FakeHome, $Log | Out-Null
    $script:Recorder = New-ArgvRecorder $Work
    $script:Doubles = Join-Path $PSScriptRoot 'scripts/LyncTestDoubles.ps1'

    $install = & bash (Join-Path $RepoRoot 'scripts/install.sh') --binary $CscertExe --prefix (Join-Path $FakeHome '.local') `
        --module-path (Join-Path $FakeHome '.local/share/powershell/Modules') 2>&1
    if ($LASTEXITCODE -ne 0) { throw "install.sh failed: $install" }
    $script:Installed = Join-Path $FakeHome '.local/bin/cscert'

    # Runs PowerShell source in a fresh pwsh whose HOME is the temp one (so its user module
    # folder is where install.sh put the module) with the doubles loaded, acting as $Computer.
    function Invoke-AdminPwsh([string] $Source, [string] $Store, [string] $Computer, [switch] $NoDoubles, [switch] $Record) {
        $prefix = if ($NoDoubles) { '' } else { ". '$Doubles'`n" }
        $envs = @{
            PATH                = (Join-Path $FakeHome '.local/bin') + [System.IO.Path]::PathSeparator + $env:PATH
            CSCERT_STORE        = $Store
            CSCERT_COMPUTERFQDN = $Computer
            LAB_CA_DIR          = $Ca
        }
        if ($Record) {
            # Every cscert run of the module goes through the recorder, which logs its argv.
            $envs['CSCERT_EXE'] = $Recorder
            $envs['CSCERT_REAL_EXE'] = $Installed
            $envs['CSCERT_ARGV_LOG'] = $Log
        }
        Invoke-ChildPwsh -Source ($prefix + $Source) -HomeDir $FakeHome -Environment $envs -WorkingDirectory $Work
    }

    # What is assigned, read with the binary itself (not through the module under test).
    function Get-Assigned([string] $Store, [string] $Computer, [string[]] $Extra = @(), [string] $Now) {
        $envs = @{ CSCERT_STORE = $Store; CSCERT_COMPUTERFQDN = $Computer }
        if ($Now) { $envs['CSCERT_NOW'] = $Now }
        $r = Invoke-Cscert -Argv (@('Get-CsCertificate') + $Extra) -Environment $envs
        if ($r.Code -ne 0) { throw "Get-CsCertificate failed: $($r.Stderr)" }
        @($r.Stdout -split '\r?\n' | Where-Object { $_ } | ForEach-Object { $_ | ConvertFrom-Json })
    }
}

AfterAll {
    Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction Ignore
}

Describe 'Installed with scripts/install.sh' {
    It 'puts the module in the user module folder, not the store folder, and Import-Module CsCertificate works from any folder' {
        $store = Join-Path $Work 'store-install'
        $r = Invoke-AdminPwsh -NoDoubles -Store $store -Computer 'Edge.contoso.com' -Source @"
Set-Location ([System.IO.Path]::GetTempPath())
Import-Module CsCertificate
(Get-Module CsCertificate).ModuleBase
(Get-Command Get-CsCertificate).CommandType
& (Get-Module CsCertificate) { Resolve-CsCertExe }
& (Get-Module CsCertificate) { Get-CsCertPlatform }
"@
        $r.Code | Should -Be 0 -Because $r.Stderr
        $lines = $r.Stdout -split '\r?\n'
        $lines[0] | Should -BeLike (Join-Path $FakeHome '.local/share/powershell/Modules/CsCertificate/*')
        $lines[1] | Should -Be 'Function'
        # The module's own copy of the binary, under bin/<platform>/.
        $lines[2] | Should -Be (Join-Path $lines[0] 'bin' $lines[3] 'cscert')
        Test-Path (Join-Path $FakeHome '.local/share/cscert/CsCertificate.psm1') | Should -BeFalse
    }

    It 'scripts/install.ps1 installs the same layout' {
        $bin = Join-Path $Work 'ps1/bin'; $mods = Join-Path $Work 'ps1/Modules'
        & (Join-Path $RepoRoot 'scripts/install.ps1') -Binary $CscertExe -BinPath $bin -ModulePath $mods -Links 6>&1 | Out-Null
        $dest = @(Get-ChildItem (Join-Path $mods 'CsCertificate') -Directory)[0].FullName
        foreach ($f in 'CsCertificate.psd1', 'CsCertificate.psm1', 'CsCertificate.format.ps1xml', 'bin/*/cscert') { Test-Path (Join-Path $dest $f) | Should -BeTrue }
        Test-Path (Join-Path $mods 'Lync/*/Lync.psd1') | Should -BeTrue
        Get-Content -Raw (Join-Path $dest 'CsCertificate.psm1') | Should -Be (Get-Content -Raw (Join-Path $RepoRoot 'scripts/CsCertificate.psm1'))
        Test-Path (Join-Path $bin 'Request-CsCertificate') | Should -BeTrue
        (Get-Item (Join-Path $bin 'Request-CsCertificate')).LinkTarget | Should -Be 'cscert'
        & (Join-Path $bin 'cscert') --version | Should -Match '^cscert '
        $saved = $env:CSCERT_STORE
        $env:CSCERT_STORE = Join-Path $Work 'ps1/store'
        try {
            { & (Join-Path $RepoRoot 'scripts/install.ps1') -Binary $CscertExe -BinPath $bin -ModulePath (Join-Path $Work 'ps1/store/mods') } |
                Should -Throw '*inside the cscert store folder*'
        }
        finally { $env:CSCERT_STORE = $saved }
        # install.sh refuses it as well, and creates nothing there.
        $out = & bash -c 'CSCERT_STORE="$1" bash "$2" --binary "$3" --prefix "$4" --module-path "$1/mods" 2>&1' _ `
            (Join-Path $Work 'sh-store') (Join-Path $RepoRoot 'scripts/install.sh') $CscertExe (Join-Path $Work 'sh-prefix')
        $LASTEXITCODE | Should -Be 1
        "$out" | Should -Match 'inside the cscert store folder'
        Test-Path (Join-Path $Work 'sh-store') | Should -BeFalse
    }

    It 'without the module, the cmdlet names on the PATH run the binary (install.sh --links)' {
        $install = & bash (Join-Path $RepoRoot 'scripts/install.sh') --binary $CscertExe --prefix (Join-Path $FakeHome '.local') `
            --module-path (Join-Path $FakeHome '.local/share/powershell/Modules') --links 2>&1
        $LASTEXITCODE | Should -Be 0 -Because "$install"
        $store = Join-Path $Work 'store-links'
        $r = Invoke-AdminPwsh -NoDoubles -Store $store -Computer 'Edge.contoso.com' -Source @"
(Get-Command Publish-CsTopology).CommandType
Publish-CsTopology -FileName '$TopologyFixture' -Confirm:`$false | Out-Null
(Get-CsTopology | ConvertFrom-Json).DefaultSipDomain
"@
        $r.Code | Should -Be 0 -Because $r.Stderr
        ($r.Stdout -split '\r?\n')[0..1] | Should -Be 'Application', 'contoso.com'
    }
}

Describe 'Admin-style scripts' {
    It 'Deploy-PoolCertificates.ps1 (style of rlevchenko/powershell-skype) assigns Front End, OAuth and Edge certificates' {
        $store = Join-Path $Work 'store-deploy'
        $script = Join-Path $PSScriptRoot 'scripts/Deploy-PoolCertificates.ps1'
        $r = Invoke-AdminPwsh -Store $store -Computer 'skypefe.contoso.com' -Source @"
& '$script' -TopologyFile '$TopologyFixture' -CAName '$Ca' -DomainRoot contoso.com
'doubles: ' + (`$global:LyncDoubleCalls -join ';')
"@
        $r.Code | Should -Be 0 -Because "$($r.Stdout)`n$($r.Stderr)"
        $r.Stdout | Should -Match 'doubles: .*Enable-CsTopology.*Invoke-Command Edge\.contoso\.com.*Start-CsPool skypefe\.contoso\.com'
        $fe = Get-Assigned $store 'skypefe.contoso.com'
        ($fe | Where-Object { -not $_.SourceScope }).Use | Should -Be 'Default', 'WebServicesInternal', 'WebServicesExternal'
        @($fe | Where-Object { -not $_.SourceScope } | Select-Object -ExpandProperty Thumbprint -Unique).Count | Should -Be 1
        $feCert = $fe | Where-Object Use -EQ 'Default'
        $feCert.AlternativeNames | Should -Contain 'sip.contoso.com'
        $feCert.Subject | Should -Match 'O="Contoso, Inc"'
        $oauth = Get-Assigned $store 'skypefe.contoso.com' @('-Identity', 'Global')
        $oauth.Use | Should -Be 'OAuthTokenIssuer'
        $oauth.Thumbprint | Should -Not -Be $feCert.Thumbprint
        $edge = Get-Assigned $store 'Edge.contoso.com' | Where-Object { -not $_.SourceScope }
        $edge.Use | Should -Be 'AccessEdgeExternal', 'DataEdgeExternal', 'AudioVideoAuthentication'
        $edge[0].Subject | Should -Be 'CN=sip.contoso.com'
        $r.Stdout | Should -Match "Edge: $($edge[0].Thumbprint)"
    }

    It 'Update-EdgeLetsEncrypt.ps1 (style of pcdiks/SfB-and-LetsEncrypt) assigns one certificate per Edge role, passwords off every argv' {
        $store = Join-Path $Work 'store-le'
        $pfxPassword = 'Le-' + [guid]::NewGuid().ToString('N')
        # Before: a certificate on the XMPP role, which the script does not manage.
        $seed = Invoke-AdminPwsh -NoDoubles -Store $store -Computer 'Edge.contoso.com' -Source @"
Import-Module CsCertificate
Publish-CsTopology -FileName '$TopologyFixture' -Confirm:`$false | Out-Null
`$x = Request-CsCertificate -New -Type XmppServer -CA '$Ca' -KeyAlg ECDH_P256 -WarningAction SilentlyContinue
Set-CsCertificate -Type XmppServer -Thumbprint `$x.Thumbprint -Confirm:`$false | Out-Null
"@
        $seed.Code | Should -Be 0 -Because $seed.Stderr
        (Get-Assigned $store 'Edge.contoso.com').Use | Should -Be 'XmppServer'

        $runs = @(Read-ArgvLog $Log).Count
        $script = Join-Path $PSScriptRoot 'scripts/Update-EdgeLetsEncrypt.ps1'
        $work = Join-Path $Work 'le-work'
        New-Item -ItemType Directory -Path $work | Out-Null
        $r = Invoke-AdminPwsh -Record -Store $store -Computer 'Edge.contoso.com' -Source @"
& '$script' -PfxPassword '$pfxPassword' -SipFQDN sip.contoso.com -WebFQDN sip.contoso.com -AvFQDN sip.contoso.com -WorkPath '$work'
"@
        $r.Code | Should -Be 0 -Because "$($r.Stdout)`n$($r.Stderr)"
        $after = Get-Assigned $store 'Edge.contoso.com'
        $after.Use | Should -Be 'AccessEdgeExternal', 'DataEdgeExternal', 'AudioVideoAuthentication'
        @($after.Thumbprint | Select-Object -Unique).Count | Should -Be 3
        $after | ForEach-Object { $_.Issuer | Should -Match 'Contoso Lab Root CA' }
        @(Get-ChildItem $work -Filter *.pfx).Count | Should -Be 0

        $argvs = @(Read-ArgvLog $Log) | Select-Object -Skip $runs
        @($argvs | Where-Object { $_[0] -eq 'Import-CsCertificate' }).Count | Should -Be 3
        foreach ($argv in $argvs) { ($argv -join "`n") | Should -Not -Match ([regex]::Escape($pfxPassword)) }
    }

    It 'Update-ExpiringCertificate.ps1 (style of greiginsydney/Update-SfbCertificate.ps1) renews from the running certificate and rolls it in' {
        $store = Join-Path $Work 'store-renew'
        $seed = Invoke-AdminPwsh -NoDoubles -Store $store -Computer 'Edge.contoso.com' -Source @"
Import-Module CsCertificate
Publish-CsTopology -FileName '$TopologyFixture' -Confirm:`$false | Out-Null
`$old = Request-CsCertificate -New -Type AccessEdgeExternal,DataEdgeExternal,AudioVideoAuthentication -CA '$Ca' -KeyAlg ECDH_P256 -ValidityDays 20 -PrivateKeyExportable `$true -Organization 'Contoso, Inc' -City Redmond -Country US -WarningAction SilentlyContinue
`$old | Set-CsCertificate -Type AccessEdgeExternal,DataEdgeExternal,AudioVideoAuthentication -Confirm:`$false | Out-Null
`$old.Thumbprint
"@
        $seed.Code | Should -Be 0 -Because $seed.Stderr
        $oldThumb = ($seed.Stdout -split '\r?\n' | Where-Object { $_ -match '^[0-9A-F]{40}$' } | Select-Object -Last 1)
        $oldThumb | Should -Match '^[0-9A-F]{40}$'

        $script = Join-Path $PSScriptRoot 'scripts/Update-ExpiringCertificate.ps1'
        $r = Invoke-AdminPwsh -Store $store -Computer 'Edge.contoso.com' -Source @"
& '$script' -CA '$Ca' -DaysLeft 45 -RollInHours 2 -ComputerFqdn `$null
"@
        $r.Code | Should -Be 0 -Because "$($r.Stdout)`n$($r.Stderr)"
        $r.Stdout | Should -Match "Renewing $oldThumb"
        # Staged, as Lync shows a roll: the new certificate with its effective time and the one
        # it replaces.
        $after = Get-Assigned $store 'Edge.contoso.com'
        $after.Use | Should -Be 'AccessEdgeExternal', 'DataEdgeExternal', 'AudioVideoAuthentication'
        $newThumb = $after[0].Thumbprint
        $newThumb | Should -Not -Be $oldThumb
        $after | ForEach-Object {
            $_.Thumbprint | Should -Be $newThumb
            $_.PreviousThumbprint | Should -Be $oldThumb
            ([datetime]$_.EffectiveTime).ToUniversalTime() | Should -BeGreaterThan (Get-Date).ToUniversalTime().AddHours(1.5)
            ([datetime]$_.EffectiveTime).ToUniversalTime() | Should -BeLessThan (Get-Date).ToUniversalTime().AddHours(2.5)
            $_.AlternativeNames | Should -Contain 'contoso.com'
            $_.Subject | Should -Match 'O="Contoso, Inc"'
        }
        [datetime]$after[0].NotAfter | Should -BeGreaterThan (Get-Date).AddDays(300)
    }

    It 'the README''s before/after script (Readme-Example.ps1) is the README''s block and runs unchanged' {
        $script = Join-Path $PSScriptRoot 'scripts/Readme-Example.ps1'
        $readme = Get-Content -Raw -LiteralPath (Join-Path $RepoRoot 'README.md')
        $readme.Contains("``````powershell`n" + (Get-Content -Raw -LiteralPath $script) + "``````") | Should -BeTrue

        $store = Join-Path $Work 'store-readme'
        $dir = Join-Path $Work 'readme'
        New-Item -ItemType Directory -Path $dir | Out-Null
        # oauth.pfx from the lab CA; a Default certificate that expires in 20 days.
        $pass = 'Readme-' + [guid]::NewGuid().ToString('N')
        $key = Join-Path $dir 'oauth.key'; $crt = Join-Path $dir 'oauth.crt'
        & openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -keyout $key -out $crt -subj '/CN=contoso.com' `
            -addext 'subjectAltName=DNS:contoso.com' -CA (Join-Path $Ca 'ca.crt') -CAkey (Join-Path $Ca 'ca.key') -days 365 2>$null
        $env:README_PFX_PASS = $pass
        try { & openssl pkcs12 -export -inkey $key -in $crt -passout env:README_PFX_PASS -out (Join-Path $dir 'oauth.pfx') 2>$null }
        finally { Remove-Item Env:README_PFX_PASS }
        $LASTEXITCODE | Should -Be 0
        $pfxThumb = ((& openssl x509 -in $crt -noout -fingerprint -sha1) -replace '^.*=', '' -replace ':', '')
        $seed = Invoke-AdminPwsh -NoDoubles -Store $store -Computer 'skypefe.contoso.com' -Source @"
Import-Module CsCertificate
Publish-CsTopology -FileName '$TopologyFixture' -Confirm:`$false | Out-Null
Request-CsCertificate -New -Type Default -CA '$Ca' -KeyAlg ECDH_P256 -ValidityDays 20 -WarningAction SilentlyContinue |
    Set-CsCertificate -Type Default -Confirm:`$false | Out-Null
"@
        $seed.Code | Should -Be 0 -Because $seed.Stderr

        $r = Invoke-AdminPwsh -NoDoubles -Store $store -Computer 'skypefe.contoso.com' -Source @"
Set-Location '$dir'
& '$script' -Password (ConvertTo-SecureString '$pass' -AsPlainText -Force)
"@
        $r.Code | Should -Be 0 -Because "$($r.Stdout)`n$($r.Stderr)"
        (Get-Assigned $store 'skypefe.contoso.com' @('-Identity', 'Global')).Thumbprint | Should -Be $pfxThumb
        Test-Path (Join-Path $dir 'Default.req') | Should -BeTrue
        "$($r.Stdout)$($r.Stderr)" | Should -Match 'not assigned: \w+,Set-CsCertificate'
    }
}
