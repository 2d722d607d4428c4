# The CsCertificate module under real pwsh: every cmdlet against a temp store with a published
# topology and a lab CA. The module runs cscert through a recorder (CSCERT_EXE) that logs each
# child process's argv, so the suite can assert that no secret ever reaches a command line.

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:Work = New-TestDir 'module'
    $script:Log = Join-Path $Work 'argv'
    New-Item -ItemType Directory -Path $Log | Out-Null
    $script:Ca = New-LabCa (Join-Path $Work 'lab-ca')
    $script:PfxSecret = 'Pfx-S3cret-' + [guid]::NewGuid().ToString('N').Substring(0, 8)
    $script:CaSecret = 'Ca-S3cret-' + [guid]::NewGuid().ToString('N').Substring(0, 8)
    $script:StoreSecret = 'Store-S3cret-' + [guid]::NewGuid().ToString('N').Substring(0, 8)
    $script:SecurePfx = ConvertTo-SecureString $PfxSecret -AsPlainText -Force
    $script:SavedEnv = @{}
    $testEnv = @{
        CSCERT_STORE        = (Join-Path $Work 'store')
        CSCERT_COMPUTERFQDN = 'Edge.contoso.com'
        CSCERT_EXE          = (New-ArgvRecorder $Work)
        CSCERT_REAL_EXE     = $CscertExe
        CSCERT_ARGV_LOG     = $Log
        CSCERT_PASSWORD     = $null
        CSCERT_CA_PASSWORD  = $null
        CSCERT_STORE_PASSWORD = $null
        CSCERT_NOW          = $null
    }
    # pwsh hands $null to a .NET string parameter as '': a variable to unset is removed.
    function Set-TestEnv([string] $Name, $Value) {
        if ($null -eq $Value) { Remove-Item "Env:$Name" -ErrorAction Ignore }
        else { [Environment]::SetEnvironmentVariable($Name, $Value) }
    }
    foreach ($k in $testEnv.Keys) {
        $SavedEnv[$k] = [Environment]::GetEnvironmentVariable($k)
        Set-TestEnv $k $testEnv[$k]
    }
    Set-Location -LiteralPath $Work
    Import-Module (Join-Path $RepoRoot 'scripts/CsCertificate.psd1') -Force
    $script:EdgeUses = 'AccessEdgeExternal', 'DataEdgeExternal', 'AudioVideoAuthentication'
    $script:AllCmdlets = 'Request-CsCertificate', 'Import-CsCertificate', 'Set-CsCertificate', 'Get-CsCertificate',
    'Remove-CsCertificate', 'Test-CsCertificateConfiguration', 'Export-CsCertificate', 'Test-CsCertificate', 'Revoke-CsCertificate',
    'Publish-CsTopology', 'Get-CsTopology', 'Update-CsCertificate', 'Update-CsCertificateStorePassword'
    function Get-ChildRuns { @(Read-ArgvLog $Log).Count }
}

AfterAll {
    Remove-Module CsCertificate -ErrorAction Ignore
    Set-Location -LiteralPath ([System.IO.Path]::GetTempPath())
    foreach ($k in $SavedEnv.Keys) { Set-TestEnv $k $SavedEnv[$k] }
    Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction Ignore
}

