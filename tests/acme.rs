//! `Request-CsCertificate -New -CA https://...` against a real ACME server: Debian's pebble, with
//! pebble-challtestsrv as its DNS (every name resolves to 127.0.0.1) and, for dns-01, as the
//! TXT records a hook script sets. Each test starts its own pebble and challtestsrv on loopback
//! ports, kills them at the end and prints their logs when it fails. Without pebble the tests
//! print a `SKIPPED:` line, except under CI=true, where that is a failure.

mod support;

use support::pebble::{peers_present, run, Pebble, EAB_HMAC, EAB_KID, EDGE_SANS};
use support::{free_port, EDGE_USES};

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// SAN lists compared as sets: the order of -DomainName names is the request pipeline's business.
fn sorted(v: &serde_json::Value) -> Vec<String> {
    let mut l: Vec<String> = v
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    l.sort();
    l
}

fn sorted_edge_sans() -> Vec<String> {
    let mut l: Vec<String> = EDGE_SANS.iter().map(|s| s.to_string()).collect();
    l.sort();
    l
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// The certificates of a PEM file, each as its own PEM text.
fn pem_blocks(text: &str, tag: &str) -> Vec<String> {
    let (begin, end) = (
        format!("-----BEGIN {tag}-----"),
        format!("-----END {tag}-----"),
    );
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(s) = rest.find(&begin) {
        let e = rest[s..].find(&end).unwrap() + s + end.len();
        out.push(format!("{}\n", &rest[s..e]));
        rest = &rest[e..];
    }
    out
}

/// The headline: the Edge certificate (CN sip.contoso.com; SANs webcon.contoso.com,
/// sip.contoso.com, sip.fabrikam.com, contoso.com) issued in one command through http-01
/// answered by cscert's own responder; then Set-, Get- and Test-CsCertificate work on it, and
/// `openssl verify` with pebble's root accepts the exported chain.
#[test]
fn edge_certificate_issued_over_http01_is_assigned_tested_and_verified() {
    if !peers_present("edge_certificate_issued_over_http01") {
        return;
    }
    let pb = Pebble::start(false);
    let port = pb.http_port.to_string();
    let req = pb.edge_args(&[
        "-AcmeHttpPort",
        &port,
        "-AcmeContact",
        "mailto:admin@contoso.com",
        "-Verbose",
    ]);
    let o = pb.cscert(&args(&req));
    assert_eq!(o.code, 0, "{}{}\n{}", o.stdout, o.stderr, pb.logs());
    let v = o.json();
    assert_eq!(v["RequestStatus"], "Issued");
    assert_eq!(v["Subject"], "CN=sip.contoso.com");
    assert_eq!(sorted(&v["AlternativeNames"]), sorted_edge_sans());
    assert_eq!(v["HasPrivateKey"], true);
    assert_eq!(v["PrivateKeyExportable"], true);
    assert!(
        v["Issuer"]
            .as_str()
            .unwrap()
            .contains("Pebble Intermediate CA"),
        "{v}"
    );
    let thumb = v["Thumbprint"].as_str().unwrap().to_string();
    let id = v["RequestId"].as_i64().unwrap();
    // pebble fetched every token from cscert's responder (its VA logs each http-01 attempt).
    for n in EDGE_SANS {
        assert!(
            o.stderr.contains(&format!(
                "http-01 for {n}: answering http://{n}/.well-known/acme-challenge/"
            )),
            "{}",
            o.stderr
        );
    }
    assert_eq!(pb.count("POST /sign-me-up"), 1, "{}", pb.logs());
    // The responder is gone once the command returns.
    assert!(TcpStream::connect(("127.0.0.1", pb.http_port)).is_err());

    // The request shows completed, like a lab-CA issue.
    let reqs = pb.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0]["RequestId"], id);
    assert_eq!(reqs[0]["RequestStatus"], "Completed");
    assert_eq!(reqs[0]["Thumbprint"], thumb.as_str());

    pb.cscert_ok(&[
        "Set-CsCertificate",
        "-Type",
        EDGE_USES,
        "-Thumbprint",
        &thumb,
    ]);
    let got = pb.cscert_ok(&["Get-CsCertificate"]).lines();
    assert_eq!(got.len(), 3, "{got:?}");
    for g in &got {
        assert_eq!(g["Thumbprint"], thumb.as_str());
        assert_eq!(sorted(&g["AlternativeNames"]), sorted_edge_sans());
    }
    let t = pb.cscert(&[
        "Test-CsCertificate",
        "-Thumbprint",
        &thumb,
        "-Type",
        EDGE_USES,
        "-XmppDomain",
        "contoso.com",
    ]);
    assert_eq!(t.code, 0, "{}{}", t.stdout, t.stderr);
    let tv = t.json();
    assert_eq!(tv["Passed"], true, "{tv}");
    assert_eq!(tv["XmppDomains"][0]["Domain"], "contoso.com", "{tv}");
    assert_eq!(tv["XmppDomains"][0]["Covered"], true, "{tv}");

    // Export (certificate, chain, encrypted key) and let openssl check the chain to pebble's root.
    let pem = pb.p("edge.pem");
    pb.cscert_ok(&[
        "Export-CsCertificate",
        "-Thumbprint",
        &thumb,
        "-Path",
        &pem,
        "-Format",
        "Pem",
        "-Password",
        "Acme-test pw",
    ]);
    let text = std::fs::read_to_string(&pem).unwrap();
    let certs = pem_blocks(&text, "CERTIFICATE");
    assert!(certs.len() >= 2, "leaf and pebble's intermediate: {text}");
    std::fs::write(pb.path("leaf.pem"), &certs[0]).unwrap();
    std::fs::write(pb.path("chain.pem"), certs[1..].concat()).unwrap();
    std::fs::write(pb.path("root.pem"), pb.root_pem()).unwrap();
    let mut c = Command::new("openssl");
    c.args([
        "verify",
        "-CAfile",
        "root.pem",
        "-untrusted",
        "chain.pem",
        "-purpose",
        "sslserver",
        "leaf.pem",
    ])
    .current_dir(pb.sb.root());
    let ver = run(c, "openssl verify");
    assert_eq!(ver.code, 0, "{}{}", ver.stdout, ver.stderr);
    assert_eq!(ver.stdout.trim(), "leaf.pem: OK");
    // The key that came out is the one the certificate is for.
    let mut c = Command::new("openssl");
    c.args(["x509", "-in", "leaf.pem", "-noout", "-fingerprint", "-sha1"])
        .current_dir(pb.sb.root());
    let fp = run(c, "openssl x509");
    assert_eq!(
        fp.stdout.trim().split_once('=').unwrap().1.replace(':', ""),
        thumb
    );
}

