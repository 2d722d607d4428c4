//! The prosody / openssl s_client lab (`Lab`: a [`Sandbox`] acting as `sip.contoso.com`, the
//! human error format), an rcgen test CA, prosody run on loopback under a guard that always
//! kills it, parsers of `prosodyctl check certs` and `openssl s_client` output, and the shape of
//! Test-CsCertificate's object.

pub use super::daemon::{Daemon, Start};
use super::{Run as Out, Sandbox, TestCa};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// prosody, prosodyctl and openssl, or SKIPPED (a failure under CI=true).
pub fn peers_present(test: &str) -> bool {
    super::require(test, &["prosody", "prosodyctl", "openssl"])
}

fn run(mut c: Command, what: &str) -> Out {
    Out::lossy(
        c.stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("{what} runs: {e}")),
    )
}

lab! {
    /// A temp folder (removed at the end) holding the cscert store, the CA, certificates and
    /// the prosody configurations; cscert prints the human error format here.
    Lab = (".tmp", "sip.contoso.com", false)
}

impl Lab {
    /// The built cscert, with the store in this lab and a fixed computer name.
    pub fn cscert(&self, args: &[&str]) -> Out {
        // The lab CA plays a public CA: it is the system's trust store (only it), so that the
        // certificates' signatures are verified, as a federation peer's would be.
        let mut c = self.command(args);
        c.env("SSL_CERT_FILE", self.path("ca/ca.pem"))
            .env("SSL_CERT_DIR", self.path("ca"));
        run(c, "cscert")
    }

    /// cscert that must exit 0; returns stdout.
    pub fn cscert_ok(&self, args: &[&str]) -> String {
        let o = self.cscert(args);
        assert_eq!(o.code, 0, "cscert {args:?} failed:\n{}", o.both());
        o.stdout
    }

    /// Test-CsCertificate on one file (today's clock: prosody checks validity at "now" too):
    /// the exit code and the single result object.
    pub fn test_cert(&self, path: &str, extra: &[&str]) -> (i32, TestResult) {
        let mut args = vec!["Test-CsCertificate", "-Path", path];
        args.extend_from_slice(extra);
        let o = self.cscert(&args);
        assert!(
            o.code == 0 || o.code == 3,
            "Test-CsCertificate {args:?} exit {}:\n{}",
            o.code,
            o.both()
        );
        let lines: Vec<&str> = o.stdout.lines().collect();
        assert_eq!(lines.len(), 1, "one result object:\n{}", o.both());
        let r: TestResult = serde_json::from_str(lines[0])
            .unwrap_or_else(|e| panic!("Test-CsCertificate object: {e}\n{}", lines[0]));
        assert_eq!(o.code, if r.passed { 0 } else { 3 }, "exit code vs Passed");
        (o.code, r)
    }

    /// An EC P-256 test CA (rcgen): `ca/ca.pem` and `ca/ca.key`, subject
    /// `CN=Contoso XMPP Test Root CA, O=Contoso`, 30 days.
    pub fn make_ca(&self) -> TestCa {
        TestCa::create(
            &self.path("ca"),
            "ca.pem",
            &[("CN", "Contoso XMPP Test Root CA"), ("O", "Contoso")],
            30,
        )
    }

    /// `openssl x509 -checkhost host`: true when openssl says the certificate matches.
    pub fn checkhost(&self, cert: &str, host: &str) -> bool {
        let out = self.openssl(&["x509", "-in", cert, "-noout", "-checkhost", host]);
        if out.contains(&format!("Hostname {host} does match certificate")) {
            true
        } else if out.contains(&format!("Hostname {host} does NOT match certificate")) {
            false
        } else {
            panic!("unexpected -checkhost output for {host}: {out}")
        }
    }

    /// `openssl s_client -starttls xmpp-server` against prosody for domain `host`, verifying the
    /// chain with `ca` and the name with `-verify_hostname host`.
    pub fn s_client(&self, port: u16, host: &str, ca: &str) -> SClient {
        let mut c = Command::new("timeout");
        c.args([
            "15",
            "openssl",
            "s_client",
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-starttls",
            "xmpp-server",
            "-xmpphost",
            host,
            "-verify_hostname",
            host,
            "-CAfile",
            ca,
            "-verify_return_error",
        ])
        .current_dir(self.dir.path());
        let o = run(c, "openssl s_client");
        SClient::parse(o)
    }
}

/// A certificate made by cscert for an XMPP server: `Request-CsCertificate -New -Type
/// XmppServer -DomainName <sans> -CA <ca>` (issued and stored at once), exported with
/// `Export-CsCertificate -Format Pem`, split by openssl into `<name>.crt` (leaf and chain),
/// `<name>.key` and `<name>.pem` (all three, ejabberd's form). Returns the thumbprint.
pub struct Issued {
    pub thumbprint: String,
    pub crt: String,
    pub key: String,
    pub pem: PathBuf,
}