Describe 'The module as PowerShell sees it' {
    It 'has a valid manifest exporting every cmdlet, with the format file' {
        $m = Test-ModuleManifest -Path (Join-Path $RepoRoot 'scripts/CsCertificate.psd1')
        $m.PowerShellVersion | Should -Be ([version]'7.2')
        @($m.ExportedFunctions.Keys | Sort-Object) | Should -Be @($AllCmdlets + 'Set-CsCertificateStorePassword' | Sort-Object)
        (Get-Module CsCertificate).ExportedFormatFiles | Should -Not -BeNullOrEmpty
    }

    It '<_> is an advanced function' -ForEach @(
        'Request-CsCertificate', 'Import-CsCertificate', 'Set-CsCertificate', 'Get-CsCertificate',
        'Remove-CsCertificate', 'Test-CsCertificateConfiguration', 'Export-CsCertificate', 'Test-CsCertificate',
        'Publish-CsTopology', 'Get-CsTopology') {
        $c = Get-Command $_ -Module CsCertificate
        $c.CmdletBinding | Should -BeTrue
        $c.Parameters.Keys | Should -Contain 'ErrorAction'
        $c.Parameters.Keys | Should -Contain 'ErrorVariable'
    }

    It 'declares the Lync parameter sets, types, aliases, positions and mandatory flags' {
        $r = Get-Command Request-CsCertificate
        @($r.ParameterSets.Name | Sort-Object) | Should -Be @('Clear', 'List', 'New', 'Retrieve')
        $new = $r.ParameterSets | Where-Object Name -EQ 'New'
        ($new.Parameters | Where-Object Name -EQ 'Type').IsMandatory | Should -BeTrue
        $r.Parameters.Type.ParameterType | Should -Be ([string[]])
        $r.Parameters.PrivateKeyExportable.ParameterType | Should -Be ([bool])
        $r.Parameters.KeySize.ParameterType | Should -Be ([int])
        $impact = { param($n) ((Get-Command $n).ScriptBlock.Attributes | Where-Object { $_ -is [System.Management.Automation.CmdletBindingAttribute] }).ConfirmImpact }
        & $impact Request-CsCertificate | Should -Be 'Medium'
        & $impact Remove-CsCertificate | Should -Be 'High'
        $i = Get-Command Import-CsCertificate
        $i.Parameters.EffectiveDate.Aliases | Should -Contain 'EffectiveTime'
        $i.Parameters.EffectiveDate.ParameterType | Should -Be ([datetime])
        (($i.ParameterSets | Where-Object Name -EQ 'Cms').Parameters | Where-Object Name -EQ 'Identity').Position | Should -Be 0
        $s = Get-Command Set-CsCertificate
        $s.DefaultParameterSet | Should -Be 'Thumbprint'
        $ref = ($s.ParameterSets | Where-Object Name -EQ 'Reference').Parameters | Where-Object Name -EQ 'Reference'
        $ref.ValueFromPipeline | Should -BeTrue
        (Get-Command Get-CsCertificate).Parameters.Keys | Should -Not -Contain 'WhatIf'
    }

    It 'has comment-based help with the examples' {
        $h = Get-Help Request-CsCertificate -Full
        $h.Synopsis | Should -Match 'Requests a new certificate'
        @($h.examples.example).Count | Should -BeGreaterOrEqual 5
        (Get-Help Set-CsCertificate -Examples | Out-String) | Should -Match 'Set-CsCertificate -Type AudioVideoAuthentication -Thumbprint \w+ -Roll -EffectiveDate'
        (Get-Help Import-CsCertificate -Parameter Password | Out-String) | Should -Match 'CSCERT_PASSWORD'
    }

    It 'completes -Type, also inside a comma list, and -KeyAlg' {
        $complete = { param($s) (TabExpansion2 -inputScript $s -cursorColumn $s.Length).CompletionMatches.CompletionText }
        & $complete 'Set-CsCertificate -Type AudioV' | Should -Be 'AudioVideoAuthentication'
        & $complete 'Get-CsCertificate -Type Default,WebServicesE' | Should -Be 'WebServicesExternal'
        & $complete 'Request-CsCertificate -New -KeyAlg ECDH_P3' | Should -Be 'ECDH_P384'
    }
}

