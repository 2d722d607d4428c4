//! A new user's first hour, natively: the README's first command runs clean and can be run
//! again, the outer command answers `-?`, a missing shell and a mistyped cmdlet helpfully,
//! `--help` names every variable cscert reads, stderr is coloured on a terminal, `-WhatIf` shows
//! the names a request would carry, Windows paths warn on Unix, and bash completion completes.

mod support;

use std::process::Command;
use support::{Run, Sandbox};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn readme() -> String {
    std::fs::read_to_string(format!("{ROOT}/README.md")).unwrap()
}

/// A sandbox with human-readable errors (as a person sees them).
fn plain() -> Sandbox {
    Sandbox::lab("cscert-first-hour-", "sip.contoso.com", false)
}

/// `bash -c script` in the sandbox, `cscert` being the binary under test.
fn bash(sb: &Sandbox, script: &str) -> Run {
    let mut c = Command::new("bash");
    sb.isolate(&mut c);
    c.args(["-c", script])
        .env("CSCERT_EXE", support::bin())
        .env_remove("CSCERT_OUTPUT");
    Run::from(c.output().unwrap())
}

/// The README's first command (Set-up), with the built binary for `cargo run --release --`.
fn first_readme_command() -> String {
    let r = readme();
    let setup = r.split("\n## Set-up\n").nth(1).expect("a Set-up section");
    let block = setup
        .split("```sh\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    let line = block
        .lines()
        .find(|l| l.starts_with("cargo run --release -- "))
        .expect("the first command");
    line.replace("cargo run --release -- ", "\"$CSCERT_EXE\" ")
}

#[test]
fn the_first_readme_command_warns_nothing_and_a_forced_rerun_replaces_its_pending_request() {
    let sb = plain();
    let cmd = first_readme_command();
    let first = bash(&sb, &cmd);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(
        first.stderr, "",
        "the first command prints nothing on stderr"
    );
    let again = bash(&sb, &cmd);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again
            .stderr
            .starts_with("Replaced the pending request 1 for ")
            && again.stderr.contains("edge.req (-Force)"),
        "{}",
        again.stderr
    );
    let list = sb.ok(&["Request-CsCertificate", "-List", "-OutputFormat", "Json"]);
    let ids: Vec<i64> = list
        .lines()
        .iter()
        .filter(|l| l["RequestStatus"] == "Pending")
        .map(|l| l["RequestId"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![2],
        "one pending request for edge.req: {}",
        list.stdout
    );
    // The key of the pending request matches the file on disk.
    let text = sb.openssl(&["req", "-noout", "-pubkey", "-in", "edge.req"]);
    assert!(text.contains("BEGIN PUBLIC KEY"), "{text}");
    // edge.req lands in the checkout when the README is followed there: git ignores it.
    let ignore = std::fs::read_to_string(format!("{ROOT}/.gitignore")).unwrap();
    assert!(ignore.lines().any(|l| l == "/edge.req"), "{ignore}");
}

/// A quick offline request (EC key) for the Internal use, written to `output`.
fn internal_request(output: &str) -> Vec<&str> {
    vec![
        "Request-CsCertificate",
        "-New",
        "-Type",
        "Internal",
        "-KeyAlg",
        "ECDH_P256",
        "-ComputerFqdn",
        "fe.contoso.com",
        "-Output",
        output,
    ]
}

#[test]
fn without_force_a_second_request_for_another_file_keeps_the_first() {
    let sb = plain();
    sb.ok(&internal_request("a.req"));
    let b = sb.ok(&internal_request("b.req"));
    assert!(!b.stderr.contains("Replaced"), "{}", b.stderr);
    let list = sb.ok(&["Request-CsCertificate", "-List", "-OutputFormat", "Json"]);
    assert_eq!(list.lines().len(), 2, "{}", list.stdout);
}

#[test]
fn question_mark_alone_prints_the_outer_help() {
    let sb = plain();
    for arg in ["-?", "--help"] {
        let o = sb.run(&[arg]);
        assert_eq!(o.code, 0, "{arg}: {}", o.stderr);
        assert!(o.stdout.contains("CMDLETS"), "{arg}: {}", o.stdout);
        assert!(o.stdout.contains("Request-CsCertificate"), "{}", o.stdout);
    }
}

#[test]
fn completions_without_a_shell_names_the_shells() {
    let sb = plain();
    let o = sb.run(&["completions"]);
    assert_eq!(o.code, 2);
    assert!(
        o.stderr
            .starts_with("cscert completions: Name the shell: bash or pwsh."),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("source <(cscert completions bash)"));
}

#[test]
fn a_mistyped_cmdlet_name_gets_a_did_you_mean() {
    let sb = plain();
    for (typed, meant) in [
        ("Get-CsCertificat", "Get-CsCertificate"),
        ("Request-CsCertficate", "Request-CsCertificate"),
        (
            "test-cscertificateconfig",
            "Test-CsCertificateConfiguration",
        ),
    ] {
        let o = sb.run(&[typed]);
        assert_eq!(o.code, 2, "{typed}");
        assert!(
            o.stderr.contains(&format!("Did you mean {meant}?")),
            "{typed}: {}",
            o.stderr
        );
    }
    let far = sb.run(&["Get-Weather"]);
    assert!(!far.stderr.contains("Did you mean"), "{}", far.stderr);
}

#[test]
fn outer_help_is_truthful_about_output_and_names_every_variable_cscert_reads() {
    let sb = plain();
    let help = sb.ok(&["--help"]).stdout;
    assert!(!help.contains("always JSON"), "{help}");
    for needed in ["-OutputFormat", "not a terminal", "LC_ALL", "NO_COLOR"] {
        assert!(help.contains(needed), "{needed}: {help}");
    }
    // Every CSCERT_ variable the code reads (test-only switches aside).
    let mut names = std::collections::BTreeSet::new();
    for entry in walk(&format!("{ROOT}/src")) {
        let text = std::fs::read_to_string(&entry).unwrap();
        for (i, _) in text.match_indices("\"CSCERT_") {
            let name: String = text[i + 1..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                .collect();
            names.insert(name);
        }
    }
    names.remove("CSCERT_BLESS");
    names.remove("CSCERT_TEST_WRITER_DIR");
    assert!(names.len() >= 14, "{names:?}");
    for n in names {
        assert!(help.contains(&n), "--help does not name {n}");
    }
}

fn walk(dir: &str) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(p.to_str().unwrap()));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out
}

