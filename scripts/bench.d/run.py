#!/usr/bin/env python3
"""Times cscert against openssl and Python's cryptography and prints the table.

Called by scripts/bench with the venv's interpreter (cryptography installed). Every timing
is wall clock from process spawn to exit (os.posix_spawn + waitpid, stdout/stderr to
/dev/null unless noted), the median of several runs.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

DEVNULL = os.open(os.devnull, os.O_RDWR)


def spawn_time(argv, env=None, ok=(0,), stdout_fd=None):
    """Seconds from spawn to exit of one process. Fails loudly on an unexpected exit code."""
    actions = [
        (os.POSIX_SPAWN_DUP2, DEVNULL, 0),
        (os.POSIX_SPAWN_DUP2, stdout_fd if stdout_fd is not None else DEVNULL, 1),
        (os.POSIX_SPAWN_DUP2, DEVNULL, 2),
    ]
    t0 = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, env if env is not None else os.environ,
                         file_actions=actions)
    _, status = os.waitpid(pid, 0)
    dt = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    if code not in ok:
        # Run it again visibly so the failure can be read.
        subprocess.run(argv, env=env)
        sys.exit(f"bench: {' '.join(argv)} exited {code} (expected {ok})")
    return dt


def median_time(argv, runs, env=None, ok=(0,), warmup=1):
    for _ in range(warmup):
        spawn_time(argv, env, ok)
    return statistics.median(spawn_time(argv, env, ok) for _ in range(runs))


def fmt(sec):
    if sec is None:
        return "-"
    if sec >= 1:
        return f"{sec:.2f} s"
    if sec >= 0.01:
        return f"{sec * 1000:.0f} ms"
    return f"{sec * 1000:.1f} ms"


def ratio(other, ours):
    if other is None or ours is None:
        return "-"
    return f"{other / ours:.1f}x"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cscert", required=True)
    ap.add_argument("--openssl", required=True)
    ap.add_argument("--certs", required=True, help="folder of generated .cer files")
    ap.add_argument("--work", required=True)
    ap.add_argument("--runs", type=int, default=5, help="runs for the 10,000-file task")
    ap.add_argument("--requests", type=int, default=20, help="runs per request task")
    ap.add_argument("--small", type=int, default=50, help="runs per single-item task")
    ap.add_argument("--sample", type=int, default=500, help="files in the openssl loop sample")
    a = ap.parse_args()

    here = os.path.dirname(os.path.abspath(__file__))
    py = sys.executable
    cscert, openssl = a.cscert, a.openssl
    work = os.path.abspath(a.work)
    store = os.path.join(work, "store")
    scratch = os.path.join(work, "scratch")
    for d in (store, scratch):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    # cscert refuses a store folder that other users can read (it holds private keys).
    os.chmod(store, 0o700)
    env = dict(os.environ, CSCERT_STORE=store)
    env.pop("CSCERT_NOW", None)

    files = sorted(f for f in os.listdir(a.certs) if f.endswith(".cer"))
    n = len(files)
    rows = []

    # 1. Test-CsCertificate over the folder.
    test_argv = [cscert, "Test-CsCertificate", "-Path", a.certs, "-XmppDomain", "contoso.com"]
    out_path = os.path.join(scratch, "test.jsonl")
    with open(out_path, "wb") as out:
        spawn_time(test_argv, env, ok=(0, 3), stdout_fd=out.fileno())
    with open(out_path, "rb") as f:
        lines = sum(1 for _ in f)
    if lines != n:
        sys.exit(f"bench: Test-CsCertificate printed {lines} lines for {n} files")
    print(f"Test-CsCertificate printed {lines} JSON lines for {n} files.", file=sys.stderr)
    t_cs = median_time(test_argv, a.runs, env, ok=(0, 3))
    t_py = median_time([py, os.path.join(here, "pyload.py"), a.certs], a.runs)
    sample = files[:: max(1, n // a.sample)][: a.sample]
    loop_times = []
    for _ in range(3):
        t0 = time.perf_counter()
        for f in sample:
            spawn_time([openssl, "x509", "-noout", "-text", "-in", os.path.join(a.certs, f)])
        loop_times.append(time.perf_counter() - t0)
    t_ossl = statistics.median(loop_times) * n / len(sample)
    rows.append((f"Test-CsCertificate, {n:,} files", t_cs, t_ossl, t_py))
    big = (t_cs, t_ossl, t_py)

    # 2. Request-CsCertificate -New vs openssl req -new.
    sans = ["sip.contoso.com", "webcon.contoso.com", "sip.fabrikam.com", "contoso.com"]
    for label, cs_alg, ossl_key in [
        ("RSA-2048", ["-KeySize", "2048"], ["-newkey", "rsa:2048"]),
        ("ECDH_P256", ["-KeyAlg", "ECDH_P256"],
         ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]),
    ]:
        req = os.path.join(scratch, "cs.req")
        cs_argv = [cscert, "Request-CsCertificate", "-New", "-Type",
                   "AccessEdgeExternal,DataEdgeExternal,AudioVideoAuthentication",
                   "-ComputerFqdn", sans[0], "-DomainName", ", ".join(sans),
                   "-PrivateKeyExportable", "True", "-Output", req, "-Force"] + cs_alg
        ossl_argv = [openssl, "req", "-new"] + ossl_key + [
            "-noenc", "-subj", "/CN=" + sans[0],
            "-addext", "subjectAltName=" + ",".join("DNS:" + s for s in sans),
            "-keyout", os.path.join(scratch, "o.key"), "-out", os.path.join(scratch, "o.req")]
        t_cs = median_time(cs_argv, a.requests, env)
        t_o = median_time(ossl_argv, a.requests)
        rows.append((f"Request -New {label} (N={a.requests})", t_cs, t_o, None))

    # 3. Per-cmdlet overhead.
    one = os.path.join(a.certs, files[0])
    single = [
        ("Get-CsCertificate", [cscert, "Get-CsCertificate"], (0,), None, None),
        ("Request-CsCertificate -List", [cscert, "Request-CsCertificate", "-List"], (0,), None, None),
        ("Test-CsCertificate -Path one.cer",
         [cscert, "Test-CsCertificate", "-Path", one, "-XmppDomain", "contoso.com"], (0, 3),
         [openssl, "x509", "-noout", "-text", "-in", one],
         [py, os.path.join(here, "pyload.py"), one]),
    ]
    for label, argv, ok, o_argv, p_argv in single:
        t_cs = median_time(argv, a.small, env, ok=ok)
        t_o = median_time(o_argv, a.small) if o_argv else None
        t_p = median_time(p_argv, min(a.small, 10)) if p_argv else None
        rows.append((f"{label} (N={a.small})", t_cs, t_o, t_p))
    # 4. Test-CsCertificate -Endpoint (scripts/bench.d/probe.py).
    sys.path.insert(0, here)
    import probe
    probe_rows, probe_notes = probe.rows(cscert, openssl, work, env, a.small, median_time)
    rows.extend(probe_rows)
    t_true = median_time(["/bin/true"], a.small)
    rows.append((f"(process spawn: /bin/true, N={a.small})", t_true, None, None))

    # The table.
    head = ("task", "cscert", "openssl", "python", "openssl/cscert", "python/cscert")
    body = [(r[0], fmt(r[1]), fmt(r[2]), fmt(r[3]), ratio(r[2], r[1]), ratio(r[3], r[1]))
            for r in rows]
    widths = [max(len(x[i]) for x in [head] + body) for i in range(len(head))]
    line = lambda cells: "| " + " | ".join(
        c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))) + " |"
    print(line(head))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for b in body:
        print(line(b))
    print()
    print(f"Notes: medians; Test-CsCertificate {a.runs} runs (stdout to /dev/null); the openssl "
          f"column for it is a per-file `openssl x509 -noout -text` loop timed over {len(sample)} "
          f"of the {n:,} files (median of 3 passes) and scaled by {n / len(sample):g}; the python "
          f"column is one process loading all files with cryptography "
          f"(load_pem_x509_certificate + subject + SAN). Machine: {os.cpu_count()} cores.")
    t_cs, t_ossl, t_py = big
    target = t_py / 3
    verdict = "MET" if t_cs <= target else "MISSED"
    print(f"Target for Test-CsCertificate on {n:,} files: <= 1/3 of Python's time "
          f"({fmt(target)}): {fmt(t_cs)} -> {verdict} "
          f"({t_py / t_cs:.1f}x faster than Python, {t_ossl / t_cs:.0f}x faster than the openssl loop).")
    for note in probe_notes:
        print(note)


if __name__ == "__main__":
    main()
