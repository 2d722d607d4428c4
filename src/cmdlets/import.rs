//! Import-CsCertificate: brings a CA's answer (or a PFX) into the store, joining a certificate to
//! the pending request whose key it carries; the Cms set also assigns it (ops::import).

use crate::binder::table::{p, CmdletDef, PType};
use crate::binder::Bound;
use crate::error::{Category, CsError, CsResult};
use crate::model::CertType;
use crate::ops::assign::{check_roll, AssignTo};
use crate::ops::import::{import_file, ImportArgs};
use crate::ops::Ctx;
use chrono::{DateTime, Utc};

/// The parameter table and help of this cmdlet.
const IMPORT_SETS: &[&str] = &["Local", "Cms"];

pub static DEF: CmdletDef = CmdletDef {
    name: "Import-CsCertificate",
    synopsis: "Imports a certificate (.cer/.crt/.pem, .p7b, or .pfx with -Password) into the store, completing a pending request whose key matches.",
    description: "A certificate whose public key matches a pending request is joined to that request's private key. A .pfx brings its own key. With -Identity and -Type the certificate is also assigned to those uses.",
    sets: IMPORT_SETS,
    default_set: Some("Local"),
    should_process: true,
    params: &[
        p("EffectiveDate", PType::DateTime, "With -Roll: when the certificate becomes current.").alias(&["EffectiveTime"]),
        p("Force", PType::Switch, "Replace an existing assignment without asking."),
        p("Identity", PType::Str, "Where to assign: Global, or a computer (default this computer).").sets(&["Cms"]).mandatory(&["Cms"]).at(0).shown_as("XdsIdentity"),
        p("Password", PType::Password, "The password of a .pfx file (or $env:CSCERT_PASSWORD)."),
        p("Path", PType::Str, "The certificate file.").mandatory(IMPORT_SETS),
        p("PrivateKeyExportable", PType::Bool, "Record whether the key may be exported later.").sets(&["Local"]),
        p("Report", PType::Str, "Write an HTML report of what was done to this file."),
        p("Roll", PType::Switch, "Stage the certificate to become current at -EffectiveDate (without -Type: for the uses of the request it answers, or of the certificate with the same subject)."),
        p("Type", PType::CertTypes, "The uses to assign the certificate to.").sets(&["Cms"]).mandatory(&["Cms"]),
    ],
    examples: &[
        ("Import-CsCertificate -Path 'C:\\Certificates\\WebServer.pfx' -Password 'P@ssw0rd' -PrivateKeyExportable True", "Imports a PFX with its key."),
        ("Import-CsCertificate -Path edge.cer", "Imports the CA's answer to an offline request; it is joined to the pending key."),
        ("Import-CsCertificate -Identity Global -Path oauth.pfx -Type OAuthTokenIssuer", "Imports and assigns at global scope; the password comes from $env:CSCERT_PASSWORD (pwsh) or $CSCERT_PASSWORD (bash)."),
        ("Import-CsCertificate -Path edge.pfx -Roll -EffectiveTime 2027-07-31T08:00:00", "Stages a renewal for the uses of the certificate it renews."),
    ],
    lync: true,
};

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
        // The documented Local set has -Roll (docs/reference/cmdlets.md, "Import-CsCertificate"): stage the certificate for the uses
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
