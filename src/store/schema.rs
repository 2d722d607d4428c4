//! Schema versions: `PRAGMA user_version` counts the migrations applied; each runs in one transaction.

use super::{StoreError, StoreResult};
use rusqlite::Connection;

/// Append-only: a released migration is never edited.
pub const MIGRATIONS: &[&str] = &[
    // 1: the first release
    "CREATE TABLE requests (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created TEXT NOT NULL,
        computer TEXT,
        uses TEXT NOT NULL,
        subject TEXT NOT NULL,
        sans TEXT NOT NULL,
        output TEXT,
        status TEXT NOT NULL,
        key_alg TEXT NOT NULL,
        key_size INTEGER NOT NULL,
        exportable INTEGER NOT NULL,
        friendly_name TEXT,
        template TEXT,
        csr_der BLOB NOT NULL,
        spki_der BLOB NOT NULL,
        key_pkcs8 BLOB NOT NULL,
        thumbprint TEXT
    );
    CREATE INDEX requests_spki ON requests(spki_der);
    CREATE TABLE certificates (
        thumbprint TEXT PRIMARY KEY,
        der BLOB NOT NULL,
        chain BLOB NOT NULL,
        key_pkcs8 BLOB,
        exportable INTEGER NOT NULL,
        friendly_name TEXT,
        request_id INTEGER,
        added TEXT NOT NULL,
        spki_der BLOB NOT NULL
    );
    CREATE TABLE assignments (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        scope TEXT NOT NULL,
        use_name TEXT NOT NULL,
        thumbprint TEXT NOT NULL REFERENCES certificates(thumbprint),
        effective TEXT NOT NULL,
        rolled INTEGER NOT NULL,
        updated TEXT NOT NULL
    );
    CREATE INDEX assignments_scope_use ON assignments(scope, use_name);
    CREATE TABLE topology (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        xml TEXT NOT NULL,
        published TEXT NOT NULL
    );",
    // 2: ACME accounts (one per directory and contact) and the orders behind pending requests
    "CREATE TABLE acme_accounts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        directory TEXT NOT NULL,
        contact TEXT NOT NULL,
        url TEXT NOT NULL,
        credentials TEXT NOT NULL,
        created TEXT NOT NULL,
        UNIQUE (directory, contact)
    );
    CREATE TABLE acme_orders (
        request_id INTEGER PRIMARY KEY REFERENCES requests(id) ON DELETE CASCADE,
        account_id INTEGER NOT NULL REFERENCES acme_accounts(id),
        order_url TEXT NOT NULL,
        ca_bundle TEXT,
        created TEXT NOT NULL
    );",
    // 3: every stored certificate and chain certificate by subject, so that an issuer is one
    // indexed look-up however many certificates the store holds (filled by `after`)
    "CREATE TABLE issuer_pool (
        subject BLOB NOT NULL,
        der BLOB NOT NULL UNIQUE
    );
    CREATE INDEX issuer_pool_subject ON issuer_pool(subject);",
    // 4: the store records that its keys are protected by a password (salt and PBKDF2
    // verifier), so that no process stores a key in the clear afterwards
    "CREATE TABLE key_protection (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        salt BLOB NOT NULL,
        verifier BLOB NOT NULL,
        rounds INTEGER NOT NULL
    );",
    // 5: certificates revoked through ACME (RFC 8555 7.6): when, why, and whose key signed it
    "CREATE TABLE revocations (
        thumbprint TEXT PRIMARY KEY,
        reason TEXT NOT NULL,
        revoked TEXT NOT NULL,
        signed_by TEXT NOT NULL
    );",
    // 6: how each certificate was made (its source, for renewal), the certificate it renews,
    // and the renewal state of a certificate (ARI window, the offline request written for it)
    "CREATE TABLE cert_sources (
        thumbprint TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        settings TEXT NOT NULL,
        renews TEXT,
        created TEXT NOT NULL
    );
    CREATE INDEX cert_sources_renews ON cert_sources(renews);
    CREATE TABLE renewal_state (
        thumbprint TEXT PRIMARY KEY,
        ari_start TEXT,
        ari_end TEXT,
        ari_moment TEXT,
        ari_next_check TEXT,
        offline_request_id INTEGER,
        updated TEXT NOT NULL
    );",
];

/// Work a migration needs beyond SQL, run in its transaction: filling a new index from the
/// rows already stored.
fn after(migration: usize, tx: &rusqlite::Transaction<'_>) -> StoreResult<()> {
    if migration == 3 {
        let mut st = tx.prepare("SELECT der, chain FROM certificates")?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let der: Vec<u8> = r.get(0)?;
            let chain: Vec<u8> = r.get(1)?;
            super::index_issuers(tx, std::iter::once(der).chain(super::split_der(&chain)))?;
        }
    }
    Ok(())
}

pub fn migrate(conn: &mut Connection, path: &std::path::Path) -> StoreResult<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > MIGRATIONS.len() as i64 {
        return Err(StoreError::TooNew(version));
    }
    if version == 0 {
        // Tables without a version: not a store cscert made (or a damaged one). Migrating would
        // fail half-way with SQL in the message; say what it is instead.
        let tables: i64 = conn.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            [],
            |r| r.get(0),
        )?;
        if tables > 0 {
            return Err(StoreError::Unversioned(path.to_path_buf()));
        }
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Another process may have migrated while we waited for the write lock.
        let now: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if now > i as i64 {
            continue;
        }
        tx.execute_batch(sql)?;
        after(i + 1, &tx)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}
