//! Assignments: scopes, the current/previous/staged resolution of a use, assigning and
//! rolling (Set-/Import-CsCertificate), removing (Remove-CsCertificate), listing
//! (Get-CsCertificate).

use super::certs::{self, CertError};
use super::{Ctx, CtxError};
use crate::error::{Category, CsError};
use crate::model::CertType;
use crate::output::objects::{AssignedCertificate, CertificateCore};
use crate::pki::inspect::Inspected;
use crate::store::{AssignmentRow, CertRow, StoreError, Tx};
use chrono::{DateTime, Utc};

pub const GLOBAL: &str = "Global";

/// An assignment asked for with a command: the uses, `-Identity`, `-Roll`, `-EffectiveDate`.
#[derive(Debug, Clone, Copy, Default)]
pub struct AssignTo<'a> {
    pub uses: &'a [CertType],
    pub identity: Option<&'a str>,
    pub roll: bool,
    pub effective: Option<DateTime<Utc>>,
}

/// The scope an assignment belongs to: Global for `-Identity Global` and for global uses
/// (OAuthTokenIssuer), else the computer named by -Identity, else this computer.
pub fn scope_for(ctx: &mut Ctx, identity: Option<&str>, use_: CertType) -> String {
    match identity.map(str::trim) {
        Some(i) if i.eq_ignore_ascii_case(GLOBAL) => GLOBAL.to_string(),
        _ if use_.is_global() => GLOBAL.to_string(),
        Some(i) if !i.is_empty() => i.strip_prefix("service:").unwrap_or(i).to_string(),
        _ => ctx.this_computer(),
    }
}

/// The scopes Get-CsCertificate and Test-CsCertificateConfiguration look at.
pub fn scopes_for_reading(ctx: &mut Ctx, identity: Option<&str>) -> Vec<String> {
    match identity.map(str::trim) {
        Some(i) if i.eq_ignore_ascii_case(GLOBAL) => vec![GLOBAL.to_string()],
        Some(i) if !i.is_empty() => vec![i.to_string()],
        _ => vec![ctx.this_computer(), GLOBAL.to_string()],
    }
}

/// The assignments of one use at one scope, resolved at a time.
#[derive(Debug, Clone)]
pub struct UseState {
    pub current: Option<AssignmentRow>,
    pub previous: Option<AssignmentRow>,
    /// Rolls that take effect later, soonest first.
    pub staged: Vec<AssignmentRow>,
    /// Rows older than the previous one (superseded; pruned on the next write).
    pub older: Vec<AssignmentRow>,
}

/// Current = the latest row effective at `now`; previous = the one before it.
pub fn resolve(rows: &[AssignmentRow], now: DateTime<Utc>) -> UseState {
    let mut sorted: Vec<&AssignmentRow> = rows.iter().collect();
    sorted.sort_by_key(|r| (r.effective, r.id));
    let (past, future): (Vec<&AssignmentRow>, Vec<&AssignmentRow>) =
        sorted.into_iter().partition(|r| r.effective <= now);
    let mut past = past.into_iter().rev();
    let current = past.next().cloned();
    let previous = past.next().cloned();
    UseState {
        current,
        previous,
        staged: future.into_iter().cloned().collect(),
        older: past.cloned().collect(),
    }
}

/// All uses at the given scopes, each resolved at `now`, in CertType order.
pub fn states(
    tx: &Tx<'_>,
    scopes: &[String],
    now: DateTime<Utc>,
) -> Result<Vec<(String, CertType, UseState)>, StoreError> {
    let mut out = Vec::new();
    for scope in scopes {
        let rows = tx.assignments(Some(scope))?;
        let mut uses: Vec<CertType> = rows
            .iter()
            .filter_map(|r| CertType::parse(&r.use_name))
            .collect();
        uses.sort();
        uses.dedup();
        for u in uses {
            let mine: Vec<AssignmentRow> = rows
                .iter()
                .filter(|r| r.use_name == u.name())
                .cloned()
                .collect();
            out.push((scope.clone(), u, resolve(&mine, now)));
        }
    }
    Ok(out)
}

