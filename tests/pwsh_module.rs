//! The pwsh module is generated from the binder's tables: the checked-in files under scripts/
//! must be exactly what `cscert module` writes (regenerate with
//! `cargo run -- module --out scripts` after changing a table). Also: secrets that the module
//! passes through the environment bind as if given on argv, and stay out of every trace.

mod support;

use serde_json::json;
use std::path::Path;
use support::binder::param;
use support::Sandbox;

#[test]
fn checked_in_module_equals_generated_module() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sb = Sandbox::new();
    let out = sb.root().join("module");
    sb.cmd(&["module", "--out", out.to_str().unwrap()])
        .assert()
        .success();
    let files = cscert::psmodule::files();
    assert_eq!(files.len(), 3);
    for (name, text) in files {
        let written = std::fs::read_to_string(out.join(name)).expect(name);
        assert_eq!(written, text, "`cscert module` wrote {name} differently");
        let checked_in = std::fs::read_to_string(root.join("scripts").join(name))
            .unwrap_or_else(|e| panic!("scripts/{name}: {e}"));
        assert!(
            checked_in == text,
            "scripts/{name} is not the generated module: run `cargo run -- module --out scripts`"
        );
    }
}

#[test]
fn module_declares_every_cmdlet_and_parameter_of_the_tables() {
    let psm1 = cscert::psmodule::files()
        .into_iter()
        .find(|(n, _)| *n == "CsCertificate.psm1")
        .unwrap()
        .1;
    for c in cscert::cmdlets::DEFS {
        let start = psm1
            .find(&format!("\nfunction {} {{", c.name))
            .unwrap_or_else(|| panic!("no function {}", c.name));
        let body = &psm1[start..];
        let body = &body[..body[1..].find("\nfunction ").unwrap_or(body.len() - 1) + 1];
        for p in c.params {
            assert!(
                body.contains(&format!(" ${}", p.name)),
                "{}: no parameter {}",
                c.name,
                p.name
            );
            if p.ty == cscert::binder::table::PType::Password {
                // Secrets are typed [object] (string or SecureString) and go to the environment.
                assert!(body.contains(&format!("[object] ${}", p.name)));
            }
        }
        assert_eq!(
            body.contains("SupportsShouldProcess = $true"),
            c.should_process,
            "{}",
            c.name
        );
    }
}

#[test]
fn secrets_bind_from_the_environment_and_stay_masked() {
    let sb = Sandbox::new();
    let o = sb
        .cmd(&[
            "Request-CsCertificate",
            "-New",
            "-Type",
            "Default",
            "-CA",
            "dc\\myca",
            "-WhatIf",
        ])
        .env("CSCERT_CA_PASSWORD", "ca-s3cret")
        .output()
        .unwrap();
    let o = support::Run::from(o);
    let t = o.trace();
    assert_eq!(param(&t, "CaPassword"), &json!("********"));
    assert!(!o.stderr.contains("ca-s3cret") && !o.stdout.contains("ca-s3cret"));

    // CSCERT_PASSWORD binds -Password only in the sets that have it: Set-CsCertificate
    // -Thumbprint stays in its set.
    let o = sb
        .cmd(&[
            "Set-CsCertificate",
            "-Type",
            "Default",
            "-Thumbprint",
            "466D9BB0E8B928B65AF38FA2D9F41E1B301ECE9D",
            "-WhatIf",
        ])
        .env("CSCERT_PASSWORD", "pfx-s3cret")
        .output()
        .unwrap();
    let t = support::Run::from(o).trace();
    assert_eq!(t.parameter_set, "Thumbprint");
    assert!(t.parameters.get("Password").is_none());
}

/// pwsh passes a [datetime] to a native program as InvariantCulture text (recorded from real
/// pwsh in tests/pwsh/NativeArgv.Tests.ps1): cscert reads it where the culture cannot.
#[test]
fn pwsh_datetime_text_binds_in_cultures_that_cannot_read_it() {
    let sb = Sandbox::new();
    for (lang, want) in [
        ("en_GB.UTF-8", "2012-07-22T06:00:00Z"),
        ("ko_KR.UTF-8", "2012-07-22T06:00:00Z"),
        ("C.UTF-8", "2012-07-22T06:00:00Z"),
    ] {
        let o = sb
            .cmd(&[
                "Set-CsCertificate",
                "-Type",
                "Default",
                "-Thumbprint",
                "466D9BB0E8B928B65AF38FA2D9F41E1B301ECE9D",
                "-Roll",
                "-EffectiveDate",
                "07/22/2012 06:00:00",
                "-WhatIf",
            ])
            .env("LC_ALL", lang)
            .env("TZ", "UTC")
            .output()
            .unwrap();
        let t = support::Run::from(o).trace();
        assert_eq!(param(&t, "EffectiveDate"), &json!(want), "{lang}");
    }
    // A date the culture reads keeps the culture's meaning (en-GB: 7 May), as PowerShell binds
    // a string to a cmdlet's DateTime parameter.
    let o = sb
        .cmd(&[
            "Set-CsCertificate",
            "-Type",
            "Default",
            "-Thumbprint",
            "466D9BB0E8B928B65AF38FA2D9F41E1B301ECE9D",
            "-Roll",
            "-EffectiveDate",
            "07/05/2012 06:00:00",
            "-WhatIf",
        ])
        .env("LC_ALL", "en_GB.UTF-8")
        .env("TZ", "UTC")
        .output()
        .unwrap();
    let t = support::Run::from(o).trace();
    assert_eq!(param(&t, "EffectiveDate"), &json!("2012-05-07T06:00:00Z"));
}
