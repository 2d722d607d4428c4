//! Renewal state in the store: how each certificate was made (its source, recorded at issuance,
//! so that an unattended run can make the next one the same way), which certificate a renewed
//! one replaces, and per certificate the ACME renewal window and the offline request written
//! for it.

use super::{parse_ts, ts, StoreResult, Tx};
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

/// Who issued a certificate. A certificate without a recorded source was imported (or stored
/// before sources were recorded) and is renewed through an offline request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Acme,
    LabCa,
}

impl SourceKind {
    pub fn name(self) -> &'static str {
        match self {
            SourceKind::Acme => "Acme",
            SourceKind::LabCa => "LabCa",
        }
    }

    fn parse(s: &str) -> Option<SourceKind> {
        match s {
            "Acme" => Some(SourceKind::Acme),
            "LabCa" => Some(SourceKind::LabCa),
            _ => None,
        }
    }
}

/// Everything a later run needs to ask the same CA for the same certificate again: the CA (an
/// ACME directory URL or a lab CA's absolute path), the ACME account and challenge settings,
/// and the request's options. No secret is kept here (the account key stays in its own table).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct SourceSettings {
    pub ca: String,
    /// The ACME account's contact key (contacts joined by commas), which finds the account.
    pub contact: Option<String>,
    pub account_url: Option<String>,
    /// `Http01` or `Dns01`.
    pub challenge: Option<String>,
    pub http_port: Option<i32>,
    pub web_root: Option<String>,
    pub dns_hook: Option<String>,
    pub dns_wait_sec: Option<i32>,
    pub timeout_sec: Option<i32>,
    pub ca_bundle: Option<String>,
    pub validity_days: Option<i32>,
    pub client_eku: bool,
    pub organization: Option<String>,
    pub ou: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    pub template: Option<String>,
}

/// One certificate's source.
#[derive(Debug, Clone)]
pub struct CertSource {
    pub thumbprint: String,
    pub kind: SourceKind,
    pub settings: SourceSettings,
    /// The certificate this one was issued to replace (Update-CsCertificate).
    pub renews: Option<String>,
    pub created: DateTime<Utc>,
}

/// What renewal remembers about a certificate between runs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RenewalState {
    /// The CA's suggested renewal window (RFC 9773) and the moment chosen in it.
    pub ari_start: Option<DateTime<Utc>>,
    pub ari_end: Option<DateTime<Utc>>,
    pub ari_moment: Option<DateTime<Utc>>,
    /// Not before this time is the CA asked again (its Retry-After).
    pub ari_next_check: Option<DateTime<Utc>>,
    /// The offline request written to renew an imported certificate (written once).
    pub offline_request_id: Option<i64>,
}

fn opt_ts(d: Option<DateTime<Utc>>) -> Option<String> {
    d.map(ts)
}

fn opt_parse(s: Option<String>) -> rusqlite::Result<Option<DateTime<Utc>>> {
    s.as_deref().map(parse_ts).transpose()
}

const SOURCE_COLS: &str = "thumbprint, kind, settings, renews, created";

/// A `cert_sources` row; None for one this version cannot read (an unknown kind, settings or
/// time), which then counts as a certificate whose source is not known.
fn source_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Option<CertSource>> {
    let (kind, settings, created): (String, String, String) = (r.get(1)?, r.get(2)?, r.get(4)?);
    Ok((|| {
        Some(CertSource {
            thumbprint: r.get(0).ok()?,
            kind: SourceKind::parse(&kind)?,
            settings: serde_json::from_str(&settings).ok()?,
            renews: r.get(3).ok()?,
            created: parse_ts(&created).ok()?,
        })
    })())
}