/// The one row Get-CsCertificate shows for a use, and its previous thumbprint: a staged roll
/// is shown at once, with its future EffectiveTime and the serving certificate as
/// PreviousThumbprint (Lync keeps two copies per use, current and previous, and a roll makes the
/// new one current "co-active" with the old from -EffectiveDate: assign-a-server-to-server-
/// certificate.md, stage-av-and-oauth-certificates.md). Never a second object for one use.
pub fn shown(st: &UseState) -> Option<(&AssignmentRow, Option<&AssignmentRow>)> {
    match (st.staged.last(), &st.current) {
        (Some(staged), cur) => Some((staged, cur.as_ref())),
        (None, Some(cur)) => Some((cur, st.previous.as_ref())),
        (None, None) => None,
    }
}

pub fn assigned_object(
    scope: &str,
    use_: CertType,
    shown: &AssignmentRow,
    previous: Option<&AssignmentRow>,
    c: &Inspected,
) -> AssignedCertificate {
    AssignedCertificate {
        core: CertificateCore {
            thumbprint: shown.thumbprint.clone(),
            ..CertificateCore::of(c)
        },
        effective_time: shown.rolled.then_some(shown.effective),
        previous_thumbprint: previous.map(|p| p.thumbprint.clone()),
        update_time: (shown.rolled || previous.is_some()).then_some(shown.updated),
        use_name: use_.name().to_string(),
        source_scope: (scope == GLOBAL).then(|| GLOBAL.to_string()),
        revoked: None,
        revocation_reason: None,
    }
}

/// What to assign: one certificate to uses (each with its scope), now or staged.
pub struct Assignment<'a> {
    pub thumbprint: &'a str,
    pub targets: Vec<(CertType, String)>,
    pub roll: bool,
    pub effective: Option<DateTime<Utc>>,
}

impl<'a> Assignment<'a> {
    /// Resolves each use's scope (this computer, -Identity, or Global).
    pub fn new(
        ctx: &mut Ctx,
        thumbprint: &'a str,
        uses: &[CertType],
        identity: Option<&str>,
        roll: bool,
        effective: Option<DateTime<Utc>>,
    ) -> Self {
        let targets = uses
            .iter()
            .map(|&u| (u, scope_for(ctx, identity, u)))
            .collect();
        Assignment {
            thumbprint,
            targets,
            roll,
            effective,
        }
    }
}

/// Why a certificate cannot be assigned (or rolled) as asked, and why an assigned use is not
/// listed (a [`Listing`]'s error records).
#[derive(Debug)]
pub enum AssignError {
    WithoutPrivateKey {
        thumbprint: String,
        subject: String,
    },
    /// Revoked through Revoke-CsCertificate (the store's record).
    Revoked {
        thumbprint: String,
        reason: String,
        revoked: DateTime<Utc>,
    },
    Expired {
        thumbprint: String,
        subject: String,
        not_after: DateTime<Utc>,
    },
    /// A roll whose certificate would be expired when it becomes current.
    ExpiresBeforeEffective {
        thumbprint: String,
        subject: String,
        not_after: DateTime<Utc>,
        effective: DateTime<Utc>,
    },
    RollWithoutEffectiveDate,
    EffectiveDateWithoutRoll,
    /// An assignment whose certificate is not in the store (a listing's error record).
    AssignedNotInStore {
        thumbprint: String,
        use_: CertType,
    },
    /// The certificate to assign is not in the store or does not read; or (in a listing) an
    /// assigned one does not read ([`CertError::AssignedUnreadable`]).
    Cert(CertError),
    Store(StoreError),
    Ctx(CtxError),
}

crate::ops::wraps!(AssignError: Cert(CertError), Store(StoreError), Ctx(CtxError));