/// A minimal static web server for the -AcmeWebRoot test (the "other web server" that serves the
/// folder): GET of a file under `root`, else 404; every request path is recorded.
struct WebServer {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    port: u16,
    seen: std::sync::Arc<std::sync::Mutex<Vec<(String, u16)>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl WebServer {
    fn start(port: u16, root: PathBuf) -> WebServer {
        use std::io::{BufRead, BufReader};
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the web server port");
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let seen: std::sync::Arc<std::sync::Mutex<Vec<(String, u16)>>> = Default::default();
        let (stop2, seen2) = (stop.clone(), seen.clone());
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut line = String::new();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                // Skip the headers.
                let mut h = String::new();
                while reader.read_line(&mut h).is_ok_and(|n| n > 2) {
                    h.clear();
                }
                let path = line.split(' ').nth(1).unwrap_or("/").to_string();
                let file = root.join(path.trim_start_matches('/'));
                let (status, body) = match std::fs::read(&file) {
                    Ok(b) if !path.contains("..") => (200, b),
                    _ => (404, b"not found".to_vec()),
                };
                seen2.lock().unwrap().push((path, status));
                let _ = write!(
                    stream,
                    "HTTP/1.0 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(&body);
            }
        });
        WebServer {
            stop,
            port,
            seen,
            thread: Some(thread),
        }
    }
}

