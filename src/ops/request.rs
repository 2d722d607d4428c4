//! Certificate requests: a new request (offline PKCS#10, a lab CA, an ACME CA), the pending
//! ones listed, retrieved and cleared.

use super::acme::AcmeError;
use super::topology::TopologyOpError;
use super::{certs, Ctx, CtxError};
use crate::error::{Category, CsError, Exit};
use crate::model::{join_uses, CertType};
use crate::output::file::{Existing, OutputPathError};
use crate::output::objects::{ser_date, IssuedCertificate};
use crate::pki::inspect::inspect_der_certificate;
use crate::pki::inspect::{inspect_der_request, InspectError};
use crate::pki::issue::{issue, load_ca, IssueError};
use crate::pki::request::{
    generate_key, request_spki, windows_request_pem, KeyAlg, RequestError as MakeError, Spec,
};
use crate::pki::validate::{validate, Expectations, Severity};
use crate::store::CertRow;
use crate::store::{NewRequest, RequestRow, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Why a request was refused, or failed while it was made, stored or written.
#[derive(Debug)]
pub enum RequestError {
    /// An RSA -KeySize other than 2048, 3072, 4096.
    UnsupportedKeySize(i32),
    /// A subject field (-Organization, -OU, -City, -State) with a control character at
    /// `position` (1-based, in characters).
    ControlCharacter {
        parameter: &'static str,
        character: char,
        position: usize,
    },
    /// A subject field longer than X.520's upper bound `ub` allows (`bound` characters).
    FieldTooLong {
        parameter: &'static str,
        length: usize,
        bound: usize,
        ub: &'static str,
    },
    InvalidCountry(String),
    /// A -DomainName that is not a valid IDN.
    InvalidDomainName(String),
    /// A subject CN or dNSName that is not a host name (control character, space, comma...):
    /// refused always, -Force or not.
    NotAHostname {
        name: String,
        why: String,
    },
    /// -CA names an AD CS authority (`host\CAName`).
    AdcsNotAvailable(String),
    NoOutputOrCa,
    LabCaNotUsable {
        ca: String,
        error: IssueError,
    },
    /// No topology, no -ComputerFqdn, no -DomainName: nothing names the certificate.
    NoNames,
    KeyNotGenerated(MakeError),
    /// The PKCS#10 request could not be made with the key.
    NotMade(MakeError),
    /// The request just made does not read back.
    NotReadBack(InspectError),
    /// The validator's Error findings on the request about to be made (without -Force).
    FailsValidation(Vec<String>),
    /// The lab CA refused to issue.
    LabCaIssueFailed(IssueError),
    /// The certificate a CA issued does not parse.
    IssuedUnreadable(InspectError),
    /// The request file could not be written (nothing was stored).
    OutputNotWritten {
        path: std::path::PathBuf,
        error: std::io::Error,
    },
    NotFound(i64),
    Acme(AcmeError),
    Topology(TopologyOpError),
    Store(StoreError),
    Ctx(CtxError),
    /// -Output names a path that cannot be written.
    Output(OutputPathError),
    /// -ValidityDays outside [ValidateRange(1, 36500)]: PowerShell's binding error (exit 2).
    ValidityDaysOutOfRange(i32),
}

crate::ops::wraps!(
    RequestError:
    Acme(AcmeError),
    Topology(TopologyOpError),
    Store(StoreError),
    Ctx(CtxError),
    Output(OutputPathError),
);

impl From<RequestError> for CsError {
    fn from(e: RequestError) -> CsError {
        let invalid = |id: &str, msg: String| CsError::failed(id, Category::InvalidArgument, msg);
        match e {
            RequestError::UnsupportedKeySize(size) => {
                let why = if size == 1024 {
                    "A 1024-bit RSA key is too weak and cscert does not make one (Lync accepts it, but no current CA or peer should)."
                } else {
                    "cscert makes RSA keys of 2048, 3072 or 4096 bits."
                };
                invalid(
                    "UnsupportedKeySize",
                    format!("-KeySize {size} is not supported. {why} Use -KeySize 2048, 3072 or 4096."),
                )
                .with_target(size.to_string())
            }
            // Parameter validation in PowerShell's words (exit 2: nothing was done).
            RequestError::ControlCharacter { parameter, character, position } => CsError::binding(
                "ParameterArgumentValidationError",
                Category::InvalidData,
                format!("Cannot validate argument on parameter '{parameter}'. The argument contains the control character U+{:04X} at position {position}; a certificate request cannot hold line breaks or control characters. Remove it and try the command again.", character as u32),
            )
            .with_target(parameter),
            RequestError::FieldTooLong { parameter, length, bound, ub } => CsError::binding(
                "ParameterArgumentValidationError",
                Category::InvalidData,
                format!("Cannot validate argument on parameter '{parameter}'. The argument is {length} characters long; X.520 allows at most {bound} ({ub}). Shorten it to {bound} characters or fewer and try the command again."),
            )
            .with_target(parameter),
            RequestError::InvalidCountry(c) => invalid(
                "InvalidCountry",
                format!("-Country must be a two-letter ISO 3166 code such as US; '{c}' is not."),
            )
            .with_target(c),
            RequestError::NotAHostname { name, why } => invalid(
                "NameIsNotAHostname",
                format!("The name \"{name}\" cannot be requested: {why}. A DNS name and the subject CN hold host names only (letters, digits, hyphens and dots, a leading *. for a wildcard); -Force does not override this."),
            )
            .with_target(name),
            RequestError::InvalidDomainName(n) => invalid(
                "InvalidDomainName",
                format!("-DomainName \"{n}\" is not a valid internationalized domain name."),
            )
            .with_target(n),
            RequestError::AdcsNotAvailable(ca) => CsError::failed(
                "AdcsNotAvailable",
                Category::NotInstalled,
                format!("-CA \"{ca}\" names an AD CS certification authority. Enrollment with AD CS needs a Windows server that is a member of the domain; cscert does not speak DCOM. Use -Output <file> to make an offline request for that CA, -CA https://<ACME directory> for an ACME CA, or -CA <PEM file or folder> with a lab CA's certificate and key."),
            )
            .with_target(ca),
            RequestError::NoOutputOrCa => invalid(
                "NoOutputOrCa",
                "Specify -Output <file> to make an offline request, -CA https://<ACME directory> to have an ACME CA (Let's Encrypt, a private ACME CA) issue the certificate, or -CA <PEM file or folder> to have a lab CA issue it. (AD CS enrollment needs a Windows domain member.)".into(),
            ),
            RequestError::LabCaNotUsable { ca, error } => CsError::failed(
                "LabCaNotUsable",
                Category::InvalidArgument,
                format!("The CA \"{ca}\" cannot issue certificates: {error}."),
            )
            .with_target(ca),
            RequestError::NoNames => invalid(
                "NoNamesForRequest",
                "No topology is published and neither -ComputerFqdn nor -DomainName names the certificate. Publish the topology (Publish-CsTopology -FileName <file>) or give -ComputerFqdn.".into(),
            ),
            RequestError::KeyNotGenerated(e) => CsError::failed(
                "KeyGenerationFailed",
                Category::InvalidOperation,
                e.to_string(),
            ),
            RequestError::NotMade(e) => invalid(
                "RequestNotMade",
                format!("The request could not be made: {e}."),
            ),
            RequestError::NotReadBack(e) => CsError::failed(
                "RequestNotMade",
                Category::InvalidOperation,
                format!("The request cannot be read back: {e}"),
            ),
            RequestError::FailsValidation(errors) => CsError::new(
                Exit::ValidationFailed,
                "RequestFailsValidation",
                Category::InvalidData,
                format!("The request was not made: it has {} error(s) for its uses. {} Fix the names or options, or use -Force to request it anyway.", errors.len(), errors.join(" ")),
            ),
            RequestError::LabCaIssueFailed(e) => CsError::failed(
                "IssueFailed",
                Category::InvalidOperation,
                format!("The lab CA could not issue the certificate: {e}."),
            ),
            RequestError::IssuedUnreadable(e) => CsError::failed(
                "IssueFailed",
                Category::InvalidOperation,
                format!("The issued certificate cannot be read: {e}"),
            ),
            RequestError::OutputNotWritten { path, error } => CsError::failed(
                "OutputNotWritten",
                Category::WriteError,
                format!(
                    "The request could not be written to '{}': {error}",
                    path.display()
                ),
            ),
            RequestError::NotFound(id) => CsError::failed(
                "RequestNotFound",
                Category::ObjectNotFound,
                format!("No pending request has the ID {id}."),
            )
            .with_target(id.to_string()),
            RequestError::Acme(e) => e.into(),
            RequestError::Topology(e) => e.into(),
            RequestError::Store(e) => e.into(),
            RequestError::Ctx(e) => e.into(),
            RequestError::Output(e) => e.into(),
            // The cmdlet refuses such a value while binding; a caller in code gets this.
            RequestError::ValidityDaysOutOfRange(d) => CsError::failed(
                "ValidityDaysOutOfRange",
                Category::InvalidArgument,
                format!("A certificate cannot be valid for {d} days: the range is 1 to {MAX_VALIDITY_DAYS}."),
            ),
        }
    }
}

/// A new request's parameters (the New set).
#[derive(Default)]
pub struct NewArgs<'a> {
    pub uses: Vec<CertType>,
    /// `-KeyAlg` (canonical name); RSA when absent.
    pub key_alg: Option<&'a str>,
    pub key_size: Option<i32>,
    pub organization: Option<&'a str>,
    pub ou: Option<&'a str>,
    pub city: Option<&'a str>,
    pub state: Option<&'a str>,
    pub country: Option<&'a str>,
    pub validity_days: Option<i32>,
    pub exportable: bool,
    /// `-ComputerFqdn` as given (`$null` and blanks: this computer).
    pub computer: Option<&'a str>,
    pub domain_names: Vec<String>,
    pub all_sip_domain: bool,
    pub output: Option<&'a str>,
    pub ca: Option<&'a str>,
    pub client_eku: bool,
    pub template: Option<&'a str>,
    pub friendly_name: Option<&'a str>,
    pub force: bool,
    /// The -Acme* parameters: checked only when -CA is an ACME directory, refused otherwise.
    pub acme: crate::ops::acme::AcmeArgs<'a>,
    /// Update-CsCertificate: the certificate this request renews, recorded with the new one.
    pub renews: Option<&'a str>,
    /// Update-CsCertificate: the ACME `replaces` identifier (RFC 9773) of the renewed one.
    pub replaces: Option<String>,
}

