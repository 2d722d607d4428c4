//! The certificate lifecycle lab (`Lab`: a [`Sandbox`] acting as `sip.contoso.com`, JSON error
//! records) and the test-owned shapes of the JSON objects (`deny_unknown_fields`, so a renamed
//! or added property fails a test).

use super::{Sandbox, TestCa};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::fmt;

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
    /// `Passed`, or `Warning` when it expires within 30 days.
    pub status: String,
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

lab! {
    /// The lifecycle lab: the one sandbox, acting as [`COMPUTER`], run in its own folder.
    Lab = (".tmp", COMPUTER, true)
}

impl Lab {
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

    /// Issues an exportable ECDH_P256 certificate for `use_` from the lab CA at `now`
    /// (Request-CsCertificate -CA, with -ValidityDays when given); returns its thumbprint.
    pub fn issue(&self, ca: &TestCa, now: &str, use_: &str, validity_days: Option<u32>) -> String {
        self.issue_stored(ca, now, use_, validity_days).thumbprint
    }

    /// [`Lab::issue`], returning the whole certificate object.
    pub fn issue_stored(
        &self,
        ca: &TestCa,
        now: &str,
        use_: &str,
        validity_days: Option<u32>,
    ) -> Stored {
        let days = validity_days.map(|d| d.to_string());
        let ca_dir = ca.dir_s();
        let mut args = vec![
            "Request-CsCertificate",
            "-New",
            "-Type",
            use_,
            "-ComputerFqdn",
            COMPUTER,
            "-KeyAlg",
            "ECDH_P256",
            "-PrivateKeyExportable",
            "True",
            "-CA",
            &ca_dir,
        ];
        if let Some(d) = &days {
            args.extend(["-ValidityDays", d]);
        }
        self.ok_at(now, &args).one()
    }

    /// An EC P-256 test CA (rcgen): `<name>/ca.crt` and `<name>/ca.key` in a folder of their
    /// own (a lab CA for `-CA <folder>`), subject `C=US, O=Contoso, Inc, CN=<cn>`.
    pub fn make_ca(&self, name: &str, cn: &str, days: u32) -> TestCa {
        TestCa::new(
            &self.path(name),
            &[("C", "US"), ("O", "Contoso, Inc"), ("CN", cn)],
            days,
        )
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

    /// A key and certificate cscert never saw: `<stem>.key` and `<stem>.cer` for `cn` (also its
    /// DNS SAN), signed by `ca` (rcgen), valid for 60 days from now.
    pub fn foreign_cert(&self, ca: &TestCa, stem: &str, cn: &str) {
        ca.leaf(self.root(), stem, cn, &[cn], 60);
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
