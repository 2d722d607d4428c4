//! The pwsh module `CsCertificate`, generated from the binder's parameter tables so that the two
//! cannot drift: `cscert module --out scripts` writes `CsCertificate.psd1`, `.psm1` and
//! `.format.ps1xml`; a test asserts the checked-in files equal this output.
//!
//! Each cmdlet becomes an advanced function with the table's names, aliases, sets, types,
//! positions and mandatory flags. The function passes its bound parameters to the binary as argv
//! (`-Name:value`, one element each, so no passing mode can re-split them), secrets through the
//! child's environment, dates in ISO 8601; it turns the JSON Lines back into objects and the JSON
//! error records on stderr into real ErrorRecords.

use crate::binder::table::{secret_env, CmdletDef, PType, ParamDef};
use crate::cmdlets::DEFS as CMDLETS;
use crate::model::CertType;
use std::fmt::Write;

mod package;
mod views;
pub use package::{binary_path, COMPAT_MODULES};
pub use views::view_properties;

/// The module's files: (file name, content).
pub fn files() -> Vec<(&'static str, String)> {
    vec![
        ("CsCertificate.psd1", manifest()),
        ("CsCertificate.psm1", module()),
        ("CsCertificate.format.ps1xml", views::formats()),
    ]
}

/// A PowerShell single-quoted string literal. PowerShell also ends such a string at the
/// typographic single quotes, so those are doubled as well.
fn sq(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('\'');
    for c in s.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{201b}') {
            o.push(c);
        }
        o.push(c);
    }
    o.push('\'');
    o
}

/// Text inside a `<# ... #>` help comment.
fn help_text(s: &str) -> String {
    s.replace("#>", "# >")
}

/// How ShouldProcess treats each cmdlet that changes something: its ConfirmImpact, and the
/// parameter sets that only read (no confirmation, -WhatIf does not stop them).
fn confirm_impact(c: &CmdletDef) -> &'static str {
    match c.name {
        // Lync asks before removing an assignment unless -Force.
        "Remove-CsCertificate" => "High",
        _ => "Medium",
    }
}

fn read_only_sets(c: &CmdletDef) -> &'static [&'static str] {
    match c.name {
        "Request-CsCertificate" => &["List"],
        _ => &[],
    }
}

/// The argv kind the module converts a parameter's value with (see ConvertTo-CsCertArgv).
fn kind(p: &ParamDef) -> &'static str {
    if p.type_name == Some("CertificateReference") {
        return "Reference";
    }
    match p.ty {
        PType::Switch => "Switch",
        PType::Bool => "Bool",
        PType::Str => {
            if is_path(p) {
                "Path"
            } else {
                "Str"
            }
        }
        PType::NullableStr => "NullableStr",
        PType::Int => "Int",
        PType::StrList => {
            if is_path(p) {
                "PathList"
            } else {
                "List"
            }
        }
        PType::CertTypes => "List",
        PType::Enum(_) => "Str",
        PType::DateTime => "Date",
        PType::Password => "Secret",
    }
}

/// File parameters are resolved against pwsh's current location (which is not the process's
/// working folder) and its drives (`~`, `TestDrive:`); `-CA` only when it names an existing
/// file or folder, since it may also be an AD CS `host\CA` string.
fn is_path(p: &ParamDef) -> bool {
    matches!(
        p.name,
        "Path" | "Output" | "FileName" | "Report" | "HtmlReport" | "CA"
    )
}

fn ps_type(p: &ParamDef) -> &'static str {
    if p.type_name == Some("CertificateReference") {
        return "[object]";
    }
    match p.ty {
        PType::Switch => "[switch]",
        PType::Bool => "[bool]",
        PType::Str | PType::NullableStr | PType::Enum(_) => "[string]",
        PType::Int => "[int]",
        PType::StrList | PType::CertTypes => "[string[]]",
        PType::DateTime => "[datetime]",
        // A [string] or a [securestring]; either way it reaches the binary through the
        // environment, never argv.
        PType::Password => "[object]",
    }
}

