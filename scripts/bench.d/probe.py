"""The probe rows of the benchmark: Test-CsCertificate -Endpoint on one loopback XMPP endpoint
(prosody, STARTTLS) against `openssl s_client -starttls xmpp-server` on the same endpoint, and
100 endpoints in one call against one. prosody is started here on a free loopback port and
stopped at the end; skipped (with a note) when prosody is not installed."""
import os
import shutil
import socket
import subprocess
import time


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _prosody(work, openssl):
    d = os.path.join(work, "probe")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "data"))
    crt, key = os.path.join(d, "x.crt"), os.path.join(d, "x.key")
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-noenc", "-subj", "/CN=contoso.com",
                    "-addext", "subjectAltName=DNS:contoso.com", "-days", "30",
                    "-keyout", key, "-out", crt], check=True, capture_output=True)
    port = _free_port()
    cfg = os.path.join(d, "prosody.cfg.lua")
    with open(cfg, "w") as f:
        f.write(f'''run_as_root = true
daemonize = false
pidfile = "{d}/prosody.pid"
data_path = "{d}/data"
admin_socket = "{d}/prosody.sock"
interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ }}
c2s_direct_tls_ports = {{ }}
s2s_ports = {{ {port} }}
s2s_direct_tls_ports = {{ }}
component_ports = {{ }}
http_ports = {{ }}
https_ports = {{ }}
modules_enabled = {{ "tls"; "dialback"; "s2s" }}
modules_disabled = {{ "c2s"; "posix"; "admin_shell"; "offline"; "s2s_bidi"; "http" }}
log = {{ {{ levels = {{ min = "warn" }}, to = "console" }} }}
VirtualHost "contoso.com"
    ssl = {{ certificate = "{crt}", key = "{key}" }}
''')
    log = open(os.path.join(d, "prosody.log"), "wb")
    p = subprocess.Popen(["prosody", "--config", cfg], stdout=log, stderr=log,
                         stdin=subprocess.DEVNULL)
    deadline = time.time() + 15
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return p, port, crt
        except OSError:
            time.sleep(0.1)
    p.kill()
    raise SystemExit("bench: prosody did not listen on its port")


def rows(cscert, openssl, work, env, runs, median_time):
    """[(label, cscert seconds, openssl seconds, None)] and the verdict lines."""
    if shutil.which("prosody") is None:
        return [], ["Probe rows skipped: prosody is not installed."]
    p, port, crt = _prosody(work, openssl)
    try:
        ep = f"127.0.0.1:{port}"
        one = [cscert, "Test-CsCertificate", "-Endpoint", ep, "-XmppDomain", "contoso.com",
               "-TrustedRoot", crt]
        many = [cscert, "Test-CsCertificate", "-Endpoint", ",".join([ep] * 100),
                "-XmppDomain", "contoso.com", "-TrustedRoot", crt]
        ossl = [openssl, "s_client", "-connect", ep, "-starttls", "xmpp-server",
                "-xmpphost", "contoso.com"]
        # A self-signed test certificate: the validator's findings give exit 3.
        t_one = median_time(one, runs, env, ok=(0, 3))
        t_ossl = median_time(ossl, runs)
        t_many = median_time(many, max(3, runs // 5), env, ok=(0, 3))
    finally:
        p.kill()
        p.wait()
    notes = [
        f"Probe of one loopback XMPP endpoint (STARTTLS): cscert {t_one * 1000:.0f} ms, "
        f"openssl s_client {t_ossl * 1000:.0f} ms: target <= 2x openssl -> "
        f"{'MET' if t_one <= 2 * t_ossl else 'MISSED'} ({t_one / t_ossl:.2f}x).",
        f"100 endpoints in one call: {t_many * 1000:.0f} ms = {t_many / t_one:.1f}x one: "
        f"target <= 10x -> {'MET' if t_many <= 10 * t_one else 'MISSED'}.",
    ]
    return [
        (f"Probe 1 XMPP endpoint, STARTTLS (N={runs})", t_one, t_ossl, None),
        (f"Probe 100 XMPP endpoints (N={max(3, runs // 5)})", t_many, None, None),
    ], notes
