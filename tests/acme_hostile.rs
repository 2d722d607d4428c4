//! A bad or compromised ACME CA, played by a server inside the test (tests/support/acme.rs):
//! cscert must not panic, grow without bound or wait without bound, must keep the CA's own
//! reason, must not hand its secrets or unordered names to the dns-01 hook, and must escape and
//! cap what the CA says before it reaches the terminal.

mod support;

use serde_json::json;
use std::process::Stdio;
use std::time::{Duration, Instant};
use support::acme::{tls_files, wait_with_peak_rss, HostileCa, Reply};
use support::{Run, Sandbox, EDGE_USES};

fn lab() -> Sandbox {
    let sb = Sandbox::lab(".tmp-hostile", "sip.contoso.com", true);
    tls_files(sb.root());
    sb
}

/// The one-name Edge request against `directory` answering http-01 on a free loopback port.
fn request(sb: &Sandbox, directory: &str, extra: &[&str]) -> Vec<String> {
    let port = support::free_port().to_string();
    let mut a = dns_request(sb, directory, &["-AcmeHttpPort", &port]);
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

/// The one-name Edge request against `directory`, plus `extra`.
fn dns_request(sb: &Sandbox, directory: &str, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = [
        "Request-CsCertificate",
        "-New",
        "-Type",
        EDGE_USES,
        "-ComputerFqdn",
        "sip.contoso.com",
        "-CA",
        directory,
        "-AcmeCaBundle",
        &sb.p("tls-ca.pem"),
        "-AcmeAgreeTos",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn has_openssl(test: &str) -> bool {
    support::require(test, &["openssl"])
}

/// A run that failed with exit 1 and error `id`, nothing raw on stderr: its error record.
#[track_caller]
fn refused(r: Run, id: &str) -> support::ErrorRecord {
    r.assert_code(1);
    clean(&r);
    let e = r.error();
    assert_eq!(
        e.fully_qualified_error_id,
        format!("{id},Request-CsCertificate")
    );
    e
}

/// No escape or bidi control character of the CA reaches stderr raw.
#[track_caller]
fn clean(r: &Run) {
    for c in ['\u{1b}', '\u{202e}', '\u{7}'] {
        assert!(!r.stderr.contains(c), "raw {c:?} on stderr: {:?}", r.stderr);
    }
}

#[test]
fn directory_naming_a_file_url_is_refused_without_a_panic() {
    if !has_openssl("directory_naming_a_file_url") {
        return;
    }
    let sb = lab();
    let ca = HostileCa::start(sb.root(), |ca, _, path| match path {
        "/dir" => Reply::json(
            200,
            json!({"newNonce": "file:///x", "newAccount": ca.url("/acct"), "newOrder": ca.url("/order")}),
        ),
        _ => Reply::problem(500, "serverInternal", "unexpected"),
    });
    let e = refused(
        sb.run(&request(&sb, &ca.url("/dir"), &[])),
        "AcmeDirectoryUnreachable",
    );
    assert!(
        e.message
            .contains("\"file:///x\", which is not an https:// URL"),
        "{}",
        e.message
    );
    // Nothing after the directory was asked for.
    assert_eq!(ca.requests(), ["GET /dir"]);
}

#[test]
fn endless_answers_are_cut_at_the_cap_with_memory_bounded() {
    if !has_openssl("endless_answers_are_cut_at_the_cap") {
        return;
    }
    let sb = lab();
    for declared in [true, false] {
        let ca = HostileCa::start(sb.root(), move |_, _, _| Reply::Endless { declared });
        let t0 = Instant::now();
        let mut child = sb
            .command(&request(&sb, &ca.url("/dir"), &[]))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut err = child.stderr.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut err, &mut s).unwrap();
            s
        });
        let (code, peak_kib) = wait_with_peak_rss(&mut child);
        let stderr = reader.join().unwrap();
        assert_eq!(code, 1, "declared={declared}: {stderr}");
        assert!(
            stderr.contains("the CA's answer is larger than 1 MiB"),
            "declared={declared}: {stderr}"
        );
        assert!(t0.elapsed() < Duration::from_secs(20), "{:?}", t0.elapsed());
        if let Some(kib) = peak_kib {
            assert!(kib < 150 * 1024, "peak RSS {kib} KiB (declared={declared})");
        }
    }
}

