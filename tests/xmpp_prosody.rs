//! cscert's identity verdicts checked against real XMPP peers: prosody (serving certificates on
//! loopback, and `prosodyctl check certs`), `openssl s_client -starttls xmpp-server` and
//! `openssl x509 -checkhost`. Skips (with a `SKIPPED:` line) only when prosody or openssl is
//! not installed; `scripts/test` installs them.

mod xmpp_support;

use xmpp_support::*;

const EDGE_USES: &str = "AccessEdgeExternal,DataEdgeExternal,AudioVideoAuthentication";
const EDGE_SANS: [&str; 4] = [
    "sip.contoso.com",
    "webcon.contoso.com",
    "sip.fabrikam.com",
    "contoso.com",
];
const PASSWORD: &str = "Xmpp-test pw";

/// The example: the Edge certificate (SANs webcon.contoso.com, sip.contoso.com,
/// sip.fabrikam.com, contoso.com) requested with cscert, signed by an openssl test CA, imported
/// and exported with cscert, served by prosody for `contoso.com` and `corp.contoso.com`. openssl
/// s_client verifies it for contoso.com and reports a hostname mismatch (62) for
/// corp.contoso.com; Test-CsCertificate passes contoso.com by a DNS-ID and fails
/// corp.contoso.com with XMPP-CHILD-DOMAIN. The two verdicts must agree both ways.
#[test]
fn edge_certificate_served_by_prosody_agrees_with_test_cscertificate() {
    if !peers_present("edge_certificate_served_by_prosody") {
        return;
    }
    let lab = Lab::new();
    let ca = lab.make_ca();

    // Request-CsCertificate -New ... -Output edge.req (the private key stays pending in the store).
    let req = lab.p("edge.req");
    let out = lab.cscert_ok(&[
        "Request-CsCertificate",
        "-New",
        "-Type",
        EDGE_USES,
        "-ComputerFqdn",
        "sip.contoso.com",
        "-DomainName",
        "webcon.contoso.com, sip.contoso.com, sip.fabrikam.com, contoso.com",
        "-PrivateKeyExportable",
        "True",
        "-Output",
        &req,
    ]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("request object");
    assert_eq!(v["RequestStatus"], "Offline");
    assert_eq!(v["Subject"], "CN=sip.contoso.com");
    assert_eq!(v["AlternativeNames"], serde_json::json!(EDGE_SANS));

    // The test CA signs it, copying the request's SAN and EKU extensions.
    let cer = lab.p("edge.cer");
    lab.openssl(&[
        "x509",
        "-req",
        "-in",
        &req,
        "-CA",
        &ca.cert,
        "-CAkey",
        &ca.key,
        "-set_serial",
        "0x4564676531",
        "-days",
        "20",
        "-copy_extensions",
        "copy",
        "-out",
        &cer,
    ]);
    let sans = lab.openssl(&["x509", "-in", &cer, "-noout", "-ext", "subjectAltName"]);
    assert!(
        sans.contains(
            "DNS:sip.contoso.com, DNS:webcon.contoso.com, DNS:sip.fabrikam.com, DNS:contoso.com"
        ),
        "{sans}"
    );

    // Import-CsCertificate pairs it with the pending key; Export-CsCertificate -Format Pem writes
    // the certificate and the key as encrypted PKCS#8, which openssl decrypts for prosody.
    let imported: serde_json::Value = serde_json::from_str(
        lab.cscert_ok(&["Import-CsCertificate", "-Path", &cer])
            .trim(),
    )
    .expect("import object");
    assert_eq!(imported["HasPrivateKey"], true);
    assert_eq!(imported["PrivateKeyExportable"], true);
    let thumb = imported["Thumbprint"]
        .as_str()
        .expect("thumbprint")
        .to_string();
    let openssl_sha1 = lab.openssl(&["x509", "-in", &cer, "-noout", "-fingerprint", "-sha1"]);
    assert_eq!(
        openssl_sha1
            .trim()
            .split_once('=')
            .expect("Fingerprint=")
            .1
            .replace(':', ""),
        thumb
    );
    let pem = lab.p("edge.pem");
    lab.cscert_ok(&[
        "Export-CsCertificate",
        "-Thumbprint",
        &thumb,
        "-Path",
        &pem,
        "-Format",
        "Pem",
        "-Password",
        PASSWORD,
    ]);
    let pem_text = std::fs::read_to_string(&pem).unwrap();
    assert!(pem_text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    assert!(!pem_text.contains("-----BEGIN PRIVATE KEY-----"));
    let key = lab.p("edge.key");
    lab.openssl(&[
        "pkey",
        "-in",
        &pem,
        "-passin",
        &format!("pass:{PASSWORD}"),
        "-out",
        &key,
    ]);
    let crt = lab.p("edge.crt");
    lab.openssl(&["x509", "-in", &pem, "-out", &crt]);
    // The exported key is the certificate's key.
    assert_eq!(
        lab.openssl(&["pkey", "-in", &key, "-pubout"]),
        lab.openssl(&["x509", "-in", &crt, "-noout", "-pubkey"])
    );

    // prosody on loopback, serving the certificate for both XMPP domains.
    let port = free_port();
    let cfg = write_prosody_config(
        &lab,
        "edge-prosody",
        port,
        &[
            Host {
                name: "contoso.com",
                cert: &crt,
                key: &key,
            },
            Host {
                name: "corp.contoso.com",
                cert: &crt,
                key: &key,
            },
        ],
    );
    let mut prosody = Prosody::start(&cfg, port, lab.path("edge-prosody/prosody.log"));

    let ok = lab.s_client(port, "contoso.com", &ca.cert);
    let bad = lab.s_client(port, "corp.contoso.com", &ca.cert);
    let log = prosody.log_text();
    assert!(prosody.stop(), "prosody pid {} still running", prosody.pid);

    // contoso.com: chain and name verify.
    assert_eq!(
        ok.verify_code,
        Some(0),
        "contoso.com:\n{}\n{log}",
        ok.out.both()
    );
    assert_eq!(ok.verify_text.as_deref(), Some("ok"));
    assert_eq!(ok.out.code, 0, "{}", ok.out.both());
    assert_eq!(ok.subject.as_deref(), Some("CN = sip.contoso.com"));
    // corp.contoso.com: the same chain, but "hostname mismatch" (X509_V_ERR_HOSTNAME_MISMATCH).
    assert_eq!(
        bad.verify_code,
        Some(62),
        "corp.contoso.com:\n{}\n{log}",
        bad.out.both()
    );
    assert_eq!(bad.verify_text.as_deref(), Some("hostname mismatch"));
    assert!(bad
        .out
        .both()
        .contains("verify error:num=62:hostname mismatch"));
    assert_ne!(bad.out.code, 0, "-verify_return_error aborts the handshake");
    assert!(
        log.contains(&format!("Activated service 's2s' on [127.0.0.1]:{port}")),
        "{log}"
    );

    // Test-CsCertificate on the same certificate, per XMPP domain.
    let edge_args = |d: &'static str| ["-Type", EDGE_USES, "-XmppDomain", d];
    let (code_ok, root) = lab.test_cert(&cer, &edge_args("contoso.com"));
    let (code_bad, child) = lab.test_cert(&cer, &edge_args("corp.contoso.com"));

    assert_eq!(code_ok, 0);
    assert!(root.passed, "{root:#?}");
    assert_eq!(root.kind, "Certificate");
    assert_eq!(root.subject, "CN=sip.contoso.com");
    assert_eq!(root.alternative_names, EDGE_SANS);
    assert_eq!(root.thumbprint.as_deref(), Some(thumb.as_str()));
    assert_eq!(
        root.xmpp_domains,
        vec![Coverage {
            domain: "contoso.com".into(),
            covered: true,
            covered_by: vec!["DnsName".into()],
        }]
    );
    // Only the clientAuth warning (the request had no -ClientEKU); no XMPP finding.
    assert_eq!(root.rule_ids(), ["EKU-NO-CLIENT-AUTH"]);
    assert_eq!(root.finding("EKU-NO-CLIENT-AUTH").severity, "Warning");

    assert_eq!(code_bad, 3);
    assert!(!child.passed);
    assert_eq!(
        child.xmpp_domains,
        vec![Coverage {
            domain: "corp.contoso.com".into(),
            covered: false,
            covered_by: vec![],
        }]
    );
    assert_eq!(
        child.rule_ids(),
        ["XMPP-CHILD-DOMAIN", "EKU-NO-CLIENT-AUTH"]
    );
    let f = child.finding("XMPP-CHILD-DOMAIN");
    assert_eq!(f.severity, "Error");
    assert_eq!(f.names, ["corp.contoso.com", "contoso.com"]);
    assert!(f.message.contains("does NOT cover"), "{}", f.message);

    // Agreement both ways: the real TLS client accepts exactly where cscert says Covered.
    for (domain, s, r) in [
        ("contoso.com", &ok, &root),
        ("corp.contoso.com", &bad, &child),
    ] {
        let tls_ok = s.verify_code == Some(0);
        assert_eq!(
            tls_ok,
            r.xmpp(domain).covered,
            "s_client and Test-CsCertificate disagree on {domain}"
        );
        assert_eq!(tls_ok, r.passed, "Passed follows coverage for {domain}");
    }

    // prosody's own identity check of its configuration gives the same split.
    let (verdicts, _) = prosodyctl_check_certs(&lab, &cfg);
    assert_eq!(verdicts.len(), 2, "{verdicts:#?}");
    assert!(verdicts["contoso.com"].s2s_ok && verdicts["contoso.com"].c2s_ok);
    assert!(!verdicts["corp.contoso.com"].s2s_ok && !verdicts["corp.contoso.com"].c2s_ok);
    assert_eq!(verdicts["contoso.com"].certificate, crt);
}
