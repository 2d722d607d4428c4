//! Checks 1-3: the names a certificate presents (SAN presence, the CN repeated as a DNS SAN,
//! wildcards).

use super::{Log, RuleId as R, Severity};
use crate::model::CertType;
use crate::pki::inspect::Inspected;

/// Whether the uses need their names in SANs. A certificate only for OAuthTokenIssuer signs
/// server-to-server tokens and is named by its subject alone: "any Web server certificate that
/// includes the name of your SIP domain in the Subject field" (assign-a-server-to-server-
/// certificate.md); Lync's certificate summaries list its SANs as "No Entry".
pub(super) fn needs_names_in_san(uses: &[CertType]) -> bool {
    uses.is_empty() || uses.iter().any(|u| *u != CertType::OAuthTokenIssuer)
}

/// Check 1.
pub(super) fn check_san_presence(item: &Inspected, log: &mut Log) {
    if !item.san_present {
        log.push(
            R::SanMissing,
            "the certificate has no subjectAltName extension; TLS peers match names only against SANs".into(),
            item.subject_cn.clone(),
        );
    } else if item.dns_names.is_empty() && item.srv_names.is_empty() && item.xmpp_addrs.is_empty() {
        let mut names = item.uris.clone();
        names.extend(item.ip_addresses.iter().cloned());
        log.push(
            R::SanNoIdentity,
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
pub(super) fn check_cn_in_san(item: &Inspected, edge: bool, log: &mut Log) {
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
                R::CnNotInSan,
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
    crate::pki::identity::is_public_suffix(parent)
}

/// Check 3.
pub(super) fn check_wildcards(item: &Inspected, edge: bool, log: &mut Log) {
    let cns: Vec<String> = item
        .subject_cn
        .iter()
        .filter(|c| c.contains('*'))
        .cloned()
        .collect();
    if !cns.is_empty() {
        log.push(
            R::WildcardInSubject,
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
            R::WildcardOnEdge,
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
                R::WildcardMalformed,
                format!("{name}: {what}; it never matches any name"),
                vec![name.clone()],
            );
        } else if is_public_suffix(&name[2..]) {
            log.push(
                R::WildcardPublicSuffix,
                format!(
                    "{name} is a wildcard directly under the public suffix {}",
                    &name[2..]
                ),
                vec![name.clone()],
            );
        }
    }
}

fn join(v: &[&String]) -> String {
    v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::super::*;

    // Check 1
    #[test]
    fn san_missing() {
        let v = without_san();
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
}
