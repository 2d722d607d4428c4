//! Test-CsCertificateConfiguration: checks every assigned certificate at the current time
//! (ops::configuration).

use crate::binder::Bound;
use crate::error::CsResult;
use crate::ops::configuration::{check, Outcome};
use crate::ops::Ctx;

pub fn exec(b: &Bound, ctx: &mut Ctx) -> CsResult<()> {
    for o in check(ctx, &b.list("TrustedRoot"))? {
        match o {
            Outcome::Problem(e) => ctx.host.error(&e),
            Outcome::Warning(w) => ctx.host.warning(w),
            Outcome::InOrder(x) => ctx.host.emit(&x),
        }
    }
    Ok(())
}