impl Drop for WebServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// http-01 answered by files under -AcmeWebRoot that another web server serves: pebble fetches
/// them from that server, and the files and the folders cscert made are gone afterwards.
#[test]
fn http01_from_files_under_a_web_root() {
    if !peers_present("http01_from_files_under_a_web_root") {
        return;
    }
    let pb = Pebble::start(false);
    std::fs::create_dir(pb.path("www")).unwrap();
    std::fs::write(pb.path("www/index.html"), "<p>contoso</p>").unwrap();
    let web = WebServer::start(pb.http_port, pb.path("www"));
    let req = pb.edge_args(&["-AcmeWebRoot", "www", "-Verbose"]);
    let o = pb.cscert(&args(&req));
    assert_eq!(o.code, 0, "{}{}\n{}", o.stdout, o.stderr, pb.logs());
    assert_eq!(o.json()["RequestStatus"], "Issued");
    let seen = web.seen.lock().unwrap().clone();
    let answered: Vec<&(String, u16)> = seen
        .iter()
        .filter(|(p, s)| p.starts_with("/.well-known/acme-challenge/") && *s == 200)
        .collect();
    // One token per name (pebble may fetch each more than once).
    let mut tokens: Vec<&str> = answered.iter().map(|(p, _)| p.as_str()).collect();
    tokens.sort();
    tokens.dedup();
    assert_eq!(tokens.len(), EDGE_SANS.len(), "{seen:?}");
    assert!(
        !pb.path("www/.well-known").exists(),
        "the answers were not removed"
    );
    assert!(pb.path("www/index.html").exists());
}

/// The account is made once per directory and contact and reused: the second order creates no
/// account at pebble. Without -AcmeAgreeTos, a new account is refused with the terms' URL.
#[test]
fn account_is_created_once_and_reused_and_terms_need_agreement() {
    if !peers_present("account_is_created_once_and_reused") {
        return;
    }
    let pb = Pebble::start(false);
    let port = pb.http_port.to_string();
    let dir = pb.directory();
    let bundle = pb.p("tls-ca.pem");
    let web = |name: &str, extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = [
            "Request-CsCertificate",
            "-New",
            "-Type",
            "WebServicesExternal",
            "-ComputerFqdn",
            name,
            "-CA",
            &dir,
            "-AcmeCaBundle",
            &bundle,
            "-AcmeHttpPort",
            &port,
            "-AcmeContact",
            "mailto:pki@contoso.com",
            "-Verbose",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };

    // No agreement: a clear error with the terms' URL; no account, no request, nothing sent but
    // the directory read.
    let o = pb.cscert(&args(&web("webext.contoso.com", &[])));
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    assert!(
        o.stderr
            .contains("Request-CsCertificate: The ACME CA https://127.0.0.1:"),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains(
            "requires agreement to its terms of service at <data:text/plain,Do%20what%20thou%20wilt>."
        ),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("-AcmeAgreeTos"), "{}", o.stderr);
    assert_eq!(pb.count("POST /sign-me-up"), 0);
    assert!(pb.requests().is_empty());

    let first = pb.cscert(&args(&web("webext.contoso.com", &["-AcmeAgreeTos"])));
    assert_eq!(
        first.code,
        0,
        "{}{}\n{}",
        first.stdout,
        first.stderr,
        pb.logs()
    );
    assert!(
        first
            .stderr
            .contains("VERBOSE: Created the ACME account https://127.0.0.1:"),
        "{}",
        first.stderr
    );
    let url = first
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("VERBOSE: Created the ACME account "))
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(pb.count("POST /sign-me-up"), 1);

    // Agreement is remembered with the account: the second order needs no -AcmeAgreeTos.
    let second = pb.cscert(&args(&web("meet.contoso.com", &[])));
    assert_eq!(
        second.code,
        0,
        "{}{}\n{}",
        second.stdout,
        second.stderr,
        pb.logs()
    );
    assert!(
        !second.stderr.contains("Created the ACME account"),
        "{}",
        second.stderr
    );
    assert!(
        second.stderr.contains(&format!(
            "VERBOSE: Using the ACME account {url} from the store"
        )),
        "{}",
        second.stderr
    );
    assert_eq!(
        pb.count("POST /sign-me-up"),
        1,
        "the second order created an account:\n{}",
        pb.logs()
    );
    assert_eq!(pb.count("POST /order-plz"), 2);
    assert_eq!(second.json()["Subject"], "CN=meet.contoso.com");

    // Another contact is another account.
    let other = pb.cscert(&args(&web(
        "dialin.contoso.com",
        &["-AcmeContact", "mailto:other@contoso.com", "-AcmeAgreeTos"],
    )));
    assert_eq!(other.code, 0, "{}{}", other.stdout, other.stderr);
    assert!(
        other.stderr.contains("Created the ACME account"),
        "{}",
        other.stderr
    );
    assert_eq!(pb.count("POST /sign-me-up"), 2);
}