Describe 'Every cmdlet through the module' {
    It 'Publish-CsTopology / Get-CsTopology' {
        Publish-CsTopology -FileName $TopologyFixture -Confirm:$false | Out-Null
        $t = Get-CsTopology
        $t.PSObject.TypeNames[0] | Should -Be 'Cscert.Topology'
        $t.DefaultSipDomain | Should -Be 'contoso.com'
        $xml = Get-CsTopology -AsXml
        $xml | Should -BeOfType [string]
        ([xml]$xml).DocumentElement | Should -Not -BeNullOrEmpty
    }

    It 'Request-CsCertificate -New -CA returns a certificate object with [datetime] dates' {
        $script:Edge = Request-CsCertificate -New -Type $EdgeUses -CA $Ca -PrivateKeyExportable $true -KeyAlg ECDH_P256 -ClientEKU $true -WarningAction SilentlyContinue
        $Edge.PSObject.TypeNames[0] | Should -Be 'Cscert.StoredCertificate'
        $Edge.NotAfter | Should -BeOfType [datetime]
        $Edge.NotBefore | Should -BeOfType [datetime]
        $Edge.NotAfter | Should -BeGreaterThan (Get-Date).AddDays(300)
        $Edge.Thumbprint | Should -Match '^[0-9A-F]{40}$'
        $Edge.Subject | Should -Be 'CN=sip.contoso.com'
        $Edge.AlternativeNames | Should -Contain 'contoso.com'
    }

    It 'Request -New piped into Set-CsCertificate (-Reference by value) assigns it' {
        $Edge | Set-CsCertificate -Type $EdgeUses -Confirm:$false -InformationAction Ignore
        $got = @(Get-CsCertificate)
        $got.Count | Should -Be 3
        $got.Use | Should -Be $EdgeUses
        $got | ForEach-Object {
            $_.PSObject.TypeNames[0] | Should -Be 'Cscert.AssignedCertificate'
            $_.Thumbprint | Should -Be $Edge.Thumbprint
            $_.NotAfter | Should -BeOfType [datetime]
        }
        # The documented pipeline over dates.
        @(Get-CsCertificate | Where-Object { $_.NotAfter -lt '9/1/2099' }).Count | Should -Be 3
        @(Get-CsCertificate | Where-Object { $_.NotAfter -lt '9/1/2018' }).Count | Should -Be 0
    }

    It 'the default views show properties the objects have' {
        foreach ($type in 'Cscert.AssignedCertificate', 'Cscert.StoredCertificate') {
            $view = Get-FormatData -TypeName $type
            $view | Should -Not -BeNullOrEmpty
        }
        $obj = (Get-CsCertificate)[0]
        $props = (Get-FormatData Cscert.AssignedCertificate).FormatViewDefinition[0].Control.Entries[0].Items.DisplayEntry.Value
        foreach ($p in $props) { $obj.PSObject.Properties.Name | Should -Contain $p }
        (Get-CsCertificate -Type AccessEdgeExternal | Out-String) | Should -Match 'SourceScope'
    }

    It 'Request -New -Output writes an offline request; -List shows it' {
        $r = Request-CsCertificate -New -Type Internal -Output (Join-Path $Work 'internal.req') -KeyAlg ECDH_P256 -WarningAction SilentlyContinue
        $r.PSObject.TypeNames[0] | Should -Be 'Cscert.OfflineRequest'
        $r.Created | Should -BeOfType [datetime]
        Test-Path (Join-Path $Work 'internal.req') | Should -BeTrue
        $pending = Request-CsCertificate -List | Where-Object RequestStatus -EQ 'Pending'
        $pending.PSObject.TypeNames[0] | Should -Be 'Cscert.CertificateRequest'
        $pending.CertificateUses | Should -Be 'Internal'
        $script:InternalRequestId = $pending.RequestId
    }

    It 'Import-CsCertificate joins the CA answer to the pending key' {
        $crt = Join-Path $Work 'internal.crt'
        $out = & openssl x509 -req -in (Join-Path $Work 'internal.req') -CA (Join-Path $Ca 'ca.crt') -CAkey (Join-Path $Ca 'ca.key') -CAcreateserial -days 200 -copy_extensions copy -out $crt 2>&1
        $LASTEXITCODE | Should -Be 0 -Because "$out"
        $imported = Import-CsCertificate -Path $crt -Confirm:$false
        $imported.HasPrivateKey | Should -BeTrue
        $imported.RequestId | Should -Be $InternalRequestId
        $imported | Set-CsCertificate -Type Internal -Confirm:$false -InformationAction Ignore
        (Get-CsCertificate -Type Internal).Thumbprint | Should -Be $imported.Thumbprint
    }

    It 'Get-CsCertificate piped into Export-CsCertificate with a SecureString password' {
        $pfx = Join-Path $Work 'edge.pfx'
        Get-CsCertificate -Type AccessEdgeExternal | Export-CsCertificate -Path $pfx -Password $SecurePfx -Confirm:$false
        Test-Path $pfx | Should -BeTrue
        $out = & openssl pkcs12 -in $pfx -passin "pass:$PfxSecret" -nokeys -noenc 2>&1
        $LASTEXITCODE | Should -Be 0 -Because "$out"
        ($out -join "`n") | Should -Match 'CN\s*=\s*sip.contoso.com'
    }

    It 'Import-CsCertificate -Password <SecureString> opens the PFX' {
        $c = Import-CsCertificate -Path (Join-Path $Work 'edge.pfx') -Password $SecurePfx -Confirm:$false
        $c.Thumbprint | Should -Be $Edge.Thumbprint
        $c.HasPrivateKey | Should -BeTrue
    }

    It 'Test-CsCertificate and Test-CsCertificateConfiguration return objects' {
        $t = Test-CsCertificate -Path (Join-Path $Work 'internal.crt') -Type Internal
        $t.PSObject.TypeNames[0] | Should -Be 'Cscert.CertificateTestResult'
        $t.Kind | Should -Be 'Certificate'
        $t.NotAfter | Should -BeOfType [datetime]
        $cfg = @(Test-CsCertificateConfiguration -WarningAction SilentlyContinue)
        $cfg.Count | Should -BeGreaterOrEqual 1
        $cfg.Use | Should -Contain 'AccessEdgeExternal'
    }

    It 'Remove-CsCertificate from a Get | Where-Object pipeline' {
        Get-CsCertificate | Where-Object Use -EQ 'DataEdgeExternal' | Remove-CsCertificate -Confirm:$false
        (Get-CsCertificate).Use | Should -Not -Contain 'DataEdgeExternal'
        (Get-CsCertificate).Use | Should -Contain 'AccessEdgeExternal'
        $Edge | Set-CsCertificate -Type DataEdgeExternal -Confirm:$false -InformationAction Ignore
    }
}

