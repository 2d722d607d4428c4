//! Test-CsCertificate [cscert]: validates requests and certificates (files, folders, or store
//! items) for CI (ops::check). One object per item; exit 3 when any item has an Error finding.

use crate::binder::table::{p, CmdletDef, PType};
use crate::binder::{Bound, Value};
use crate::error::{Category, CsError, CsResult, Exit};
use crate::ops::check::{check, CheckArgs, Items};
use crate::ops::Ctx;

/// The parameter table and help of this cmdlet.
const TEST_SETS: &[&str] = &["Path", "Thumbprint", "RequestId"];

pub static DEF: CmdletDef = CmdletDef {
    name: "Test-CsCertificate",
    synopsis: "[cscert] Validates certificate requests and certificates (files or store items) for CI: names per use, XMPP and SIP federation coverage, keys, EKUs, dates.",
    description: "One object per file or item, with Findings (RuleId, Severity, Message, Names) and Passed. Exit code 3 when any item did not pass.",
    sets: TEST_SETS,
    default_set: Some("Path"),
    should_process: false,
    params: &[
        p("ComputerFqdn", PType::NullableStr, "The computer whose topology names are expected (default this computer).").shown_as("Fqdn"),
        p("Path", PType::StrList, "Files or folders to check.").sets(&["Path"]).mandatory(&["Path"]).at(0),
        p("RequestId", PType::Int, "A pending request in the store.").sets(&["RequestId"]).mandatory(&["RequestId"]),
        p("SipDomain", PType::StrList, "SIP domains that must be covered (sip.<domain>)."),
        p("Thumbprint", PType::Str, "A certificate in the store.").sets(&["Thumbprint"]).mandatory(&["Thumbprint"]),
        p("TrustedRoot", PType::StrList, "[cscert] Trusted root certificates (files or folders): each chain must end at one of them (rules CHAIN-INCOMPLETE, ROOT-UNTRUSTED)."),
        p("Type", PType::CertTypes, "The uses the certificate is meant for."),
        p("VerificationTime", PType::DateTime, "The time to check validity at (default now)."),
        p("XmppDomain", PType::StrList, "XMPP domains that must be covered for server-to-server federation."),
    ],
    examples: &[
        ("Test-CsCertificate -Path edge.req -Type AccessEdgeExternal -XmppDomain contoso.com", "Checks an Edge request before it goes to a CA."),
        ("Test-CsCertificate -Path ./certs", "Checks every certificate and request in a folder."),
    ],
    lync: false,
};

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
    for e in checked.errors {
        ctx.host.error(&e.into());
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
        ctx.host.error_after_output(&e);
    } else if total > 1 {
        // The terminal view's last line: the verdict of a folder at a glance.
        ctx.host.summary(format!("All {total} items passed."));
    }
    Ok(())
}
