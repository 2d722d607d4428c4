//! Import-CsCertificate: brings a CA's answer (or a PFX) into the store, joining a certificate to
//! the pending request whose key it carries; the Cms set also assigns it.

use super::Ctx;
use crate::binder::Bound;
use crate::error::{Category, CsError, CsResult};
use crate::model::CertType;
use crate::ops::certs::{self, Assignment};
use crate::pki::certfile::{read_certificates, CertFileError};
use crate::pki::inspect::inspect_der_certificate;
use crate::store::CertRow;

pub fn file_error(path: &str, e: CertFileError) -> CsError {
    let (id, cat, msg) = match &e {
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
            format!("'{path}' cannot be imported: {e}. cscert imports DER or PEM .cer/.crt/.pem, PKCS#7 .p7b and PKCS#12 .pfx files."),
        ),
    };
    CsError::failed(id, cat, msg).with_target(path)
}

/// Loads a certificate file into the store (inside one transaction with the optional
/// assignment); shared with Set-CsCertificate -Path.
/// An assignment to make together with the import: uses, -Identity, -Roll, -EffectiveDate.
pub type AssignRequest<'a> = (
    &'a [crate::model::CertType],
    Option<&'a str>,
    bool,
    Option<chrono::DateTime<chrono::Utc>>,
);

pub fn import_file(ctx: &mut Ctx, b: &Bound, assign: Option<AssignRequest<'_>>) -> CsResult<()> {
    let path = b.str("Path").expect("mandatory");
    let bytes = certs::read_input(ctx, path, certs::CERT_FILE_LIMIT)?;
    let password = ctx.password(b.str("Password"));
    let loaded = read_certificates(&bytes, password.as_deref()).map_err(|e| file_error(path, e))?;
    let leaf = inspect_der_certificate(&loaded.leaf)
        .map_err(|e| file_error(path, CertFileError::NotACertificate(e.to_string())))?;
    let thumbprint = leaf
        .thumbprint
        .clone()
        .expect("certificates have thumbprints");
    let force = b.switch("Force");
    let now = ctx.now;
    let local_roll_uses = match assign {
        Some(([], None, true, _)) => Some(uses_to_roll(ctx, &leaf.spki_der, &leaf.subject, path)?),
        _ => None,
    };
    let assignment = assign.map(|(uses, identity, roll, effective)| {
        let uses = local_roll_uses.as_deref().unwrap_or(uses);
        Assignment::new(ctx, &thumbprint, uses, identity, roll, effective)
    });
    if !ctx.should_process(
        &format!("{thumbprint} ({})", leaf.subject),
        "Import certificate",
    )? {
        return Ok(());
    }
    let is_ca = leaf.basic_constraints_ca == Some(true);
    let exportable_param = b.bool("PrivateKeyExportable");
    let (object, lines, new) = ctx.store()?.write(|tx| -> CsResult<_> {
        let pending = tx.request_by_spki(&leaf.spki_der)?;
        let (key, request_id, exportable) = match (&loaded.private_key_pkcs8, &pending) {
            (Some(k), _) => (Some(k.clone()), pending.as_ref().map(|r| r.id), exportable_param.unwrap_or(false)),
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
        pool.extend(certs::store_pool(&tx)?);
        if let Some(crate::pki::chain::ChainProblem::BadSignature { subject, issuer }) =
            crate::pki::chain::check(&loaded.leaf, &pool, None)
                .problems
                .into_iter()
                .next()
        {
            return Err(CsError::failed(
                "CertificateSignatureInvalid",
                Category::SecurityError,
                format!("'{path}' was not imported: the signature of {subject} does not verify with the key of its issuer {issuer}. The certificate was altered or forged; get it again from the CA."),
            )
            .with_target(thumbprint.clone()));
        }
        let known = tx.certificate(&thumbprint)?;
        if key.is_none() && !is_ca && !force && known.as_ref().is_none_or(|k| k.key_pkcs8.is_none()) {
            return Err(CsError::failed(
                "NoMatchingRequest",
                Category::ObjectNotFound,
                format!("The certificate \"{thumbprint}\" ({}) answers no pending request in the store, and '{path}' holds no private key. Import the PFX that carries its key, or use -Force to store the certificate without a key.", leaf.subject),
            )
            .with_target(thumbprint.clone()));
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
            certs::check_assignable(&stored, &leaf, now)?;
            lines = certs::apply(&tx, a, &leaf, now)?;
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
    for l in lines {
        ctx.host.info(l);
    }
    ctx.host.emit(&object);
    Ok(())
}

/// The uses an `Import-CsCertificate -Path ... -Roll -EffectiveDate` (the Local set, no -Type)
/// stages the certificate for: the uses of the pending request it answers, else the uses whose
/// serving certificate (this computer or global) has the same subject: a renewal.
fn uses_to_roll(ctx: &mut Ctx, spki: &[u8], subject: &str, path: &str) -> CsResult<Vec<CertType>> {
    let mut scopes = certs::scopes_for_reading(ctx, None);
    scopes.dedup();
    let now = ctx.now;
    let uses = ctx.store()?.read(|tx| -> CsResult<Vec<CertType>> {
        if let Some(r) = tx.request_by_spki(spki)? {
            let uses: Vec<CertType> = r.uses.split(',').filter_map(CertType::parse).collect();
            if !uses.is_empty() {
                return Ok(uses);
            }
        }
        let mut uses = Vec::new();
        for (_, u, st) in certs::states(tx, &scopes, now)? {
            let Some(cur) = &st.current else { continue };
            if let Some(row) = tx.certificate(&cur.thumbprint)? {
                if certs::parse(&row)?.subject.eq_ignore_ascii_case(subject) && !uses.contains(&u) {
                    uses.push(u);
                }
            }
        }
        Ok(uses)
    })?;
    if uses.is_empty() {
        return Err(CsError::failed(
            "NoUseToRoll",
            Category::InvalidArgument,
            format!("-Roll stages '{path}' ({subject}) for the uses of the request it answers or of the certificate with the same subject that it renews, and it has neither. Give the uses: Import-CsCertificate -Identity <computer or Global> -Type <uses> -Path '{path}' -Roll -EffectiveDate <date>."),
        )
        .with_target(path));
    }
    Ok(uses)
}

pub fn exec(b: &Bound, ctx: &mut Ctx) -> CsResult<()> {
    let roll = b.switch("Roll");
    let effective = b.date("EffectiveDate");
    if b.set == "Cms" {
        certs::check_roll(roll, effective)?;
        let uses = b.uses("Type");
        import_file(ctx, b, Some((&uses, b.str("Identity"), roll, effective)))
    } else if roll {
        // The documented Local set has -Roll (cmdlets.md): stage the certificate for the uses
        // it was requested for (see uses_to_roll).
        certs::check_roll(roll, effective)?;
        import_file(ctx, b, Some((&[], None, true, effective)))
    } else {
        if effective.is_some() {
            return Err(CsError::failed(
                "RollNeedsAssignment",
                Category::InvalidArgument,
                "-EffectiveDate stages an assignment: add -Roll (and -Identity with -Type to name the uses), or use Set-CsCertificate -Roll.",
            ));
        }
        import_file(ctx, b, None)
    }
}
