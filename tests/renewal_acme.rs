//! Update-CsCertificate against a real ACME server (Debian's pebble, tests/support/pebble.rs):
//! the Edge certificate renewed once and assigned the way Lync needs, the OAuth certificate
//! rolled, a CA that is down, and the ACME Renewal Information (RFC 9773) of a scripted
//! `renewalInfo` endpoint in front of pebble (tests/support/ari.rs): the window, the cached
//! Retry-After and `replaces` in the new order.

mod support;

use chrono::{DateTime, Duration, Utc};
use support::ari::AriProxy;
use support::pebble::{peers_present, Pebble};
use support::{Run, EDGE_USES};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn iso(d: DateTime<Utc>) -> String {
    d.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The Edge certificate of the seed through this pebble (http-01 on its port) and `directory`,
/// assigned to the three Edge uses; its thumbprint and NotAfter.
fn edge(pb: &Pebble, directory: Option<&str>) -> (String, DateTime<Utc>) {
    let port = pb.http_port.to_string();
    let mut a = pb.edge_args(&["-AcmeHttpPort", &port, "-AcmeContact", "admin@contoso.com"]);
    if let Some(d) = directory {
        let i = a.iter().position(|x| x == "-CA").unwrap();
        a[i + 1] = d.to_string();
    }
    let args: Vec<&str> = a.iter().map(String::as_str).collect();
    let c = pb.cscert_ok(&args).json();
    let t = c["Thumbprint"].as_str().unwrap().to_string();
    pb.cscert_ok(&["Set-CsCertificate", "-Type", EDGE_USES, "-Thumbprint", &t]);
    (t, at(c["NotAfter"].as_str().unwrap()))
}

fn update(pb: &Pebble, now: &str, extra: &[&str]) -> (Run, Vec<serde_json::Value>) {
    let mut args = vec!["Update-CsCertificate", "-Force"];
    args.extend_from_slice(extra);
    let r = pb.cscert_env(&args, &[("CSCERT_NOW", now)]);
    let rows = r.lines();
    (r, rows)
}

fn row<'a>(rows: &'a [serde_json::Value], use_: &str) -> &'a serde_json::Value {
    rows.iter()
        .find(|r| r["Use"] == use_)
        .unwrap_or_else(|| panic!("no row for {use_}: {rows:?}"))
}

