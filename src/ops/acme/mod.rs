//! `Request-CsCertificate -New -CA https://<ACME directory>`: issuing through an ACME CA
//! (RFC 8555) with instant-acme. The async code stays inside this module: a current-thread
//! tokio runtime is built only when an ACME request runs, so every other cmdlet starts as before.

pub mod ari;
mod challenge;
mod client;
mod error;
#[cfg(test)]
mod error_table;
mod flow;
mod proxy;
mod revoke;
mod untrusted;

pub use error::{AcmeError, Unreachable};
pub use revoke::{revoke, Reason, Revoked, REASONS};

use crate::ops::Ctx;
use crate::store::{AcmeAccountRow, AcmeOrderRow, CertRow, NewRequest, StoreError};
use challenge::{Challenges, Responder};
use client::Http;
use flow::{Finished, Hooks};
use std::path::PathBuf;
use std::time::Duration;

/// The environment variable the EAB HMAC key may come from (keeps it off the command line).
pub const EAB_HMAC_ENV: &str = "CSCERT_ACME_EAB_HMAC_KEY";

const DEFAULT_TIMEOUT_SEC: i32 = 300;
const DEFAULT_DNS_WAIT_SEC: i32 = 20;

/// The parameters that only mean something for an ACME -CA.
const ACME_PARAMS: &[&str] = &[
    "AcmeAgreeTos",
    "AcmeCaBundle",
    "AcmeChallenge",
    "AcmeContact",
    "AcmeDnsHook",
    "AcmeDnsWaitSec",
    "AcmeEabHmacKey",
    "AcmeEabKeyId",
    "AcmeHttpPort",
    "AcmePreferredChain",
    "AcmeProxy",
    "AcmeTimeoutSec",
    "AcmeWebRoot",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeKind {
    Http01,
    Dns01,
}

/// Everything an ACME request needs, checked before a key is made or anyone is contacted.
pub struct Options {
    pub directory: String,
    pub contacts: Vec<String>,
    pub agree_tos: bool,
    /// Key id and raw HMAC key.
    pub eab: Option<(String, Vec<u8>)>,
    pub challenge: ChallengeKind,
    pub http_port: u16,
    /// The one address the http-01 responder binds (`CSCERT_ACME_HTTP_ADDRESS`), else all.
    pub http_address: Option<String>,
    pub web_root: Option<PathBuf>,
    pub dns_hook: Option<PathBuf>,
    pub dns_wait: Duration,
    pub timeout: Duration,
    pub ca_bundle: Option<PathBuf>,
    bundle_pem: Option<Vec<u8>>,
    /// -AcmePreferredChain: the issuer common name the chain should end at.
    pub preferred_chain: Option<String>,
    proxy: Option<proxy::Proxy>,
    /// The ARI identifier (RFC 9773) of the certificate a renewal replaces, sent in the order.
    pub replaces: Option<String>,
}

/// Whether a -CA value names an ACME directory (a URL) rather than a lab CA or AD CS.
pub fn is_directory_url(ca: &str) -> bool {
    let l = ca.trim().to_ascii_lowercase();
    l.starts_with("https://") || l.starts_with("http://")
}

/// Request-CsCertificate's -Acme* parameters, typed.
#[derive(Debug, Clone, Default)]
pub struct AcmeArgs<'a> {
    pub agree_tos: bool,
    pub ca_bundle: Option<&'a str>,
    /// `Http01` (default) or `Dns01`.
    pub challenge: Option<&'a str>,
    pub contact: Vec<String>,
    pub dns_hook: Option<&'a str>,
    pub dns_wait_sec: Option<i32>,
    pub eab_hmac_key: Option<&'a str>,
    pub eab_key_id: Option<&'a str>,
    pub http_port: Option<i32>,
    pub preferred_chain: Option<&'a str>,
    /// An http:// proxy (else HTTPS_PROXY / ALL_PROXY, with NO_PROXY).
    pub proxy: Option<&'a str>,
    pub timeout_sec: Option<i32>,
    pub web_root: Option<&'a str>,
    /// The -Acme* parameters that were given at all (even `-AcmeAgreeTos:$false`), by name:
    /// a parameter out of place is refused, not ignored.
    pub given: Vec<&'static str>,
}

