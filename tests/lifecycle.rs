//! The certificate lifecycle (issue #4), run against the built binary the way an admin script
//! runs it: request -> CA -> import -> assign -> get -> export -> roll -> remove, with openssl as
//! the independent CA and checker.

mod support;

use chrono::{DateTime, Duration, Utc};
use support::lifecycle::*;
use support::*;

const EDGE_USE_LIST: [&str; 3] = [
    "AccessEdgeExternal",
    "DataEdgeExternal",
    "AudioVideoAuthentication",
];
/// The admin's -DomainName order, kept exactly since it lists the subject (issue 11 item 6; the
/// certificate summary's order).
const EDGE_SANS: [&str; 4] = [
    "webcon.contoso.com",
    "sip.contoso.com",
    "sip.fabrikam.com",
    "contoso.com",
];
const CA_DN: &str = "CN=Contoso Test Root CA, O=\"Contoso, Inc\", C=US";
const PASSWORD: &str = "Lync-2013 pa$$";

/// Request-CsCertificate -New for the Edge uses with the issue's names, extra arguments after.
fn edge_request<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
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
    ];
    v.extend_from_slice(extra);
    v
}

/// A failure as issue #4 wants it: exit 1, nothing on stdout, one error record with this id.
fn assert_fails(r: &Run, error_id: &str) -> ErrorRecord {
    assert_eq!(r.code, 1, "exit code; stderr:\n{}", r.stderr);
    assert_eq!(r.stdout, "", "no output object on failure");
    let errors = r.errors();
    assert_eq!(errors.len(), 1, "one error record; stderr:\n{}", r.stderr);
    assert_eq!(errors[0].fully_qualified_error_id, error_id);
    errors[0].clone()
}

/// `openssl x509 -pubkey` of a certificate file.
fn cert_pubkey(lab: &Lab, cert: &str) -> String {
    lab.openssl(&["x509", "-in", cert, "-pubkey", "-noout"])
}

/// Checks an exported PFX with openssl (no -legacy): it opens with the password, holds the
/// certificate with `thumbprint`, and its key is the certificate's key. Returns what
/// `pkcs12 -info` says about MAC and encryption.
fn check_pfx(lab: &Lab, pfx: &str, cert: &str, thumbprint: &str) -> String {
    let pass = format!("pass:{PASSWORD}");
    let (bags, info) =
        lab.openssl_both(&["pkcs12", "-info", "-noenc", "-passin", &pass, "-in", pfx]);
    assert!(bags.contains("-----BEGIN PRIVATE KEY-----"), "{bags}");
    assert!(bags.contains("-----BEGIN CERTIFICATE-----"), "{bags}");
    let key = format!("{pfx}.key.pem");
    let crt = format!("{pfx}.crt.pem");
    lab.openssl(&[
        "pkcs12", "-in", pfx, "-nocerts", "-noenc", "-passin", &pass, "-out", &key,
    ]);
    lab.openssl(&[
        "pkcs12", "-in", pfx, "-clcerts", "-nokeys", "-passin", &pass, "-out", &crt,
    ]);
    assert_eq!(lab.fingerprint(&crt), thumbprint);
    let key_pub = lab.openssl(&["pkey", "-in", &key, "-pubout"]);
    assert_eq!(
        key_pub,
        cert_pubkey(lab, cert),
        "the PFX key is the certificate's key"
    );
    assert_ne!(
        lab.openssl_status(&[
            "pkcs12",
            "-info",
            "-noenc",
            "-passin",
            "pass:wrong",
            "-in",
            pfx
        ]),
        0,
        "a wrong password must not open the PFX"
    );
    info
}

