//! The ACME conversation (RFC 8555) through instant-acme: directory, account, order,
//! challenges, finalization with our own CSR, certificate download; and finishing a stored
//! order later (`-Retrieve`).

use super::challenge::Challenges;
use super::client::{check_url, Http, Transport};
use super::error::{problem_text, AcmeError, Unreachable};
use super::untrusted::text;
use super::{ChallengeKind, Options};
use crate::store::AcmeAccountRow;
use instant_acme::{
    Account, AccountCredentials, AuthorizationStatus, ChallengeType, ExternalAccountKey,
    Identifier, NewAccount, NewOrder, OrderStatus, RetryPolicy,
};
use serde::Deserialize;
use std::time::Duration;

/// What the conversation needs from the synchronous side: progress lines and the store.
pub trait Hooks {
    fn verbose(&mut self, msg: String);
    fn warning(&mut self, msg: String);
    /// The CA no longer knows stored account `id`: keep the new one in its place.
    fn replace_account(&mut self, id: i64, url: &str, credentials: &str) -> Result<(), AcmeError>;
    fn load_account(
        &mut self,
        directory: &str,
        contact: &str,
    ) -> Result<Option<AcmeAccountRow>, AcmeError>;
    fn save_account(
        &mut self,
        directory: &str,
        contact: &str,
        url: &str,
        credentials: &str,
    ) -> Result<i64, AcmeError>;
    /// The CA accepted the order: the request (key) and order are stored now, so that nothing
    /// is lost whatever happens next. Returns the request id.
    fn order_created(&mut self, account_id: i64, order_url: &str) -> Result<i64, AcmeError>;
    /// Every challenge is answered and the CA was asked to validate them: from now on the
    /// order can be finished by `-Retrieve`.
    fn validation_asked(&mut self);
}

/// An authorization's identifier is used (given to a hook, served, logged) only when it is
/// one of the order's names and a DNS name: a CA's authorization for anything else is refused.
fn ordered_identifier(ident: &str, names: &[String]) -> Result<String, AcmeError> {
    let n = ident.trim_end_matches('.').to_ascii_lowercase();
    let dns = !n.is_empty()
        && n.len() <= 253
        && n.split('.').enumerate().all(|(i, l)| {
            (1..=63).contains(&l.len())
                && (l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    || (i == 0 && l == "*"))
        });
    if dns && names.iter().any(|o| o.eq_ignore_ascii_case(&n)) {
        Ok(n)
    } else {
        Err(AcmeError::UnorderedIdentifier {
            identifier: ident.to_string(),
        })
    }
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
    new_nonce: String,
    new_account: String,
    new_order: String,
    #[serde(default)]
    revoke_cert: Option<String>,
    #[serde(default)]
    key_change: Option<String>,
    #[serde(default)]
    meta: Option<DirectoryMeta>,
}

impl DirectoryDoc {
    /// Every URL the directory names must be one cscert will contact (https, with a host).
    fn check(&self) -> Result<(), Transport> {
        let urls = [&self.new_nonce, &self.new_account, &self.new_order]
            .into_iter()
            .chain(self.revoke_cert.iter())
            .chain(self.key_change.iter());
        for u in urls {
            let uri: http::Uri = u.parse().map_err(|_| Transport::UnsafeUrl {
                url: u.clone(),
                why: "is not an https:// URL",
            })?;
            check_url(&uri)?;
        }
        Ok(())
    }
}

/// An instant-acme error at one stage of the order (with the `Retry-After` the CA sent).
pub fn acme_error(e: instant_acme::Error, http: &Http, stage: &str) -> AcmeError {
    let retry = http.take_retry_after();
    let stage = stage.to_string();
    match e {
        instant_acme::Error::Other(other) if other.is::<Transport>() => AcmeError::Transport {
            stage,
            error: *other.downcast::<Transport>().expect("checked"),
        },
        instant_acme::Error::Api(problem)
            if problem.r#type.as_deref() == Some("urn:ietf:params:acme:error:rateLimited") =>
        {
            AcmeError::RateLimited {
                stage,
                problem: Box::new(problem),
                retry_after: retry.map(|r| (r, std::time::SystemTime::now())),
            }
        }
        instant_acme::Error::Api(problem) => AcmeError::Refused {
            stage,
            problem: Box::new(problem),
        },
        instant_acme::Error::Timeout(_) => AcmeError::StageTimedOut { stage },
        error => AcmeError::RequestFailed {
            stage,
            error: Box::new(error),
        },
    }
}