impl Lab {
    pub fn xmpp_certificate(&self, ca: &TestCa, name: &str, sans: &str) -> Issued {
        let out = self.cscert_ok(&[
            "Request-CsCertificate",
            "-New",
            "-Type",
            "XmppServer",
            "-DomainName",
            sans,
            "-KeyAlg",
            "ECDH_P256",
            "-PrivateKeyExportable",
            "True",
            "-CA",
            &ca.dir_s(),
        ]);
        let v: serde_json::Value = serde_json::from_str(out.trim()).expect("certificate object");
        let thumbprint = v["Thumbprint"].as_str().expect("Thumbprint").to_string();
        let exported = self.p(&format!("{name}.export.pem"));
        self.cscert_ok(&[
            "Export-CsCertificate",
            "-Thumbprint",
            &thumbprint,
            "-Path",
            &exported,
            "-Format",
            "Pem",
            "-Password",
            "xmpp pw",
        ]);
        let key = self.p(&format!("{name}.key"));
        self.openssl(&[
            "pkey",
            "-in",
            &exported,
            "-passin",
            "pass:xmpp pw",
            "-out",
            &key,
        ]);
        let text = std::fs::read_to_string(&exported).unwrap();
        let certs: String = pem_blocks(&text, "CERTIFICATE").concat();
        let crt = self.write(&format!("{name}.crt"), &certs);
        let pem = self.path(&format!("{name}.pem"));
        std::fs::write(
            &pem,
            format!("{certs}{}", std::fs::read_to_string(&key).unwrap()),
        )
        .unwrap();
        Issued {
            thumbprint,
            crt,
            key,
            pem,
        }
    }
}

/// The `-----BEGIN <label>-----` blocks of a PEM text, in order.
fn pem_blocks(text: &str, label: &str) -> Vec<String> {
    let (begin, end) = (
        format!("-----BEGIN {label}-----"),
        format!("-----END {label}-----"),
    );
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(a) = rest.find(&begin) {
        let Some(b) = rest[a..].find(&end) else { break };
        out.push(format!("{}\n", &rest[a..a + b + end.len()]));
        rest = &rest[a + b + end.len()..];
    }
    out
}

/// What `openssl s_client` said about the server's certificate.
#[derive(Debug)]
pub struct SClient {
    /// The number of the last "Verify return code: N (...)" line (`-verify_return_error`
    /// stops the handshake on the first error, so it is that error).
    pub verify_code: Option<i32>,
    /// Its text, e.g. "ok" or "hostname mismatch".
    pub verify_text: Option<String>,
    /// The subject of the certificate prosody presented (the `subject=` line).
    pub subject: Option<String>,
    pub out: Out,
}

impl SClient {
    fn parse(out: Out) -> SClient {
        let all = out.both();
        let last = all
            .lines()
            .filter_map(|l| l.trim().strip_prefix("Verify return code: "))
            .next_back()
            .map(str::to_string);
        let (verify_code, verify_text) = match last {
            Some(rest) => {
                let (n, text) = rest.split_once(' ').unwrap_or((rest.as_str(), ""));
                (
                    n.parse().ok(),
                    Some(
                        text.trim()
                            .trim_start_matches('(')
                            .trim_end_matches(')')
                            .to_string(),
                    ),
                )
            }
            None => (None, None),
        };
        let subject = all
            .lines()
            .find_map(|l| l.strip_prefix("subject="))
            .map(str::to_string);
        SClient {
            verify_code,
            verify_text,
            subject,
            out,
        }
    }
}

/// One VirtualHost of a prosody configuration, with its own certificate and key (PEM files).
pub struct Host<'a> {
    pub name: &'a str,
    pub cert: &'a str,
    pub key: &'a str,
}

