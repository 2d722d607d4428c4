//! Update-CsCertificate: renewal without a person, run against the built binary the way a timer
//! runs it, with the clock fixed (`CSCERT_NOW`). Lab-CA certificates here; certificates from a
//! real ACME server (pebble) and the ACME renewal information (RFC 9773) in `renewal_acme.rs`.
//! openssl checks what was issued.

mod support;

use serde::Deserialize;
use support::lifecycle::*;
use support::*;

/// Update-CsCertificate's object, as these tests expect it.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct Renewal {
    #[serde(rename = "Use")]
    pub use_name: String,
    pub identity: String,
    pub status: String,
    pub thumbprint: Option<String>,
    pub previous_thumbprint: Option<String>,
    pub not_after: Option<String>,
    pub renew_after: Option<String>,
    pub effective_time: Option<String>,
    pub source: String,
    pub reason: String,
}

const T0: &str = "2026-01-01T00:00:00Z";
/// 90-day certificates issued at T0 are due from day 60 (a third of the lifetime left).
const DAY_59: &str = "2026-03-01T00:00:00Z";
const DAY_61: &str = "2026-03-03T00:00:00Z";
const WEB_USES: &str = "Default,WebServicesInternal,WebServicesExternal";

/// A lab with a CA, and a 90-day RSA-3072 certificate for the Front End uses issued at T0 with
/// extra names, assigned at T0. Returns the lab, the CA and the thumbprint.
fn front_end() -> (Lab, TestCa, String) {
    let lab = Lab::new();
    let ca = backdated_ca(&lab, "ca", "Contoso Renewal CA");
    let names = "pool.contoso.com, meet.contoso.com";
    let t = issue_90(&lab, &ca, WEB_USES, COMPUTER, names, &["-KeySize", "3072"]);
    lab.ok_at(
        T0,
        &["Set-CsCertificate", "-Type", WEB_USES, "-Thumbprint", &t],
    );
    (lab, ca, t)
}

/// A lab CA valid from 2020 to 2040: the tests' clock (T0 and later) must fall inside it, since
/// the lab CA never issues before its own NotBefore. openssl 3.0's `req -x509` dates a
/// certificate from now only, so rcgen makes it (same subject as `make_ca`).
fn backdated_ca(lab: &Lab, name: &str, cn: &str) -> TestCa {
    let ca = lab.make_ca(name, cn, 3650);
    let key = rcgen::KeyPair::generate().unwrap();
    let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(rcgen::DnType::CountryName, "US");
    p.distinguished_name
        .push(rcgen::DnType::OrganizationName, "Contoso, Inc");
    p.distinguished_name.push(rcgen::DnType::CommonName, cn);
    p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    p.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    p.not_before = rcgen::date_time_ymd(2020, 1, 1);
    p.not_after = rcgen::date_time_ymd(2040, 1, 1);
    let cert = p.self_signed(&key).unwrap();
    std::fs::write(&ca.cert, cert.pem()).unwrap();
    std::fs::write(&ca.key, key.serialize_pem()).unwrap();
    ca
}

/// A 90-day certificate issued by the lab CA at T0 (exportable key); its thumbprint.
fn issue_90(
    lab: &Lab,
    ca: &TestCa,
    uses: &str,
    computer: &str,
    names: &str,
    extra: &[&str],
) -> String {
    let ca_dir = ca.dir_s();
    let mut args = vec![
        "Request-CsCertificate",
        "-New",
        "-Type",
        uses,
        "-ComputerFqdn",
        computer,
        "-DomainName",
        names,
        "-PrivateKeyExportable",
        "True",
        "-CA",
        &ca_dir,
        "-ValidityDays",
        "90",
    ];
    args.extend_from_slice(extra);
    let c: Stored = lab.ok_at(T0, &args).one();
    c.thumbprint
}

