//! The HTTPS client the ACME protocol runs over: TLS verified against the system's roots or an
//! `-AcmeCaBundle` PEM, and the last `Retry-After` header kept so rate-limit errors can say when
//! to come back (instant-acme drops the headers of error responses).

use bytes::Bytes;
use http::header::RETRY_AFTER;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
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

type Inner = HyperClient<hyper_rustls::HttpsConnector<HttpConnector>, BodyWrapper<Bytes>>;

#[derive(Clone)]
pub struct Http {
    inner: Inner,
    /// The `Retry-After` value of the most recent response that carried one.
    pub retry_after: Arc<Mutex<Option<String>>>,
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

impl Http {
    pub fn new(tls: rustls::ClientConfig) -> Http {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(Duration::from_secs(30)));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_only()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http);
        Http {
            inner: HyperClient::builder(TokioExecutor::new()).build(connector),
            retry_after: Arc::new(Mutex::new(None)),
        }
    }

    /// GET of a plain resource (the directory): status and body.
    pub async fn get(&self, url: &str) -> Result<(StatusCode, Bytes), String> {
        let req = Request::get(url)
            .header(
                http::header::USER_AGENT,
                concat!("cscert/", env!("CARGO_PKG_VERSION")),
            )
            .body(BodyWrapper::<Bytes>::default())
            .map_err(|e| e.to_string())?;
        let rsp = self.inner.request(req).await.map_err(|e| chain(&e))?;
        let status = rsp.status();
        let body = rsp
            .into_body()
            .collect()
            .await
            .map_err(|e| chain(&e))?
            .to_bytes();
        Ok((status, body))
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
        let fut = self.inner.request(req);
        let slot = self.retry_after.clone();
        Box::pin(async move {
            let rsp = fut
                .await
                .map_err(|e| instant_acme::Error::Other(chain(&e).into()))?;
            if let Some(v) = rsp.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()) {
                if let Ok(mut s) = slot.lock() {
                    *s = Some(v.trim().to_string());
                }
            }
            Ok(BytesResponse::from(rsp))
        })
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
