//! Revoke-CsCertificate [cscert]: asks the ACME CA that issued a stored certificate to revoke
//! it (RFC 8555 7.6) and records that in the store (ops::acme::revoke).

use crate::binder::table::{p, CmdletDef, EnumDef, PType};
use crate::binder::Bound;
use crate::error::CsResult;
use crate::ops::acme::{revoke, AcmeArgs, Reason, REASONS};
use crate::ops::certs::normalize_thumbprint;
use crate::ops::Ctx;

/// `-Reason`: the RFC 5280 reasons an ACME CA accepts from a subscriber.
pub static REVOKE_REASON: EnumDef = EnumDef {
    dotnet: "Cscert.RevocationReason",
    names: &REASONS,
};

/// The parameter table and help of this cmdlet.
pub static DEF: CmdletDef = CmdletDef {
    name: "Revoke-CsCertificate",
    synopsis: "[cscert] Revokes a certificate that an ACME CA issued through Request-CsCertificate -CA https://..., and records the revocation in the store.",
    description: "The request is signed by the ACME account that ordered the certificate (RFC 8555 section 7.6), at the directory it was ordered from, trusting the -AcmeCaBundle it was ordered with unless another is given. The revocation is recorded in the store: Set-CsCertificate then refuses the certificate, and Get-CsCertificate shows Revoked and RevocationReason on a use it is still assigned to. Revoking cannot be undone, so it asks first (ConfirmImpact High) unless -Force or -Confirm:$false is given; -WhatIf contacts nobody.",
    sets: &["Default"],
    default_set: Some("Default"),
    should_process: true,
    params: &[
        p("AcmeCaBundle", PType::Str, "PEM certificates to trust for the ACME directory's TLS (default: the bundle the certificate was ordered with, else the system's roots)."),
        p("AcmeProxy", PType::Str, "An http:// proxy for the ACME CA (default $env:HTTPS_PROXY, with $env:NO_PROXY)."),
        p("AcmeTimeoutSec", PType::Int, "Give up after this many seconds; default 300. Each request to the CA waits at most 30 seconds."),
        p("Force", PType::Switch, "Revoke without asking."),
        p("Reason", PType::Enum(&REVOKE_REASON), "Unspecified (default), KeyCompromise, Superseded or CessationOfOperation (RFC 5280 reason codes 0, 1, 4, 5)."),
        p("Thumbprint", PType::Str, "The certificate to revoke.").mandatory(&["Default"]),
    ],
    examples: &[
        ("Revoke-CsCertificate -Thumbprint 466D9BB0E8B928B65AF38FA2D9F41E1B301ECE9D -Reason Superseded -Force", "Revokes the Edge certificate that a renewed one replaced."),
        ("Revoke-CsCertificate -Thumbprint 466D9BB0E8B928B65AF38FA2D9F41E1B301ECE9D -Reason KeyCompromise -WhatIf", "Shows what would be revoked, without contacting the CA."),
    ],
    lync: false,
};

fn acme_args(b: &Bound) -> AcmeArgs<'_> {
    AcmeArgs {
        ca_bundle: b.str("AcmeCaBundle"),
        timeout_sec: b.int("AcmeTimeoutSec"),
        proxy: b.str("AcmeProxy"),
        given: ["AcmeCaBundle", "AcmeProxy", "AcmeTimeoutSec"]
            .into_iter()
            .filter(|p| b.has(p))
            .collect(),
        ..AcmeArgs::default()
    }
}

pub fn exec(b: &Bound, ctx: &mut Ctx) -> CsResult<()> {
    let thumbprint = normalize_thumbprint(b.str("Thumbprint").expect("mandatory"))?;
    let reason = b
        .enum_value("Reason")
        .and_then(Reason::parse)
        .unwrap_or(Reason::Unspecified);
    if let Some(r) = revoke(ctx, &thumbprint, reason, b.switch("Force"), &acme_args(b))? {
        let line = format!(
            "Revoked the certificate {} at {} (reason {}).",
            r.thumbprint,
            r.directory,
            r.reason.name()
        );
        ctx.host.verbose(&line);
        ctx.host.summary(line);
        ctx.host.emit(&r);
    }
    Ok(())
}
