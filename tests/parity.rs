//! Issue 11: Lync behaviour where real scripts notice it. Each test names its item and, for the
//! behaviour parity items, the Microsoft documentation the expected behaviour comes from.

mod support;

use chrono::{DateTime, Duration, Utc};
use support::lifecycle::*;
use support::*;

const AV: &str = "AudioVideoAuthentication";

fn one_use(lab: &Lab, now: &str, use_: &str) -> Assigned {
    let mut g = lab.get_at(now, &["-Type", use_]);
    assert_eq!(g.len(), 1, "one object per use at {now}: {g:?}");
    g.remove(0)
}

fn us_date(d: DateTime<Utc>) -> String {
    // .NET en-US "G": M/d/yyyy h:mm:ss tt
    d.format("%-m/%-d/%Y %-I:%M:%S %p").to_string()
}

/// Set-CsCertificate's documented example, `-Roll -EffectiveDate "7/22/2012 6:00:00 AM"`,
/// names a date already past. Source: set-cscertificate (learn.microsoft.com/powershell/module/
/// skypeforbusiness/set-cscertificate, example 3) and stage-av-and-oauth-certificates.md
/// ("-EffectiveDate defines when the new certificate will become co-active with the current
/// certificate"): from a past effective date on, the new certificate is current and the old one
/// previous, so the docs' next step `Remove-CsCertificate -Type AudioVideoAuthentication
/// -Previous` removes the OLD certificate.
#[test]
fn roll_with_a_past_effective_date_puts_the_new_certificate_in_service() {
    let lab = Lab::new();
    let ca = lab.make_ca("ca", "Contoso Test Root CA", 3650);
    let t0 = fmt_date(epoch_after(&lab, &ca));
    let old = lab.issue(&ca, &t0, AV, None);
    let new = lab.issue(&ca, &t0, AV, None);
    lab.ok_at(
        &t0,
        &["Set-CsCertificate", "-Type", AV, "-Thumbprint", &old],
    );
    let r = lab.ok_at(
        &t0,
        &[
            "Set-CsCertificate",
            "-Type",
            AV,
            "-Thumbprint",
            &new,
            "-Roll",
            "-EffectiveDate",
            "7/22/2012 6:00:00 AM",
        ],
    );
    assert!(r.stderr.contains("has passed"), "{}", r.stderr);
    let g = one_use(&lab, &t0, AV);
    assert_eq!(g.thumbprint, new);
    assert_eq!(g.previous_thumbprint.as_deref(), Some(old.as_str()));
    // Test-CsCertificateConfiguration checks the certificate in service: the new one.
    let inorder = lab.ok_at(&t0, &["Test-CsCertificateConfiguration"]);
    assert_eq!(inorder.one::<InOrder>().thumbprint, new);
    lab.ok_at(
        &t0,
        &["Remove-CsCertificate", "-Type", AV, "-Previous", "-Force"],
    );
    let g = one_use(&lab, &t0, AV);
    assert_eq!(
        g.thumbprint, new,
        "the docs' next step keeps the new certificate"
    );
    assert_eq!(g.previous_thumbprint, None);
}

