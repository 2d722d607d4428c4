//! Set-CsCertificate: assigns a stored certificate (Thumbprint or Reference set) or a PFX
//! (Path set) to uses, now or staged with -Roll -EffectiveDate (ops::assign, ops::import).

use crate::binder::table::{p, CmdletDef, PType};
use crate::binder::Bound;
use crate::error::{Category, CsError, CsResult};
use crate::model::{join_uses, CertType};
use crate::ops::assign::{assign_stored, check_roll, AssignTo};
use crate::ops::certs::normalize_thumbprint;
use crate::ops::import::{import_file, ImportArgs};
use crate::ops::Ctx;
use chrono::{DateTime, Utc};

/// The parameter table and help of this cmdlet.
const SET_SETS: &[&str] = &["Thumbprint", "Reference", "Path"];
const EFFECTIVE: &str = "With -Roll: when the new certificate becomes current, in the culture of LC_ALL/LC_TIME/LANG (en-US \"7/22/2012 6:00:00 AM\", ko-KR \"2012-07-22 오전 6:00:00\", ...) or ISO 8601.";

pub static DEF: CmdletDef = CmdletDef {
    name: "Set-CsCertificate",
    synopsis: "Assigns a certificate in the store to one or more uses, now or staged with -Roll -EffectiveDate.",
    description: "Assignments belong to this computer ($env:CSCERT_COMPUTERFQDN or this machine's FQDN) or, with -Identity Global, to the global scope. With -Roll -EffectiveDate the certificate is staged; at that time it becomes current and the old one becomes previous.",
    sets: SET_SETS,
    default_set: Some("Thumbprint"),
    should_process: true,
    params: &[
        p("EffectiveDate", PType::DateTime, EFFECTIVE).alias(&["EffectiveTime"]),
        p("Force", PType::Switch, "Assign without asking."),
        p("Identity", PType::Str, "Global, or a computer (default this computer).").mandatory(&["Path"]).shown_as("XdsIdentity"),
        p("Password", PType::Password, "The password of the -Path .pfx file (or $env:CSCERT_PASSWORD).").sets(&["Path"]),
        p("Path", PType::Str, "A .pfx file to import and assign.").sets(&["Path"]).mandatory(&["Path"]),
        p("Reference", PType::Str, "A certificate object (JSON from Get-/Request-CsCertificate) or its thumbprint.").sets(&["Reference"]).mandatory(&["Reference"]).shown_as("CertificateReference"),
        p("Report", PType::Str, "Write an HTML report of what was done to this file."),
        p("Roll", PType::Switch, "Stage the certificate to become current at -EffectiveDate."),
        p("Thumbprint", PType::Str, "The SHA-1 thumbprint (40 hex digits) of a certificate in the store.").sets(&["Thumbprint"]).mandatory(&["Thumbprint"]),
        p("Type", PType::CertTypes, "The uses.").mandatory(&["Path"]),
    ],
    examples: &[
        ("Set-CsCertificate -Type Default,WebServicesInternal,WebServicesExternal -Thumbprint 466D9BB0E8B928B65AF38FA2D9F41E1B301ECE9D", "Assigns a certificate to the Front End uses."),
        ("Set-CsCertificate -Type AudioVideoAuthentication -Thumbprint 466D9BB0E8B928B65AF38FA2D9F41E1B301ECE9D -Roll -EffectiveDate '7/22/2027 6:00:00 AM'", "Stages a new A/V authentication certificate (date in the en-US culture; ISO 8601 works in every culture)."),
        ("Set-CsCertificate -Identity global -Type OAuthTokenIssuer -Thumbprint 466D9BB0E8B928B65AF38FA2D9F41E1B301ECE9D -EffectiveDate 2027-07-01 -Roll", "Rolls the global OAuth token issuer certificate."),
    ],
    lync: true,
};

