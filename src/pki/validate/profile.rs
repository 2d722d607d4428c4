//! Checks 9-11 and 13: the certificate profile (end entity, EKU, key size, key usage,
//! exportability of the key).

use super::{Expectations, Log, RuleId as R};
use crate::model::CertType;
use crate::pki::inspect::Inspected;

pub(super) const OID_SERVER_AUTH: &str = "1.3.6.1.5.5.7.3.1";
pub(super) const OID_CLIENT_AUTH: &str = "1.3.6.1.5.5.7.3.2";
const OID_ANY_EKU: &str = "2.5.29.37.0";

/// Check 9.
pub(super) fn check_end_entity(item: &Inspected, log: &mut Log) {
    if item.basic_constraints_ca == Some(true) {
        log.push(
            R::BasicConstraintsCa,
            "basicConstraints says cA=TRUE; a server certificate must be an end-entity certificate"
                .into(),
            vec![item.subject.clone()],
        );
    }
    if item.subject.is_empty() {
        log.push(
            R::SubjectEmpty,
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
pub(super) fn check_eku(item: &Inspected, exp: &Expectations, log: &mut Log) {
    let Some(eku) = &item.eku else {
        log.push(
            R::EkuNoServerAuth,
            format!("there is no extendedKeyUsage extension; Lync requires Server Authentication ({OID_SERVER_AUTH})"),
            vec![OID_SERVER_AUTH.into()],
        );
        return;
    };
    let has = |oid: &str| eku.iter().any(|e| e == oid || e == OID_ANY_EKU);
    if !has(OID_SERVER_AUTH) {
        log.push(
            R::EkuNoServerAuth,
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
            R::EkuNoClientAuth,
            format!("the EKU lacks Client Authentication ({OID_CLIENT_AUTH}), which peers that check the initiating side require for {}: request it with -ClientEKU $true from a CA that still issues it, since public CAs stopped including Client Authentication in server certificates in 2026", client_uses.join(", ")),
            client_uses,
        );
    }
}

/// Check 11 (key size).
pub(super) fn check_key_size(item: &Inspected, log: &mut Log) {
    let key = &item.key;
    let small = match key.algorithm.as_str() {
        "RSA" | "RSASSA-PSS" => key.bits < 2048,
        "EC" => key.bits < 256,
        _ => false,
    };
    if small {
        log.push(
            R::KeyTooSmall,
            format!(
                "{} key of {} bits; use RSA 2048 or more (or P-256 or larger)",
                key.algorithm, key.bits
            ),
            vec![key.algorithm.clone()],
        );
    }
}

/// Check 11 (key usage).
pub(super) fn check_key_usage(item: &Inspected, log: &mut Log) {
    let key = &item.key;
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
                R::KeyUsage,
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

/// Check 13.
pub(super) fn check_exportable(exp: &Expectations, log: &mut Log) {
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
            R::KeyNotExportable,
            format!("the private key is not exportable, but {} needs it: every Edge pool member must hold the same key", uses.join(", ")),
            uses,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::super::*;
    use super::*;
    use crate::pki::inspect::{KeyInfo, KeyUsageBits};

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
    /// the fix and the 2026 public-CA change in its one sentence. Source: docs/reference/certificates.md,
    /// "Checks", check 10
    /// ("initiating s2s and MTLS SIP peers may refuse; public CAs stopped issuing clientAuth in
    /// 2026") and Request-CsCertificate's -ClientEKU (docs/reference/cmdlets.md, "Request-CsCertificate").
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

    // Check 11
    #[test]
    fn key_too_small() {
        fires("KEY-TOO-SMALL", &[], |i, _| i.key.bits = 1024);
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
}
