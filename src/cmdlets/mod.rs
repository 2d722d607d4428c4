//! One file per cmdlet: bound parameters in, a call of library code, objects out.
//! This module holds what they share: the invocation context and the dispatch table.

mod certs;
mod export;
mod get;
mod import;
mod remove;
mod request;
mod set;
mod test_cert;
mod test_config;
mod topology;

use crate::binder::{Bound, Common};
use crate::error::{Category, CsError, CsResult, Exit};
use crate::output::{report, Host};
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

impl From<StoreError> for CsError {
    fn from(e: StoreError) -> Self {
        CsError::failed("StoreFailure", Category::ResourceUnavailable, e.to_string())
    }
}

/// What a cmdlet runs with: the host streams, the clock, the store and "this computer".
pub struct Ctx {
    pub host: Host,
    pub now: DateTime<Utc>,
    pub common: Common,
    store_dir: PathBuf,
    store: Option<Store>,
    computer: Option<String>,
}

/// The store folder: `$CSCERT_STORE`, else the platform data folder.
pub fn store_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("CSCERT_STORE").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    directories::ProjectDirs::from("", "", "cscert")
        .map(|p| p.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from(".cscert"))
}

/// "This computer": `$CSCERT_COMPUTERFQDN` (so a lab or CI can act as several servers of one
/// deployment), else this machine's FQDN.
pub fn this_computer() -> String {
    if let Ok(c) = std::env::var("CSCERT_COMPUTERFQDN") {
        if !c.trim().is_empty() {
            return c.trim().to_string();
        }
    }
    if cfg!(windows) {
        let host = std::env::var("COMPUTERNAME").unwrap_or_default();
        return match std::env::var("USERDNSDOMAIN") {
            Ok(d) if !d.is_empty() => format!("{host}.{d}").to_ascii_lowercase(),
            _ => host.to_ascii_lowercase(),
        };
    }
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .ok()
            .map(|s| s.trim().to_string())
    };
    let host = read("/proc/sys/kernel/hostname")
        .or_else(|| read("/etc/hostname"))
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::process::Command::new("hostname")
                .output()
                .ok()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        })
        .unwrap_or_else(|| "localhost".into());
    if host.contains('.') {
        return host;
    }
    match read("/proc/sys/kernel/domainname") {
        Some(d) if !d.is_empty() && d != "(none)" => format!("{host}.{d}"),
        _ => host,
    }
}

/// The current time, or `$CSCERT_NOW` (tests and labs fix the clock with it).
pub fn now() -> CsResult<DateTime<Utc>> {
    match std::env::var("CSCERT_NOW") {
        Ok(v) if !v.is_empty() => crate::binder::dates::parse_datetime(&v).ok_or_else(|| {
            CsError::failed(
                "InvalidClock",
                Category::InvalidArgument,
                format!("CSCERT_NOW is set to '{v}', which is not a date and time (use ISO 8601, e.g. 2026-01-01T00:00:00Z)."),
            )
        }),
        _ => Ok(Utc::now()),
    }
}

impl Ctx {
    pub fn new(mut host: Host, bound: &Bound) -> Ctx {
        let common = bound.common.clone();
        host.verbose = common.verbose || common.debug;
        host.what_if = common.what_if;
        if matches!(common.warning_action, Some("SilentlyContinue" | "Ignore")) {
            host.warnings = false;
        }
        if matches!(common.error_action, Some("SilentlyContinue" | "Ignore")) {
            host.show_errors = false;
        }
        Ctx {
            host,
            now: Utc::now(),
            common,
            store_dir: store_dir(),
            store: None,
            computer: None,
        }
    }

    pub fn into_host(self) -> Host {
        self.host
    }

    /// The store, opened (and created) on first use.
    pub fn store(&mut self) -> CsResult<&mut Store> {
        if self.store.is_none() {
            self.store = Some(Store::open(&self.store_dir)?);
        }
        Ok(self.store.as_mut().expect("just opened"))
    }

