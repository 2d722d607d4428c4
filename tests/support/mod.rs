//! The one support library of the integration tests (after rcgen's verify-tests and webpki's
//! `test_utils.rs`): one sandbox that runs the built `cscert` the way pwsh does (plain argv
//! strings) with its own store, one run result, one error record, one skip policy, and test CAs
//! made in-process with rcgen. openssl, certtool, prosody and pebble stay what they were: the
//! independent verifiers of what cscert produces.
//!
//! - this file: [`Sandbox`], [`Run`], [`ErrorRecord`], [`require`], [`bin`], [`openssl`]
//! - `acme`: TLS files for loopback ACME servers, and a hostile ACME CA run in the test
//! - `ca`: [`TestCa`], a test CA made with rcgen
//! - `binder`: the binding trace (`DEBUG: Bound: {...}`) of the binder tests
//! - `lifecycle`: the lifecycle lab (`Lab`) and the test-owned shapes of cscert's objects
//! - `hardening`: the hardening/fuzz/crash lab (`H`) and direct looks into the store
//! - `pebble`: pebble + challtestsrv on loopback for the ACME tests ([`pebble::Pebble`])
//! - `xmpp`: prosody and `openssl s_client` helpers, Test-CsCertificate's object
//! - `ari`: a scripted ACME renewalInfo endpoint (a TLS proxy in front of pebble)
//! - `pebble`: a pebble + challtestsrv pair (`Pebble`), the ACME server of the ACME and renewal tests
//! - `daemon`: servers started by tests; `ejabberd`: ejabberd started like prosody
//! - `probe`: Test-CsCertificate -Endpoint: its object, `openssl s_server`, hostile servers

#![allow(dead_code)] // each test crate uses a different part of this library

/// A suite's lab: the one [`Sandbox`] under the suite's own name (so each suite's helpers can
/// be methods), acting as its own computer.
macro_rules! lab {
    ($(#[$m:meta])* $name:ident = ($prefix:expr, $computer:expr, $json_errors:expr)) => {
        $(#[$m])*
        pub struct $name(Sandbox);

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::ops::Deref for $name {
            type Target = Sandbox;
            fn deref(&self) -> &Sandbox {
                &self.0
            }
        }

        impl std::ops::DerefMut for $name {
            fn deref_mut(&mut self) -> &mut Sandbox {
                &mut self.0
            }
        }

        impl $name {
            pub fn new() -> $name {
                $name(Sandbox::lab($prefix, $computer, $json_errors))
            }
        }
    };
}

pub mod acme;
pub mod ari;
pub mod binder;
pub mod ca;
pub mod daemon;
pub mod ejabberd;
pub mod hardening;
pub mod lifecycle;
pub mod pebble;
pub mod probe;
pub mod xmpp;

pub use ca::TestCa;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The binary under test: `CSCERT_TEST_BIN` when set (a build of older code), else this build.
pub fn bin() -> PathBuf {
    std::env::var_os("CSCERT_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_cscert")))
}

/// Whether `tool` is on PATH.
pub fn have(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(tool).is_file()))
}

/// Whether CI is running the tests (`CI=true`): there a missing peer is a failure.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The one skip policy. True when every tool in `tools` is on PATH. Otherwise: under `CI=true`
/// a failure naming what is missing; elsewhere one `SKIPPED: ...` line and false (the caller
/// returns).
#[track_caller]
pub fn require(test: &str, tools: &[&str]) -> bool {
    let missing: Vec<&str> = tools.iter().copied().filter(|t| !have(t)).collect();
    skip_unless(test, &missing.join(", "), missing.is_empty())
}

/// What the skip policy does about one peer.
#[derive(Debug, PartialEq, Eq)]
pub enum Peer {
    /// Present: the test runs.
    Run,
    /// Missing outside CI: one SKIPPED line, the test returns.
    Skip(String),
    /// Missing under `CI=true`: the test fails with this message.
    Fail(String),
}

/// The policy itself, without the environment (so it can be tested).
pub fn peer_policy(test: &str, what: &str, present: bool, ci: bool) -> Peer {
    if present {
        Peer::Run
    } else if ci {
        Peer::Fail(format!(
            "{what} not installed ({test}), and CI=true: scripts/test must install it"
        ))
    } else {
        Peer::Skip(format!("SKIPPED: {what} not installed ({test})"))
    }
}

