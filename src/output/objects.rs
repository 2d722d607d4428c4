//! The Lync-shaped output objects. Field order is the property order pwsh shows.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serializer;

/// Dates as `yyyy-MM-ddTHH:mm:ssZ`: ConvertFrom-Json turns exactly this into [datetime].
pub fn ser_date<S: Serializer>(d: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&d.to_rfc3339_opts(SecondsFormat::Secs, true))
}

pub fn ser_opt_date<S: Serializer>(d: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => ser_date(d, s),
        None => s.serialize_none(),
    }
}

/// The properties every certificate object starts with, in the Lync order.
#[derive(serde::Serialize, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct CertificateCore {
    pub issuer: String,
    #[serde(serialize_with = "ser_date")]
    pub not_after: DateTime<Utc>,
    #[serde(serialize_with = "ser_date")]
    pub not_before: DateTime<Utc>,
    pub serial_number: String,
    pub subject: String,
    pub alternative_names: Vec<String>,
    pub thumbprint: String,
}

impl CertificateCore {
    pub fn of(c: &crate::pki::inspect::Inspected) -> CertificateCore {
        CertificateCore {
            issuer: c.issuer.clone().unwrap_or_default(),
            not_after: c.not_after.unwrap_or_default(),
            not_before: c.not_before.unwrap_or_default(),
            serial_number: c.serial.clone().unwrap_or_default(),
            subject: c.subject.clone(),
            alternative_names: c.dns_names.clone(),
            thumbprint: c.thumbprint.clone().unwrap_or_default(),
        }
    }
}

/// Get-CsCertificate's object: one per assigned use, properties in the Lync order.
#[derive(serde::Serialize, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct AssignedCertificate {
    #[serde(flatten)]
    pub core: CertificateCore,
    #[serde(serialize_with = "ser_opt_date")]
    pub effective_time: Option<DateTime<Utc>>,
    pub previous_thumbprint: Option<String>,
    #[serde(serialize_with = "ser_opt_date")]
    pub update_time: Option<DateTime<Utc>>,
    #[serde(rename = "Use")]
    pub use_name: String,
    pub source_scope: Option<String>,
    /// [cscert] When Revoke-CsCertificate revoked it (only on a revoked certificate).
    #[serde(
        serialize_with = "ser_opt_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub revoked: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation_reason: Option<String>,
}

/// A certificate in the store, as Import-CsCertificate and Request-CsCertificate -CA return it
/// (scripts read `$cert.Thumbprint`).
#[derive(serde::Serialize, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct StoredCertificate {
    #[serde(flatten)]
    pub core: CertificateCore,
    pub friendly_name: Option<String>,
    pub has_private_key: bool,
    pub private_key_exportable: bool,
    pub request_id: Option<i64>,
    pub request_status: Option<&'static str>,
}

/// What Request-CsCertificate -New prints when the certificate is issued at once (a lab CA):
/// the shape of Lync's online request, the certificate properties of Get-CsCertificate with the
/// requested uses (not assigned yet: no EffectiveTime, PreviousThumbprint, UpdateTime or
/// SourceScope), then the store facts Import-CsCertificate prints.
#[derive(serde::Serialize, Debug, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct IssuedCertificate {
    #[serde(flatten)]
    pub core: CertificateCore,
    #[serde(serialize_with = "ser_opt_date")]
    pub effective_time: Option<DateTime<Utc>>,
    pub previous_thumbprint: Option<String>,
    #[serde(serialize_with = "ser_opt_date")]
    pub update_time: Option<DateTime<Utc>>,
    #[serde(rename = "Use")]
    pub uses: Vec<&'static str>,
    pub source_scope: Option<String>,
    pub friendly_name: Option<String>,
    pub has_private_key: bool,
    pub private_key_exportable: bool,
    pub request_id: Option<i64>,
    pub request_status: Option<&'static str>,
}

impl IssuedCertificate {
    pub fn new(stored: StoredCertificate, uses: Vec<&'static str>) -> Self {
        IssuedCertificate {
            core: stored.core,
            effective_time: None,
            previous_thumbprint: None,
            update_time: None,
            uses,
            source_scope: None,
            friendly_name: stored.friendly_name,
            has_private_key: stored.has_private_key,
            private_key_exportable: stored.private_key_exportable,
            request_id: stored.request_id,
            request_status: stored.request_status,
        }
    }
}