impl From<AssignError> for CsError {
    fn from(e: AssignError) -> CsError {
        let day = |d: DateTime<Utc>| d.format("%m/%d/%Y %H:%M:%S UTC").to_string();
        match e {
            AssignError::WithoutPrivateKey { thumbprint, subject } => CsError::without_private_key(&thumbprint, &subject),
            AssignError::Revoked { thumbprint, reason, revoked } => CsError::failed(
                "CertificateRevoked",
                Category::InvalidOperation,
                format!("The certificate \"{thumbprint}\" was revoked on {} (reason {reason}); its CA no longer vouches for it. Assign another certificate.", day(revoked)),
            )
            .with_target(thumbprint),
            AssignError::Expired { thumbprint, subject, not_after } => CsError::failed(
                "CertificateExpired",
                Category::InvalidOperation,
                format!("The certificate \"{thumbprint}\" ({subject}) expired on {}.", day(not_after)),
            )
            .with_target(thumbprint),
            AssignError::ExpiresBeforeEffective { thumbprint, subject, not_after, effective } => CsError::failed(
                "CertificateExpiresBeforeEffectiveDate",
                Category::InvalidOperation,
                format!(
                    "The certificate \"{thumbprint}\" ({subject}) expires on {}, before the effective date {}: it would be expired when it becomes current. Choose an earlier -EffectiveDate or a newer certificate.",
                    day(not_after),
                    day(effective)
                ),
            )
            .with_target(thumbprint),
            AssignError::RollWithoutEffectiveDate => CsError::failed(
                "RollWithoutEffectiveDate",
                Category::InvalidArgument,
                "-Roll needs -EffectiveDate: the time at which the new certificate becomes current.",
            ),
            AssignError::EffectiveDateWithoutRoll => CsError::failed(
                "EffectiveDateWithoutRoll",
                Category::InvalidArgument,
                "-EffectiveDate is used only with -Roll. Add -Roll to stage the certificate, or leave out -EffectiveDate to assign it now.",
            ),
            AssignError::AssignedNotInStore { thumbprint, use_ } => CsError::failed(
                "CertificateNotFound",
                Category::ObjectNotFound,
                format!("Assigned certificate not found or untrusted: {thumbprint} (use {use_})."),
            )
            .with_target(thumbprint),
            AssignError::Cert(e) => e.into(),
            AssignError::Store(e) => e.into(),
            AssignError::Ctx(e) => e.into(),
        }
    }
}

/// Checks that a certificate can be assigned: it has its private key and has not expired.
pub fn check_assignable(
    row: &CertRow,
    c: &Inspected,
    now: DateTime<Utc>,
) -> Result<(), AssignError> {
    if row.key_pkcs8.is_none() {
        return Err(AssignError::WithoutPrivateKey {
            thumbprint: row.thumbprint.clone(),
            subject: c.subject.clone(),
        });
    }
    match c.not_after {
        Some(na) if na < now => Err(AssignError::Expired {
            thumbprint: row.thumbprint.clone(),
            subject: c.subject.clone(),
            not_after: na,
        }),
        _ => Ok(()),
    }
}

/// A certificate revoked through Revoke-CsCertificate is never assigned again.
fn refuse_revoked(r: Option<crate::store::RevocationRow>) -> Result<(), AssignError> {
    match r {
        Some(r) => Err(AssignError::Revoked {
            thumbprint: r.thumbprint,
            reason: r.reason,
            revoked: r.revoked,
        }),
        None => Ok(()),
    }
}

/// A staged certificate must still be valid when it becomes current; otherwise the roll would
/// put an expired certificate in service at the effective time.
pub fn check_valid_when_effective(
    thumbprint: &str,
    c: &Inspected,
    effective: DateTime<Utc>,
) -> Result<(), AssignError> {
    match c.not_after {
        Some(na) if na <= effective => Err(AssignError::ExpiresBeforeEffective {
            thumbprint: thumbprint.to_string(),
            subject: c.subject.clone(),
            not_after: na,
            effective,
        }),
        _ => Ok(()),
    }
}

/// Validates the -Roll / -EffectiveDate combination.
pub fn check_roll(roll: bool, effective: Option<DateTime<Utc>>) -> Result<(), AssignError> {
    match (roll, effective) {
        (true, None) => Err(AssignError::RollWithoutEffectiveDate),
        (false, Some(_)) => Err(AssignError::EffectiveDateWithoutRoll),
        _ => Ok(()),
    }
}

