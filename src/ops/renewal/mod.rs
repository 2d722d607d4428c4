//! Update-CsCertificate: renewal without a person. The assigned certificates of the chosen
//! scopes are grouped per certificate (uses that share one move together), each is judged due
//! or not (`plan`: the CA's ACME renewal window, else a third of its lifetime), a due one is
//! made again from the source recorded when it was issued (`renew`), assigned the way Lync
//! needs (staged uses rolled, the others at once), exported and handed to a hook (`deploy`).

mod deploy;
mod plan;
mod renew;

use super::{Ctx, CtxError};
use crate::error::{Category, CsError};
use crate::model::CertType;
use crate::output::objects::ser_opt_date;
use crate::store::StoreError;
use chrono::{DateTime, Utc};
use serde::Serialize;

pub use plan::lifetime_renew_after;

/// Update-CsCertificate's parameters, typed.
#[derive(Debug, Clone, Default)]
pub struct UpdateArgs<'a> {
    /// `-Identity` / `-ComputerFqdn`: Global or a computer (default this computer and Global).
    pub identity: Option<&'a str>,
    /// `-All`: every scope in the store.
    pub all: bool,
    /// `-Type`: only these uses.
    pub uses: Vec<CertType>,
    pub renew_before_days: Option<i32>,
    pub renew_now: bool,
    /// `-RollDelay` in hours for the staged uses (default: Microsoft's lead times).
    pub roll_delay_hours: Option<i32>,
    pub deploy_hook: Option<&'a str>,
    pub export_path: Option<&'a str>,
    /// `-RequestPath`: the folder offline requests for imported certificates are written to.
    pub request_path: Option<&'a str>,
    pub random_delay_sec: Option<i32>,
}

/// The status of one use after a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    NotDue,
    Renewed,
    Staged,
    RequestWritten,
    Failed,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::NotDue => "NotDue",
            Status::Renewed => "Renewed",
            Status::Staged => "Staged",
            Status::RequestWritten => "RequestWritten",
            Status::Failed => "Failed",
        }
    }
}

fn ser_status<S: serde::Serializer>(s: &Status, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(s.name())
}

/// One use's outcome: the object Update-CsCertificate prints.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Renewal {
    #[serde(rename = "Use")]
    pub use_name: &'static str,
    /// Global, or the computer the assignment belongs to.
    pub identity: String,
    #[serde(serialize_with = "ser_status")]
    pub status: Status,
    pub thumbprint: Option<String>,
    pub previous_thumbprint: Option<String>,
    #[serde(serialize_with = "ser_opt_date")]
    pub not_after: Option<DateTime<Utc>>,
    /// When the (new) certificate is due for renewal.
    #[serde(serialize_with = "ser_opt_date")]
    pub renew_after: Option<DateTime<Utc>>,
    /// When a staged certificate takes over.
    #[serde(serialize_with = "ser_opt_date")]
    pub effective_time: Option<DateTime<Utc>>,
    pub source: String,
    pub reason: String,
    /// The deploy hook (or the export before it) failed: reported as an error record.
    #[serde(skip)]
    pub deploy_failed: bool,
}

/// Why Update-CsCertificate could not run at all (a certificate's own failure is a `Failed`
/// row instead, and the others still run).
#[derive(Debug)]
pub enum UpdateError {
    /// -ExportPath without a password to protect the PFX.
    ExportWithoutPassword,
    ExportPathMissing(String),
    /// The renewal lock (`renew.lock` in the store folder) could not be taken.
    Lock(std::io::Error),
    Store(StoreError),
    Ctx(CtxError),
}

crate::ops::wraps!(UpdateError: Store(StoreError), Ctx(CtxError));

