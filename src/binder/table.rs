//! Parameter tables: one `CmdletDef` per cmdlet, with names, aliases, types, sets and positions.

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
    }
}

/// Builder helpers keep the tables below one line per parameter.
const fn p(name: &'static str, ty: PType, help: &'static str) -> ParamDef {
    ParamDef {
        name,
        aliases: &[],
        ty,
        type_name: None,
        sets: &[],
        mandatory: &[],
        position: None,
        help,
    }
}

impl ParamDef {
    const fn sets(mut self, sets: &'static [&'static str]) -> Self {
        self.sets = sets;
        self
    }
    const fn mandatory(mut self, sets: &'static [&'static str]) -> Self {
        self.mandatory = sets;
        self
    }
    const fn alias(mut self, aliases: &'static [&'static str]) -> Self {
        self.aliases = aliases;
        self
    }
    const fn at(mut self, position: u8) -> Self {
        self.position = Some(position);
        self
    }
    const fn shown_as(mut self, type_name: &'static str) -> Self {
        self.type_name = Some(type_name);
        self
    }
}

const NEW: &[&str] = &["New"];
const REQUEST_ID_SETS: &[&str] = &["List", "Retrieve", "Clear"];
const NEW_RETRIEVE: &[&str] = &["New", "Retrieve"];