#[test]
fn a_silent_ca_costs_one_request_timeout_naming_the_ca() {
    let sb = lab();
    let ca = HostileCa::silent();
    let t0 = Instant::now();
    let r = sb.run(&request(&sb, &ca.url("/dir"), &["-AcmeTimeoutSec", "4"]));
    let took = t0.elapsed();
    let e = refused(r, "AcmeDirectoryUnreachable");
    assert!(
        e.message.contains(&format!(
            "the CA at 127.0.0.1:{} did not answer within 2 seconds",
            ca.port
        )),
        "{}",
        e.message
    );
    assert!(took < Duration::from_secs(4), "{took:?}");
}

/// The account, one order for sip.contoso.com, and its one authorization naming `identifier`
/// with a dns-01 challenge whose "ready" is answered with `ready`.
fn order_server(
    sb: &Sandbox,
    identifier: &'static str,
    ready: impl Fn() -> Reply + Send + Sync + 'static,
) -> HostileCa {
    HostileCa::start(sb.root(), move |ca, _, path| match path {
        "/dir" => ca.directory(json!({})),
        "/nonce" => Reply::Full(200, vec![], vec![]),
        "/acct" => Reply::created(ca.url("/acct/1"), json!({"status": "valid"})),
        "/order" | "/order/1" => Reply::created(
            ca.url("/order/1"),
            json!({"status": "pending", "identifiers": [{"type": "dns", "value": "sip.contoso.com"}],
                   "authorizations": [ca.url("/authz/1")], "finalize": ca.url("/finalize/1")}),
        ),
        "/authz/1" => Reply::json(
            200,
            json!({"status": "pending", "identifier": {"type": "dns", "value": identifier},
                   "challenges": [{"type": "dns-01", "url": ca.url("/chall/1"), "token": "tok-1", "status": "pending"}]}),
        ),
        "/chall/1" => ready(),
        _ => Reply::problem(404, "malformed", "no such resource"),
    })
}

