//! Property/fuzz test (issue 10, "Kept fixed"): seeded random argv to the binder, and mutated
//! DER/PEM/PFX/PKCS#7/topology bytes to every parser. Asserts: no panic, exit codes 0-3,
//! bounded time per case, bounded memory (the binary runs under an address-space limit).
//!
//! `CSCERT_FUZZ_SEED=<n>` replays a run; `CSCERT_FUZZ_SCALE=<k>` multiplies the case counts.
//! The counts are printed (on the real stderr, so they show without `--nocapture`).

mod support;

use cscert::binder::bind;
use cscert::cmdlets::DEFS as CMDLETS;
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::{Duration, Instant};
use support::hardening::*;
use support::*;

fn seed() -> u64 {
    std::env::var("CSCERT_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_2026_1010)
}

fn scale() -> usize {
    std::env::var("CSCERT_FUZZ_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
}

/// Prints on the process's stderr (the test harness captures only the print macros).
fn report(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

const VALUES: &[&str] = &[
    "",
    " ",
    "0",
    "1",
    "-1",
    "2048",
    "4096",
    "2147483647",
    "2147483648",
    "-2147483649",
    "99999999999999999999",
    "3000000",
    "$true",
    "$false",
    "True",
    "NaN",
    "Infinity",
    "1e309",
    "Default",
    "AccessEdgeExternal,DataEdgeExternal",
    "Default,,",
    ",Default",
    "'a','b'",
    "\"a\",\"b\"",
    "Bogus",
    "ECDH_P256",
    "RSA",
    "Pem",
    "Pfx",
    "Global",
    "service:Registrar:fe",
    "fe.contoso.com",
    "*.contoso.com",
    "xn--",
    "a..b",
    "01/01/70",
    "13/45/2026",
    "2026-02-30",
    "+10000-01-01T00:00:00Z",
    "-0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "2016-12-31T23:59:60Z",
    "7/22/2012 6:00:00 AM",
    "System.Security.SecureString",
    "--",
    "-",
    ",",
    ":",
    "-Type",
    "-?",
    "\u{2013}Type",
    "\u{200e}AB",
    "\n",
    "\u{0}",
    "\u{7f}",
    "é",
    "x.req",
    "out/x.req",
    ".",
    "/dev/null",
    "nope.pfx",
    "A7C6B5A4E3D2C1B0A9F8E7D6C5B4A3F2E1D0C9B8",
];

/// A random argv for `cmdlet`: its own parameters (any case, prefixes, dashes, `:value`),
/// common parameters, stray values and separators.
fn argv(rng: &mut Rng, cmdlet: &cscert::binder::CmdletDef) -> Vec<String> {
    let commons = [
        "Verbose",
        "Debug",
        "WhatIf",
        "Confirm",
        "ErrorAction",
        "WarningAction",
        "OutVariable",
        "Force",
        "Password",
        "CaPassword",
    ];
    let n = rng.below(8);
    let mut out = Vec::with_capacity(n * 2);
    for _ in 0..n {
        let name: String = if !cmdlet.params.is_empty() && !rng.chance(4) {
            rng.pick(cmdlet.params).name.to_string()
        } else {
            rng.pick(&commons).to_string()
        };
        let name = match rng.below(5) {
            0 => name.to_ascii_lowercase(),
            1 => name[..1 + rng.below(name.len())].to_string(),
            2 => name.to_ascii_uppercase(),
            _ => name,
        };
        let dash = *rng.pick(&["-", "-", "-", "\u{2013}", "\u{2014}"]);
        let value = if rng.chance(20) {
            "L".repeat(10_000 + rng.below(50_000))
        } else {
            rng.pick(VALUES).to_string()
        };
        match rng.below(6) {
            0 => out.push(format!("{dash}{name}")),
            1 => out.push(format!("{dash}{name}:{value}")),
            2 => {
                out.push(format!("{dash}{name}:"));
                out.push(value);
            }
            _ => {
                out.push(format!("{dash}{name}"));
                out.push(value);
            }
        }
        if rng.chance(6) {
            out.push(rng.pick(VALUES).to_string());
        }
    }
    out
}

#[test]
fn fuzz_binder_with_random_argv() {
    let mut rng = Rng(seed());
    let cases = 20_000 * scale();
    let start = Instant::now();
    let mut errors = 0usize;
    for i in 0..cases {
        let cmdlet = rng.pick(CMDLETS);
        let args = argv(&mut rng, cmdlet);
        let t = Instant::now();
        let r = catch_unwind(AssertUnwindSafe(|| bind(cmdlet, &args)));
        let bound = r.unwrap_or_else(|_| {
            panic!("case {i}: the binder panicked on {} {args:?}", cmdlet.name)
        });
        match bound {
            Ok(b) => {
                // A secret never reaches the debug trace: it is shown masked.
                let trace = b.to_json();
                for (n, v) in &b.values {
                    let secret = cmdlet
                        .param(n)
                        .is_some_and(|p| p.ty == cscert::binder::table::PType::Password);
                    if let (true, cscert::binder::Value::Str(_)) = (secret, v) {
                        assert_eq!(
                            trace["Parameters"][n], "********",
                            "case {i}: {n} in the trace"
                        );
                    }
                }
            }
            Err(e) => {
                errors += 1;
                assert!(
                    (0..=3).contains(&(e.exit as i32)),
                    "case {i}: exit {:?}",
                    e.exit
                );
                assert!(
                    e.message.len() < 200_000,
                    "case {i}: a message of {} bytes",
                    e.message.len()
                );
            }
        }
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "case {i}: {args:?} took {:?}",
            t.elapsed()
        );
    }
    report(&format!(
        "fuzz: binder: {cases} random argv vectors ({errors} binding errors) in {:.2} s, seed {}",
        start.elapsed().as_secs_f64(),
        seed()
    ));
}

// ---------------------------------------------------------------- mutated files

fn mutate(rng: &mut Rng, seed: &[u8], others: &[Vec<u8>]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        if b.is_empty() {
            b.push(0x30);
        }
        let at = rng.below(b.len());
        match rng.below(10) {
            0 => b[at] ^= 1 << rng.below(8),
            1 => b[at] = *rng.pick(&[0x00, 0xff, 0x80, 0x7f, 0x30, 0x82, 0x84, 0x02, 0x06]),
            2 => b.truncate(at),
            3 => {
                let n = 1 + rng.below(16);
                let extra: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                b.splice(at..at, extra);
            }
            4 => {
                let end = (at + 1 + rng.below(64)).min(b.len());
                b.drain(at..end);
            }
            5 => {
                let end = (at + 1 + rng.below(256)).min(b.len());
                let dup = b[at..end].to_vec();
                b.splice(at..at, dup);
            }
            6 => {
                // A DER length made huge or inconsistent.
                if let Some(p) = b[at..].iter().position(|&c| c == 0x82 || c == 0x81) {
                    let p = at + p;
                    if p + 1 < b.len() {
                        b[p + 1] = rng.next() as u8;
                    }
                }
            }
            7 => {
                let o = rng.pick(others);
                let cut = rng.below(o.len());
                b.truncate(at);
                b.extend_from_slice(&o[cut..]);
            }
            8 => {
                // PEM-level damage: a byte that is not base64, or a broken marker.
                b[at] = *rng.pick(b"-=!\nA/");
            }
            _ => b.reverse(),
        }
    }
    b
}

/// Seeds for the parsers: a CA, a leaf, PEM/DER forms, a chain, a PKCS#7 and a PFX (openssl).
fn corpus(h: &H) -> Option<Vec<(&'static str, Vec<u8>)>> {
    if !require("fuzz of certificate parsers", &["openssl"]) {
        return None;
    }
    let ca = h.ca("ca", 3650);
    let d = h.dir.path();
    openssl(d, &["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-noenc",
        "-keyout", "leaf.key", "-subj", "/CN=fe.contoso.com", "-addext",
        "subjectAltName=DNS:fe.contoso.com,DNS:sip.contoso.com,otherName:1.3.6.1.5.5.7.8.5;UTF8:contoso.com",
        "-out", "leaf.csr"]);
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            &format!("{ca}/ca.crt"),
            "-CAkey",
            &format!("{ca}/ca.key"),
            "-CAcreateserial",
            "-days",
            "30",
            "-copy_extensions",
            "copy",
            "-out",
            "leaf.crt",
        ],
    );
    openssl(
        d,
        &[
            "x509", "-in", "leaf.crt", "-outform", "DER", "-out", "leaf.der",
        ],
    );
    openssl(
        d,
        &[
            "req",
            "-in",
            "leaf.csr",
            "-outform",
            "DER",
            "-out",
            "leaf.csr.der",
        ],
    );
    let mut chain = std::fs::read(h.path("leaf.crt")).unwrap();
    chain.extend(std::fs::read(format!("{ca}/ca.crt")).unwrap());
    std::fs::write(h.path("chain.pem"), &chain).unwrap();
    openssl(
        d,
        &[
            "crl2pkcs7",
            "-nocrl",
            "-certfile",
            "chain.pem",
            "-outform",
            "DER",
            "-out",
            "chain.p7b",
        ],
    );
    // One iteration: thousands of PFX cases stay fast (the iteration count is fuzzed too).
    openssl(
        d,
        &[
            "pkcs12",
            "-export",
            "-in",
            "leaf.crt",
            "-inkey",
            "leaf.key",
            "-certfile",
            &format!("{ca}/ca.crt"),
            "-iter",
            "1",
            "-out",
            "leaf.pfx",
            "-passout",
            "pass:pw",
        ],
    );
    let read = |n: &str| std::fs::read(h.path(n)).unwrap();
    Some(vec![
        ("pem", read("leaf.crt")),
        ("der", read("leaf.der")),
        ("csr", read("leaf.csr")),
        ("csr-der", read("leaf.csr.der")),
        ("chain", read("chain.pem")),
        ("p7b", read("chain.p7b")),
        ("pfx", read("leaf.pfx")),
        ("key+cert", [read("leaf.key"), read("leaf.crt")].concat()),
    ])
}

