//! Revoke-CsCertificate: asks the ACME CA that issued a stored certificate to revoke it
//! (RFC 8555 section 7.6), signed by the account that ordered it, and records the revocation
//! in the store, where Set-CsCertificate and Get-CsCertificate find it.

use super::{make_http, read_bundle, request_timeout, runtime, AcmeArgs, AcmeError};
use crate::ops::Ctx;
use crate::store::{RevocationRow, StoreError};
use chrono::{DateTime, Utc};
use instant_acme::{Account, AccountCredentials, RevocationReason, RevocationRequest};
use rustls::pki_types::CertificateDer;
use std::time::Duration;

/// The RFC 5280 reasons an admin gives for an ACME certificate (RFC 8555 7.6 lets a CA refuse
/// others).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Unspecified,
    KeyCompromise,
    Superseded,
    CessationOfOperation,
}

/// The names of [`Reason`], as -Reason takes them.
pub const REASONS: [&str; 4] = [
    "Unspecified",
    "KeyCompromise",
    "Superseded",
    "CessationOfOperation",
];

impl Reason {
    pub fn parse(s: &str) -> Option<Reason> {
        Some(match s.to_ascii_lowercase().as_str() {
            "unspecified" => Reason::Unspecified,
            "keycompromise" => Reason::KeyCompromise,
            "superseded" => Reason::Superseded,
            "cessationofoperation" => Reason::CessationOfOperation,
            _ => return None,
        })
    }

    /// The RFC 5280 name (keyCompromise, ...).
    pub fn name(self) -> &'static str {
        match self {
            Reason::Unspecified => "unspecified",
            Reason::KeyCompromise => "keyCompromise",
            Reason::Superseded => "superseded",
            Reason::CessationOfOperation => "cessationOfOperation",
        }
    }

    fn acme(self) -> RevocationReason {
        match self {
            Reason::Unspecified => RevocationReason::Unspecified,
            Reason::KeyCompromise => RevocationReason::KeyCompromise,
            Reason::Superseded => RevocationReason::Superseded,
            Reason::CessationOfOperation => RevocationReason::CessationOfOperation,
        }
    }
}

/// A revocation that was done (and recorded): Revoke-CsCertificate's object.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Revoked {
    pub thumbprint: String,
    #[serde(serialize_with = "ser_reason")]
    pub reason: Reason,
    #[serde(serialize_with = "crate::output::objects::ser_date")]
    pub revoked: DateTime<Utc>,
    /// The ACME directory that revoked it.
    pub directory: String,
    /// Which key signed the request: "account".
    pub signed_by: &'static str,
}

fn ser_reason<S: serde::Serializer>(r: &Reason, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(r.name())
}

/// Revokes stored certificate `thumbprint` (already normalized) at the CA that issued it.
/// `Ok(None)`: -WhatIf, or the admin declined.
pub fn revoke(
    ctx: &mut Ctx,
    thumbprint: &str,
    reason: Reason,
    force: bool,
    acme: &AcmeArgs<'_>,
) -> Result<Option<Revoked>, AcmeError> {
    let (cert, account, bundle, earlier) = ctx.store()?.read(|tx| {
        let cert = tx.certificate(thumbprint)?;
        let request = cert.as_ref().and_then(|c| c.request_id);
        let account = match request {
            Some(id) => tx.acme_account_of_request(id)?,
            None => None,
        };
        let bundle = match request {
            Some(id) => tx.acme_order_bundle(id)?,
            None => None,
        };
        Ok::<_, StoreError>((cert, account, bundle, tx.revocation(thumbprint)?))
    })?;
    let thumbprint = thumbprint.to_string();
    let cert = cert.ok_or_else(|| AcmeError::CertificateNotStored {
        thumbprint: thumbprint.clone(),
    })?;
    if let Some(r) = earlier {
        return Err(AcmeError::AlreadyRevoked {
            thumbprint,
            reason: r.reason,
            revoked: r.revoked,
        });
    }
    let account = account.ok_or_else(|| AcmeError::NotFromAcme {
        thumbprint: thumbprint.clone(),
    })?;
    if !ctx.should_process_high(
        force,
        &thumbprint,
        &format!(
            "Revoke the certificate at the ACME CA {} (reason {})",
            account.directory,
            reason.name()
        ),
    )? {
        return Ok(None);
    }
    let timeout = Duration::from_secs(super::int_param(
        acme,
        "AcmeTimeoutSec",
        super::DEFAULT_TIMEOUT_SEC,
        1,
        86400,
    )? as u64);
    let (path, pem) = read_bundle(acme, ctx, bundle.as_deref())?;
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let http = make_http(
        pem.as_deref(),
        path.as_ref(),
        request_timeout(timeout),
        super::proxy_of(acme)?,
    )?;
    let creds: AccountCredentials =
        serde_json::from_str(&account.credentials).map_err(|error| {
            AcmeError::AccountUnreadable {
                url: Some(account.url.clone()),
                error,
            }
        })?;
    ctx.host.verbose(format!(
        "Asking {} to revoke {thumbprint} (reason {}), signed by the account {}.",
        account.directory,
        reason.name(),
        super::untrusted::text(&account.url)
    ));
    let rt = runtime()?;
    let stage = format!("the revocation of {thumbprint}");
    rt.block_on(async {
        let work = async {
            let acc = Account::builder_with_http(Box::new(http.clone()))
                .from_credentials(creds)
                .await
                .map_err(|e| super::flow::acme_error(e, &http, "the stored account"))?;
            let der = CertificateDer::from(cert.der.as_slice());
            acc.revoke(&RevocationRequest {
                certificate: &der,
                reason: Some(reason.acme()),
            })
            .await
            .map_err(|e| super::flow::acme_error(e, &http, &stage))
        };
        tokio::select! {
            r = work => r,
            _ = tokio::time::sleep(timeout) => Err(AcmeError::RetrieveTimedOut { limit: timeout }),
        }
    })?;
    let row = RevocationRow {
        thumbprint: thumbprint.clone(),
        reason: reason.name().to_string(),
        revoked: ctx.now,
        signed_by: "account".into(),
    };
    ctx.store()?.write(|tx| -> Result<(), StoreError> {
        tx.insert_revocation(&row)?;
        tx.commit()
    })?;
    Ok(Some(Revoked {
        thumbprint,
        reason,
        revoked: row.revoked,
        directory: account.directory,
        signed_by: "account",
    }))
}