/// The request answering dns-01 through `hook` at once (no propagation wait), plus `extra`.
fn hook_request(sb: &Sandbox, directory: &str, hook: &str, extra: &[&str]) -> Vec<String> {
    let mut a = dns_request(
        sb,
        directory,
        &[
            "-AcmeChallenge",
            "Dns01",
            "-AcmeDnsHook",
            hook,
            "-AcmeDnsWaitSec",
            "0",
        ],
    );
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

/// A hook that writes its environment to env.txt and its arguments to calls.txt.
fn env_hook(sb: &Sandbox) -> String {
    let p = sb.write(
        "hook.sh",
        &format!(
            "#!/bin/sh\nenv > '{}'\necho \"$@\" >> '{}'\n",
            sb.p("env.txt"),
            sb.p("calls.txt")
        ),
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    p
}

#[test]
fn hook_gets_no_secret_and_a_transient_refusal_keeps_the_cas_reason() {
    if !has_openssl("hook_gets_no_secret") {
        return;
    }
    let sb = lab();
    let ca = order_server(&sb, "sip.contoso.com", || {
        Reply::problem(503, "serverInternal", "validation queue is full, try again")
    });
    let hook = env_hook(&sb);
    let secrets = [
        ("CSCERT_STORE_PASSWORD", "store-secret-1"),
        ("CSCERT_PASSWORD", "pfx-secret-2"),
        ("CSCERT_CA_PASSWORD", "ca-secret-3"),
        ("CSCERT_ACME_EAB_HMAC_KEY", "eab-secret-4"),
    ];
    let args = hook_request(&sb, &ca.url("/dir"), &hook, &["-AcmeEabKeyId", "kid-1"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let e = refused(sb.run_env(&secrets, &args), "AcmeRequestRefused");
    assert!(
        e.message
            .contains("the dns-01 challenge for sip.contoso.com")
            && e.message.contains(
                "validation queue is full, try again (urn:ietf:params:acme:error:serverInternal)"
            ),
        "{}",
        e.message
    );
    assert!(!e.message.contains("gave no reason"), "{}", e.message);
    // Its challenges were never all answered: -Retrieve cannot finish this order.
    assert!(!e.message.contains("-Retrieve"), "{}", e.message);
    let env = std::fs::read_to_string(sb.path("env.txt")).expect("the hook ran");
    assert!(env.contains("CSCERT_ACME_DOMAIN=sip.contoso.com"), "{env}");
    for (name, value) in secrets {
        assert!(
            !env.contains(name) && !env.contains(value),
            "{name} leaked:\n{env}"
        );
    }
}

#[test]
fn an_authorization_for_a_name_never_ordered_is_refused_before_the_hook() {
    if !has_openssl("an_authorization_for_a_name_never_ordered") {
        return;
    }
    let sb = lab();
    let ca = order_server(&sb, "sip.contoso.com;touch x;$(id)\u{1b}[2J", || {
        Reply::json(200, json!({"status": "processing"}))
    });
    let hook = env_hook(&sb);
    let args = hook_request(&sb, &ca.url("/dir"), &hook, &[]);
    let e = refused(sb.run(&args), "AcmeUnorderedIdentifier");
    assert!(
        e.message.contains(
            "\"sip.contoso.com;touch x;$(id)\\u{1b}[2J\", which is not a name of the order"
        ),
        "{}",
        e.message
    );
    assert!(!sb.path("calls.txt").exists(), "the hook ran");
    assert!(!ca.requests().iter().any(|r| r.contains("/chall/")));
}

#[test]
fn problem_details_and_terms_are_escaped_and_capped() {
    if !has_openssl("problem_details_and_terms_are_escaped") {
        return;
    }
    let sb = lab();
    let long = format!("\u{1b}[31mred\u{202e}txet{}", "A".repeat(5000));
    let detail = long.clone();
    let ca = HostileCa::start(sb.root(), move |ca, _, path| match path {
        "/dir" => ca.directory(json!({"termsOfService": format!("https://ca/tos{detail}")})),
        "/nonce" => Reply::Full(200, vec![], vec![]),
        _ => Reply::problem(403, "unauthorized", &detail),
    });
    // Terms not agreed: the URL is shown escaped and capped.
    let mut args = request(&sb, &ca.url("/dir"), &[]);
    args.retain(|a| a != "-AcmeAgreeTos");
    let e = refused(sb.run(&args), "AcmeTermsNotAgreed");
    assert!(
        e.message
            .contains("https://ca/tos\\u{1b}[31mred\\u{202e}txet"),
        "{}",
        e.message
    );
    assert!(e.message.len() < 600, "{} bytes", e.message.len());
    // The new account refused with a 5 KB detail full of escapes.
    let e = refused(
        sb.run(&request(&sb, &ca.url("/dir"), &[])),
        "AcmeRequestRefused",
    );
    assert!(
        e.message.contains("\\u{1b}[31mred\\u{202e}txet"),
        "{}",
        e.message
    );
    assert!(e.message.len() < 600, "{} bytes", e.message.len());
}

#[test]
fn an_untrusted_tls_root_names_acme_ca_bundle() {
    if !has_openssl("an_untrusted_tls_root_names_acme_ca_bundle") {
        return;
    }
    let sb = lab();
    let ca = HostileCa::start(sb.root(), |ca, _, _| ca.directory(json!({})));
    let mut args = request(&sb, &ca.url("/dir"), &[]);
    let i = args.iter().position(|a| a == "-AcmeCaBundle").unwrap();
    args.drain(i..i + 2);
    let e = refused(sb.run(&args), "AcmeDirectoryUnreachable");
    assert!(
        e.message.contains("-AcmeCaBundle <PEM file>"),
        "{}",
        e.message
    );
}
