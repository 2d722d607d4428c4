//! The outer command: dispatch by program name or first argument, help, version, completions,
//! and the one place where an error becomes an exit status.

use crate::binder::{self, help, CmdletDef};
use crate::cmdlets::{self, Ctx};
use crate::error::Exit;
use crate::ops;
use crate::output::Host;
use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::Path;

const ENVIRONMENT: &str = "ENVIRONMENT\n    CSCERT_STORE              the store folder (default: the platform data folder, ~/.local/share/cscert on Linux)\n    CSCERT_COMPUTERFQDN       the computer cscert acts as (default: this machine's FQDN)\n    CSCERT_PASSWORD           PFX password when -Password is not given\n    CSCERT_CA_PASSWORD        -CaPassword when not given (the pwsh module passes secrets in these two)\n    CSCERT_STORE_PASSWORD     encrypts the private keys in the store (PBES2 PKCS#8)\n    CSCERT_NEW_PASSWORD       -NewPassword of Update-CsCertificateStorePassword when not given\n    CSCERT_ACME_EAB_HMAC_KEY  -AcmeEabHmacKey when not given\n    CSCERT_ACME_HTTP_ADDRESS  the one address the http-01 answerer binds (default: all)\n    CSCERT_OUTPUT             'json': JSON Lines even on a terminal; 'text': the view even in a pipe\n    CSCERT_ERROR_FORMAT       'json': one JSON error record per line on stderr (used by the pwsh module)\n    CSCERT_NOW                pretend the current time is this ISO 8601 instant (tests, labs)\n    CSCERT_DEBUG_BINDING      print the bound parameters on stderr (DEBUG: Bound: {...})\n    LC_ALL, LC_TIME, LANG     the culture dates are read in (first one set; ko_KR.UTF-8 -> ko-KR)\n    NO_COLOR, TERM=dumb       no colours on a terminal\n    A -AcmeDnsHook command gets CSCERT_ACME_ACTION, CSCERT_ACME_DOMAIN, CSCERT_ACME_RECORD and CSCERT_ACME_VALUE.\n    An Update-CsCertificate -DeployHook command gets CSCERT_THUMBPRINT, CSCERT_USES, CSCERT_IDENTITY,\n    CSCERT_PREVIOUS_THUMBPRINT, CSCERT_EFFECTIVE_TIME, CSCERT_NOT_AFTER, CSCERT_STATUS and CSCERT_PFX_PATH.\n";

fn outer_command() -> clap::Command {
    clap::Command::new("cscert")
        .version(env!("CARGO_PKG_VERSION"))
        .disable_help_subcommand(true)
        .about("The Lync Server / Skype for Business certificate cmdlets as one portable binary that prints JSON.")
        .override_usage("cscert <Cmdlet-Name> [-Parameter value ...]\n       <Cmdlet-Name> [-Parameter value ...]   (a link named after the cmdlet)\n       cscert <Cmdlet-Name> -?")
        .after_help(format!(
            "CMDLETS\n{}\nOUTPUT\n    stdout: JSON Lines (one object per line) when it is not a terminal (pipes, scripts, the pwsh\n    module); a view for a person when it is one. -OutputFormat Json|Text (every cmdlet) or\n    CSCERT_OUTPUT chooses. stderr: errors, WARNING:, VERBOSE: and DEBUG: lines.\n\nSHELL COMPLETION\n    bash: source <(cscert completions bash)    pwsh: cscert completions pwsh | Out-String | Invoke-Expression\n\n{}\n{ENVIRONMENT}",
            help::cmdlet_list(crate::cmdlets::DEFS),
            help::EXIT_CODES
        ))
        .subcommand(
            clap::Command::new("completions")
                .about("Print a shell completion script (bash or pwsh) for the cmdlets and their parameters")
                .arg(clap::Arg::new("shell").value_parser(["bash", "pwsh"])),
        )
        .subcommand(
            clap::Command::new("module")
                .about("Write the pwsh module (CsCertificate.psd1, .psm1, .format.ps1xml) generated from the cmdlet tables")
                .arg(
                    clap::Arg::new("out")
                        .long("out")
                        .value_name("DIR")
                        .required(true)
                        .help("The folder to write the module files to (created when missing)"),
                )
                .arg(
                    clap::Arg::new("with-binary")
                        .long("with-binary")
                        .action(clap::ArgAction::SetTrue)
                        .help("Also copy this cscert into the module (bin/<platform>/cscert), as a package for Install-PSResource"),
                )
                .arg(
                    clap::Arg::new("compat")
                        .long("compat")
                        .value_name("NAME")
                        .value_parser(crate::psmodule::COMPAT_MODULES.to_vec())
                        .help("Write only the manifest of the module NAME (Lync or SkypeForBusiness) that loads CsCertificate under that name"),
                ),
        )
        .subcommand(
            clap::Command::new("help")
                .about("Help for a cmdlet (same as <Cmdlet-Name> -?)")
                .arg(clap::Arg::new("cmdlet")),
        )
}