#[cfg(unix)]
fn mode(p: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

// ---------------------------------------------------------------- the whole flow

#[test]
fn whole_flow_offline_request_openssl_ca_import_set_get_export_remove() {
    let lab = Lab::new();
    let ca = lab.make_ca("ca", "Contoso Test Root CA", 3650);

    // 1. The request, exactly as the README's script line (RSA-2048, the default).
    let r = lab.ok(&edge_request(&["-Output", "edge.req"]));
    let offline: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(offline["RequestStatus"], "Offline");
    assert_eq!(offline["RequestId"], 1);
    assert_eq!(offline["Thumbprint"], serde_json::Value::Null);
    assert_eq!(offline["AlternativeNames"], serde_json::json!(EDGE_SANS));
    lab.openssl(&["req", "-verify", "-noout", "-in", "edge.req"]);

    // 2. The CA's answer.
    lab.sign(&ca, "edge.req", "edge.cer", 365);
    let thumbprint = lab.fingerprint("edge.cer");
    assert_eq!(thumbprint.len(), 40);

    // 3. Import joins it to the pending key.
    let imported: Stored = lab.ok(&["Import-CsCertificate", "-Path", "edge.cer"]).one();
    assert_eq!(imported.thumbprint, thumbprint);
    assert_eq!(imported.subject, "CN=sip.contoso.com");
    assert_eq!(imported.issuer, CA_DN);
    assert!(imported.has_private_key);
    assert!(imported.private_key_exportable);
    assert_eq!(imported.request_id, Some(1));
    assert_eq!(imported.request_status.as_deref(), Some("Issued"));

    // 4. Assign.
    let set = lab.ok(&[
        "Set-CsCertificate",
        "-Type",
        EDGE_USES,
        "-Thumbprint",
        &thumbprint,
    ]);
    assert_eq!(set.stdout, "", "Set-CsCertificate writes no object");
    for u in EDGE_USE_LIST {
        let heading = format!("The following certificate was assigned for the type \"{u}\":");
        assert!(set.stderr.contains(&heading), "{}", set.stderr);
        assert!(
            set.stderr
                .contains(&format!("{u}: {thumbprint} sip.contoso.com ")),
            "{}",
            set.stderr
        );
    }

    // 5. Get: one object per use, the Lync shape, values equal to openssl's view.
    let serial = lab.x509_field("edge.cer", "-serial");
    let not_before = lab.x509_date("edge.cer", "-startdate");
    let not_after = lab.x509_date("edge.cer", "-enddate");
    let got = lab.get(&[]);
    let uses: Vec<&str> = got.iter().map(|a| a.use_name.as_str()).collect();
    assert_eq!(uses, EDGE_USE_LIST);
    for a in &got {
        assert_eq!(
            a,
            &Assigned {
                issuer: CA_DN.into(),
                not_after: not_after.clone(),
                not_before: not_before.clone(),
                serial_number: serial.clone(),
                subject: "CN=sip.contoso.com".into(),
                alternative_names: EDGE_SANS.map(String::from).to_vec(),
                thumbprint: thumbprint.clone(),
                effective_time: None,
                previous_thumbprint: None,
                update_time: None,
                use_name: a.use_name.clone(),
                source_scope: None,
            }
        );
    }
    assert_eq!(
        lab.get(&["-Type", "DataEdgeExternal"]),
        vec![got[1].clone()]
    );

    // 6. Export: modern PFX, legacy PFX, PEM with an encrypted key.
    let e = lab.ok(&[
        "Export-CsCertificate",
        "-Thumbprint",
        &thumbprint,
        "-Path",
        "edge.pfx",
        "-Password",
        PASSWORD,
    ]);
    assert_eq!(e.one::<Stored>().thumbprint, thumbprint);
    let info = check_pfx(&lab, "edge.pfx", "edge.cer", &thumbprint);
    assert!(info.contains("MAC: sha256"), "{info}");
    assert!(info.contains("AES-256-CBC"), "{info}");

    lab.ok(&[
        "Export-CsCertificate",
        "-Thumbprint",
        &thumbprint,
        "-Path",
        "legacy.pfx",
        "-Password",
        PASSWORD,
        "-Legacy",
    ]);
    let info = check_pfx(&lab, "legacy.pfx", "edge.cer", &thumbprint);
    assert!(info.contains("MAC: sha1"), "{info}");
    assert!(info.contains("pbeWithSHA1And3-KeyTripleDES-CBC"), "{info}");

    lab.ok(&[
        "Export-CsCertificate",
        "-Thumbprint",
        &thumbprint,
        "-Path",
        "edge.pem",
        "-Password",
        PASSWORD,
        "-Format",
        "Pem",
    ]);
    let pem = std::fs::read_to_string(lab.path("edge.pem")).unwrap();
    assert!(pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    assert!(!pem.contains("-----BEGIN PRIVATE KEY-----"), "key in clear");
    assert_eq!(lab.fingerprint("edge.pem"), thumbprint);
    let pass = format!("pass:{PASSWORD}");
    let key_pub = lab.openssl(&["pkey", "-in", "edge.pem", "-passin", &pass, "-pubout"]);
    assert_eq!(key_pub, cert_pubkey(&lab, "edge.cer"));
    assert_ne!(
        lab.openssl_status(&["pkey", "-in", "edge.pem", "-passin", "pass:wrong", "-noout"]),
        0
    );
    #[cfg(unix)]
    for f in ["edge.pfx", "legacy.pfx", "edge.pem"] {
        assert_eq!(mode(&lab.path(f)), 0o600, "{f} holds a key: owner-only");
    }

    // 7. Remove: Get shows nothing for those uses; the certificate stays in the store.
    let rm = lab.ok(&["Remove-CsCertificate", "-Type", EDGE_USES, "-Force"]);
    assert_eq!(rm.stdout, "");
    assert_eq!(lab.get(&[]), vec![]);
    assert_eq!(lab.get(&["-Type", "AccessEdgeExternal"]), vec![]);
    lab.ok(&[
        "Set-CsCertificate",
        "-Type",
        "AccessEdgeExternal",
        "-Thumbprint",
        &thumbprint,
    ]);
    assert_eq!(lab.get(&[])[0].thumbprint, thumbprint);
}

// ---------------------------------------------------------------- rolling

/// Stages a roll with `effective_arg`, which must mean `effective`, and checks Get before and
/// after that instant, then Remove -Previous.
fn roll_case(use_: &str, effective_arg: &str, effective: DateTime<Utc>, t0: DateTime<Utc>) {
    let lab = Lab::new();
    let ca = lab.make_ca("ca", "Contoso Test Root CA", 3650);
    let at = |d: DateTime<Utc>| fmt_date(d);
    let old = lab.issue(&ca, &at(t0), use_, Some(365));
    let new = lab.issue(&ca, &at(t0), use_, Some(730));
    assert_ne!(old, new);
    lab.ok_at(
        &at(t0),
        &["Set-CsCertificate", "-Type", use_, "-Thumbprint", &old],
    );
    let staged_at = t0 + Duration::hours(1);
    let r = lab.ok_at(
        &at(staged_at),
        &[
            "Set-CsCertificate",
            "-Type",
            use_,
            "-Thumbprint",
            &new,
            "-Roll",
            "-EffectiveDate",
            effective_arg,
        ],
    );
    assert!(r.stderr.contains(&new), "{}", r.stderr);

    // Before the effective time (up to the last second) the old certificate still serves
    // (Test-CsCertificateConfiguration checks it), and Get-CsCertificate shows the staged roll
    // at once in the use's one object (issue 11 item 4): the new thumbprint with its future
    // EffectiveTime, the serving one as PreviousThumbprint.
    for now in [staged_at, effective - Duration::seconds(1)] {
        let got = lab.get_at(&at(now), &["-Type", use_]);
        assert_eq!(got.len(), 1, "at {now}");
        assert_eq!(got[0].thumbprint, new, "at {now}");
        assert_eq!(got[0].previous_thumbprint.as_deref(), Some(old.as_str()));
        assert_eq!(got[0].effective_time, Some(at(effective)));
        assert_eq!(got[0].update_time, Some(at(staged_at)));
        let serving = lab.ok_at(&at(now), &["Test-CsCertificateConfiguration"]);
        assert_eq!(serving.one::<InOrder>().thumbprint, old, "at {now}");
    }
    // From the effective time on: the new one is current, the old one previous.
    for now in [effective, effective + Duration::days(3)] {
        let got = lab.get_at(&at(now), &["-Type", use_]);
        assert_eq!(got.len(), 1, "at {now}");
        assert_eq!(got[0].thumbprint, new, "at {now}");
        assert_eq!(got[0].previous_thumbprint.as_deref(), Some(old.as_str()));
        assert_eq!(got[0].effective_time, Some(at(effective)));
        assert_eq!(got[0].update_time, Some(at(staged_at)));
        assert_eq!(got[0].use_name, use_);
    }

    // Remove -Previous: the previous goes, the current stays.
    let later = at(effective + Duration::days(4));
    lab.ok_at(
        &later,
        &["Remove-CsCertificate", "-Type", use_, "-Previous", "-Force"],
    );
    let got = lab.get_at(&later, &["-Type", use_]);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].thumbprint, new);
    assert_eq!(got[0].previous_thumbprint, None);
    // Nothing previous any more: a second -Previous is an error.
    let r = lab.run_at(
        &later,
        &["Remove-CsCertificate", "-Type", use_, "-Previous", "-Force"],
    );
    assert_fails(&r, "NoPreviousCertificate,Remove-CsCertificate");
    assert_eq!(lab.get_at(&later, &["-Type", use_]), got);
}