/// Pipeline input as the Lync cmdlets take it: the certificate object itself for -Reference,
/// -Thumbprint/-Type/-Identity by property name (Get-CsCertificate objects carry the use as
/// `Use`, hence the module-only alias on -Type of the cmdlets that take those objects).
fn pipeline(c: &CmdletDef, p: &ParamDef) -> (&'static str, &'static [&'static str]) {
    if p.type_name == Some("CertificateReference") {
        return ("ValueFromPipeline = $true", &[]);
    }
    match p.name {
        "Thumbprint" | "Identity" => ("ValueFromPipelineByPropertyName = $true", &[]),
        "Type" if matches!(c.name, "Set-CsCertificate" | "Remove-CsCertificate") => {
            ("ValueFromPipelineByPropertyName = $true", &["Use"])
        }
        _ => ("", &[]),
    }
}

/// Values the argument completer offers.
fn completions(p: &ParamDef) -> Option<Vec<&'static str>> {
    match p.ty {
        PType::CertTypes => Some(CertType::ALL.iter().map(|t| t.name()).collect()),
        PType::Enum(e) => Some(e.names.to_vec()),
        _ => None,
    }
}

fn parameter_attributes(c: &CmdletDef, p: &ParamDef) -> Vec<String> {
    let (pipe, _) = pipeline(c, p);
    let attr = |set: Option<&str>| {
        let mut parts: Vec<String> = Vec::new();
        if let Some(s) = set {
            parts.push(format!("ParameterSetName = {}", sq(s)));
            if p.mandatory_in(s) {
                parts.push("Mandatory = $true".into());
            }
        }
        if let Some(pos) = p.position {
            parts.push(format!("Position = {pos}"));
        }
        if !pipe.is_empty() {
            parts.push(pipe.to_string());
        }
        format!("[Parameter({})]", parts.join(", "))
    };
    let everywhere = p.sets.is_empty() && p.mandatory.is_empty();
    if everywhere && c.sets.len() > 1 {
        vec![attr(None)]
    } else {
        c.sets
            .iter()
            .filter(|s| p.in_set(s))
            .map(|s| attr(Some(s)))
            .collect()
    }
}

