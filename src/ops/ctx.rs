//! What an operation runs with: the host streams, the clock, the store, "this computer", and
//! the settings read once from the environment (see `cli::read_settings`).

use crate::error::{Category, CsError};
use crate::output::file::{Existing, Target};
use crate::output::Host;
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

impl From<StoreError> for CsError {
    fn from(e: StoreError) -> Self {
        CsError::failed("StoreFailure", Category::ResourceUnavailable, e.to_string())
    }
}

/// What the run itself can refuse: the fixed clock, or a confirmation with no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CtxError {
    /// `$CSCERT_NOW` is not a date and time between the years 1 and 9999.
    InvalidClock { value: String },
    /// A confirmation prompt met the end of its input.
    NotAnswered { action: String, target: String },
    /// A confirmation prompt was answered with none of its choices, again and again.
    NoValidAnswer { action: String, target: String },
}

impl From<CtxError> for CsError {
    fn from(e: CtxError) -> CsError {
        match e {
            CtxError::InvalidClock { value } => CsError::failed(
                "InvalidClock",
                Category::InvalidArgument,
                format!("CSCERT_NOW is set to '{value}', which is not a date and time between the years 1 and 9999 (use ISO 8601, e.g. 2026-01-01T00:00:00Z)."),
            ),
            CtxError::NotAnswered { action, target } => CsError::failed(
                "ConfirmationNotAnswered",
                Category::InvalidOperation,
                format!("The operation \"{action}\" on target \"{target}\" was not performed: it asks for confirmation and no answer came (end of input). Answer the prompt (Y, A, N or L on stdin), or run it with -Force or -Confirm:$false to proceed without asking."),
            )
            .with_target(target),
            // As before: this record names no target.
            CtxError::NoValidAnswer { action, target } => CsError::failed(
                "ConfirmationNotAnswered",
                Category::InvalidOperation,
                format!("The operation \"{action}\" on target \"{target}\" was not performed: no valid answer (Y, A, N, L) was given."),
            ),
        }
    }
}

/// What a cmdlet runs with: the host streams, the clock, the store and "this computer".
pub struct Ctx {
    pub host: Host,
    pub now: DateTime<Utc>,
    pub prefs: Preferences,
    pub settings: Settings,
    store: Option<Store>,
    /// Set by cmdlets that never write the store ([`Ctx::reading_only`]).
    reads_only: bool,
    computer: Option<String>,
    /// "Yes to All" / "No to All" answered in this run.
    yes_to_all: bool,
    no_to_all: bool,
}

/// How the caller wants the run to go (from PowerShell's common parameters, translated by the
/// cmdlet layer): ops knows these, not the parameters they came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Preferences {
    /// Verbose (and debug) lines are shown.
    pub verbose: bool,
    /// Say what would be done and do nothing (`-WhatIf`).
    pub what_if: bool,
    /// `Some(true)`: ask before every change; `Some(false)`: never ask (`-Confirm:$false`).
    pub confirm: Option<bool>,
    /// Warnings are not shown.
    pub quiet_warnings: bool,
    /// Error records are not shown (the exit code still tells).
    pub quiet_errors: bool,
}

/// The `CSCERT_*` environment, read once per run by `cli::read_settings` (and built directly by
/// in-process tests): nothing below `cli` reads the environment for these.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// `$CSCERT_STORE`, else the platform data folder.
    pub store_dir: PathBuf,
    /// `$CSCERT_COMPUTERFQDN` (so a lab or CI can act as several servers of one deployment);
    /// `None`: this machine's FQDN, looked up when first needed.
    pub computer: Option<String>,
    /// `$CSCERT_NOW` as given: tests and labs fix the clock with it (checked when a cmdlet runs).
    pub now: Option<String>,
    /// `$CSCERT_STORE_PASSWORD`: the password of the keys at rest (`Some("")` is refused).
    pub store_password: Option<String>,
    /// `$CSCERT_PASSWORD`: the PFX password when `-Password` is not given.
    pub password: Option<String>,
    /// `$CSCERT_ACME_HTTP_ADDRESS`: the one address the ACME http-01 responder binds.
    pub acme_http_address: Option<String>,
}

