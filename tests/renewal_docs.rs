//! The timer set-ups of docs/renewal.md, tested as far as this machine allows: the systemd
//! units with `systemd-analyze verify` (ExecStart pointed at the built binary), the cron line's
//! command run as cron would (`sh -c`), the Task Scheduler block parsed by PowerShell's parser.

mod support;

use support::{bin, skip_unless, Sandbox};

const DOC: &str = include_str!("../docs/renewal.md");

/// The fenced blocks of a language, in order.
fn blocks(lang: &str) -> Vec<String> {
    let fence = format!("```{lang}\n");
    DOC.split(&fence)
        .skip(1)
        .map(|b| b.split("```").next().unwrap().to_string())
        .collect()
}

#[test]
fn the_systemd_units_of_the_docs_verify() {
    if !support::require("the_systemd_units_of_the_docs_verify", &["systemd-analyze"]) {
        return;
    }
    let sb = Sandbox::new();
    let units = blocks("ini");
    assert_eq!(units.len(), 2, "a service and a timer");
    let exe = bin().display().to_string();
    let hook = sb.write("cscert-deploy", "#!/bin/sh\n");
    let service = units[0]
        .replace("/usr/local/bin/cscert-deploy", &hook)
        .replace("/usr/local/bin/cscert", &exe);
    assert!(units[1].contains("RandomizedDelaySec="));
    let s = sb.write("cscert-renew.service", &service);
    let t = sb.write("cscert-renew.timer", &units[1]);
    let o = std::process::Command::new("systemd-analyze")
        .args(["verify", "--man=no", &s, &t])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    // Warnings about this machine's own units are not ours: only lines naming ours count.
    let ours: Vec<&str> = err.lines().filter(|l| l.contains("cscert-renew")).collect();
    assert!(o.status.success() && ours.is_empty(), "{err}");
}

#[test]
fn the_cron_line_runs_as_cron_would() {
    let sb = Sandbox::new();
    let line = blocks("cron").concat();
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        &fields[..5],
        ["17", "*", "*", "*", "*"],
        "minute 17 of every hour"
    );
    // The command part, with this build, a store of its own and no delay, through sh.
    let cmd = fields[5..]
        .join(" ")
        .replace("/usr/local/bin/cscert", &bin().display().to_string())
        .replace(
            "CSCERT_STORE=/var/lib/cscert",
            &format!("CSCERT_STORE={}", sb.store().display()),
        )
        .replace("-RandomDelaySec 900", "-RandomDelaySec 0")
        .replace("/var/log/cscert-renew.log", &sb.p("renew.log"));
    let o = std::process::Command::new("sh")
        .args(["-c", &cmd])
        .output()
        .unwrap();
    assert!(o.status.success(), "{cmd}: {o:?}");
    let log = std::fs::read_to_string(sb.path("renew.log")).unwrap();
    assert!(!log.contains("Update-CsCertificate:"), "{log}");
}

#[test]
fn the_task_scheduler_example_parses_as_powershell() {
    let pwsh = dirs_home().join(".dotnet/tools/pwsh");
    let found = pwsh.is_file() || support::have("pwsh");
    if !skip_unless(
        "the_task_scheduler_example_parses_as_powershell",
        "pwsh",
        found,
    ) {
        return;
    }
    let exe = if pwsh.is_file() {
        pwsh.display().to_string()
    } else {
        "pwsh".into()
    };
    let script = blocks("powershell").concat();
    let sb = Sandbox::new();
    let f = sb.write("task.ps1", &script);
    let check = format!(
        "$e = $null; $t = $null; [void][System.Management.Automation.Language.Parser]::ParseFile('{f}', [ref]$t, [ref]$e); if ($e.Count) {{ $e | ForEach-Object {{ $_.Message }}; exit 1 }}; 'ok'"
    );
    let o = std::process::Command::new(exe)
        .args(["-NoProfile", "-NonInteractive", "-Command", &check])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    assert!(script.contains("Update-CsCertificate -Force"));
}

fn dirs_home() -> std::path::PathBuf {
    std::env::var_os("HOME").map(Into::into).unwrap_or_default()
}
