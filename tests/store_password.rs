//! The store password (keys at rest) through the built binary: once protected, a store never
//! takes a key in the clear again; keys stored before the password was set are encrypted once it
//! is; the password can be changed or removed, every key rewritten in one transaction.

mod support;

use support::hardening::*;
use support::*;

const PW: &str = "store-pass-1";

fn with_pw(pw: &str) -> [(&str, &str); 1] {
    [("CSCERT_STORE_PASSWORD", pw)]
}

/// An offline request for `cn` (a pending key in the store), with the environment given.
fn request(h: &H, env: &[(&str, &str)], cn: &str) -> Run {
    let out = h.p(&format!("{cn}.req"));
    h.run_env(
        env,
        &new_request(cn, &["-KeyAlg", "ECDH_P256", "-Output", &out]),
    )
}

/// Every private key the store holds, as stored.
fn stored_keys(h: &H) -> Vec<Vec<u8>> {
    let c = rusqlite::Connection::open(h.store().join("cscert.db")).unwrap();
    let mut st = c
        .prepare("SELECT key_pkcs8 FROM requests UNION ALL SELECT key_pkcs8 FROM certificates WHERE key_pkcs8 IS NOT NULL")
        .unwrap();
    st.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<Vec<Vec<u8>>, _>>()
        .unwrap()
}

/// Whether openssl opens a stored key with `password` (`None`: as a key in the clear).
fn openssl_opens(h: &H, key: &[u8], password: Option<&str>) -> bool {
    std::fs::write(h.path("k.der"), key).unwrap();
    let mut args = vec!["pkcs8", "-inform", "DER", "-in", "k.der", "-out", "k.pem"];
    let pass;
    match password {
        Some(p) => {
            pass = format!("pass:{p}");
            args.extend(["-passin", &pass]);
        }
        None => args.push("-nocrypt"),
    }
    std::process::Command::new("openssl")
        .args(&args)
        .current_dir(h.dir.path())
        .output()
        .unwrap()
        .status
        .success()
}

#[test]
fn keys_stored_before_the_password_was_set_are_encrypted_once_it_is() {
    if !require("store password", &["openssl"]) {
        return;
    }
    let h = H::new();
    assert_eq!(request(&h, &[], "a.contoso.com").code, 0);
    let keys = stored_keys(&h);
    assert!(keys.len() == 1 && openssl_opens(&h, &keys[0], None));
    assert_eq!(request(&h, &with_pw(PW), "b.contoso.com").code, 0);
    let keys = stored_keys(&h);
    assert_eq!(keys.len(), 2);
    for k in &keys {
        assert!(!openssl_opens(&h, k, None), "a key stayed in the clear");
        assert!(openssl_opens(&h, k, Some(PW)));
    }
}

#[test]
fn a_protected_store_refuses_clear_keys_even_after_its_last_encrypted_key_is_cleared() {
    let h = H::new();
    assert_eq!(request(&h, &with_pw(PW), "a.contoso.com").code, 0);
    h.run_env(&with_pw(PW), &["Request-CsCertificate", "-Clear", "-Force"])
        .assert_code(0);
    assert!(stored_keys(&h).is_empty());
    let r = request(&h, &[], "b.contoso.com");
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.error().message.contains("CSCERT_STORE_PASSWORD"),
        "{}",
        r.stderr
    );
    assert!(stored_keys(&h).is_empty() && !h.path("b.contoso.com.req").exists());
    // The wrong password is refused by the recorded verifier, with no key to try it on.
    let r = request(&h, &with_pw("wrong"), "c.contoso.com");
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.error().message.contains("not the password"),
        "{}",
        r.stderr
    );
    assert_eq!(request(&h, &with_pw(PW), "d.contoso.com").code, 0);
}

/// Whether every stored key opens with `password` (`None`: all in the clear).
fn all_open_with(h: &H, password: Option<&str>) -> bool {
    stored_keys(h).iter().all(|k| openssl_opens(h, k, password))
}

