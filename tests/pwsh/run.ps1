# Runs every *.Tests.ps1 in this folder with Pester and prints "N passed, N failed".
# Exit status: 0 only when at least one test ran and none failed. Called by scripts/test-pwsh.
param(
    [Parameter(Mandatory)] [string] $Pester,
    [Parameter(Mandatory)] [string] $Binary,
    [string] $Pwsh
)
$ErrorActionPreference = 'Stop'
Import-Module $Pester -Force
# The suite's tests read the binary from here (each starts its own temp store).
$env:CSCERT_TEST_EXE = (Resolve-Path -LiteralPath $Binary).ProviderPath
# Child pwsh processes (prompts answered on stdin, admin scripts) run this same pwsh.
if ($Pwsh) { $env:CSCERT_TEST_PWSH = $Pwsh }
$config = New-PesterConfiguration
$config.Run.Path = $PSScriptRoot
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Detailed'
$config.Output.RenderMode = 'Plaintext'
$result = Invoke-Pester -Configuration $config
$failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
Write-Host "$($result.PassedCount) passed, $failed failed"
if ($result.PassedCount -eq 0 -or $failed -gt 0) { exit 1 }
exit 0
