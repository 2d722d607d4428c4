//! ACME against pebble beyond the first order: a CA that rejects most nonces, revocation
//! (RFC 8555 7.6) reported by pebble's management interface, and the refusals that follow it.

mod support;

use std::process::Command;
use support::acme::ConnectProxy;
use support::pebble::{args, pem_blocks, Pebble};
use support::EDGE_USES;

/// pebble rejecting 60% of the nonces (`PEBBLE_WFE_NONCEREJECT=60`): ten four-name orders in
/// a row, every one issued (RFC 8555 6.5: a badNonce is retried with the fresh nonce).
#[test]
fn ten_orders_in_a_row_are_issued_while_pebble_rejects_most_nonces() {
    if !support::pebble::peers_present("ten_orders_in_a_row_are_issued_while_pebble_rejects") {
        return;
    }
    let pb = Pebble::start_with(false, &[("PEBBLE_WFE_NONCEREJECT", "60")]);
    let port = pb.http_port.to_string();
    for i in 0..10 {
        let req = pb.edge_args(&["-AcmeHttpPort", &port]);
        let o = pb.cscert(&args(&req));
        assert_eq!(o.code, 0, "order {i}:\n{}{}", o.stdout, o.stderr);
        assert!(
            o.json()["Thumbprint"].is_string(),
            "order {i}: {}",
            o.stdout
        );
    }
    // pebble was rejecting nonces (the retries were needed).
    assert_eq!(
        pb.count("Configured to reject 60% of good nonces"),
        1,
        "{}",
        pb.logs()
    );
}

/// pebble's management view of a certificate by its serial number (lower-case hex).
fn status_at_pebble(pb: &Pebble, serial: &str) -> String {
    let hex = serial.trim_start_matches('0').to_ascii_lowercase();
    pb.mgmt_get(&format!("/cert-status-by-serial/{hex}"))
}

/// Revoke-CsCertificate: -WhatIf contacts nobody; the revocation signed by the ordering account
/// reaches pebble with its reason; the store records it, so Set-CsCertificate refuses the
/// certificate, Get-CsCertificate shows when it was revoked, and a second revocation is refused.
#[test]
fn revoked_certificate_is_reported_by_pebble_refused_by_set_and_shown_by_get() {
    if !support::pebble::peers_present("revoked_certificate_is_reported_by_pebble") {
        return;
    }
    let pb = Pebble::start(false);
    let port = pb.http_port.to_string();
    let issued = pb
        .cscert_ok(&args(&pb.edge_args(&["-AcmeHttpPort", &port])))
        .json();
    let thumb = issued["Thumbprint"].as_str().unwrap().to_string();
    let serial = issued["SerialNumber"].as_str().unwrap().to_string();
    pb.cscert_ok(&[
        "Set-CsCertificate",
        "-Type",
        EDGE_USES,
        "-Thumbprint",
        &thumb,
    ]);
    assert!(status_at_pebble(&pb, &serial).contains("\"Status\": \"Valid\""));

    let w = pb.cscert_ok(&["Revoke-CsCertificate", "-Thumbprint", &thumb, "-WhatIf"]);
    assert!(
        w.both()
            .contains("What if: Performing the operation \"Revoke the certificate"),
        "{}",
        w.both()
    );
    assert!(status_at_pebble(&pb, &serial).contains("\"Status\": \"Valid\""));

    let r = pb.cscert_ok(&[
        "Revoke-CsCertificate",
        "-Thumbprint",
        &thumb,
        "-Reason",
        "KeyCompromise",
        "-Force",
    ]);
    let o = r.json();
    assert_eq!(o["Thumbprint"], thumb.as_str());
    assert_eq!(o["Reason"], "keyCompromise");
    assert_eq!(o["SignedBy"], "account");
    let status = status_at_pebble(&pb, &serial);
    assert!(status.contains("\"Status\": \"Revoked\""), "{status}");
    assert!(status.contains("\"Reason\": 1"), "{status}");

    for g in pb.cscert_ok(&["Get-CsCertificate"]).lines() {
        assert_eq!(g["Thumbprint"], thumb.as_str());
        assert_eq!(g["RevocationReason"], "keyCompromise", "{g}");
        assert!(g["Revoked"].is_string(), "{g}");
    }
    let set = pb.cscert(&[
        "Set-CsCertificate",
        "-Type",
        EDGE_USES,
        "-Thumbprint",
        &thumb,
    ]);
    assert_eq!(set.code, 1, "{}", set.stderr);
    assert!(
        set.stderr.starts_with("Set-CsCertificate: "),
        "{}",
        set.stderr
    );
    assert!(set.stderr.contains("was revoked on"), "{}", set.stderr);
    let again = pb.cscert(&["Revoke-CsCertificate", "-Thumbprint", &thumb, "-Force"]);
    assert_eq!(again.code, 1, "{}", again.stderr);
    assert!(
        again.stderr.contains("was revoked already"),
        "{}",
        again.stderr
    );
}

