//! Signatures that were not checked are said to be unchecked: a corpus of mutated certificates
//! that `openssl verify` rejects all get a signature or issuer finding from Test-CsCertificate
//! run without their CA; the system's trust store (`SSL_CERT_FILE`) verifies for real when
//! nothing closer knows the issuer; Import warns the same way.

mod support;

use support::hardening::*;
use support::*;

/// A system trust store holding `file` only (an empty folder beside it).
fn system_store(h: &H, file: &str) -> Vec<(String, String)> {
    let empty = h.path("empty-certs");
    std::fs::create_dir_all(&empty).unwrap();
    vec![
        ("SSL_CERT_FILE".into(), file.to_string()),
        ("SSL_CERT_DIR".into(), empty.display().to_string()),
    ]
}

fn test_cert(h: &H, env: &[(String, String)], args: &[&str]) -> Run {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut a = vec!["Test-CsCertificate"];
    a.extend_from_slice(args);
    h.run_env(&env, &a)
}

fn pem_of(der: &[u8]) -> String {
    pem::encode(&pem::Pem::new("CERTIFICATE", der.to_vec()))
}

#[test]
fn every_mutated_certificate_openssl_rejects_gets_a_signature_or_issuer_finding() {
    if !require("mutation corpus", &["openssl"]) {
        return;
    }
    let h = H::new();
    let ca = TestCa::new(
        &h.path("ca"),
        &[("O", "Contoso"), ("CN", "Mutation Test CA")],
        365,
    );
    let leaf = ca.leaf(
        &h.path("ca"),
        "leaf",
        "sip.contoso.com",
        &["sip.contoso.com"],
        90,
    );
    let der = pem::parse(std::fs::read(&leaf).unwrap())
        .unwrap()
        .into_contents();
    let corpus = h.path("corpus");
    std::fs::create_dir_all(&corpus).unwrap();
    let mut rng = Rng(0x5eed17);
    let n = 400;
    for i in 0..n {
        let mut m = der.clone();
        // One to three flipped bits anywhere: header, names, extensions, signature.
        for _ in 0..1 + rng.below(3) {
            let at = rng.below(m.len());
            m[at] ^= 1 << rng.below(8);
        }
        std::fs::write(corpus.join(format!("m{i:04}.pem")), pem_of(&m)).unwrap();
    }
    let no_system = system_store(&h, &h.write("no-roots.pem", ""));
    let r = test_cert(&h, &no_system, &["-Path", corpus.to_str().unwrap()]);
    assert!(r.code == 0 || r.code == 3 || r.code == 1, "{}", r.stderr);
    let mut judged = std::collections::HashMap::new();
    for o in r.lines() {
        let path = o["Path"].as_str().unwrap_or_default().to_string();
        let file = std::path::Path::new(&path)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_string();
        judged.insert(file, rule_ids(&o));
    }
    let (mut rejected, mut unreadable) = (0, 0);
    for i in 0..n {
        let name = format!("m{i:04}.pem");
        let ok = std::process::Command::new("openssl")
            .args([
                "verify",
                "-CAfile",
                &ca.cert_s(),
                corpus.join(&name).to_str().unwrap(),
            ])
            .output()
            .unwrap()
            .status
            .success();
        if ok {
            continue;
        }
        rejected += 1;
        match judged.get(&name) {
            // Not read as a certificate at all: an error record names the file.
            None => {
                unreadable += 1;
                assert!(
                    r.stderr.contains(&name),
                    "{name}: neither a result nor an error"
                );
            }
            Some(ids) => assert!(
                ids.iter()
                    .any(|id| id == "SIGNATURE-INVALID" || id == "ISSUER-UNKNOWN"),
                "{name}: openssl rejects it, cscert found only {ids:?}"
            ),
        }
    }
    assert!(
        rejected > n / 2,
        "the corpus is mostly broken: {rejected} of {n}"
    );
    eprintln!("{rejected} of {n} rejected by openssl; {unreadable} unreadable to cscert");
}

#[test]
fn the_system_trust_store_verifies_when_nothing_closer_knows_the_issuer() {
    let h = H::new();
    let ca = TestCa::new(
        &h.path("ca"),
        &[("O", "Contoso"), ("CN", "Public Test CA")],
        365,
    );
    let leaf = ca.leaf(
        &h.path("ca"),
        "edge",
        "sip.contoso.com",
        &["sip.contoso.com"],
        90,
    );
    let leaf_s = leaf.to_str().unwrap().to_string();
    let der = pem::parse(std::fs::read(&leaf).unwrap())
        .unwrap()
        .into_contents();
    let mut bad = der.clone();
    let last = bad.len() - 3;
    bad[last] ^= 1;
    let bad_s = h.write("bad.pem", &pem_of(&bad));
    let findings = |env: &[(String, String)], path: &str, extra: &[&str]| {
        let mut args = vec!["-Path", path];
        args.extend_from_slice(extra);
        let r = test_cert(&h, env, &args);
        let o = &r.lines()[0];
        (r.code, rule_ids(o), o["Passed"].as_bool().unwrap())
    };
    // The CA in the system's store: the good one verifies clean, the altered one is an error.
    let system = system_store(&h, &ca.cert_s());
    assert_eq!(findings(&system, &leaf_s, &[]), (0, vec![], true));
    let (code, ids, passed) = findings(&system, &bad_s, &[]);
    assert_eq!((code, passed), (3, false));
    assert!(ids.contains(&"SIGNATURE-INVALID".to_string()), "{ids:?}");
    // Nothing knows the issuer: a warning says the signature was not verified.
    let none = system_store(&h, &h.write("no-roots.pem", ""));
    for path in [&leaf_s, &bad_s] {
        let (code, ids, passed) = findings(&none, path, &[]);
        assert_eq!((code, passed), (0, true), "{path}");
        assert_eq!(ids, vec!["ISSUER-UNKNOWN".to_string()], "{path}");
    }
    // With -TrustedRoot the missing issuer is an error (the system store is not asked).
    let other = TestCa::new(&h.path("other"), &[("CN", "Other Root")], 365);
    let (code, ids, _) = findings(&system, &leaf_s, &["-TrustedRoot", &other.cert_s()]);
    assert_eq!(code, 3);
    assert!(ids.contains(&"CHAIN-INCOMPLETE".to_string()), "{ids:?}");
    // Import warns the same way, and imports.
    let env: Vec<(&str, &str)> = none.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = h.run_env(&env, &["Import-CsCertificate", "-Path", &leaf_s, "-Force"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("WARNING: ISSUER-UNKNOWN"), "{}", r.stderr);
}
