//! A real ACME server for the tests: Debian's pebble, with pebble-challtestsrv as its DNS (every
//! name resolves to 127.0.0.1) and, for dns-01, as the TXT records a hook script sets. Each test
//! starts its own pair on loopback ports, kills it at the end and prints the logs when it fails
//! (used by tests/acme.rs and tests/renewal.rs).

use super::{free_port, Run, Sandbox, EDGE_USES};

use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const EDGE_DOMAINS: &str = "webcon.contoso.com, sip.contoso.com, sip.fabrikam.com, contoso.com";
pub const EDGE_SANS: [&str; 4] = [
    "sip.contoso.com",
    "webcon.contoso.com",
    "sip.fabrikam.com",
    "contoso.com",
];
/// From /usr/share/doc/pebble/examples/pebble-config-external-account-bindings.json.
pub const EAB_KID: &str = "kid-1";
pub const EAB_HMAC: &str = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W";
pub const HOOK: &str = include_str!("../fixtures/acme/challtestsrv-hook.sh");

/// pebble, pebble-challtestsrv and openssl present; otherwise SKIPPED (a failure under CI=true:
/// scripts/test installs the Debian package pebble).
pub fn peers_present(test: &str) -> bool {
    super::require(test, &["pebble", "pebble-challtestsrv", "openssl"])
}

/// The loopback ports of one pebble + challtestsrv pair.
pub struct Ports {
    pub acme: u16,
    pub mgmt: u16,
    pub http: u16,
    pub tls: u16,
    pub dns: u16,
    pub cts: u16,
}

impl Ports {
    pub fn pick() -> Ports {
        Ports {
            acme: free_port(),
            mgmt: free_port(),
            http: free_port(),
            tls: free_port(),
            dns: free_port(),
            cts: free_port(),
        }
    }
}

/// Both servers listen on their ports and are still running: a port that answers while its
/// server has exited belongs to somebody else.
pub fn ready(pebble: &mut Child, cts: &mut Child, ports: &Ports) -> Result<(), String> {
    let mut running = || -> Result<(), String> {
        for (child, what) in [(&mut *pebble, "pebble"), (&mut *cts, "pebble-challtestsrv")] {
            if let Some(status) = child.try_wait().unwrap() {
                return Err(format!("{what} exited ({status})"));
            }
        }
        Ok(())
    };
    let t0 = Instant::now();
    for (port, what) in [
        (ports.cts, "pebble-challtestsrv"),
        (ports.acme, "pebble"),
        (ports.mgmt, "pebble management"),
    ] {
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            running()?;
            if t0.elapsed() > Duration::from_secs(15) {
                return Err(format!("{what} did not listen on {port}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    // pebble binds its listeners one after the other: a later bind may still fail.
    std::thread::sleep(Duration::from_millis(100));
    running()
}

pub fn server_logs(dir: &Path) -> String {
    [
        "pebble.log",
        "pebble.err",
        "challtestsrv.log",
        "challtestsrv.err",
    ]
    .iter()
    .map(|n| {
        format!(
            "---- {n}\n{}",
            std::fs::read_to_string(dir.join(n)).unwrap_or_default()
        )
    })
    .collect()
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        let line = self
            .stdout
            .lines()
            .next()
            .unwrap_or_else(|| panic!("no output object:\n{}{}", self.stdout, self.stderr));
        serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))
    }
}

/// Any process (pebble's tools, openssl, cscert): lossy text, -1 for a signal.
pub fn run(mut c: Command, what: &str) -> Run {
    Run::lossy(
        c.stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("{what} runs: {e}")),
    )
}

/// One pebble + challtestsrv pair on loopback, in a temp folder that also holds the cscert
/// store; killed on drop, logs printed (and the folder kept) when the test failed.
pub struct Pebble {
    /// The one sandbox: pebble's files and the cscert store.
    pub sb: Sandbox,
    pub pebble: Child,
    pub cts: Child,
    pub acme_port: u16,
    pub mgmt_port: u16,
    /// The port pebble validates http-01 on, where cscert answers (-AcmeHttpPort).
    pub http_port: u16,
    pub cts_port: u16,
}

