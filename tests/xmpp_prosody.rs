//! cscert's identity verdicts checked against real XMPP peers: prosody (serving certificates on
//! loopback, and `prosodyctl check certs`), `openssl s_client -starttls xmpp-server` and
//! `openssl x509 -checkhost`. Skips (with a `SKIPPED:` line) only when prosody or openssl is
//! not installed; `scripts/test` installs them.

mod support;

use support::xmpp::*;
use support::*;

// The admin's -DomainName order, kept since it lists the subject (issue 11 item 6).
const EDGE_SANS: [&str; 4] = [
    "webcon.contoso.com",
    "sip.contoso.com",
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
        &ca.cert_s(),
        "-CAkey",
        &ca.key_s(),
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
            "DNS:webcon.contoso.com, DNS:sip.contoso.com, DNS:sip.fabrikam.com, DNS:contoso.com"
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
    let mut prosody = Prosody::serve(
        &lab,
        "edge-prosody",
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
    let port = prosody.port;

    let ok = lab.s_client(port, "contoso.com", &ca.cert_s());
    let bad = lab.s_client(port, "corp.contoso.com", &ca.cert_s());
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
    let (verdicts, _) = prosodyctl_check_certs(&lab, &prosody.cfg);
    assert_eq!(verdicts.len(), 2, "{verdicts:#?}");
    assert!(verdicts["contoso.com"].s2s_ok && verdicts["contoso.com"].c2s_ok);
    assert!(!verdicts["corp.contoso.com"].s2s_ok && !verdicts["corp.contoso.com"].c2s_ok);
    assert_eq!(verdicts["contoso.com"].certificate, crt);
}

const C: &str = "contoso.com";
const K: &str = "corp.contoso.com";
const F: &str = "fabrikam.com";
/// The XMPP domains every matrix certificate is checked for: prosody serves each as a
/// VirtualHost, Test-CsCertificate gets them as `-XmppDomain`.
const DOMAINS: [&str; 3] = [C, K, F];

/// How prosody's verdict (and openssl -checkhost's) relates to cscert's `Covered` on one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rel {
    /// prosody's s2s verdict equals cscert's Covered (and so does -checkhost where it applies).
    Same,
    /// `*.com`: prosody's x509.lua accepts any `*.` + rest match, even under a public suffix;
    /// cscert (RFC 9525 6.3, CA/B) never lets `*.com` match and says WILDCARD-PUBLIC-SUFFIX.
    /// openssl refuses it too (a wildcard needs two labels after it).
    ProsodyAcceptsPublicSuffixWildcard,
    /// `_xmpp-server.*.contoso.com`: prosody's compare_srvname allows a left-most wildcard in
    /// an SRV-ID; RFC 4985 / RFC 9525 allow wildcards only in DNS-IDs, so cscert does not count
    /// it and flags SRVNAME-SYNTAX.
    ProsodyAcceptsWildcardSrvId,
    /// Two subject CNs, no SAN: prosody follows RFC 6125 1.8 (a CN-ID exists only when the
    /// subject has exactly one CN) and refuses; cscert, like openssl -checkhost, considers every
    /// CN for the legacy fallback, and reports it as weak CommonName coverage next to
    /// SAN-MISSING, so the certificate does not pass anyway.
    ProsodyRefusesSeveralCns,
    /// A SAN holding only a URI-ID: prosody and cscert both ignore the CN (RFC 6125 6.4.4: any
    /// URI-ID in the SAN disables the CN fallback); openssl -checkhost still falls back to the
    /// CN because the SAN has no dNSName.
    OpensslFallsBackToCn,
}

/// What is expected for one (certificate, domain) pair.
struct Row {
    /// prosodyctl: no "Not valid for server-to-server connections" line.
    prosody_s2s: bool,
    /// prosodyctl: no "Not valid for client connections" line.
    prosody_c2s: bool,
    /// Test-CsCertificate: XmppDomains[d].CoveredBy (Covered is `!is_empty()`).
    covered_by: &'static [&'static str],
    /// The XMPP-* finding about d, if any.
    rule: Option<&'static str>,
    /// `openssl x509 -checkhost d` (DNS forms only: None where the certificate relies on SRV-IDs
    /// or XmppAddrs, which openssl does not read).
    checkhost: Option<bool>,
    rel: Rel,
}

