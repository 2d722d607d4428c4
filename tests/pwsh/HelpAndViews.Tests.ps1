# Get-Help under pwsh with the module: every example of every cscert cmdlet binds as pasted
# (a -WhatIf run for the cmdlets that change something, a real run against a lab store for the
# others), defaults come from the parameter declarations; and the default views show the
# verdicts: Test-CsCertificate's rule ids, Test-CsCertificateConfiguration's status per use.

BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../../scripts/CsCertificate.psd1') -Force
    $cmdlets = (Get-Module CsCertificate).ExportedFunctions.Keys | Where-Object { $_ -ne 'Set-CsCertificateStorePassword' }
    $script:Examples = foreach ($c in $cmdlets) {
        $i = 0
        foreach ($e in @((Get-Help $c -Examples).examples.example)) {
            $i++
            @{ Cmdlet = $c; Number = $i; Code = [string]$e.code }
        }
    }
    Remove-Module CsCertificate
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:Work = New-TestDir 'help'
    $script:Ca = New-LabCa (Join-Path $Work 'lab-ca')
    $script:Saved = @{}
    foreach ($k in 'CSCERT_STORE', 'CSCERT_COMPUTERFQDN', 'CSCERT_EXE') { $Saved[$k] = [Environment]::GetEnvironmentVariable($k) }
    $env:CSCERT_STORE = Join-Path $Work 'store'
    $env:CSCERT_COMPUTERFQDN = 'Edge.contoso.com'
    $env:CSCERT_EXE = $CscertExe
    Set-Location -LiteralPath $Work
    Import-Module (Join-Path $RepoRoot 'scripts/CsCertificate.psd1') -Force
    Publish-CsTopology -FileName $TopologyFixture -Force -Confirm:$false | Out-Null
    $script:Edge = Request-CsCertificate -New -Type AccessEdgeExternal, DataEdgeExternal, AudioVideoAuthentication -CA $Ca -KeyAlg ECDH_P256 -PrivateKeyExportable $true
    Set-CsCertificate -Type AccessEdgeExternal, DataEdgeExternal, AudioVideoAuthentication -Thumbprint $Edge.Thumbprint -Confirm:$false -InformationAction Ignore
    $script:ShouldProcess = @{}
    foreach ($c in (Get-Module CsCertificate).ExportedFunctions.Values) {
        $ShouldProcess[$c.Name] = $c.Parameters.ContainsKey('WhatIf')
    }
}

AfterAll {
    Remove-Module CsCertificate -ErrorAction Ignore
    Set-Location -LiteralPath ([System.IO.Path]::GetTempPath())
    foreach ($k in $Saved.Keys) {
        if ($null -eq $Saved[$k]) { Remove-Item "Env:$k" -ErrorAction Ignore } else { Set-Item "Env:$k" $Saved[$k] }
    }
    Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction Ignore
}

