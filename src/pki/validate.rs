//! Test-CsCertificate's rules: every check of certificates.md as a finding with a stable rule id.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::identity::{
    is_ip_literal, normalize_reference, sip_coverage, srv_id_matches, xmpp_s2s_coverage, CoveredBy,
    MatchKind,
};
use super::inspect::{Inspected, Kind};
use crate::model::CertType;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Severity {
    Error,
    Warning,
    Information,
}

/// One problem (or remark) about one certificate or request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Finding {
    pub rule_id: &'static str,
    pub severity: Severity,
    pub message: String,
    /// The names (DNS names, domains, uses, OIDs) the finding is about.
    pub names: Vec<String>,
}

/// What the certificate is meant for. `now` is an input so that results are reproducible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectations {
    pub uses: Vec<CertType>,
    pub xmpp_domains: Vec<String>,
    pub sip_domains: Vec<String>,
    pub access_edge_fqdn: Option<String>,
    /// Known only for certificates in the store; `None` skips the exportability check.
    pub key_exportable: Option<bool>,
    pub now: DateTime<Utc>,
}

impl Expectations {
    /// No uses, domains or key information: only the intrinsic checks run.
    pub fn new(now: DateTime<Utc>) -> Self {
        Expectations {
            uses: Vec::new(),
            xmpp_domains: Vec::new(),
            sip_domains: Vec::new(),
            access_edge_fqdn: None,
            key_exportable: None,
            now,
        }
    }
}

/// Whether, and through which identity forms, a domain is covered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DomainCoverage {
    pub domain: String,
    pub covered: bool,
    pub covered_by: Vec<CoveredBy>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Verdict {
    pub findings: Vec<Finding>,
    pub xmpp_domains: Vec<DomainCoverage>,
    pub sip_domains: Vec<DomainCoverage>,
    /// No finding of severity Error.
    pub passed: bool,
}

/// A rule as documented in docs/rules.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RuleInfo {
    pub id: &'static str,
    /// The numbered check of certificates.md this rule implements.
    pub check: u8,
    pub severity: Severity,
    pub description: &'static str,
}

const fn rule(
    id: &'static str,
    check: u8,
    severity: Severity,
    description: &'static str,
) -> RuleInfo {
    RuleInfo {
        id,
        check,
        severity,
        description,
    }
}

use Severity::{Error as E, Information as I, Warning as W};

/// Every rule, in the order findings are reported.
pub const RULES: &[RuleInfo] = &[
    rule("SAN-MISSING", 1, E, "No subjectAltName extension (not checked for a certificate only for OAuthTokenIssuer, which is named by its subject)."),
    rule("SAN-NO-IDENTITY", 1, E, "The subjectAltName holds no DNS name, SRVName or XmppAddr identity."),
    rule("CN-NOT-IN-SAN", 2, E, "A subject CN is not repeated as a DNS SAN (Error for Edge external uses, Warning otherwise: TLS peers read only SANs)."),
    rule("WILDCARD-IN-SUBJECT", 3, E, "The subject CN holds a wildcard."),
    rule("WILDCARD-ON-EDGE", 3, E, "A wildcard DNS SAN on a certificate for an Edge external use (not supported)."),
    rule("WILDCARD-MALFORMED", 3, E, "A wildcard that is partial, multiple, not the whole left-most label, or inside an xn-- label; it never matches."),
    rule("WILDCARD-PUBLIC-SUFFIX", 3, E, "A wildcard directly under a public suffix (`*.com`, `*.co.uk`)."),
    rule("NAME-NON-ASCII", 4, E, "Non-ASCII characters in a dNSName or SRVName (IDNs must be A-labels)."),
    rule("NAME-BAD-ALABEL", 4, E, "An xn-- label that does not decode as Punycode or does not round-trip through IDNA."),
    rule("NAME-SYNTAX", 4, E, "A dNSName with an underscore, an IP literal, an empty label, a character outside letters/digits/hyphen, a label over 63 or a name over 253 octets."),
    rule("SAN-CRITICALITY", 5, E, "The SAN extension is critical while the subject is non-empty, or not critical with an empty subject (RFC 5280 4.2.1.6)."),
    rule("XMPPADDR-TYPE", 6, E, "An XmppAddr otherName that is not a UTF8String."),
    rule("SRVNAME-TYPE", 6, E, "An SRVName otherName that is not an IA5String."),
    rule("SRVNAME-SYNTAX", 6, E, "An SRVName that is not `_service.name`."),
    rule("XMPPADDR-USER-JID", 6, W, "An XmppAddr holding a user or full JID (`user@domain`, `domain/resource`) in a server certificate."),
    rule("XMPP-NOT-COVERED", 7, E, "A requested XMPP domain is not covered by any identity."),
    rule("XMPP-WEAK-COVERAGE", 7, W, "An XMPP domain is covered only through an SRV-ID, an XmppAddr or the subject CN, which some peers ignore; only a DNS-ID works with every peer."),
    rule("XMPP-CLIENT-SRV-ONLY", 7, E, "An XMPP domain is named only by an `_xmpp-client` SRV-ID, which does not cover server-to-server federation."),
    rule("XMPP-CHILD-DOMAIN", 7, E, "An XMPP child domain is not listed although its parent is: a SAN for contoso.com does not cover corp.contoso.com."),
    rule("SIP-DOMAIN-NOT-COVERED", 8, E, "A SIP domain without its `sip.<domain>` DNS SAN."),
    rule("ACCESS-EDGE-MISSING", 8, E, "The Access Edge external FQDN is not a DNS SAN."),
    rule("BASIC-CONSTRAINTS-CA", 9, E, "basicConstraints cA=TRUE on an end-entity certificate or request."),
    rule("SUBJECT-EMPTY", 9, E, "The subject is empty."),
    rule("EKU-NO-SERVER-AUTH", 10, E, "No Server Authentication EKU (1.3.6.1.5.5.7.3.1), or no EKU extension at all."),
    rule("EKU-NO-CLIENT-AUTH", 10, W, "No Client Authentication EKU (1.3.6.1.5.5.7.3.2) for a use whose peers check the initiating side (External, AccessEdgeExternal, XmppServer, OAuthTokenIssuer); the fix is -ClientEKU $true, from a CA that still issues it after the 2026 public-CA change."),
    rule("KEY-TOO-SMALL", 11, E, "RSA key under 2048 bits, or EC key under 256 bits."),
    rule("SIGNATURE-SHA1", 11, W, "SHA-1 signature (accepted by Lync, but weak)."),
    rule("SIGNATURE-WEAK", 11, E, "MD2/MD5 signature."),
    rule("SIGNATURE-RSA-PSS", 11, E, "RSASSA-PSS signature or key, which Lync cannot use."),
    rule("KEY-USAGE", 11, E, "keyUsage lacks digitalSignature or keyEncipherment for an RSA key (digitalSignature for EC)."),
    rule("EXPIRED", 12, E, "The certificate has expired at the time checked."),
    rule("NOT-YET-VALID", 12, E, "The certificate is not yet valid at the time checked."),
    rule("KEY-NOT-EXPORTABLE", 13, E, "The private key is not exportable but an Edge external or A/V use needs it (an Edge pool shares one key)."),
    rule("MANY-SERVICES", 14, I, "One certificate for many unrelated services or domains (RFC 9525 discourages it)."),
    rule("REQUEST-LEGACY-SAN-ATTRIBUTE", 15, W, "A request carries its SANs in Microsoft's legacy attribute 1.3.6.1.4.1.311.2.1.14 instead of the PKCS#9 extensionRequest."),
    rule("SIGNATURE-INVALID", 11, E, "The signature does not verify with the key of its issuer (known from the file, the chain, the store or -TrustedRoot): the certificate was altered or forged."),
    rule("CHAIN-INCOMPLETE", 11, E, "With -TrustedRoot: an issuer in the chain is not in the file, the chain, the store or the trusted roots, so the chain cannot be built."),
    rule("ROOT-UNTRUSTED", 11, E, "With -TrustedRoot: the chain ends at a root that is not one of the trusted roots."),
];