Describe 'Errors, warnings and verbose lines in PowerShell''s streams' {
    It '-ErrorAction Stop is caught with cscert''s FullyQualifiedErrorId and category' {
        $caught = $null
        try { Set-CsCertificate -Type Default -Thumbprint '1234' -Confirm:$false -ErrorAction Stop }
        catch { $caught = $_ }
        $caught | Should -Not -BeNullOrEmpty
        $caught.FullyQualifiedErrorId | Should -Be 'InvalidThumbprint,Set-CsCertificate'
        $caught.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $caught.Exception.Message | Should -Match '"1234" is not valid'
    }

    It 'without -ErrorAction Stop the error is non-terminating: -ErrorVariable collects it, the script goes on' {
        $after = $false
        Remove-CsCertificate -Type XmppServer -Confirm:$false -ErrorVariable ev -ErrorAction SilentlyContinue
        $ok = $?
        $after = $true
        $after | Should -BeTrue
        $ok | Should -BeFalse
        $ev.Count | Should -Be 1
        $ev[0].FullyQualifiedErrorId | Should -Match ',Remove-CsCertificate$'
        $ev[0].CategoryInfo.Category | Should -Not -Be 'NotSpecified'
    }

    It '$ErrorActionPreference = Stop makes it terminating too' {
        $ErrorActionPreference = 'Stop'
        { Set-CsCertificate -Type Default -Thumbprint 'ZZ' -Confirm:$false } | Should -Throw -ErrorId 'InvalidThumbprint,Set-CsCertificate'
    }

    It 'a binding error is a terminating ParameterBindingException, caught without -ErrorAction' {
        $caught = $null
        try { Request-CsCertificate -New -Type Bogus -Output x.req -Confirm:$false; $reached = $true } catch { $caught = $_ }
        $caught.Exception | Should -BeOfType [System.Management.Automation.ParameterBindingException]
        $caught.FullyQualifiedErrorId | Should -Be 'CannotConvertArgumentNoMessage,Request-CsCertificate'
        $caught.Exception.Message | Should -Match 'Unable to match the identifier name Bogus'
    }

    It 'warnings reach -WarningVariable and honour -WarningAction' {
        Request-CsCertificate -New -Type AccessEdgeExternal -Output (Join-Path $Work 'w.req') -KeyAlg ECDH_P256 -WarningVariable wv -WarningAction SilentlyContinue | Out-Null
        $wv.Count | Should -BeGreaterThan 0
        ($wv -join "`n") | Should -Match 'exportable'
    }

    It 'verbose lines reach the verbose stream with -Verbose only' {
        $v = Request-CsCertificate -New -Type Internal -Output (Join-Path $Work 'v1.req') -KeyAlg ECDH_P256 -WarningAction SilentlyContinue -Verbose 4>&1 |
            Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        $quiet = Request-CsCertificate -New -Type Internal -Output (Join-Path $Work 'v2.req') -KeyAlg ECDH_P256 -WarningAction SilentlyContinue 4>&1 |
            Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        @($quiet).Count | Should -Be 0
        @($v).Count | Should -BeGreaterThan 0
    }
}

