//! Check 12: the validity period at the time checked.

use chrono::{DateTime, Utc};

use super::{Expectations, Log, RuleId as R};
use crate::pki::inspect::{Inspected, Kind};

/// Check 12: certificates only (a request has no validity period).
pub(super) fn check_validity(item: &Inspected, exp: &Expectations, log: &mut Log) {
    if item.kind != Kind::Certificate {
        return;
    }
    let stamp = |t: &DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    if let Some(na) = &item.not_after {
        if *na < exp.now {
            log.push(
                R::Expired,
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
                R::NotYetValid,
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

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::super::*;
    use crate::pki::inspect::Kind;
    use chrono::TimeZone;

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
}
