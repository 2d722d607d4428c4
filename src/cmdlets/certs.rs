//! What the certificate cmdlets share: thumbprints, store look-ups, scopes, and the
//! current/previous/staged resolution of assignments.

use super::Ctx;
use crate::binder::Bound;
use crate::error::{Category, CsError, CsResult};
use crate::model::CertType;
use crate::output::objects::{AssignedCertificate, CertificateCore, StoredCertificate};
use crate::pki::inspect::{inspect_der_certificate, Inspected};
use crate::store::{AssignmentRow, CertRow, Tx};
use chrono::{DateTime, Utc};
use std::path::Path;

pub const GLOBAL: &str = "Global";

/// Accepts thumbprints as Windows shows them (spaces, a stray U+200E from the certificate
/// dialog, lower case) and requires 40 hex digits.
pub fn normalize_thumbprint(raw: &str) -> CsResult<String> {
    let t: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{200e}' && *c != ':')
        .collect::<String>()
        .to_ascii_uppercase();
    if t.len() != 40 || !t.chars().all(|c| c.is_ascii_hexdigit()) {
        let digits = t.chars().filter(|c| c.is_ascii_hexdigit()).count();
        return Err(CsError::failed(
            "InvalidThumbprint",
            Category::InvalidArgument,
            format!("The thumbprint \"{raw}\" is not valid: a thumbprint is the SHA-1 hash of the certificate, 40 hexadecimal digits; this one has {} characters ({digits} hexadecimal digits).", t.chars().count()),
        )
        .with_target(raw));
    }
    Ok(t)
}

pub fn not_in_store(thumbprint: &str) -> CsError {
    CsError::failed(
        "CertificateNotFound",
        Category::ObjectNotFound,
        format!("No certificate with the thumbprint \"{thumbprint}\" is in the store. Import it first (Import-CsCertificate -Path <file>)."),
    )
    .with_target(thumbprint)
}

/// A stored certificate and its parsed form.
pub fn load(tx: &Tx<'_>, thumbprint: &str) -> CsResult<(CertRow, Inspected)> {
    let row = tx
        .certificate(thumbprint)?
        .ok_or_else(|| not_in_store(thumbprint))?;
    let parsed = parse(&row)?;
    Ok((row, parsed))
}

/// A stored certificate row; a row that cannot even be read (damaged columns) is an error.
pub fn row_of(tx: &Tx<'_>, thumbprint: &str) -> CsResult<Option<CertRow>> {
    Ok(tx.certificate(thumbprint)?)
}

/// The error record of one bad row: which certificate, which use, and what to do.
pub fn row_error(e: CsError, thumbprint: &str, use_: CertType, scope: &str) -> CsError {
    CsError::failed(
        "StoredCertificateUnreadable",
        Category::InvalidData,
        format!(
            "The certificate {thumbprint} assigned for the type \"{use_}\" at {scope} cannot be read from the store ({}). Import it again (Import-CsCertificate -Path <file>) or assign another certificate.",
            e.message.trim_end_matches('.')
        ),
    )
    .with_target(thumbprint.to_string())
}

pub fn parse(row: &CertRow) -> CsResult<Inspected> {
    inspect_der_certificate(&row.der).map_err(|e| {
        CsError::failed(
            "StoredCertificateUnreadable",
            Category::InvalidData,
            format!(
                "The stored certificate {} cannot be read: {e}",
                row.thumbprint
            ),
        )
    })
}

pub fn stored_object(
    row: &CertRow,
    c: &Inspected,
    request_status: Option<&'static str>,
) -> StoredCertificate {
    StoredCertificate {
        core: CertificateCore {
            thumbprint: row.thumbprint.clone(),
            ..CertificateCore::of(c)
        },
        friendly_name: row.friendly_name.clone(),
        has_private_key: row.key_pkcs8.is_some(),
        private_key_exportable: row.exportable,
        request_id: row.request_id,
        request_status,
    }
}