fn function(c: &CmdletDef) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "function {} {{\n<#", c.name);
    let _ = writeln!(s, ".SYNOPSIS\n{}\n", help_text(c.synopsis));
    let description = if c.description.is_empty() {
        c.synopsis
    } else {
        c.description
    };
    let _ = writeln!(s, ".DESCRIPTION\n{}", help_text(description));
    if !c.lync {
        let _ = writeln!(
            s,
            "This cmdlet is cscert's own; no Lync Server cmdlet has this name."
        );
    }
    s.push('\n');
    for p in c.params {
        let _ = writeln!(s, ".PARAMETER {}\n{}", p.name, help_text(p.help));
        if let Some(v) = completions(p) {
            let _ = writeln!(s, "Values: {}.", v.join(", "));
        }
        if p.ty == PType::Password {
            let _ = writeln!(
                s,
                "A [securestring] or a string; it reaches cscert in $env:{}, never on its command line.",
                secret_env(p.name)
            );
        }
        s.push('\n');
    }
    for (cmd, what) in c.examples {
        let _ = writeln!(s, ".EXAMPLE\n{}\n\n{}\n", help_text(cmd), help_text(what));
    }
    let _ = writeln!(
        s,
        ".OUTPUTS\nPSCustomObject with a Cscert.* type name; dates are [datetime].\n\n.NOTES\nGenerated from cscert's parameter table; `cscert {} -?` shows the same help.\n#>",
        c.name
    );
    let mut binding = Vec::new();
    if c.should_process {
        binding.push("SupportsShouldProcess = $true".to_string());
        binding.push(format!("ConfirmImpact = {}", sq(confirm_impact(c))));
    }
    if let Some(d) = c.default_set {
        binding.push(format!("DefaultParameterSetName = {}", sq(d)));
    }
    let _ = writeln!(s, "    [CmdletBinding({})]", binding.join(", "));
    let _ = writeln!(s, "    [OutputType([psobject])]");
    s.push_str("    param(");
    for (i, p) in c.params.iter().enumerate() {
        s.push_str(if i == 0 { "\n" } else { ",\n\n" });
        for a in parameter_attributes(c, p) {
            let _ = writeln!(s, "        {a}");
        }
        let (_, extra_alias) = pipeline(c, p);
        let aliases: Vec<String> = p.aliases.iter().chain(extra_alias).map(|a| sq(a)).collect();
        if !aliases.is_empty() {
            let _ = writeln!(s, "        [Alias({})]", aliases.join(", "));
        }
        if p.ty == PType::NullableStr {
            // `-ComputerFqdn $null` means "this computer" (Edge scripts pass it).
            let _ = writeln!(s, "        [AllowNull()] [AllowEmptyString()]");
        }
        if let Some(v) = completions(p) {
            // Self-contained: a completer does not run in the module's scope. Inside a comma
            // list the word is the current element; quotes typed so far are ignored.
            let _ = writeln!(
                s,
                "        [ArgumentCompleter({{ param($c, $p, $word) $w = \"$word\".Trim([char]39, [char]34); @({}) -like \"$w*\" | ForEach-Object {{ [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_) }} }})]",
                v.iter().map(|n| sq(n)).collect::<Vec<_>>().join(", ")
            );
        }
        if p.ty == PType::Bool {
            // `-PrivateKeyExportable True` (the help's bash-and-pwsh form) binds as in cscert.
            let _ = writeln!(s, "        [CsCertBoolAttribute()]");
        }
        let _ = write!(s, "        {} ${}", ps_type(p), p.name);
        if let Some(d) = p.default {
            // Declared, so Get-Help shows it; never passed on (only bound parameters are).
            let value = match p.ty {
                PType::Int => d.to_string(),
                _ => sq(d),
            };
            let _ = write!(s, " = {value}");
        }
    }
    s.push_str("\n    )\n");
    let force = c.param("Force").is_some();
    s.push_str("    begin {\n");
    s.push_str("        # A module function does not see its caller's preference variables ($ErrorActionPreference\n        # = 'Stop' in a script); compiled cmdlets such as Lync's do, so take them over.\n        foreach ($pref in $script:CsCertPreferences.GetEnumerator()) {\n            if (-not $PSBoundParameters.ContainsKey($pref.Key)) {\n                # -WhatIf/-Confirm of the call are not for this bookkeeping.\n                Set-Variable -Name $pref.Value -Value $PSCmdlet.SessionState.PSVariable.GetValue($pref.Value) -WhatIf:$false -Confirm:$false\n            }\n        }\n");
    if force && c.should_process {
        s.push_str("        # -Force answers the confirmation, as it does for the Lync cmdlets.\n        if ($Force -and -not $PSBoundParameters.ContainsKey('Confirm')) { $ConfirmPreference = 'None' }\n");
    }
    s.push_str("    }\n    process {\n");
    let _ = writeln!(
        s,
        "        $call = ConvertTo-CsCertCall -Cmdlet $PSCmdlet -Name {} -Bound $PSBoundParameters",
        sq(c.name)
    );
    if c.should_process {
        let ro = read_only_sets(c);
        let cond = if ro.is_empty() {
            "$PSCmdlet.ShouldProcess($call.Target, $call.Action)".to_string()
        } else {
            format!(
                "$PSCmdlet.ParameterSetName -in @({}) -or $PSCmdlet.ShouldProcess($call.Target, $call.Action)",
                ro.iter().map(|n| sq(n)).collect::<Vec<_>>().join(", ")
            )
        };
        let _ = writeln!(s, "        if ({cond}) {{");
        s.push_str("            # PowerShell has asked (or was told not to): the binary must not ask again.\n            $call.Argv.Add('-Confirm:False')\n            Invoke-CsCertNative -Cmdlet $PSCmdlet -Call $call\n        }\n");
    } else {
        s.push_str("        Invoke-CsCertNative -Cmdlet $PSCmdlet -Call $call\n");
    }
    s.push_str("    }\n}\n");
    s
}

/// The per-cmdlet conversion table the helper functions read: parameter name -> argv kind.
fn spec() -> String {
    let mut s = String::from("$script:CsCertSpec = @{\n");
    for c in CMDLETS {
        let _ = writeln!(s, "    {} = [ordered]@{{", sq(c.name));
        for p in c.params {
            let _ = writeln!(s, "        {} = {}", p.name, sq(kind(p)));
        }
        s.push_str("    }\n");
    }
    s.push_str("}\n\n$script:CsCertSecretEnv = @{\n");
    let mut names: Vec<&str> = CMDLETS
        .iter()
        .flat_map(|c| c.params.iter())
        .filter(|p| p.ty == PType::Password)
        .map(|p| p.name)
        .collect();
    names.sort();
    names.dedup();
    for n in names {
        let _ = writeln!(s, "    {n} = {}", sq(&secret_env(n)));
    }
    s.push_str("}\n");
    s
}

