//! ACME state in the store: accounts (credentials with their private key, one per directory and
//! contact) and the order behind each request made through an ACME CA.

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

impl Tx<'_> {
    pub fn acme_account(
        &self,
        directory: &str,
        contact: &str,
    ) -> StoreResult<Option<AcmeAccountRow>> {
        let sql = format!(
            "SELECT {ACCOUNT_COLS} FROM acme_accounts WHERE directory = ?1 AND contact = ?2"
        );
        Ok(self
            .0
            .query_row(&sql, params![directory, contact], account_row)
            .optional()?)
    }

    pub fn acme_account_by_id(&self, id: i64) -> StoreResult<Option<AcmeAccountRow>> {
        let sql = format!("SELECT {ACCOUNT_COLS} FROM acme_accounts WHERE id = ?1");
        Ok(self
            .0
            .query_row(&sql, params![id], account_row)
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
        self.0.execute(
            "INSERT INTO acme_accounts (directory, contact, url, credentials, created) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![directory, contact, url, credentials, ts(created)],
        )?;
        Ok(self.0.last_insert_rowid())
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
    use super::super::{NewRequest, Store};
    use super::*;

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