/// `openssl verify` of an exported certificate's chain against pebble's root `root`: exit code
/// and output.
fn verify_against_root(pb: &Pebble, thumb: &str, root: usize) -> (i32, String) {
    let pem = pb.p(&format!("{thumb}.pem"));
    pb.cscert_ok(&[
        "Export-CsCertificate",
        "-Thumbprint",
        thumb,
        "-Path",
        &pem,
        "-Format",
        "Pem",
        "-Password",
        "Acme-test pw",
        "-Force",
    ]);
    let certs = pem_blocks(&std::fs::read_to_string(&pem).unwrap(), "CERTIFICATE");
    std::fs::write(pb.path("leaf.pem"), &certs[0]).unwrap();
    std::fs::write(pb.path("chain.pem"), certs[1..].concat()).unwrap();
    std::fs::write(pb.path("root.pem"), pb.root_pem_n(root)).unwrap();
    let o = Command::new("openssl")
        .args([
            "verify",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "chain.pem",
            "leaf.pem",
        ])
        .current_dir(pb.sb.root())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.code().unwrap_or(-1), text)
}

/// The subject CN of pebble's root `n` (openssl reads it).
fn root_cn(pb: &Pebble, n: usize) -> String {
    std::fs::write(pb.path("r.pem"), pb.root_pem_n(n)).unwrap();
    let o = Command::new("openssl")
        .args([
            "x509", "-in", "r.pem", "-noout", "-subject", "-nameopt", "RFC2253",
        ])
        .current_dir(pb.sb.root())
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&o.stdout).to_string();
    s.trim()
        .trim_start_matches("subject=")
        .split(',')
        .find_map(|p| p.strip_prefix("CN="))
        .unwrap_or_else(|| panic!("no CN in {s}"))
        .to_string()
}

/// pebble with an alternate root (PEBBLE_ALTERNATE_ROOTS=1): without -AcmePreferredChain the
/// chain leads to the default root; naming the alternate root's CN gives the chain that leads
/// to it (openssl verifies each against its root only); an unknown name keeps the default with
/// a warning.
#[test]
fn preferred_chain_picks_the_alternate_root_pebble_offers() {
    if !support::pebble::peers_present("preferred_chain_picks_the_alternate_root") {
        return;
    }
    let pb = Pebble::start_with(false, &[("PEBBLE_ALTERNATE_ROOTS", "1")]);
    let port = pb.http_port.to_string();
    let (default_cn, alternate_cn) = (root_cn(&pb, 0), root_cn(&pb, 1));
    assert_ne!(default_cn, alternate_cn);

    let d = pb
        .cscert_ok(&args(&pb.edge_args(&["-AcmeHttpPort", &port])))
        .json();
    let d = d["Thumbprint"].as_str().unwrap().to_string();
    assert_eq!(verify_against_root(&pb, &d, 0).0, 0);
    assert_ne!(verify_against_root(&pb, &d, 1).0, 0);

    let a = pb
        .cscert_ok(&args(&pb.edge_args(&[
            "-AcmeHttpPort",
            &port,
            "-AcmePreferredChain",
            &alternate_cn,
        ])))
        .json();
    let a = a["Thumbprint"].as_str().unwrap().to_string();
    let (code, text) = verify_against_root(&pb, &a, 1);
    assert_eq!(code, 0, "{text}");
    assert_ne!(verify_against_root(&pb, &a, 0).0, 0);

    let u = pb.cscert_ok(&args(&pb.edge_args(&[
        "-AcmeHttpPort",
        &port,
        "-AcmePreferredChain",
        "No Such Root",
    ])));
    assert!(
        u.stderr
            .contains("\"No Such Root\" (-AcmePreferredChain); the default chain is used"),
        "{}",
        u.stderr
    );
    let u = u.json()["Thumbprint"].as_str().unwrap().to_string();
    assert_eq!(verify_against_root(&pb, &u, 0).0, 0);
}

/// HTTPS_PROXY: every request to pebble goes through a local CONNECT proxy (and the order is
/// issued); NO_PROXY naming the CA's host bypasses it; -AcmeProxy wins over the environment.
#[test]
fn orders_go_through_an_https_proxy_unless_no_proxy_names_the_ca() {
    if !support::pebble::peers_present("orders_go_through_an_https_proxy") {
        return;
    }
    let pb = Pebble::start(false);
    let proxy = ConnectProxy::start();
    let port = pb.http_port.to_string();
    let req = pb.edge_args(&["-AcmeHttpPort", &port]);
    let o = pb.cscert_env(
        &args(&req),
        &[("HTTPS_PROXY", &proxy.url()), ("NO_PROXY", "")],
    );
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    let ca = format!("127.0.0.1:{}", pb.acme_port);
    let through = proxy.targets();
    assert!(
        !through.is_empty() && through.iter().all(|t| *t == ca),
        "{through:?}"
    );

    let before = proxy.targets().len();
    let o = pb.cscert_env(
        &args(&req),
        &[
            ("HTTPS_PROXY", &proxy.url()),
            ("NO_PROXY", "localhost,127.0.0.1"),
        ],
    );
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    assert_eq!(proxy.targets().len(), before, "NO_PROXY was not honoured");

    let mut explicit = req.clone();
    explicit.extend(["-AcmeProxy".to_string(), proxy.url()]);
    let o = pb.cscert_env(&args(&explicit), &[("HTTPS_PROXY", "http://127.0.0.1:1")]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    assert!(proxy.targets().len() > before);
}
