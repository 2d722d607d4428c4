//! ACME state in the store: accounts (credentials with their private key, one per directory and
//! contact), the order behind each request made through an ACME CA, and revocations.
//!
//! An account's key is kept like every other private key: encrypted PKCS#8 when
//! `CSCERT_STORE_PASSWORD` is set (the `key_pkcs8` of instant-acme's credentials JSON holds the
//! encrypted DER then), and opened again only when the account is read for use.

use super::{parse_ts, request_row, ts, RequestRow, StoreResult, Tx, REQUEST_COLS};
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

/// An ACME account. `credentials` is instant-acme's JSON (account URL, PKCS#8 key, directory).
#[derive(Clone)]
pub struct AcmeAccountRow {
    pub id: i64,
    pub directory: String,
    pub contact: String,
    pub url: String,
    pub credentials: String,
    pub created: DateTime<Utc>,
}

// The credentials hold the account key: never print them through Debug.
impl std::fmt::Debug for AcmeAccountRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AcmeAccountRow")
            .field("id", &self.id)
            .field("directory", &self.directory)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// The ACME order of a request, with the trust it was made under.
#[derive(Debug, Clone)]
pub struct AcmeOrderRow {
    pub request_id: i64,
    pub account_id: i64,
    pub order_url: String,
    pub ca_bundle: Option<String>,
    pub created: DateTime<Utc>,
}

const ACCOUNT_COLS: &str = "id, directory, contact, url, credentials, created";

fn account_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AcmeAccountRow> {
    Ok(AcmeAccountRow {
        id: r.get(0)?,
        directory: r.get(1)?,
        contact: r.get(2)?,
        url: r.get(3)?,
        credentials: r.get(4)?,
        created: parse_ts(&r.get::<_, String>(5)?)?,
    })
}

/// A revocation recorded in the store.
#[derive(Debug, Clone)]
pub struct RevocationRow {
    pub thumbprint: String,
    /// RFC 5280 reason name (keyCompromise, superseded, ...).
    pub reason: String,
    pub revoked: DateTime<Utc>,
    /// "account" or "certificate key": which key signed the revocation request.
    pub signed_by: String,
}

/// The key inside instant-acme's credentials JSON, and a way to put another one in its place.
pub(super) fn credentials_key(credentials: &str) -> Option<(serde_json::Value, Vec<u8>)> {
    use base64::Engine;
    let v: serde_json::Value = serde_json::from_str(credentials).ok()?;
    let k = v.get("key_pkcs8")?.as_str()?;
    let der = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(k.trim_end_matches('='))
        .ok()?;
    Some((v, der))
}

pub(super) fn with_key(mut v: serde_json::Value, der: &[u8]) -> String {
    use base64::Engine;
    v["key_pkcs8"] = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(der)
        .into();
    v.to_string()
}

