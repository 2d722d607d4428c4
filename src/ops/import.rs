//! Importing a certificate file (a CA's answer, a .p7b, a PFX) into the store, joined to the
//! pending request whose key it carries, optionally assigned in the same transaction.

use super::assign::{self, AssignError, AssignTo, Assignment};
use super::certs::{self, CertError, InputError};
use super::{Ctx, CtxError};
use crate::error::{Category, CsError};
use crate::model::CertType;
use crate::output::objects::StoredCertificate;
use crate::pki::certfile::{read_certificates, CertFileError};
use crate::pki::inspect::inspect_der_certificate;
use crate::store::{CertRow, StoreError};

/// What to import: the file as the user named it, its password, and what to do with it.
#[derive(Debug, Clone, Default)]
pub struct ImportArgs<'a> {
    pub path: &'a str,
    /// `-Password`, else `$CSCERT_PASSWORD` (resolved by the caller: `Ctx::password`).
    pub password: Option<String>,
    /// Store a certificate that answers no request and carries no key.
    pub force: bool,
    /// `-PrivateKeyExportable` for a key the file carries.
    pub exportable: Option<bool>,
    /// Assign it as well (Import's Cms set, `-Roll`, Set-CsCertificate -Path).
    pub assign: Option<AssignTo<'a>>,
}

/// What an import did: the stored certificate, and Lync's assignment lines to print.
#[derive(Debug)]
pub struct Imported {
    pub object: StoredCertificate,
    pub lines: Vec<String>,
}

/// Why an import was refused.
#[derive(Debug)]
pub enum ImportError {
    /// The file does not read as certificates (or the password does not open it).
    File {
        path: String,
        error: CertFileError,
    },
    /// The certificate does not verify against an issuer the file or the store knows.
    SignatureInvalid {
        path: String,
        thumbprint: String,
        subject: String,
        issuer: String,
    },
    /// No pending request has its key, the file has none, and -Force was not given.
    NoMatchingRequest {
        path: String,
        thumbprint: String,
        subject: String,
    },
    /// `-Roll` without `-Type`, and neither a request nor a renewed certificate names the uses.
    NoUseToRoll {
        path: String,
        subject: String,
    },
    /// The file was not found or not read.
    Input(InputError),
    /// The certificate cannot be assigned as asked (or the assignment not written).
    Assign(AssignError),
    /// A certificate in the store that does not read (looking for the uses to roll).
    Cert(CertError),
    Store(StoreError),
    Ctx(CtxError),
}

crate::ops::wraps!(
    ImportError:
    Input(InputError),
    Assign(AssignError),
    Cert(CertError),
    Store(StoreError),
    Ctx(CtxError),
);

