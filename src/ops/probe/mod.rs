//! Test-CsCertificate -Endpoint [cscert]: fetches the chain live servers present (XMPP by
//! STARTTLS, SIP and HTTPS by direct TLS with SNI) and judges it like a file, plus what only a
//! live server can get wrong: the chain it sends, the name its peer checks, and whether it
//! serves the certificate assigned to it. Endpoints are probed a few at a time, each under its
//! own timeout; one that fails is one error record and the others go on.

mod error;
mod judge;
mod net;
mod xmpp;

pub use error::NetError;
pub use judge::ProbeResult;

use super::certs::CertError;
use super::check::{CheckArgs, CheckError};
use super::Ctx;
use crate::error::{Category, CsError};
use std::net::IpAddr;
use std::time::Duration;

/// Endpoints probed at the same time: enough to hide network latency, few enough that a long
/// list does not look like a scan to the servers and firewalls on the way.
pub const CONCURRENCY: usize = 8;

/// `-TimeoutSec` when not given: a server answers a handshake in well under a second.
pub const DEFAULT_TIMEOUT_SEC: u64 = 5;

/// What the endpoint speaks (`-Protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    XmppServer,
    XmppClient,
    SipTls,
    Https,
}

impl Protocol {
    pub const NAMES: &'static [&'static str] = &["XmppServer", "XmppClient", "SipTls", "Https"];

    pub fn parse(s: &str) -> Option<Protocol> {
        Some(match s.to_ascii_lowercase().as_str() {
            "xmppserver" => Protocol::XmppServer,
            "xmppclient" => Protocol::XmppClient,
            "siptls" => Protocol::SipTls,
            "https" => Protocol::Https,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Protocol::XmppServer => "XmppServer",
            Protocol::XmppClient => "XmppClient",
            Protocol::SipTls => "SipTls",
            Protocol::Https => "Https",
        }
    }

    /// The port when `host` has none: XMPP s2s 5269 and c2s 5222 (RFC 6120), SIP over TLS
    /// 5061 (RFC 3261), HTTPS 443.
    pub fn default_port(self) -> u16 {
        match self {
            Protocol::XmppServer => 5269,
            Protocol::XmppClient => 5222,
            Protocol::SipTls => 5061,
            Protocol::Https => 443,
        }
    }

    pub fn is_xmpp(self) -> bool {
        matches!(self, Protocol::XmppServer | Protocol::XmppClient)
    }
}

/// What to probe and what the served certificate should be.
#[derive(Debug, Clone)]
pub struct ProbeArgs<'a> {
    /// `host[:port]` as given (`[v6]:port` for IPv6 literals).
    pub endpoints: Vec<String>,
    pub protocol: Protocol,
    /// `-Resolve host=address`: addresses used instead of looking the host up.
    pub resolve: Vec<String>,
    pub timeout: Duration,
    /// -Type, -ComputerFqdn, -XmppDomain, -SipDomain, -VerificationTime, -TrustedRoot.
    pub check: CheckArgs<'a>,
}

/// Why the probe as a whole did not run.
#[derive(Debug)]
pub enum ProbeError {
    Check(CheckError),
    /// An `-Endpoint` value that is not `host[:port]`.
    BadEndpoint {
        given: String,
    },
    /// A `-Resolve` value that is not `host=address`.
    BadResolve {
        given: String,
    },
    /// XMPP without a domain to name: `-XmppDomain`, or a host name as endpoint.
    NoXmppDomain {
        endpoint: String,
    },
    Runtime(std::io::Error),
}

impl From<CheckError> for ProbeError {
    fn from(e: CheckError) -> Self {
        ProbeError::Check(e)
    }
}

impl From<CertError> for ProbeError {
    fn from(e: CertError) -> Self {
        ProbeError::Check(CheckError::Cert(e))
    }
}

impl From<crate::store::StoreError> for ProbeError {
    fn from(e: crate::store::StoreError) -> Self {
        ProbeError::Check(CheckError::Store(e))
    }
}