/// What a new request made.
pub enum NewResult {
    /// Issued at once (lab CA or ACME) and stored with its key.
    Issued(IssuedCertificate),
    /// Written as a file; the key waits in the store.
    Offline(OfflineRequest),
}

/// What an offline request returns.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OfflineRequest {
    pub request_status: &'static str,
    pub request_id: i64,
    pub output: String,
    pub subject: String,
    pub alternative_names: Vec<String>,
    #[serde(rename = "Use")]
    pub uses: Vec<&'static str>,
    pub computer_fqdn: Option<String>,
    pub key_size: u32,
    pub key_alg: &'static str,
    pub private_key_exportable: bool,
    #[serde(rename = "ClientEKU")]
    pub client_eku: bool,
    pub friendly_name: Option<String>,
    pub template: Option<String>,
    pub thumbprint: Option<String>,
    #[serde(serialize_with = "ser_date")]
    pub created: DateTime<Utc>,
}

/// One pending request, as -List shows it.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PendingRequest {
    pub request_id: i64,
    pub certificate_uses: Vec<String>,
    pub subject: String,
    pub alternative_names: Vec<String>,
    pub output: Option<String>,
    pub request_status: String,
    #[serde(serialize_with = "ser_date")]
    pub created: DateTime<Utc>,
    pub computer_fqdn: Option<String>,
    pub key_size: i64,
    pub key_alg: String,
    pub private_key_exportable: bool,
    pub friendly_name: Option<String>,
    pub template: Option<String>,
    pub thumbprint: Option<String>,
}