impl From<ImportError> for CsError {
    fn from(e: ImportError) -> CsError {
        match e {
            ImportError::File { path, error } => {
                let (id, cat, msg) = match &error {
                    CertFileError::WrongPassword => (
                        "WrongPassword",
                        Category::SecurityError,
                        format!("The specified network password is not correct: '{path}' does not open with the password given. Check the password (or $env:CSCERT_PASSWORD); if it is right, the file is damaged: export it again."),
                    ),
                    CertFileError::Pfx(crate::pki::pfx::PfxError::Damaged) => (
                        "PfxDamaged",
                        Category::InvalidData,
                        format!("'{path}' is damaged: the password opens its private key, but its integrity check (MAC) fails, so the file was altered or cut after it was made. Export the PFX again."),
                    ),
                    CertFileError::PasswordRequired => (
                        "PasswordRequired",
                        Category::SecurityError,
                        format!("'{path}' is a password-protected PFX. Give -Password (or set $env:CSCERT_PASSWORD)."),
                    ),
                    _ => (
                        "InvalidCertificateFile",
                        Category::InvalidData,
                        format!("'{path}' cannot be imported: {error}. cscert imports DER or PEM .cer/.crt/.pem, PKCS#7 .p7b and PKCS#12 .pfx files."),
                    ),
                };
                CsError::failed(id, cat, msg).with_target(path)
            }
            ImportError::SignatureInvalid { path, thumbprint, subject, issuer } => CsError::failed(
                "CertificateSignatureInvalid",
                Category::SecurityError,
                format!("'{path}' was not imported: the signature of {subject} does not verify with the key of its issuer {issuer}. The certificate was altered or forged; get it again from the CA."),
            )
            .with_target(thumbprint),
            ImportError::NoMatchingRequest { path, thumbprint, subject } => CsError::failed(
                "NoMatchingRequest",
                Category::ObjectNotFound,
                format!("The certificate \"{thumbprint}\" ({subject}) answers no pending request in the store, and '{path}' holds no private key. Import the PFX that carries its key, or use -Force to store the certificate without a key."),
            )
            .with_target(thumbprint),
            ImportError::NoUseToRoll { path, subject } => CsError::failed(
                "NoUseToRoll",
                Category::InvalidArgument,
                format!("-Roll stages '{path}' ({subject}) for the uses of the request it answers or of the certificate with the same subject that it renews, and it has neither. Give the uses: Import-CsCertificate -Identity <computer or Global> -Type <uses> -Path '{path}' -Roll -EffectiveDate <date>."),
            )
            .with_target(path),
            ImportError::Input(e) => e.into(),
            ImportError::Assign(e) => e.into(),
            ImportError::Cert(e) => e.into(),
            ImportError::Store(e) => e.into(),
            ImportError::Ctx(e) => e.into(),
        }
    }
}

/// Loads a certificate file into the store, inside one transaction with the optional
/// assignment. `Ok(None)`: -WhatIf or a declined confirmation, nothing was done.
pub fn import_file(ctx: &mut Ctx, args: ImportArgs<'_>) -> Result<Option<Imported>, ImportError> {
    let path = args.path;
    let file_err = |error| ImportError::File {
        path: path.to_string(),
        error,
    };
    let bytes = certs::read_input(ctx, path, certs::CERT_FILE_LIMIT)?;
    let loaded = read_certificates(&bytes, args.password.as_deref()).map_err(file_err)?;
    let leaf = inspect_der_certificate(&loaded.leaf)
        .map_err(|e| file_err(CertFileError::NotACertificate(e.to_string())))?;
    let thumbprint = leaf
        .thumbprint
        .clone()
        .expect("certificates have thumbprints");
    let force = args.force;
    let now = ctx.now;
    let local_roll_uses = match &args.assign {
        Some(AssignTo {
            uses: [],
            identity: None,
            roll: true,
            ..
        }) => Some(uses_to_roll(ctx, &leaf.spki_der, &leaf.subject, path)?),
        _ => None,
    };
    let assignment = args.assign.map(|a| {
        let uses = local_roll_uses.as_deref().unwrap_or(a.uses);
        Assignment::new(ctx, &thumbprint, uses, a.identity, a.roll, a.effective)
    });
    if !ctx.should_process(
        &format!("{thumbprint} ({})", leaf.subject),
        "Import certificate",
    )? {
        return Ok(None);
    }
    let is_ca = leaf.basic_constraints_ca == Some(true);
    let exportable_param = args.exportable;
    let (object, lines, new) = ctx.store()?.write(|tx| -> Result<_, ImportError> {
        let pending = tx.request_by_spki(&leaf.spki_der)?;
        let (key, request_id, exportable) = match (&loaded.private_key_pkcs8, &pending) {
            (Some(k), _) => (
                Some(k.clone()),
                pending.as_ref().map(|r| r.id),
                exportable_param.unwrap_or(false),
            ),
            // The key was made by Request-CsCertificate: whether it may leave the store was
            // decided then (-PrivateKeyExportable of the request). -PrivateKeyExportable here
            // applies to a key the file carries (a PFX); it must not unlock a key made
            // non-exportable.
            (None, Some(r)) => (tx.request_key(r.id)?, Some(r.id), r.exportable),
            (None, None) => (None, None, false),
        };
        // A certificate whose issuer is known (in the file or the store) must verify against
        // it: an altered certificate is refused.
        let mut pool = loaded.chain.clone();
        pool.extend(tx.certificate_pool()?);
        if let Some(crate::pki::chain::ChainProblem::BadSignature { subject, issuer }) =
            crate::pki::chain::check(&loaded.leaf, &pool, None)
                .problems
                .into_iter()
                .next()
        {
            return Err(ImportError::SignatureInvalid {
                path: path.to_string(),
                thumbprint: thumbprint.clone(),
                subject,
                issuer,
            });
        }
        let known = tx.certificate(&thumbprint)?;
        if key.is_none() && !is_ca && !force && known.as_ref().is_none_or(|k| k.key_pkcs8.is_none())
        {
            return Err(ImportError::NoMatchingRequest {
                path: path.to_string(),
                thumbprint: thumbprint.clone(),
                subject: leaf.subject.clone(),
            });
        }
        let new = tx.put_certificate(&CertRow {
            thumbprint: thumbprint.clone(),
            der: loaded.leaf.clone(),
            chain: loaded.chain.clone(),
            key_pkcs8: key,
            exportable,
            friendly_name: pending.as_ref().and_then(|r| r.friendly_name.clone()),
            request_id,
            added: now,
            spki_der: leaf.spki_der.clone(),
        })?;
        if let Some(id) = request_id {
            tx.complete_request(id, &thumbprint)?;
        }
        let stored = tx.certificate(&thumbprint)?.expect("just stored");
        let mut lines = Vec::new();
        if let Some(a) = &assignment {
            assign::check_assignable(&stored, &leaf, now)?;
            lines = assign::apply(&tx, a, &leaf, now)?;
        }
        tx.commit()?;
        Ok((certs::stored_object(&stored, &leaf), lines, new))
    })?;
    if exportable_param == Some(true)
        && loaded.private_key_pkcs8.is_none()
        && object.has_private_key
        && !object.private_key_exportable
    {
        ctx.host.warning(format!("-PrivateKeyExportable $true does not apply: the private key of {thumbprint} was made by a request without -PrivateKeyExportable $true and stays non-exportable. Request the certificate again with -PrivateKeyExportable $true if it must be exported."));
    }
    if !new {
        ctx.host.verbose(format!(
            "The certificate {thumbprint} was already in the store; nothing new was added."
        ));
    }
    if let Some(id) = object.request_id {
        ctx.host.verbose(format!("The certificate {thumbprint} completes request {id}; it is joined to that request's private key."));
    }
    Ok(Some(Imported { object, lines }))
}

