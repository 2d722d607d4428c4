//! The HTTPS client the ACME protocol runs over: TLS verified against the system's roots or an
//! `-AcmeCaBundle` PEM, and the last `Retry-After` header kept so rate-limit errors can say when
//! to come back (instant-acme drops the headers of error responses).
//!
//! Every request goes through [`Http::send`], which is where a hostile or broken CA is held to
//! account: only https:// URLs are contacted (instant-acme follows whatever the directory and
//! the CA's answers name), each request and its whole body must arrive within
//! [`REQUEST_TIMEOUT`], and bodies are capped ([`JSON_LIMIT`], [`CHAIN_LIMIT`]).

use bytes::Bytes;
use http::header::RETRY_AFTER;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;
use instant_acme::{BodyWrapper, BytesResponse, HttpClient};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Inner = HyperClient<hyper_rustls::HttpsConnector<super::proxy::Connector>, BodyWrapper<Bytes>>;

/// One request's limit: connect, TLS, headers and body (lego waits 30 s, certbot 45 s).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest JSON answer (directory, account, order, authorization, problem) accepted.
pub const JSON_LIMIT: usize = 1 << 20;
/// The largest certificate chain (`application/pem-certificate-chain`) accepted.
pub const CHAIN_LIMIT: usize = 4 << 20;

/// Why one HTTP exchange with the CA failed; carried inside instant-acme's `Error::Other` so
/// that [`super::flow::acme_error`] can name the cause.
#[derive(Debug)]
pub enum Transport {
    /// A URL the CA named that cscert will not contact.
    UnsafeUrl {
        url: String,
        why: &'static str,
    },
    TooLarge {
        host: String,
        limit: usize,
    },
    TimedOut {
        host: String,
        after: Duration,
    },
    Failed {
        host: String,
        error: String,
    },
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use super::untrusted::text;
        match self {
            Transport::UnsafeUrl { url, why } => {
                write!(f, "the CA named the URL \"{}\", which {why}", text(url))
            }
            Transport::TooLarge { host, limit } => write!(
                f,
                "the CA's answer is larger than {} (from {})",
                size_text(*limit),
                text(host)
            ),
            Transport::TimedOut { host, after } => write!(
                f,
                "the CA at {} did not answer within {} seconds",
                text(host),
                after.as_secs()
            ),
            Transport::Failed { host, error } => write!(f, "{}: {error}", text(host)),
        }
    }
}

impl std::error::Error for Transport {}

fn size_text(n: usize) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else {
        format!("{n} bytes")
    }
}

/// Only https:// URLs with a host are contacted: the directory was checked when the
/// parameters were read, but the URLs inside it and in the CA's answers (newNonce, orders,
/// certificates, alternates) come from the CA. A `file:` URL used to panic inside the client.
pub fn check_url(uri: &http::Uri) -> Result<(), Transport> {
    let bad = |why| Transport::UnsafeUrl {
        url: uri.to_string(),
        why,
    };
    if uri.scheme_str() != Some("https") {
        return Err(bad("is not an https:// URL"));
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(bad("names no host"));
    }
    Ok(())
}

#[derive(Clone)]
pub struct Http {
    inner: Inner,
    /// The `Retry-After` value of the most recent response that carried one.
    pub retry_after: Arc<Mutex<Option<String>>>,
    timeout: Duration,
}