fn change(h: &H, current: Option<&str>, args: &[&str]) -> Run {
    let mut a = vec!["Update-CsCertificateStorePassword"];
    a.extend_from_slice(args);
    let env: Vec<(&str, &str)> = current
        .map(|p| ("CSCERT_STORE_PASSWORD", p))
        .into_iter()
        .collect();
    h.run_env(&env, &a)
}

#[test]
fn the_store_password_changes_and_is_removed_with_every_key_rewritten() {
    if !require("store password change", &["openssl"]) {
        return;
    }
    let h = H::new();
    let ca = h.ca("ca", 365);
    assert_eq!(request(&h, &with_pw(PW), "a.contoso.com").code, 0);
    let issued = h.run_env(
        &with_pw(PW),
        &new_request("b.contoso.com", &["-KeyAlg", "ECDH_P256", "-CA", &ca]),
    );
    assert_eq!(issued.code, 0, "{}", issued.stderr);
    assert_eq!(
        stored_keys(&h).len(),
        3,
        "two requests and one certificate key"
    );
    assert!(all_open_with(&h, Some(PW)));
    // -WhatIf, a wrong current password, no current password: nothing changes.
    change(&h, Some(PW), &["-NewPassword", "pw-2", "-WhatIf"]).assert_code(0);
    let r = change(&h, Some("wrong"), &["-NewPassword", "pw-2", "-Force"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let r = change(&h, None, &["-NewPassword", "pw-2", "-Force"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.error().message.contains("CSCERT_STORE_PASSWORD"),
        "{}",
        r.stderr
    );
    let r = change(&h, Some(PW), &["-NewPassword", "pw-2"]);
    assert_eq!(r.code, 1, "no answer to the prompt: {}", r.stderr);
    assert!(all_open_with(&h, Some(PW)));
    // The new password from the environment, as the module passes a SecureString.
    let r = h.run_env(
        &[
            ("CSCERT_STORE_PASSWORD", PW),
            ("CSCERT_NEW_PASSWORD", "pw-2"),
        ],
        &["Update-CsCertificateStorePassword", "-Force", "-Verbose"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("Re-encrypted 3 private keys"),
        "{}",
        r.stderr
    );
    assert!(
        all_open_with(&h, Some("pw-2"))
            && !stored_keys(&h)
                .iter()
                .any(|k| openssl_opens(&h, k, Some(PW)))
    );
    assert_eq!(
        request(&h, &with_pw(PW), "c.contoso.com").code,
        1,
        "the old password is refused"
    );
    // Removed: the keys are in the clear and the store takes clear keys again.
    change(&h, Some("pw-2"), &["-Remove", "-Force"]).assert_code(0);
    assert!(all_open_with(&h, None));
    assert_eq!(request(&h, &[], "d.contoso.com").code, 0);
}

/// A change killed at any moment leaves every key under the old password or every key under
/// the new one: one transaction.
#[test]
fn a_password_change_killed_midway_leaves_the_old_or_the_new_state() {
    if !require("store password crash", &["openssl"]) {
        return;
    }
    let h = H::new();
    for cn in ["a", "b", "c", "d"] {
        assert_eq!(
            request(&h, &with_pw(PW), &format!("{cn}.contoso.com")).code,
            0
        );
    }
    let mut current = PW.to_string();
    let mut rng = Rng(0x17);
    for i in 0..8 {
        let next = format!("pw-{i}");
        let mut c = h.command(&["Update-CsCertificateStorePassword", "-Force"]);
        c.env("CSCERT_STORE_PASSWORD", &current)
            .env("CSCERT_NEW_PASSWORD", &next);
        let mut child = c.spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(
            20 + 40 * rng.below(10) as u64,
        ));
        let _ = child.kill();
        let _ = child.wait();
        let old = all_open_with(&h, Some(&current));
        let new = all_open_with(&h, Some(&next));
        assert!(
            old ^ new,
            "round {i}: a mix of passwords (old {old}, new {new})"
        );
        if new {
            current = next;
        }
    }
}
