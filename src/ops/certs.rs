//! What the operations share about certificates: thumbprints, store look-ups, bounded input
//! files, the issuers the store knows, -TrustedRoot.

use super::Ctx;
use crate::error::{Category, CsError};
use crate::model::CertType;
use crate::output::objects::{CertificateCore, StoredCertificate};
use crate::pki::inspect::{inspect_der_certificate, InspectError, Inspected};
use crate::store::{CertRow, StoreError, Tx};
use std::path::{Path, PathBuf};

/// Why an input file or folder the user named was not read (`shown`: the path as given).
#[derive(Debug)]
pub enum InputError {
    PathNotFound {
        full: PathBuf,
        shown: String,
    },
    FolderNotRead {
        full: PathBuf,
        shown: String,
        error: std::io::Error,
    },
    /// Larger than the limit of its kind (see [`read_limited`]).
    TooLarge {
        full: PathBuf,
        shown: String,
        error: std::io::Error,
    },
    NotRead {
        full: PathBuf,
        shown: String,
        error: std::io::Error,
    },
}

impl InputError {
    /// [`read_limited`]'s error, by its kind.
    pub fn of_read(full: PathBuf, shown: &str, error: std::io::Error) -> InputError {
        let shown = shown.to_string();
        match error.kind() {
            std::io::ErrorKind::NotFound => InputError::PathNotFound { full, shown },
            std::io::ErrorKind::FileTooLarge => InputError::TooLarge { full, shown, error },
            _ => InputError::NotRead { full, shown, error },
        }
    }
}

impl From<InputError> for CsError {
    fn from(e: InputError) -> CsError {
        match e {
            InputError::PathNotFound { full, shown } => CsError::path_not_found(&full, shown),
            InputError::FolderNotRead { full, shown, error } => {
                CsError::folder_not_read(&full, &error, shown)
            }
            InputError::TooLarge { full, shown, error } => CsError::failed(
                "FileTooLarge",
                Category::InvalidData,
                format!("'{}' was not read: {error}.", full.display()),
            )
            .with_target(shown),
            InputError::NotRead { full, shown, error } => CsError::failed(
                "FileNotRead",
                Category::ReadError,
                format!("Cannot read '{}': {error}", full.display()),
            )
            .with_target(shown),
        }
    }
}

/// Why a certificate the user named (or the store holds) cannot be used.
#[derive(Debug)]
pub enum CertError {
    /// Not 40 hex digits once spaces, colons and U+200E are taken out (`raw`: as given).
    InvalidThumbprint {
        raw: String,
    },
    NotInStore {
        thumbprint: String,
    },
    /// A stored certificate whose DER does not parse.
    StoredUnreadable {
        thumbprint: String,
        error: InspectError,
    },
    /// An assigned certificate's row that cannot be read (`cause`: `Store` or
    /// `StoredUnreadable`).
    AssignedUnreadable {
        thumbprint: String,
        use_: CertType,
        scope: String,
        cause: Box<CertError>,
    },
    /// A -TrustedRoot file or folder with no certificate in it.
    NoTrustedRoot {
        full: PathBuf,
        shown: String,
    },
    Input(InputError),
    Store(StoreError),
}

crate::ops::wraps!(CertError: Store(StoreError), Input(InputError));

impl From<CertError> for CsError {
    fn from(e: CertError) -> CsError {
        match e {
            CertError::InvalidThumbprint { raw } => {
                let t = cleaned_thumbprint(&raw);
                let digits = t.chars().filter(|c| c.is_ascii_hexdigit()).count();
                CsError::failed(
                    "InvalidThumbprint",
                    Category::InvalidArgument,
                    format!("The thumbprint \"{raw}\" is not valid: a thumbprint is the SHA-1 hash of the certificate, 40 hexadecimal digits; this one has {} characters ({digits} hexadecimal digits).", t.chars().count()),
                )
                .with_target(raw)
            }
            CertError::NotInStore { thumbprint } => CsError::failed(
                "CertificateNotFound",
                Category::ObjectNotFound,
                format!("No certificate with the thumbprint \"{thumbprint}\" is in the store. Import it first (Import-CsCertificate -Path <file>)."),
            )
            .with_target(thumbprint),
            CertError::StoredUnreadable { thumbprint, error } => CsError::failed(
                "StoredCertificateUnreadable",
                Category::InvalidData,
                format!("The stored certificate {thumbprint} cannot be read: {error}"),
            ),
            CertError::AssignedUnreadable { thumbprint, use_, scope, cause } => {
                let why = CsError::from(*cause).message;
                CsError::failed(
                    "StoredCertificateUnreadable",
                    Category::InvalidData,
                    format!(
                        "The certificate {thumbprint} assigned for the type \"{use_}\" at {scope} cannot be read from the store ({}). Import it again (Import-CsCertificate -Path <file>) or assign another certificate.",
                        why.trim_end_matches('.')
                    ),
                )
                .with_target(thumbprint)
            }
            CertError::NoTrustedRoot { full, shown } => CsError::failed(
                "NoTrustedRootFound",
                Category::InvalidData,
                format!(
                    "-TrustedRoot '{}' holds no certificate (PEM, DER or PKCS#7).",
                    full.display()
                ),
            )
            .with_target(shown),
            CertError::Input(e) => e.into(),
            CertError::Store(e) => e.into(),
        }
    }
}