impl AcmeArgs<'_> {
    fn has(&self, name: &str) -> bool {
        self.given.contains(&name)
    }

    /// The first of `names` that was given.
    fn first_given(&self, names: &[&'static str]) -> Option<&'static str> {
        names.iter().copied().find(|p| self.has(p))
    }

    fn int(&self, name: &str) -> Option<i32> {
        match name {
            "AcmeHttpPort" => self.http_port,
            "AcmeDnsWaitSec" => self.dns_wait_sec,
            "AcmeTimeoutSec" => self.timeout_sec,
            _ => None,
        }
    }
}

/// The names of the -Acme* parameters, for [`AcmeArgs::given`].
pub fn acme_parameter_names() -> &'static [&'static str] {
    ACME_PARAMS
}

/// ACME parameters given without an ACME -CA are refused rather than silently ignored.
pub fn refuse_without_directory(b: &AcmeArgs<'_>) -> Result<(), AcmeError> {
    match b.first_given(ACME_PARAMS) {
        Some(parameter) => Err(AcmeError::ParameterWithoutAcmeCa { parameter }),
        None => Ok(()),
    }
}

fn int_param(
    b: &AcmeArgs<'_>,
    name: &'static str,
    default: i32,
    min: i32,
    max: i32,
) -> Result<i32, AcmeError> {
    match b.int(name) {
        None => Ok(default),
        Some(v) if v >= min && v <= max => Ok(v),
        Some(value) => Err(AcmeError::OutOfRange {
            parameter: name,
            value,
            min,
            max,
        }),
    }
}

/// Decodes an EAB HMAC key as CAs hand them out: base64url, padded or not (standard base64 too).
fn decode_hmac(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let t = s.trim();
    let e = base64::engine::general_purpose::GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let std = base64::engine::general_purpose::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    e.decode(t)
        .or_else(|_| std.decode(t))
        .ok()
        .filter(|k| !k.is_empty())
}

