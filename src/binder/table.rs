//! The parameter-table types (`CmdletDef`, `ParamDef`, `PType`), the common parameters and the
//! builders each cmdlet uses for its own table (which lives beside its code in `cmdlets/`).

/// What a parameter takes, and so how its tokens are consumed and converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PType {
    /// `-Name` or `-Name:$false`; never positional, never consumes the next element.
    Switch,
    Bool,
    Str,
    /// A string that `$null` may leave out: binds as `Value::Null` when nothing follows.
    NullableStr,
    Int,
    /// A comma list of strings (`-DomainName a,b` / `"a","b"` / `-DomainName:a -DomainName:b`).
    StrList,
    /// A comma list of `CertType` values.
    CertTypes,
    /// One value of a fixed set of names (converted case-insensitively to the canonical name).
    Enum(&'static EnumDef),
    DateTime,
    /// A password: plain text only; a `SecureString` cannot cross into a native program.
    Password,
}

#[derive(Debug, PartialEq, Eq)]
pub struct EnumDef {
    pub dotnet: &'static str,
    pub names: &'static [&'static str],
}

pub static KEY_ALG: EnumDef = EnumDef {
    dotnet: "Microsoft.Rtc.Management.Deployment.KeyAlgorithm",
    names: &["RSA", "ECDH_P256", "ECDH_P384", "ECDH_P521"],
};

pub static EXPORT_FORMAT: EnumDef = EnumDef {
    dotnet: "Cscert.ExportFormat",
    names: &["Pfx", "Pem"],
};

/// [cscert] `-AcmeChallenge`: how an ACME CA's challenges are answered.
pub static ACME_CHALLENGE: EnumDef = EnumDef {
    dotnet: "Cscert.AcmeChallenge",
    names: &["Http01", "Dns01"],
};

/// [cscert] `-OutputFormat`: JSON Lines even on a terminal, or the terminal view even in a pipe.
pub static OUTPUT_FORMAT: EnumDef = EnumDef {
    dotnet: "Cscert.OutputFormat",
    names: &["Json", "Text"],
};

pub static ACTION_PREFERENCE: EnumDef = EnumDef {
    dotnet: "System.Management.Automation.ActionPreference",
    names: &[
        "SilentlyContinue",
        "Stop",
        "Continue",
        "Inquire",
        "Ignore",
        "Suspend",
        "Break",
    ],
};

impl PType {
    /// The .NET type name PowerShell prints in MissingArgument and conversion errors.
    pub fn dotnet(self, fqdn: bool) -> &'static str {
        match self {
            PType::Switch => "System.Management.Automation.SwitchParameter",
            PType::Bool => "System.Boolean",
            PType::Str | PType::StrList | PType::Password => "System.String",
            PType::NullableStr if fqdn => "Microsoft.Rtc.Management.Deploy.Fqdn",
            PType::NullableStr => "System.String",
            PType::Int => "System.Int32",
            PType::CertTypes => "Microsoft.Rtc.Management.Deployment.CertType[]",
            PType::Enum(e) => e.dotnet,
            PType::DateTime => "System.DateTime",
        }
    }

    /// The type shown in syntax lines (`-Type <CertType[]>`).
    pub fn syntax(self, type_name: Option<&'static str>) -> Option<&'static str> {
        if let Some(t) = type_name {
            return Some(t);
        }
        Some(match self {
            PType::Switch => return None,
            PType::Bool => "Boolean",
            PType::Str | PType::NullableStr | PType::Password => "String",
            PType::StrList => "String[]",
            PType::Int => "Int32",
            PType::CertTypes => "CertType[]",
            PType::Enum(_) => "String",
            PType::DateTime => "DateTime",
        })
    }

    pub fn is_list(self) -> bool {
        matches!(self, PType::StrList | PType::CertTypes)
    }
}

