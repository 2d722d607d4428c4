//! Test-CsCertificate -Endpoint: its object, `openssl s_server` as a TLS peer (a [`Daemon`]),
//! hostile loopback servers, and a run whose peak memory is measured.

use super::daemon::{Daemon, Start};
use super::xmpp::Lab;
use super::Run;
use serde::Deserialize;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::time::{Duration, Instant};

/// Test-CsCertificate -Endpoint's object (every property, unknown ones refused).
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct Probed {
    pub endpoint: String,
    pub protocol: String,
    pub server_name: String,
    pub address: String,
    pub tls_version: String,
    pub cipher_suite: String,
    pub subject: String,
    pub issuer: Option<String>,
    pub alternative_names: Vec<String>,
    pub thumbprint: Option<String>,
    pub not_before: Option<String>,
    pub not_after: Option<String>,
    pub chain: Vec<String>,
    pub trusted_by: String,
    pub assigned_thumbprint: Option<String>,
    pub xmpp_domains: Vec<super::xmpp::Coverage>,
    pub sip_domains: Vec<super::xmpp::Coverage>,
    pub findings: Vec<super::xmpp::Finding>,
    pub passed: bool,
}

impl Probed {
    pub fn rule_ids(&self) -> Vec<&str> {
        self.findings.iter().map(|f| f.rule_id.as_str()).collect()
    }

    pub fn finding(&self, rule: &str) -> &super::xmpp::Finding {
        self.findings
            .iter()
            .find(|f| f.rule_id == rule)
            .unwrap_or_else(|| panic!("no {rule} finding: {:#?}", self.findings))
    }
}

const S_SERVER: Start = Start {
    what: "openssl s_server",
    port_taken: &["Address already in use", "in use"],
    ready: &|log, _| log.contains("ACCEPT"),
    wait: Duration::from_secs(10),
    listening: 1,
};

impl Lab {
    /// `openssl s_server` on a free loopback port serving `cert`/`key` with `chain` (PEM files)
    /// sent after it; `www` answers HTTP requests too.
    pub fn s_server(&self, name: &str, cert: &str, key: &str, chain: Option<&str>) -> Daemon {
        let dir = self.dir.path().to_path_buf();
        Daemon::on_free_ports(&S_SERVER, 1, self.path(&format!("{name}.log")), |ports| {
            let mut c = Command::new("openssl");
            let accept = format!("127.0.0.1:{}", ports[0]);
            c.args([
                "s_server", "-accept", &accept, "-cert", cert, "-key", key, "-www",
            ])
            .current_dir(&dir);
            if let Some(chain) = chain {
                c.args(["-cert_chain", chain]);
            }
            c
        })
    }

    /// Test-CsCertificate -Endpoint with `args` after it: the run, its objects, and cscert's own
    /// peak memory (kB) and time.
    pub fn probe(&self, args: &[&str]) -> (Run, Vec<Probed>, u64, Duration) {
        let mut all = vec!["Test-CsCertificate"];
        all.extend_from_slice(args);
        let mut c = self.command(&all);
        c.env("CSCERT_ERROR_FORMAT", "json");
        let started = Instant::now();
        let (run, peak_kb) = run_measured(c);
        let took = started.elapsed();
        let objects = run
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        (run, objects, peak_kb, took)
    }
}

/// Runs `c` to its end and returns its output with its peak resident memory in kB (wait4's
/// rusage of that one child, not of the test process).
pub fn run_measured(mut c: Command) -> (Run, u64) {
    let out_path = tempfile::NamedTempFile::new().unwrap();
    let err_path = tempfile::NamedTempFile::new().unwrap();
    let child = c
        .stdout(out_path.reopen().unwrap())
        .stderr(err_path.reopen().unwrap())
        .spawn()
        .expect("cscert runs");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain data, filled in by the kernel; the pid is our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let got = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(got, pid, "wait4");
    std::mem::forget(child);
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        panic!("cscert ended by signal {}", libc::WTERMSIG(status))
    };
    let run = Run {
        code,
        stdout: std::fs::read_to_string(out_path.path()).unwrap(),
        stderr: std::fs::read_to_string(err_path.path()).unwrap(),
    };
    (run, usage.ru_maxrss as u64)
}

/// How a hostile server behaves once a client connects.
#[derive(Debug, Clone, Copy)]
pub enum Hostile {
    /// Accepts and never sends a byte.
    Silent,
    /// Sends a whitespace keepalive every 100 ms, forever.
    Trickle,
    /// Opens a stream whose header never ends (one attribute, as fast as it can).
    EndlessHeader,
    /// An SSH banner: another protocol.
    Ssh,
    /// An HTTP answer to whatever comes (a TLS ClientHello included).
    Http,
}

/// A loopback server behaving as `how` on every connection, each in its own thread; it lives
/// as long as the test process (threads block on sockets the OS closes at exit).
pub fn hostile(how: Hostile) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || serve_hostile(s, how));
        }
    });
    port
}

fn serve_hostile(mut s: std::net::TcpStream, how: Hostile) {
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    let mut buf = [0u8; 4096];
    let _ = s.read(&mut buf);
    let until = Instant::now() + Duration::from_secs(30);
    match how {
        Hostile::Silent => std::thread::sleep(Duration::from_secs(30)),
        Hostile::Trickle => {
            while Instant::now() < until && s.write_all(b" ").is_ok() {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Hostile::EndlessHeader => {
            let _ = s.write_all(b"<?xml version='1.0'?><stream:stream xmlns='jabber:server' a='");
            let chunk = [b'x'; 16 * 1024];
            while Instant::now() < until && s.write_all(&chunk).is_ok() {}
        }
        Hostile::Ssh => {
            let _ = s.write_all(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n");
            std::thread::sleep(Duration::from_secs(30));
        }
        Hostile::Http => {
            let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
            std::thread::sleep(Duration::from_secs(30));
        }
    }
}