pub static REQUEST: CmdletDef = CmdletDef {
    name: "Request-CsCertificate",
    synopsis: "Requests a new certificate (offline PKCS#10 file, or issued at once by a lab CA), and lists, retrieves or clears pending requests.",
    description: "The subject and subject alternative names are computed from the published topology (Publish-CsTopology) for the requested uses on this computer (-ComputerFqdn, default this computer or $env:CSCERT_COMPUTERFQDN), with -AllSipDomain and -DomainName on top. Without a topology, the subject is -ComputerFqdn (or the first -DomainName name) and the SANs are the subject followed by the -DomainName names. -Output writes a PKCS#10 request and keeps the new private key pending in the store. -CA <pem file or folder> issues the certificate at once with that CA certificate and key; an AD CS value host\\CAName needs a Windows domain member and is refused. [cscert] -CA https://<ACME directory> orders the certificate from an ACME CA (RFC 8555): the account is created on first use (-AcmeContact, -AcmeAgreeTos, -AcmeEabKeyId) and kept in the store, the names are proven with http-01 (-AcmeHttpPort, -AcmeWebRoot) or dns-01 (-AcmeDnsHook), and the key and order stay pending in the store if anything fails, for -Retrieve.",
    sets: &["New", "List", "Retrieve", "Clear"],
    default_set: None,
    should_process: true,
    params: &[
        p("AcmeAgreeTos", PType::Switch, "[cscert] Agree to the ACME CA's terms of service when an account is created (without it, the error shows the terms' URL).").sets(NEW),
        p("AcmeCaBundle", PType::Str, "[cscert] PEM certificates to trust for the ACME directory's TLS instead of the system's roots (private ACME CAs).").sets(NEW_RETRIEVE),
        p("AcmeChallenge", PType::Enum(&ACME_CHALLENGE), "[cscert] Http01 (default) or Dns01.").sets(NEW),
        p("AcmeContact", PType::StrList, "[cscert] Contact URIs of the ACME account (mailto:admin@contoso.com); one account is kept per CA and contact.").sets(NEW),
        p("AcmeDnsHook", PType::Str, "[cscert] Dns01: a command run with CSCERT_ACME_ACTION=present|cleanup, CSCERT_ACME_DOMAIN, CSCERT_ACME_RECORD, CSCERT_ACME_VALUE (and those as arguments: action record value) to set and remove the TXT records.").sets(NEW),
        p("AcmeDnsWaitSec", PType::Int, "[cscert] Dns01: seconds to wait for the TXT records to propagate before validation; default 20.").sets(NEW),
        p("AcmeEabHmacKey", PType::Password, "[cscert] External account binding: the base64url HMAC key the CA issued (or $env:CSCERT_ACME_EAB_HMAC_KEY, which keeps it off the command line).").sets(NEW),
        p("AcmeEabKeyId", PType::Str, "[cscert] External account binding: the key id the CA issued.").sets(NEW),
        p("AcmeHttpPort", PType::Int, "[cscert] Http01: the port cscert answers challenges on for the duration of the order; default 80.").sets(NEW),
        p("AcmeTimeoutSec", PType::Int, "[cscert] Give up on the ACME order after this many seconds; default 300.").sets(NEW_RETRIEVE),
        p("AcmeWebRoot", PType::Str, "[cscert] Http01: write the answers under <folder>/.well-known/acme-challenge/ for the web server on port 80 instead of answering on -AcmeHttpPort.").sets(NEW),
        p("AllSipDomain", PType::Switch, "Add the names of every SIP domain, not only the default one.").sets(NEW),
        p("CA", PType::Str, "A lab CA: a PEM file (or folder) with the CA certificate and its private key; or [cscert] an ACME directory URL (https://...), which issues through ACME (RFC 8555). AD CS values (host\\CAName) are refused.").sets(NEW),
        p("CaAccount", PType::Str, "Accepted for compatibility; used only by AD CS.").sets(NEW),
        p("CaPassword", PType::Password, "Accepted for compatibility; used only by AD CS (or $env:CSCERT_CA_PASSWORD).").sets(NEW),
        p("City", PType::Str, "Locality (L) of the subject.").sets(NEW),
        p("Clear", PType::Switch, "Delete pending requests.").sets(&["Clear"]).mandatory(&["Clear"]),
        p("ClientEKU", PType::Bool, "Add the Client Authentication EKU beside Server Authentication.").sets(NEW),
        p("ComputerFqdn", PType::NullableStr, "The computer the certificate is for (full or short name); default this computer.").sets(NEW).shown_as("Fqdn"),
        p("Country", PType::Str, "Two-letter country (C) of the subject.").sets(NEW),
        p("DomainName", PType::StrList, "Extra FQDNs added to the subject alternative names (comma-separated).").sets(NEW).shown_as("String"),
        p("Force", PType::Switch, "Overwrite an existing -Output file; request despite validation errors; -Clear every request without asking."),
        p("FriendlyName", PType::Str, "Friendly name recorded with the request and certificate.").sets(NEW),
        p("GlobalCatalog", PType::Str, "Accepted for compatibility; used only by AD CS.").sets(NEW).shown_as("Fqdn"),
        p("GlobalSettingsDomainController", PType::Str, "Accepted for compatibility; used only by AD CS.").sets(NEW).shown_as("Fqdn"),
        p("KeyAlg", PType::Enum(&KEY_ALG), "RSA (default), ECDH_P256, ECDH_P384 or ECDH_P521.").sets(NEW),
        p("KeySize", PType::Int, "RSA key size: 2048 (default), 3072 or 4096; ignored with a warning for ECDH_* keys.").sets(NEW),
        p("List", PType::Switch, "List the pending requests.").sets(&["List"]).mandatory(&["List"]),
        p("New", PType::Switch, "Make a new request.").sets(NEW).mandatory(NEW),
        p("Organization", PType::Str, "Organization (O) of the subject.").sets(NEW),
        p("OU", PType::Str, "Organizational unit (OU) of the subject.").sets(NEW),
        p("Output", PType::Str, "Write an offline PKCS#10 request to this file.").sets(NEW),
        p("PrivateKeyExportable", PType::Bool, "Allow Export-CsCertificate to export the private key (Edge pools).").sets(NEW),
        p("Report", PType::Str, "Write an HTML report of what was done to this file."),
        p("RequestId", PType::Int, "Narrow -List, -Retrieve or -Clear to one request.").sets(REQUEST_ID_SETS),
        p("Retrieve", PType::Switch, "Complete pending requests whose certificate is available.").sets(&["Retrieve"]).mandatory(&["Retrieve"]),
        p("State", PType::Str, "State or province (S) of the subject.").sets(NEW),
        p("Template", PType::Str, "AD CS template name, recorded in the request's template extension.").sets(NEW),
        p("Type", PType::CertTypes, "The uses of the certificate.").sets(NEW).mandatory(NEW),
        p("ValidityDays", PType::Int, "[cscert] Days a lab CA (-CA) issues the certificate for; default 365, never beyond the CA's own expiry.").sets(NEW),
    ],
    examples: &[
        ("Request-CsCertificate -New -Type AccessEdgeExternal,DataEdgeExternal,AudioVideoAuthentication -ComputerFqdn sip.contoso.com -DomainName 'webcon.contoso.com, sip.contoso.com, sip.fabrikam.com, contoso.com' -PrivateKeyExportable True -Output edge.req", "Makes the offline request for the Edge external certificate with XMPP federation for contoso.com."),
        ("Request-CsCertificate -New -Type WebServicesExternal -Output 'C:\\Certificates\\WebServicesExternal.cer'", "Makes an offline request for the external web services."),
        ("Request-CsCertificate -New -Type Default,WebServicesInternal,WebServicesExternal -CA ./lab-ca.pem", "Issues a Front End certificate at once with a lab CA kept as PEM files."),
        ("Request-CsCertificate -List", "Lists the pending requests."),
        ("Request-CsCertificate -Clear -RequestId 224", "Deletes pending request 224."),
        ("Request-CsCertificate -New -Type AccessEdgeExternal,DataEdgeExternal,AudioVideoAuthentication -ComputerFqdn sip.contoso.com -DomainName 'webcon.contoso.com, sip.contoso.com, sip.fabrikam.com, contoso.com' -PrivateKeyExportable True -CA https://acme-v02.api.letsencrypt.org/directory -AcmeContact mailto:admin@contoso.com -AcmeAgreeTos", "[cscert] Issues the Edge external certificate from an ACME CA, answering http-01 on port 80."),
        ("Request-CsCertificate -Retrieve -RequestId 7", "Completes request 7: imported certificates, or [cscert] an ACME order that was left unfinished."),
    ],
    lync: true,
};