/// One parameter of one cmdlet.
#[derive(Debug)]
pub struct ParamDef {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub ty: PType,
    /// Syntax-line type name where it differs from the generic one (`Fqdn`, `XdsIdentity`).
    pub type_name: Option<&'static str>,
    /// The sets this parameter belongs to; empty means every set.
    pub sets: &'static [&'static str],
    /// The sets in which it is mandatory.
    pub mandatory: &'static [&'static str],
    /// Zero-based position for positional binding.
    pub position: Option<u8>,
    pub help: &'static str,
    /// The value used when the parameter is not given, as help shows it (`2048`, `RSA`); the
    /// pwsh module declares it too, so Get-Help's "Default value" is this one.
    pub default: Option<&'static str>,
}

impl ParamDef {
    pub fn in_set(&self, set: &str) -> bool {
        self.sets.is_empty() || self.sets.contains(&set)
    }

    pub fn mandatory_in(&self, set: &str) -> bool {
        self.mandatory.contains(&set)
    }

    pub fn dotnet_type(&self) -> &'static str {
        self.ty.dotnet(self.type_name == Some("Fqdn"))
    }
}

/// One documented example: the command line and what it does.
pub type Example = (&'static str, &'static str);

/// One cmdlet: its parameter table, sets and help text.
#[derive(Debug)]
pub struct CmdletDef {
    pub name: &'static str,
    pub synopsis: &'static str,
    pub description: &'static str,
    pub sets: &'static [&'static str],
    pub default_set: Option<&'static str>,
    /// SupportsShouldProcess: adds the common parameters -WhatIf and -Confirm.
    pub should_process: bool,
    pub params: &'static [ParamDef],
    pub examples: &'static [Example],
    /// `false` for a cmdlet that only exists as cscert's extension.
    pub lync: bool,
}

impl CmdletDef {
    pub fn param(&self, name: &str) -> Option<&'static ParamDef> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// PowerShell's common parameters, in the order PowerShell lists them.
pub static COMMON: &[ParamDef] = &[
    common("Verbose", &["vb"], PType::Switch),
    common("Debug", &["db"], PType::Switch),
    common("ErrorAction", &["ea"], PType::Enum(&ACTION_PREFERENCE)),
    common("WarningAction", &["wa"], PType::Enum(&ACTION_PREFERENCE)),
    common(
        "InformationAction",
        &["infa"],
        PType::Enum(&ACTION_PREFERENCE),
    ),
    common(
        "ProgressAction",
        &["proga"],
        PType::Enum(&ACTION_PREFERENCE),
    ),
    common("ErrorVariable", &["ev"], PType::Str),
    common("WarningVariable", &["wv"], PType::Str),
    common("InformationVariable", &["iv"], PType::Str),
    common("OutVariable", &["ov"], PType::Str),
    common("OutBuffer", &["ob"], PType::Int),
    common("PipelineVariable", &["pv"], PType::Str),
    // [cscert] not a PowerShell common parameter: the output format of every cmdlet.
    common("OutputFormat", &[], PType::Enum(&OUTPUT_FORMAT)),
];

/// The ShouldProcess parameters, common to cmdlets that change something.
pub static SHOULD_PROCESS: &[ParamDef] = &[
    common("WhatIf", &["wi"], PType::Switch),
    common("Confirm", &["cf"], PType::Switch),
];

const fn common(name: &'static str, aliases: &'static [&'static str], ty: PType) -> ParamDef {
    ParamDef {
        name,
        aliases,
        ty,
        type_name: None,
        sets: &[],
        mandatory: &[],
        position: None,
        help: "",
        default: None,
    }
}

/// Builder helpers keep the tables below one line per parameter.
pub const fn p(name: &'static str, ty: PType, help: &'static str) -> ParamDef {
    ParamDef {
        name,
        aliases: &[],
        ty,
        type_name: None,
        sets: &[],
        mandatory: &[],
        position: None,
        help,
        default: None,
    }
}

impl ParamDef {
    pub const fn sets(mut self, sets: &'static [&'static str]) -> Self {
        self.sets = sets;
        self
    }
    pub const fn mandatory(mut self, sets: &'static [&'static str]) -> Self {
        self.mandatory = sets;
        self
    }
    pub const fn alias(mut self, aliases: &'static [&'static str]) -> Self {
        self.aliases = aliases;
        self
    }
    pub const fn at(mut self, position: u8) -> Self {
        self.position = Some(position);
        self
    }
    pub const fn shown_as(mut self, type_name: &'static str) -> Self {
        self.type_name = Some(type_name);
        self
    }
    pub const fn default(mut self, value: &'static str) -> Self {
        self.default = Some(value);
        self
    }
}