fn update(lab: &Lab, now: &str, extra: &[&str]) -> (Run, Vec<Renewal>) {
    let mut args = vec!["Update-CsCertificate", "-Force"];
    args.extend_from_slice(extra);
    let r = lab.run_at(now, &args);
    let rows = r.objects();
    (r, rows)
}

/// The certificates in the store (an independent look, not through cscert).
fn stored_certificates(lab: &Lab) -> i64 {
    let db = rusqlite::Connection::open_with_flags(
        lab.store().join("cscert.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    db.query_row("SELECT COUNT(*) FROM certificates", [], |r| r.get(0))
        .unwrap()
}

/// `openssl x509 -text` of a stored certificate, through Export-CsCertificate -Format Pem.
fn cert_text(lab: &Lab, thumbprint: &str) -> String {
    let out = lab.p(&format!("{thumbprint}.pem"));
    lab.run_env(
        &[("CSCERT_PASSWORD", "renewal-test")],
        &[
            "Export-CsCertificate",
            "-Thumbprint",
            thumbprint,
            "-Path",
            &out,
            "-Format",
            "Pem",
            "-Force",
        ],
    )
    .assert_code(0);
    lab.openssl(&["x509", "-in", &out, "-noout", "-text"])
}

#[test]
fn a_certificate_not_due_is_left_alone_and_says_when_it_will_be() {
    let (lab, _ca, old) = front_end();
    let (r, rows) = update(&lab, DAY_59, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(rows.len(), 3, "one object per use: {rows:?}");
    for row in &rows {
        assert_eq!(row.status, "NotDue");
        assert_eq!(row.thumbprint.as_deref(), Some(old.as_str()));
        assert_eq!(row.identity, COMPUTER);
        // 90 days from T0, due when a third remains: day 60 (the lab CA dates notBefore five
        // minutes back, so a third of the lifetime is 100 s more than 30 days).
        assert_eq!(row.not_after.as_deref(), Some("2026-04-01T00:00:00Z"));
        assert_eq!(row.renew_after.as_deref(), Some("2026-03-01T23:58:20Z"));
        assert!(row.source.starts_with("LabCa "), "{}", row.source);
    }
    assert_eq!(stored_certificates(&lab), 1);
    // -RenewBeforeDays moves the moment; it is still not due on day 59 with 20 days.
    let (_, rows) = update(&lab, DAY_59, &["-RenewBeforeDays", "20"]);
    assert_eq!(rows[0].renew_after.as_deref(), Some("2026-03-12T00:00:00Z"));
    assert_eq!(rows[0].status, "NotDue");
}

#[test]
fn a_due_lab_certificate_is_renewed_with_a_new_key_of_its_kind_and_its_names() {
    let (lab, _ca, old) = front_end();
    let before = cert_text(&lab, &old);
    let (r, rows) = update(&lab, DAY_61, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(rows.len(), 3);
    let new = rows[0].thumbprint.clone().unwrap();
    assert_ne!(new, old);
    for row in &rows {
        assert_eq!(row.status, "Renewed", "{row:?}");
        assert_eq!(row.thumbprint.as_deref(), Some(new.as_str()));
        assert_eq!(row.previous_thumbprint.as_deref(), Some(old.as_str()));
        assert_eq!(row.effective_time.as_deref(), Some(DAY_61));
        assert!(
            row.reason.contains("less than a third of its lifetime"),
            "{}",
            row.reason
        );
    }
    // Get-CsCertificate: the new one current, the old one previous, for every use.
    for a in lab.get_at(DAY_61, &[]) {
        assert_eq!(a.thumbprint, new);
        assert_eq!(a.previous_thumbprint.as_deref(), Some(old.as_str()));
    }
    // openssl: a new RSA-3072 key, the same names, 90 days again from the renewal.
    let after = cert_text(&lab, &new);
    assert!(after.contains("Public-Key: (3072 bit)"), "{after}");
    let names = |t: &str| {
        t.lines()
            .skip_while(|l| !l.contains("Subject Alternative Name"))
            .nth(1)
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    assert_eq!(names(&after), names(&before));
    assert!(names(&after).contains("DNS:meet.contoso.com"), "{after}");
    let modulus = |t: &str| t.split("Modulus:").nth(1).unwrap_or_default()[..200].to_string();
    assert_ne!(modulus(&after), modulus(&before), "a new key");
    assert!(
        after.contains("Not After : Jun  1 00:00:00 2026 GMT"),
        "{after}"
    );
    assert_eq!(stored_certificates(&lab), 2);
    // The next run finds the new one not due.
    let (r, rows) = update(&lab, DAY_61, &[]);
    assert_eq!(r.code, 0);
    assert!(rows
        .iter()
        .all(|r| r.status == "NotDue" && r.thumbprint.as_deref() == Some(new.as_str())));
}

#[test]
fn whatif_shows_the_plan_and_changes_nothing() {
    let (lab, ca, old) = front_end();
    let snapshot = lab.snapshot();
    let (r, rows) = update(&lab, DAY_61, &["-WhatIf"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(rows.is_empty(), "{rows:?}");
    let plan = r.stderr.clone();
    for want in [
        "What if: Performing the operation \"Renew certificate",
        &old,
        "Default,WebServicesInternal,WebServicesExternal",
        "less than a third of its lifetime remains",
        &ca.dir.display().to_string(),
        "meet.contoso.com",
        &format!("on target \"{COMPUTER}\""),
    ] {
        assert!(plan.contains(want), "{want} missing from:\n{plan}");
    }
    assert_eq!(lab.snapshot(), snapshot);
    assert_eq!(stored_certificates(&lab), 1);
}

#[test]
fn a_ca_that_fails_leaves_the_old_assignment_in_service() {
    let (lab, ca, old) = front_end();
    // The lab CA's key is gone: issuing fails.
    std::fs::remove_file(&ca.key).unwrap();
    let (r, rows) = update(&lab, DAY_61, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(rows.len(), 3);
    for row in &rows {
        assert_eq!(row.status, "Failed");
        assert_eq!(row.thumbprint.as_deref(), Some(old.as_str()));
        assert!(
            row.reason.contains("the old assignment stays in service"),
            "{}",
            row.reason
        );
    }
    let errors = r.errors();
    assert_eq!(errors.len(), 3, "{}", r.stderr);
    assert_eq!(
        errors[0].fully_qualified_error_id,
        "RenewalFailed,Update-CsCertificate"
    );
    for a in lab.get_at(DAY_61, &[]) {
        assert_eq!(a.thumbprint, old);
    }
    assert_eq!(stored_certificates(&lab), 1);
}

#[test]
fn a_run_killed_between_issue_and_assign_is_finished_by_the_next_run() {
    let (lab, _ca, old) = front_end();
    // -Confirm asks before issuing and again before assigning: answer the first, then kill the
    // process while it waits at the second (a real SIGKILL between the two).
    let mut c = lab.command(&["Update-CsCertificate", "-Confirm"]);
    c.env("CSCERT_NOW", DAY_61);
    let seen = kill_at(c, b"Y\n", "Assign certificate");
    assert_eq!(stored_certificates(&lab), 2, "issued once:\n{seen}");
    for a in lab.get_at(DAY_61, &[]) {
        assert_eq!(a.thumbprint, old, "nothing assigned yet");
    }
    let (r, rows) = update(&lab, DAY_61, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let new = rows[0].thumbprint.clone().unwrap();
    assert_ne!(new, old);
    assert!(rows.iter().all(|r| r.status == "Renewed"), "{rows:?}");
    assert!(
        rows[0].reason.contains("an earlier run began"),
        "{}",
        rows[0].reason
    );
    assert_eq!(stored_certificates(&lab), 2, "not issued twice");
    assert!(lab.get_at(DAY_61, &[]).iter().all(|a| a.thumbprint == new));
}

#[test]
fn two_runs_at_once_renew_a_use_once() {
    let (lab, _ca, old) = front_end();
    let spawn = || {
        let mut c = lab.command(&["Update-CsCertificate", "-Force"]);
        c.env("CSCERT_NOW", DAY_61)
            .stdout(std::process::Stdio::null());
        c.spawn().unwrap()
    };
    let runs: Vec<_> = (0..3).map(|_| spawn()).collect();
    for mut r in runs {
        assert!(r.wait().unwrap().success());
    }
    assert_eq!(stored_certificates(&lab), 2, "renewed once");
    let now: Vec<Assigned> = lab.get_at(DAY_61, &[]);
    assert!(now
        .iter()
        .all(|a| a.thumbprint != old && a.previous_thumbprint.as_deref() == Some(old.as_str())));
}

#[test]
fn an_imported_certificate_yields_one_pending_request_and_exit_3_until_its_answer_comes() {
    let lab = Lab::new();
    let ca = backdated_ca(&lab, "outside", "Outside CA");
    // A certificate from an outside CA, imported with its key (a PFX), assigned.
    lab.foreign_cert(&ca, "outside", "sip.contoso.com");
    lab.openssl(&[
        "pkcs12",
        "-export",
        "-in",
        "outside.cer",
        "-inkey",
        "outside.key",
        "-out",
        "outside.pfx",
        "-passout",
        "pass:pfx-pass",
    ]);
    let old = lab.fingerprint("outside.cer");
    lab.ok(&[
        "Import-CsCertificate",
        "-Path",
        "outside.pfx",
        "-Password",
        "pfx-pass",
        "-PrivateKeyExportable",
        "True",
    ]);
    lab.ok(&[
        "Set-CsCertificate",
        "-Type",
        "AccessEdgeExternal",
        "-Thumbprint",
        &old,
    ]);
    std::fs::create_dir(lab.path("requests")).unwrap();
    let due = (chrono::Utc::now() + chrono::Duration::days(50))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let args = ["-RequestPath", &lab.p("requests")];
    let (r, rows) = update(&lab, &due, &args);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(rows[0].status, "RequestWritten", "{rows:?}");
    assert_eq!(rows[0].source, "Imported");
    assert_eq!(
        r.errors()[0].fully_qualified_error_id,
        "RenewalNeedsPerson,Update-CsCertificate"
    );
    let files = || std::fs::read_dir(lab.path("requests")).unwrap().count();
    assert_eq!(files(), 1);
    // Run again: still exit 3, the same request, no second file.
    let (r, rows) = update(&lab, &due, &args);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(rows[0].status, "RequestWritten");
    assert_eq!(files(), 1);
    let pending: Vec<RequestLine> = lab.ok(&["Request-CsCertificate", "-List"]).objects();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].request_status, "Pending");
    // The request names what the old certificate named, with a pending key.
    let req = std::fs::read_dir(lab.path("requests"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let text = lab.openssl(&[
        "req",
        "-in",
        &req.display().to_string(),
        "-noout",
        "-text",
        "-verify",
    ]);
    assert!(text.contains("DNS:sip.contoso.com"), "{text}");
    // A person sends it to the CA and imports the answer: the next run assigns it.
    lab.sign(&ca, &req.display().to_string(), "answer.cer", 90);
    lab.ok(&["Import-CsCertificate", "-Path", "answer.cer"]);
    let new = lab.fingerprint("answer.cer");
    let (r, rows) = update(&lab, &due, &args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(rows[0].status, "Renewed", "{rows:?}");
    assert_eq!(rows[0].thumbprint.as_deref(), Some(new.as_str()));
    assert_eq!(lab.get(&[])[0].thumbprint, new);
}

#[test]
fn the_deploy_hook_gets_the_certificate_and_no_secrets() {
    let (lab, _ca, old) = front_end();
    std::fs::create_dir(lab.path("out")).unwrap();
    let hook = lab.write(
        "hook.sh",
        "#!/bin/sh\nenv > \"$HOOK_ENV\"\nls -l \"$CSCERT_PFX_PATH\" >> \"$HOOK_ENV\"\n",
    );
    let env_file = lab.p("hook.env");
    let secrets = [
        ("CSCERT_PASSWORD", "pfx-secret-1"),
        ("CSCERT_CA_PASSWORD", "ca-secret-2"),
        ("CSCERT_ACME_EAB_HMAC_KEY", "eab-secret-3"),
        ("HOOK_ENV", env_file.as_str()),
        ("CSCERT_NOW", DAY_61),
    ];
    let out = lab.p("out");
    let cmd = format!("sh {hook}");
    let r = lab.run_env(
        &secrets,
        &[
            "Update-CsCertificate",
            "-Force",
            "-ExportPath",
            &out,
            "-DeployHook",
            &cmd,
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows: Vec<Renewal> = r.objects();
    let new = rows[0].thumbprint.clone().unwrap();
    let env = std::fs::read_to_string(&env_file).unwrap();
    let pfx = format!("{out}/{new}.pfx");
    for want in [
        format!("CSCERT_THUMBPRINT={new}"),
        format!("CSCERT_PREVIOUS_THUMBPRINT={old}"),
        "CSCERT_USES=Default,WebServicesInternal,WebServicesExternal".to_string(),
        format!("CSCERT_IDENTITY={COMPUTER}"),
        format!("CSCERT_EFFECTIVE_TIME={DAY_61}"),
        "CSCERT_STATUS=Renewed".into(),
        format!("CSCERT_PFX_PATH={pfx}"),
        "-rw-------".into(),
    ] {
        assert!(env.contains(&want), "{want} missing:\n{env}");
    }
    for (_, secret) in &secrets[..3] {
        assert!(!env.contains(secret), "a secret reached the hook:\n{env}");
    }
    assert!(!env.contains("CSCERT_STORE="), "{env}");
    // The PFX opens with the password and holds the new certificate.
    let fp = lab.openssl(&[
        "pkcs12",
        "-in",
        &pfx,
        "-passin",
        "pass:pfx-secret-1",
        "-nokeys",
        "-clcerts",
    ]);
    let cer = lab.write("exported.cer", &fp);
    assert_eq!(lab.fingerprint(&cer), new);
}

#[test]
fn a_failing_hook_is_reported_and_the_assignment_stays() {
    let (lab, _ca, old) = front_end();
    let r = lab.run_at(
        DAY_61,
        &[
            "Update-CsCertificate",
            "-Force",
            "-DeployHook",
            "echo copy failed >&2; exit 7",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let rows: Vec<Renewal> = r.objects();
    assert!(rows.iter().all(|r| r.status == "Renewed"));
    assert!(
        rows[0]
            .reason
            .contains("the deploy hook failed (exit 7): copy failed"),
        "{}",
        rows[0].reason
    );
    let errors = r.errors();
    assert_eq!(errors.len(), 1, "one record per certificate: {}", r.stderr);
    assert_eq!(
        errors[0].fully_qualified_error_id,
        "DeployHookFailed,Update-CsCertificate"
    );
    let new = rows[0].thumbprint.clone().unwrap();
    assert!(lab
        .get_at(DAY_61, &[])
        .iter()
        .all(|a| a.thumbprint == new && a.thumbprint != old));
}

#[test]
fn export_without_a_password_renews_nothing() {
    let (lab, _ca, _old) = front_end();
    std::fs::create_dir(lab.path("out")).unwrap();
    let r = lab.run_at(
        DAY_61,
        &[
            "Update-CsCertificate",
            "-Force",
            "-ExportPath",
            &lab.p("out"),
        ],
    );
    assert_eq!(r.code, 1);
    assert_eq!(
        r.error().fully_qualified_error_id,
        "ExportPasswordRequired,Update-CsCertificate"
    );
    assert_eq!(stored_certificates(&lab), 1);
    let r = lab.run_at(DAY_61, &["Update-CsCertificate", "-RandomDelaySec", "-1"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn expiring_within_days_fails_the_gate_until_a_renewal_is_staged() {
    let (lab, ca, _old) = front_end();
    // An A/V authentication certificate too: its renewal is staged, not in service at once.
    let av = lab.issue(&ca, T0, "AudioVideoAuthentication", Some(90));
    lab.ok_at(
        T0,
        &[
            "Set-CsCertificate",
            "-Type",
            "AudioVideoAuthentication",
            "-Thumbprint",
            &av,
        ],
    );
    let gate = |now: &str| {
        lab.run_at(
            now,
            &[
                "Test-CsCertificateConfiguration",
                "-ExpiringWithinDays",
                "40",
            ],
        )
    };
    // Day 59: 32 days left, within 40: exit 3.
    let r = gate(DAY_59);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(
        r.errors()[0].fully_qualified_error_id,
        "AssignedCertificateExpiringSoon,Test-CsCertificateConfiguration"
    );
    // Without the parameter: the documented warning, exit 0.
    let r = lab.run_at(DAY_59, &["Test-CsCertificateConfiguration"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Renewed: the web uses at once, A/V staged 8 hours ahead (the old one serves until then,
    // 30 days from expiry, but its renewal is staged): in order again.
    let (r, rows) = update(&lab, DAY_61, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let staged = rows
        .iter()
        .find(|r| r.use_name == "AudioVideoAuthentication")
        .unwrap();
    assert_eq!(staged.status, "Staged");
    assert_eq!(
        staged.effective_time.as_deref(),
        Some("2026-03-03T08:00:00Z")
    );
    let r = gate(DAY_61);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn a_renewal_takes_the_names_the_published_topology_now_computes_and_says_so() {
    let lab = Lab::new();
    let ca = backdated_ca(&lab, "ca", "Contoso Renewal CA");
    let edge = "Edge.contoso.com";
    // Issued before the topology was published, with one name only.
    let old = issue_90(
        &lab,
        &ca,
        "AccessEdgeExternal",
        edge,
        "sip.contoso.com",
        &[],
    );
    lab.ok_at(
        T0,
        &[
            "Set-CsCertificate",
            "-Identity",
            edge,
            "-Type",
            "AccessEdgeExternal",
            "-Thumbprint",
            &old,
        ],
    );
    let topo = format!(
        "{}/tests/fixtures/topology/single-edge.published.xml",
        env!("CARGO_MANIFEST_DIR")
    );
    lab.ok(&["Publish-CsTopology", "-FileName", &topo, "-Force"]);
    // What the request pipeline computes for that use on that computer now.
    lab.ok(&[
        "Request-CsCertificate",
        "-New",
        "-Type",
        "AccessEdgeExternal",
        "-ComputerFqdn",
        edge,
        "-Output",
        "now.req",
    ]);
    let wanted = lab.openssl(&["req", "-in", "now.req", "-noout", "-text"]);
    let (r, rows) = update(&lab, DAY_61, &["-Identity", edge]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(rows[0].status, "Renewed", "{rows:?}");
    assert!(
        rows[0].reason.contains("the published topology now names"),
        "{}",
        rows[0].reason
    );
    assert!(
        r.stderr.contains("WARNING:") && r.stderr.contains("the topology's names"),
        "{}",
        r.stderr
    );
    let new = rows[0].thumbprint.clone().unwrap();
    let text = cert_text(&lab, &new);
    let sans = wanted
        .lines()
        .skip_while(|l| !l.contains("Subject Alternative Name"))
        .nth(1)
        .unwrap()
        .trim()
        .to_string();
    assert!(text.contains(&sans), "{sans} not in:\n{text}");
    assert_ne!(
        sans, "DNS:sip.contoso.com",
        "the topology names more than the old certificate"
    );
}
