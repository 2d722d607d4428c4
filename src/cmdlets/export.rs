//! Export-CsCertificate [cscert]: a certificate with its private key, as PFX (modern or
//! -Legacy) or PEM with an encrypted key, for the other members of an Edge pool (ops::export).

use crate::binder::Bound;
use crate::error::CsResult;
use crate::ops::export::{export, ExportArgs};
use crate::ops::Ctx;

pub fn exec(b: &Bound, ctx: &mut Ctx) -> CsResult<()> {
    let args = ExportArgs {
        thumbprint: b.str("Thumbprint").expect("mandatory"),
        path: b.str("Path").expect("mandatory"),
        pem: b.enum_value("Format") == Some("Pem"),
        legacy: b.switch("Legacy"),
        password: ctx.password(b.str("Password")),
        force: b.switch("Force"),
    };
    if let Some(exported) = export(ctx, args)? {
        ctx.host.emit(&exported);
    }
    Ok(())
}
