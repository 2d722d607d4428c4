//! Why an ACME request or retrieval failed: one variant per cause with its data, and the one
//! place their PowerShell words are made (`From<AcmeError> for CsError`).

use super::client::{chain, Transport};
use super::untrusted::text;
use crate::error::{Category, CsError};
use crate::ops::CtxError;
use crate::pki::inspect::InspectError;
use crate::store::StoreError;
use instant_acme::{AuthorizationStatus, Problem};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// Why the ACME directory could not be used.
#[derive(Debug)]
pub enum Unreachable {
    /// No usable HTTP answer (connection, TLS, time, size), or a URL in it not to contact.
    Transport(Transport),
    Status(http::StatusCode),
    NotADirectory(serde_json::Error),
    /// A directory without newAccount or newOrder.
    Incomplete,
}

#[derive(Debug)]
pub enum AcmeError {
    // The parameters, checked before a key is made or anyone is contacted.
    DirectoryNotUrl {
        directory: String,
        error: http::uri::InvalidUri,
    },
    DirectoryNotHttps {
        directory: String,
    },
    /// An -Acme* parameter without an ACME -CA.
    ParameterWithoutAcmeCa {
        parameter: &'static str,
    },
    /// An -Acme* number out of its range.
    OutOfRange {
        parameter: &'static str,
        value: i32,
        min: i32,
        max: i32,
    },
    InvalidContact {
        contact: String,
    },
    EabKeyWithoutKeyId,
    EabKeyIdWithoutKey,
    EabKeyNotBase64,
    DnsHookMissing,
    /// An http-01 parameter with -AcmeChallenge Dns01.
    HttpParameterWithDns01 {
        parameter: &'static str,
    },
    /// A dns-01 parameter with http-01.
    DnsParameterWithHttp01 {
        parameter: &'static str,
    },
    WebRootAndHttpPort,
    WebRootMissing {
        path: PathBuf,
    },
    CaBundleUnreadable {
        path: PathBuf,
        error: std::io::Error,
    },
    /// The bundle (`path`), or without one the system's roots, cannot make a TLS client.
    CaBundleUnusable {
        path: Option<PathBuf>,
        reason: String,
    },

    /// -AcmeProxy or HTTPS_PROXY / ALL_PROXY that cannot be used.
    ProxyUnusable {
        value: String,
        why: String,
    },

    // The local machinery.
    RuntimeNotStarted(std::io::Error),
    SignalsNotHandled(std::io::Error),
    HttpPortUnavailable {
        port: u16,
        reason: String,
    },
    Store(StoreError),
    /// A -Retrieve's confirmation.
    Ctx(CtxError),

    // The conversation with the CA.
    DirectoryUnreachable {
        directory: String,
        why: Unreachable,
    },
    /// Stored account credentials that do not parse (`url`: the account's, when known).
    AccountUnreadable {
        url: Option<String>,
        error: serde_json::Error,
    },
    AccountMissing {
        request_id: i64,
    },
    TermsNotAgreed {
        directory: String,
        terms: String,
    },
    EabRequired {
        directory: String,
    },
    RateLimited {
        stage: String,
        problem: Box<Problem>,
        /// The `Retry-After` value and when it was received.
        retry_after: Option<(String, SystemTime)>,
    },
    Refused {
        stage: String,
        problem: Box<Problem>,
    },
    /// instant-acme's own polling gave up on `stage`.
    StageTimedOut {
        stage: String,
    },
    RequestFailed {
        stage: String,
        error: Box<instant_acme::Error>,
    },
    /// One HTTP exchange of `stage` failed: timed out, too large, an unsafe URL, no connection.
    Transport {
        stage: String,
        error: Transport,
    },
    /// An authorization for a name the order did not ask for (or not a DNS name at all).
    UnorderedIdentifier {
        identifier: String,
    },
    OrderRejected {
        problem: Option<Box<Problem>>,
    },
    AuthorizationNotPending {
        identifier: String,
        status: AuthorizationStatus,
    },
    ChallengeNotOffered {
        kind: String,
        identifier: String,
        offered: Vec<String>,
    },
    ChallengeNotPresented {
        kind: String,
        identifier: String,
        reason: String,
    },
    /// Validation failed; `reasons`: what each invalid authorization (or the order) said.
    ChallengeFailed {
        kind: String,
        reasons: Vec<String>,
    },
    CertificateUnusable {
        reason: String,
    },
    CertificateUnreadable(InspectError),
    /// The whole order ran longer than -AcmeTimeoutSec.
    OrderTimedOut {
        limit: Duration,
    },
    /// The CA did not answer a -Retrieve within -AcmeTimeoutSec.
    RetrieveTimedOut {
        limit: Duration,
    },
    /// Ctrl-C or SIGTERM (`signal`) during an order, or during a -Retrieve.
    Interrupted {
        signal: &'static str,
        retrieving: bool,
    },

