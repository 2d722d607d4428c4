//! Exporting a certificate with its private key (PFX, modern or legacy, or PEM with an
//! encrypted key) for another server, e.g. the other members of an Edge pool.

use super::certs::{self, CertError};
use super::{Ctx, CtxError};
use crate::error::{Category, CsError};
use crate::output::file::{Existing, OutputPathError};
use crate::output::objects::StoredCertificate;
use crate::pki::export::ExportError as WriteError;
use crate::pki::pfx::{write_encrypted_pem_bundle, write_pfx};
use crate::store::StoreError;

/// What to export, where, and how.
#[derive(Debug, Clone, Default)]
pub struct ExportArgs<'a> {
    /// As given: normalised here.
    pub thumbprint: &'a str,
    pub path: &'a str,
    /// PEM (certificate, chain, encrypted PKCS#8) instead of PFX.
    pub pem: bool,
    /// A PFX that Windows Server 2012 R2 / 2016 opens (3DES + SHA-1).
    pub legacy: bool,
    /// `-Password`, else `$CSCERT_PASSWORD` (`Ctx::password`).
    pub password: Option<String>,
    pub force: bool,
}

/// Why nothing was exported.
#[derive(Debug)]
pub enum ExportError {
    LegacyIsForPfx,
    PasswordRequired,
    WithoutPrivateKey {
        thumbprint: String,
        subject: String,
    },
    NotExportable {
        thumbprint: String,
        subject: String,
    },
    /// The PFX or PEM bundle could not be made.
    NotMade(WriteError),
    /// The file could not be written (`shown`: -Path as given).
    NotWritten {
        path: std::path::PathBuf,
        shown: String,
        error: std::io::Error,
    },
    /// The thumbprint is not valid, or its certificate is not in the store or does not read.
    Cert(CertError),
    /// -Path refused before anything is written (empty, in the store, exists without -Force).
    Output(OutputPathError),
    /// The store, or its key (encrypted at rest) that does not open.
    Store(StoreError),
    Ctx(CtxError),
}

crate::ops::wraps!(
    ExportError:
    Cert(CertError),
    Output(OutputPathError),
    Store(StoreError),
    Ctx(CtxError),
);

impl From<ExportError> for CsError {
    fn from(e: ExportError) -> CsError {
        match e {
            ExportError::LegacyIsForPfx => CsError::failed(
                "LegacyIsForPfx",
                Category::InvalidArgument,
                "-Legacy applies to PFX files only; leave it out with -Format Pem.",
            ),
            ExportError::PasswordRequired => CsError::failed(
                "PasswordRequired",
                Category::SecurityError,
                "A private key is exported only with a password: give -Password, or set $env:CSCERT_PASSWORD so that it does not appear in the process list.",
            ),
            ExportError::WithoutPrivateKey { thumbprint, subject } => CsError::without_private_key(&thumbprint, &subject),
            ExportError::NotExportable { thumbprint, subject } => CsError::failed(
                "PrivateKeyNotExportable",
                Category::SecurityError,
                format!("The private key of \"{thumbprint}\" ({subject}) was not made exportable. Request the certificate again with -PrivateKeyExportable $true (Edge pools need it), or import it with -PrivateKeyExportable $true."),
            )
            .with_target(thumbprint),
            ExportError::NotMade(e) => CsError::failed(
                "ExportFailed",
                Category::InvalidOperation,
                format!("The certificate could not be exported: {e}"),
            ),
            ExportError::NotWritten { path, shown, error } => CsError::failed(
                "ExportNotWritten",
                Category::WriteError,
                format!("'{}' could not be written: {error}", path.display()),
            )
            .with_target(shown),
            ExportError::Cert(e) => e.into(),
            ExportError::Output(e) => e.into(),
            ExportError::Store(e) => e.into(),
            ExportError::Ctx(e) => e.into(),
        }
    }
}

