//! ACME test servers: the TLS files of a loopback CA (pebble's listeners and the hostile CA
//! use the same kind), and a hostile ACME CA run inside the test: an HTTPS server on
//! 127.0.0.1 whose every answer a test decides (endless bodies, silence, URLs that are not
//! https, problem documents full of escape sequences, authorizations for names never ordered).

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Makes `tls-ca.pem` (a test root, for -AcmeCaBundle) and `tls.pem` / `tls.key` (a server
/// certificate for localhost and 127.0.0.1 under it) in `dir` with openssl.
pub fn tls_files(dir: &Path) {
    let ssl = |args: &[&str]| {
        let o = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl runs");
        assert!(
            o.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "tls-ca.key",
        "-out",
        "tls-ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=ACME test TLS root",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]);
    ssl(&ca);
    let mut leaf = vec!["req"];
    leaf.extend(ec);
    leaf.extend([
        "-keyout",
        "tls.key",
        "-out",
        "tls.csr",
        "-subj",
        "/CN=localhost",
    ]);
    ssl(&leaf);
    std::fs::write(
        dir.join("tls.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    ssl(&[
        "x509",
        "-req",
        "-in",
        "tls.csr",
        "-CA",
        "tls-ca.pem",
        "-CAkey",
        "tls-ca.key",
        "-out",
        "tls.pem",
        "-days",
        "2",
        "-extfile",
        "tls.ext",
    ]);
}

/// What the hostile CA does with one request.
pub enum Reply {
    /// Status, extra headers, body (a fresh Replay-Nonce is always added).
    Full(u16, Vec<(String, String)>, Vec<u8>),
    /// A 200 whose body never ends (with a huge Content-Length when `declared`).
    Endless { declared: bool },
}

impl Reply {
    pub fn json(status: u16, body: serde_json::Value) -> Reply {
        Reply::Full(
            status,
            vec![("Content-Type".into(), "application/json".into())],
            body.to_string().into_bytes(),
        )
    }

    /// A `Location` (account and order URLs) with a JSON body.
    pub fn created(location: String, body: serde_json::Value) -> Reply {
        Reply::Full(
            201,
            vec![
                ("Content-Type".into(), "application/json".into()),
                ("Location".into(), location),
            ],
            body.to_string().into_bytes(),
        )
    }

    pub fn problem(status: u16, kind: &str, detail: &str) -> Reply {
        Reply::Full(
            status,
            vec![("Content-Type".into(), "application/problem+json".into())],
            serde_json::json!({"type": format!("urn:ietf:params:acme:error:{kind}"), "detail": detail})
                .to_string()
                .into_bytes(),
        )
    }
}

type Handler = dyn Fn(&HostileCa, &str, &str) -> Reply + Send + Sync;

/// The hostile CA: `base()` is its https://127.0.0.1:port, every request is logged as
/// "METHOD /path".
#[derive(Clone)]
pub struct HostileCa {
    pub port: u16,
    pub log: Arc<Mutex<Vec<String>>>,
}

impl HostileCa {
    /// Serves with the TLS files of [`tls_files`] in `dir`; `handler(ca, method, path)`.
    pub fn start(
        dir: &Path,
        handler: impl Fn(&HostileCa, &str, &str) -> Reply + Send + Sync + 'static,
    ) -> HostileCa {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(dir.join("tls.pem"))
                .unwrap()
                .map(|c| c.unwrap())
                .collect();
        let key = PrivateKeyDer::from_pem_file(dir.join("tls.key")).unwrap();
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = Arc::new(
            rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(certs, key)
                .unwrap(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let ca = HostileCa {
            port: listener.local_addr().unwrap().port(),
            log: Arc::default(),
        };
        let handler: Arc<Handler> = Arc::new(handler);
        let me = ca.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (me, handler, config) = (me.clone(), handler.clone(), config.clone());
                std::thread::spawn(move || me.serve(stream, &*handler, config));
            }
        });
        ca
    }

    /// A CA that accepts TCP connections and never sends a byte (not even its TLS handshake).
    pub fn silent() -> HostileCa {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let ca = HostileCa {
            port: listener.local_addr().unwrap().port(),
            log: Arc::default(),
        };
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming().flatten() {
                held.push(stream);
            }
        });
        ca
    }

    pub fn base(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base())
    }

    pub fn requests(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// A directory whose URLs all point back here (`/nonce`, `/acct`, `/order`, `/revoke`),
    /// with `meta` as given.
    pub fn directory(&self, meta: serde_json::Value) -> Reply {
        Reply::json(
            200,
            serde_json::json!({
                "newNonce": self.url("/nonce"),
                "newAccount": self.url("/acct"),
                "newOrder": self.url("/order"),
                "revokeCert": self.url("/revoke"),
                "keyChange": self.url("/key-change"),
                "meta": meta,
            }),
        )
    }

    fn serve(&self, stream: TcpStream, handler: &Handler, config: Arc<rustls::ServerConfig>) {
        let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
        let conn = rustls::ServerConnection::new(config).unwrap();
        let mut tls = rustls::StreamOwned::new(conn, stream);
        let Some((method, path)) = read_head(&mut tls) else {
            return;
        };
        self.log.lock().unwrap().push(format!("{method} {path}"));
        let nonce = format!("nonce-{}", self.log.lock().unwrap().len());
        match handler(self, &method, &path) {
            Reply::Full(status, headers, body) => {
                let mut head = format!(
                    "HTTP/1.1 {status} X\r\nReplay-Nonce: {nonce}\r\nCache-Control: no-store\r\nContent-Length: {}\r\nConnection: close\r\n",
                    body.len()
                );
                for (k, v) in headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                head.push_str("\r\n");
                let _ = tls.write_all(head.as_bytes());
                if method != "HEAD" {
                    let _ = tls.write_all(&body);
                }
                let _ = tls.flush();
                tls.conn.send_close_notify();
                let _ = tls.flush();
            }
            Reply::Endless { declared } => {
                let head = if declared {
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000000000\r\n\r\n".to_string()
                } else {
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".to_string()
                };
                let _ = tls.write_all(head.as_bytes());
                let chunk = vec![b' '; 64 * 1024];
                let framed = [
                    format!("{:x}\r\n", chunk.len()).into_bytes(),
                    chunk.clone(),
                    b"\r\n".to_vec(),
                ]
                .concat();
                // Until the client hangs up (or a minute passes).
                let t0 = std::time::Instant::now();
                while t0.elapsed() < Duration::from_secs(60) {
                    let data = if declared { &chunk } else { &framed };
                    if tls.write_all(data).is_err() {
                        break;
                    }
                }
            }
        }
    }
}