#[test]
fn roll_with_us_format_effective_date() {
    let lab = Lab::new();
    let ca = lab.make_ca("ca", "x", 3650);
    let t0 = epoch_after(&lab, &ca);
    let day = t0 + Duration::days(21);
    // "7/22/2027 6:00:00 AM": local time; TZ=UTC in the lab.
    let arg = format!("{} 6:00:00 AM", day.format("%-m/%-d/%Y"));
    let effective = day + Duration::hours(6);
    roll_case("AudioVideoAuthentication", &arg, effective, t0);
}

#[test]
fn roll_with_iso_effective_date() {
    let lab = Lab::new();
    let ca = lab.make_ca("ca", "x", 3650);
    let t0 = epoch_after(&lab, &ca);
    let effective = t0 + Duration::days(10) + Duration::hours(13) + Duration::minutes(30);
    let arg = effective.format("%Y-%m-%dT%H:%M:%S").to_string();
    roll_case("AccessEdgeExternal", &arg, effective, t0);
    // With an explicit offset the zone is honoured (08:00+02:00 is 06:00Z).
    let effective = t0 + Duration::days(5) + Duration::hours(6);
    let arg = (t0 + Duration::days(5))
        .format("%Y-%m-%dT08:00:00+02:00")
        .to_string();
    roll_case("DataEdgeExternal", &arg, effective, t0);
}

#[test]
fn roll_without_effective_date_fails() {
    let lab = Lab::new();
    let ca = lab.make_ca("ca", "x", 3650);
    let t0 = fmt_date(epoch_after(&lab, &ca));
    let old = lab.issue(&ca, &t0, "AudioVideoAuthentication", Some(365));
    let new = lab.issue(&ca, &t0, "AudioVideoAuthentication", Some(365));
    lab.ok_at(
        &t0,
        &[
            "Set-CsCertificate",
            "-Type",
            "AudioVideoAuthentication",
            "-Thumbprint",
            &old,
        ],
    );
    let before = lab.ok_at(&t0, &["Get-CsCertificate"]).stdout;
    let r = lab.run_at(
        &t0,
        &[
            "Set-CsCertificate",
            "-Type",
            "AudioVideoAuthentication",
            "-Thumbprint",
            &new,
            "-Roll",
        ],
    );
    let e = assert_fails(&r, "RollWithoutEffectiveDate,Set-CsCertificate");
    assert!(e.message.contains("-EffectiveDate"), "{}", e.message);
    assert_eq!(lab.ok_at(&t0, &["Get-CsCertificate"]).stdout, before);
    let far = fmt_date(epoch_after(&lab, &ca) + Duration::days(100));
    assert_eq!(lab.get_at(&far, &[])[0].thumbprint, old, "nothing staged");
}

#[test]
fn roll_to_a_certificate_expired_at_the_effective_date_is_refused() {
    let lab = Lab::new();
    let ca = lab.make_ca("ca", "x", 3650);
    let t0 = epoch_after(&lab, &ca);
    let now = fmt_date(t0);
    let old = lab.issue(&ca, &now, "AudioVideoAuthentication", Some(365));
    let short = lab.issue(&ca, &now, "AudioVideoAuthentication", Some(10));
    lab.ok_at(
        &now,
        &[
            "Set-CsCertificate",
            "-Type",
            "AudioVideoAuthentication",
            "-Thumbprint",
            &old,
        ],
    );
    let later = fmt_date(t0 + Duration::days(30));
    let before = (
        lab.ok_at(&now, &["Get-CsCertificate"]).stdout,
        lab.ok_at(&later, &["Get-CsCertificate"]).stdout,
    );
    let effective = fmt_date(t0 + Duration::days(20));
    let r = lab.run_at(
        &now,
        &[
            "Set-CsCertificate",
            "-Type",
            "AudioVideoAuthentication",
            "-Thumbprint",
            &short,
            "-Roll",
            "-EffectiveDate",
            &effective,
        ],
    );
    let e = assert_fails(
        &r,
        "CertificateExpiresBeforeEffectiveDate,Set-CsCertificate",
    );
    assert!(e.message.contains(&short), "{}", e.message);
    let after = (
        lab.ok_at(&now, &["Get-CsCertificate"]).stdout,
        lab.ok_at(&later, &["Get-CsCertificate"]).stdout,
    );
    assert_eq!(after, before);
    assert_eq!(lab.get_at(&later, &[])[0].thumbprint, old);
}