impl Http {
    /// A client whose every request must finish within `timeout`, its connections going
    /// through `proxy` (an HTTP CONNECT tunnel) when given.
    pub fn through(
        tls: rustls::ClientConfig,
        timeout: Duration,
        proxy: Option<super::proxy::Proxy>,
    ) -> Http {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(timeout));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_only()
            .enable_http1()
            .enable_http2()
            .wrap_connector(super::proxy::Connector { http, proxy });
        Http {
            inner: HyperClient::builder(TokioExecutor::new()).build(connector),
            retry_after: Arc::new(Mutex::new(None)),
            timeout,
        }
    }

    /// GET of a plain resource (the directory): status and body.
    pub async fn get(&self, url: &str) -> Result<(StatusCode, Bytes), Transport> {
        let uri: http::Uri = url.parse().map_err(|_| Transport::UnsafeUrl {
            url: url.to_string(),
            why: "is not a URL",
        })?;
        let req = Request::get(uri)
            .header(
                http::header::USER_AGENT,
                concat!("cscert/", env!("CARGO_PKG_VERSION")),
            )
            .body(BodyWrapper::<Bytes>::default())
            .expect("a GET without a body");
        let (parts, body) = self.send(req).await?;
        Ok((parts.status, body))
    }

    /// One exchange, checked and bounded. A GET or HEAD (nothing changes at the CA) is tried
    /// once more when the connection failed; a POST is never repeated here (instant-acme
    /// repeats a badNonce POST with a fresh nonce, RFC 8555 6.5).
    async fn send(
        &self,
        req: Request<BodyWrapper<Bytes>>,
    ) -> Result<(http::response::Parts, Bytes), Transport> {
        check_url(req.uri())?;
        let host = req
            .uri()
            .authority()
            .map(|a| a.to_string())
            .unwrap_or_default();
        let idempotent = matches!(*req.method(), http::Method::GET | http::Method::HEAD);
        let again = idempotent.then(|| {
            let mut r = Request::new(BodyWrapper::<Bytes>::default());
            *r.method_mut() = req.method().clone();
            *r.uri_mut() = req.uri().clone();
            *r.headers_mut() = req.headers().clone();
            r
        });
        match self.exchange(req, &host).await {
            Err(Transport::Failed { .. }) if again.is_some() => {
                tokio::time::sleep(Duration::from_millis(500)).await;
                self.exchange(again.expect("checked"), &host).await
            }
            other => other,
        }
    }

    async fn exchange(
        &self,
        req: Request<BodyWrapper<Bytes>>,
        host: &str,
    ) -> Result<(http::response::Parts, Bytes), Transport> {
        let failed = |e: &(dyn std::error::Error + 'static)| Transport::Failed {
            host: host.to_string(),
            error: chain(e),
        };
        let work = async {
            let rsp = self.inner.request(req).await.map_err(|e| failed(&e))?;
            let (parts, body) = rsp.into_parts();
            let chain_type = parts
                .headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|t| t.starts_with("application/pem-certificate-chain"));
            let limit = if chain_type { CHAIN_LIMIT } else { JSON_LIMIT };
            let too_large = || Transport::TooLarge {
                host: host.to_string(),
                limit,
            };
            let declared = parts
                .headers
                .get(http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
            if declared.is_some_and(|n| n > limit as u64) {
                return Err(too_large());
            }
            let body = Limited::new(body, limit)
                .collect()
                .await
                .map_err(|e| {
                    if e.is::<http_body_util::LengthLimitError>() {
                        too_large()
                    } else {
                        failed(e.as_ref())
                    }
                })?
                .to_bytes();
            Ok((parts, body))
        };
        let (parts, body) = tokio::time::timeout(self.timeout, work)
            .await
            .map_err(|_| Transport::TimedOut {
                host: host.to_string(),
                after: self.timeout,
            })??;
        if let Some(v) = parts.headers.get(RETRY_AFTER).and_then(|v| v.to_str().ok()) {
            if let Ok(mut s) = self.retry_after.lock() {
                *s = Some(v.trim().to_string());
            }
        }
        Ok((parts, body))
    }

    pub fn take_retry_after(&self) -> Option<String> {
        self.retry_after.lock().ok()?.take()
    }
}

impl HttpClient for Http {
    fn request(
        &self,
        req: Request<BodyWrapper<Bytes>>,
    ) -> Pin<Box<dyn Future<Output = Result<BytesResponse, instant_acme::Error>> + Send>> {
        let me = self.clone();
        Box::pin(async move {
            let (parts, body) = me
                .send(req)
                .await
                .map_err(|e| instant_acme::Error::Other(Box::new(e)))?;
            Ok(BytesResponse {
                parts,
                body: Box::new(body),
            })
        })
    }
}

/// The roots to trust: the PEM certificates of a bundle, or (None) the operating system's.
pub fn tls_config(bundle_pem: Option<&[u8]>) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    match bundle_pem {
        Some(pem) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in CertificateDer::pem_slice_iter(pem) {
                let c = c.map_err(|e| format!("it is not a PEM certificate bundle ({e})"))?;
                roots
                    .add(c)
                    .map_err(|e| format!("a certificate in it cannot be a trust anchor ({e})"))?;
            }
            if roots.is_empty() {
                return Err("it holds no PEM certificate".into());
            }
            Ok(builder.with_root_certificates(roots).with_no_client_auth())
        }
        None => {
            use rustls_platform_verifier::BuilderVerifierExt;
            Ok(builder
                .with_platform_verifier()
                .map_err(|e| format!("the system's trusted roots cannot be used ({e})"))?
                .with_no_client_auth())
        }
    }
}

/// An error with its causes ("client error (Connect): tcp connect error: Connection refused"):
/// hyper's top-level messages alone do not say what went wrong.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}
