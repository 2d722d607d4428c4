//! One connection: TCP, the XMPP STARTTLS dialog when the protocol has one, then a TLS handshake
//! whose verifier only records the chain the server presents (it is judged afterwards by the
//! same rules as a file). The whole connection runs under one timeout.

use super::error::NetError;
use super::Protocol;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpStream;

/// What the server presented and negotiated.
#[derive(Debug, Clone)]
pub struct Served {
    /// The leaf first, then what the server sent with it, in its order.
    pub chain: Vec<Vec<u8>>,
    pub address: SocketAddr,
    pub tls_version: String,
    pub cipher_suite: String,
}

/// Accepts any chain and keeps it: the probe reports what is served, it does not refuse it.
/// Handshake signatures are still checked, so the peer really holds the certificate's key.
#[derive(Debug)]
struct Capture {
    provider: Arc<CryptoProvider>,
    chain: Mutex<Vec<Vec<u8>>>,
}

impl ServerCertVerifier for Capture {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let mut c = self.chain.lock().expect("not poisoned");
        c.clear();
        c.push(end_entity.to_vec());
        c.extend(intermediates.iter().map(|d| d.to_vec()));
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Where to connect and what to say.
#[derive(Debug, Clone)]
pub struct Target {
    pub host: String,
    pub port: u16,
    /// `-Resolve host=address`: connect there instead of looking the host up.
    pub address: Option<std::net::IpAddr>,
    pub protocol: Protocol,
    /// The name sent as SNI (and as the stream's `to` for XMPP).
    pub server_name: String,
}

/// Connects, negotiates and returns what was served, all within `timeout`.
pub async fn fetch(t: &Target, timeout: Duration) -> Result<Served, NetError> {
    match tokio::time::timeout(timeout, fetch_inner(t)).await {
        Ok(r) => r,
        Err(_) => Err(NetError::Timeout {
            seconds: timeout.as_secs(),
        }),
    }
}

async fn fetch_inner(t: &Target) -> Result<Served, NetError> {
    let mut tcp = match t.address {
        Some(ip) => TcpStream::connect(SocketAddr::new(ip, t.port)).await,
        None => {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((t.host.as_str(), t.port))
                .await
                .map_err(NetError::Resolve)?
                .collect();
            TcpStream::connect(&addrs[..]).await
        }
    }
    .map_err(NetError::Io)?;
    let address = tcp.peer_addr().map_err(NetError::Io)?;
    match t.protocol {
        Protocol::XmppServer => super::xmpp::starttls(&mut tcp, &t.server_name, true).await?,
        Protocol::XmppClient => super::xmpp::starttls(&mut tcp, &t.server_name, false).await?,
        Protocol::SipTls | Protocol::Https => {}
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let capture = Arc::new(Capture {
        provider: provider.clone(),
        chain: Mutex::new(Vec::new()),
    });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| NetError::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(capture.clone())
        .with_no_client_auth();
    let name = ServerName::try_from(t.server_name.clone())
        .map_err(|e| NetError::Tls(format!("'{}' is not a server name: {e}", t.server_name)))?;
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| NetError::Tls(e.to_string()))?;
    let (_, conn) = tls.get_ref();
    let tls_version = match conn.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLS 1.3".to_string(),
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLS 1.2".to_string(),
        Some(v) => format!("{v:?}"),
        None => String::new(),
    };
    let cipher_suite = conn
        .negotiated_cipher_suite()
        .map(|s| {
            s.suite()
                .as_str()
                .map_or_else(|| format!("{:?}", s.suite()), str::to_string)
        })
        .unwrap_or_default();
    let chain = std::mem::take(&mut *capture.chain.lock().expect("not poisoned"));
    if chain.is_empty() {
        return Err(NetError::NoCertificate);
    }
    Ok(Served {
        chain,
        address,
        tls_version,
        cipher_suite,
    })
}