impl From<RequestRow> for PendingRequest {
    fn from(r: RequestRow) -> Self {
        PendingRequest {
            request_id: r.id,
            certificate_uses: r
                .uses
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            subject: r.subject,
            alternative_names: r.sans,
            output: r.output,
            request_status: r.status,
            created: r.created,
            computer_fqdn: r.computer,
            key_size: r.key_size,
            key_alg: r.key_alg,
            private_key_exportable: r.exportable,
            friendly_name: r.friendly_name,
            template: r.template,
            thumbprint: r.thumbprint,
        }
    }
}

/// Refuses control characters (a newline would be written into the request) and values longer
/// than X.520 allows (CAs refuse them), in PowerShell's validation words.
fn check_subject_fields(a: &NewArgs<'_>) -> Result<(), RequestError> {
    // The subject fields with their X.520 upper bounds (RFC 5280, Appendix A).
    let fields = [
        ("Organization", a.organization, 64, "ub-organization-name"),
        ("OU", a.ou, 64, "ub-organizational-unit-name"),
        ("City", a.city, 128, "ub-locality-name"),
        ("State", a.state, 128, "ub-state-name"),
    ];
    // -Template goes into the request, -FriendlyName into the store and every listing.
    let named = [("Template", a.template), ("FriendlyName", a.friendly_name)]
        .into_iter()
        .chain(fields.iter().map(|&(n, v, ..)| (n, v)));
    for (name, value) in named {
        let Some(v) = value else { continue };
        if let Some((i, c)) = v.chars().enumerate().find(|(_, c)| c.is_control()) {
            return Err(RequestError::ControlCharacter {
                parameter: name,
                character: c,
                position: i + 1,
            });
        }
    }
    for (name, value, bound, ub) in &fields {
        let Some(v) = value else { continue };
        let len = v.chars().count();
        if len > *bound {
            return Err(RequestError::FieldTooLong {
                parameter: name,
                length: len,
                bound: *bound,
                ub,
            });
        }
    }
    Ok(())
}

/// The longest -ValidityDays accepted (days in a hundred years).
pub const MAX_VALIDITY_DAYS: i32 = 36500;

/// An AD CS config string (`host\CAName`), as opposed to a lab CA given as files.
fn is_adcs(ca: &str) -> bool {
    ca.contains('\\') && !std::path::Path::new(ca).exists() || ca.starts_with('<')
}

