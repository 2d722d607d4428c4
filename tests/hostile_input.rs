//! Hostile text and hostile clocks through the built binary: names that are not host names are
//! refused whatever -Force says, untrusted text reaches the terminal escaped and capped, the lab
//! CA never issues outside its own validity, and the store's messages name what is wrong.

mod support;

use support::hardening::*;

/// A -DomainName with an escape sequence, a newline, a comma or a space never becomes a
/// request, not even with -Force (which overwrites files and turns other findings into
/// warnings); nothing is written or stored.
#[test]
fn request_names_that_are_not_host_names_are_refused_even_with_force() {
    let h = H::new();
    for (bad, what) in [
        ("b.contoso.com\u{1b}[2J", "U+001B"),
        ("sip.contoso.com\nevil.com", "U+000A"),
        ("sip contoso.com", "a space"),
        ("sip.contoso.com;evil.com", "the character ';'"),
    ] {
        let r = h.run(&new_request(
            "sip.contoso.com",
            &["-DomainName", bad, "-Output", "r.req", "-Force"],
        ));
        assert_eq!(r.code, 1, "{bad:?}: {}", r.stderr);
        let e = r.error();
        assert_eq!(
            e.fully_qualified_error_id, "NameIsNotAHostname,Request-CsCertificate",
            "{bad:?}"
        );
        assert!(
            e.message.contains(what) && e.message.contains("-Force does not override"),
            "{bad:?}: {}",
            e.message
        );
        assert!(!h.work().join("r.req").exists(), "{bad:?}");
        assert_eq!(h.requests(), 0, "{bad:?}");
    }
}

#[test]
fn template_and_friendly_name_refuse_control_characters() {
    let h = H::new();
    for (param, value) in [
        ("-Template", "WebServer\r\nX"),
        ("-FriendlyName", "Edge\u{1b}]0;pwned\u{7}"),
    ] {
        let r = h.run(&new_request(
            "sip.contoso.com",
            &[param, value, "-Output", "r.req"],
        ));
        assert_eq!(r.code, 2, "{param}: {}", r.stderr);
        let e = r.error();
        assert_eq!(
            e.fully_qualified_error_id,
            "ParameterArgumentValidationError,Request-CsCertificate"
        );
        assert!(e.message.contains(&param[1..]), "{}", e.message);
        assert!(!h.work().join("r.req").exists());
    }
}