/// Writes the assignment rows inside the caller's transaction and returns Lync's lines to print
/// once it has committed. Lync keeps two copies per use, current and previous
/// (assign-a-server-to-server-certificate.md): a plain assignment makes the new certificate
/// current and the replaced one previous; a roll stages the new one beside the serving one
/// (which becomes previous at the effective time), replacing any earlier staged roll. A roll
/// whose effective date has already passed puts the new certificate in service at once, with the
/// serving one as previous (Set-CsCertificate's own example date, 7/22/2012, is in the past).
pub fn apply(
    tx: &Tx<'_>,
    a: &Assignment<'_>,
    c: &Inspected,
    now: DateTime<Utc>,
) -> Result<Applied, AssignError> {
    if a.roll {
        check_valid_when_effective(a.thumbprint, c, a.effective.unwrap_or(now))?;
    }
    let mut lines = Vec::new();
    let mut warnings = Vec::new();
    for (u, scope) in &a.targets {
        let rows: Vec<AssignmentRow> = tx
            .assignments(Some(scope))?
            .into_iter()
            .filter(|r| r.use_name == u.name())
            .collect();
        let st = resolve(&rows, now);
        if let (Some(e), None) = (a.effective.filter(|e| a.roll && *e > now), &st.current) {
            warnings.push(nothing_in_service_until(*u, scope, e));
        }
        // Only the serving certificate stays (it becomes previous); staged rolls, the old
        // previous and anything older go: two copies per use.
        for r in rows
            .iter()
            .filter(|r| st.current.as_ref().is_none_or(|cur| cur.id != r.id))
        {
            tx.delete_assignment(r.id)?;
        }
        let effective = match a.effective {
            Some(e) if a.roll && e > now => e,
            _ => now,
        };
        tx.assign(scope, u.name(), a.thumbprint, effective, a.roll, now)?;
        let cn = c.subject_cn.first().cloned().unwrap_or_default();
        let when = match a.effective {
            Some(e) if a.roll && e > now => {
                format!(" (staged; effective {})", e.format("%m/%d/%Y %H:%M:%S UTC"))
            }
            Some(e) if a.roll => format!(
                " (the effective date {} has passed: in service now)",
                e.format("%m/%d/%Y %H:%M:%S UTC")
            ),
            _ => String::new(),
        };
        lines.push(format!(
            "The following certificate was assigned for the type \"{u}\"{when}:"
        ));
        lines.push(format!(
            "{u}: {} {cn} {} {} {}",
            a.thumbprint,
            c.not_after
                .map(|d| d.format("%m/%d/%Y").to_string())
                .unwrap_or_default(),
            c.issuer.clone().unwrap_or_default(),
            c.serial.clone().unwrap_or_default()
        ));
    }
    Ok(Applied { lines, warnings })
}

/// What [`apply`] did: Lync's lines, and warnings (a first roll leaves nothing in service).
#[derive(Debug, Default)]
pub struct Applied {
    pub lines: Vec<String>,
    pub warnings: Vec<String>,
}

/// The words for a use whose only assignment is a staged roll (a first -Roll): allowed (first
/// staging of an OAuth certificate is real) but nothing serves until the roll's date.
pub fn nothing_in_service_until(u: CertType, scope: &str, effective: DateTime<Utc>) -> String {
    format!(
        "Nothing is in service for the type \"{u}\" at {scope} until {}: its only certificate is staged by -Roll. Assign a certificate now with Set-CsCertificate (without -Roll) if the use must work before then.",
        effective.format("%m/%d/%Y %H:%M:%S UTC")
    )
}

/// Get-CsCertificate's answer: one object per assigned use, and an error record per row that
/// cannot be shown (the others are still shown).
#[derive(Debug, Default)]
pub struct Listing {
    pub objects: Vec<AssignedCertificate>,
    /// `Cert(AssignedUnreadable)` or `AssignedNotInStore`, one per row not shown.
    pub errors: Vec<AssignError>,
}

