//! Test-CsCertificate and the checks Request-CsCertificate runs, through the built binary.

mod support;

use std::path::Path;
use support::{rule_ids, Run, Sandbox, TestCa};

/// A CA (`ca.pem`, one per folder) and a leaf for sip.contoso.com with the given DNS SANs (EC
/// P-256, rcgen); returns the leaf's file name.
fn leaf(dir: &Path, name: &str, dns: &[&str]) -> String {
    let ca = TestCa::open_or_create(dir, "ca.pem", &[("CN", "Test CA")], 3650);
    ca.leaf(dir, name, "sip.contoso.com", dns, 365);
    format!("{name}.cer")
}

fn results(o: &Run) -> Vec<serde_json::Value> {
    o.stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

#[test]
fn request_with_error_findings_is_refused_unless_forced() {
    let sb = Sandbox::new();
    let args = [
        "Request-CsCertificate",
        "-New",
        "-Type",
        "AccessEdgeExternal",
        "-ComputerFqdn",
        "sip.contoso.com",
        "-DomainName",
        "f*.contoso.com",
        "-PrivateKeyExportable",
        "True",
        "-KeyAlg",
        "ECDH_P256",
        "-Output",
        "bad.req",
    ];
    let o = sb.run(&args);
    o.assert_code(3);
    let e = o.error();
    assert_eq!(
        e.fully_qualified_error_id,
        "RequestFailsValidation,Request-CsCertificate"
    );
    assert!(e.message.contains("WILDCARD-MALFORMED"), "{}", e.message);
    assert!(!sb.work().join("bad.req").exists());
    assert_eq!(sb.run(&["Request-CsCertificate", "-List"]).stdout, "");

    let mut forced = args.to_vec();
    forced.push("-Force");
    let o = sb.run(&forced);
    o.assert_code(0);
    assert!(
        o.stderr.contains("WILDCARD-MALFORMED") && o.stderr.contains("-Force"),
        "{}",
        o.stderr
    );
    assert!(sb.work().join("bad.req").exists());
}

#[test]
fn store_backed_checks_report_a_non_exportable_edge_key() {
    let sb = Sandbox::new();
    let o = sb.run(&[
        "Request-CsCertificate",
        "-New",
        "-Type",
        "AccessEdgeExternal",
        "-ComputerFqdn",
        "sip.contoso.com",
        "-KeyAlg",
        "ECDH_P256",
        "-Output",
        "e.req",
    ]);
    o.assert_code(0);
    assert!(
        o.stderr
            .contains("WARNING: The private key will not be exportable"),
        "{}",
        o.stderr
    );
    let o = sb.run(&["Test-CsCertificate", "-RequestId", "1"]);
    o.assert_code(3);
    let r = &results(&o)[0];
    assert_eq!(r["Kind"], "Request");
    assert_eq!(r["Passed"], false);
    assert!(
        rule_ids(r).contains(&"KEY-NOT-EXPORTABLE".to_string()),
        "{r}"
    );
    // The same request file, without the store's knowledge of the key, passes.
    let o = sb.run(&[
        "Test-CsCertificate",
        "-Path",
        "e.req",
        "-Type",
        "AccessEdgeExternal",
    ]);
    o.assert_code(0);
    assert_eq!(results(&o)[0]["Passed"], true);
}

#[test]
fn topology_supplies_the_expected_xmpp_and_sip_domains() {
    let sb = Sandbox::new();
    let dir = sb.work();
    let full = leaf(&dir, "full", &["sip.contoso.com", "contoso.com"]);
    let short = leaf(&dir, "short", &["sip.contoso.com"]);
    let topo = format!(
        "{}/tests/fixtures/topology/single-edge.published.xml",
        env!("CARGO_MANIFEST_DIR")
    );
    sb.run(&["Publish-CsTopology", "-FileName", &topo])
        .assert_code(0);
    let mut c = sb.cmd(&[
        "Test-CsCertificate",
        "-Path",
        &format!("{full},{short}"),
        "-Type",
        "AccessEdgeExternal,XmppServer",
        "-Verbose",
    ]);
    c.env("CSCERT_COMPUTERFQDN", "Edge.contoso.com");
    let o = Run::from(c.output().unwrap());
    o.assert_code(3);
    assert!(
        o.stderr.contains("XMPP domains [contoso.com]"),
        "{}",
        o.stderr
    );
    let rs = results(&o);
    assert_eq!(rs.len(), 2);
    assert_eq!(rs[0]["Passed"], true, "{}", rs[0]);
    assert_eq!(
        rs[0]["XmppDomains"],
        serde_json::json!([{"Domain": "contoso.com", "Covered": true, "CoveredBy": ["DnsName"]}])
    );
    assert_eq!(rs[0]["SipDomains"][0]["Covered"], true);
    assert_eq!(rs[1]["Passed"], false);
    assert!(
        rule_ids(&rs[1]).contains(&"XMPP-NOT-COVERED".to_string()),
        "{}",
        rs[1]
    );
    // -XmppDomain adds to the topology's domains.
    let mut c = sb.cmd(&[
        "Test-CsCertificate",
        "-Path",
        &full,
        "-Type",
        "AccessEdgeExternal",
        "-XmppDomain",
        "corp.contoso.com",
    ]);
    c.env("CSCERT_COMPUTERFQDN", "Edge.contoso.com");
    let o = Run::from(c.output().unwrap());
    o.assert_code(3);
    let r = &results(&o)[0];
    let domains: Vec<&str> = r["XmppDomains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["Domain"].as_str().unwrap())
        .collect();
    assert_eq!(domains, ["contoso.com", "corp.contoso.com"]);
    assert!(rule_ids(r).contains(&"XMPP-CHILD-DOMAIN".to_string()));
}

#[test]
fn folders_are_searched_in_order_and_bad_files_are_errors() {
    let sb = Sandbox::new();
    let dir = sb.work().join("certs");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    leaf(&dir, "b", &["sip.contoso.com", "contoso.com"]);
    leaf(&dir.join("sub"), "a", &["sip.contoso.com"]);
    std::fs::write(
        dir.join("notes.txt"),
        "not a certificate, and not looked at",
    )
    .unwrap();
    let o = sb.run(&[
        "Test-CsCertificate",
        "-Path",
        "certs",
        "-XmppDomain",
        "contoso.com",
    ]);
    o.assert_code(3);
    let rs = results(&o);
    let paths: Vec<String> = rs
        .iter()
        .map(|r| {
            r["Path"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    // Sorted by full path; each ca.pem is judged too (it is a certificate), and a CA
    // certificate is not an end-entity one.
    assert_eq!(paths, ["b.cer", "ca.pem", "a.cer", "ca.pem"]);
    assert_eq!(rs[0]["Passed"], true);
    assert!(
        rule_ids(&rs[1]).contains(&"BASIC-CONSTRAINTS-CA".to_string()),
        "{}",
        rs[1]
    );
    assert!(rule_ids(&rs[2]).contains(&"XMPP-NOT-COVERED".to_string()));
    assert!(rule_ids(&rs[3]).contains(&"BASIC-CONSTRAINTS-CA".to_string()));

    std::fs::write(
        dir.join("garbage.pem"),
        "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let o = sb.run(&["Test-CsCertificate", "-Path", "certs/garbage.pem"]);
    o.assert_code(1);
    assert_eq!(
        o.error().fully_qualified_error_id,
        "NotACertificateOrRequest,Test-CsCertificate"
    );
    let o = sb.run(&["Test-CsCertificate", "-Path", "certs/missing.cer"]);
    o.assert_code(1);
    assert_eq!(
        o.error().fully_qualified_error_id,
        "PathNotFound,Test-CsCertificate"
    );
}

#[test]
fn verification_time_decides_expiry() {
    let sb = Sandbox::new();
    let f = leaf(&sb.work(), "t", &["sip.contoso.com"]);
    sb.run(&["Test-CsCertificate", "-Path", &f]).assert_code(0);
    let o = sb.run(&[
        "Test-CsCertificate",
        "-Path",
        &f,
        "-VerificationTime",
        "2100-01-01T00:00:00Z",
    ]);
    o.assert_code(3);
    // The leaf comes without its CA: its signature is said to be unchecked (a warning).
    assert_eq!(rule_ids(&results(&o)[0]), ["EXPIRED", "ISSUER-UNKNOWN"]);
    let o = sb.run(&[
        "Test-CsCertificate",
        "-Path",
        &f,
        "-VerificationTime",
        "1/1/2001",
    ]);
    o.assert_code(3);
    assert_eq!(
        rule_ids(&results(&o)[0]),
        ["NOT-YET-VALID", "ISSUER-UNKNOWN"]
    );
}