const fn row(
    prosody: (bool, bool),
    covered_by: &'static [&'static str],
    rule: Option<&'static str>,
    checkhost: Option<bool>,
    rel: Rel,
) -> Row {
    Row {
        prosody_s2s: prosody.0,
        prosody_c2s: prosody.1,
        covered_by,
        rule,
        checkhost,
        rel,
    }
}

/// One matrix certificate: its subject, its SANs ("DNS:x", "SRV:_svc.x" (SRVName, IA5String),
/// "XMPP:x" (XmppAddr, UTF8String), "URI:x"), every rule id Test-CsCertificate reports for it
/// (compared as a set), and one Row per DOMAINS entry.
struct Case {
    name: &'static str,
    subject: &'static str,
    sans: &'static [&'static str],
    rules: &'static [&'static str],
    rows: [Row; 3],
}

const YES: (bool, bool) = (true, true);
const NO: (bool, bool) = (false, false);
const S2S_ONLY: (bool, bool) = (true, false);
const C2S_ONLY: (bool, bool) = (false, true);
const NONE: &[&str] = &[];
const NOT: Option<&str> = Some("XMPP-NOT-COVERED");
const CHILD: Option<&str> = Some("XMPP-CHILD-DOMAIN");
const WEAK: Option<&str> = Some("XMPP-WEAK-COVERAGE");
use Rel::*;