/// The password of a PFX: `-Password`, else `$env:CSCERT_PASSWORD` (so it need not appear in a
/// process list).
pub fn password(b: &Bound) -> Option<String> {
    b.str("Password").map(str::to_string).or_else(|| {
        std::env::var("CSCERT_PASSWORD")
            .ok()
            .filter(|p| !p.is_empty())
    })
}

/// The most a certificate, PFX, PKCS#7 or request file may hold (real ones are a few KiB).
pub const CERT_FILE_LIMIT: u64 = 4 << 20;
/// The most a topology document may hold (large deployments export a few MiB).
pub const TOPOLOGY_LIMIT: u64 = 64 << 20;

/// Reads at most `limit` bytes of a file (a pipe or FIFO named explicitly is read too); a larger
/// input is an error of kind `FileTooLarge`, so `/dev/zero` cannot exhaust memory.
pub fn read_limited(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let f = std::fs::File::open(path)?;
    if f.metadata()?.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "it is a folder, not a file",
        ));
    }
    let mut v = Vec::new();
    f.take(limit + 1).read_to_end(&mut v)?;
    if v.len() as u64 > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!(
                "it is larger than {} MiB, more than any such file holds",
                limit >> 20
            ),
        ));
    }
    Ok(v)
}

/// Reads an input file (at most `limit` bytes), with PowerShell's wording when it is not there.
pub fn read_input(ctx: &Ctx, path: &str, limit: u64) -> CsResult<Vec<u8>> {
    let full = ctx.full_path(path);
    read_limited(&full, limit).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            CsError::failed(
                "PathNotFound",
                Category::ObjectNotFound,
                format!(
                    "Cannot find path '{}' because it does not exist.",
                    full.display()
                ),
            )
            .with_target(path)
        } else if e.kind() == std::io::ErrorKind::FileTooLarge {
            CsError::failed(
                "FileTooLarge",
                Category::InvalidData,
                format!("'{}' was not read: {e}.", full.display()),
            )
            .with_target(path)
        } else {
            CsError::failed(
                "FileNotRead",
                Category::ReadError,
                format!("Cannot read '{}': {e}", full.display()),
            )
            .with_target(path)
        }
    })
}

/// Every certificate the store knows (stored certificates and their chains): the issuers a
/// signature is checked against.
pub fn store_pool(tx: &Tx<'_>) -> CsResult<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    for r in tx.certificates()? {
        out.push(r.der);
        out.extend(r.chain);
    }
    Ok(out)
}

/// The store's certificates when a store exists (a read-only check never creates one).
pub fn store_pool_if_any(ctx: &mut Ctx) -> CsResult<Vec<Vec<u8>>> {
    if !ctx.store_dir().join(crate::store::DB_FILE).exists() {
        return Ok(Vec::new());
    }
    ctx.store()?.read(store_pool)
}

/// `-TrustedRoot <file or folder>,...`: the trusted root certificates, or `None` when not given.
pub fn trusted_roots(ctx: &mut Ctx, b: &Bound) -> CsResult<Option<Vec<Vec<u8>>>> {
    let paths = b.list("TrustedRoot");
    if paths.is_empty() {
        return Ok(None);
    }
    let mut roots = Vec::new();
    for p in &paths {
        let full = ctx.full_path(p);
        let mut files = Vec::new();
        if full.is_dir() {
            let rd = std::fs::read_dir(&full).map_err(|e| {
                CsError::failed(
                    "FolderNotRead",
                    Category::ReadError,
                    format!("Cannot read the folder '{}': {e}", full.display()),
                )
                .with_target(p.clone())
            })?;
            for e in rd.flatten() {
                // Regular files only: a FIFO or device in the folder is not read.
                if e.file_type().is_ok_and(|t| t.is_file()) {
                    files.push(e.path());
                }
            }
            files.sort();
        } else {
            files.push(full.clone());
        }
        let before = roots.len();
        for f in &files {
            let shown = f.display().to_string();
            let bytes = read_input(ctx, &shown, CERT_FILE_LIMIT)?;
            roots.extend(crate::pki::chain::certificates_in(&bytes, None));
        }
        if roots.len() == before {
            return Err(CsError::failed(
                "NoTrustedRootFound",
                Category::InvalidData,
                format!(
                    "-TrustedRoot '{}' holds no certificate (PEM, DER or PKCS#7).",
                    full.display()
                ),
            )
            .with_target(p.clone()));
        }
    }
    Ok(Some(roots))
}

