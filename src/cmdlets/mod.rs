//! One file per cmdlet: bound parameters in, one call of `crate::ops`, objects out.
//! This module holds the one table of (definition, exec) and what runs around every cmdlet
//! (-Report, the clock, the exit status).

pub mod export;
pub mod get;
pub mod import;
pub mod remove;
pub mod request;
pub mod revoke;
pub mod set;
pub mod store_password;
pub mod test_cert;
pub mod test_config;
pub mod topology;
pub mod update;

pub use crate::ops::{read_limited, Ctx, CERT_FILE_LIMIT, TOPOLOGY_LIMIT};

use crate::binder::{Bound, CmdletDef};
use crate::error::{Category, CsError, CsResult, Exit};
use crate::output::file::Existing;
use crate::output::report;

/// What PowerShell's common parameters ask of the run, in the operations' own terms.
pub fn preferences(c: &crate::binder::Common) -> crate::ops::Preferences {
    let quiet = |a: Option<&str>| matches!(a, Some("SilentlyContinue" | "Ignore"));
    crate::ops::Preferences {
        verbose: c.verbose || c.debug,
        what_if: c.what_if,
        confirm: c.confirm,
        quiet_warnings: quiet(c.warning_action),
        quiet_errors: quiet(c.error_action),
    }
}

/// The current time, or `$CSCERT_NOW` read as a [datetime] argument would be.
pub fn clock(fixed: Option<&str>) -> Result<chrono::DateTime<chrono::Utc>, crate::ops::CtxError> {
    crate::ops::now(fixed.map(|v| (v, crate::binder::dates::parse_datetime(v))))
}

/// What runs a cmdlet: its bound parameters and the context in, objects out through the host.
pub type Exec = fn(&Bound, &mut Ctx) -> CsResult<()>;

/// One cmdlet: its parameter table and help (beside its code), and its `exec`.
pub struct Cmdlet {
    pub def: &'static CmdletDef,
    pub exec: Exec,
    /// The parameter sets that never write the store: it is then opened for reading only
    /// (no lock, no migration), which keeps these cmdlets' start-up cheap.
    pub reads_only: &'static [&'static str],
}

const NONE: &[&str] = &[];
const ALL: &[&str] = &["*"];

/// Every cmdlet, in the order help lists them.
pub static CMDLETS: &[Cmdlet] = &[
    Cmdlet {
        def: &request::DEF,
        exec: request::exec,
        reads_only: &["List"],
    },
    Cmdlet {
        def: &import::DEF,
        exec: import::exec,
        reads_only: NONE,
    },
    Cmdlet {
        def: &set::DEF,
        exec: set::exec,
        reads_only: NONE,
    },
    Cmdlet {
        def: &get::DEF,
        exec: get::exec,
        reads_only: ALL,
    },
    Cmdlet {
        def: &remove::DEF,
        exec: remove::exec,
        reads_only: NONE,
    },
    Cmdlet {
        def: &test_config::DEF,
        exec: test_config::exec,
        reads_only: ALL,
    },
    Cmdlet {
        def: &export::DEF,
        exec: export::exec,
        reads_only: ALL,
    },
    Cmdlet {
        def: &test_cert::DEF,
        exec: test_cert::exec,
        reads_only: ALL,
    },
    Cmdlet {
        def: &revoke::DEF,
        exec: revoke::exec,
        reads_only: NONE,
    },
    Cmdlet {
        def: &update::DEF,
        exec: update::exec,
        reads_only: NONE,
    },
    Cmdlet {
        def: &topology::PUBLISH_TOPOLOGY,
        exec: topology::publish,
        reads_only: NONE,
    },
    Cmdlet {
        def: &topology::GET_TOPOLOGY,
        exec: topology::get,
        reads_only: ALL,
    },
    Cmdlet {
        def: &store_password::DEF,
        exec: store_password::exec,
        reads_only: NONE,
    },
];

/// Every cmdlet's definition, in the order help lists them.
pub static DEFS: &[&CmdletDef] = &[
    &request::DEF,
    &import::DEF,
    &set::DEF,
    &get::DEF,
    &remove::DEF,
    &test_config::DEF,
    &export::DEF,
    &test_cert::DEF,
    &revoke::DEF,
    &update::DEF,
    &topology::PUBLISH_TOPOLOGY,
    &topology::GET_TOPOLOGY,
    &store_password::DEF,
];

/// Finds a cmdlet by name, case-insensitively.
pub fn find_cmdlet(name: &str) -> Option<&'static CmdletDef> {
    DEFS.iter()
        .copied()
        .find(|c| c.name.eq_ignore_ascii_case(name))
}

/// The table entry of a cmdlet definition.
pub fn cmdlet_of(def: &CmdletDef) -> Option<&'static Cmdlet> {
    CMDLETS.iter().find(|c| std::ptr::eq(c.def, def))
}

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
                ctx.host.error(&e.into());
                return Exit::Failed;
            }
        },
        None => None,
    };
    let result = clock(ctx.settings.now.as_deref())
        .map_err(CsError::from)
        .and_then(|n| {
            ctx.now = n;
            let c = cmdlet_of(bound.cmdlet).expect("every cmdlet definition has an exec");
            if c.reads_only.iter().any(|s| *s == "*" || *s == bound.set) {
                ctx.reading_only();
            }
            (c.exec)(bound, ctx)
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
    use super::*;
    use crate::ops::CtxError;

    #[test]
    fn every_cmdlet_definition_has_one_exec_in_help_order() {
        let defs: Vec<&str> = CMDLETS.iter().map(|c| c.def.name).collect();
        let listed: Vec<&str> = DEFS.iter().map(|c| c.name).collect();
        assert_eq!(defs, listed);
        for d in DEFS {
            assert!(cmdlet_of(d).is_some(), "{} has no exec", d.name);
        }
    }

    #[test]
    fn read_only_sets_are_sets_of_their_cmdlet() {
        for c in CMDLETS {
            for s in c.reads_only {
                assert!(
                    *s == "*" || c.def.sets.contains(s),
                    "{}: no parameter set {s}",
                    c.def.name
                );
            }
        }
    }

    #[test]
    fn a_clock_that_is_not_a_date_is_refused_with_its_value() {
        let e = clock(Some("yesterday")).unwrap_err();
        assert_eq!(
            e,
            CtxError::InvalidClock {
                value: "yesterday".into()
            }
        );
        let e = CsError::from(e);
        assert_eq!(e.error_id, "InvalidClock");
        assert!(e.message.contains("'yesterday'"), "{}", e.message);
        assert!(clock(Some("2026-01-01T00:00:00Z")).is_ok());
        assert!(clock(Some("0001-01-01T00:00:00Z")).is_ok());
        assert!(clock(None).is_ok());
    }
}