#[test]
fn a_second_roll_keeps_two_copies_and_the_serving_one_until_it_takes_effect() {
    let lab = Lab::new();
    let ca = lab.make_ca("ca", "x", 3650);
    let t0 = epoch_after(&lab, &ca);
    let at = |days: i64| fmt_date(t0 + Duration::days(days));
    let u = "AudioVideoAuthentication";
    let a = lab.issue(&ca, &at(0), u, Some(365));
    let b = lab.issue(&ca, &at(0), u, Some(365));
    let c = lab.issue(&ca, &at(0), u, Some(365));
    lab.ok_at(
        &at(0),
        &["Set-CsCertificate", "-Type", u, "-Thumbprint", &a],
    );
    let roll = |now: i64, t: &str, effective: i64| {
        lab.ok_at(
            &at(now),
            &[
                "Set-CsCertificate",
                "-Type",
                u,
                "-Thumbprint",
                t,
                "-Roll",
                "-EffectiveDate",
                &at(effective),
            ],
        );
    };
    roll(1, &b, 10);
    let current_and_previous = |day: i64| {
        let g = lab.get_at(&at(day), &["-Type", u]);
        assert_eq!(g.len(), 1, "day {day}");
        (g[0].thumbprint.clone(), g[0].previous_thumbprint.clone())
    };
    assert_eq!(current_and_previous(10), (b.clone(), Some(a.clone())));
    roll(11, &c, 20);
    // Two copies per use (issue 11 item 4): staging C keeps the serving B as previous, A goes.
    // Until day 20 Get shows the staged C with B as previous; B still serves.
    assert_eq!(current_and_previous(15), (c.clone(), Some(b.clone())));
    let serving = lab.ok_at(&at(15), &["Test-CsCertificateConfiguration"]);
    assert_eq!(serving.one::<InOrder>().thumbprint, b);
    assert_eq!(current_and_previous(21), (c.clone(), Some(b.clone())));
    // Remove -Previous while B still serves is refused; after day 20 it removes B.
    let r = lab.run_at(
        &at(15),
        &["Remove-CsCertificate", "-Type", u, "-Previous", "-Force"],
    );
    assert_fails(&r, "PreviousStillServing,Remove-CsCertificate");
    lab.ok_at(
        &at(21),
        &["Remove-CsCertificate", "-Type", u, "-Previous", "-Force"],
    );
    assert_eq!(current_and_previous(21), (c, None));
}

// ---------------------------------------------------------------- lab CA

#[test]
fn lab_ca_issues_online_and_set_uses_its_thumbprint() {
    let lab = Lab::new();
    let ca = lab.make_ca("ca", "Contoso Test Root CA", 3650);
    let t0 = epoch_after(&lab, &ca);
    let now = fmt_date(t0);
    let ca_dir = ca.dir_s();
    let r = lab.ok_at(
        &now,
        &edge_request(&[
            "-KeyAlg",
            "ECDH_P256",
            "-CA",
            &ca_dir,
            "-ValidityDays",
            "90",
        ]),
    );
    let cert: Stored = r.one();
    assert_eq!(cert.request_status.as_deref(), Some("Issued"));
    assert_eq!(cert.request_id, Some(1));
    assert_eq!(cert.issuer, CA_DN);
    assert_eq!(cert.subject, "CN=sip.contoso.com");
    assert_eq!(cert.alternative_names, EDGE_SANS);
    assert!(cert.has_private_key && cert.private_key_exportable);
    assert_eq!(cert.thumbprint.len(), 40);
    // -ValidityDays 90 from the (fixed) issuing time; notBefore allows 5 minutes of skew.
    assert_eq!(cert.not_after, fmt_date(t0 + Duration::days(90)));
    assert_eq!(cert.not_before, fmt_date(t0 - Duration::minutes(5)));

    // $cert = Request-CsCertificate ...; Set-CsCertificate -Thumbprint $cert.Thumbprint
    lab.ok_at(
        &now,
        &[
            "Set-CsCertificate",
            "-Type",
            EDGE_USES,
            "-Thumbprint",
            &cert.thumbprint,
        ],
    );
    let got = lab.get_at(&now, &[]);
    assert_eq!(got.len(), 3);
    for (a, u) in got.iter().zip(EDGE_USE_LIST) {
        assert_eq!(a.use_name, u);
        assert_eq!(a.thumbprint, cert.thumbprint);
        assert_eq!(a.not_after, cert.not_after);
        assert_eq!(a.serial_number, cert.serial_number);
    }

    // openssl accepts the issued certificate under the CA (at a time inside its validity).
    lab.ok_at(
        &now,
        &[
            "Export-CsCertificate",
            "-Thumbprint",
            &cert.thumbprint,
            "-Path",
            "issued.pem",
            "-Format",
            "Pem",
            "-Password",
            PASSWORD,
        ],
    );
    assert_eq!(lab.fingerprint("issued.pem"), cert.thumbprint);
    let attime = (t0 + Duration::days(1)).timestamp().to_string();
    let out = lab.openssl(&[
        "verify",
        "-CAfile",
        &ca.cert_s(),
        "-attime",
        &attime,
        "-purpose",
        "sslserver",
        "issued.pem",
    ]);
    assert_eq!(out.trim(), "issued.pem: OK");
    assert_eq!(lab.x509_field("issued.pem", "-serial"), cert.serial_number);

    // The other -CA form: one PEM file with certificate and key.
    let bundle = ca.bundle(&lab.path("ca-bundle.pem"));
    let second: Stored = lab
        .ok_at(
            &now,
            &[
                "Request-CsCertificate",
                "-New",
                "-Type",
                "Internal",
                "-ComputerFqdn",
                "edge-int.contoso.com",
                "-KeyAlg",
                "ECDH_P256",
                "-CA",
                &bundle,
            ],
        )
        .one();
    assert_eq!(second.issuer, CA_DN);
    assert_eq!(second.subject, "CN=edge-int.contoso.com");
    assert_ne!(second.thumbprint, cert.thumbprint);
    assert!(!second.private_key_exportable);
}

