#!/usr/bin/env python3
"""Times cscert against openssl and Python's cryptography and prints the table.

Called by scripts/bench with the venv's interpreter (cryptography installed). Every timing
is wall clock from process spawn to exit (os.posix_spawn + waitpid, stdout/stderr to
/dev/null unless noted), the median of several runs.
"""
import argparse
import json
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


def renewal_store(cscert, openssl, work, n):
    """A store with n lab-CA certificates issued a week ago, each assigned on a computer of its
    own (cached under work/renewal)."""
    base = os.path.join(work, "renewal")
    store, ca = os.path.join(base, "store"), os.path.join(base, "ca")
    env = dict(os.environ, CSCERT_STORE=store)
    env.pop("CSCERT_NOW", None)
    marker = os.path.join(base, ".complete")
    if os.path.exists(marker) and open(marker).read() == str(n):
        return env
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(ca)
    os.makedirs(store, mode=0o700)
    os.chmod(store, 0o700)
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", os.path.join(ca, "ca.key"), "-out", os.path.join(ca, "ca.crt"),
                    "-days", "3650", "-subj", "/CN=Bench Renewal CA",
                    "-addext", "basicConstraints=critical,CA:TRUE",
                    "-addext", "keyUsage=critical,keyCertSign"], check=True, capture_output=True)
    print(f"bench: issuing and assigning {n} certificates for the renewal row", file=sys.stderr)
    for i in range(n):
        fqdn = f"fe{i:04}.contoso.com"
        e = dict(env, CSCERT_COMPUTERFQDN=fqdn)
        out = subprocess.run([cscert, "Request-CsCertificate", "-New", "-Type", "Default",
                              "-ComputerFqdn", fqdn, "-KeyAlg", "ECDH_P256", "-CA", ca,
                              "-ValidityDays", "365"], env=e, check=True, capture_output=True).stdout
        thumb = json.loads(out.splitlines()[0])["Thumbprint"]
        subprocess.run([cscert, "Set-CsCertificate", "-Type", "Default", "-Thumbprint", thumb],
                       env=e, check=True, capture_output=True)
    open(marker, "w").write(str(n))
    return env


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cscert", required=True)
    ap.add_argument("--openssl", required=True)
    ap.add_argument("--certs", required=True, help="folder of generated .cer files")
    ap.add_argument("--ca", required=True, help="the CA certificate of those files")
    ap.add_argument("--certtool", default=None, help="GnuTLS certtool, if installed")
    ap.add_argument("--stored", type=int, default=10000,
                    help="certificates in the store of the store-size row")
    ap.add_argument("--work", required=True)
    ap.add_argument("--runs", type=int, default=5, help="runs for the 10,000-file task")
    ap.add_argument("--requests", type=int, default=20, help="runs per request task")
    ap.add_argument("--small", type=int, default=50, help="runs per single-item task")
    ap.add_argument("--sample", type=int, default=500, help="files in the openssl loop sample")
    ap.add_argument("--renewals", type=int, default=1000, help="assigned certificates for Update")
    a = ap.parse_args()

    here = os.path.dirname(os.path.abspath(__file__))
    py = sys.executable
    cscert, openssl, certtool = a.cscert, a.openssl, a.certtool
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

    # 1. Test-CsCertificate over the folder, every signature verified against the CA (given
    #    as -TrustedRoot); Python parses, reads the names and verifies each signature too; the
    #    openssl column is `openssl verify` per file (parse + chain + signature).
    test_argv = [cscert, "Test-CsCertificate", "-Path", a.certs, "-XmppDomain", "contoso.com",
                 "-TrustedRoot", a.ca]
    out_path = os.path.join(scratch, "test.jsonl")
    with open(out_path, "wb") as out:
        spawn_time(test_argv, env, ok=(0, 3), stdout_fd=out.fileno())
    with open(out_path, "rb") as f:
        lines = f.read().splitlines()
    if len(lines) != n:
        sys.exit(f"bench: Test-CsCertificate printed {len(lines)} lines for {n} files")
    bad_sig = sum(1 for l in lines if b"SIGNATURE-INVALID" in l or b"ROOT-UNTRUSTED" in l
                  or b"CHAIN-INCOMPLETE" in l)
    if bad_sig:
        sys.exit(f"bench: {bad_sig} files did not verify against {a.ca}")
    print(f"Test-CsCertificate printed {n} JSON lines for {n} files, all verified.",
          file=sys.stderr)
    t_cs = median_time(test_argv, a.runs, env, ok=(0, 3))
    t_py = median_time([py, os.path.join(here, "pyload.py"), a.certs, a.ca], a.runs)
    sample = files[:: max(1, n // a.sample)][: a.sample]
    loop_times = []
    for _ in range(3):
        t0 = time.perf_counter()
        for f in sample:
            spawn_time([openssl, "verify", "-CAfile", a.ca, os.path.join(a.certs, f)])
        loop_times.append(time.perf_counter() - t0)
    t_ossl = statistics.median(loop_times) * n / len(sample)
    rows.append((f"Test-CsCertificate -TrustedRoot, {n:,} files", t_cs, t_ossl, None, t_py))
    big = (t_cs, t_ossl, t_py)

    # 2. Request-CsCertificate -New vs openssl req -new and certtool's key + request.
    sans = ["sip.contoso.com", "webcon.contoso.com", "sip.fabrikam.com", "contoso.com"]
    template = os.path.join(scratch, "certtool.tmpl")
    with open(template, "w") as f:
        f.write('cn = "sip.contoso.com"\n' + "".join(f'dns_name = "{d}"\n' for d in sans))
    ct_key, ct_req = os.path.join(scratch, "ct.key"), os.path.join(scratch, "ct.req")
    for label, cs_alg, ossl_key, ct_key_args in [
        ("RSA-2048", ["-KeySize", "2048"], ["-newkey", "rsa:2048"], ["--bits", "2048"]),
        ("ECDH_P256", ["-KeyAlg", "ECDH_P256"],
         ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
         ["--ecc", "--curve", "secp256r1"]),
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
        t_ct = None
        if certtool:
            # Two processes, as certtool makes a key and a request in two steps.
            ct_argv = ["/bin/sh", "-c",
                       f'"$0" --generate-privkey {" ".join(ct_key_args)} --outfile "$1" '
                       f'--no-text 2>/dev/null && "$0" --generate-request --load-privkey "$1" '
                       f'--template "$2" --outfile "$3" --no-text 2>/dev/null',
                       certtool, ct_key, template, ct_req]
            t_ct = median_time(ct_argv, a.requests)
        rows.append((f"Request -New {label} (N={a.requests})", t_cs, t_o, t_ct, None))

    # 3. Per-cmdlet overhead.
    one = os.path.join(a.certs, files[0])
    single = [
        ("Get-CsCertificate", [cscert, "Get-CsCertificate"], (0,), None, None, None),
        ("Request-CsCertificate -List", [cscert, "Request-CsCertificate", "-List"], (0,), None,
         None, None),
        ("Test-CsCertificate -Path one.cer",
         [cscert, "Test-CsCertificate", "-Path", one, "-XmppDomain", "contoso.com"], (0, 3),
         [openssl, "x509", "-noout", "-text", "-in", one],
         [certtool, "--certificate-info", "--infile", one] if certtool else None,
         [py, os.path.join(here, "pyload.py"), one]),
    ]
    for label, argv, ok, o_argv, ct_argv, p_argv in single:
        t_cs = median_time(argv, a.small, env, ok=ok)
        t_o = median_time(o_argv, a.small) if o_argv else None
        t_ct = median_time(ct_argv, a.small) if ct_argv else None
        t_p = median_time(p_argv, min(a.small, 10)) if p_argv else None
        rows.append((f"{label} (N={a.small})", t_cs, t_o, t_ct, t_p))
    one_file = rows[-1]

    # 4. The store's size: one file checked with an empty store and with `--stored`
    #    certificates in it (built once by importing the generated files, then reused).
    big_store = os.path.join(work, f"store-{a.stored}")
    marker = os.path.join(big_store, ".complete")
    if not os.path.exists(marker):
        shutil.rmtree(big_store, ignore_errors=True)
        os.makedirs(big_store, mode=0o700)
        print(f"bench: importing {a.stored} certificates into {big_store} (once)",
              file=sys.stderr)
        big_env = dict(env, CSCERT_STORE=big_store)
        for f in (files * (a.stored // len(files) + 1))[: a.stored]:
            spawn_time([cscert, "Import-CsCertificate", "-Path", os.path.join(a.certs, f), "-Force"],
                       big_env)
        open(marker, "w").close()
    empty_store = os.path.join(scratch, "empty-store")
    os.makedirs(empty_store, mode=0o700, exist_ok=True)
    one_argv = [cscert, "Test-CsCertificate", "-Path", one, "-XmppDomain", "contoso.com"]
    t_empty = median_time(one_argv, a.small, dict(env, CSCERT_STORE=empty_store), ok=(0, 3))
    t_full = median_time(one_argv, a.small, dict(env, CSCERT_STORE=big_store), ok=(0, 3))
    rows.append((f"Test-CsCertificate one.cer, empty store (N={a.small})", t_empty, None, None,
                 None))
    rows.append((f"Test-CsCertificate one.cer, {a.stored:,} stored (N={a.small})", t_full, None,
                 None, None))

    # 5. Update-CsCertificate -All with nothing due over 1,000 assigned certificates (it runs
    # every hour on every server).
    renv = renewal_store(cscert, openssl, work, a.renewals)
    t_upd = median_time([cscert, "Update-CsCertificate", "-All", "-Force"], a.small, renv)
    rows.append((f"Update-CsCertificate -All, {a.renewals:,} assigned, none due (N={a.small})",
                 t_upd, None, None, None))
    renewal_ms = t_upd * 1000

    # 7. Test-CsCertificate -Endpoint (scripts/bench.d/probe.py).
    sys.path.insert(0, here)
    import probe
    probe_rows, probe_notes = probe.rows(cscert, openssl, work, env, a.small, median_time)
    rows.extend(probe_rows)

    # 6. Start-up: the binary doing nothing but print its version, against spawning /bin/true.
    t_version = median_time([cscert, "--version"], a.small, env)
    t_true = median_time(["/bin/true"], a.small)
    rows.append((f"cscert --version (N={a.small})", t_version, None, None, None))
    rows.append((f"(process spawn: /bin/true, N={a.small})", t_true, None, None, None))

    # The table (rows of other helpers may stop before the certtool and python columns).
    rows = [tuple(r) + (None,) * (5 - len(r)) for r in rows]
    head = ("task", "cscert", "openssl", "certtool", "python", "openssl/cscert",
            "certtool/cscert", "python/cscert")
    body = [(r[0], fmt(r[1]), fmt(r[2]), fmt(r[3]), fmt(r[4]), ratio(r[2], r[1]),
             ratio(r[3], r[1]), ratio(r[4], r[1])) for r in rows]
    widths = [max(len(x[i]) for x in [head] + body) for i in range(len(head))]
    line = lambda cells: "| " + " | ".join(
        c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))) + " |"
    print(line(head))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for b in body:
        print(line(b))
    print()
    print(f"Notes: medians; Test-CsCertificate {a.runs} runs (stdout to /dev/null); the openssl "
          f"column for it is a per-file `openssl verify -CAfile` loop timed over {len(sample)} "
          f"of the {n:,} files (median of 3 passes) and scaled by {n / len(sample):g}; the python "
          f"column is one process loading all files with cryptography "
          f"(load_pem_x509_certificate + subject + SAN + the signature verified with the CA's "
          f"key). certtool's request is --generate-privkey then --generate-request. "
          f"Machine: {os.cpu_count()} cores.")
    print(f"Target for Update-CsCertificate -All over {a.renewals:,} certificates with nothing due: "
          f"< 50 ms: {renewal_ms:.1f} ms -> {'MET' if renewal_ms < 50 else 'MISSED'}.")
    t_cs, t_ossl, t_py = big
    verdict = lambda ok: "MET" if ok else "MISSED"
    print(f"Targets: {n:,} files <= 0.3 of Python doing the same work: "
          f"{t_cs / t_py:.2f} -> {verdict(t_cs <= 0.3 * t_py)}; "
          f"one file {a.stored:,} stored <= 2x an empty store: {t_full / t_empty:.2f} -> "
          f"{verdict(t_full <= 2 * t_empty)}", end="")
    if one_file[3]:
        print(f"; one-file inspect <= 0.8 of certtool: {one_file[1] / one_file[3]:.2f} -> "
              f"{verdict(one_file[1] <= 0.8 * one_file[3])}", end="")
    print(f"; --version costs {(t_version - t_true) * 1000:.1f} ms over /bin/true.")
    for note in probe_notes:
        print(note)

if __name__ == "__main__":
    main()
