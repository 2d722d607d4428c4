//! The Edge roll end to end: every sequence of up to three of {Set, Set -Roll with a future date,
//! Remove, Remove -Previous} on one use, checked against a model after every step. A use that
//! Get-CsCertificate shows always has a certificate in service, except the one allowed gap (a
//! first -Roll), which warns and which Test-CsCertificateConfiguration reports; Remove acts on
//! what Get shows, and what is refused changes nothing.

mod support;

use chrono::Duration;
use support::lifecycle::*;
use support::*;

const USE: &str = "AccessEdgeExternal";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Set,
    Roll,
    Remove,
    RemovePrevious,
}

const OPS: [Op; 4] = [Op::Set, Op::Roll, Op::Remove, Op::RemovePrevious];

/// What Lync's two copies per use plus a staged roll should hold.
#[derive(Clone, Debug, Default, PartialEq)]
struct Model {
    current: Option<String>,
    previous: Option<String>,
    staged: Option<String>,
}

impl Model {
    /// Applies `op` (with `cert` for the Sets); `Err(error id)` when it must be refused, and then
    /// the model is unchanged.
    fn apply(&mut self, op: Op, cert: &str) -> Result<(), &'static str> {
        match op {
            Op::Set => {
                self.previous = self.current.replace(cert.to_string());
                self.staged = None;
            }
            Op::Roll => {
                self.previous = None;
                self.staged = Some(cert.to_string());
            }
            Op::Remove if self.staged.is_some() => self.staged = None,
            Op::Remove if self.current.is_some() => {
                (self.current, self.previous) = (None, None);
            }
            Op::Remove => return Err("NoCertificateAssigned"),
            Op::RemovePrevious if self.staged.is_some() && self.current.is_some() => {
                return Err("PreviousStillServing")
            }
            Op::RemovePrevious if self.staged.is_none() && self.previous.is_some() => {
                self.previous = None
            }
            Op::RemovePrevious => return Err("NoPreviousCertificate"),
        }
        Ok(())
    }

    /// What Get-CsCertificate shows: (Thumbprint, PreviousThumbprint).
    fn shown(&self) -> Option<(String, Option<String>)> {
        match (&self.staged, &self.current) {
            (Some(s), cur) => Some((s.clone(), cur.clone())),
            (None, Some(c)) => Some((c.clone(), self.previous.clone())),
            (None, None) => None,
        }
    }
}

/// Copies every file of the store folder `from` over `to` (no process has the store open).
fn copy_store(from: &std::path::Path, to: &std::path::Path) {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o700)).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

struct Roll {
    lab: Lab,
    now: String,
    effective: String,
    certs: Vec<String>,
}

impl Roll {
    fn new() -> Roll {
        let lab = Lab::new();
        let ca = lab.make_ca("ca", "Contoso Edge Test CA", 3650);
        let t0 = epoch_after(&lab, &ca);
        let now = fmt_date(t0 + Duration::days(1));
        let certs = (0..3)
            .map(|_| lab.issue(&ca, &fmt_date(t0), USE, Some(365)))
            .collect();
        Roll {
            lab,
            now,
            effective: fmt_date(t0 + Duration::days(8)),
            certs,
        }
    }

    fn run(&self, op: Op, cert: &str, extra: &[&str]) -> Run {
        let mut args = match op {
            Op::Set | Op::Roll => vec!["Set-CsCertificate", "-Type", USE, "-Thumbprint", cert],
            Op::Remove | Op::RemovePrevious => vec!["Remove-CsCertificate", "-Type", USE, "-Force"],
        };
        match op {
            Op::Roll => args.extend(["-Roll", "-EffectiveDate", &self.effective]),
            Op::RemovePrevious => args.push("-Previous"),
            _ => {}
        }
        args.extend_from_slice(extra);
        self.lab.run_at(&self.now, &args)
    }

    fn shown(&self) -> Option<(String, Option<String>)> {
        let g = self.lab.get_at(&self.now, &["-Type", USE]);
        assert!(g.len() <= 1, "one object per use: {g:?}");
        g.first()
            .map(|a| (a.thumbprint.clone(), a.previous_thumbprint.clone()))
    }