impl Options {
    /// Reads and checks the ACME parameters (no network; the CA bundle file is read now).
    pub fn from_args(b: &AcmeArgs<'_>, ctx: &Ctx, ca: &str) -> Result<Options, AcmeError> {
        let directory = ca.trim().to_string();
        let uri: http::Uri = directory
            .parse()
            .map_err(|error| AcmeError::DirectoryNotUrl {
                directory: directory.clone(),
                error,
            })?;
        if uri.scheme_str() != Some("https") || uri.host().is_none() {
            return Err(AcmeError::DirectoryNotHttps { directory });
        }
        let contacts = b
            .contact
            .iter()
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .map(|c| {
                if c.contains(':') {
                    Ok(c)
                } else if c.contains('@') {
                    Ok(format!("mailto:{c}"))
                } else {
                    Err(AcmeError::InvalidContact { contact: c })
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let eab = match b.eab_key_id.map(str::trim).filter(|s| !s.is_empty()) {
            None => {
                if b.has("AcmeEabHmacKey") {
                    return Err(AcmeError::EabKeyWithoutKeyId);
                }
                None
            }
            Some(kid) => {
                // $env:CSCERT_ACME_EAB_HMAC_KEY arrives here through the binder (cli::Settings).
                let key = b
                    .eab_hmac_key
                    .map(str::to_string)
                    .filter(|k| !k.trim().is_empty())
                    .ok_or(AcmeError::EabKeyIdWithoutKey)?;
                let raw = decode_hmac(&key).ok_or(AcmeError::EabKeyNotBase64)?;
                Some((kid.to_string(), raw))
            }
        };
        let challenge = match b.challenge {
            Some("Dns01") => ChallengeKind::Dns01,
            _ => ChallengeKind::Http01,
        };
        let web_root = b.web_root.map(|p| ctx.full_path(p));
        let dns_hook = b.dns_hook.map(|h| {
            // A bare name is looked up on PATH, as a shell would.
            if h.contains('/') || h.contains('\\') {
                ctx.full_path(h)
            } else {
                PathBuf::from(h)
            }
        });
        match challenge {
            ChallengeKind::Dns01 => {
                if dns_hook.is_none() {
                    return Err(AcmeError::DnsHookMissing);
                }
                if let Some(parameter) = b.first_given(&["AcmeWebRoot", "AcmeHttpPort"]) {
                    return Err(AcmeError::HttpParameterWithDns01 { parameter });
                }
            }
            ChallengeKind::Http01 => {
                if let Some(parameter) = b.first_given(&["AcmeDnsHook", "AcmeDnsWaitSec"]) {
                    return Err(AcmeError::DnsParameterWithHttp01 { parameter });
                }
                if web_root.is_some() && b.has("AcmeHttpPort") {
                    return Err(AcmeError::WebRootAndHttpPort);
                }
                if let Some(w) = &web_root {
                    if !w.is_dir() {
                        return Err(AcmeError::WebRootMissing { path: w.clone() });
                    }
                }
            }
        }
        let http_port = int_param(b, "AcmeHttpPort", 80, 1, 65535)? as u16;
        let dns_wait = int_param(b, "AcmeDnsWaitSec", DEFAULT_DNS_WAIT_SEC, 0, 3600)? as u64;
        let timeout = int_param(b, "AcmeTimeoutSec", DEFAULT_TIMEOUT_SEC, 1, 86400)? as u64;
        let (ca_bundle, bundle_pem) = read_bundle(b, ctx, None)?;
        Ok(Options {
            directory,
            contacts,
            agree_tos: b.agree_tos,
            eab,
            challenge,
            http_port,
            http_address: ctx.settings.acme_http_address.clone(),
            web_root,
            dns_hook,
            dns_wait: Duration::from_secs(dns_wait),
            timeout: Duration::from_secs(timeout),
            ca_bundle,
            bundle_pem,
            proxy: proxy_of(b)?,
            preferred_chain: b
                .preferred_chain
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string),
            replaces: None,
        })
    }

    fn http(&self) -> Result<Http, AcmeError> {
        make_http(
            self.bundle_pem.as_deref(),
            self.ca_bundle.as_ref(),
            request_timeout(self.timeout),
            self.proxy.clone(),
        )
    }
}

/// -AcmeCaBundle (or the bundle an order was made with), read and parsed now.
fn read_bundle(
    b: &AcmeArgs<'_>,
    ctx: &Ctx,
    stored: Option<&str>,
) -> Result<(Option<PathBuf>, Option<Vec<u8>>), AcmeError> {
    let path = match b.ca_bundle {
        Some(p) => Some(ctx.full_path(p)),
        None => stored.map(PathBuf::from),
    };
    let Some(path) = path else {
        return Ok((None, None));
    };
    // Bounded like every input (issue 10): a CA bundle is a few KiB.
    let pem = crate::ops::read_limited(&path, crate::ops::CERT_FILE_LIMIT).map_err(|error| {
        AcmeError::CaBundleUnreadable {
            path: path.clone(),
            error,
        }
    })?;
    Ok((Some(path), Some(pem)))
}

/// One request's limit: 30 seconds, or half of -AcmeTimeoutSec when that is shorter (so that a
/// silent CA is reported as that request's failure, naming the CA and the step, rather than as
/// the whole order's timeout).
fn request_timeout(whole: Duration) -> Duration {
    client::REQUEST_TIMEOUT.min((whole / 2).max(Duration::from_secs(1)))
}

fn make_http(
    bundle_pem: Option<&[u8]>,
    path: Option<&PathBuf>,
    timeout: Duration,
    proxy: Option<proxy::Proxy>,
) -> Result<Http, AcmeError> {
    let tls = client::tls_config(bundle_pem).map_err(|reason| AcmeError::CaBundleUnusable {
        path: path.cloned(),
        reason,
    })?;
    Ok(Http::through(tls, timeout, proxy))
}

/// -AcmeProxy, else the proxy of the environment; refused when it cannot be used.
fn proxy_of(b: &AcmeArgs<'_>) -> Result<Option<proxy::Proxy>, AcmeError> {
    proxy::Proxy::configured(b.proxy)
        .map_err(|(value, why)| AcmeError::ProxyUnusable { value, why })
}

fn runtime() -> Result<tokio::runtime::Runtime, AcmeError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(AcmeError::RuntimeNotStarted)
}

/// Resolves when the user presses Ctrl-C (or the process is asked to terminate). The handlers
/// are installed when this is called, before anything is put in place.
#[cfg(unix)]
fn interrupted() -> Result<impl std::future::Future<Output = &'static str>, AcmeError> {
    use tokio::signal::unix::{signal, SignalKind};
    let mk = |k| signal(k).map_err(AcmeError::SignalsNotHandled);
    let mut int = mk(SignalKind::interrupt())?;
    let mut term = mk(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = int.recv() => "Ctrl-C",
            _ = term.recv() => "SIGTERM",
        }
    })
}

#[cfg(not(unix))]
fn interrupted() -> Result<impl std::future::Future<Output = &'static str>, AcmeError> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    })
}

/// What an ACME order produced.
pub struct Issued {
    pub request_id: i64,
    pub der: Vec<u8>,
    pub chain: Vec<Vec<u8>>,
}