fn default_severity(id: &str) -> Severity {
    RULES
        .iter()
        .find(|r| r.id == id)
        .map(|r| r.severity)
        .unwrap_or_else(|| panic!("rule {id} is not in RULES"))
}

struct Log(Vec<Finding>);

impl Log {
    fn push(&mut self, rule_id: &'static str, message: String, names: Vec<String>) {
        let severity = default_severity(rule_id);
        self.push_with(rule_id, severity, message, names);
    }

    fn push_with(
        &mut self,
        rule_id: &'static str,
        severity: Severity,
        message: String,
        names: Vec<String>,
    ) {
        self.0.push(Finding {
            rule_id,
            severity,
            message,
            names,
        });
    }
}

const OID_SERVER_AUTH: &str = "1.3.6.1.5.5.7.3.1";
const OID_CLIENT_AUTH: &str = "1.3.6.1.5.5.7.3.2";
const OID_ANY_EKU: &str = "2.5.29.37.0";
const OID_RSA_PSS: &str = "1.2.840.113549.1.1.10";
const SHA1_SIGNATURES: &[&str] = &[
    "1.2.840.113549.1.1.5", // sha1WithRSAEncryption
    "1.2.840.10045.4.1",    // ecdsa-with-SHA1
    "1.2.840.10040.4.3",    // dsa-with-sha1
    "1.3.14.3.2.29",        // sha1WithRSASignature (OIW)
];
const WEAK_SIGNATURES: &[&str] = &[
    "1.2.840.113549.1.1.2", // md2WithRSAEncryption
    "1.2.840.113549.1.1.4", // md5WithRSAEncryption
];

/// Runs every rule against one inspected certificate or request and records all findings.
pub fn validate(item: &Inspected, exp: &Expectations) -> Verdict {
    let mut log = Log(Vec::new());
    let edge = exp.uses.iter().any(|u| u.is_edge_external());

    if needs_names_in_san(&exp.uses) {
        check_san_presence(item, &mut log);
        check_cn_in_san(item, edge, &mut log);
    }
    check_wildcards(item, edge, &mut log);
    check_name_syntax(item, &mut log);
    check_san_criticality(item, &mut log);
    check_other_names(item, &mut log);
    let xmpp_domains = check_xmpp(item, exp, &mut log);
    let sip_domains = check_sip(item, exp, &mut log);
    check_end_entity(item, &mut log);
    check_eku(item, exp, &mut log);
    check_key_and_signature(item, &mut log);
    check_validity(item, exp, &mut log);
    check_exportable(exp, &mut log);
    check_many_services(item, exp, &mut log);
    check_legacy_attribute(item, &mut log);

    let passed = !log.0.iter().any(|f| f.severity == Severity::Error);
    Verdict {
        findings: log.0,
        xmpp_domains,
        sip_domains,
        passed,
    }
}

/// Check 11 (signatures): adds what the chain walk found ([`crate::pki::chain::check`]) to a verdict.
pub fn with_chain(mut v: Verdict, report: &crate::pki::chain::ChainReport) -> Verdict {
    use crate::pki::chain::ChainProblem;
    for p in &report.problems {
        let (id, message, names) = match p {
            ChainProblem::BadSignature { subject, issuer } => (
                "SIGNATURE-INVALID",
                format!("the signature of {subject} does not verify with the key of its issuer {issuer}: the certificate was altered or forged"),
                vec![subject.clone(), issuer.clone()],
            ),
            ChainProblem::Incomplete { last, issuer } => (
                "CHAIN-INCOMPLETE",
                format!("the chain stops at {last}: its issuer {issuer} is not in the file, the chain, the store or the trusted roots"),
                vec![last.clone(), issuer.clone()],
            ),
            ChainProblem::UntrustedRoot { root } => (
                "ROOT-UNTRUSTED",
                format!("the chain ends at {root}, which is not one of the trusted roots"),
                vec![root.clone()],
            ),
        };
        v.findings.push(Finding {
            rule_id: id,
            severity: default_severity(id),
            message,
            names,
        });
    }
    v.passed = !v.findings.iter().any(|f| f.severity == Severity::Error);
    v
}

/// Whether the uses need their names in SANs. A certificate only for OAuthTokenIssuer signs
/// server-to-server tokens and is named by its subject alone: "any Web server certificate that
/// includes the name of your SIP domain in the Subject field" (assign-a-server-to-server-
/// certificate.md); Lync's certificate summaries list its SANs as "No Entry".
fn needs_names_in_san(uses: &[CertType]) -> bool {
    uses.is_empty() || uses.iter().any(|u| *u != CertType::OAuthTokenIssuer)
}

/// Check 1.
fn check_san_presence(item: &Inspected, log: &mut Log) {
    if !item.san_present {
        log.push(
            "SAN-MISSING",
            "the certificate has no subjectAltName extension; TLS peers match names only against SANs".into(),
            item.subject_cn.clone(),
        );
    } else if item.dns_names.is_empty() && item.srv_names.is_empty() && item.xmpp_addrs.is_empty() {
        let mut names = item.uris.clone();
        names.extend(item.ip_addresses.iter().cloned());
        log.push(
            "SAN-NO-IDENTITY",
            "the subjectAltName holds no DNS name, SRVName or XmppAddr".into(),
            names,
        );
    }
}

fn same_name(a: &str, b: &str) -> bool {
    let a = a.strip_suffix('.').unwrap_or(a);
    let b = b.strip_suffix('.').unwrap_or(b);
    a.eq_ignore_ascii_case(b)
}

/// Check 2.
fn check_cn_in_san(item: &Inspected, edge: bool, log: &mut Log) {
    for cn in &item.subject_cn {
        if !item.dns_names.iter().any(|d| same_name(d, cn)) {
            let (severity, why) = if edge {
                (
                    Severity::Error,
                    "an Edge external certificate must repeat it: federation peers read only SANs",
                )
            } else {
                (
                    Severity::Warning,
                    "TLS clients that follow RFC 9525 read only SANs",
                )
            };
            log.push_with(
                "CN-NOT-IN-SAN",
                severity,
                format!("subject CN {cn} is not a DNS SAN; {why}"),
                vec![cn.clone()],
            );
        }
    }
}

/// A wildcard in the only form RFC 9525 matches: `*` as the whole left-most label, then at
/// least one label and no other `*`.
fn wildcard_is_well_formed(name: &str) -> bool {
    match name.strip_prefix("*.") {
        Some(rest) => !rest.is_empty() && !rest.contains('*'),
        None => false,
    }
}

/// The Public Suffix List, the same one identity matching uses.
fn is_public_suffix(parent: &str) -> bool {
    super::identity::is_public_suffix(parent)
}

