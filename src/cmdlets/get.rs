//! Get-CsCertificate: one object per assigned use, resolved at the current time
//! (ops::assign::list).

use crate::binder::table::{p, CmdletDef, PType};
use crate::binder::Bound;
use crate::error::CsResult;
use crate::ops::{assign, Ctx};

/// The parameter table and help of this cmdlet.
pub static DEF: CmdletDef = CmdletDef {
    name: "Get-CsCertificate",
    synopsis: "Lists the assigned certificates, one object per assigned use.",
    description: "Properties in the Lync order: Issuer, NotAfter, NotBefore, SerialNumber, Subject, AlternativeNames, Thumbprint, EffectiveTime, PreviousThumbprint, UpdateTime, Use, SourceScope. Staged/current/previous states are resolved at the current time.",
    sets: &["Default"],
    default_set: Some("Default"),
    should_process: false,
    params: &[
        p("Identity", PType::Str, "Global, or a computer (default this computer and the global scope).").at(0).shown_as("XdsIdentity"),
        p("Report", PType::Str, "Write an HTML report of the result to this file."),
        p("Type", PType::CertTypes, "Only these uses."),
    ],
    examples: &[
        ("Get-CsCertificate", "Lists every assigned certificate."),
        ("Get-CsCertificate -Type WebServicesInternal", "Only the internal web services certificate."),
        ("Get-CsCertificate -Type OAuthTokenIssuer", "The server-to-server (OAuth token issuer) certificate."),
        ("Get-CsCertificate -Identity global", "Global-scope certificates."),
    ],
    lync: true,
};

pub fn exec(b: &Bound, ctx: &mut Ctx) -> CsResult<()> {
    let listing = assign::list(ctx, b.str("Identity"), &b.uses("Type"))?;
    for e in listing.errors {
        ctx.host.error(&e.into());
    }
    for o in &listing.objects {
        ctx.host.emit(o);
    }
    Ok(())
}
