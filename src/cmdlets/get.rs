//! Get-CsCertificate: one object per assigned use, resolved at the current time.

use super::certs;
use super::Ctx;
use crate::binder::Bound;
use crate::error::{Category, CsError, CsResult};

pub fn exec(b: &Bound, ctx: &mut Ctx) -> CsResult<()> {
    let scopes = certs::scopes_for_reading(ctx, b.str("Identity"));
    let only = b.uses("Type");
    let now = ctx.now;
    let (objects, missing) = ctx.store()?.read(|tx| -> CsResult<_> {
        let mut objects = Vec::new();
        let mut missing = Vec::new();
        for (scope, u, st) in certs::states(tx, &scopes, now)? {
            if !only.is_empty() && !only.contains(&u) {
                continue;
            }
            let Some((shown, previous)) = certs::shown(&st) else {
                continue;
            };
            match tx.certificate(&shown.thumbprint)? {
                Some(row) => {
                    let c = certs::parse(&row)?;
                    objects.push(certs::assigned_object(&scope, u, shown, previous, &c));
                }
                None => missing.push((u, shown.thumbprint.clone())),
            }
        }
        Ok((objects, missing))
    })?;
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
