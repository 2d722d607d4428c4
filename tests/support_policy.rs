//! The one skip policy of tests/support: a missing peer fails under CI=true and is one SKIPPED
//! line elsewhere; a present peer runs.

mod support;

use support::{peer_policy, Peer};

#[test]
fn missing_peer_fails_under_ci_and_skips_elsewhere() {
    assert_eq!(peer_policy("t", "prosody", true, true), Peer::Run);
    assert_eq!(peer_policy("t", "prosody", true, false), Peer::Run);
    assert_eq!(
        peer_policy("t", "prosody", false, false),
        Peer::Skip("SKIPPED: prosody not installed (t)".into())
    );
    match peer_policy("t", "prosody", false, true) {
        Peer::Fail(m) => assert!(m.contains("prosody") && m.contains("CI=true"), "{m}"),
        other => panic!("under CI a missing peer must fail, got {other:?}"),
    }
}

#[test]
fn require_finds_tools_on_path() {
    // `sh` is on every PATH these tests run on; a name no package uses is on none.
    assert!(support::have("sh"));
    assert!(!support::have("cscert-no-such-tool-7f3a"));
}

/// The test CA made in-process is a CA openssl accepts, and a leaf it signs verifies against
/// it (openssl as the independent verifier).
#[test]
fn rcgen_test_ca_and_leaf_verify_with_openssl() {
    if !support::require("rcgen_test_ca_and_leaf_verify_with_openssl", &["openssl"]) {
        return;
    }
    let sb = support::Sandbox::new();
    let ca = support::TestCa::new(
        &sb.path("ca"),
        &[("C", "US"), ("O", "Contoso, Inc"), ("CN", "Test Root")],
        30,
    );
    let leaf = ca.leaf(
        sb.root(),
        "leaf",
        "sip.contoso.com",
        &["sip.contoso.com"],
        10,
    );
    let text = sb.openssl(&["x509", "-in", &ca.cert_s(), "-noout", "-text"]);
    assert!(text.contains("CA:TRUE"), "{text}");
    assert!(text.contains("Certificate Sign, CRL Sign"), "{text}");
    let subject = sb.openssl(&["x509", "-in", &ca.cert_s(), "-noout", "-subject"]);
    assert_eq!(
        subject.trim(),
        "subject=C = US, O = \"Contoso, Inc\", CN = Test Root"
    );
    let ok = sb.openssl(&[
        "verify",
        "-CAfile",
        &ca.cert_s(),
        &leaf.display().to_string(),
    ]);
    assert!(ok.trim().ends_with(": OK"), "{ok}");
}