/// Writes `<name>/prosody.cfg.lua`: loopback only, s2s on `s2s_port`, no c2s/http/components,
/// minimal modules, `run_as_root = true` (tests run as root in CI), `daemonize = false`, data,
/// pid file and certificate folder inside the lab, `s2s_secure_auth = false`, and one
/// VirtualHost per entry with its own `ssl = { certificate, key }`.
pub fn write_prosody_config(
    lab: &Lab,
    name: &str,
    s2s_port: u16,
    hosts: &[Host],
    extra: &str,
) -> String {
    let base = lab.path(name);
    for sub in ["data", "certs"] {
        std::fs::create_dir_all(base.join(sub)).unwrap();
    }
    let q = |p: &Path| lua_string(&p.display().to_string());
    let mut cfg = format!(
        "-- written by tests/xmpp_prosody.rs\n\
         run_as_root = true\n\
         daemonize = false\n\
         pidfile = {pid}\n\
         data_path = {data}\n\
         certificates = {certs}\n\
         admin_socket = {sock}\n\
         interfaces = {{ \"127.0.0.1\" }}\n\
         local_interfaces = {{ \"127.0.0.1\" }}\n\
         c2s_ports = {{ }}\n\
         c2s_direct_tls_ports = {{ }}\n\
         s2s_ports = {{ {s2s_port} }}\n\
         s2s_direct_tls_ports = {{ }}\n\
         component_ports = {{ }}\n\
         http_ports = {{ }}\n\
         https_ports = {{ }}\n\
         plugin_paths = {{ }}\n\
         modules_enabled = {{ \"tls\"; \"dialback\"; \"s2s\" }}\n\
         modules_disabled = {{ \"c2s\"; \"posix\"; \"admin_shell\"; \"offline\"; \"s2s_bidi\"; \"http\" }}\n\
         s2s_secure_auth = false\n\
         authentication = \"internal_plain\"\n\
         storage = \"internal\"\n\
         log = {{ {{ levels = {{ min = \"info\" }}, to = \"console\" }} }}\n",
        pid = q(&base.join("prosody.pid")),
        data = q(&base.join("data")),
        certs = q(&base.join("certs")),
        sock = q(&base.join("prosody.sock")),
    );
    cfg.push_str(extra);
    for h in hosts {
        cfg.push_str(&format!(
            "\nVirtualHost {}\n    ssl = {{ certificate = {}, key = {} }}\n",
            lua_string(h.name),
            lua_string(h.cert),
            lua_string(h.key)
        ));
    }
    lab.write(&format!("{name}/prosody.cfg.lua"), &cfg)
}

fn lua_string(s: &str) -> String {
    assert!(
        !s.contains(['"', '\\', '\n']),
        "no quoting needed in test paths: {s}"
    );
    format!("\"{s}\"")
}

/// prosody's own verdict on one VirtualHost from `prosodyctl check certs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProsodyHostVerdict {
    /// The certificate file prosody says it checked for this host.
    pub certificate: String,
    /// No "Not valid for client connections to H." line.
    pub c2s_ok: bool,
    /// No "Not valid for server-to-server connections to H." line.
    pub s2s_ok: bool,
    /// Every line prosody printed under "Checking certificate for H".
    pub lines: Vec<String>,
    /// prosody's log lines (not indented) printed while checking H.
    pub log: Vec<String>,
}

/// Runs `prosodyctl --config cfg check certs` and returns its verdict per host. prosodyctl exits
/// 0 when every host is fine and non-zero otherwise; that is checked against the verdicts.
pub fn prosodyctl_check_certs(lab: &Lab, cfg: &str) -> (BTreeMap<String, ProsodyHostVerdict>, Out) {
    let mut c = Command::new("prosodyctl");
    c.args(["--config", cfg, "check", "certs"])
        .current_dir(lab.dir.path());
    let out = run(c, "prosodyctl");
    let map = parse_check_certs(&out.stdout);
    let all_ok = map.values().all(|v| v.c2s_ok && v.s2s_ok);
    assert_eq!(
        out.code == 0,
        all_ok,
        "prosodyctl exit {} vs per-host verdicts:\n{}",
        out.code,
        out.both()
    );
    (map, out)
}

/// Parses the "Checking certificates..." section of `prosodyctl check certs` (prosody 0.12:
/// util/prosodyctl/check.lua): "Checking certificate for H", "  Certificate: F", then problem
/// lines such as "    Not valid for server-to-server connections to H.".
pub fn parse_check_certs(stdout: &str) -> BTreeMap<String, ProsodyHostVerdict> {
    let mut map = BTreeMap::new();
    let mut current: Option<(String, ProsodyHostVerdict)> = None;
    for line in stdout.lines() {
        if let Some(host) = line.strip_prefix("Checking certificate for ") {
            if let Some((h, v)) = current.take() {
                map.insert(h, v);
            }
            current = Some((
                host.trim().to_string(),
                ProsodyHostVerdict {
                    certificate: String::new(),
                    c2s_ok: true,
                    s2s_ok: true,
                    lines: Vec::new(),
                    log: Vec::new(),
                },
            ));
            continue;
        }
        let Some((host, v)) = current.as_mut() else {
            continue;
        };
        let t = line.trim();
        if !t.is_empty() && !line.starts_with(' ') {
            // prosody's own log output (console), e.g.
            // "x509                info\tCertificate has multiple common names".
            v.log.push(t.to_string());
            continue;
        }
        if t.is_empty() || t.starts_with("For more information") || t.starts_with("Problems found")
        {
            if let Some((h, v)) = current.take() {
                map.insert(h, v);
            }
            continue;
        }
        v.lines.push(t.to_string());
        if let Some(f) = t.strip_prefix("Certificate: ") {
            v.certificate = f.to_string();
        } else if t == format!("Not valid for client connections to {host}.") {
            v.c2s_ok = false;
        } else if t == format!("Not valid for server-to-server connections to {host}.") {
            v.s2s_ok = false;
        } else if t.starts_with("Certificate expires within")
            || t.starts_with("Certificate has expired")
        {
            // Validity; the test certificates are valid for weeks and prosody only warns.
        } else {
            panic!("unexpected prosodyctl line for {host}: {t:?}\n{stdout}");
        }
    }
    if let Some((h, v)) = current.take() {
        map.insert(h, v);
    }
    map
}