Describe 'ShouldProcess' {
    It '-WhatIf changes nothing and starts no cscert process' {
        $before = Get-CsCertificate | ForEach-Object { "$($_.Use)=$($_.Thumbprint)" }
        $requests = @(Request-CsCertificate -List).Count
        $runs = Get-ChildRuns
        Remove-CsCertificate -Type AccessEdgeExternal -WhatIf
        Set-CsCertificate -Type Default -Thumbprint $Edge.Thumbprint -WhatIf
        Request-CsCertificate -New -Type Default -CA $Ca -WhatIf
        Import-CsCertificate -Path (Join-Path $Work 'edge.pfx') -Password $SecurePfx -WhatIf
        Publish-CsTopology -FileName $TopologyFixture -WhatIf
        Get-ChildRuns | Should -Be $runs
        Get-CsCertificate | ForEach-Object { "$($_.Use)=$($_.Thumbprint)" } | Should -Be $before
        @(Request-CsCertificate -List).Count | Should -Be $requests
    }

    It '-WhatIf says what would be done, once, and nothing else' {
        # What-if lines go to the host, not a stream: a child pwsh's output holds them.
        $script = @"
Import-Module '$(Join-Path $RepoRoot 'scripts/CsCertificate.psd1')'
Remove-CsCertificate -Type AccessEdgeExternal -WhatIf
Set-CsCertificate -Type Default -Thumbprint $($Edge.Thumbprint) -WhatIf
"@
        $file = Join-Path $Work 'whatif.ps1'
        Set-Content -LiteralPath $file -Value $script
        $lines = @(& $PwshExe -NoProfile -NonInteractive -File $file) -match '^What if:'
        $lines.Count | Should -Be 2
        $lines[0] | Should -Match 'Remove-CsCertificate'
        $lines[1] | Should -Match 'Set-CsCertificate'
    }

    It '-Confirm is asked by PowerShell and answered (No, then Yes)' {
        # A child pwsh whose prompts read this input: the first Remove is declined, the second done.
        $script = @"
Import-Module '$(Join-Path $RepoRoot 'scripts/CsCertificate.psd1')'
Remove-CsCertificate -Type AccessEdgeExternal
'after-no=' + ((Get-CsCertificate).Use -contains 'AccessEdgeExternal')
Remove-CsCertificate -Type AccessEdgeExternal
'after-yes=' + ((Get-CsCertificate).Use -contains 'AccessEdgeExternal')
"@
        $file = Join-Path $Work 'confirm.ps1'
        Set-Content -LiteralPath $file -Value $script
        $psi = [System.Diagnostics.ProcessStartInfo]::new($PwshExe)
        foreach ($a in '-NoProfile', '-File', $file) { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardInput = $true
        $psi.RedirectStandardOutput = $true
        $psi.UseShellExecute = $false
        $p = [System.Diagnostics.Process]::Start($psi)
        $p.StandardInput.WriteLine('N')
        $p.StandardInput.WriteLine('Y')
        $p.StandardInput.Close()
        $out = $p.StandardOutput.ReadToEnd()
        $p.WaitForExit()
        $out | Should -Match 'Performing the operation "Remove-CsCertificate" on target "Type\s+AccessEdgeExternal"'
        $out | Should -Match 'after-no=True'
        $out | Should -Match 'after-yes=False'
        $Edge | Set-CsCertificate -Type AccessEdgeExternal -Confirm:$false -InformationAction Ignore
    }

    It 'after PowerShell confirmed, cscert runs with -Confirm:False' {
        $runs = Get-ChildRuns
        Remove-CsCertificate -Type Internal -Force
        $argv = @(Read-ArgvLog $Log)[$runs]
        $argv | Should -Contain '-Confirm:False'
        (Get-CsCertificate).Use | Should -Not -Contain 'Internal'
    }
}

Describe 'Dates and culture' {
    It 'a roll with a computed [datetime] under th-TH crosses in ISO 8601 with Gregorian years' {
        $old = [cultureinfo]::CurrentCulture
        try {
            [cultureinfo]::CurrentCulture = 'th-TH'
            $when = (Get-Date).Date.AddDays(3).AddHours(6)
            $new = Request-CsCertificate -New -Type AudioVideoAuthentication -CA $Ca -PrivateKeyExportable $true -KeyAlg ECDH_P256 -WarningAction SilentlyContinue
            $runs = Get-ChildRuns
            Set-CsCertificate -Type AudioVideoAuthentication -Thumbprint $new.Thumbprint -Roll -EffectiveDate $when -Confirm:$false -InformationAction Ignore
            $argv = @(Read-ArgvLog $Log)[$runs]
            $argv | Should -Contain ('-EffectiveDate:' + $when.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ', [cultureinfo]::InvariantCulture))
            # Staged: it shows once the clock passes the effective time.
            $env:CSCERT_NOW = $when.AddHours(1).ToUniversalTime().ToString('o', [cultureinfo]::InvariantCulture)
            try { $av = Get-CsCertificate -Type AudioVideoAuthentication } finally { Remove-Item Env:CSCERT_NOW }
            $av.Thumbprint | Should -Be $new.Thumbprint
            $av.EffectiveTime | Should -BeOfType [datetime]
            $av.EffectiveTime.ToUniversalTime() | Should -Be $when.ToUniversalTime()
            $av.NotAfter.Year | Should -BeLessThan 2500
        }
        finally { [cultureinfo]::CurrentCulture = $old }
    }
}

Describe 'The store password from a SecureString' {
    BeforeAll {
        # A store of its own: its keys end up encrypted, which the other blocks do not expect.
        $script:SharedStore = $env:CSCERT_STORE
        $env:CSCERT_STORE = Join-Path $Work 'store-with-password'
        $script:StorePw = ConvertTo-SecureString $StoreSecret -AsPlainText -Force
        function New-FeRequest([string] $Name) {
            Request-CsCertificate -New -Type Default -ComputerFqdn fe.contoso.com -Output (Join-Path $Work $Name) -ErrorAction Stop
        }
    }
    AfterAll {
        Set-CsCertificateStorePassword -Clear
        $env:CSCERT_STORE = $SharedStore
    }

    It 'reaches cscert, which then keeps the new key encrypted, and never this session' {
        Set-CsCertificateStorePassword $StorePw
        (New-FeRequest 'sp1.req').RequestStatus | Should -Be 'Offline'
        $env:CSCERT_STORE_PASSWORD | Should -BeNullOrEmpty
        # The native binary without the password: the store's keys are encrypted, so it makes no
        # new one.
        $out = & $CscertExe Request-CsCertificate -New -Type Default -ComputerFqdn fe.contoso.com -Output (Join-Path $Work 'sp2.req') 2>&1
        $LASTEXITCODE | Should -Be 1
        ($out -join "`n") | Should -Match 'encrypted: set CSCERT_STORE_PASSWORD'
        Test-Path (Join-Path $Work 'sp2.req') | Should -BeFalse
    }

    It '-Clear forgets it; set again, the store opens' {
        Set-CsCertificateStorePassword -Clear
        { New-FeRequest 'sp3.req' } | Should -Throw -ErrorId 'StoreFailure,Request-CsCertificate'
        Set-CsCertificateStorePassword $StorePw
        (New-FeRequest 'sp3.req').RequestStatus | Should -Be 'Offline'
        @(Request-CsCertificate -List).Count | Should -Be 2
    }

    It 'an empty one is refused' {
        { Set-CsCertificateStorePassword ([securestring]::new()) } | Should -Throw -ErrorId 'StorePasswordEmpty,Set-CsCertificateStorePassword'
    }

    It 'Update-CsCertificateStorePassword changes it through the module (a SecureString, never argv)' {
        Set-CsCertificateStorePassword $StorePw
        $new = ConvertTo-SecureString 'second-store-pass' -AsPlainText -Force
        Update-CsCertificateStorePassword -NewPassword $new -Force -ErrorAction Stop
        (Read-ArgvLog $Log)[-1] -join ' ' | Should -Not -Match 'second-store-pass'
        # The old session password no longer opens the store; the new one does.
        { New-FeRequest 'sp4.req' } | Should -Throw -ErrorId 'StoreFailure,Request-CsCertificate'
        Set-CsCertificateStorePassword $new
        (New-FeRequest 'sp4.req').RequestStatus | Should -Be 'Offline'
    }
}

Describe 'Secrets never on a command line' {
    It 'a SecureString -CaPassword reaches cscert through its environment' {
        $secure = ConvertTo-SecureString $CaSecret -AsPlainText -Force
        $env:CSCERT_DEBUG_BINDING = '1'
        try {
            $debug = Request-CsCertificate -New -Type Default -CA 'dc01.contoso.com\contoso-CA' -CaPassword $secure -CaAccount 'contoso\certadmin' `
                -AcmeEabKeyId 'kid-1' -AcmeEabHmacKey (ConvertTo-SecureString "$CaSecret-hmac" -AsPlainText -Force) `
                -Output (Join-Path $Work 'never.req') -ErrorAction SilentlyContinue -Debug 5>&1 |
                Where-Object { $_ -is [System.Management.Automation.DebugRecord] }
        }
        finally { Remove-Item Env:CSCERT_DEBUG_BINDING }
        ($debug.Message -join "`n") | Should -Match '"CaPassword":"\*{8}"'
        ($debug.Message -join "`n") | Should -Match '"AcmeEabHmacKey":"\*{8}"'
    }

    It 'no recorded argv of any child process holds a password' {
        $runs = @(Read-ArgvLog $Log)
        $runs.Count | Should -BeGreaterThan 10
        foreach ($argv in $runs) {
            ($argv -join "`n") | Should -Not -Match ([regex]::Escape($PfxSecret))
            ($argv -join "`n") | Should -Not -Match ([regex]::Escape($CaSecret))
            ($argv -join "`n") | Should -Not -Match ([regex]::Escape($StoreSecret))
            $argv | Should -Not -Contain 'System.Security.SecureString'
        }
        # The runs that needed them did get the passwords (export, import, the CA password).
        @($runs | Where-Object { $_[0] -eq 'Export-CsCertificate' }).Count | Should -BeGreaterThan 0
        @($runs | Where-Object { $_[0] -eq 'Import-CsCertificate' -and ($_ -join ' ') -match 'edge\.pfx' }).Count | Should -BeGreaterThan 0
    }
}