struct NewHooks<'a, 'r> {
    ctx: &'a mut Ctx,
    req: &'a NewRequest<'r>,
    ca_bundle: Option<String>,
    request_id: Option<i64>,
    validation_asked: bool,
}

impl Hooks for NewHooks<'_, '_> {
    fn verbose(&mut self, msg: String) {
        self.ctx.host.verbose(msg);
    }

    fn warning(&mut self, msg: String) {
        self.ctx.host.warning(msg);
    }

    fn replace_account(&mut self, id: i64, url: &str, credentials: &str) -> Result<(), AcmeError> {
        let now = self.ctx.now;
        Ok(self.ctx.store()?.write(|tx| -> Result<(), StoreError> {
            tx.replace_acme_account(id, url, credentials, now)?;
            tx.commit()
        })?)
    }

    fn load_account(
        &mut self,
        directory: &str,
        contact: &str,
    ) -> Result<Option<AcmeAccountRow>, AcmeError> {
        Ok(self
            .ctx
            .store()?
            .read(|tx| tx.acme_account(directory, contact))?)
    }

    fn save_account(
        &mut self,
        directory: &str,
        contact: &str,
        url: &str,
        credentials: &str,
    ) -> Result<i64, AcmeError> {
        let now = self.ctx.now;
        Ok(self.ctx.store()?.write(|tx| -> Result<i64, StoreError> {
            let id = tx.insert_acme_account(directory, contact, url, credentials, now)?;
            tx.commit()?;
            Ok(id)
        })?)
    }

    fn order_created(&mut self, account_id: i64, order_url: &str) -> Result<i64, AcmeError> {
        let req = self.req;
        let bundle = self.ca_bundle.clone();
        let now = self.ctx.now;
        let id = self.ctx.store()?.write(|tx| -> Result<i64, StoreError> {
            let id = tx.insert_request(req)?;
            tx.insert_acme_order(&AcmeOrderRow {
                request_id: id,
                account_id,
                order_url: order_url.to_string(),
                ca_bundle: bundle,
                created: now,
            })?;
            tx.commit()?;
            Ok(id)
        })?;
        self.request_id = Some(id);
        Ok(id)
    }

    fn validation_asked(&mut self) {
        self.validation_asked = true;
    }
}

/// Puts the subject first among the SANs of a request for an ACME CA: the CA decides the
/// certificate's CN, some from the CSR's CN (Boulder, Let's Encrypt), some from the first name
/// (pebble); with the subject first, both give the CN the request asks for (Lync matches the
/// Access Edge FQDN on it).
pub fn subject_first(sans: &mut Vec<String>, subject: &str) {
    if let Some(i) = sans.iter().position(|s| s.eq_ignore_ascii_case(subject)) {
        let s = sans.remove(i);
        sans.insert(0, s);
    }
}

/// The identifiers of the order: the request's SANs, in its order (subject first, see
/// [`subject_first`]).
fn order_names(req: &NewRequest<'_>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for n in req.sans {
        let n = n.trim().trim_end_matches('.').to_ascii_lowercase();
        if !n.is_empty() && !names.contains(&n) {
            names.push(n);
        }
    }
    names
}

/// Runs an ACME order for a request made by the ordinary pipeline (key, CSR, validator).
/// The request and its key are stored as soon as the CA accepts the order.
pub fn order_certificate(
    ctx: &mut Ctx,
    opts: &Options,
    req: &NewRequest<'_>,
) -> Result<Issued, AcmeError> {
    // rustls needs a process-wide provider for the platform verifier; aws-lc-rs is ours.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let http = opts.http()?;
    let names = order_names(req);
    let rt = runtime()?;
    let mut hooks = NewHooks {
        ctx,
        req,
        ca_bundle: opts.ca_bundle.as_ref().map(|p| p.display().to_string()),
        request_id: None,
        validation_asked: false,
    };
    let outcome = rt.block_on(async {
        let stop = interrupted()?;
        // The responder is bound before the CA is contacted: a busy port costs nothing.
        let responder = match (opts.challenge, &opts.web_root, &opts.dns_hook) {
            (ChallengeKind::Dns01, _, Some(h)) => Responder::DnsHook(h.clone()),
            (_, Some(w), _) => Responder::WebRoot(w.clone()),
            _ => challenge::bind_http(opts.http_port, opts.http_address.as_deref())
                .await
                .map_err(|reason| AcmeError::HttpPortUnavailable {
                    port: opts.http_port,
                    reason,
                })?,
        };
        let mut challenges = Challenges::new(responder);
        let result = tokio::select! {
            r = flow::order(opts, &http, &names, req.csr_der, &mut hooks, &mut challenges) => r,
            signal = stop => Err(AcmeError::Interrupted { signal, retrieving: false }),
            _ = tokio::time::sleep(opts.timeout) => Err(AcmeError::OrderTimedOut { limit: opts.timeout }),
        };
        // Cleanup runs whatever happened (a second Ctrl-C is caught by the handler above).
        for p in challenges.cleanup(&mut |m| hooks.verbose(m)).await {
            hooks.ctx.host.warning(format!("Challenge cleanup: {p}"));
        }
        challenges.stop();
        result
    });
    let (request_id, resumable) = (hooks.request_id, hooks.validation_asked);
    let pem = outcome.map_err(|error| match request_id {
        Some(request_id) => AcmeError::Kept {
            request_id,
            error: Box::new(error),
            resumable,
        },
        None => error,
    })?;
    let request_id = request_id.expect("an order was made before a certificate came back");
    let (der, chain) = split_chain(&pem, req.spki_der)?;
    Ok(Issued {
        request_id,
        der,
        chain,
    })
}

