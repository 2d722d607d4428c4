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
    description: "Returns one object per assigned use that is in order (Thumbprint, Use); problems are reported as errors and warnings.",
    sets: &["Default"],
    default_set: Some("Default"),
    should_process: false,
    params: &[
        p("HtmlReport", PType::Str, "[cscert] Write the fleet page to this file: a timeline of every certificate in service and staged per computer and use, and the findings as a table (docs/probe.md)."),
        p("Report", PType::Str, "Write an HTML report of the result to this file."),
        p("TrustedRoot", PType::StrList, "[cscert] Trusted root certificates (files or folders): each assigned certificate's chain must end at one of them."),
    ],
    examples: &[
        ("Test-CsCertificateConfiguration", "Checks every assigned certificate."),
        ("Test-CsCertificateConfiguration -TrustedRoot ./roots", "Also checks that every chain ends at a root in ./roots."),
        ("Test-CsCertificateConfiguration -HtmlReport fleet.html", "Also writes the fleet page: one self-contained HTML file to open in any browser."),
    ],
    lync: true,
};

pub fn exec(b: &Bound, ctx: &mut Ctx) -> CsResult<()> {
    // The page's path is checked before the work, as -Report's is.
    let page = match b.str("HtmlReport") {
        Some(path) => Some((
            path,
            ctx.output_target("-HtmlReport", path, false, Existing::ReportOrForce)?,
        )),
        None => None,
    };
    let mut findings = Vec::new();
    for o in check(ctx, &b.list("TrustedRoot"))? {
        match o {
            Outcome::Problem(p) => {
                let e = p.into();
                findings.push(fleet::finding_of_error(&e));
                ctx.host.error(&e);
            }
            Outcome::Warning(w) => {
                findings.push(fleet::finding_of_warning(&w));
                ctx.host.warning(w);
            }
            Outcome::InOrder(x) => ctx.host.emit(&x),
        }
    }
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
