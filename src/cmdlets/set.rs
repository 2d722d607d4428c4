//! Set-CsCertificate: assigns a stored certificate (Thumbprint or Reference set) or a PFX
//! (Path set) to uses, now or staged with -Roll -EffectiveDate.

use super::Ctx;
use crate::binder::Bound;
use crate::error::{Category, CsError, CsResult};
use crate::model::join_uses;
use crate::ops::certs::{self, Assignment};

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
    let roll = b.switch("Roll");
    let effective = b.date("EffectiveDate");
    certs::check_roll(roll, effective)?;
    let uses = b.uses("Type");
    if b.set == "Path" {
        return super::import::import_file(
            ctx,
            b,
            Some((&uses, b.str("Identity"), roll, effective)),
        );
    }
    if uses.is_empty() {
        return Err(CsError::failed(
            "NoUseGiven",
            Category::InvalidArgument,
            "Specify the uses to assign the certificate to with -Type (for example -Type Default,WebServicesInternal,WebServicesExternal).",
        ));
    }
    let raw = match b.set {
        "Reference" => reference_thumbprint(b.str("Reference").expect("mandatory"))?,
        _ => b.str("Thumbprint").expect("mandatory").to_string(),
    };
    let thumbprint = certs::normalize_thumbprint(&raw)?;
    let now = ctx.now;
    let assignment = Assignment::new(ctx, &thumbprint, &uses, b.str("Identity"), roll, effective);
    let (row, c) = ctx.store()?.read(|tx| certs::load(tx, &thumbprint))?;
    certs::check_assignable(&row, &c, now)?;
    let action = if roll {
        "Stage certificate assignment"
    } else {
        "Assign certificate"
    };
    if !ctx.should_process(&format!("{thumbprint} for {}", join_uses(&uses)), action)? {
        return Ok(());
    }
    let lines = ctx.store()?.write(|tx| -> CsResult<Vec<String>> {
        // Re-read inside the write transaction: another process may have removed it meanwhile.
        let (row, c) = certs::load(&tx, &thumbprint)?;
        certs::check_assignable(&row, &c, now)?;
        let lines = certs::apply(&tx, &assignment, &c, now)?;
        tx.commit()?;
        Ok(lines)
    })?;
    for l in lines {
        ctx.host.info(l);
    }
    let when = match effective {
        Some(e) if roll && e > now => format!(", effective {}", e.format("%Y-%m-%d %H:%M:%SZ")),
        _ => String::new(),
    };
    ctx.host.summary(format!(
        "{} {thumbprint} for {}{when}.",
        if roll { "Staged" } else { "Assigned" },
        join_uses(&uses)
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