impl Pebble {
    pub fn start(eab: bool) -> Pebble {
        let sb = Sandbox::lab(".tmp", "sip.contoso.com", false);
        let dir = sb.root().to_path_buf();
        // The TLS certificate of pebble's own listeners, from a test CA (-AcmeCaBundle).
        let ssl = |args: &[&str]| {
            let mut c = Command::new("openssl");
            c.args(args).current_dir(&dir);
            let o = run(c, "openssl");
            assert_eq!(o.code, 0, "openssl {args:?}: {}", o.stderr);
        };
        ssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "tls-ca.key",
            "-out",
            "tls-ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=ACME test TLS root",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ]);
        ssl(&[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "tls.key",
            "-out",
            "tls.csr",
            "-subj",
            "/CN=localhost",
        ]);
        std::fs::write(
            dir.join("tls.ext"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        ssl(&[
            "x509",
            "-req",
            "-in",
            "tls.csr",
            "-CA",
            "tls-ca.pem",
            "-CAkey",
            "tls-ca.key",
            "-out",
            "tls.pem",
            "-days",
            "2",
            "-extfile",
            "tls.ext",
        ]);

        // Ports are picked free, then bound by other processes: something else may take one in
        // between (another test's server, an outgoing connection's source port). Then a server
        // exits with "address already in use", and the start is tried again on fresh ports.
        for attempt in 1.. {
            let ports = Ports::pick();
            let (mut pebble, mut cts) = Self::spawn(&dir, &ports, eab);
            match ready(&mut pebble, &mut cts, &ports) {
                Ok(()) => {
                    return Pebble {
                        sb,
                        pebble,
                        cts,
                        acme_port: ports.acme,
                        mgmt_port: ports.mgmt,
                        http_port: ports.http,
                        cts_port: ports.cts,
                    }
                }
                Err(why) => {
                    for c in [&mut pebble, &mut cts] {
                        let _ = c.kill();
                        let _ = c.wait();
                    }
                    let logs = server_logs(&dir);
                    assert!(
                        attempt < 4 && logs.contains("address already in use"),
                        "{why}:\n{logs}"
                    );
                    eprintln!("pebble start {attempt}: {why}; again on other ports");
                }
            }
        }
        unreachable!()
    }

    pub fn spawn(dir: &Path, ports: &Ports, eab: bool) -> (Child, Child) {
        let p = |n: &str| dir.join(n).display().to_string();
        let mut cfg = serde_json::json!({"pebble": {
            "listenAddress": format!("127.0.0.1:{}", ports.acme),
            "managementListenAddress": format!("127.0.0.1:{}", ports.mgmt),
            "certificate": p("tls.pem"),
            "privateKey": p("tls.key"),
            "httpPort": ports.http,
            "tlsPort": ports.tls,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": eab,
        }});
        if eab {
            cfg["pebble"]["externalAccountMACKeys"] = serde_json::json!({ EAB_KID: EAB_HMAC });
        }
        std::fs::write(dir.join("pebble.json"), cfg.to_string()).unwrap();

        let log = |n: &str| std::fs::File::create(dir.join(n)).unwrap();
        let cts = Command::new("pebble-challtestsrv")
            .args([
                "-dns01",
                &format!("127.0.0.1:{}", ports.dns),
                "-http01",
                "",
                "-https01",
                "",
                "-tlsalpn01",
                "",
                "-management",
                &format!("127.0.0.1:{}", ports.cts),
                "-defaultIPv4",
                "127.0.0.1",
                "-defaultIPv6",
                "",
            ])
            .stdin(Stdio::null())
            .stdout(log("challtestsrv.log"))
            .stderr(log("challtestsrv.err"))
            .spawn()
            .expect("pebble-challtestsrv starts");
        let pebble = Command::new("pebble")
            .args([
                "-config",
                &p("pebble.json"),
                "-dnsserver",
                &format!("127.0.0.1:{}", ports.dns),
            ])
            .env("PEBBLE_VA_NOSLEEP", "1")
            .env("PEBBLE_WFE_NONCEREJECT", "0")
            // Every order gets fresh authorizations (pebble reuses valid ones half the time).
            .env("PEBBLE_AUTHZREUSE", "0")
            .stdin(Stdio::null())
            .stdout(log("pebble.log"))
            .stderr(log("pebble.err"))
            .spawn()
            .expect("pebble starts");
        (pebble, cts)
    }

    pub fn stop(&mut self) {
        let _ = self.pebble.kill();
        let _ = self.cts.kill();
        let _ = self.pebble.wait();
        let _ = self.cts.wait();
    }

    pub fn path(&self, n: &str) -> PathBuf {
        self.sb.root().join(n)
    }

    pub fn p(&self, n: &str) -> String {
        self.path(n).display().to_string()
    }

    pub fn directory(&self) -> String {
        format!("https://127.0.0.1:{}/dir", self.acme_port)
    }

    pub fn logs(&self) -> String {
        server_logs(self.sb.root())
    }

    /// pebble's log lines that contain `needle` (requests are logged as "POST /path -> ...").
    pub fn count(&self, needle: &str) -> usize {
        let s = std::fs::read_to_string(self.path("pebble.log")).unwrap_or_default()
            + &std::fs::read_to_string(self.path("pebble.err")).unwrap_or_default();
        s.lines().filter(|l| l.contains(needle)).count()
    }

    /// cscert with the store in this folder, a fixed computer, the responder on loopback only,
    /// and the hook's settings in its environment.
    pub fn cscert_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut c = self.sb.command(args);
        c.env("CSCERT_ACME_HTTP_ADDRESS", "127.0.0.1")
            .env("CHALLTESTSRV", format!("127.0.0.1:{}", self.cts_port))
            .env("HOOK_LOG", self.path("hook.log"))
            .env_remove("CSCERT_ACME_EAB_HMAC_KEY")
            .env_remove("HOOK_MODE");
        for (k, v) in env {
            c.env(k, v);
        }
        run(c, "cscert")
    }

    pub fn cscert(&self, args: &[&str]) -> Run {
        self.cscert_env(args, &[])
    }

    pub fn cscert_ok(&self, args: &[&str]) -> Run {
        let o = self.cscert(args);
        assert_eq!(o.code, 0, "cscert {args:?}:\n{}{}", o.stdout, o.stderr);
        o
    }

    /// The Edge request of the README through this pebble, plus `extra` parameters.
    pub fn edge_args(&self, extra: &[&str]) -> Vec<String> {
        let mut a: Vec<String> = [
            "Request-CsCertificate",
            "-New",
            "-Type",
            EDGE_USES,
            "-ComputerFqdn",
            "sip.contoso.com",
            "-DomainName",
            EDGE_DOMAINS,
            "-PrivateKeyExportable",
            "True",
            "-CA",
            &self.directory(),
            "-AcmeCaBundle",
            &self.p("tls-ca.pem"),
            "-AcmeAgreeTos",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    }

    pub fn hook(&self) -> String {
        let p = self.path("hook.sh");
        std::fs::write(&p, HOOK).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        p.display().to_string()
    }

    pub fn hook_log(&self) -> String {
        std::fs::read_to_string(self.path("hook.log")).unwrap_or_default()
    }

    /// pebble's root certificate, from its management interface (HTTPS, same TLS certificate).
    pub fn root_pem(&self) -> String {
        let mut c = Command::new("openssl");
        c.args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{}", self.mgmt_port),
            "-CAfile",
            &self.p("tls-ca.pem"),
            "-verify_return_error",
            "-quiet",
        ])
        .current_dir(self.sb.root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = c.spawn().expect("openssl s_client");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"GET /roots/0 HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .unwrap();
        let o = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&o.stdout);
        let start = text.find("-----BEGIN CERTIFICATE-----").unwrap_or_else(|| {
            panic!(
                "no root from the management port:\n{text}\n{}",
                String::from_utf8_lossy(&o.stderr)
            )
        });
        let end =
            text.find("-----END CERTIFICATE-----").unwrap() + "-----END CERTIFICATE-----".len();
        format!("{}\n", &text[start..end])
    }

    /// A request without a test of its own: requests of the pending list.
    pub fn requests(&self) -> Vec<serde_json::Value> {
        self.cscert_ok(&["Request-CsCertificate", "-List"]).lines()
    }
}

impl Drop for Pebble {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            eprintln!("pebble and challtestsrv logs:\n{}", self.logs());
            let kept = std::mem::replace(&mut self.sb.dir, tempfile::tempdir().unwrap()).keep();
            eprintln!("test folder kept at {}", kept.display());
        }
    }
}