#[test]
fn lab_ca_caps_validity_at_the_ca_not_after() {
    let lab = Lab::new();
    let ca = lab.make_ca("short", "Short Lived CA", 30);
    let ca_not_after = lab.x509_date(&ca.cert_s(), "-enddate");
    let now = fmt_date(epoch_after(&lab, &ca));
    let cert = lab.issue_stored(&ca, &now, "AudioVideoAuthentication", Some(365));
    assert_eq!(cert.not_after, ca_not_after);
    assert_eq!(cert.issuer, "CN=Short Lived CA, O=\"Contoso, Inc\", C=US");
}

#[test]
fn adcs_ca_string_fails_and_suggests_output() {
    let lab = Lab::new();
    let before = lab.snapshot();
    let r = lab.run(&edge_request(&["-CA", "atl-ca-001.litwareinc.com\\myca"]));
    let e = assert_fails(&r, "AdcsNotAvailable,Request-CsCertificate");
    assert!(e.message.contains("-Output"), "{}", e.message);
    assert!(e.message.contains("atl-ca-001.litwareinc.com\\myca"));
    let plain = lab.run_plain(&edge_request(&["-CA", "atl-ca-001.litwareinc.com\\myca"]));
    assert_eq!(plain.code, 1);
    assert!(plain.stderr.starts_with("Request-CsCertificate: -CA "));
    assert_eq!(lab.snapshot(), before);
}

// ---------------------------------------------------------------- bad inputs

/// A store with a certificate assigned to AccessEdgeExternal and one pending request.
fn populated_lab() -> (Lab, TestCa, String) {
    let lab = Lab::new();
    let ca = lab.make_ca("ca", "Contoso Test Root CA", 3650);
    let ca_dir = ca.dir_s();
    let cert: Stored = lab
        .ok(&edge_request(&["-KeyAlg", "ECDH_P256", "-CA", &ca_dir]))
        .one();
    lab.ok(&[
        "Set-CsCertificate",
        "-Type",
        "AccessEdgeExternal",
        "-Thumbprint",
        &cert.thumbprint,
    ]);
    lab.ok(&[
        "Request-CsCertificate",
        "-New",
        "-Type",
        "WebServicesExternal",
        "-ComputerFqdn",
        "web.contoso.com",
        "-KeyAlg",
        "ECDH_P256",
        "-Output",
        "pending.req",
    ]);
    let (get, list) = lab.snapshot();
    assert_eq!(get.lines().count(), 1);
    assert_eq!(list.lines().count(), 2);
    (lab, ca, cert.thumbprint)
}

#[test]
fn import_of_a_garbage_file_fails_and_changes_nothing() {
    let (lab, _, _) = populated_lab();
    let before = lab.snapshot();
    let junk: Vec<u8> = (0..600u32).map(|i| (i * 7919 % 251) as u8).collect();
    std::fs::write(lab.path("garbage.cer"), junk).unwrap();
    let r = lab.run(&["Import-CsCertificate", "-Path", "garbage.cer"]);
    let e = assert_fails(&r, "InvalidCertificateFile,Import-CsCertificate");
    assert!(e.message.contains("garbage.cer"), "{}", e.message);
    assert_eq!(e.category, "InvalidData");
    assert_eq!(lab.snapshot(), before);
}

#[test]
fn import_of_a_pfx_with_a_wrong_password_fails_and_changes_nothing() {
    let (lab, ca, _) = populated_lab();
    lab.foreign_cert(&ca, "other", "other.contoso.com");
    lab.openssl_pfx("other.cer", "other.key", None, "other.pfx", "right");
    let before = lab.snapshot();
    let r = lab.run(&[
        "Import-CsCertificate",
        "-Path",
        "other.pfx",
        "-Password",
        "wrong",
    ]);
    let e = assert_fails(&r, "WrongPassword,Import-CsCertificate");
    assert!(e.message.contains("other.pfx"), "{}", e.message);
    assert_eq!(lab.snapshot(), before);
    // The same file with the right password does import (the failure was the password).
    let ok: Stored = lab
        .ok(&[
            "Import-CsCertificate",
            "-Path",
            "other.pfx",
            "-Password",
            "right",
        ])
        .one();
    assert_eq!(ok.thumbprint, lab.fingerprint("other.cer"));
}

#[test]
fn import_of_a_certificate_for_no_pending_request_fails_and_changes_nothing() {
    let (lab, ca, _) = populated_lab();
    lab.foreign_cert(&ca, "stranger", "stranger.contoso.com");
    let thumbprint = lab.fingerprint("stranger.cer");
    let before = lab.snapshot();
    let r = lab.run(&["Import-CsCertificate", "-Path", "stranger.cer"]);
    let e = assert_fails(&r, "NoMatchingRequest,Import-CsCertificate");
    assert!(e.message.contains(&thumbprint), "{}", e.message);
    assert!(e.message.contains("no pending request"), "{}", e.message);
    assert_eq!(lab.snapshot(), before);
    // It really is not in the store.
    let r = lab.run(&[
        "Set-CsCertificate",
        "-Type",
        "Default",
        "-Thumbprint",
        &thumbprint,
    ]);
    assert_fails(&r, "CertificateNotFound,Set-CsCertificate");
}

#[test]
fn set_with_a_43_digit_thumbprint_fails_and_changes_nothing() {
    let (lab, _, _) = populated_lab();
    let before = lab.snapshot();
    let bad = "B142918E463981A76503828BB1278391B716280987B";
    let r = lab.run(&[
        "Set-CsCertificate",
        "-Type",
        "WebServicesExternal",
        "-Thumbprint",
        bad,
    ]);
    let e = assert_fails(&r, "InvalidThumbprint,Set-CsCertificate");
    assert!(e.message.contains(bad), "{}", e.message);
    assert!(e.message.contains("40 hexadecimal digits"), "{}", e.message);
    assert!(e.message.contains("43"), "{}", e.message);
    assert_eq!(lab.snapshot(), before);
}

