//! Answering challenges: http-01 from cscert's own responder or from files under a web root,
//! dns-01 through the admin's hook (lego "exec" convention). Everything put in place is
//! recorded so that [`Challenges::cleanup`] takes it away again on success, failure or Ctrl-C.

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub const WELL_KNOWN: &str = "/.well-known/acme-challenge/";

/// How the challenges are answered.
pub enum Responder {
    /// cscert's own HTTP server, bound before anything is sent to the CA.
    Http {
        tokens: Arc<Mutex<HashMap<String, String>>>,
        task: tokio::task::JoinHandle<()>,
        addr: SocketAddr,
    },
    /// Files under a folder another web server serves.
    WebRoot(PathBuf),
    /// A hook command that sets and removes TXT records.
    DnsHook(PathBuf),
}

/// One challenge answer in place, to be removed again.
enum Placed {
    Token(String),
    File(PathBuf),
    Txt {
        domain: String,
        record: String,
        value: String,
    },
}

pub struct Challenges {
    pub responder: Responder,
    placed: Vec<Placed>,
    /// Folders we created under the web root (removed again when empty).
    made_dirs: Vec<PathBuf>,
}

/// Binds the http-01 responder: on `[::]` (dual stack) or 0.0.0.0, or on `address`
/// (`CSCERT_ACME_HTTP_ADDRESS`: tests and multi-homed hosts bind one address).
pub async fn bind_http(port: u16, address: Option<&str>) -> Result<Responder, String> {
    let addrs: Vec<String> = match address.map(str::trim) {
        Some(a) if !a.is_empty() => vec![a.to_string()],
        _ => vec!["[::]".into(), "0.0.0.0".into()],
    };
    let mut last = String::new();
    let mut listener = None;
    for a in &addrs {
        match tokio::net::TcpListener::bind(format!("{a}:{port}")).await {
            Ok(l) => {
                listener = Some(l);
                break;
            }
            Err(e) => last = format!("{a}:{port}: {e}"),
        }
    }
    let listener = listener.ok_or(last)?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let tokens: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let served = tokens.clone();
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let served = served.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: Request<hyper::body::Incoming>| {
                    let served = served.clone();
                    async move { Ok::<_, std::convert::Infallible>(answer(&served, &req)) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Ok(Responder::Http { tokens, task, addr })
}

/// `GET /.well-known/acme-challenge/<token>` answers the key authorization; anything else 404.
fn answer<B>(tokens: &Mutex<HashMap<String, String>>, req: &Request<B>) -> Response<Full<Bytes>> {
    let found = req
        .uri()
        .path()
        .strip_prefix(WELL_KNOWN)
        .and_then(|t| tokens.lock().ok()?.get(t).cloned());
    match found {
        Some(k) => Response::builder()
            .header("content-type", "application/octet-stream")
            .body(Full::new(Bytes::from(k)))
            .expect("static response"),
        None => Response::builder()
            .status(404)
            .body(Full::new(Bytes::from_static(b"not found\n")))
            .expect("static response"),
    }
}

/// The TXT record name of a dns-01 challenge (`_acme-challenge.sip.contoso.com.`).
pub fn txt_record(domain: &str) -> String {
    format!(
        "_acme-challenge.{}.",
        domain.trim_start_matches("*.").trim_end_matches('.')
    )
}

impl Challenges {
    pub fn new(responder: Responder) -> Challenges {
        Challenges {
            responder,
            placed: Vec::new(),
            made_dirs: Vec::new(),
        }
    }

    /// Puts the answer to one challenge in place. `log` receives progress lines.
    pub async fn present(
        &mut self,
        domain: &str,
        token: &str,
        key_authorization: &str,
        dns_value: &str,
        log: &mut dyn FnMut(String),
    ) -> Result<(), String> {
        match &self.responder {
            Responder::Http { tokens, addr, .. } => {
                if token.is_empty() || token.contains('/') {
                    return Err(format!("the CA sent an unusable http-01 token '{token}'"));
                }
                tokens
                    .lock()
                    .map_err(|_| "the responder failed")?
                    .insert(token.to_string(), key_authorization.to_string());
                self.placed.push(Placed::Token(token.to_string()));
                log(format!(
                    "http-01 for {domain}: answering http://{domain}{WELL_KNOWN}{token} on {addr}."
                ));
                Ok(())
            }
            Responder::WebRoot(root) => {
                if token.is_empty() || token.contains(['/', '\\']) || token.starts_with('.') {
                    return Err(format!("the CA sent an unusable http-01 token '{token}'"));
                }
                if !root.is_dir() {
                    return Err(format!(
                        "the -AcmeWebRoot folder {} does not exist",
                        root.display()
                    ));
                }
                let well_known = root.join(".well-known");
                let dir = well_known.join("acme-challenge");
                for d in [well_known, dir.clone()] {
                    if !d.exists() {
                        std::fs::create_dir(&d)
                            .map_err(|e| format!("cannot create {}: {e}", d.display()))?;
                        self.made_dirs.push(d);
                    }
                }
                let file = dir.join(token);
                // Whole or not at all (the web server may read it at any moment), never through
                // a link planted at the token's name, and readable by the web server's user: the
                // key authorization is not secret.
                crate::output::file::write_atomic(&file, key_authorization.as_bytes(), true, false)
                    .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
                self.placed.push(Placed::File(file.clone()));
                log(format!(
                    "http-01 for {domain}: wrote {} for http://{domain}{WELL_KNOWN}{token}.",
                    file.display()
                ));
                Ok(())
            }
            Responder::DnsHook(hook) => {
                let record = txt_record(domain);
                let hook = hook.clone();
                // Recorded before the hook runs: a hook stopped halfway is cleaned up too.
                self.placed.push(Placed::Txt {
                    domain: domain.to_string(),
                    record: record.clone(),
                    value: dns_value.to_string(),
                });
                run_hook(&hook, "present", domain, &record, dns_value, log).await
            }
        }
    }

    /// Takes every answer away again (idempotent; failures are reported, not fatal).
    pub async fn cleanup(&mut self, log: &mut dyn FnMut(String)) -> Vec<String> {
        let mut problems = Vec::new();
        while let Some(p) = self.placed.pop() {
            match p {
                Placed::Token(t) => {
                    if let Responder::Http { tokens, .. } = &self.responder {
                        if let Ok(mut m) = tokens.lock() {
                            m.remove(&t);
                        }
                    }
                }
                Placed::File(f) => {
                    if let Err(e) = std::fs::remove_file(&f) {
                        if e.kind() != std::io::ErrorKind::NotFound {
                            problems.push(format!("cannot remove {}: {e}", f.display()));
                        }
                    }
                }
                Placed::Txt {
                    domain,
                    record,
                    value,
                } => {
                    if let Responder::DnsHook(hook) = &self.responder {
                        let hook = hook.clone();
                        if let Err(e) =
                            run_hook(&hook, "cleanup", &domain, &record, &value, log).await
                        {
                            problems.push(e);
                        }
                    }
                }
            }
        }
        // Deepest first; only folders we made, and only when empty.
        while let Some(d) = self.made_dirs.pop() {
            let _ = std::fs::remove_dir(&d);
        }
        problems
    }

    /// Stops the responder (after cleanup).
    pub fn stop(&mut self) {
        if let Responder::Http { task, .. } = &self.responder {
            task.abort();
        }
    }
}

impl Drop for Challenges {
    fn drop(&mut self) {
        self.stop();
        // Files left by an early exit (a panic): remove what can be removed without async.
        for p in &self.placed {
            if let Placed::File(f) = p {
                let _ = std::fs::remove_file(f);
            }
        }
    }
}

/// Runs the dns-01 hook: `hook ACTION RECORD VALUE` with `CSCERT_ACME_ACTION`,
/// `CSCERT_ACME_DOMAIN`, `CSCERT_ACME_RECORD`, `CSCERT_ACME_VALUE` in its environment.
async fn run_hook(
    hook: &Path,
    action: &str,
    domain: &str,
    record: &str,
    value: &str,
    log: &mut dyn FnMut(String),
) -> Result<(), String> {
    log(format!(
        "dns-01 for {domain}: {} {action} {record} {value}",
        hook.display()
    ));
    let mut cmd = tokio::process::Command::new(hook);
    // The hook is a third-party program: none of cscert's own settings reach it, and among
    // them are the store, PFX and CA passwords and the EAB key (CSCERT_STORE_PASSWORD,
    // CSCERT_PASSWORD, CSCERT_CA_PASSWORD, CSCERT_ACME_EAB_HMAC_KEY).
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("CSCERT_") {
            cmd.env_remove(name);
        }
    }
    let out = cmd
        .arg(action)
        .arg(record)
        .arg(value)
        .env("CSCERT_ACME_ACTION", action)
        .env("CSCERT_ACME_DOMAIN", domain)
        .env("CSCERT_ACME_RECORD", record)
        .env("CSCERT_ACME_VALUE", value)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|e| format!("the -AcmeDnsHook '{}' cannot be run: {e}", hook.display()))?;
    for line in String::from_utf8_lossy(&out.stdout)
        .lines()
        .chain(String::from_utf8_lossy(&out.stderr).lines())
    {
        log(format!("dns-01 hook: {line}"));
    }
    if !out.status.success() {
        let tail: Vec<String> = String::from_utf8_lossy(&out.stderr)
            .lines()
            .rev()
            .take(3)
            .map(str::to_string)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        return Err(format!(
            "the -AcmeDnsHook '{}' failed for '{action}' of {record} ({}){}",
            hook.display(),
            out.status,
            if tail.is_empty() {
                String::new()
            } else {
                format!(": {}", tail.join(" / "))
            }
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn txt_records_name_the_base_domain() {
        assert_eq!(
            txt_record("sip.contoso.com"),
            "_acme-challenge.sip.contoso.com."
        );
        assert_eq!(txt_record("*.contoso.com"), "_acme-challenge.contoso.com.");
    }

    #[test]
    fn web_root_answers_are_written_then_removed_with_their_folders() {
        let t = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut c = Challenges::new(Responder::WebRoot(t.path().to_path_buf()));
            c.present("contoso.com", "tok1", "tok1.thumb", "", &mut |_| {})
                .await
                .unwrap();
            let f = t.path().join(".well-known/acme-challenge/tok1");
            assert_eq!(std::fs::read_to_string(&f).unwrap(), "tok1.thumb");
            // A token is a file name, never a path.
            assert!(c
                .present("contoso.com", "../x", "k", "", &mut |_| {})
                .await
                .is_err());
            assert!(c.cleanup(&mut |_| {}).await.is_empty());
            assert!(!f.exists());
            assert!(!t.path().join(".well-known").exists());
        });
        // A folder that was already there stays.
        std::fs::create_dir_all(t.path().join(".well-known")).unwrap();
        rt.block_on(async {
            let mut c = Challenges::new(Responder::WebRoot(t.path().to_path_buf()));
            c.present("contoso.com", "tok2", "k", "", &mut |_| {})
                .await
                .unwrap();
            c.cleanup(&mut |_| {}).await;
        });
        assert!(t.path().join(".well-known").is_dir());
        assert!(!t.path().join(".well-known/acme-challenge").exists());
    }

    #[cfg(unix)]
    #[test]
    fn web_root_answers_replace_a_link_at_the_token_name_and_are_world_readable() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("www");
        let dir = root.join(".well-known/acme-challenge");
        std::fs::create_dir_all(&dir).unwrap();
        let victim = t.path().join("victim");
        std::fs::write(&victim, "keep me").unwrap();
        std::os::unix::fs::symlink(&victim, dir.join("tok3")).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut c = Challenges::new(Responder::WebRoot(root.clone()));
            c.present("contoso.com", "tok3", "tok3.thumb", "", &mut |_| {})
                .await
                .unwrap();
            let f = dir.join("tok3");
            let meta = std::fs::symlink_metadata(&f).unwrap();
            assert!(meta.file_type().is_file(), "the link was replaced");
            assert_eq!(meta.permissions().mode() & 0o777, 0o644);
            assert_eq!(std::fs::read_to_string(&f).unwrap(), "tok3.thumb");
            assert!(c.cleanup(&mut |_| {}).await.is_empty());
        });
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
        // No temporary file is left beside the answers.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    }

    #[test]
    fn responder_serves_only_known_tokens() {
        let m = Mutex::new(HashMap::from([(
            "abc".to_string(),
            "abc.thumb".to_string(),
        )]));
        let req = |p: &str| Request::get(p).body(()).unwrap();
        assert_eq!(
            answer(&m, &req("/.well-known/acme-challenge/abc")).status(),
            200
        );
        assert_eq!(
            answer(&m, &req("/.well-known/acme-challenge/abd")).status(),
            404
        );
        assert_eq!(answer(&m, &req("/abc")).status(), 404);
    }
}