/// What prosody logs when its port is already bound by another process.
const PROSODY: Start = Start {
    what: "prosody",
    port_taken: &["Failed to open server port"],
    ready: &|log, port| log.contains(&format!("Activated service 's2s' on [127.0.0.1]:{port}")),
    wait: Duration::from_secs(10),
    listening: 1,
};

/// A prosody server started by a test (a [`Daemon`] with its config file).
pub struct Prosody {
    pub daemon: Daemon,
    /// The config file it runs with.
    pub cfg: String,
}

impl std::ops::Deref for Prosody {
    type Target = Daemon;
    fn deref(&self) -> &Daemon {
        &self.daemon
    }
}

impl std::ops::DerefMut for Prosody {
    fn deref_mut(&mut self) -> &mut Daemon {
        &mut self.daemon
    }
}

impl Prosody {
    /// Writes the config `name` for `hosts` on a free s2s port and runs `prosody --config` in
    /// the foreground (`daemonize = false`) until it has activated s2s there.
    pub fn serve(lab: &Lab, name: &str, hosts: &[Host]) -> Prosody {
        Prosody::serve_with(lab, name, hosts, "")
    }

    /// [`Prosody::serve`] with `extra` appended to the global section of the config.
    pub fn serve_with(lab: &Lab, name: &str, hosts: &[Host], extra: &str) -> Prosody {
        let mut cfg = String::new();
        let daemon = Daemon::on_free_ports(
            &PROSODY,
            1,
            lab.path(&format!("{name}/prosody.log")),
            |ports| {
                cfg = write_prosody_config(lab, name, ports[0], hosts, extra);
                let mut c = Command::new("prosody");
                c.args(["--config", &cfg]);
                c
            },
        );
        Prosody { daemon, cfg }
    }
}

/// Test-CsCertificate's object (every property, unknown ones refused).
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct TestResult {
    pub path: String,
    pub kind: String,
    pub subject: String,
    pub alternative_names: Vec<String>,
    pub thumbprint: Option<String>,
    pub not_after: Option<String>,
    pub xmpp_domains: Vec<Coverage>,
    pub sip_domains: Vec<Coverage>,
    pub findings: Vec<Finding>,
    pub passed: bool,
}

#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct Coverage {
    pub domain: String,
    pub covered: bool,
    pub covered_by: Vec<String>,
}

#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct Finding {
    pub rule_id: String,
    pub severity: String,
    pub message: String,
    pub names: Vec<String>,
}

impl TestResult {
    pub fn xmpp(&self, domain: &str) -> &Coverage {
        self.xmpp_domains
            .iter()
            .find(|c| c.domain == domain)
            .unwrap_or_else(|| panic!("no XmppDomains entry for {domain}: {self:#?}"))
    }

    pub fn rule_ids(&self) -> Vec<&str> {
        self.findings.iter().map(|f| f.rule_id.as_str()).collect()
    }

    pub fn finding(&self, rule: &str) -> &Finding {
        self.findings
            .iter()
            .find(|f| f.rule_id == rule)
            .unwrap_or_else(|| panic!("no {rule} finding: {:#?}", self.findings))
    }

    /// The XMPP-* coverage findings about `domain` (first name), as (rule id, severity).
    pub fn xmpp_findings(&self, domain: &str) -> Vec<(&str, &str)> {
        self.findings
            .iter()
            .filter(|f| {
                f.rule_id.starts_with("XMPP-")
                    && f.names.first().map(String::as_str) == Some(domain)
            })
            .map(|f| (f.rule_id.as_str(), f.severity.as_str()))
            .collect()
    }
}
