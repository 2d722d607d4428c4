//! A lab for the hardening, fuzz and crash tests: a temp folder with a store, the built binary
//! (or `CSCERT_TEST_BIN`), an openssl test CA, and the error records cscert prints.

#![allow(dead_code)]

use serde::Deserialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The computer every run acts as.
pub const COMPUTER: &str = "fe.contoso.com";

/// The binary under test: `CSCERT_TEST_BIN` when set (a build of older code), else this build.
pub fn bin() -> PathBuf {
    std::env::var_os("CSCERT_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_cscert")))
}

#[derive(Debug, Deserialize, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct ErrorRecord {
    pub message: String,
    pub fully_qualified_error_id: String,
    pub category: String,
    pub target_object: Option<String>,
}

#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn errors(&self) -> Vec<ErrorRecord> {
        self.stderr
            .lines()
            .filter(|l| l.starts_with("{\"Message\""))
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    #[track_caller]
    pub fn error(&self) -> ErrorRecord {
        let e = self.errors();
        assert_eq!(e.len(), 1, "expected one error record: {self:#?}");
        e[0].clone()
    }

    pub fn lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }
}

pub struct H {
    pub dir: tempfile::TempDir,
}

impl Default for H {
    fn default() -> Self {
        Self::new()
    }
}

impl H {
    pub fn new() -> H {
        H {
            dir: tempfile::Builder::new()
                .prefix("cscert-hard-")
                .tempdir()
                .unwrap(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn p(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    pub fn store(&self) -> PathBuf {
        self.path("store")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(bin());
        c.args(args)
            .current_dir(self.dir.path())
            .env("CSCERT_STORE", self.store())
            .env("CSCERT_COMPUTERFQDN", COMPUTER)
            .env("CSCERT_ERROR_FORMAT", "json")
            .env("TZ", "UTC")
            .env_remove("CSCERT_PASSWORD")
            .env_remove("CSCERT_STORE_PASSWORD")
            .env_remove("CSCERT_NOW")
            .env_remove("CSCERT_DEBUG_BINDING")
            .stdin(Stdio::null());
        c
    }

    pub fn exec(mut c: Command, stdin: Option<&[u8]>) -> Run {
        let o = match stdin {
            None => c.output().expect("cscert runs"),
            Some(input) => {
                c.stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped());
                let mut child = c.spawn().expect("cscert runs");
                let mut sin = child.stdin.take().unwrap();
                let input = input.to_vec();
                let w = std::thread::spawn(move || {
                    let _ = sin.write_all(&input);
                });
                let o = child.wait_with_output().unwrap();
                w.join().unwrap();
                o
            }
        };
        Run {
            code: o
                .status
                .code()
                .unwrap_or_else(|| panic!("cscert died by a signal: {o:?}")),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Self::exec(self.command(args), None)
    }

    pub fn run_env(&self, env: &[(&str, &str)], args: &[&str]) -> Run {
        let mut c = self.command(args);
        for (k, v) in env {
            c.env(k, v);
        }
        Self::exec(c, None)
    }

    /// Runs with `input` piped on stdin (answers to a confirmation prompt).
    pub fn run_stdin(&self, input: &str, args: &[&str]) -> Run {
        Self::exec(self.command(args), Some(input.as_bytes()))
    }

    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> Run {
        let r = self.run(args);
        assert_eq!(r.code, 0, "cscert {args:?} failed: {r:#?}");
        r
    }

    /// An EC P-256 CA made by openssl in the folder `name` (a `-CA` value).
    pub fn ca(&self, name: &str, days: u32) -> String {
        let dir = self.path(name);
        std::fs::create_dir_all(&dir).unwrap();
        openssl(
            self.dir.path(),
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-noenc",
                "-keyout",
                &dir.join("ca.key").display().to_string(),
                "-out",
                &dir.join("ca.crt").display().to_string(),
                "-subj",
                &format!("/O=Contoso/CN={name} Test CA"),
                "-days",
                &days.to_string(),
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        );
        dir.display().to_string()
    }

    /// Has the lab CA issue a certificate for `cn` (stored with its key); returns the thumbprint.
    pub fn issue(&self, ca: &str, cn: &str, exportable: bool) -> String {
        let r = self.ok(&[
            "Request-CsCertificate",
            "-New",
            "-Type",
            "Default",
            "-ComputerFqdn",
            cn,
            "-KeyAlg",
            "ECDH_P256",
            "-CA",
            ca,
            "-PrivateKeyExportable",
            if exportable { "$true" } else { "$false" },
        ]);
        r.lines()[0]["Thumbprint"].as_str().unwrap().to_string()
    }

    fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.store().join("cscert.db")).unwrap()
    }

    /// Rows in the requests table (0 when there is no store).
    pub fn requests(&self) -> i64 {
        if !self.store().join("cscert.db").exists() {
            return 0;
        }
        self.db()
            .query_row("SELECT count(*) FROM requests", [], |r| r.get(0))
            .unwrap_or(0)
    }

    pub fn certificates(&self) -> i64 {
        if !self.store().join("cscert.db").exists() {
            return 0;
        }
        self.db()
            .query_row("SELECT count(*) FROM certificates", [], |r| r.get(0))
            .unwrap_or(0)
    }

    /// Runs SQL on the store directly (to plant damage an attacker or a disk could cause).
    pub fn sql(&self, sql: &str) {
        self.db().execute_batch(sql).unwrap();
    }
}

/// Runs openssl in `dir`; requires success; returns stdout.
#[track_caller]
pub fn openssl(dir: &Path, args: &[&str]) -> String {
    let o = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("openssl is installed");
    assert!(
        o.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}
