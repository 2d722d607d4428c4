//! Remove-CsCertificate: unassigns the current (or -Previous) certificate of each use; the
//! certificate itself stays in the store (ops::assign::remove).

use crate::binder::Bound;
use crate::error::CsResult;
use crate::ops::assign::{remove, RemoveArgs};
use crate::ops::Ctx;

pub fn exec(b: &Bound, ctx: &mut Ctx) -> CsResult<()> {
    let uses = b.uses("Type");
    let args = RemoveArgs {
        uses: &uses,
        identity: b.str("Identity"),
        previous: b.switch("Previous"),
        force: b.switch("Force"),
    };
    let which = if args.previous { "previous " } else { "" };
    for r in remove(ctx, args)? {
        let line = format!(
            "Removed the {which}certificate {} from {} at {}.",
            r.thumbprint, r.use_, r.scope
        );
        ctx.host.verbose(&line);
        ctx.host.summary(line);
    }
    Ok(())
}