    // Revocation (Revoke-CsCertificate).
    CertificateNotStored {
        thumbprint: String,
    },
    AlreadyRevoked {
        thumbprint: String,
        reason: String,
        revoked: chrono::DateTime<chrono::Utc>,
    },
    /// The certificate was not ordered through an ACME account in this store.
    NotFromAcme {
        thumbprint: String,
    },

    /// A failure after the CA accepted the order: the key (and order) stay as `request_id`.
    Kept {
        request_id: i64,
        error: Box<AcmeError>,
        /// Every challenge was answered and the CA asked to validate: `-Retrieve` can finish
        /// the order once the CA has (unless the error says the order can never complete).
        resumable: bool,
    },
    /// A -Retrieve that failed: the request stays pending.
    StaysPending {
        request_id: i64,
        error: Box<AcmeError>,
    },
}

crate::ops::wraps!(AcmeError: Ctx(CtxError), Store(StoreError));

/// A problem document in words: detail, type, and the per-identifier subproblems. All of it
/// comes from the CA: each part is escaped and capped.
pub fn problem_text(p: &Problem) -> String {
    let mut s = p
        .detail
        .as_deref()
        .map(text)
        .unwrap_or_else(|| "no detail given".into());
    if let Some(t) = &p.r#type {
        s.push_str(&format!(" ({})", text(t)));
    }
    for sp in p.subproblems.iter().take(10) {
        let who = sp
            .identifier
            .as_ref()
            .map(|i| text(&i.authorized(false).to_string()))
            .unwrap_or_else(|| "?".into());
        s.push_str(&format!(
            "; for \"{who}\": {}",
            sp.detail
                .as_deref()
                .map(text)
                .unwrap_or_else(|| "no detail given".into())
        ));
        if let Some(t) = &sp.r#type {
            s.push_str(&format!(" ({})", text(t)));
        }
    }
    if p.subproblems.len() > 10 {
        s.push_str(&format!("; and {} more", p.subproblems.len() - 10));
    }
    s
}

/// A TLS failure that a private root explains gets the parameter that fixes it.
fn tls_hint(message: &str) -> &'static str {
    if message.contains("UnknownIssuer") || message.contains("invalid peer certificate") {
        " If the CA's TLS certificate comes from a private root (a lab CA, pebble), give that root with -AcmeCaBundle <PEM file>."
    } else {
        ""
    }
}