/// The scope an assignment belongs to: Global for `-Identity Global` and for global uses
/// (OAuthTokenIssuer), else the computer named by -Identity, else this computer.
pub fn scope_for(ctx: &mut Ctx, identity: Option<&str>, use_: CertType) -> String {
    match identity.map(str::trim) {
        Some(i) if i.eq_ignore_ascii_case(GLOBAL) => GLOBAL.to_string(),
        _ if use_.is_global() => GLOBAL.to_string(),
        Some(i) if !i.is_empty() => i.strip_prefix("service:").unwrap_or(i).to_string(),
        _ => ctx.this_computer(),
    }
}

/// The scopes Get-CsCertificate and Test-CsCertificateConfiguration look at.
pub fn scopes_for_reading(ctx: &mut Ctx, identity: Option<&str>) -> Vec<String> {
    match identity.map(str::trim) {
        Some(i) if i.eq_ignore_ascii_case(GLOBAL) => vec![GLOBAL.to_string()],
        Some(i) if !i.is_empty() => vec![i.to_string()],
        _ => vec![ctx.this_computer(), GLOBAL.to_string()],
    }
}

/// The assignments of one use at one scope, resolved at a time.
#[derive(Debug, Clone)]
pub struct UseState {
    pub current: Option<AssignmentRow>,
    pub previous: Option<AssignmentRow>,
    /// Rolls that take effect later, soonest first.
    pub staged: Vec<AssignmentRow>,
    /// Rows older than the previous one (superseded; pruned on the next write).
    pub older: Vec<AssignmentRow>,
}

/// Current = the latest row effective at `now`; previous = the one before it.
pub fn resolve(rows: &[AssignmentRow], now: DateTime<Utc>) -> UseState {
    let mut sorted: Vec<&AssignmentRow> = rows.iter().collect();
    sorted.sort_by_key(|r| (r.effective, r.id));
    let (past, future): (Vec<&AssignmentRow>, Vec<&AssignmentRow>) =
        sorted.into_iter().partition(|r| r.effective <= now);
    let mut past = past.into_iter().rev();
    let current = past.next().cloned();
    let previous = past.next().cloned();
    UseState {
        current,
        previous,
        staged: future.into_iter().cloned().collect(),
        older: past.cloned().collect(),
    }
}

/// All uses at the given scopes, each resolved at `now`, in CertType order.
pub fn states(
    tx: &Tx<'_>,
    scopes: &[String],
    now: DateTime<Utc>,
) -> CsResult<Vec<(String, CertType, UseState)>> {
    let mut out = Vec::new();
    for scope in scopes {
        let rows = tx.assignments(Some(scope))?;
        let mut uses: Vec<CertType> = rows
            .iter()
            .filter_map(|r| CertType::parse(&r.use_name))
            .collect();
        uses.sort();
        uses.dedup();
        for u in uses {
            let mine: Vec<AssignmentRow> = rows
                .iter()
                .filter(|r| r.use_name == u.name())
                .cloned()
                .collect();
            out.push((scope.clone(), u, resolve(&mine, now)));
        }
    }
    Ok(out)
}

