//! RFC 9525 service-identity matching: DNS-IDs (with wildcards), SRV-IDs, XmppAddr, and which forms cover a domain.

use std::borrow::Cow;

use serde::Serialize;

use super::inspect::Inspected;

/// How a presented DNS-ID matched a reference identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum MatchKind {
    Exact,
    Wildcard,
}

/// The identity forms that can make a certificate cover a domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum CoveredBy {
    /// A SAN dNSName equal to the name.
    DnsName,
    /// A SAN dNSName `*.parent` matching the name.
    Wildcard,
    /// A SAN SRVName `_service.name` for the service asked for.
    SrvName,
    /// A SAN XmppAddr holding the bare domain.
    XmppAddr,
    /// The subject CN; only used when the certificate has no DNS-ID, SRV-ID, URI-ID or XmppAddr
    /// at all (the legacy fallback RFC 9525 dropped).
    CommonName,
}

/// Longest DNS name and label, in octets (RFC 1035).
const MAX_NAME: usize = 253;
const MAX_LABEL: usize = 63;

/// RFC 9525 §6.3 comparison of a presented DNS-ID with a reference DNS domain name.
///
/// Invalid presented names never match; the reference may carry one trailing dot and may be an
/// IDN in U-labels (converted to A-labels first). Wildcards match exactly one whole left-most
/// label and need at least two labels after them (`*.com` never matches).
pub fn dns_id_matches(presented: &str, reference: &str) -> Option<MatchKind> {
    let reference = normalize_reference(reference)?;
    let reference = reference.as_ref();
    if !is_valid_presented(presented) {
        return None;
    }
    if presented.eq_ignore_ascii_case(reference) {
        return Some(MatchKind::Exact);
    }
    let parent = presented.strip_prefix("*.")?;
    // Never directly under a public suffix of any length (`*.com`, `*.co.uk`,
    // `*.s3.amazonaws.com`): such a wildcard would cover other people's names.
    if !parent.contains('.') || is_public_suffix(parent) {
        return None;
    }
    let (first, rest) = reference.split_once('.')?;
    (!first.is_empty() && rest.eq_ignore_ascii_case(parent)).then_some(MatchKind::Wildcard)
}

/// Whether `name` is itself a public suffix by the Public Suffix List (ICANN and private
/// sections, vendored with the `psl` crate): single labels always are.
pub fn is_public_suffix(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    !name.contains('.') || psl::suffix_str(&name) == Some(name.as_str())
}

/// A reference name in comparable form: trailing dot removed, U-labels converted to A-labels.
/// `None` when it cannot be a DNS name (empty labels, IP literal, wildcard, bad IDN).
pub fn normalize_reference(reference: &str) -> Option<Cow<'_, str>> {
    let r = reference.strip_suffix('.').unwrap_or(reference);
    let r: Cow<str> = if r.is_ascii() {
        Cow::Borrowed(r)
    } else {
        Cow::Owned(idna::domain_to_ascii(r).ok()?)
    };
    if r.is_empty()
        || r.len() > MAX_NAME
        || r.contains('*')
        || r.split('.')
            .any(|l| l.is_empty() || l.len() > MAX_LABEL || !l.bytes().all(is_name_byte))
        || is_ip_literal(&r)
    {
        return None;
    }
    Some(r)
}

/// Bytes a reference may hold: LDH plus `_` (so SRV-style owner names still compare).
fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// Whether a presented DNS-ID is syntactically usable: ASCII LDH labels (`*` alone as the
/// left-most label), no empty label, no trailing dot, no underscore, not an IP literal, no
/// wildcard in or next to an A-label, within DNS length limits.
pub fn is_valid_presented(presented: &str) -> bool {
    if presented.is_empty() || presented.len() > MAX_NAME || !presented.is_ascii() {
        return false;
    }
    if is_ip_literal(presented) {
        return false;
    }
    for (i, label) in presented.split('.').enumerate() {
        if label == "*" && i == 0 {
            continue;
        }
        if label.is_empty()
            || label.len() > MAX_LABEL
            || label.starts_with('-')
            || label.ends_with('-')
            || !label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return false;
        }
    }
    true
}