/// Check 3.
fn check_wildcards(item: &Inspected, edge: bool, log: &mut Log) {
    let cns: Vec<String> = item
        .subject_cn
        .iter()
        .filter(|c| c.contains('*'))
        .cloned()
        .collect();
    if !cns.is_empty() {
        log.push(
            "WILDCARD-IN-SUBJECT",
            format!(
                "the subject CN {} holds a wildcard; Lync needs a host name in the subject",
                cns.join(", ")
            ),
            cns,
        );
    }
    let wild: Vec<&String> = item.dns_names.iter().filter(|d| d.contains('*')).collect();
    if edge && !wild.is_empty() {
        log.push(
            "WILDCARD-ON-EDGE",
            format!(
                "wildcard SANs are not supported on Edge external certificates: {}",
                join(&wild)
            ),
            wild.iter().map(|s| s.to_string()).collect(),
        );
    }
    for name in wild {
        if !wildcard_is_well_formed(name) {
            let in_alabel = name
                .split('.')
                .any(|l| l.contains('*') && l.len() >= 4 && l[..4].eq_ignore_ascii_case("xn--"));
            let what = if in_alabel {
                "a wildcard inside an xn-- label"
            } else {
                "the wildcard must be exactly `*` as the whole left-most label, once"
            };
            log.push(
                "WILDCARD-MALFORMED",
                format!("{name}: {what}; it never matches any name"),
                vec![name.clone()],
            );
        } else if is_public_suffix(&name[2..]) {
            log.push(
                "WILDCARD-PUBLIC-SUFFIX",
                format!(
                    "{name} is a wildcard directly under the public suffix {}",
                    &name[2..]
                ),
                vec![name.clone()],
            );
        }
    }
}

/// Check 4.
fn check_name_syntax(item: &Inspected, log: &mut Log) {
    for name in &item.dns_names {
        if !name.is_ascii() {
            log.push(
                "NAME-NON-ASCII",
                format!("dNSName {name} is not ASCII; an IDN must be written as A-labels (xn--)"),
                vec![name.clone()],
            );
            continue;
        }
        let mut problems: Vec<String> = Vec::new();
        if name.len() > 253 {
            problems.push(format!("{} octets, over 253", name.len()));
        }
        if name.contains('_') {
            problems.push("an underscore".into());
        }
        if is_ip_literal(name) {
            problems.push("an IP literal (use an iPAddress SAN)".into());
        }
        let mut bad_alabels = Vec::new();
        for label in name.split('.') {
            if label.is_empty() {
                problems.push("an empty label".into());
            } else if label.len() > 63 {
                problems.push(format!("a label of {} octets, over 63", label.len()));
            } else if !label.contains('*') // wildcards are check 3's business
                && !label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                problems.push(format!(
                    "a character outside letters, digits and hyphen in `{label}`"
                ));
            }
            if label.len() >= 4
                && label[..4].eq_ignore_ascii_case("xn--")
                && !label.contains('*')
                && !alabel_round_trips(label)
            {
                bad_alabels.push(label);
            }
        }
        problems.dedup();
        if !problems.is_empty() {
            log.push(
                "NAME-SYNTAX",
                format!("dNSName {name} has {}", problems.join(", ")),
                vec![name.clone()],
            );
        }
        if !bad_alabels.is_empty() {
            log.push(
                "NAME-BAD-ALABEL",
                format!(
                    "dNSName {name}: {} does not decode to a valid IDN label that encodes back to itself",
                    bad_alabels.join(", ")
                ),
                vec![name.clone()],
            );
        }
    }
    for srv in &item.srv_names {
        if !srv.value.is_ascii() {
            log.push(
                "NAME-NON-ASCII",
                format!(
                    "SRVName {} is not ASCII; an IDN must be written as A-labels (xn--)",
                    srv.value
                ),
                vec![srv.value.clone()],
            );
        }
    }
}

/// An A-label is valid when its Punycode decodes to a non-ASCII U-label that IDNA maps back to
/// the same (lowercased) A-label.
fn alabel_round_trips(label: &str) -> bool {
    let Some(unicode) = idna::punycode::decode_to_string(&label[4..]) else {
        return false;
    };
    if unicode.is_ascii() {
        return false;
    }
    match idna::domain_to_ascii_strict(&unicode) {
        Ok(back) => back.eq_ignore_ascii_case(label),
        Err(_) => false,
    }
}

/// Check 5.
fn check_san_criticality(item: &Inspected, log: &mut Log) {
    if !item.san_present {
        return;
    }
    if item.san_critical && !item.subject.is_empty() {
        log.push(
            "SAN-CRITICALITY",
            "the SAN extension is marked critical although the subject is not empty; RFC 5280 wants it critical only with an empty subject".into(),
            vec![item.subject.clone()],
        );
    } else if !item.san_critical && item.subject.is_empty() {
        log.push(
            "SAN-CRITICALITY",
            "the subject is empty but the SAN extension is not critical (RFC 5280 4.2.1.6)".into(),
            Vec::new(),
        );
    }
}

/// Check 6.
fn check_other_names(item: &Inspected, log: &mut Log) {
    for x in &item.xmpp_addrs {
        if !x.well_typed {
            log.push(
                "XMPPADDR-TYPE",
                format!(
                    "XmppAddr {} is not a UTF8String (RFC 6120 13.7.1.4); peers will not read it",
                    x.value
                ),
                vec![x.value.clone()],
            );
        }
        if x.value.contains(['@', '/']) {
            log.push(
                "XMPPADDR-USER-JID",
                format!("XmppAddr {} is a user or full JID; a server certificate should hold the bare domain", x.value),
                vec![x.value.clone()],
            );
        }
    }
    for s in &item.srv_names {
        if !s.well_typed {
            log.push(
                "SRVNAME-TYPE",
                format!(
                    "SRVName {} is not an IA5String (RFC 4985); peers will not read it",
                    s.value
                ),
                vec![s.value.clone()],
            );
        }
        let ok = s.value.split_once('.').is_some_and(|(svc, name)| {
            svc.len() > 1
                && svc.starts_with('_')
                && svc[1..]
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && normalize_reference(name).is_some()
        });
        if !ok {
            log.push(
                "SRVNAME-SYNTAX",
                format!(
                    "SRVName {:?} is not of the form _service.name (e.g. _xmpp-server.contoso.com)",
                    s.value
                ),
                vec![s.value.clone()],
            );
        }
    }
}

fn normalized_domain(d: &str) -> String {
    match normalize_reference(d.trim()) {
        Some(n) => n.to_ascii_lowercase(),
        None => d.trim().to_string(),
    }
}

/// Check 7.
fn check_xmpp(item: &Inspected, exp: &Expectations, log: &mut Log) -> Vec<DomainCoverage> {
    let mut out = Vec::with_capacity(exp.xmpp_domains.len());
    for raw in &exp.xmpp_domains {
        let domain = normalized_domain(raw);
        let covered_by = xmpp_s2s_coverage(item, &domain);
        if covered_by.is_empty() {
            report_uncovered_xmpp(item, &domain, log);
        } else if !covered_by
            .iter()
            .any(|c| matches!(c, CoveredBy::DnsName | CoveredBy::Wildcard))
        {
            let forms: Vec<&str> = covered_by.iter().map(|c| form_name(*c)).collect();
            log.push(
                "XMPP-WEAK-COVERAGE",
                format!(
                    "XMPP domain {domain} is covered only by {}; some XMPP servers ignore that form, so add {domain} as a DNS SAN to work with every peer",
                    forms.join(" and ")
                ),
                vec![domain.clone()],
            );
        }
        out.push(DomainCoverage {
            covered: !covered_by.is_empty(),
            domain,
            covered_by,
        });
    }
    out
}

fn form_name(c: CoveredBy) -> &'static str {
    match c {
        CoveredBy::DnsName => "a DNS SAN",
        CoveredBy::Wildcard => "a wildcard DNS SAN",
        CoveredBy::SrvName => "an SRV-ID (_xmpp-server)",
        CoveredBy::XmppAddr => "an XmppAddr",
        CoveredBy::CommonName => "the subject CN",
    }
}

