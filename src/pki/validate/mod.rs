//! Test-CsCertificate's rules: every check of docs/reference/certificates.md ("Checks") as a
//! finding with a stable rule id.
//!
//! Like x509-parser's `validate/`, small validators compose into one log: this file holds the
//! rule table, the log and the verdict; each family of checks lives in its own file and pushes
//! findings by [`RuleId`] (a typo is a compile error, and every id has its row in [`RULES`]).
//!
//! - `names`: checks 1-3 (SAN presence, CN repeated in SAN, wildcards)
//! - `name_syntax`: checks 4-6 (dNSName/SRVName syntax, SAN criticality, otherName types)
//! - `federation`: checks 7-8 (XMPP and SIP domain coverage, Access Edge FQDN)
//! - `profile`: checks 9-11 and 13 (end entity, EKU, key size and usage, exportability)
//! - `signatures`: check 11 (signature algorithms, and the chain walk's findings)
//! - `validity`: check 12
//! - `heuristics`: checks 14-15 (many services, legacy request attribute)

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::identity::CoveredBy;
use super::inspect::Inspected;
use crate::model::CertType;

mod federation;
mod heuristics;
mod name_syntax;
mod names;
mod profile;
mod signatures;
mod validity;

#[cfg(test)]
mod fixture_tests;
#[cfg(test)]
mod testkit;

pub use signatures::with_chain;

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
    pub rule_id: RuleId,
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
    pub id: RuleId,
    /// The numbered check of docs/reference/certificates.md ("Checks") this rule implements.
    pub check: u8,
    pub severity: Severity,
    pub description: &'static str,
}

/// One declaration makes the enum, its wire strings and the table, so they cannot disagree.
macro_rules! rules {
    ($($variant:ident = $id:literal, $check:literal, $sev:ident, $desc:literal;)*) => {
        /// A rule's id; serialised (and displayed) as the string in docs/rules.md.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum RuleId {
            $($variant,)*
        }

        impl RuleId {
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(RuleId::$variant => $id,)*
                }
            }
        }

        /// Every rule, in the order findings are reported.
        pub const RULES: &[RuleInfo] = &[
            $(RuleInfo { id: RuleId::$variant, check: $check, severity: $sev, description: $desc },)*
        ];
    };
}

use Severity::{Error as E, Information as I, Warning as W};

