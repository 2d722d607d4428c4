//! Test-CsCertificateConfiguration's work: every assigned certificate checked at the current
//! time (key, signature and chain, validity, names the published topology needs).

use super::certs::{self, CertError};
use super::topology::TopologyOpError;
use super::{assign, Ctx};
use crate::error::{Category, CsError, Exit};
use crate::model::CertType;
use crate::pki::chain::ChainProblem;
use crate::pki::identity::dns_id_matches;
use crate::pki::validate::{validate, Expectations};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// A use whose certificate is in order.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InOrder {
    pub thumbprint: String,
    #[serde(rename = "Use")]
    pub use_name: &'static str,
    /// `Passed`, or `Warning` when a warning was written for this use (expiring soon).
    pub status: &'static str,
}

/// What the check found, in the order it is to be shown.
#[derive(Debug)]
pub enum Outcome {
    /// An error record (exit 3, or 1 for a row that cannot be read).
    Problem(Problem),
    Warning(String),
    InOrder(InOrder),
}

/// What is wrong with the certificate assigned for `use_` (at `scope`).
#[derive(Debug)]
pub enum Problem {
    /// Its row cannot be read (exit 1, the store's words).
    Unreadable(CertError),
    /// Assigned, but not in the store.
    Missing {
        thumbprint: String,
        use_: CertType,
        scope: String,
    },
    /// Its signature or chain (see [`ChainProblem`]).
    Chain {
        thumbprint: String,
        use_: CertType,
        scope: String,
        problem: ChainProblem,
    },
    WithoutKey {
        thumbprint: String,
        use_: CertType,
    },
    Expired {
        thumbprint: String,
        use_: CertType,
        scope: String,
        not_after: DateTime<Utc>,
    },
    NotYetValid {
        thumbprint: String,
        use_: CertType,
        not_before: DateTime<Utc>,
    },
    /// Only a staged roll (a first -Roll): nothing serves the use until `effective`.
    NothingInService {
        thumbprint: String,
        use_: CertType,
        scope: String,
        effective: DateTime<Utc>,
    },
    /// `-ExpiringWithinDays`: in service, expiring within the days given, no renewal staged.
    ExpiringSoon {
        thumbprint: String,
        use_: CertType,
        scope: String,
        not_after: DateTime<Utc>,
        days: i64,
    },
    /// Names the published topology needs on `scope` that it does not cover.
    NamesMissing {
        thumbprint: String,
        use_: CertType,
        scope: String,
        missing: Vec<String>,
    },
}