/// The names (subject, SANs) for the request: without a topology, the subject is -ComputerFqdn
/// (or the first -DomainName name) and the SANs are the subject followed by -DomainName.
fn names_without_topology(
    ctx: &mut Ctx,
    computer: Option<&str>,
    extra: &[String],
) -> Result<(String, Vec<String>), RequestError> {
    let subject = match computer.or(extra.first().map(String::as_str)) {
        Some(s) => s.to_string(),
        None => return Err(RequestError::NoNames),
    };
    // When -DomainName itself lists the subject, the admin's order is kept exactly (the
    // certificate summary gives the Edge SANs in an order, subject second); otherwise the
    // subject goes first.
    let listed = extra.iter().any(|n| n.eq_ignore_ascii_case(&subject));
    let mut sans: Vec<String> = Vec::with_capacity(extra.len() + 1);
    let first = (!listed).then_some(&subject);
    for n in first.into_iter().chain(extra) {
        if !sans.iter().any(|s| s.eq_ignore_ascii_case(n)) {
            sans.push(n.clone());
        }
    }
    ctx.host.verbose(format!(
        "No topology is published: the subject is {} and the subject alternative names are {}.",
        if computer.is_some() {
            "-ComputerFqdn"
        } else {
            "the first -DomainName name"
        },
        if listed {
            "the -DomainName names in their order (they include the subject)"
        } else {
            "the subject followed by the -DomainName names"
        }
    ));
    for n in &sans {
        ctx.host.verbose(format!("Subject alternative name: {n}"));
    }
    Ok((subject, sans))
}

/// An internationalized name in -DomainName (`bücher.contoso.com`) is requested as its A-label:
/// a dNSName holds ASCII only (RFC 5280, RFC 9549).
fn a_labels(ctx: &mut Ctx, names: Vec<String>) -> Result<Vec<String>, RequestError> {
    names
        .into_iter()
        .map(|n| {
            if n.is_ascii() {
                return Ok(n);
            }
            let a = idna::domain_to_ascii_strict(n.trim())
                .map_err(|_| RequestError::InvalidDomainName(n.clone()))?;
            ctx.host.verbose(format!(
                "-DomainName \"{n}\" is an internationalized name: it is requested as its A-label \"{a}\" (certificates hold DNS names in ASCII)."
            ));
            Ok(a)
        })
        .collect()
}