/// The uses an `Import-CsCertificate -Path ... -Roll -EffectiveDate` (the Local set, no -Type)
/// stages the certificate for: the uses of the pending request it answers, else the uses whose
/// serving certificate (this computer or global) has the same subject: a renewal.
fn uses_to_roll(
    ctx: &mut Ctx,
    spki: &[u8],
    subject: &str,
    path: &str,
) -> Result<Vec<CertType>, ImportError> {
    let mut scopes = assign::scopes_for_reading(ctx, None);
    scopes.dedup();
    let now = ctx.now;
    let uses = ctx
        .store()?
        .read(|tx| -> Result<Vec<CertType>, ImportError> {
            if let Some(r) = tx.request_by_spki(spki)? {
                let uses: Vec<CertType> = r.uses.split(',').filter_map(CertType::parse).collect();
                if !uses.is_empty() {
                    return Ok(uses);
                }
            }
            let mut uses = Vec::new();
            for (_, u, st) in assign::states(tx, &scopes, now)? {
                let Some(cur) = &st.current else { continue };
                if let Some(row) = tx.certificate(&cur.thumbprint)? {
                    if certs::parse(&row)?.subject.eq_ignore_ascii_case(subject)
                        && !uses.contains(&u)
                    {
                        uses.push(u);
                    }
                }
            }
            Ok(uses)
        })?;
    if uses.is_empty() {
        return Err(ImportError::NoUseToRoll {
            path: path.to_string(),
            subject: subject.to_string(),
        });
    }
    Ok(uses)
}
