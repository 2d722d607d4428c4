//! What the operations share about certificates: thumbprints, store look-ups, bounded input
//! files, the issuers the store knows, -TrustedRoot.

use super::Ctx;
use crate::error::{Category, CsError, CsResult};
use crate::model::CertType;
use crate::output::objects::{CertificateCore, StoredCertificate};
use crate::pki::inspect::{inspect_der_certificate, Inspected};
use crate::store::{CertRow, Tx};
use std::path::Path;

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
            CsError::path_not_found(&full, path)
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
    Ok(ctx.store()?.read(|tx| tx.certificate_pool())?)
}

/// `-TrustedRoot <file or folder>,...`: the trusted root certificates, or `None` when not given.
pub fn trusted_roots(ctx: &mut Ctx, paths: &[String]) -> CsResult<Option<Vec<Vec<u8>>>> {
    if paths.is_empty() {
        return Ok(None);
    }
    let mut roots = Vec::new();
    for p in paths {
        let full = ctx.full_path(p);
        let mut files = Vec::new();
        if full.is_dir() {
            let rd = std::fs::read_dir(&full)
                .map_err(|e| CsError::folder_not_read(&full, &e, p.clone()))?;
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
        assert!(e.message.contains("43 characters"), "{}", e.message);
        assert!(normalize_thumbprint("Z66D9BB0E8B928B65AF38FA2D9F41E1B301ECE9D").is_err());
    }
}