#[test]
fn set_with_a_thumbprint_not_in_the_store_fails_and_changes_nothing() {
    let (lab, _, _) = populated_lab();
    let before = lab.snapshot();
    let absent = "466D9BB0E8B928B65AF38FA2D9F41E1B301ECE9D";
    let r = lab.run(&[
        "Set-CsCertificate",
        "-Type",
        "AccessEdgeExternal",
        "-Thumbprint",
        absent,
    ]);
    let e = assert_fails(&r, "CertificateNotFound,Set-CsCertificate");
    assert!(e.message.contains(absent), "{}", e.message);
    assert_eq!(e.category, "ObjectNotFound");
    assert_eq!(lab.snapshot(), before);
}

#[test]
fn export_of_a_non_exportable_key_is_refused() {
    let (lab, ca, _) = populated_lab();
    lab.ok(&[
        "Request-CsCertificate",
        "-New",
        "-Type",
        "Internal",
        "-ComputerFqdn",
        "edge-int.contoso.com",
        "-KeyAlg",
        "ECDH_P256",
        "-PrivateKeyExportable",
        "False",
        "-Output",
        "int.req",
    ]);
    lab.sign(&ca, "int.req", "int.cer", 60);
    let cert: Stored = lab.ok(&["Import-CsCertificate", "-Path", "int.cer"]).one();
    assert!(cert.has_private_key);
    assert!(!cert.private_key_exportable);
    // Importing the answer again while asking for exportability does not make a key that was
    // made non-exportable exportable.
    let r = lab.ok(&[
        "Import-CsCertificate",
        "-Path",
        "int.cer",
        "-PrivateKeyExportable",
        "$true",
    ]);
    let again: Stored = r.one();
    assert!(!again.private_key_exportable);
    assert!(
        r.stderr
            .contains("WARNING: -PrivateKeyExportable $true does not apply"),
        "{}",
        r.stderr
    );

    let before = lab.snapshot();
    for args in [
        vec!["-Password", PASSWORD],
        vec!["-Password", PASSWORD, "-Legacy"],
        vec!["-Password", PASSWORD, "-Format", "Pem"],
    ] {
        let mut cmd = vec![
            "Export-CsCertificate",
            "-Thumbprint",
            &cert.thumbprint,
            "-Path",
            "int.pfx",
        ];
        cmd.extend(args);
        let r = lab.run(&cmd);
        let e = assert_fails(&r, "PrivateKeyNotExportable,Export-CsCertificate");
        assert!(e.message.contains(&cert.thumbprint), "{}", e.message);
        assert!(!lab.path("int.pfx").exists(), "nothing written");
    }
    assert_eq!(lab.snapshot(), before);
}

#[test]
fn export_without_any_password_is_refused() {
    let (lab, _, thumbprint) = populated_lab();
    let before = lab.snapshot();
    let r = lab.run(&[
        "Export-CsCertificate",
        "-Thumbprint",
        &thumbprint,
        "-Path",
        "nopass.pfx",
    ]);
    let e = assert_fails(&r, "PasswordRequired,Export-CsCertificate");
    assert!(e.message.contains("-Password"), "{}", e.message);
    assert!(e.message.contains("CSCERT_PASSWORD"), "{}", e.message);
    assert!(!lab.path("nopass.pfx").exists());
    // An empty CSCERT_PASSWORD is no password either.
    let r = lab.run_env(
        &[("CSCERT_PASSWORD", "")],
        &[
            "Export-CsCertificate",
            "-Thumbprint",
            &thumbprint,
            "-Path",
            "nopass.pfx",
        ],
    );
    assert_fails(&r, "PasswordRequired,Export-CsCertificate");
    assert!(!lab.path("nopass.pfx").exists());
    assert_eq!(lab.snapshot(), before);
    // CSCERT_PASSWORD alone is enough.
    lab.run_env(
        &[("CSCERT_PASSWORD", PASSWORD)],
        &[
            "Export-CsCertificate",
            "-Thumbprint",
            &thumbprint,
            "-Path",
            "env.pfx",
        ],
    );
    let pass = format!("pass:{PASSWORD}");
    lab.openssl(&[
        "pkcs12", "-info", "-noenc", "-passin", &pass, "-in", "env.pfx",
    ]);
}

#[test]
fn set_of_an_expired_certificate_is_refused() {
    let (lab, _, thumbprint) = populated_lab();
    let far = "2100-01-01T00:00:00Z";
    let before_get = lab.ok_at(far, &["Get-CsCertificate"]).stdout;
    let before = lab.snapshot();
    let r = lab.run_at(
        far,
        &[
            "Set-CsCertificate",
            "-Type",
            "DataEdgeExternal",
            "-Thumbprint",
            &thumbprint,
        ],
    );
    let e = assert_fails(&r, "CertificateExpired,Set-CsCertificate");
    assert!(e.message.contains(&thumbprint), "{}", e.message);
    assert!(e.message.contains("expired"), "{}", e.message);
    assert_eq!(lab.ok_at(far, &["Get-CsCertificate"]).stdout, before_get);
    assert_eq!(lab.snapshot(), before);
}

// ---------------------------------------------------------------- import forms