/// dns-01 through the admin's hook (lego exec convention): the hook sets the TXT records in
/// challtestsrv, pebble checks them through challtestsrv's DNS, the hook clears them again.
#[test]
fn dns01_through_a_hook_that_sets_challtestsrv_records() {
    if !peers_present("dns01_through_a_hook") {
        return;
    }
    let pb = Pebble::start(false);
    let hook = pb.hook();
    let req = pb.edge_args(&[
        "-AcmeChallenge",
        "Dns01",
        "-AcmeDnsHook",
        &hook,
        "-AcmeDnsWaitSec",
        "0",
        "-Verbose",
    ]);
    let o = pb.cscert(&args(&req));
    assert_eq!(
        o.code,
        0,
        "{}{}\nhook log:\n{}\n{}",
        o.stdout,
        o.stderr,
        pb.hook_log(),
        pb.logs()
    );
    assert_eq!(o.json()["RequestStatus"], "Issued");
    let log = pb.hook_log();
    for n in EDGE_SANS {
        let record = format!("_acme-challenge.{n}.");
        let present: Vec<&str> = log
            .lines()
            .filter(|l| l.starts_with(&format!("present {n} {record} ")))
            .collect();
        let cleanup: Vec<&str> = log
            .lines()
            .filter(|l| l.starts_with(&format!("cleanup {n} {record} ")))
            .collect();
        assert_eq!(present.len(), 1, "{log}");
        assert_eq!(cleanup.len(), 1, "{log}");
        // The value is the base64url SHA-256 of the key authorization (43 characters), also
        // passed as arguments: action record value.
        let value = present[0].split(' ').nth(3).unwrap();
        assert_eq!(value.len(), 43, "{log}");
        assert!(
            present[0].ends_with(&format!("args: present {record} {value}")),
            "{log}"
        );
    }
    // The http-01 responder was never started.
    assert!(!o.stderr.contains("http-01"), "{}", o.stderr);
}