/// The request line and (discarded) headers and body of one request.
fn read_head(s: &mut impl Read) -> Option<(String, String)> {
    let mut buf = Vec::new();
    let mut b = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if s.read(&mut b).ok()? == 0 || buf.len() > 65536 {
            return None;
        }
        buf.push(b[0]);
    }
    let head = String::from_utf8_lossy(&buf).to_string();
    let mut first = head.lines().next()?.split(' ');
    let (method, path) = (first.next()?.to_string(), first.next()?.to_string());
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).ok()?;
    Some((method, path))
}

/// The peak resident memory (VmHWM, KiB) of a running process, sampled until it exits; and
/// its exit code. Linux only (None elsewhere).
pub fn wait_with_peak_rss(child: &mut std::process::Child) -> (i32, Option<u64>) {
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = None;
    loop {
        if let Ok(s) = std::fs::read_to_string(&status_file) {
            if let Some(kb) = s
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            {
                peak = Some(peak.unwrap_or(0).max(kb));
            }
        }
        if let Some(st) = child.try_wait().unwrap() {
            return (st.code().unwrap_or(-1), peak);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A local HTTP CONNECT proxy (as in a DMZ): tunnels each CONNECT to its target and records
/// the targets ("host:port").
pub struct ConnectProxy {
    pub port: u16,
    pub tunnels: Arc<Mutex<Vec<String>>>,
}

impl ConnectProxy {
    pub fn start() -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let tunnels: Arc<Mutex<Vec<String>>> = Arc::default();
        let seen = tunnels.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let seen = seen.clone();
                std::thread::spawn(move || tunnel(client, &seen));
            }
        });
        ConnectProxy { port, tunnels }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn targets(&self) -> Vec<String> {
        self.tunnels.lock().unwrap().clone()
    }
}

fn tunnel(mut client: TcpStream, seen: &Mutex<Vec<String>>) {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if client.read(&mut b).unwrap_or(0) == 0 || head.len() > 8192 {
            return;
        }
        head.push(b[0]);
    }
    let head = String::from_utf8_lossy(&head).to_string();
    let mut first = head.lines().next().unwrap_or_default().split(' ');
    let (method, target) = (
        first.next().unwrap_or_default(),
        first.next().unwrap_or_default(),
    );
    if method != "CONNECT" {
        let _ = client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n");
        return;
    }
    seen.lock().unwrap().push(target.to_string());
    let Ok(upstream) = TcpStream::connect(target) else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n");
        return;
    };
    let _ = client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
    let (mut c2, mut u2) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
    let (mut c1, mut u1) = (client, upstream);
    let a = std::thread::spawn(move || {
        let _ = std::io::copy(&mut c1, &mut u1);
        let _ = u1.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(&mut u2, &mut c2);
    let _ = c2.shutdown(std::net::Shutdown::Write);
    let _ = a.join();
}
