//! ACME Renewal Information (ARI, RFC 9773): the certificate identifier (section 4.1), the
//! CA's suggested renewal window fetched from the directory's `renewalInfo` resource (section
//! 4.2, a plain GET), and the moment chosen in it (uniformly at random, section 4.2) with the
//! time before which the CA is not asked again (its Retry-After, section 4.3).

use super::{make_http, proxy, request_timeout, runtime, AcmeError, Unreachable};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use std::path::PathBuf;

/// A renewalInfo answer or directory is a few hundred bytes; anything beyond this is refused.
/// Without a usable Retry-After the CA is asked again after six hours (RFC 9773, 4.3).
const DEFAULT_RETRY: Duration = Duration::hours(6);
/// A Retry-After is kept within a minute and a day, so a run every hour neither asks the CA
/// every minute nor misses a changed window for days.
const MIN_RETRY: Duration = Duration::minutes(1);
const MAX_RETRY: Duration = Duration::hours(24);

/// The certificate identifier of RFC 9773 section 4.1: the base64url (unpadded) bytes of the
/// Authority Key Identifier's keyIdentifier, a dot, and the base64url bytes of the serial
/// number's DER content (leading zero byte included).
pub fn cert_id_of(key_identifier: &[u8], serial_der: &[u8]) -> String {
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(key_identifier),
        URL_SAFE_NO_PAD.encode(serial_der)
    )
}

/// The identifier of a certificate; None when it has no Authority Key Identifier (no ARI then).
pub fn cert_id(der: &[u8]) -> Option<String> {
    use x509_parser::extensions::ParsedExtension;
    use x509_parser::prelude::FromDer;
    let (_, c) = x509_parser::certificate::X509Certificate::from_der(der).ok()?;
    let aki = c
        .iter_extensions()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(a) => a.key_identifier.as_ref().map(|k| k.0),
            _ => None,
        })?;
    Some(cert_id_of(aki, c.tbs_certificate.raw_serial()))
}

/// The suggested window of a renewalInfo answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// What the CA said, and when it may be asked again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub window: Window,
    pub next_check: DateTime<Utc>,
    pub explanation: Option<String>,
}

#[derive(Deserialize)]
struct Suggested {
    start: String,
    end: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RenewalInfo {
    suggested_window: Suggested,
    #[serde(rename = "explanationURL")]
    explanation_url: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DirectoryAri {
    renewal_info: Option<String>,
}

/// Reads a renewalInfo body; a window whose end is not after its start is no answer (4.2).
pub fn parse_answer(body: &[u8], retry_after: Option<&str>, now: DateTime<Utc>) -> Option<Answer> {
    let info: RenewalInfo = serde_json::from_slice(body).ok()?;
    let at = |s: &str| {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|d| d.with_timezone(&Utc))
    };
    let window = Window {
        start: at(&info.suggested_window.start)?,
        end: at(&info.suggested_window.end)?,
    };
    if window.end <= window.start {
        return None;
    }
    Some(Answer {
        window,
        next_check: next_check(retry_after, now),
        explanation: info.explanation_url,
    })
}

/// When to ask again: Retry-After as seconds or an HTTP date, clamped to [1 minute, 1 day];
/// six hours when it is missing or unreadable.
pub fn next_check(retry_after: Option<&str>, now: DateTime<Utc>) -> DateTime<Utc> {
    let after = retry_after
        .map(str::trim)
        .and_then(|v| match v.parse::<i64>() {
            Ok(secs) => Some(Duration::seconds(secs)),
            Err(_) => DateTime::parse_from_rfc2822(v)
                .ok()
                .map(|d| d.with_timezone(&Utc) - now),
        });
    now + after.unwrap_or(DEFAULT_RETRY).clamp(MIN_RETRY, MAX_RETRY)
}

/// The moment chosen in a window: uniformly at random (`random` is 64 random bits), so that a
/// fleet of servers does not renew at once.
pub fn moment_in(w: Window, random: u64) -> DateTime<Utc> {
    let span = (w.end - w.start).num_seconds().max(0) as u64;
    if span == 0 {
        return w.start;
    }
    w.start + Duration::seconds((random % span) as i64)
}

/// 64 random bits from the operating system.
pub fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    // The system source does not fail in practice; the window's start is the fallback.
    let _ = aws_lc_rs::rand::fill(&mut b);
    u64::from_le_bytes(b)
}