/// Runs cscert with stderr on a pseudo-terminal (`script`), stdout to a file.
#[cfg(unix)]
fn on_terminal(sb: &Sandbox, args: &str, env: &str) -> String {
    let cmd = format!("{env} '{}' {args} >/dev/null", support::bin().display());
    let mut c = Command::new("script");
    sb.isolate(&mut c);
    c.args(["-qec", &cmd, "/dev/null"]).env_remove("NO_COLOR");
    String::from_utf8_lossy(&c.output().unwrap().stdout).into_owned()
}

#[cfg(unix)]
#[test]
fn warnings_and_errors_are_coloured_on_a_terminal_unless_no_color() {
    if !support::require(
        "warnings_and_errors_are_coloured_on_a_terminal",
        &["script"],
    ) {
        return;
    }
    let sb = plain();
    let warn =
        "Request-CsCertificate -New -Type Internal -ComputerFqdn fe.contoso.com -KeyAlg ECDH_P256 -KeySize 4096 -Output w.req";
    let tty = on_terminal(&sb, warn, "");
    assert!(tty.contains("\x1b[33mWARNING: "), "{tty:?}");
    let err = on_terminal(&sb, "Set-CsCertificate -Type Internal -Thumbprint 00", "");
    assert!(err.contains("\x1b[31mSet-CsCertificate: "), "{err:?}");
    let plain_tty = on_terminal(&sb, warn.replace("w.req", "x.req").as_str(), "NO_COLOR=1");
    assert!(plain_tty.contains("WARNING: "), "{plain_tty:?}");
    assert!(!plain_tty.contains('\x1b'), "{plain_tty:?}");
    // Not a terminal: never colour.
    let piped = sb.run(&[
        "Set-CsCertificate",
        "-Type",
        "Internal",
        "-Thumbprint",
        "00",
    ]);
    assert!(!piped.stderr.contains('\x1b'), "{}", piped.stderr);
}

