//! Checks 4-6: the syntax of dNSNames and SRVNames, SAN criticality, otherName types.

use super::{Log, RuleId as R};
use crate::pki::identity::{is_ip_literal, normalize_reference};
use crate::pki::inspect::Inspected;

/// Check 4.
pub(super) fn check_name_syntax(item: &Inspected, log: &mut Log) {
    for name in &item.dns_names {
        if !name.is_ascii() {
            log.push(
                R::NameNonAscii,
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
                R::NameSyntax,
                format!("dNSName {name} has {}", problems.join(", ")),
                vec![name.clone()],
            );
        }
        if !bad_alabels.is_empty() {
            log.push(
                R::NameBadALabel,
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
                R::NameNonAscii,
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
pub(super) fn check_san_criticality(item: &Inspected, log: &mut Log) {
    if !item.san_present {
        return;
    }
    if item.san_critical && !item.subject.is_empty() {
        log.push(
            R::SanCriticality,
            "the SAN extension is marked critical although the subject is not empty; RFC 5280 wants it critical only with an empty subject".into(),
            vec![item.subject.clone()],
        );
    } else if !item.san_critical && item.subject.is_empty() {
        log.push(
            R::SanCriticality,
            "the subject is empty but the SAN extension is not critical (RFC 5280 4.2.1.6)".into(),
            Vec::new(),
        );
    }
}

/// Check 6.
pub(super) fn check_other_names(item: &Inspected, log: &mut Log) {
    for x in &item.xmpp_addrs {
        if !x.well_typed {
            log.push(
                R::XmppAddrType,
                format!(
                    "XmppAddr {} is not a UTF8String (RFC 6120 13.7.1.4); peers will not read it",
                    x.value
                ),
                vec![x.value.clone()],
            );
        }
        if x.value.contains(['@', '/']) {
            log.push(
                R::XmppAddrUserJid,
                format!("XmppAddr {} is a user or full JID; a server certificate should hold the bare domain", x.value),
                vec![x.value.clone()],
            );
        }
    }
    for s in &item.srv_names {
        if !s.well_typed {
            log.push(
                R::SrvNameType,
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
                R::SrvNameSyntax,
                format!(
                    "SRVName {:?} is not of the form _service.name (e.g. _xmpp-server.contoso.com)",
                    s.value
                ),
                vec![s.value.clone()],
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::super::*;

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
}
