//! After a renewal: -ExportPath writes the new certificate as a PFX (password from
//! CSCERT_PASSWORD, owner-only), then -DeployHook runs once per renewed certificate with what it
//! needs in CSCERT_* variables and none of cscert's own secrets in its environment. A failure
//! is reported; the assignment stays.

use super::plan::Group;
use super::{Renewal, Status, UpdateArgs};
use crate::error::CsError;
use crate::model::join_uses;
use crate::ops::export::{export, ExportArgs};
use crate::ops::Ctx;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A hook that has not finished after this long is stopped (a timer must not hang).
const HOOK_TIMEOUT: Duration = Duration::from_secs(600);
/// Hook output kept for the reason and verbose lines.
const OUTPUT_CAP: usize = 200;

/// Exports and runs the hook for a renewed group; marks its rows on failure.
pub fn after(ctx: &mut Ctx, a: &UpdateArgs<'_>, g: &Group, mut rows: Vec<Renewal>) -> Vec<Renewal> {
    let Some(done) = rows
        .iter()
        .find(|r| matches!(r.status, Status::Renewed | Status::Staged))
        .cloned()
    else {
        return rows;
    };
    if a.export_path.is_none() && a.deploy_hook.is_none() {
        return rows;
    }
    let outcome = export_pfx(ctx, a, &done).and_then(|pfx| match a.deploy_hook {
        Some(hook) => run_hook(ctx, hook, g, &rows, pfx.as_deref()),
        None => Ok(()),
    });
    if let Err(why) = outcome {
        for r in rows.iter_mut().filter(|r| r.status != Status::Failed) {
            r.deploy_failed = true;
            r.reason = format!("{}; {why} (the assignment stays)", r.reason);
        }
    }
    rows
}

fn export_pfx(ctx: &mut Ctx, a: &UpdateArgs<'_>, done: &Renewal) -> Result<Option<String>, String> {
    let Some(folder) = a.export_path else {
        return Ok(None);
    };
    let thumbprint = done.thumbprint.clone().unwrap_or_default();
    let path = ctx.full_path(folder).join(format!("{thumbprint}.pfx"));
    let shown = path.display().to_string();
    let args = ExportArgs {
        thumbprint: &thumbprint,
        path: &shown,
        password: ctx.password(None),
        force: true,
        ..ExportArgs::default()
    };
    match export(ctx, args) {
        Ok(_) => Ok(Some(shown)),
        Err(e) => Err(format!(
            "the PFX was not exported: {}",
            CsError::from(e).message
        )),
    }
}

/// Text from a hook, escaped and capped before it reaches a terminal.
fn shown(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let clean: String = text
        .trim()
        .chars()
        .map(|c| if c.is_control() && c != '\n' { '?' } else { c })
        .collect();
    match clean.char_indices().nth(OUTPUT_CAP) {
        Some((i, _)) => format!("{}...", &clean[..i]),
        None => clean,
    }
}

fn run_hook(
    ctx: &mut Ctx,
    hook: &str,
    g: &Group,
    rows: &[Renewal],
    pfx: Option<&str>,
) -> Result<(), String> {
    let first = &rows[0];
    let staged = rows.iter().find(|r| r.status == Status::Staged);
    let date = |d: Option<chrono::DateTime<chrono::Utc>>| {
        d.map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default()
    };
    let uses: Vec<crate::model::CertType> = rows
        .iter()
        .filter_map(|r| crate::model::CertType::parse(r.use_name))
        .collect();
    let mut c = shell(hook);
    // None of cscert's own settings and secrets (store and PFX passwords, EAB key) reach it.
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy()
            .to_ascii_uppercase()
            .starts_with("CSCERT_")
        {
            c.env_remove(k);
        }
    }
    c.env(
        "CSCERT_THUMBPRINT",
        first.thumbprint.clone().unwrap_or_default(),
    )
    .env("CSCERT_PREVIOUS_THUMBPRINT", &g.thumbprint)
    .env("CSCERT_USES", join_uses(&uses))
    .env("CSCERT_IDENTITY", &g.scope)
    .env("CSCERT_STATUS", staged.map_or("Renewed", |_| "Staged"))
    .env(
        "CSCERT_EFFECTIVE_TIME",
        date(staged.unwrap_or(first).effective_time),
    )
    .env("CSCERT_NOT_AFTER", date(first.not_after))
    .env("CSCERT_PFX_PATH", pfx.unwrap_or_default())
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    ctx.host.verbose(format!(
        "Running the deploy hook: {}",
        shown(hook.as_bytes())
    ));
    let mut child = c
        .spawn()
        .map_err(|e| format!("the deploy hook could not be started: {e}"))?;
    // Output is read on threads so that a talkative hook cannot block on a full pipe.
    let (mut so, mut se) = (
        child.stdout.take().expect("piped"),
        child.stderr.take().expect("piped"),
    );
    let out = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = so.read_to_end(&mut b);
        b
    });
    let err = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = se.read_to_end(&mut b);
        b
    });
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break Some(s);
        }
        if t0.elapsed() > HOOK_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (out, err) = (
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default(),
    );
    for l in shown(&out).lines().chain(shown(&err).lines()) {
        ctx.host.verbose(format!("deploy hook: {l}"));
    }
    match status {
        None => Err(format!(
            "the deploy hook did not finish within {} s and was stopped",
            HOOK_TIMEOUT.as_secs()
        )),
        Some(s) if s.success() => Ok(()),
        Some(s) => Err(format!(
            "the deploy hook failed ({}){}",
            s.code()
                .map_or("killed by a signal".into(), |c| format!("exit {c}")),
            match shown(&err) {
                e if e.is_empty() => String::new(),
                e => format!(": {e}"),
            }
        )),
    }
}

/// The hook runs through the platform's shell, so that `systemctl reload x` or a script with
/// arguments works as typed.
fn shell(hook: &str) -> Command {
    if cfg!(windows) {
        let mut c = Command::new("cmd");
        c.args(["/C", hook]);
        c
    } else {
        let mut c = Command::new("sh");
        c.args(["-c", hook]);
        c
    }
}
