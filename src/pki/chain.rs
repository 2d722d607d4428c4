//! Signatures and issuers: a certificate whose issuer is known (in its file, its chain, the
//! store, or the trusted roots given) must verify against it; with trusted roots, the chain
//! must also end at one of them.
//!
//! The walk goes from the leaf up: issuer candidates are the known certificates whose subject is
//! the certificate's issuer (and whose key identifier, when both carry one, matches); the first
//! whose key verifies the signature is the issuer. Signatures are checked with x509-parser's
//! `verify` (aws-lc). Time, EKU and name checks are other rules, so they are not mixed in here.

use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::FromDer;

/// What the walk found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainProblem {
    /// `subject`'s signature does not verify with the key of any known `issuer` of that name.
    BadSignature { subject: String, issuer: String },
    /// (trusted roots given) No certificate named `issuer` is known, so the chain stops at `last`.
    Incomplete { last: String, issuer: String },
    /// (trusted roots given) The chain ends at the self-signed `root`, which is not trusted.
    UntrustedRoot { root: String },
}

/// The result of a walk; `problems` is empty for a good chain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChainReport {
    pub problems: Vec<ChainProblem>,
    /// Whether any issuer was known at all (so a signature was really checked).
    pub issuer_checked: bool,
}

impl ChainReport {
    pub fn bad_signature(&self) -> bool {
        self.problems
            .iter()
            .any(|p| matches!(p, ChainProblem::BadSignature { .. }))
    }
}

/// The longest chain walked (leaf, intermediates, root).
const MAX_DEPTH: usize = 10;

fn parse(der: &[u8]) -> Option<X509Certificate<'_>> {
    X509Certificate::from_der(der).ok().map(|(_, c)| c)
}

fn key_ids(c: &X509Certificate<'_>) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    let mut aki = None;
    let mut ski = None;
    for e in c.extensions() {
        match e.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(a) => {
                aki = a.key_identifier.as_ref().map(|k| k.0.to_vec())
            }
            ParsedExtension::SubjectKeyIdentifier(k) => ski = Some(k.0.to_vec()),
            _ => {}
        }
    }
    (aki, ski)
}

fn name(c: &X509Certificate<'_>) -> String {
    crate::pki::dn::windows_dn(c.subject())
}

fn issuer_name(c: &X509Certificate<'_>) -> String {
    crate::pki::dn::windows_dn(c.issuer())
}

/// Walks from `leaf` up through `pool` (the file's other certificates, the chain, the store).
/// `anchors` are trusted roots: when given, the chain must reach one of them.
pub fn check(leaf: &[u8], pool: &[Vec<u8>], anchors: Option<&[Vec<u8>]>) -> ChainReport {
    let mut report = ChainReport::default();
    let Some(mut cur) = parse(leaf) else {
        return report;
    };
    let known: Vec<X509Certificate<'_>> = pool.iter().filter_map(|d| parse(d)).collect();
    let trusted: Vec<X509Certificate<'_>> = anchors
        .unwrap_or_default()
        .iter()
        .filter_map(|d| parse(d))
        .collect();
    let is_anchor = |c: &X509Certificate<'_>| {
        trusted.iter().any(|t| {
            t.subject().as_raw() == c.subject().as_raw() && t.public_key().raw == c.public_key().raw
        })
    };
    let mut seen: Vec<Vec<u8>> = Vec::new();
    for _ in 0..MAX_DEPTH {
        if anchors.is_some() && is_anchor(&cur) {
            return report;
        }
        seen.push(cur.as_ref().to_vec());
        let (aki, _) = key_ids(&cur);
        let self_signed = cur.subject().as_raw() == cur.issuer().as_raw();
        let candidates: Vec<&X509Certificate<'_>> = known
            .iter()
            .chain(trusted.iter())
            .filter(|c| c.subject().as_raw() == cur.issuer().as_raw())
            .filter(|c| match (&aki, key_ids(c).1) {
                (Some(a), Some(s)) => *a == s,
                _ => true,
            })
            .collect();
        if self_signed {
            report.issuer_checked = true;
            let own = cur.verify_signature(None).is_ok();
            let by_other = candidates
                .iter()
                .any(|c| cur.verify_signature(Some(c.public_key())).is_ok());
            if !own && !by_other {
                report.problems.push(ChainProblem::BadSignature {
                    subject: name(&cur),
                    issuer: issuer_name(&cur),
                });
            } else if anchors.is_some() && !is_anchor(&cur) {
                report
                    .problems
                    .push(ChainProblem::UntrustedRoot { root: name(&cur) });
            }
            return report;
        }
        if candidates.is_empty() {
            if anchors.is_some() {
                report.problems.push(ChainProblem::Incomplete {
                    last: name(&cur),
                    issuer: issuer_name(&cur),
                });
            }
            return report;
        }
        report.issuer_checked = true;
        let Some(next) = candidates
            .into_iter()
            .find(|c| cur.verify_signature(Some(c.public_key())).is_ok())
        else {
            report.problems.push(ChainProblem::BadSignature {
                subject: name(&cur),
                issuer: issuer_name(&cur),
            });
            return report;
        };
        if seen.iter().any(|s| s.as_slice() == next.as_ref()) {
            return report;
        }
        cur = next.clone();
    }
    report
}

/// The certificates (DER) in the bytes of a file: PEM blocks, one DER certificate, a PKCS#7
/// chain, or a PFX (opened with `password` or none). Used as issuers and trusted roots.
pub fn certificates_in(bytes: &[u8], password: Option<&str>) -> Vec<Vec<u8>> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        if text.contains("-----BEGIN ") {
            let mut out = Vec::new();
            if let Ok(blocks) = pem::parse_many(text) {
                for b in blocks {
                    match b.tag() {
                        "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => {
                            if super::p7b::looks_like_pkcs7(b.contents()) {
                                out.extend(super::p7b::read_p7b(b.contents()).unwrap_or_default());
                            } else {
                                out.push(b.contents().to_vec());
                            }
                        }
                        "PKCS7" => {
                            out.extend(super::p7b::read_p7b(b.contents()).unwrap_or_default())
                        }
                        _ => {}
                    }
                }
            }
            return out;
        }
    }
    if parse(bytes).is_some() {
        return vec![bytes.to_vec()];
    }
    if super::p7b::looks_like_pkcs7(bytes) {
        return super::p7b::read_p7b(bytes).unwrap_or_default();
    }
    match super::certfile::read_certificates(bytes, password) {
        Ok(l) => std::iter::once(l.leaf).chain(l.chain).collect(),
        Err(_) => Vec::new(),
    }
}