/// [`require`] for a peer that is not a tool on PATH (a script, pwsh in ~/.dotnet, setpriv as
/// root): `present` says whether it is there, `what` names it.
#[track_caller]
pub fn skip_unless(test: &str, what: &str, present: bool) -> bool {
    match peer_policy(test, what, present, under_ci()) {
        Peer::Run => true,
        Peer::Fail(m) => panic!("{m}"),
        Peer::Skip(line) => {
            // Straight to stderr: the test harness captures println!, and a skip must be seen.
            let _ = writeln!(std::io::stderr(), "{line}");
            false
        }
    }
}

/// A loopback port nobody listens on right now, and not handed out before in this test
/// process: the kernel may give a just-released port to the next bind, so two servers of one
/// test (or of two tests running at once) would otherwise be told the same port.
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<std::collections::BTreeSet<u16>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    // Ports already given stay bound here until a new one turns up, so the kernel moves on.
    let mut held = Vec::new();
    loop {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = l.local_addr().unwrap().port();
        if given.insert(port) {
            return port;
        }
        held.push(l);
    }
}

/// One error record of `CSCERT_ERROR_FORMAT=json`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct ErrorRecord {
    pub message: String,
    pub fully_qualified_error_id: String,
    pub category: String,
    pub target_object: Option<String>,
}

/// What one run printed, and how it ended.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<std::process::Output> for Run {
    /// Strict: cscert prints UTF-8 and is never killed by a signal in a test.
    fn from(o: std::process::Output) -> Self {
        Run {
            code: o
                .status
                .code()
                .unwrap_or_else(|| panic!("cscert died by a signal: {o:?}")),
            stdout: String::from_utf8(o.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(o.stderr).expect("stderr is UTF-8"),
        }
    }
}

impl Run {
    /// For any process (openssl, prosody, a fuzzed run): lossy text, -1 for a signal.
    pub fn lossy(o: std::process::Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    pub fn both(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// The JSON error records on stderr (other stderr lines are skipped).
    pub fn errors(&self) -> Vec<ErrorRecord> {
        self.stderr
            .lines()
            .filter(|l| l.starts_with("{\"Message\""))
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("bad error record {l}: {e}"))
            })
            .collect()
    }

    /// The only error record.
    #[track_caller]
    pub fn error(&self) -> ErrorRecord {
        let mut e = self.errors();
        assert_eq!(e.len(), 1, "expected exactly one error: {self:#?}");
        e.pop().unwrap()
    }

    /// stdout as JSON Lines of `T`; every line must be one compact object.
    pub fn objects<T: DeserializeOwned>(&self) -> Vec<T> {
        self.stdout
            .lines()
            .map(|l| {
                assert!(
                    l.starts_with('{') && l.ends_with('}'),
                    "not one object per line: {l}"
                );
                serde_json::from_str(l).unwrap_or_else(|e| panic!("bad output line {l}: {e}"))
            })
            .collect()
    }

    /// The only object on stdout.
    #[track_caller]
    pub fn one<T: DeserializeOwned>(&self) -> T {
        let mut v = self.objects::<T>();
        assert_eq!(v.len(), 1, "expected one object, stdout:\n{}", self.stdout);
        v.remove(0)
    }

    /// stdout as JSON Lines, untyped.
    pub fn lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "unexpected exit code: {self:#?}");
        self
    }
}

/// Variables of the caller that must not leak into a test run.
const ISOLATED: [&str; 8] = [
    "LC_ALL",
    "LC_TIME",
    "CSCERT_NOW",
    "CSCERT_PASSWORD",
    "CSCERT_CA_PASSWORD",
    "CSCERT_STORE_PASSWORD",
    "CSCERT_ERROR_FORMAT",
    "CSCERT_DEBUG_BINDING",
];

