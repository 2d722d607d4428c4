//! Request-CsCertificate: new requests (offline PKCS#10, a lab CA or an ACME CA), -List,
//! -Retrieve, -Clear (ops::request).

use crate::binder::{Bound, Value};
use crate::error::CsResult;
use crate::ops::request::{self, AcmeParams, Cleared, NewArgs, NewResult};
use crate::ops::Ctx;

/// The ACME parameters stay bound until -CA names an ACME directory (crate::ops::acme reads them).
impl AcmeParams for Bound {
    fn options(&self, ctx: &Ctx, ca: &str) -> CsResult<crate::ops::acme::Options> {
        crate::ops::acme::Options::from_bound(self, ctx, ca)
    }
    fn refuse(&self) -> CsResult<()> {
        crate::ops::acme::refuse_without_directory(self)
    }
}

fn new_args(b: &Bound) -> NewArgs<'_> {
    NewArgs {
        uses: b.uses("Type"),
        key_alg: b.enum_value("KeyAlg"),
        key_size: b.int("KeySize"),
        organization: b.str("Organization"),
        ou: b.str("OU"),
        city: b.str("City"),
        state: b.str("State"),
        country: b.str("Country"),
        validity_days: b.int("ValidityDays"),
        exportable: b.bool("PrivateKeyExportable").unwrap_or(false),
        computer: match b.get("ComputerFqdn") {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        },
        domain_names: b.list("DomainName"),
        all_sip_domain: b.switch("AllSipDomain"),
        output: b.str("Output"),
        ca: b.str("CA"),
        client_eku: b.bool("ClientEKU").unwrap_or(false),
        template: b.str("Template"),
        friendly_name: b.str("FriendlyName"),
        force: b.switch("Force"),
        acme: b,
    }
}

pub fn exec(b: &Bound, ctx: &mut Ctx) -> CsResult<()> {
    let id = b.int("RequestId").map(i64::from);
    match b.set {
        "New" => match request::new(ctx, new_args(b))? {
            Some(NewResult::Issued(c)) => ctx.host.emit(&c),
            Some(NewResult::Offline(r)) => ctx.host.emit(&r),
            None => {}
        },
        "List" => {
            for r in request::list(ctx, id)? {
                ctx.host.emit(&r);
            }
        }
        "Clear" => {
            if let Cleared::Deleted(n) = request::clear(ctx, id, b.switch("Force"))? {
                ctx.host.verbose(format!("Cleared {n} request(s)."));
                ctx.host.summary(format!("Cleared {n} request(s)."));
            }
        }
        _ => {
            // Requests made through an ACME CA: finish their orders first (no-op without any).
            crate::ops::acme::finish_pending(ctx, b, id)?;
            for r in request::retrieve(ctx, id)? {
                ctx.host.emit(&r);
            }
        }
    }
    Ok(())
}
