//! Test-CsCertificateConfiguration's work: every assigned certificate checked at the current
//! time (key, signature and chain, validity, names the published topology needs).

use super::{assign, certs, Ctx};
use crate::error::{Category, CsError, CsResult, Exit};
use crate::pki::identity::dns_id_matches;
use crate::pki::validate::{validate, Expectations};
use serde::Serialize;

/// A use whose certificate is in order.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InOrder {
    pub thumbprint: String,
    #[serde(rename = "Use")]
    pub use_name: &'static str,
}

/// What the check found, in the order it is to be shown.
#[derive(Debug)]
pub enum Outcome {
    /// An error record (exit 3, or 1 for a row that cannot be read).
    Problem(CsError),
    Warning(String),
    InOrder(InOrder),
}

/// Certificates that expire within this many days get a warning.
const EXPIRY_WARNING_DAYS: i64 = 30;

fn problem(id: &str, msg: String, target: &str) -> CsError {
    CsError::new(Exit::ValidationFailed, id, Category::InvalidData, msg).with_target(target)
}

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
pub fn check(ctx: &mut Ctx, trusted_roots: &[String]) -> CsResult<Vec<Outcome>> {
    let anchors = certs::trusted_roots(ctx, trusted_roots)?;
    let scopes = assign::scopes_for_reading(ctx, None);
    let mut outcomes = Vec::new();
    let now = ctx.now;
    let computer = ctx.this_computer();
    let topology = super::topology::published(ctx)?;
    // One bad row is an error record of its own (exit 1); the other rows are still checked.
    let checked = ctx.store()?.read(|tx| -> CsResult<_> {
        let mut out = Vec::new();
        let pool = certs::store_pool(tx)?;
        for (scope, u, st) in assign::states(tx, &scopes, now)? {
            let Some(cur) = st.current else { continue };
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
            let chain = row.as_ref().map(|r| {
                let mut p = r.chain.clone();
                p.extend(pool.iter().cloned());
                crate::pki::chain::check(&r.der, &p, anchors.as_deref())
            });
            out.push(Ok((
                scope,
                u,
                cur.thumbprint,
                row.map(|r| r.key_pkcs8.is_some()),
                parsed,
                chain,
            )));
        }
        Ok(out)
    })?;
    for item in checked {
        let (scope, u, thumb, has_key, parsed, chain) = match item {
            Ok(v) => v,
            Err(e) => {
                outcomes.push(Outcome::Problem(e));
                continue;
            }
        };
        let Some(c) = parsed else {
            outcomes.push(Outcome::Problem(problem("AssignedCertificateMissing", format!("Assigned certificate not found or untrusted: {thumb} is assigned for the type \"{u}\" at {scope} but is not in the store."), &thumb)));
            continue;
        };
        let mut ok = true;
        for p in chain.iter().flat_map(|c| &c.problems) {
            use crate::pki::chain::ChainProblem;
            let (id, msg) = match p {
                ChainProblem::BadSignature { subject, issuer } => ("AssignedCertificateSignatureInvalid", format!("The certificate {thumb} assigned for the type \"{u}\" at {scope} does not verify: the signature of {subject} fails with the key of its issuer {issuer}. It was altered or forged; import it again from the CA.")),
                ChainProblem::Incomplete { last, issuer } => ("AssignedCertificateChainIncomplete", format!("The chain of the certificate {thumb} assigned for the type \"{u}\" stops at {last}: its issuer {issuer} is not in the store or the trusted roots.")),
                ChainProblem::UntrustedRoot { root } => ("AssignedCertificateRootUntrusted", format!("The certificate {thumb} assigned for the type \"{u}\" chains to {root}, which is not one of the trusted roots.")),
            };
            outcomes.push(Outcome::Problem(problem(id, msg, &thumb)));
            ok = false;
        }
        if has_key != Some(true) {
            outcomes.push(Outcome::Problem(problem(
                "AssignedCertificateWithoutKey",
                format!(
                    "The certificate {thumb} assigned for the type \"{u}\" has no private key."
                ),
                &thumb,
            )));
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
                outcomes.push(Outcome::Problem(problem("AssignedCertificateExpired", format!("The certificate {thumb} assigned for the type \"{u}\" at {scope} expired on {}.", na.format("%Y-%m-%d %H:%M:%S UTC")), &thumb)));
                ok = false;
            } else if na - now < chrono::Duration::days(EXPIRY_WARNING_DAYS) {
                outcomes.push(Outcome::Warning(format!("The certificate {thumb} assigned for the type \"{u}\" at {scope} expires on {} (in {} days).", na.format("%Y-%m-%d %H:%M:%S UTC"), (na - now).num_days())));
            }
        }
        if let (Some(nb), true) = (c.not_before, fired("NOT-YET-VALID")) {
            outcomes.push(Outcome::Problem(problem(
                "AssignedCertificateNotYetValid",
                format!(
                    "The certificate {thumb} assigned for the type \"{u}\" is not valid before {}.",
                    nb.format("%Y-%m-%d %H:%M:%S UTC")
                ),
                &thumb,
            )));
            ok = false;
        }
        if let (Some(topo), false) = (&topology, scope == assign::GLOBAL) {
            match super::topology::expected_names(topo, &scope, &[u], false, &[]) {
                Ok(names) => {
                    let missing = missing_names(&names.sans, &c.dns_names);
                    if !missing.is_empty() {
                        let list: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
                        outcomes.push(Outcome::Problem(problem("AssignedCertificateNamesDoNotFitTopology", format!("The certificate {thumb} assigned for the type \"{u}\" lacks names the published topology needs on {scope}: {}.", list.join(", ")), &thumb)));
                        ok = false;
                    }
                }
                Err(e) if scope.eq_ignore_ascii_case(&computer) => {
                    outcomes.push(Outcome::Warning(format!("The names for \"{u}\" could not be computed from the published topology: {e}")));
                }
                Err(_) => {}
            }
        }
        if ok {
            outcomes.push(Outcome::InOrder(InOrder {
                thumbprint: thumb,
                use_name: u.name(),
            }));
        }
    }
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