/// Output shapes: the first rule whose property the object has names its PSTypeName.
const TYPE_RULES: &[(&str, &str)] = &[
    ("HasPrivateKey", "Cscert.StoredCertificate"),
    ("SourceScope", "Cscert.AssignedCertificate"),
    ("CertificateUses", "Cscert.CertificateRequest"),
    ("Created", "Cscert.OfflineRequest"),
    ("Findings", "Cscert.CertificateTestResult"),
    ("Pools", "Cscert.Topology"),
    ("Status", "Cscert.ConfigurationResult"),
];

/// Functions of the module that are not cscert cmdlets: they live in pwsh only.
const MODULE_ONLY: &[&str] = &["Set-CsCertificateStorePassword"];

/// Every function the module exports: the cmdlets, then the module's own.
fn exported() -> Vec<String> {
    CMDLETS
        .iter()
        .map(|c| c.name)
        .chain(MODULE_ONLY.iter().copied())
        .map(sq)
        .collect()
}

fn manifest() -> String {
    let functions = exported();
    format!(
        "# Generated by `cscert module` (src/psmodule.rs). Do not edit: regenerate.\n@{{\n    RootModule           = 'CsCertificate.psm1'\n    ModuleVersion        = {version}\n    GUID                 = '6a0c2f4e-3b1d-4c8e-9f27-5d7e1a9b0c43'\n    Author               = 'cscert'\n    Description          = 'The Lync Server / Skype for Business certificate cmdlets (Request-, Import-, Set-, Get-, Remove-CsCertificate, ...) on any platform, backed by the cscert binary.'\n    PowerShellVersion    = '7.2'\n    CompatiblePSEditions = @('Core')\n    FunctionsToExport    = @(\n        {functions}\n    )\n    CmdletsToExport      = @()\n    VariablesToExport    = @()\n    AliasesToExport      = @()\n    FormatsToProcess     = @('CsCertificate.format.ps1xml')\n{psdata}}}\n",
        version = sq(env!("CARGO_PKG_VERSION")),
        functions = functions.join(",\n        "),
        psdata = package::psdata()
    )
}

/// The manifest of the compatibility module `name` (one of [`COMPAT_MODULES`]).
pub fn compat_manifest(name: &str) -> String {
    package::compat_manifest(name, &exported())
}

fn module() -> String {
    let mut s = String::from(MODULE_HEAD);
    s.push_str(&spec());
    s.push_str("\n# Common parameter -> the preference variable it sets.\n$script:CsCertPreferences = [ordered]@{\n    ErrorAction       = 'ErrorActionPreference'\n    WarningAction     = 'WarningPreference'\n    InformationAction = 'InformationPreference'\n    Verbose           = 'VerbosePreference'\n    Debug             = 'DebugPreference'\n    WhatIf            = 'WhatIfPreference'\n    Confirm           = 'ConfirmPreference'\n}\n");
    s.push_str("\n$script:CsCertTypeRules = [ordered]@{\n");
    for (prop, ty) in TYPE_RULES {
        let _ = writeln!(s, "    {prop} = {}", sq(ty));
    }
    s.push_str("}\n\n");
    s.push_str("# Set-CsCertificateStorePassword's SecureString (CSCERT_STORE_PASSWORD of each child).\n$script:CsCertStorePassword = $null\n\n");
    s.push_str(MODULE_HELPERS);
    for c in CMDLETS {
        s.push('\n');
        s.push_str(&function(c));
    }
    s.push('\n');
    s.push_str(STORE_PASSWORD_FUNCTION);
    let _ = write!(
        s,
        "\nExport-ModuleMember -Function @(\n    {}\n)\n",
        exported().join(",\n    ")
    );
    s
}

const MODULE_HEAD: &str = r#"# CsCertificate.psm1: the Lync Server / Skype for Business certificate cmdlets for pwsh, backed
# by the cscert binary.
#
# GENERATED by `cscert module --out scripts` from cscert's parameter tables (src/cmdlets/*.rs,
# src/psmodule.rs). Do not edit: change the tables and regenerate.
#
#   Import-Module CsCertificate
#   $cert = Request-CsCertificate -New -Type Default -CA ./lab-ca
#   Set-CsCertificate -Type Default -Thumbprint $cert.Thumbprint
#
# The binary is $env:CSCERT_EXE, else `cscert` next to this file, else `cscert` on the PATH,
# else (imported from a checkout) the one cargo built.