/// Makes a new request: an offline PKCS#10 file with the key pending in the store, or a
/// certificate issued at once by a lab CA or an ACME CA. `Ok(None)`: -WhatIf or declined.
pub fn new(ctx: &mut Ctx, b: NewArgs<'_>) -> Result<Option<NewResult>, RequestError> {
    let uses = b.uses.clone();
    let key_alg = b.key_alg.and_then(KeyAlg::parse).unwrap_or(KeyAlg::Rsa);
    let key_size = b.key_size.unwrap_or(2048);
    if key_alg == KeyAlg::Rsa && ![2048, 3072, 4096].contains(&key_size) {
        return Err(RequestError::UnsupportedKeySize(key_size));
    }
    check_subject_fields(&b)?;
    if key_alg != KeyAlg::Rsa {
        if let Some(size) = b.key_size {
            ctx.host.warning(format!(
                "-KeySize {size} applies to RSA keys only; it is ignored for -KeyAlg {}, whose key size is {} bits.",
                key_alg.name(),
                key_alg.effective_size(0)
            ));
        }
    }
    if let Some(c) = b.country {
        if c.len() != 2 || !c.chars().all(|ch| ch.is_ascii_alphabetic()) {
            return Err(RequestError::InvalidCountry(c.to_string()));
        }
    }
    // [ValidateRange(1, 36500)]: a hundred years is beyond any CA already.
    if let Some(d) = b.validity_days {
        if !(1..=MAX_VALIDITY_DAYS).contains(&d) {
            return Err(RequestError::ValidityDaysOutOfRange(d));
        }
    }
    let exportable = b.exportable;
    let computer_arg: Option<String> = b
        .computer
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let extra = a_labels(ctx, b.domain_names.clone())?;
    let output = b.output.map(str::to_string);
    let ca = b.ca.map(str::to_string);

    if let Some(ca) = &ca {
        if is_adcs(ca) {
            return Err(RequestError::AdcsNotAvailable(ca.clone()));
        }
    }
    // An https:// -CA is an ACME directory (crate::ops::acme); its options are checked before a key is made.
    let acme = match &ca {
        Some(ca) if crate::ops::acme::is_directory_url(ca) => {
            let mut o = crate::ops::acme::Options::from_args(&b.acme, ctx, ca)?;
            o.replaces = b.replaces.clone();
            Some(o)
        }
        _ => {
            crate::ops::acme::refuse_without_directory(&b.acme)?;
            None
        }
    };
    if output.is_none() && ca.is_none() {
        return Err(RequestError::NoOutputOrCa);
    }
    // A lab CA is loaded before the key is made, so a bad -CA costs nothing.
    let lab_ca = match &ca {
        Some(_) if acme.is_some() => None,
        Some(ca) => {
            Some(
                load_ca(&ctx.full_path(ca)).map_err(|error| RequestError::LabCaNotUsable {
                    ca: ca.clone(),
                    error,
                })?,
            )
        }
        None => None,
    };

    let mut expect = Expectations::new(ctx.now);
    expect.uses = uses.clone();
    // Exportability is not judged here (a single Edge server may keep its key); a warning says
    // what a pool needs, and Test-CsCertificate -RequestId reports it as an error.
    if uses.iter().any(|u| u.needs_exportable_key()) && !exportable {
        ctx.host.warning(format!(
            "The private key will not be exportable, but the members of an Edge pool share one key for {}: add -PrivateKeyExportable $true unless this Edge Server stands alone.",
            join_uses(&uses.iter().copied().filter(|u| u.needs_exportable_key()).collect::<Vec<_>>())
        ));
    }
    let (subject, sans, computer) = match super::topology::published(ctx)? {
        Some(topo) => {
            let computer = computer_arg.clone().unwrap_or_else(|| ctx.this_computer());
            let names =
                super::topology::expected_names(&topo, &computer, &uses, b.all_sip_domain, &extra)?;
            ctx.host.verbose(format!(
                "Names computed from the published topology for {} on {} (pool {}):",
                join_uses(&uses),
                names.computer,
                names.pool
            ));
            for s in &names.sources {
                let role = match s.role {
                    crate::topology::NameRole::Subject => "subject",
                    crate::topology::NameRole::San => "SAN",
                };
                ctx.host
                    .verbose(format!("  {role} {}: {}", s.name, s.source));
            }
            for n in &names.notes {
                ctx.host.warning(n);
            }
            expect.xmpp_domains = names.xmpp_domains;
            expect.sip_domains = names.sip_domains;
            expect.access_edge_fqdn = names.access_edge_fqdn;
            (names.subject, names.sans, Some(names.computer))
        }
        None => {
            let (subject, sans) = names_without_topology(ctx, computer_arg.as_deref(), &extra)?;
            (subject, sans, computer_arg.clone())
        }
    };
    // Before any validation that -Force may turn into a warning.
    for n in std::iter::once(&subject).chain(&sans) {
        if let Some(why) = crate::model::hostname::hostname_fault(n) {
            return Err(RequestError::NotAHostname {
                name: n.clone(),
                why,
            });
        }
    }
    let mut spec = Spec {
        subject_cn: subject,
        organization: b.organization.map(str::to_string),
        ou: b.ou.map(str::to_string),
        city: b.city.map(str::to_string),
        state: b.state.map(str::to_string),
        country: b.country.map(|c| c.to_ascii_uppercase()),
        sans,
        client_eku: b.client_eku,
        template: b.template.map(str::to_string),
        uses: uses.clone(),
    };
    if acme.is_some() {
        crate::ops::acme::subject_first(&mut spec.sans, &spec.subject_cn);
    }
    // How it is made, recorded with the certificate so that Update-CsCertificate can renew it.
    let source = ca.as_deref().map(|ca| {
        let acme = acme.as_ref().map(|o| (o, &b.acme));
        super::source::of_new(ctx, ca, acme, b.validity_days, &spec, b.renews)
    });
    let force = b.force;
    let out_target = match output.as_deref() {
        Some(o) => Some(ctx.output_target("-Output", o, force, Existing::NeedsForce)?),
        None => None,
    };
    let path = out_target.as_ref().map(|t| t.path.clone());
    let target = match (&path, &ca) {
        (Some(p), _) => p.display().to_string(),
        (None, Some(ca)) => format!("CA {ca}"),
        (None, None) => unreachable!("checked above"),
    };
    let action = if path.is_some() {
        "Write a certificate request"
    } else {
        "Issue a certificate"
    };
    if !ctx.should_process(
        &target,
        &format!(
            "{action} for \"{}\" ({})",
            join_uses(&uses),
            spec.subject_cn
        ),
    )? {
        if ctx.prefs.what_if {
            // What an admin checks before anything is sent: the names as computed.
            ctx.host.info(format!(
                "What if: The request's subject would be \"{}\" and its subject alternative names {}.",
                spec.windows_subject(),
                spec.sans.join(", ")
            ));
        }
        return Ok(None);
    }

    let key = generate_key(key_alg, key_size as i64).map_err(RequestError::KeyNotGenerated)?;
    let csr = spec.request_der(&key).map_err(RequestError::NotMade)?;
    let spki = request_spki(&csr).expect("a request we just made parses");
    check_request(ctx, &csr, &expect, force)?;
    let key_der = zeroizing(key.serialize_der());
    let created = ctx.now;
    let uses_text = join_uses(&uses);
    let subject_dn = spec.windows_subject();
    let output_text = path.as_ref().map(|p| p.display().to_string());
    let friendly = b.friendly_name;
    let new_request = NewRequest {
        created,
        computer: computer.as_deref(),
        uses: &uses_text,
        subject: &subject_dn,
        sans: &spec.sans,
        output: output_text.as_deref(),
        key_alg: key_alg.name(),
        key_size: key_alg.effective_size(key_size as u32) as i64,
        exportable,
        friendly_name: friendly,
        template: b.template,
        csr_der: &csr,
        spki_der: &spki,
        key_pkcs8: &key_der,
    };

    // Issued at once (an ACME CA or a lab CA): the certificate and chain, the ACME order's
    // request (a lab CA's is stored with the certificate) and, for a lab CA, who issued it.
    let at_once = if let Some(acme) = &acme {
        if b.validity_days.is_some() {
            ctx.host
                .warning("-ValidityDays is ignored: the ACME CA decides the validity.");
        }
        let issued = crate::ops::acme::order_certificate(ctx, acme, &new_request)?;
        Some((issued.der, issued.chain, Some(issued.request_id), None))
    } else if let Some(lab_ca) = lab_ca {
        let validity = b.validity_days.map_or(365, |d| d as u32);
        let issued = issue(&lab_ca, &spec.issue_request(validity), &key, created)
            .map_err(RequestError::LabCaIssueFailed)?;
        let ca_name = crate::pki::inspect::inspect_der_certificate(lab_ca.certificate_der())
            .map(|c| c.subject)
            .unwrap_or_default();
        Some((
            issued.der,
            issued.chain,
            None,
            Some(format!("\"{ca_name}\"")),
        ))
    } else {
        None
    };
    if let Some((der, chain, request_id, by)) = at_once {
        let stored = Issued {
            der: &der,
            chain: &chain,
            key_pkcs8: &key_der,
            exportable,
            friendly_name: friendly,
            added: created,
            spki_der: &spki,
        };
        let (row, c) = store_issued(ctx, &stored, request_id, &new_request, source.as_ref())?;
        let by =
            by.unwrap_or_else(|| format!("\"{}\" (ACME)", c.issuer.as_deref().unwrap_or_default()));
        return Ok(Some(issued_result(ctx, &row, &c, &uses, &uses_text, &by)));
    }

    let path = path.expect("offline request");
    let pem = windows_request_pem(&csr);
    let (id, replaced) = ctx.store()?.write(|tx| -> Result<_, RequestError> {
        // -Force for the same file: the earlier request's key could never match that file again.
        let replaced = match (force, new_request.output) {
            (true, Some(o)) => tx.delete_pending_for_output(o)?,
            _ => Vec::new(),
        };
        let id = tx.insert_request(&new_request)?;
        // The file is written inside the transaction: if it cannot be written, nothing is stored;
        // if the commit fails, the file is removed again.
        let target = out_target.as_ref().expect("offline request");
        target
            .write(pem.as_bytes(), false)
            .map_err(|error| RequestError::OutputNotWritten {
                path: path.clone(),
                error,
            })?;
        if let Err(e) = tx.commit() {
            if !target.is_special() {
                let _ = std::fs::remove_file(&path);
            }
            return Err(e.into());
        }
        Ok((id, replaced))
    })?;
    let output_text = output_text.expect("offline request");
    if !replaced.is_empty() {
        let ids: Vec<String> = replaced.iter().map(i64::to_string).collect();
        ctx.host.info(format!(
            "Replaced the pending request {} for {output_text} (-Force): its key was deleted.",
            ids.join(", ")
        ));
    }
    ctx.host.verbose(format!(
        "Wrote request {id} to {output_text}; its private key is pending in the store {}.",
        ctx.store_dir().display()
    ));
    ctx.host
        .verbose("\"Request-CsCertificate\" processing has completed successfully.");
    Ok(Some(NewResult::Offline(OfflineRequest {
        request_status: "Offline",
        request_id: id,
        output: output_text,
        subject: subject_dn,
        alternative_names: spec.sans.clone(),
        uses: uses.iter().map(|u| u.name()).collect(),
        computer_fqdn: computer,
        key_size: key_alg.effective_size(key_size as u32),
        key_alg: key_alg.name(),
        private_key_exportable: exportable,
        client_eku: spec.client_eku,
        friendly_name: friendly.map(str::to_string),
        template: spec.template.clone(),
        thumbprint: None,
        created,
    })))
}