impl Tx<'_> {
    /// The credentials as stored: their key sealed (see [`Tx::seal_key`]).
    fn seal_credentials(&self, credentials: &str) -> StoreResult<String> {
        match credentials_key(credentials) {
            Some((v, der)) => Ok(with_key(v, &self.seal_key(&der)?)),
            None => Ok(credentials.to_string()),
        }
    }

    /// The credentials for use: their key opened.
    fn open_credentials(&self, mut row: AcmeAccountRow) -> StoreResult<AcmeAccountRow> {
        if let Some((v, der)) = credentials_key(&row.credentials) {
            if crate::pki::pfx::is_encrypted_pkcs8(&der) {
                row.credentials = with_key(v, &self.open_key(&der)?);
            }
        }
        Ok(row)
    }

    pub fn acme_account(
        &self,
        directory: &str,
        contact: &str,
    ) -> StoreResult<Option<AcmeAccountRow>> {
        let sql = format!(
            "SELECT {ACCOUNT_COLS} FROM acme_accounts WHERE directory = ?1 AND contact = ?2"
        );
        self.0
            .query_row(&sql, params![directory, contact], account_row)
            .optional()?
            .map(|r| self.open_credentials(r))
            .transpose()
    }

    pub fn acme_account_by_id(&self, id: i64) -> StoreResult<Option<AcmeAccountRow>> {
        let sql = format!("SELECT {ACCOUNT_COLS} FROM acme_accounts WHERE id = ?1");
        self.0
            .query_row(&sql, params![id], account_row)
            .optional()?
            .map(|r| self.open_credentials(r))
            .transpose()
    }

    /// The account that ordered a certificate (through its request), if any.
    pub fn acme_account_of_request(&self, request_id: i64) -> StoreResult<Option<AcmeAccountRow>> {
        let id: Option<i64> = self
            .0
            .query_row(
                "SELECT account_id FROM acme_orders WHERE request_id = ?1",
                params![request_id],
                |r| r.get(0),
            )
            .optional()?;
        match id {
            Some(id) => self.acme_account_by_id(id),
            None => Ok(None),
        }
    }

    /// The CA bundle the order behind a request was made with.
    pub fn acme_order_bundle(&self, request_id: i64) -> StoreResult<Option<String>> {
        Ok(self
            .0
            .query_row(
                "SELECT ca_bundle FROM acme_orders WHERE request_id = ?1",
                params![request_id],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    pub fn insert_revocation(&self, r: &RevocationRow) -> StoreResult<()> {
        self.0.execute(
            "INSERT OR REPLACE INTO revocations (thumbprint, reason, revoked, signed_by) VALUES (?1, ?2, ?3, ?4)",
            params![r.thumbprint, r.reason, ts(r.revoked), r.signed_by],
        )?;
        Ok(())
    }

    pub fn revocation(&self, thumbprint: &str) -> StoreResult<Option<RevocationRow>> {
        Ok(self
            .0
            .query_row(
                "SELECT thumbprint, reason, revoked, signed_by FROM revocations WHERE thumbprint = ?1 COLLATE NOCASE",
                params![thumbprint],
                |r| {
                    Ok(RevocationRow {
                        thumbprint: r.get(0)?,
                        reason: r.get(1)?,
                        revoked: parse_ts(&r.get::<_, String>(2)?)?,
                        signed_by: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    pub fn insert_acme_account(
        &self,
        directory: &str,
        contact: &str,
        url: &str,
        credentials: &str,
        created: DateTime<Utc>,
    ) -> StoreResult<i64> {
        let credentials = self.seal_credentials(credentials)?;
        self.0.execute(
            "INSERT INTO acme_accounts (directory, contact, url, credentials, created) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![directory, contact, url, credentials, ts(created)],
        )?;
        Ok(self.0.last_insert_rowid())
    }

    /// A new account (URL, credentials) in place of one the CA no longer knows; the orders
    /// made with the old one keep pointing at this row.
    pub fn replace_acme_account(
        &self,
        id: i64,
        url: &str,
        credentials: &str,
        created: DateTime<Utc>,
    ) -> StoreResult<()> {
        let credentials = self.seal_credentials(credentials)?;
        self.0.execute(
            "UPDATE acme_accounts SET url = ?2, credentials = ?3, created = ?4 WHERE id = ?1",
            params![id, url, credentials, ts(created)],
        )?;
        Ok(())
    }

    pub fn insert_acme_order(&self, o: &AcmeOrderRow) -> StoreResult<()> {
        self.0.execute(
            "INSERT INTO acme_orders (request_id, account_id, order_url, ca_bundle, created) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![o.request_id, o.account_id, o.order_url, o.ca_bundle, ts(o.created)],
        )?;
        Ok(())
    }

    /// Pending requests that have an ACME order (narrowed to one request id when given).
    pub fn pending_acme_orders(
        &self,
        id: Option<i64>,
    ) -> StoreResult<Vec<(RequestRow, AcmeOrderRow)>> {
        let cols: String = REQUEST_COLS
            .split(", ")
            .map(|c| format!("r.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {cols}, o.request_id, o.account_id, o.order_url, o.ca_bundle, o.created
             FROM requests r JOIN acme_orders o ON o.request_id = r.id
             WHERE r.status = 'Pending' AND (?1 IS NULL OR r.id = ?1) ORDER BY r.id"
        );
        let mut st = self.0.prepare(&sql)?;
        let rows = st
            .query_map(params![id], |r| {
                let req = request_row(r)?;
                let n = REQUEST_COLS.split(", ").count();
                Ok((
                    req,
                    AcmeOrderRow {
                        request_id: r.get(n)?,
                        account_id: r.get(n + 1)?,
                        order_url: r.get(n + 2)?,
                        ca_bundle: r.get(n + 3)?,
                        created: parse_ts(&r.get::<_, String>(n + 4)?)?,
                    },
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// How many ACME accounts the store holds (tests and -Verbose).
    pub fn acme_account_count(&self) -> StoreResult<i64> {
        Ok(self
            .0
            .query_row("SELECT COUNT(*) FROM acme_accounts", [], |r| r.get(0))?)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{NewRequest, Store, StoreError};
    use super::*;

    #[test]
    fn a_store_password_change_re_encrypts_the_acme_account_key() {
        use base64::Engine;
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("s");
        let key = rcgen::KeyPair::generate().unwrap().serialize_der();
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&key);
        let credentials = format!("{{\"id\":\"https://ca/acct/1\",\"key_pkcs8\":\"{b64}\"}}");
        let stored = |s: &mut Store| -> String {
            s.read(|tx| {
                tx.0.query_row("SELECT credentials FROM acme_accounts", [], |r| r.get(0))
                    .map_err(StoreError::from)
            })
            .unwrap()
        };
        let opened = |s: &mut Store| -> Vec<u8> {
            let row = s
                .read(|tx| tx.acme_account("https://ca/dir", "mailto:a@b"))
                .unwrap()
                .unwrap();
            credentials_key(&row.credentials).unwrap().1
        };
        let mut s = Store::open_with(&dir, Some("old password")).unwrap();
        s.write(|tx| -> StoreResult<()> {
            tx.insert_acme_account(
                "https://ca/dir",
                "mailto:a@b",
                "u",
                &credentials,
                Utc::now(),
            )?;
            tx.commit()
        })
        .unwrap();
        assert!(
            !stored(&mut s).contains(&b64),
            "the account key is sealed at rest"
        );
        assert_eq!(opened(&mut s), key);
        s.write(|tx| -> StoreResult<()> {
            tx.change_key_password(Some("new password"))?;
            tx.commit()
        })
        .unwrap();
        drop(s);
        let mut s = Store::open_with(&dir, Some("new password")).unwrap();
        assert_eq!(
            opened(&mut s),
            key,
            "the new password opens the account key"
        );
        drop(s);
        let mut s = Store::open_with(&dir, Some("old password")).unwrap();
        assert!(s
            .read(|tx| tx.acme_account("https://ca/dir", "mailto:a@b"))
            .is_err());
    }

    #[test]
    fn orders_follow_their_request() {
        let t = tempfile::tempdir().unwrap();
        // A folder the store makes (owner-only): an existing one open to others is refused.
        let mut s = Store::open(&t.path().join("s")).unwrap();
        let now = Utc::now();
        s.write(|tx| -> StoreResult<()> {
            let a = tx.insert_acme_account(
                "https://ca/dir",
                "mailto:a@b",
                "https://ca/acct/1",
                "{}",
                now,
            )?;
            let id = tx.insert_request(&NewRequest {
                created: now,
                computer: None,
                uses: "Default",
                subject: "CN=x",
                sans: &["x".into()],
                output: None,
                key_alg: "RSA",
                key_size: 2048,
                exportable: false,
                friendly_name: None,
                template: None,
                csr_der: &[1],
                spki_der: &[2],
                key_pkcs8: &[3],
            })?;
            tx.insert_acme_order(&AcmeOrderRow {
                request_id: id,
                account_id: a,
                order_url: "https://ca/order/1".into(),
                ca_bundle: None,
                created: now,
            })?;
            assert_eq!(tx.pending_acme_orders(None)?.len(), 1);
            assert_eq!(tx.pending_acme_orders(Some(id + 1))?.len(), 0);
            assert_eq!(
                tx.acme_account("https://ca/dir", "mailto:a@b")?
                    .unwrap()
                    .url,
                "https://ca/acct/1"
            );
            tx.delete_requests(Some(id))?;
            assert_eq!(tx.pending_acme_orders(None)?.len(), 0);
            tx.commit()
        })
        .unwrap();
    }
}