Set-StrictMode -Version 3.0

# [bool] parameters take what cscert takes natively: True/False, 1/0 and '$true'/'$false' as
# text too, so that the help's examples paste into pwsh and bash alike.
class CsCertBoolAttribute : System.Management.Automation.ArgumentTransformationAttribute {
    [object] Transform([System.Management.Automation.EngineIntrinsics] $engine, [object] $value) {
        if ($value -is [string]) {
            switch ($value.Trim()) {
                { $_ -in 'True', '$true', '1' } { return $true }
                { $_ -in 'False', '$false', '0' } { return $false }
            }
        }
        return $value
    }
}

"#;

/// `Set-CsCertificateStorePassword`: the keys-at-rest password (CSCERT_STORE_PASSWORD) from a
/// SecureString, kept in the module for the session and put only into cscert's own environment.
const STORE_PASSWORD_FUNCTION: &str = r#"function Set-CsCertificateStorePassword {
    <#
    .SYNOPSIS
    [cscert] Sets, for this session, the password of the private keys at rest in the cscert store.
    .DESCRIPTION
    The password (a SecureString, as Read-Host -AsSecureString gives it) is kept by the module and
    handed to each cscert process in its own environment as CSCERT_STORE_PASSWORD: never on a
    command line and never in this session's environment. With it, new keys are stored
    encrypted and encrypted keys can be used (Set-, Export-CsCertificate). -Clear forgets it.
    .PARAMETER Password
    The store's password.
    .PARAMETER Clear
    Forget the password.
    .EXAMPLE
    Set-CsCertificateStorePassword (Read-Host -AsSecureString 'Store password')
    Asks for the store's password once; the cmdlets that follow use it.
    #>
    [CmdletBinding(DefaultParameterSetName = 'Set')]
    param(
        [Parameter(Mandatory, Position = 0, ParameterSetName = 'Set')]
        [securestring] $Password,
        [Parameter(Mandatory, ParameterSetName = 'Clear')]
        [switch] $Clear
    )
    if ($Clear) {
        if ($script:CsCertStorePassword) { $script:CsCertStorePassword.Dispose() }
        $script:CsCertStorePassword = $null
        return
    }
    if ($Password.Length -eq 0) {
        $PSCmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
                [System.ArgumentException]::new('The store password is empty; an empty password protects nothing.'),
                'StorePasswordEmpty', 'InvalidArgument', $null))
    }
    $copy = $Password.Copy()
    $copy.MakeReadOnly()
    $script:CsCertStorePassword = $copy
}
"#;

const MODULE_HELPERS: &str = r#"function Get-CsCertPlatform {
    # The folder under bin/ for this machine, in .NET runtime identifier words (linux-x64).
    $os = if ($IsWindows) { 'win' } elseif ($IsMacOS) { 'osx' } else { 'linux' }
    "$os-$([System.Runtime.InteropServices.RuntimeInformation]::OSArchitecture.ToString().ToLowerInvariant())"
}

function Enable-CsCertExe([string] $Path) {
    # A package (.nupkg) is a zip, which keeps no mode: Install-PSResource leaves the module's
    # binary without its execute bit. Give it back, or say exactly why that is not possible.
    if ($IsWindows) { return }
    try {
        if ([System.IO.File] | Get-Member -Static -Name GetUnixFileMode) {
            $mode = [System.IO.File]::GetUnixFileMode($Path)
            if ($mode.HasFlag([System.IO.UnixFileMode]::UserExecute)) { return }
            [System.IO.File]::SetUnixFileMode($Path, $mode -bor [System.IO.UnixFileMode]'UserExecute, GroupExecute, OtherExecute')
        }
        else {
            # pwsh 7.2 (.NET 6) has no UnixFileMode API: ask the system's test and chmod.
            & test -x $Path
            if ($LASTEXITCODE -eq 0) { return }
            $out = & chmod a+x $Path 2>&1
            if ($LASTEXITCODE -ne 0) { throw "$out" }
        }
    }
    catch {
        throw "cscert at '$Path' is not executable and could not be made so ($($_.Exception.Message)); run: chmod +x '$Path'"
    }
}