/// The assigned certificates at `-Identity` (default this computer and Global), `only` these
/// uses when not empty, resolved at the current time.
pub fn list(
    ctx: &mut Ctx,
    identity: Option<&str>,
    only: &[CertType],
) -> Result<Listing, AssignError> {
    let scopes = scopes_for_reading(ctx, identity);
    let now = ctx.now;
    // One bad row (a damaged certificate) is an error record of its own; the others are shown.
    let (objects, missing, broken) = ctx.store()?.read(|tx| -> Result<_, AssignError> {
        let mut objects = Vec::new();
        let mut missing = Vec::new();
        let mut broken: Vec<AssignError> = Vec::new();
        for (scope, u, st) in states(tx, &scopes, now)? {
            if !only.is_empty() && !only.contains(&u) {
                continue;
            }
            let Some((shown, previous)) = shown(&st) else {
                continue;
            };
            match certs::row_of(tx, &shown.thumbprint) {
                Ok(Some(row)) => match certs::parse(&row) {
                    Ok(c) => {
                        let mut o = assigned_object(&scope, u, shown, previous, &c);
                        if let Some(r) = tx.revocation(&shown.thumbprint)? {
                            o.revoked = Some(r.revoked);
                            o.revocation_reason = Some(r.reason);
                        }
                        objects.push(o);
                    }
                    Err(e) => broken.push(certs::row_error(e, &shown.thumbprint, u, &scope).into()),
                },
                Ok(None) => missing.push((u, shown.thumbprint.clone())),
                Err(e) => broken.push(certs::row_error(e, &shown.thumbprint, u, &scope).into()),
            }
        }
        Ok((objects, missing, broken))
    })?;
    let mut errors = broken;
    for (use_, thumbprint) in missing {
        errors.push(AssignError::AssignedNotInStore { thumbprint, use_ });
    }
    Ok(Listing { objects, errors })
}

/// Assigns a certificate already in the store. `Ok(None)`: -WhatIf or declined; else Lync's
/// lines, to print.
pub fn assign_stored(
    ctx: &mut Ctx,
    thumbprint: &str,
    to: AssignTo<'_>,
) -> Result<Option<Vec<String>>, AssignError> {
    let now = ctx.now;
    let assignment = Assignment::new(ctx, thumbprint, to.uses, to.identity, to.roll, to.effective);
    let (row, c) = ctx.store()?.read(|tx| certs::load(tx, thumbprint))?;
    check_assignable(&row, &c, now)?;
    refuse_revoked(ctx.store()?.read(|tx| tx.revocation(thumbprint))?)?;
    let action = if to.roll {
        "Stage certificate assignment"
    } else {
        "Assign certificate"
    };
    let target = format!("{thumbprint} for {}", crate::model::join_uses(to.uses));
    if !ctx.should_process(&target, action)? {
        return Ok(None);
    }
    let applied = ctx.store()?.write(|tx| -> Result<Applied, AssignError> {
        // Re-read inside the write transaction: another process may have removed it meanwhile.
        let (row, c) = certs::load(&tx, thumbprint)?;
        check_assignable(&row, &c, now)?;
        refuse_revoked(tx.revocation(thumbprint)?)?;
        let applied = apply(&tx, &assignment, &c, now)?;
        tx.commit()?;
        Ok(applied)
    })?;
    for w in applied.warnings {
        ctx.host.warning(w);
    }
    Ok(Some(applied.lines))
}

/// One use's assignment that Remove-CsCertificate took away.
#[derive(Debug, Clone, PartialEq)]
pub struct Removed {
    pub use_: CertType,
    pub scope: String,
    pub thumbprint: String,
    /// A staged roll was cancelled (the certificate in service, if any, stays).
    pub cancelled_roll: bool,
}

/// Why nothing was removed (for a use, or at all).
#[derive(Debug)]
pub enum RemoveError {
    /// `-Previous` while a roll is staged: the previous certificate still serves.
    PreviousStillServing {
        use_: CertType,
        serving: String,
        staged: String,
        effective: DateTime<Utc>,
    },
    NoPrevious {
        use_: CertType,
        scope: String,
    },
    NoCurrent {
        use_: CertType,
        scope: String,
    },
    Store(StoreError),
    Ctx(CtxError),
}

crate::ops::wraps!(RemoveError: Store(StoreError), Ctx(CtxError));

