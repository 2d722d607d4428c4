//! Remove-CsCertificate: unassigns the current (or -Previous) certificate of each use; the
//! certificate itself stays in the store (ops::assign::remove).

use crate::binder::table::{p, CmdletDef, PType};
use crate::binder::Bound;
use crate::error::CsResult;
use crate::ops::assign::{remove, RemoveArgs};
use crate::ops::Ctx;

/// The parameter table and help of this cmdlet.
pub static DEF: CmdletDef = CmdletDef {
    name: "Remove-CsCertificate",
    synopsis: "Unassigns the current (or, with -Previous, the previous) certificate of each use; during a staged roll, cancels the roll (the certificate in service stays). The certificate stays in the store.",
    description: "",
    sets: &["Default"],
    default_set: Some("Default"),
    should_process: true,
    params: &[
        p("Force", PType::Switch, "Remove without asking."),
        p("Identity", PType::Str, "Global, or a computer (default this computer).").shown_as("XdsIdentity"),
        p("Previous", PType::Switch, "Remove the rolled-out previous certificate instead of the current one."),
        p("Report", PType::Str, "Write an HTML report of what was done to this file."),
        p("Type", PType::CertTypes, "The uses.").mandatory(&["Default"]),
    ],
    examples: &[
        ("Remove-CsCertificate -Type WebServicesExternal -Force", "Unassigns the external web services certificate."),
        ("Remove-CsCertificate -Type AudioVideoAuthentication -Previous", "Removes the previous A/V authentication certificate after a roll."),
    ],
    lync: true,
};

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
        let line = if r.cancelled_roll {
            format!(
                "Cancelled the staged roll to the certificate {} for {} at {}.",
                r.thumbprint, r.use_, r.scope
            )
        } else {
            format!(
                "Removed the {which}certificate {} from {} at {}.",
                r.thumbprint, r.use_, r.scope
            )
        };
        ctx.host.verbose(&line);
        ctx.host.summary(line);
    }
    Ok(())
}