const IMPORT_SETS: &[&str] = &["Local", "Cms"];

pub static IMPORT: CmdletDef = CmdletDef {
    name: "Import-CsCertificate",
    synopsis: "Imports a certificate (.cer/.crt/.pem, .p7b, or .pfx with -Password) into the store, completing a pending request whose key matches.",
    description: "A certificate whose public key matches a pending request is joined to that request's private key. A .pfx brings its own key. With -Identity and -Type the certificate is also assigned to those uses.",
    sets: IMPORT_SETS,
    default_set: Some("Local"),
    should_process: true,
    params: &[
        p("EffectiveDate", PType::DateTime, "With -Roll: when the certificate becomes current.").alias(&["EffectiveTime"]),
        p("Force", PType::Switch, "Replace an existing assignment without asking."),
        p("Identity", PType::Str, "Where to assign: Global, or a computer (default this computer).").sets(&["Cms"]).mandatory(&["Cms"]).at(0).shown_as("XdsIdentity"),
        p("Password", PType::Password, "The password of a .pfx file (or $env:CSCERT_PASSWORD)."),
        p("Path", PType::Str, "The certificate file.").mandatory(IMPORT_SETS),
        p("PrivateKeyExportable", PType::Bool, "Record whether the key may be exported later.").sets(&["Local"]),
        p("Report", PType::Str, "Write an HTML report of what was done to this file."),
        p("Roll", PType::Switch, "Stage the certificate to become current at -EffectiveDate (without -Type: for the uses of the request it answers, or of the certificate with the same subject)."),
        p("Type", PType::CertTypes, "The uses to assign the certificate to.").sets(&["Cms"]).mandatory(&["Cms"]),
    ],
    examples: &[
        ("Import-CsCertificate -Path 'C:\\Certificates\\WebServer.pfx' -Password 'P@ssw0rd' -PrivateKeyExportable True", "Imports a PFX with its key."),
        ("Import-CsCertificate -Path edge.cer", "Imports the CA's answer to an offline request; it is joined to the pending key."),
        ("Import-CsCertificate -Identity Global -Path oauth.pfx -Type OAuthTokenIssuer", "Imports and assigns at global scope (password from $CSCERT_PASSWORD)."),
        ("Import-CsCertificate -Path edge.pfx -Roll -EffectiveTime 2027-07-31T08:00:00", "Stages a renewal for the uses of the certificate it renews."),
    ],
    lync: true,
};

