//! Servers started by the tests (prosody, ejabberd, openssl s_server): started on free loopback
//! ports, tried again when another process takes a port first, waited for until their log says
//! they serve, and killed with their process group when dropped.

use std::io::Read;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How to start one kind of server and tell when it serves: prosody, ejabberd, openssl
/// s_server and the probe tests' own.
pub struct Start<'a> {
    pub what: &'a str,
    /// Texts its log shows when a port was bound by another process first.
    pub port_taken: &'a [&'a str],
    /// Whether the log shows it serving on the port.
    pub ready: &'a dyn Fn(&str, u16) -> bool,
    /// How many of its ports (the first ones) it listens on; the others it uses otherwise.
    pub listening: usize,
    pub wait: Duration,
}

/// A server started by a test; dropping it kills and reaps the process, whether the test
/// passed or panicked.
pub struct Daemon {
    child: Option<Child>,
    pub pid: u32,
    /// The first of `ports`.
    pub port: u16,
    pub ports: Vec<u16>,
    pub log: PathBuf,
}

impl Daemon {
    /// Starts `command(ports)` on `n` free loopback ports. A port picked free can be taken by
    /// another process before the server binds it; that start is tried again on other ports.
    pub fn on_free_ports(
        s: &Start,
        n: usize,
        log: PathBuf,
        mut command: impl FnMut(&[u16]) -> Command,
    ) -> Daemon {
        let mut attempt = 1;
        loop {
            let ports: Vec<u16> = (0..n).map(|_| super::free_port()).collect();
            match Daemon::start(s, command(&ports), ports.clone(), log.clone()) {
                Ok(d) => return d,
                Err(d) if attempt < 4 && s.port_taken.iter().any(|t| d.log_text().contains(t)) => {
                    eprintln!(
                        "{} start {attempt}: a port of {ports:?} taken; again",
                        s.what
                    );
                    attempt += 1;
                }
                Err(d) => panic!(
                    "{} did not serve on 127.0.0.1:{ports:?}:\n{}",
                    s.what,
                    d.log_text()
                ),
            }
        }
    }

    /// Spawns `c` with its output in `log` and waits (at most `s.wait`) until the log says it
    /// serves every port and each accepts TCP connections: a connection alone could reach
    /// whoever else holds the port.
    fn start(s: &Start, mut c: Command, ports: Vec<u16>, log: PathBuf) -> Result<Daemon, Daemon> {
        let out = std::fs::File::create(&log).expect("server log file");
        let err = out.try_clone().unwrap();
        // A group of its own, so that stop() also ends what it started (ejabberdctl runs the
        // Erlang VM under su).
        use std::os::unix::process::CommandExt;
        let child = c
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("{} starts: {e}", s.what));
        let mut d = Daemon {
            pid: child.id(),
            child: Some(child),
            port: ports[0],
            ports,
            log,
        };
        let deadline = Instant::now() + s.wait;
        loop {
            let log = d.log_text();
            if s.port_taken.iter().any(|t| log.contains(t)) {
                d.stop();
                return Err(d);
            }
            let serving = d.ports[..s.listening].iter().all(|p| {
                (s.ready)(&log, *p)
                    && TcpStream::connect_timeout(
                        &format!("127.0.0.1:{p}").parse().unwrap(),
                        Duration::from_millis(200),
                    )
                    .is_ok()
            });
            if serving {
                return Ok(d);
            }
            if d.child.as_mut().unwrap().try_wait().unwrap().is_some() || Instant::now() > deadline
            {
                d.stop();
                return Err(d);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log_text(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }

    /// Kills its process group and reaps the process now; returns whether it is gone.
    pub fn stop(&mut self) -> bool {
        if let Some(mut c) = self.child.take() {
            // SAFETY: a plain syscall on the group this test made (pgid = the child's pid).
            unsafe { libc::kill(-(self.pid as libc::pid_t), libc::SIGKILL) };
            let _ = c.kill();
            let _ = c.wait();
        }
        !Path::new(&format!("/proc/{}", self.pid)).exists()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
    }
}
