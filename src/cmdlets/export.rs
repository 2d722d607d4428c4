//! Export-CsCertificate [cscert]: a certificate with its private key, as PFX (modern or
//! -Legacy) or PEM with an encrypted key, for the other members of an Edge pool.

use super::Ctx;
use crate::binder::Bound;
use crate::error::{Category, CsError, CsResult};
use crate::ops::certs;
use crate::output::file::Existing;
use crate::pki::pfx::{write_encrypted_pem_bundle, write_pfx};

pub fn exec(b: &Bound, ctx: &mut Ctx) -> CsResult<()> {
    let thumbprint = certs::normalize_thumbprint(b.str("Thumbprint").expect("mandatory"))?;
    let path_arg = b.str("Path").expect("mandatory");
    let pem = b.enum_value("Format") == Some("Pem");
    let legacy = b.switch("Legacy");
    if pem && legacy {
        return Err(CsError::failed(
            "LegacyIsForPfx",
            Category::InvalidArgument,
            "-Legacy applies to PFX files only; leave it out with -Format Pem.",
        ));
    }
    let Some(password) = ctx.password(b.str("Password")) else {
        return Err(CsError::failed(
            "PasswordRequired",
            Category::SecurityError,
            "A private key is exported only with a password: give -Password, or set $env:CSCERT_PASSWORD so that it does not appear in the process list.",
        ));
    };
    let (row, c, chain, key) = ctx.store()?.read(|tx| -> CsResult<_> {
        let (row, c) = certs::load(tx, &thumbprint)?;
        let chain = certs::known_chain(tx, &row, &c)?;
        // Keys encrypted at rest are opened here, and only here.
        let key = match row.key_pkcs8.as_deref() {
            Some(k) => Some(tx.open_key(k)?),
            None => None,
        };
        Ok((row, c, chain, key))
    })?;
    let Some(key) = key.as_deref() else {
        return Err(CsError::failed(
            "CertificateWithoutPrivateKey",
            Category::InvalidOperation,
            format!("The certificate \"{thumbprint}\" ({}) has no private key in the store, so there is nothing to export with it.", c.subject),
        )
        .with_target(thumbprint));
    };
    if !row.exportable {
        return Err(CsError::failed(
            "PrivateKeyNotExportable",
            Category::SecurityError,
            format!("The private key of \"{thumbprint}\" ({}) was not made exportable. Request the certificate again with -PrivateKeyExportable $true (Edge pools need it), or import it with -PrivateKeyExportable $true.", c.subject),
        )
        .with_target(thumbprint));
    }
    let target = ctx.output_target("-Path", path_arg, b.switch("Force"), Existing::NeedsForce)?;
    let path = target.path.clone();
    let what = match (pem, legacy) {
        (true, _) => "PEM (certificate, chain, encrypted PKCS#8 key)",
        (false, true) => "PFX (3DES + SHA-1, for Windows Server 2012 R2 / 2016)",
        (false, false) => "PFX (AES-256 + SHA-256)",
    };
    if !ctx.should_process(
        &path.display().to_string(),
        &format!("Export {thumbprint} with its private key as {what}"),
    )? {
        return Ok(());
    }
    let bytes = if pem {
        write_encrypted_pem_bundle(&row.der, &chain, key, &password).map(String::into_bytes)
    } else {
        write_pfx(
            &row.der,
            &chain,
            key,
            &password,
            row.friendly_name.as_deref(),
            legacy,
        )
    }
    .map_err(|e| {
        CsError::failed(
            "ExportFailed",
            Category::InvalidOperation,
            format!("The certificate could not be exported: {e}"),
        )
    })?;
    // Owner-only: the file holds the (encrypted) private key.
    target.write(&bytes, true).map_err(|e| {
        CsError::failed(
            "ExportNotWritten",
            Category::WriteError,
            format!("'{}' could not be written: {e}", path.display()),
        )
        .with_target(path_arg)
    })?;
    ctx.host.verbose(format!(
        "Exported {thumbprint} to {} as {what}, with {} chain certificate(s).",
        path.display(),
        chain.len()
    ));
    ctx.host.emit(&certs::stored_object(&row, &c));
    Ok(())
}