fn report_uncovered_xmpp(item: &Inspected, domain: &str, log: &mut Log) {
    if item
        .srv_names
        .iter()
        .any(|s| srv_id_matches(&s.value, "_xmpp-client", domain))
    {
        log.push(
            "XMPP-CLIENT-SRV-ONLY",
            format!(
                "XMPP domain {domain} is named only by the SRV-ID _xmpp-client.{domain}, which is for client connections; server-to-server federation needs _xmpp-server.{domain} or a DNS SAN {domain}"
            ),
            vec![domain.to_string()],
        );
        return;
    }
    // The nearest parent domain that the certificate covers, if any.
    let mut parent = domain;
    while let Some((_, rest)) = parent.split_once('.') {
        parent = rest;
        if !parent.contains('.') {
            break;
        }
        if !xmpp_s2s_coverage(item, parent).is_empty() {
            log.push(
                "XMPP-CHILD-DOMAIN",
                format!(
                    "XMPP domain {domain} is not covered: the certificate names {parent}, but a SAN for {parent} does NOT cover its child domain {domain}. XMPP peers compare the whole domain name (RFC 6120 13.7.2), not a suffix, whatever Microsoft's planning page suggests; add {domain} itself as a SAN"
                ),
                vec![domain.to_string(), parent.to_string()],
            );
            return;
        }
    }
    log.push(
        "XMPP-NOT-COVERED",
        format!(
            "XMPP domain {domain} is not covered: add {domain} as a DNS SAN (or at least _xmpp-server.{domain} as an SRVName)"
        ),
        vec![domain.to_string()],
    );
}

/// Check 8.
fn check_sip(item: &Inspected, exp: &Expectations, log: &mut Log) -> Vec<DomainCoverage> {
    let edge_ok = match &exp.access_edge_fqdn {
        Some(fqdn) => {
            let ok = item
                .dns_names
                .iter()
                .any(|d| super::identity::dns_id_matches(d, fqdn) == Some(MatchKind::Exact));
            if !ok {
                log.push(
                    "ACCESS-EDGE-MISSING",
                    format!("the Access Edge external FQDN {fqdn} is not a DNS SAN"),
                    vec![fqdn.clone()],
                );
            }
            ok
        }
        None => true,
    };
    let mut out = Vec::with_capacity(exp.sip_domains.len());
    for raw in &exp.sip_domains {
        let domain = normalized_domain(raw);
        let covered_by = sip_coverage(item, &domain);
        if covered_by.is_empty() {
            log.push(
                "SIP-DOMAIN-NOT-COVERED",
                format!("SIP domain {domain} needs the DNS SAN sip.{domain} (its _sipfederationtls._tcp SRV record points there)"),
                vec![domain.clone(), format!("sip.{domain}")],
            );
        }
        out.push(DomainCoverage {
            covered: edge_ok && !covered_by.is_empty(),
            domain,
            covered_by,
        });
    }
    out
}

/// Check 9.
fn check_end_entity(item: &Inspected, log: &mut Log) {
    if item.basic_constraints_ca == Some(true) {
        log.push(
            "BASIC-CONSTRAINTS-CA",
            "basicConstraints says cA=TRUE; a server certificate must be an end-entity certificate"
                .into(),
            vec![item.subject.clone()],
        );
    }
    if item.subject.is_empty() {
        log.push(
            "SUBJECT-EMPTY",
            "the subject is empty; Lync needs the pool or Edge FQDN as subject CN".into(),
            Vec::new(),
        );
    }
}

/// Uses whose peers check the initiating side's certificate: the Edge's external federation
/// (SIP federation and public IM through the Access Edge, XMPP server-to-server) and
/// server-to-server authentication. A Front End's default certificate is not among them: its
/// MTLS peers are Lync servers that do not require the Client Authentication EKU.
fn peers_check_initiator(u: CertType) -> bool {
    matches!(
        u,
        CertType::External
            | CertType::AccessEdgeExternal
            | CertType::XmppServer
            | CertType::OAuthTokenIssuer
    )
}

/// Check 10.
fn check_eku(item: &Inspected, exp: &Expectations, log: &mut Log) {
    let Some(eku) = &item.eku else {
        log.push(
            "EKU-NO-SERVER-AUTH",
            format!("there is no extendedKeyUsage extension; Lync requires Server Authentication ({OID_SERVER_AUTH})"),
            vec![OID_SERVER_AUTH.into()],
        );
        return;
    };
    let has = |oid: &str| eku.iter().any(|e| e == oid || e == OID_ANY_EKU);
    if !has(OID_SERVER_AUTH) {
        log.push(
            "EKU-NO-SERVER-AUTH",
            format!("the EKU lacks Server Authentication ({OID_SERVER_AUTH})"),
            eku.clone(),
        );
    }
    let client_uses: Vec<String> = exp
        .uses
        .iter()
        .filter(|u| peers_check_initiator(**u))
        .map(|u| u.name().to_string())
        .collect();
    if !client_uses.is_empty() && !has(OID_CLIENT_AUTH) {
        log.push(
            "EKU-NO-CLIENT-AUTH",
            format!("the EKU lacks Client Authentication ({OID_CLIENT_AUTH}), which peers that check the initiating side require for {}: request it with -ClientEKU $true from a CA that still issues it, since public CAs stopped including Client Authentication in server certificates in 2026", client_uses.join(", ")),
            client_uses,
        );
    }
}

/// Check 11.
fn check_key_and_signature(item: &Inspected, log: &mut Log) {
    let key = &item.key;
    let small = match key.algorithm.as_str() {
        "RSA" | "RSASSA-PSS" => key.bits < 2048,
        "EC" => key.bits < 256,
        _ => false,
    };
    if small {
        log.push(
            "KEY-TOO-SMALL",
            format!(
                "{} key of {} bits; use RSA 2048 or more (or P-256 or larger)",
                key.algorithm, key.bits
            ),
            vec![key.algorithm.clone()],
        );
    }
    if SHA1_SIGNATURES.contains(&item.signature_alg.as_str()) {
        log.push(
            "SIGNATURE-SHA1",
            format!(
                "signed with SHA-1 ({}); Lync accepts it but use SHA-256 or stronger",
                item.signature_alg
            ),
            vec![item.signature_alg.clone()],
        );
    }
    if WEAK_SIGNATURES.contains(&item.signature_alg.as_str()) {
        log.push(
            "SIGNATURE-WEAK",
            format!(
                "signed with MD2/MD5 ({}); use SHA-256 or stronger",
                item.signature_alg
            ),
            vec![item.signature_alg.clone()],
        );
    }
    if item.signature_alg == OID_RSA_PSS || key.algorithm == "RSASSA-PSS" {
        log.push(
            "SIGNATURE-RSA-PSS",
            "RSASSA-PSS is used; Lync cannot use RSASSA-PSS certificates, use PKCS#1 v1.5 (sha256WithRSAEncryption)".into(),
            vec![OID_RSA_PSS.into()],
        );
    }
    if let Some(ku) = item.key_usage {
        let mut missing = Vec::new();
        if !ku.digital_signature {
            missing.push("digitalSignature".to_string());
        }
        if key.algorithm == "RSA" && !ku.key_encipherment {
            missing.push("keyEncipherment".to_string());
        }
        if !missing.is_empty() && matches!(key.algorithm.as_str(), "RSA" | "EC") {
            log.push(
                "KEY-USAGE",
                format!(
                    "keyUsage lacks {} for an {} key; TLS servers need it",
                    missing.join(" and "),
                    key.algorithm
                ),
                missing,
            );
        }
    }
}

