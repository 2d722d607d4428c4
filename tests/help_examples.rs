//! Every example in every cmdlet's help, pasted into bash as it stands (the cmdlet names being
//! links to cscert, as `install.sh --links` makes them): each one binds, and those that need
//! nothing outside this machine run against a lab store, with local stand-ins for Windows
//! paths, thumbprints and lab CA files. (pwsh: tests/pwsh/HelpAndViews.Tests.ps1.)

mod support;

use std::process::Command;
use support::{Run, Sandbox, TestCa};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Examples that need what this test does not stand in for: a public ACME CA (tests/acme.rs
/// runs ACME against pebble), a PFX of the reader's own, request ids of an earlier session, a
/// roll of certificates that do not exist here, a server on the network. They are run for
/// binding only.
const BINDING_ONLY: &[&str] = &[
    "https://",
    ".pfx",
    "-Retrieve",
    "-Clear",
    "-Roll",
    "-Previous",
    "466D9BB0E8B928B65AF38FA2D9F41E1B301ECE9D",
    "Import-CsCertificate -Path edge.cer",
    // A system folder and a deploy script of the reader's (tests/renewal.rs runs both).
    "-ExportPath",
    // The reader's new store password in $env:CSCERT_NEW_PASSWORD (tests/store_password.rs).
    "Update-CsCertificateStorePassword -Force",
    // A live server by its name (tests/probe.rs and tests/xmpp_probe.rs probe local ones).
    "-Endpoint",
];

/// A lab acting as the Front End: a lab CA, a Front End certificate, an Edge request, a folder
/// of certificates, a folder of roots, and the sample topology (published with `topology`:
/// examples that name their certificate with -DomainName run where none is, since a published
/// topology refuses a -ComputerFqdn outside it).
fn lab(topology: bool) -> Sandbox {
    let sb = Sandbox::lab("cscert-examples-", "skypefe.contoso.com", false);
    let links = sb.path("bin");
    std::fs::create_dir(&links).unwrap();
    for c in cscert::cmdlets::DEFS {
        std::os::unix::fs::symlink(support::bin(), links.join(c.name)).unwrap();
    }
    let ca = TestCa::new(&sb.path("ca"), &[("CN", "Contoso Example CA")], 3650);
    ca.bundle(&sb.path("lab-ca.pem"));
    std::fs::copy(
        format!("{ROOT}/examples/topology.xml"),
        sb.path("topology.xml"),
    )
    .unwrap();
    if topology {
        sb.ok(&["Publish-CsTopology", "-FileName", "topology.xml"]);
    }
    let fe = sb.ok(&[
        "Request-CsCertificate",
        "-New",
        "-Type",
        "Default,WebServicesInternal,WebServicesExternal,OAuthTokenIssuer",
        "-ComputerFqdn",
        "skypefe.contoso.com",
        "-KeyAlg",
        "ECDH_P256",
        "-CA",
        "lab-ca.pem",
        "-OutputFormat",
        "Json",
    ]);
    let thumbprint = fe.lines()[0]["Thumbprint"].as_str().unwrap().to_string();
    sb.ok(&[
        "Set-CsCertificate",
        "-Type",
        "Default,WebServicesInternal,WebServicesExternal",
        "-Thumbprint",
        &thumbprint,
    ]);
    sb.ok(&[
        "Request-CsCertificate",
        "-New",
        "-Type",
        "AccessEdgeExternal",
        "-ComputerFqdn",
        "Edge.contoso.com",
        "-PrivateKeyExportable",
        "True",
        "-ClientEKU",
        "True",
        "-KeyAlg",
        "ECDH_P256",
        "-Output",
        "edge.req",
    ]);
    std::fs::create_dir(sb.path("certs")).unwrap();
    ca.leaf(
        &sb.path("certs"),
        "web",
        "web.contoso.com",
        &["web.contoso.com"],
        90,
    );
    std::fs::create_dir(sb.path("roots")).unwrap();
    std::fs::copy(sb.path("ca").join("ca.crt"), sb.path("roots/ca.crt")).unwrap();
    sb
}

/// Runs one example line in bash, the links first on the PATH.
fn paste(sb: &Sandbox, line: &str) -> Run {
    let mut c = Command::new("bash");
    sb.isolate(&mut c);
    let path = format!("{}:{}", sb.p("bin"), std::env::var("PATH").unwrap());
    c.args(["-c", line])
        .env("PATH", path)
        .env_remove("CSCERT_OUTPUT");
    Run::from(c.output().unwrap())
}

#[cfg(unix)]
#[test]
fn every_help_example_binds_in_bash_and_the_local_ones_run() {
    if !support::require("every_help_example_binds_in_bash", &["openssl"]) {
        return;
    }
    let (with_topology, without) = (lab(true), lab(false));
    let mut ran = 0;
    for c in cscert::cmdlets::DEFS {
        for (line, _) in c.examples {
            let sb = if line.contains("-DomainName") {
                &without
            } else {
                &with_topology
            };
            // Binding: -WhatIf where the cmdlet changes something, else a real run.
            let what_if = if c.should_process && !line.contains("-WhatIf") {
                " -WhatIf"
            } else {
                ""
            };
            let o = paste(sb, &format!("{line}{what_if}"));
            assert_ne!(o.code, 2, "{line}: does not bind: {}", o.stderr);
            assert!(!o.stderr.contains("Cannot bind"), "{line}: {}", o.stderr);
            if BINDING_ONLY.iter().any(|m| line.contains(m)) {
                continue;
            }
            // A real run, Windows paths standing in as paths in this folder.
            let local = line.replace("'C:\\Certificates\\", "'./");
            // Run again, so it replaces what the lab has and asks nothing.
            let mut extra = String::new();
            if c.should_process {
                extra.push_str(" -Confirm:False");
            }
            if !local.contains("-Force") {
                extra.push_str(" -Force");
            }
            let o = paste(sb, &format!("{local}{extra}")).assert_code_or_retry(sb, &local);
            assert_eq!(o.code, 0, "{local}: {}\n{}", o.stdout, o.stderr);
            ran += 1;
        }
    }
    assert!(ran >= 10, "only {ran} examples ran for real");
}

trait OrRetry {
    fn assert_code_or_retry(self, sb: &Sandbox, line: &str) -> Run;
}

impl OrRetry for Run {
    /// Not every cmdlet has -Force or -Confirm: run such an example as it stands.
    fn assert_code_or_retry(self, sb: &Sandbox, line: &str) -> Run {
        if self.code == 2 && self.stderr.contains("A parameter cannot be found") {
            return paste(sb, line);
        }
        self
    }
}