const SET_SETS: &[&str] = &["Thumbprint", "Reference", "Path"];
const EFFECTIVE: &str = "With -Roll: when the new certificate becomes current, in the culture of LC_ALL/LC_TIME/LANG (en-US \"7/22/2012 6:00:00 AM\", ko-KR \"2012-07-22 오전 6:00:00\", ...) or ISO 8601.";

pub static SET: CmdletDef = CmdletDef {
    name: "Set-CsCertificate",
    synopsis: "Assigns a certificate in the store to one or more uses, now or staged with -Roll -EffectiveDate.",
    description: "Assignments belong to this computer ($env:CSCERT_COMPUTERFQDN or this machine's FQDN) or, with -Identity Global, to the global scope. With -Roll -EffectiveDate the certificate is staged; at that time it becomes current and the old one becomes previous.",
    sets: SET_SETS,
    default_set: Some("Thumbprint"),
    should_process: true,
    params: &[
        p("EffectiveDate", PType::DateTime, EFFECTIVE).alias(&["EffectiveTime"]),
        p("Force", PType::Switch, "Assign without asking."),
        p("Identity", PType::Str, "Global, or a computer (default this computer).").mandatory(&["Path"]).shown_as("XdsIdentity"),
        p("Password", PType::Password, "The password of the -Path .pfx file (or $env:CSCERT_PASSWORD).").sets(&["Path"]),
        p("Path", PType::Str, "A .pfx file to import and assign.").sets(&["Path"]).mandatory(&["Path"]),
        p("Reference", PType::Str, "A certificate object (JSON from Get-/Request-CsCertificate) or its thumbprint.").sets(&["Reference"]).mandatory(&["Reference"]).shown_as("CertificateReference"),
        p("Report", PType::Str, "Write an HTML report of what was done to this file."),
        p("Roll", PType::Switch, "Stage the certificate to become current at -EffectiveDate."),
        p("Thumbprint", PType::Str, "The SHA-1 thumbprint (40 hex digits) of a certificate in the store.").sets(&["Thumbprint"]).mandatory(&["Thumbprint"]),
        p("Type", PType::CertTypes, "The uses.").mandatory(&["Path"]),
    ],
    examples: &[
        ("Set-CsCertificate -Type Default,WebServicesInternal,WebServicesExternal -Thumbprint 466D9BB0E8B928B65AF38FA2D9F41E1B301ECE9D", "Assigns a certificate to the Front End uses."),
        ("Set-CsCertificate -Type AudioVideoAuthentication -Thumbprint 466D9BB0E8B928B65AF38FA2D9F41E1B301ECE9D -Roll -EffectiveDate '7/22/2027 6:00:00 AM'", "Stages a new A/V authentication certificate (date in the en-US culture; ISO 8601 works in every culture)."),
        ("Set-CsCertificate -Identity global -Type OAuthTokenIssuer -Thumbprint 466D9BB0E8B928B65AF38FA2D9F41E1B301ECE9D -EffectiveDate 2027-07-01 -Roll", "Rolls the global OAuth token issuer certificate."),
    ],
    lync: true,
};

pub static GET: CmdletDef = CmdletDef {
    name: "Get-CsCertificate",
    synopsis: "Lists the assigned certificates, one object per assigned use.",
    description: "Properties in the Lync order: Issuer, NotAfter, NotBefore, SerialNumber, Subject, AlternativeNames, Thumbprint, EffectiveTime, PreviousThumbprint, UpdateTime, Use, SourceScope. Staged/current/previous states are resolved at the current time.",
    sets: &["Default"],
    default_set: Some("Default"),
    should_process: false,
    params: &[
        p("Identity", PType::Str, "Global, or a computer (default this computer and the global scope).").at(0).shown_as("XdsIdentity"),
        p("Report", PType::Str, "Write an HTML report of the result to this file."),
        p("Type", PType::CertTypes, "Only these uses."),
    ],
    examples: &[
        ("Get-CsCertificate", "Lists every assigned certificate."),
        ("Get-CsCertificate -Type WebServicesInternal", "Only the internal web services certificate."),
        ("Get-CsCertificate -Type OAuthTokenIssuer", "The server-to-server (OAuth token issuer) certificate."),
        ("Get-CsCertificate -Identity global", "Global-scope certificates."),
    ],
    lync: true,
};

