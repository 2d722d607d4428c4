//! Reaching the ACME CA through an HTTP proxy (an Edge server in a DMZ): `-AcmeProxy`, else
//! `HTTPS_PROXY` / `ALL_PROXY` (either case), with `NO_PROXY` naming hosts reached directly.
//! The TLS session to the CA runs inside an HTTP CONNECT tunnel (RFC 9110 9.3.6), so the proxy
//! sees only the CA's host and port; the CA's certificate is verified as without a proxy.

use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::net::TcpStream;
use tower_service::Service;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The proxy to tunnel through, and the hosts that bypass it.
#[derive(Clone, Debug)]
pub struct Proxy {
    pub url: http::Uri,
    auth: Option<http::HeaderValue>,
    no_proxy: Vec<String>,
}

fn env(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| std::env::var(n).ok())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

impl Proxy {
    /// `explicit` (-AcmeProxy), else the environment; None: connect directly. Err: why the
    /// value cannot be used.
    pub fn configured(explicit: Option<&str>) -> Result<Option<Proxy>, (String, String)> {
        let value = match explicit.map(str::trim).filter(|v| !v.is_empty()) {
            Some(v) => v.to_string(),
            None => match env(&["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]) {
                Some(v) => v,
                None => return Ok(None),
            },
        };
        let bad = |why: &str| (value.clone(), why.to_string());
        // A bare host:port is an http:// proxy, as curl reads it.
        let full = if value.contains("://") {
            value.clone()
        } else {
            format!("http://{value}")
        };
        let url: http::Uri = full.parse().map_err(|_| bad("it is not a URL"))?;
        if url.scheme_str() != Some("http") {
            return Err(bad("only http:// proxies (HTTP CONNECT) are supported"));
        }
        let authority = url
            .authority()
            .ok_or_else(|| bad("it names no host"))?
            .clone();
        let auth = match authority.as_str().rsplit_once('@') {
            Some((userinfo, _)) => {
                use base64::Engine;
                let b = base64::engine::general_purpose::STANDARD.encode(userinfo);
                let mut h = http::HeaderValue::from_str(&format!("Basic {b}"))
                    .map_err(|_| bad("its user name or password cannot be sent"))?;
                h.set_sensitive(true);
                Some(h)
            }
            None => None,
        };
        let host_port = authority.as_str().rsplit('@').next().unwrap_or_default();
        let url: http::Uri = format!("http://{host_port}")
            .parse()
            .map_err(|_| bad("it is not a URL"))?;
        let no_proxy = env(&["NO_PROXY", "no_proxy"])
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().trim_start_matches('.').to_ascii_lowercase())
            .filter(|s| !s.is_empty())
            .collect();
        Ok(Some(Proxy {
            url,
            auth,
            no_proxy,
        }))
    }

    /// NO_PROXY: `*`, a host, or a domain (with or without a leading dot) and its subdomains.
    pub fn bypass(&self, host: &str) -> bool {
        let h = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        self.no_proxy
            .iter()
            .any(|n| n == "*" || h == *n || h.ends_with(&format!(".{n}")))
    }
}

/// The TCP connector under TLS: direct, or through the proxy's CONNECT tunnel.
#[derive(Clone)]
pub struct Connector {
    pub http: HttpConnector,
    pub proxy: Option<Proxy>,
}

impl Service<http::Uri> for Connector {
    type Response = TokioIo<TcpStream>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.http.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: http::Uri) -> Self::Future {
        match &self.proxy {
            Some(p) if !p.bypass(dst.host().unwrap_or_default()) => {
                let mut t = Tunnel::new(p.url.clone(), self.http.clone());
                if let Some(a) = &p.auth {
                    t = t.with_auth(a.clone());
                }
                Box::pin(async move { t.call(dst).await.map_err(Into::into) })
            }
            _ => {
                let fut = self.http.call(dst);
                Box::pin(async move { fut.await.map_err(Into::into) })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_proxy_names_hosts_and_domains() {
        let p = Proxy {
            url: "http://proxy:3128".parse().unwrap(),
            auth: None,
            no_proxy: vec!["contoso.com".into(), "127.0.0.1".into()],
        };
        assert!(p.bypass("contoso.com"));
        assert!(p.bypass("acme.CONTOSO.com"));
        assert!(p.bypass("127.0.0.1"));
        assert!(!p.bypass("notcontoso.com"));
        assert!(!p.bypass("acme-v02.api.letsencrypt.org"));
    }
}
