//! Test-CsCertificate -Endpoint against live TLS peers the tests start: `openssl s_server` for
//! SIP (5061-style direct TLS) and HTTPS, hostile loopback servers (silent, trickling, endless
//! stream header, another protocol), and the store's assignments (a served certificate that is
//! not the assigned one). The XMPP servers are in tests/xmpp_probe.rs.

mod support;

use std::time::Duration;
use support::probe::*;
use support::xmpp::*;
use support::*;

/// A lab and its PKI when openssl is there (else SKIPPED, or a failure under CI).
fn setup(test: &str) -> Option<(Lab, Pki)> {
    if !require(test, &["openssl"]) {
        return None;
    }
    let lab = Lab::new();
    let p = pki(&lab);
    Some((lab, p))
}

/// Probes `sip.contoso.com:<port>` as SIP over TLS, the name resolved to loopback, with `extra`.
fn sip_probe(lab: &Lab, port: u16, extra: &[&str]) -> (Run, Vec<Probed>) {
    let ep = format!("sip.contoso.com:{port}");
    let mut args = vec![
        "-Endpoint",
        &ep,
        "-Protocol",
        "SipTls",
        "-Resolve",
        "sip.contoso.com=127.0.0.1",
    ];
    args.extend_from_slice(extra);
    let (run, got, _, _) = lab.probe(&args);
    (run, got)
}

/// Root -> intermediate -> leaves for sip.contoso.com and webcon.contoso.com.
struct Pki {
    root: TestCa,
    int: TestCa,
}

fn pki(lab: &Lab) -> Pki {
    let root = lab.make_ca();
    let int = root.intermediate(&lab.path("int"), "Contoso Issuing CA 1", 30);
    Pki { root, int }
}

fn leaf(lab: &Lab, ca: &TestCa, name: &str, dns: &[&str], days: u32) -> (String, String) {
    let cer = ca.leaf(&lab.path("."), name, dns[0], dns, days);
    (
        cer.display().to_string(),
        lab.path(&format!("{name}.key")).display().to_string(),
    )
}

/// openssl's SHA-1 fingerprint of a PEM certificate, as a thumbprint (hex, no colons).
fn openssl_thumbprint(lab: &Lab, cer: &str) -> String {
    let out = lab.openssl(&["x509", "-in", cer, "-noout", "-fingerprint", "-sha1"]);
    out.trim()
        .rsplit('=')
        .next()
        .unwrap()
        .replace(':', "")
        .to_uppercase()
}

/// The SIP and the HTTPS endpoint, each `openssl s_server` with the intermediate sent along:
/// one call probes both (results in the order given), each chain verifies to -TrustedRoot,
/// the thumbprint is openssl's, and version and cipher suite are what `openssl s_client`
/// negotiates with the same server. Asking the HTTPS server for a name it does not carry is
/// SERVED-NAME-MISMATCH.
#[test]
fn sip_and_https_probes_read_the_served_chain_as_openssl_does() {
    let Some((lab, p)) = setup("sip_and_https_probes") else {
        return;
    };
    let (sip, sip_key) = leaf(&lab, &p.int, "sip", &["sip.contoso.com"], 60);
    let (web, web_key) = leaf(&lab, &p.int, "web", &["webcon.contoso.com"], 60);
    let chain = p.int.cert_s();
    let s1 = lab.s_server("s-sip", &sip, &sip_key, Some(&chain));
    let s2 = lab.s_server("s-web", &web, &web_key, Some(&chain));

    let sip_ep = format!("sip.contoso.com:{}", s1.port);
    let (run, got) = sip_probe(&lab, s1.port, &["-TrustedRoot", &p.root.cert_s()]);
    run.assert_code(0);
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!(
        (
            r.endpoint.as_str(),
            r.protocol.as_str(),
            r.server_name.as_str()
        ),
        (sip_ep.as_str(), "SipTls", "sip.contoso.com")
    );
    assert_eq!(r.address, format!("127.0.0.1:{}", s1.port));
    assert!(r.passed, "{:#?}", r.findings);
    assert_eq!(
        r.thumbprint.as_deref(),
        Some(openssl_thumbprint(&lab, &sip).as_str())
    );
    assert_eq!(r.chain, ["CN=sip.contoso.com", "CN=Contoso Issuing CA 1"]);
    assert_eq!(r.trusted_by, "TrustedRoot");

    // openssl s_client on the same server: same protocol version and cipher suite.
    let (_, brief) = lab.openssl_both(&[
        "s_client",
        "-connect",
        &format!("127.0.0.1:{}", s1.port),
        "-servername",
        "sip.contoso.com",
        "-brief",
    ]);
    let version = brief
        .lines()
        .find_map(|l| l.strip_prefix("Protocol version: "))
        .expect("s_client -brief names the version");
    assert_eq!(r.tls_version.replace(' ', "v"), version.trim());
    let suite = brief
        .lines()
        .find_map(|l| l.strip_prefix("Ciphersuite: "))
        .expect("s_client -brief names the suite");
    assert_eq!(r.cipher_suite.replace("TLS13_", "TLS_"), suite.trim());

    // Two HTTPS endpoints on the one server, one of them by a name it does not carry.
    let ok = format!("webcon.contoso.com:{}", s2.port);
    let wrong = format!("lyncdiscover.contoso.com:{}", s2.port);
    let (run, got, _, _) = lab.probe(&[
        "-Endpoint",
        &format!("{ok},{wrong}"),
        "-Protocol",
        "Https",
        "-Resolve",
        "webcon.contoso.com=127.0.0.1,lyncdiscover.contoso.com=127.0.0.1",
        "-TrustedRoot",
        &p.root.cert_s(),
    ]);
    run.assert_code(3);
    let eps: Vec<&str> = got.iter().map(|r| r.endpoint.as_str()).collect();
    assert_eq!(eps, [ok.as_str(), wrong.as_str()]);
    assert!(got[0].passed, "{:#?}", got[0].findings);
    assert_eq!(got[1].rule_ids(), ["SERVED-NAME-MISMATCH"]);
    assert_eq!(
        got[1].finding("SERVED-NAME-MISMATCH").names,
        ["lyncdiscover.contoso.com"]
    );
    assert_eq!(
        run.error().fully_qualified_error_id,
        "ValidationFailed,Test-CsCertificate"
    );
}

