//! The embedded store: SQLite compiled in, one file, owner-only, every change one transaction.
//!
//! Holds pending requests with their private keys, certificates (with keys where known),
//! assignments of certificates to uses per scope, and the published topology.

mod acme;
mod keys;
mod renewal;
mod schema;

pub use acme::{AcmeAccountRow, AcmeOrderRow, RevocationRow};
pub use renewal::{CertSource, RenewalState, SourceKind, SourceSettings};

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const DB_FILE: &str = "cscert.db";
const LOCK_FILE: &str = "cscert.lock";

#[derive(Debug)]
pub enum StoreError {
    Io(PathBuf, std::io::Error),
    Sql(rusqlite::Error),
    /// The store was written by a newer cscert.
    TooNew(i64),
    /// The folder or the database file can be read or written by other users.
    NotPrivate {
        path: PathBuf,
        mode: u32,
        folder: bool,
    },
    /// The database has tables but no schema version: not cscert's, or damaged.
    Unversioned(PathBuf),
    /// The store folder is read-only: reading works, this needed a change.
    ReadOnly(PathBuf),
    /// `CSCERT_STORE` names something that is not a folder (a file, a device).
    NotAFolder(PathBuf),
    /// The database path is a folder (or a device), not a file.
    DatabaseNotAFile(PathBuf),
    /// The database file is not an SQLite database (SQLITE_NOTADB).
    NotADatabase(PathBuf),
    /// The keys in the store are encrypted and `CSCERT_STORE_PASSWORD` is not set.
    KeyPasswordMissing,
    /// `CSCERT_STORE_PASSWORD` does not open the keys in the store.
    KeyPasswordWrong,
    /// `CSCERT_STORE_PASSWORD` is set but empty.
    KeyPasswordEmpty,
    /// A key could not be encrypted.
    KeyNotSealed(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Io(p, e) => write!(f, "the store at {} cannot be used: {e}", p.display()),
            StoreError::Sql(e) => write!(f, "the store failed: {e}"),
            StoreError::TooNew(v) => write!(f, "the store has schema version {v}, newer than this cscert understands ({}); upgrade cscert", schema::MIGRATIONS.len()),
            StoreError::NotPrivate { path, mode, folder: true } => write!(f, "the store folder '{}' is accessible to other users (mode {mode:04o}), and it holds private keys; cscert uses it only when it is owner-only. Fix it with: chmod 700 '{}'", path.display(), path.display()),
            StoreError::NotPrivate { path, mode, folder: false } => write!(f, "the store database '{}' is readable or writable by other users (mode {mode:04o}), and it holds private keys; cscert uses it only when it is owner-only. Fix it with: chmod 600 '{}'", path.display(), path.display()),
            StoreError::Unversioned(p) => write!(f, "the database '{}' has tables but no cscert schema version (user_version 0): it was not made by cscert, or it is damaged. Move it aside (or point CSCERT_STORE at another folder) and run the command again", p.display()),
            StoreError::ReadOnly(p) => write!(f, "the store folder '{}' is read-only: commands that only read work, this one needs to change the store. Make the folder writable for its owner (chmod u+w) or use another CSCERT_STORE", p.display()),
            StoreError::NotAFolder(p) => write!(f, "the store '{}' is not a folder: CSCERT_STORE must name a folder (cscert creates it, owner-only, with its database inside). Point CSCERT_STORE at a folder, or move the file aside", p.display()),
            StoreError::DatabaseNotAFile(p) => write!(f, "the store database '{}' is not a file (a folder or a device is in its place). Move it aside and run the command again: cscert creates a new database", p.display()),
            StoreError::NotADatabase(p) => write!(f, "the store database '{}' is not an SQLite database (\"file is not a database\"): it was not made by cscert, or it is damaged. Move it aside (or point CSCERT_STORE at another folder) and run the command again", p.display()),
            StoreError::KeyPasswordMissing => f.write_str("the private keys in the store are encrypted: set CSCERT_STORE_PASSWORD to the store's password (nothing was changed)"),
            StoreError::KeyPasswordWrong => f.write_str("CSCERT_STORE_PASSWORD is not the password the store's private keys are encrypted with (nothing was changed)"),
            StoreError::KeyPasswordEmpty => f.write_str("CSCERT_STORE_PASSWORD is set but empty; an empty password protects nothing. Set the store's password, or unset the variable"),
            StoreError::KeyNotSealed(e) => write!(f, "a private key could not be encrypted for the store: {e}"),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Io(_, e) => Some(e),
            StoreError::Sql(e) => Some(e),
            _ => None,
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Sql(e)
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

pub fn ts(d: DateTime<Utc>) -> String {
    d.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A timestamp column the store wrote with [`ts`]. One that is not a date is an error (a
/// damaged or hand-edited store), never silently 1970.
pub fn parse_ts(s: &str) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| {
            rusqlite::Error::FromSqlConversionFailure(
                0,
                rusqlite::types::Type::Text,
                format!(
                    "the store holds a timestamp that is not a date: '{}'",
                    s.escape_debug()
                        .to_string()
                        .chars()
                        .take(64)
                        .collect::<String>()
                )
                .into(),
            )
        })
}

/// A pending (or completed) request made by Request-CsCertificate.
#[derive(Debug, Clone)]
pub struct RequestRow {
    pub id: i64,
    pub created: DateTime<Utc>,
    pub computer: Option<String>,
    pub uses: String,
    pub subject: String,
    pub sans: Vec<String>,
    pub output: Option<String>,
    pub status: String,
    pub key_alg: String,
    pub key_size: i64,
    pub exportable: bool,
    pub friendly_name: Option<String>,
    pub template: Option<String>,
    pub csr_der: Vec<u8>,
    pub spki_der: Vec<u8>,
    pub thumbprint: Option<String>,
}

/// A certificate in the store. `key_pkcs8` is present when its private key is known.
#[derive(Clone)]
pub struct CertRow {
    pub thumbprint: String,
    pub der: Vec<u8>,
    pub chain: Vec<Vec<u8>>,
    pub key_pkcs8: Option<Vec<u8>>,
    pub exportable: bool,
    pub friendly_name: Option<String>,
    pub request_id: Option<i64>,
    pub added: DateTime<Utc>,
    pub spki_der: Vec<u8>,
}

// Private keys never reach a log through Debug.
impl fmt::Debug for CertRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertRow")
            .field("thumbprint", &self.thumbprint)
            .field("has_key", &self.key_pkcs8.is_some())
            .field("exportable", &self.exportable)
            .finish_non_exhaustive()
    }
}

