//! Test-CsCertificate -Endpoint against real XMPP servers started by the test: prosody (s2s) and
//! ejabberd (s2s and c2s), both by STARTTLS (RFC 6120 5.4) and both serving a certificate made
//! by cscert. The probe's verdict per domain is compared with `openssl s_client -starttls`
//! and with Test-CsCertificate -Path on the same file.

mod support;

use support::ejabberd::*;
use support::probe::Probed;
use support::xmpp::*;
use support::*;

fn probe(lab: &Lab, port: u16, protocol: &str, domain: &str, root: &str) -> (Run, Vec<Probed>) {
    let (run, got, _, _) = lab.probe(&[
        "-Endpoint",
        &format!("127.0.0.1:{port}"),
        "-Protocol",
        protocol,
        "-XmppDomain",
        domain,
        "-TrustedRoot",
        root,
        // ejabberd answers slowly on a busy machine.
        "-TimeoutSec",
        "30",
    ]);
    (run, got)
}

/// A cscert certificate for contoso.com (not corp.contoso.com) served by prosody for both
/// domains and by ejabberd for contoso.com: every STARTTLS probe fetches that certificate,
/// passes contoso.com and fails corp.contoso.com with XMPP-CHILD-DOMAIN, as openssl s_client
/// verifies one and reports a hostname mismatch for the other, and as Test-CsCertificate -Path
/// judges the file. ejabberd, which does not serve corp.contoso.com, ends that stream with
/// host-unknown: one error record.
#[test]
fn starttls_probes_of_prosody_and_ejabberd_agree_with_openssl() {
    if !ejabberd_present("starttls_probes_of_prosody_and_ejabberd") {
        return;
    }
    let lab = Lab::new();
    let ca = lab.make_ca();
    let cert = lab.xmpp_certificate(&ca, "contoso", "contoso.com");
    let hosts = ["contoso.com", "corp.contoso.com"].map(|name| Host {
        name,
        cert: &cert.crt,
        key: &cert.key,
    });
    let prosody = Prosody::serve(&lab, "prosody", &hosts);
    let ejabberd = Ejabberd::serve(&lab, "ejabberd", "contoso.com", &cert.pem, "");
    let root = ca.cert_s();

    let (_, file) = lab.test_cert(&cert.crt, &["-XmppDomain", "contoso.com,corp.contoso.com"]);
    assert_eq!(
        file.xmpp_findings("corp.contoso.com"),
        [("XMPP-CHILD-DOMAIN", "Error")]
    );
    assert!(file.xmpp_findings("contoso.com").is_empty());

    for (port, protocol) in [
        (prosody.port, "XmppServer"),
        (ejabberd.ports[0], "XmppServer"),
        (ejabberd.ports[1], "XmppClient"),
    ] {
        let (run, got) = probe(&lab, port, protocol, "contoso.com", &root);
        assert_eq!(
            run.code,
            0,
            "{protocol} {port}: {run:?}\n{}",
            ejabberd.ejabberd_log()
        );
        let r = &got[0];
        assert_eq!(
            r.thumbprint.as_deref(),
            Some(cert.thumbprint.as_str()),
            "{protocol} {port}"
        );
        assert!(r.passed, "{protocol} {port}: {:#?}", r.findings);
        assert!(r.xmpp_domains[0].covered);
        assert!(r.tls_version.starts_with("TLS 1."), "{}", r.tls_version);
        assert!(!r.cipher_suite.is_empty());
    }
    for port in [prosody.port, ejabberd.ports[0]] {
        let s = lab.s_client(port, "contoso.com", &root);
        assert_eq!(s.verify_code, Some(0), "{:?}", s.out.both());
    }

    // corp.contoso.com: prosody serves the certificate, which does not name it.
    let (run, got) = probe(&lab, prosody.port, "XmppServer", "corp.contoso.com", &root);
    run.assert_code(3);
    let xmpp: Vec<&str> = got[0]
        .rule_ids()
        .into_iter()
        .filter(|r| r.starts_with("XMPP-"))
        .collect();
    assert_eq!(xmpp, ["XMPP-CHILD-DOMAIN"]);
    assert!(!got[0].xmpp_domains[0].covered);
    let s = lab.s_client(prosody.port, "corp.contoso.com", &root);
    assert_eq!(
        s.verify_text.as_deref(),
        Some("hostname mismatch"),
        "{}",
        s.out.both()
    );

    // ejabberd does not serve corp.contoso.com at all.
    let (run, got) = probe(
        &lab,
        ejabberd.ports[0],
        "XmppServer",
        "corp.contoso.com",
        &root,
    );
    assert!(got.is_empty());
    run.assert_code(1);
    let e = run.error();
    assert_eq!(
        e.fully_qualified_error_id,
        "XmppStreamError,Test-CsCertificate"
    );
    assert!(e.message.contains("'host-unknown'"), "{}", e.message);
}