/// A server that sends its leaf without the intermediate: CHAIN-INCOMPLETE names the leaf and
/// the missing issuer, as `openssl s_client -verify_return_error` fails on the same server.
#[test]
fn a_missing_intermediate_is_reported_as_openssl_fails_on_it() {
    let Some((lab, p)) = setup("a_missing_intermediate") else {
        return;
    };
    let (sip, key) = leaf(&lab, &p.int, "sip", &["sip.contoso.com"], 60);
    let s = lab.s_server("s-bare", &sip, &key, None);
    let (run, got) = sip_probe(&lab, s.port, &["-TrustedRoot", &p.root.cert_s()]);
    run.assert_code(3);
    let r = &got[0];
    assert_eq!(r.chain, ["CN=sip.contoso.com"]);
    assert_eq!(r.rule_ids(), ["CHAIN-INCOMPLETE"]);
    assert_eq!(
        r.finding("CHAIN-INCOMPLETE").names,
        ["CN=sip.contoso.com", "CN=Contoso Issuing CA 1"]
    );
    let code = lab.openssl_status(&[
        "s_client",
        "-connect",
        &format!("127.0.0.1:{}", s.port),
        "-CAfile",
        &p.root.cert_s(),
        "-verify_return_error",
        "-brief",
    ]);
    assert_ne!(code, 0, "openssl also refuses the chain");
}

/// The store assigns a new certificate for Default on sip.contoso.com, but the server still
/// serves the old one: SERVED-NOT-ASSIGNED says "served OLD, assigned NEW since <date>: the
/// service was not restarted"; after the "restart" (the server serving NEW) it passes.
#[test]
fn a_served_certificate_that_is_not_the_assigned_one_is_reported() {
    let Some((lab, p)) = setup("served_not_assigned") else {
        return;
    };
    let mut thumbs = Vec::new();
    let mut files = Vec::new();
    // The PFX carries the whole chain, so the store learns the root too.
    let bundle = lab.write(
        "bundle.pem",
        &(std::fs::read_to_string(&p.int.cert).unwrap()
            + &std::fs::read_to_string(&p.root.cert).unwrap()),
    );
    for name in ["old", "new"] {
        let (cer, key) = leaf(&lab, &p.int, name, &["sip.contoso.com"], 90);
        let pfx = lab.p(&format!("{name}.pfx"));
        lab.openssl_pfx(&cer, &key, Some(&bundle), &pfx, "pw");
        lab.cscert_ok(&["Import-CsCertificate", "-Path", &pfx, "-Password", "pw"]);
        thumbs.push(openssl_thumbprint(&lab, &cer));
        files.push((cer, key));
    }
    let (old, new) = (&thumbs[0], &thumbs[1]);
    lab.cscert_ok(&["Set-CsCertificate", "-Type", "Default", "-Thumbprint", old]);
    lab.cscert_ok(&["Set-CsCertificate", "-Type", "Default", "-Thumbprint", new]);
    let since = lab.cscert_ok(&["Get-CsCertificate", "-Type", "Default"]);
    assert!(since.contains(new.as_str()), "{since}");

    let chain = p.int.cert_s();
    let stale = lab.s_server("s-old", &files[0].0, &files[0].1, Some(&chain));
    let (run, got) = sip_probe(&lab, stale.port, &["-Type", "Default"]);
    run.assert_code(3);
    let r = &got[0];
    // The store's root verifies the chain: no -TrustedRoot needed.
    assert_eq!(r.trusted_by, "Store", "{r:#?}");
    assert_eq!(r.thumbprint.as_ref(), Some(old));
    assert_eq!(r.assigned_thumbprint.as_ref(), Some(new));
    assert_eq!(r.rule_ids(), ["SERVED-NOT-ASSIGNED"], "{:#?}", r.findings);
    let m = &r.finding("SERVED-NOT-ASSIGNED").message;
    assert!(
        m.starts_with(&format!("served {old}, assigned {new} since "))
            && m.ends_with(": the service was not restarted"),
        "{m}"
    );
    drop(stale);

    let fresh = lab.s_server("s-new", &files[1].0, &files[1].1, Some(&chain));
    let (run, got) = sip_probe(&lab, fresh.port, &["-Type", "Default"]);
    run.assert_code(0);
    assert!(got[0].passed && got[0].findings.is_empty(), "{got:#?}");
}