rules! {
SanMissing = "SAN-MISSING", 1, E, "No subjectAltName extension (not checked for a certificate only for OAuthTokenIssuer, which is named by its subject).";
SanNoIdentity = "SAN-NO-IDENTITY", 1, E, "The subjectAltName holds no DNS name, SRVName or XmppAddr identity.";
CnNotInSan = "CN-NOT-IN-SAN", 2, E, "A subject CN is not repeated as a DNS SAN (Error for Edge external uses, Warning otherwise: TLS peers read only SANs).";
WildcardInSubject = "WILDCARD-IN-SUBJECT", 3, E, "The subject CN holds a wildcard.";
WildcardOnEdge = "WILDCARD-ON-EDGE", 3, E, "A wildcard DNS SAN on a certificate for an Edge external use (not supported).";
WildcardMalformed = "WILDCARD-MALFORMED", 3, E, "A wildcard that is partial, multiple, not the whole left-most label, or inside an xn-- label; it never matches.";
WildcardPublicSuffix = "WILDCARD-PUBLIC-SUFFIX", 3, E, "A wildcard directly under a public suffix (`*.com`, `*.co.uk`).";
NameNonAscii = "NAME-NON-ASCII", 4, E, "Non-ASCII characters in a dNSName or SRVName (IDNs must be A-labels).";
NameBadALabel = "NAME-BAD-ALABEL", 4, E, "An xn-- label that does not decode as Punycode or does not round-trip through IDNA.";
NameSyntax = "NAME-SYNTAX", 4, E, "A dNSName with an underscore, an IP literal, an empty label, a character outside letters/digits/hyphen, a label over 63 or a name over 253 octets.";
SanCriticality = "SAN-CRITICALITY", 5, E, "The SAN extension is critical while the subject is non-empty, or not critical with an empty subject (RFC 5280 4.2.1.6).";
XmppAddrType = "XMPPADDR-TYPE", 6, E, "An XmppAddr otherName that is not a UTF8String.";
SrvNameType = "SRVNAME-TYPE", 6, E, "An SRVName otherName that is not an IA5String.";
SrvNameSyntax = "SRVNAME-SYNTAX", 6, E, "An SRVName that is not `_service.name`.";
XmppAddrUserJid = "XMPPADDR-USER-JID", 6, W, "An XmppAddr holding a user or full JID (`user@domain`, `domain/resource`) in a server certificate.";
XmppNotCovered = "XMPP-NOT-COVERED", 7, E, "A requested XMPP domain is not covered by any identity.";
XmppWeakCoverage = "XMPP-WEAK-COVERAGE", 7, W, "An XMPP domain is covered only through an SRV-ID, an XmppAddr or the subject CN, which some peers ignore; only a DNS-ID works with every peer.";
XmppClientSrvOnly = "XMPP-CLIENT-SRV-ONLY", 7, E, "An XMPP domain is named only by an `_xmpp-client` SRV-ID, which does not cover server-to-server federation.";
XmppChildDomain = "XMPP-CHILD-DOMAIN", 7, E, "An XMPP child domain is not listed although its parent is: a SAN for contoso.com does not cover corp.contoso.com.";
SipDomainNotCovered = "SIP-DOMAIN-NOT-COVERED", 8, E, "A SIP domain without its `sip.<domain>` DNS SAN.";
AccessEdgeMissing = "ACCESS-EDGE-MISSING", 8, E, "The Access Edge external FQDN is not a DNS SAN.";
BasicConstraintsCa = "BASIC-CONSTRAINTS-CA", 9, E, "basicConstraints cA=TRUE on an end-entity certificate or request.";
SubjectEmpty = "SUBJECT-EMPTY", 9, E, "The subject is empty.";
EkuNoServerAuth = "EKU-NO-SERVER-AUTH", 10, E, "No Server Authentication EKU (1.3.6.1.5.5.7.3.1), or no EKU extension at all.";
EkuNoClientAuth = "EKU-NO-CLIENT-AUTH", 10, W, "No Client Authentication EKU (1.3.6.1.5.5.7.3.2) for a use whose peers check the initiating side (External, AccessEdgeExternal, XmppServer, OAuthTokenIssuer); the fix is -ClientEKU $true, from a CA that still issues it after the 2026 public-CA change.";
KeyTooSmall = "KEY-TOO-SMALL", 11, E, "RSA key under 2048 bits, or EC key under 256 bits.";
SignatureSha1 = "SIGNATURE-SHA1", 11, W, "SHA-1 signature (accepted by Lync, but weak).";
SignatureWeak = "SIGNATURE-WEAK", 11, E, "MD2/MD5 signature.";
SignatureRsaPss = "SIGNATURE-RSA-PSS", 11, E, "RSASSA-PSS signature or key, which Lync cannot use.";
KeyUsage = "KEY-USAGE", 11, E, "keyUsage lacks digitalSignature or keyEncipherment for an RSA key (digitalSignature for EC).";
Expired = "EXPIRED", 12, E, "The certificate has expired at the time checked.";
NotYetValid = "NOT-YET-VALID", 12, E, "The certificate is not yet valid at the time checked.";
KeyNotExportable = "KEY-NOT-EXPORTABLE", 13, E, "The private key is not exportable but an Edge external or A/V use needs it (an Edge pool shares one key).";
ManyServices = "MANY-SERVICES", 14, I, "One certificate for many unrelated services or domains (RFC 9525 discourages it).";
RequestLegacySanAttribute = "REQUEST-LEGACY-SAN-ATTRIBUTE", 15, W, "A request carries its SANs in Microsoft's legacy attribute 1.3.6.1.4.1.311.2.1.14 instead of the PKCS#9 extensionRequest.";
SignatureInvalid = "SIGNATURE-INVALID", 11, E, "The signature does not verify with the key of its issuer (known from the file, the chain, the store, -TrustedRoot or, when none of these knows it, the operating system's trust store): the certificate was altered or forged.";
ChainIncomplete = "CHAIN-INCOMPLETE", 11, E, "With -TrustedRoot: an issuer in the chain is not in the file, the chain, the store or the trusted roots, so the chain cannot be built.";
RootUntrusted = "ROOT-UNTRUSTED", 11, E, "With -TrustedRoot: the chain ends at a root that is not one of the trusted roots.";
IssuerUnknown = "ISSUER-UNKNOWN", 11, W, "Without -TrustedRoot: the issuer is not in the file, the chain, the store or the operating system's trust store, so the signature was not verified (give -TrustedRoot, or import the issuing CA, to make it an error).";}