/// Check 12: certificates only (a request has no validity period).
fn check_validity(item: &Inspected, exp: &Expectations, log: &mut Log) {
    if item.kind != Kind::Certificate {
        return;
    }
    let stamp = |t: &DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    if let Some(na) = &item.not_after {
        if *na < exp.now {
            log.push(
                "EXPIRED",
                format!(
                    "the certificate expired at {} (checked at {})",
                    stamp(na),
                    stamp(&exp.now)
                ),
                vec![stamp(na)],
            );
        }
    }
    if let Some(nb) = &item.not_before {
        if *nb > exp.now {
            log.push(
                "NOT-YET-VALID",
                format!(
                    "the certificate is not valid before {} (checked at {})",
                    stamp(nb),
                    stamp(&exp.now)
                ),
                vec![stamp(nb)],
            );
        }
    }
}

/// Check 13.
fn check_exportable(exp: &Expectations, log: &mut Log) {
    if exp.key_exportable != Some(false) {
        return;
    }
    let uses: Vec<String> = exp
        .uses
        .iter()
        .filter(|u| u.needs_exportable_key())
        .map(|u| u.name().to_string())
        .collect();
    if !uses.is_empty() {
        log.push(
            "KEY-NOT-EXPORTABLE",
            format!("the private key is not exportable, but {} needs it: every Edge pool member must hold the same key", uses.join(", ")),
            uses,
        );
    }
}

/// The role group a use belongs to (uses in one group normally share a certificate).
fn role_group(u: CertType) -> &'static str {
    if u.is_edge_external() {
        "Edge external"
    } else if u.is_front_end() {
        "Front End / web"
    } else {
        match u {
            CertType::Internal => "Edge internal",
            CertType::OAuthTokenIssuer => "OAuth token issuer",
            CertType::IPhoneAPNService | CertType::IPadAPNService | CertType::MPNService => {
                "mobility push"
            }
            _ => "other",
        }
    }
}

/// Check 14 (a heuristic): the uses span several role groups, or the DNS-IDs span three or more
/// parent domains (last two labels).
fn check_many_services(item: &Inspected, exp: &Expectations, log: &mut Log) {
    let mut groups: Vec<&str> = exp.uses.iter().map(|u| role_group(*u)).collect();
    groups.sort_unstable();
    groups.dedup();
    if groups.len() >= 2 {
        log.push(
            "MANY-SERVICES",
            format!("one certificate serves unrelated roles ({}); RFC 9525 recommends one certificate per service", groups.join(", ")),
            groups.iter().map(|g| g.to_string()).collect(),
        );
    }
    let mut bases: Vec<String> = item
        .dns_names
        .iter()
        .filter(|d| super::identity::is_valid_presented(d))
        .filter_map(|d| {
            let d = d.strip_prefix("*.").unwrap_or(d);
            let mut it = d.rsplitn(3, '.');
            let tld = it.next()?;
            let sld = it.next()?;
            Some(format!("{sld}.{tld}").to_ascii_lowercase())
        })
        .collect();
    bases.sort_unstable();
    bases.dedup();
    if bases.len() >= 3 {
        log.push(
            "MANY-SERVICES",
            format!("the SANs span {} separate domains ({}); RFC 9525 discourages one certificate for many unrelated services", bases.len(), bases.join(", ")),
            bases,
        );
    }
}

/// Check 15.
fn check_legacy_attribute(item: &Inspected, log: &mut Log) {
    if item.kind == Kind::Request && item.san_from_legacy_ms_attribute {
        let also = if item.san_from_extension_request {
            " (it is also in extensionRequest)"
        } else {
            "; CAs other than Microsoft's ignore it and will issue without SANs"
        };
        log.push(
            "REQUEST-LEGACY-SAN-ATTRIBUTE",
            format!("the request carries its SANs in Microsoft's legacy attribute 1.3.6.1.4.1.311.2.1.14 instead of the PKCS#9 extensionRequest{also}"),
            item.dns_names.clone(),
        );
    }
}

fn join(v: &[&String]) -> String {
    v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
}

