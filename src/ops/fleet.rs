//! The fleet page's data (Test-CsCertificateConfiguration -HtmlReport): every computer and use
//! the store assigns, with the certificate in service and the staged ones, read in one
//! transaction and resolved at the run's time.

use super::{assign, certs, Ctx};
use crate::error::CsError;
use crate::model::CertType;
use crate::output::html::{Bar, FindingRow, Lane};
use crate::store::{AssignmentRow, StoreError};

/// The lanes of the timeline, by computer (Global last) and use.
pub fn lanes(ctx: &mut Ctx) -> Result<Vec<Lane>, StoreError> {
    if !ctx.store_dir().join(crate::store::DB_FILE).exists() {
        return Ok(Vec::new());
    }
    let now = ctx.now;
    let mut lanes = ctx.store()?.read(|tx| -> Result<_, StoreError> {
        let rows = tx.assignments(None)?;
        let mut keys: Vec<(String, CertType)> = rows
            .iter()
            .filter_map(|r| Some((r.scope.clone(), CertType::parse(&r.use_name)?)))
            .collect();
        keys.sort();
        keys.dedup();
        let mut out = Vec::new();
        for (scope, u) in keys {
            let mine: Vec<AssignmentRow> = rows
                .iter()
                .filter(|r| r.scope == scope && r.use_name == u.name())
                .cloned()
                .collect();
            let st = assign::resolve(&mine, now);
            let mut bars = Vec::new();
            let shown = st
                .current
                .iter()
                .map(|c| (c, "in service".to_string()))
                .chain(st.staged.iter().map(|s| {
                    let when = s.effective.format("%Y-%m-%d %H:%M");
                    (s, format!("staged from {when}"))
                }));
            for (a, state) in shown {
                // A row that cannot be read is reported by the check itself; the page skips it.
                let Ok(Some(row)) = certs::row_of(tx, &a.thumbprint) else {
                    continue;
                };
                let Ok(c) = certs::parse(&row) else { continue };
                let (Some(nb), Some(na)) = (c.not_before, c.not_after) else {
                    continue;
                };
                bars.push(Bar {
                    thumbprint: a.thumbprint.clone(),
                    subject: c.subject,
                    not_before: nb,
                    not_after: na,
                    state,
                });
            }
            out.push(Lane {
                computer: scope,
                use_name: u.name().to_string(),
                bars,
            });
        }
        Ok(out)
    })?;
    lanes.sort_by_key(|l| l.computer == assign::GLOBAL);
    Ok(lanes)
}

/// An error record of the check as a row of the findings table.
pub fn finding_of_error(e: &CsError) -> FindingRow {
    FindingRow {
        rule_id: e.error_id.clone(),
        severity: "Error".into(),
        message: e.message.clone(),
        names: e.target.iter().cloned().collect(),
    }
}

/// A warning of the check as a row of the findings table.
pub fn finding_of_warning(message: &str) -> FindingRow {
    FindingRow {
        rule_id: if message.contains(" expires on ") {
            "AssignedCertificateExpiring"
        } else {
            "ConfigurationWarning"
        }
        .into(),
        severity: "Warning".into(),
        message: message.to_string(),
        names: Vec::new(),
    }
}