impl From<RemoveError> for CsError {
    fn from(e: RemoveError) -> CsError {
        match e {
            RemoveError::PreviousStillServing { use_: u, serving, staged, effective } => CsError::failed(
                "PreviousStillServing",
                Category::InvalidOperation,
                format!(
                    "The previous certificate {serving} of the type \"{u}\" is the one in service until the staged certificate {staged} takes effect on {}; removing it would leave nothing in service. Either cancel the staged roll (Remove-CsCertificate -Type {u} without -Previous; {serving} stays in service) or put the staged certificate in service now (Set-CsCertificate -Type {u} -Thumbprint {staged}), then remove the previous one.",
                    effective.format("%m/%d/%Y %H:%M:%S UTC")
                ),
            )
            .with_target(u.name()),
            RemoveError::NoPrevious { use_: u, scope } => CsError::failed(
                "NoPreviousCertificate",
                Category::ObjectNotFound,
                format!("No previous certificate is assigned for the type \"{u}\" at {scope}."),
            )
            .with_target(u.name()),
            RemoveError::NoCurrent { use_: u, scope } => CsError::failed(
                "NoCertificateAssigned",
                Category::ObjectNotFound,
                format!("No certificate is assigned for the type \"{u}\" at {scope}."),
            )
            .with_target(u.name()),
            RemoveError::Store(e) => e.into(),
            RemoveError::Ctx(e) => e.into(),
        }
    }
}

/// What Remove-CsCertificate takes away.
#[derive(Debug, Clone, Copy, Default)]
pub struct RemoveArgs<'a> {
    pub uses: &'a [CertType],
    pub identity: Option<&'a str>,
    /// The rolled-out previous certificate instead of the current one.
    pub previous: bool,
    pub force: bool,
}

/// The assignment rows to delete for one use, and the thumbprint they remove: what
/// Get-CsCertificate shows. During a staged roll Get shows the staged certificate, so removing
/// cancels the roll and the serving one stays; `-Previous` then names the serving one and is
/// refused (removing it would leave the use with nothing in service until the roll's date).
fn removal(
    st: &UseState,
    u: CertType,
    scope: &str,
    previous: bool,
) -> Result<(Vec<i64>, String, bool), RemoveError> {
    let staged = st.staged.last();
    if previous {
        if let (Some(staged), Some(cur)) = (staged, &st.current) {
            return Err(RemoveError::PreviousStillServing {
                use_: u,
                serving: cur.thumbprint.clone(),
                staged: staged.thumbprint.clone(),
                effective: staged.effective,
            });
        }
        return match (&st.previous, staged) {
            (Some(p), None) => Ok((
                std::iter::once(p.id)
                    .chain(st.older.iter().map(|r| r.id))
                    .collect(),
                p.thumbprint.clone(),
                false,
            )),
            _ => Err(RemoveError::NoPrevious {
                use_: u,
                scope: scope.to_string(),
            }),
        };
    }
    match (staged, &st.current) {
        (Some(s), _) => Ok((
            st.staged.iter().map(|r| r.id).collect(),
            s.thumbprint.clone(),
            true,
        )),
        // The current one and everything it replaced go.
        (None, Some(c)) => Ok((
            std::iter::once(c.id)
                .chain(st.previous.iter().map(|r| r.id))
                .chain(st.older.iter().map(|r| r.id))
                .collect(),
            c.thumbprint.clone(),
            false,
        )),
        (None, None) => Err(RemoveError::NoCurrent {
            use_: u,
            scope: scope.to_string(),
        }),
    }
}