impl From<Problem> for CsError {
    fn from(p: Problem) -> CsError {
        let day = |d: DateTime<Utc>| d.format("%Y-%m-%d %H:%M:%S UTC").to_string();
        let (id, msg, thumb) = match p {
            Problem::Unreadable(e) => return e.into(),
            Problem::Missing { thumbprint: t, use_: u, scope } => ("AssignedCertificateMissing", format!("Assigned certificate not found or untrusted: {t} is assigned for the type \"{u}\" at {scope} but is not in the store."), t),
            Problem::Chain { thumbprint: t, use_: u, scope, problem } => match problem {
                ChainProblem::BadSignature { subject, issuer } => ("AssignedCertificateSignatureInvalid", format!("The certificate {t} assigned for the type \"{u}\" at {scope} does not verify: the signature of {subject} fails with the key of its issuer {issuer}. It was altered or forged; import it again from the CA."), t),
                ChainProblem::Incomplete { last, issuer } => ("AssignedCertificateChainIncomplete", format!("The chain of the certificate {t} assigned for the type \"{u}\" stops at {last}: its issuer {issuer} is not in the store or the trusted roots."), t),
                ChainProblem::IssuerUnknown { last, issuer } => ("AssignedCertificateIssuerUnknown", format!("The signature of {last} (the certificate {t} assigned for the type \"{u}\") was not verified: its issuer {issuer} is not known."), t),
                ChainProblem::UntrustedRoot { root } => ("AssignedCertificateRootUntrusted", format!("The certificate {t} assigned for the type \"{u}\" chains to {root}, which is not one of the trusted roots."), t),
            },
            Problem::WithoutKey { thumbprint: t, use_: u } => ("AssignedCertificateWithoutKey", format!("The certificate {t} assigned for the type \"{u}\" has no private key."), t),
            Problem::Expired { thumbprint: t, use_: u, scope, not_after } => ("AssignedCertificateExpired", format!("The certificate {t} assigned for the type \"{u}\" at {scope} expired on {}.", day(not_after)), t),
            Problem::NotYetValid { thumbprint: t, use_: u, not_before } => ("AssignedCertificateNotYetValid", format!("The certificate {t} assigned for the type \"{u}\" is not valid before {}.", day(not_before)), t),
            Problem::NothingInService { thumbprint: t, use_: u, scope, effective } => ("NothingInService", assign::nothing_in_service_until(u, &scope, effective), t),
            Problem::ExpiringSoon { thumbprint: t, use_: u, scope, not_after, days } => ("AssignedCertificateExpiringSoon", format!("The certificate {t} assigned for the type \"{u}\" at {scope} expires on {}, within {days} days, and no renewal is staged. Run Update-CsCertificate (see docs/renewal.md).", day(not_after)), t),
            Problem::NamesMissing { thumbprint: t, use_: u, scope, missing } => ("AssignedCertificateNamesDoNotFitTopology", format!("The certificate {t} assigned for the type \"{u}\" lacks names the published topology needs on {scope}: {}.", missing.join(", ")), t),
        };
        CsError::new(Exit::ValidationFailed, id, Category::InvalidData, msg).with_target(thumb)
    }
}

/// Why the check as a whole could not run.
#[derive(Debug)]
pub enum ConfigurationError {
    /// -TrustedRoot could not be read.
    Cert(CertError),
    Topology(TopologyOpError),
    Store(crate::store::StoreError),
}

crate::ops::wraps!(
    ConfigurationError:
    Cert(CertError),
    Topology(TopologyOpError),
    Store(crate::store::StoreError),
);

impl From<ConfigurationError> for CsError {
    fn from(e: ConfigurationError) -> CsError {
        match e {
            ConfigurationError::Cert(e) => e.into(),
            ConfigurationError::Topology(e) => e.into(),
            ConfigurationError::Store(e) => e.into(),
        }
    }
}

/// Certificates that expire within this many days get a warning.
const EXPIRY_WARNING_DAYS: i64 = 30;

/// The names `needed` that none of the certificate's DNS names covers, matched as the
/// validator matches them (RFC 6125: case-insensitive, a wildcard covers one left-most label).
fn missing_names<'a>(needed: &'a [String], dns_names: &[String]) -> Vec<&'a String> {
    needed
        .iter()
        .filter(|n| !dns_names.iter().any(|d| dns_id_matches(d, n).is_some()))
        .collect()
}