/// The documented Import-CsCertificate syntax has `-Roll` and `-EffectiveDate` in the
/// Local parameter set (import-cscertificate, learn.microsoft.com/powershell/module/
/// skypeforbusiness/import-cscertificate; docs/reference/cmdlets.md, "Import-CsCertificate").
/// Without -Type, cscert stages the certificate for the uses of the request it answers, or (a
/// PFX) for the uses whose serving certificate has the same subject.
#[test]
fn import_roll_without_type_stages_the_uses_of_the_request() {
    let lab = Lab::new();
    let ca = lab.make_ca("ca", "Contoso Test Root CA", 3650);
    let t0 = epoch_after(&lab, &ca);
    let now = fmt_date(t0);
    let old = lab.issue(&ca, &now, AV, None);
    lab.ok_at(
        &now,
        &["Set-CsCertificate", "-Type", AV, "-Thumbprint", &old],
    );

    // An offline request for the same use, answered by the CA, imported with -Roll.
    lab.ok_at(
        &now,
        &[
            "Request-CsCertificate",
            "-New",
            "-Type",
            AV,
            "-ComputerFqdn",
            "sip.contoso.com",
            "-KeyAlg",
            "ECDH_P256",
            "-Output",
            "av.req",
        ],
    );
    lab.sign(&ca, "av.req", "av.cer", 365);
    let staged = lab.fingerprint("av.cer");
    let effective = t0 + Duration::days(20) + Duration::hours(8);
    let arg = effective.format("%-m/%-d/%Y %-I:%M %p").to_string(); // "7/31/2027 8:00 AM"
    lab.ok_at(
        &now,
        &[
            "Import-CsCertificate",
            "-Path",
            "av.cer",
            "-Roll",
            "-EffectiveTime",
            &arg,
        ],
    );
    let g = one_use(&lab, &now, AV);
    assert_eq!(g.thumbprint, staged);
    assert_eq!(g.effective_time, Some(fmt_date(effective)));
    assert_eq!(g.previous_thumbprint.as_deref(), Some(old.as_str()));
    let after = fmt_date(effective + Duration::hours(1));
    assert_eq!(
        lab.ok_at(&after, &["Test-CsCertificateConfiguration"])
            .one::<InOrder>()
            .thumbprint,
        staged
    );

    // A PFX with the serving certificate's subject, as the issue's command line gives it.
    lab.foreign_cert(&ca, "renewal", "sip.contoso.com");
    lab.openssl_pfx("renewal.cer", "renewal.key", None, "x.pfx", "p");
    let renewal = lab.fingerprint("renewal.cer");
    // (foreign_cert is valid for 60 days from the real today)
    let later = t0 + Duration::days(40);
    lab.ok_at(
        &after,
        &[
            "Import-CsCertificate",
            "-Path",
            "x.pfx",
            "-Password",
            "p",
            "-Roll",
            "-EffectiveTime",
            &us_date(later),
        ],
    );
    let g = one_use(&lab, &after, AV);
    assert_eq!(
        (g.thumbprint, g.previous_thumbprint),
        (renewal, Some(staged))
    );

    // A certificate that answers no request and renews nothing: a clear error, not exit 2.
    lab.foreign_cert(&ca, "stray", "stray.contoso.com");
    lab.openssl_pfx("stray.cer", "stray.key", None, "stray.pfx", "p");
    let r = lab.run_at(
        &after,
        &[
            "Import-CsCertificate",
            "-Path",
            "stray.pfx",
            "-Password",
            "p",
            "-Roll",
            "-EffectiveTime",
            &us_date(later),
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        r.errors()[0].fully_qualified_error_id,
        "NoUseToRoll,Import-CsCertificate"
    );
    assert!(r.errors()[0].message.contains("-Type"), "{}", r.stderr);
}

/// What Get-CsCertificate shows around a roll. Sources: assign-a-server-to-server-
/// certificate.md ("Skype for Business Server keeps two copies of a certificate type: the current
/// certificate and the previous certificate"; Set-CsCertificate without -Roll "immediately
/// configures that certificate to act as the current" one) and stage-av-and-oauth-certificates.md
/// (-EffectiveDate "defines when the new certificate will become co-active with the current
/// certificate"). cscert's choice (README, "Rolling"): one object per use; a staged roll shows the
/// new thumbprint with its future EffectiveTime and the serving one as PreviousThumbprint; an
/// immediate Set keeps the replaced certificate as PreviousThumbprint.
#[test]
fn get_shows_staged_roll_and_previous_of_immediate_set() {
    let lab = Lab::new();
    let ca = lab.make_ca("ca", "Contoso Test Root CA", 3650);
    let t0 = epoch_after(&lab, &ca);
    let at = |d: i64| fmt_date(t0 + Duration::days(d));
    let u = "OAuthTokenIssuer";
    let a = lab.issue(&ca, &at(0), "AccessEdgeExternal", None);
    let b = lab.issue(&ca, &at(0), "AccessEdgeExternal", None);
    let c = lab.issue(&ca, &at(0), "AccessEdgeExternal", None);
    let set = |now: i64, t: &str, roll: Option<i64>| {
        let mut args = vec![
            "Set-CsCertificate",
            "-Identity",
            "global",
            "-Type",
            u,
            "-Thumbprint",
            t,
        ];
        let eff = roll.map(at);
        if let Some(e) = &eff {
            args.extend(["-Roll", "-EffectiveDate", e.as_str()]);
        }
        lab.ok_at(&at(now), &args);
    };
    set(0, &a, None);
    let g = one_use(&lab, &at(0), u);
    assert_eq!(
        (g.thumbprint.as_str(), g.previous_thumbprint.as_deref()),
        (a.as_str(), None)
    );
    // Immediate Set: B current at once, A previous.
    set(1, &b, None);
    let g = one_use(&lab, &at(1), u);
    assert_eq!(g.thumbprint, b);
    assert_eq!(g.previous_thumbprint.as_deref(), Some(a.as_str()));
    assert_eq!(g.effective_time, None, "not a roll");
    assert_eq!(g.update_time, Some(at(1)));
    assert_eq!(g.source_scope.as_deref(), Some("Global"));
    // A roll staged for day 10 is visible at once, in the same single object.
    set(2, &c, Some(10));
    for day in [2, 9] {
        let g = one_use(&lab, &at(day), u);
        assert_eq!(g.thumbprint, c, "day {day}");
        assert_eq!(g.effective_time, Some(at(10)));
        assert_eq!(g.previous_thumbprint.as_deref(), Some(b.as_str()));
        assert_eq!(g.update_time, Some(at(2)));
    }
    // B still serves: the configuration test checks B, and -Previous may not remove it yet.
    assert_eq!(
        lab.ok_at(&at(5), &["Test-CsCertificateConfiguration"])
            .one::<InOrder>()
            .thumbprint,
        b
    );
    let r = lab.run_at(
        &at(5),
        &["Remove-CsCertificate", "-Type", u, "-Previous", "-Force"],
    );
    assert_eq!(r.code, 1);
    assert_eq!(
        r.errors()[0].fully_qualified_error_id,
        "PreviousStillServing,Remove-CsCertificate"
    );
    // From day 10 the same object, now in service.
    let g = one_use(&lab, &at(10), u);
    assert_eq!(
        (g.thumbprint.as_str(), g.previous_thumbprint.as_deref()),
        (c.as_str(), Some(b.as_str()))
    );
    assert_eq!(
        lab.ok_at(&at(10), &["Test-CsCertificateConfiguration"])
            .one::<InOrder>()
            .thumbprint,
        c
    );
    lab.ok_at(
        &at(11),
        &["Remove-CsCertificate", "-Type", u, "-Previous", "-Force"],
    );
    let g = one_use(&lab, &at(11), u);
    assert_eq!(
        (g.thumbprint.as_str(), g.previous_thumbprint.as_deref()),
        (c.as_str(), None)
    );
}

const SINGLE_EDGE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/topology/single-edge.published.xml"
);

