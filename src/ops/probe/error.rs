//! Why one endpoint gave no certificate (ops::probe::net and its STARTTLS dialog).

/// Why no chain was fetched.
#[derive(Debug)]
pub enum NetError {
    /// No address for the host (or the name does not resolve).
    Resolve(std::io::Error),
    Io(std::io::Error),
    Timeout {
        seconds: u64,
    },
    /// The server closed the connection; `said`: what it sent before.
    Closed {
        said: String,
    },
    /// The XMPP peer sent something that is not an XML stream (another protocol).
    NotXmpp {
        said: String,
    },
    /// More than `limit` bytes before TLS.
    TooMuchBeforeTls {
        limit: usize,
    },
    /// The stream features offered no STARTTLS.
    NoStartTls,
    /// The server answered `<starttls/>` with `<failure/>`.
    StartTlsRefused,
    /// The server ended the stream with `<stream:error>`.
    StreamError {
        condition: String,
    },
    /// The TLS handshake failed.
    Tls(String),
    /// The handshake ended without a certificate.
    NoCertificate,
}
