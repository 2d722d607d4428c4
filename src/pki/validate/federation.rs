//! Checks 7-8: XMPP and SIP federation domains and the Access Edge FQDN.

use super::{DomainCoverage, Expectations, Log, RuleId as R};
use crate::pki::identity::{
    normalize_reference, sip_coverage, srv_id_matches, xmpp_s2s_coverage, CoveredBy, MatchKind,
};
use crate::pki::inspect::Inspected;

fn normalized_domain(d: &str) -> String {
    match normalize_reference(d.trim()) {
        Some(n) => n.to_ascii_lowercase(),
        None => d.trim().to_string(),
    }
}

/// Check 7.
pub(super) fn check_xmpp(
    item: &Inspected,
    exp: &Expectations,
    log: &mut Log,
) -> Vec<DomainCoverage> {
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
                R::XmppWeakCoverage,
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
            R::XmppClientSrvOnly,
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
                R::XmppChildDomain,
                format!(
                    "XMPP domain {domain} is not covered: the certificate names {parent}, but a SAN for {parent} does NOT cover its child domain {domain}. XMPP peers compare the whole domain name (RFC 6120 13.7.2), not a suffix, whatever Microsoft's planning page suggests; add {domain} itself as a SAN"
                ),
                vec![domain.to_string(), parent.to_string()],
            );
            return;
        }
    }
    log.push(
        R::XmppNotCovered,
        format!(
            "XMPP domain {domain} is not covered: add {domain} as a DNS SAN (or at least _xmpp-server.{domain} as an SRVName)"
        ),
        vec![domain.to_string()],
    );
}

/// Check 8.
pub(super) fn check_sip(
    item: &Inspected,
    exp: &Expectations,
    log: &mut Log,
) -> Vec<DomainCoverage> {
    let edge_ok = match &exp.access_edge_fqdn {
        Some(fqdn) => {
            let ok = item
                .dns_names
                .iter()
                .any(|d| crate::pki::identity::dns_id_matches(d, fqdn) == Some(MatchKind::Exact));
            if !ok {
                log.push(
                    R::AccessEdgeMissing,
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
                R::SipDomainNotCovered,
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

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::super::*;

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
}