/// No raw control or bidi character reaches stderr in the human format: warnings, verbose
/// lines and error messages show them escaped, and a long value is cut at 200 characters.
#[test]
fn untrusted_text_reaches_the_terminal_escaped_and_capped() {
    let h = H::new();
    let hostile = format!("x\u{1b}[2J\u{202e}moc.live{}", "a".repeat(3000));
    let r = h.run_plain(&["Import-CsCertificate", "-Path", &hostile]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        !r.stderr
            .chars()
            .any(|c| c == '\u{1b}' || c == '\u{202e}' || (c.is_control() && c != '\n')),
        "{:?}",
        r.stderr
    );
    assert!(
        r.stderr.contains("x\\x1B[2J\\u{202E}moc.live"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("more characters)"), "{}", r.stderr);
    assert!(r.stderr.len() < 1500, "capped: {} bytes", r.stderr.len());
    // A scope from -Identity in an error record, with -Verbose on, likewise.
    let r = h.run_plain(&[
        "Remove-CsCertificate",
        "-Type",
        "Default",
        "-Identity",
        "fe\u{1b}[31m\u{202e}.contoso.com",
        "-Force",
        "-Verbose",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        !r.stderr.contains('\u{1b}') && !r.stderr.contains('\u{202e}'),
        "{:?}",
        r.stderr
    );
    assert!(
        r.stderr.contains("fe\\x1B[31m\\u{202E}.contoso.com"),
        "{}",
        r.stderr
    );
}

/// With the clock before the lab CA's own notBefore (year 1 included) nothing is issued; just
/// after it, the certificate starts no earlier than the CA.
#[test]
fn the_lab_ca_never_issues_before_its_own_validity() {
    let h = H::new();
    let ca = h.ca("lab", 365);
    let ca_cert = format!("{ca}/ca.crt");
    let ca_start = h.openssl(&["x509", "-in", &ca_cert, "-noout", "-startdate"]);
    let issue = new_request("fe.contoso.com", &["-KeyAlg", "ECDH_P256", "-CA", &ca]);
    for now in [
        "0001-01-01T00:00:00Z",
        "1949-06-01T00:00:00Z",
        "2000-01-01T00:00:00Z",
    ] {
        let r = h.run_at(now, &issue);
        assert_eq!(r.code, 1, "{now}: {}", r.stderr);
        assert!(
            r.error().message.contains("not valid before"),
            "{now}: {}",
            r.stderr
        );
        assert_eq!(h.certificates(), 0, "{now}");
    }
    // One minute after the CA starts: the 5-minute skew allowance stops at the CA's start.
    let start = chrono::NaiveDateTime::parse_from_str(
        ca_start.trim().trim_start_matches("notBefore="),
        "%b %e %H:%M:%S %Y GMT",
    )
    .unwrap()
    .and_utc();
    let now = (start + chrono::Duration::minutes(1))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let r = h.ok_at(&now, &issue);
    let nb = r.lines()[0]["NotBefore"].as_str().unwrap().to_string();
    assert_eq!(nb, start.format("%Y-%m-%dT%H:%M:%SZ").to_string());
}

/// The store's messages name the file and the remedy: a file given as CSCERT_STORE, a folder
/// where the database should be, a database that is not one; -Clear counts what it deletes.
#[test]
fn store_messages_name_the_file_and_the_remedy() {
    use std::os::unix::fs::PermissionsExt;
    let h = H::new();
    let file = h.path("not-a-folder");
    for mode in [0o644, 0o600] {
        std::fs::write(&file, "x").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
        let r = h.run_env(
            &[("CSCERT_STORE", file.to_str().unwrap())],
            &["Get-CsCertificate"],
        );
        assert_eq!(r.code, 1, "{}", r.stderr);
        let m = r.error().message;
        assert!(
            m.contains("is not a folder") && !m.contains("chmod"),
            "{mode:o}: {m}"
        );
        assert!(!m.contains("os error"), "{m}");
    }
    // cscert.db is a folder.
    std::fs::create_dir_all(h.store().join("cscert.db")).unwrap();
    std::fs::set_permissions(h.store(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let r = h.run(&["Get-CsCertificate"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let m = r.error().message;
    assert!(m.contains("is not a file") && !m.contains("chmod"), "{m}");
    // cscert.db is junk.
    std::fs::remove_dir(h.store().join("cscert.db")).unwrap();
    let db = h.store().join("cscert.db");
    std::fs::write(&db, vec![0x5a; 8192]).unwrap();
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o600)).unwrap();
    for cmd in [
        &["Get-CsCertificate"][..],
        &["Remove-CsCertificate", "-Type", "Default", "-Force"],
    ] {
        let r = h.run(cmd);
        assert_eq!(r.code, 1, "{}", r.stderr);
        let m = r.error().message;
        assert!(
            m.contains(db.to_str().unwrap()) && m.contains("Move it aside"),
            "{cmd:?}: {m}"
        );
    }
}

#[test]
fn clear_says_how_many_requests_are_pending_and_how_many_completed() {
    let h = H::new();
    let ca = h.ca("lab", 365);
    h.issue(&ca, "fe.contoso.com", false);
    h.ok(&new_request("fe.contoso.com", &["-Output", "p.req"]));
    let r = h.ok(&["Request-CsCertificate", "-Clear", "-WhatIf"]);
    assert!(
        r.stderr
            .contains("on target \"2 requests (1 pending, 1 completed)\""),
        "{}",
        r.stderr
    );
}
