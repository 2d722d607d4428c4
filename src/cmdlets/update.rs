//! Update-CsCertificate [cscert]: renews the assigned certificates that are due, from the CA
//! that issued them, and assigns them the way Lync needs (ops::renewal).

use crate::binder::errors::out_of_range;
use crate::binder::table::{p, CmdletDef, PType};
use crate::binder::Bound;
use crate::error::{Category, CsError, CsResult, Exit};
use crate::ops::renewal::{update, Status, UpdateArgs, RANGES};
use crate::ops::Ctx;

const SETS: &[&str] = &["Identity", "All"];

/// The parameter table and help of this cmdlet.
pub static DEF: CmdletDef = CmdletDef {
    name: "Update-CsCertificate",
    synopsis: "Renews the assigned certificates that are due, from the CA that issued them, and assigns them the way Lync needs.",
    description: "Certificates whose uses share one certificate are renewed once. Due: inside the ACME CA's renewal window (RFC 9773 renewalInfo), else when less than a third of the lifetime remains, or -RenewBeforeDays. The new certificate comes from the source recorded when the old one was issued (ACME directory and account, or lab CA), with a new key of the same algorithm and size and the same names (the published topology's, when it now computes others); an imported certificate gets one offline request. AudioVideoAuthentication and OAuthTokenIssuer are staged with -Roll (effective 8 and 24 hours ahead, Microsoft's lead times; -RollDelay), the other uses are set at once with the old certificate as previous. Exit 0: nothing failed and nothing needs a person; 1: a renewal or its hook failed; 3: a renewal waits for a person (an offline request). See docs/renewal.md.",
    sets: SETS,
    default_set: Some("Identity"),
    should_process: true,
    params: &[
        p("All", PType::Switch, "Every computer's assigned certificates in the store (labs, fleets).").sets(&["All"]).mandatory(&["All"]),
        p("ComputerFqdn", PType::Str, "The computer whose certificates are renewed (default this computer and the global scope).").sets(&["Identity"]),
        p("DeployHook", PType::Str, "A command run once per renewed certificate after it is assigned, with CSCERT_THUMBPRINT, CSCERT_PREVIOUS_THUMBPRINT, CSCERT_USES, CSCERT_IDENTITY, CSCERT_STATUS, CSCERT_EFFECTIVE_TIME, CSCERT_NOT_AFTER and CSCERT_PFX_PATH in its environment (and no cscert secret)."),
        p("ExportPath", PType::Str, "A folder: each renewed certificate is written there as <Thumbprint>.pfx (password from $env:CSCERT_PASSWORD, owner-only) before the hook runs."),
        p("Force", PType::Switch, "Do not ask (a timer passes it). It never means renew now: see -RenewNow."),
        p("Identity", PType::Str, "Global, or a computer (default this computer and the global scope).").sets(&["Identity"]).at(0).shown_as("XdsIdentity"),
        p("RandomDelaySec", PType::Int, "Wait a random number of seconds up to this before starting (for cron; systemd timers have RandomizedDelaySec)."),
        p("RenewBeforeDays", PType::Int, "Also due when the certificate expires within this many days."),
        p("RenewNow", PType::Switch, "Renew the chosen certificates now, due or not."),
        p("Report", PType::Str, "Write an HTML report of what was done to this file."),
        p("RequestPath", PType::Str, "The folder offline requests for imported certificates are written to (default the current folder)."),
        p("RollDelay", PType::Int, "Hours from now to the effective date of a staged use (default 8 for AudioVideoAuthentication, 24 for OAuthTokenIssuer)."),
        p("Type", PType::CertTypes, "Only these uses."),
    ],
    examples: &[
        ("Update-CsCertificate -Force", "Renews this computer's and the global certificates that are due (what a timer runs)."),
        ("Update-CsCertificate -WhatIf", "Shows what is due, why, from which CA and with which names; changes nothing."),
        ("Update-CsCertificate -Type AccessEdgeExternal -RenewNow -Force", "Renews the Access Edge certificate now (and the uses that share it)."),
        ("Update-CsCertificate -All -RenewBeforeDays 30 -ExportPath /var/lib/cscert/out -DeployHook /usr/local/bin/copy-to-pool -Force", "Renews every computer's due certificates, exports each as a PFX and runs a hook that copies it to the Edge pool."),
    ],
    lync: false,
};

/// [ValidateRange] of the integer parameters: PowerShell's binding error (exit 2).
fn check_ranges(b: &Bound) -> CsResult<()> {
    for (name, min, max) in RANGES {
        if let Some(v) = b.int(name).map(i64::from).filter(|v| v < min || v > max) {
            return Err(out_of_range(name, v, *min, *max));
        }
    }
    Ok(())
}

pub fn exec(b: &Bound, ctx: &mut Ctx) -> CsResult<()> {
    check_ranges(b)?;
    let args = UpdateArgs {
        identity: b.str("Identity").or(b.str("ComputerFqdn")),
        all: b.switch("All"),
        uses: b.uses("Type"),
        renew_before_days: b.int("RenewBeforeDays"),
        renew_now: b.switch("RenewNow"),
        roll_delay_hours: b.int("RollDelay"),
        deploy_hook: b.str("DeployHook"),
        export_path: b.str("ExportPath"),
        request_path: b.str("RequestPath"),
        random_delay_sec: b.int("RandomDelaySec"),
    };
    let rows = update(ctx, &args)?;
    for r in &rows {
        ctx.host.emit(r);
    }
    // One error record per certificate, after the objects: a failure exits 1, a request waiting
    // for a person 3 (the worst wins).
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for r in &rows {
        let key = (
            r.identity.as_str(),
            r.thumbprint.as_deref().unwrap_or_default(),
        );
        let record = match r.status {
            Status::Failed => Some(CsError::failed(
                "RenewalFailed",
                Category::InvalidOperation,
                format!("{} at {}: {}", r.use_name, r.identity, r.reason),
            )),
            Status::RequestWritten if !seen.contains(&key) => Some(CsError::new(
                Exit::ValidationFailed,
                "RenewalNeedsPerson",
                Category::InvalidOperation,
                format!("{} at {}: {}", r.use_name, r.identity, r.reason),
            )),
            _ if r.deploy_failed && !seen.contains(&key) => Some(CsError::failed(
                "DeployHookFailed",
                Category::InvalidOperation,
                format!("{} at {}: {}", r.use_name, r.identity, r.reason),
            )),
            _ => None,
        };
        if let Some(e) = record {
            seen.push(key);
            ctx.host.error(&e.with_target(key.1.to_string()));
        }
    }
    let renewed = rows
        .iter()
        .filter(|r| matches!(r.status, Status::Renewed | Status::Staged))
        .count();
    ctx.host.verbose(format!("\"Update-CsCertificate\" processing has completed: {} use(s) checked, {renewed} renewed or staged.", rows.len()));
    Ok(())
}