fn topology_seeds() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/topology");
    let mut v: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| {
            e.path()
                .extension()
                .is_some_and(|x| x == "xml" || x == "tbxml")
        })
        .map(|e| std::fs::read(e.path()).unwrap())
        .collect();
    v.sort();
    v
}

/// Runs one parser on one input: no panic, and within `limit`.
fn run_parser(name: &str, i: usize, input: &[u8], limit: Duration, f: impl FnOnce(&[u8])) {
    let t = Instant::now();
    if catch_unwind(AssertUnwindSafe(|| f(input))).is_err() {
        let path = std::env::temp_dir().join(format!("cscert-fuzz-{name}-{i}.bin"));
        let _ = std::fs::write(&path, input);
        panic!(
            "{name} case {i} panicked; input saved to {}",
            path.display()
        );
    }
    assert!(
        t.elapsed() < limit,
        "{name} case {i} took {:?}",
        t.elapsed()
    );
}

#[test]
fn fuzz_parsers_with_mutated_files() {
    use cscert::pki::{certfile, chain, inspect, p7b, pfx};
    let h = H::new();
    let Some(seeds) = corpus(&h) else { return };
    let topo = topology_seeds();
    let all: Vec<Vec<u8>> = seeds.iter().map(|(_, b)| b.clone()).collect();
    let mut rng = Rng(seed() ^ 0xf11e);
    let cases = 6_000 * scale();
    let limit = Duration::from_secs(3);
    let start = Instant::now();
    let mut per_kind = std::collections::BTreeMap::<&str, usize>::new();
    for i in 0..cases {
        let (kind, seed_bytes) = rng.pick(&seeds);
        let input = mutate(&mut rng, seed_bytes, &all);
        *per_kind.entry(kind).or_default() += 1;
        run_parser("inspect_bytes", i, &input, limit, |b| {
            let _ = inspect::inspect_bytes(b);
        });
        run_parser("read_certificates", i, &input, limit, |b| {
            let _ = certfile::read_certificates(b, Some("pw"));
            let _ = certfile::read_certificates(b, None);
        });
        if *kind == "p7b" || *kind == "pfx" {
            run_parser("read_p7b/read_pfx", i, &input, limit, |b| {
                let _ = p7b::read_p7b(b);
                let _ = pfx::read_pfx(b, "pw");
            });
        }
        run_parser("chain", i, &input, limit, |b| {
            let certs = certfile::certificates_in(b, Some("pw"));
            if let Some(leaf) = certs.first() {
                let _ = chain::check(leaf, &certs, Some(&all));
            }
            let _ = pfx::is_encrypted_pkcs8(b);
            let _ = pfx::decrypt_pkcs8_der(b, "pw");
        });
    }
    let tcases = 3_000 * scale();
    for i in 0..tcases {
        let seed_bytes = rng.pick(&topo);
        let mut input = mutate(&mut rng, seed_bytes, &topo);
        if rng.chance(3) {
            // Text-level damage where it matters to XML: markup characters.
            let at = rng.below(input.len().max(1));
            const JUNK: &[&[u8]] = &[
                b"<",
                b"&",
                b"\"",
                b"'",
                b"<!--",
                b"]]>",
                b"&amp;",
                b"<x a='1' a='2'/>",
                b"\xc3",
            ];
            let junk = rng.pick(JUNK);
            input.splice(
                at.min(input.len())..at.min(input.len()),
                junk.iter().copied(),
            );
        }
        run_parser("topology", i, &input, limit, |b| {
            if let Ok(text) = std::str::from_utf8(b) {
                if let Ok(t) = cscert::topology::parse(text) {
                    let _ = t.summary();
                    for u in [
                        cscert::model::CertType::Default,
                        cscert::model::CertType::AccessEdgeExternal,
                    ] {
                        let _ =
                            cscert::topology::compute_names(&t, "fe.contoso.com", &[u], true, &[]);
                    }
                }
            }
        });
    }
    report(&format!(
        "fuzz: parsers: {cases} mutated certificate files {per_kind:?} and {tcases} mutated topologies in {:.2} s, seed {}",
        start.elapsed().as_secs_f64(),
        seed()
    ));
}