/// Writes the file; `Ok(None)`: -WhatIf or declined. Returns the exported certificate.
pub fn export(
    ctx: &mut Ctx,
    args: ExportArgs<'_>,
) -> Result<Option<StoredCertificate>, ExportError> {
    let thumbprint = certs::normalize_thumbprint(args.thumbprint)?;
    let path_arg = args.path;
    let (pem, legacy) = (args.pem, args.legacy);
    if pem && legacy {
        return Err(ExportError::LegacyIsForPfx);
    }
    let Some(password) = args.password else {
        return Err(ExportError::PasswordRequired);
    };
    let (row, c, chain, key) = ctx.store()?.read(|tx| -> Result<_, ExportError> {
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
        return Err(ExportError::WithoutPrivateKey {
            thumbprint,
            subject: c.subject,
        });
    };
    if !row.exportable {
        return Err(ExportError::NotExportable {
            thumbprint,
            subject: c.subject,
        });
    }
    let target = ctx.output_target("-Path", path_arg, args.force, Existing::NeedsForce)?;
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
        return Ok(None);
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
    .map_err(ExportError::NotMade)?;
    // Owner-only: the file holds the (encrypted) private key.
    target
        .write(&bytes, true)
        .map_err(|error| ExportError::NotWritten {
            path: path.clone(),
            shown: path_arg.to_string(),
            error,
        })?;
    ctx.host.verbose(format!(
        "Exported {thumbprint} to {} as {what}, with {} chain certificate(s).",
        path.display(),
        chain.len()
    ));
    Ok(Some(certs::stored_object(&row, &c)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::import::tests::{cert_file, imported};
    use crate::ops::TempDir;

    /// An export of `thumbprint` to `path` as a PFX, with a password.
    fn to<'a>(path: &'a str, thumbprint: &'a str) -> ExportArgs<'a> {
        ExportArgs {
            thumbprint,
            path,
            password: Some("Pa$$w0rd".into()),
            ..ExportArgs::default()
        }
    }

    #[test]
    fn what_is_asked_is_refused_before_the_store_is_opened() {
        let dir = TempDir::new("export-args");
        let mut ctx = Ctx::for_test(dir.0.join("store"));
        let out = dir.0.join("out.pfx").display().to_string();
        let thumbprint = "a1".repeat(20);
        let a = ExportArgs {
            pem: true,
            legacy: true,
            ..to(&out, &thumbprint)
        };
        assert!(matches!(
            export(&mut ctx, a),
            Err(ExportError::LegacyIsForPfx)
        ));
        let a = ExportArgs {
            password: None,
            ..to(&out, &thumbprint)
        };
        assert!(matches!(
            export(&mut ctx, a),
            Err(ExportError::PasswordRequired)
        ));
        match export(&mut ctx, to(&out, "12:34")) {
            Err(ExportError::Cert(CertError::InvalidThumbprint { raw })) => {
                assert_eq!(raw, "12:34")
            }
            r => panic!("{r:?}"),
        }
        assert!(!dir.0.join("store").exists());
    }

    #[test]
    fn an_unknown_thumbprint_is_not_in_the_store() {
        let dir = TempDir::new("export-unknown");
        let mut ctx = Ctx::for_test(dir.0.join("store"));
        let out = dir.0.join("out.pfx").display().to_string();
        let e = export(&mut ctx, to(&out, &"a1".repeat(20))).unwrap_err();
        match &e {
            ExportError::Cert(CertError::NotInStore { thumbprint }) => {
                assert_eq!(*thumbprint, "A1".repeat(20))
            }
            e => panic!("{e:?}"),
        }
        assert_eq!(CsError::from(e).error_id, "CertificateNotFound");
        assert!(!dir.0.join("out.pfx").exists());
    }

    #[test]
    fn a_key_leaves_only_if_exportable_and_a_file_is_replaced_only_with_force() {
        let dir = TempDir::new("export-key");
        let mut ctx = Ctx::for_test(dir.0.join("store"));
        let (kept, kept_thumbprint) = cert_file(&dir.0, "kept.pem", true);
        imported(&mut ctx, &kept, false);
        let out = dir.0.join("out.pfx").display().to_string();
        match export(&mut ctx, to(&out, &kept_thumbprint)) {
            Err(ExportError::NotExportable { thumbprint, .. }) => {
                assert_eq!(thumbprint, kept_thumbprint)
            }
            r => panic!("{r:?}"),
        }
        let (free, free_thumbprint) = cert_file(&dir.0, "free.pem", true);
        imported(&mut ctx, &free, true);
        let done = export(&mut ctx, to(&out, &free_thumbprint)).unwrap();
        assert_eq!(done.expect("not declined").core.thumbprint, free_thumbprint);
        assert!(dir.0.join("out.pfx").is_file());
        match export(&mut ctx, to(&out, &free_thumbprint)) {
            Err(ExportError::Output(OutputPathError::Exists { shown, .. })) => {
                assert_eq!(shown, out)
            }
            r => panic!("{r:?}"),
        }
        let again = ExportArgs {
            force: true,
            ..to(&out, &free_thumbprint)
        };
        assert!(export(&mut ctx, again).unwrap().is_some());
    }
}
