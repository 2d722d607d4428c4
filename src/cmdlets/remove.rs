//! Remove-CsCertificate: unassigns the current (or -Previous) certificate of each use; the
//! certificate itself stays in the store.

use super::Ctx;
use crate::binder::Bound;
use crate::error::{Category, CsError, CsResult};
use crate::model::CertType;
use crate::ops::certs;

/// One use's removal: the use, its scope, the assignment rows to delete, the thumbprint.
type Removal = (CertType, String, Vec<i64>, String);

pub fn exec(b: &Bound, ctx: &mut Ctx) -> CsResult<()> {
    let uses = b.uses("Type");
    let previous = b.switch("Previous");
    let now = ctx.now;
    let targets: Vec<(CertType, String)> = uses
        .iter()
        .map(|&u| (u, certs::scope_for(ctx, b.str("Identity"), u)))
        .collect();
    // Look first, so that a use with nothing to remove is an error before anything changes.
    let plan = ctx.store()?.read(|tx| -> CsResult<Vec<Removal>> {
        let mut plan = Vec::new();
        for (u, scope) in &targets {
            let rows: Vec<_> = tx
                .assignments(Some(scope))?
                .into_iter()
                .filter(|r| r.use_name == u.name())
                .collect();
            let st = certs::resolve(&rows, now);
            let (ids, thumb) = if previous {
                // While a roll is staged, Get-CsCertificate shows the serving certificate as
                // PreviousThumbprint: removing it would leave the use without a certificate
                // until the staged one takes effect.
                if let (Some(staged), Some(cur)) = (st.staged.last(), &st.current) {
                    return Err(CsError::failed(
                        "PreviousStillServing",
                        Category::InvalidOperation,
                        format!(
                            "The previous certificate {} of the type \"{u}\" still serves until the staged certificate {} takes effect on {}. Remove it after that time.",
                            cur.thumbprint,
                            staged.thumbprint,
                            staged.effective.format("%m/%d/%Y %H:%M:%S UTC")
                        ),
                    )
                    .with_target(u.name()));
                }
                match &st.previous {
                    Some(p) => (
                        std::iter::once(p.id)
                            .chain(st.older.iter().map(|r| r.id))
                            .collect(),
                        p.thumbprint.clone(),
                    ),
                    None => {
                        return Err(CsError::failed(
                            "NoPreviousCertificate",
                            Category::ObjectNotFound,
                            format!(
                            "No previous certificate is assigned for the type \"{u}\" at {scope}."
                        ),
                        )
                        .with_target(u.name()))
                    }
                }
            } else {
                match &st.current {
                    // The current one and everything it replaced go; a staged roll stays.
                    Some(c) => (
                        std::iter::once(c.id)
                            .chain(st.previous.iter().map(|r| r.id))
                            .chain(st.older.iter().map(|r| r.id))
                            .collect(),
                        c.thumbprint.clone(),
                    ),
                    None => {
                        return Err(CsError::failed(
                            "NoCertificateAssigned",
                            Category::ObjectNotFound,
                            format!("No certificate is assigned for the type \"{u}\" at {scope}."),
                        )
                        .with_target(u.name()))
                    }
                }
            };
            plan.push((*u, scope.clone(), ids, thumb));
        }
        Ok(plan)
    })?;
    let which = if previous { "previous " } else { "" };
    let mut confirmed = Vec::new();
    for (u, scope, ids, thumb) in plan {
        if ctx.should_process_high(
            b.switch("Force"),
            &format!("{thumb} ({u} at {scope})"),
            &format!("Remove {which}certificate assignment"),
        )? {
            confirmed.push((u, scope, ids, thumb));
        }
    }
    if confirmed.is_empty() {
        return Ok(());
    }
    ctx.store()?.write(|tx| -> CsResult<()> {
        for (_, _, ids, _) in &confirmed {
            for id in ids {
                tx.delete_assignment(*id)?;
            }
        }
        tx.commit()?;
        Ok(())
    })?;
    for (u, scope, _, thumb) in confirmed {
        let line = format!("Removed the {which}certificate {thumb} from {u} at {scope}.");
        ctx.host.verbose(&line);
        ctx.host.summary(line);
    }
    Ok(())
}
