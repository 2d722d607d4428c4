//! One file per cmdlet: bound parameters in, a call of library code, objects out.
//! This module holds what they share: the invocation context and the dispatch table.

mod export;
mod get;
mod import;
mod remove;
mod request;
mod set;
mod test_cert;
mod test_config;
mod topology;

pub use crate::ops::{read_limited, Ctx, CERT_FILE_LIMIT, TOPOLOGY_LIMIT};

use crate::binder::Bound;
use crate::error::{Category, CsError, Exit};
use crate::output::file::Existing;
use crate::output::report;

/// Runs a bound cmdlet: its `exec`, then `-Report`; returns the exit status.
pub fn run(bound: &Bound, ctx: &mut Ctx, argv: &[String]) -> Exit {
    // The report's path is checked before anything is done: a report that cannot be written
    // must not follow a change that was made.
    let report_target = match bound.str("Report") {
        Some(path) => match ctx.output_target(
            "-Report",
            path,
            bound.switch("Force"),
            Existing::ReportOrForce,
        ) {
            Ok(t) => Some(t),
            Err(e) => {
                ctx.host.error(&e);
                return Exit::Failed;
            }
        },
        None => None,
    };
    let result = crate::ops::now(ctx.settings.now.as_deref()).and_then(|n| {
        ctx.now = n;
        match bound.cmdlet.name {
            "Request-CsCertificate" => request::exec(bound, ctx),
            "Import-CsCertificate" => import::exec(bound, ctx),
            "Set-CsCertificate" => set::exec(bound, ctx),
            "Get-CsCertificate" => get::exec(bound, ctx),
            "Remove-CsCertificate" => remove::exec(bound, ctx),
            "Test-CsCertificateConfiguration" => test_config::exec(bound, ctx),
            "Export-CsCertificate" => export::exec(bound, ctx),
            "Test-CsCertificate" => test_cert::exec(bound, ctx),
            "Publish-CsTopology" => topology::publish(bound, ctx),
            "Get-CsTopology" => topology::get(bound, ctx),
            other => unreachable!("{other} is in the parameter table but has no exec"),
        }
    });
    let exit = match result {
        Ok(()) => ctx.host.worst(),
        Err(e) => {
            ctx.host.error(&e);
            e.exit.max_with(ctx.host.worst())
        }
    };
    if let (Some(path), Some(target)) = (bound.str("Report"), report_target) {
        let outcome = match exit {
            Exit::Success => "Success",
            Exit::ValidationFailed => "Validation found errors",
            _ => "Failed",
        };
        // Secrets never reach the report: their values are masked in the command line.
        let line = format!(
            "{} {}",
            bound.cmdlet.name,
            crate::binder::mask_secrets(bound.cmdlet, argv).join(" ")
        );
        let html = report::render(
            bound.cmdlet.name,
            &line,
            ctx.now,
            outcome,
            &ctx.host.transcript,
        );
        // Owner-only: a report shows what was done to the store.
        if let Err(e) = target.write(html.as_bytes(), true) {
            let e = CsError::failed(
                "ReportNotWritten",
                Category::WriteError,
                format!("The report could not be written to '{path}': {e}"),
            );
            ctx.host.error(&e);
            return exit.max_with(Exit::Failed);
        }
    }
    exit
}

impl Exit {
    fn max_with(self, other: Exit) -> Exit {
        if other as i32 > self as i32 {
            other
        } else {
            self
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_cmdlet_in_the_table_is_dispatched() {
        let src = include_str!("mod.rs");
        for c in crate::binder::CMDLETS {
            assert!(
                src.contains(&format!("\"{}\" =>", c.name)),
                "{} has no exec",
                c.name
            );
        }
    }
}
