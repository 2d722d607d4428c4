//! Update-CsCertificateStorePassword [cscert]: changes or removes the password of the private
//! keys at rest (ops::store_password). The module's Set-CsCertificateStorePassword only keeps a
//! session's password; this one rewrites the store.

use crate::binder::table::{p, CmdletDef, PType};
use crate::binder::Bound;
use crate::error::CsResult;
use crate::ops::store_password::change;
use crate::ops::Ctx;

/// The parameter table and help of this cmdlet.
pub static DEF: CmdletDef = CmdletDef {
    name: "Update-CsCertificateStorePassword",
    synopsis: "[cscert] Changes (or with -Remove, removes) the password of the private keys in the store: every key, re-encrypted in one transaction.",
    description: "The current password comes from CSCERT_STORE_PASSWORD (in pwsh: Set-CsCertificateStorePassword); the new one from -NewPassword or $env:CSCERT_NEW_PASSWORD (the module passes a SecureString there). A crash leaves every key under the old password or every key under the new one. Afterwards give the new password to the commands that follow (Set-CsCertificateStorePassword again in pwsh).",
    sets: &["Change", "Remove"],
    default_set: Some("Change"),
    should_process: true,
    params: &[
        p("Force", PType::Switch, "Change without asking."),
        p("NewPassword", PType::Password, "The new password (or $env:CSCERT_NEW_PASSWORD).").sets(&["Change"]),
        p("Remove", PType::Switch, "Keep the keys in the clear from now on (the store is no longer protected).").sets(&["Remove"]).mandatory(&["Remove"]),
    ],
    examples: &[
        ("Update-CsCertificateStorePassword -Force", "Re-encrypts every key in the store under the password in $env:CSCERT_NEW_PASSWORD (the current one from $env:CSCERT_STORE_PASSWORD, or Set-CsCertificateStorePassword in pwsh); in pwsh, -NewPassword (Read-Host -AsSecureString) also works."),
        ("Update-CsCertificateStorePassword -Remove -WhatIf", "Says what removing the store password would do."),
    ],
    lync: false,
};

pub fn exec(b: &Bound, ctx: &mut Ctx) -> CsResult<()> {
    let remove = b.switch("Remove");
    let Some(done) = change(ctx, b.str("NewPassword"), remove, b.switch("Force"))? else {
        return Ok(());
    };
    let line = if done.protected {
        format!(
            "Re-encrypted {} private keys under the new store password.",
            done.keys
        )
    } else {
        format!(
            "Removed the store password: {} private keys are kept in the clear.",
            done.keys
        )
    };
    ctx.host.verbose(&line);
    ctx.host.summary(line);
    Ok(())
}