#[test]
fn what_if_on_a_request_shows_the_computed_subject_and_sans() {
    let sb = plain();
    let o = sb.ok(&[
        "Request-CsCertificate",
        "-New",
        "-Type",
        "AccessEdgeExternal",
        "-ComputerFqdn",
        "sip.contoso.com",
        "-DomainName",
        "webcon.contoso.com,contoso.com",
        "-Output",
        "e.req",
        "-WhatIf",
    ]);
    assert!(
        o.stderr.contains("What if: The request's subject would be \"CN=sip.contoso.com\" and its subject alternative names sip.contoso.com, webcon.contoso.com, contoso.com."),
        "{}",
        o.stderr
    );
    assert!(!sb.path("e.req").exists());
}

#[cfg(unix)]
#[test]
fn a_windows_path_on_unix_warns_and_says_what_it_names() {
    let sb = plain();
    let o = sb.ok(&internal_request("C:\\Certificates\\x.req"));
    assert!(
        o.stderr.contains("WARNING: -Output 'C:\\Certificates\\x.req' is a Windows path; on this system it names a file of that name in the current folder."),
        "{}",
        o.stderr
    );
    let fine = sb.ok(&internal_request("./x.req"));
    assert!(!fine.stderr.contains("Windows path"), "{}", fine.stderr);
}

/// What bash completion offers for the words typed so far (the last one being completed).
fn complete(sb: &Sandbox, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let script = format!(
        "source <(\"$CSCERT_EXE\" completions bash); COMP_WORDS=({}); COMP_CWORD={}; _cscert; printf '%s\\n' \"${{COMPREPLY[@]}}\"; complete -p {}",
        quoted.join(" "),
        words.len() - 1,
        words[0]
    );
    let o = bash(sb, &script);
    assert_eq!(o.code, 0, "{}", o.stderr);
    o.stdout.lines().map(str::to_string).collect()
}

#[test]
fn bash_completion_completes_type_values_links_and_no_pwsh_only_parameters() {
    let sb = plain();
    let got = complete(
        &sb,
        &["cscert", "Request-CsCertificate", "-Type", "AccessEdge"],
    );
    assert_eq!(got[0], "AccessEdgeExternal", "{got:?}");
    let got = complete(
        &sb,
        &[
            "cscert",
            "Set-CsCertificate",
            "-Type",
            "Default,WebServicesI",
        ],
    );
    assert_eq!(got[0], "Default,WebServicesInternal", "{got:?}");
    // A cmdlet-name link (install.sh --links) completes as `cscert <Cmdlet>` does.
    let got = complete(&sb, &["Request-CsCertificate", "-KeyA"]);
    assert_eq!(got[0], "-KeyAlg", "{got:?}");
    assert!(
        got.iter().any(|l| l.contains("Request-CsCertificate")),
        "registered: {got:?}"
    );
    let got = complete(&sb, &["Request-CsCertificate", "-KeyAlg", "ECDH_P3"]);
    assert_eq!(got[0], "ECDH_P384", "{got:?}");
    // pwsh-only common parameters are not offered; the native ones are.
    let got = complete(&sb, &["cscert", "Get-CsCertificate", "-Out"]);
    assert_eq!(got[0], "-OutputFormat", "{got:?}");
    assert!(
        !got.iter().any(|l| l == "-OutVariable" || l == "-OutBuffer"),
        "{got:?}"
    );
    // Documented in the README.
    assert!(readme().contains("source <(cscert completions bash)"));
}

