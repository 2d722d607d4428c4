//! Shared by the rule families' unit tests: a clean Edge certificate, its expectations, and
//! `fires` (one mutation, one expected rule).

use chrono::{DateTime, TimeZone, Utc};

use super::profile::{OID_CLIENT_AUTH, OID_SERVER_AUTH};
use super::{validate, Expectations, Finding, Verdict};
use crate::model::CertType;
use crate::pki::inspect::{Inspected, KeyInfo, KeyUsageBits, Kind, OtherId};

pub(super) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

pub(super) fn oid(v: &str, ok: bool) -> OtherId {
    OtherId {
        value: v.into(),
        well_typed: ok,
    }
}

/// The Edge certificate of docs/reference/certificates.md, "The Edge example", with nothing wrong.
pub(super) fn good() -> Inspected {
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

pub(super) fn edge_exp() -> Expectations {
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

pub(super) fn ids(v: &Verdict) -> Vec<&'static str> {
    v.findings.iter().map(|f| f.rule_id.as_str()).collect()
}

pub(super) fn finding<'a>(v: &'a Verdict, id: &str) -> &'a Finding {
    v.findings
        .iter()
        .find(|f| f.rule_id == id)
        .unwrap_or_else(|| panic!("no {id} in {:?}", ids(v)))
}

/// Runs `mutate` on the good certificate and expectations and checks that `id` (and only
/// rules in `allowed_too`) fire.
pub(super) fn fires(
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
            f.rule_id == id || allowed_too.contains(&f.rule_id.as_str()),
            "unexpected {} alongside {id}: {}",
            f.rule_id,
            f.message
        );
    }
    v
}

/// The Edge certificate without a SAN extension: SAN-MISSING and the name rules that follow
/// from it fire, nothing else.
pub(super) fn without_san() -> Verdict {
    fires(
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
    )
}
