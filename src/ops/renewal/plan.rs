//! Which certificates are due: the groups of uses sharing one certificate at one scope, what
//! the store knows about each (source, renewal state, a renewal an earlier run issued), and
//! the decision (ACME renewal window, else a third of the lifetime, -RenewBeforeDays,
//! -RenewNow).

use super::{Renewal, Status, UpdateArgs, UpdateError};
use crate::model::{join_uses, CertType};
use crate::ops::acme::ari;
use crate::ops::{assign, Ctx};
use crate::store::{AssignmentRow, CertRow, CertSource, RenewalState, SourceKind};
use chrono::{DateTime, Duration, Utc};
use std::collections::{BTreeMap, HashMap};

/// The uses at one scope that show one certificate (they are renewed together).
#[derive(Debug, Clone)]
pub struct Group {
    pub scope: String,
    pub thumbprint: String,
    pub uses: Vec<CertType>,
}

/// What the store knows about a group's certificate.
pub struct Facts {
    pub row: CertRow,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    pub source: Option<CertSource>,
    pub state: RenewalState,
    /// Certificates earlier runs issued to renew this one, newest first.
    pub renewed_by: Vec<String>,
}

impl Facts {
    /// How the source is shown (`Source` of the object).
    pub fn source_text(&self) -> String {
        match &self.source {
            Some(s) if s.kind == SourceKind::Acme => format!("ACME {}", s.settings.ca),
            Some(s) => format!("LabCa {}", s.settings.ca),
            None => "Imported".into(),
        }
    }
}

/// The decision about one group.
pub struct Decision {
    pub due: bool,
    pub renew_after: DateTime<Utc>,
    pub why: String,
    /// The ARI identifier of the certificate when the CA offers renewal information: sent as
    /// `replaces` in the new order.
    pub replaces: Option<String>,
}

/// The moment a third of the lifetime remains (30 days of a 90-day certificate).
pub fn lifetime_renew_after(not_before: DateTime<Utc>, not_after: DateTime<Utc>) -> DateTime<Utc> {
    not_after - (not_after - not_before) / 3
}

/// The groups of the chosen scopes: per scope, the certificate each use shows (a staged one
/// counts: its use is already renewed), uses in CertType order. The assignments are read in one
/// query and resolved here, so a run over a thousand computers stays cheap.
pub fn groups(ctx: &mut Ctx, a: &UpdateArgs<'_>) -> Result<Vec<Group>, UpdateError> {
    let now = ctx.now;
    let scopes = (!a.all).then(|| assign::scopes_for_reading(ctx, a.identity));
    let rows = ctx.store()?.read(|tx| -> Result<_, UpdateError> {
        Ok(match &scopes {
            None => tx.assignments(None)?,
            Some(scopes) => {
                let mut rows = Vec::new();
                for s in scopes {
                    rows.extend(tx.assignments(Some(s))?);
                }
                rows
            }
        })
    })?;
    let mut by_use: BTreeMap<(String, CertType), Vec<AssignmentRow>> = BTreeMap::new();
    for r in rows {
        if let Some(u) = CertType::parse(&r.use_name) {
            by_use.entry((r.scope.clone(), u)).or_default().push(r);
        }
    }
    let mut out: Vec<Group> = Vec::new();
    for ((scope, u), rows) in by_use {
        if !a.uses.is_empty() && !a.uses.contains(&u) {
            continue;
        }
        let st = assign::resolve(&rows, now);
        let Some((shown, _)) = assign::shown(&st) else {
            continue;
        };
        match out
            .iter_mut()
            .find(|g| g.scope == scope && g.thumbprint == shown.thumbprint)
        {
            Some(g) => g.uses.push(u),
            None => out.push(Group {
                scope,
                thumbprint: shown.thumbprint.clone(),
                uses: vec![u],
            }),
        }
    }
    Ok(out)
}