function Resolve-CsCertExe {
    if ($env:CSCERT_EXE) { return $env:CSCERT_EXE }
    # The module's own binary first (bin/<platform>/ of an installed package), then one beside
    # the module (older installs), then the PATH.
    $own = foreach ($name in 'cscert.exe', 'cscert') {
        Join-Path $PSScriptRoot 'bin' (Get-CsCertPlatform) $name
        Join-Path $PSScriptRoot $name
    }
    foreach ($candidate in $own) {
        if (Test-Path -LiteralPath $candidate -PathType Leaf) {
            Enable-CsCertExe $candidate
            return $candidate
        }
    }
    $found = Get-Command -Name cscert -CommandType Application -ErrorAction Ignore | Select-Object -First 1
    if ($found) { return $found.Source }
    # Imported from a checkout (scripts/): the binary cargo built.
    $repo = Split-Path -Parent $PSScriptRoot
    if (Test-Path -LiteralPath (Join-Path $repo 'Cargo.toml')) {
        $target = if ($env:CARGO_TARGET_DIR) { $env:CARGO_TARGET_DIR } else { Join-Path $repo 'target' }
        foreach ($buildProfile in 'release', 'debug') {
            foreach ($name in 'cscert.exe', 'cscert') {
                $candidate = Join-Path $target $buildProfile $name
                if (Test-Path -LiteralPath $candidate -PathType Leaf) { return $candidate }
            }
        }
    }
    return $null
}

function ConvertTo-CsCertLocalDate($Object) {
    # Lync's objects carry local-time [datetime]s (X509Certificate2.NotAfter), which scripts
    # compare with Get-Date; the JSON's are UTC ('Z'), so turn them into local time here.
    foreach ($p in $Object.PSObject.Properties) {
        if ($p.Value -is [datetime] -and $p.Value.Kind -ne [System.DateTimeKind]::Local) {
            $p.Value = $p.Value.ToLocalTime()
        }
    }
    $Object
}

function Format-CsCertDate([datetime] $date) {
    # ISO 8601 in UTC with InvariantCulture: the current culture (th-TH: Buddhist era) never
    # reaches the binary. An unspecified kind is local time, as PowerShell parses it.
    $date.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ', [cultureinfo]::InvariantCulture)
}

function Resolve-CsCertPath([System.Management.Automation.PSCmdlet] $Cmdlet, [string] $Path) {
    if ($Path -eq '') { return $Path }
    try { return $Cmdlet.GetUnresolvedProviderPathFromPSPath($Path) } catch { return $Path }
}