/// Which certificate, by parameter set.
enum Source<'a> {
    Thumbprint(&'a str),
    Reference(&'a str),
    /// A .pfx file and its password.
    Path(&'a str, Option<&'a str>),
}

struct Params<'a> {
    source: Source<'a>,
    uses: Vec<CertType>,
    identity: Option<&'a str>,
    roll: bool,
    effective: Option<DateTime<Utc>>,
    force: bool,
}

impl<'a> Params<'a> {
    fn of(b: &'a Bound) -> Self {
        let source = match b.set {
            "Path" => Source::Path(b.str("Path").expect("mandatory"), b.str("Password")),
            "Reference" => Source::Reference(b.str("Reference").expect("mandatory")),
            _ => Source::Thumbprint(b.str("Thumbprint").expect("mandatory")),
        };
        Params {
            source,
            uses: b.uses("Type"),
            identity: b.str("Identity"),
            roll: b.switch("Roll"),
            effective: b.date("EffectiveDate"),
            force: b.switch("Force"),
        }
    }
}

/// `-Reference` arrives through the module as the JSON of a certificate object, or as a bare
/// thumbprint.
fn reference_thumbprint(r: &str) -> CsResult<String> {
    let t = r.trim();
    if t.starts_with('{') {
        let v: serde_json::Value = serde_json::from_str(t).map_err(|e| {
            CsError::failed(
                "InvalidReference",
                Category::InvalidArgument,
                format!("-Reference is not a certificate object: {e}"),
            )
        })?;
        return match v.get("Thumbprint").and_then(|t| t.as_str()) {
            Some(t) => Ok(t.to_string()),
            None => Err(CsError::failed(
                "InvalidReference",
                Category::InvalidArgument,
                "-Reference is an object without a Thumbprint property; pass the object that Get-CsCertificate or Request-CsCertificate returned.",
            )),
        };
    }
    Ok(t.to_string())
}

pub fn exec(b: &Bound, ctx: &mut Ctx) -> CsResult<()> {
    let p = Params::of(b);
    check_roll(p.roll, p.effective)?;
    let to = AssignTo {
        uses: &p.uses,
        identity: p.identity,
        roll: p.roll,
        effective: p.effective,
    };
    let raw = match p.source {
        Source::Path(path, password) => {
            let args = ImportArgs {
                path,
                password: ctx.password(password),
                force: p.force,
                exportable: None,
                assign: Some(to),
            };
            if let Some(done) = import_file(ctx, args)? {
                for l in done.lines {
                    ctx.host.info(l);
                }
                ctx.host.emit(&done.object);
            }
            return Ok(());
        }
        _ if p.uses.is_empty() => {
            return Err(CsError::failed(
                "NoUseGiven",
                Category::InvalidArgument,
                "Specify the uses to assign the certificate to with -Type (for example -Type Default,WebServicesInternal,WebServicesExternal).",
            ))
        }
        Source::Reference(r) => reference_thumbprint(r)?,
        Source::Thumbprint(t) => t.to_string(),
    };
    let thumbprint = normalize_thumbprint(&raw)?;
    let Some(lines) = assign_stored(ctx, &thumbprint, to)? else {
        return Ok(());
    };
    for l in lines {
        ctx.host.info(l);
    }
    let now = ctx.now;
    let when = match p.effective {
        Some(e) if p.roll && e > now => {
            format!(", effective {}", e.format("%Y-%m-%d %H:%M:%SZ"))
        }
        _ => String::new(),
    };
    ctx.host.summary(format!(
        "{} {thumbprint} for {}{when}.",
        if p.roll { "Staged" } else { "Assigned" },
        join_uses(&p.uses)
    ));
    ctx.host
        .verbose("\"Set-CsCertificate\" processing has completed successfully.");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_takes_object_json_or_thumbprint() {
        assert_eq!(
            reference_thumbprint("{\"Thumbprint\":\"AB\",\"Use\":\"Default\"}").unwrap(),
            "AB"
        );
        assert_eq!(reference_thumbprint(" AB ").unwrap(), "AB");
        assert!(reference_thumbprint("{\"Use\":1}").is_err());
        assert!(reference_thumbprint("{oops").is_err());
    }
}
