//! Shared helpers for the integration tests: run the built `cscert` binary the way pwsh does
//! (plain argv strings), in a private temp folder with its own store, and parse what it prints.

#![allow(dead_code)] // each test crate uses a different part of this module

use assert_cmd::Command;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// A private sandbox: a working folder and a store folder (not created: cscert creates it).
pub struct Sandbox {
    dir: TempDir,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::Builder::new()
            .prefix("cscert-test-")
            .tempdir()
            .expect("temp dir");
        std::fs::create_dir(dir.path().join("work")).expect("work dir");
        Sandbox { dir }
    }

    /// The folder `CSCERT_STORE` points at.
    pub fn store(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    /// The current folder of every command (relative `-Output` paths land here).
    pub fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// A command for the binary, isolated from the caller's environment: temp store, fixed
    /// computer name, UTC local time, binding trace and JSON error records on.
    pub fn cmd<S: AsRef<str>>(&self, args: &[S]) -> Command {
        let mut c = Command::cargo_bin("cscert").expect("the cscert binary is built");
        isolate(&mut c, self);
        c.args(args.iter().map(|a| a.as_ref()));
        c
    }

    /// A `std::process::Command` (for `spawn`, which assert_cmd's Command lacks), isolated the
    /// same way as [`Sandbox::cmd`].
    pub fn spawn_cmd<S: AsRef<str>>(&self, args: &[S]) -> std::process::Command {
        let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("cscert"));
        for v in ISOLATED {
            c.env_remove(v);
        }
        for (k, v) in self.env() {
            c.env(k, v);
        }
        c.current_dir(self.work());
        c.args(args.iter().map(|a| a.as_ref()));
        c
    }

    fn env(&self) -> Vec<(&'static str, std::ffi::OsString)> {
        vec![
            ("CSCERT_STORE", self.store().into_os_string()),
            ("CSCERT_COMPUTERFQDN", "test-host.contoso.com".into()),
            ("CSCERT_DEBUG_BINDING", "1".into()),
            ("CSCERT_ERROR_FORMAT", "json".into()),
            ("TZ", "UTC".into()),
        ]
    }

    /// Runs `cscert <args...>` and collects the outcome.
    pub fn run<S: AsRef<str>>(&self, args: &[S]) -> Outcome {
        Outcome::from(self.cmd(args).output().expect("cscert runs"))
    }

    /// Runs with the ConciseView error format (no `CSCERT_ERROR_FORMAT`).
    pub fn run_concise<S: AsRef<str>>(&self, args: &[S]) -> Outcome {
        let mut c = self.cmd(args);
        c.env_remove("CSCERT_ERROR_FORMAT");
        Outcome::from(c.output().expect("cscert runs"))
    }
}

/// Applies the sandbox environment to any command running the binary (also through a link).
pub fn isolate(c: &mut Command, sb: &Sandbox) {
    for v in ISOLATED {
        c.env_remove(v);
    }
    // Dates are read in the locale's culture (issue 11 item 8): the US one here.
    c.env("LANG", "en_US.UTF-8");
    for (k, v) in sb.env() {
        c.env(k, v);
    }
    c.current_dir(sb.work());
}

/// Variables of the caller that must not leak into a test run.
const ISOLATED: [&str; 7] = [
    "LC_ALL",
    "LC_TIME",
    "CSCERT_NOW",
    "CSCERT_PASSWORD",
    "CSCERT_CA_PASSWORD",
    "CSCERT_ERROR_FORMAT",
    "CSCERT_DEBUG_BINDING",
];

/// What one run printed, and how it ended.
#[derive(Debug)]
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<std::process::Output> for Outcome {
    fn from(o: std::process::Output) -> Self {
        Outcome {
            code: o
                .status
                .code()
                .unwrap_or_else(|| panic!("cscert died by a signal: {o:?}")),
            stdout: String::from_utf8(o.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(o.stderr).expect("stderr is UTF-8"),
        }
    }
}

/// The binding trace (`DEBUG: Bound: {...}`) as a fixed shape.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct Trace {
    pub cmdlet: String,
    pub parameter_set: String,
    pub parameters: serde_json::Map<String, serde_json::Value>,
    pub common: CommonTrace,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct CommonTrace {
    pub verbose: bool,
    pub debug: bool,
    pub what_if: bool,
    pub confirm: Option<bool>,
    pub error_action: Option<String>,
    pub warning_action: Option<String>,
}

/// One error record of `CSCERT_ERROR_FORMAT=json`.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct ErrorRecord {
    pub message: String,
    pub fully_qualified_error_id: String,
    pub category: String,
    pub target_object: Option<String>,
}

impl Outcome {
    /// The binding trace; panics (with the output) when there is none or more than one.
    pub fn trace(&self) -> Trace {
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .filter_map(|l| l.strip_prefix("DEBUG: Bound: "))
            .collect();
        assert_eq!(lines.len(), 1, "expected one binding trace: {self:#?}");
        serde_json::from_str(lines[0]).unwrap_or_else(|e| panic!("bad trace {}: {e}", lines[0]))
    }

    pub fn has_trace(&self) -> bool {
        self.stderr.lines().any(|l| l.starts_with("DEBUG: Bound: "))
    }

    /// The JSON error records on stderr (other stderr lines are skipped).
    pub fn errors(&self) -> Vec<ErrorRecord> {
        self.stderr
            .lines()
            .filter(|l| l.starts_with("{\"Message\""))
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("bad error record {l}: {e}"))
            })
            .collect()
    }

    /// The only error record.
    pub fn error(&self) -> ErrorRecord {
        let mut e = self.errors();
        assert_eq!(e.len(), 1, "expected exactly one error: {self:#?}");
        e.pop().unwrap()
    }

    /// stdout as JSON Lines of `T`; every line must be one compact object.
    pub fn objects<T: DeserializeOwned>(&self) -> Vec<T> {
        self.stdout
            .lines()
            .map(|l| {
                assert!(
                    l.starts_with('{') && l.ends_with('}'),
                    "not one object per line: {l}"
                );
                serde_json::from_str(l).unwrap_or_else(|e| panic!("bad output line {l}: {e}"))
            })
            .collect()
    }

    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "unexpected exit code: {self:#?}");
        self
    }

    /// A binding error: exit 2, one error record with this message, id and category, and no
    /// binding trace and no output (nothing was done).
    #[track_caller]
    pub fn assert_binding_error(
        &self,
        cmdlet: &str,
        id: &str,
        category: &str,
        message: &str,
    ) -> ErrorRecord {
        self.assert_code(2);
        assert!(
            !self.has_trace(),
            "binding failed, yet a trace was printed: {self:#?}"
        );
        assert_eq!(self.stdout, "", "a binding error prints no output");
        let e = self.error();
        assert_eq!(e.message, message);
        assert_eq!(e.fully_qualified_error_id, format!("{id},{cmdlet}"));
        assert_eq!(e.category, category);
        e
    }
}

/// A parameter's value in the trace, or panics naming what is there.
#[track_caller]
pub fn param<'a>(t: &'a Trace, name: &str) -> &'a serde_json::Value {
    t.parameters
        .get(name)
        .unwrap_or_else(|| panic!("{name} is not bound: {:?}", t.parameters))
}

/// The names of the bound parameters, sorted.
pub fn bound_names(t: &Trace) -> Vec<String> {
    let mut v: Vec<String> = t.parameters.keys().cloned().collect();
    v.sort();
    v
}

/// Matches `yyyy-MM-ddTHH:mm:ssZ` exactly.
pub fn is_json_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}
