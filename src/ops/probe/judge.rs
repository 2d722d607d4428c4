//! What a served chain is worth: the validator's rules (as for a file), the chain as served
//! (intermediates present, ending at a trusted root), the name the peer checks, near expiry,
//! and whether it is the certificate the store assigned to that computer and use.

use super::net::{Served, Target};
use super::{ProbeArgs, ProbeError};
use crate::model::CertType;
use crate::ops::assign::{self, GLOBAL};
use crate::ops::Ctx;
use crate::output::objects::ser_opt_date;
use crate::pki::chain::check as check_chain;
use crate::pki::identity::dns_id_matches;
use crate::pki::inspect::{inspect_der_certificate, Inspected};
use crate::pki::validate::{validate, with_chain, DomainCoverage, Expectations, Severity};
use crate::store::AssignmentRow;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// A served certificate that ends within this many days is reported (as
/// Test-CsCertificateConfiguration warns about assigned ones).
const EXPIRING_DAYS: i64 = 30;

/// One finding: the validator's (same ids as for a file) or the probe's own.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProbeFinding {
    pub rule_id: String,
    pub severity: Severity,
    pub message: String,
    pub names: Vec<String>,
}

/// One object per endpoint (and XMPP domain).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProbeResult {
    pub endpoint: String,
    pub protocol: &'static str,
    /// The name sent as SNI and, for XMPP, as the stream's `to`: the name the peer checks.
    pub server_name: String,
    pub address: String,
    pub tls_version: String,
    pub cipher_suite: String,
    pub subject: String,
    pub issuer: Option<String>,
    pub alternative_names: Vec<String>,
    pub thumbprint: Option<String>,
    #[serde(serialize_with = "ser_opt_date")]
    pub not_before: Option<DateTime<Utc>>,
    #[serde(serialize_with = "ser_opt_date")]
    pub not_after: Option<DateTime<Utc>>,
    /// Subjects of the certificates served, leaf first.
    pub chain: Vec<String>,
    /// Where the trusted roots came from: TrustedRoot, Store or System.
    pub trusted_by: &'static str,
    /// The thumbprint assigned for -Type on the computer, when the store knows it.
    pub assigned_thumbprint: Option<String>,
    pub xmpp_domains: Vec<DomainCoverage>,
    pub sip_domains: Vec<DomainCoverage>,
    pub findings: Vec<ProbeFinding>,
    pub passed: bool,
}

/// What every endpoint is judged against, read once.
pub struct Judge {
    exp: Expectations,
    anchors: Vec<Vec<u8>>,
    trusted_by: &'static str,
    uses: Vec<CertType>,
    /// -ComputerFqdn, if given.
    computer: Option<String>,
    this_computer: String,
    assignments: Vec<AssignmentRow>,
}

/// Self-signed CA certificates among `pool` (the store's roots).
fn roots_in(pool: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    pool.into_iter()
        .filter(|d| {
            inspect_der_certificate(d).is_ok_and(|i| {
                i.basic_constraints_ca == Some(true) && i.issuer.as_deref() == Some(&i.subject)
            })
        })
        .collect()
}

impl Judge {
    pub fn new(ctx: &mut Ctx, a: &ProbeArgs<'_>) -> Result<Judge, ProbeError> {
        let exp = crate::ops::check::expectations(&a.check, ctx)
            .map_err(|e| ProbeError::Check(e.into()))?;
        let given = crate::ops::certs::trusted_roots(ctx, &a.check.trusted_roots)?;
        let has_store = ctx.store_dir().join(crate::store::DB_FILE).exists();
        let (pool, assignments) = if has_store {
            ctx.store()?
                .read(|tx| Ok::<_, ProbeError>((tx.certificate_pool()?, tx.assignments(None)?)))?
        } else {
            (Vec::new(), Vec::new())
        };
        let store_roots = roots_in(pool);
        let (anchors, trusted_by) = match given {
            Some(r) => (r, "TrustedRoot"),
            None if !store_roots.is_empty() => (store_roots, "Store"),
            None => {
                let native = rustls_native_certs::load_native_certs();
                (
                    native.certs.into_iter().map(|c| c.to_vec()).collect(),
                    "System",
                )
            }
        };
        let computer = a
            .check
            .computer
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        Ok(Judge {
            exp,
            anchors,
            trusted_by,
            uses: a.check.uses.clone(),
            computer,
            this_computer: ctx.this_computer(),
            assignments,
        })
    }