pub static REMOVE: CmdletDef = CmdletDef {
    name: "Remove-CsCertificate",
    synopsis: "Unassigns the current (or, with -Previous, the previous) certificate of each use. The certificate stays in the store.",
    description: "",
    sets: &["Default"],
    default_set: Some("Default"),
    should_process: true,
    params: &[
        p("Force", PType::Switch, "Remove without asking."),
        p("Identity", PType::Str, "Global, or a computer (default this computer).").shown_as("XdsIdentity"),
        p("Previous", PType::Switch, "Remove the rolled-out previous certificate instead of the current one."),
        p("Report", PType::Str, "Write an HTML report of what was done to this file."),
        p("Type", PType::CertTypes, "The uses.").mandatory(&["Default"]),
    ],
    examples: &[
        ("Remove-CsCertificate -Type WebServicesExternal -Force", "Unassigns the external web services certificate."),
        ("Remove-CsCertificate -Type AudioVideoAuthentication -Previous", "Removes the previous A/V authentication certificate after a roll."),
    ],
    lync: true,
};

pub static TEST_CONFIGURATION: CmdletDef = CmdletDef {
    name: "Test-CsCertificateConfiguration",
    synopsis: "Checks the assigned certificates: missing, expired, expiring within 30 days, or names that no longer fit the topology.",
    description: "Returns one object per assigned use that is in order (Thumbprint, Use); problems are reported as errors and warnings.",
    sets: &["Default"],
    default_set: Some("Default"),
    should_process: false,
    params: &[
        p("Report", PType::Str, "Write an HTML report of the result to this file."),
        p("TrustedRoot", PType::StrList, "[cscert] Trusted root certificates (files or folders): each assigned certificate's chain must end at one of them."),
    ],
    examples: &[
        ("Test-CsCertificateConfiguration", "Checks every assigned certificate."),
        ("Test-CsCertificateConfiguration -TrustedRoot ./roots", "Also checks that every chain ends at a root in ./roots."),
    ],
    lync: true,
};

pub static EXPORT: CmdletDef = CmdletDef {
    name: "Export-CsCertificate",
    synopsis: "[cscert] Writes a certificate with its private key (PFX or PEM) for another server, e.g. the other members of an Edge pool.",
    description: "PFX is AES-256 + SHA-256 by default; -Legacy writes 3DES + SHA-1 for Windows Server 2012 R2 / 2016. The password may come from $env:CSCERT_PASSWORD instead of -Password. A key that was not made exportable is refused.",
    sets: &["Default"],
    default_set: Some("Default"),
    should_process: true,
    params: &[
        p("Force", PType::Switch, "Overwrite an existing file."),
        p("Format", PType::Enum(&EXPORT_FORMAT), "Pfx (default) or Pem."),
        p("Legacy", PType::Switch, "Write a PFX that Windows Server 2012 R2 / 2016 can import (3DES + SHA-1 MAC)."),
        p("Password", PType::Password, "The PFX password (or $env:CSCERT_PASSWORD)."),
        p("Path", PType::Str, "The file to write.").mandatory(&["Default"]),
        p("Thumbprint", PType::Str, "The certificate to export.").mandatory(&["Default"]),
    ],
    examples: &[
        ("Export-CsCertificate -Thumbprint 466D9BB0E8B928B65AF38FA2D9F41E1B301ECE9D -Path edge.pfx -Password 'P@ssw0rd'", "Exports the Edge certificate for the other pool members."),
        ("Export-CsCertificate -Thumbprint 466D9BB0E8B928B65AF38FA2D9F41E1B301ECE9D -Path edge.pfx -Legacy", "A PFX for Windows Server 2012 R2, password from $CSCERT_PASSWORD."),
    ],
    lync: false,
};