/// Asks an ACME directory for a certificate's renewal window. `Ok(None)`: the directory offers
/// no `renewalInfo` (or answered with no usable window); the caller then falls back to the
/// certificate's lifetime.
pub fn fetch(
    directory: &str,
    ca_bundle: Option<&str>,
    cert_id: &str,
    timeout: std::time::Duration,
    now: DateTime<Utc>,
) -> Result<Option<Answer>, AcmeError> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let (path, pem) = match ca_bundle {
        Some(p) => {
            let path = PathBuf::from(p);
            let pem =
                crate::ops::read_limited(&path, crate::ops::CERT_FILE_LIMIT).map_err(|error| {
                    AcmeError::CaBundleUnreadable {
                        path: path.clone(),
                        error,
                    }
                })?;
            (Some(path), Some(pem))
        }
        None => (None, None),
    };
    let proxy = proxy::Proxy::configured(None)
        .map_err(|(value, why)| AcmeError::ProxyUnusable { value, why })?;
    let http = make_http(
        pem.as_deref(),
        path.as_ref(),
        request_timeout(timeout),
        proxy,
    )?;
    let unreachable = |why| AcmeError::DirectoryUnreachable {
        directory: directory.to_string(),
        why,
    };
    let rt = runtime()?;
    rt.block_on(async {
        tokio::time::timeout(timeout, async {
            let (status, body) = http
                .get(directory)
                .await
                .map_err(|e| unreachable(Unreachable::Transport(e)))?;
            if !status.is_success() {
                return Err(unreachable(Unreachable::Status(status)));
            }
            let dir: DirectoryAri = serde_json::from_slice(&body)
                .map_err(|e| unreachable(Unreachable::NotADirectory(e)))?;
            let Some(base) = dir.renewal_info else {
                return Ok(None);
            };
            let url = format!("{}/{cert_id}", base.trim_end_matches('/'));
            // Only the renewalInfo answer's own Retry-After counts.
            let _ = http.take_retry_after();
            let (status, body) = http
                .get(&url)
                .await
                .map_err(|e| unreachable(Unreachable::Transport(e)))?;
            if !status.is_success() {
                return Ok(None);
            }
            Ok(parse_answer(&body, http.take_retry_after().as_deref(), now))
        })
        .await
        .unwrap_or_else(|_| {
            Err(AcmeError::StageTimedOut {
                stage: "the renewal information".into(),
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_identifier_is_the_rfc_example() {
        // RFC 9773, section 4.1: keyIdentifier 69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:
        // DE:01:C8:D4 and serial 00:87:65:43:21 give "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE".
        let aki = [
            0x69, 0x88, 0x5B, 0x6B, 0x87, 0x46, 0x40, 0x41, 0xE1, 0xB3, 0x7B, 0x84, 0x7B, 0xA0,
            0xAE, 0x2C, 0xDE, 0x01, 0xC8, 0xD4,
        ];
        let serial = [0x00, 0x87, 0x65, 0x43, 0x21];
        assert_eq!(
            cert_id_of(&aki, &serial),
            "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"
        );
    }

    #[test]
    fn the_identifier_of_a_certificate_uses_its_aki_and_encoded_serial() {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca, &ca_key);
        let key = rcgen::KeyPair::generate().unwrap();
        let mut leaf = rcgen::CertificateParams::new(vec!["sip.contoso.com".into()]).unwrap();
        leaf.use_authority_key_identifier_extension = true;
        // A serial whose first byte has the high bit set is encoded with a leading zero.
        leaf.serial_number = Some(rcgen::SerialNumber::from_slice(&[0x87, 0x65, 0x43, 0x21]));
        let cert = leaf.signed_by(&key, &issuer).unwrap();
        let id = cert_id(cert.der()).unwrap();
        let (aki, serial) = id.split_once('.').unwrap();
        assert_eq!(serial, "AIdlQyE");
        let ski = {
            use x509_parser::prelude::FromDer;
            let (_, c) =
                x509_parser::certificate::X509Certificate::from_der(ca_cert.der()).unwrap();
            let ski = c
                .iter_extensions()
                .find_map(|e| match e.parsed_extension() {
                    x509_parser::extensions::ParsedExtension::SubjectKeyIdentifier(k) => {
                        Some(k.0.to_vec())
                    }
                    _ => None,
                });
            ski.unwrap()
        };
        assert_eq!(aki, URL_SAFE_NO_PAD.encode(ski));
        // Without an AKI there is no identifier.
        assert!(cert_id(ca_cert.der()).is_none());
    }

    #[test]
    fn the_moment_is_inside_the_window_and_spread_over_it() {
        let w = Window {
            start: at("2026-03-01T00:00:00Z"),
            end: at("2026-03-03T00:00:00Z"),
        };
        assert_eq!(moment_in(w, 0), w.start);
        assert_eq!(moment_in(w, 86_400), at("2026-03-02T00:00:00Z"));
        let mut seen_first_half = false;
        let mut seen_second_half = false;
        for _ in 0..64 {
            let m = moment_in(w, random_u64());
            assert!(m >= w.start && m < w.end, "{m}");
            seen_first_half |= m < at("2026-03-02T00:00:00Z");
            seen_second_half |= m >= at("2026-03-02T00:00:00Z");
        }
        assert!(seen_first_half && seen_second_half);
    }

    #[test]
    fn answers_and_retry_after_are_read_as_the_rfc_says() {
        let now = at("2026-03-01T00:00:00Z");
        let body = br#"{"suggestedWindow":{"start":"2026-03-10T00:00:00Z","end":"2026-03-12T00:00:00Z"},"explanationURL":"https://ca/why"}"#;
        let a = parse_answer(body, Some("21600"), now).unwrap();
        assert_eq!(a.window.start, at("2026-03-10T00:00:00Z"));
        assert_eq!(a.next_check, at("2026-03-01T06:00:00Z"));
        assert_eq!(a.explanation.as_deref(), Some("https://ca/why"));
        // An HTTP date, clamping, and the six-hour default.
        assert_eq!(
            next_check(Some("Sun, 01 Mar 2026 02:00:00 GMT"), now),
            at("2026-03-01T02:00:00Z")
        );
        assert_eq!(next_check(Some("5"), now), at("2026-03-01T00:01:00Z"));
        assert_eq!(next_check(Some("9999999"), now), at("2026-03-02T00:00:00Z"));
        assert_eq!(next_check(None, now), at("2026-03-01T06:00:00Z"));
        assert_eq!(next_check(Some("soon"), now), at("2026-03-01T06:00:00Z"));
        // A window that ends before it starts is no answer.
        let bad =
            br#"{"suggestedWindow":{"start":"2026-03-12T00:00:00Z","end":"2026-03-10T00:00:00Z"}}"#;
        assert!(parse_answer(bad, None, now).is_none());
        assert!(parse_answer(b"{}", None, now).is_none());
    }
}