fn poll_policy(timeout: Duration) -> RetryPolicy {
    RetryPolicy::new()
        .initial_delay(Duration::from_millis(250))
        .backoff(1.5)
        .timeout(timeout)
}

/// Reads the directory: tells an unreachable or non-ACME URL apart before anything else.
async fn directory(opts: &Options, http: &Http) -> Result<DirectoryDoc, AcmeError> {
    let unreachable = |why| AcmeError::DirectoryUnreachable {
        directory: opts.directory.clone(),
        why,
    };
    let (status, body) = http
        .get(&opts.directory)
        .await
        .map_err(|e| unreachable(Unreachable::Transport(e)))?;
    if !status.is_success() {
        return Err(unreachable(Unreachable::Status(status)));
    }
    let doc: DirectoryDoc =
        serde_json::from_slice(&body).map_err(|e| unreachable(Unreachable::NotADirectory(e)))?;
    if doc.new_nonce.is_empty() || doc.new_account.is_empty() || doc.new_order.is_empty() {
        return Err(unreachable(Unreachable::Incomplete));
    }
    doc.check()
        .map_err(|e| unreachable(Unreachable::Transport(e)))?;
    Ok(doc)
}

/// The account for this directory and contact: the one in the store, or a new one (stored).
async fn account(
    opts: &Options,
    http: &Http,
    hooks: &mut dyn Hooks,
) -> Result<(Account, i64), AcmeError> {
    let doc = directory(opts, http).await?;
    let contact_key = opts.contacts.join(",");
    if let Some(row) = hooks.load_account(&opts.directory, &contact_key)? {
        let creds: AccountCredentials =
            serde_json::from_str(&row.credentials).map_err(|error| {
                AcmeError::AccountUnreadable {
                    url: Some(row.url.clone()),
                    error,
                }
            })?;
        let acc = Account::builder_with_http(Box::new(http.clone()))
            .from_credentials(creds)
            .await
            .map_err(|e| acme_error(e, http, "the stored account"))?;
        hooks.verbose(format!(
            "Using the ACME account {} from the store (created {}).",
            text(&row.url),
            row.created
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ));
        if opts.eab.is_some() {
            hooks.warning(format!(
                "-AcmeEabKeyId is not used: the store already holds the account {} for this CA and contact, which is bound already.",
                text(&row.url)
            ));
        }
        return Ok((acc, row.id));
    }
    let (acc, json) = new_account(opts, http, doc, hooks).await?;
    let id = hooks.save_account(&opts.directory, &contact_key, acc.id(), &json)?;
    Ok((acc, id))
}

