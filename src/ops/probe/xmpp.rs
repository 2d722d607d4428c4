//! XMPP STARTTLS (RFC 6120 section 5.4): open a stream to the domain, read the stream header and
//! features, ask for TLS, wait for `<proceed/>`. Everything the server sends before TLS is capped
//! at [`PRE_TLS_LIMIT`] bytes, and the caller bounds the time.

use super::error::NetError;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The most bytes read before TLS starts. A stream header and features are a few hundred bytes;
/// a server that sends more (an endless or huge header) is refused, not buffered.
pub const PRE_TLS_LIMIT: usize = 64 * 1024;

const TLS_NS: &str = "urn:ietf:params:xml:ns:xmpp-tls";

/// The stream header a receiving server expects: `jabber:server` for s2s, `jabber:client` for
/// c2s, `to` = the domain the certificate must name.
fn stream_header(domain: &str, server: bool) -> String {
    let ns = if server {
        "jabber:server"
    } else {
        "jabber:client"
    };
    format!(
        "<?xml version='1.0'?><stream:stream xmlns='{ns}' xmlns:stream='http://etherx.jabber.org/streams' to='{}' version='1.0'>",
        xml_attr(domain)
    )
}

fn xml_attr(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('\'', "&apos;")
        .replace('"', "&quot;")
}

/// Reads into `buf` until `done(buf)` says what it found, never past [`PRE_TLS_LIMIT`].
async fn read_until<S, T>(
    s: &mut S,
    buf: &mut Vec<u8>,
    mut done: impl FnMut(&str) -> Option<Result<T, NetError>>,
) -> Result<T, NetError>
where
    S: AsyncRead + Unpin,
{
    let mut chunk = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(buf);
        if let Some(r) = done(&text) {
            return r;
        }
        if buf.len() >= PRE_TLS_LIMIT {
            return Err(NetError::TooMuchBeforeTls {
                limit: PRE_TLS_LIMIT,
            });
        }
        let room = (PRE_TLS_LIMIT - buf.len()).min(chunk.len());
        let n = s.read(&mut chunk[..room]).await.map_err(NetError::Io)?;
        if n == 0 {
            return Err(NetError::Closed {
                said: String::from_utf8_lossy(buf).into_owned(),
            });
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// The server's own words when it ends the stream with an error (`<stream:error>`).
fn stream_error(text: &str) -> Option<NetError> {
    let at = text.find("<stream:error")?;
    let rest = &text[at..];
    // Wait for the whole element: its condition is the first child's name.
    let end = rest.find("</stream:error>")?;
    let inner = &rest[..end];
    let condition = inner
        .split('<')
        .skip(2)
        .find_map(|t| t.split([' ', '/', '>']).next().filter(|n| !n.is_empty()))
        .unwrap_or("undefined-condition");
    Some(NetError::StreamError {
        condition: condition.to_string(),
    })
}

/// Not XMPP: the first thing a server sends is its XML stream header (`<`), after optional
/// whitespace. Anything else (an SSH banner, an HTTP answer, TLS bytes) is another protocol.
fn not_xml(text: &str) -> Option<NetError> {
    let t = text.trim_start();
    match t.chars().next() {
        Some('<') | None => None,
        Some(_) => Some(NetError::NotXmpp {
            said: t.chars().take(80).collect(),
        }),
    }
}

/// Runs the STARTTLS dialog on `s`; on `Ok`, the next bytes are the TLS handshake.
pub async fn starttls<S>(s: &mut S, domain: &str, server: bool) -> Result<(), NetError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    s.write_all(stream_header(domain, server).as_bytes())
        .await
        .map_err(NetError::Io)?;
    let mut buf = Vec::new();
    read_until(s, &mut buf, |t| {
        if let Some(e) = not_xml(t).or_else(|| stream_error(t)) {
            return Some(Err(e));
        }
        let features_end = t
            .find("</stream:features>")
            .or_else(|| t.find("<stream:features/>"))?;
        Some(if t[..features_end].contains(TLS_NS) {
            Ok(())
        } else {
            Err(NetError::NoStartTls)
        })
    })
    .await?;
    s.write_all(format!("<starttls xmlns='{TLS_NS}'/>").as_bytes())
        .await
        .map_err(NetError::Io)?;
    let mut buf = Vec::new();
    read_until(s, &mut buf, |t| {
        if let Some(e) = stream_error(t) {
            return Some(Err(e));
        }
        if t.contains("<proceed") {
            Some(Ok(()))
        } else if t.contains("<failure") {
            Some(Err(NetError::StartTlsRefused))
        } else {
            None
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_names_the_domain_and_the_server_namespace() {
        let h = stream_header("contoso.com", true);
        assert!(h.contains("to='contoso.com'") && h.contains("xmlns='jabber:server'"));
        assert!(stream_header("a'b", false).contains("to='a&apos;b'"));
    }

    #[test]
    fn a_stream_error_gives_its_condition() {
        let t = "<stream:stream><stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>";
        match stream_error(t) {
            Some(NetError::StreamError { condition }) => assert_eq!(condition, "host-unknown"),
            e => panic!("{e:?}"),
        }
        assert!(not_xml("SSH-2.0-OpenSSH_9.2\r\n").is_some());
        assert!(not_xml("  <?xml").is_none());
    }
}
