//! Import-CsCertificate: brings a CA's answer (or a PFX) into the store, joining a certificate to
//! the pending request whose key it carries; the Cms set also assigns it (ops::import).

use crate::binder::Bound;
use crate::error::{Category, CsError, CsResult};
use crate::model::CertType;
use crate::ops::assign::{check_roll, AssignTo};
use crate::ops::import::{import_file, ImportArgs};
use crate::ops::Ctx;
use chrono::{DateTime, Utc};

/// The bound parameters. `cms`: the Cms set's -Identity and -Type.
struct Params<'a> {
    path: &'a str,
    password: Option<&'a str>,
    force: bool,
    exportable: Option<bool>,
    roll: bool,
    effective: Option<DateTime<Utc>>,
    cms: Option<(Option<&'a str>, Vec<CertType>)>,
}

impl<'a> Params<'a> {
    fn of(b: &'a Bound) -> Self {
        Params {
            path: b.str("Path").expect("mandatory"),
            password: b.str("Password"),
            force: b.switch("Force"),
            exportable: b.bool("PrivateKeyExportable"),
            roll: b.switch("Roll"),
            effective: b.date("EffectiveDate"),
            cms: (b.set == "Cms").then(|| (b.str("Identity"), b.uses("Type"))),
        }
    }
}

pub fn exec(b: &Bound, ctx: &mut Ctx) -> CsResult<()> {
    let p = Params::of(b);
    let assign = match &p.cms {
        Some((identity, uses)) => {
            check_roll(p.roll, p.effective)?;
            Some(AssignTo {
                uses,
                identity: *identity,
                roll: p.roll,
                effective: p.effective,
            })
        }
        // The documented Local set has -Roll (cmdlets.md): stage the certificate for the uses
        // it was requested for (ops::import, uses_to_roll).
        None if p.roll => {
            check_roll(p.roll, p.effective)?;
            Some(AssignTo {
                uses: &[],
                identity: None,
                roll: true,
                effective: p.effective,
            })
        }
        None if p.effective.is_some() => {
            return Err(CsError::failed(
                "RollNeedsAssignment",
                Category::InvalidArgument,
                "-EffectiveDate stages an assignment: add -Roll (and -Identity with -Type to name the uses), or use Set-CsCertificate -Roll.",
            ))
        }
        None => None,
    };
    let args = ImportArgs {
        path: p.path,
        password: ctx.password(p.password),
        force: p.force,
        exportable: p.exportable,
        assign,
    };
    if let Some(done) = import_file(ctx, args)? {
        for l in done.lines {
            ctx.host.info(l);
        }
        ctx.host.emit(&done.object);
    }
    Ok(())
}