/// Hostile XMPP endpoints in one call with a good one: each bad endpoint is one error record
/// with its own id, all end within -TimeoutSec (they are probed at once), the good one still
/// gives its object, cscert's memory stays small although one server sends without end, and
/// the server's text in an error is escaped.
#[test]
fn hostile_endpoints_each_end_within_the_timeout_with_bounded_memory() {
    let Some((lab, p)) = setup("hostile_endpoints") else {
        return;
    };
    let (cer, key) = leaf(&lab, &p.int, "x", &["contoso.com"], 60);
    let good = lab.s_server("s-good", &cer, &key, Some(&p.int.cert_s()));
    let closed = free_port();
    let cases = [
        (
            hostile(Hostile::Silent),
            "EndpointTimeout",
            "OperationTimeout",
        ),
        (
            hostile(Hostile::Trickle),
            "EndpointTimeout",
            "OperationTimeout",
        ),
        (
            hostile(Hostile::EndlessHeader),
            "EndpointTooMuchData",
            "ProtocolError",
        ),
        (hostile(Hostile::Ssh), "EndpointNotXmpp", "ProtocolError"),
        (closed, "EndpointNotReached", "ConnectionError"),
    ];
    let list: Vec<String> = cases
        .iter()
        .map(|(port, _, _)| format!("127.0.0.1:{port}"))
        .collect();
    let (run, got, peak_kb, took) = lab.probe(&[
        "-Endpoint",
        &list.join(","),
        "-XmppDomain",
        "contoso.com",
        "-TimeoutSec",
        "2",
    ]);
    assert!(got.is_empty(), "{got:#?}");
    run.assert_code(1);
    let errors = run.errors();
    assert_eq!(errors.len(), cases.len(), "{}", run.stderr);
    for ((port, id, category), e) in cases.iter().zip(&errors) {
        assert_eq!(
            e.fully_qualified_error_id,
            format!("{id},Test-CsCertificate"),
            "{e:?}"
        );
        assert_eq!(e.category, *category);
        assert_eq!(
            e.target_object.as_deref(),
            Some(format!("127.0.0.1:{port}").as_str())
        );
    }
    assert!(
        errors[3]
            .message
            .contains("SSH-2.0-OpenSSH_9.2p1 Debian-2\\r\\n"),
        "{}",
        errors[3].message
    );
    assert!(
        took < Duration::from_secs(4),
        "all endpoints at once, each within 2 s: {took:?}"
    );
    assert!(peak_kb < 64 * 1024, "peak memory {peak_kb} kB");

    // The good endpoint beside them (SipTls, so no stream): one object, one error.
    let (run, got, _, _) = lab.probe(&[
        "-Endpoint",
        &format!(
            "contoso.com:{},127.0.0.1:{}",
            good.port,
            hostile(Hostile::Http)
        ),
        "-Resolve",
        "contoso.com=127.0.0.1",
        "-Protocol",
        "SipTls",
        "-TrustedRoot",
        &p.root.cert_s(),
        "-TimeoutSec",
        "2",
    ]);
    run.assert_code(1);
    assert_eq!(got.len(), 1);
    assert!(got[0].passed, "{:#?}", got[0].findings);
    let e = run.error();
    assert_eq!(
        e.fully_qualified_error_id,
        "TlsHandshakeFailed,Test-CsCertificate"
    );
}

/// Endpoint and -Resolve values that are not host[:port] / host=address are refused before any
/// connection, in PowerShell's words.
#[test]
fn malformed_endpoints_are_refused_before_connecting() {
    let lab = Lab::new();
    for (args, id) in [
        (vec!["-Endpoint", "host:99999"], "InvalidEndpoint"),
        (vec!["-Endpoint", "a b"], "InvalidEndpoint"),
        (
            vec!["-Endpoint", "x.contoso.com", "-Resolve", "x.contoso.com"],
            "InvalidResolve",
        ),
        (vec!["-Endpoint", "127.0.0.1"], "XmppDomainRequired"),
    ] {
        let (run, got, _, _) = lab.probe(&args);
        assert!(got.is_empty());
        run.assert_code(1);
        assert_eq!(
            run.error().fully_qualified_error_id,
            format!("{id},Test-CsCertificate"),
            "{args:?}"
        );
    }
    let (run, _, _, _) = lab.probe(&["-Endpoint", "x", "-TimeoutSec", "0"]);
    run.assert_code(2);
}
