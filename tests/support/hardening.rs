//! The lab of the hardening, fuzz and crash tests (`H`: a [`Sandbox`] acting as
//! `fe.contoso.com`, JSON error records), an rcgen test CA, and direct looks into the store.

use super::{Sandbox, TestCa};

/// The computer every run acts as.
pub const COMPUTER: &str = "fe.contoso.com";

/// `Request-CsCertificate -New -Type Default -ComputerFqdn <cn>`, then `extra`.
pub fn new_request<'a>(cn: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "Request-CsCertificate",
        "-New",
        "-Type",
        "Default",
        "-ComputerFqdn",
        cn,
    ];
    v.extend_from_slice(extra);
    v
}

lab! {
    /// The hardening lab.
    H = ("cscert-hard-", COMPUTER, true)
}

impl H {
    /// See [`Sandbox::exec`].
    pub fn exec(c: std::process::Command, stdin: Option<&[u8]>) -> super::Run {
        Sandbox::exec(c, stdin)
    }

    /// An EC P-256 CA (rcgen) in the folder `name` (a `-CA` value), subject
    /// `O=Contoso, CN=<name> Test CA`.
    pub fn ca(&self, name: &str, days: u32) -> String {
        let ca = TestCa::new(
            &self.path(name),
            &[("O", "Contoso"), ("CN", &format!("{name} Test CA"))],
            days,
        );
        ca.dir_s()
    }

    /// Has the lab CA issue a certificate for `cn` (stored with its key); returns the thumbprint.
    pub fn issue(&self, ca: &str, cn: &str, exportable: bool) -> String {
        let exportable = if exportable { "$true" } else { "$false" };
        let r = self.ok(&new_request(
            cn,
            &[
                "-KeyAlg",
                "ECDH_P256",
                "-CA",
                ca,
                "-PrivateKeyExportable",
                exportable,
            ],
        ));
        r.lines()[0]["Thumbprint"].as_str().unwrap().to_string()
    }

    fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.store().join("cscert.db")).unwrap()
    }

    /// Rows in the requests table (0 when there is no store).
    pub fn requests(&self) -> i64 {
        self.rows("requests")
    }

    /// Rows in the certificates table (0 when there is no store).
    pub fn certificates(&self) -> i64 {
        self.rows("certificates")
    }

    fn rows(&self, table: &str) -> i64 {
        if !self.store().join("cscert.db").exists() {
            return 0;
        }
        self.db()
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap_or(0)
    }

    /// Runs SQL on the store directly (to plant damage an attacker or a disk could cause).
    pub fn sql(&self, sql: &str) {
        self.db().execute_batch(sql).unwrap();
    }
}
