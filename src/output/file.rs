//! The one writer of output files (`-Output`, `-Path` of Export, `-Report`).
//!
//! A regular file is written to a temporary file in the same folder and renamed over the target
//! (atomic: a crash never leaves half a file). A path that resolves to a character device, FIFO,
//! socket or terminal is written into and never replaced (`-Output /dev/stdout` works, `/dev/null`
//! stays a device). A folder is refused, a dangling link is refused, and nothing is ever written
//! inside the store folder. Temporary files carry the writer's process id, so one left behind by
//! a killed process is removed by the next write into that folder.

use crate::error::{Category, CsError};
use std::io::Write;
use std::path::{Path, PathBuf};

/// What an existing regular file at the target may be replaced for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Only with `-Force`.
    NeedsForce,
    /// A report written earlier by cscert may be replaced; anything else only with `-Force`.
    ReportOrForce,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// A regular file (new, or replaced by rename).
    Regular,
    /// A device, FIFO or terminal (the path resolved through links): written into.
    Special(PathBuf),
    /// A Unix socket: connected to and written into.
    Socket(PathBuf),
}

/// A checked output target: [`check`] first (before anything is done), then [`Target::write`].
#[derive(Debug, Clone)]
pub struct Target {
    pub path: PathBuf,
    kind: Kind,
    replace: bool,
}

/// Marks a report so that the next run may replace it without `-Force` (scripts re-run daily
/// with the same `-Report` path).
pub const REPORT_MARK: &str = "<meta name=\"generator\" content=\"cscert report\">";

/// Why an output path is refused before anything is written. `param` names the parameter
/// (`-Output`, `-Path`, `-Report`), `shown` is the path as the user gave it, `full` resolved.
#[derive(Debug)]
pub enum OutputPathError {
    Empty {
        param: String,
    },
    InsideStore {
        shown: String,
        full: PathBuf,
        store_dir: PathBuf,
    },
    DanglingLink {
        param: String,
        shown: String,
        full: PathBuf,
        to: String,
    },
    Folder {
        param: String,
        shown: String,
        full: PathBuf,
    },
    Exists {
        shown: String,
        full: PathBuf,
        existing: Existing,
    },
}

impl From<OutputPathError> for CsError {
    fn from(e: OutputPathError) -> CsError {
        use OutputPathError as E;
        match e {
            E::Empty { param } => CsError::failed(
                "OutputPathEmpty",
                Category::InvalidArgument,
                format!("The {param} path is empty. Give the name of the file to write."),
            ),
            E::InsideStore { shown, full, store_dir } => CsError::failed(
                "OutputInsideStore",
                Category::InvalidArgument,
                format!("'{}' is inside the store folder '{}', where only the store itself writes. Choose a path outside it.", full.display(), store_dir.display()),
            )
            .with_target(shown),
            E::DanglingLink { param, shown, full, to } => CsError::failed(
                "OutputLinkDangling",
                Category::InvalidArgument,
                format!("'{}' is a symbolic link to '{to}', which does not exist. Remove the link or give another {param} path.", full.display()),
            )
            .with_target(shown),
            E::Folder { param, shown, full } => CsError::failed(
                "OutputIsFolder",
                Category::InvalidArgument,
                format!(
                    "'{}' is a folder. Give a file name for {param} (for example '{}').",
                    full.display(),
                    full.join("report.html").display()
                ),
            )
            .with_target(shown),
            E::Exists { shown, full, existing } => {
                let how = match existing {
                    Existing::NeedsForce => "Use -Force to overwrite it.",
                    Existing::ReportOrForce => "It is not a report written by cscert, so it is not replaced; remove it or choose another path (or use -Force where the cmdlet has it).",
                };
                CsError::failed(
                    "OutputFileExists",
                    Category::ResourceExists,
                    format!("The file '{}' already exists. {how}", full.display()),
                )
                .with_target(shown)
            }
        }
    }
}

/// A report cscert wrote: the marker near the start (older reports: the fixed head of the page).
fn is_cscert_report(path: &Path) -> bool {
    use std::io::Read;
    let Ok(f) = std::fs::File::open(path) else {
        return false;
    };
    let mut head = Vec::with_capacity(1024);
    if f.take(1024).read_to_end(&mut head).is_err() {
        return false;
    }
    let head = String::from_utf8_lossy(&head);
    head.contains(REPORT_MARK)
        || (head.starts_with(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>",
        ) && head.contains(" report</title>\n<style>body{font-family:sans-serif;margin:2em}"))
}

/// Whether `p` lies inside `dir` (both resolved through links as far as they exist).
fn inside(p: &Path, dir: &Path) -> bool {
    let Ok(dir) = std::fs::canonicalize(dir) else {
        return false;
    };
    // Resolve the longest existing ancestor, then append the rest.
    let mut existing = p.to_path_buf();
    let mut rest = Vec::new();
    loop {
        if let Ok(c) = std::fs::canonicalize(&existing) {
            let mut full = c;
            for r in rest.iter().rev() {
                full.push(r);
            }
            return full.starts_with(&dir);
        }
        match (existing.file_name(), existing.parent()) {
            (Some(n), Some(parent)) => {
                rest.push(n.to_os_string());
                existing = parent.to_path_buf();
            }
            _ => return false,
        }
    }
}

#[cfg(unix)]
fn special_kind(resolved: &Path, m: &std::fs::Metadata) -> Option<Kind> {
    use std::os::unix::fs::FileTypeExt;
    let t = m.file_type();
    if t.is_socket() {
        Some(Kind::Socket(resolved.to_path_buf()))
    } else if t.is_char_device() || t.is_fifo() || t.is_block_device() {
        Some(Kind::Special(resolved.to_path_buf()))
    } else {
        None
    }
}