impl From<ProbeError> for CsError {
    fn from(e: ProbeError) -> CsError {
        match e {
            ProbeError::Check(e) => e.into(),
            ProbeError::BadEndpoint { given } => CsError::failed(
                "InvalidEndpoint",
                Category::InvalidArgument,
                format!("'{}' is not an endpoint: give host or host:port (e.g. sip.contoso.com:5061, [2001:db8::1]:5269).", quote(&given)),
            )
            .with_target(given),
            ProbeError::BadResolve { given } => CsError::failed(
                "InvalidResolve",
                Category::InvalidArgument,
                format!("'{}' is not host=address (e.g. sip.contoso.com=127.0.0.1).", quote(&given)),
            )
            .with_target(given),
            ProbeError::NoXmppDomain { endpoint } => CsError::failed(
                "XmppDomainRequired",
                Category::InvalidArgument,
                format!("The endpoint {endpoint} is an address: give -XmppDomain, the domain the XMPP stream is opened to."),
            )
            .with_target(endpoint),
            ProbeError::Runtime(e) => CsError::failed(
                "RuntimeNotStarted",
                Category::ResourceUnavailable,
                format!("The network runtime could not start: {e}"),
            ),
        }
    }
}

/// One endpoint that gave no certificate.
#[derive(Debug)]
pub struct EndpointError {
    pub endpoint: String,
    pub error: NetError,
}

impl From<EndpointError> for CsError {
    fn from(e: EndpointError) -> CsError {
        use Category as C;
        let at = &e.endpoint;
        let (id, cat, msg) = match e.error {
            NetError::Resolve(err) => ("EndpointNotResolved", C::ObjectNotFound, format!("{at}: the host name does not resolve: {err}")),
            NetError::Io(err) => ("EndpointNotReached", C::ConnectionError, format!("{at}: {err}")),
            NetError::Timeout { seconds } => ("EndpointTimeout", C::OperationTimeout, format!("{at}: no certificate within {seconds} s (-TimeoutSec): the server accepted the connection but did not complete the handshake.")),
            NetError::Closed { said } if said.is_empty() => ("EndpointClosed", C::ConnectionError, format!("{at}: the server closed the connection before presenting a certificate.")),
            NetError::Closed { said } => ("EndpointClosed", C::ConnectionError, format!("{at}: the server closed the connection before presenting a certificate; it said: '{}'", quote(&said))),
            NetError::NotXmpp { said } => ("EndpointNotXmpp", C::ProtocolError, format!("{at}: the server does not speak XMPP (no XML stream); it said: '{}'", quote(&said))),
            NetError::TooMuchBeforeTls { limit } => ("EndpointTooMuchData", C::ProtocolError, format!("{at}: the server sent more than {limit} bytes before TLS without offering it; the connection was dropped.")),
            NetError::NoStartTls => ("StartTlsNotOffered", C::ProtocolError, format!("{at}: the server's stream features offer no STARTTLS, so no certificate is served on this port.")),
            NetError::StartTlsRefused => ("StartTlsRefused", C::ProtocolError, format!("{at}: the server answered STARTTLS with <failure/>.")),
            NetError::StreamError { condition } => ("XmppStreamError", C::ProtocolError, format!("{at}: the server ended the XMPP stream with the error '{}'.", quote(&condition))),
            NetError::Tls(err) => ("TlsHandshakeFailed", C::SecurityError, format!("{at}: the TLS handshake failed: {}", quote(&err))),
            NetError::NoCertificate => ("NoCertificateServed", C::SecurityError, format!("{at}: the server presented no certificate.")),
        };
        CsError::failed(id, cat, msg).with_target(e.endpoint)
    }
}

/// The most characters of a server's text an error quotes.
const QUOTE_LIMIT: usize = 200;

/// Text a server chose, as an error message may quote it: control characters escaped, at most
/// 200 characters.
fn quote(s: &str) -> String {
    let escaped: String = s.chars().flat_map(char::escape_debug).collect();
    match escaped.char_indices().nth(QUOTE_LIMIT) {
        None => escaped,
        Some((at, _)) => format!("{}...", &escaped[..at]),
    }
}