    /// Test-CsCertificateConfiguration: the certificate in service, or the gap it reports.
    fn check_service(&self, m: &Model, ctx: &str) {
        let r = self
            .lab
            .run_at(&self.now, &["Test-CsCertificateConfiguration"]);
        match (&m.current, &m.staged) {
            (Some(cur), _) => {
                r.assert_code(0);
                let o: InOrder = r.one();
                assert_eq!((&o.thumbprint, o.use_name.as_str()), (cur, USE), "{ctx}");
            }
            (None, Some(staged)) => {
                assert_eq!(r.code, 3, "{ctx}: {}", r.stderr);
                let e = r.error();
                assert_eq!(
                    e.fully_qualified_error_id, "NothingInService,Test-CsCertificateConfiguration",
                    "{ctx}"
                );
                assert!(
                    e.message.contains("Nothing is in service") && e.message.contains(USE),
                    "{ctx}: {}",
                    e.message
                );
                assert_eq!(e.target_object.as_deref(), Some(staged.as_str()), "{ctx}");
            }
            (None, None) => {
                r.assert_code(0);
                assert_eq!(r.stdout, "", "{ctx}");
            }
        }
    }

    /// One step: the Remove's -WhatIf names what Get shows; the op does what the model says
    /// (or is refused with the model's error and changes nothing); then Get and the
    /// configuration test agree with the model.
    fn step(&self, m: &mut Model, op: Op, cert: &str, ctx: &str) {
        let before = self.shown();
        assert_eq!(before, m.shown(), "{ctx}: Get before");
        if let (Op::Remove, Some((shown, _))) = (op, &before) {
            let w = self.run(op, cert, &["-WhatIf"]);
            w.assert_code(0);
            assert!(w.both().contains(shown.as_str()), "{ctx}: {}", w.both());
            assert_eq!(self.shown(), before, "{ctx}: -WhatIf changed nothing");
        }
        let had_current = m.current.is_some();
        let r = self.run(op, cert, &["-Verbose"]);
        match m.apply(op, cert) {
            Ok(()) => {
                r.assert_code(0);
                if let (Op::Remove, Some((shown, _))) = (op, &before) {
                    assert!(r.stderr.contains(shown.as_str()), "{ctx}: {}", r.stderr);
                }
                let warned = r.stderr.contains("Nothing is in service");
                assert_eq!(
                    warned,
                    op == Op::Roll && !had_current,
                    "{ctx}: the first-roll warning: {}",
                    r.stderr
                );
            }
            Err(id) => {
                assert_eq!(r.code, 1, "{ctx}: {}", r.stderr);
                let e = r.error();
                assert_eq!(
                    e.fully_qualified_error_id,
                    format!("{id},Remove-CsCertificate"),
                    "{ctx}"
                );
                if id == "PreviousStillServing" {
                    // The two ways out: cancel the roll, or put the staged one in service now.
                    let staged = m.staged.as_deref().unwrap();
                    assert!(
                        e.message.contains("cancel the staged roll")
                            && e.message.contains(&format!(
                                "Set-CsCertificate -Type {USE} -Thumbprint {staged}"
                            )),
                        "{ctx}: {}",
                        e.message
                    );
                }
                assert_eq!(self.shown(), before, "{ctx}: a refusal changes nothing");
            }
        }
        assert_eq!(self.shown(), m.shown(), "{ctx}: Get after");
        self.check_service(m, ctx);
    }
}

#[test]
fn every_short_sequence_of_sets_rolls_and_removes_keeps_a_certificate_in_service_or_is_refused() {
    let roll = Roll::new();
    let snapshot = roll.lab.path("store-snapshot");
    copy_store(&roll.lab.store(), &snapshot);
    let mut sequences = 0;
    for a in OPS {
        for b in OPS {
            for c in OPS {
                copy_store(&snapshot, &roll.lab.store());
                let mut m = Model::default();
                let seq = [a, b, c];
                for (i, op) in seq.iter().enumerate() {
                    let ctx = format!("{:?} step {}", seq, i + 1);
                    roll.step(&mut m, *op, &roll.certs[i], &ctx);
                }
                sequences += 1;
            }
        }
    }
    assert_eq!(sequences, 64);
}

#[test]
fn cancelling_a_staged_roll_keeps_the_serving_certificate() {
    let roll = Roll::new();
    let (a, b, c) = (&roll.certs[0], &roll.certs[1], &roll.certs[2]);
    let mut m = Model::default();
    roll.step(&mut m, Op::Set, a, "set A");
    roll.step(&mut m, Op::Set, b, "set B");
    roll.step(&mut m, Op::Roll, c, "roll C");
    roll.step(&mut m, Op::Remove, c, "cancel C");
    // B serves (A went when C was staged: two copies per use); the cancel took C only.
    assert_eq!(roll.shown(), Some((b.clone(), None)));
    // After the staged date passes nothing was staged: B still serves.
    let later = roll.lab.get_at(
        &fmt_date(parse_date(&roll.effective) + Duration::days(1)),
        &[],
    );
    assert_eq!(later[0].thumbprint, *b);
}
