//! Export-CsCertificate [cscert]: a certificate with its private key, as PFX (modern or
//! -Legacy) or PEM with an encrypted key, for the other members of an Edge pool (ops::export).

use crate::binder::table::{p, CmdletDef, PType, EXPORT_FORMAT};
use crate::binder::Bound;
use crate::error::CsResult;
use crate::ops::export::{export, ExportArgs};
use crate::ops::Ctx;

/// The parameter table and help of this cmdlet.
pub static DEF: CmdletDef = CmdletDef {
    name: "Export-CsCertificate",
    synopsis: "[cscert] Writes a certificate with its private key (PFX or PEM) for another server, e.g. the other members of an Edge pool.",
    description: "PFX is AES-256 + SHA-256 by default; -Legacy writes 3DES + SHA-1 for Windows Server 2012 R2 / 2016. The password may come from $env:CSCERT_PASSWORD instead of -Password. A key that was not made exportable is refused.",
    sets: &["Default"],
    default_set: Some("Default"),
    should_process: true,
    params: &[
        p("Force", PType::Switch, "Overwrite an existing file."),
        p("Format", PType::Enum(&EXPORT_FORMAT), "Pfx or Pem.").default("Pfx"),
        p("Legacy", PType::Switch, "Write a PFX that Windows Server 2012 R2 / 2016 can import (3DES + SHA-1 MAC)."),
        p("Password", PType::Password, "The PFX password (or $env:CSCERT_PASSWORD)."),
        p("Path", PType::Str, "The file to write.").mandatory(&["Default"]),
        p("Thumbprint", PType::Str, "The certificate to export.").mandatory(&["Default"]),
    ],
    examples: &[
        ("Export-CsCertificate -Thumbprint 466D9BB0E8B928B65AF38FA2D9F41E1B301ECE9D -Path edge.pfx -Password 'P@ssw0rd'", "Exports the Edge certificate for the other pool members."),
        ("Export-CsCertificate -Thumbprint 466D9BB0E8B928B65AF38FA2D9F41E1B301ECE9D -Path edge.pfx -Legacy", "A PFX for Windows Server 2012 R2, password from $env:CSCERT_PASSWORD (pwsh) or $CSCERT_PASSWORD (bash)."),
    ],
    lync: false,
};

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
