//! Set-CsCertificate: assigns a stored certificate (Thumbprint or Reference set) or a PFX
//! (Path set) to uses, now or staged with -Roll -EffectiveDate (ops::assign, ops::import).

use crate::binder::Bound;
use crate::error::{Category, CsError, CsResult};
use crate::model::{join_uses, CertType};
use crate::ops::assign::{assign_stored, check_roll, AssignTo};
use crate::ops::certs::normalize_thumbprint;
use crate::ops::import::{import_file, ImportArgs};
use crate::ops::Ctx;
use chrono::{DateTime, Utc};

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