    pub fn judge(&self, endpoint: &str, t: &Target, served: Served) -> ProbeResult {
        let chain_subjects: Vec<String> = served
            .chain
            .iter()
            .map(|d| inspect_der_certificate(d).map_or_else(|e| format!("({e})"), |i| i.subject))
            .collect();
        let mut r = ProbeResult {
            endpoint: endpoint.to_string(),
            protocol: t.protocol.name(),
            server_name: t.server_name.clone(),
            address: served.address.to_string(),
            tls_version: served.tls_version,
            cipher_suite: served.cipher_suite,
            subject: String::new(),
            issuer: None,
            alternative_names: Vec::new(),
            thumbprint: None,
            not_before: None,
            not_after: None,
            chain: chain_subjects,
            trusted_by: self.trusted_by,
            assigned_thumbprint: None,
            xmpp_domains: Vec::new(),
            sip_domains: Vec::new(),
            findings: Vec::new(),
            passed: false,
        };
        let item = match inspect_der_certificate(&served.chain[0]) {
            Ok(i) => i,
            Err(e) => {
                r.findings.push(finding(
                    "SERVED-UNREADABLE",
                    Severity::Error,
                    format!("the served certificate cannot be read: {e}"),
                    Vec::new(),
                ));
                return r;
            }
        };
        let mut exp = self.exp.clone();
        if t.protocol.is_xmpp() {
            // Each result is about the one domain its stream named.
            exp.xmpp_domains = vec![t.server_name.clone()];
        }
        let report = check_chain(&served.chain[0], &served.chain[1..], Some(&self.anchors));
        let v = with_chain(validate(&item, &exp), &report);
        r.findings = v
            .findings
            .into_iter()
            .map(|f| finding(f.rule_id.as_str(), f.severity, f.message, f.names))
            .collect();
        if !t.protocol.is_xmpp() {
            r.findings.extend(name_finding(&item, &t.server_name));
        }
        r.findings.extend(expiring(&item, exp.now));
        let host_computer = (t.host.parse::<std::net::IpAddr>().is_err()).then(|| t.host.clone());
        let computer = self
            .computer
            .clone()
            .or(host_computer)
            .unwrap_or_else(|| self.this_computer.clone());
        let (assigned, f) = self.served_vs_assigned(&item, &computer, exp.now);
        r.assigned_thumbprint = assigned;
        r.findings.extend(f);
        r.passed = !r.findings.iter().any(|f| f.severity == Severity::Error);
        r.subject = item.subject;
        r.issuer = item.issuer;
        r.alternative_names = item.dns_names;
        r.thumbprint = item.thumbprint;
        r.not_before = item.not_before;
        r.not_after = item.not_after;
        r.xmpp_domains = v.xmpp_domains;
        r.sip_domains = v.sip_domains;
        r
    }

    /// For each -Type the store assigns on `computer` (or Global): the served certificate must be
    /// the current one. Serving the previous one means the service kept the old certificate.
    fn served_vs_assigned(
        &self,
        item: &Inspected,
        computer: &str,
        now: DateTime<Utc>,
    ) -> (Option<String>, Vec<ProbeFinding>) {
        let served = item.thumbprint.clone().unwrap_or_default();
        let mut first = None;
        let mut out = Vec::new();
        for u in &self.uses {
            let scope = if u.is_global() { GLOBAL } else { computer };
            let rows: Vec<AssignmentRow> = self
                .assignments
                .iter()
                .filter(|r| r.scope.eq_ignore_ascii_case(scope) && r.use_name == u.name())
                .cloned()
                .collect();
            let st = assign::resolve(&rows, now);
            let Some(cur) = &st.current else { continue };
            first.get_or_insert_with(|| cur.thumbprint.clone());
            if cur.thumbprint.eq_ignore_ascii_case(&served) {
                continue;
            }
            let since = cur.effective.format("%Y-%m-%d %H:%M:%S UTC");
            let was_assigned = st
                .previous
                .iter()
                .chain(&st.older)
                .any(|r| r.thumbprint.eq_ignore_ascii_case(&served));
            let why = if was_assigned {
                "the service was not restarted"
            } else {
                "the server serves a certificate that is not assigned for this use"
            };
            out.push(finding(
                "SERVED-NOT-ASSIGNED",
                Severity::Error,
                format!(
                    "served {served}, assigned {} since {since} for \"{u}\" on {scope}: {why}",
                    cur.thumbprint
                ),
                vec![served.clone(), cur.thumbprint.clone(), u.name().to_string()],
            ));
        }
        (first, out)
    }
}

fn finding(id: &str, severity: Severity, message: String, names: Vec<String>) -> ProbeFinding {
    ProbeFinding {
        rule_id: id.to_string(),
        severity,
        message,
        names,
    }
}

/// SIP and HTTPS clients check the host they connected to against the DNS SANs (RFC 9525).
fn name_finding(item: &Inspected, name: &str) -> Option<ProbeFinding> {
    if name.parse::<std::net::IpAddr>().is_ok()
        || item
            .dns_names
            .iter()
            .any(|d| dns_id_matches(d, name).is_some())
    {
        return None;
    }
    Some(finding(
        "SERVED-NAME-MISMATCH",
        Severity::Error,
        format!("the served certificate does not name {name}, the name its peers connect to"),
        vec![name.to_string()],
    ))
}

/// Still valid, but for less than [`EXPIRING_DAYS`] days.
fn expiring(item: &Inspected, now: DateTime<Utc>) -> Option<ProbeFinding> {
    let na = item.not_after?;
    let left = na - now;
    (left > Duration::zero() && left < Duration::days(EXPIRING_DAYS)).then(|| {
        finding(
            "SERVED-EXPIRING",
            Severity::Warning,
            format!(
                "the served certificate expires on {} (in {} days)",
                na.format("%Y-%m-%d %H:%M:%S UTC"),
                left.num_days()
            ),
            vec![item.thumbprint.clone().unwrap_or_default()],
        )
    })
}