/// A refused challenge (the hook publishes a wrong value, so challtestsrv answers wrong): the
/// CA's problem document in the error, exit 1, the key kept as a pending request, records
/// cleaned up.
#[test]
fn refused_challenge_gives_the_cas_problem_and_keeps_the_key() {
    if !peers_present("refused_challenge") {
        return;
    }
    let pb = Pebble::start(false);
    let hook = pb.hook();
    let req = pb.edge_args(&[
        "-AcmeChallenge",
        "Dns01",
        "-AcmeDnsHook",
        &hook,
        "-AcmeDnsWaitSec",
        "0",
    ]);
    let o = pb.cscert_env(
        &args(&req),
        &[("HOOK_MODE", "wrong"), ("CSCERT_ERROR_FORMAT", "json")],
    );
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    assert!(o.stdout.is_empty(), "{}", o.stdout);
    let err: serde_json::Value = serde_json::from_str(o.stderr.lines().last().unwrap()).unwrap();
    let msg = err["Message"].as_str().unwrap();
    assert_eq!(
        err["FullyQualifiedErrorId"], "AcmeChallengeFailed,Request-CsCertificate",
        "{err}"
    );
    assert!(
        msg.starts_with("The ACME CA refused the dns-01 challenge: "),
        "{msg}"
    );
    // pebble's own problem: type and detail, for the identifier that failed.
    assert!(
        msg.contains("(urn:ietf:params:acme:error:unauthorized)"),
        "{msg}"
    );
    assert!(
        msg.contains("Correct value not found for DNS challenge"),
        "{msg}"
    );
    let reqs = pb.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0]["RequestStatus"], "Pending");
    let id = reqs[0]["RequestId"].as_i64().unwrap();
    assert!(
        msg.contains(&format!("The private key is kept as request {id}")),
        "{msg}"
    );
    // The key is really kept: Test-CsCertificate can check the pending request.
    let t = pb.cscert(&["Test-CsCertificate", "-RequestId", &id.to_string()]);
    assert!(t.code == 0 || t.code == 3, "{}{}", t.stdout, t.stderr);
    assert_eq!(t.json()["Kind"], "Request");
    // Every record that was presented was cleaned up.
    let log = pb.hook_log();
    let presents = log.lines().filter(|l| l.starts_with("present ")).count();
    let cleanups = log.lines().filter(|l| l.starts_with("cleanup ")).count();
    assert!(presents >= 1 && presents == cleanups, "{log}");
    // -Retrieve cannot finish an invalid order: it says so and the request stays pending.
    let r = pb.cscert(&[
        "Request-CsCertificate",
        "-Retrieve",
        "-RequestId",
        &id.to_string(),
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("made order") && r.stderr.contains("invalid"),
        "{}",
        r.stderr
    );
    assert_eq!(r.json()["RequestStatus"], "Pending");
}