pub fn assigned_object(
    scope: &str,
    use_: CertType,
    st: &UseState,
    cur: &AssignmentRow,
    c: &Inspected,
) -> AssignedCertificate {
    AssignedCertificate {
        core: CertificateCore {
            thumbprint: cur.thumbprint.clone(),
            ..CertificateCore::of(c)
        },
        effective_time: cur.rolled.then_some(cur.effective),
        previous_thumbprint: st.previous.as_ref().map(|p| p.thumbprint.clone()),
        update_time: (cur.rolled || st.previous.is_some()).then_some(cur.updated),
        use_name: use_.name().to_string(),
        source_scope: (scope == GLOBAL).then(|| GLOBAL.to_string()),
    }
}

/// What to assign: one certificate to uses (each with its scope), now or staged.
pub struct Assignment<'a> {
    pub thumbprint: &'a str,
    pub targets: Vec<(CertType, String)>,
    pub roll: bool,
    pub effective: Option<DateTime<Utc>>,
}

impl<'a> Assignment<'a> {
    /// Resolves each use's scope (this computer, -Identity, or Global).
    pub fn new(
        ctx: &mut Ctx,
        thumbprint: &'a str,
        uses: &[CertType],
        identity: Option<&str>,
        roll: bool,
        effective: Option<DateTime<Utc>>,
    ) -> Self {
        let targets = uses
            .iter()
            .map(|&u| (u, scope_for(ctx, identity, u)))
            .collect();
        Assignment {
            thumbprint,
            targets,
            roll,
            effective,
        }
    }
}

/// Checks that a certificate can be assigned: it has its private key and has not expired.
pub fn check_assignable(row: &CertRow, c: &Inspected, now: DateTime<Utc>) -> CsResult<()> {
    if row.key_pkcs8.is_none() {
        return Err(CsError::failed(
            "CertificateWithoutPrivateKey",
            Category::InvalidOperation,
            format!("The certificate \"{}\" ({}) has no private key in the store, so no server could use it. Import the certificate that answers a pending request, or a PFX with its key.", row.thumbprint, c.subject),
        )
        .with_target(row.thumbprint.clone()));
    }
    if let Some(na) = c.not_after {
        if na < now {
            return Err(CsError::failed(
                "CertificateExpired",
                Category::InvalidOperation,
                format!(
                    "The certificate \"{}\" ({}) expired on {}.",
                    row.thumbprint,
                    c.subject,
                    na.format("%m/%d/%Y %H:%M:%S UTC")
                ),
            )
            .with_target(row.thumbprint.clone()));
        }
    }
    Ok(())
}

/// A staged certificate must still be valid when it becomes current; otherwise the roll would
/// put an expired certificate in service at the effective time.
pub fn check_valid_when_effective(
    thumbprint: &str,
    c: &Inspected,
    effective: DateTime<Utc>,
) -> CsResult<()> {
    match c.not_after {
        Some(na) if na <= effective => Err(CsError::failed(
            "CertificateExpiresBeforeEffectiveDate",
            Category::InvalidOperation,
            format!(
                "The certificate \"{thumbprint}\" ({}) expires on {}, before the effective date {}: it would be expired when it becomes current. Choose an earlier -EffectiveDate or a newer certificate.",
                c.subject,
                na.format("%m/%d/%Y %H:%M:%S UTC"),
                effective.format("%m/%d/%Y %H:%M:%S UTC")
            ),
        )
        .with_target(thumbprint)),
        _ => Ok(()),
    }
}

/// Validates the -Roll / -EffectiveDate combination.
pub fn check_roll(roll: bool, effective: Option<DateTime<Utc>>) -> CsResult<()> {
    match (roll, effective) {
        (true, None) => Err(CsError::failed(
            "RollWithoutEffectiveDate",
            Category::InvalidArgument,
            "-Roll needs -EffectiveDate: the time at which the new certificate becomes current.",
        )),
        (false, Some(_)) => Err(CsError::failed(
            "EffectiveDateWithoutRoll",
            Category::InvalidArgument,
            "-EffectiveDate is used only with -Roll. Add -Roll to stage the certificate, or leave out -EffectiveDate to assign it now.",
        )),
        _ => Ok(()),
    }
}