/// One assignment of a certificate to a use at a scope, effective from a time.
#[derive(Debug, Clone)]
pub struct AssignmentRow {
    pub id: i64,
    pub scope: String,
    pub use_name: String,
    pub thumbprint: String,
    pub effective: DateTime<Utc>,
    /// Staged with `-Roll -EffectiveDate` (then EffectiveTime and UpdateTime are shown).
    pub rolled: bool,
    pub updated: DateTime<Utc>,
}

/// The password of the keys at rest (`CSCERT_STORE_PASSWORD`), and whether it was checked
/// against a key already in the store during this run.
#[derive(Default)]
struct Keys {
    password: Option<String>,
    checked: std::cell::Cell<bool>,
}

impl Drop for Keys {
    fn drop(&mut self) {
        // zeroize's writes are volatile, so the wipe is not optimised away.
        zeroize::Zeroize::zeroize(&mut self.password);
    }
}

pub struct Store {
    conn: Connection,
    dir: PathBuf,
    read_only: bool,
    /// Opened by [`Store::open_reader`]'s fast path: it cannot checkpoint when it closes.
    lockless: bool,
    keys: Keys,
}

impl Drop for Store {
    fn drop(&mut self) {
        // A writer that finished while this reader was open could not checkpoint (the reader
        // still held the file), and a read-only connection never does: if this reader closes
        // last, the log would keep its frames (old pages of replaced keys among them) until the
        // next write. So the reader does what the last writer would have done.
        if !self.lockless {
            return;
        }
        let wal = self.dir.join(format!("{DB_FILE}-wal"));
        if std::fs::metadata(&wal).map_or(true, |m| m.len() == 0) {
            return;
        }
        if let Ok(c) = Connection::open_with_flags(
            self.dir.join(DB_FILE),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        ) {
            // A writer still at work checkpoints itself when it closes: do not wait long for it.
            let _ = c.busy_timeout(Duration::from_secs(2));
            persist_wal(&c);
            let _ = c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        }
    }
}

/// Refuses a store path that is not a folder and a database path that is not a file, before
/// their modes are judged (a chmod would not help either).
fn check_kinds(dir: &Path) -> StoreResult<()> {
    if std::fs::metadata(dir).is_ok_and(|m| !m.is_dir()) {
        return Err(StoreError::NotAFolder(dir.to_path_buf()));
    }
    let db = dir.join(DB_FILE);
    if std::fs::metadata(&db).is_ok_and(|m| !m.is_file()) {
        return Err(StoreError::DatabaseNotAFile(db));
    }
    Ok(())
}

/// SQLite's "file is not a database" as an error that names the file and the remedy.
fn named(path: &Path) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |e| match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => StoreError::NotADatabase(path.to_path_buf()),
        _ => StoreError::Sql(e),
    }
}

/// Refuses a folder or file that other users can get at (as ssh does for keys).
#[cfg(unix)]
fn check_private(path: &Path, folder: bool) -> StoreResult<()> {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::metadata(path) {
        Ok(m) if m.permissions().mode() & 0o077 != 0 => Err(StoreError::NotPrivate {
            path: path.to_path_buf(),
            mode: m.permissions().mode() & 0o7777,
            folder,
        }),
        _ => Ok(()),
    }
}

#[cfg(not(unix))]
fn check_private(_path: &Path, _folder: bool) -> StoreResult<()> {
    Ok(())
}

#[cfg(unix)]
fn folder_writable(dir: &Path) -> bool {
    // access(2) answers for this user, root included, and for read-only file systems.
    match rustix::fs::access(dir, rustix::fs::Access::WRITE_OK) {
        Ok(()) => true,
        // A path access(2) cannot take (a NUL inside): let the open decide.
        Err(e) => e == rustix::io::Errno::INVAL,
    }
}

#[cfg(not(unix))]
fn folder_writable(_dir: &Path) -> bool {
    true
}

/// A read-only folder (or file system): the lock file cannot be made.
fn is_read_only_error(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
    )
}

