//! ejabberd (Debian's package) started by the tests, as prosody is in `xmpp`.

use super::daemon::{Daemon, Start};
use super::xmpp::Lab;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// ejabberd's log line for each listener it opened.
const EJABBERD: Start = Start {
    what: "ejabberd",
    port_taken: &["eaddrinuse"],
    ready: &|log, port| {
        log.contains(&format!(
            "Start accepting TCP connections at 127.0.0.1:{port} "
        ))
    },
    // ejabberd (an Erlang node) takes ~20 s to start on a busy machine.
    wait: Duration::from_secs(60),
    listening: 2,
};

/// An ejabberd server started by a test: s2s on `port` (`ports[0]`), c2s with STARTTLS
/// required on `ports[1]`, one domain serving `pem` (certificate, chain and key in one file).
pub struct Ejabberd {
    pub daemon: Daemon,
    pub dir: PathBuf,
}

impl std::ops::Deref for Ejabberd {
    type Target = Daemon;
    fn deref(&self) -> &Daemon {
        &self.daemon
    }
}

impl std::ops::DerefMut for Ejabberd {
    fn deref_mut(&mut self) -> &mut Daemon {
        &mut self.daemon
    }
}

impl Ejabberd {
    /// Writes `<name>/conf/ejabberd.yml` (loopback listeners, `extra` YAML appended) and runs
    /// `ejabberdctl ... foreground` with private config, log and spool folders. As root,
    /// ejabberdctl runs ejabberd as the `ejabberd` user, so those folders are given to it.
    pub fn serve(lab: &Lab, name: &str, domain: &str, pem: &Path, extra: &str) -> Ejabberd {
        assert!(
            super::have("setpriv"),
            "setpriv (util-linux) runs ejabberd as its user"
        );
        let dir = lab.path(name);
        for sub in ["conf", "log", "db"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        std::fs::copy(pem, dir.join("conf/server.pem")).unwrap();
        // Erlang's resolver: the hosts file first, so a test's inetrc entries are seen.
        std::fs::write(dir.join("conf/inetrc"), "{lookup,[\"file\",\"native\"]}.\n").unwrap();
        let log = dir.join("ejabberd.out");
        let daemon = Daemon::on_free_ports(&EJABBERD, 3, log, |ports| {
            let yml = format!(
                "hosts: [\"{domain}\"]\nloglevel: info\ncertfiles: [\"{pem}\"]\n\
                 listen:\n  - port: {s2s}\n    ip: \"127.0.0.1\"\n    module: ejabberd_s2s_in\n\
                 \x20 - port: {c2s}\n    ip: \"127.0.0.1\"\n    module: ejabberd_c2s\n    starttls_required: true\n\
                 s2s_use_starttls: required\n{extra}",
                pem = dir.join("conf/server.pem").display(),
                s2s = ports[0],
                c2s = ports[1],
            );
            std::fs::write(dir.join("conf/ejabberd.yml"), yml).unwrap();
            let _ = std::fs::remove_dir_all(dir.join("db"));
            std::fs::create_dir_all(dir.join("db")).unwrap();
            give_to_ejabberd(&dir);
            // As the ejabberd user directly: ejabberdctl would otherwise run the VM through su,
            // in a session of its own that stop() could not end. A fixed distribution port
            // (ERL_DIST_PORT) keeps it from starting an epmd daemon that outlives the test.
            let mut c = Command::new("setpriv");
            c.args([
                "--reuid=ejabberd",
                "--regid=ejabberd",
                "--init-groups",
                "ejabberdctl",
            ])
            .env("HOME", &dir)
            .env("ERL_DIST_PORT", ports[2].to_string())
            .current_dir(&dir)
            .arg("--config-dir")
            .arg(dir.join("conf"))
            .arg("--config")
            .arg(dir.join("conf/ejabberd.yml"))
            .arg("--logs")
            .arg(dir.join("log"))
            .arg("--spool")
            .arg(dir.join("db"))
            .args([
                "--node",
                &format!("cscert{}@localhost", ports[0]),
                "foreground",
            ]);
            c
        });
        Ejabberd { daemon, dir }
    }

    /// ejabberd's own log (`log/ejabberd.log`).
    pub fn ejabberd_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log/ejabberd.log")).unwrap_or_default()
    }
}

/// `chown -R ejabberd` and folders above traversable: ejabberdctl drops to that user.
fn give_to_ejabberd(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let st = Command::new("chown")
        .args(["-R", "ejabberd:"])
        .arg(dir)
        .status()
        .expect("chown runs");
    assert!(st.success(), "chown -R ejabberd {}", dir.display());
    let mut p = Some(dir);
    while let Some(d) = p {
        if let Ok(m) = std::fs::metadata(d) {
            let mode = m.permissions().mode();
            if mode & 0o005 != 0o005 {
                let _ = std::fs::set_permissions(d, std::fs::Permissions::from_mode(mode | 0o055));
            }
        }
        p = d.parent();
    }
}

/// ejabberd, prosody and openssl, or SKIPPED (a failure under CI=true).
pub fn ejabberd_present(test: &str) -> bool {
    super::require(test, &["ejabberdctl", "prosody", "openssl"])
}