/// Writes the assignment rows inside the caller's transaction and returns Lync's lines to print
/// once it has committed. A plain assignment replaces the use's rows; a roll keeps the current
/// one (it becomes previous at the effective time) and replaces any earlier staged roll.
pub fn apply(
    tx: &Tx<'_>,
    a: &Assignment<'_>,
    c: &Inspected,
    now: DateTime<Utc>,
) -> CsResult<Vec<String>> {
    if a.roll {
        check_valid_when_effective(a.thumbprint, c, a.effective.unwrap_or(now))?;
    }
    let mut lines = Vec::new();
    for (u, scope) in &a.targets {
        let rows: Vec<AssignmentRow> = tx
            .assignments(Some(scope))?
            .into_iter()
            .filter(|r| r.use_name == u.name())
            .collect();
        let st = resolve(&rows, now);
        if a.roll {
            // The previous one stays until the staged one takes effect: only then does the
            // current one become previous (resolve() drops the older ones from view).
            for r in st.staged.iter().chain(&st.older) {
                tx.delete_assignment(r.id)?;
            }
            tx.assign(
                scope,
                u.name(),
                a.thumbprint,
                a.effective.unwrap_or(now),
                true,
                now,
            )?;
        } else {
            for r in &rows {
                tx.delete_assignment(r.id)?;
            }
            tx.assign(scope, u.name(), a.thumbprint, now, false, now)?;
        }
        let cn = c.subject_cn.first().cloned().unwrap_or_default();
        let when = match a.effective {
            Some(e) if a.roll => {
                format!(" (staged; effective {})", e.format("%m/%d/%Y %H:%M:%S UTC"))
            }
            _ => String::new(),
        };
        lines.push(format!(
            "The following certificate was assigned for the type \"{u}\"{when}:"
        ));
        lines.push(format!(
            "{u}: {} {cn} {} {} {}",
            a.thumbprint,
            c.not_after
                .map(|d| d.format("%m/%d/%Y").to_string())
                .unwrap_or_default(),
            c.issuer.clone().unwrap_or_default(),
            c.serial.clone().unwrap_or_default()
        ));
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn row(id: i64, thumb: &str, day: u32) -> AssignmentRow {
        let t = Utc.with_ymd_and_hms(2026, 1, day, 0, 0, 0).unwrap();
        AssignmentRow {
            id,
            scope: "s".into(),
            use_name: "Default".into(),
            thumbprint: thumb.into(),
            effective: t,
            rolled: true,
            updated: t,
        }
    }

    #[test]
    fn roll_resolves_by_time() {
        let rows = vec![row(1, "OLD", 1), row(2, "NEW", 10)];
        let before = resolve(&rows, Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap());
        assert_eq!(before.current.unwrap().thumbprint, "OLD");
        assert!(before.previous.is_none());
        assert_eq!(before.staged.len(), 1);
        let after = resolve(&rows, Utc.with_ymd_and_hms(2026, 1, 10, 0, 0, 0).unwrap());
        assert_eq!(after.current.unwrap().thumbprint, "NEW");
        assert_eq!(after.previous.unwrap().thumbprint, "OLD");
        assert!(after.staged.is_empty());
    }

    #[test]
    fn thumbprints_are_normalized_or_refused() {
        assert_eq!(
            normalize_thumbprint(
                "\u{200e}46 6d 9b b0 e8 b9 28 b6 5a f3 8f a2 d9 f4 1e 1b 30 1e ce 9d"
            )
            .unwrap(),
            "466D9BB0E8B928B65AF38FA2D9F41E1B301ECE9D"
        );
        let e = normalize_thumbprint("B142918E463981A76503828BB1278391B716280987B").unwrap_err();
        assert!(e.message.contains("43 characters"), "{}", e.message);
        assert!(normalize_thumbprint("Z66D9BB0E8B928B65AF38FA2D9F41E1B301ECE9D").is_err());
    }
}
