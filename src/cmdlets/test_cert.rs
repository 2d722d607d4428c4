//! Test-CsCertificate [cscert]: validates requests and certificates (files, folders, or store
//! items) for CI (ops::check). One object per item; exit 3 when any item has an Error finding.

use crate::binder::table::{p, CmdletDef, EnumDef, PType};
use crate::binder::{Bound, Value};
use crate::error::{Category, CsError, CsResult, Exit};
use crate::ops::check::{check, CheckArgs, Items};
use crate::ops::probe::{probe, ProbeArgs, Protocol, DEFAULT_TIMEOUT_SEC};
use crate::ops::Ctx;

/// The parameter table and help of this cmdlet.
const TEST_SETS: &[&str] = &["Path", "Thumbprint", "RequestId", "Endpoint"];

/// `-Protocol`: what the endpoints speak.
static PROTOCOL: EnumDef = EnumDef {
    dotnet: "CsCertificate.EndpointProtocol",
    names: Protocol::NAMES,
};

pub static DEF: CmdletDef = CmdletDef {
    name: "Test-CsCertificate",
    synopsis: "[cscert] Validates certificate requests and certificates (files or store items) for CI: names per use, XMPP and SIP federation coverage, keys, EKUs, dates.",
    description: "One object per file or item, with Findings (RuleId, Severity, Message, Names) and Passed. Exit code 3 when any item did not pass.",
    sets: TEST_SETS,
    default_set: Some("Path"),
    should_process: false,
    params: &[
        p("ComputerFqdn", PType::NullableStr, "The computer whose topology names are expected (default this computer).").shown_as("Fqdn"),
        p("Endpoint", PType::StrList, "[cscert] Live servers to probe, host[:port] (default port by -Protocol): the chain each presents is fetched and checked (docs/probe.md).").sets(&["Endpoint"]).mandatory(&["Endpoint"]),
        p("Path", PType::StrList, "Files or folders to check.").sets(&["Path"]).mandatory(&["Path"]).at(0),
        p("Protocol", PType::Enum(&PROTOCOL), "[cscert] What the endpoints speak: XmppServer (STARTTLS, port 5269), XmppClient (STARTTLS, 5222), SipTls (5061) or Https (443).").sets(&["Endpoint"]),
        p("RequestId", PType::Int, "A pending request in the store.").sets(&["RequestId"]).mandatory(&["RequestId"]),
        p("Resolve", PType::StrList, "[cscert] host=address pairs used instead of looking the endpoint's host up (e.g. sip.contoso.com=10.0.0.5).").sets(&["Endpoint"]),
        p("SipDomain", PType::StrList, "SIP domains that must be covered (sip.<domain>)."),
        p("Thumbprint", PType::Str, "A certificate in the store.").sets(&["Thumbprint"]).mandatory(&["Thumbprint"]),
        p("TimeoutSec", PType::Int, "[cscert] Seconds each endpoint may take from connecting to its certificate (default 5).").sets(&["Endpoint"]),
        p("TrustedRoot", PType::StrList, "[cscert] Trusted root certificates (files or folders): each chain must end at one of them (rules CHAIN-INCOMPLETE, ROOT-UNTRUSTED)."),
        p("Type", PType::CertTypes, "The uses the certificate is meant for."),
        p("VerificationTime", PType::DateTime, "The time to check validity at (default now)."),
        p("XmppDomain", PType::StrList, "XMPP domains that must be covered for server-to-server federation."),
    ],
    examples: &[
        ("Test-CsCertificate -Path edge.req -Type AccessEdgeExternal -XmppDomain contoso.com", "Checks an Edge request before it goes to a CA."),
        ("Test-CsCertificate -Path ./certs", "Checks every certificate and request in a folder."),
        ("Test-CsCertificate -Endpoint edge.contoso.com -Protocol XmppServer -XmppDomain contoso.com -Type XmppServer", "Fetches the certificate the Edge serves on 5269 by STARTTLS for contoso.com, checks it and its chain, and compares it with the one assigned."),
        ("Test-CsCertificate -Endpoint sip.contoso.com,sip.fabrikam.com -Protocol SipTls", "Probes two SIP federation endpoints on 5061 at once."),
    ],
    lync: false,
};

fn args(b: &Bound) -> CheckArgs<'_> {
    CheckArgs {
        items: match b.set {
            "Thumbprint" => Items::Thumbprint(b.str("Thumbprint").expect("mandatory")),
            "RequestId" => Items::RequestId(b.int("RequestId").expect("mandatory").into()),
            // -Endpoint: no items of its own (ops::probe).
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

fn probe_args(b: &Bound) -> CsResult<ProbeArgs<'_>> {
    let timeout = match b.int("TimeoutSec") {
        None => DEFAULT_TIMEOUT_SEC,
        Some(s) if (1..=600).contains(&s) => s as u64,
        Some(s) => {
            return Err(CsError::binding(
                "ParameterArgumentValidationError",
                Category::InvalidArgument,
                format!("Cannot validate argument on parameter 'TimeoutSec'. The {s} argument is not in the range 1 to 600."),
            ))
        }
    };
    Ok(ProbeArgs {
        endpoints: b.list("Endpoint"),
        protocol: b
            .enum_value("Protocol")
            .and_then(Protocol::parse)
            .unwrap_or(Protocol::XmppServer),
        resolve: b.list("Resolve"),
        timeout: std::time::Duration::from_secs(timeout),
        check: args(b),
    })
}

/// Prints the exit-3 record when some items did not pass.
fn not_passed(ctx: &mut Ctx, failed: usize, total: usize) {
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
}

pub fn exec(b: &Bound, ctx: &mut Ctx) -> CsResult<()> {
    if b.set == "Endpoint" {
        let results = probe(ctx, probe_args(b)?)?;
        let total = results.len();
        let mut failed = 0;
        for r in results {
            match r {
                Ok(r) => {
                    failed += usize::from(!r.passed);
                    ctx.host.emit(&r);
                }
                Err(e) => ctx.host.error(&e.into()),
            }
        }
        not_passed(ctx, failed, total);
        return Ok(());
    }
    let checked = check(ctx, args(b))?;
    for e in checked.errors {
        ctx.host.error(&e.into());
    }
    let failed = checked.results.iter().filter(|(passed, _)| !passed).count();
    let total = checked.results.len();
    for (_, l) in checked.results {
        ctx.host.emit_line(l);
    }
    not_passed(ctx, failed, total);
    Ok(())
}
