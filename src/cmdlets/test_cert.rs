//! Test-CsCertificate [cscert]: validates requests and certificates (files, folders, or store
//! items) for CI (ops::check). One object per item; exit 3 when any item has an Error finding.

use crate::binder::{Bound, Value};
use crate::error::{Category, CsError, CsResult, Exit};
use crate::ops::check::{check, CheckArgs, Items};
use crate::ops::Ctx;

fn args(b: &Bound) -> CheckArgs<'_> {
    CheckArgs {
        items: match b.set {
            "Thumbprint" => Items::Thumbprint(b.str("Thumbprint").expect("mandatory")),
            "RequestId" => Items::RequestId(b.int("RequestId").expect("mandatory").into()),
            _ => Items::Paths(b.list("Path")),
        },
        uses: b.uses("Type"),
        computer: match b.get("ComputerFqdn") {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        },
        xmpp_domains: b.list("XmppDomain"),
        sip_domains: b.list("SipDomain"),
        verification_time: b.date("VerificationTime"),
        trusted_roots: b.list("TrustedRoot"),
    }
}

pub fn exec(b: &Bound, ctx: &mut Ctx) -> CsResult<()> {
    let checked = check(ctx, args(b))?;
    for e in &checked.errors {
        ctx.host.error(e);
    }
    let failed = checked.results.iter().filter(|(passed, _)| !passed).count();
    let total = checked.results.len();
    for (_, l) in checked.results {
        ctx.host.emit_line(l);
    }
    if failed > 0 {
        let e = CsError::new(
            Exit::ValidationFailed,
            "ValidationFailed",
            Category::InvalidData,
            format!("{failed} of {total} item(s) did not pass: see the Error findings."),
        );
        ctx.host.error(&e);
    }
    Ok(())
}
