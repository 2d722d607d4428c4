//! Get-CsCertificate: one object per assigned use, resolved at the current time.

use super::Ctx;
use crate::binder::Bound;
use crate::error::{Category, CsError, CsResult};
use crate::ops::certs;

pub fn exec(b: &Bound, ctx: &mut Ctx) -> CsResult<()> {
    let scopes = certs::scopes_for_reading(ctx, b.str("Identity"));
    let only = b.uses("Type");
    let now = ctx.now;
    // One bad row (a damaged certificate) is an error record of its own; the others are shown.
    let (objects, missing, broken) = ctx.store()?.read(|tx| -> CsResult<_> {
        let mut objects = Vec::new();
        let mut missing = Vec::new();
        let mut broken = Vec::new();
        for (scope, u, st) in certs::states(tx, &scopes, now)? {
            if !only.is_empty() && !only.contains(&u) {
                continue;
            }
            let Some((shown, previous)) = certs::shown(&st) else {
                continue;
            };
            match certs::row_of(tx, &shown.thumbprint) {
                Ok(Some(row)) => match certs::parse(&row) {
                    Ok(c) => objects.push(certs::assigned_object(&scope, u, shown, previous, &c)),
                    Err(e) => broken.push(certs::row_error(e, &shown.thumbprint, u, &scope)),
                },
                Ok(None) => missing.push((u, shown.thumbprint.clone())),
                Err(e) => broken.push(certs::row_error(e, &shown.thumbprint, u, &scope)),
            }
        }
        Ok((objects, missing, broken))
    })?;
    for e in broken {
        ctx.host.error(&e);
    }
    for (u, t) in missing {
        ctx.host.error(
            &CsError::failed(
                "CertificateNotFound",
                Category::ObjectNotFound,
                format!("Assigned certificate not found or untrusted: {t} (use {u})."),
            )
            .with_target(t),
        );
    }
    for o in &objects {
        ctx.host.emit(o);
    }
    Ok(())
}