/// Ctrl-C after the CA validated every name (the hook interrupts cscert during cleanup): the
/// records are still cleaned up, exit 1, and `-Retrieve -RequestId N` finalizes the stored
/// order later with the stored request and key.
#[test]
fn interrupted_order_is_finished_later_by_retrieve() {
    if !peers_present("interrupted_order_is_finished_later") {
        return;
    }
    let pb = Pebble::start(false);
    let hook = pb.hook();
    let req = pb.edge_args(&[
        "-AcmeChallenge",
        "Dns01",
        "-AcmeDnsHook",
        &hook,
        "-AcmeDnsWaitSec",
        "0",
    ]);
    let o = pb.cscert_env(&args(&req), &[("HOOK_MODE", "interrupt")]);
    assert_eq!(o.code, 1, "{}{}\n{}", o.stdout, o.stderr, pb.logs());
    assert!(
        o.stderr
            .contains("Request-CsCertificate: The ACME order was stopped (Ctrl-C)."),
        "{}",
        o.stderr
    );
    let reqs = pb.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0]["RequestStatus"], "Pending");
    let id = reqs[0]["RequestId"].as_i64().unwrap().to_string();
    assert!(
        o.stderr.contains(&format!(
            "Request-CsCertificate -Retrieve -RequestId {id} finishes the order"
        )),
        "{}",
        o.stderr
    );
    assert_eq!(
        pb.count("/finalize-order/"),
        0,
        "nothing was finalized yet:\n{}",
        pb.logs()
    );
    let log = pb.hook_log();
    for n in EDGE_SANS {
        assert!(
            log.contains(&format!("cleanup {n} _acme-challenge.{n}.")),
            "{n} not cleaned up:\n{log}"
        );
    }

    // -WhatIf on -Retrieve contacts nobody either.
    let before = pb.count(" -> ");
    let w = pb.cscert(&[
        "Request-CsCertificate",
        "-Retrieve",
        "-RequestId",
        &id,
        "-WhatIf",
    ]);
    assert_eq!(w.code, 0, "{}{}", w.stdout, w.stderr);
    assert!(
        w.stderr.contains(&format!(
            "What if: Performing the operation \"Finish ACME order https://127.0.0.1:{}/my-order/",
            pb.acme_port
        )),
        "{}",
        w.stderr
    );
    assert_eq!(w.json()["RequestStatus"], "Pending");
    assert_eq!(
        pb.count(" -> "),
        before,
        "pebble was contacted:\n{}",
        pb.logs()
    );

    // Later (the CA bundle remembered with the order).
    let r = pb.cscert(&[
        "Request-CsCertificate",
        "-Retrieve",
        "-RequestId",
        &id,
        "-Verbose",
    ]);
    assert_eq!(r.code, 0, "{}{}\n{}", r.stdout, r.stderr, pb.logs());
    let v = r.json();
    assert_eq!(v["RequestStatus"], "Completed", "{v}");
    let thumb = v["Thumbprint"].as_str().unwrap().to_string();
    assert!(pb.count("/finalize-order/") >= 1);
    // The certificate carries the stored key: it can be assigned and exported.
    pb.cscert_ok(&[
        "Set-CsCertificate",
        "-Type",
        EDGE_USES,
        "-Thumbprint",
        &thumb,
    ]);
    let pfx = pb.p("edge.pfx");
    pb.cscert_ok(&[
        "Export-CsCertificate",
        "-Thumbprint",
        &thumb,
        "-Path",
        &pfx,
        "-Password",
        "Acme-test pw",
    ]);
    let mut c = Command::new("openssl");
    c.args([
        "pkcs12",
        "-in",
        &pfx,
        "-passin",
        "pass:Acme-test pw",
        "-nokeys",
        "-clcerts",
    ]);
    let p12 = run(c, "openssl pkcs12");
    assert_eq!(p12.code, 0, "{}", p12.stderr);
    assert!(
        p12.stdout.contains("subject=CN=sip.contoso.com")
            || p12.stdout.contains("subject=CN = sip.contoso.com"),
        "{}",
        p12.stdout
    );
    // Retrieving again changes nothing.
    let again = pb.cscert_ok(&["Request-CsCertificate", "-Retrieve", "-RequestId", &id]);
    assert_eq!(again.json()["Thumbprint"], thumb.as_str());
}

/// A timeout (-AcmeTimeoutSec) while the hook is still at work: exit 1, the record cleaned up,
/// the key and order kept.
#[test]
fn timeout_cleans_up_and_keeps_the_order() {
    if !peers_present("timeout_cleans_up") {
        return;
    }
    let pb = Pebble::start(false);
    let hook = pb.hook();
    let req = pb.edge_args(&[
        "-AcmeChallenge",
        "Dns01",
        "-AcmeDnsHook",
        &hook,
        "-AcmeTimeoutSec",
        "2",
    ]);
    let t0 = Instant::now();
    let o = pb.cscert_env(&args(&req), &[("HOOK_MODE", "slow")]);
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    assert!(t0.elapsed() < Duration::from_secs(20));
    assert!(
        o.stderr
            .contains("The ACME order did not complete within 2 seconds (-AcmeTimeoutSec)."),
        "{}",
        o.stderr
    );
    let reqs = pb.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0]["RequestStatus"], "Pending");
    let log = pb.hook_log();
    let rec = log
        .lines()
        .find(|l| l.starts_with("present "))
        .unwrap()
        .split(' ')
        .nth(2)
        .unwrap()
        .to_string();
    assert!(
        log.lines()
            .any(|l| l.starts_with("cleanup ") && l.contains(&rec)),
        "{log}"
    );
    // The CA never got set_ready: -Retrieve says the order is still pending and changes nothing.
    let id = reqs[0]["RequestId"].as_i64().unwrap().to_string();
    let r = pb.cscert(&[
        "Request-CsCertificate",
        "-Retrieve",
        "-RequestId",
        &id,
        "-Verbose",
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "VERBOSE: Request {id}: the CA has not validated every name of the order yet."
        )),
        "{}",
        r.stderr
    );
    assert_eq!(r.json()["RequestStatus"], "Pending");
}