/// The environment variable a secret parameter may come from instead of argv, where a process
/// list would show it: `CSCERT_` and the name in upper snake case (`Password` -> `CSCERT_PASSWORD`,
/// `CaPassword` -> `CSCERT_CA_PASSWORD`). The pwsh module passes SecureStrings this way.
pub fn secret_env(name: &str) -> String {
    let mut v = String::from("CSCERT_");
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            v.push('_');
        }
        v.push(c.to_ascii_uppercase());
    }
    v
}

/// Whether `prefix` starts the name or an alias of one of the cmdlet's parameters (its own,
/// the common ones, -WhatIf/-Confirm), as PowerShell's prefix matching would see it.
pub fn has_parameter_prefix(c: &CmdletDef, prefix: &str) -> bool {
    let p = prefix.to_ascii_lowercase();
    let sp: &[ParamDef] = if c.should_process {
        SHOULD_PROCESS
    } else {
        &[]
    };
    c.params.iter().chain(COMMON).chain(sp).any(|d| {
        std::iter::once(&d.name)
            .chain(d.aliases)
            .any(|n| n.to_ascii_lowercase().starts_with(&p))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    // The tables live beside each cmdlet's code; these checks read them through the cmdlet list.
    use crate::cmdlets::{find_cmdlet, DEFS as CMDLETS};
    use crate::model::CERT_TYPE_DOTNET;

    #[test]
    fn tables_are_well_formed() {
        for c in CMDLETS {
            let mut names: Vec<String> = Vec::new();
            for p in c.params.iter().chain(COMMON).chain(SHOULD_PROCESS) {
                for n in std::iter::once(&p.name).chain(p.aliases) {
                    let l = n.to_ascii_lowercase();
                    assert!(!names.contains(&l), "{}: duplicate name {n}", c.name);
                    names.push(l);
                }
                for s in p.sets.iter().chain(p.mandatory) {
                    assert!(
                        c.sets.contains(s),
                        "{}: {} names unknown set {s}",
                        c.name,
                        p.name
                    );
                }
                assert!(
                    !(p.ty == PType::Switch && p.position.is_some()),
                    "switches never bind positionally"
                );
            }
            if let Some(d) = c.default_set {
                assert!(c.sets.contains(&d));
            }
            // Declared parameters are listed alphabetically, as Get-Help shows them.
            let declared: Vec<_> = c
                .params
                .iter()
                .map(|p| p.name.to_ascii_lowercase())
                .collect();
            let mut sorted = declared.clone();
            sorted.sort();
            assert_eq!(declared, sorted, "{}", c.name);
        }
    }

    #[test]
    fn secret_variables() {
        assert_eq!(secret_env("Password"), "CSCERT_PASSWORD");
        assert_eq!(secret_env("CaPassword"), "CSCERT_CA_PASSWORD");
    }

    #[test]
    fn cmdlet_lookup_ignores_case() {
        assert_eq!(
            find_cmdlet("request-cscertificate").unwrap().name,
            "Request-CsCertificate"
        );
        assert!(find_cmdlet("Request-CsCert").is_none());
    }

    #[test]
    fn cert_type_name_is_the_dotnet_array() {
        assert_eq!(
            PType::CertTypes.dotnet(false),
            format!("{CERT_TYPE_DOTNET}[]")
        );
    }
}
