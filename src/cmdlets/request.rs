//! Request-CsCertificate: new requests (offline PKCS#10, a lab CA or an ACME CA), -List,
//! -Retrieve, -Clear (ops::request).

use crate::binder::{Bound, Value};
use crate::error::CsResult;
use crate::ops::acme::{acme_parameter_names, AcmeArgs};
use crate::ops::request::{self, Cleared, NewArgs, NewResult};
use crate::ops::Ctx;

fn acme_args(b: &Bound) -> AcmeArgs<'_> {
    AcmeArgs {
        agree_tos: b.switch("AcmeAgreeTos"),
        ca_bundle: b.str("AcmeCaBundle"),
        challenge: b.enum_value("AcmeChallenge"),
        contact: b.list("AcmeContact"),
        dns_hook: b.str("AcmeDnsHook"),
        dns_wait_sec: b.int("AcmeDnsWaitSec"),
        eab_hmac_key: b.str("AcmeEabHmacKey"),
        eab_key_id: b.str("AcmeEabKeyId"),
        http_port: b.int("AcmeHttpPort"),
        timeout_sec: b.int("AcmeTimeoutSec"),
        web_root: b.str("AcmeWebRoot"),
        given: acme_parameter_names()
            .iter()
            .copied()
            .filter(|p| b.has(p))
            .collect(),
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
        acme: acme_args(b),
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
            crate::ops::acme::finish_pending(ctx, &acme_args(b), id)?;
            for r in request::retrieve(ctx, id)? {
                ctx.host.emit(&r);
            }
        }
    }
    Ok(())
}