#[cfg(not(unix))]
fn special_kind(_resolved: &Path, _m: &std::fs::Metadata) -> Option<Kind> {
    None
}

/// Checks an output path before anything is done. `param` names the parameter in messages
/// (`-Output`, `-Path`, `-Report`); `shown` is the path as the user gave it.
pub fn check(
    param: &str,
    shown: &str,
    full: &Path,
    force: bool,
    existing: Existing,
    store_dir: &Path,
) -> Result<Target, OutputPathError> {
    if shown.trim().is_empty() {
        return Err(OutputPathError::Empty {
            param: param.to_string(),
        });
    }
    let resolved = std::fs::canonicalize(full).unwrap_or_else(|_| full.to_path_buf());
    if inside(full, store_dir) || inside(&resolved, store_dir) {
        return Err(OutputPathError::InsideStore {
            shown: shown.to_string(),
            full: full.to_path_buf(),
            store_dir: store_dir.to_path_buf(),
        });
    }
    let lmeta = std::fs::symlink_metadata(full);
    let meta = match &lmeta {
        Ok(l) if l.file_type().is_symlink() => match std::fs::metadata(full) {
            Ok(m) => Some(m),
            Err(_) => {
                let to = std::fs::read_link(full)
                    .map(|t| t.display().to_string())
                    .unwrap_or_default();
                return Err(OutputPathError::DanglingLink {
                    param: param.to_string(),
                    shown: shown.to_string(),
                    full: full.to_path_buf(),
                    to,
                });
            }
        },
        Ok(l) => Some(l.clone()),
        Err(_) => None,
    };
    let Some(meta) = meta else {
        // A new file (a missing folder fails when it is written, as OutputNotWritten).
        return Ok(Target {
            path: full.to_path_buf(),
            kind: Kind::Regular,
            replace: false,
        });
    };
    if meta.is_dir() {
        return Err(OutputPathError::Folder {
            param: param.to_string(),
            shown: shown.to_string(),
            full: full.to_path_buf(),
        });
    }
    if let Some(kind) = special_kind(&resolved, &meta) {
        return Ok(Target {
            path: full.to_path_buf(),
            kind,
            replace: false,
        });
    }
    let allowed = force || (existing == Existing::ReportOrForce && is_cscert_report(full));
    if !allowed {
        return Err(OutputPathError::Exists {
            shown: shown.to_string(),
            full: full.to_path_buf(),
            existing,
        });
    }
    Ok(Target {
        path: full.to_path_buf(),
        kind: Kind::Regular,
        replace: true,
    })
}

impl Target {
    /// Whether the target is a device/FIFO/socket written into (so never removed on failure).
    pub fn is_special(&self) -> bool {
        !matches!(self.kind, Kind::Regular)
    }

    /// Writes `bytes`; `private` makes a new regular file owner-only (keys, reports).
    pub fn write(&self, bytes: &[u8], private: bool) -> std::io::Result<()> {
        match &self.kind {
            Kind::Special(p) => {
                let mut f = std::fs::OpenOptions::new().write(true).open(p)?;
                f.write_all(bytes)?;
                f.flush()
            }
            #[cfg(unix)]
            Kind::Socket(p) => {
                let mut s = std::os::unix::net::UnixStream::connect(p)?;
                s.write_all(bytes)?;
                s.flush()
            }
            #[cfg(not(unix))]
            Kind::Socket(_) => Err(std::io::Error::other("sockets are not supported")),
            Kind::Regular => write_atomic(&self.path, bytes, self.replace, private),
        }
    }
}

/// The prefix of cscert's temporary files: `.cscert-<pid>-<random>.tmp`.
const TMP_PREFIX: &str = ".cscert-";

/// Whether the process that made a temporary file is gone (its file is then garbage).
#[cfg(unix)]
fn owner_is_gone(pid: u32) -> bool {
    // kill(pid, 0): ESRCH = no such process. EPERM = alive but someone else's.
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return false;
    };
    rustix::process::test_kill_process(pid) == Err(rustix::io::Errno::SRCH)
}

#[cfg(not(unix))]
fn owner_is_gone(_pid: u32) -> bool {
    false
}

/// Removes temporary files left in `dir` by killed cscert processes.
pub fn clean_stale_temp_files(dir: &Path) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(rest) = name.strip_prefix(TMP_PREFIX) else {
            continue;
        };
        if !name.ends_with(".tmp") {
            continue;
        }
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && owner_is_gone(pid) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Temp file + fsync + rename; without `replace` an existing file is refused atomically.
pub fn write_atomic(
    path: &Path,
    bytes: &[u8],
    replace: bool,
    private: bool,
) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    clean_stale_temp_files(dir);
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!("{TMP_PREFIX}{}-", std::process::id()))
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    #[cfg(unix)]
    if !private {
        use std::os::unix::fs::PermissionsExt;
        // tempfile creates 0600; a request is not secret.
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    #[cfg(not(unix))]
    let _ = private;
    if replace {
        tmp.persist(path).map_err(|e| e.error)?;
    } else {
        tmp.persist_noclobber(path).map_err(|e| e.error)?;
    }
    // No fsync of the folder: a killed process cannot undo a rename, and the store itself runs
    // with synchronous=NORMAL; an extra fsync would cost every request ~0.2 ms.
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_resolves_missing_tails() {
        let t = tempfile::tempdir().unwrap();
        let store = t.path().join("store");
        std::fs::create_dir(&store).unwrap();
        assert!(inside(&store.join("a/b.txt"), &store));
        assert!(inside(&store.join("cscert.db"), &store));
        assert!(!inside(&t.path().join("x.txt"), &store));
    }
}