// ---------------------------------------------------------------- through the binary

/// The binary under an address-space limit (bounded memory) and a wall-clock limit.
fn run_bounded(h: &H, args: &[String], env: &[(&str, &str)]) -> (i32, String) {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut c = h.command(&refs);
    for (k, v) in env {
        c.env(k, v);
    }
    c.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    #[cfg(unix)]
    unsafe {
        use std::os::unix::process::CommandExt;
        c.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: 4 << 30,
                rlim_max: 4 << 30,
            };
            libc::setrlimit(libc::RLIMIT_AS, &lim);
            Ok(())
        });
    }
    let mut child = c.spawn().expect("cscert runs");
    // stderr is drained meanwhile: a long error message must not fill the pipe.
    let mut pipe = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut err = String::new();
        use std::io::Read;
        let _ = pipe.read_to_string(&mut err);
        err
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            let err = reader.join().unwrap();
            let code = st
                .code()
                .unwrap_or_else(|| panic!("cscert {args:?} died by a signal: {st:?}\n{err}"));
            return (code, err);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("cscert {args:?} did not finish in 30 s");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn fuzz_the_binary_with_random_argv_and_files() {
    let h = H::new();
    let seeds = corpus(&h).unwrap_or_default();
    let all: Vec<Vec<u8>> = seeds.iter().map(|(_, b)| b.clone()).collect();
    let topo = topology_seeds();
    let mut rng = Rng(seed() ^ 0xb1);
    let cases = 600 * scale();
    let start = Instant::now();
    let mut codes = [0usize; 4];
    for i in 0..cases {
        let (args, env): (Vec<String>, Vec<(&str, &str)>) = match rng.below(4) {
            0 if !all.is_empty() => {
                let base = rng.pick(&all).clone();
                let input = mutate(&mut rng, &base, &all);
                std::fs::write(h.path("in.bin"), &input).unwrap();
                let cmd = rng.pick(&["Import-CsCertificate", "Test-CsCertificate"]);
                (
                    vec![
                        cmd.to_string(),
                        "-Path".into(),
                        h.p("in.bin"),
                        "-Password".into(),
                        "pw".into(),
                    ],
                    vec![],
                )
            }
            1 => {
                let base = rng.pick(&topo).clone();
                let input = mutate(&mut rng, &base, &topo);
                std::fs::write(h.path("topo.xml"), &input).unwrap();
                (
                    vec![
                        "Publish-CsTopology".into(),
                        "-FileName".into(),
                        h.p("topo.xml"),
                        "-Force".into(),
                    ],
                    vec![],
                )
            }
            _ => {
                let cmdlet = rng.pick(CMDLETS);
                let mut a = vec![cmdlet.name.to_string()];
                // Keep random runs cheap: an RSA key is made at most with the default size.
                // (An OS argv cannot hold NUL.)
                a.extend(
                    argv(&mut rng, cmdlet)
                        .into_iter()
                        .filter(|x| !x.contains("4096") && !x.contains('\0')),
                );
                let now = *rng.pick(&[
                    "",
                    "2026-01-01T00:00:00Z",
                    "+10000-01-01T00:00:00Z",
                    "garbage",
                ]);
                (a, vec![("CSCERT_NOW", now)])
            }
        };
        let (code, err) = run_bounded(&h, &args, &env);
        assert!(
            (0..=3).contains(&code),
            "case {i}: exit {code} for {args:?}\n{err}"
        );
        assert!(!err.contains("panicked"), "case {i}: {args:?}\n{err}");
        codes[code as usize] += 1;
    }
    report(&format!(
        "fuzz: binary: {cases} runs (exit 0/1/2/3: {codes:?}) in {:.2} s, seed {}",
        start.elapsed().as_secs_f64(),
        seed()
    ));
}