#[rustfmt::skip]
const CASES: &[Case] = &[
    Case {
        name: "dns-exact", subject: "/CN=contoso.com", sans: &["DNS:contoso.com"],
        rules: &["XMPP-CHILD-DOMAIN", "XMPP-NOT-COVERED"],
        rows: [
            row(YES, &["DnsName"], None, Some(true), Same),
            row(NO, NONE, CHILD, Some(false), Same),
            row(NO, NONE, NOT, Some(false), Same),
        ],
    },
    Case {
        name: "dns-other-domain", subject: "/CN=fabrikam.com", sans: &["DNS:fabrikam.com"],
        rules: &["XMPP-NOT-COVERED"],
        rows: [
            row(NO, NONE, NOT, Some(false), Same),
            row(NO, NONE, NOT, Some(false), Same),
            row(YES, &["DnsName"], None, Some(true), Same),
        ],
    },
    Case {
        name: "dns-upper-case", subject: "/CN=sip.contoso.com",
        sans: &["DNS:sip.contoso.com", "DNS:CONTOSO.COM"],
        rules: &["XMPP-CHILD-DOMAIN", "XMPP-NOT-COVERED"],
        rows: [
            row(YES, &["DnsName"], None, Some(true), Same),
            row(NO, NONE, CHILD, Some(false), Same),
            row(NO, NONE, NOT, Some(false), Same),
        ],
    },
    Case {
        name: "wildcard", subject: "/CN=xmpp.contoso.com",
        sans: &["DNS:xmpp.contoso.com", "DNS:*.contoso.com"],
        rules: &["XMPP-NOT-COVERED"],
        rows: [
            // A wildcard covers exactly one label: not the apex.
            row(NO, NONE, NOT, Some(false), Same),
            row(YES, &["Wildcard"], None, Some(true), Same),
            row(NO, NONE, NOT, Some(false), Same),
        ],
    },
    Case {
        name: "wildcard-public-suffix", subject: "/CN=xmpp.contoso.com",
        sans: &["DNS:xmpp.contoso.com", "DNS:*.com"],
        rules: &["WILDCARD-PUBLIC-SUFFIX", "XMPP-NOT-COVERED"],
        rows: [
            row(YES, NONE, NOT, Some(false), ProsodyAcceptsPublicSuffixWildcard),
            row(NO, NONE, NOT, Some(false), Same),
            row(YES, NONE, NOT, Some(false), ProsodyAcceptsPublicSuffixWildcard),
        ],
    },
    Case {
        name: "srv-xmpp-server", subject: "/CN=contoso.com", sans: &["SRV:_xmpp-server.contoso.com"],
        rules: &["CN-NOT-IN-SAN", "XMPP-WEAK-COVERAGE", "XMPP-CHILD-DOMAIN", "XMPP-NOT-COVERED"],
        rows: [
            // An _xmpp-server SRV-ID is for s2s only: prosody says c2s is not covered.
            row(S2S_ONLY, &["SrvName"], WEAK, None, Same),
            row(NO, NONE, CHILD, None, Same),
            row(NO, NONE, NOT, None, Same),
        ],
    },
    Case {
        name: "srv-xmpp-client", subject: "/CN=contoso.com", sans: &["SRV:_xmpp-client.contoso.com"],
        rules: &["CN-NOT-IN-SAN", "XMPP-CLIENT-SRV-ONLY", "XMPP-NOT-COVERED"],
        rows: [
            // prosody: valid for c2s, not for s2s - exactly what XMPP-CLIENT-SRV-ONLY says.
            row(C2S_ONLY, NONE, Some("XMPP-CLIENT-SRV-ONLY"), None, Same),
            row(NO, NONE, NOT, None, Same),
            row(NO, NONE, NOT, None, Same),
        ],
    },
    Case {
        name: "srv-wildcard", subject: "/CN=contoso.com", sans: &["SRV:_xmpp-server.*.contoso.com"],
        rules: &["CN-NOT-IN-SAN", "SRVNAME-SYNTAX", "XMPP-NOT-COVERED"],
        rows: [
            row(NO, NONE, NOT, None, Same),
            row(S2S_ONLY, NONE, NOT, None, ProsodyAcceptsWildcardSrvId),
            row(NO, NONE, NOT, None, Same),
        ],
    },
    Case {
        name: "xmppaddr-domain", subject: "/CN=contoso.com", sans: &["XMPP:contoso.com"],
        rules: &["CN-NOT-IN-SAN", "XMPP-WEAK-COVERAGE", "XMPP-CHILD-DOMAIN", "XMPP-NOT-COVERED"],
        rows: [
            // prosody honours a bare-domain XmppAddr for both c2s and s2s.
            row(YES, &["XmppAddr"], WEAK, None, Same),
            row(NO, NONE, CHILD, None, Same),
            row(NO, NONE, NOT, None, Same),
        ],
    },
    Case {
        name: "xmppaddr-user-jid", subject: "/CN=contoso.com", sans: &["XMPP:admin@contoso.com"],
        rules: &["CN-NOT-IN-SAN", "XMPPADDR-USER-JID", "XMPP-NOT-COVERED"],
        rows: [
            // A user JID never covers the domain, and (being an XmppAddr) it disables the CN
            // fallback in both prosody and cscert.
            row(NO, NONE, NOT, None, Same),
            row(NO, NONE, NOT, None, Same),
            row(NO, NONE, NOT, None, Same),
        ],
    },
    Case {
        name: "cn-only", subject: "/CN=contoso.com", sans: &[],
        rules: &["SAN-MISSING", "CN-NOT-IN-SAN", "XMPP-WEAK-COVERAGE", "XMPP-CHILD-DOMAIN", "XMPP-NOT-COVERED"],
        rows: [
            // prosody accepts through the legacy CN-ID fallback; cscert agrees on coverage but
            // says how: CoveredBy [CommonName] with an XMPP-WEAK-COVERAGE warning, and the
            // certificate fails on SAN-MISSING (RFC 9525 peers read only SANs).
            row(YES, &["CommonName"], WEAK, Some(true), Same),
            row(NO, NONE, CHILD, Some(false), Same),
            row(NO, NONE, NOT, Some(false), Same),
        ],
    },
    Case {
        name: "cn-and-other-dns", subject: "/CN=contoso.com", sans: &["DNS:sip.contoso.com"],
        rules: &["CN-NOT-IN-SAN", "XMPP-NOT-COVERED"],
        rows: [
            // A DNS-ID present: the CN is ignored by everyone.
            row(NO, NONE, NOT, Some(false), Same),
            row(NO, NONE, NOT, Some(false), Same),
            row(NO, NONE, NOT, Some(false), Same),
        ],
    },
    Case {
        name: "cn-and-uri-only", subject: "/CN=contoso.com", sans: &["URI:xmpp:contoso.com"],
        rules: &["SAN-NO-IDENTITY", "CN-NOT-IN-SAN", "XMPP-NOT-COVERED"],
        rows: [
            row(NO, NONE, NOT, Some(true), OpensslFallsBackToCn),
            row(NO, NONE, NOT, Some(false), Same),
            row(NO, NONE, NOT, Some(false), Same),
        ],
    },
    Case {
        name: "several-cns", subject: "/CN=contoso.com/CN=fabrikam.com", sans: &[],
        rules: &["SAN-MISSING", "CN-NOT-IN-SAN", "XMPP-WEAK-COVERAGE", "XMPP-CHILD-DOMAIN"],
        rows: [
            row(NO, &["CommonName"], WEAK, Some(true), ProsodyRefusesSeveralCns),
            row(NO, NONE, CHILD, Some(false), Same),
            row(NO, &["CommonName"], WEAK, Some(true), ProsodyRefusesSeveralCns),
        ],
    },
    Case {
        name: "mixed-forms", subject: "/CN=contoso.com",
        sans: &["DNS:contoso.com", "SRV:_xmpp-server.corp.contoso.com", "XMPP:fabrikam.com"],
        rules: &["XMPP-WEAK-COVERAGE"],
        rows: [
            row(YES, &["DnsName"], None, Some(true), Same),
            row(S2S_ONLY, &["SrvName"], WEAK, None, Same),
            row(YES, &["XmppAddr"], WEAK, None, Same),
        ],
    },
];