/// Registers a new account (terms, EAB); returns it with its credentials JSON.
async fn new_account(
    opts: &Options,
    http: &Http,
    doc: DirectoryDoc,
    hooks: &mut dyn Hooks,
) -> Result<(Account, String), AcmeError> {
    let meta = doc.meta.unwrap_or_default();
    if let Some(tos) = &meta.terms_of_service {
        if !opts.agree_tos {
            return Err(AcmeError::TermsNotAgreed {
                directory: opts.directory.clone(),
                terms: tos.clone(),
            });
        }
        hooks.verbose(format!(
            "Agreeing to the terms of service {} (-AcmeAgreeTos).",
            text(tos)
        ));
    }
    if meta.external_account_required && opts.eab.is_none() {
        return Err(AcmeError::EabRequired {
            directory: opts.directory.clone(),
        });
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
    Ok((acc, json))
}

const ACCOUNT_DOES_NOT_EXIST: &str = "urn:ietf:params:acme:error:accountDoesNotExist";

/// The order is placed; when the CA no longer knows the stored account (a restarted CA, a
/// deactivated account: `accountDoesNotExist`), a new account takes its place in the store
/// and the order is placed once more, so that no stored account blocks every request.
async fn place_order(
    opts: &Options,
    http: &Http,
    names: &[String],
    hooks: &mut dyn Hooks,
) -> Result<(instant_acme::Order, i64), AcmeError> {
    let (account, account_id) = account(opts, http, hooks).await?;
    let ids: Vec<Identifier> = names.iter().map(|n| Identifier::Dns(n.clone())).collect();
    let stage = format!("the order for {}", names.join(", "));
    // A renewal names the certificate it replaces (RFC 9773 `replaces`).
    let new_order = || {
        let mut o = NewOrder::new(&ids);
        if let Some((aki, serial)) = opts.replaces.as_deref().and_then(|r| r.split_once('.')) {
            o = o.replaces(instant_acme::CertificateIdentifier {
                authority_key_identifier: aki.into(),
                serial: serial.into(),
            });
        }
        o
    };
    match account.new_order(&new_order()).await {
        Ok(order) => Ok((order, account_id)),
        Err(instant_acme::Error::Api(p)) if p.r#type.as_deref() == Some(ACCOUNT_DOES_NOT_EXIST) => {
            let id = account_id;
            hooks.warning(format!(
                "The ACME CA no longer knows the stored account {} ({}); a new account replaces it in the store.",
                text(account.id()),
                problem_text(&p)
            ));
            let doc = directory(opts, http).await?;
            let (acc, json) = new_account(opts, http, doc, hooks).await?;
            hooks.replace_account(id, acc.id(), &json)?;
            let order = acc
                .new_order(&new_order())
                .await
                .map_err(|e| acme_error(e, http, &stage))?;
            Ok((order, id))
        }
        Err(e) => Err(acme_error(e, http, &stage)),
    }
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
) -> Result<String, AcmeError> {
    let (mut order, account_id) = place_order(opts, http, names, hooks).await?;
    let request_id = hooks.order_created(account_id, order.url())?;
    hooks.verbose(format!(
        "The CA accepted order {} for {}; the private key is pending in the store as request {request_id}.",
        text(order.url()),
        names.join(", ")
    ));
    if order.state().status == OrderStatus::Invalid {
        return Err(AcmeError::OrderRejected {
            problem: order.state().error.clone().map(Box::new),
        });
    }

    // Put every answer in place first (dns-01 then waits once for all of them).
    let kind = challenge_type(opts.challenge);
    let mut answered = 0;
    {
        let mut auths = order.authorizations();
        while let Some(a) = auths.next().await {
            let mut a = a.map_err(|e| acme_error(e, http, "reading an authorization"))?;
            let ident = ordered_identifier(&a.identifier().to_string(), names)?;
            match a.status {
                AuthorizationStatus::Valid => {
                    hooks.verbose(format!("{ident}: already authorized for this account."));
                    continue;
                }
                AuthorizationStatus::Pending => {}
                status => {
                    return Err(AcmeError::AuthorizationNotPending {
                        identifier: ident,
                        status,
                    })
                }
            }
            let offered: Vec<String> = a.challenges.iter().map(|c| type_name(&c.r#type)).collect();
            let Some(ch) = a.challenge(kind.clone()) else {
                return Err(AcmeError::ChallengeNotOffered {
                    kind: type_name(&kind),
                    identifier: ident,
                    offered,
                });
            };
            let ka = ch.key_authorization();
            // The name the hook or responder is given: the checked one, without a wildcard.
            let checked = ordered_identifier(&ch.identifier().to_string(), names)?;
            let domain = checked.trim_start_matches("*.").to_string();
            challenges
                .present(&domain, &ch.token, ka.as_str(), &ka.dns_value(), &mut |m| {
                    hooks.verbose(m)
                })
                .await
                .map_err(|reason| AcmeError::ChallengeNotPresented {
                    kind: type_name(&kind),
                    identifier: ident.clone(),
                    reason,
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
    let mut refused = None;
    {
        let mut auths = order.authorizations();
        while let Some(a) = auths.next().await {
            let mut a = a.map_err(|e| acme_error(e, http, "reading an authorization"))?;
            if a.status != AuthorizationStatus::Pending {
                continue;
            }
            let ident = ordered_identifier(&a.identifier().to_string(), names)?;
            if let Some(mut ch) = a.challenge(kind.clone()) {
                match ch.set_ready().await {
                    Ok(()) => {}
                    Err(instant_acme::Error::Api(p)) => {
                        refused = Some((ident, p));
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
    if let Some((ident, problem)) = refused {
        // The CA's own answer to the request for validation is the reason, unless the
        // authorizations say why validation failed.
        let stage = format!("the {} challenge for {ident}", type_name(&kind));
        return Err(validation_failure(&mut order, http, &kind, Some((stage, problem))).await);
    }
    hooks.validation_asked();
    if answered > 0 {
        hooks.verbose(format!("Asked the CA to validate {answered} name(s)."));
    }
    let problem = match order.poll_ready(&poll_policy(opts.timeout)).await {
        Ok(OrderStatus::Ready) => None,
        Ok(_) => Some(None),
        Err(instant_acme::Error::Api(p)) => Some(Some(("the validation".to_string(), p))),
        Err(e) => return Err(acme_error(e, http, "the validation")),
    };
    if let Some(problem) = problem {
        return Err(validation_failure(&mut order, http, &kind, problem).await);
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
        text(order.url())
    ));
    match &opts.preferred_chain {
        Some(cn) => choose_chain(&mut order, http, pem, cn, hooks).await,
        None => Ok(pem),
    }
}

/// The common name of the issuer of a PEM chain's topmost certificate (what certbot's and
/// lego's --preferred-chain match).
fn top_issuer_cn(pem: &str) -> Option<String> {
    use x509_parser::prelude::FromDer;
    let blocks = crate::pki::pem::parse_many(pem.as_bytes()).ok()?;
    let top = blocks.iter().rev().find(|b| b.is_certificate())?;
    let (_, c) = x509_parser::certificate::X509Certificate::from_der(&top.contents).ok()?;
    let cn = c
        .issuer()
        .iter_common_name()
        .next()?
        .as_str()
        .ok()?
        .to_string();
    Some(cn)
}

/// -AcmePreferredChain: the default chain if it ends at `cn`, else the first alternate that
/// does (RFC 8555 7.4.2), else the default with a warning.
async fn choose_chain(
    order: &mut instant_acme::Order,
    http: &Http,
    default: String,
    cn: &str,
    hooks: &mut dyn Hooks,
) -> Result<String, AcmeError> {
    let matches = |pem: &str| top_issuer_cn(pem).is_some_and(|i| i.eq_ignore_ascii_case(cn));
    if matches(&default) {
        hooks.verbose(format!("The CA's default chain ends at \"{cn}\"."));
        return Ok(default);
    }
    let urls = order.alternate_chains().to_vec();
    for url in urls.iter().take(10) {
        let alt = order
            .download_chain(url)
            .await
            .map_err(|e| acme_error(e, http, "an alternate chain"))?;
        if matches(&alt) {
            hooks.verbose(format!(
                "Using the alternate chain {} that ends at \"{cn}\" (-AcmePreferredChain).",
                text(url)
            ));
            return Ok(alt);
        }
    }
    hooks.warning(format!(
        "None of the {} chain(s) the ACME CA offers ends at an issuer named \"{}\" (-AcmePreferredChain); the default chain is used, which ends at \"{}\".",
        urls.len() + 1,
        text(cn),
        text(&top_issuer_cn(&default).unwrap_or_default())
    ));
    Ok(default)
}

/// Why validation failed: each invalid authorization's challenge problem, else the order's,
/// else the problem the CA answered the failed step with (`step`: that step and its problem).
async fn validation_failure(
    order: &mut instant_acme::Order,
    http: &Http,
    kind: &ChallengeType,
    step: Option<(String, instant_acme::Problem)>,
) -> AcmeError {
    let mut lines = Vec::new();
    {
        let mut auths = order.authorizations();
        while let Some(a) = auths.next().await {
            let Ok(mut a) = a else { continue };
            let ident = text(&a.identifier().to_string());
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
    if lines.is_empty() {
        if let Some((stage, problem)) = step {
            return acme_error(instant_acme::Error::Api(problem), http, &stage);
        }
    }
    let _ = http.take_retry_after();
    if lines.is_empty() {
        lines.push("the CA gave no reason".into());
    }
    AcmeError::ChallengeFailed {
        kind: type_name(kind),
        reasons: lines,
    }
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
) -> Result<Finished, AcmeError> {
    let creds: AccountCredentials = serde_json::from_str(credentials)
        .map_err(|error| AcmeError::AccountUnreadable { url: None, error })?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use instant_acme::Problem;

    fn problem(json: &str) -> Problem {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn rate_limits_say_when_to_retry() {
        let http = Http::through(
            super::super::client::tls_config(Some(TEST_ROOT.as_bytes())).unwrap(),
            super::super::client::REQUEST_TIMEOUT,
            None,
        );
        *http.retry_after.lock().unwrap() = Some("3600".into());
        let e = acme_error(
            instant_acme::Error::Api(problem(
                r#"{"type":"urn:ietf:params:acme:error:rateLimited","detail":"too many certificates already issued"}"#,
            )),
            &http,
            "the order",
        );
        assert!(
            matches!(&e, AcmeError::RateLimited { stage, retry_after: Some((r, _)), .. } if stage == "the order" && r == "3600"),
            "{e:?}"
        );
        let e = crate::error::CsError::from(e);
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