/// docs/rules.md, generated from [`RULES`] so that the two cannot drift apart.
pub fn rules_markdown() -> String {
    let mut s = String::from(
        "# Test-CsCertificate rules\n\n\
         Generated from `RULES` in `src/pki/validate.rs` (a unit test keeps this file in sync).\n\
         `Check` is the numbered check in `certificates.md`. A result passes when it has no\n\
         Error finding.\n\n\
         | Rule id | Check | Severity | Meaning |\n|---|---|---|---|\n",
    );
    for r in RULES {
        s.push_str(&format!(
            "| `{}` | {} | {:?} | {} |\n",
            r.id, r.check, r.severity, r.description
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::inspect::{KeyInfo, KeyUsageBits, OtherId};
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
    }

    fn oid(v: &str, ok: bool) -> OtherId {
        OtherId {
            value: v.into(),
            well_typed: ok,
        }
    }

    /// The Edge certificate of certificates.md's example, with nothing wrong.
    fn good() -> Inspected {
        Inspected {
            kind: Kind::Certificate,
            subject: "CN=sip.contoso.com, O=Contoso, C=US".into(),
            subject_cn: vec!["sip.contoso.com".into()],
            dns_names: vec![
                "sip.contoso.com".into(),
                "webcon.contoso.com".into(),
                "sip.fabrikam.com".into(),
                "contoso.com".into(),
            ],
            srv_names: vec![],
            xmpp_addrs: vec![],
            uris: vec![],
            ip_addresses: vec![],
            san_present: true,
            san_critical: false,
            san_malformed: false,
            san_from_extension_request: false,
            san_from_legacy_ms_attribute: false,
            eku: Some(vec![OID_SERVER_AUTH.into(), OID_CLIENT_AUTH.into()]),
            key_usage: Some(KeyUsageBits {
                digital_signature: true,
                key_encipherment: true,
                ..Default::default()
            }),
            basic_constraints_ca: Some(false),
            key: KeyInfo {
                algorithm: "RSA".into(),
                bits: 2048,
                curve: None,
            },
            signature_alg: "1.2.840.113549.1.1.11".into(),
            not_before: Some(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()),
            not_after: Some(Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap()),
            issuer: Some("CN=Public CA".into()),
            serial: Some("01".into()),
            thumbprint: Some("00".repeat(20)),
            spki_der: vec![],
        }
    }

    fn edge_exp() -> Expectations {
        Expectations {
            uses: vec![
                CertType::AccessEdgeExternal,
                CertType::DataEdgeExternal,
                CertType::XmppServer,
            ],
            xmpp_domains: vec!["contoso.com".into()],
            sip_domains: vec!["contoso.com".into(), "fabrikam.com".into()],
            access_edge_fqdn: Some("sip.contoso.com".into()),
            key_exportable: Some(true),
            now: now(),
        }
    }

    fn ids(v: &Verdict) -> Vec<&'static str> {
        v.findings.iter().map(|f| f.rule_id).collect()
    }

    fn finding<'a>(v: &'a Verdict, id: &str) -> &'a Finding {
        v.findings
            .iter()
            .find(|f| f.rule_id == id)
            .unwrap_or_else(|| panic!("no {id} in {:?}", ids(v)))
    }

    /// Runs `mutate` on the good certificate and expectations and checks that `id` (and only
    /// rules in `allowed_too`) fire.
    fn fires(
        id: &str,
        allowed_too: &[&str],
        mutate: impl FnOnce(&mut Inspected, &mut Expectations),
    ) -> Verdict {
        let mut item = good();
        let mut exp = edge_exp();
        mutate(&mut item, &mut exp);
        let v = validate(&item, &exp);
        assert!(ids(&v).contains(&id), "{id} did not fire: {:?}", v.findings);
        for f in &v.findings {
            assert!(
                f.rule_id == id || allowed_too.contains(&f.rule_id),
                "unexpected {} alongside {id}: {}",
                f.rule_id,
                f.message
            );
        }
        v
    }

    #[test]
    fn good_edge_certificate_passes_clean() {
        let v = validate(&good(), &edge_exp());
        assert!(v.findings.is_empty(), "{:?}", v.findings);
        assert!(v.passed);
        assert_eq!(
            v.xmpp_domains,
            vec![DomainCoverage {
                domain: "contoso.com".into(),
                covered: true,
                covered_by: vec![CoveredBy::DnsName]
            }]
        );
        assert!(v.sip_domains.iter().all(|d| d.covered));
    }

    #[test]
    fn rule_table_is_consistent() {
        let mut seen = std::collections::HashSet::new();
        for r in RULES {
            assert!(seen.insert(r.id), "duplicate rule id {}", r.id);
            assert!((1..=15).contains(&r.check));
        }
        for check in 1..=15u8 {
            assert!(
                RULES.iter().any(|r| r.check == check),
                "check {check} has no rule"
            );
        }
    }

    #[test]
    fn docs_rules_md_is_generated_from_the_table() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules.md");
        // CSCERT_BLESS=1 rewrites the file after a deliberate change to RULES.
        if std::env::var_os("CSCERT_BLESS").is_some() {
            std::fs::write(path, rules_markdown()).unwrap();
        }
        let doc = std::fs::read_to_string(path).expect("docs/rules.md is missing");
        assert_eq!(
            doc,
            rules_markdown(),
            "rerun with CSCERT_BLESS=1 to regenerate docs/rules.md"
        );
    }

    #[test]
    fn serde_shape() {
        let v = fires(
            "SAN-MISSING",
            &[
                "CN-NOT-IN-SAN",
                "ACCESS-EDGE-MISSING",
                "SIP-DOMAIN-NOT-COVERED",
                "XMPP-NOT-COVERED",
            ],
            |i, _| {
                i.san_present = false;
                i.dns_names.clear();
            },
        );
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(json["Findings"][0]["RuleId"], "SAN-MISSING");
        assert_eq!(json["Findings"][0]["Severity"], "Error");
        assert!(json["Findings"][0]["Names"].is_array());
        assert_eq!(json["XmppDomains"][0]["Domain"], "contoso.com");
        assert_eq!(json["XmppDomains"][0]["Covered"], false);
        assert_eq!(json["Passed"], false);
        assert_eq!(serde_json::to_value(CoveredBy::SrvName).unwrap(), "SrvName");
        assert_eq!(
            serde_json::to_value(Severity::Information).unwrap(),
            "Information"
        );
    }

    // Check 1
    #[test]
    fn san_missing() {
        let v = fires(
            "SAN-MISSING",
            &[
                "CN-NOT-IN-SAN",
                "ACCESS-EDGE-MISSING",
                "SIP-DOMAIN-NOT-COVERED",
                "XMPP-NOT-COVERED",
            ],
            |i, _| {
                i.san_present = false;
                i.dns_names.clear();
            },
        );
        // Every finding is pushed, not only the first.
        assert!(v.findings.len() >= 4);
        assert!(!v.passed);
    }

    #[test]
    fn san_no_identity() {
        fires("SAN-NO-IDENTITY", &[], |i, e| {
            i.dns_names.clear();
            i.uris = vec!["sip:contoso.com".into()];
            i.subject_cn.clear();
            i.subject = "O=Contoso".into();
            *e = Expectations::new(now());
            e.uses = vec![CertType::WebServicesInternal];
        });
    }

    // Check 2
    #[test]
    fn cn_not_in_san_is_error_on_edge_and_warning_elsewhere() {
        let v = fires("CN-NOT-IN-SAN", &[], |i, _| {
            i.subject_cn = vec!["edge.contoso.com".into()];
        });
        assert_eq!(finding(&v, "CN-NOT-IN-SAN").severity, Severity::Error);
        let mut item = good();
        item.subject_cn = vec!["edge.contoso.com".into()];
        let mut exp = Expectations::new(now());
        exp.uses = vec![CertType::WebServicesInternal];
        let v = validate(&item, &exp);
        assert_eq!(finding(&v, "CN-NOT-IN-SAN").severity, Severity::Warning);
        assert!(v.passed);
    }

    // Check 3
    #[test]
    fn wildcard_in_subject() {
        fires("WILDCARD-IN-SUBJECT", &["CN-NOT-IN-SAN"], |i, _| {
            i.subject_cn = vec!["*.contoso.com".into()];
        });
    }

    #[test]
    fn wildcard_on_edge() {
        fires("WILDCARD-ON-EDGE", &[], |i, _| {
            i.dns_names.push("*.contoso.com".into())
        });
        // The same SAN is fine for a web certificate.
        let mut item = good();
        item.dns_names.push("*.contoso.com".into());
        let mut exp = Expectations::new(now());
        exp.uses = vec![CertType::WebServicesExternal];
        assert!(validate(&item, &exp).findings.is_empty());
    }

    #[test]
    fn wildcard_malformed() {
        for bad in [
            "f*.contoso.com",
            "*.*.contoso.com",
            "a.*.contoso.com",
            "xn--*.contoso.com",
        ] {
            let v = fires(
                "WILDCARD-MALFORMED",
                &["WILDCARD-ON-EDGE", "NAME-SYNTAX"],
                |i, _| i.dns_names.push(bad.into()),
            );
            assert!(finding(&v, "WILDCARD-MALFORMED")
                .names
                .contains(&bad.to_string()));
        }
        let v = fires("WILDCARD-MALFORMED", &["WILDCARD-ON-EDGE"], |i, _| {
            i.dns_names.push("xn--*.contoso.com".into())
        });
        assert!(finding(&v, "WILDCARD-MALFORMED").message.contains("xn--"));
    }

    #[test]
    fn wildcard_public_suffix() {
        for bad in ["*.com", "*.co.uk"] {
            fires(
                "WILDCARD-PUBLIC-SUFFIX",
                &["WILDCARD-ON-EDGE", "MANY-SERVICES"],
                |i, _| i.dns_names.push(bad.into()),
            );
        }
    }

    // Check 4
    #[test]
    fn name_non_ascii() {
        fires("NAME-NON-ASCII", &[], |i, _| {
            i.dns_names.push("bücher.contoso.com".into())
        });
        fires("NAME-NON-ASCII", &[], |i, _| {
            i.srv_names.push(oid("_xmpp-server.bücher.example", true))
        });
    }

    #[test]
    fn name_bad_alabel() {
        // "xn--a" decodes to U+0080, not a valid label; "xn--abc" decodes to ASCII-less junk or
        // fails; "xn--bcher-kva" is valid and must not fire.
        fires("NAME-BAD-ALABEL", &[], |i, _| {
            i.dns_names.push("xn--a.contoso.com".into())
        });
        fires("NAME-BAD-ALABEL", &[], |i, _| {
            i.dns_names.push("xn--BCHER-KVA0.contoso.com".into())
        });
        let mut item = good();
        item.dns_names.push("xn--bcher-kva.contoso.com".into());
        assert!(validate(&item, &edge_exp()).findings.is_empty());
    }

    #[test]
    fn name_syntax() {
        for (bad, what) in [
            ("_sip._tls.contoso.com", "underscore"),
            ("192.0.2.1", "IP literal"),
            ("a..contoso.com", "empty label"),
            ("contoso.com.", "empty label"),
            ("con toso.com", "character"),
        ] {
            let v = fires("NAME-SYNTAX", &[], |i, _| i.dns_names.push(bad.into()));
            assert!(finding(&v, "NAME-SYNTAX").message.contains(what), "{bad}");
        }
        let long_label = format!("{}.contoso.com", "a".repeat(64));
        let v = fires("NAME-SYNTAX", &[], |i, _| i.dns_names.push(long_label));
        assert!(finding(&v, "NAME-SYNTAX").message.contains("over 63"));
        let long_name = vec!["abcdefghi"; 26].join(".") + ".com";
        let v = fires("NAME-SYNTAX", &["MANY-SERVICES"], |i, _| {
            i.dns_names.push(long_name)
        });
        assert!(finding(&v, "NAME-SYNTAX").message.contains("over 253"));
    }

    // Check 5
    #[test]
    fn san_criticality() {
        fires("SAN-CRITICALITY", &[], |i, _| i.san_critical = true);
        fires(
            "SAN-CRITICALITY",
            &["SUBJECT-EMPTY", "CN-NOT-IN-SAN"],
            |i, _| {
                i.subject.clear();
                i.subject_cn.clear();
            },
        );
        // Empty subject with a critical SAN is what RFC 5280 asks for.
        let mut item = good();
        item.subject.clear();
        item.subject_cn.clear();
        item.san_critical = true;
        assert_eq!(ids(&validate(&item, &edge_exp())), vec!["SUBJECT-EMPTY"]);
    }

    // Check 6
    #[test]
    fn xmpp_addr_type() {
        fires("XMPPADDR-TYPE", &[], |i, _| {
            i.xmpp_addrs.push(oid("contoso.com", false))
        });
    }

    #[test]
    fn srv_name_type() {
        fires("SRVNAME-TYPE", &[], |i, _| {
            i.srv_names.push(oid("_xmpp-server.contoso.com", false))
        });
    }

    #[test]
    fn srv_name_syntax() {
        for bad in [
            "xmpp-server.contoso.com",
            "_xmpp-server",
            "_.contoso.com",
            "_xmpp-server..com",
        ] {
            fires("SRVNAME-SYNTAX", &[], |i, _| {
                i.srv_names.push(oid(bad, true))
            });
        }
    }

    #[test]
    fn xmpp_addr_user_jid() {
        let v = fires("XMPPADDR-USER-JID", &[], |i, _| {
            i.xmpp_addrs.push(oid("admin@contoso.com", true))
        });
        assert_eq!(finding(&v, "XMPPADDR-USER-JID").severity, Severity::Warning);
        assert!(v.passed);
    }

    // Check 7
    #[test]
    fn xmpp_not_covered() {
        let v = fires("XMPP-NOT-COVERED", &[], |_, e| {
            e.xmpp_domains = vec!["litware.com".into()]
        });
        assert!(!v.xmpp_domains[0].covered);
    }

    #[test]
    fn xmpp_weak_coverage_srv_and_xmpp_addr() {
        let v = fires("XMPP-WEAK-COVERAGE", &[], |i, e| {
            i.srv_names.push(oid("_xmpp-server.corp.contoso.com", true));
            i.xmpp_addrs.push(oid("corp.contoso.com", true));
            e.xmpp_domains = vec!["corp.contoso.com".into()];
        });
        assert_eq!(
            v.xmpp_domains[0].covered_by,
            vec![CoveredBy::SrvName, CoveredBy::XmppAddr]
        );
        assert!(v.xmpp_domains[0].covered);
        assert!(v.passed);
    }

    #[test]
    fn xmpp_client_srv_only() {
        fires("XMPP-CLIENT-SRV-ONLY", &[], |i, e| {
            i.srv_names.push(oid("_xmpp-client.litware.com", true));
            e.xmpp_domains = vec!["litware.com".into()];
        });
    }

    #[test]
    fn xmpp_child_domain_is_explained() {
        let v = fires("XMPP-CHILD-DOMAIN", &[], |_, e| {
            e.xmpp_domains = vec!["corp.contoso.com".into()];
        });
        let f = finding(&v, "XMPP-CHILD-DOMAIN");
        assert!(
            f.message
                .contains("a SAN for contoso.com does NOT cover its child domain corp.contoso.com"),
            "{}",
            f.message
        );
        assert_eq!(
            f.names,
            vec!["corp.contoso.com".to_string(), "contoso.com".to_string()]
        );
        assert!(!v.xmpp_domains[0].covered);
    }

    // Check 8
    #[test]
    fn sip_domain_not_covered() {
        let v = fires("SIP-DOMAIN-NOT-COVERED", &[], |_, e| {
            e.sip_domains.push("litware.com".into())
        });
        assert_eq!(
            finding(&v, "SIP-DOMAIN-NOT-COVERED").names,
            vec!["litware.com".to_string(), "sip.litware.com".to_string()]
        );
        assert!(!v.sip_domains[2].covered);
    }

    #[test]
    fn access_edge_missing() {
        let v = fires("ACCESS-EDGE-MISSING", &[], |_, e| {
            e.access_edge_fqdn = Some("access.contoso.com".into())
        });
        assert!(v.sip_domains.iter().all(|d| !d.covered));
    }

    // Check 9
    #[test]
    fn basic_constraints_ca() {
        fires("BASIC-CONSTRAINTS-CA", &[], |i, _| {
            i.basic_constraints_ca = Some(true)
        });
    }

    #[test]
    fn subject_empty() {
        fires("SUBJECT-EMPTY", &["CN-NOT-IN-SAN"], |i, _| {
            i.subject.clear();
            i.subject_cn.clear();
            i.san_critical = true;
        });
    }

    // Check 10
    #[test]
    fn eku_no_server_auth() {
        fires("EKU-NO-SERVER-AUTH", &[], |i, _| {
            i.eku = Some(vec![OID_CLIENT_AUTH.into()])
        });
        fires("EKU-NO-SERVER-AUTH", &[], |i, _| i.eku = None);
    }

    #[test]
    fn eku_no_client_auth() {
        let v = fires("EKU-NO-CLIENT-AUTH", &[], |i, _| {
            i.eku = Some(vec![OID_SERVER_AUTH.into()])
        });
        assert!(v.passed);
        // Not for a use that never initiates TLS.
        let mut item = good();
        item.eku = Some(vec![OID_SERVER_AUTH.into()]);
        let mut exp = Expectations::new(now());
        exp.uses = vec![CertType::WebServicesExternal];
        assert!(validate(&item, &exp).findings.is_empty());
    }

    /// Issue 11 item 13: the warning only for uses whose peers check the initiating side, with
    /// the fix and the 2026 public-CA change in its one sentence. Source: certificates.md check 10
    /// ("initiating s2s and MTLS SIP peers may refuse; public CAs stopped issuing clientAuth in
    /// 2026") and Request-CsCertificate's -ClientEKU (cmdlets.md).
    #[test]
    fn item_13_eku_no_client_auth_only_for_initiating_uses() {
        let mut item = good();
        item.eku = Some(vec![OID_SERVER_AUTH.into()]);
        let with = |uses: &[CertType]| {
            let mut exp = Expectations::new(now());
            exp.uses = uses.to_vec();
            validate(&item, &exp)
                .findings
                .into_iter()
                .find(|f| f.rule_id == "EKU-NO-CLIENT-AUTH")
        };
        use CertType::*;
        for quiet in [
            &[][..],
            &[Default, WebServicesInternal, WebServicesExternal],
            &[Internal],
            &[DataEdgeExternal, AudioVideoAuthentication],
        ] {
            assert_eq!(with(quiet), None, "{quiet:?}");
        }
        for loud in [
            &[
                AccessEdgeExternal,
                DataEdgeExternal,
                AudioVideoAuthentication,
            ][..],
            &[XmppServer],
            &[External],
            &[OAuthTokenIssuer],
        ] {
            let f = with(loud).unwrap_or_else(|| panic!("{loud:?}"));
            assert!(f.message.contains("-ClientEKU $true"), "{}", f.message);
            assert!(f.message.contains("2026"), "{}", f.message);
            assert_eq!(
                f.message.matches(". ").count(),
                0,
                "one sentence: {}",
                f.message
            );
        }
        let f = with(&[AccessEdgeExternal, DataEdgeExternal]).unwrap();
        assert_eq!(f.names, vec!["AccessEdgeExternal"]);
    }

    /// Issue 11 item 1: an OAuthTokenIssuer certificate is named by its subject (the SIP
    /// domain) and needs no SAN. Source: assign-a-server-to-server-certificate.md ("any Web server
    /// certificate that includes the name of your SIP domain in the Subject field") and Lync's
    /// certificate summaries (OAuthTokenIssuer: subject alternative names "No Entry").
    #[test]
    fn item_01_oauth_token_issuer_needs_no_san() {
        let mut item = good();
        item.san_present = false;
        item.dns_names.clear();
        item.srv_names.clear();
        item.xmpp_addrs.clear();
        item.subject_cn = vec!["contoso.com".into()];
        let run = |uses: Vec<CertType>| {
            let mut exp = Expectations::new(now());
            exp.uses = uses;
            validate(&item, &exp)
        };
        let v = run(vec![CertType::OAuthTokenIssuer]);
        assert!(
            !v.findings
                .iter()
                .any(|f| f.rule_id.starts_with("SAN-") || f.rule_id == "CN-NOT-IN-SAN"),
            "{:?}",
            v.findings
        );
        // Any other use still needs its names in SANs.
        let v = run(vec![CertType::OAuthTokenIssuer, CertType::Default]);
        assert!(v.findings.iter().any(|f| f.rule_id == "SAN-MISSING"));
        assert!(!v.passed);
    }

    // Check 11
    #[test]
    fn key_too_small() {
        fires("KEY-TOO-SMALL", &[], |i, _| i.key.bits = 1024);
    }

    #[test]
    fn signature_sha1() {
        let v = fires("SIGNATURE-SHA1", &[], |i, _| {
            i.signature_alg = "1.2.840.113549.1.1.5".into()
        });
        assert!(v.passed);
    }

    #[test]
    fn signature_weak() {
        fires("SIGNATURE-WEAK", &[], |i, _| {
            i.signature_alg = "1.2.840.113549.1.1.4".into()
        });
    }

    #[test]
    fn signature_rsa_pss() {
        fires("SIGNATURE-RSA-PSS", &[], |i, _| {
            i.signature_alg = OID_RSA_PSS.into()
        });
    }

    #[test]
    fn key_usage() {
        let v = fires("KEY-USAGE", &[], |i, _| {
            i.key_usage = Some(KeyUsageBits {
                digital_signature: true,
                ..Default::default()
            })
        });
        assert_eq!(
            finding(&v, "KEY-USAGE").names,
            vec!["keyEncipherment".to_string()]
        );
        // An EC key needs no keyEncipherment.
        let mut item = good();
        item.key = KeyInfo {
            algorithm: "EC".into(),
            bits: 256,
            curve: Some("P-256".into()),
        };
        item.key_usage = Some(KeyUsageBits {
            digital_signature: true,
            ..Default::default()
        });
        assert!(validate(&item, &edge_exp()).findings.is_empty());
    }

    // Check 12
    #[test]
    fn expired() {
        fires("EXPIRED", &[], |_, e| {
            e.now = Utc.with_ymd_and_hms(2027, 6, 1, 0, 0, 0).unwrap()
        });
    }

    #[test]
    fn not_yet_valid() {
        fires("NOT-YET-VALID", &[], |_, e| {
            e.now = Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).unwrap()
        });
    }

    #[test]
    fn requests_have_no_validity_check() {
        let mut item = good();
        item.kind = Kind::Request;
        let mut exp = edge_exp();
        exp.now = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
        assert!(validate(&item, &exp).findings.is_empty());
    }

    // Check 13
    #[test]
    fn key_not_exportable() {
        let v = fires("KEY-NOT-EXPORTABLE", &[], |_, e| {
            e.key_exportable = Some(false)
        });
        assert_eq!(
            finding(&v, "KEY-NOT-EXPORTABLE").names,
            vec!["AccessEdgeExternal", "DataEdgeExternal", "XmppServer"]
        );
        // Unknown exportability (a file, not the store) is not a finding.
        let mut exp = edge_exp();
        exp.key_exportable = None;
        assert!(validate(&good(), &exp).findings.is_empty());
    }

    // Check 14
    #[test]
    fn many_services() {
        let v = fires("MANY-SERVICES", &[], |_, e| {
            e.uses.push(CertType::WebServicesExternal)
        });
        assert_eq!(finding(&v, "MANY-SERVICES").severity, Severity::Information);
        fires("MANY-SERVICES", &["SIP-DOMAIN-NOT-COVERED"], |i, _| {
            i.dns_names.push("sip.litware.com".into());
        });
    }

    // Check 15
    #[test]
    fn request_legacy_san_attribute() {
        fires("REQUEST-LEGACY-SAN-ATTRIBUTE", &[], |i, _| {
            i.kind = Kind::Request;
            i.san_from_legacy_ms_attribute = true;
        });
    }
}

