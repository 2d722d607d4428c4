//! Names from the topology, through the built binary: Publish-CsTopology, Get-CsTopology, and
//! the subject/SANs Request-CsCertificate computes, checked in the written request with openssl.

mod support;

use std::path::{Path, PathBuf};
use support::{Run, Sandbox};

fn own(name: &str) -> String {
    format!(
        "{}/tests/fixtures/topology/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// Runs cscert acting as `computer` (CSCERT_COMPUTERFQDN).
fn run_as(sb: &Sandbox, computer: &str, args: &[&str]) -> Run {
    let mut c = sb.cmd(args);
    c.env("CSCERT_COMPUTERFQDN", computer);
    Run::from(c.output().expect("cscert runs"))
}

/// Publishes without a prompt: replacing a published topology asks unless -Force (issue 10).
fn publish(sb: &Sandbox, file: &str) -> Run {
    sb.run(&["Publish-CsTopology", "-FileName", file, "-Force"])
}

/// Subject CN and DNS SANs of a request, as openssl reads them (after checking its signature).
fn openssl_names(path: &Path) -> (String, Vec<String>) {
    let out = std::process::Command::new("openssl")
        .args(["req", "-verify", "-noout", "-text", "-in"])
        .arg(path)
        .output()
        .expect("openssl runs");
    assert!(out.status.success(), "openssl req -verify failed: {out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("verify OK") || text.contains("verify OK"),
        "{err}{text}"
    );
    let subject = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Subject: "))
        .expect("a subject")
        .to_string();
    let cn = subject.rsplit("CN = ").next().unwrap().to_string();
    let sans = text
        .lines()
        .find(|l| l.contains("DNS:"))
        .map(|l| {
            l.trim()
                .split(", ")
                .map(|d| d.trim_start_matches("DNS:").to_string())
                .collect()
        })
        .unwrap_or_default();
    (cn, sans)
}

fn request_names(sb: &Sandbox, computer: &str, args: &[&str], file: &str) -> (String, Vec<String>) {
    let mut v = vec!["Request-CsCertificate"];
    v.extend_from_slice(args);
    v.extend(["-Output", file]);
    let o = run_as(sb, computer, &v);
    o.assert_code(0);
    let path: PathBuf = sb.work().join(file);
    let names = openssl_names(&path);
    // The object on stdout says the same as the file.
    let obj: serde_json::Value = serde_json::from_str(o.stdout.trim()).unwrap();
    assert_eq!(obj["Subject"], serde_json::json!(format!("CN={}", names.0)));
    assert_eq!(obj["AlternativeNames"], serde_json::json!(names.1));
    names
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn single_edge_names_for_every_use() {
    let sb = Sandbox::new();
    publish(&sb, &own("single-edge.published.xml")).assert_code(0);

    let (cn, sans) = request_names(
        &sb,
        "Edge.contoso.com",
        &[
            "-New",
            "-Type",
            "AccessEdgeExternal,DataEdgeExternal,AudioVideoAuthentication,XmppServer",
        ],
        "edge.req",
    );
    assert_eq!(cn, "sip.contoso.com");
    // contoso.com is there because XMPP federation is enabled: the XMPP root domain.
    assert_eq!(sans, strs(&["sip.contoso.com", "contoso.com"]));

    let (cn, sans) = request_names(
        &sb,
        "Edge.contoso.com",
        &["-New", "-Type", "Internal"],
        "int.req",
    );
    assert_eq!(cn, "Edge.contoso.com");
    assert_eq!(sans, strs(&["Edge.contoso.com"]));

    let o = run_as(
        &sb,
        "Edge.contoso.com",
        &[
            "Request-CsCertificate",
            "-New",
            "-Type",
            "Default",
            "-Output",
            "d.req",
        ],
    );
    o.assert_code(1);
    let e = o.error();
    assert_eq!(
        e.fully_qualified_error_id,
        "CertificateNotNeeded,Request-CsCertificate"
    );
    assert_eq!(e.category, "InvalidOperation");
    assert_eq!(e.message, "The computer does not need a certificate of type \"Default\": Edge.contoso.com is an Edge Server.");
    assert!(!sb.work().join("d.req").exists());

    let (cn, sans) = request_names(
        &sb,
        "skypefe.contoso.com",
        &[
            "-New",
            "-Type",
            "Default,WebServicesInternal,WebServicesExternal",
        ],
        "fe.req",
    );
    assert_eq!(cn, "skypefe.contoso.com");
    assert_eq!(
        sans,
        strs(&[
            "skypefe.contoso.com",
            "sip.contoso.com",
            "lyncdiscoverinternal.contoso.com",
            "lyncdiscover.contoso.com"
        ])
    );
}

#[test]
fn computer_fqdn_parameter_beats_the_environment_and_verbose_says_where_names_come_from() {
    let sb = Sandbox::new();
    publish(&sb, &own("single-edge.published.xml")).assert_code(0);
    let o = run_as(
        &sb,
        "skypefe.contoso.com",
        &[
            "Request-CsCertificate",
            "-New",
            "-Type",
            "Internal",
            "-ComputerFqdn",
            "edge",
            "-KeyAlg",
            "ECDH_P256",
            "-Output",
            "i.req",
            "-Verbose",
        ],
    );
    o.assert_code(0);
    assert!(
        o.stderr.contains(
            "VERBOSE:   subject Edge.contoso.com: Edge pool internal FQDN (Cluster Fqdn)"
        ),
        "{}",
        o.stderr
    );
    // -ComputerFqdn with nothing after it ($null) means this computer.
    let o = run_as(
        &sb,
        "Edge.contoso.com",
        &[
            "Request-CsCertificate",
            "-New",
            "-Type",
            "Internal",
            "-KeyAlg",
            "ECDH_P256",
            "-Output",
            "j.req",
            "-ComputerFqdn",
        ],
    );
    o.assert_code(0);
    assert_eq!(
        openssl_names(&sb.work().join("j.req")).0,
        "Edge.contoso.com"
    );
}

#[test]
fn get_topology_summary_and_xml_round_trip() {
    let sb = Sandbox::new();
    let o = sb.run(&["Get-CsTopology"]);
    o.assert_code(1);
    assert_eq!(
        o.error().fully_qualified_error_id,
        "NoTopologyPublished,Get-CsTopology"
    );
    let file = own("single-edge.published.xml");
    publish(&sb, &file).assert_code(0);
    let o = sb.run(&["Get-CsTopology", "-AsXml"]);
    o.assert_code(0);
    assert_eq!(
        o.stdout.trim_end(),
        std::fs::read_to_string(&file).unwrap().trim_end()
    );
    let o = sb.run(&["Get-CsTopology"]);
    o.assert_code(0);
    let s: serde_json::Value = serde_json::from_str(o.stdout.trim()).unwrap();
    assert_eq!(s["DefaultSipDomain"], "contoso.com");
    assert_eq!(s["XmppFederationEnabled"], true);
    assert_eq!(s["EdgeExternalFqdns"][0]["AccessEdge"], "sip.contoso.com");
    let roles: Vec<&str> = s["Pools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["Role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["FrontEnd", "Edge", "PstnGateway"]);
}

/// Every documented Request-CsCertificate example (docs/reference/cmdlets.md, "Documented
/// examples"), with -Output in place of the AD CS -CA, under the litwareinc Topology Builder document.
#[test]
fn documented_examples_under_litwareinc() {
    let sb = Sandbox::new();
    publish(&sb, &own("litwareinc.tbxml")).assert_code(0);
    let cs = "atl-cs-001.litwareinc.com";
    let fe_names = [
        "atl-cs-001.litwareinc.com",
        "sip.litwareinc.com",
        "dialin.litwareinc.com",
        "meet.litwareinc.com",
        "admin.litwareinc.com",
        "lyncdiscoverinternal.litwareinc.com",
        "atl-ext.litwareinc.com",
        "lyncdiscover.litwareinc.com",
    ];

    // Request-CsCertificate -New -Type WebServicesExternal -Output C:\Certificates\WebServicesExternal.cer
    let (cn, sans) = request_names(
        &sb,
        cs,
        &["-New", "-Type", "WebServicesExternal"],
        "WebServicesExternal.cer",
    );
    assert_eq!(cn, cs);
    assert_eq!(
        sans,
        strs(&[
            "atl-cs-001.litwareinc.com",
            "atl-ext.litwareinc.com",
            "dialin.litwareinc.com",
            "meet.litwareinc.com",
            "admin.litwareinc.com",
            "lyncdiscover.litwareinc.com"
        ])
    );

    // ... -Type Default,WebServicesInternal,WebServicesExternal -ComputerFqdn "atl-cs-001.litwareinc.com" -FriendlyName "Standard Edition Certificate" -Template jcila -PrivateKeyExportable $True -DomainName "atl-cs-001.litwareinc.com,atl-ext.litwareinc.com"
    let (cn, sans) = request_names(
        &sb,
        "somewhere-else.litwareinc.com",
        &[
            "-New",
            "-Type",
            "Default,WebServicesInternal,WebServicesExternal",
            "-ComputerFqdn",
            "atl-cs-001.litwareinc.com",
            "-FriendlyName",
            "Standard Edition Certificate",
            "-Template",
            "jcila",
            "-PrivateKeyExportable",
            "True",
            "-DomainName",
            "atl-cs-001.litwareinc.com,atl-ext.litwareinc.com",
        ],
        "se.req",
    );
    assert_eq!(cn, cs);
    assert_eq!(sans, strs(&fe_names));

    // ... -FriendlyName "Enterprise Edition Pool Certificate" ... -DomainName "pool1.litwareinc.com,pool1int.litwareinc.com,pool1ext.litwareinc.com"
    let (_, sans) = request_names(
        &sb,
        cs,
        &[
            "-New",
            "-Type",
            "Default,WebServicesInternal,WebServicesExternal",
            "-ComputerFqdn",
            "atl-cs-001.litwareinc.com",
            "-FriendlyName",
            "Enterprise Edition Pool Certificate",
            "-Template",
            "jcila",
            "-PrivateKeyExportable",
            "True",
            "-DomainName",
            "pool1.litwareinc.com,pool1int.litwareinc.com,pool1ext.litwareinc.com",
        ],
        "ee.req",
    );
    let mut want = strs(&fe_names);
    want.extend(strs(&[
        "pool1.litwareinc.com",
        "pool1int.litwareinc.com",
        "pool1ext.litwareinc.com",
    ]));
    assert_eq!(sans, want);

    // ... -Type Internal -ComputerFqdn "atl-edge-001" ... -DomainName "atl-edge-001.litwareinc.com, ap.litwareinc.com"
    let (cn, sans) = request_names(
        &sb,
        cs,
        &[
            "-New",
            "-Type",
            "Internal",
            "-ComputerFqdn",
            "atl-edge-001",
            "-FriendlyName",
            "Internal Edge Certificate",
            "-Template",
            "jcila",
            "-PrivateKeyExportable",
            "True",
            "-DomainName",
            "atl-edge-001.litwareinc.com, ap.litwareinc.com",
        ],
        "edge-int.req",
    );
    assert_eq!(cn, "atl-edge-pool.litwareinc.com");
    assert_eq!(
        sans,
        strs(&[
            "atl-edge-pool.litwareinc.com",
            "atl-edge-001.litwareinc.com",
            "ap.litwareinc.com"
        ])
    );

    // ... -Type AccessEdgeExternal,DataEdgeExternal,AudioVideoAuthentication -ComputerFqdn "atl-edge-001" ... -DomainName "atl-edge-001.litwareinc.com,ap.litwareinc.com,dp.litwareinc.com,atl-edge-001"
    let (cn, sans) = request_names(
        &sb,
        cs,
        &[
            "-New",
            "-Type",
            "AccessEdgeExternal,DataEdgeExternal,AudioVideoAuthentication",
            "-ComputerFqdn",
            "atl-edge-001",
            "-FriendlyName",
            "External Edge Certificate",
            "-Template",
            "jcila",
            "-PrivateKeyExportable",
            "True",
            "-DomainName",
            "atl-edge-001.litwareinc.com,ap.litwareinc.com,dp.litwareinc.com,atl-edge-001",
        ],
        "edge-ext.req",
    );
    assert_eq!(cn, "ap.litwareinc.com");
    // Issue 11 item 6: Web Conferencing Edge FQDN first, then the Access Edge FQDN.
    assert_eq!(
        sans,
        strs(&[
            "dp.litwareinc.com",
            "ap.litwareinc.com",
            "sip.litwareinc.com",
            "litwareinc.com",
            "atl-edge-001.litwareinc.com",
            "atl-edge-001"
        ])
    );
    assert!(
        !sans.iter().any(|s| s.starts_with("av.")),
        "the A/V Edge FQDN is never in the certificate"
    );

    // ... -Type Default,WebServicesInternal,WebServicesExternal -Ca dc\myca -AllSipDomain -verbose
    let (_, sans) = request_names(
        &sb,
        cs,
        &[
            "-New",
            "-Type",
            "Default,WebServicesInternal,WebServicesExternal",
            "-AllSipDomain",
            "-verbose",
        ],
        "all.req",
    );
    for n in [
        "sip.litwareinc.net",
        "meet.litwareinc.net",
        "lyncdiscoverinternal.litwareinc.net",
        "lyncdiscover.litwareinc.net",
    ] {
        assert!(sans.iter().any(|s| s == n), "{n} missing from {sans:?}");
    }

    // ... -Type WebServicesExternal -Ca dc\myca -DomainName "Lyncdiscover.contoso.com, Lyncdiscover.contoso.net" -verbose
    let (_, sans) = request_names(
        &sb,
        cs,
        &[
            "-New",
            "-Type",
            "WebServicesExternal",
            "-DomainName",
            "Lyncdiscover.contoso.com, Lyncdiscover.contoso.net",
            "-verbose",
        ],
        "ld.req",
    );
    assert_eq!(
        &sans[sans.len() - 2..],
        &strs(&["Lyncdiscover.contoso.com", "Lyncdiscover.contoso.net"])
    );

    // Request-CsCertificate -New -Type default -CA <YourCA> -Verbose
    let (cn, _) = request_names(
        &sb,
        cs,
        &["-New", "-Type", "default", "-Verbose"],
        "default.req",
    );
    assert_eq!(cn, cs);

    // The same lines with the AD CS -CA bind, then fail clearly (exit 1) pointing at -Output.
    let o = run_as(
        &sb,
        cs,
        &[
            "Request-CsCertificate",
            "-New",
            "-Type",
            "WebServicesExternal",
            "-CA",
            "atl-ca-001.litwareinc.com\\myca",
        ],
    );
    o.assert_code(1);
    assert_eq!(
        o.error().fully_qualified_error_id,
        "AdcsNotAvailable,Request-CsCertificate"
    );
    assert!(o.error().message.contains("-Output"));

    // Request-CsCertificate -List shows them all; -Clear -RequestID 224 names a missing request.
    let o = sb.run(&["Request-CsCertificate", "-List"]);
    o.assert_code(0);
    assert_eq!(o.stdout.lines().count(), 8);
    let o = sb.run(&["Request-CsCertificate", "-Clear", "-RequestID", "224"]);
    o.assert_code(1);
    assert_eq!(
        o.error().fully_qualified_error_id,
        "RequestNotFound,Request-CsCertificate"
    );
}

fn assert_publish_fails(sb: &Sandbox, name: &str, xml: &str, expect_in_message: &str) {
    let path = sb.work().join(name);
    std::fs::write(&path, xml).unwrap();
    let before = sb.run(&["Get-CsTopology", "-AsXml"]).stdout;
    let o = publish(sb, path.to_str().unwrap());
    o.assert_code(1);
    let e = o.error();
    assert_eq!(
        e.fully_qualified_error_id, "InvalidTopology,Publish-CsTopology",
        "{e:?}"
    );
    assert!(
        e.message.contains(expect_in_message),
        "{name}: {}",
        e.message
    );
    assert!(
        e.message
            .contains("The published topology was not changed."),
        "{}",
        e.message
    );
    assert_eq!(
        sb.run(&["Get-CsTopology", "-AsXml"]).stdout,
        before,
        "{name} changed the published topology"
    );
}

#[test]
fn malformed_documents_leave_the_published_topology_untouched() {
    let sb = Sandbox::new();
    publish(&sb, &own("single-edge.published.xml")).assert_code(0);
    let good = std::fs::read_to_string(own("single-edge.published.xml")).unwrap();
    assert_publish_fails(&sb, "truncated.xml", &good[..good.len() / 2], "line");
    assert_publish_fails(
        &sb,
        "wrong-ns.xml",
        &good.replacen(
            "urn:schema:Microsoft.Rtc.Management.Deploy.Topology.2008",
            "urn:example:not-lync",
            1,
        ),
        "not a Lync topology document",
    );
    assert_publish_fails(&sb, "empty.xml", "", "");

    // An Edge without an Access Edge FQDN publishes (nothing needs it yet) but cannot make the
    // Edge certificate: the error names what is missing.
    let no_access: String = good
        .lines()
        .filter(|l| !(l.contains("urn:component:AccessEdge") && l.contains("ConfiguredFqdn")))
        .collect::<Vec<_>>()
        .join("\n");
    assert_ne!(no_access, good);
    let path = sb.work().join("no-access.xml");
    std::fs::write(&path, &no_access).unwrap();
    publish(&sb, path.to_str().unwrap()).assert_code(0);
    let o = run_as(
        &sb,
        "Edge.contoso.com",
        &[
            "Request-CsCertificate",
            "-New",
            "-Type",
            "AccessEdgeExternal",
            "-Output",
            "a.req",
        ],
    );
    o.assert_code(1);
    let e = o.error();
    assert_eq!(
        e.fully_qualified_error_id,
        "TopologyIncomplete,Request-CsCertificate"
    );
    assert!(e.message.contains("AccessEdge"), "{}", e.message);
    assert!(!sb.work().join("a.req").exists());

    // An unknown computer: a clear error, no request.
    publish(&sb, &own("single-edge.published.xml")).assert_code(0);
    let o = run_as(
        &sb,
        "nobody.contoso.com",
        &[
            "Request-CsCertificate",
            "-New",
            "-Type",
            "Default",
            "-Output",
            "n.req",
        ],
    );
    o.assert_code(1);
    let e = o.error();
    assert_eq!(
        e.fully_qualified_error_id,
        "UnknownComputer,Request-CsCertificate"
    );
    assert!(e.message.contains("nobody.contoso.com"), "{}", e.message);
    let list = sb.run(&["Request-CsCertificate", "-List"]);
    assert_eq!(list.stdout, "", "no request was stored");
}

#[test]
fn without_topology_names_come_from_the_parameters() {
    let sb = Sandbox::new();
    let o = run_as(
        &sb,
        "x.contoso.com",
        &[
            "Request-CsCertificate",
            "-New",
            "-Type",
            "Default",
            "-KeyAlg",
            "ECDH_P256",
            "-Output",
            "n.req",
        ],
    );
    o.assert_code(1);
    assert_eq!(
        o.error().fully_qualified_error_id,
        "NoNamesForRequest,Request-CsCertificate"
    );
    let (cn, sans) = request_names(
        &sb,
        "x.contoso.com",
        &[
            "-New",
            "-Type",
            "Default",
            "-KeyAlg",
            "ECDH_P256",
            "-DomainName",
            "a.contoso.com, b.contoso.com",
        ],
        "d.req",
    );
    assert_eq!(cn, "a.contoso.com");
    assert_eq!(sans, strs(&["a.contoso.com", "b.contoso.com"]));
}

#[test]
fn publish_refuses_fqdn_attributes_that_are_not_host_names() {
    let sb = Sandbox::new();
    publish(&sb, &own("single-edge.published.xml")).assert_code(0);
    let good = std::fs::read_to_string(own("single-edge.published.xml")).unwrap();
    let forged = "ConfiguredFqdn=\"sip.contoso.com&#10;, evil.com\"";
    let access = good.replacen("ConfiguredFqdn=\"sip.contoso.com\"", forged, 1);
    assert_ne!(access, good);
    assert_publish_fails(&sb, "newline.xml", &access, "not a host name");
    let o = publish(&sb, sb.work().join("newline.xml").to_str().unwrap());
    let m = o.error().message;
    assert!(m.contains("ConfiguredFqdn") && m.contains("U+000A"), "{m}");
    // A space in a pool's Fqdn likewise (XML 1.0 itself has no ESC character to forge).
    let space = good.replacen("Fqdn=\"", "Fqdn=\"a ", 1);
    assert_publish_fails(&sb, "space.xml", &space, "a space");
}

#[test]
fn a_document_of_millions_of_empty_elements_is_refused_quickly_with_a_clear_error() {
    let sb = Sandbox::new();
    publish(&sb, &own("single-edge.published.xml")).assert_code(0);
    let good = std::fs::read_to_string(own("single-edge.published.xml")).unwrap();
    // 3 million empty elements (12 MB) inside the real document: far beyond any topology.
    let at = good.rfind("</Topology>").expect("closing tag");
    let mut big = String::with_capacity(good.len() + 12_000_000);
    big.push_str(&good[..at]);
    for _ in 0..3_000_000 {
        big.push_str("<a/>");
    }
    big.push_str(&good[at..]);
    let started = std::time::Instant::now();
    assert_publish_fails(&sb, "huge.xml", &big, "more than 200000 XML nodes");
    // Two publishes and two reads; the parse stops at the bound instead of building 3M nodes.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}