/// A certificate a CA issued for a request made now, with the request's key.
struct Issued<'a> {
    der: &'a [u8],
    chain: &'a [Vec<u8>],
    key_pkcs8: &'a [u8],
    exportable: bool,
    friendly_name: Option<&'a str>,
    added: DateTime<Utc>,
    spki_der: &'a [u8],
}

/// What an online issue (ACME or lab CA) reports: the verbose lines and the one object, the same
/// for both (`by` names the issuer as the verbose line shows it).
fn issued_result(
    ctx: &mut Ctx,
    row: &CertRow,
    c: &crate::pki::inspect::Inspected,
    uses: &[CertType],
    uses_text: &str,
    by: &str,
) -> NewResult {
    ctx.host.verbose(format!(
        "Issued thumbprint \"{}\" for use \"{uses_text}\" by {by}.",
        row.thumbprint
    ));
    ctx.host
        .verbose("\"Request-CsCertificate\" processing has completed successfully.");
    NewResult::Issued(IssuedCertificate::new(
        certs::stored_object(row, c),
        uses.iter().map(|u| u.name()).collect(),
    ))
}

/// Stores an issued certificate with its key in one transaction and completes its request:
/// the ACME order's (`request_id`), or, for a lab CA, `new_request` inserted now.
fn store_issued(
    ctx: &mut Ctx,
    issued: &Issued<'_>,
    request_id: Option<i64>,
    new_request: &NewRequest<'_>,
    source: Option<&super::source::Pending>,
) -> Result<(CertRow, crate::pki::inspect::Inspected), RequestError> {
    let c = inspect_der_certificate(issued.der).map_err(RequestError::IssuedUnreadable)?;
    let thumbprint = c.thumbprint.clone().expect("certificates have thumbprints");
    let row = ctx.store()?.write(|tx| -> Result<CertRow, StoreError> {
        let id = match request_id {
            Some(id) => id,
            None => tx.insert_request(new_request)?,
        };
        let row = CertRow {
            thumbprint: thumbprint.clone(),
            der: issued.der.to_vec(),
            chain: issued.chain.to_vec(),
            key_pkcs8: Some(issued.key_pkcs8.to_vec()),
            exportable: issued.exportable,
            friendly_name: issued.friendly_name.map(str::to_string),
            request_id: Some(id),
            added: issued.added,
            spki_der: issued.spki_der.to_vec(),
        };
        tx.put_certificate(&row)?;
        tx.complete_request(id, &thumbprint)?;
        if let Some(s) = source {
            super::source::record(&tx, s, &thumbprint, id, issued.added)?;
        }
        tx.commit()?;
        Ok(row)
    })?;
    Ok((row, c))
}

