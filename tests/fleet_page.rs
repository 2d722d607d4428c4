//! The fleet page (Test-CsCertificateConfiguration -HtmlReport) opened in headless Chromium:
//! the DOM has one timeline bar per certificate in service or staged, with its status in text,
//! and screenshots in the light and the dark theme are pictures (not blank, not the same).

mod support;

use chrono::Duration;
use std::process::Command;
use support::lifecycle::*;
use support::*;

/// Headless Chromium as it works here as root: no sandbox, no GPU, nothing fetched.
fn chromium(lab: &Lab, args: &[&str]) -> Run {
    let profile = lab.path(&format!("chromium-{}", free_port()));
    let mut c = Command::new("timeout");
    c.args([
        "90",
        "chromium",
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .args(args);
    Run::lossy(c.output().expect("chromium runs"))
}

/// The number of distinct pixel rows and colours-ish bytes of a PNG, decoded by Python's zlib
/// (an independent reader): a blank page has one value everywhere.
fn png_variety(path: &str) -> usize {
    let script = r#"
import sys, zlib, struct
d = open(sys.argv[1], 'rb').read()
assert d[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
i, idat = 8, b''
while i < len(d):
    n, t = struct.unpack('>I4s', d[i:i+8])
    if t == b'IDAT': idat += d[i+8:i+8+n]
    i += 12 + n
print(len(set(zlib.decompress(idat))))
"#;
    let o = Command::new("python3")
        .args(["-c", script, path])
        .output()
        .expect("python3 runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).trim().parse().unwrap()
}

/// Five certificates at one time T (fine, renewal due, expiring, expired, and a staged roll)
/// on the page: one bar each with its status, today's line, the findings table with the
/// expired one's error id.
#[test]
fn the_fleet_page_shows_one_bar_per_certificate_in_chromium() {
    if !require("fleet_page", &["chromium", "python3"]) {
        return;
    }
    let lab = Lab::new();
    let ca = lab.make_ca("ca", "Contoso Test Root CA", 3650);
    let t0 = epoch_after(&lab, &ca);
    let at = |d: chrono::DateTime<chrono::Utc>| fmt_date(d);
    let t = t0 + Duration::days(100);
    let cases = [
        ("Default", 730, "fine"),
        ("WebServicesInternal", 140, "renewal due"),
        ("WebServicesExternal", 120, "expiring"),
        ("Internal", 60, "expired"),
    ];
    let mut want = Vec::new();
    for (use_, days, status) in cases {
        let thumb = lab.issue(&ca, &at(t0), use_, Some(days));
        lab.ok_at(
            &at(t0 + Duration::hours(1)),
            &["Set-CsCertificate", "-Type", use_, "-Thumbprint", &thumb],
        );
        want.push((thumb, status));
    }
    let staged = lab.issue(&ca, &at(t0 + Duration::days(90)), "Default", Some(730));
    lab.ok_at(
        &at(t),
        &[
            "Set-CsCertificate",
            "-Type",
            "Default",
            "-Thumbprint",
            &staged,
            "-Roll",
            "-EffectiveDate",
            &at(t + Duration::days(20)),
        ],
    );
    want.push((staged, "fine"));

    let page = lab.p("fleet.html");
    let r = lab.run_at(
        &at(t),
        &["Test-CsCertificateConfiguration", "-HtmlReport", &page],
    );
    r.assert_code(3);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        !html.contains("<script") && !html.contains("<link"),
        "self-contained"
    );

    let dom = chromium(&lab, &["--dump-dom", &format!("file://{page}")]);
    assert_eq!(dom.code, 0, "{}", dom.both());
    let dom = dom.stdout;
    assert_eq!(
        dom.matches("<g class=\"cert\"").count(),
        want.len(),
        "one bar per certificate:\n{dom}"
    );
    for (thumb, status) in &want {
        assert!(
            dom.contains(&format!(
                "<g class=\"cert\" data-thumbprint=\"{thumb}\" data-status=\"{status}\">"
            )),
            "{thumb} {status}:\n{dom}"
        );
    }
    for text in [
        "fine",
        "renewal due",
        "expiring",
        "expired",
        "staged from",
        "today",
    ] {
        assert!(dom.contains(&format!(">{text}")), "{text} as text");
    }
    assert!(
        dom.contains("<td>AssignedCertificateExpired</td>"),
        "findings table"
    );

    let light = lab.p("light.png");
    let dark = lab.p("dark.png");
    for (shot, extra) in [(&light, None), (&dark, Some("--force-dark-mode"))] {
        let mut args = vec![
            format!("--screenshot={shot}"),
            "--window-size=1280,1000".into(),
        ];
        args.extend(extra.map(str::to_string));
        args.push(format!("file://{page}"));
        let r = chromium(&lab, &args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(r.code, 0, "{}", r.both());
        assert!(png_variety(shot) > 20, "{shot} is not blank");
    }
    assert_ne!(
        std::fs::read(&light).unwrap(),
        std::fs::read(&dark).unwrap(),
        "the dark theme differs from the light one"
    );
    if let Some(keep) = std::env::var_os("CSCERT_KEEP_FLEET_SHOT") {
        std::fs::copy(&light, keep).unwrap();
    }
}
