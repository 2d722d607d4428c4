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
    let mut unverified = None;
    let (object, applied, new) = ctx.store()?.write(|tx| -> Result<_, ImportError> {
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
        // Nothing closer knowing the issuer, the system's trust store is asked; when nothing
        // knows it, the import goes on with a warning (a leaf without its chain is common).
        let mut pool = loaded.chain.clone();
        let mut wanted: Vec<&[u8]> = vec![&loaded.leaf];
        wanted.extend(loaded.chain.iter().map(Vec::as_slice));
        pool.extend(tx.issuer_pool_for_all(&wanted)?);
        let problem = crate::pki::chain::check_with(
            &loaded.leaf,
            &pool,
            None,
            &crate::pki::system_roots::named,
        )
        .problems
        .into_iter()
        .next();
        if let Some(crate::pki::chain::ChainProblem::IssuerUnknown { last, issuer }) = &problem {
            unverified = Some(format!("ISSUER-UNKNOWN: the signature of {last} was not verified: its issuer {issuer} is not in the file, the store or the system's trust store. Import the issuing CA's certificate (Import-CsCertificate -Path <ca file>) so that the signature can be checked."));
        }
        if let Some(crate::pki::chain::ChainProblem::BadSignature { subject, issuer }) = problem {
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
        let mut applied = assign::Applied::default();
        if let Some(a) = &assignment {
            assign::check_assignable(&stored, &leaf, now)?;
            applied = assign::apply(&tx, a, &leaf, now)?;
        }
        tx.commit()?;
        Ok((certs::stored_object(&stored, &leaf), applied, new))
    })?;
    let lines = applied.lines;
    for w in unverified.into_iter().chain(applied.warnings) {
        ctx.host.warning(w);
    }
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ops::TempDir;
    use std::path::{Path, PathBuf};

    /// A self-signed certificate (rcgen: ECDSA P-256, valid until 4096) written as PEM to
    /// `dir/name`, with its private key when `with_key`. Returns the path and its thumbprint.
    pub(crate) fn cert_file(dir: &Path, name: &str, with_key: bool) -> (String, String) {
        let made = rcgen::generate_simple_self_signed(vec!["fe01.contoso.com".to_string()])
            .expect("a self-signed certificate");
        let mut pem = made.cert.pem();
        if with_key {
            pem.push_str(&made.signing_key.serialize_pem());
        }
        let path: PathBuf = dir.join(name);
        std::fs::write(&path, pem).unwrap();
        let thumbprint = inspect_der_certificate(made.cert.der())
            .unwrap()
            .thumbprint
            .unwrap();
        (path.display().to_string(), thumbprint)
    }

    /// Imports `path` (with its key exportable when `exportable`), which must succeed.
    pub(crate) fn imported(ctx: &mut Ctx, path: &str, exportable: bool) -> StoredCertificate {
        let args = ImportArgs {
            path,
            exportable: Some(exportable),
            ..ImportArgs::default()
        };
        import_file(ctx, args)
            .unwrap()
            .expect("not declined")
            .object
    }

    #[test]
    fn a_missing_file_is_not_found_before_a_store_is_made() {
        let dir = TempDir::new("import-missing");
        let mut ctx = Ctx::for_test(dir.0.join("store"));
        let missing = dir.0.join("answer.cer").display().to_string();
        let args = ImportArgs {
            path: &missing,
            ..ImportArgs::default()
        };
        match import_file(&mut ctx, args).unwrap_err() {
            ImportError::Input(InputError::PathNotFound { full, shown }) => {
                assert_eq!(full, dir.0.join("answer.cer"));
                assert_eq!(shown, missing);
            }
            e => panic!("{e:?}"),
        }
        assert!(!dir.0.join("store").exists());
    }

    #[test]
    fn a_file_that_is_no_certificate_is_refused_with_its_path() {
        let dir = TempDir::new("import-junk");
        let mut ctx = Ctx::for_test(dir.0.join("store"));
        let junk = dir.0.join("junk.cer");
        std::fs::write(&junk, "no certificate here").unwrap();
        let shown = junk.display().to_string();
        let args = ImportArgs {
            path: &shown,
            ..ImportArgs::default()
        };
        let e = import_file(&mut ctx, args).unwrap_err();
        match &e {
            ImportError::File {
                path,
                error: CertFileError::NotACertificate(_),
            } => assert_eq!(*path, shown),
            e => panic!("{e:?}"),
        }
        let e = CsError::from(e);
        assert_eq!(e.error_id, "InvalidCertificateFile");
        assert_eq!(e.target.as_deref(), Some(shown.as_str()));
    }

    #[test]
    fn a_certificate_that_answers_no_request_and_has_no_key_needs_force() {
        let dir = TempDir::new("import-force");
        let mut ctx = Ctx::for_test(dir.0.join("store"));
        let (path, thumbprint) = cert_file(&dir.0, "answer.pem", false);
        let args = ImportArgs {
            path: &path,
            ..ImportArgs::default()
        };
        match import_file(&mut ctx, args.clone()).unwrap_err() {
            ImportError::NoMatchingRequest {
                path: p,
                thumbprint: t,
                ..
            } => assert_eq!((p, t), (path.clone(), thumbprint.clone())),
            e => panic!("{e:?}"),
        }
        let args = ImportArgs {
            force: true,
            ..args
        };
        let done = import_file(&mut ctx, args).unwrap().expect("not declined");
        assert_eq!(done.object.core.thumbprint, thumbprint);
        assert!(!done.object.has_private_key);
    }

    #[test]
    fn a_roll_without_uses_needs_a_request_or_a_renewal() {
        let dir = TempDir::new("import-roll");
        let mut ctx = Ctx::for_test(dir.0.join("store"));
        let (path, _) = cert_file(&dir.0, "renewed.pem", true);
        let args = ImportArgs {
            path: &path,
            assign: Some(AssignTo {
                roll: true,
                effective: Some(ctx.now + chrono::Duration::days(7)),
                ..AssignTo::default()
            }),
            ..ImportArgs::default()
        };
        match import_file(&mut ctx, args).unwrap_err() {
            ImportError::NoUseToRoll { path: p, subject } => {
                assert_eq!(p, path);
                assert!(subject.contains("rcgen"), "{subject}");
            }
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn an_assignment_refused_in_the_same_transaction_stores_nothing() {
        let dir = TempDir::new("import-assign");
        let mut ctx = Ctx::for_test(dir.0.join("store"));
        let (path, thumbprint) = cert_file(&dir.0, "bare.pem", false);
        let args = ImportArgs {
            path: &path,
            force: true,
            assign: Some(AssignTo {
                uses: &[CertType::Default],
                identity: Some("fe01.contoso.com"),
                ..AssignTo::default()
            }),
            ..ImportArgs::default()
        };
        match import_file(&mut ctx, args).unwrap_err() {
            ImportError::Assign(AssignError::WithoutPrivateKey { thumbprint: t, .. }) => {
                assert_eq!(t, thumbprint)
            }
            e => panic!("{e:?}"),
        }
        let stored = ctx.store().unwrap().read(|tx| tx.certificate(&thumbprint));
        assert!(stored.unwrap().is_none());
    }
}
