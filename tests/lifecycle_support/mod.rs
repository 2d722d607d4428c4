//! Helpers of the certificate lifecycle tests: a lab (temp folder, store, this computer) that runs
//! the built `cscert` the way a script would, an openssl test CA, and the test-owned shapes of
//! the JSON objects (`deny_unknown_fields`, so a renamed or added property fails a test).

#![allow(dead_code)]

use assert_cmd::Command;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// The computer every lab acts as (`CSCERT_COMPUTERFQDN`), so results do not depend on the host.
pub const COMPUTER: &str = "sip.contoso.com";

/// Get-CsCertificate's property names, in the order Lync shows them.
pub const ASSIGNED_KEYS: [&str; 12] = [
    "Issuer",
    "NotAfter",
    "NotBefore",
    "SerialNumber",
    "Subject",
    "AlternativeNames",
    "Thumbprint",
    "EffectiveTime",
    "PreviousThumbprint",
    "UpdateTime",
    "Use",
    "SourceScope",
];

/// Get-CsCertificate's object, as this test suite expects it.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct Assigned {
    pub issuer: String,
    pub not_after: String,
    pub not_before: String,
    pub serial_number: String,
    pub subject: String,
    pub alternative_names: Vec<String>,
    pub thumbprint: String,
    pub effective_time: Option<String>,
    pub previous_thumbprint: Option<String>,
    pub update_time: Option<String>,
    #[serde(rename = "Use")]
    pub use_name: String,
    pub source_scope: Option<String>,
}

/// The certificate object of Import-CsCertificate, Request-CsCertificate -CA and
/// Export-CsCertificate.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct Stored {
    pub issuer: String,
    pub not_after: String,
    pub not_before: String,
    pub serial_number: String,
    pub subject: String,
    pub alternative_names: Vec<String>,
    pub thumbprint: String,
    /// These five only in Request-CsCertificate -CA's object (Lync's online request shape).
    pub effective_time: Option<String>,
    pub previous_thumbprint: Option<String>,
    pub update_time: Option<String>,
    #[serde(rename = "Use")]
    pub uses: Option<Vec<String>>,
    pub source_scope: Option<String>,
    pub friendly_name: Option<String>,
    pub has_private_key: bool,
    pub private_key_exportable: bool,
    pub request_id: Option<i64>,
    pub request_status: Option<String>,
}

/// Test-CsCertificateConfiguration's object.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct InOrder {
    pub thumbprint: String,
    #[serde(rename = "Use")]
    pub use_name: String,
}

/// The fields of a request line (-List / -Retrieve) these tests look at.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct RequestLine {
    pub request_id: i64,
    pub certificate_uses: Vec<String>,
    pub request_status: String,
    pub thumbprint: Option<String>,
}

/// One stderr error record of `CSCERT_ERROR_FORMAT=json`.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct ErrorRecord {
    pub message: String,
    pub fully_qualified_error_id: String,
    pub category: String,
}

/// The top-level keys of one JSON object, in the order they appear in the text.
pub struct KeyOrder(pub Vec<String>);

impl<'de> Deserialize<'de> for KeyOrder {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KeyOrder;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<KeyOrder, A::Error> {
                let mut keys = Vec::new();
                while let Some(k) = m.next_key::<String>()? {
                    m.next_value::<IgnoredAny>()?;
                    keys.push(k);
                }
                Ok(KeyOrder(keys))
            }
        }
        d.deserialize_map(V)
    }
}

/// What one run of cscert gave.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout as JSON Lines, each parsed into `T`.
    pub fn objects<T: for<'de> Deserialize<'de>>(&self) -> Vec<T> {
        self.stdout
            .lines()
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("stdout line is not the expected object: {e}\n{l}"))
            })
            .collect()
    }

    pub fn one<T: for<'de> Deserialize<'de>>(&self) -> T {
        let mut v = self.objects::<T>();
        assert_eq!(v.len(), 1, "expected one object, stdout:\n{}", self.stdout);
        v.remove(0)
    }

    /// The JSON error records on stderr (the lab sets `CSCERT_ERROR_FORMAT=json` when asked).
    pub fn errors(&self) -> Vec<ErrorRecord> {
        self.stderr
            .lines()
            .filter(|l| l.starts_with('{'))
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }
}

/// A temp folder with a store, in which cscert and openssl run.
pub struct Lab {
    pub dir: tempfile::TempDir,
    /// `CSCERT_NOW` for every cscert run, unless a run says otherwise.
    pub now: Option<String>,
}

impl Default for Lab {
    fn default() -> Self {
        Self::new()
    }
}

