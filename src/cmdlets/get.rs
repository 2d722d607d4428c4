//! Get-CsCertificate: one object per assigned use, resolved at the current time
//! (ops::assign::list).

use crate::binder::Bound;
use crate::error::CsResult;
use crate::ops::{assign, Ctx};

pub fn exec(b: &Bound, ctx: &mut Ctx) -> CsResult<()> {
    let listing = assign::list(ctx, b.str("Identity"), &b.uses("Type"))?;
    for e in &listing.errors {
        ctx.host.error(e);
    }
    for o in &listing.objects {
        ctx.host.emit(o);
    }
    Ok(())
}