/// `host[:port]` or `[v6]:port` split, the port defaulting to the protocol's.
pub fn parse_endpoint(s: &str, protocol: Protocol) -> Option<(String, u16)> {
    let s = s.trim();
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (h, after) = rest.split_once(']')?;
        match after {
            "" => (h, None),
            p => (h, Some(p.strip_prefix(':')?)),
        }
    } else if s.matches(':').count() > 1 {
        (s, None)
    } else {
        match s.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    let port = match port {
        Some(p) => p.parse::<u16>().ok().filter(|p| *p != 0)?,
        None => protocol.default_port(),
    };
    let host = host.trim_end_matches('.');
    let ok = host.parse::<IpAddr>().is_ok()
        || (!host.is_empty()
            && host.len() <= 253
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_'));
    ok.then(|| (host.to_ascii_lowercase(), port))
}

/// The probe's targets, in the order given; for XMPP one per endpoint and -XmppDomain.
fn targets(a: &ProbeArgs<'_>) -> Result<Vec<(String, net::Target)>, ProbeError> {
    let mut resolve = Vec::new();
    for r in &a.resolve {
        let (h, ip) = r
            .split_once('=')
            .and_then(|(h, ip)| Some((h.trim().to_ascii_lowercase(), ip.trim().parse().ok()?)))
            .ok_or_else(|| ProbeError::BadResolve { given: r.clone() })?;
        resolve.push((h, ip));
    }
    let mut out = Vec::new();
    for e in &a.endpoints {
        let (host, port) = parse_endpoint(e, a.protocol)
            .ok_or_else(|| ProbeError::BadEndpoint { given: e.clone() })?;
        let address = host
            .parse::<IpAddr>()
            .ok()
            .or_else(|| resolve.iter().find(|(h, _)| *h == host).map(|(_, ip)| *ip));
        let shown = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let names: Vec<String> = if a.protocol.is_xmpp() && !a.check.xmpp_domains.is_empty() {
            a.check.xmpp_domains.clone()
        } else if host.parse::<IpAddr>().is_ok() && a.protocol.is_xmpp() {
            return Err(ProbeError::NoXmppDomain { endpoint: shown });
        } else {
            vec![host.clone()]
        };
        for server_name in names {
            out.push((
                shown.clone(),
                net::Target {
                    host: host.clone(),
                    port,
                    address,
                    protocol: a.protocol,
                    server_name,
                },
            ));
        }
    }
    Ok(out)
}

/// Probes every endpoint ([`CONCURRENCY`] at a time) and judges what each served, in the order
/// given: a result, or the error of that endpoint alone.
pub fn probe(
    ctx: &mut Ctx,
    a: ProbeArgs<'_>,
) -> Result<Vec<Result<ProbeResult, EndpointError>>, ProbeError> {
    let targets = targets(&a)?;
    let judge = judge::Judge::new(ctx, &a)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(ProbeError::Runtime)?;
    let fetched = rt.block_on(fetch_all(&targets, a.timeout));
    Ok(targets
        .into_iter()
        .zip(fetched)
        .map(|((endpoint, t), r)| match r {
            Ok(served) => Ok(judge.judge(&endpoint, &t, served)),
            Err(error) => Err(EndpointError { endpoint, error }),
        })
        .collect())
}

/// Fetches all targets with at most [`CONCURRENCY`] connections open; results in input order.
async fn fetch_all(
    targets: &[(String, net::Target)],
    timeout: Duration,
) -> Vec<Result<net::Served, NetError>> {
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
    let mut set = tokio::task::JoinSet::new();
    for (i, (_, t)) in targets.iter().enumerate() {
        let (t, gate) = (t.clone(), gate.clone());
        set.spawn(async move {
            let _permit = gate.acquire_owned().await.expect("never closed");
            (i, net::fetch(&t, timeout).await)
        });
    }
    let mut out: Vec<Option<Result<net::Served, NetError>>> =
        (0..targets.len()).map(|_| None).collect();
    while let Some(done) = set.join_next().await {
        let (i, r) = done.expect("probe tasks do not panic");
        out[i] = Some(r);
    }
    out.into_iter()
        .map(|r| r.expect("every task reported"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_take_the_protocols_default_port() {
        let p = |s| parse_endpoint(s, Protocol::XmppServer);
        assert_eq!(p("Contoso.com"), Some(("contoso.com".into(), 5269)));
        assert_eq!(
            p("sip.contoso.com:5061"),
            Some(("sip.contoso.com".into(), 5061))
        );
        assert_eq!(p("[::1]:5222"), Some(("::1".into(), 5222)));
        assert_eq!(p("::1"), Some(("::1".into(), 5269)));
        assert_eq!(parse_endpoint("a.b", Protocol::Https).unwrap().1, 443);
        assert_eq!(parse_endpoint("a.b", Protocol::SipTls).unwrap().1, 5061);
        for bad in ["", "a b:1", "host:0", "host:99999", "[::1", "x:y", "<a>"] {
            assert_eq!(p(bad), None, "{bad}");
        }
    }

    #[test]
    fn server_text_in_errors_is_escaped_and_capped() {
        let q = quote(&format!("\x1b[31mred\n{}", "x".repeat(500)));
        assert!(!q.contains('\x1b') && !q.contains('\n'), "{q}");
        assert!(q.len() < 260, "{}", q.len());
    }
}