/// External account binding with pebble's EAB configuration: refused without it (before any
/// account is made), refused by the CA with a wrong key, accepted with the key from the
/// environment (kept off the command line).
#[test]
fn external_account_binding_with_pebbles_eab_config() {
    if !peers_present("external_account_binding") {
        return;
    }
    let pb = Pebble::start(true);
    let port = pb.http_port.to_string();
    let base = pb.edge_args(&["-AcmeHttpPort", &port, "-Verbose"]);

    let o = pb.cscert(&args(&base));
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    assert!(
        o.stderr.contains("requires external account binding"),
        "{}",
        o.stderr
    );
    assert_eq!(pb.count("POST /sign-me-up"), 0);

    let mut wrong = base.clone();
    wrong.extend([
        "-AcmeEabKeyId".into(),
        EAB_KID.into(),
        "-AcmeEabHmacKey".into(),
        "d3JvbmcgaG1hYyBrZXkgb2YgdGhpcnR5IHR3byBieXRlcw".into(),
    ]);
    let o = pb.cscert(&args(&wrong));
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    assert!(
        o.stderr.contains("The ACME CA refused the new account: "),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains("urn:ietf:params:acme:error:unauthorized")
            || o.stderr.contains("urn:ietf:params:acme:error:malformed"),
        "{}",
        o.stderr
    );
    assert!(pb.requests().is_empty());

    let mut good = base.clone();
    good.extend(["-AcmeEabKeyId".into(), EAB_KID.into()]);
    let o = pb.cscert_env(&args(&good), &[("CSCERT_ACME_EAB_HMAC_KEY", EAB_HMAC)]);
    assert_eq!(o.code, 0, "{}{}\n{}", o.stdout, o.stderr, pb.logs());
    assert!(
        o.stderr.contains("(external account binding)"),
        "{}",
        o.stderr
    );
    assert_eq!(o.json()["RequestStatus"], "Issued");
    // The HMAC key never reached the binding trace's plain values.
    let t = pb.cscert_env(
        &args(&wrong),
        &[
            ("CSCERT_DEBUG_BINDING", "1"),
            ("CSCERT_ACME_EAB_HMAC_KEY", EAB_HMAC),
        ],
    );
    assert!(
        !t.stderr
            .contains("d3JvbmcgaG1hYyBrZXkgb2YgdGhpcnR5IHR3byBieXRlcw"),
        "{}",
        t.stderr
    );
}

/// -WhatIf says what would happen and contacts nobody: pebble sees no request at all, nothing
/// is stored, the http-01 port is not bound.
#[test]
fn whatif_contacts_nobody() {
    if !peers_present("whatif_contacts_nobody") {
        return;
    }
    let pb = Pebble::start(false);
    let before = pb.count(" -> ");
    let port = pb.http_port.to_string();
    let o = pb.cscert(&args(&pb.edge_args(&["-AcmeHttpPort", &port, "-WhatIf"])));
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    assert!(o.stderr.contains(&format!("What if: Performing the operation \"Issue a certificate for \"{EDGE_USES}\" (sip.contoso.com)\" on target \"CA {}\".", pb.directory())), "{}{}", o.stdout, o.stderr);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        pb.count(" -> "),
        before,
        "pebble was contacted:\n{}",
        pb.logs()
    );
    assert!(pb.requests().is_empty());
}