/// `Request-CsCertificate -New -Type OAuthTokenIssuer` with a published topology (as in
/// argiesen/Skype4B's install script) makes the request with the names Lync uses: the default
/// SIP domain as subject and no SAN. Sources: assign-a-server-to-server-certificate.md (the token
/// issuer certificate "includes the name of your SIP domain in the Subject field"), Lync's
/// certificate summaries (OAuthTokenIssuer SANs: "No Entry"); docs/reference/certificates.md,
/// "Names per use".
#[test]
fn oauth_token_issuer_request_has_the_sip_domain_and_no_san() {
    let lab = Lab::new();
    lab.ok(&["Publish-CsTopology", "-FileName", SINGLE_EDGE]);
    let r = lab.run_env(
        &[("CSCERT_COMPUTERFQDN", "skypefe.contoso.com")],
        &[
            "Request-CsCertificate",
            "-New",
            "-Type",
            "OAuthTokenIssuer",
            "-Output",
            "oauth.req",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.contains("SAN-MISSING"), "{}", r.stderr);
    let o: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(o["Subject"], "CN=contoso.com");
    assert_eq!(o["AlternativeNames"], serde_json::json!([]));
    // openssl reads the request: CN=contoso.com, no subjectAltName extension.
    let text = lab.openssl(&["req", "-verify", "-noout", "-text", "-in", "oauth.req"]);
    assert!(text.contains("Subject: CN = contoso.com\n"), "{text}");
    assert!(!text.contains("Subject Alternative Name"), "{text}");
    // The validator agrees for that use, and still wants SANs for any other use.
    let t = lab.run(&[
        "Test-CsCertificate",
        "-Path",
        "oauth.req",
        "-Type",
        "OAuthTokenIssuer",
    ]);
    assert_eq!(t.code, 0, "{}\n{}", t.stdout, t.stderr);
    let t = lab.run(&[
        "Test-CsCertificate",
        "-Path",
        "oauth.req",
        "-Type",
        "Default",
    ]);
    assert_eq!(t.code, 3);
    assert!(t.stdout.contains("SAN-MISSING"));
}

/// EKU-NO-CLIENT-AUTH is not printed for a default Front End request, is printed for
/// an Edge external one with the fix and the 2026 change; an unknown computer names the two
/// ways to say which server cscert acts as.
#[test]
fn client_eku_warning_and_unknown_computer_error_say_what_to_do() {
    let lab = Lab::new();
    lab.ok(&["Publish-CsTopology", "-FileName", SINGLE_EDGE]);
    let fe = lab.run_env(
        &[("CSCERT_COMPUTERFQDN", "skypefe.contoso.com")],
        &[
            "Request-CsCertificate",
            "-New",
            "-Type",
            "Default,WebServicesInternal,WebServicesExternal",
            "-Output",
            "fe.req",
        ],
    );
    assert_eq!(fe.code, 0, "{}", fe.stderr);
    assert!(!fe.stderr.contains("EKU-NO-CLIENT-AUTH"), "{}", fe.stderr);
    let edge = lab.run_env(
        &[("CSCERT_COMPUTERFQDN", "Edge.contoso.com")],
        &[
            "Request-CsCertificate",
            "-New",
            "-Type",
            "AccessEdgeExternal,DataEdgeExternal,AudioVideoAuthentication",
            "-PrivateKeyExportable",
            "True",
            "-Output",
            "edge.req",
        ],
    );
    assert_eq!(edge.code, 0, "{}", edge.stderr);
    let w = edge
        .stderr
        .lines()
        .find(|l| l.contains("EKU-NO-CLIENT-AUTH"))
        .unwrap_or_else(|| panic!("{}", edge.stderr));
    assert!(w.starts_with("WARNING: "), "{w}");
    assert!(
        w.contains("-ClientEKU $true") && w.contains("2026") && w.contains("AccessEdgeExternal"),
        "{w}"
    );
    // With -ClientEKU $true the warning is gone.
    let fixed = lab.run_env(
        &[("CSCERT_COMPUTERFQDN", "Edge.contoso.com")],
        &[
            "Request-CsCertificate",
            "-New",
            "-Type",
            "AccessEdgeExternal",
            "-ClientEKU",
            "$true",
            "-PrivateKeyExportable",
            "True",
            "-Output",
            "edge2.req",
        ],
    );
    assert_eq!(fixed.code, 0, "{}", fixed.stderr);
    assert!(
        !fixed.stderr.contains("EKU-NO-CLIENT-AUTH"),
        "{}",
        fixed.stderr
    );
    let r = lab.run_env(
        &[("CSCERT_COMPUTERFQDN", "laptop.example.org")],
        &[
            "Request-CsCertificate",
            "-New",
            "-Type",
            "Default",
            "-Output",
            "x.req",
        ],
    );
    assert_eq!(r.code, 1);
    let m = &r.errors()[0].message;
    assert!(
        m.contains("laptop.example.org") && m.contains("is not in the topology"),
        "{m}"
    );
    assert!(
        m.contains("-ComputerFqdn") && m.contains("CSCERT_COMPUTERFQDN"),
        "{m}"
    );
}

/// `openssl ... -ext subjectAltName` -> the DNS names in the file's order.
fn openssl_sans(lab: &Lab, args: &[&str]) -> Vec<String> {
    let text = lab.openssl(args);
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("DNS:"))
        .unwrap_or_else(|| panic!("no SAN line in {text}"));
    line.split(',')
        .map(|d| d.trim().trim_start_matches("DNS:").to_string())
        .collect()
}

const TABLE_SANS: [&str; 4] = [
    "webcon.contoso.com",
    "sip.contoso.com",
    "sip.fabrikam.com",
    "contoso.com",
];

