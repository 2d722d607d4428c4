//! Checks 14-15: heuristics (one certificate for many services, a request's legacy SAN
//! attribute).

use super::{Expectations, Log, RuleId as R};
use crate::model::CertType;
use crate::pki::inspect::{Inspected, Kind};

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
/// registrable domains (by the Public Suffix List).
pub(super) fn check_many_services(item: &Inspected, exp: &Expectations, log: &mut Log) {
    let mut groups: Vec<&str> = exp.uses.iter().map(|u| role_group(*u)).collect();
    groups.sort_unstable();
    groups.dedup();
    if groups.len() >= 2 {
        log.push(
            R::ManyServices,
            format!("one certificate serves unrelated roles ({}); RFC 9525 recommends one certificate per service", groups.join(", ")),
            groups.iter().map(|g| g.to_string()).collect(),
        );
    }
    let mut bases: Vec<String> = item
        .dns_names
        .iter()
        .filter(|d| crate::pki::identity::is_valid_presented(d))
        .filter_map(|d| base_domain(d.strip_prefix("*.").unwrap_or(d)))
        .collect();
    bases.sort_unstable();
    bases.dedup();
    if bases.len() >= 3 {
        log.push(
            R::ManyServices,
            format!("the SANs span {} separate domains ({}); RFC 9525 discourages one certificate for many unrelated services", bases.len(), bases.join(", ")),
            bases,
        );
    }
}

/// The registrable domain of a DNS name by the Public Suffix List (`sip.contoso.co.uk` ->
/// `contoso.co.uk`, where the last two labels would say `co.uk`). A name that is itself a
/// public suffix stands for itself; a single label has no base domain.
fn base_domain(name: &str) -> Option<String> {
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    if !name.contains('.') {
        return None;
    }
    match psl::domain_str(&name) {
        Some(d) => Some(d.to_string()),
        None => Some(name),
    }
}

/// Check 15.
pub(super) fn check_legacy_attribute(item: &Inspected, log: &mut Log) {
    if item.kind == Kind::Request && item.san_from_legacy_ms_attribute {
        let also = if item.san_from_extension_request {
            " (it is also in extensionRequest)"
        } else {
            "; CAs other than Microsoft's ignore it and will issue without SANs"
        };
        log.push(
            R::RequestLegacySanAttribute,
            format!("the request carries its SANs in Microsoft's legacy attribute 1.3.6.1.4.1.311.2.1.14 instead of the PKCS#9 extensionRequest{also}"),
            item.dns_names.clone(),
        );
    }
}
#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::super::*;
    use crate::pki::inspect::Kind;

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

    /// The base domains come from the Public Suffix List: three companies under co.uk are three
    /// domains (the last two labels would call them all `co.uk`), three names of one company
    /// under co.uk are one.
    #[test]
    fn many_services_base_domain_by_public_suffix_list() {
        let run = |names: &[&str]| {
            let mut item = good();
            item.subject_cn = vec![names[0].to_string()];
            item.dns_names = names.iter().map(|n| n.to_string()).collect();
            validate(&item, &Expectations::new(now()))
        };
        let v = run(&["sip.contoso.co.uk", "sip.fabrikam.co.uk", "*.litware.co.uk"]);
        assert_eq!(
            finding(&v, "MANY-SERVICES").names,
            vec!["contoso.co.uk", "fabrikam.co.uk", "litware.co.uk"]
        );
        let v = run(&["sip.contoso.co.uk", "webcon.contoso.co.uk", "contoso.co.uk"]);
        assert!(v.findings.is_empty(), "{:?}", v.findings);
    }
}