#[test]
fn a_due_edge_certificate_is_renewed_once_set_at_once_and_staged_for_av() {
    if !peers_present("a_due_edge_certificate_is_renewed_once") {
        return;
    }
    let pb = Pebble::start(false);
    let (old, not_after) = edge(&pb, None);
    // Not due now (pebble's certificates live years): nothing is ordered.
    let (r, rows) = update(&pb, &iso(Utc::now()), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(rows.iter().all(|r| r["Status"] == "NotDue"), "{rows:?}");
    assert_eq!(pb.count("/finalize-order/"), 1);
    // Ten days before it expires: due (less than a third of its lifetime left).
    let now = not_after - Duration::days(10);
    let (r, rows) = update(&pb, &iso(now), &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stderr, pb.logs());
    assert_eq!(rows.len(), 3);
    let new = rows[0]["Thumbprint"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    for u in ["AccessEdgeExternal", "DataEdgeExternal"] {
        assert_eq!(row(&rows, u)["Status"], "Renewed");
        assert_eq!(row(&rows, u)["EffectiveTime"], iso(now).as_str());
    }
    let av = row(&rows, "AudioVideoAuthentication");
    assert_eq!(av["Status"], "Staged");
    // Microsoft's lead time for A/V tokens: 8 hours.
    assert_eq!(av["EffectiveTime"], iso(now + Duration::hours(8)).as_str());
    for r in &rows {
        assert_eq!(r["Thumbprint"], new.as_str());
        assert_eq!(r["PreviousThumbprint"], old.as_str());
        assert!(r["Source"]
            .as_str()
            .unwrap()
            .starts_with("ACME https://127.0.0.1:"));
    }
    // One new order (renewed once), none with `replaces` (pebble 2.4 has no ARI).
    assert_eq!(pb.count("/finalize-order/"), 2, "{}", pb.logs());
    let get = pb
        .cscert_env(&["Get-CsCertificate"], &[("CSCERT_NOW", &iso(now))])
        .lines();
    for g in &get {
        assert_eq!(g["Thumbprint"], new.as_str(), "{g}");
        assert_eq!(g["PreviousThumbprint"], old.as_str());
    }
    let av = get
        .iter()
        .find(|g| g["Use"] == "AudioVideoAuthentication")
        .unwrap();
    assert_eq!(av["EffectiveTime"], iso(now + Duration::hours(8)).as_str());
    // The renewed certificate has the same names, chained to pebble's root.
    let names = |v: &serde_json::Value| {
        let mut n: Vec<String> = v["AlternativeNames"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect();
        n.sort();
        n
    };
    assert_eq!(names(&get[0]), {
        let mut v: Vec<String> = support::pebble::EDGE_SANS
            .iter()
            .map(|s| s.to_string())
            .collect();
        v.sort();
        v
    });
}

#[test]
fn the_oauth_certificate_is_renewed_as_a_staged_roll_with_the_old_one_previous() {
    if !peers_present("the_oauth_certificate_is_renewed_as_a_staged_roll") {
        return;
    }
    let pb = Pebble::start(false);
    let port = pb.http_port.to_string();
    let dir = pb.directory();
    let bundle = pb.p("tls-ca.pem");
    let c = pb
        .cscert_ok(&[
            "Request-CsCertificate",
            "-New",
            "-Type",
            "OAuthTokenIssuer",
            "-DomainName",
            "contoso.com",
            "-PrivateKeyExportable",
            "True",
            "-CA",
            &dir,
            "-AcmeCaBundle",
            &bundle,
            "-AcmeAgreeTos",
            "-AcmeHttpPort",
            &port,
        ])
        .json();
    let old = c["Thumbprint"].as_str().unwrap().to_string();
    pb.cscert_ok(&[
        "Set-CsCertificate",
        "-Identity",
        "Global",
        "-Type",
        "OAuthTokenIssuer",
        "-Thumbprint",
        &old,
    ]);
    let now = at(c["NotAfter"].as_str().unwrap()) - Duration::days(10);
    let (r, rows) = update(&pb, &iso(now), &["-Identity", "Global"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stderr, pb.logs());
    assert_eq!(rows.len(), 1);
    let o = &rows[0];
    assert_eq!(o["Use"], "OAuthTokenIssuer");
    assert_eq!(o["Identity"], "Global");
    assert_eq!(o["Status"], "Staged");
    // Microsoft's lead time for OAuth: 24 hours.
    assert_eq!(o["EffectiveTime"], iso(now + Duration::hours(24)).as_str());
    let new = o["Thumbprint"].as_str().unwrap();
    let get = pb
        .cscert_env(
            &["Get-CsCertificate", "-Identity", "Global"],
            &[("CSCERT_NOW", &iso(now))],
        )
        .json();
    assert_eq!(get["Thumbprint"], new);
    assert_eq!(get["PreviousThumbprint"], old.as_str());
    assert_eq!(
        get["EffectiveTime"],
        iso(now + Duration::hours(24)).as_str()
    );
    // -RollDelay changes the lead time.
    let (r, rows) = update(
        &pb,
        &iso(now),
        &["-Identity", "Global", "-RenewNow", "-RollDelay", "48"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        rows[0]["EffectiveTime"],
        iso(now + Duration::hours(48)).as_str()
    );
}

#[test]
fn an_acme_ca_that_is_down_leaves_the_old_assignment_and_fails() {
    if !peers_present("an_acme_ca_that_is_down") {
        return;
    }
    let mut pb = Pebble::start(false);
    let (old, not_after) = edge(&pb, None);
    pb.stop();
    let now = iso(not_after - Duration::days(10));
    let (r, rows) = update(&pb, &now, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        rows.iter()
            .all(|r| r["Status"] == "Failed" && r["Thumbprint"] == old.as_str()),
        "{rows:?}"
    );
    assert!(rows[0]["Reason"]
        .as_str()
        .unwrap()
        .contains("the old assignment stays in service"));
    let get = pb
        .cscert_env(&["Get-CsCertificate"], &[("CSCERT_NOW", &now)])
        .lines();
    assert_eq!(get.len(), 3);
    assert!(get.iter().all(|g| g["Thumbprint"] == old.as_str()));
}

#[test]
fn two_runs_at_once_order_one_certificate() {
    if !peers_present("two_runs_at_once_order_one_certificate") {
        return;
    }
    let pb = Pebble::start(false);
    let (old, not_after) = edge(&pb, None);
    let now = iso(not_after - Duration::days(10));
    let spawn = || {
        let mut c = pb.sb.command(&["Update-CsCertificate", "-Force"]);
        c.env("CSCERT_NOW", &now)
            .env("CSCERT_ACME_HTTP_ADDRESS", "127.0.0.1");
        c.stdout(std::process::Stdio::piped()).spawn().unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success() && b.status.success());
    assert_eq!(
        pb.count("/finalize-order/"),
        2,
        "one renewal order:\n{}",
        pb.logs()
    );
    let text = String::from_utf8_lossy(&a.stdout).to_string() + &String::from_utf8_lossy(&b.stdout);
    assert_eq!(text.matches("\"Status\":\"Renewed\"").count(), 2, "{text}");
    assert_eq!(text.matches("\"Status\":\"Staged\"").count(), 1, "{text}");
    let get = pb
        .cscert_env(&["Get-CsCertificate"], &[("CSCERT_NOW", &now)])
        .lines();
    assert!(get.iter().all(|g| g["PreviousThumbprint"] == old.as_str()));
}

/// The RFC 9773 identifier of a certificate file, computed with openssl (AKI keyid and the
/// serial's DER bytes), independently of cscert.
fn ari_id(pb: &Pebble, cert_pem: &str) -> String {
    use base64::Engine;
    let f = pb.p("leaf.pem");
    std::fs::write(&f, cert_pem).unwrap();
    let text = pb.sb.openssl(&[
        "x509",
        "-in",
        &f,
        "-noout",
        "-ext",
        "authorityKeyIdentifier",
        "-serial",
    ]);
    let hex = |s: &str| -> Vec<u8> {
        let s: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    };
    let aki = text
        .lines()
        .find(|l| l.contains(':') && !l.contains("Authority") && !l.starts_with("serial"))
        .unwrap();
    let serial_hex = text
        .lines()
        .find_map(|l| l.strip_prefix("serial="))
        .unwrap();
    let mut serial = hex(serial_hex);
    if serial[0] & 0x80 != 0 {
        serial.insert(0, 0);
    }
    let b = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}",
        b.encode(hex(aki.trim().trim_start_matches("keyid:"))),
        b.encode(serial)
    )
}

#[test]
fn ari_window_is_followed_cached_for_its_retry_after_and_replaces_is_sent() {
    if !peers_present("ari_window_is_followed") {
        return;
    }
    let pb = Pebble::start(false);
    let proxy = AriProxy::start(pb.sb.root(), pb.acme_port);
    let (old, _) = edge(&pb, Some(&proxy.directory()));
    let pem = pb.cscert_env(
        &[
            "Export-CsCertificate",
            "-Thumbprint",
            &old,
            "-Path",
            &pb.p("old.pem"),
            "-Format",
            "Pem",
            "-Force",
        ],
        &[("CSCERT_PASSWORD", "ari-test")],
    );
    assert_eq!(pem.code, 0, "{}", pem.stderr);
    let leaf = std::fs::read_to_string(pb.path("old.pem")).unwrap();
    let id = ari_id(&pb, &leaf);
    let t1 = at("2027-01-10T00:00:00Z");
    {
        let mut s = proxy.script.lock().unwrap();
        s.window = ("2027-02-01T00:00:00Z".into(), "2027-02-03T00:00:00Z".into());
        s.retry_after = "3600".into();
    }
    // Before the window: not due, RenewAfter inside it; the CA was asked once, for this id.
    let (r, rows) = update(&pb, &iso(t1), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let renew_after = at(rows[0]["RenewAfter"].as_str().unwrap());
    assert!(
        renew_after >= at("2027-02-01T00:00:00Z") && renew_after < at("2027-02-03T00:00:00Z"),
        "{renew_after}"
    );
    assert!(rows
        .iter()
        .all(|r| r["Status"] == "NotDue" && r["RenewAfter"] == iso(renew_after).as_str()));
    assert_eq!(proxy.script.lock().unwrap().asked, vec![id.clone()]);
    // The CA moves the window into the past, but its Retry-After (an hour) has not passed: the
    // answer in the store holds, nobody is asked.
    proxy.script.lock().unwrap().window =
        ("2027-01-01T00:00:00Z".into(), "2027-01-02T00:00:00Z".into());
    let (_, rows) = update(&pb, &iso(t1 + Duration::minutes(30)), &[]);
    assert!(
        rows.iter()
            .all(|r| r["Status"] == "NotDue" && r["RenewAfter"] == iso(renew_after).as_str()),
        "{rows:?}"
    );
    assert_eq!(proxy.script.lock().unwrap().asked.len(), 1);
    // After the Retry-After: asked again, due, renewed with `replaces` naming the old one.
    let (r, rows) = update(&pb, &iso(t1 + Duration::hours(2)), &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stderr, pb.logs());
    assert_eq!(proxy.script.lock().unwrap().asked.len(), 2);
    assert_eq!(
        row(&rows, "AccessEdgeExternal")["Status"],
        "Renewed",
        "{rows:?}"
    );
    assert!(
        rows[0]["Reason"].as_str().unwrap().contains("RFC 9773"),
        "{rows:?}"
    );
    let orders = proxy.script.lock().unwrap().orders.clone();
    assert_eq!(orders.len(), 2, "{orders:?}");
    assert!(orders[0].get("replaces").is_none());
    assert_eq!(orders[1]["replaces"], id.as_str());
}

#[test]
fn a_run_killed_after_the_ca_issued_is_finished_without_a_second_order() {
    if !peers_present("a_run_killed_after_the_ca_issued") {
        return;
    }
    let pb = Pebble::start(false);
    let (old, not_after) = edge(&pb, None);
    let now = iso(not_after - Duration::days(10));
    // -Confirm asks before issuing and again before assigning: yes to the first, then SIGKILL
    // while the run waits at the second.
    let mut c = pb.sb.command(&["Update-CsCertificate", "-Confirm"]);
    c.env("CSCERT_NOW", &now)
        .env("CSCERT_ACME_HTTP_ADDRESS", "127.0.0.1");
    support::kill_at(c, b"Y\n", "Assign certificate");
    assert_eq!(pb.count("/finalize-order/"), 2, "issued: {}", pb.logs());
    let get = pb
        .cscert_env(&["Get-CsCertificate"], &[("CSCERT_NOW", &now)])
        .lines();
    assert!(
        get.iter().all(|g| g["Thumbprint"] == old.as_str()),
        "nothing assigned yet"
    );
    // The next run assigns the certificate the CA issued; it orders nothing.
    let (r, rows) = update(&pb, &now, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        pb.count("/finalize-order/"),
        2,
        "not ordered twice: {}",
        pb.logs()
    );
    let new = rows[0]["Thumbprint"].as_str().unwrap();
    assert_ne!(new, old);
    assert!(rows[0]["Reason"]
        .as_str()
        .unwrap()
        .contains("an earlier run began"));
    assert_eq!(row(&rows, "AudioVideoAuthentication")["Status"], "Staged");
    assert_eq!(row(&rows, "AccessEdgeExternal")["Status"], "Renewed");
}

#[test]
fn all_leaves_another_computers_http01_certificate_with_the_reason() {
    if !peers_present("all_leaves_another_computers_http01_certificate") {
        return;
    }
    let pb = Pebble::start(false);
    let (old, not_after) = edge(&pb, None);
    // The same certificate assigned on another Edge server too.
    let other = "edge02.contoso.com";
    pb.cscert_ok(&[
        "Set-CsCertificate",
        "-Identity",
        other,
        "-Type",
        "AccessEdgeExternal",
        "-Thumbprint",
        &old,
    ]);
    let now = iso(not_after - Duration::days(10));
    let (r, rows) = update(&pb, &now, &["-All"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let theirs: Vec<_> = rows.iter().filter(|r| r["Identity"] == other).collect();
    assert_eq!(theirs.len(), 1, "{rows:?}");
    assert_eq!(theirs[0]["Status"], "Failed");
    let reason = theirs[0]["Reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!("checks http-01 on {other} itself")),
        "{reason}"
    );
    // This computer's uses were renewed; the other keeps its certificate.
    let mine: Vec<_> = rows
        .iter()
        .filter(|r| r["Identity"] == "sip.contoso.com")
        .collect();
    assert!(
        mine.iter()
            .all(|r| r["Status"] == "Renewed" || r["Status"] == "Staged"),
        "{mine:?}"
    );
    assert_eq!(pb.count("/finalize-order/"), 2);
}
