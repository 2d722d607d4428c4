//! Hostile input, special files, secrets and keys at rest (issue 10): one test (or more) per
//! defect, each named after it, run against the built binary as an admin's shell would.
//!
//! `CSCERT_TEST_BIN=<path>` runs the same tests against another build (how each test was seen
//! failing on the code before its fix).

mod support;

use std::path::Path;
use support::hardening::*;
use support::*;

// ---------------------------------------------------------------- defect 1: panics

#[test]
fn validity_days_out_of_range_is_a_binding_error_not_a_panic() {
    let h = H::new();
    let ca = h.ca("ca", 3650);
    let r = h.run(&[
        "Request-CsCertificate",
        "-New",
        "-Type",
        "Default",
        "-ComputerFqdn",
        "fe.contoso.com",
        "-KeyAlg",
        "ECDH_P256",
        "-CA",
        &ca,
        "-ValidityDays",
        "3000000",
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(!r.stderr.contains("panicked"), "{r:?}");
    let e = r.error();
    assert_eq!(
        e.fully_qualified_error_id,
        "ParameterArgumentValidationError,Request-CsCertificate"
    );
    assert!(
        e.message
            .contains("greater than the maximum allowed range of 36500"),
        "{e:?}"
    );
    assert_eq!(h.requests(), 0, "nothing stored");
    // The largest accepted value is clamped to the CA (no overflow either).
    let r = h.run(&[
        "Request-CsCertificate",
        "-New",
        "-Type",
        "Default",
        "-ComputerFqdn",
        "fe.contoso.com",
        "-KeyAlg",
        "ECDH_P256",
        "-CA",
        &ca,
        "-ValidityDays",
        "36500",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = h.run(&[
        "Request-CsCertificate",
        "-New",
        "-Type",
        "Default",
        "-ComputerFqdn",
        "fe.contoso.com",
        "-KeyAlg",
        "ECDH_P256",
        "-CA",
        &ca,
        "-ValidityDays",
        "0",
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.error()
            .message
            .contains("less than the minimum allowed range of 1"),
        "{r:?}"
    );
}

#[test]
fn clock_beyond_year_9999_is_an_error_not_a_panic() {
    let h = H::new();
    let ca = h.ca("ca", 3650);
    for now in ["+10000-01-01T00:00:00Z", "+262143-01-01T00:00:00Z"] {
        let r = h.run_env(
            &[("CSCERT_NOW", now)],
            &[
                "Request-CsCertificate",
                "-New",
                "-Type",
                "Default",
                "-ComputerFqdn",
                "fe.contoso.com",
                "-KeyAlg",
                "ECDH_P256",
                "-CA",
                &ca,
            ],
        );
        assert_eq!(r.code, 1, "{r:?}");
        assert!(!r.stderr.contains("panicked"), "{r:?}");
        assert_eq!(
            r.error().fully_qualified_error_id,
            "InvalidClock,Request-CsCertificate"
        );
    }
    // A date parameter beyond .NET's DateTime is a conversion error.
    let r = h.run(&[
        "Set-CsCertificate",
        "-Type",
        "Default",
        "-Thumbprint",
        &"A".repeat(40),
        "-Roll",
        "-EffectiveDate",
        "+10000-01-01T00:00:00Z",
    ]);
    assert_eq!(r.code, 2, "{r:?}");
}

// ---------------------------------------------------------------- defect 2: special files

#[cfg(unix)]
#[test]
fn output_through_a_link_to_a_char_device_is_written_not_replaced() {
    use std::os::unix::fs::FileTypeExt;
    let h = H::new();
    // A device reached through a link in a folder we own (the tests do not run as root, so
    // /dev itself could not be replaced anyway; the link is what today's writer replaces).
    let link = h.path("null-link");
    std::os::unix::fs::symlink("/dev/null", &link).unwrap();
    let r = h.run(&[
        "Request-CsCertificate",
        "-New",
        "-Type",
        "Default",
        "-ComputerFqdn",
        "fe.contoso.com",
        "-KeyAlg",
        "ECDH_P256",
        "-Output",
        &link.display().to_string(),
        "-Force",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let m = std::fs::symlink_metadata(&link).unwrap();
    assert!(
        m.file_type().is_symlink(),
        "the link to /dev/null was replaced: {m:?}"
    );
    assert!(std::fs::metadata(&link)
        .unwrap()
        .file_type()
        .is_char_device());
    // -Report and Export -Path to the same link: written into, never replaced.
    let r = h.run(&["Get-CsCertificate", "-Report", &link.display().to_string()]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
}

#[cfg(unix)]
#[test]
fn output_to_dev_stdout_writes_to_stdout() {
    let h = H::new();
    let r = h.run(&[
        "Request-CsCertificate",
        "-New",
        "-Type",
        "Default",
        "-ComputerFqdn",
        "fe.contoso.com",
        "-KeyAlg",
        "ECDH_P256",
        "-Output",
        "/dev/stdout",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("-----BEGIN NEW CERTIFICATE REQUEST-----"),
        "{r:?}"
    );
}

#[cfg(unix)]
#[test]
fn export_into_a_fifo_writes_into_it() {
    use std::io::Read;
    use std::os::unix::fs::FileTypeExt;
    let h = H::new();
    let ca = h.ca("ca", 3650);
    let t = h.issue(&ca, "fe.contoso.com", true);
    let fifo = h.path("pipe");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let (tx, rx) = std::sync::mpsc::channel();
    {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut v = Vec::new();
            std::fs::File::open(&fifo)
                .unwrap()
                .read_to_end(&mut v)
                .unwrap();
            let _ = tx.send(v);
        });
    }
    let r = h.run(&[
        "Export-CsCertificate",
        "-Thumbprint",
        &t,
        "-Path",
        &fifo.display().to_string(),
        "-Password",
        "pw-123456",
        "-Force",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    // Bounded: a writer that replaced the FIFO never reaches the reader.
    let got = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("nothing was written into the FIFO");
    assert!(
        got.len() > 500,
        "the PFX went into the FIFO ({} bytes)",
        got.len()
    );
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());
}

#[test]
fn output_to_a_folder_is_refused() {
    let h = H::new();
    let r = h.run(&[
        "Request-CsCertificate",
        "-New",
        "-Type",
        "Default",
        "-ComputerFqdn",
        "fe.contoso.com",
        "-KeyAlg",
        "ECDH_P256",
        "-Output",
        &h.p("."),
        "-Force",
    ]);
    assert_eq!(r.code, 1, "{r:?}");
    let e = r.error();
    assert_eq!(
        e.fully_qualified_error_id,
        "OutputIsFolder,Request-CsCertificate"
    );
    assert!(e.message.contains("is a folder"), "{e:?}");
    assert_eq!(h.requests(), 0);
}

#[cfg(unix)]
#[test]
fn output_symlink_to_a_regular_file_is_not_followed() {
    let h = H::new();
    std::fs::write(h.path("victim.txt"), "keep me").unwrap();
    std::os::unix::fs::symlink(h.path("victim.txt"), h.path("link.req")).unwrap();
    let r = h.run(&[
        "Request-CsCertificate",
        "-New",
        "-Type",
        "Default",
        "-ComputerFqdn",
        "fe.contoso.com",
        "-KeyAlg",
        "ECDH_P256",
        "-Output",
        &h.p("link.req"),
        "-Force",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        std::fs::read_to_string(h.path("victim.txt")).unwrap(),
        "keep me"
    );
    assert!(!std::fs::symlink_metadata(h.path("link.req"))
        .unwrap()
        .file_type()
        .is_symlink());
}

// ---------------------------------------------------------------- defect 3: -Report

#[test]
fn report_never_overwrites_the_store_or_other_files() {
    let h = H::new();
    let ca = h.ca("ca", 3650);
    h.issue(&ca, "fe.contoso.com", true);
    let db = h.store().join("cscert.db");
    let before = std::fs::read(&db).unwrap();
    let r = h.run(&["Get-CsCertificate", "-Report", &db.display().to_string()]);
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(
        r.error().fully_qualified_error_id,
        "OutputInsideStore,Get-CsCertificate"
    );
    assert_eq!(std::fs::read(&db).unwrap().len(), before.len());
    assert_eq!(h.certificates(), 1, "the store is intact");
    // Any other existing file: refused without -Force, and nothing is done.
    std::fs::write(h.path("notes.txt"), "mine").unwrap();
    let r = h.run(&["Get-CsCertificate", "-Report", &h.p("notes.txt")]);
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(
        r.error().fully_qualified_error_id,
        "OutputFileExists,Get-CsCertificate"
    );
    assert_eq!(
        std::fs::read_to_string(h.path("notes.txt")).unwrap(),
        "mine"
    );
    // A report that cscert wrote is replaced by the next run (a daily script).
    h.ok(&["Get-CsCertificate", "-Report", &h.p("daily.html")]);
    let first = std::fs::read_to_string(h.path("daily.html")).unwrap();
    h.ok(&[
        "Request-CsCertificate",
        "-List",
        "-Report",
        &h.p("daily.html"),
    ]);
    let second = std::fs::read_to_string(h.path("daily.html")).unwrap();
    assert_ne!(first, second);
    assert!(second.contains("Request-CsCertificate"));
    // With -Force, another file may be replaced.
    h.ok(&[
        "Request-CsCertificate",
        "-List",
        "-Force",
        "-Report",
        &h.p("notes.txt"),
    ]);
    assert!(std::fs::read_to_string(h.path("notes.txt"))
        .unwrap()
        .contains("<!DOCTYPE html>"));
}

#[test]
fn a_refused_report_path_changes_nothing() {
    let h = H::new();
    std::fs::write(h.path("notes.txt"), "mine").unwrap();
    let r = h.run(&[
        "Request-CsCertificate",
        "-New",
        "-Type",
        "Default",
        "-ComputerFqdn",
        "fe.contoso.com",
        "-KeyAlg",
        "ECDH_P256",
        "-Output",
        &h.p("fe.req"),
        "-Report",
        &h.p("notes.txt"),
    ]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(!h.path("fe.req").exists());
    assert_eq!(h.requests(), 0);
}

// ---------------------------------------------------------------- defect 4: secrets

#[test]
fn report_masks_passwords_and_is_owner_only() {
    let h = H::new();
    let ca = h.ca("ca", 3650);
    let t = h.issue(&ca, "fe.contoso.com", true);
    h.ok(&[
        "Export-CsCertificate",
        "-Thumbprint",
        &t,
        "-Path",
        &h.p("fe.pfx"),
        "-Password",
        "S3cret-Pfx-Pw",
    ]);
    h.ok(&[
        "Import-CsCertificate",
        "-Path",
        &h.p("fe.pfx"),
        "-Password:S3cret-Pfx-Pw",
        "-Report",
        &h.p("import.html"),
    ]);
    h.ok(&[
        "Set-CsCertificate",
        "-Identity",
        COMPUTER,
        "-Type",
        "Default",
        "-Path",
        &h.p("fe.pfx"),
        "-Password",
        "S3cret-Pfx-Pw",
        "-Report",
        &h.p("set.html"),
    ]);
    for f in ["set.html", "import.html"] {
        let html = std::fs::read_to_string(h.path(f)).unwrap();
        assert!(
            !html.contains("S3cret-Pfx-Pw"),
            "{f} shows the password: {html}"
        );
        assert!(html.contains("********"), "{f}: {html}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(h.path(f)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{f}");
        }
    }
}

#[test]
fn ca_password_is_masked_in_the_debug_trace() {
    let h = H::new();
    let r = h.run_env(
        &[("CSCERT_DEBUG_BINDING", "1")],
        &[
            "Request-CsCertificate",
            "-New",
            "-Type",
            "Default",
            "-ComputerFqdn",
            "fe.contoso.com",
            "-KeyAlg",
            "ECDH_P256",
            "-Output",
            &h.p("fe.req"),
            "-CaAccount",
            "CONTOSO\\svc",
            "-CaPassword",
            "Hunter2-Ca",
            "-Verbose",
            "-Report",
            &h.p("r.html"),
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("DEBUG: Bound:"), "{r:?}");
    assert!(!r.stderr.contains("Hunter2-Ca"), "{}", r.stderr);
    assert!(!r.stdout.contains("Hunter2-Ca"));
    assert!(!std::fs::read_to_string(h.path("r.html"))
        .unwrap()
        .contains("Hunter2-Ca"));
}

#[test]
fn empty_password_is_refused_in_every_form() {
    let h = H::new();
    let ca = h.ca("ca", 3650);
    let t = h.issue(&ca, "fe.contoso.com", true);
    let r = h.run(&[
        "Export-CsCertificate",
        "-Thumbprint",
        &t,
        "-Path",
        &h.p("a.pfx"),
        "-Password",
        "",
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(
        r.error().fully_qualified_error_id,
        "ParameterArgumentValidationError,Export-CsCertificate"
    );
    let r = h.run(&[
        "Export-CsCertificate",
        "-Thumbprint",
        &t,
        "-Path",
        &h.p("a.pfx"),
        "-Password:",
    ]);
    assert_ne!(r.code, 0, "{r:?}");
    let r = h.run_env(
        &[("CSCERT_PASSWORD", "")],
        &[
            "Export-CsCertificate",
            "-Thumbprint",
            &t,
            "-Path",
            &h.p("a.pfx"),
        ],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(!h.path("a.pfx").exists());
}

// ---------------------------------------------------------------- defect 5: bounded reads

#[cfg(unix)]
#[test]
fn import_from_dev_zero_stops_at_the_size_cap() {
    let h = H::new();
    let start = std::time::Instant::now();
    let r = h.run(&["Import-CsCertificate", "-Path", "/dev/zero"]);
    assert_eq!(r.code, 1, "{r:?}");
    let e = r.error();
    assert_eq!(
        e.fully_qualified_error_id,
        "FileTooLarge,Import-CsCertificate"
    );
    assert!(e.message.contains("4 MiB"), "the limit is named: {e:?}");
    assert!(start.elapsed() < std::time::Duration::from_secs(10));
    // A topology has its own (larger) limit, also named.
    let r = h.run(&["Publish-CsTopology", "-FileName", "/dev/zero"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.error().message.contains("64 MiB"), "{r:?}");
}

#[cfg(unix)]
#[test]
fn test_cscertificate_reads_a_certificate_from_a_pipe() {
    // `-Path <(cat cert.pem)`: the shell passes /dev/fd/N, a pipe.
    let h = H::new();
    let ca = h.ca("ca", 3650);
    let pem = std::fs::read(Path::new(&ca).join("ca.crt")).unwrap();
    let mut c = h.command(&["Test-CsCertificate", "-Path", "/dev/stdin"]);
    c.stdin(std::process::Stdio::piped());
    c.stdout(std::process::Stdio::piped());
    c.stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(&pem).unwrap();
    }
    let o = child.wait_with_output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("\"Subject\":\"CN=ca Test CA, O=Contoso\""),
        "{out} {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[cfg(unix)]
#[test]
fn folder_walk_skips_fifos_without_blocking() {
    let h = H::new();
    let ca = h.ca("ca", 3650);
    let dir = h.path("certs");
    std::fs::create_dir(&dir).unwrap();
    std::fs::copy(Path::new(&ca).join("ca.crt"), dir.join("a.crt")).unwrap();
    assert!(std::process::Command::new("mkfifo")
        .arg(dir.join("b.cer"))
        .status()
        .unwrap()
        .success());
    std::os::unix::fs::symlink("/dev/zero", dir.join("c.pem")).unwrap();
    let mut c = h.command(&[
        "Test-CsCertificate",
        "-Path",
        &dir.display().to_string(),
        "-Verbose",
    ]);
    c.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("Test-CsCertificate blocked on a FIFO in the folder");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let o = child.wait_with_output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(out.lines().count(), 1, "{out}{err}");
    assert!(
        err.contains("VERBOSE: Skipped") && err.contains("b.cer") && err.contains("FIFO"),
        "{err}"
    );
    assert!(err.contains("c.pem") && err.contains("device"), "{err}");
}

// ---------------------------------------------------------------- defect 7: one bad row

#[test]
fn one_corrupt_store_row_does_not_hide_the_others() {
    let h = H::new();
    let ca = h.ca("ca", 3650);
    let good = h.issue(&ca, "fe.contoso.com", true);
    let bad = h.issue(&ca, "web.contoso.com", true);
    h.ok(&[
        "Set-CsCertificate",
        "-Type",
        "Default",
        "-Thumbprint",
        &good,
    ]);
    h.ok(&[
        "Set-CsCertificate",
        "-Type",
        "WebServicesInternal",
        "-Thumbprint",
        &bad,
    ]);
    h.sql(&format!(
        "UPDATE certificates SET der = x'3003020101' WHERE thumbprint = '{bad}'"
    ));
    for cmdlet in ["Get-CsCertificate", "Test-CsCertificateConfiguration"] {
        let r = h.run(&[cmdlet]);
        assert_eq!(r.code, 1, "{cmdlet}: {r:?}");
        let lines = r.lines();
        assert_eq!(lines.len(), 1, "{cmdlet}: the healthy row is output: {r:?}");
        assert_eq!(lines[0]["Thumbprint"], good.as_str());
        let e = r.error();
        assert_eq!(
            e.fully_qualified_error_id,
            format!("StoredCertificateUnreadable,{cmdlet}")
        );
        assert_eq!(e.target_object.as_deref(), Some(bad.as_str()));
        assert!(
            e.message.contains("WebServicesInternal"),
            "names the use: {e:?}"
        );
    }
    // A row whose columns are damaged (not even a blob) is the same.
    h.sql(&format!(
        "UPDATE certificates SET der = 'text, not a blob', chain = 7 WHERE thumbprint = '{bad}'"
    ));
    let r = h.run(&["Get-CsCertificate"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(r.lines().len(), 1, "{r:?}");
}

// ---------------------------------------------------------------- defect 10: confirmation

fn two_requests(h: &H) {
    for n in ["a", "b"] {
        h.ok(&[
            "Request-CsCertificate",
            "-New",
            "-Type",
            "Default",
            "-ComputerFqdn",
            &format!("{n}.contoso.com"),
            "-KeyAlg",
            "ECDH_P256",
            "-Output",
            &h.p(&format!("{n}.req")),
            "-Force",
        ]);
    }
}

#[test]
fn confirm_at_end_of_input_fails_and_changes_nothing() {
    let h = H::new();
    two_requests(&h);
    let r = h.run_stdin(
        "",
        &[
            "Request-CsCertificate",
            "-Clear",
            "-RequestId",
            "1",
            "-Confirm",
        ],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr
            .contains("[Y] Yes  [A] Yes to All  [N] No  [L] No to All"),
        "{r:?}"
    );
    let e = r.error();
    assert_eq!(
        e.fully_qualified_error_id,
        "ConfirmationNotAnswered,Request-CsCertificate"
    );
    assert!(
        e.message.contains("-Force") && e.message.contains("-Confirm:$false"),
        "{e:?}"
    );
    assert_eq!(h.requests(), 2);
}

#[test]
fn clear_without_request_id_asks_for_confirmation() {
    let h = H::new();
    two_requests(&h);
    // No answer: nothing deleted, exit 1.
    let r = h.run_stdin("", &["Request-CsCertificate", "-Clear"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(h.requests(), 2);
    // "N": declined, nothing deleted, not an error.
    let r = h.run_stdin("n\n", &["Request-CsCertificate", "-Clear"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(h.requests(), 2);
    // "Y" piped on stdin counts.
    let r = h.run_stdin("Y\n", &["Request-CsCertificate", "-Clear"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(h.requests(), 0);
    two_requests(&h);
    h.ok(&["Request-CsCertificate", "-Clear", "-Force"]);
    assert_eq!(h.requests(), 0);
    two_requests(&h);
    h.ok(&["Request-CsCertificate", "-Clear", "-Confirm:$false"]);
    assert_eq!(h.requests(), 0);
    // One request by id does not ask (below the threshold).
    two_requests(&h);
    let id = h.ok(&["Request-CsCertificate", "-List"]).lines()[0]["RequestId"].to_string();
    h.ok(&["Request-CsCertificate", "-Clear", "-RequestId", &id]);
    assert_eq!(h.requests(), 1);
}

#[test]
fn publish_replacing_a_topology_asks_for_confirmation() {
    let h = H::new();
    let topo = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/topology");
    let files: Vec<_> = std::fs::read_dir(&topo)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    let file = files
        .first()
        .expect("a topology fixture")
        .display()
        .to_string();
    h.ok(&["Publish-CsTopology", "-FileName", &file]);
    let r = h.run_stdin("", &["Publish-CsTopology", "-FileName", &file]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("Replace the published topology"), "{r:?}");
    let r = h.run_stdin("N\n", &["Publish-CsTopology", "-FileName", &file]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, "", "declined: nothing published");
    h.ok(&["Publish-CsTopology", "-FileName", &file, "-Force"]);
}

#[test]
fn remove_confirmation_answers_yes_to_all_and_no_to_all() {
    let h = H::new();
    let ca = h.ca("ca", 3650);
    let t = h.issue(&ca, "fe.contoso.com", true);
    h.ok(&[
        "Set-CsCertificate",
        "-Type",
        "Default,WebServicesInternal,WebServicesExternal",
        "-Thumbprint",
        &t,
    ]);
    let r = h.run_stdin(
        "L\n",
        &[
            "Remove-CsCertificate",
            "-Type",
            "Default,WebServicesInternal",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stderr.matches("Are you sure").count(),
        1,
        "L answers the rest: {r:?}"
    );
    assert_eq!(h.run(&["Get-CsCertificate"]).lines().len(), 3);
    let r = h.run_stdin(
        "A\n",
        &[
            "Remove-CsCertificate",
            "-Type",
            "Default,WebServicesInternal",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stderr.matches("Are you sure").count(),
        1,
        "A answers the rest: {r:?}"
    );
    assert_eq!(h.run(&["Get-CsCertificate"]).lines().len(), 1);
    let r = h.run_stdin(
        "",
        &["Remove-CsCertificate", "-Type", "WebServicesExternal"],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(h.run(&["Get-CsCertificate"]).lines().len(), 1);
}

// ---------------------------------------------------------------- defect 9: keys at rest

#[cfg(unix)]
#[test]
fn store_open_to_others_is_refused_with_the_fix() {
    use std::os::unix::fs::PermissionsExt;
    let h = H::new();
    h.ok(&["Request-CsCertificate", "-List"]);
    let set =
        |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    set(&h.store(), 0o755);
    let r = h.run(&["Get-CsCertificate"]);
    assert_eq!(r.code, 1, "{r:?}");
    let e = r.error();
    assert!(
        e.message.contains("chmod 700") && e.message.contains("0755"),
        "{e:?}"
    );
    set(&h.store(), 0o700);
    let db = h.store().join("cscert.db");
    set(&db, 0o644);
    let r = h.run(&["Request-CsCertificate", "-List"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.error().message.contains("chmod 600"), "{r:?}");
    assert_eq!(
        std::fs::metadata(&db).unwrap().permissions().mode() & 0o777,
        0o644,
        "not touched"
    );
    set(&db, 0o600);
    h.ok(&["Request-CsCertificate", "-List"]);
}

/// The bytes of every file of the store (database, log) together.
fn store_bytes(h: &H) -> Vec<u8> {
    let mut all = Vec::new();
    for e in std::fs::read_dir(h.store()).unwrap().flatten() {
        all.extend(std::fs::read(e.path()).unwrap());
    }
    all
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn cleared_keys_do_not_stay_in_the_databases_free_pages() {
    let h = H::new();
    h.ok(&[
        "Request-CsCertificate",
        "-New",
        "-Type",
        "Default",
        "-ComputerFqdn",
        "fe.contoso.com",
        "-Output",
        &h.p("fe.req"),
    ]);
    let key: Vec<u8> = {
        let c = rusqlite::Connection::open(h.store().join("cscert.db")).unwrap();
        c.query_row("SELECT key_pkcs8 FROM requests", [], |r| r.get(0))
            .unwrap()
    };
    // 48 bytes from the middle of the RSA key: the private part.
    let probe = &key[key.len() / 2..key.len() / 2 + 48];
    assert!(
        contains(&store_bytes(&h), probe),
        "the probe is found while the key is stored"
    );
    h.ok(&["Request-CsCertificate", "-Clear", "-Force"]);
    assert!(
        !contains(&store_bytes(&h), probe),
        "the cleared key is still in the store's files"
    );
}

#[test]
fn keys_are_encrypted_at_rest_with_a_store_password() {
    let h = H::new();
    let ca = h.ca("ca", 3650);
    let pw = [("CSCERT_STORE_PASSWORD", "store-pass-1")];
    let r = h.run_env(
        &pw,
        &[
            "Request-CsCertificate",
            "-New",
            "-Type",
            "Default",
            "-ComputerFqdn",
            "fe.contoso.com",
            "-KeyAlg",
            "ECDH_P256",
            "-CA",
            &ca,
            "-PrivateKeyExportable",
            "$true",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let t = r.lines()[0]["Thumbprint"].as_str().unwrap().to_string();
    let key: Vec<u8> = {
        let c = rusqlite::Connection::open(h.store().join("cscert.db")).unwrap();
        c.query_row("SELECT key_pkcs8 FROM certificates", [], |r| r.get(0))
            .unwrap()
    };
    std::fs::write(h.path("stored.der"), &key).unwrap();
    // openssl opens the stored key with the password: it is standard encrypted PKCS#8.
    openssl(
        h.dir.path(),
        &[
            "pkcs8",
            "-inform",
            "DER",
            "-in",
            "stored.der",
            "-passin",
            "pass:store-pass-1",
            "-out",
            "clear.pem",
        ],
    );
    let st = std::process::Command::new("openssl")
        .args([
            "pkcs8",
            "-inform",
            "DER",
            "-in",
            "stored.der",
            "-nocrypt",
            "-out",
            "x.pem",
        ])
        .current_dir(h.dir.path())
        .output()
        .unwrap();
    assert!(
        !st.status.success(),
        "the stored key must not be readable in the clear"
    );
    // Missing or wrong password: a clear error, nothing written.
    let export = |env: &[(&str, &str)]| {
        h.run_env(
            env,
            &[
                "Export-CsCertificate",
                "-Thumbprint",
                &t,
                "-Path",
                &h.p("fe.pfx"),
                "-Password",
                "pfx-pass-1",
            ],
        )
    };
    let r = export(&[]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.error().message.contains("CSCERT_STORE_PASSWORD"), "{r:?}");
    let r = export(&[("CSCERT_STORE_PASSWORD", "wrong")]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.error().message.contains("not the password"), "{r:?}");
    assert!(!h.path("fe.pfx").exists());
    let r = h.run(&[
        "Request-CsCertificate",
        "-New",
        "-Type",
        "Default",
        "-ComputerFqdn",
        "b.contoso.com",
        "-KeyAlg",
        "ECDH_P256",
        "-Output",
        &h.p("b.req"),
    ]);
    assert_eq!(
        r.code, 1,
        "a clear key is not added to an encrypted store: {r:?}"
    );
    assert!(!h.path("b.req").exists());
    assert_eq!(h.requests(), 1);
    // The right password exports a PFX openssl opens.
    let r = export(&pw);
    assert_eq!(r.code, 0, "{r:?}");
    openssl(
        h.dir.path(),
        &[
            "pkcs12",
            "-in",
            "fe.pfx",
            "-passin",
            "pass:pfx-pass-1",
            "-noout",
        ],
    );
    // Reading needs no password.
    h.ok(&["Request-CsCertificate", "-List"]);
}

// ---------------------------------------------------------------- defect 11: unclear errors

#[test]
fn empty_output_path_says_it_is_empty() {
    let h = H::new();
    let r = h.run(&[
        "Request-CsCertificate",
        "-New",
        "-Type",
        "Default",
        "-ComputerFqdn",
        "fe.contoso.com",
        "-KeyAlg",
        "ECDH_P256",
        "-Output",
        "",
    ]);
    assert_eq!(r.code, 1, "{r:?}");
    let e = r.error();
    assert_eq!(
        e.fully_qualified_error_id,
        "OutputPathEmpty,Request-CsCertificate"
    );
    assert!(!e.message.contains("already exists"), "{e:?}");
}

#[test]
fn report_to_a_folder_says_it_is_a_folder() {
    let h = H::new();
    let r = h.run(&["Get-CsCertificate", "-Report", "."]);
    assert_eq!(r.code, 1, "{r:?}");
    let e = r.error();
    assert_eq!(
        e.fully_qualified_error_id,
        "OutputIsFolder,Get-CsCertificate"
    );
    assert!(
        e.message.contains("is a folder") && !e.message.contains("busy"),
        "{e:?}"
    );
}

#[cfg(unix)]
#[test]
fn output_to_a_dangling_link_says_so() {
    let h = H::new();
    std::os::unix::fs::symlink(h.path("nowhere/x.req"), h.path("dangling.req")).unwrap();
    let r = h.run(&[
        "Request-CsCertificate",
        "-New",
        "-Type",
        "Default",
        "-ComputerFqdn",
        "fe.contoso.com",
        "-KeyAlg",
        "ECDH_P256",
        "-Output",
        &h.p("dangling.req"),
        "-Force",
    ]);
    assert_eq!(r.code, 1, "{r:?}");
    let e = r.error();
    assert_eq!(
        e.fully_qualified_error_id,
        "OutputLinkDangling,Request-CsCertificate"
    );
    assert!(
        e.message.contains("symbolic link") && e.message.contains("does not exist"),
        "{e:?}"
    );
    assert_eq!(h.requests(), 0);
}

#[test]
fn unversioned_database_is_named_not_dumped() {
    let h = H::new();
    std::fs::create_dir(h.store()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(h.store(), std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    {
        let c = rusqlite::Connection::open(h.store().join("cscert.db")).unwrap();
        c.execute_batch("CREATE TABLE requests (id INTEGER PRIMARY KEY, x TEXT);")
            .unwrap();
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            h.store().join("cscert.db"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
    }
    let r = h.run(&["Get-CsCertificate"]);
    assert_eq!(r.code, 1, "{r:?}");
    let e = r.error();
    assert!(!e.message.contains("CREATE TABLE"), "{e:?}");
    assert!(e.message.contains("no cscert schema version"), "{e:?}");
}

#[cfg(unix)]
#[test]
fn read_only_store_still_reads() {
    use std::os::unix::fs::PermissionsExt;
    let h = H::new();
    let ca = h.ca("ca", 3650);
    let t = h.issue(&ca, "fe.contoso.com", true);
    h.ok(&["Set-CsCertificate", "-Type", "Default", "-Thumbprint", &t]);
    let root = unsafe { libc::geteuid() } == 0;
    // Root ignores file permissions: the test needs setpriv (util-linux) to drop them.
    if root && !require("read_only_store_still_reads", &["setpriv"]) {
        return;
    }
    // root ignores permissions: the store then belongs to nobody, and cscert runs as nobody.
    let nobody = 65534u32;
    let as_user = |args: &[&str]| -> Run {
        if root {
            let exe = bin().display().to_string();
            let mut full = vec!["--reuid", "65534", "--regid", "65534", "--clear-groups"];
            full.push(&exe);
            full.extend_from_slice(args);
            let mut c2 = std::process::Command::new("setpriv");
            c2.args(full)
                .current_dir("/")
                .env("CSCERT_STORE", h.store())
                .env("CSCERT_COMPUTERFQDN", COMPUTER)
                .env("CSCERT_ERROR_FORMAT", "json")
                .env("TZ", "UTC")
                .stdin(std::process::Stdio::null());
            H::exec(c2, None)
        } else {
            h.run(args)
        }
    };
    if root {
        for p in [
            h.dir.path().to_path_buf(),
            h.store(),
            h.store().join("cscert.db"),
        ] {
            std::os::unix::fs::chown(&p, Some(nobody), Some(nobody)).unwrap();
        }
        for e in std::fs::read_dir(h.store()).unwrap().flatten() {
            std::os::unix::fs::chown(e.path(), Some(nobody), Some(nobody)).unwrap();
        }
    }
    std::fs::set_permissions(h.store(), std::fs::Permissions::from_mode(0o500)).unwrap();
    let r = as_user(&["Get-CsCertificate"]);
    std::fs::set_permissions(h.store(), std::fs::Permissions::from_mode(0o700)).unwrap();
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.lines().len(), 1, "{r:?}");
    std::fs::set_permissions(h.store(), std::fs::Permissions::from_mode(0o500)).unwrap();
    let r = as_user(&["Request-CsCertificate", "-Clear", "-Force"]);
    std::fs::set_permissions(h.store(), std::fs::Permissions::from_mode(0o700)).unwrap();
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.error().message.contains("read-only"), "{r:?}");
}

#[test]
fn corrupt_pfx_is_called_damaged_not_a_wrong_password() {
    let h = H::new();
    let ca = h.ca("ca", 3650);
    let t = h.issue(&ca, "fe.contoso.com", true);
    h.ok(&[
        "Export-CsCertificate",
        "-Thumbprint",
        &t,
        "-Path",
        &h.p("fe.pfx"),
        "-Password",
        "pfx-pass-1",
    ]);
    let mut b = std::fs::read(h.path("fe.pfx")).unwrap();
    let mid = b.len() / 3;
    b[mid] ^= 0x55;
    std::fs::write(h.path("bad.pfx"), &b).unwrap();
    let h2 = H::new();
    let r = h2.run(&[
        "Import-CsCertificate",
        "-Path",
        &h.p("bad.pfx"),
        "-Password",
        "pfx-pass-1",
    ]);
    assert_eq!(r.code, 1, "{r:?}");
    let e = r.error();
    assert!(
        !e.message
            .starts_with("The specified network password is not correct"),
        "{e:?}"
    );
    assert!(e.message.contains("damaged"), "{e:?}");
    // A truncated one too.
    let good = std::fs::read(h.path("fe.pfx")).unwrap();
    std::fs::write(h.path("cut.pfx"), &good[..good.len() - 40]).unwrap();
    let r = h2.run(&[
        "Import-CsCertificate",
        "-Path",
        &h.p("cut.pfx"),
        "-Password",
        "pfx-pass-1",
    ]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.error().message.contains("truncated or damaged"), "{r:?}");
    // A wrong password is still called that.
    let r = h2.run(&[
        "Import-CsCertificate",
        "-Path",
        &h.p("fe.pfx"),
        "-Password",
        "nope",
    ]);
    assert_eq!(
        r.error().fully_qualified_error_id,
        "WrongPassword,Import-CsCertificate"
    );
}

#[test]
fn test_cscertificate_reads_p7b_like_import() {
    let h = H::new();
    let ca = h.ca("ca", 3650);
    let t = h.issue(&ca, "fe.contoso.com", true);
    h.ok(&[
        "Export-CsCertificate",
        "-Thumbprint",
        &t,
        "-Path",
        &h.p("fe.pem"),
        "-Password",
        "pem-pass-1",
        "-Format",
        "Pem",
    ]);
    openssl(
        h.dir.path(),
        &[
            "crl2pkcs7",
            "-nocrl",
            "-certfile",
            "fe.pem",
            "-outform",
            "DER",
            "-out",
            "chain.p7b",
        ],
    );
    let r = h.run(&["Test-CsCertificate", "-Path", &h.p("chain.p7b")]);
    assert_ne!(r.code, 1, "{r:?}");
    let lines = r.lines();
    assert_eq!(lines.len(), 1, "{r:?}");
    assert_eq!(lines[0]["Thumbprint"], t.as_str());
    // Found in a folder too.
    std::fs::create_dir(h.path("d")).unwrap();
    std::fs::copy(h.path("chain.p7b"), h.path("d/chain.p7b")).unwrap();
    let r = h.run(&["Test-CsCertificate", "-Path", &h.p("d")]);
    assert_eq!(r.lines().len(), 1, "{r:?}");
}

// ---------------------------------------------------------------- defect 12: fields

fn new_req(h: &H, extra: &[&str]) -> Run {
    let out = h.p("f.req");
    let mut a = vec![
        "Request-CsCertificate",
        "-New",
        "-Type",
        "Default",
        "-ComputerFqdn",
        "fe.contoso.com",
        "-Output",
        &out,
        "-Force",
    ];
    a.extend_from_slice(extra);
    h.run(&a)
}

#[test]
fn key_size_with_an_ec_key_warns() {
    let h = H::new();
    let r = new_req(&h, &["-KeyAlg", "ECDH_P256", "-KeySize", "4096"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr
            .contains("WARNING: -KeySize 4096 applies to RSA keys only"),
        "{r:?}"
    );
    assert_eq!(r.lines()[0]["KeySize"], 256);
}

#[test]
fn control_characters_in_subject_fields_are_refused() {
    let h = H::new();
    for (p, v) in [
        ("-OU", "IT\nCN=evil"),
        ("-Organization", "Contoso\u{7}"),
        ("-City", "Red\tmond"),
        ("-State", "WA\r"),
    ] {
        let r = new_req(&h, &["-KeyAlg", "ECDH_P256", p, v]);
        assert_eq!(r.code, 2, "{p}: {r:?}");
        let e = r.error();
        assert!(e.message.contains("control character"), "{e:?}");
        assert!(!h.path("f.req").exists(), "nothing written for {p}");
    }
    assert_eq!(h.requests(), 0);
}

#[test]
fn x520_length_upper_bounds_are_enforced() {
    let h = H::new();
    let long = "S".repeat(200);
    let r = new_req(&h, &["-KeyAlg", "ECDH_P256", "-State", &long]);
    assert_eq!(r.code, 2, "{r:?}");
    let e = r.error();
    assert!(
        e.message.contains("at most 128") && e.message.contains("ub-state-name"),
        "{e:?}"
    );
    let r = new_req(&h, &["-KeyAlg", "ECDH_P256", "-OU", &"O".repeat(65)]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.error().message.contains("at most 64"), "{r:?}");
    // At the bound: accepted, and openssl reads the request.
    let r = new_req(
        &h,
        &[
            "-KeyAlg",
            "ECDH_P256",
            "-State",
            &"S".repeat(128),
            "-OU",
            &"O".repeat(64),
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    openssl(h.dir.path(), &["req", "-verify", "-noout", "-in", "f.req"]);
}

#[test]
fn repeated_type_parameter_merges_its_values() {
    // pwsh splats an array to a native command as -Type:A -Type:B.
    let h = H::new();
    let r = new_req(
        &h,
        &[
            "-KeyAlg",
            "ECDH_P256",
            "-Type:WebServicesInternal",
            "-Type:WebServicesExternal",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.lines()[0]["Use"],
        serde_json::json!(["Default", "WebServicesInternal", "WebServicesExternal"])
    );
}

// ---------------------------------------------------------------- defect 13: identity fallbacks

/// A self-signed certificate with one extra extension (openssl `-addext`), for `cn`.
fn cert_with(h: &H, name: &str, cn: &str, ext: &str) -> String {
    let out = h.p(name);
    openssl(
        h.dir.path(),
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-noenc",
            "-keyout",
            &h.p(&format!("{name}.key")),
            "-out",
            &out,
            "-subj",
            &format!("/CN={cn}"),
            "-addext",
            ext,
            "-days",
            "30",
        ],
    );
    out
}

fn xmpp_coverage(h: &H, path: &str, domain: &str) -> serde_json::Value {
    let r = h.run(&["Test-CsCertificate", "-Path", path, "-XmppDomain", domain]);
    r.lines()[0]["XmppDomains"][0].clone()
}

#[test]
fn cn_is_no_fallback_when_a_san_extension_exists() {
    let h = H::new();
    let d = "xmpp.contoso.com";
    // Undecodable SAN extensions (truncated, wrong element type) and an IP-only SAN.
    for (i, ext) in [
        "2.5.29.17=DER:3005820361",
        "2.5.29.17=DER:30030201FF",
        "subjectAltName=IP:192.0.2.1",
    ]
    .iter()
    .enumerate()
    {
        let p = cert_with(&h, &format!("c{i}.crt"), d, ext);
        let c = xmpp_coverage(&h, &p, d);
        assert_eq!(c["Covered"], false, "{ext}: {c}");
        assert_eq!(c["CoveredBy"], serde_json::json!([]), "{ext}: {c}");
    }
    // No SAN extension at all: the CN still counts (legacy), and SAN-MISSING is an Error.
    let p = cert_with(&h, "nosan.crt", d, "keyUsage=digitalSignature");
    let r = h.run(&["Test-CsCertificate", "-Path", &p, "-XmppDomain", d]);
    let line = &r.lines()[0];
    assert_eq!(
        line["XmppDomains"][0]["CoveredBy"],
        serde_json::json!(["CommonName"]),
        "{r:?}"
    );
    let missing = line["Findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["RuleId"] == "SAN-MISSING")
        .cloned();
    assert_eq!(missing.expect("SAN-MISSING")["Severity"], "Error");
}

#[test]
fn wildcards_under_any_public_suffix_cover_nothing() {
    let h = H::new();
    for (suffix, covered) in [
        ("co.uk", false),
        ("s3.amazonaws.com", false),
        ("github.io", false),
        ("com", false),
        ("contoso.com", true),
        ("contoso.co.uk", true),
    ] {
        let p = cert_with(
            &h,
            &format!("{suffix}.crt"),
            "x",
            &format!("subjectAltName=DNS:*.{suffix}"),
        );
        let c = xmpp_coverage(&h, &p, &format!("a.{suffix}"));
        assert_eq!(c["Covered"], covered, "*.{suffix}: {c}");
    }
    // The wildcard rule uses the same list.
    let p = h.p("s3.amazonaws.com.crt");
    let r = h.run(&["Test-CsCertificate", "-Path", &p]);
    assert!(r.stdout.contains("WILDCARD-PUBLIC-SUFFIX"), "{r:?}");
}

// ---------------------------------------------------------------- defect 6: topology parse

fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/topology")
            .join(name),
    )
    .unwrap()
}

/// Runs Publish-CsTopology on `xml`; returns the outcome and the seconds it took.
fn publish_timed(h: &H, name: &str, xml: &str) -> (Run, f64) {
    std::fs::write(h.path(name), xml).unwrap();
    let t = std::time::Instant::now();
    let r = h.run(&["Publish-CsTopology", "-FileName", &h.p(name), "-Force"]);
    (r, t.elapsed().as_secs_f64())
}

#[test]
fn topology_element_with_200000_attributes_is_refused_quickly() {
    let h = H::new();
    let attrs: String = (0..200_000).map(|i| format!(" a{i}=\"v\"")).collect();
    let xml = format!("<?xml version=\"1.0\"?>\n<Topology xmlns=\"urn:schema:Microsoft.Rtc.Management.Deploy.Topology.2008\"{attrs}></Topology>\n");
    let (r, secs) = publish_timed(&h, "attrs.xml", &xml);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.error().message.contains("more than 256 attributes"),
        "{r:?}"
    );
    assert!(secs < 10.0, "took {secs} s");
}

#[test]
fn topology_parse_and_names_are_linear_in_the_size() {
    let h = H::new();
    let base = fixture("single-edge.published.xml");
    let grown = |n: usize| {
        let extra: String = (0..n)
            .map(|i| format!("<Cluster RequiresReplication=\"true\" RequiresSetup=\"true\" Fqdn=\"m{i}.contoso.com\"><ClusterId SiteId=\"1\" Number=\"{}\" /><Machine OrdinalInCluster=\"1\" Fqdn=\"m{i}.contoso.com\" /></Cluster>\n", 1000 + i))
            .collect();
        base.replacen("<Clusters>", &format!("<Clusters>{extra}"), 1)
    };
    // Best of three runs each: other tests running beside this one only ever add time, and a
    // single run slowed by them once pushed the ratio past the bound.
    let best = |name: &str, xml: &str| {
        (0..3)
            .map(|_| {
                let (r, t) = publish_timed(&h, name, xml);
                assert_eq!(r.code, 0, "{r:?}");
                t
            })
            .fold(f64::MAX, f64::min)
    };
    let small = best("s.xml", &grown(3_000));
    let large = best("l.xml", &grown(24_000));
    // 8 times the size: linear is about 8 times the time, quadratic 64 times.
    let ratio = large / small.max(0.02);
    assert!(
        ratio < 24.0,
        "3k clusters {small:.2} s, 24k clusters {large:.2} s (x{ratio:.1})"
    );
}

#[test]
fn errors_quote_at_most_200_characters_of_a_value() {
    let h = H::new();
    let huge = "x".repeat(5_000_000);
    let base = fixture("single-edge.published.xml");
    let bad_default = base.replacen(
        "DefaultDomain=\"contoso.com\"",
        &format!("DefaultDomain=\"{huge}\""),
        1,
    );
    assert_ne!(bad_default, base);
    for (name, xml) in [
        ("entity.xml", format!("<?xml version=\"1.0\"?>\n<Topology xmlns=\"urn:schema:Microsoft.Rtc.Management.Deploy.Topology.2008\">&{huge};</Topology>")),
        ("value.xml", bad_default),
    ] {
        let (r, _) = publish_timed(&h, name, &xml);
        assert_eq!(r.code, 1, "{name}");
        assert!(r.stderr.len() < 2_000, "{name}: {} bytes on stderr", r.stderr.len());
        assert!(r.error().message.contains("characters in all)"), "{name}: {}", r.stderr);
    }
}

// ---------------------------------------------------------------- defect 8: signatures

/// A key and certificate for `cn` signed by the openssl CA in `ca` (PEM files `<stem>.key`,
/// `<stem>.crt`), with serverAuth and the name as DNS SAN.
fn signed_leaf(h: &H, ca: &str, stem: &str, cn: &str) {
    signed_leaf_with_eku(h, ca, stem, cn, "serverAuth,clientAuth");
}

/// [`signed_leaf`] with the given extendedKeyUsage (openssl's names).
fn signed_leaf_with_eku(h: &H, ca: &str, stem: &str, cn: &str, eku: &str) {
    let d = h.dir.path();
    openssl(
        d,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-noenc",
            "-keyout",
            &format!("{stem}.key"),
            "-subj",
            &format!("/CN={cn}"),
            "-out",
            &format!("{stem}.csr"),
        ],
    );
    std::fs::write(
        h.path(&format!("{stem}.ext")),
        format!(
            "subjectAltName=DNS:{cn}\nextendedKeyUsage={eku}\nkeyUsage=critical,digitalSignature\n"
        ),
    )
    .unwrap();
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            &format!("{stem}.csr"),
            "-CA",
            &format!("{ca}/ca.crt"),
            "-CAkey",
            &format!("{ca}/ca.key"),
            "-CAcreateserial",
            "-days",
            "60",
            "-extfile",
            &format!("{stem}.ext"),
            "-out",
            &format!("{stem}.crt"),
        ],
    );
}

/// The certificate with one byte of its subject name changed (same length: still DER, but the
/// signature no longer matches).
fn tamper(h: &H, from: &str, to: &str, cn: &str, evil_cn: &str) {
    let d = h.dir.path();
    openssl(
        d,
        &["x509", "-in", from, "-outform", "DER", "-out", "t.der"],
    );
    let der = std::fs::read(h.path("t.der")).unwrap();
    let pos = der
        .windows(cn.len())
        .position(|w| w == cn.as_bytes())
        .expect("the CN in the DER");
    let mut bad = der.clone();
    bad[pos..pos + cn.len()].copy_from_slice(evil_cn.as_bytes());
    std::fs::write(h.path(to), bad).unwrap();
}

#[test]
fn tampered_pfx_is_refused_by_import() {
    let h = H::new();
    let ca = h.ca("ca", 3650);
    signed_leaf(&h, &ca, "fe", "fe.contoso.com");
    tamper(&h, "fe.crt", "evil.der", "fe.contoso.com", "fx.contoso.com");
    let d = h.dir.path();
    openssl(
        d,
        &[
            "x509", "-inform", "DER", "-in", "evil.der", "-out", "evil.crt",
        ],
    );
    h.openssl_pfx(
        "evil.crt",
        "fe.key",
        Some(&format!("{ca}/ca.crt")),
        "evil.pfx",
        "pfx-pass-1",
    );
    let r = h.run(&[
        "Import-CsCertificate",
        "-Path",
        &h.p("evil.pfx"),
        "-Password",
        "pfx-pass-1",
    ]);
    assert_eq!(r.code, 1, "{r:?}");
    let e = r.error();
    assert_eq!(
        e.fully_qualified_error_id,
        "CertificateSignatureInvalid,Import-CsCertificate"
    );
    assert!(e.message.contains("fx.contoso.com"), "{e:?}");
    assert_eq!(h.certificates(), 0);
    // The untampered one imports.
    h.openssl_pfx(
        "fe.crt",
        "fe.key",
        Some(&format!("{ca}/ca.crt")),
        "fe.pfx",
        "pfx-pass-1",
    );
    h.ok(&[
        "Import-CsCertificate",
        "-Path",
        &h.p("fe.pfx"),
        "-Password",
        "pfx-pass-1",
    ]);
}

#[test]
fn tampered_certificate_fails_once_its_issuer_is_known() {
    let h = H::new();
    let ca = h.ca("ca", 3650);
    signed_leaf(&h, &ca, "fe", "fe.contoso.com");
    tamper(&h, "fe.crt", "evil.der", "fe.contoso.com", "fx.contoso.com");
    let d = h.dir.path();
    openssl(
        d,
        &[
            "x509", "-inform", "DER", "-in", "evil.der", "-out", "evil.crt",
        ],
    );
    // Leaf and key only: the issuer is not known yet, so it imports and can be assigned.
    h.openssl_pfx("evil.crt", "fe.key", None, "evil.pfx", "pfx-pass-1");
    let r = h.ok(&[
        "Import-CsCertificate",
        "-Path",
        &h.p("evil.pfx"),
        "-Password",
        "pfx-pass-1",
    ]);
    let t = r.lines()[0]["Thumbprint"].as_str().unwrap().to_string();
    h.ok(&["Set-CsCertificate", "-Type", "Default", "-Thumbprint", &t]);
    // The CA arrives in the store: now the signature is checked.
    h.ok(&["Import-CsCertificate", "-Path", &format!("{ca}/ca.crt")]);
    let r = h.run(&["Test-CsCertificate", "-Thumbprint", &t]);
    assert_eq!(r.code, 3, "{r:?}");
    let line = &r.lines()[0];
    assert_eq!(line["Passed"], false, "{r:?}");
    assert!(r.stdout.contains("SIGNATURE-INVALID"), "{r:?}");
    let r = h.run(&["Test-CsCertificateConfiguration"]);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(
        r.errors().iter().any(|e| e.fully_qualified_error_id
            == "AssignedCertificateSignatureInvalid,Test-CsCertificateConfiguration"),
        "{r:?}"
    );
    // A file that carries its issuer is checked the same way.
    let mut bundle = std::fs::read_to_string(h.path("evil.crt")).unwrap();
    bundle.push_str(&std::fs::read_to_string(format!("{ca}/ca.crt")).unwrap());
    std::fs::write(h.path("bundle.pem"), bundle).unwrap();
    let h2 = H::new();
    let r = h2.run(&["Test-CsCertificate", "-Path", &h.p("bundle.pem")]);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(r.stdout.contains("SIGNATURE-INVALID"), "{r:?}");
    // The good certificate passes the same check.
    let r = h2.run(&[
        "Test-CsCertificate",
        "-Path",
        &h.p("fe.crt"),
        "-TrustedRoot",
        &format!("{ca}/ca.crt"),
    ]);
    assert_eq!(r.code, 0, "{r:?}");
}

#[test]
fn trusted_root_reports_incomplete_and_untrusted_chains() {
    let h = H::new();
    let ca = h.ca("ca", 3650);
    let other = h.ca("other", 3650);
    signed_leaf(&h, &ca, "fe", "fe.contoso.com");
    let mut bundle = std::fs::read_to_string(h.path("fe.crt")).unwrap();
    bundle.push_str(&std::fs::read_to_string(format!("{ca}/ca.crt")).unwrap());
    std::fs::write(h.path("bundle.pem"), bundle).unwrap();
    let rule = |r: &Run, id: &str| r.stdout.contains(&format!("\"RuleId\":\"{id}\""));
    let r = h.run(&[
        "Test-CsCertificate",
        "-Path",
        &h.p("fe.crt"),
        "-TrustedRoot",
        &format!("{other}/ca.crt"),
    ]);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(rule(&r, "CHAIN-INCOMPLETE"), "{r:?}");
    let r = h.run(&[
        "Test-CsCertificate",
        "-Path",
        &h.p("bundle.pem"),
        "-TrustedRoot",
        &other,
    ]);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(rule(&r, "ROOT-UNTRUSTED"), "{r:?}");
    let r = h.run(&[
        "Test-CsCertificate",
        "-Path",
        &h.p("bundle.pem"),
        "-TrustedRoot",
        &ca,
    ]);
    assert_eq!(r.code, 0, "a folder of roots: {r:?}");
    // The configuration check takes -TrustedRoot too.
    let ca_s = h.ca("lab", 3650);
    let t = h.issue(&ca_s, "fe.contoso.com", true);
    h.ok(&["Set-CsCertificate", "-Type", "Default", "-Thumbprint", &t]);
    h.ok(&["Test-CsCertificateConfiguration", "-TrustedRoot", &ca_s]);
    let r = h.run(&["Test-CsCertificateConfiguration", "-TrustedRoot", &other]);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(
        r.errors().iter().any(|e| e
            .fully_qualified_error_id
            .starts_with("AssignedCertificateRootUntrusted")
            || e.fully_qualified_error_id
                .starts_with("AssignedCertificateChainIncomplete")),
        "{r:?}"
    );
}

// ---------------------------------------------------------------- mutation-check boundaries

#[test]
fn boundary_any_extended_key_usage_satisfies_the_eku_rules() {
    let h = H::new();
    let ca = h.ca("ca", 3650);
    for (stem, eku) in [("any", "anyExtendedKeyUsage"), ("email", "emailProtection")] {
        signed_leaf_with_eku(&h, &ca, stem, "sip.contoso.com", eku);
    }
    // Edge external: both server and client authentication are checked.
    let args = |f: &str| {
        vec![
            "Test-CsCertificate".to_string(),
            "-Path".into(),
            h.p(f),
            "-Type".into(),
            "AccessEdgeExternal".into(),
        ]
    };
    let run = |f: &str| {
        let a = args(f);
        h.run(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let any = rule_ids(&run("any.crt").lines()[0]);
    assert!(
        !any.iter().any(|r| r.starts_with("EKU-")),
        "anyExtendedKeyUsage: {any:?}"
    );
    let email = rule_ids(&run("email.crt").lines()[0]);
    assert!(
        email.contains(&"EKU-NO-SERVER-AUTH".to_string()),
        "{email:?}"
    );
}

#[test]
fn boundary_pfx_whose_key_matches_no_certificate_is_refused() {
    let h = H::new();
    let ca = h.ca("ca", 3650);
    let d = h.dir.path();
    openssl(
        d,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "stray.key",
        ],
    );
    // A certificate (the CA's) with a key that belongs to none of the certificates: openssl
    // refuses to write that, so the PFX is assembled from a key-only PFX plus -nokeys parts.
    openssl(
        d,
        &[
            "pkcs12",
            "-export",
            "-nocerts",
            "-inkey",
            "stray.key",
            "-out",
            "keyonly.pfx",
            "-passout",
            "pass:pw",
        ],
    );
    let key_only = h.run(&[
        "Import-CsCertificate",
        "-Path",
        &h.p("keyonly.pfx"),
        "-Password",
        "pw",
    ]);
    assert_eq!(key_only.code, 1, "{key_only:?}");
    // The same stray key beside a certificate, in one PEM file.
    let mut pem = std::fs::read_to_string(format!("{ca}/ca.crt")).unwrap();
    pem.push_str(&std::fs::read_to_string(h.path("stray.key")).unwrap());
    std::fs::write(h.path("mismatch.pem"), pem).unwrap();
    let r = h.run(&["Import-CsCertificate", "-Path", &h.p("mismatch.pem")]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.error()
            .message
            .contains("does not belong to any certificate"),
        "{r:?}"
    );
    assert_eq!(h.certificates(), 0);
    // A real PFX holding a certificate and a key that is not its key (openssl will not write
    // one, so p12-keystore does, as a forger would).
    let (_, cert) = openssl_pair(&h);
    let stray = pem::parse(std::fs::read(h.path("stray.key")).unwrap()).unwrap();
    let mut ks = p12_keystore::KeyStore::new();
    ks.add_entry(
        "forged",
        p12_keystore::KeyStoreEntry::PrivateKeyChain(p12_keystore::PrivateKeyChain::new(
            [1u8; 20].as_slice(),
            p12_keystore::PrivateKey::from_der(stray.contents()).unwrap(),
            vec![p12_keystore::Certificate::from_der(&cert).unwrap()],
        )),
    );
    let bytes = ks.writer("pw").write().unwrap();
    std::fs::write(h.path("forged.pfx"), bytes).unwrap();
    // It is a PFX with one key and one certificate...
    openssl(
        d,
        &[
            "pkcs12",
            "-in",
            "forged.pfx",
            "-passin",
            "pass:pw",
            "-noout",
        ],
    );
    // ...and is refused: the key belongs to no certificate in it.
    let r = h.run(&[
        "Import-CsCertificate",
        "-Path",
        &h.p("forged.pfx"),
        "-Password",
        "pw",
    ]);
    assert_eq!(
        r.code, 1,
        "a PFX whose key matches none of its certificates imported: {r:?}"
    );
    assert!(r.error().message.contains("does not belong to"), "{r:?}");
    assert_eq!(h.certificates(), 0);
}

/// A leaf certificate (DER) made by openssl with its own key.
fn openssl_pair(h: &H) -> (Vec<u8>, Vec<u8>) {
    let d = h.dir.path();
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-noenc",
            "-keyout",
            "pair.key",
            "-subj",
            "/CN=pair.contoso.com",
            "-days",
            "30",
            "-outform",
            "DER",
            "-out",
            "pair.der",
        ],
    );
    (
        std::fs::read(h.path("pair.key")).unwrap(),
        std::fs::read(h.path("pair.der")).unwrap(),
    )
}

#[test]
fn boundary_roll_with_certificate_expiring_exactly_at_the_effective_instant() {
    let h = H::new();
    let ca = h.ca("ca", 3650);
    let t = h.issue(&ca, "fe.contoso.com", true);
    let na = h.ok(&["Test-CsCertificate", "-Thumbprint", &t]).lines()[0]["NotAfter"]
        .as_str()
        .unwrap()
        .to_string();
    let at = |d: &str| {
        h.run(&[
            "Set-CsCertificate",
            "-Type",
            "Default",
            "-Thumbprint",
            &t,
            "-Roll",
            "-EffectiveDate",
            d,
        ])
    };
    let exact = at(&na);
    assert_eq!(
        exact.code, 1,
        "expiring exactly when it becomes current: {exact:?}"
    );
    assert_eq!(
        exact.error().fully_qualified_error_id,
        "CertificateExpiresBeforeEffectiveDate,Set-CsCertificate"
    );
    let na_t = chrono::DateTime::parse_from_rfc3339(&na).unwrap();
    let before = (na_t - chrono::Duration::seconds(1))
        .to_utc()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let r = at(&before);
    assert_eq!(r.code, 0, "one second before the end: {r:?}");
}

#[test]
fn boundary_key_too_small_at_2047_and_2048_rsa_bits() {
    let h = H::new();
    let d = h.dir.path();
    for bits in [2047, 2048] {
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-newkey",
                &format!("rsa:{bits}"),
                "-noenc",
                "-keyout",
                &format!("k{bits}.key"),
                "-subj",
                "/CN=sip.contoso.com",
                "-addext",
                "subjectAltName=DNS:sip.contoso.com",
                "-days",
                "30",
                "-out",
                &format!("k{bits}.crt"),
            ],
        );
    }
    let ids = |bits: u32| {
        rule_ids(
            &h.run(&["Test-CsCertificate", "-Path", &h.p(&format!("k{bits}.crt"))])
                .lines()[0],
        )
    };
    assert!(
        ids(2047).contains(&"KEY-TOO-SMALL".to_string()),
        "2047 bits: {:?}",
        ids(2047)
    );
    assert!(
        !ids(2048).contains(&"KEY-TOO-SMALL".to_string()),
        "2048 bits: {:?}",
        ids(2048)
    );
}