/// An unreachable directory: a PowerShell-style error, exit 1, nothing stored. Needs no pebble.
#[test]
fn unreachable_directory_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let run_cscert = |args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_cscert"));
        c.args(args)
            .env("CSCERT_STORE", dir.path().join("store"))
            .env("CSCERT_ACME_HTTP_ADDRESS", "127.0.0.1")
            .env_remove("CSCERT_ERROR_FORMAT");
        run(c, "cscert")
    };
    let url = format!("https://127.0.0.1:{port}/dir");
    let o = run_cscert(&[
        "Request-CsCertificate",
        "-New",
        "-Type",
        "WebServicesExternal",
        "-ComputerFqdn",
        "webext.contoso.com",
        "-CA",
        &url,
        "-AcmeTimeoutSec",
        "20",
        "-AcmeHttpPort",
        &free_port().to_string(),
    ]);
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    assert!(
        o.stderr.starts_with(&format!(
            "Request-CsCertificate: The ACME directory {url} cannot be reached: "
        )),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.to_lowercase().contains("connection refused"),
        "{}",
        o.stderr
    );
    let l = run_cscert(&["Request-CsCertificate", "-List"]);
    assert_eq!(l.code, 0);
    assert!(l.stdout.is_empty(), "{}", l.stdout);

    // A busy http-01 port is found before the CA is contacted (here: before the directory is
    // tried at all), so it costs nothing.
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_port = busy.local_addr().unwrap().port().to_string();
    let mut c = Command::new(env!("CARGO_BIN_EXE_cscert"));
    c.args([
        "Request-CsCertificate",
        "-New",
        "-Type",
        "WebServicesExternal",
        "-ComputerFqdn",
        "webext.contoso.com",
        "-CA",
        &url,
        "-AcmeHttpPort",
        &busy_port,
    ])
    .env("CSCERT_STORE", dir.path().join("store"))
    .env("CSCERT_ACME_HTTP_ADDRESS", "127.0.0.1")
    .env_remove("CSCERT_ERROR_FORMAT");
    let o = run(c, "cscert");
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    assert!(
        o.stderr.contains(&format!(
            "cscert cannot answer http-01 challenges on port {busy_port}: "
        )),
        "{}",
        o.stderr
    );
    assert!(!o.stderr.contains("cannot be reached"), "{}", o.stderr);
    drop(busy);

    // The parameters are in the cmdlet's help.
    let help = run_cscert(&["Request-CsCertificate", "-?"]);
    assert_eq!(help.code, 0);
    for p in [
        "AcmeAgreeTos",
        "AcmeCaBundle",
        "AcmeChallenge",
        "AcmeContact",
        "AcmeDnsHook",
        "AcmeDnsWaitSec",
        "AcmeEabHmacKey",
        "AcmeEabKeyId",
        "AcmeHttpPort",
        "AcmeTimeoutSec",
        "AcmeWebRoot",
    ] {
        assert!(
            help.stdout.contains(&format!("\n    -{p}")),
            "-{p} not in help:\n{}",
            help.stdout
        );
    }

    // Plain http:// and ACME parameters without an ACME -CA are refused before anything runs.
    let o = run_cscert(&[
        "Request-CsCertificate",
        "-New",
        "-Type",
        "WebServicesExternal",
        "-ComputerFqdn",
        "webext.contoso.com",
        "-CA",
        "http://127.0.0.1/dir",
    ]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("is not an https:// URL"), "{}", o.stderr);
    let o = run_cscert(&[
        "Request-CsCertificate",
        "-New",
        "-Type",
        "WebServicesExternal",
        "-ComputerFqdn",
        "webext.contoso.com",
        "-Output",
        "x.req",
        "-AcmeAgreeTos",
    ]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr
            .contains("-AcmeAgreeTos applies only to an ACME CA"),
        "{}",
        o.stderr
    );
    let o = run_cscert(&[
        "Request-CsCertificate",
        "-New",
        "-Type",
        "WebServicesExternal",
        "-ComputerFqdn",
        "webext.contoso.com",
        "-CA",
        &url,
        "-AcmeChallenge",
        "Dns01",
    ]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("-AcmeChallenge Dns01 needs -AcmeDnsHook"),
        "{}",
        o.stderr
    );
}