impl RuleId {
    /// The rule's row in [`RULES`] (the macro lists both in the same order).
    pub fn info(self) -> &'static RuleInfo {
        &RULES[self as usize]
    }

    pub fn default_severity(self) -> Severity {
        self.info().severity
    }
}

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for RuleId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Callers that held the id as a `&'static str` (comparisons, `starts_with`) keep working.
impl std::ops::Deref for RuleId {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for RuleId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for RuleId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// The findings of one run, in the order the checks push them.
struct Log(Vec<Finding>);

impl Log {
    fn push(&mut self, rule_id: RuleId, message: String, names: Vec<String>) {
        self.push_with(rule_id, rule_id.default_severity(), message, names);
    }

    fn push_with(
        &mut self,
        rule_id: RuleId,
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

/// Runs every rule against one inspected certificate or request and records all findings.
pub fn validate(item: &Inspected, exp: &Expectations) -> Verdict {
    let mut log = Log(Vec::new());
    let edge = exp.uses.iter().any(|u| u.is_edge_external());

    if names::needs_names_in_san(&exp.uses) {
        names::check_san_presence(item, &mut log);
        names::check_cn_in_san(item, edge, &mut log);
    }
    names::check_wildcards(item, edge, &mut log);
    name_syntax::check_name_syntax(item, &mut log);
    name_syntax::check_san_criticality(item, &mut log);
    name_syntax::check_other_names(item, &mut log);
    let xmpp_domains = federation::check_xmpp(item, exp, &mut log);
    let sip_domains = federation::check_sip(item, exp, &mut log);
    profile::check_end_entity(item, &mut log);
    profile::check_eku(item, exp, &mut log);
    // Check 11 in its historical order: key size, signature algorithm, key usage.
    profile::check_key_size(item, &mut log);
    signatures::check_algorithm(item, &mut log);
    profile::check_key_usage(item, &mut log);
    validity::check_validity(item, exp, &mut log);
    profile::check_exportable(exp, &mut log);
    heuristics::check_many_services(item, exp, &mut log);
    heuristics::check_legacy_attribute(item, &mut log);

    let passed = !log.0.iter().any(|f| f.severity == Severity::Error);
    Verdict {
        findings: log.0,
        xmpp_domains,
        sip_domains,
        passed,
    }
}

/// docs/rules.md, generated from [`RULES`] so that the two cannot drift apart.
pub fn rules_markdown() -> String {
    let mut s = String::from(
        "# Test-CsCertificate rules\n\n\
         Generated from `RULES` in `src/pki/validate/mod.rs` (a unit test keeps this file in sync).\n\
         `Check` is the numbered check in `docs/reference/certificates.md` (\"Checks\"). A result\n\
         passes when it has no Error finding.\n\n\
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
    use super::testkit::*;
    use super::*;

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
        let v = without_san();
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
}
