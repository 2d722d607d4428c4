//! Test-CsCertificateConfiguration: checks every assigned certificate at the current time
//! (ops::configuration).

use crate::binder::table::{p, CmdletDef, PType};
use crate::binder::Bound;
use crate::error::{Category, CsError, CsResult};
use crate::ops::configuration::{check, Outcome};
use crate::ops::fleet;
use crate::ops::Ctx;
use crate::output::file::Existing;
use crate::output::html::{render_fleet, Fleet};

/// The parameter table and help of this cmdlet.
pub static DEF: CmdletDef = CmdletDef {
    name: "Test-CsCertificateConfiguration",
    synopsis: "Checks the assigned certificates: missing, expired, expiring within 30 days, or names that no longer fit the topology.",
    description: "Returns one object per assigned use that is in order (Use, Status: Passed, or Warning when it expires within 30 days; Thumbprint); problems are reported as errors and warnings, and a last line sums up how many uses passed and failed.",
    sets: &["Default"],
    default_set: Some("Default"),
    should_process: false,
    params: &[
        p("ExpiringWithinDays", PType::Int, "[cscert] A gate for CI: an assigned certificate in service that expires within this many days, with no renewal staged, is an error (exit 3) instead of a warning."),
        p("HtmlReport", PType::Str, "[cscert] Write the fleet page to this file: a timeline of every certificate in service and staged per computer and use, and the findings as a table (docs/probe.md)."),
        p("Report", PType::Str, "Write an HTML report of the result to this file."),
        p("TrustedRoot", PType::StrList, "[cscert] Trusted root certificates (files or folders): each assigned certificate's chain must end at one of them."),
    ],
    examples: &[
        ("Test-CsCertificateConfiguration", "Checks every assigned certificate."),
        ("Test-CsCertificateConfiguration -TrustedRoot ./roots", "Also checks that every chain ends at a root in ./roots."),
        ("Test-CsCertificateConfiguration -ExpiringWithinDays 14", "Fails (exit 3) when a certificate in service expires within 14 days and no renewal is staged."),
        ("Test-CsCertificateConfiguration -HtmlReport fleet.html", "Also writes the fleet page: one self-contained HTML file to open in any browser."),
    ],
    lync: true,
};

pub fn exec(b: &Bound, ctx: &mut Ctx) -> CsResult<()> {
    let days = b.int("ExpiringWithinDays");
    if let Some(d) = days.filter(|d| !(0..=36500).contains(d)) {
        return Err(crate::binder::errors::out_of_range(
            "ExpiringWithinDays",
            d.into(),
            0,
            36500,
        ));
    }
    // The page's path is checked before the work, as -Report's is.
    let page = match b.str("HtmlReport") {
        Some(path) => Some((
            path,
            ctx.output_target("-HtmlReport", path, false, Existing::ReportOrForce)?,
        )),
        None => None,
    };
    let mut findings = Vec::new();
    let (mut passed, mut warned, mut errors) = (0, 0, 0);
    for o in check(ctx, &b.list("TrustedRoot"), days.map(i64::from))? {
        match o {
            Outcome::Problem(p) => {
                errors += 1;
                let e = p.into();
                findings.push(fleet::finding_of_error(&e));
                ctx.host.error(&e);
            }
            Outcome::Warning(w) => {
                findings.push(fleet::finding_of_warning(&w));
                ctx.host.warning(w);
            }
            Outcome::InOrder(x) => {
                passed += 1;
                warned += usize::from(x.status == "Warning");
                ctx.host.emit(&x)
            }
        }
    }
    ctx.host.info(summary(passed, warned, errors));
    if let Some((path, target)) = page {
        let html = render_fleet(&Fleet {
            title: "Certificates in service".into(),
            now: ctx.now,
            lanes: fleet::lanes(ctx)?,
            findings,
        });
        target.write(html.as_bytes(), false).map_err(|e| {
            CsError::failed(
                "HtmlReportNotWritten",
                Category::WriteError,
                format!("The page could not be written to '{path}': {e}"),
            )
        })?;
    }
    Ok(())
}

/// The last line: the verdict at a glance (the objects list only the uses in order).
fn summary(passed: usize, warned: usize, errors: usize) -> String {
    let verdict = if errors == 0 { "Passed" } else { "Failed" };
    format!("{verdict}: {passed} assigned use(s) in order ({warned} with a warning), {errors} error(s).")
}