/// Checks every assigned use at this computer and Global, in CertType order; `trusted_roots`:
/// -TrustedRoot's paths. Each use gives error records and warnings, or an [`InOrder`] object.
/// `expiring_within`: -ExpiringWithinDays (a certificate in service expiring within that many
/// days with no renewal staged is an error record instead of a warning).
pub fn check(
    ctx: &mut Ctx,
    trusted_roots: &[String],
    expiring_within: Option<i64>,
) -> Result<Vec<Outcome>, ConfigurationError> {
    let anchors = certs::trusted_roots(ctx, trusted_roots)?;
    let scopes = assign::scopes_for_reading(ctx, None);
    let mut outcomes = Vec::new();
    let now = ctx.now;
    let computer = ctx.this_computer();
    let topology = super::topology::published(ctx)?;
    // One bad row is an error record of its own (exit 1); the other rows are still checked.
    let (checked, gaps) = ctx.store()?.read(|tx| -> Result<_, ConfigurationError> {
        let mut out = Vec::new();
        let mut gaps = Vec::new();
        for (scope, u, st) in assign::states(tx, &scopes, now)? {
            let staged = !st.staged.is_empty();
            let Some(cur) = st.current else {
                if let Some(s) = st.staged.first() {
                    gaps.push(Problem::NothingInService {
                        thumbprint: s.thumbprint.clone(),
                        use_: u,
                        scope,
                        effective: s.effective,
                    });
                }
                continue;
            };
            let row = match certs::row_of(tx, &cur.thumbprint) {
                Ok(r) => r,
                Err(e) => {
                    out.push(Err(certs::row_error(e, &cur.thumbprint, u, &scope)));
                    continue;
                }
            };
            let parsed = match &row {
                Some(r) => match certs::parse(r) {
                    Ok(c) => Some(c),
                    Err(e) => {
                        out.push(Err(certs::row_error(e, &cur.thumbprint, u, &scope)));
                        continue;
                    }
                },
                None => None,
            };
            // The signature against its issuer (always, when the issuer is known) and, with
            // -TrustedRoot, the chain up to a trusted root.
            let chain = match row.as_ref() {
                Some(r) => {
                    let mut p = r.chain.clone();
                    let mut wanted: Vec<&[u8]> = vec![&r.der];
                    wanted.extend(r.chain.iter().map(Vec::as_slice));
                    p.extend(tx.issuer_pool_for_all(&wanted)?);
                    Some(crate::pki::chain::check_with(
                        &r.der,
                        &p,
                        anchors.as_deref(),
                        &crate::pki::system_roots::named,
                    ))
                }
                None => None,
            };
            out.push(Ok((
                (scope, staged),
                u,
                cur.thumbprint,
                row.map(|r| r.key_pkcs8.is_some()),
                parsed,
                chain,
            )));
        }
        Ok((out, gaps))
    })?;
    outcomes.extend(gaps.into_iter().map(Outcome::Problem));
    for item in checked {
        let first = outcomes.len();
        let ((scope, staged), u, thumb, has_key, parsed, chain) = match item {
            Ok(v) => v,
            Err(e) => {
                outcomes.push(Outcome::Problem(Problem::Unreadable(e)));
                continue;
            }
        };
        let Some(c) = parsed else {
            outcomes.push(Outcome::Problem(Problem::Missing {
                thumbprint: thumb,
                use_: u,
                scope,
            }));
            continue;
        };
        let mut ok = true;
        for p in chain.iter().flat_map(|c| &c.problems) {
            if let ChainProblem::IssuerUnknown { issuer, .. } = p {
                outcomes.push(Outcome::Warning(format!("ISSUER-UNKNOWN: the signature of the certificate {thumb} assigned for the type \"{u}\" at {scope} was not verified: its issuer {issuer} is not in the store or the system's trust store. Import the issuing CA's certificate, or give -TrustedRoot.")));
                continue;
            }
            outcomes.push(Outcome::Problem(Problem::Chain {
                thumbprint: thumb.clone(),
                use_: u,
                scope: scope.clone(),
                problem: p.clone(),
            }));
            ok = false;
        }
        if has_key != Some(true) {
            outcomes.push(Outcome::Problem(Problem::WithoutKey {
                thumbprint: thumb.clone(),
                use_: u,
            }));
            ok = false;
        }
        // Expired / not yet valid: the validator's EXPIRED and NOT-YET-VALID rules decide (the
        // same as Test-CsCertificate); the records keep this cmdlet's ids and words.
        let mut exp = Expectations::new(now);
        exp.uses = vec![u];
        let verdict = validate(&c, &exp);
        let fired = |rule: &str| verdict.findings.iter().any(|f| f.rule_id == rule);
        if let Some(na) = c.not_after {
            if fired("EXPIRED") {
                outcomes.push(Outcome::Problem(Problem::Expired {
                    thumbprint: thumb.clone(),
                    use_: u,
                    scope: scope.clone(),
                    not_after: na,
                }));
                ok = false;
            } else if let Some(days) =
                expiring_within.filter(|d| !staged && na - now < chrono::Duration::days(*d))
            {
                outcomes.push(Outcome::Problem(Problem::ExpiringSoon {
                    thumbprint: thumb.clone(),
                    use_: u,
                    scope: scope.clone(),
                    not_after: na,
                    days,
                }));
                ok = false;
            } else if na - now < chrono::Duration::days(EXPIRY_WARNING_DAYS) {
                outcomes.push(Outcome::Warning(format!("The certificate {thumb} assigned for the type \"{u}\" at {scope} expires on {} (in {} days).", na.format("%Y-%m-%d %H:%M:%S UTC"), (na - now).num_days())));
            }
        }
        if let (Some(nb), true) = (c.not_before, fired("NOT-YET-VALID")) {
            outcomes.push(Outcome::Problem(Problem::NotYetValid {
                thumbprint: thumb.clone(),
                use_: u,
                not_before: nb,
            }));
            ok = false;
        }
        if let (Some(topo), false) = (&topology, scope == assign::GLOBAL) {
            match super::topology::expected_names(topo, &scope, &[u], false, &[]) {
                Ok(names) => {
                    let missing = missing_names(&names.sans, &c.dns_names);
                    if !missing.is_empty() {
                        outcomes.push(Outcome::Problem(Problem::NamesMissing {
                            thumbprint: thumb.clone(),
                            use_: u,
                            scope: scope.clone(),
                            missing: missing.into_iter().cloned().collect(),
                        }));
                        ok = false;
                    }
                }
                Err(e) if scope.eq_ignore_ascii_case(&computer) => {
                    outcomes.push(Outcome::Warning(format!("The names for \"{u}\" could not be computed from the published topology: {}", CsError::from(e))));
                }
                Err(_) => {}
            }
        }
        if ok {
            let warned = outcomes[first..]
                .iter()
                .any(|o| matches!(o, Outcome::Warning(_)));
            outcomes.push(Outcome::InOrder(InOrder {
                thumbprint: thumb,
                use_name: u.name(),
                status: if warned { "Warning" } else { "Passed" },
            }));
        }
    }
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::inspect::InspectError;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn topology_names_are_covered_as_the_validator_matches_them() {
        let needed = v(&[
            "sip.contoso.com",
            "webcon.contoso.com",
            "pool.corp.contoso.com",
        ]);
        // Case differs, a wildcard covers one label: only the two-label-deep name is missing.
        let missing = missing_names(&needed, &v(&["SIP.contoso.com", "*.contoso.com"]));
        assert_eq!(missing, vec!["pool.corp.contoso.com"]);
        assert!(missing_names(&needed, &v(&["*.contoso.com", "*.corp.contoso.com"])).is_empty());
        // A wildcard under a public suffix covers nothing.
        assert_eq!(missing_names(&v(&["contoso.com"]), &v(&["*.com"])).len(), 1);
        assert_eq!(missing_names(&needed, &[]).len(), 3);
    }

    #[test]
    fn problems_are_validation_failures_about_their_certificate() {
        let t = "466D9BB0E8B928B65AF38FA2D9F41E1B301ECE9D";
        let e = CsError::from(Problem::Expired {
            thumbprint: t.into(),
            use_: CertType::Default,
            scope: "fe01.contoso.com".into(),
            not_after: chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        });
        assert_eq!(e.error_id, "AssignedCertificateExpired");
        assert_eq!(e.exit, Exit::ValidationFailed);
        assert_eq!(e.target.as_deref(), Some(t));
        assert!(
            e.message
                .ends_with("at fe01.contoso.com expired on 2023-11-14 22:13:20 UTC."),
            "{}",
            e.message
        );
    }

    #[test]
    fn an_unreadable_row_is_a_failure_that_says_why() {
        let t = "466D9BB0E8B928B65AF38FA2D9F41E1B301ECE9D";
        let cause = CertError::StoredUnreadable {
            thumbprint: t.into(),
            error: InspectError::NothingUsable,
        };
        let e = CsError::from(Problem::Unreadable(certs::row_error(
            cause,
            t,
            CertType::Default,
            "Global",
        )));
        assert_eq!(e.error_id, "StoredCertificateUnreadable");
        assert_eq!(e.exit, Exit::Failed);
        assert!(
            e.message
                .contains("at Global cannot be read from the store (The stored certificate"),
            "{}",
            e.message
        );
    }
}
