//! Test-CsCertificateConfiguration: checks every assigned certificate at the current time
//! (ops::configuration).

use crate::binder::table::{p, CmdletDef, PType};
use crate::binder::Bound;
use crate::error::CsResult;
use crate::ops::configuration::{check, Outcome};
use crate::ops::Ctx;

/// The parameter table and help of this cmdlet.
pub static DEF: CmdletDef = CmdletDef {
    name: "Test-CsCertificateConfiguration",
    synopsis: "Checks the assigned certificates: missing, expired, expiring within 30 days, or names that no longer fit the topology.",
    description: "Returns one object per assigned use that is in order (Thumbprint, Use); problems are reported as errors and warnings.",
    sets: &["Default"],
    default_set: Some("Default"),
    should_process: false,
    params: &[
        p("Report", PType::Str, "Write an HTML report of the result to this file."),
        p("TrustedRoot", PType::StrList, "[cscert] Trusted root certificates (files or folders): each assigned certificate's chain must end at one of them."),
    ],
    examples: &[
        ("Test-CsCertificateConfiguration", "Checks every assigned certificate."),
        ("Test-CsCertificateConfiguration -TrustedRoot ./roots", "Also checks that every chain ends at a root in ./roots."),
    ],
    lync: true,
};

pub fn exec(b: &Bound, ctx: &mut Ctx) -> CsResult<()> {
    for o in check(ctx, &b.list("TrustedRoot"))? {
        match o {
            Outcome::Problem(p) => ctx.host.error(&p.into()),
            Outcome::Warning(w) => ctx.host.warning(w),
            Outcome::InOrder(x) => ctx.host.emit(&x),
        }
    }
    Ok(())
}
