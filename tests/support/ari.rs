//! A scripted ACME Renewal Information endpoint (RFC 9773) in front of a real pebble (Debian's
//! 2.4.0 has none): a TLS proxy on loopback that forwards every request to pebble unchanged
//! (with its own Host, so pebble's URLs name the proxy), adds `renewalInfo` to the directory,
//! answers `renewalInfo/<certID>` with the window and Retry-After the test sets, and records the
//! new-order payloads (to see `replaces`), reflecting `replaces` in pebble's answer as an ARI
//! server must.

use base64::Engine;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// What the test scripts and what the proxy saw.
#[derive(Default)]
pub struct Script {
    /// The suggested window (RFC 3339 start, end) and the Retry-After header.
    pub window: (String, String),
    pub retry_after: String,
    /// The certificate identifiers asked for, in order.
    pub asked: Vec<String>,
    /// The payloads of new-order requests.
    pub orders: Vec<serde_json::Value>,
}

pub struct AriProxy {
    pub port: u16,
    pub script: Arc<Mutex<Script>>,
}

impl AriProxy {
    /// Serves on a free loopback port with pebble's TLS certificate (`tls.pem`, `tls.key` in
    /// `dir`), forwarding to pebble on `upstream`, trusting `tls-ca.pem`.
    pub fn start(dir: &Path, upstream: u16) -> AriProxy {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(dir.join("tls.pem"))
                .unwrap()
                .map(|c| c.unwrap())
                .collect();
        let key = PrivateKeyDer::from_pem_file(dir.join("tls.key")).unwrap();
        let server = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_file_iter(dir.join("tls-ca.pem")).unwrap() {
            roots.add(c.unwrap()).unwrap();
        }
        let client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let (server, client) = (Arc::new(server), Arc::new(client));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let script = Arc::new(Mutex::new(Script::default()));
        let s = script.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (server, client, s) = (server.clone(), client.clone(), s.clone());
                std::thread::spawn(move || {
                    let _ = serve(conn, server, client, s, port, upstream);
                });
            }
        });
        AriProxy { port, script }
    }

    pub fn directory(&self) -> String {
        format!("https://127.0.0.1:{}/dir", self.port)
    }
}

/// One HTTP/1.1 message: head lines and body.
struct Message {
    head: Vec<String>,
    body: Vec<u8>,
}

impl Message {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.iter().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Reads a message: the head, then a Content-Length or chunked body, or (a response) to EOF.
fn read_message(r: &mut impl Read, to_eof: bool) -> std::io::Result<Option<Message>> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if r.read(&mut byte)? == 0 {
            return Ok(None);
        }
        buf.push(byte[0]);
    }
    let head: Vec<String> = String::from_utf8_lossy(&buf)
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    let mut m = Message {
        head,
        body: Vec::new(),
    };
    if let Some(n) = m
        .header("Content-Length")
        .and_then(|v| v.parse::<usize>().ok())
    {
        m.body = vec![0; n];
        r.read_exact(&mut m.body)?;
    } else if m
        .header("Transfer-Encoding")
        .is_some_and(|v| v.contains("chunked"))
    {
        let mut raw = Vec::new();
        let _ = r.read_to_end(&mut raw);
        m.body = dechunk(&raw);
    } else if to_eof {
        let _ = r.read_to_end(&mut m.body);
    }
    Ok(Some(m))
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(i) = raw.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&raw[..i]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&raw[i + 2..i + 2 + size]);
        raw = &raw[i + 2 + size + 2..];
    }
    out
}

fn respond(
    w: &mut impl Write,
    status: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut h = format!("HTTP/1.1 {status}\r\n");
    for (k, v) in headers {
        h.push_str(&format!("{k}: {v}\r\n"));
    }
    h.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    w.write_all(h.as_bytes())?;
    w.write_all(body)?;
    w.flush()
}

fn serve(
    conn: TcpStream,
    server: Arc<rustls::ServerConfig>,
    client: Arc<rustls::ClientConfig>,
    script: Arc<Mutex<Script>>,
    port: u16,
    upstream: u16,
) -> std::io::Result<()> {
    let tls = rustls::ServerConnection::new(server).map_err(std::io::Error::other)?;
    let mut down = rustls::StreamOwned::new(tls, conn);
    let Some(req) = read_message(&mut down, false)? else {
        return Ok(());
    };
    let line: Vec<&str> = req.head[0].split(' ').collect();
    let (method, path) = (line[0], line[1]);
    if let Some(id) = path.strip_prefix("/renewal-info/") {
        let mut s = script.lock().unwrap();
        s.asked.push(id.to_string());
        let body = serde_json::json!({"suggestedWindow": {"start": s.window.0, "end": s.window.1}})
            .to_string();
        let headers = [
            ("Content-Type".to_string(), "application/json".to_string()),
            ("Retry-After".to_string(), s.retry_after.clone()),
        ];
        drop(s);
        return respond(&mut down, "200 OK", &headers, body.as_bytes());
    }
    let payload: Option<serde_json::Value> = serde_json::from_slice::<serde_json::Value>(&req.body)
        .ok()
        .and_then(|jws| {
            let p = jws["payload"].as_str()?.to_string();
            let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .ok()?;
            serde_json::from_slice(&raw).ok()
        });
    // Forward unchanged, with our Host (pebble builds its URLs from it).
    let tcp = TcpStream::connect(("127.0.0.1", upstream))?;
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let tls = rustls::ClientConnection::new(client, name).map_err(std::io::Error::other)?;
    let mut up = rustls::StreamOwned::new(tls, tcp);
    let mut head = format!("{method} {path} HTTP/1.1\r\n");
    for l in req.head.iter().skip(1) {
        let k = l
            .split(':')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if k != "connection" && k != "accept-encoding" {
            head.push_str(l);
            head.push_str("\r\n");
        }
    }
    head.push_str("Connection: close\r\n\r\n");
    up.write_all(head.as_bytes())?;
    up.write_all(&req.body)?;
    up.flush()?;
    let rsp = read_message(&mut up, method != "HEAD")?.expect("pebble answers");
    let mine = format!("127.0.0.1:{port}");
    let theirs = format!("127.0.0.1:{upstream}");
    let mut body = String::from_utf8_lossy(&rsp.body)
        .replace(&theirs, &mine)
        .into_bytes();
    if path == "/dir" {
        let mut d: serde_json::Value = serde_json::from_slice(&body).unwrap();
        d["renewalInfo"] = format!("https://{mine}/renewal-info").into();
        body = d.to_string().into_bytes();
    }
    if path == "/order-plz" {
        if let Some(p) = &payload {
            script.lock().unwrap().orders.push(p.clone());
            if let (Some(r), Ok(mut o)) = (
                p.get("replaces"),
                serde_json::from_slice::<serde_json::Value>(&body),
            ) {
                o["replaces"] = r.clone();
                body = o.to_string().into_bytes();
            }
        }
    }
    let headers: Vec<(String, String)> = rsp
        .head
        .iter()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().replace(&theirs, &mine)))
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            k != "content-length" && k != "connection" && k != "transfer-encoding"
        })
        .collect();
    let status = rsp.head[0]
        .split_once(' ')
        .map(|x| x.1)
        .unwrap_or("502 Bad Gateway");
    if method == "HEAD" {
        let mut h = format!("HTTP/1.1 {status}\r\n");
        for (k, v) in &headers {
            h.push_str(&format!("{k}: {v}\r\n"));
        }
        h.push_str("Content-Length: 0\r\nConnection: close\r\n\r\n");
        down.write_all(h.as_bytes())?;
        return down.flush();
    }
    respond(&mut down, status, &headers, &body)
}