/// The Lync 2013 "Certificate summary - XMPP federation" table gives the Edge
/// certificate's SANs in an order: webcon.contoso.com, sip.contoso.com, sip.fabrikam.com,
/// contoso.com (subject sip.contoso.com); docs/reference/certificates.md, "The Edge example". When -DomainName lists the
/// subject, the admin's order is kept exactly, in the request object, the request file (openssl)
/// and the issued certificate (openssl); otherwise the subject goes first.
#[test]
fn admin_order_of_domain_names_is_kept() {
    let lab = Lab::new();
    let ca = lab.make_ca("ca", "Contoso Test Root CA", 3650);
    let readme = [
        "Request-CsCertificate",
        "-New",
        "-Type",
        "AccessEdgeExternal,DataEdgeExternal,AudioVideoAuthentication",
        "-ComputerFqdn",
        "sip.contoso.com",
        "-DomainName",
        "webcon.contoso.com, sip.contoso.com, sip.fabrikam.com, contoso.com",
        "-PrivateKeyExportable",
        "True",
    ];
    let mut offline = readme.to_vec();
    offline.extend(["-Output", "edge.req"]);
    let r = lab.ok(&offline);
    let o: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(o["Subject"], "CN=sip.contoso.com");
    assert_eq!(o["AlternativeNames"], serde_json::json!(TABLE_SANS));
    assert_eq!(
        openssl_sans(&lab, &["req", "-in", "edge.req", "-noout", "-text"]),
        TABLE_SANS
    );
    // The CA copies the request's extension: the certificate has the same order.
    lab.sign(&ca, "edge.req", "edge.cer", 30);
    assert_eq!(
        openssl_sans(
            &lab,
            &[
                "x509",
                "-in",
                "edge.cer",
                "-noout",
                "-ext",
                "subjectAltName"
            ]
        ),
        TABLE_SANS
    );
    // Issued at once by the lab CA: the object and the certificate keep it too.
    let mut online = readme.to_vec();
    online.extend(["-CA", ca.dir.to_str().unwrap()]);
    let issued = lab.ok(&online).one::<Stored>();
    assert_eq!(issued.alternative_names, TABLE_SANS);
    // -DomainName without the subject: the subject goes first, then the admin's order.
    let r = lab.ok(&[
        "Request-CsCertificate",
        "-New",
        "-Type",
        "AccessEdgeExternal",
        "-ComputerFqdn",
        "sip.contoso.com",
        "-DomainName",
        "webcon.contoso.com,contoso.com",
        "-PrivateKeyExportable",
        "True",
        "-Output",
        "b.req",
    ]);
    let o: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(
        o["AlternativeNames"],
        serde_json::json!(["sip.contoso.com", "webcon.contoso.com", "contoso.com"])
    );
}

/// Names from a topology: the example deployment of docs/reference/certificates.md, "The Edge
/// example" (Access Edge
/// sip.contoso.com, Web Conferencing Edge webcon.contoso.com, SIP domains contoso.com and
/// fabrikam.com, XMPP federation) yields the table's names in the table's order: Web
/// Conferencing Edge FQDN, Access Edge FQDN, the other sip.<domain> names, then the XMPP
/// domains. (With -AllSipDomain every SIP domain is also an XMPP domain, so fabrikam.com follows.)
#[test]
fn topology_edge_names_come_in_documented_order() {
    let lab = Lab::new();
    let xml = std::fs::read_to_string(SINGLE_EDGE).unwrap();
    let psom = r#"Usage="PsomClient" InterfaceSide="External" InterfaceNumber="1" Port="444" Protocol="Tls" UrlPath="/" AuthorizesRequests="false" ConfiguredFqdn="sip.contoso.com""#;
    assert!(xml.contains(psom));
    let seed = xml
        .replace(psom, &psom.replace("sip.contoso.com", "webcon.contoso.com"))
        .replace(
            r#"<InternalDomain Name="contoso.com" Authoritative="false" AllowSubDomains="false" />"#,
            r#"<InternalDomain Name="contoso.com" Authoritative="false" AllowSubDomains="false" /><InternalDomain Name="fabrikam.com" Authoritative="false" AllowSubDomains="false" />"#,
        );
    std::fs::write(lab.path("seed.xml"), seed).unwrap();
    lab.ok(&["Publish-CsTopology", "-FileName", "seed.xml"]);
    let edge = |extra: &[&str]| {
        let mut args = vec![
            "Request-CsCertificate",
            "-New",
            "-Type",
            "AccessEdgeExternal,DataEdgeExternal,AudioVideoAuthentication",
            "-PrivateKeyExportable",
            "True",
        ];
        args.extend_from_slice(extra);
        let r = lab.run_env(&[("CSCERT_COMPUTERFQDN", "Edge.contoso.com")], &args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let o: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
        assert_eq!(o["Subject"], "CN=sip.contoso.com");
        o["AlternativeNames"].clone()
    };
    assert_eq!(
        edge(&["-Output", "one.req"]),
        serde_json::json!(["webcon.contoso.com", "sip.contoso.com", "contoso.com"])
    );
    let mut all = TABLE_SANS.to_vec();
    all.push("fabrikam.com");
    assert_eq!(
        edge(&["-AllSipDomain", "-Output", "all.req"]),
        serde_json::json!(all)
    );
    assert_eq!(
        openssl_sans(&lab, &["req", "-in", "all.req", "-noout", "-text"]),
        all
    );
}

/// Real pwsh, when installed (`pwsh` on PATH or ~/.dotnet/tools/pwsh); missing under CI=true is a
/// failure, elsewhere one SKIPPED line.
fn pwsh(test: &str) -> Option<std::path::PathBuf> {
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let candidates = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("pwsh"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .chain(home.map(|h| h.join(".dotnet/tools/pwsh")));
    for c in candidates {
        if c.is_file() {
            return Some(c);
        }
    }
    skip_unless(test, "pwsh", false);
    None
}

/// Objects in, objects out: Request-CsCertificate -New -CA prints the shape of Lync's
/// online request (the Get-CsCertificate properties, Use, then the store facts), and -Reference
/// takes what Request-/Get-CsCertificate print: the JSON object as text natively, and the object
/// itself through the pwsh module.
#[test]
fn reference_takes_the_objects_request_and_get_print() {
    let lab = Lab::new();
    let ca = lab.make_ca("ca", "Contoso Test Root CA", 3650);
    let r = lab.ok(&[
        "Request-CsCertificate",
        "-New",
        "-Type",
        "Default,WebServicesInternal",
        "-ComputerFqdn",
        "fe.contoso.com",
        "-KeyAlg",
        "ECDH_P256",
        "-CA",
        &ca.dir_s(),
    ]);
    let keys: KeyOrder = serde_json::from_str(r.stdout.trim()).unwrap();
    let store_facts = [
        "FriendlyName",
        "HasPrivateKey",
        "PrivateKeyExportable",
        "RequestId",
        "RequestStatus",
    ];
    assert_eq!(keys.0, [&ASSIGNED_KEYS[..], &store_facts].concat());
    let issued = r.one::<Stored>();
    assert_eq!(
        issued.uses,
        Some(vec!["Default".into(), "WebServicesInternal".into()])
    );
    assert_eq!((issued.effective_time, issued.source_scope), (None, None));
    // The printed object, as text, is a -Reference.
    let line = r.stdout.trim().to_string();
    lab.ok(&["Set-CsCertificate", "-Type", "Default", "-Reference", &line]);
    let got = lab.get(&[]);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].thumbprint, issued.thumbprint);
    // So is a Get-CsCertificate object.
    let get_line = lab.ok(&["Get-CsCertificate", "-Type", "Default"]).stdout;
    lab.ok(&[
        "Set-CsCertificate",
        "-Type",
        "WebServicesInternal",
        "-Reference",
        get_line.trim(),
    ]);
    assert_eq!(
        lab.get(&["-Type", "WebServicesInternal"])[0].thumbprint,
        issued.thumbprint
    );
    // An offline request's object has no thumbprint yet: a clear error.
    let off = lab.ok(&[
        "Request-CsCertificate",
        "-New",
        "-Type",
        "Default",
        "-ComputerFqdn",
        "fe.contoso.com",
        "-KeyAlg",
        "ECDH_P256",
        "-Output",
        "fe.req",
    ]);
    let r = lab.run(&[
        "Set-CsCertificate",
        "-Type",
        "Default",
        "-Reference",
        off.stdout.trim(),
    ]);
    assert_eq!(r.code, 1);
    assert!(r.errors()[0].message.contains("Thumbprint"), "{}", r.stderr);

    // Through the module, with the objects themselves.
    let Some(pwsh) = pwsh("reference_takes_the_objects_request_and_get_print") else {
        return;
    };
    let module = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/CsCertificate.psm1");
    let script = format!(
        "$ErrorActionPreference='Stop'; Import-Module '{module}'; \
         $c = Request-CsCertificate -New -Type WebServicesExternal -ComputerFqdn fe.contoso.com -KeyAlg ECDH_P256 -CA '{}'; \
         Set-CsCertificate -Type WebServicesExternal -Reference $c; \
         $g = Get-CsCertificate -Type WebServicesExternal; \
         Set-CsCertificate -Type Default -Reference $g; \
         (Get-CsCertificate -Type Default).Thumbprint + ' ' + $c.Thumbprint + ' ' + $c.Use",
        ca.dir_s()
    );
    let o = std::process::Command::new(pwsh)
        .args(["-NoProfile", "-NonInteractive", "-Command", &script])
        .current_dir(lab.dir.path())
        .env("CSCERT_EXE", env!("CARGO_BIN_EXE_cscert"))
        .env("CSCERT_STORE", lab.store())
        .env("CSCERT_COMPUTERFQDN", COMPUTER)
        .env_remove("CSCERT_NOW")
        .output()
        .expect("pwsh runs");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Set-CsCertificate's "assigned for the type" lines come first (Write-Host).
    let words: Vec<&str> = out
        .lines()
        .last()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(words.len(), 3, "{out}");
    assert_eq!(
        words[0], words[1],
        "Default got the module's Request object: {out}"
    );
    assert_eq!(words[2], "WebServicesExternal");
}