impl Lab {
    pub fn new() -> Lab {
        Lab {
            dir: tempfile::tempdir().expect("tempdir"),
            now: None,
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

    fn command(&self, args: &[&str], now: Option<&str>, json_errors: bool) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_cscert"));
        c.args(args)
            .current_dir(self.dir.path())
            .env("CSCERT_STORE", self.store())
            .env("CSCERT_COMPUTERFQDN", COMPUTER)
            .env("TZ", "UTC")
            // Dates are read in the culture of the locale (issue 11 item 8): fix it.
            .env_remove("LC_ALL")
            .env_remove("LC_TIME")
            .env("LANG", "en_US.UTF-8")
            .env_remove("CSCERT_PASSWORD")
            .env_remove("CSCERT_NOW")
            .env_remove("CSCERT_ERROR_FORMAT")
            .env_remove("CSCERT_DEBUG_BINDING")
            .write_stdin(Vec::<u8>::new());
        if let Some(n) = now.or(self.now.as_deref()) {
            c.env("CSCERT_NOW", n);
        }
        if json_errors {
            c.env("CSCERT_ERROR_FORMAT", "json");
        }
        c
    }

    fn exec(mut c: Command) -> Run {
        let o = c.output().expect("cscert runs");
        Run {
            code: o.status.code().expect("exit code"),
            stdout: String::from_utf8(o.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(o.stderr).expect("stderr is UTF-8"),
        }
    }

    /// Runs cscert (JSON error records on stderr).
    pub fn run(&self, args: &[&str]) -> Run {
        Self::exec(self.command(args, None, true))
    }

    /// Runs cscert with `CSCERT_NOW=now`.
    pub fn run_at(&self, now: &str, args: &[&str]) -> Run {
        Self::exec(self.command(args, Some(now), true))
    }

    /// Runs cscert with extra environment.
    pub fn run_env(&self, env: &[(&str, &str)], args: &[&str]) -> Run {
        let mut c = self.command(args, None, true);
        for (k, v) in env {
            c.env(k, v);
        }
        Self::exec(c)
    }

    /// Runs cscert with the human error format (`Cmdlet: message`).
    pub fn run_plain(&self, args: &[&str]) -> Run {
        Self::exec(self.command(args, None, false))
    }

    /// Runs cscert and requires exit 0.
    pub fn ok(&self, args: &[&str]) -> Run {
        let r = self.run(args);
        assert_eq!(r.code, 0, "cscert {args:?} failed:\n{}", r.stderr);
        r
    }

    pub fn ok_at(&self, now: &str, args: &[&str]) -> Run {
        let r = self.run_at(now, args);
        assert_eq!(r.code, 0, "cscert {args:?} at {now} failed:\n{}", r.stderr);
        r
    }

    /// Get-CsCertificate, each line checked for the property order, parsed.
    pub fn get(&self, extra: &[&str]) -> Vec<Assigned> {
        let mut args = vec!["Get-CsCertificate"];
        args.extend_from_slice(extra);
        let r = self.ok(&args);
        check_assigned_lines(&r.stdout)
    }

    pub fn get_at(&self, now: &str, extra: &[&str]) -> Vec<Assigned> {
        let mut args = vec!["Get-CsCertificate"];
        args.extend_from_slice(extra);
        let r = self.ok_at(now, &args);
        check_assigned_lines(&r.stdout)
    }

    /// What a failed command must not change: Get-CsCertificate and Request-CsCertificate -List.
    pub fn snapshot(&self) -> (String, String) {
        (
            self.ok(&["Get-CsCertificate"]).stdout,
            self.ok(&["Request-CsCertificate", "-List"]).stdout,
        )
    }

    /// openssl in the lab folder; requires success and returns stdout.
    pub fn openssl(&self, args: &[&str]) -> String {
        self.openssl_both(args).0
    }

    /// openssl in the lab folder; requires success and returns (stdout, stderr): `pkcs12 -info`
    /// prints what it found about the encryption on stderr.
    pub fn openssl_both(&self, args: &[&str]) -> (String, String) {
        let o = std::process::Command::new("openssl")
            .args(args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .output()
            .expect("openssl is installed");
        assert!(
            o.status.success(),
            "openssl {args:?} failed:\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        (
            String::from_utf8(o.stdout).expect("openssl output is UTF-8"),
            String::from_utf8(o.stderr).expect("openssl output is UTF-8"),
        )
    }

    /// openssl that is expected to fail; returns its exit status.
    pub fn openssl_status(&self, args: &[&str]) -> i32 {
        std::process::Command::new("openssl")
            .args(args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .output()
            .expect("openssl is installed")
            .status
            .code()
            .unwrap_or(-1)
    }

    /// An EC P-256 test CA made by openssl: `<name>/ca.crt` and `<name>/ca.key` in a folder of
    /// their own (a lab CA for `-CA <folder>`), subject `C=US, O=Contoso, Inc, CN=<cn>`.
    pub fn make_ca(&self, name: &str, cn: &str, days: u32) -> TestCa {
        let dir = self.path(name);
        std::fs::create_dir_all(&dir).unwrap();
        let cnf = self.path(&format!("{name}.cnf"));
        std::fs::write(
            &cnf,
            "[req]\ndistinguished_name=dn\nx509_extensions=v3_ca\nprompt=no\n[dn]\nCN=unused\n\
             [v3_ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n\
             subjectKeyIdentifier=hash\n",
        )
        .unwrap();
        let cert = dir.join("ca.crt");
        let key = dir.join("ca.key");
        self.openssl(&[
            "req",
            "-x509",
            "-config",
            &cnf.display().to_string(),
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-noenc",
            "-keyout",
            &key.display().to_string(),
            "-out",
            &cert.display().to_string(),
            "-subj",
            &format!("/C=US/O=Contoso, Inc/CN={cn}"),
            "-days",
            &days.to_string(),
        ]);
        TestCa { dir, cert, key }
    }

    /// Signs a PKCS#10 request with the test CA, copying its extensions (the SANs).
    pub fn sign(&self, ca: &TestCa, req: &str, out: &str, days: u32) {
        self.openssl(&[
            "x509",
            "-req",
            "-in",
            req,
            "-CA",
            &ca.cert.display().to_string(),
            "-CAkey",
            &ca.key.display().to_string(),
            "-CAcreateserial",
            "-days",
            &days.to_string(),
            "-copy_extensions",
            "copy",
            "-out",
            out,
        ]);
    }

    /// A key and certificate cscert never saw: `<stem>.key` and `<stem>.cer`, signed by `ca`.
    pub fn foreign_cert(&self, ca: &TestCa, stem: &str, cn: &str) {
        let key = format!("{stem}.key");
        let csr = format!("{stem}.csr");
        self.openssl(&[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-noenc",
            "-keyout",
            &key,
            "-subj",
            &format!("/CN={cn}"),
            "-addext",
            &format!("subjectAltName=DNS:{cn}"),
            "-out",
            &csr,
        ]);
        self.sign(ca, &csr, &format!("{stem}.cer"), 60);
    }

    /// SHA-1 fingerprint as openssl prints it, colons removed.
    pub fn fingerprint(&self, cert: &str) -> String {
        let out = self.openssl(&["x509", "-in", cert, "-noout", "-fingerprint", "-sha1"]);
        out.trim()
            .split_once('=')
            .expect("fingerprint line")
            .1
            .replace(':', "")
    }

    /// `openssl x509 -noout <field>` value (after the `=`).
    pub fn x509_field(&self, cert: &str, field: &str) -> String {
        let out = self.openssl(&["x509", "-in", cert, "-noout", field, "-dateopt", "iso_8601"]);
        out.trim()
            .split_once('=')
            .expect("field line")
            .1
            .to_string()
    }

    /// notBefore / notAfter as cscert prints dates (`yyyy-MM-ddTHH:mm:ssZ`).
    pub fn x509_date(&self, cert: &str, field: &str) -> String {
        // openssl: "2036-11-23 11:58:30Z"
        self.x509_field(cert, field).replacen(' ', "T", 1)
    }
}

pub struct TestCa {
    /// The folder holding ca.crt and ca.key (a `-CA` value).
    pub dir: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TestCa {
    pub fn cert_s(&self) -> String {
        self.cert.display().to_string()
    }
    pub fn dir_s(&self) -> String {
        self.dir.display().to_string()
    }
    /// The CA as one PEM file holding certificate and key (the other `-CA` form).
    pub fn bundle(&self, at: &Path) -> String {
        let mut pem = std::fs::read_to_string(&self.cert).unwrap();
        pem.push_str(&std::fs::read_to_string(&self.key).unwrap());
        std::fs::write(at, pem).unwrap();
        at.display().to_string()
    }
}

/// Checks each Get-CsCertificate line: the exact keys in the exact order, then parses it.
pub fn check_assigned_lines(stdout: &str) -> Vec<Assigned> {
    stdout
        .lines()
        .map(|line| {
            let keys: KeyOrder = serde_json::from_str(line).expect("a JSON object per line");
            assert_eq!(keys.0, ASSIGNED_KEYS, "property order of {line}");
            let a: Assigned = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a Get-CsCertificate object: {e}\n{line}"));
            for d in [Some(&a.not_after), Some(&a.not_before)]
                .into_iter()
                .chain([a.effective_time.as_ref(), a.update_time.as_ref()])
                .flatten()
            {
                assert_date_format(d);
            }
            a
        })
        .collect()
}

/// `yyyy-MM-ddTHH:mm:ssZ`, nothing else (no fraction, no offset).
pub fn assert_date_format(d: &str) {
    assert_eq!(d.len(), 20, "date {d:?}");
    let parsed = NaiveDateTime::parse_from_str(d, "%Y-%m-%dT%H:%M:%SZ");
    assert!(parsed.is_ok(), "date {d:?} is not yyyy-MM-ddTHH:mm:ssZ");
}

pub fn parse_date(d: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(d)
        .unwrap_or_else(|e| panic!("{d}: {e}"))
        .with_timezone(&Utc)
}

pub fn fmt_date(d: DateTime<Utc>) -> String {
    d.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The start of the day after the CA's notBefore: an instant inside the CA's validity whatever
/// day the tests run on, from which the time-dependent tests count.
pub fn epoch_after(lab: &Lab, ca: &TestCa) -> DateTime<Utc> {
    let nb = parse_date(&lab.x509_date(&ca.cert_s(), "-startdate"));
    let day = nb.date_naive().succ_opt().unwrap();
    day.and_hms_opt(0, 0, 0).unwrap().and_utc()
}