#[test]
fn import_is_idempotent() {
    let lab = Lab::new();
    let ca = lab.make_ca("ca", "Contoso Test Root CA", 3650);
    lab.ok(&edge_request(&[
        "-KeyAlg",
        "ECDH_P256",
        "-Output",
        "edge.req",
    ]));
    lab.sign(&ca, "edge.req", "edge.cer", 365);
    let first: Stored = lab.ok(&["Import-CsCertificate", "-Path", "edge.cer"]).one();
    let second: Stored = lab.ok(&["Import-CsCertificate", "-Path", "edge.cer"]).one();
    assert_eq!(first, second);
    assert_eq!(first.thumbprint, lab.fingerprint("edge.cer"));
    lab.ok(&[
        "Set-CsCertificate",
        "-Type",
        EDGE_USES,
        "-Thumbprint",
        &first.thumbprint,
    ]);
    // A third import after the assignment changes nothing either.
    let third: Stored = lab.ok(&["Import-CsCertificate", "-Path", "edge.cer"]).one();
    assert_eq!(third, first);
    let got = lab.get(&[]);
    assert_eq!(
        got.iter().map(|a| a.use_name.as_str()).collect::<Vec<_>>(),
        EDGE_USE_LIST
    );
    assert!(got.iter().all(|a| a.thumbprint == first.thumbprint));
    let requests: Vec<RequestLine> = lab.ok(&["Request-CsCertificate", "-List"]).objects();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].request_status, "Completed");
    assert_eq!(
        requests[0].thumbprint.as_deref(),
        Some(first.thumbprint.as_str())
    );
}

#[test]
fn pkcs7_chain_imports_the_leaf() {
    let lab = Lab::new();
    let ca = lab.make_ca("ca", "Contoso Test Root CA", 3650);
    lab.ok(&[
        "Request-CsCertificate",
        "-New",
        "-Type",
        "WebServicesExternal",
        "-ComputerFqdn",
        "web.contoso.com",
        "-KeyAlg",
        "ECDH_P256",
        "-Output",
        "web.req",
    ]);
    lab.sign(&ca, "web.req", "web.cer", 90);
    // The CA certificate first: the leaf is found by its key, not by its place.
    lab.openssl(&[
        "crl2pkcs7",
        "-nocrl",
        "-certfile",
        &ca.cert_s(),
        "-certfile",
        "web.cer",
        "-out",
        "web.p7b",
    ]);
    let c: Stored = lab.ok(&["Import-CsCertificate", "-Path", "web.p7b"]).one();
    assert_eq!(c.thumbprint, lab.fingerprint("web.cer"));
    assert_eq!(c.subject, "CN=web.contoso.com");
    assert_eq!(c.request_id, Some(1));
    assert!(c.has_private_key);
    lab.ok(&[
        "Set-CsCertificate",
        "-Type",
        "WebServicesExternal",
        "-Thumbprint",
        &c.thumbprint,
    ]);
    let got = lab.get(&[]);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].thumbprint, c.thumbprint);
    assert_eq!(got[0].issuer, CA_DN);
}

#[test]
fn pfx_with_key_imports_exportable_and_exports_again() {
    let lab = Lab::new();
    let ca = lab.make_ca("ca", "Contoso Test Root CA", 3650);
    lab.foreign_cert(&ca, "web", "webserver.contoso.com");
    lab.openssl_pfx("web.cer", "web.key", None, "WebServer.pfx", "p");
    let thumbprint = lab.fingerprint("web.cer");
    // Import-CsCertificate -Path "C:\Certificates\WebServer.pfx" -PrivateKeyExportable $True
    let c: Stored = lab
        .ok(&[
            "Import-CsCertificate",
            "-Path",
            "WebServer.pfx",
            "-Password",
            "p",
            "-PrivateKeyExportable",
            "$True",
        ])
        .one();
    assert_eq!(c.thumbprint, thumbprint);
    assert!(c.has_private_key);
    assert!(c.private_key_exportable);
    assert_eq!(c.request_id, None);
    assert_eq!(c.alternative_names, ["webserver.contoso.com"]);
    lab.ok(&[
        "Export-CsCertificate",
        "-Thumbprint",
        &thumbprint,
        "-Path",
        "again.pfx",
        "-Password",
        PASSWORD,
    ]);
    check_pfx(&lab, "again.pfx", "web.cer", &thumbprint);

    // Without -PrivateKeyExportable the key of a PFX is not exportable.
    let lab2 = Lab::new();
    std::fs::copy(lab.path("WebServer.pfx"), lab2.path("WebServer.pfx")).unwrap();
    let c: Stored = lab2
        .ok(&[
            "Import-CsCertificate",
            "-Path",
            "WebServer.pfx",
            "-Password",
            "p",
        ])
        .one();
    assert!(c.has_private_key);
    assert!(!c.private_key_exportable);
    let r = lab2.run(&[
        "Export-CsCertificate",
        "-Thumbprint",
        &thumbprint,
        "-Path",
        "again.pfx",
        "-Password",
        PASSWORD,
    ]);
    assert_fails(&r, "PrivateKeyNotExportable,Export-CsCertificate");
}

#[test]
fn cms_import_assigns_at_global_scope() {
    let lab = Lab::new();
    let ca = lab.make_ca("ca", "Contoso Test Root CA", 3650);
    lab.foreign_cert(&ca, "oauth", "contoso.com");
    lab.openssl_pfx("oauth.cer", "oauth.key", None, "x.pfx", "p");
    let thumbprint = lab.fingerprint("oauth.cer");
    let r = lab.ok(&[
        "Import-CsCertificate",
        "-Identity",
        "Global",
        "-Path",
        "x.pfx",
        "-Password",
        "p",
        "-Type",
        "OAuthTokenIssuer",
    ]);
    assert_eq!(r.one::<Stored>().thumbprint, thumbprint);
    assert!(r
        .stderr
        .contains("assigned for the type \"OAuthTokenIssuer\""));
    let global = lab.get(&["-Identity", "global"]);
    assert_eq!(global.len(), 1);
    assert_eq!(global[0].use_name, "OAuthTokenIssuer");
    assert_eq!(global[0].source_scope.as_deref(), Some("Global"));
    assert_eq!(global[0].thumbprint, thumbprint);
    // Get without -Identity shows this computer's uses and the global ones.
    assert_eq!(lab.get(&[]), global);
    assert_eq!(lab.get(&["-Type", "OAuthTokenIssuer"]), global);
    // This computer's scope alone holds nothing.
    assert_eq!(lab.get(&["-Identity", COMPUTER]), vec![]);
}

// ---------------------------------------------------------------- -Retrieve