/// The facts of every group, read in a handful of queries.
pub fn all_facts(
    ctx: &mut Ctx,
    groups: &[Group],
) -> Result<Vec<Result<Facts, String>>, UpdateError> {
    let now = ctx.now;
    let (certs, sources, states) = ctx.store()?.read(|tx| -> Result<_, UpdateError> {
        // Planning reads the DER only; a due certificate's whole row is read again under the
        // renewal lock (`facts`).
        let certs: HashMap<String, Vec<u8>> = tx.certificate_ders()?.into_iter().collect();
        Ok((certs, tx.cert_sources()?, tx.renewal_states()?))
    })?;
    let mut renewed_by: HashMap<String, Vec<String>> = HashMap::new();
    for s in &sources {
        if let Some(old) = &s.renews {
            renewed_by
                .entry(old.clone())
                .or_default()
                .push(s.thumbprint.clone());
        }
    }
    let sources: HashMap<String, CertSource> = sources
        .into_iter()
        .map(|s| (s.thumbprint.clone(), s))
        .collect();
    Ok(groups
        .iter()
        .map(|g| {
            let t = &g.thumbprint;
            // One certificate may be assigned at several scopes: each group gets its copy.
            let row = certs.get(t).map(|der| CertRow {
                thumbprint: t.clone(),
                der: der.clone(),
                chain: Vec::new(),
                key_pkcs8: None,
                exportable: false,
                friendly_name: None,
                request_id: None,
                added: now,
                spki_der: Vec::new(),
            });
            let (source, state) = (sources.get(t).cloned(), states.get(t).cloned());
            let renewals = renewed_by.get(t).cloned().unwrap_or_default();
            build(g, row, source, state.unwrap_or_default(), renewals)
        })
        .collect())
}

/// The store's facts about one group's certificate, read again (under the renewal lock).
pub fn facts(ctx: &mut Ctx, g: &Group) -> Result<Result<Facts, String>, UpdateError> {
    let (row, source, state, renewed_by) = ctx.store()?.read(|tx| -> Result<_, UpdateError> {
        Ok((
            tx.certificate(&g.thumbprint)?,
            tx.cert_source(&g.thumbprint)?,
            tx.renewal_state(&g.thumbprint)?,
            tx.renewals_of(&g.thumbprint)?,
        ))
    })?;
    Ok(build(g, row, source, state, renewed_by))
}

/// Facts from what the store holds; `Err(reason)` when the certificate is missing or unreadable.
fn build(
    g: &Group,
    row: Option<CertRow>,
    source: Option<CertSource>,
    state: RenewalState,
    renewed_by: Vec<String>,
) -> Result<Facts, String> {
    let Some(row) = row else {
        return Err(format!(
            "the assigned certificate {} is not in the store",
            g.thumbprint
        ));
    };
    // Only the validity is read here: a run with nothing due stays cheap over many certificates.
    use x509_parser::prelude::FromDer;
    let (not_before, not_after) = x509_parser::certificate::X509Certificate::from_der(&row.der)
        .map(|(_, c)| {
            let v = c.validity();
            let at = |t: &x509_parser::time::ASN1Time| {
                DateTime::from_timestamp(t.timestamp(), 0).unwrap_or_default()
            };
            (at(&v.not_before), at(&v.not_after))
        })
        .map_err(|e| format!("the stored certificate cannot be read: {e}"))?;
    Ok(Facts {
        row,
        not_before,
        not_after,
        source,
        state,
        renewed_by,
    })
}

/// The renewal window the CA suggests (RFC 9773), from the store while its Retry-After has not
/// passed, else asked now (`may_ask`: not under -WhatIf) and remembered. `None`: no ARI.
fn ari_moment(
    ctx: &mut Ctx,
    f: &Facts,
    may_ask: bool,
) -> Result<Option<(DateTime<Utc>, ari::Window, String)>, UpdateError> {
    let Some(source) = f.source.as_ref().filter(|s| s.kind == SourceKind::Acme) else {
        return Ok(None);
    };
    let Some(id) = ari::cert_id(&f.row.der) else {
        return Ok(None);
    };
    let now = ctx.now;
    let cached = |st: &RenewalState| match (st.ari_start, st.ari_end, st.ari_moment) {
        (Some(start), Some(end), Some(m)) => Some((m, ari::Window { start, end }, id.clone())),
        _ => None,
    };
    if f.state.ari_next_check.is_some_and(|t| t > now) || !may_ask {
        return Ok(cached(&f.state));
    }
    let timeout = std::time::Duration::from_secs(30);
    let s = &source.settings;
    let answer = match ari::fetch(&s.ca, s.ca_bundle.as_deref(), &id, timeout, now) {
        Ok(a) => a,
        Err(e) => {
            ctx.host.warning(format!(
                "The renewal information of {} could not be read ({}); its lifetime decides.",
                f.row.thumbprint,
                crate::error::CsError::from(e).message
            ));
            return Ok(cached(&f.state));
        }
    };
    let mut st = f.state.clone();
    match &answer {
        Some(a) => {
            // The moment stays where it was while the CA keeps the same window.
            let same = st.ari_start == Some(a.window.start) && st.ari_end == Some(a.window.end);
            if !same || st.ari_moment.is_none() {
                st.ari_moment = Some(ari::moment_in(a.window, ari::random_u64()));
            }
            st.ari_start = Some(a.window.start);
            st.ari_end = Some(a.window.end);
            st.ari_next_check = Some(a.next_check);
            ctx.host.verbose(format!(
                "{}: the CA suggests renewing between {} and {}; chosen moment {}; asked again after {}.",
                f.row.thumbprint, a.window.start, a.window.end,
                st.ari_moment.expect("set above"), a.next_check
            ));
        }
        None => {
            // No renewalInfo: not asked again before the default interval.
            st = RenewalState {
                offline_request_id: st.offline_request_id,
                ari_next_check: Some(ari::next_check(None, now)),
                ..RenewalState::default()
            };
        }
    }
    ctx.store()?.write(|tx| -> Result<(), UpdateError> {
        tx.put_renewal_state(&f.row.thumbprint, &st, now)?;
        Ok(tx.commit()?)
    })?;
    Ok(cached(&st))
}