/// `Retry-After` (seconds or an HTTP date) in words.
pub fn retry_after_text(value: &str, now: SystemTime) -> String {
    if let Ok(secs) = value.trim().parse::<u64>() {
        let at = chrono::DateTime::<chrono::Utc>::from(now + Duration::from_secs(secs));
        return format!(
            "{secs} seconds (at {})",
            at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
    }
    value.trim().to_string()
}

impl From<AcmeError> for CsError {
    fn from(e: AcmeError) -> CsError {
        use AcmeError as A;
        let invalid = |id: &str, msg: String| CsError::failed(id, Category::InvalidArgument, msg);
        let failed = CsError::failed;
        match e {
            A::DirectoryNotUrl { directory, error } => invalid(
                "InvalidAcmeDirectory",
                format!("-CA \"{directory}\" is not a URL: {error}."),
            )
            .with_target(directory),
            A::DirectoryNotHttps { directory } => invalid(
                "InvalidAcmeDirectory",
                format!("-CA \"{directory}\" is not an https:// URL. ACME directories are served over HTTPS (RFC 8555 section 6.1)."),
            )
            .with_target(directory),
            A::ParameterWithoutAcmeCa { parameter } => invalid(
                "AcmeParameterWithoutAcmeCa",
                format!("-{parameter} applies only to an ACME CA: give its directory URL with -CA https://..."),
            )
            .with_target(parameter),
            A::OutOfRange { parameter, value, min, max } => invalid(
                "InvalidAcmeParameter",
                format!("-{parameter} must be between {min} and {max}; {value} is not."),
            )
            .with_target(value.to_string()),
            A::InvalidContact { contact } => invalid(
                "InvalidAcmeContact",
                format!("-AcmeContact \"{contact}\" is not a contact URI; use mailto:admin@contoso.com."),
            )
            .with_target(contact),
            A::EabKeyWithoutKeyId => invalid(
                "AcmeEabIncomplete",
                "-AcmeEabHmacKey needs -AcmeEabKeyId (the key id the CA issued with it).".into(),
            ),
            A::EabKeyIdWithoutKey => invalid(
                "AcmeEabIncomplete",
                format!("-AcmeEabKeyId needs the HMAC key the CA issued with it: -AcmeEabHmacKey, or (to keep it off the command line) $env:{}.", super::EAB_HMAC_ENV),
            ),
            A::EabKeyNotBase64 => invalid(
                "AcmeEabIncomplete",
                "The EAB HMAC key is not base64url (as CAs issue it).".into(),
            ),
            A::DnsHookMissing => invalid(
                "AcmeDnsHookMissing",
                "-AcmeChallenge Dns01 needs -AcmeDnsHook <command>: cscert runs it with CSCERT_ACME_ACTION=present|cleanup, CSCERT_ACME_DOMAIN, CSCERT_ACME_RECORD and CSCERT_ACME_VALUE to set and remove the TXT records.".into(),
            ),
            A::HttpParameterWithDns01 { parameter } => invalid(
                "AcmeConflictingParameters",
                format!("-{parameter} applies to -AcmeChallenge Http01, not Dns01."),
            ),
            A::DnsParameterWithHttp01 { parameter } => invalid(
                "AcmeConflictingParameters",
                format!("-{parameter} applies to -AcmeChallenge Dns01."),
            ),
            A::WebRootAndHttpPort => invalid(
                "AcmeConflictingParameters",
                "Give -AcmeWebRoot (another web server serves the files) or -AcmeHttpPort (cscert answers itself), not both.".into(),
            ),
            A::WebRootMissing { path } => invalid(
                "AcmeWebRootMissing",
                format!("-AcmeWebRoot '{}' is not a folder.", path.display()),
            )
            .with_target(path.display().to_string()),
            A::CaBundleUnreadable { path, error } => failed(
                "AcmeCaBundleUnreadable",
                Category::ReadError,
                format!("The -AcmeCaBundle '{}' cannot be read: {error}.", path.display()),
            )
            .with_target(path.display().to_string()),
            A::CaBundleUnusable { path, reason } => failed(
                "AcmeCaBundleUnusable",
                Category::InvalidData,
                match path {
                    Some(p) => format!("The -AcmeCaBundle '{}' cannot be used: {reason}.", p.display()),
                    None => format!("TLS cannot be set up: {reason}."),
                },
            ),
            A::ProxyUnusable { value, why } => invalid(
                "AcmeProxyUnusable",
                format!("The proxy \"{}\" (-AcmeProxy, or $env:HTTPS_PROXY / $env:ALL_PROXY) cannot be used: {why}. Give http://host:port.", text(&value)),
            ),
            A::RuntimeNotStarted(e) => failed(
                "AcmeRuntimeFailed",
                Category::ResourceUnavailable,
                format!("The ACME client cannot start: {e}."),
            ),
            A::SignalsNotHandled(e) => failed(
                "AcmeRuntimeFailed",
                Category::ResourceUnavailable,
                format!("Ctrl-C cannot be handled: {e}."),
            ),
            A::HttpPortUnavailable { port, reason } => failed(
                "AcmeHttpPortUnavailable",
                Category::ResourceUnavailable,
                format!("cscert cannot answer http-01 challenges on port {port}: {reason}. Run with the right to bind it (root or CAP_NET_BIND_SERVICE for port 80), forward port 80 to another -AcmeHttpPort, or let the web server on port 80 serve the files: -AcmeWebRoot <folder>."),
            ),
            A::Store(e) => e.into(),
            A::Ctx(e) => e.into(),
            A::DirectoryUnreachable { directory, why } => {
                let why = match why {
                    Unreachable::Transport(e) => {
                        let m = e.to_string();
                        format!("{m}.{}", tls_hint(&m)).trim_end_matches('.').to_string()
                    }
                    Unreachable::Status(s) => format!("HTTP {s}"),
                    Unreachable::NotADirectory(e) => {
                        format!("the answer is not an ACME directory ({e})")
                    }
                    Unreachable::Incomplete => {
                        "the directory names no newAccount or newOrder".into()
                    }
                };
                failed(
                    "AcmeDirectoryUnreachable",
                    Category::ResourceUnavailable,
                    format!("The ACME directory {directory} cannot be reached: {why}."),
                )
                .with_target(directory)
            }
            A::AccountUnreadable { url, error } => failed(
                "AcmeAccountUnreadable",
                Category::InvalidData,
                match url {
                    Some(url) => format!("The stored ACME account {url} cannot be read: {error}."),
                    None => format!("The stored ACME account cannot be read: {error}."),
                },
            ),
            A::AccountMissing { request_id } => failed(
                "AcmeAccountMissing",
                Category::ObjectNotFound,
                format!("The ACME account of request {request_id} is not in the store."),
            ),
            A::TermsNotAgreed { directory, terms } => failed(
                "AcmeTermsNotAgreed",
                Category::PermissionDenied,
                format!("The ACME CA {directory} requires agreement to its terms of service at <{}>. Read them, then run the command again with -AcmeAgreeTos.", text(&terms)),
            )
            .with_target(text(&terms)),
            A::EabRequired { directory } => failed(
                "AcmeEabRequired",
                Category::InvalidArgument,
                format!("The ACME CA {directory} requires external account binding: give the key id the CA issued with -AcmeEabKeyId and its HMAC key with -AcmeEabHmacKey (or $env:CSCERT_ACME_EAB_HMAC_KEY)."),
            ),
            A::RateLimited { stage, problem, retry_after } => {
                let when = retry_after
                    .map(|(r, at)| format!(" Retry after {}.", retry_after_text(&r, at)))
                    .unwrap_or_else(|| " The CA did not say when to retry.".into());
                failed(
                    "AcmeRateLimited",
                    Category::ResourceUnavailable,
                    format!(
                        "The ACME CA refused {stage} because of a rate limit: {}.{when}",
                        problem_text(&problem)
                    ),
                )
            }
            A::Refused { stage, problem } => failed(
                "AcmeRequestRefused",
                Category::InvalidOperation,
                format!("The ACME CA refused {stage}: {}.", problem_text(&problem)),
            ),
            A::StageTimedOut { stage } => failed(
                "AcmeTimeout",
                Category::ResourceUnavailable,
                format!("The ACME CA did not complete {stage} in time."),
            ),
            A::RequestFailed { stage, error } => {
                let m = chain(error.as_ref());
                failed(
                    "AcmeRequestFailed",
                    Category::ResourceUnavailable,
                    format!("The ACME request for {stage} failed: {}.{}", text(&m), tls_hint(&m)),
                )
            }
            A::Transport { stage, error } => {
                let m = error.to_string();
                let (id, category) = match error {
                    Transport::UnsafeUrl { .. } => ("AcmeUnsafeUrl", Category::SecurityError),
                    Transport::TooLarge { .. } => ("AcmeAnswerTooLarge", Category::InvalidData),
                    Transport::TimedOut { .. } => ("AcmeTimeout", Category::ResourceUnavailable),
                    Transport::Failed { .. } => ("AcmeRequestFailed", Category::ResourceUnavailable),
                };
                failed(id, category, format!("The ACME request for {stage} failed: {m}.{}", tls_hint(&m)))
            }
            A::UnorderedIdentifier { identifier } => failed(
                "AcmeUnorderedIdentifier",
                Category::SecurityError,
                format!("The ACME CA asked to validate \"{}\", which is not a name of the order (or not a DNS name); nothing was done for it.", text(&identifier)),
            ),
            A::OrderRejected { problem } => failed(
                "AcmeOrderRejected",
                Category::InvalidOperation,
                format!(
                    "The ACME CA made the order invalid: {}.",
                    problem
                        .as_deref()
                        .map(problem_text)
                        .unwrap_or_else(|| "no reason given".into())
                ),
            ),
            A::AuthorizationNotPending { identifier, status } => failed(
                "AcmeChallengeFailed",
                Category::InvalidOperation,
                format!("The ACME CA's authorization for {} is {status:?}; the order cannot be completed.", text(&identifier)),
            ),
            A::ChallengeNotOffered { kind, identifier, offered } => failed(
                "AcmeChallengeNotOffered",
                Category::InvalidOperation,
                format!(
                    "The ACME CA offers no {} challenge for {} (it offers {}). Choose another with -AcmeChallenge.",
                    text(&kind),
                    text(&identifier),
                    text(&offered.join(", "))
                ),
            ),
            A::ChallengeNotPresented { kind, identifier, reason } => failed(
                "AcmeChallengeNotPresented",
                Category::InvalidOperation,
                format!("The {kind} answer for {identifier} cannot be put in place: {reason}."),
            ),
            A::ChallengeFailed { kind, reasons } => failed(
                "AcmeChallengeFailed",
                Category::InvalidOperation,
                format!(
                    "The ACME CA refused the {kind} challenge: {}.",
                    reasons.join("; ")
                ),
            ),
            A::CertificateUnusable { reason } => failed(
                "AcmeCertificateUnusable",
                Category::InvalidData,
                format!("The ACME CA's certificate cannot be used: {reason}."),
            ),
            A::CertificateUnreadable(e) => failed(
                "AcmeCertificateUnusable",
                Category::InvalidData,
                format!("The ACME CA's certificate cannot be read: {e}"),
            ),
            A::OrderTimedOut { limit } => failed(
                "AcmeTimeout",
                Category::ResourceUnavailable,
                format!(
                    "The ACME order did not complete within {} seconds (-AcmeTimeoutSec).",
                    limit.as_secs()
                ),
            ),
            A::RetrieveTimedOut { limit } => failed(
                "AcmeTimeout",
                Category::ResourceUnavailable,
                format!(
                    "The ACME CA did not answer within {} seconds (-AcmeTimeoutSec).",
                    limit.as_secs()
                ),
            ),
            A::Interrupted { signal, retrieving: false } => failed(
                "AcmeInterrupted",
                Category::InvalidOperation,
                format!("The ACME order was stopped ({signal})."),
            ),
            A::Interrupted { signal, retrieving: true } => failed(
                "AcmeInterrupted",
                Category::InvalidOperation,
                format!("Retrieving the ACME order was stopped ({signal})."),
            ),
            A::CertificateNotStored { thumbprint } => failed(
                "CertificateNotFound",
                Category::ObjectNotFound,
                format!("No certificate with thumbprint {thumbprint} is in the store."),
            )
            .with_target(thumbprint),
            A::AlreadyRevoked { thumbprint, reason, revoked } => failed(
                "AcmeAlreadyRevoked",
                Category::InvalidOperation,
                format!(
                    "The certificate {thumbprint} was revoked already, on {} (reason {reason}).",
                    revoked.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ),
            )
            .with_target(thumbprint),
            A::NotFromAcme { thumbprint } => failed(
                "AcmeAccountNotFound",
                Category::ObjectNotFound,
                format!("The certificate {thumbprint} was not ordered through an ACME account in this store, so cscert cannot ask its CA to revoke it. Revoke it at the CA that issued it."),
            )
            .with_target(thumbprint),
            A::Kept { request_id: id, error, resumable } => {
                // -Retrieve finalizes an order the CA has validated; it answers no challenge.
                // So only an order whose challenges were all answered can be finished later,
                // and never one the CA refused or that cannot be answered at all.
                let start_over = !resumable
                    || matches!(
                        *error,
                        A::ChallengeFailed { .. }
                            | A::AuthorizationNotPending { .. }
                            | A::OrderRejected { .. }
                            | A::ChallengeNotOffered { .. }
                            | A::ChallengeNotPresented { .. }
                            | A::UnorderedIdentifier { .. }
                    )
                    || matches!(&*error, A::Refused { problem, .. }
                        if problem.r#type.as_deref() != Some("urn:ietf:params:acme:error:serverInternal"));
                let mut e = CsError::from(*error);
                e.message.push_str(&if start_over {
                    format!(" The private key is kept as request {id} (Request-CsCertificate -List); make a new request once the cause is fixed, or remove it with Request-CsCertificate -Clear -RequestId {id}.")
                } else {
                    format!(" The private key and the order are kept as request {id}: Request-CsCertificate -Retrieve -RequestId {id} finishes the order once the CA has validated it.")
                });
                e
            }
            A::StaysPending { request_id, error } => {
                let mut e = CsError::from(*error);
                e.message
                    .push_str(&format!(" Request {request_id} stays pending."));
                e
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(json: &str) -> Problem {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn problems_show_type_detail_and_subproblems() {
        let p = problem(
            r#"{"type":"urn:ietf:params:acme:error:rejectedIdentifier","detail":"Error creating new order","subproblems":[{"type":"urn:ietf:params:acme:error:rejectedIdentifier","detail":"Domain name is forbidden","identifier":{"type":"dns","value":"bad.example"}}]}"#,
        );
        assert_eq!(
            problem_text(&p),
            "Error creating new order (urn:ietf:params:acme:error:rejectedIdentifier); for \"bad.example\": Domain name is forbidden (urn:ietf:params:acme:error:rejectedIdentifier)"
        );
    }

    #[test]
    fn retry_after_in_seconds_and_dates() {
        let t0 = std::time::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        assert_eq!(
            retry_after_text("120", t0),
            "120 seconds (at 2027-01-15T08:02:00Z)"
        );
        assert_eq!(
            retry_after_text("Fri, 31 Dec 2027 23:59:59 GMT", t0),
            "Fri, 31 Dec 2027 23:59:59 GMT"
        );
    }

    #[test]
    fn a_failure_after_the_order_says_what_became_of_the_key() {
        let kept = |error| {
            CsError::from(AcmeError::Kept {
                request_id: 7,
                error: Box::new(error),
                resumable: true,
            })
        };
        let e = kept(AcmeError::ChallengeFailed {
            kind: "http-01".into(),
            reasons: vec!["a.contoso.com: the authorization is invalid".into()],
        });
        assert_eq!(e.error_id, "AcmeChallengeFailed");
        assert!(
            e.message
                .ends_with("or remove it with Request-CsCertificate -Clear -RequestId 7."),
            "{}",
            e.message
        );
        let e = kept(AcmeError::OrderTimedOut {
            limit: Duration::from_secs(5),
        });
        assert_eq!(e.error_id, "AcmeTimeout");
        assert!(
            e.message
                .starts_with("The ACME order did not complete within 5 seconds"),
            "{}",
            e.message
        );
        assert!(
            e.message
                .contains("Request-CsCertificate -Retrieve -RequestId 7 finishes"),
            "{}",
            e.message
        );
    }
}