/// Unassigns each use (asking per use unless -Force); returns what was removed.
pub fn remove(ctx: &mut Ctx, args: RemoveArgs<'_>) -> Result<Vec<Removed>, RemoveError> {
    let now = ctx.now;
    let targets: Vec<(CertType, String)> = args
        .uses
        .iter()
        .map(|&u| (u, scope_for(ctx, args.identity, u)))
        .collect();
    // Look first, so that a use with nothing to remove is an error before anything changes.
    let plan = ctx
        .store()?
        .read(|tx| -> Result<Vec<(Removed, Vec<i64>)>, RemoveError> {
            let mut plan = Vec::new();
            for (u, scope) in &targets {
                let rows: Vec<_> = tx
                    .assignments(Some(scope))?
                    .into_iter()
                    .filter(|r| r.use_name == u.name())
                    .collect();
                let st = resolve(&rows, now);
                let (ids, thumbprint, cancelled_roll) = removal(&st, *u, scope, args.previous)?;
                plan.push((
                    Removed {
                        use_: *u,
                        scope: scope.clone(),
                        thumbprint,
                        cancelled_roll,
                    },
                    ids,
                ));
            }
            Ok(plan)
        })?;
    let which = if args.previous { "previous " } else { "" };
    let mut confirmed = Vec::new();
    for (r, ids) in plan {
        let action = if r.cancelled_roll {
            "Cancel staged certificate assignment".to_string()
        } else {
            format!("Remove {which}certificate assignment")
        };
        if ctx.should_process_high(
            args.force,
            &format!("{} ({} at {})", r.thumbprint, r.use_, r.scope),
            &action,
        )? {
            confirmed.push((r, ids));
        }
    }
    if confirmed.is_empty() {
        return Ok(Vec::new());
    }
    ctx.store()?.write(|tx| -> Result<(), RemoveError> {
        for (_, ids) in &confirmed {
            for id in ids {
                tx.delete_assignment(*id)?;
            }
        }
        tx.commit()?;
        Ok(())
    })?;
    Ok(confirmed.into_iter().map(|(r, _)| r).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::import::tests::{cert_file, imported};
    use crate::ops::TempDir;
    use chrono::TimeZone;

    const FE: &str = "fe01.contoso.com";

    /// The Default use at FE.
    fn default_at_fe(roll: bool, effective: Option<DateTime<Utc>>) -> AssignTo<'static> {
        AssignTo {
            uses: &[CertType::Default],
            identity: Some(FE),
            roll,
            effective,
        }
    }

    fn remove_default(ctx: &mut Ctx, previous: bool) -> Result<Vec<Removed>, RemoveError> {
        let args = RemoveArgs {
            uses: &[CertType::Default],
            identity: Some(FE),
            previous,
            force: true,
        };
        remove(ctx, args)
    }

    fn row(id: i64, thumb: &str, day: u32) -> AssignmentRow {
        let t = Utc.with_ymd_and_hms(2026, 1, day, 0, 0, 0).unwrap();
        AssignmentRow {
            id,
            scope: "s".into(),
            use_name: "Default".into(),
            thumbprint: thumb.into(),
            effective: t,
            rolled: true,
            updated: t,
        }
    }

    #[test]
    fn roll_resolves_by_time() {
        let rows = vec![row(1, "OLD", 1), row(2, "NEW", 10)];
        let before = resolve(&rows, Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap());
        assert_eq!(before.current.unwrap().thumbprint, "OLD");
        assert!(before.previous.is_none());
        assert_eq!(before.staged.len(), 1);
        let after = resolve(&rows, Utc.with_ymd_and_hms(2026, 1, 10, 0, 0, 0).unwrap());
        assert_eq!(after.current.unwrap().thumbprint, "NEW");
        assert_eq!(after.previous.unwrap().thumbprint, "OLD");
        assert!(after.staged.is_empty());
    }

    #[test]
    fn roll_and_effective_date_go_together() {
        let t = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
        // `matches!`, not `assert_eq!`: AssignError carries store errors, which have no `==`.
        assert!(matches!(
            check_roll(true, None),
            Err(AssignError::RollWithoutEffectiveDate)
        ));
        assert!(matches!(
            check_roll(false, Some(t)),
            Err(AssignError::EffectiveDateWithoutRoll)
        ));
        assert!(check_roll(true, Some(t)).is_ok() && check_roll(false, None).is_ok());
        let e: CsError = AssignError::RollWithoutEffectiveDate.into();
        assert_eq!(e.error_id, "RollWithoutEffectiveDate");
    }

    #[test]
    fn nothing_assigned_is_nothing_to_remove_for_that_use_and_scope() {
        let dir = TempDir::new("remove-nothing");
        let mut ctx = Ctx::for_test(dir.0.join("store"));
        let e = remove_default(&mut ctx, false).unwrap_err();
        match &e {
            RemoveError::NoCurrent { use_, scope } => {
                assert_eq!((*use_, scope.as_str()), (CertType::Default, FE))
            }
            e => panic!("{e:?}"),
        }
        let e = CsError::from(e);
        assert_eq!(
            (e.error_id.as_str(), e.target.as_deref()),
            ("NoCertificateAssigned", Some("Default"))
        );
        match remove_default(&mut ctx, true).unwrap_err() {
            RemoveError::NoPrevious { use_, scope } => {
                assert_eq!((use_, scope.as_str()), (CertType::Default, FE))
            }
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn only_a_stored_certificate_with_its_key_that_has_not_expired_is_assigned() {
        let dir = TempDir::new("assign-refused");
        let mut ctx = Ctx::for_test(dir.0.join("store"));
        let unknown = "B2".repeat(20);
        match assign_stored(&mut ctx, &unknown, default_at_fe(false, None)).unwrap_err() {
            AssignError::Cert(CertError::NotInStore { thumbprint }) => {
                assert_eq!(thumbprint, unknown)
            }
            e => panic!("{e:?}"),
        }
        let (bare, bare_thumbprint) = cert_file(&dir.0, "bare.pem", false);
        let args = crate::ops::import::ImportArgs {
            path: &bare,
            force: true,
            ..Default::default()
        };
        crate::ops::import::import_file(&mut ctx, args).unwrap();
        match assign_stored(&mut ctx, &bare_thumbprint, default_at_fe(false, None)) {
            Err(AssignError::WithoutPrivateKey { thumbprint, .. }) => {
                assert_eq!(thumbprint, bare_thumbprint)
            }
            r => panic!("{r:?}"),
        }
        let (keyed, keyed_thumbprint) = cert_file(&dir.0, "keyed.pem", true);
        imported(&mut ctx, &keyed, false);
        // rcgen's certificates end with the year 4096.
        ctx.now = Utc.with_ymd_and_hms(5000, 1, 1, 0, 0, 0).unwrap();
        match assign_stored(&mut ctx, &keyed_thumbprint, default_at_fe(false, None)) {
            Err(AssignError::Expired {
                thumbprint,
                not_after,
                ..
            }) => {
                assert_eq!(thumbprint, keyed_thumbprint);
                assert_eq!(chrono::Datelike::year(&not_after), 4096);
            }
            r => panic!("{r:?}"),
        }
        let listing = list(&mut ctx, Some(FE), &[]).unwrap();
        assert!(listing.objects.is_empty() && listing.errors.is_empty());
    }

    #[test]
    fn the_certificate_a_staged_roll_replaces_serves_until_then() {
        let dir = TempDir::new("assign-roll");
        let mut ctx = Ctx::for_test(dir.0.join("store"));
        let (old, old_thumbprint) = cert_file(&dir.0, "old.pem", true);
        let (new, new_thumbprint) = cert_file(&dir.0, "new.pem", true);
        imported(&mut ctx, &old, false);
        imported(&mut ctx, &new, false);
        assign_stored(&mut ctx, &old_thumbprint, default_at_fe(false, None))
            .unwrap()
            .expect("not declined");
        let effective = ctx.now + chrono::Duration::days(7);
        let lines = assign_stored(
            &mut ctx,
            &new_thumbprint,
            default_at_fe(true, Some(effective)),
        )
        .unwrap()
        .expect("not declined");
        assert!(lines[0].contains("(staged; effective"), "{lines:?}");
        let listing = list(&mut ctx, Some(FE), &[CertType::Default]).unwrap();
        match listing.objects.as_slice() {
            [o] => {
                assert_eq!(o.core.thumbprint, new_thumbprint);
                assert_eq!(
                    o.previous_thumbprint.as_deref(),
                    Some(old_thumbprint.as_str())
                );
            }
            o => panic!("{o:?}"),
        }
        match remove_default(&mut ctx, true).unwrap_err() {
            RemoveError::PreviousStillServing {
                serving, staged, ..
            } => {
                assert_eq!(
                    (serving, staged),
                    (old_thumbprint.clone(), new_thumbprint.clone())
                )
            }
            e => panic!("{e:?}"),
        }
        // Remove acts on what Get shows: the staged roll is cancelled, the old one still serves.
        let removed = remove_default(&mut ctx, false).unwrap();
        assert_eq!(
            removed,
            vec![Removed {
                use_: CertType::Default,
                scope: FE.to_string(),
                thumbprint: new_thumbprint,
                cancelled_roll: true,
            }]
        );
        let listing = list(&mut ctx, Some(FE), &[CertType::Default]).unwrap();
        match listing.objects.as_slice() {
            [o] => assert_eq!(
                (o.core.thumbprint.as_str(), o.previous_thumbprint.as_deref()),
                (old_thumbprint.as_str(), None)
            ),
            o => panic!("{o:?}"),
        }
    }
}