    pub fn store_dir(&self) -> &Path {
        &self.store_dir
    }

    pub fn this_computer(&mut self) -> String {
        self.computer.get_or_insert_with(this_computer).clone()
    }

    /// A path as the user gave it, made absolute against the current folder.
    pub fn full_path(&self, p: &str) -> PathBuf {
        let path = Path::new(p);
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            std::env::current_dir().unwrap_or_default().join(path)
        }
    }

    /// PowerShell's ShouldProcess: `-WhatIf` says what would happen and declines; `-Confirm` asks.
    pub fn should_process(&mut self, target: &str, action: &str) -> bool {
        if self.common.what_if {
            self.host.info(format!(
                "What if: Performing the operation \"{action}\" on target \"{target}\"."
            ));
            return false;
        }
        if self.common.confirm == Some(true) {
            return self.confirm(target, action);
        }
        true
    }

    /// Asks on stderr and reads the answer from stdin; end of input means "No".
    pub fn confirm(&mut self, target: &str, action: &str) -> bool {
        let mut err = std::io::stderr();
        let _ = write!(
            err,
            "Confirm\nAre you sure you want to perform this action?\nPerforming the operation \"{action}\" on target \"{target}\".\n[Y] Yes  [N] No  (default is \"Y\"): "
        );
        let _ = err.flush();
        let mut line = String::new();
        match std::io::stdin().lock().read_line(&mut line) {
            Ok(0) | Err(_) => {
                let _ = writeln!(err);
                false
            }
            Ok(_) => {
                let a = line.trim().to_ascii_lowercase();
                a.is_empty() || a == "y" || a == "yes" || a == "a"
            }
        }
    }

    /// Confirmation for destructive cmdlets that ask when interactive unless `-Force`.
    pub fn confirm_unless_forced(&mut self, force: bool, target: &str, action: &str) -> bool {
        if self.common.what_if || self.common.confirm == Some(true) {
            return self.should_process(target, action);
        }
        if force || self.common.confirm == Some(false) || !std::io::stdin().is_terminal() {
            return true;
        }
        self.confirm(target, action)
    }
}

/// Runs a bound cmdlet: its `exec`, then `-Report`; returns the exit status.
pub fn run(bound: &Bound, ctx: &mut Ctx, argv: &[String]) -> Exit {
    let result = now().and_then(|n| {
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
    if let Some(path) = bound.str("Report") {
        let outcome = match exit {
            Exit::Success => "Success",
            Exit::ValidationFailed => "Validation found errors",
            _ => "Failed",
        };
        let line = format!("{} {}", bound.cmdlet.name, argv.join(" "));
        let html = report::render(
            bound.cmdlet.name,
            &line,
            ctx.now,
            outcome,
            &ctx.host.transcript,
        );
        if let Err(e) = write_file_atomic(&ctx.full_path(path), html.as_bytes(), true) {
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

/// Writes a file all at once: a temporary file in the same folder, then a rename, so a crash
/// never leaves half a file. Without `overwrite` an existing file is refused atomically.
pub fn write_file_atomic(path: &Path, bytes: &[u8], overwrite: bool) -> std::io::Result<()> {
    write_file_atomic_mode(path, bytes, overwrite, false)
}

/// As [`write_file_atomic`]; `private` makes the file owner-only (keys).
pub fn write_file_atomic_mode(
    path: &Path,
    bytes: &[u8],
    overwrite: bool,
    private: bool,
) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".cscert-")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    #[cfg(unix)]
    if !private {
        use std::os::unix::fs::PermissionsExt;
        // tempfile creates 0600; a request or report is not secret.
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    #[cfg(not(unix))]
    let _ = private;
    if overwrite {
        tmp.persist(path).map_err(|e| e.error)?;
    } else {
        tmp.persist_noclobber(path).map_err(|e| e.error)?;
    }
    Ok(())
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
