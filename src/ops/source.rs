//! How a certificate was made, recorded when it is issued (Request-CsCertificate -New with a
//! lab CA or an ACME CA), so that Update-CsCertificate can make the next one the same way
//! without a person: the CA, the ACME account and challenge settings, the request's options.

use crate::ops::acme::{AcmeArgs, ChallengeKind, Options};
use crate::ops::Ctx;
use crate::pki::request::Spec;
use crate::store::{CertSource, SourceKind, SourceSettings, StoreError, Tx};
use chrono::{DateTime, Utc};

/// The source of a certificate about to be issued (its thumbprint is filled in when stored).
pub struct Pending {
    pub kind: SourceKind,
    pub settings: SourceSettings,
    pub renews: Option<String>,
}

/// The source of a request issued at once: `ca` as given (-CA), `acme` when it is an ACME
/// directory, the request's subject options from `spec`.
pub fn of_new(
    ctx: &Ctx,
    ca: &str,
    acme: Option<(&Options, &AcmeArgs<'_>)>,
    validity_days: Option<i32>,
    spec: &Spec,
    renews: Option<&str>,
) -> Pending {
    let path = |p: &std::path::PathBuf| p.display().to_string();
    let mut s = SourceSettings {
        client_eku: spec.client_eku,
        organization: spec.organization.clone(),
        ou: spec.ou.clone(),
        city: spec.city.clone(),
        state: spec.state.clone(),
        country: spec.country.clone(),
        template: spec.template.clone(),
        ..SourceSettings::default()
    };
    let kind = match acme {
        Some((o, a)) => {
            s.ca = o.directory.clone();
            s.contact = Some(o.contacts.join(","));
            s.challenge = Some(
                match o.challenge {
                    ChallengeKind::Http01 => "Http01",
                    ChallengeKind::Dns01 => "Dns01",
                }
                .into(),
            );
            s.http_port = a.http_port;
            s.web_root = o.web_root.as_ref().map(path);
            s.dns_hook = o.dns_hook.as_ref().map(path);
            s.dns_wait_sec = a.dns_wait_sec;
            s.timeout_sec = a.timeout_sec;
            s.ca_bundle = o.ca_bundle.as_ref().map(path);
            SourceKind::Acme
        }
        None => {
            // A lab CA is found again by its absolute path, whatever the timer's folder.
            s.ca = ctx.full_path(ca).display().to_string();
            s.validity_days = validity_days;
            SourceKind::LabCa
        }
    };
    Pending {
        kind,
        settings: s,
        renews: renews.map(str::to_string),
    }
}

/// Records the source of a certificate inside the transaction that stores it; an ACME source
/// names the account that made the order of `request_id`.
pub fn record(
    tx: &Tx<'_>,
    p: &Pending,
    thumbprint: &str,
    request_id: i64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut settings = p.settings.clone();
    if p.kind == SourceKind::Acme {
        settings.account_url = tx.acme_account_of_request(request_id)?.map(|a| a.url);
    }
    tx.put_cert_source(&CertSource {
        thumbprint: thumbprint.to_string(),
        kind: p.kind,
        settings,
        renews: p.renews.clone(),
        created: now,
    })
}