/// Everything cscert takes from the environment, read once per run here: the operations get
/// `ops`, the binder the secrets, the host its formats. Nothing else reads `CSCERT_*` (except
/// the culture of dates in `binder::dates`).
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub ops: ops::Settings,
    /// `CSCERT_ERROR_FORMAT=json`: one JSON error record per line on stderr (the pwsh module).
    pub json_errors: bool,
    /// `CSCERT_DEBUG_BINDING`: print the bound parameters as with -Debug.
    pub debug_binding: bool,
    /// `CSCERT_OUTPUT`, `NO_COLOR`, `TERM`: what `output::terminal::mode` looks at.
    pub output: Option<String>,
    pub no_color: Option<String>,
    pub term: Option<String>,
    /// The secrets a Password parameter may come from (`CSCERT_PASSWORD`, ...), by variable.
    pub secrets: Vec<(String, String)>,
    /// The process's stderr is a terminal (WARNING:/error lines are coloured there).
    pub stderr_terminal: bool,
}

impl Settings {
    /// The value of one of the variables above, as `binder` and `output` look them up.
    pub fn var(&self, name: &str) -> Option<String> {
        match name {
            "CSCERT_OUTPUT" => self.output.clone(),
            "NO_COLOR" => self.no_color.clone(),
            "TERM" => self.term.clone(),
            _ => self
                .secrets
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone()),
        }
    }
}

/// Reads the settings from the process environment (a few `getenv` calls: no file, no lookup;
/// this computer's FQDN is only looked up when a cmdlet needs it).
pub fn read_settings() -> Settings {
    let var = |k: &str| std::env::var(k).ok();
    let mut secrets: Vec<(String, String)> = Vec::new();
    for c in crate::cmdlets::DEFS {
        for p in c.params {
            if p.ty == binder::table::PType::Password {
                let name = binder::table::secret_env(p.name);
                if !secrets.iter().any(|(k, _)| *k == name) {
                    if let Some(v) = var(&name) {
                        secrets.push((name, v));
                    }
                }
            }
        }
    }
    Settings {
        ops: ops::Settings {
            store_dir: std::env::var_os("CSCERT_STORE")
                .filter(|d| !d.is_empty())
                .map(std::path::PathBuf::from)
                .unwrap_or_else(ops::default_store_dir),
            computer: var("CSCERT_COMPUTERFQDN")
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty()),
            now: var("CSCERT_NOW"),
            store_password: var("CSCERT_STORE_PASSWORD"),
            password: var("CSCERT_PASSWORD"),
            acme_http_address: var("CSCERT_ACME_HTTP_ADDRESS"),
        },
        json_errors: var("CSCERT_ERROR_FORMAT").is_some_and(|v| v.eq_ignore_ascii_case("json")),
        debug_binding: std::env::var_os("CSCERT_DEBUG_BINDING").is_some(),
        output: var("CSCERT_OUTPUT"),
        no_color: var("NO_COLOR"),
        term: var("TERM"),
        secrets,
        stderr_terminal: std::io::stderr().is_terminal(),
    }
}

/// The cmdlet named by the program's own file name, when it was started through a link.
fn cmdlet_from_program(argv0: &OsString) -> Option<&'static CmdletDef> {
    let stem = Path::new(argv0).file_stem()?.to_str()?;
    crate::cmdlets::find_cmdlet(stem)
}

/// `-?` as in PowerShell, and where Unix users look: `--help`, and `-h`/`-help` unless they
/// are a prefix of a real parameter of the cmdlet (Test-CsCertificateConfiguration -HtmlReport).
fn asks_for_help(cmdlet: &CmdletDef, arg: &str) -> bool {
    if arg == "-?" || arg.eq_ignore_ascii_case("--help") {
        return true;
    }
    let short = arg.eq_ignore_ascii_case("-h") || arg.eq_ignore_ascii_case("-help");
    short && !binder::has_parameter_prefix(cmdlet, &arg[1..])
}

/// Runs one invocation and returns its exit status.
pub fn run(argv: Vec<OsString>, out: Box<dyn Write>, err: Box<dyn Write>) -> i32 {
    run_with(argv, out, err, read_settings())
}

