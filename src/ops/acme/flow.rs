//! The ACME conversation (RFC 8555) through instant-acme: directory, account, order,
//! challenges, finalization with our own CSR, certificate download; and finishing a stored
//! order later (`-Retrieve`).

use super::challenge::Challenges;
use super::client::{chain, Http};
use super::{ChallengeKind, Options};
use crate::error::{Category, CsError, CsResult};
use crate::store::AcmeAccountRow;
use instant_acme::{
    Account, AccountCredentials, AuthorizationStatus, ChallengeType, ExternalAccountKey,
    Identifier, NewAccount, NewOrder, OrderStatus, Problem, RetryPolicy,
};
use serde::Deserialize;
use std::time::Duration;

/// What the conversation needs from the synchronous side: progress lines and the store.
pub trait Hooks {
    fn verbose(&mut self, msg: String);
    fn load_account(&mut self, directory: &str, contact: &str) -> CsResult<Option<AcmeAccountRow>>;
    fn save_account(
        &mut self,
        directory: &str,
        contact: &str,
        url: &str,
        credentials: &str,
    ) -> CsResult<i64>;
    /// The CA accepted the order: the request (key) and order are stored now, so that nothing
    /// is lost whatever happens next. Returns the request id.
    fn order_created(&mut self, account_id: i64, order_url: &str) -> CsResult<i64>;
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct DirectoryMeta {
    terms_of_service: Option<String>,
    #[serde(default)]
    external_account_required: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DirectoryDoc {
    new_account: String,
    new_order: String,
    #[serde(default)]
    meta: Option<DirectoryMeta>,
}

fn failed(id: &str, category: Category, msg: impl Into<String>) -> CsError {
    CsError::failed(id, category, msg)
}

/// A problem document in words: detail, type, and the per-identifier subproblems.
pub fn problem_text(p: &Problem) -> String {
    let mut s = p.detail.clone().unwrap_or_else(|| "no detail given".into());
    if let Some(t) = &p.r#type {
        s.push_str(&format!(" ({t})"));
    }
    for sp in &p.subproblems {
        let who = sp
            .identifier
            .as_ref()
            .map(|i| i.authorized(false).to_string())
            .unwrap_or_else(|| "?".into());
        s.push_str(&format!(
            "; for \"{who}\": {}",
            sp.detail.as_deref().unwrap_or("no detail given")
        ));
        if let Some(t) = &sp.r#type {
            s.push_str(&format!(" ({t})"));
        }
    }
    s
}