/// Runs Test-CsCertificate's rules on the request about to be made: warnings are shown, and
/// Error findings refuse the request unless -Force.
fn check_request(
    ctx: &mut Ctx,
    csr: &[u8],
    expect: &Expectations,
    force: bool,
) -> Result<(), RequestError> {
    let item = inspect_der_request(csr).map_err(RequestError::NotReadBack)?;
    let verdict = validate(&item, expect);
    let mut errors = Vec::new();
    for f in &verdict.findings {
        match f.severity {
            Severity::Error => errors.push(format!(
                "{}: {}{}",
                f.rule_id,
                f.message,
                if f.message.ends_with('.') { "" } else { "." }
            )),
            Severity::Warning => ctx.host.warning(format!("{}: {}", f.rule_id, f.message)),
            Severity::Information => ctx.host.verbose(format!("{}: {}", f.rule_id, f.message)),
        }
    }
    if errors.is_empty() {
        return Ok(());
    }
    if force {
        for e in &errors {
            ctx.host.warning(format!("{e} (requested anyway: -Force)"));
        }
        return Ok(());
    }
    Err(RequestError::FailsValidation(errors))
}

/// Key bytes are wiped when dropped.
fn zeroizing(v: Vec<u8>) -> zeroize::Zeroizing<Vec<u8>> {
    zeroize::Zeroizing::new(v)
}

/// The pending requests (one with `id`).
pub fn list(ctx: &mut Ctx, id: Option<i64>) -> Result<Vec<PendingRequest>, RequestError> {
    let rows = ctx.store()?.read(|tx| tx.requests(id))?;
    if rows.is_empty() {
        if let Some(id) = id {
            return Err(RequestError::NotFound(id));
        }
    }
    Ok(rows.into_iter().map(PendingRequest::from).collect())
}

/// What -Clear did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cleared {
    /// No pending request (without -RequestId: not an error).
    NoneThere,
    /// -WhatIf, or the confirmation was declined.
    Declined,
    Deleted(usize),
}