impl Tx<'_> {
    /// Records (or replaces) how a certificate was made.
    pub fn put_cert_source(&self, s: &CertSource) -> StoreResult<()> {
        let settings = serde_json::to_string(&s.settings).expect("settings serialize");
        self.0.execute(
            "INSERT INTO cert_sources (thumbprint, kind, settings, renews, created) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(thumbprint) DO UPDATE SET kind = excluded.kind, settings = excluded.settings,
             renews = COALESCE(excluded.renews, cert_sources.renews)",
            params![s.thumbprint, s.kind.name(), settings, s.renews, ts(s.created)],
        )?;
        Ok(())
    }

    /// How a certificate was made; None when it was imported (or its source is not known).
    pub fn cert_source(&self, thumbprint: &str) -> StoreResult<Option<CertSource>> {
        let mut st = self.0.prepare_cached(&format!(
            "SELECT {SOURCE_COLS} FROM cert_sources WHERE thumbprint = ?1"
        ))?;
        let row = st.query_row(params![thumbprint], source_row).optional()?;
        Ok(row.flatten())
    }

    /// Every recorded source (one query: a run over many certificates reads them at once).
    pub fn cert_sources(&self) -> StoreResult<Vec<CertSource>> {
        let mut st = self.0.prepare(&format!(
            "SELECT {SOURCE_COLS} FROM cert_sources ORDER BY created DESC, rowid DESC"
        ))?;
        let rows = st
            .query_map([], source_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows.into_iter().flatten().collect())
    }

    /// Every certificate's thumbprint and DER (no keys or chains: what planning reads).
    pub fn certificate_ders(&self) -> StoreResult<Vec<(String, Vec<u8>)>> {
        let mut st = self.0.prepare("SELECT thumbprint, der FROM certificates")?;
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Every certificate's renewal state, by thumbprint.
    pub fn renewal_states(&self) -> StoreResult<std::collections::HashMap<String, RenewalState>> {
        let mut st = self.0.prepare(
            "SELECT thumbprint, ari_start, ari_end, ari_moment, ari_next_check, offline_request_id FROM renewal_state",
        )?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    RenewalState {
                        ari_start: opt_parse(r.get(1)?)?,
                        ari_end: opt_parse(r.get(2)?)?,
                        ari_moment: opt_parse(r.get(3)?)?,
                        ari_next_check: opt_parse(r.get(4)?)?,
                        offline_request_id: r.get(5)?,
                    },
                ))
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// The certificates issued to renew `thumbprint`, newest first.
    pub fn renewals_of(&self, thumbprint: &str) -> StoreResult<Vec<String>> {
        let mut st = self.0.prepare_cached(
            "SELECT thumbprint FROM cert_sources WHERE renews = ?1 ORDER BY created DESC, rowid DESC",
        )?;
        let rows = st
            .query_map(params![thumbprint], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(rows)
    }

    pub fn renewal_state(&self, thumbprint: &str) -> StoreResult<RenewalState> {
        let mut st = self.0.prepare_cached(
            "SELECT ari_start, ari_end, ari_moment, ari_next_check, offline_request_id FROM renewal_state WHERE thumbprint = ?1",
        )?;
        Ok(st
            .query_row(params![thumbprint], |r| {
                Ok(RenewalState {
                    ari_start: opt_parse(r.get(0)?)?,
                    ari_end: opt_parse(r.get(1)?)?,
                    ari_moment: opt_parse(r.get(2)?)?,
                    ari_next_check: opt_parse(r.get(3)?)?,
                    offline_request_id: r.get(4)?,
                })
            })
            .optional()?
            .unwrap_or_default())
    }

    pub fn put_renewal_state(
        &self,
        thumbprint: &str,
        s: &RenewalState,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.0.execute(
            "INSERT INTO renewal_state (thumbprint, ari_start, ari_end, ari_moment, ari_next_check, offline_request_id, updated)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT(thumbprint) DO UPDATE SET ari_start = excluded.ari_start, ari_end = excluded.ari_end,
             ari_moment = excluded.ari_moment, ari_next_check = excluded.ari_next_check,
             offline_request_id = excluded.offline_request_id, updated = excluded.updated",
            params![
                thumbprint,
                opt_ts(s.ari_start),
                opt_ts(s.ari_end),
                opt_ts(s.ari_moment),
                opt_ts(s.ari_next_check),
                s.offline_request_id,
                ts(now)
            ],
        )?;
        Ok(())
    }

    /// The status of a request (`Pending`, `Completed`) and its certificate, if it still exists.
    pub fn request_status(&self, id: i64) -> StoreResult<Option<(String, Option<String>)>> {
        Ok(self
            .0
            .query_row(
                "SELECT status, thumbprint FROM requests WHERE id = ?1",
                params![id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::super::Store;
    use super::*;

    #[test]
    fn sources_find_their_renewals_and_state_round_trips() {
        let t = tempfile::tempdir().unwrap();
        let mut s = Store::open(&t.path().join("s")).unwrap();
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        s.write(|tx| -> StoreResult<()> {
            let settings = SourceSettings {
                ca: "/labs/ca".into(),
                validity_days: Some(90),
                ..SourceSettings::default()
            };
            tx.put_cert_source(&CertSource {
                thumbprint: "NEW".into(),
                kind: SourceKind::LabCa,
                settings: settings.clone(),
                renews: Some("OLD".into()),
                created: now,
            })?;
            let got = tx.cert_source("NEW")?.unwrap();
            assert_eq!(got.kind, SourceKind::LabCa);
            assert_eq!(got.settings, settings);
            assert_eq!(tx.renewals_of("OLD")?, vec!["NEW".to_string()]);
            assert!(tx.cert_source("OLD")?.is_none());
            assert_eq!(tx.renewal_state("OLD")?, RenewalState::default());
            let st = RenewalState {
                ari_moment: Some(now),
                offline_request_id: Some(7),
                ..RenewalState::default()
            };
            tx.put_renewal_state("OLD", &st, now)?;
            assert_eq!(tx.renewal_state("OLD")?, st);
            tx.commit()
        })
        .unwrap();
    }
}
