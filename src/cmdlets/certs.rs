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

/// A stored certificate as Import-, Export- and Request-CsCertificate -CA print it. Its
/// RequestStatus is a fact of the certificate, the same whichever cmdlet prints it: "Issued" when
/// it answers a request made by Request-CsCertificate.
pub fn stored_object(row: &CertRow, c: &Inspected) -> StoredCertificate {
    let request_status = row.request_id.map(|_| "Issued");
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

/// The chain to give with a certificate: the one stored with it (a .p7b, a PFX, a lab CA), else
/// the issuers found among the certificates in the store (an imported CA certificate), leaf's
/// issuer first, up to a self-signed one.
pub fn known_chain(tx: &Tx<'_>, row: &CertRow, c: &Inspected) -> CsResult<Vec<Vec<u8>>> {
    if !row.chain.is_empty() {
        return Ok(row.chain.clone());
    }
    let mut others = Vec::new();
    for r in tx.certificates()? {
        if r.thumbprint != row.thumbprint {
            if let Ok(i) = inspect_der_certificate(&r.der) {
                others.push((r.der, i));
            }
        }
    }
    let mut chain: Vec<Vec<u8>> = Vec::new();
    let mut issuer = c.issuer.clone();
    let self_signed = |i: &Inspected| i.issuer.as_deref() == Some(i.subject.as_str());
    if self_signed(c) {
        return Ok(chain);
    }
    while let Some(name) = issuer.take() {
        let Some((der, i)) = others.iter().find(|(der, i)| {
            i.subject == name && i.basic_constraints_ca == Some(true) && !chain.contains(der)
        }) else {
            break;
        };
        chain.push(der.clone());
        if !self_signed(i) {
            issuer = i.issuer.clone();
        }
    }
    Ok(chain)
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
            roots.extend(crate::pki::certfile::certificates_in(&bytes, None));
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

/// The one row Get-CsCertificate shows for a use, and its previous thumbprint: a staged roll
/// is shown at once, with its future EffectiveTime and the serving certificate as
/// PreviousThumbprint (Lync keeps two copies per use, current and previous, and a roll makes the
/// new one current "co-active" with the old from -EffectiveDate: assign-a-server-to-server-
/// certificate.md, stage-av-and-oauth-certificates.md). Never a second object for one use.
pub fn shown(st: &UseState) -> Option<(&AssignmentRow, Option<&AssignmentRow>)> {
    match (st.staged.last(), &st.current) {
        (Some(staged), cur) => Some((staged, cur.as_ref())),
        (None, Some(cur)) => Some((cur, st.previous.as_ref())),
        (None, None) => None,
    }
}

pub fn assigned_object(
    scope: &str,
    use_: CertType,
    shown: &AssignmentRow,
    previous: Option<&AssignmentRow>,
    c: &Inspected,
) -> AssignedCertificate {
    AssignedCertificate {
        core: CertificateCore {
            thumbprint: shown.thumbprint.clone(),
            ..CertificateCore::of(c)
        },
        effective_time: shown.rolled.then_some(shown.effective),
        previous_thumbprint: previous.map(|p| p.thumbprint.clone()),
        update_time: (shown.rolled || previous.is_some()).then_some(shown.updated),
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
/// once it has committed. Lync keeps two copies per use, current and previous
/// (assign-a-server-to-server-certificate.md): a plain assignment makes the new certificate
/// current and the replaced one previous; a roll stages the new one beside the serving one
/// (which becomes previous at the effective time), replacing any earlier staged roll. A roll
/// whose effective date has already passed puts the new certificate in service at once, with the
/// serving one as previous (Set-CsCertificate's own example date, 7/22/2012, is in the past).
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
        // Only the serving certificate stays (it becomes previous); staged rolls, the old
        // previous and anything older go: two copies per use.
        for r in rows
            .iter()
            .filter(|r| st.current.as_ref().is_none_or(|cur| cur.id != r.id))
        {
            tx.delete_assignment(r.id)?;
        }
        let effective = match a.effective {
            Some(e) if a.roll && e > now => e,
            _ => now,
        };
        tx.assign(scope, u.name(), a.thumbprint, effective, a.roll, now)?;
        let cn = c.subject_cn.first().cloned().unwrap_or_default();
        let when = match a.effective {
            Some(e) if a.roll && e > now => {
                format!(" (staged; effective {})", e.format("%m/%d/%Y %H:%M:%S UTC"))
            }
            Some(e) if a.roll => format!(
                " (the effective date {} has passed: in service now)",
                e.format("%m/%d/%Y %H:%M:%S UTC")
            ),
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