/// `Retry-After` (seconds or an HTTP date) in words.
pub fn retry_after_text(value: &str, now: std::time::SystemTime) -> String {
    if let Ok(secs) = value.trim().parse::<u64>() {
        let at = chrono::DateTime::<chrono::Utc>::from(now + Duration::from_secs(secs));
        return format!(
            "{secs} seconds (at {})",
            at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
    }
    value.trim().to_string()
}

/// An instant-acme error at one stage of the order, in PowerShell's words.
pub fn acme_error(e: instant_acme::Error, http: &Http, stage: &str) -> CsError {
    let retry = http.take_retry_after();
    match e {
        instant_acme::Error::Api(p)
            if p.r#type.as_deref() == Some("urn:ietf:params:acme:error:rateLimited") =>
        {
            let when = retry
                .map(|r| {
                    format!(
                        " Retry after {}.",
                        retry_after_text(&r, std::time::SystemTime::now())
                    )
                })
                .unwrap_or_else(|| " The CA did not say when to retry.".into());
            failed(
                "AcmeRateLimited",
                Category::ResourceUnavailable,
                format!(
                    "The ACME CA refused {stage} because of a rate limit: {}.{when}",
                    problem_text(&p)
                ),
            )
        }
        instant_acme::Error::Api(p) => failed(
            "AcmeRequestRefused",
            Category::InvalidOperation,
            format!("The ACME CA refused {stage}: {}.", problem_text(&p)),
        ),
        instant_acme::Error::Timeout(_) => failed(
            "AcmeTimeout",
            Category::ResourceUnavailable,
            format!("The ACME CA did not complete {stage} in time."),
        ),
        other => failed(
            "AcmeRequestFailed",
            Category::ResourceUnavailable,
            format!("The ACME request for {stage} failed: {}.", chain(&other)),
        ),
    }
}

fn poll_policy(timeout: Duration) -> RetryPolicy {
    RetryPolicy::new()
        .initial_delay(Duration::from_millis(250))
        .backoff(1.5)
        .timeout(timeout)
}

/// Reads the directory: tells an unreachable or non-ACME URL apart before anything else.
async fn directory(opts: &Options, http: &Http) -> CsResult<DirectoryDoc> {
    let unreachable = |why: String| {
        failed(
            "AcmeDirectoryUnreachable",
            Category::ResourceUnavailable,
            format!(
                "The ACME directory {} cannot be reached: {why}.",
                opts.directory
            ),
        )
        .with_target(opts.directory.clone())
    };
    let (status, body) = http.get(&opts.directory).await.map_err(unreachable)?;
    if !status.is_success() {
        return Err(unreachable(format!("HTTP {status}")));
    }
    let doc: DirectoryDoc = serde_json::from_slice(&body)
        .map_err(|e| unreachable(format!("the answer is not an ACME directory ({e})")))?;
    if doc.new_account.is_empty() || doc.new_order.is_empty() {
        return Err(unreachable(
            "the directory names no newAccount or newOrder".into(),
        ));
    }
    Ok(doc)
}

/// The account for this directory and contact: the one in the store, or a new one.
async fn account(opts: &Options, http: &Http, hooks: &mut dyn Hooks) -> CsResult<(Account, i64)> {
    let doc = directory(opts, http).await?;
    let contact_key = opts.contacts.join(",");
    if let Some(row) = hooks.load_account(&opts.directory, &contact_key)? {
        let creds: AccountCredentials = serde_json::from_str(&row.credentials).map_err(|e| {
            failed(
                "AcmeAccountUnreadable",
                Category::InvalidData,
                format!("The stored ACME account {} cannot be read: {e}.", row.url),
            )
        })?;
        let acc = Account::builder_with_http(Box::new(http.clone()))
            .from_credentials(creds)
            .await
            .map_err(|e| acme_error(e, http, "the stored account"))?;
        hooks.verbose(format!(
            "Using the ACME account {} from the store (created {}).",
            row.url,
            row.created
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ));
        return Ok((acc, row.id));
    }
    let meta = doc.meta.unwrap_or_default();
    if let Some(tos) = &meta.terms_of_service {
        if !opts.agree_tos {
            return Err(failed(
                "AcmeTermsNotAgreed",
                Category::PermissionDenied,
                format!("The ACME CA {} requires agreement to its terms of service at <{tos}>. Read them, then run the command again with -AcmeAgreeTos.", opts.directory),
            )
            .with_target(tos.clone()));
        }
        hooks.verbose(format!(
            "Agreeing to the terms of service {tos} (-AcmeAgreeTos)."
        ));
    }
    if meta.external_account_required && opts.eab.is_none() {
        return Err(failed(
            "AcmeEabRequired",
            Category::InvalidArgument,
            format!("The ACME CA {} requires external account binding: give the key id the CA issued with -AcmeEabKeyId and its HMAC key with -AcmeEabHmacKey (or $env:CSCERT_ACME_EAB_HMAC_KEY).", opts.directory),
        ));
    }
    let eab = opts
        .eab
        .as_ref()
        .map(|(kid, key)| ExternalAccountKey::new(kid.clone(), key));
    let contacts: Vec<&str> = opts.contacts.iter().map(String::as_str).collect();
    let (acc, creds) = Account::builder_with_http(Box::new(http.clone()))
        .create(
            &NewAccount {
                contact: &contacts,
                terms_of_service_agreed: opts.agree_tos,
                only_return_existing: false,
            },
            opts.directory.clone(),
            eab.as_ref(),
        )
        .await
        .map_err(|e| acme_error(e, http, "the new account"))?;
    let json = serde_json::to_string(&creds).expect("credentials serialize");
    let id = hooks.save_account(&opts.directory, &contact_key, acc.id(), &json)?;
    hooks.verbose(format!(
        "Created the ACME account {}{}{}.",
        acc.id(),
        if contacts.is_empty() {
            String::new()
        } else {
            format!(" for {}", contacts.join(", "))
        },
        if eab.is_some() {
            " (external account binding)"
        } else {
            ""
        }
    ));
    Ok((acc, id))
}

fn challenge_type(k: ChallengeKind) -> ChallengeType {
    match k {
        ChallengeKind::Http01 => ChallengeType::Http01,
        ChallengeKind::Dns01 => ChallengeType::Dns01,
    }
}

fn type_name(t: &ChallengeType) -> String {
    match t {
        ChallengeType::Http01 => "http-01".into(),
        ChallengeType::Dns01 => "dns-01".into(),
        ChallengeType::TlsAlpn01 => "tls-alpn-01".into(),
        ChallengeType::DeviceAttest01 => "device-attest-01".into(),
        ChallengeType::Unknown(s) => s.clone(),
        _ => format!("{t:?}"),
    }
}

/// The whole order: returns the request id and the PEM chain.
pub async fn order(
    opts: &Options,
    http: &Http,
    names: &[String],
    csr_der: &[u8],
    hooks: &mut dyn Hooks,
    challenges: &mut Challenges,
) -> CsResult<String> {
    let (account, account_id) = account(opts, http, hooks).await?;
    let ids: Vec<Identifier> = names.iter().map(|n| Identifier::Dns(n.clone())).collect();
    let mut order = account
        .new_order(&NewOrder::new(&ids))
        .await
        .map_err(|e| acme_error(e, http, &format!("the order for {}", names.join(", "))))?;
    let request_id = hooks.order_created(account_id, order.url())?;
    hooks.verbose(format!(
        "The CA accepted order {} for {}; the private key is pending in the store as request {request_id}.",
        order.url(),
        names.join(", ")
    ));
    if order.state().status == OrderStatus::Invalid {
        let why = order
            .state()
            .error
            .as_ref()
            .map(problem_text)
            .unwrap_or_else(|| "no reason given".into());
        return Err(failed(
            "AcmeOrderRejected",
            Category::InvalidOperation,
            format!("The ACME CA made the order invalid: {why}."),
        ));
    }

    // Put every answer in place first (dns-01 then waits once for all of them).
    let kind = challenge_type(opts.challenge);
    let mut answered = 0;
    {
        let mut auths = order.authorizations();
        while let Some(a) = auths.next().await {
            let mut a = a.map_err(|e| acme_error(e, http, "reading an authorization"))?;
            let ident = a.identifier().to_string();
            match a.status {
                AuthorizationStatus::Valid => {
                    hooks.verbose(format!("{ident}: already authorized for this account."));
                    continue;
                }
                AuthorizationStatus::Pending => {}
                other => {
                    return Err(failed(
                        "AcmeChallengeFailed",
                        Category::InvalidOperation,
                        format!("The ACME CA's authorization for {ident} is {other:?}; the order cannot be completed."),
                    ))
                }
            }
            let offered: Vec<String> = a.challenges.iter().map(|c| type_name(&c.r#type)).collect();
            let Some(ch) = a.challenge(kind.clone()) else {
                return Err(failed(
                    "AcmeChallengeNotOffered",
                    Category::InvalidOperation,
                    format!(
                        "The ACME CA offers no {} challenge for {ident} (it offers {}). Choose another with -AcmeChallenge.",
                        type_name(&kind),
                        offered.join(", ")
                    ),
                ));
            };
            let ka = ch.key_authorization();
            let domain = ch.identifier().identifier.to_string_lossy();
            challenges
                .present(&domain, &ch.token, ka.as_str(), &ka.dns_value(), &mut |m| {
                    hooks.verbose(m)
                })
                .await
                .map_err(|e| {
                    failed(
                        "AcmeChallengeNotPresented",
                        Category::InvalidOperation,
                        format!(
                            "The {} answer for {ident} cannot be put in place: {e}.",
                            type_name(&kind)
                        ),
                    )
                })?;
            answered += 1;
        }
    }
    if answered > 0 && opts.challenge == ChallengeKind::Dns01 && !opts.dns_wait.is_zero() {
        hooks.verbose(format!(
            "Waiting {} seconds for the TXT records to propagate (-AcmeDnsWaitSec).",
            opts.dns_wait.as_secs()
        ));
        tokio::time::sleep(opts.dns_wait).await;
    }
    // A CA may validate at once and answer set_ready with the challenge's error: that is a
    // validation failure like any other, reported with every authorization's problem.
    let mut refused = false;
    {
        let mut auths = order.authorizations();
        while let Some(a) = auths.next().await {
            let mut a = a.map_err(|e| acme_error(e, http, "reading an authorization"))?;
            if a.status != AuthorizationStatus::Pending {
                continue;
            }
            let ident = a.identifier().to_string();
            if let Some(mut ch) = a.challenge(kind.clone()) {
                match ch.set_ready().await {
                    Ok(()) => {}
                    Err(instant_acme::Error::Api(_)) => {
                        refused = true;
                        break;
                    }
                    Err(e) => {
                        return Err(acme_error(
                            e,
                            http,
                            &format!("the {} challenge for {ident}", type_name(&kind)),
                        ))
                    }
                }
            }
        }
    }
    if refused {
        return Err(validation_failure(&mut order, http, &kind).await);
    }
    if answered > 0 {
        hooks.verbose(format!("Asked the CA to validate {answered} name(s)."));
    }
    let status = match order.poll_ready(&poll_policy(opts.timeout)).await {
        Ok(s) => Some(s),
        Err(instant_acme::Error::Api(_)) => None,
        Err(e) => return Err(acme_error(e, http, "the validation")),
    };
    if status != Some(OrderStatus::Ready) {
        return Err(validation_failure(&mut order, http, &kind).await);
    }
    hooks.verbose("Every name is validated; the order is ready.".into());
    for p in challenges.cleanup(&mut |m| hooks.verbose(m)).await {
        hooks.verbose(format!("Cleanup: {p}"));
    }
    order
        .finalize_csr(csr_der)
        .await
        .map_err(|e| acme_error(e, http, "the certificate request (finalize)"))?;
    let pem = order
        .poll_certificate(&poll_policy(opts.timeout))
        .await
        .map_err(|e| acme_error(e, http, "the certificate"))?;
    hooks.verbose(format!(
        "Downloaded the certificate of order {}.",
        order.url()
    ));
    Ok(pem)
}

/// Why validation failed: each invalid authorization's challenge problem, else the order's.
async fn validation_failure(
    order: &mut instant_acme::Order,
    http: &Http,
    kind: &ChallengeType,
) -> CsError {
    let mut lines = Vec::new();
    {
        let mut auths = order.authorizations();
        while let Some(a) = auths.next().await {
            let Ok(mut a) = a else { continue };
            let ident = a.identifier().to_string();
            let Ok(st) = a.refresh().await else { continue };
            if st.status == AuthorizationStatus::Invalid {
                for c in &st.challenges {
                    if let Some(p) = &c.error {
                        lines.push(format!(
                            "{ident} ({}): {}",
                            type_name(&c.r#type),
                            problem_text(p)
                        ));
                    }
                }
                if !st.challenges.iter().any(|c| c.error.is_some()) {
                    lines.push(format!("{ident}: the authorization is invalid"));
                }
            }
        }
    }
    if lines.is_empty() {
        if let Ok(st) = order.refresh().await {
            if let Some(p) = &st.error {
                lines.push(problem_text(p));
            }
        }
    }
    let _ = http.take_retry_after();
    if lines.is_empty() {
        lines.push("the CA gave no reason".into());
    }
    failed(
        "AcmeChallengeFailed",
        Category::InvalidOperation,
        format!(
            "The ACME CA refused the {} challenge: {}.",
            type_name(kind),
            lines.join("; ")
        ),
    )
}

/// What `-Retrieve` found for a stored order.
pub enum Finished {
    Certificate(String),
    StillPending(String),
    Invalid(String),
}

/// Finishes a stored order: finalizes it with the stored CSR when ready, downloads the
/// certificate when valid, and otherwise says where it stands.
pub async fn finish(
    http: &Http,
    credentials: &str,
    order_url: &str,
    csr_der: &[u8],
    timeout: Duration,
) -> CsResult<Finished> {
    let creds: AccountCredentials = serde_json::from_str(credentials).map_err(|e| {
        failed(
            "AcmeAccountUnreadable",
            Category::InvalidData,
            format!("The stored ACME account cannot be read: {e}."),
        )
    })?;
    let account = Account::builder_with_http(Box::new(http.clone()))
        .from_credentials(creds)
        .await
        .map_err(|e| acme_error(e, http, "the stored account"))?;
    let mut order = account
        .order(order_url.to_string())
        .await
        .map_err(|e| acme_error(e, http, &format!("the order {order_url}")))?;
    let status = order.state().status;
    match status {
        OrderStatus::Ready => {
            order
                .finalize_csr(csr_der)
                .await
                .map_err(|e| acme_error(e, http, "the certificate request (finalize)"))?;
        }
        OrderStatus::Processing | OrderStatus::Valid => {}
        OrderStatus::Pending => {
            return Ok(Finished::StillPending(
                "the CA has not validated every name of the order yet".into(),
            ))
        }
        OrderStatus::Invalid => {
            let why = order
                .state()
                .error
                .as_ref()
                .map(problem_text)
                .unwrap_or_else(|| "a name failed validation".into());
            return Ok(Finished::Invalid(why));
        }
    }
    let pem = order
        .poll_certificate(&poll_policy(timeout))
        .await
        .map_err(|e| acme_error(e, http, "the certificate"))?;
    Ok(Finished::Certificate(pem))
}

trait LossyName {
    fn to_string_lossy(&self) -> String;
}

impl LossyName for Identifier {
    fn to_string_lossy(&self) -> String {
        match self {
            Identifier::Dns(d) => d.clone(),
            Identifier::Ip(a) => a.to_string(),
            other => format!("{other:?}"),
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
    fn rate_limits_say_when_to_retry() {
        let http = Http::new(super::super::client::tls_config(Some(TEST_ROOT.as_bytes())).unwrap());
        *http.retry_after.lock().unwrap() = Some("3600".into());
        let e = acme_error(
            instant_acme::Error::Api(problem(
                r#"{"type":"urn:ietf:params:acme:error:rateLimited","detail":"too many certificates already issued"}"#,
            )),
            &http,
            "the order",
        );
        assert_eq!(e.error_id, "AcmeRateLimited");
        assert!(
            e.message.contains(
                "too many certificates already issued (urn:ietf:params:acme:error:rateLimited)"
            ),
            "{}",
            e.message
        );
        assert!(
            e.message.contains("Retry after 3600 seconds (at "),
            "{}",
            e.message
        );
    }

    // Any CA certificate will do for building a client in unit tests (no connection is made).
    const TEST_ROOT: &str = include_str!("../../../tests/fixtures/acme/test-root.pem");
}