const TEST_SETS: &[&str] = &["Path", "Thumbprint", "RequestId"];

pub static TEST_CERTIFICATE: CmdletDef = CmdletDef {
    name: "Test-CsCertificate",
    synopsis: "[cscert] Validates certificate requests and certificates (files or store items) for CI: names per use, XMPP and SIP federation coverage, keys, EKUs, dates.",
    description: "One object per file or item, with Findings (RuleId, Severity, Message, Names) and Passed. Exit code 3 when any item did not pass.",
    sets: TEST_SETS,
    default_set: Some("Path"),
    should_process: false,
    params: &[
        p("ComputerFqdn", PType::NullableStr, "The computer whose topology names are expected (default this computer).").shown_as("Fqdn"),
        p("Path", PType::StrList, "Files or folders to check.").sets(&["Path"]).mandatory(&["Path"]).at(0),
        p("RequestId", PType::Int, "A pending request in the store.").sets(&["RequestId"]).mandatory(&["RequestId"]),
        p("SipDomain", PType::StrList, "SIP domains that must be covered (sip.<domain>)."),
        p("Thumbprint", PType::Str, "A certificate in the store.").sets(&["Thumbprint"]).mandatory(&["Thumbprint"]),
        p("TrustedRoot", PType::StrList, "[cscert] Trusted root certificates (files or folders): each chain must end at one of them (rules CHAIN-INCOMPLETE, ROOT-UNTRUSTED)."),
        p("Type", PType::CertTypes, "The uses the certificate is meant for."),
        p("VerificationTime", PType::DateTime, "The time to check validity at (default now)."),
        p("XmppDomain", PType::StrList, "XMPP domains that must be covered for server-to-server federation."),
    ],
    examples: &[
        ("Test-CsCertificate -Path edge.req -Type AccessEdgeExternal -XmppDomain contoso.com", "Checks an Edge request before it goes to a CA."),
        ("Test-CsCertificate -Path ./certs", "Checks every certificate and request in a folder."),
    ],
    lync: false,
};

pub static PUBLISH_TOPOLOGY: CmdletDef = CmdletDef {
    name: "Publish-CsTopology",
    synopsis: "Stores a topology document (Get-CsTopology -AsXml output or a Topology Builder .tbxml) so that certificate names are computed from it.",
    description: "",
    sets: &["Default"],
    default_set: Some("Default"),
    should_process: true,
    params: &[
        p("FileName", PType::Str, "The topology document.").mandatory(&["Default"]),
        p("Force", PType::Switch, "Replace without asking."),
        p("Report", PType::Str, "Write an HTML report of what was done to this file."),
    ],
    examples: &[("Publish-CsTopology -FileName topology.xml", "Publishes a topology exported on a Lync server with Get-CsTopology -AsXml.")],
    lync: true,
};

pub static GET_TOPOLOGY: CmdletDef = CmdletDef {
    name: "Get-CsTopology",
    synopsis: "Returns the published topology: a JSON summary, or with -AsXml the stored document unchanged.",
    description: "",
    sets: &["Default"],
    default_set: Some("Default"),
    should_process: false,
    params: &[p("AsXml", PType::Switch, "Print the stored XML document unchanged.")],
    examples: &[("Get-CsTopology -AsXml", "Prints the published document.")],
    lync: true,
};

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

/// Every cmdlet cscert answers to, in the order help lists them.
pub static CMDLETS: &[&CmdletDef] = &[
    &REQUEST,
    &IMPORT,
    &SET,
    &GET,
    &REMOVE,
    &TEST_CONFIGURATION,
    &EXPORT,
    &TEST_CERTIFICATE,
    &PUBLISH_TOPOLOGY,
    &GET_TOPOLOGY,
];

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

/// Finds a cmdlet by name, case-insensitively.
pub fn find_cmdlet(name: &str) -> Option<&'static CmdletDef> {
    CMDLETS
        .iter()
        .copied()
        .find(|c| c.name.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;
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