/// Export writes the chain it knows (here: the CA certificate imported into the store
/// before the CA's answer), RequestStatus is the same whether Import or Export prints the
/// certificate, and an IDN in -DomainName is requested as its A-label with a verbose line.
#[test]
fn export_writes_known_chain_and_idn_is_requested_as_a_label() {
    let lab = Lab::new();
    let ca = lab.make_ca("ca", "Contoso Test Root CA", 3650);
    lab.ok(&[
        "Request-CsCertificate",
        "-New",
        "-Type",
        "Default",
        "-ComputerFqdn",
        "fe.contoso.com",
        "-KeyAlg",
        "ECDH_P256",
        "-PrivateKeyExportable",
        "True",
        "-Output",
        "fe.req",
    ]);
    lab.sign(&ca, "fe.req", "fe.cer", 30);
    lab.ok(&["Import-CsCertificate", "-Path", &ca.cert_s()]);
    let imported = lab
        .ok(&["Import-CsCertificate", "-Path", "fe.cer"])
        .one::<Stored>();
    assert_eq!(imported.request_status.as_deref(), Some("Issued"));
    let t = imported.thumbprint.clone();
    let env = [("CSCERT_PASSWORD", "pw")];
    let exported = lab.run_env(
        &env,
        &["Export-CsCertificate", "-Thumbprint", &t, "-Path", "fe.pfx"],
    );
    assert_eq!(exported.code, 0, "{}", exported.stderr);
    assert_eq!(
        exported.one::<Stored>(),
        imported,
        "the same object, RequestStatus included"
    );
    let certs = lab.openssl(&["pkcs12", "-in", "fe.pfx", "-passin", "pass:pw", "-nokeys"]);
    assert_eq!(certs.matches("BEGIN CERTIFICATE").count(), 2, "{certs}");
    std::fs::write(lab.path("chain.pem"), &certs).unwrap();
    // openssl builds the path from the PFX's own certificates.
    lab.openssl(&["verify", "-CAfile", "chain.pem", "fe.cer"]);
    let pem = lab.run_env(
        &env,
        &[
            "Export-CsCertificate",
            "-Thumbprint",
            &t,
            "-Path",
            "fe.pem",
            "-Format",
            "Pem",
        ],
    );
    assert_eq!(pem.code, 0, "{}", pem.stderr);
    let text = std::fs::read_to_string(lab.path("fe.pem")).unwrap();
    assert_eq!(text.matches("BEGIN CERTIFICATE").count(), 2);

    let r = lab.ok(&[
        "Request-CsCertificate",
        "-New",
        "-Type",
        "WebServicesExternal",
        "-ComputerFqdn",
        "fe.contoso.com",
        "-DomainName",
        "bücher.contoso.com",
        "-KeyAlg",
        "ECDH_P256",
        "-Output",
        "idn.req",
        "-Verbose",
    ]);
    let o: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(
        o["AlternativeNames"],
        serde_json::json!(["fe.contoso.com", "xn--bcher-kva.contoso.com"])
    );
    assert!(
        r.stderr.lines().any(|l| l.starts_with("VERBOSE:")
            && l.contains("bücher.contoso.com")
            && l.contains("xn--bcher-kva.contoso.com")),
        "{}",
        r.stderr
    );
    let text = lab.openssl(&["req", "-in", "idn.req", "-noout", "-text"]);
    assert!(text.contains("DNS:xn--bcher-kva.contoso.com"), "{text}");
}