/// The PEM chain the CA returned: leaf first. The leaf must carry the request's public key.
fn split_chain(pem: &str, spki: &[u8]) -> Result<(Vec<u8>, Vec<Vec<u8>>), AcmeError> {
    let bad = |reason: String| AcmeError::CertificateUnusable { reason };
    let mut certs: Vec<Vec<u8>> = crate::pki::pem::parse_many(pem.as_bytes())
        .map_err(bad)?
        .into_iter()
        .filter(|b| b.is_certificate())
        .map(|b| b.contents)
        .collect();
    if certs.is_empty() {
        return Err(bad("it holds no certificate".into()));
    }
    let leaf = certs.remove(0);
    use x509_parser::prelude::FromDer;
    let (_, parsed) = x509_parser::certificate::X509Certificate::from_der(&leaf)
        .map_err(|e| bad(e.to_string()))?;
    if parsed.public_key().raw != spki {
        return Err(bad("it is not for the request's key".into()));
    }
    Ok((leaf, certs))
}

/// `-Retrieve`: finishes the stored ACME orders of pending requests (one with -RequestId). A
/// ready order is finalized with the stored request, a valid one downloaded; the certificate
/// is stored with the pending key, so the ordinary -Retrieve then shows the request Completed.
pub fn finish_pending(ctx: &mut Ctx, b: &AcmeArgs<'_>, id: Option<i64>) -> Result<(), AcmeError> {
    let rows = ctx.store()?.read(|tx| tx.pending_acme_orders(id))?;
    if rows.is_empty() {
        return Ok(());
    }
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let timeout =
        Duration::from_secs(int_param(b, "AcmeTimeoutSec", DEFAULT_TIMEOUT_SEC, 1, 86400)? as u64);
    let rt = runtime()?;
    for (req, order) in rows {
        // -WhatIf contacts nobody here either.
        if !ctx.should_process(
            &format!("request {}", req.id),
            &format!("Finish ACME order {}", order.order_url),
        )? {
            continue;
        }
        let account = ctx
            .store()?
            .read(|tx| tx.acme_account_by_id(order.account_id))?
            .ok_or(AcmeError::AccountMissing { request_id: req.id })?;
        let (path, pem) = read_bundle(b, ctx, order.ca_bundle.as_deref())?;
        let http = make_http(
            pem.as_deref(),
            path.as_ref(),
            request_timeout(timeout),
            proxy_of(b)?,
        )?;
        ctx.host.verbose(format!(
            "Request {}: asking the CA about order {}.",
            req.id, order.order_url
        ));
        let found = rt.block_on(async {
            let stop = interrupted()?;
            tokio::select! {
                r = flow::finish(&http, &account.credentials, &order.order_url, &req.csr_der, timeout) => r,
                signal = stop => Err(AcmeError::Interrupted { signal, retrieving: true }),
                _ = tokio::time::sleep(timeout) => Err(AcmeError::RetrieveTimedOut { limit: timeout }),
            }
        })
        .map_err(|error| AcmeError::StaysPending {
            request_id: req.id,
            error: Box::new(error),
        })?;
        match found {
            Finished::StillPending(why) => ctx.host.verbose(format!("Request {}: {why}.", req.id)),
            Finished::Invalid(why) => ctx.host.warning(format!(
                "Request {}: the ACME CA made order {} invalid: {why}. Make a new request (Request-CsCertificate -Clear -RequestId {} removes this one).",
                req.id, order.order_url, req.id
            )),
            Finished::Certificate(pem) => {
                let (der, chain) = split_chain(&pem, &req.spki_der)?;
                let info = crate::pki::inspect::inspect_der_certificate(&der)
                    .map_err(AcmeError::CertificateUnreadable)?;
                let thumbprint = info.thumbprint.clone().expect("certificates have thumbprints");
                let now = ctx.now;
                ctx.store()?.write(|tx| -> Result<(), StoreError> {
                    let row = CertRow {
                        thumbprint: thumbprint.clone(),
                        der: der.clone(),
                        chain: chain.clone(),
                        key_pkcs8: tx.request_key(req.id)?,
                        exportable: req.exportable,
                        friendly_name: req.friendly_name.clone(),
                        request_id: Some(req.id),
                        added: now,
                        spki_der: req.spki_der.clone(),
                    };
                    tx.put_certificate(&row)?;
                    tx.complete_request(req.id, &thumbprint)?;
                    tx.commit()
                })?;
                ctx.host.verbose(format!(
                    "Request {}: issued thumbprint \"{thumbprint}\" by \"{}\".",
                    req.id,
                    info.issuer.as_deref().unwrap_or_default()
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_urls_are_told_apart_from_lab_cas() {
        assert!(is_directory_url(
            "https://acme-v02.api.letsencrypt.org/directory"
        ));
        assert!(is_directory_url("HTTP://ca/dir"));
        assert!(!is_directory_url("./lab-ca"));
        assert!(!is_directory_url("ca01.contoso.com\\Contoso CA"));
    }

    #[test]
    fn the_subject_goes_first() {
        let mut s: Vec<String> = ["webcon.contoso.com", "sip.contoso.com", "contoso.com"]
            .map(String::from)
            .to_vec();
        subject_first(&mut s, "SIP.contoso.com");
        assert_eq!(s, ["sip.contoso.com", "webcon.contoso.com", "contoso.com"]);
        subject_first(&mut s, "other.contoso.com");
        assert_eq!(s, ["sip.contoso.com", "webcon.contoso.com", "contoso.com"]);
    }

    #[test]
    fn parameters_are_refused_by_name_before_anyone_is_contacted() {
        let b = AcmeArgs {
            http_port: Some(8080),
            given: vec!["AcmeHttpPort"],
            ..AcmeArgs::default()
        };
        assert!(matches!(
            refuse_without_directory(&b),
            Err(AcmeError::ParameterWithoutAcmeCa {
                parameter: "AcmeHttpPort"
            })
        ));
        let ctx = Ctx::for_test(std::env::temp_dir().join("cscert-unit-acme-never-made"));
        let refused = |b: &AcmeArgs<'_>, ca: &str| Options::from_args(b, &ctx, ca).err();
        assert!(matches!(
            refused(&AcmeArgs::default(), "http://ca.contoso.com/directory"),
            Some(AcmeError::DirectoryNotHttps { directory }) if directory == "http://ca.contoso.com/directory"
        ));
        let b = AcmeArgs {
            challenge: Some("Dns01"),
            dns_hook: Some("hook.sh"),
            http_port: Some(8080),
            given: vec!["AcmeChallenge", "AcmeDnsHook", "AcmeHttpPort"],
            ..AcmeArgs::default()
        };
        assert!(matches!(
            refused(&b, "https://ca.contoso.com/directory"),
            Some(AcmeError::HttpParameterWithDns01 {
                parameter: "AcmeHttpPort"
            })
        ));
        let b = AcmeArgs {
            timeout_sec: Some(0),
            given: vec!["AcmeTimeoutSec"],
            ..AcmeArgs::default()
        };
        assert!(matches!(
            refused(&b, "https://ca.contoso.com/directory"),
            Some(AcmeError::OutOfRange {
                parameter: "AcmeTimeoutSec",
                value: 0,
                min: 1,
                max: 86400
            })
        ));
    }

    #[test]
    fn hmac_keys_decode_as_cas_issue_them() {
        // pebble's example EAB key (base64url without padding)
        let k = decode_hmac("zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W")
            .unwrap();
        assert_eq!(k.len(), 48);
        assert_eq!(decode_hmac("YWJj"), Some(b"abc".to_vec()));
        assert_eq!(decode_hmac("YWI="), Some(b"ab".to_vec()));
        assert_eq!(decode_hmac("!!"), None);
    }
}