/// IPv4/IPv6 literals, and names whose last label is all digits (never a valid host name, and
/// what shortened IPv4 forms such as `10.1` look like).
pub fn is_ip_literal(name: &str) -> bool {
    let name = name
        .strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .unwrap_or(name);
    // Only hex digits, dots and colons can make an IP address: skip the parser for host names.
    if name
        .bytes()
        .all(|b| b.is_ascii_hexdigit() || b == b'.' || b == b':')
        && name.parse::<std::net::IpAddr>().is_ok()
    {
        return true;
    }
    name.rsplit('.')
        .next()
        .is_some_and(|last| !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether an SRVName `_service.name` (RFC 4985) names `service` (with its leading `_`, e.g.
/// `_xmpp-server`) for `reference`. SRV-IDs have no wildcards.
pub fn srv_id_matches(presented: &str, service: &str, reference: &str) -> bool {
    let Some((svc, name)) = presented.split_once('.') else {
        return false;
    };
    if !svc.eq_ignore_ascii_case(service) || name.contains('*') || !is_valid_presented(name) {
        return false;
    }
    matches!(dns_id_matches(name, reference), Some(MatchKind::Exact))
}

/// Whether an XmppAddr is the bare domain `reference` (no localpart, no resource). The JID may
/// be in U-labels: it is converted before comparing.
pub fn xmpp_addr_matches(presented: &str, reference: &str) -> bool {
    if presented.contains(['@', '/', '*']) || presented.is_empty() {
        return false;
    }
    let Some(reference) = normalize_reference(reference) else {
        return false;
    };
    let presented = presented.strip_suffix('.').unwrap_or(presented);
    if presented.is_ascii() {
        presented.eq_ignore_ascii_case(&reference)
    } else {
        idna::domain_to_ascii(presented).is_ok_and(|a| a.eq_ignore_ascii_case(&reference))
    }
}

/// Whether the certificate has any identity RFC 9525 looks at (so that CN-IDs are ignored).
pub fn has_san_identity(item: &Inspected) -> bool {
    !item.dns_names.is_empty()
        || !item.srv_names.is_empty()
        || !item.uris.is_empty()
        || !item.xmpp_addrs.is_empty()
}

fn push_once(v: &mut Vec<CoveredBy>, c: CoveredBy) {
    if !v.contains(&c) {
        v.push(c);
    }
}

/// DNS-ID (and legacy CN-ID) coverage of `name`.
fn dns_coverage(item: &Inspected, name: &str, out: &mut Vec<CoveredBy>) {
    for p in &item.dns_names {
        match dns_id_matches(p, name) {
            Some(MatchKind::Exact) => push_once(out, CoveredBy::DnsName),
            Some(MatchKind::Wildcard) => push_once(out, CoveredBy::Wildcard),
            None => {}
        }
    }
    // The CN is a fallback only for a certificate without a SAN extension at all: a SAN that
    // cannot be decoded, or that holds only IP addresses, must not turn on CN matching.
    if !item.san_present
        && !has_san_identity(item)
        && item
            .subject_cn
            .iter()
            .any(|cn| dns_id_matches(cn, name).is_some())
    {
        push_once(out, CoveredBy::CommonName);
    }
}

/// Every form that covers `domain` for XMPP server-to-server federation (RFC 6120 §13.7.1.2):
/// DNS-ID (exact or wildcard), SRV-ID `_xmpp-server.<domain>`, bare-domain XmppAddr, and the
/// subject CN only for a certificate without any SAN identity. Ill-typed otherNames do not
/// count: a strict peer cannot decode them. Empty when not covered.
pub fn xmpp_s2s_coverage(item: &Inspected, domain: &str) -> Vec<CoveredBy> {
    let mut out = Vec::new();
    dns_coverage(item, domain, &mut out);
    if item
        .srv_names
        .iter()
        .any(|s| s.well_typed && srv_id_matches(&s.value, "_xmpp-server", domain))
    {
        push_once(&mut out, CoveredBy::SrvName);
    }
    if item
        .xmpp_addrs
        .iter()
        .any(|x| x.well_typed && xmpp_addr_matches(&x.value, domain))
    {
        push_once(&mut out, CoveredBy::XmppAddr);
    }
    out
}

/// The forms that make `sip.<sip_domain>` a presented identity — the Lync convention for SIP
/// federation (the domain's `_sipfederationtls._tcp` SRV record points there). Whether the
/// Access Edge FQDN is present is checked separately by the validator.
pub fn sip_coverage(item: &Inspected, sip_domain: &str) -> Vec<CoveredBy> {
    let mut out = Vec::new();
    let domain = sip_domain.strip_suffix('.').unwrap_or(sip_domain);
    if domain.is_empty() {
        return out;
    }
    dns_coverage(item, &format!("sip.{domain}"), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::inspect::{Inspected, KeyInfo, Kind, OtherId};

    const E: Option<MatchKind> = Some(MatchKind::Exact);
    const W: Option<MatchKind> = Some(MatchKind::Wildcard);
    const N: Option<MatchKind> = None;

    /// (presented, reference, expected)
    const CASES: &[(&str, &str, Option<MatchKind>)] = &[
        // exact and case
        ("contoso.com", "contoso.com", E),
        ("sip.contoso.com", "sip.contoso.com", E),
        ("SIP.Contoso.COM", "sip.contoso.com", E),
        ("sip.contoso.com", "SIP.CONTOSO.COM", E),
        ("sip.contoso.com", "sip.contoso.org", N),
        ("sip.contoso.com", "contoso.com", N),
        ("contoso.com", "sip.contoso.com", N),
        ("a-b.contoso.com", "a-b.contoso.com", E),
        ("localhost", "localhost", E),
        ("contoso.com", "contoso.co", N),
        ("contoso.co", "contoso.com", N),
        // trailing dot
        ("contoso.com", "contoso.com.", E),
        ("sip.contoso.com", "SIP.contoso.com.", E),
        ("contoso.com.", "contoso.com", N),
        ("contoso.com", "contoso.com..", N),
        ("*.contoso.com", "a.contoso.com.", W),
        // valid wildcards
        ("*.contoso.com", "a.contoso.com", W),
        ("*.contoso.com", "WWW.CONTOSO.COM", W),
        ("*.CONTOSO.com", "www.contoso.com", W),
        ("*.a.contoso.com", "b.a.contoso.com", W),
        ("*.contoso.com", "xn--bcher-kva.contoso.com", W),
        ("*.contoso.com", "bücher.contoso.com", W),
        // wildcard: apex, two levels, other parents
        ("*.contoso.com", "contoso.com", N),
        ("*.contoso.com", "b.a.contoso.com", N),
        ("*.contoso.com", "a.fabrikam.com", N),
        ("*.contoso.com", "acontoso.com", N),
        ("*.contoso.com", ".contoso.com", N),
        // wildcard on a single-label parent
        ("*.com", "contoso.com", N),
        ("*", "contoso", N),
        // partial, embedded, multiple, non-left-most
        ("f*.contoso.com", "foo.contoso.com", N),
        ("*o.contoso.com", "foo.contoso.com", N),
        ("f*o.contoso.com", "foo.contoso.com", N),
        ("**.contoso.com", "a.contoso.com", N),
        ("*.*.contoso.com", "a.b.contoso.com", N),
        ("a.*.contoso.com", "a.b.contoso.com", N),
        ("sip.*.com", "sip.contoso.com", N),
        ("sip.contoso.*", "sip.contoso.com", N),
        ("*.contoso.com", "*.contoso.com", N),
        // wildcards in A-labels
        ("xn--*.contoso.com", "xn--bcher-kva.contoso.com", N),
        ("xn--bcher*.contoso.com", "xn--bcher-kva.contoso.com", N),
        ("*xn--bcher-kva.contoso.com", "xn--bcher-kva.contoso.com", N),
        // IDNs
        ("xn--bcher-kva.example", "bücher.example", E),
        ("xn--bcher-kva.example", "BÜCHER.example", E),
        ("XN--BCHER-KVA.example", "xn--bcher-kva.example", E),
        ("xn--bcher-kva.example", "xn--bcher-kva.example", E),
        ("bücher.example", "bücher.example", N),
        ("bücher.example", "xn--bcher-kva.example", N),
        ("xn--bcher-kva.example", "bucher.example", N),
        ("münchen.de", "xn--mnchen-3ya.de", N),
        // empty labels
        ("", "contoso.com", N),
        ("contoso.com", "", N),
        ("a..contoso.com", "a..contoso.com", N),
        (".contoso.com", ".contoso.com", N),
        ("contoso..com", "contoso.com", N),
        ("*..contoso.com", "a..contoso.com", N),
        ("contoso.com", ".", N),
        // IP literals
        ("192.0.2.1", "192.0.2.1", N),
        ("*.0.2.1", "192.0.2.1", N),
        ("2001:db8::1", "2001:db8::1", N),
        ("contoso.com", "192.0.2.1", N),
        ("10.1", "10.1", N),
        ("host1.contoso.com", "host1.contoso.com", E),
        ("1host.contoso.com", "1host.contoso.com", E),
        // underscores
        ("_xmpp-server.contoso.com", "_xmpp-server.contoso.com", N),
        ("a_b.contoso.com", "a_b.contoso.com", N),
        ("*.contoso.com", "a_b.contoso.com", W),
        // bad characters and hyphens
        ("con toso.com", "con toso.com", N),
        ("-contoso.com", "-contoso.com", N),
        ("contoso-.com", "contoso-.com", N),
        ("sip.contoso.com/x", "sip.contoso.com", N),
    ];

    #[test]
    fn rfc9525_matching_table() {
        assert!(CASES.len() >= 60);
        let mut failures = Vec::new();
        for &(p, r, want) in CASES {
            let got = dns_id_matches(p, r);
            if got != want {
                failures.push(format!("{p:?} vs {r:?}: want {want:?}, got {got:?}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn long_labels_and_names() {
        let l63 = "a".repeat(63);
        let l64 = "a".repeat(64);
        assert_eq!(
            dns_id_matches(&format!("{l63}.com"), &format!("{l63}.com")),
            E
        );
        assert_eq!(
            dns_id_matches(&format!("{l64}.com"), &format!("{l64}.com")),
            N
        );
        let long = vec!["abcdefghi"; 26].join(".");
        assert!(long.len() > MAX_NAME);
        assert_eq!(dns_id_matches(&long, &long), N);
    }

    #[test]
    fn srv_and_xmpp_addr() {
        assert!(srv_id_matches(
            "_xmpp-server.contoso.com",
            "_xmpp-server",
            "contoso.com"
        ));
        assert!(srv_id_matches(
            "_XMPP-Server.Contoso.com",
            "_xmpp-server",
            "contoso.com."
        ));
        assert!(!srv_id_matches(
            "_xmpp-client.contoso.com",
            "_xmpp-server",
            "contoso.com"
        ));
        assert!(!srv_id_matches(
            "_xmpp-server.*.com",
            "_xmpp-server",
            "contoso.com"
        ));
        assert!(!srv_id_matches(
            "_xmpp-server",
            "_xmpp-server",
            "contoso.com"
        ));
        assert!(!srv_id_matches(
            "_xmpp-server.contoso.com",
            "_xmpp-server",
            "corp.contoso.com"
        ));
        assert!(xmpp_addr_matches("contoso.com", "CONTOSO.com"));
        assert!(xmpp_addr_matches("bücher.example", "xn--bcher-kva.example"));
        assert!(!xmpp_addr_matches("user@contoso.com", "contoso.com"));
        assert!(!xmpp_addr_matches("contoso.com/res", "contoso.com"));
        assert!(!xmpp_addr_matches("contoso.com", "corp.contoso.com"));
    }

    fn item() -> Inspected {
        Inspected {
            kind: Kind::Certificate,
            subject: "CN=sip.contoso.com".into(),
            subject_cn: vec!["sip.contoso.com".into()],
            dns_names: vec![],
            srv_names: vec![],
            xmpp_addrs: vec![],
            uris: vec![],
            ip_addresses: vec![],
            san_present: false,
            san_critical: false,
            san_malformed: false,
            san_from_extension_request: false,
            san_from_legacy_ms_attribute: false,
            eku: None,
            key_usage: None,
            basic_constraints_ca: None,
            key: KeyInfo {
                algorithm: "RSA".into(),
                bits: 2048,
                curve: None,
            },
            signature_alg: "1.2.840.113549.1.1.11".into(),
            not_before: None,
            not_after: None,
            issuer: None,
            serial: None,
            thumbprint: None,
            spki_der: vec![],
        }
    }

    fn oid(v: &str, ok: bool) -> OtherId {
        OtherId {
            value: v.into(),
            well_typed: ok,
        }
    }

    #[test]
    fn xmpp_coverage_reports_every_form() {
        let mut i = item();
        i.dns_names = vec!["contoso.com".into(), "*.contoso.com".into()];
        i.srv_names = vec![oid("_xmpp-server.corp.contoso.com", true)];
        i.xmpp_addrs = vec![oid("corp.contoso.com", true)];
        assert_eq!(
            xmpp_s2s_coverage(&i, "contoso.com"),
            vec![CoveredBy::DnsName]
        );
        assert_eq!(
            xmpp_s2s_coverage(&i, "corp.contoso.com"),
            vec![CoveredBy::Wildcard, CoveredBy::SrvName, CoveredBy::XmppAddr]
        );
        assert!(xmpp_s2s_coverage(&i, "a.corp.contoso.com").is_empty());
    }

    #[test]
    fn ill_typed_other_names_do_not_cover() {
        let mut i = item();
        i.srv_names = vec![oid("_xmpp-server.contoso.com", false)];
        i.xmpp_addrs = vec![oid("contoso.com", false)];
        assert!(xmpp_s2s_coverage(&i, "contoso.com").is_empty());
    }

    #[test]
    fn common_name_only_without_san_identities() {
        let mut i = item();
        i.subject_cn = vec!["contoso.com".into()];
        assert_eq!(
            xmpp_s2s_coverage(&i, "contoso.com"),
            vec![CoveredBy::CommonName]
        );
        i.uris = vec!["sip:fabrikam.com".into()];
        assert!(xmpp_s2s_coverage(&i, "contoso.com").is_empty());
    }

    #[test]
    fn sip_coverage_looks_for_sip_prefix() {
        let mut i = item();
        i.dns_names = vec!["sip.contoso.com".into(), "*.fabrikam.com".into()];
        assert_eq!(sip_coverage(&i, "contoso.com"), vec![CoveredBy::DnsName]);
        assert_eq!(sip_coverage(&i, "contoso.com."), vec![CoveredBy::DnsName]);
        assert_eq!(sip_coverage(&i, "fabrikam.com"), vec![CoveredBy::Wildcard]);
        assert!(sip_coverage(&i, "litware.com").is_empty());
        assert!(sip_coverage(&i, "").is_empty());
    }
}
