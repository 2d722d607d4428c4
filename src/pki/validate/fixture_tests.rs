//! The validator against certificates and requests made by openssl (tests/fixtures/identities).

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