impl From<UpdateError> for CsError {
    fn from(e: UpdateError) -> CsError {
        match e {
            UpdateError::ExportWithoutPassword => CsError::failed(
                "ExportPasswordRequired",
                Category::InvalidArgument,
                "-ExportPath writes each renewed certificate as a PFX, which needs a password: set $env:CSCERT_PASSWORD. Nothing was renewed.",
            ),
            UpdateError::ExportPathMissing(p) => CsError::failed(
                "ExportPathNotFound",
                Category::ObjectNotFound,
                format!("-ExportPath '{p}' is not an existing folder. Nothing was renewed."),
            )
            .with_target(p),
            UpdateError::Lock(e) => CsError::failed(
                "RenewalLockFailed",
                Category::ResourceUnavailable,
                format!("The renewal lock in the store folder could not be taken: {e}"),
            ),
            UpdateError::Store(e) => e.into(),
            UpdateError::Ctx(e) => e.into(),
        }
    }
}

/// The ranges of the integer parameters ([ValidateRange], checked by the cmdlet).
pub const RANGES: &[(&str, i64, i64)] = &[
    ("RandomDelaySec", 0, 86_400),
    ("RollDelay", 0, 8_760),
    ("RenewBeforeDays", 0, 36_500),
];

/// -ExportPath's password and folder, checked before anything is renewed.
fn check_args(ctx: &Ctx, a: &UpdateArgs<'_>) -> Result<(), UpdateError> {
    if let Some(p) = a.export_path {
        if ctx.password(None).is_none() {
            return Err(UpdateError::ExportWithoutPassword);
        }
        if !ctx.full_path(p).is_dir() {
            return Err(UpdateError::ExportPathMissing(p.to_string()));
        }
    }
    Ok(())
}

/// Sleeps a random part of -RandomDelaySec, so that a fleet's timers do not all ask the CA at
/// the same second (cron has no RandomizedDelaySec).
fn random_delay(ctx: &mut Ctx, max_sec: Option<i32>) {
    let Some(max) = max_sec.filter(|m| *m > 0) else {
        return;
    };
    let secs = crate::ops::acme::ari::random_u64() % (max as u64 + 1);
    ctx.host
        .verbose(format!("Waiting {secs} s (-RandomDelaySec {max})."));
    std::thread::sleep(std::time::Duration::from_secs(secs));
}

/// The renewal lock: one run renews at a time, so two runs never both renew a use; the second
/// waits, then finds the work done. The kernel releases it when a run dies.
fn take_lock(ctx: &mut Ctx) -> Result<std::fs::File, UpdateError> {
    ctx.store()?;
    let path = ctx.store_dir().join("renew.lock");
    let mut o = std::fs::OpenOptions::new();
    o.create(true).truncate(false).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let f = o.open(&path).map_err(UpdateError::Lock)?;
    ctx.host.verbose("Taking the renewal lock.");
    f.lock().map_err(UpdateError::Lock)?;
    Ok(f)
}

/// Runs Update-CsCertificate: one [`Renewal`] per use of the chosen scopes.
pub fn update(ctx: &mut Ctx, a: &UpdateArgs<'_>) -> Result<Vec<Renewal>, UpdateError> {
    check_args(ctx, a)?;
    let what_if = ctx.prefs.what_if;
    if !what_if {
        random_delay(ctx, a.random_delay_sec);
    }
    let groups = plan::groups(ctx, a)?;
    let mut out = Vec::new();
    let mut lock = None;
    let all = plan::all_facts(ctx, &groups)?;
    for (g, facts) in groups.into_iter().zip(all) {
        let facts = match facts {
            Ok(f) => f,
            Err(reason) => {
                out.extend(plan::rows(&g, Status::Failed, None, reason));
                continue;
            }
        };
        let d = plan::decide(ctx, a, &facts, !what_if)?;
        if !d.due {
            out.extend(plan::rows(
                &g,
                Status::NotDue,
                Some((&facts, &d)),
                String::new(),
            ));
            continue;
        }
        if what_if {
            plan::show_plan(ctx, &g, &facts, &d);
            continue;
        }
        if lock.is_none() {
            lock = Some(take_lock(ctx)?);
        }
        out.extend(renew::renew_group(ctx, a, g, d)?);
    }
    drop(lock);
    Ok(out)
}