function ConvertTo-CsCertCall {
    # Turns the function's bound parameters into the binary's argv, its secret environment and
    # the ShouldProcess target.
    param([System.Management.Automation.PSCmdlet] $Cmdlet, [string] $Name, [hashtable] $Bound)
    $argv = [System.Collections.Generic.List[string]]::new()
    $secrets = @{}
    $target = [System.Collections.Generic.List[string]]::new()
    $spec = $script:CsCertSpec[$Name]
    foreach ($p in $spec.Keys) {
        if (-not $Bound.ContainsKey($p)) { continue }
        $v = $Bound[$p]
        # A $null file (PowerShell hands a [string] parameter '' for it) means none, as
        # `-Report $null` does for the Lync cmdlets.
        if ($spec[$p] -eq 'Path' -and [string]::IsNullOrEmpty($v)) { continue }
        switch ($spec[$p]) {
            'Switch' { $argv.Add("-${p}:$(if ($v.IsPresent) { 'True' } else { 'False' })") }
            'Bool' { $argv.Add("-${p}:$(if ($v) { 'True' } else { 'False' })") }
            'Int' { $argv.Add("-${p}:$($v.ToString([cultureinfo]::InvariantCulture))") }
            'Date' { $argv.Add("-${p}:$(Format-CsCertDate $v)") }
            'NullableStr' {
                # Nothing after the name: cscert's "$null" (this computer).
                if ([string]::IsNullOrEmpty($v)) { $argv.Add("-$p") } else { $argv.Add("-${p}:$v") }
            }
            { $_ -in 'Str', 'Path' } {
                if ($spec[$p] -eq 'Path' -and ($p -ne 'CA' -or (Test-Path -LiteralPath $v))) {
                    $v = Resolve-CsCertPath $Cmdlet $v
                }
                # `-Name:value` is one element that cscert splits at the first colon, so a value
                # that starts with '-' stays a value; an empty string is its own element.
                if ($v -eq '') { $argv.Add("-$p"); $argv.Add('') } else { $argv.Add("-${p}:$v") }
            }
            { $_ -in 'List', 'PathList' } {
                foreach ($item in $v) {
                    if ($null -eq $item) { continue }
                    if ($spec[$p] -eq 'PathList') { $item = Resolve-CsCertPath $Cmdlet $item }
                    $argv.Add("-${p}:$item")
                }
            }
            'Reference' {
                # A certificate object (Get-/Request-CsCertificate) or a thumbprint string.
                $t = if ($v -is [string]) { $v } elseif ($v.PSObject.Properties['Thumbprint']) { $v.Thumbprint } else { [string]$v }
                $argv.Add("-${p}:$t")
                $v = $t
            }
            'Secret' {
                $plain = if ($v -is [securestring]) { [System.Net.NetworkCredential]::new('', $v).Password } else { [string]$v }
                $secrets[$script:CsCertSecretEnv[$p]] = $plain
            }
        }
        if ($p -in 'Identity', 'Type', 'Thumbprint', 'Reference', 'Path', 'FileName', 'Output', 'RequestId', 'ComputerFqdn') {
            $target.Add("$p $(@($v) -join ',')")
        }
    }
    # Verbose lines always come back; PowerShell's own -Verbose / $VerbosePreference decide.
    $argv.Add('-Verbose')
    [pscustomobject]@{
        Argv    = $argv
        Secrets = $secrets
        Target  = $(if ($target.Count) { $target -join '; ' } else { $Name })
        Action  = $Name
    }
}

function New-CsCertErrorRecord($Record, [string] $Cmdlet, [bool] $Binding) {
    $category = [System.Management.Automation.ErrorCategory]::NotSpecified
    [void][enum]::TryParse([System.Management.Automation.ErrorCategory], [string]$Record.Category, [ref]$category)
    $message = [string]$Record.Message
    $exception = if ($Binding) { [System.Management.Automation.ParameterBindingException]::new($message) }
    else {
        switch ($category) {
            'ObjectNotFound' { [System.Management.Automation.ItemNotFoundException]::new($message) }
            'InvalidArgument' { [System.ArgumentException]::new($message) }
            'InvalidOperation' { [System.InvalidOperationException]::new($message) }
            'PermissionDenied' { [System.UnauthorizedAccessException]::new($message) }
            default { [System.Exception]::new($message) }
        }
    }
    # PowerShell appends ",<function name>" to the id: pass cscert's id without its suffix.
    $id = [string]$Record.FullyQualifiedErrorId
    $suffix = ",$Cmdlet"
    if ($id.EndsWith($suffix)) { $id = $id.Substring(0, $id.Length - $suffix.Length) }
    [System.Management.Automation.ErrorRecord]::new($exception, $id, $category, $Record.TargetObject)
}

function Add-CsCertTypeName($Object) {
    foreach ($property in $script:CsCertTypeRules.Keys) {
        if ($Object.PSObject.Properties[$property]) {
            $Object.PSObject.TypeNames.Insert(0, $script:CsCertTypeRules[$property])
            return $Object
        }
    }
    $Object.PSObject.TypeNames.Insert(0, 'Cscert.Object')
    $Object
}