/// Decides whether a group's certificate is due, and why.
pub fn decide(
    ctx: &mut Ctx,
    a: &UpdateArgs<'_>,
    f: &Facts,
    may_ask: bool,
) -> Result<Decision, UpdateError> {
    let now = ctx.now;
    let day = |d: DateTime<Utc>| d.format("%Y-%m-%d %H:%M:%SZ").to_string();
    let ari = ari_moment(ctx, f, may_ask)?;
    let (mut renew_after, mut why) = match &ari {
        Some((m, w, _)) => (
            *m,
            format!(
                "the CA's renewal window (RFC 9773) is {} to {}; the moment chosen in it is {}",
                day(w.start),
                day(w.end),
                day(*m)
            ),
        ),
        None => (
            lifetime_renew_after(f.not_before, f.not_after),
            format!(
                "less than a third of its lifetime remains from {} (it expires {})",
                day(lifetime_renew_after(f.not_before, f.not_after)),
                day(f.not_after)
            ),
        ),
    };
    if let Some(n) = a.renew_before_days {
        let by_days = f.not_after - Duration::days(n.into());
        if ari.is_none() || by_days < renew_after {
            renew_after = by_days;
            why = format!("it expires {} (-RenewBeforeDays {n})", day(f.not_after));
        }
    }
    let mut due = now >= renew_after;
    if a.renew_now {
        due = true;
        why = "-RenewNow".into();
    }
    Ok(Decision {
        due,
        renew_after,
        why,
        replaces: ari.map(|(_, _, id)| id),
    })
}

/// One row per use of a group, with the certificate's facts when known.
pub fn rows(
    g: &Group,
    status: Status,
    known: Option<(&Facts, &Decision)>,
    reason: String,
) -> Vec<Renewal> {
    g.uses
        .iter()
        .map(|u| Renewal {
            use_name: u.name(),
            identity: g.scope.clone(),
            status,
            thumbprint: Some(g.thumbprint.clone()),
            previous_thumbprint: None,
            not_after: known.map(|(f, _)| f.not_after),
            renew_after: known.map(|(_, d)| d.renew_after),
            effective_time: None,
            source: known.map(|(f, _)| f.source_text()).unwrap_or_default(),
            reason: reason.clone(),
            deploy_failed: false,
        })
        .collect()
}

/// -WhatIf: what would be renewed, why, from which CA, with which names.
pub fn show_plan(ctx: &mut Ctx, g: &Group, f: &Facts, d: &Decision) {
    let names = crate::pki::inspect::inspect_der_certificate(&f.row.der)
        .map(|c| c.dns_names.join(", "))
        .unwrap_or_default();
    let action = format!(
        "Renew certificate {} for {}",
        g.thumbprint,
        join_uses(&g.uses)
    );
    let _ = ctx.should_process(&g.scope, &action);
    // The plan's details on lines of their own: a quoted value on stderr is cut at 200
    // characters, and a CA path or a list of names would not fit beside the rest.
    ctx.host.info(format!("  Due: {}", d.why));
    ctx.host.info(format!("  From: {}", f.source_text()));
    ctx.host.info(format!("  Names: {names}"));
}