/// A thumbprint without the spaces, colons and U+200E that Windows shows with it, upper case.
fn cleaned_thumbprint(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{200e}' && *c != ':')
        .collect::<String>()
        .to_ascii_uppercase()
}

/// Accepts thumbprints as Windows shows them (spaces, a stray U+200E from the certificate
/// dialog, lower case) and requires 40 hex digits.
pub fn normalize_thumbprint(raw: &str) -> Result<String, CertError> {
    let t = cleaned_thumbprint(raw);
    if t.len() != 40 || !t.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(CertError::InvalidThumbprint {
            raw: raw.to_string(),
        });
    }
    Ok(t)
}

/// A stored certificate and its parsed form.
pub fn load(tx: &Tx<'_>, thumbprint: &str) -> Result<(CertRow, Inspected), CertError> {
    let row = tx
        .certificate(thumbprint)?
        .ok_or_else(|| CertError::NotInStore {
            thumbprint: thumbprint.to_string(),
        })?;
    let parsed = parse(&row)?;
    Ok((row, parsed))
}

/// A stored certificate row; a row that cannot even be read (damaged columns) is an error.
pub fn row_of(tx: &Tx<'_>, thumbprint: &str) -> Result<Option<CertRow>, CertError> {
    Ok(tx.certificate(thumbprint)?)
}

/// The error of one bad assigned row: which certificate, which use, and why.
pub fn row_error(cause: CertError, thumbprint: &str, use_: CertType, scope: &str) -> CertError {
    CertError::AssignedUnreadable {
        thumbprint: thumbprint.to_string(),
        use_,
        scope: scope.to_string(),
        cause: Box::new(cause),
    }
}

pub fn parse(row: &CertRow) -> Result<Inspected, CertError> {
    inspect_der_certificate(&row.der).map_err(|error| CertError::StoredUnreadable {
        thumbprint: row.thumbprint.clone(),
        error,
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
pub fn known_chain(tx: &Tx<'_>, row: &CertRow, c: &Inspected) -> Result<Vec<Vec<u8>>, StoreError> {
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
pub fn read_input(ctx: &Ctx, path: &str, limit: u64) -> Result<Vec<u8>, InputError> {
    let full = ctx.full_path(path);
    read_limited(&full, limit).map_err(|e| InputError::of_read(full, path, e))
}

/// The store's certificates when a store exists (a read-only check never creates one).
/// Stored certificates and their chains: the issuers a signature is checked against.
pub fn store_pool_if_any(ctx: &mut Ctx) -> Result<Vec<Vec<u8>>, StoreError> {
    if !ctx.store_dir().join(crate::store::DB_FILE).exists() {
        return Ok(Vec::new());
    }
    ctx.store()?.read(|tx| tx.certificate_pool())
}

/// `-TrustedRoot <file or folder>,...`: the trusted root certificates, or `None` when not given.
pub fn trusted_roots(ctx: &mut Ctx, paths: &[String]) -> Result<Option<Vec<Vec<u8>>>, CertError> {
    if paths.is_empty() {
        return Ok(None);
    }
    let mut roots = Vec::new();
    for p in paths {
        let full = ctx.full_path(p);
        let mut files = Vec::new();
        if full.is_dir() {
            let rd = std::fs::read_dir(&full).map_err(|error| InputError::FolderNotRead {
                full: full.clone(),
                shown: p.clone(),
                error,
            })?;
            for e in rd.flatten() {
                // Regular files (or links to them) only: a FIFO or device is not read.
                if std::fs::metadata(e.path()).is_ok_and(|m| m.is_file()) {
                    files.push(e.path());
                } else if !e.file_type().is_ok_and(|t| t.is_dir()) {
                    ctx.host.verbose(format!(
                        "Skipped '{}': not a regular file.",
                        e.path().display()
                    ));
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
            return Err(CertError::NoTrustedRoot {
                full,
                shown: p.clone(),
            });
        }
    }
    Ok(Some(roots))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(
            matches!(&e, CertError::InvalidThumbprint { raw } if raw.len() == 43),
            "{e:?}"
        );
        let e = CsError::from(e);
        assert!(e.message.contains("43 characters"), "{}", e.message);
        assert!(normalize_thumbprint("Z66D9BB0E8B928B65AF38FA2D9F41E1B301ECE9D").is_err());
    }
}