#[test]
fn retrieve_reports_completed_and_pending_requests() {
    let lab = Lab::new();
    let ca = lab.make_ca("ca", "Contoso Test Root CA", 3650);
    for (fqdn, out) in [("web.contoso.com", "a.req"), ("web2.contoso.com", "b.req")] {
        lab.ok(&[
            "Request-CsCertificate",
            "-New",
            "-Type",
            "WebServicesExternal",
            "-ComputerFqdn",
            fqdn,
            "-KeyAlg",
            "ECDH_P256",
            "-Output",
            out,
        ]);
    }
    lab.sign(&ca, "a.req", "a.cer", 60);
    let a: Stored = lab.ok(&["Import-CsCertificate", "-Path", "a.cer"]).one();
    let all: Vec<RequestLine> = lab.ok(&["Request-CsCertificate", "-Retrieve"]).objects();
    assert_eq!(
        all,
        vec![
            RequestLine {
                request_id: 1,
                certificate_uses: vec!["WebServicesExternal".into()],
                request_status: "Completed".into(),
                thumbprint: Some(a.thumbprint.clone()),
            },
            RequestLine {
                request_id: 2,
                certificate_uses: vec!["WebServicesExternal".into()],
                request_status: "Pending".into(),
                thumbprint: None,
            },
        ]
    );
    let one: RequestLine = lab
        .ok(&["Request-CsCertificate", "-Retrieve", "-RequestId", "2"])
        .one();
    assert_eq!(one.request_status, "Pending");
    let r = lab.run(&["Request-CsCertificate", "-Retrieve", "-RequestId", "9"]);
    assert_fails(&r, "RequestNotFound,Request-CsCertificate");
}

// ---------------------------------------------------------------- Test-CsCertificateConfiguration

#[test]
fn configuration_test_lists_uses_in_order_warns_near_expiry_and_fails_when_expired() {
    let lab = Lab::new();
    let ca = lab.make_ca("ca", "Contoso Test Root CA", 3650);
    let t0 = epoch_after(&lab, &ca);
    let now = fmt_date(t0);
    let t = lab.issue(&ca, &now, "AccessEdgeExternal", Some(100));
    lab.ok_at(
        &now,
        &[
            "Set-CsCertificate",
            "-Type",
            "AccessEdgeExternal,DataEdgeExternal",
            "-Thumbprint",
            &t,
        ],
    );
    let in_order = |u: &str, status: &str| InOrder {
        thumbprint: t.clone(),
        use_name: u.into(),
        status: status.into(),
    };
    let both = vec![
        in_order("AccessEdgeExternal", "Passed"),
        in_order("DataEdgeExternal", "Passed"),
    ];
    // Expiring soon: still in order, the status says it needs attention.
    let both_warned = vec![
        in_order("AccessEdgeExternal", "Warning"),
        in_order("DataEdgeExternal", "Warning"),
    ];

    let r = lab.ok_at(&now, &["Test-CsCertificateConfiguration"]);
    assert_eq!(r.objects::<InOrder>(), both);
    assert!(!r.stderr.contains("WARNING"), "{}", r.stderr);

    // 20 days before notAfter (t0 + 100 days): still in order, with a warning per use.
    let near = fmt_date(t0 + Duration::days(80));
    let r = lab.ok_at(&near, &["Test-CsCertificateConfiguration"]);
    assert_eq!(r.objects::<InOrder>(), both_warned);
    let warnings: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.starts_with("WARNING: "))
        .collect();
    assert_eq!(warnings.len(), 2, "{}", r.stderr);
    assert!(warnings
        .iter()
        .all(|w| w.contains(&t) && w.contains("in 20 days")));

    // Expired: an error per use, no object, exit 3.
    let late = fmt_date(t0 + Duration::days(101));
    let r = lab.run_at(&late, &["Test-CsCertificateConfiguration"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(r.stdout, "");
    let errors = r.errors();
    assert_eq!(errors.len(), 2, "{}", r.stderr);
    for e in &errors {
        assert_eq!(
            e.fully_qualified_error_id,
            "AssignedCertificateExpired,Test-CsCertificateConfiguration"
        );
        assert!(e.message.contains(&t) && e.message.contains("expired"));
    }
}

// ---------------------------------------------------------------- -Report, -WhatIf

#[test]
fn set_report_names_the_thumbprint_and_whatif_changes_nothing() {
    let lab = Lab::new();
    let ca = lab.make_ca("ca", "Contoso Test Root CA", 3650);
    let ca_dir = ca.dir_s();
    let cert: Stored = lab
        .ok(&edge_request(&["-KeyAlg", "ECDH_P256", "-CA", &ca_dir]))
        .one();
    let t = cert.thumbprint;

    let before = lab.snapshot();
    let r = lab.ok(&[
        "Set-CsCertificate",
        "-Type",
        EDGE_USES,
        "-Thumbprint",
        &t,
        "-WhatIf",
    ]);
    assert_eq!(r.stdout, "");
    assert!(r.stderr.contains("What if: "), "{}", r.stderr);
    assert!(r.stderr.contains(&t), "{}", r.stderr);
    assert_eq!(lab.snapshot(), before);
    assert_eq!(lab.get(&[]), vec![]);

    lab.ok(&[
        "Set-CsCertificate",
        "-Type",
        EDGE_USES,
        "-Thumbprint",
        &t,
        "-Report",
        "r.html",
    ]);
    let html = std::fs::read_to_string(lab.path("r.html")).expect("report written");
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains(&t), "{html}");
    assert!(html.contains("Set-CsCertificate"));
    assert_eq!(lab.get(&[]).len(), 3);

    // Remove -WhatIf leaves the assignments.
    let r = lab.ok(&["Remove-CsCertificate", "-Type", EDGE_USES, "-WhatIf"]);
    assert!(r.stderr.contains("What if: "), "{}", r.stderr);
    assert_eq!(lab.get(&[]).len(), 3);
}