/// [`run`] with the settings given (in-process tests build them instead of the environment).
pub fn run_with(
    argv: Vec<OsString>,
    out: Box<dyn Write>,
    mut err: Box<dyn Write>,
    settings: Settings,
) -> i32 {
    let argv0 = argv.first().cloned().unwrap_or_default();
    let mut args: Vec<String> = Vec::with_capacity(argv.len());
    for a in argv.iter().skip(1) {
        match a.to_str() {
            Some(s) => args.push(s.to_string()),
            None => {
                let _ = writeln!(err, "cscert: an argument is not valid Unicode: {a:?}");
                return Exit::Binding as i32;
            }
        }
    }
    let (cmdlet, rest) = match cmdlet_from_program(&argv0) {
        Some(c) => (c, &args[..]),
        None => match args.first().and_then(|a| crate::cmdlets::find_cmdlet(a)) {
            Some(c) => (c, &args[1..]),
            None => return run_outer(&args, out, err),
        },
    };
    if rest.iter().any(|a| asks_for_help(cmdlet, a)) {
        let mut out = out;
        let _ = out.write_all(help::cmdlet_help(cmdlet).as_bytes());
        return 0;
    }
    let mut host = Host::new(cmdlet.name, out, err);
    host.json_errors = settings.json_errors;
    host.err_color = !settings.json_errors
        && crate::output::terminal::stderr_color(settings.stderr_terminal, &|k| settings.var(k));
    let code = match binder::bind_with(cmdlet, rest, &|k| settings.var(k)) {
        Err(e) => {
            host.error(&e);
            e.exit
        }
        Ok(bound) => {
            if bound.common.debug || settings.debug_binding {
                host.debug(format!(
                    "Bound: {}",
                    crate::output::to_ascii_json(&bound.to_json())
                ));
            }
            host.set_mode(crate::output::terminal::mode(
                std::io::stdout().is_terminal(),
                bound.common.output_format,
                &|k| settings.var(k),
            ));
            let mut ctx = Ctx::new(
                host,
                cmdlets::preferences(&bound.common),
                settings.ops.clone(),
            );
            let code = cmdlets::run(&bound, &mut ctx, rest);
            host = ctx.into_host();
            code
        }
    };
    host.flush();
    code as i32
}

fn run_outer(args: &[String], mut out: Box<dyn Write>, mut err: Box<dyn Write>) -> i32 {
    if let Some(first) = args.first() {
        // `cscert -?` as `cscert <Cmdlet> -?`: PowerShell's help switch.
        if args.len() == 1 && matches!(first.as_str(), "-?" | "/?") {
            let _ = write!(out, "{}", outer_command().render_long_help());
            return 0;
        }
        if first.starts_with(|c: char| c.is_ascii_alphabetic())
            && first.contains('-')
            && !first.starts_with('-')
        {
            let _ = writeln!(err, "{}", not_a_cmdlet(first));
            return Exit::Binding as i32;
        }
    }
    let full: Vec<String> = std::iter::once("cscert".to_string())
        .chain(args.iter().cloned())
        .collect();
    let m = match outer_command().try_get_matches_from(full) {
        Ok(m) => m,
        Err(e) => {
            let code = if e.use_stderr() {
                Exit::Binding as i32
            } else {
                0
            };
            let text = e.render().to_string();
            if e.use_stderr() {
                let _ = err.write_all(text.as_bytes());
            } else {
                let _ = out.write_all(text.as_bytes());
            }
            return code;
        }
    };
    match m.subcommand() {
        Some(("completions", sm)) => {
            let Some(shell) = sm.get_one::<String>("shell") else {
                let _ = writeln!(
                    err,
                    "cscert completions: Name the shell: bash or pwsh. In bash: source <(cscert completions bash); in pwsh: cscert completions pwsh | Out-String | Invoke-Expression"
                );
                return Exit::Binding as i32;
            };
            let _ = out.write_all(crate::completions::script(shell).as_bytes());
            0
        }
        Some(("module", sm)) => {
            let dir = Path::new(sm.get_one::<String>("out").expect("required"));
            let written = match sm.get_one::<String>("compat") {
                Some(name) => write_compat(dir, name),
                None => write_module(dir, sm.get_flag("with-binary")),
            };
            match written {
                Ok(()) => 0,
                Err(e) => {
                    let _ = writeln!(
                        err,
                        "cscert: the module could not be written to '{}': {e}",
                        dir.display()
                    );
                    Exit::Failed as i32
                }
            }
        }
        Some(("help", sm)) => match sm.get_one::<String>("cmdlet") {
            Some(name) => match crate::cmdlets::find_cmdlet(name) {
                Some(c) => {
                    let _ = out.write_all(help::cmdlet_help(c).as_bytes());
                    0
                }
                None => {
                    let _ = writeln!(err, "cscert: no cmdlet named '{name}'");
                    Exit::Binding as i32
                }
            },
            None => {
                let _ = write!(out, "{}", outer_command().render_long_help());
                0
            }
        },
        _ => {
            let _ = write!(out, "{}", outer_command().render_long_help());
            0
        }
    }
}