function Invoke-CsCertNative {
    # Runs the binary with exact argv elements (ProcessStartInfo.ArgumentList: no passing mode
    # or quoting in between), secrets only in the child's environment, stdin closed.
    param([System.Management.Automation.PSCmdlet] $Cmdlet, $Call)
    $name = $Cmdlet.MyInvocation.MyCommand.Name
    $exe = try { Resolve-CsCertExe }
    catch {
        $Cmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
                [System.InvalidOperationException]::new([string]$_.Exception.Message), 'CscertNotExecutable', 'PermissionDenied', 'cscert'))
    }
    if (-not $exe) {
        $Cmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
                [System.Management.Automation.CommandNotFoundException]::new('cscert was not found: set $env:CSCERT_EXE, put cscert on the PATH, or next to the CsCertificate module.'),
                'CscertNotFound', 'ObjectNotFound', 'cscert'))
    }
    $psi = [System.Diagnostics.ProcessStartInfo]::new($exe)
    $psi.ArgumentList.Add($name)
    foreach ($a in $Call.Argv) { $psi.ArgumentList.Add($a) }
    $psi.UseShellExecute = $false
    $psi.RedirectStandardInput = $true
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.StandardOutputEncoding = [System.Text.Encoding]::UTF8
    $psi.StandardErrorEncoding = [System.Text.Encoding]::UTF8
    $location = $Cmdlet.SessionState.Path.CurrentFileSystemLocation
    if ($location) { $psi.WorkingDirectory = $location.ProviderPath }
    $psi.Environment['CSCERT_ERROR_FORMAT'] = 'json'
    foreach ($k in $Call.Secrets.Keys) { $psi.Environment[$k] = $Call.Secrets[$k] }
    if ($script:CsCertStorePassword) {
        $psi.Environment['CSCERT_STORE_PASSWORD'] = [System.Net.NetworkCredential]::new('', $script:CsCertStorePassword).Password
    }
    $process = $null
    try { $process = [System.Diagnostics.Process]::Start($psi) }
    catch {
        # Never go on without a process: say which file could not be started, and why.
        $cause = $_.Exception
        while ($cause.InnerException) { $cause = $cause.InnerException }
        $Cmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
                [System.InvalidOperationException]::new("cscert at '$exe' could not be started: $($cause.Message)"), 'CscertNotStarted', 'ResourceUnavailable', $exe))
    }
    $code = $null
    $records = [System.Collections.Generic.List[object]]::new()
    try {
        $process.StandardInput.Close()
        $stderr = $process.StandardError.ReadToEndAsync()
        # JSON Lines become objects as they arrive; any other output (Get-CsTopology -AsXml) is
        # one text result.
        $text = $null
        while ($null -ne ($line = $process.StandardOutput.ReadLine())) {
            if ($null -eq $text -and $line.StartsWith('{')) {
                $Cmdlet.WriteObject((Add-CsCertTypeName (ConvertTo-CsCertLocalDate ($line | ConvertFrom-Json))))
            }
            else {
                if ($null -eq $text) { $text = [System.Text.StringBuilder]::new() }
                [void]$text.AppendLine($line)
            }
        }
        if ($null -ne $text) { $Cmdlet.WriteObject($text.ToString()) }
        $process.WaitForExit()
        $code = $process.ExitCode
        foreach ($line in ($stderr.GetAwaiter().GetResult() -split '\r?\n')) {
            if ($line -eq '') { continue }
            if ($line.StartsWith('{')) {
                $r = try { $line | ConvertFrom-Json } catch { $null }
                if ($r -and $r.PSObject.Properties['FullyQualifiedErrorId']) { $records.Add($r); continue }
            }
            if ($line.StartsWith('WARNING: ')) { $Cmdlet.WriteWarning($line.Substring(9)) }
            elseif ($line.StartsWith('VERBOSE: ')) { $Cmdlet.WriteVerbose($line.Substring(9)) }
            elseif ($line.StartsWith('DEBUG: ')) { $Cmdlet.WriteDebug($line.Substring(7)) }
            else {
                # Informational lines ("The following certificate was assigned ...") show as
                # Write-Host shows them.
                $Cmdlet.WriteInformation([System.Management.Automation.HostInformationMessage]@{ Message = $line }, [string[]]@('PSHOST'))
            }
        }
    }
    finally { $process.Dispose() }
    $global:LASTEXITCODE = $code
    if ($code -eq 2 -and $records.Count) {
        # A binding error stops the command, as PowerShell's own ParameterBindingException does.
        $Cmdlet.ThrowTerminatingError((New-CsCertErrorRecord $records[0] $name $true))
    }
    foreach ($r in $records) { $Cmdlet.WriteError((New-CsCertErrorRecord $r $name $false)) }
    if ($code -ne 0 -and $code -ne 3 -and $records.Count -eq 0) {
        $Cmdlet.WriteError([System.Management.Automation.ErrorRecord]::new(
                [System.Exception]::new("cscert exited with code $code."), 'CscertFailed', 'NotSpecified', $name))
    }
}
"#;
