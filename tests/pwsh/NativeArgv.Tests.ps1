# The native path, checked by pwsh itself: for every row of the reference argv table
# (fixtures/native-argv.psd1), real pwsh runs a native argv-recording program with the row's
# PowerShell source under $PSNativeCommandArgumentPassing 'Standard' and 'Legacy'; the argv it
# really passes is compared with the table, then bound by cscert.

BeforeDiscovery {
    $fixture = Import-PowerShellDataFile -LiteralPath (Join-Path $PSScriptRoot 'fixtures/native-argv.psd1')
    $cases = foreach ($mode in 'Standard', 'Legacy') {
        foreach ($row in $fixture.Rows) { @{ Mode = $mode; Row = $row; Id = $row.Id; Source = $row.Source } }
    }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:Work = New-TestDir 'argv'
    $script:Log = Join-Path $Work 'log'
    New-Item -ItemType Directory -Path $Log | Out-Null
    $script:Recorder = New-ArgvRecorder $Work
    # Row 20: a file the unquoted wildcard can match.
    New-Item -ItemType File -Path (Join-Path $Work 'www.contoso.com') | Out-Null

    # Runs `& <recorder> <source>` as a script would, in the given passing mode and culture, and
    # returns the argv pwsh passed.
    function Get-PwshArgv([string] $Source, [string] $Mode, [string] $Culture) {
        Get-ChildItem -LiteralPath $Log | Remove-Item
        $oldCulture = [cultureinfo]::CurrentCulture
        $oldLocation = Get-Location
        $env:CSCERT_ARGV_LOG = $Log
        try {
            [cultureinfo]::CurrentCulture = $Culture
            Set-Location -LiteralPath $Work
            $PSNativeCommandArgumentPassing = $Mode
            # The variables the sources use (fixtures/native-argv.psd1 lists them).
            $d = 'a.com', 'b.com'
            $p = @{ DomainName = 'a.com', 'b.com'; New = $true }
            $secure = ConvertTo-SecureString 'not-on-argv' -AsPlainText -Force
            $dt = [datetime]::new(2012, 7, 22, 6, 0, 0, [System.DateTimeKind]::Local)
            $a = '-Type', 'Default,WebServicesInternal'
            $q = @{ FriendlyName = $null; PrivateKeyExportable = $false; KeySize = 2048 }
            $null = $d, $p, $secure, $dt, $a, $q
            Invoke-Expression "& `$script:Recorder $Source"
        }
        finally {
            Remove-Item Env:CSCERT_ARGV_LOG
            Set-Location $oldLocation
            [cultureinfo]::CurrentCulture = $oldCulture
        }
        $all = @(Read-ArgvLog $Log)
        if ($all.Count -ne 1) { throw "expected one recorded run, got $($all.Count)" }
        , $all[0]
    }

    # A hashtable splat comes in any order: compare each parameter with the values after it.
    function Get-ArgvGroups([string[]] $Argv) {
        $groups = [System.Collections.Generic.List[string]]::new()
        foreach ($a in $Argv) {
            if ($a -match '^-[A-Za-z]' -or $groups.Count -eq 0) { $groups.Add($a) }
            else { $groups[$groups.Count - 1] += "`0$a" }
        }
        , @($groups | Sort-Object)
    }

    function Format-Argv([string[]] $Argv) { ($Argv | ForEach-Object { "<$_>" }) -join ' ' }
}

AfterAll {
    Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction Ignore
}

Describe 'pwsh native argv against the reference table' {
    It '<Mode> row <Id>: <Source>' -ForEach $cases {
        $culture = if ($Row.Culture) { $Row.Culture } else { 'en-US' }
        $got = Get-PwshArgv $Row.Source $Mode $culture
        $table = if ($Mode -eq 'Legacy' -and $Row.ContainsKey('TableLegacy')) { $Row.TableLegacy } else { $Row.Table }
        $expected = $table
        if ($Row.ContainsKey('Pwsh')) {
            # pwsh wins over the table: the test says what pwsh does, and that the table's
            # claim is not it (so the override stays justified).
            $expected = if ($Mode -eq 'Legacy' -and $Row.ContainsKey('PwshLegacy')) { $Row.PwshLegacy } else { $Row.Pwsh }
            (Format-Argv $got) | Should -Not -Be (Format-Argv $table)
        }
        if ($Row.Unordered) {
            (Get-ArgvGroups $got) -join '|' | Should -Be ((Get-ArgvGroups $expected) -join '|')
        }
        else {
            Format-Argv $got | Should -Be (Format-Argv $expected)
        }

        # cscert binds what pwsh passed.
        $bind = $Row.Bind
        $legacy = if ($Mode -eq 'Legacy' -and $Row.ContainsKey('BindLegacy')) { $Row.BindLegacy } else { @{} }
        $argv = [System.Collections.Generic.List[string]]::new()
        $rest = $got
        if ($bind.Cmdlet) { $argv.Add($bind.Cmdlet) } else { $argv.Add($got[0]); $rest = @($got | Select-Object -Skip 1) }
        $argv.Add('-WhatIf')
        foreach ($x in $bind.Before) { $argv.Add($x) }
        foreach ($x in $rest) { $argv.Add($x) }
        $envs = @{ CSCERT_STORE = (Join-Path $Work 'store'); CSCERT_DEBUG_BINDING = '1'; TZ = 'UTC'; CSCERT_COMPUTERFQDN = 'sip.contoso.com' }
        if ($Row.Lang) { $envs['LC_ALL'] = $Row.Lang }
        $r = Invoke-Cscert -Argv $argv -WorkingDirectory $Work -Environment $envs
        $wantError = if ($legacy.ContainsKey('Error')) { $legacy.Error } elseif ($legacy.ContainsKey('Expect')) { $null } else { $bind.Error }
        if ($wantError) {
            $r.Code | Should -Be 2 -Because $r.Stderr
            $r.Errors[0].FullyQualifiedErrorId | Should -Be "$wantError,$($argv[0])"
        }
        else {
            $r.Code | Should -Not -Be 2 -Because $r.Stderr
            $r.Trace | Should -Not -BeNullOrEmpty -Because $r.Stderr
            $expect = if ($legacy.ContainsKey('Expect')) { $legacy.Expect } else { $bind.Expect }
            foreach ($k in $expect.Keys) {
                $r.Trace.Parameters.PSObject.Properties.Name | Should -Contain $k
                ConvertTo-Json -Compress -InputObject $r.Trace.Parameters.$k |
                    Should -Be (ConvertTo-Json -Compress -InputObject $expect[$k]) -Because "parameter $k"
            }
            foreach ($k in @($bind.Absent)) {
                if ($k -and -not $legacy.ContainsKey('Expect')) { $r.Trace.Parameters.PSObject.Properties.Name | Should -Not -Contain $k }
            }
            if ($bind.ContainsKey('Confirm')) { $r.Trace.Common.Confirm | Should -Be $bind.Confirm }
        }
    }
}