/// The platform data folder, where the store lives without `$CSCERT_STORE`.
pub fn default_store_dir() -> PathBuf {
    directories::ProjectDirs::from("", "", "cscert")
        .map(|p| p.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from(".cscert"))
}

/// "This computer" when `$CSCERT_COMPUTERFQDN` is not set: this machine's FQDN.
pub fn machine_fqdn() -> String {
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

/// The current time, or the fixed clock of `$CSCERT_NOW` (`fixed`: as given, and as the
/// caller parsed it).
pub fn now(fixed: Option<(&str, Option<DateTime<Utc>>)>) -> Result<DateTime<Utc>, CtxError> {
    match fixed {
        Some((v, parsed)) if !v.is_empty() => parsed
            // Certificates, the store and .NET all end with the year 9999.
            .filter(|d| (1..=9999).contains(&chrono::Datelike::year(d)))
            .ok_or_else(|| CtxError::InvalidClock {
                value: v.to_string(),
            }),
        _ => Ok(Utc::now()),
    }
}

impl Ctx {
    pub fn new(mut host: Host, prefs: Preferences, settings: Settings) -> Ctx {
        host.verbose = prefs.verbose;
        host.what_if = prefs.what_if;
        if prefs.quiet_warnings {
            host.warnings = false;
        }
        if prefs.quiet_errors {
            host.show_errors = false;
        }
        Ctx {
            host,
            now: Utc::now(),
            prefs,
            computer: settings.computer.clone(),
            settings,
            store: None,
            reads_only: false,
            yes_to_all: false,
            no_to_all: false,
        }
    }

    pub fn into_host(self) -> Host {
        self.host
    }

    /// The store, opened (and created) on first use; after [`Ctx::reading_only`] through
    /// [`Store::open_reader`] (lockless and read-only when it can be).
    pub fn store(&mut self) -> Result<&mut Store, StoreError> {
        if self.store.is_none() {
            let (dir, password) = (
                &self.settings.store_dir,
                self.settings.store_password.as_deref(),
            );
            self.store = Some(if self.reads_only {
                Store::open_reader(dir, password)?
            } else {
                Store::open_with(dir, password)?
            });
        }
        Ok(self.store.as_mut().expect("just opened"))
    }

    /// This run only reads the store (Get-, Test-, Export-): [`Ctx::store`] then opens an
    /// existing store without lock, WAL switch or migration ([`Store::open_reader`]).
    pub fn reading_only(&mut self) {
        self.reads_only = true;
    }

    pub fn store_dir(&self) -> &Path {
        &self.settings.store_dir
    }

    pub fn this_computer(&mut self) -> String {
        self.computer.get_or_insert_with(machine_fqdn).clone()
    }

    /// The PFX password: `-Password`, else `$CSCERT_PASSWORD` (so it need not appear in a
    /// process list).
    pub fn password(&self, given: Option<&str>) -> Option<String> {
        given
            .map(str::to_string)
            .or_else(|| self.settings.password.clone().filter(|p| !p.is_empty()))
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

    /// Checks an output path (`-Output`, `-Path`, `-Report`) before anything is done.
    pub fn output_target(
        &mut self,
        param: &str,
        shown: &str,
        force: bool,
        existing: Existing,
    ) -> Result<Target, crate::output::file::OutputPathError> {
        if cfg!(unix) && is_windows_path(shown) {
            // On Linux/macOS `C:\Certificates\x.cer` is one file name in the current folder.
            self.host.warning(format!(
                "{param} '{}' is a Windows path; on this system it names a file of that name in the current folder.",
                shown.chars().take(200).collect::<String>()
            ));
        }
        let full = if shown.trim().is_empty() {
            PathBuf::new()
        } else {
            self.full_path(shown)
        };
        crate::output::file::check(
            param,
            shown,
            &full,
            force,
            existing,
            &self.settings.store_dir,
        )
    }

    /// PowerShell's ShouldProcess for an operation below the confirm threshold: `-WhatIf` says
    /// what would happen and declines; `-Confirm` asks.
    pub fn should_process(&mut self, target: &str, action: &str) -> Result<bool, CtxError> {
        if self.prefs.what_if {
            self.host.info(format!(
                "What if: Performing the operation \"{action}\" on target \"{target}\"."
            ));
            return Ok(false);
        }
        if self.prefs.confirm == Some(true) {
            return self.confirm(target, action);
        }
        Ok(true)
    }

    /// ShouldProcess for an operation at the confirm threshold (ConfirmImpact High: deleting
    /// keys, unassigning, replacing the topology): asks unless `-Force` or `-Confirm:$false`.
    pub fn should_process_high(
        &mut self,
        force: bool,
        target: &str,
        action: &str,
    ) -> Result<bool, CtxError> {
        if self.prefs.what_if || self.prefs.confirm == Some(true) {
            return self.should_process(target, action);
        }
        if force || self.prefs.confirm == Some(false) {
            return Ok(true);
        }
        self.confirm(target, action)
    }

    /// PowerShell's prompt on stderr; the answer is read from stdin (typed on a terminal or
    /// piped). `A` / `L` answer every later prompt of this run. End of input with no answer is
    /// an error: nothing is done, and the message says how to run without a prompt.
    pub fn confirm(&mut self, target: &str, action: &str) -> Result<bool, CtxError> {
        if self.yes_to_all {
            return Ok(true);
        }
        if self.no_to_all {
            return Ok(false);
        }
        let mut err = std::io::stderr();
        let _ = write!(
            err,
            "\nConfirm\nAre you sure you want to perform this action?\n{}\n",
            crate::output::safe::terminal_text(&format!(
                "Performing the operation \"{action}\" on target \"{target}\"."
            ))
        );
        // Bounded: an answer that is not one of the choices asks again, a few times.
        for _ in 0..20 {
            let _ = write!(
                err,
                "[Y] Yes  [A] Yes to All  [N] No  [L] No to All  [?] Help (default is \"Y\"): "
            );
            let _ = err.flush();
            let mut line = String::new();
            let read = std::io::stdin().lock().read_line(&mut line);
            match read {
                Ok(0) | Err(_) => {
                    let _ = writeln!(err);
                    return Err(CtxError::NotAnswered {
                        action: action.to_string(),
                        target: target.to_string(),
                    });
                }
                Ok(_) => match line.trim().to_ascii_lowercase().as_str() {
                    "" | "y" | "yes" => return Ok(true),
                    "a" => {
                        self.yes_to_all = true;
                        return Ok(true);
                    }
                    "n" | "no" => return Ok(false),
                    "l" => {
                        self.no_to_all = true;
                        return Ok(false);
                    }
                    "?" => {
                        let _ = writeln!(err, "Y - Continue with only the next step of the operation.\nA - Continue with all the steps of the operation.\nN - Skip this operation and proceed with the next operation.\nL - Skip this operation and all subsequent operations.");
                    }
                    _ => {}
                },
            }
        }
        Err(CtxError::NoValidAnswer {
            action: action.to_string(),
            target: target.to_string(),
        })
    }
}

#[cfg(test)]
impl Ctx {
    /// A context for in-process tests: output discarded, the store (opened only when asked
    /// for) in `store_dir`.
    pub fn for_test(store_dir: PathBuf) -> Ctx {
        let host = Host::new("Test", Box::new(std::io::sink()), Box::new(std::io::sink()));
        let settings = Settings {
            store_dir,
            ..Settings::default()
        };
        Ctx::new(host, Preferences::default(), settings)
    }
}

/// A fresh folder under the system's temporary folder, removed when dropped.
#[cfg(test)]
pub struct TempDir(pub PathBuf);

#[cfg(test)]
impl TempDir {
    pub fn new(what: &str) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("cscert-unit-{what}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        TempDir(dir)
    }
}

#[cfg(test)]
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `C:\...`, `C:/...` or `\\server\share`: a path only Windows reads as one.
fn is_windows_path(p: &str) -> bool {
    let b = p.as_bytes();
    let drive =
        b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && matches!(b[2], b'\\' | b'/');
    drive || p.starts_with("\\\\")
}