/// Dates in the admin's culture, through the binder of the built binary. Source:
/// Microsoft's Set-CsCertificate guidance, "The EffectiveDate must be formatted to match your
/// server's region and language settings", and .NET's culture patterns (ko-KR
/// `yyyy-MM-dd tt h:mm:ss` with 오전/오후, en-GB `dd/MM/yyyy HH:mm:ss`, de-DE `dd.MM.yyyy`).
#[test]
fn effective_date_is_read_in_the_admins_culture() {
    let lab = Lab::new();
    let ca = lab.make_ca("ca", "Contoso Test Root CA", 3650);
    let t0 = epoch_after(&lab, &ca);
    let now = fmt_date(t0);
    let old = lab.issue(&ca, &now, AV, None);
    let new = lab.issue(&ca, &now, AV, None);
    lab.ok_at(
        &now,
        &["Set-CsCertificate", "-Type", AV, "-Thumbprint", &old],
    );
    let day = t0 + Duration::days(20);
    let cases = [
        (
            "ko_KR.UTF-8",
            day.format("%Y-%m-%d 오후 6:00:00").to_string(),
            day + Duration::hours(18),
        ),
        (
            "en_GB.UTF-8",
            day.format("%d/%m/%Y 06:30:00").to_string(),
            day + Duration::minutes(390),
        ),
        (
            "de_DE.UTF-8",
            day.format("%d.%m.%Y 07:00").to_string(),
            day + Duration::hours(7),
        ),
        (
            "ja_JP.UTF-8",
            day.format("%Y/%m/%d 午前 8:00:00").to_string(),
            day + Duration::hours(8),
        ),
        (
            "fr_FR.UTF-8",
            day.format("%d/%m/%Y 09:00:00").to_string(),
            day + Duration::hours(9),
        ),
        (
            "en_US.UTF-8",
            day.format("%-m/%-d/%Y 10:00:00 AM").to_string(),
            day + Duration::hours(10),
        ),
        // ISO 8601 in any culture.
        (
            "ko_KR.UTF-8",
            day.format("%Y-%m-%dT11:00:00").to_string(),
            day + Duration::hours(11),
        ),
    ];
    for (lang, arg, want) in cases {
        let r = lab.run_env(
            &[("LANG", lang), ("CSCERT_NOW", &now)],
            &[
                "Set-CsCertificate",
                "-Type",
                AV,
                "-Thumbprint",
                &new,
                "-Roll",
                "-EffectiveDate",
                &arg,
            ],
        );
        assert_eq!(r.code, 0, "{lang} {arg}: {}", r.stderr);
        let g = one_use(&lab, &now, AV);
        assert_eq!(g.effective_time, Some(fmt_date(want)), "{lang} {arg}");
    }
    // The US form in a British session: a binding error naming the culture and an ISO example.
    let us = day.format("%-m/%-d/%Y 6:00:00 AM").to_string();
    let r = lab.run_env(
        &[("LANG", "en_GB.UTF-8"), ("CSCERT_NOW", &now)],
        &[
            "Set-CsCertificate",
            "-Type",
            AV,
            "-Thumbprint",
            &new,
            "-Roll",
            "-EffectiveDate",
            &us,
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    let e = &r.errors()[0];
    assert!(
        e.message.contains("en-GB") && e.message.contains("LANG=en_GB.UTF-8"),
        "{}",
        e.message
    );
    assert!(e.message.contains("2026-07-22T06:00:00"), "{}", e.message);
    // LC_ALL wins over LANG.
    let r = lab.run_env(
        &[
            ("LANG", "en_GB.UTF-8"),
            ("LC_ALL", "en_US.UTF-8"),
            ("CSCERT_NOW", &now),
        ],
        &[
            "Set-CsCertificate",
            "-Type",
            AV,
            "-Thumbprint",
            &new,
            "-Roll",
            "-EffectiveDate",
            &us,
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    // A culture without patterns: ISO only, and the error says so.
    let r = lab.run_env(
        &[("LANG", "es_ES.UTF-8"), ("CSCERT_NOW", &now)],
        &[
            "Set-CsCertificate",
            "-Type",
            AV,
            "-Thumbprint",
            &new,
            "-Roll",
            "-EffectiveDate",
            &us,
        ],
    );
    assert_eq!(r.code, 2);
    assert!(r.errors()[0].message.contains("es-ES"), "{}", r.stderr);
}

/// `--help` and `-h` print the cmdlet's help (as `-?` does), and every example line in
/// the help pastes into bash and into pwsh with the same meaning: both shells run it verbatim
/// (cmdlet names are links to cscert, as scripts/install.sh makes them) and cscert reports the
/// same bound parameters.
#[test]
fn help_flags_work_and_examples_paste_into_bash_and_pwsh() {
    let lab = Lab::new();
    let bin = lab.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let names = [
        "Request-CsCertificate",
        "Import-CsCertificate",
        "Set-CsCertificate",
        "Get-CsCertificate",
        "Remove-CsCertificate",
        "Test-CsCertificateConfiguration",
        "Export-CsCertificate",
        "Test-CsCertificate",
        "Publish-CsTopology",
        "Get-CsTopology",
    ];
    let mut examples = Vec::new();
    for n in names {
        let q = lab.ok(&[n, "-?"]).stdout;
        assert!(q.starts_with(&format!("NAME\n    {n}\n")), "{q}");
        assert_eq!(lab.ok(&[n, "--help"]).stdout, q, "{n} --help");
        // `-h` is help unless it starts a parameter's name, as pwsh would bind it then
        // (Test-CsCertificateConfiguration -HtmlReport).
        if n == "Test-CsCertificateConfiguration" {
            lab.run(&[n, "-h"]).assert_code(2);
        } else {
            assert_eq!(lab.ok(&[n, "-h"]).stdout, q, "{n} -h");
        }
        assert_eq!(lab.ok(&[n, "-Help"]).stdout, q, "{n} -Help");
        #[cfg(unix)]
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_cscert"), bin.join(n)).unwrap();
        let mut lines = q.lines();
        while let Some(l) = lines.next() {
            if l.trim_start().starts_with("--------------------------") {
                examples.push(lines.next().unwrap().trim().to_string());
            }
        }
    }
    assert!(examples.len() >= 15, "{examples:?}");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let shell = |program: &std::path::Path, args: &[&str], script: &str| {
        let o = std::process::Command::new(program)
            .args(args)
            .arg(script)
            .current_dir(lab.dir.path())
            .env("PATH", &path)
            .env("CSCERT_STORE", lab.store())
            .env("CSCERT_COMPUTERFQDN", COMPUTER)
            .env("CSCERT_DEBUG_BINDING", "1")
            .env("LANG", "en_US.UTF-8")
            .env_remove("LC_ALL")
            .env_remove("CSCERT_PASSWORD")
            .env_remove("CSCERT_NOW")
            .stdin(std::process::Stdio::null())
            .output()
            .expect("shell runs");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        all.lines()
            .filter(|l| l.starts_with("DEBUG: Bound:"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    // bash: `set -u`, so an example that used an unset shell variable would fail here.
    let bash_script: String = examples
        .iter()
        .map(|e| format!("set -u; {e} </dev/null\n"))
        .collect();
    let in_bash = shell(std::path::Path::new("bash"), &["-c"], &bash_script);
    assert_eq!(
        in_bash.len(),
        examples.len(),
        "each example binds in bash: {in_bash:#?}"
    );
    let Some(pwsh) = pwsh("help_flags_work_and_examples_paste_into_bash_and_pwsh") else {
        return;
    };
    let ps_script: String = examples
        .iter()
        .map(|e| format!("& {{ {e} }} 2>&1 | ForEach-Object {{ \"$_\" }}\n"))
        .collect();
    let in_pwsh = shell(
        &pwsh,
        &["-NoProfile", "-NonInteractive", "-Command"],
        &ps_script,
    );
    assert_eq!(
        in_pwsh, in_bash,
        "the same parameters bound from pwsh and bash"
    );
}

/// Runs cscert under a real pseudo-terminal (`script`), so that stdout and stderr are terminals;
/// returns what the terminal showed (stdout and stderr interleaved, `\r\n` made `\n`) and the
/// exit code.
fn in_pty(lab: &Lab, env: &[(&str, &str)], args: &[&str]) -> (String, i32) {
    let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    let line = std::iter::once(env!("CARGO_BIN_EXE_cscert"))
        .chain(args.iter().copied())
        .map(quote)
        .collect::<Vec<_>>()
        .join(" ");
    let mut c = std::process::Command::new("script");
    c.args(["-qec", &line, "/dev/null"])
        .current_dir(lab.dir.path())
        .env("CSCERT_STORE", lab.store())
        .env("CSCERT_COMPUTERFQDN", COMPUTER)
        .env("LANG", "en_US.UTF-8")
        .env("TERM", "xterm")
        .env_remove("NO_COLOR")
        .env_remove("CSCERT_OUTPUT")
        .env_remove("CSCERT_ERROR_FORMAT")
        .stdin(std::process::Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().expect("script (util-linux) runs");
    (
        String::from_utf8_lossy(&o.stdout).replace("\r\n", "\n"),
        o.status.code().unwrap_or(-1),
    )
}

/// A human view on a terminal (tested through a real pty): Format-List-like blocks,
/// a table for -List, findings grouped by severity with colour, one-line summaries; exactly
/// today's JSON Lines when stdout is not a terminal, and on a terminal with CSCERT_OUTPUT=json or
/// -OutputFormat Json; progress on stderr for a long Test-CsCertificate batch on a terminal only.
#[test]
fn terminal_gets_a_human_view_and_pipes_keep_json_lines() {
    if !require(
        "terminal_gets_a_human_view_and_pipes_keep_json_lines",
        &["script"],
    ) {
        return;
    }
    let lab = Lab::new();
    let ca = lab.make_ca("ca", "Contoso Test Root CA", 3650);
    let now = fmt_date(epoch_after(&lab, &ca));
    let t = lab.issue(&ca, &now, "AccessEdgeExternal", None);
    lab.ok_at(
        &now,
        &[
            "Set-CsCertificate",
            "-Type",
            "AccessEdgeExternal",
            "-Thumbprint",
            &t,
        ],
    );
    let at = [("CSCERT_NOW", now.as_str())];

    // Piped: the JSON contract, unchanged.
    let piped = lab.ok_at(&now, &["Get-CsCertificate"]).stdout;
    check_assigned_lines(&piped);
    // On a terminal: a block, no JSON.
    let (shown, code) = in_pty(&lab, &at, &["Get-CsCertificate"]);
    assert_eq!(code, 0, "{shown}");
    assert!(!shown.contains('{'), "{shown}");
    let thumb_line = format!("Thumbprint         : {t}");
    assert!(shown.lines().any(|l| l == thumb_line), "{shown}");
    assert!(
        shown
            .lines()
            .any(|l| l == "Use                : AccessEdgeExternal"),
        "{shown}"
    );
    // Forced JSON on the terminal: byte for byte the piped lines.
    for (env, extra) in [
        (vec![("CSCERT_OUTPUT", "json"), at[0]], vec![]),
        (at.to_vec(), vec!["-OutputFormat", "Json"]),
    ] {
        let mut args = vec!["Get-CsCertificate"];
        args.extend(extra);
        let (json, code) = in_pty(&lab, &env, &args);
        assert_eq!(code, 0);
        assert_eq!(json, piped, "{env:?} {args:?}");
    }
    // Empty result and a change: one line each.
    let (empty, _) = in_pty(&lab, &at, &["Get-CsCertificate", "-Type", "Default"]);
    assert_eq!(empty, "No certificate is assigned for these uses.\n");
    assert_eq!(
        lab.ok_at(&now, &["Get-CsCertificate", "-Type", "Default"])
            .stdout,
        ""
    );

    // -List as a table.
    lab.ok_at(
        &now,
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
            "fe.req",
        ],
    );
    let (table, _) = in_pty(&lab, &at, &["Request-CsCertificate", "-List"]);
    let header = table
        .lines()
        .find(|l| l.contains("RequestId"))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(
        header.contains("RequestStatus") && header.contains("CertificateUses"),
        "{table}"
    );
    assert!(
        table
            .lines()
            .any(|l| l.contains(" 2 ") && l.contains("Pending") && l.contains("CN=fe.contoso.com")),
        "{table}"
    );
    // The injectable form (no pty) gives the same view, without colour.
    let injected = lab.run_env(
        &[("CSCERT_OUTPUT", "text"), at[0]],
        &["Request-CsCertificate", "-List"],
    );
    assert_eq!(injected.stdout, table);

    // Findings grouped by severity, in colour on the terminal, plain with NO_COLOR.
    let (checked, code) = in_pty(
        &lab,
        &at,
        &[
            "Test-CsCertificate",
            "-Path",
            "fe.req",
            "-Type",
            "AccessEdgeExternal",
            "-XmppDomain",
            "contoso.com",
        ],
    );
    assert_eq!(code, 3);
    let errors = checked
        .find("Errors (")
        .unwrap_or_else(|| panic!("{checked}"));
    let warnings = checked
        .find("Warnings (")
        .unwrap_or_else(|| panic!("{checked}"));
    assert!(errors < warnings, "{checked}");
    assert!(
        checked.contains("\x1b[31mXMPP-NOT-COVERED\x1b[0m"),
        "{checked}"
    );
    assert!(
        checked.contains("\x1b[33mEKU-NO-CLIENT-AUTH\x1b[0m"),
        "{checked}"
    );
    let (plain, _) = in_pty(
        &lab,
        &[("NO_COLOR", "1"), at[0]],
        &[
            "Test-CsCertificate",
            "-Path",
            "fe.req",
            "-Type",
            "AccessEdgeExternal",
            "-XmppDomain",
            "contoso.com",
        ],
    );
    assert!(
        !plain.contains('\x1b') && plain.contains("  XMPP-NOT-COVERED  "),
        "{plain}"
    );

    let (removed, code) = in_pty(
        &lab,
        &at,
        &[
            "Remove-CsCertificate",
            "-Type",
            "AccessEdgeExternal",
            "-Force",
        ],
    );
    assert_eq!(code, 0);
    assert_eq!(
        removed,
        format!("Removed the certificate {t} from AccessEdgeExternal at {COMPUTER}.\n")
    );

    // Progress for a long batch: on a terminal's stderr only.
    std::fs::create_dir_all(lab.path("many")).unwrap();
    let one = std::fs::read(ca.cert.clone()).unwrap();
    for i in 0..250 {
        std::fs::write(lab.path(&format!("many/{i:03}.crt")), &one).unwrap();
    }
    let (batch, _) = in_pty(
        &lab,
        &[("CSCERT_OUTPUT", "json"), at[0]],
        &["Test-CsCertificate", "-Path", "many"],
    );
    assert!(
        batch.contains("250/250 files checked"),
        "{}",
        &batch[batch.len().saturating_sub(400)..]
    );
    let piped = lab.run_at(&now, &["Test-CsCertificate", "-Path", "many"]);
    assert!(!piped.stderr.contains("files checked"), "{}", piped.stderr);
    assert_eq!(piped.stdout.lines().count(), 250);
}

/// The README's set-up has exactly two commands (the Edge request of the example, then
/// `bash scripts/test`), the first can be run again (it failed when edge.req existed), and the
/// install command follows them.
#[test]
fn readme_setup_commands_rerun_and_install_follows() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let setup = readme
        .split("## Set-up")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("a Set-up section");
    let block = setup
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a sh block");
    let commands: Vec<&str> = block
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert_eq!(commands.len(), 2, "{commands:?}");
    assert_eq!(commands[1], "bash scripts/test");
    let after = setup
        .split("```sh\n")
        .nth(1)
        .unwrap()
        .split("```")
        .nth(1)
        .unwrap();
    assert!(after.contains("`bash scripts/install.sh`"), "{after}");

    // Command 1, with the built binary for `cargo run --release --`, twice.
    let args = commands[0]
        .strip_prefix("cargo run --release -- ")
        .expect("command 1 builds and runs cscert");
    let lab = Lab::new();
    let script = format!(
        "set -e; cscert() {{ '{}' \"$@\"; }}; cscert {args}",
        env!("CARGO_BIN_EXE_cscert")
    );
    for run in 1..=2 {
        let o = std::process::Command::new("bash")
            .args(["-c", &script])
            .current_dir(lab.dir.path())
            .env("CSCERT_STORE", lab.store())
            .env_remove("CSCERT_OUTPUT")
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "run {run}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let text = lab.openssl(&["req", "-verify", "-noout", "-text", "-in", "edge.req"]);
        assert!(
            text.contains("DNS:webcon.contoso.com, DNS:sip.contoso.com"),
            "{text}"
        );
    }
}