Describe 'Get-Help examples under pwsh with the module' {
    It '<Cmdlet> example <Number> binds as pasted: <Code>' -ForEach $Examples {
        $Code | Should -Not -BeNullOrEmpty
        $line = if ($Code -match '-WhatIf\b') { $Code } elseif ($ShouldProcess[$Cmdlet]) { "$Code -WhatIf" } else { "$Code -ErrorAction SilentlyContinue" }
        $bindingError = $null
        try { & ([scriptblock]::Create($line)) 6>$null 3>$null | Out-Null }
        catch [System.Management.Automation.ParameterBindingException] { $bindingError = $_ }
        catch {
            # Anything else an example may run into here (a file that is not there) is not binding.
            if ($_.FullyQualifiedErrorId -match 'ParameterBinding|ArgumentTransformation|MissingArgument|NamedParameterNotFound') { $bindingError = $_ }
        }
        $bindingError | Should -BeNullOrEmpty -Because "$line"
    }

    It 'has examples for every cmdlet' {
        @($Examples).Count | Should -BeGreaterThan 15
    }

    It 'shows the defaults the parameter table declares' {
        $help = Get-Help Request-CsCertificate -Full
        $defaults = @{}
        foreach ($p in $help.parameters.parameter) { $defaults[$p.name] = [string]$p.defaultValue }
        $defaults['KeySize'] | Should -Be '2048'
        $defaults['ValidityDays'] | Should -Be '365'
        $defaults['AcmeHttpPort'] | Should -Be '80'
        $defaults['AcmeDnsWaitSec'] | Should -Be '20'
        $defaults['AcmeTimeoutSec'] | Should -Be '300'
        $defaults['KeyAlg'] | Should -Be 'RSA'
        ((Get-Help Export-CsCertificate -Full).parameters.parameter | Where-Object name -EQ Format).defaultValue | Should -Be 'Pfx'
    }

    It 'a declared default is never passed on: an ECDH request gets no -KeySize warning' {
        $r = Request-CsCertificate -New -Type Internal -KeyAlg ECDH_P256 -Output (Join-Path $Work 'ec.req') -WarningVariable w -WarningAction SilentlyContinue
        $r.KeyAlg | Should -Be 'ECDH_P256'
        @($w | Where-Object { "$_" -match 'KeySize' }).Count | Should -Be 0
    }

    It 'help tells a pwsh reader $env:CSCERT_PASSWORD' {
        (Get-Help Import-CsCertificate -Examples | Out-String) | Should -Match '\$env:CSCERT_PASSWORD'
    }

    It '[bool] parameters take True, 1 and ''$true'' as text, as cscert does natively' {
        foreach ($v in 'True', '1', '$true') {
            $r = Request-CsCertificate -New -Type Internal -KeyAlg ECDH_P256 -Output (Join-Path $Work "b$($v.Length).req") -PrivateKeyExportable $v -Force -WarningAction SilentlyContinue
            $r.PrivateKeyExportable | Should -BeTrue -Because $v
        }
        { Request-CsCertificate -New -Type Internal -PrivateKeyExportable 'maybe' -WhatIf } | Should -Throw -ExceptionType ([System.Management.Automation.ParameterBindingException])
    }
}

Describe 'Default views that show the verdict' {
    It 'Test-CsCertificate''s table shows the verdict and the rule ids; its list the findings' {
        $req = Join-Path $Work 'xmpp.req'
        Request-CsCertificate -New -Type AccessEdgeExternal -ComputerFqdn Edge.contoso.com -KeyAlg ECDH_P256 -Output $req -Force -WarningAction SilentlyContinue -ErrorAction Stop | Out-Null
        $t = Test-CsCertificate -Path $req -Type AccessEdgeExternal -XmppDomain contoso.com, corp.contoso.com -ErrorAction SilentlyContinue
        $t.Passed | Should -BeFalse
        $table = $t | Out-String -Width 300
        $table | Should -Match 'Verdict'
        $table | Should -Match 'Failed'
        $table | Should -Match 'XMPP-CHILD-DOMAIN'
        $list = $t | Format-List | Out-String -Width 300
        $list | Should -Match 'Error XMPP-CHILD-DOMAIN: '
        $list | Should -Not -Match '@\{RuleId='
    }

    It 'Test-CsCertificateConfiguration shows a status per use and a summary line' {
        $out = Test-CsCertificateConfiguration 6>&1 3>$null
        $objects = @($out | Where-Object { $_ -isnot [System.Management.Automation.InformationRecord] })
        $objects.Use | Should -Be 'AccessEdgeExternal', 'DataEdgeExternal', 'AudioVideoAuthentication'
        $objects.Status | Should -Be 'Passed', 'Passed', 'Passed'
        $objects[0].PSObject.TypeNames[0] | Should -Be 'Cscert.ConfigurationResult'
        ($objects | Out-String) | Should -Match 'Use\s+Status\s+Thumbprint'
        $summary = @($out | Where-Object { $_ -is [System.Management.Automation.InformationRecord] })
        "$($summary[-1])" | Should -Be 'Passed: 3 assigned use(s) in order (0 with a warning), 0 error(s).'
    }
}