/// A private temp folder with its own store (not created: cscert creates it), in which cscert
/// and the verifiers run. Every run is isolated from the caller's environment: fixed computer
/// name, UTC, the US culture, no inherited password or clock.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
    /// The current folder of every command (relative `-Output` paths land here).
    cwd: PathBuf,
    /// `CSCERT_COMPUTERFQDN`, so results do not depend on the host.
    computer: &'static str,
    /// `CSCERT_ERROR_FORMAT=json` unless a run asks for the human format.
    json_errors: bool,
    /// `CSCERT_DEBUG_BINDING=1` (the binder tests read the trace).
    debug_binding: bool,
    /// `CSCERT_NOW` for every run, unless a run says otherwise.
    pub now: Option<String>,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    /// The binder/store/topology sandbox: commands run in `<tmp>/work`, the binding trace and
    /// JSON error records on, computer `test-host.contoso.com`.
    pub fn new() -> Sandbox {
        let s = Sandbox::with(
            "cscert-test-",
            "test-host.contoso.com",
            true,
            true,
            Some("work"),
        );
        std::fs::create_dir(&s.cwd).expect("work dir");
        s
    }

    /// A lab acting as `computer`, commands running in the lab folder itself.
    pub fn lab(prefix: &str, computer: &'static str, json_errors: bool) -> Sandbox {
        Sandbox::with(prefix, computer, json_errors, false, None)
    }

    fn with(
        prefix: &str,
        computer: &'static str,
        json_errors: bool,
        debug_binding: bool,
        sub: Option<&str>,
    ) -> Sandbox {
        let dir = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir()
            .expect("temp dir");
        let cwd = match sub {
            Some(s) => dir.path().join(s),
            None => dir.path().to_path_buf(),
        };
        Sandbox {
            dir,
            cwd,
            computer,
            json_errors,
            debug_binding,
            now: None,
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The folder `CSCERT_STORE` points at.
    pub fn store(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    /// The current folder of every command.
    pub fn work(&self) -> PathBuf {
        self.cwd.clone()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn p(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    /// Writes `text` to `name` in the sandbox; returns its path.
    pub fn write(&self, name: &str, text: &str) -> String {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
        p.display().to_string()
    }

    /// Applies the sandbox environment to a command running the binary (also through a link).
    pub fn isolate(&self, c: &mut Command) {
        for v in ISOLATED {
            c.env_remove(v);
        }
        // Dates are read in the locale's culture (issue 11 item 8): the US one here.
        c.env("LANG", "en_US.UTF-8")
            .env("TZ", "UTC")
            .env("CSCERT_STORE", self.store())
            .env("CSCERT_COMPUTERFQDN", self.computer)
            .current_dir(&self.cwd)
            .stdin(Stdio::null());
        if self.json_errors {
            c.env("CSCERT_ERROR_FORMAT", "json");
        }
        if self.debug_binding {
            c.env("CSCERT_DEBUG_BINDING", "1");
        }
        if let Some(n) = &self.now {
            c.env("CSCERT_NOW", n);
        }
    }

    /// A `std::process::Command` for the binary, isolated.
    pub fn command<S: AsRef<str>>(&self, args: &[S]) -> Command {
        let mut c = Command::new(bin());
        self.isolate(&mut c);
        c.args(args.iter().map(|a| a.as_ref()));
        c
    }

    /// The same as [`Sandbox::command`] (for `spawn`).
    pub fn spawn_cmd<S: AsRef<str>>(&self, args: &[S]) -> Command {
        self.command(args)
    }

    /// An assert_cmd command for the binary, isolated (for `write_stdin`).
    pub fn cmd<S: AsRef<str>>(&self, args: &[S]) -> assert_cmd::Command {
        assert_cmd::Command::from_std(self.command(args))
    }

    /// Runs a command, with `stdin` piped in when given; lossy text (fuzzed runs may print
    /// anything), a signal is a panic.
    pub fn exec(mut c: Command, stdin: Option<&[u8]>) -> Run {
        let o = match stdin {
            None => c.output().expect("cscert runs"),
            Some(input) => {
                c.stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped());
                let mut child = c.spawn().expect("cscert runs");
                let mut sin = child.stdin.take().unwrap();
                let input = input.to_vec();
                let w = std::thread::spawn(move || {
                    let _ = sin.write_all(&input);
                });
                let o = child.wait_with_output().unwrap();
                w.join().unwrap();
                o
            }
        };
        Run {
            code: o
                .status
                .code()
                .unwrap_or_else(|| panic!("cscert died by a signal: {o:?}")),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// Runs `cscert <args...>`.
    pub fn run<S: AsRef<str>>(&self, args: &[S]) -> Run {
        Run::from(self.command(args).output().expect("cscert runs"))
    }

    /// Runs with `CSCERT_NOW=now`.
    pub fn run_at(&self, now: &str, args: &[&str]) -> Run {
        let mut c = self.command(args);
        c.env("CSCERT_NOW", now);
        Run::from(c.output().expect("cscert runs"))
    }

    /// Runs with extra environment.
    pub fn run_env(&self, env: &[(&str, &str)], args: &[&str]) -> Run {
        let mut c = self.command(args);
        for (k, v) in env {
            c.env(k, v);
        }
        Run::from(c.output().expect("cscert runs"))
    }

    /// Runs with the human error format (`Cmdlet: message`, PowerShell's ConciseView).
    pub fn run_concise<S: AsRef<str>>(&self, args: &[S]) -> Run {
        let mut c = self.command(args);
        c.env_remove("CSCERT_ERROR_FORMAT");
        Run::from(c.output().expect("cscert runs"))
    }

    /// The same as [`Sandbox::run_concise`].
    pub fn run_plain(&self, args: &[&str]) -> Run {
        self.run_concise(args)
    }

    /// Runs with `input` piped on stdin (answers to a confirmation prompt).
    pub fn run_stdin(&self, input: &str, args: &[&str]) -> Run {
        Self::exec(self.command(args), Some(input.as_bytes()))
    }

    /// Runs and requires exit 0.
    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> Run {
        let r = self.run(args);
        assert_eq!(r.code, 0, "cscert {args:?} failed:\n{}", r.stderr);
        r
    }

    #[track_caller]
    pub fn ok_at(&self, now: &str, args: &[&str]) -> Run {
        let r = self.run_at(now, args);
        assert_eq!(r.code, 0, "cscert {args:?} at {now} failed:\n{}", r.stderr);
        r
    }

    /// openssl in the sandbox folder (any exit code).
    pub fn openssl_out(&self, args: &[&str]) -> Run {
        Run::lossy(
            Command::new("openssl")
                .args(args)
                .current_dir(self.dir.path())
                .stdin(Stdio::null())
                .output()
                .expect("openssl is installed"),
        )
    }

    /// openssl in the sandbox folder; requires success and returns (stdout, stderr):
    /// `pkcs12 -info` prints what it found about the encryption on stderr.
    #[track_caller]
    pub fn openssl_both(&self, args: &[&str]) -> (String, String) {
        let o = self.openssl_out(args);
        assert_eq!(o.code, 0, "openssl {args:?} failed:\n{}", o.stderr);
        (o.stdout, o.stderr)
    }

    /// openssl in the sandbox folder; requires success and returns stdout.
    #[track_caller]
    pub fn openssl(&self, args: &[&str]) -> String {
        self.openssl_both(args).0
    }

    /// openssl's PFX of `cert` and `key` (files in the sandbox folder), with the certificates
    /// of `chain` beside them when given, under `password`: the independent tool makes the PFX.
    #[track_caller]
    pub fn openssl_pfx(
        &self,
        cert: &str,
        key: &str,
        chain: Option<&str>,
        out: &str,
        password: &str,
    ) {
        let pass = format!("pass:{password}");
        let mut args = vec![
            "pkcs12", "-export", "-in", cert, "-inkey", key, "-out", out, "-passout", &pass,
        ];
        if let Some(chain) = chain {
            args.extend(["-certfile", chain]);
        }
        self.openssl(&args);
    }

    /// openssl that is expected to fail; returns its exit status.
    pub fn openssl_status(&self, args: &[&str]) -> i32 {
        self.openssl_out(args).code
    }
}

/// The uses of the Edge external certificate of the example (XMPP federation included).
pub const EDGE_USES: &str = "AccessEdgeExternal,DataEdgeExternal,AudioVideoAuthentication";

/// xorshift64*: small, seeded, reproducible (the fuzz and crash tests print their seed).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

/// The rule ids of one Test-CsCertificate result object, in the order they were found.
pub fn rule_ids(result: &serde_json::Value) -> Vec<String> {
    result["Findings"]
        .as_array()
        .expect("a result with Findings")
        .iter()
        .map(|f| f["RuleId"].as_str().unwrap().to_string())
        .collect()
}

/// Runs openssl in `dir`; requires success; returns stdout.
#[track_caller]
pub fn openssl(dir: &Path, args: &[&str]) -> String {
    let o = Run::lossy(
        Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .output()
            .expect("openssl is installed"),
    );
    assert_eq!(o.code, 0, "openssl {args:?}: {}", o.stderr);
    o.stdout
}

/// Runs `c` with `input` on stdin and kills it (SIGKILL) as soon as its stderr shows `needle`:
/// a run stopped at a known point, such as a -Confirm prompt. Returns the stderr seen; panics
/// when the run ends before `needle`.
pub fn kill_at(mut c: Command, input: &[u8], needle: &str) -> String {
    use std::io::Read;
    c.stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("cscert runs");
    child.stdin.as_mut().unwrap().write_all(input).unwrap();
    let mut err = child.stderr.take().unwrap();
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    while !seen.contains(needle) {
        let n = err.read(&mut buf).unwrap();
        assert!(n > 0, "the run ended before {needle:?}:\n{seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    seen
}