#[cfg(test)]
mod fixture_tests {
    use super::*;
    use crate::pki::inspect::inspect_bytes;

    fn load(name: &str) -> Inspected {
        let p = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/identities/");
        let bytes = std::fs::read(format!("{p}{name}")).expect("fixture missing");
        inspect_bytes(&bytes).unwrap().remove(0)
    }

    #[test]
    fn openssl_edge_certificate_coverage() {
        let item = load("edge-xmpp.crt");
        let mut exp = Expectations::new(item.not_before.unwrap() + chrono::Duration::days(1));
        exp.uses = vec![CertType::AccessEdgeExternal, CertType::XmppServer];
        exp.access_edge_fqdn = Some("sip.contoso.com".into());
        exp.sip_domains = vec!["contoso.com".into(), "fabrikam.com".into()];
        exp.xmpp_domains = vec![
            "contoso.com".into(),
            "corp.contoso.com".into(),
            "finance.contoso.com".into(),
            "sales.contoso.com".into(),
        ];
        let v = validate(&item, &exp);
        let cov: Vec<_> = v
            .xmpp_domains
            .iter()
            .map(|d| (d.domain.as_str(), d.covered_by.clone()))
            .collect();
        use CoveredBy::*;
        assert_eq!(
            cov,
            vec![
                ("contoso.com", vec![DnsName, SrvName, XmppAddr]),
                ("corp.contoso.com", vec![SrvName]),
                ("finance.contoso.com", vec![XmppAddr]),
                ("sales.contoso.com", vec![]),
            ]
        );
        let ids: Vec<_> = v.findings.iter().map(|f| f.rule_id).collect();
        assert_eq!(
            ids,
            vec![
                "XMPP-WEAK-COVERAGE",
                "XMPP-WEAK-COVERAGE",
                "XMPP-CHILD-DOMAIN"
            ]
        );
        assert!(!v.passed);
    }

    #[test]
    fn openssl_cn_only_and_bad_types() {
        let now = |i: &Inspected| i.not_before.unwrap() + chrono::Duration::days(1);
        let cn = load("cn-only.der");
        let v = validate(&cn, &Expectations::new(now(&cn)));
        let ids: Vec<_> = v.findings.iter().map(|f| f.rule_id).collect();
        // No uses given: no EKU-NO-CLIENT-AUTH (issue 11 item 13: only for uses whose peers
        // check the initiating side).
        assert_eq!(ids, vec!["SAN-MISSING", "CN-NOT-IN-SAN"]);
        let bad = load("badtypes.csr");
        let v = validate(&bad, &Expectations::new(now(&cn)));
        let ids: Vec<_> = v.findings.iter().map(|f| f.rule_id).collect();
        assert_eq!(ids, vec!["XMPPADDR-TYPE", "SRVNAME-TYPE"]);
    }
}