#[cfg(unix)]
#[test]
fn the_readme_lab_section_runs_on_a_fresh_machine() {
    if !support::require("the_readme_lab_section_runs", &["openssl"]) {
        return;
    }
    let r = readme();
    let section = r
        .split("\n## A lab in two minutes\n")
        .nth(1)
        .expect("a lab section");
    let block = section
        .split("```sh\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    let sb = plain();
    // As a user runs it: from the checkout's folder (examples/), `cscert` on the PATH.
    let bin_dir = sb.path("bin");
    std::fs::create_dir(&bin_dir).unwrap();
    std::os::unix::fs::symlink(support::bin(), bin_dir.join("cscert")).unwrap();
    std::os::unix::fs::symlink(format!("{ROOT}/examples"), sb.path("examples")).unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    let mut c = Command::new("bash");
    sb.isolate(&mut c);
    c.args(["-euo", "pipefail", "-c", block])
        .env("PATH", path)
        .env_remove("CSCERT_STORE")
        .env_remove("CSCERT_COMPUTERFQDN")
        .env_remove("CSCERT_OUTPUT");
    let o = Run::from(c.output().unwrap());
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    assert!(!o.stderr.contains("WARNING"), "{}", o.stderr);
    let got: Vec<serde_json::Value> = o
        .stdout
        .lines()
        .filter(|l| l.contains("\"SourceScope\""))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let uses: Vec<&str> = got.iter().map(|g| g["Use"].as_str().unwrap()).collect();
    assert_eq!(
        uses,
        [
            "AccessEdgeExternal",
            "DataEdgeExternal",
            "AudioVideoAuthentication"
        ]
    );
    assert_eq!(got[0]["Subject"], "CN=sip.contoso.com");
    assert_eq!(
        got[0]["AlternativeNames"],
        serde_json::json!(["sip.contoso.com", "contoso.com"])
    );
    // The issued certificate verifies against the lab CA (an independent check).
    let v = sb.openssl(&["verify", "-CAfile", "lab-ca/ca.crt", "edge.cer"]);
    assert!(v.contains("edge.cer: OK"), "{v}");
    assert!(sb.path("lab-store").join("cscert.db").exists());
}

/// Runs cscert with stdout and stderr on one pseudo-terminal (`script`), as a person sees them.
#[cfg(unix)]
fn seen_on_terminal(sb: &Sandbox, args: &str) -> String {
    let cmd = format!("'{}' {args}", support::bin().display());
    let mut c = Command::new("script");
    sb.isolate(&mut c);
    c.args(["-qec", &cmd, "/dev/null"]).env("NO_COLOR", "1");
    String::from_utf8_lossy(&c.output().unwrap().stdout).into_owned()
}

#[cfg(unix)]
#[test]
fn a_folder_test_ends_with_its_summary_on_a_terminal() {
    if !support::require("a_folder_test_ends_with_its_summary", &["script"]) {
        return;
    }
    let sb = plain();
    let ca = support::TestCa::new(&sb.path("ca"), &[("CN", "Contoso Folder CA")], 3650);
    std::fs::create_dir(sb.path("certs")).unwrap();
    let one = ca.leaf(
        &sb.path("ca"),
        "web",
        "web.contoso.com",
        &["web.contoso.com"],
        90,
    );
    for i in 0..300 {
        std::fs::copy(&one, sb.path("certs").join(format!("c{i:03}.cer"))).unwrap();
    }
    // Failing: the items first, then the error that sums them up.
    let failing = seen_on_terminal(
        &sb,
        "Test-CsCertificate -Path certs -Type AccessEdgeExternal -XmppDomain corp.example.org",
    );
    let summary = failing
        .find("Test-CsCertificate: 300 of 300 item(s) did not pass")
        .unwrap_or_else(|| panic!("no summary: {failing}"));
    let last_item = failing.rfind("c299.cer").expect("the items are shown");
    assert!(last_item < summary, "the summary comes last");
    // Passing: a last line says so.
    let passing = seen_on_terminal(&sb, "Test-CsCertificate -Path certs");
    assert!(
        passing.trim_end().ends_with("All 300 items passed."),
        "{}",
        &passing[passing.len().saturating_sub(400)..]
    );
}
