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
    // 3: how each certificate was made (its source, for renewal), the certificate it renews,
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
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}