/// The openssl request config of a matrix case: SANs as written by the recipe in
/// docs/reference/certificates.md, "Writing XMPP identities with openssl"
/// (`otherName.N = 1.3.6.1.5.5.7.8.5;UTF8:...`, `...8.7;IA5STRING:...`), server and client EKU.
fn request_config(case: &Case) -> String {
    let mut s = String::from(
        "[req]\ndistinguished_name = dn\nreq_extensions = ext\n[dn]\n\
         [ext]\nbasicConstraints = CA:FALSE\n\
         keyUsage = critical, digitalSignature, keyEncipherment\n\
         extendedKeyUsage = serverAuth, clientAuth\n",
    );
    if case.sans.is_empty() {
        return s;
    }
    s.push_str("subjectAltName = @san\n[san]\n");
    let (mut dns, mut other, mut uri) = (0, 0, 0);
    for san in case.sans {
        let (kind, value) = san.split_once(':').unwrap();
        match kind {
            "DNS" => {
                dns += 1;
                s.push_str(&format!("DNS.{dns} = {value}\n"));
            }
            "SRV" => {
                other += 1;
                s.push_str(&format!(
                    "otherName.{other} = 1.3.6.1.5.5.7.8.7;IA5STRING:{value}\n"
                ));
            }
            "XMPP" => {
                other += 1;
                s.push_str(&format!(
                    "otherName.{other} = 1.3.6.1.5.5.7.8.5;UTF8:{value}\n"
                ));
            }
            "URI" => {
                uri += 1;
                s.push_str(&format!("URI.{uri} = {value}\n"));
            }
            _ => panic!("unknown SAN form {san}"),
        }
    }
    s
}

/// Makes `<name>.csr` (openssl req with the case's config) and `<name>.crt` (signed by the test
/// CA, extensions copied from the request, valid 60 days so prosody has nothing to say about
/// expiry). Returns (csr, crt).
fn make_case(lab: &Lab, ca: &TestCa, key: &str, case: &Case) -> (String, String) {
    let cnf = lab.write(&format!("{}.cnf", case.name), &request_config(case));
    let csr = lab.p(&format!("{}.csr", case.name));
    let crt = lab.p(&format!("{}.crt", case.name));
    lab.openssl(&[
        "req",
        "-new",
        "-key",
        key,
        "-subj",
        case.subject,
        "-config",
        &cnf,
        "-out",
        &csr,
    ]);
    lab.openssl(&[
        "x509",
        "-req",
        "-in",
        &csr,
        "-CA",
        &ca.cert_s(),
        "-CAkey",
        &ca.key_s(),
        "-CAcreateserial",
        "-days",
        "60",
        "-copy_extensions",
        "copy",
        "-out",
        &crt,
    ]);
    (csr, crt)
}