/// Deletes pending requests (one with `id`) and their keys.
pub fn clear(ctx: &mut Ctx, id: Option<i64>, force: bool) -> Result<Cleared, RequestError> {
    let rows = ctx.store()?.read(|tx| tx.requests(id))?;
    if rows.is_empty() {
        if let Some(id) = id {
            return Err(RequestError::NotFound(id));
        }
        ctx.host.verbose("There are no pending requests to clear.");
        return Ok(Cleared::NoneThere);
    }
    // Say what is deleted as it is: completed requests (their certificate is in the store)
    // are cleared too, but they are not pending keys.
    let pending = rows.iter().filter(|r| r.status == "Pending").count();
    let target = match id {
        Some(id) => format!("request {id}"),
        None => format!(
            "{} requests ({pending} pending, {} completed)",
            rows.len(),
            rows.len() - pending
        ),
    };
    // Clearing every pending request deletes every pending private key: that asks (ConfirmImpact
    // High) unless -Force or -Confirm:$false; one -RequestId asks only with -Confirm.
    let go = if id.is_none() {
        ctx.should_process_high(force, &target, "Clear pending certificate request")?
    } else {
        ctx.should_process(&target, "Clear pending certificate request")?
    };
    if !go {
        return Ok(Cleared::Declined);
    }
    let n = ctx.store()?.write(|tx| -> Result<usize, StoreError> {
        let n = tx.delete_requests(id)?;
        tx.commit()?;
        Ok(n)
    })?;
    // No copy of the deleted keys stays in the write-ahead log.
    ctx.store()?.forget_deleted();
    Ok(Cleared::Deleted(n))
}

/// Completes pending requests whose certificate is in the store (imported, or issued by a lab
/// CA) and reports the others as still pending. (ACME orders are finished before, by the
/// caller: `acme::finish_pending`.)
pub fn retrieve(ctx: &mut Ctx, id: Option<i64>) -> Result<Vec<PendingRequest>, RequestError> {
    let rows = ctx
        .store()?
        .write(|tx| -> Result<Vec<RequestRow>, RequestError> {
            let rows = tx.requests(id)?;
            if rows.is_empty() {
                if let Some(id) = id {
                    return Err(RequestError::NotFound(id));
                }
            }
            let mut out = Vec::with_capacity(rows.len());
            for mut r in rows {
                if r.status == "Pending" {
                    if let Some(c) = tx.certificate_by_spki(&r.spki_der)? {
                        if c.key_pkcs8.is_none() {
                            // The certificate was stored without its key (-Force): join them now.
                            let mut joined = c.clone();
                            joined.key_pkcs8 = tx.request_key(r.id)?;
                            joined.exportable = r.exportable;
                            joined.request_id = Some(r.id);
                            tx.put_certificate(&joined)?;
                        }
                        tx.complete_request(r.id, &c.thumbprint)?;
                        r.status = "Completed".into();
                        r.thumbprint = Some(c.thumbprint);
                    }
                }
                out.push(r);
            }
            tx.commit()?;
            Ok(out)
        })?;
    for r in &rows {
        if r.status == "Pending" {
            ctx.host.verbose(format!("Request {} is still pending: no certificate for its key is in the store. Import the CA's answer with Import-CsCertificate -Path <file>.", r.id));
        }
    }
    Ok(rows.into_iter().map(PendingRequest::from).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::TempDir;

    #[test]
    fn subject_fields_are_refused_with_the_parameter_and_the_place() {
        let a = NewArgs {
            ou: Some("Unified\nCommunications"),
            ..NewArgs::default()
        };
        match check_subject_fields(&a).unwrap_err() {
            RequestError::ControlCharacter {
                parameter,
                character,
                position,
            } => assert_eq!((parameter, character, position), ("OU", '\n', 8)),
            e => panic!("{e:?}"),
        }
        let long = "x".repeat(65);
        let a = NewArgs {
            organization: Some(&long),
            ..NewArgs::default()
        };
        let e = check_subject_fields(&a).unwrap_err();
        assert!(
            matches!(
                e,
                RequestError::FieldTooLong {
                    parameter: "Organization",
                    length: 65,
                    bound: 64,
                    ..
                }
            ),
            "{e:?}"
        );
        // Parameter validation: exit 2, as the binder's own.
        assert_eq!(CsError::from(e).exit, Exit::Binding);
    }

    #[test]
    fn a_request_id_that_is_not_pending_is_not_found() {
        let dir = TempDir::new("request-ids");
        let mut ctx = Ctx::for_test(dir.0.join("store"));
        assert!(list(&mut ctx, None).unwrap().is_empty());
        assert!(matches!(
            list(&mut ctx, Some(42)),
            Err(RequestError::NotFound(42))
        ));
        assert!(matches!(
            clear(&mut ctx, Some(42), true),
            Err(RequestError::NotFound(42))
        ));
        assert!(matches!(
            retrieve(&mut ctx, Some(42)),
            Err(RequestError::NotFound(42))
        ));
        assert_eq!(clear(&mut ctx, None, true).unwrap(), Cleared::NoneThere);
    }

    #[test]
    fn an_unsupported_key_size_is_refused_before_anything_is_made() {
        let dir = TempDir::new("request-keysize");
        let mut ctx = Ctx::for_test(dir.0.join("store"));
        let a = NewArgs {
            key_size: Some(1024),
            ..NewArgs::default()
        };
        assert!(matches!(
            new(&mut ctx, a),
            Err(RequestError::UnsupportedKeySize(1024))
        ));
        assert!(!dir.0.join("store").exists());
    }
}