/// PowerShell's CommandNotFound words for a mistyped cmdlet name, with the nearest cmdlet.
fn not_a_cmdlet(name: &str) -> String {
    let names: Vec<&str> = crate::cmdlets::DEFS.iter().map(|c| c.name).collect();
    let typed = name.to_ascii_lowercase();
    // A cut-off name (`Test-CsCertificateConfig`) or one with a few letters wrong.
    let near = names
        .iter()
        .find(|n| n.to_ascii_lowercase().starts_with(&typed))
        .copied()
        .or_else(|| {
            names
                .iter()
                .map(|n| (edit_distance(&typed, &n.to_ascii_lowercase()), *n))
                .min()
                .filter(|(d, _)| *d <= 4)
                .map(|(_, n)| n)
        })
        .map(|n| format!(" Did you mean {n}?"))
        .unwrap_or_default();
    format!(
        "{name}: The term '{name}' is not recognized as a cmdlet of cscert.{near} Cmdlets: {}.",
        names.join(", ")
    )
}

/// Levenshtein distance (cmdlet names are short; two rows suffice).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Writes the generated pwsh module files into `dir`, each replaced whole; with `binary`, this
/// executable as the module's own (`bin/<platform>/cscert`, mode 0755).
fn write_module(dir: &Path, binary: bool) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, text) in crate::psmodule::files() {
        crate::output::file::write_atomic(&dir.join(name), text.as_bytes(), true, false)?;
    }
    if binary {
        let dest = dir.join(crate::psmodule::binary_path());
        std::fs::create_dir_all(dest.parent().expect("bin/<platform>"))?;
        let tmp = dest.with_extension("new");
        std::fs::copy(std::env::current_exe()?, &tmp)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))?;
        }
        std::fs::rename(&tmp, &dest)?;
    }
    Ok(())
}

/// Writes the manifest of the compatibility module `name` (`<dir>/<name>.psd1`).
fn write_compat(dir: &Path, name: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let text = crate::psmodule::compat_manifest(name);
    let path = dir.join(format!("{name}.psd1"));
    crate::output::file::write_atomic(&path, text.as_bytes(), true, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;

    /// A stream the test reads back.
    #[derive(Clone, Default)]
    struct Sink(Rc<RefCell<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Sink {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.borrow()).into_owned()
        }
    }

    fn run_in(args: &[&str], settings: Settings) -> (i32, String, String) {
        let (out, err) = (Sink::default(), Sink::default());
        let argv = std::iter::once("cscert")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        let code = run_with(argv, Box::new(out.clone()), Box::new(err.clone()), settings);
        (code, out.text(), err.text())
    }

    fn in_temp_store(dir: &tempfile::TempDir) -> Settings {
        Settings {
            ops: ops::Settings {
                store_dir: dir.path().join("store"),
                computer: Some("fe01.contoso.com".into()),
                ..Default::default()
            },
            output: Some("json".into()),
            ..Default::default()
        }
    }

    #[test]
    fn the_clock_comes_from_the_settings() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = in_temp_store(&dir);
        s.ops.now = Some("not a date".into());
        let (code, out, err) = run_in(&["Get-CsCertificate"], s);
        assert_eq!(code, Exit::Failed as i32, "{err}");
        assert_eq!(out, "");
        assert!(err.contains("CSCERT_NOW is set to 'not a date'"), "{err}");
        // A fixed clock that parses runs the cmdlet (an empty store: no object, exit 0).
        let mut s = in_temp_store(&dir);
        s.ops.now = Some("2027-01-01T00:00:00Z".into());
        let (code, out, err) = run_in(&["Get-CsCertificate"], s);
        assert_eq!((code, out.as_str()), (0, ""), "{err}");
    }

    #[test]
    fn secrets_and_error_format_come_from_the_settings() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = in_temp_store(&dir);
        s.secrets = vec![("CSCERT_PASSWORD".into(), "from-settings".into())];
        s.json_errors = true;
        s.debug_binding = true;
        let (code, _, err) = run_in(
            &[
                "Export-CsCertificate",
                "-Thumbprint",
                "00",
                "-Path",
                "x.pfx",
            ],
            s,
        );
        // Bound from the settings (masked in the trace), then refused: not a thumbprint.
        assert!(err.contains("\"Password\":\"********\""), "{err}");
        assert!(!err.contains("from-settings"), "{err}");
        assert_eq!(code, Exit::Failed as i32);
        let record = err
            .lines()
            .find(|l| l.contains("FullyQualifiedErrorId"))
            .expect("a JSON error record");
        let j: serde_json::Value = serde_json::from_str(record).unwrap();
        assert_eq!(
            j["FullyQualifiedErrorId"],
            "InvalidThumbprint,Export-CsCertificate"
        );
    }
}