/// `prosodyctl check certs` against Test-CsCertificate (and `openssl x509 -checkhost` for DNS
/// forms) on 15 certificates that differ in SAN forms, for three XMPP domains each. Where the
/// verdicts differ by design, the row names the documented relationship (see `Rel`) and the
/// test asserts exactly that relationship.
#[test]
fn prosodyctl_check_certs_agrees_with_cscert_per_san_form() {
    if !peers_present("prosodyctl_check_certs_agrees_with_cscert") {
        return;
    }
    assert!(CASES.len() >= 10);
    let lab = Lab::new();
    let ca = lab.make_ca();
    let key = lab.p("leaf.key");
    lab.openssl(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        &key,
    ]);
    let domains = DOMAINS.join(",");

    let mut failures: Vec<String> = Vec::new();
    let mut table: Vec<String> = Vec::new();
    let mut compared = 0;
    for case in CASES {
        let (csr, crt) = make_case(&lab, &ca, &key, case);
        let hosts: Vec<Host> = DOMAINS
            .iter()
            .map(|d| Host {
                name: d,
                cert: &crt,
                key: &key,
            })
            .collect();
        let cfg = write_prosody_config(
            &lab,
            &format!("prosody-{}", case.name),
            free_port(),
            &hosts,
            "",
        );
        let (prosody, pout) = prosodyctl_check_certs(&lab, &cfg);
        assert_eq!(
            prosody.keys().map(String::as_str).collect::<Vec<_>>(),
            {
                let mut d = DOMAINS.to_vec();
                d.sort();
                d
            },
            "{}: prosodyctl checked every host:\n{}",
            case.name,
            pout.both()
        );

        let (_, cert_result) = lab.test_cert(&crt, &["-XmppDomain", &domains]);
        let (_, req_result) = lab.test_cert(&csr, &["-XmppDomain", &domains]);
        assert_eq!(cert_result.kind, "Certificate");
        assert_eq!(req_result.kind, "Request");
        // The request and the certificate made from it carry the same identities.
        assert_eq!(
            req_result.xmpp_domains, cert_result.xmpp_domains,
            "{}: request vs certificate",
            case.name
        );
        let mut rules: Vec<&str> = cert_result.rule_ids();
        rules.sort_unstable();
        rules.dedup();
        let mut want_rules = case.rules.to_vec();
        want_rules.sort_unstable();
        if rules != want_rules {
            failures.push(format!(
                "{}: rules {rules:?}, expected {:?}",
                case.name, case.rules
            ));
        }
        let errors = cert_result.findings.iter().any(|f| f.severity == "Error");
        assert_eq!(cert_result.passed, !errors, "{}", case.name);

        for (d, want) in DOMAINS.iter().zip(&case.rows) {
            compared += 1;
            let p = &prosody[*d];
            assert_eq!(p.certificate, crt);
            let cov = cert_result.xmpp(d);
            let xf = cert_result.xmpp_findings(d);
            let rule = xf.first().map(|(r, _)| *r);
            let checkhost = want.checkhost.map(|_| lab.checkhost(&crt, d));
            let mut bad = |what: &str, got: String, exp: String| {
                failures.push(format!(
                    "{} / {d}: {what} = {got}, expected {exp}",
                    case.name
                ))
            };
            if p.s2s_ok != want.prosody_s2s {
                bad(
                    "prosody s2s",
                    p.s2s_ok.to_string(),
                    want.prosody_s2s.to_string(),
                );
            }
            if p.c2s_ok != want.prosody_c2s {
                bad(
                    "prosody c2s",
                    p.c2s_ok.to_string(),
                    want.prosody_c2s.to_string(),
                );
            }
            if cov.covered_by != want.covered_by {
                bad(
                    "CoveredBy",
                    format!("{:?}", cov.covered_by),
                    format!("{:?}", want.covered_by),
                );
            }
            if cov.covered == want.covered_by.is_empty() {
                bad(
                    "Covered",
                    cov.covered.to_string(),
                    (!want.covered_by.is_empty()).to_string(),
                );
            }
            if xf.len() > 1 || rule != want.rule {
                bad(
                    "XMPP finding",
                    format!("{xf:?}"),
                    format!("{:?}", want.rule),
                );
            }
            if let Some((r, sev)) = xf.first() {
                let exp = if *r == "XMPP-WEAK-COVERAGE" {
                    "Warning"
                } else {
                    "Error"
                };
                if *sev != exp {
                    bad(&format!("{r} severity"), sev.to_string(), exp.into());
                }
            }
            if checkhost != want.checkhost {
                bad(
                    "openssl -checkhost",
                    format!("{checkhost:?}"),
                    format!("{:?}", want.checkhost),
                );
            }
            // The relationship, from the observed values.
            let agrees = p.s2s_ok == cov.covered;
            let rel_holds = match want.rel {
                Same => agrees && checkhost.is_none_or(|c| c == cov.covered),
                ProsodyAcceptsPublicSuffixWildcard => {
                    p.s2s_ok
                        && !cov.covered
                        && checkhost == Some(false)
                        && rules.contains(&"WILDCARD-PUBLIC-SUFFIX")
                }
                ProsodyAcceptsWildcardSrvId => {
                    p.s2s_ok && !cov.covered && rules.contains(&"SRVNAME-SYNTAX")
                }
                ProsodyRefusesSeveralCns => {
                    !p.s2s_ok
                        && p.log
                            .iter()
                            .any(|l| l.contains("Certificate has multiple common names"))
                        && cov.covered_by == ["CommonName"]
                        && checkhost == Some(true)
                        && !cert_result.passed
                }
                OpensslFallsBackToCn => agrees && !cov.covered && checkhost == Some(true),
            };
            if !rel_holds {
                bad("relationship", "broken".into(), format!("{:?}", want.rel));
            }
            table.push(format!(
                "| {} | {d} | s2s {} c2s {} | {} {:?} {} | {} | {:?} |",
                case.name,
                p.s2s_ok,
                p.c2s_ok,
                cov.covered,
                cov.covered_by,
                rule.unwrap_or("-"),
                checkhost.map_or("-".to_string(), |c| c.to_string()),
                want.rel
            ));
        }
    }
    println!("| certificate | domain | prosodyctl | cscert Covered / CoveredBy / finding | openssl -checkhost | relation |");
    println!("|---|---|---|---|---|---|");
    for t in &table {
        println!("{t}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(compared, CASES.len() * DOMAINS.len());
    let same = CASES
        .iter()
        .flat_map(|c| &c.rows)
        .filter(|r| r.rel == Same)
        .count();
    assert_eq!(
        same,
        compared - 6,
        "six documented differences, all others agree"
    );
}

/// Requests (PKCS#10 made by openssl) and certificates with SRVName and XmppAddr otherNames,
/// written with the recipe of docs/reference/certificates.md, "Writing XMPP identities with
/// openssl": Test-CsCertificate reads both forms from both kinds
/// of file, reports CoveredBy SrvName / XmppAddr, and refuses ill-typed ones (an XmppAddr as
/// IA5String, an SRVName as UTF8String) as a strict peer would. gnutls certtool, when
/// installed, confirms what openssl wrote.
#[test]
fn requests_and_certificates_with_srvname_and_xmppaddr() {
    if !peers_present("requests_and_certificates_with_srvname_and_xmppaddr") {
        return;
    }
    let lab = Lab::new();
    let ca = lab.make_ca();
    let key = lab.p("leaf.key");
    lab.openssl(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        &key,
    ]);

    let both = Case {
        name: "both-forms",
        subject: "/CN=sip.contoso.com",
        sans: &[
            "DNS:sip.contoso.com",
            "XMPP:contoso.com",
            "SRV:_xmpp-server.contoso.com",
            "SRV:_xmpp-server.corp.contoso.com",
            "XMPP:fabrikam.com",
        ],
        // Only the prosody columns of the rows are used here.
        rules: &[],
        rows: [
            row(YES, NONE, None, None, Same),
            row(S2S_ONLY, NONE, None, None, Same),
            row(YES, NONE, None, None, Same),
        ],
    };
    let (csr, crt) = make_case(&lab, &ca, &key, &both);
    let text = lab.openssl(&["req", "-in", &csr, "-noout", "-text"]);
    assert!(
        text.contains(
            "DNS:sip.contoso.com, othername: XmppAddr::contoso.com, \
             othername: SRVName::_xmpp-server.contoso.com, \
             othername: SRVName::_xmpp-server.corp.contoso.com, \
             othername: XmppAddr::fabrikam.com"
        ),
        "{text}"
    );
    if have("certtool") {
        let mut c = std::process::Command::new("certtool");
        c.args(["--crq-info", "--infile", &csr]);
        let o = c.output().expect("certtool runs");
        let info = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "{info}");
        assert!(info.contains("XMPP Address: contoso.com"), "{info}");
        assert!(info.contains("XMPP Address: fabrikam.com"), "{info}");
    }

    let expect = vec![
        Coverage {
            domain: C.into(),
            covered: true,
            covered_by: vec!["SrvName".into(), "XmppAddr".into()],
        },
        Coverage {
            domain: K.into(),
            covered: true,
            covered_by: vec!["SrvName".into()],
        },
        Coverage {
            domain: F.into(),
            covered: true,
            covered_by: vec!["XmppAddr".into()],
        },
        Coverage {
            domain: "sip.contoso.com".into(),
            covered: true,
            covered_by: vec!["DnsName".into()],
        },
    ];
    // prosody reads the same otherNames: s2s valid for all three domains, c2s not for the one
    // named only by an _xmpp-server SRV-ID.
    let hosts: Vec<Host> = DOMAINS
        .iter()
        .map(|d| Host {
            name: d,
            cert: &crt,
            key: &key,
        })
        .collect();
    let cfg = write_prosody_config(&lab, "prosody-both", free_port(), &hosts, "");
    let (prosody, out) = prosodyctl_check_certs(&lab, &cfg);
    for (d, want) in DOMAINS.iter().zip(&both.rows) {
        let p = &prosody[*d];
        assert_eq!(
            (p.s2s_ok, p.c2s_ok),
            (want.prosody_s2s, want.prosody_c2s),
            "{d}:\n{}",
            out.both()
        );
    }

    let domains = "contoso.com,corp.contoso.com,fabrikam.com,sip.contoso.com";
    for (file, kind) in [(&csr, "Request"), (&crt, "Certificate")] {
        let (code, r) = lab.test_cert(file, &["-XmppDomain", domains]);
        assert_eq!(code, 0, "{r:#?}");
        assert!(r.passed);
        assert_eq!(r.kind, kind);
        assert_eq!(r.subject, "CN=sip.contoso.com");
        assert_eq!(r.alternative_names, ["sip.contoso.com"]);
        assert_eq!(r.thumbprint.is_some(), kind == "Certificate");
        assert_eq!(r.not_after.is_some(), kind == "Certificate");
        assert_eq!(r.xmpp_domains, expect, "{kind}");
        // Three weak coverages (SRV-ID / XmppAddr only), nothing else.
        assert_eq!(
            r.rule_ids(),
            [
                "XMPP-WEAK-COVERAGE",
                "XMPP-WEAK-COVERAGE",
                "XMPP-WEAK-COVERAGE"
            ],
            "{kind}"
        );
        let weak: Vec<&[String]> = r.findings.iter().map(|f| f.names.as_slice()).collect();
        assert_eq!(weak, [[C], [K], [F]]);
        assert!(r.findings[0]
            .message
            .contains("an SRV-ID (_xmpp-server) and an XmppAddr"));
    }

    // Ill-typed otherNames: parsed (and reported) but they cover nothing.
    let ill = lab.write(
        "ill.cnf",
        "[req]\ndistinguished_name = dn\nreq_extensions = ext\n[dn]\n[ext]\n\
         extendedKeyUsage = serverAuth, clientAuth\n\
         keyUsage = critical, digitalSignature, keyEncipherment\n\
         subjectAltName = @san\n[san]\nDNS.1 = sip.contoso.com\n\
         otherName.1 = 1.3.6.1.5.5.7.8.5;IA5STRING:contoso.com\n\
         otherName.2 = 1.3.6.1.5.5.7.8.7;UTF8:_xmpp-server.corp.contoso.com\n",
    );
    let ill_csr = lab.p("ill.csr");
    lab.openssl(&[
        "req",
        "-new",
        "-key",
        &key,
        "-subj",
        "/CN=sip.contoso.com",
        "-config",
        &ill,
        "-out",
        &ill_csr,
    ]);
    let (code, r) = lab.test_cert(&ill_csr, &["-XmppDomain", "contoso.com,corp.contoso.com"]);
    assert_eq!(code, 3);
    assert_eq!(r.kind, "Request");
    assert_eq!(
        r.xmpp_domains,
        vec![
            Coverage {
                domain: C.into(),
                covered: false,
                covered_by: vec![],
            },
            Coverage {
                domain: K.into(),
                covered: false,
                covered_by: vec![],
            },
        ]
    );
    assert_eq!(
        r.rule_ids(),
        [
            "XMPPADDR-TYPE",
            "SRVNAME-TYPE",
            "XMPP-NOT-COVERED",
            "XMPP-NOT-COVERED"
        ]
    );
    assert_eq!(r.finding("XMPPADDR-TYPE").names, ["contoso.com"]);
    assert_eq!(
        r.finding("SRVNAME-TYPE").names,
        ["_xmpp-server.corp.contoso.com"]
    );
}