/// A path as an SQLite URI (`file:` with the characters that URIs reserve escaped).
fn sqlite_uri(path: &Path, query: &str) -> String {
    let mut u = String::from("file:");
    for b in path.to_string_lossy().bytes() {
        match b {
            b'%' | b'?' | b'#' => u.push_str(&format!("%{b:02X}")),
            _ => u.push(b as char),
        }
    }
    u.push('?');
    u.push_str(query);
    u
}

#[cfg(unix)]
fn make_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn make_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// Creates the database file owner-only before SQLite opens it (SQLite gives its -wal and -shm
/// files the same mode).
#[cfg(unix)]
fn make_private_file(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(not(unix))]
fn make_private_file(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Keeps the -wal and -shm files when the last connection closes, so the next process (most
/// cscert runs only read) opens them instead of creating, sizing and deleting them again. With
/// `journal_size_limit` 0 the log is still cut to nothing when it is reset, so no old page (a
/// deleted key) stays in it.
fn persist_wal(conn: &Connection) {
    // Best effort: without it the files are only made and removed again, as SQLite does.
    let _ = conn.pragma_update(None, "journal_size_limit", 0);
    let mut on: std::ffi::c_int = 1;
    // SAFETY: the handle is valid for the connection's lifetime; the op reads and writes one int.
    unsafe {
        rusqlite::ffi::sqlite3_file_control(
            conn.handle(),
            c"main".as_ptr(),
            rusqlite::ffi::SQLITE_FCNTL_PERSIST_WAL,
            (&mut on as *mut std::ffi::c_int).cast(),
        );
    }
}

impl Store {
    /// Opens (creating on first use) the store in `dir` and brings its schema up to date.
    /// An existing folder or database that other users can get at is refused; a read-only
    /// folder is opened read-only (reads work, writes say why they cannot).
    pub fn open(dir: &Path) -> StoreResult<Store> {
        Store::open_with(dir, std::env::var("CSCERT_STORE_PASSWORD").ok().as_deref())
    }

    /// [`Store::open`] with the password of the keys at rest given (`CSCERT_STORE_PASSWORD` as
    /// the command line read it once); an empty one is refused.
    pub fn open_with(dir: &Path, password: Option<&str>) -> StoreResult<Store> {
        let password = match password {
            Some("") => return Err(StoreError::KeyPasswordEmpty),
            Some(p) => Some(p.to_string()),
            None => None,
        };
        check_kinds(dir)?;
        if dir.exists() {
            check_private(dir, true)?;
        }
        make_private_dir(dir).map_err(|e| StoreError::Io(dir.to_path_buf(), e))?;
        let path = dir.join(DB_FILE);
        check_private(&path, false)?;
        // Opening, switching to WAL and migrating happen under a file lock: SQLite does not wait
        // on its busy handler for every step of a first open, so concurrent first uses could fail.
        let lock_path = dir.join(LOCK_FILE);
        // SQLite makes its log and shared-memory files in the folder: a folder this user cannot
        // write is read from only.
        if path.exists() && !folder_writable(dir) {
            return Self::open_read_only(dir, &path, password);
        }
        if let Err(e) = make_private_file(&lock_path) {
            if is_read_only_error(&e) && path.exists() {
                return Self::open_read_only(dir, &path, password);
            }
            return Err(StoreError::Io(lock_path.clone(), e));
        }
        let lock = match std::fs::OpenOptions::new().write(true).open(&lock_path) {
            Ok(l) => l,
            Err(e) if is_read_only_error(&e) && path.exists() => {
                return Self::open_read_only(dir, &path, password)
            }
            Err(e) => return Err(StoreError::Io(lock_path.clone(), e)),
        };
        lock.lock()
            .map_err(|e| StoreError::Io(lock_path.clone(), e))?;
        make_private_file(&path).map_err(|e| StoreError::Io(path.clone(), e))?;
        let conn = Connection::open(&path).map_err(named(&path))?;
        // Concurrent cscert processes wait for each other instead of failing with SQLITE_BUSY.
        conn.busy_timeout(Duration::from_secs(30))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(named(&path))?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Deleted rows (cleared requests' keys, replaced keys) are overwritten with zeros, not
        // left in free pages.
        conn.pragma_update(None, "secure_delete", "ON")?;
        persist_wal(&conn);
        let mut store = Store {
            conn,
            dir: dir.to_path_buf(),
            read_only: false,
            lockless: false,
            keys: Keys {
                password,
                checked: Default::default(),
            },
        };
        schema::migrate(&mut store.conn, &path)?;
        drop(lock);
        Ok(store)
    }

    /// An existing store opened for reading only, for the cmdlets that never write it (Get-,
    /// Test-, Export-, `Request-CsCertificate -List`): no lock file, no WAL switch, no
    /// migration, so a read costs a few stats and one SELECT instead of a full open. Falls back
    /// to [`Store::open_with`] (which creates a missing store, migrates an older one and reads
    /// a read-only folder) whenever that fast path does not apply.
    pub fn open_reader(dir: &Path, password: Option<&str>) -> StoreResult<Store> {
        use rusqlite::OpenFlags;
        if password == Some("") {
            return Err(StoreError::KeyPasswordEmpty);
        }
        check_kinds(dir)?;
        check_private(dir, true)?;
        let path = dir.join(DB_FILE);
        check_private(&path, false)?;
        if !path.exists() {
            return Store::open_with(dir, password);
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let opened =
            Connection::open_with_flags(sqlite_uri(&path, "mode=ro"), flags).and_then(|c| {
                // A writer mid-commit or mid-checkpoint is waited for, as in a full open.
                c.busy_timeout(Duration::from_secs(30))?;
                let v: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0))?;
                Ok((c, v))
            });
        match opened {
            Ok((conn, version)) if version == schema::MIGRATIONS.len() as i64 => Ok(Store {
                conn,
                dir: dir.to_path_buf(),
                read_only: true,
                lockless: true,
                keys: Keys {
                    password: password.map(str::to_string),
                    checked: Default::default(),
                },
            }),
            Ok((_, version)) if version > schema::MIGRATIONS.len() as i64 => {
                Err(StoreError::TooNew(version))
            }
            // Older schema, or not readable without the folder's help: the full open decides.
            _ => Store::open_with(dir, password),
        }
    }

    /// A store in a folder that cannot be written: opened read-only (immutable when SQLite
    /// cannot make its shared-memory file there: nothing can change the file meanwhile).
    fn open_read_only(dir: &Path, path: &Path, password: Option<String>) -> StoreResult<Store> {
        use rusqlite::OpenFlags;
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI;
        let usable = |c: &Connection| {
            c.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
                r.get::<_, i64>(0)
            })
            .is_ok()
        };
        let mut conn = Connection::open_with_flags(sqlite_uri(path, "mode=ro"), flags)?;
        if !usable(&conn) {
            conn = Connection::open_with_flags(sqlite_uri(path, "immutable=1"), flags)?;
        }
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(named(path))?;
        if version != schema::MIGRATIONS.len() as i64 {
            if version > schema::MIGRATIONS.len() as i64 {
                return Err(StoreError::TooNew(version));
            }
            return Err(StoreError::ReadOnly(dir.to_path_buf()));
        }
        Ok(Store {
            conn,
            dir: dir.to_path_buf(),
            read_only: true,
            lockless: false,
            keys: Keys {
                password,
                checked: Default::default(),
            },
        })
    }

    /// Empties the write-ahead log after keys were deleted (secure_delete zeroes the database
    /// pages; the log would still hold the pages as they were).
    pub fn forget_deleted(&mut self) {
        if !self.read_only {
            let _ = self
                .conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        }
    }

    /// Runs `f` in one write transaction, taken at once so that concurrent writers queue up.
    /// `f` commits with [`Tx::commit`]; returning without committing rolls everything back.
    pub fn write<T, E: From<StoreError>>(
        &mut self,
        f: impl FnOnce(Tx<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        if self.read_only {
            return Err(StoreError::ReadOnly(self.dir.clone()).into());
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        f(Tx(tx, &self.keys))
    }

    /// A read-only view (consistent snapshot).
    pub fn read<T, E: From<StoreError>>(
        &mut self,
        f: impl FnOnce(&Tx<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Deferred)
            .map_err(StoreError::from)?;
        f(&Tx(tx, &self.keys))
    }
}

/// A transaction on the store. Commit with [`Tx::commit`]; dropping it rolls back.
pub struct Tx<'a>(Transaction<'a>, &'a Keys);

fn join_der(list: &[Vec<u8>]) -> Vec<u8> {
    // length-prefixed DER blobs: simple and unambiguous
    let mut out = Vec::new();
    for d in list {
        out.extend((d.len() as u32).to_be_bytes());
        out.extend(d);
    }
    out
}

fn split_der(mut b: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while b.len() >= 4 {
        let n = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
        if b.len() < 4 + n {
            break;
        }
        out.push(b[4..4 + n].to_vec());
        b = &b[4 + n..];
    }
    out
}

/// Adds certificates to the issuer index (`issuer_pool`); ones already there are skipped.
fn index_issuers(tx: &Transaction<'_>, ders: impl IntoIterator<Item = Vec<u8>>) -> StoreResult<()> {
    let mut st =
        tx.prepare_cached("INSERT OR IGNORE INTO issuer_pool (subject, der) VALUES (?1, ?2)")?;
    for der in ders {
        // A certificate x509-parser cannot read cannot be anyone's issuer in the walk either.
        if let Some((subject, _)) = crate::pki::chain::subject_and_issuer(&der) {
            st.execute(params![subject, der])?;
        }
    }
    Ok(())
}

const REQUEST_COLS: &str = "id, created, computer, uses, subject, sans, output, status, key_alg, key_size, exportable, friendly_name, template, csr_der, spki_der, thumbprint";
const CERT_COLS: &str =
    "thumbprint, der, chain, key_pkcs8, exportable, friendly_name, request_id, added, spki_der";

fn request_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RequestRow> {
    let sans: String = r.get(5)?;
    Ok(RequestRow {
        id: r.get(0)?,
        created: parse_ts(&r.get::<_, String>(1)?)?,
        computer: r.get(2)?,
        uses: r.get(3)?,
        subject: r.get(4)?,
        sans: serde_json::from_str(&sans).unwrap_or_default(),
        output: r.get(6)?,
        status: r.get(7)?,
        key_alg: r.get(8)?,
        key_size: r.get(9)?,
        exportable: r.get(10)?,
        friendly_name: r.get(11)?,
        template: r.get(12)?,
        csr_der: r.get(13)?,
        spki_der: r.get(14)?,
        thumbprint: r.get(15)?,
    })
}

fn cert_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CertRow> {
    let chain: Vec<u8> = r.get(2)?;
    Ok(CertRow {
        thumbprint: r.get(0)?,
        der: r.get(1)?,
        chain: split_der(&chain),
        key_pkcs8: r.get(3)?,
        exportable: r.get(4)?,
        friendly_name: r.get(5)?,
        request_id: r.get(6)?,
        added: parse_ts(&r.get::<_, String>(7)?)?,
        spki_der: r.get(8)?,
    })
}

fn assignment_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AssignmentRow> {
    Ok(AssignmentRow {
        id: r.get(0)?,
        scope: r.get(1)?,
        use_name: r.get(2)?,
        thumbprint: r.get(3)?,
        effective: parse_ts(&r.get::<_, String>(4)?)?,
        rolled: r.get(5)?,
        updated: parse_ts(&r.get::<_, String>(6)?)?,
    })
}

/// A request about to be stored. The private key is PKCS#8 DER.
pub struct NewRequest<'a> {
    pub created: DateTime<Utc>,
    pub computer: Option<&'a str>,
    pub uses: &'a str,
    pub subject: &'a str,
    pub sans: &'a [String],
    pub output: Option<&'a str>,
    pub key_alg: &'a str,
    pub key_size: i64,
    pub exportable: bool,
    pub friendly_name: Option<&'a str>,
    pub template: Option<&'a str>,
    pub csr_der: &'a [u8],
    pub spki_der: &'a [u8],
    pub key_pkcs8: &'a [u8],
}

impl Tx<'_> {
    pub fn commit(self) -> StoreResult<()> {
        self.0.commit().map_err(StoreError::from)
    }

    // ---- requests

    pub fn insert_request(&self, r: &NewRequest<'_>) -> StoreResult<i64> {
        let key = self.seal_key(r.key_pkcs8)?;
        self.0.execute(
            "INSERT INTO requests (created, computer, uses, subject, sans, output, status, key_alg, key_size, exportable, friendly_name, template, csr_der, spki_der, key_pkcs8)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'Pending', ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                ts(r.created),
                r.computer,
                r.uses,
                r.subject,
                serde_json::to_string(r.sans).expect("strings serialize"),
                r.output,
                r.key_alg,
                r.key_size,
                r.exportable,
                r.friendly_name,
                r.template,
                r.csr_der,
                r.spki_der,
                key
            ],
        )?;
        Ok(self.0.last_insert_rowid())
    }

    pub fn requests(&self, id: Option<i64>) -> StoreResult<Vec<RequestRow>> {
        let sql = format!(
            "SELECT {REQUEST_COLS} FROM requests WHERE (?1 IS NULL OR id = ?1) ORDER BY id"
        );
        let mut st = self.0.prepare(&sql)?;
        let rows = st
            .query_map(params![id], request_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    pub fn certificate_by_spki(&self, spki: &[u8]) -> StoreResult<Option<CertRow>> {
        let sql = format!(
            "SELECT {CERT_COLS} FROM certificates WHERE spki_der = ?1 ORDER BY added DESC LIMIT 1"
        );
        Ok(self.0.query_row(&sql, params![spki], cert_row).optional()?)
    }

    pub fn request_by_spki(&self, spki: &[u8]) -> StoreResult<Option<RequestRow>> {
        let sql = format!(
            "SELECT {REQUEST_COLS} FROM requests WHERE spki_der = ?1 ORDER BY id DESC LIMIT 1"
        );
        Ok(self
            .0
            .query_row(&sql, params![spki], request_row)
            .optional()?)
    }

    /// The private key of a request (PKCS#8 DER).
    pub fn request_key(&self, id: i64) -> StoreResult<Option<Vec<u8>>> {
        Ok(self
            .0
            .query_row(
                "SELECT key_pkcs8 FROM requests WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub fn complete_request(&self, id: i64, thumbprint: &str) -> StoreResult<()> {
        self.0.execute(
            "UPDATE requests SET status = 'Completed', thumbprint = ?2 WHERE id = ?1",
            params![id, thumbprint],
        )?;
        Ok(())
    }

    /// Deletes the pending requests written to `output` (a request made again for the same
    /// file with -Force replaces them); returns their ids.
    pub fn delete_pending_for_output(&self, output: &str) -> StoreResult<Vec<i64>> {
        let mut st = self.0.prepare(
            "DELETE FROM requests WHERE output = ?1 AND status = 'Pending' RETURNING id",
        )?;
        let mut ids = st
            .query_map(params![output], |r| r.get(0))?
            .collect::<Result<Vec<i64>, _>>()?;
        ids.sort_unstable();
        Ok(ids)
    }

    pub fn delete_requests(&self, id: Option<i64>) -> StoreResult<usize> {
        Ok(self.0.execute(
            "DELETE FROM requests WHERE (?1 IS NULL OR id = ?1)",
            params![id],
        )?)
    }

    // ---- certificates

    /// Adds a certificate, or completes the one already there (a key or chain it lacked):
    /// importing the same certificate twice changes nothing else. Returns true when it was new.
    pub fn put_certificate(&self, c: &CertRow) -> StoreResult<bool> {
        let existing = self.certificate(&c.thumbprint)?;
        let sealed = match &c.key_pkcs8 {
            Some(k) if existing.as_ref().is_none_or(|o| o.key_pkcs8.is_none()) => {
                Some(self.seal_key(k)?)
            }
            _ => None,
        };
        match existing {
            None => {
                self.0.execute(
                    &format!("INSERT INTO certificates ({CERT_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
                    params![
                        c.thumbprint,
                        c.der,
                        join_der(&c.chain),
                        sealed,
                        c.exportable,
                        c.friendly_name,
                        c.request_id,
                        ts(c.added),
                        c.spki_der
                    ],
                )?;
                index_issuers(
                    &self.0,
                    std::iter::once(c.der.clone()).chain(c.chain.iter().cloned()),
                )?;
                Ok(true)
            }
            Some(old) => {
                let key = old.key_pkcs8.or(sealed);
                let chain = if old.chain.is_empty() {
                    c.chain.clone()
                } else {
                    old.chain
                };
                self.0.execute(
                    "UPDATE certificates SET key_pkcs8 = ?2, chain = ?3, exportable = ?4, friendly_name = COALESCE(friendly_name, ?5), request_id = COALESCE(request_id, ?6) WHERE thumbprint = ?1",
                    params![
                        c.thumbprint,
                        key,
                        join_der(&chain),
                        old.exportable || c.exportable,
                        c.friendly_name,
                        c.request_id
                    ],
                )?;
                index_issuers(&self.0, chain)?;
                Ok(false)
            }
        }
    }

    pub fn certificate(&self, thumbprint: &str) -> StoreResult<Option<CertRow>> {
        let sql = format!("SELECT {CERT_COLS} FROM certificates WHERE thumbprint = ?1");
        Ok(self
            .0
            .query_row(&sql, params![thumbprint], cert_row)
            .optional()?)
    }

    /// Every stored certificate and chain certificate as DER (no keys read): the pool issuers
    /// are looked up in when many certificates are checked at once.
    pub fn certificate_pool(&self) -> StoreResult<Vec<Vec<u8>>> {
        let mut st = self
            .0
            .prepare("SELECT der FROM issuer_pool ORDER BY rowid")?;
        let rows = st
            .query_map([], |r| r.get::<_, Vec<u8>>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// [`Tx::issuer_pool_for`] of several certificates (a leaf and the chain it came with),
    /// each found certificate once.
    pub fn issuer_pool_for_all(&self, ders: &[&[u8]]) -> StoreResult<Vec<Vec<u8>>> {
        let mut out: Vec<Vec<u8>> = Vec::new();
        for d in ders {
            for found in self.issuer_pool_for(d)? {
                if !out.contains(&found) {
                    out.push(found);
                }
            }
        }
        Ok(out)
    }

    /// The stored certificates that may have issued `der`, and their possible issuers in turn
    /// (by subject name, as `pki::chain` matches them): the part of the pool one certificate's
    /// walk can reach, found by index, so its cost does not grow with the store.
    pub fn issuer_pool_for(&self, der: &[u8]) -> StoreResult<Vec<Vec<u8>>> {
        let Some((subject, issuer)) = crate::pki::chain::subject_and_issuer(der) else {
            return Ok(Vec::new());
        };
        let mut st = self
            .0
            .prepare_cached("SELECT der FROM issuer_pool WHERE subject = ?1 ORDER BY rowid")?;
        let mut out: Vec<Vec<u8>> = Vec::new();
        let mut asked = vec![subject];
        let mut next = vec![issuer];
        // As deep as the walk goes; each name is asked once.
        for _ in 0..crate::pki::chain::MAX_DEPTH {
            let mut found_names = Vec::new();
            for name in std::mem::take(&mut next) {
                if asked.contains(&name) {
                    continue;
                }
                let found = st
                    .query_map(params![name], |r| r.get::<_, Vec<u8>>(0))?
                    .collect::<Result<Vec<_>, _>>()?;
                asked.push(name);
                for d in found {
                    if let Some((_, up)) = crate::pki::chain::subject_and_issuer(&d) {
                        found_names.push(up);
                    }
                    if !out.contains(&d) {
                        out.push(d);
                    }
                }
            }
            if found_names.is_empty() {
                break;
            }
            next = found_names;
        }
        Ok(out)
    }

    pub fn certificates(&self) -> StoreResult<Vec<CertRow>> {
        let sql = format!("SELECT {CERT_COLS} FROM certificates ORDER BY added, thumbprint");
        let mut st = self.0.prepare(&sql)?;
        let rows = st.query_map([], cert_row)?.collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    // ---- assignments

    pub fn assign(
        &self,
        scope: &str,
        use_name: &str,
        thumbprint: &str,
        effective: DateTime<Utc>,
        rolled: bool,
        updated: DateTime<Utc>,
    ) -> StoreResult<i64> {
        self.0.execute(
            "INSERT INTO assignments (scope, use_name, thumbprint, effective, rolled, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![scope, use_name, thumbprint, ts(effective), rolled, ts(updated)],
        )?;
        Ok(self.0.last_insert_rowid())
    }

    /// Assignments, oldest effective first; `scope` None = all scopes.
    pub fn assignments(&self, scope: Option<&str>) -> StoreResult<Vec<AssignmentRow>> {
        let mut st = self.0.prepare(
            "SELECT id, scope, use_name, thumbprint, effective, rolled, updated FROM assignments
             WHERE (?1 IS NULL OR scope = ?1 COLLATE NOCASE) ORDER BY scope, use_name, effective, id",
        )?;
        let rows = st
            .query_map(params![scope], assignment_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    pub fn delete_assignment(&self, id: i64) -> StoreResult<()> {
        self.0
            .execute("DELETE FROM assignments WHERE id = ?1", params![id])?;
        Ok(())
    }

    // ---- topology

    pub fn put_topology(&self, xml: &str, published: DateTime<Utc>) -> StoreResult<()> {
        self.0.execute(
            "INSERT INTO topology (id, xml, published) VALUES (1, ?1, ?2)
             ON CONFLICT(id) DO UPDATE SET xml = excluded.xml, published = excluded.published",
            params![xml, ts(published)],
        )?;
        Ok(())
    }

    pub fn topology(&self) -> StoreResult<Option<(String, DateTime<Utc>)>> {
        Ok(self
            .0
            .query_row(
                "SELECT xml, published FROM topology WHERE id = 1",
                [],
                |r| Ok((r.get::<_, String>(0)?, parse_ts(&r.get::<_, String>(1)?)?)),
            )
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A certificate named `cn`, signed by `issuer` (its params and key) or self-signed; CAs
    /// when `ca`.
    fn cert(
        cn: &str,
        ca: bool,
        issuer: Option<(&rcgen::CertificateParams, &rcgen::KeyPair)>,
    ) -> (Vec<u8>, rcgen::CertificateParams, rcgen::KeyPair) {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut p = rcgen::CertificateParams::new(vec![]).unwrap();
        p.distinguished_name.push(rcgen::DnType::CommonName, cn);
        if ca {
            p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        }
        let c = match issuer {
            Some((ip, ik)) => p.signed_by(&key, &rcgen::Issuer::from_params(ip, ik)),
            None => p.self_signed(&key),
        }
        .unwrap();
        (c.der().to_vec(), p, key)
    }

    fn row(der: &[u8], chain: Vec<Vec<u8>>) -> CertRow {
        CertRow {
            thumbprint: crate::pki::dn::hex_upper(
                aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, der)
                    .as_ref(),
            ),
            der: der.to_vec(),
            chain,
            key_pkcs8: None,
            exportable: false,
            friendly_name: None,
            request_id: None,
            added: Utc::now(),
            spki_der: Vec::new(),
        }
    }

    #[test]
    fn issuers_are_found_by_name_up_the_chain_and_nothing_else() {
        let t = tempfile::tempdir().unwrap();
        let (root, rp, rk) = cert("Index Root", true, None);
        let (inter, ip, ik) = cert("Index Issuing CA", true, Some((&rp, &rk)));
        let (leaf, _, _) = cert("sip.contoso.com", false, Some((&ip, &ik)));
        let (other, _, _) = cert("Unrelated Root", true, None);
        let mut s = Store::open(&t.path().join("s")).unwrap();
        s.write(|tx| {
            // The issuing CA arrives as another certificate's chain, the root on its own.
            tx.put_certificate(&row(&other, vec![inter.clone()]))?;
            tx.put_certificate(&row(&root, Vec::new()))?;
            tx.commit()
        })
        .unwrap();
        let found = s.read(|tx| tx.issuer_pool_for(&leaf)).unwrap();
        assert_eq!(found, vec![inter.clone(), root.clone()]);
        // The whole pool still has every certificate once.
        let all = s.read(|tx| tx.certificate_pool()).unwrap();
        assert_eq!(all.len(), 3);
        // A self-signed certificate of a name nobody else has: nothing to look at.
        let (lonely, _, _) = cert("Lonely", false, None);
        assert!(s.read(|tx| tx.issuer_pool_for(&lonely)).unwrap().is_empty());
        assert!(s
            .read(|tx| tx.issuer_pool_for(b"not DER"))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn a_store_from_before_the_issuer_index_is_indexed_when_migrated() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("s");
        make_private_dir(&dir).unwrap();
        make_private_file(&dir.join(DB_FILE)).unwrap();
        let (root, rp, rk) = cert("Old Root", true, None);
        let (leaf, _, _) = cert("old.contoso.com", false, Some((&rp, &rk)));
        {
            let c = Connection::open(dir.join(DB_FILE)).unwrap();
            c.execute_batch(schema::MIGRATIONS[0]).unwrap();
            c.execute_batch(schema::MIGRATIONS[1]).unwrap();
            c.pragma_update(None, "user_version", 2).unwrap();
            c.execute(
                &format!("INSERT INTO certificates ({CERT_COLS}) VALUES ('AB', ?1, ?2, NULL, 0, NULL, NULL, '2026-01-01T00:00:00Z', x'')"),
                params![leaf, join_der(std::slice::from_ref(&root))],
            )
            .unwrap();
        }
        let mut r = Store::open_reader(&dir, None).unwrap();
        assert_eq!(r.read(|tx| tx.issuer_pool_for(&leaf)).unwrap(), vec![root]);
    }

    #[test]
    fn a_timestamp_that_is_not_a_date_is_an_error_not_1970() {
        assert!(parse_ts("2026-12-03T10:00:00Z").is_ok());
        let e = parse_ts("yesterday\u{1b}[2J").unwrap_err().to_string();
        assert!(e.contains("not a date: 'yesterday\\u{1b}[2J'"), "{e}");
        let t = tempfile::tempdir().unwrap();
        let mut s = Store::open(&t.path().join("s")).unwrap();
        s.write(|tx| {
            tx.0.execute(
                "INSERT INTO topology (id, xml, published) VALUES (1, '<x/>', 'garbage')",
                [],
            )?;
            tx.commit()
        })
        .unwrap();
        assert!(s.read(|tx| tx.topology()).is_err());
    }

    #[test]
    fn der_lists_round_trip() {
        let l = vec![vec![1, 2, 3], vec![], vec![9; 300]];
        assert_eq!(split_der(&join_der(&l)), l);
    }

    #[cfg(unix)]
    #[test]
    fn store_is_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("s");
        Store::open(&dir).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join(DB_FILE)), 0o600);
    }

    fn topology_written(dir: &Path) {
        let mut s = Store::open(dir).unwrap();
        s.write(|tx| {
            tx.put_topology("<x/>", Utc::now())?;
            tx.commit()
        })
        .unwrap();
    }

    #[test]
    fn reader_sees_committed_rows_without_lock_and_cannot_write() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("s");
        topology_written(&dir);
        std::fs::remove_file(dir.join(LOCK_FILE)).unwrap();
        let mut r = Store::open_reader(&dir, None).unwrap();
        assert!(r.read(|tx| tx.topology()).unwrap().is_some());
        assert!(!dir.join(LOCK_FILE).exists(), "a reader takes no lock");
        let w: Result<(), StoreError> = r.write(|tx| tx.commit());
        assert!(matches!(w, Err(StoreError::ReadOnly(_))));
    }

    #[test]
    fn reader_of_an_older_store_migrates_it_first() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("s");
        make_private_dir(&dir).unwrap();
        make_private_file(&dir.join(DB_FILE)).unwrap();
        {
            let c = Connection::open(dir.join(DB_FILE)).unwrap();
            c.execute_batch(schema::MIGRATIONS[0]).unwrap();
            c.pragma_update(None, "user_version", 1).unwrap();
        }
        let mut r = Store::open_reader(&dir, None).unwrap();
        let v: i64 = r
            .conn
            .query_row("PRAGMA user_version", [], |x| x.get(0))
            .unwrap();
        assert_eq!(v, schema::MIGRATIONS.len() as i64);
        assert!(r.read(|tx| tx.certificate_pool()).unwrap().is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn reader_refuses_a_store_others_can_read() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("s");
        topology_written(&dir);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(matches!(
            Store::open_reader(&dir, None),
            Err(StoreError::NotPrivate { .. })
        ));
    }

    #[test]
    fn the_log_is_kept_empty_after_the_last_close() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("s");
        topology_written(&dir);
        let wal = std::fs::metadata(dir.join(format!("{DB_FILE}-wal"))).unwrap();
        assert_eq!(wal.len(), 0, "persisted, but cut to nothing");
    }

    #[test]
    fn a_reader_that_closes_last_empties_the_log() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("s");
        topology_written(&dir);
        let wal = dir.join(format!("{DB_FILE}-wal"));
        // A writer in another process that commits and never closes (killed, or still at work
        // when everyone else is gone) leaves its frames in the log.
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "store::tests::child_writes_and_exits",
                "--ignored",
            ])
            .env("CSCERT_TEST_WRITER_DIR", &dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        assert!(std::fs::metadata(&wal).unwrap().len() > 0, "frames left");
        let mut reader = Store::open_reader(&dir, None).unwrap();
        let xml = reader.read(|tx| tx.topology()).unwrap().unwrap();
        assert_eq!(xml.0, "<y/>", "the reader sees the log's commit");
        drop(reader);
        assert_eq!(std::fs::metadata(&wal).unwrap().len(), 0);
    }

    #[test]
    #[ignore = "the writer process of a_reader_that_closes_last_empties_the_log"]
    fn child_writes_and_exits() {
        if let Some(dir) = std::env::var_os("CSCERT_TEST_WRITER_DIR") {
            let mut s = Store::open(Path::new(&dir)).unwrap();
            s.write(|tx| {
                tx.put_topology("<y/>", Utc::now())?;
                tx.commit()
            })
            .unwrap();
            // No close: exit skips the connection's drop, so nothing is checkpointed.
            std::process::exit(0);
        }
    }

    #[test]
    fn rolled_back_writes_leave_nothing() {
        let t = tempfile::tempdir().unwrap();
        // A folder cscert makes (owner-only); the temp folder itself may be open to others.
        let mut s = Store::open(&t.path().join("s")).unwrap();
        let r: Result<(), StoreError> = s.write(|tx| {
            tx.put_topology("<x/>", Utc::now())?;
            Err(StoreError::TooNew(99))
        });
        assert!(r.is_err());
        let topo: Option<_> = s.read(|tx| tx.topology()).unwrap();
        assert!(topo.is_none());
    }
}
