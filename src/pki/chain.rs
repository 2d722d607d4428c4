//! Signatures and issuers: a certificate whose issuer is known (in its file, its chain, the
//! store, or the trusted roots given) must verify against it; with trusted roots, the chain
//! must also end at one of them.
//!
//! The walk goes from the leaf up: issuer candidates are the known certificates whose subject is
//! the certificate's issuer (and whose key identifier, when both carry one, matches); the first
//! whose key verifies the signature is the issuer. Signatures are checked with x509-parser's
//! `verify` (aws-lc). Time, EKU and name checks are other rules, so they are not mixed in here.
//!
//! Also the ordering of a file's certificates into leaf + issuer chain ([`assemble`]) and the
//! issuer / key-identifier matching both use. A leaf module below `certfile`, `p7b` and `pfx`:
//! it imports only `der` and `dn`.

use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::FromDer;

use super::der::public_key_of_pkcs8;
use super::dn::windows_dn;

/// What the walk found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainProblem {
    /// `subject`'s signature does not verify with the key of any known `issuer` of that name.
    BadSignature { subject: String, issuer: String },
    /// (trusted roots given) No certificate named `issuer` is known, so the chain stops at `last`.
    Incomplete { last: String, issuer: String },
    /// (trusted roots given) The chain ends at the self-signed `root`, which is not trusted.
    UntrustedRoot { root: String },
    /// (no trusted roots given) No certificate named `issuer` is known, not even to the system's
    /// trust store: the signature of `last` was not verified.
    IssuerUnknown { last: String, issuer: String },
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
pub const MAX_DEPTH: usize = 10;

fn parse(der: &[u8]) -> Option<X509Certificate<'_>> {
    X509Certificate::from_der(der).ok().map(|(_, c)| c)
}

fn name(c: &X509Certificate<'_>) -> String {
    windows_dn(c.subject())
}

fn issuer_name(c: &X509Certificate<'_>) -> String {
    windows_dn(c.issuer())
}

/// The certificates a trust store outside the walk knows by subject (the system's; see
/// `pki::system_roots`), asked only when nothing closer names the issuer.
pub type Fallback<'f> = &'f dyn Fn(&[u8]) -> Vec<&'static [u8]>;

/// [`check_with`] without a fallback trust store.
pub fn check(leaf: &[u8], pool: &[Vec<u8>], anchors: Option<&[Vec<u8>]>) -> ChainReport {
    check_with(leaf, pool, anchors, &|_| Vec::new())
}

/// Walks from `leaf` up through `pool` (the file's other certificates, the chain, the store).
/// `anchors` are trusted roots: when given, the chain must reach one of them. Without them, an
/// issuer that nothing in `pool` names is looked up in `fallback`; when that does not know it
/// either, the walk reports [`ChainProblem::IssuerUnknown`] (the signature was not verified).
pub fn check_with(
    leaf: &[u8],
    pool: &[Vec<u8>],
    anchors: Option<&[Vec<u8>]>,
    fallback: Fallback<'_>,
) -> ChainReport {
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
        let aki = authority_key_id(&cur);
        let self_signed = cur.subject().as_raw() == cur.issuer().as_raw();
        let candidates: Vec<&X509Certificate<'_>> = known
            .iter()
            .chain(trusted.iter())
            .filter(|c| c.subject().as_raw() == cur.issuer().as_raw())
            .filter(|c| match (aki, subject_key_id(c)) {
                (Some(a), Some(s)) => a == s,
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
            } else {
                check_against(&cur, fallback(cur.issuer().as_raw()), &mut report);
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

/// The end of a walk without trusted roots: `cur`'s issuer is known only to the fallback store
/// (`found`), or to nothing at all.
fn check_against(cur: &X509Certificate<'_>, found: Vec<&'static [u8]>, report: &mut ChainReport) {
    let aki = authority_key_id(cur);
    let issuers: Vec<X509Certificate<'static>> = found
        .into_iter()
        .filter_map(parse)
        .filter(|c| match (aki, subject_key_id(c)) {
            (Some(a), Some(s)) => a == s,
            _ => true,
        })
        .collect();
    if issuers.is_empty() {
        report.problems.push(ChainProblem::IssuerUnknown {
            last: name(cur),
            issuer: issuer_name(cur),
        });
        return;
    }
    report.issuer_checked = true;
    if !issuers
        .iter()
        .any(|c| cur.verify_signature(Some(c.public_key())).is_ok())
    {
        report.problems.push(ChainProblem::BadSignature {
            subject: name(cur),
            issuer: issuer_name(cur),
        });
    }
}

/// A file's certificates put in order: the end-entity certificate and its issuers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ordered {
    /// DER of the end-entity certificate.
    pub leaf: Vec<u8>,
    /// DER of the other certificates, issuer order (leaf's issuer first); unrelated extras follow.
    pub chain: Vec<Vec<u8>>,
}

/// Why a set of certificates could not be put in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderError {
    /// A certificate is not valid X.509; the text is the parser's.
    InvalidCertificate(String),
    /// The set is empty.
    NoCertificate,
    /// The key given is not a valid PKCS#8 key.
    InvalidKey,
    /// The key belongs to none of the certificates.
    KeyDoesNotMatch,
    /// Several end-entity certificates (the count), so the leaf is not defined.
    AmbiguousLeaf(usize),
}

/// Orders a set of certificates into leaf + issuer chain (duplicates dropped).
///
/// The leaf is the certificate whose public key matches `key` (PKCS#8 DER); without a key, the
/// one that issued none of the others (preferring non-CA certificates).
pub fn assemble(certs: Vec<Vec<u8>>, key: Option<&[u8]>) -> Result<Ordered, OrderError> {
    let mut unique: Vec<Vec<u8>> = Vec::with_capacity(certs.len());
    for c in certs {
        if !unique.contains(&c) {
            unique.push(c);
        }
    }
    let parsed: Vec<X509Certificate<'_>> = unique
        .iter()
        .map(|der| {
            x509_parser::parse_x509_certificate(der)
                .map(|(_, c)| c)
                .map_err(|e| OrderError::InvalidCertificate(e.to_string()))
        })
        .collect::<Result<_, _>>()?;
    if parsed.is_empty() {
        return Err(OrderError::NoCertificate);
    }

    let leaf_index = match key {
        Some(k) => {
            let public = public_key_of_pkcs8(k).ok_or(OrderError::InvalidKey)?;
            parsed
                .iter()
                .position(|c| *c.public_key().subject_public_key.data == public[..])
                .ok_or(OrderError::KeyDoesNotMatch)?
        }
        None => {
            let candidates: Vec<usize> = (0..parsed.len())
                .filter(|&i| {
                    !parsed
                        .iter()
                        .enumerate()
                        .any(|(j, other)| j != i && issued_by(other, &parsed[i]))
                })
                .collect();
            let end_entities: Vec<usize> = candidates
                .iter()
                .copied()
                .filter(|&i| !parsed[i].is_ca())
                .collect();
            match (end_entities.len(), candidates.len()) {
                (1, _) => end_entities[0],
                (0, 1) => candidates[0],
                (0, 0) => 0, // a cycle (cross-signed pair): keep file order
                (0, n) | (n, _) => return Err(OrderError::AmbiguousLeaf(n)),
            }
        }
    };

    let order = issuer_order(&parsed, leaf_index);
    let mut ders = order.iter().map(|&i| unique[i].clone());
    let leaf = ders.next().unwrap_or_default();
    Ok(Ordered {
        leaf,
        chain: ders.collect(),
    })
}

/// `start`, then its issuer, that one's issuer, ... among `parsed`; the rest in given order.
pub(crate) fn issuer_order(parsed: &[X509Certificate<'_>], start: usize) -> Vec<usize> {
    let mut order = vec![start];
    let mut current = start;
    while let Some(next) = (0..parsed.len())
        .filter(|i| !order.contains(i))
        .find(|&i| issued_by(&parsed[current], &parsed[i]))
    {
        order.push(next);
        current = next;
    }
    let rest: Vec<usize> = (0..parsed.len()).filter(|i| !order.contains(i)).collect();
    order.extend(rest);
    order
}

/// Whether `issuer` is the issuer of `cert`: names match, key identifiers match when both
/// are present, and the signature verifies (names alone confuse a renewed CA, or two
/// self-signed certificates that happen to share a subject).
pub(crate) fn issued_by(cert: &X509Certificate<'_>, issuer: &X509Certificate<'_>) -> bool {
    if cert.issuer().as_raw() != issuer.subject().as_raw() || cert.as_raw() == issuer.as_raw() {
        return false;
    }
    if let (Some(aki), Some(ski)) = (authority_key_id(cert), subject_key_id(issuer)) {
        if aki != ski {
            return false;
        }
    }
    cert.verify_signature(Some(issuer.public_key())).is_ok()
}

/// The subjectKeyIdentifier, if the certificate has one.
pub(crate) fn subject_key_id<'a>(cert: &'a X509Certificate<'_>) -> Option<&'a [u8]> {
    cert.iter_extensions()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(k) => Some(k.0),
            _ => None,
        })
}

/// The raw DER of a certificate's subject and issuer names, the keys issuers are looked up by.
pub fn subject_and_issuer(der: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let c = parse(der)?;
    Some((c.subject().as_raw().to_vec(), c.issuer().as_raw().to_vec()))
}

/// The keyIdentifier of the authorityKeyIdentifier, if the certificate has one.
pub(crate) fn authority_key_id<'a>(cert: &'a X509Certificate<'_>) -> Option<&'a [u8]> {
    cert.iter_extensions()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(a) => a.key_identifier.as_ref().map(|k| k.0),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, DnType, IsCa, Issuer, KeyPair};

    /// A CA named `cn` (its DER and its issuer handle, to sign leaves with).
    fn ca(cn: &str) -> (Vec<u8>, Issuer<'static, KeyPair>) {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(DnType::CommonName, cn);
        p.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let der = p.self_signed(&key).unwrap().der().to_vec();
        (der, Issuer::new(p, key))
    }

    fn leaf(issuer: &Issuer<'static, KeyPair>) -> Vec<u8> {
        let key = KeyPair::generate().unwrap();
        let p = CertificateParams::new(vec!["sip.contoso.com".to_string()]).unwrap();
        p.signed_by(&key, issuer).unwrap().der().to_vec()
    }

    /// The same certificate with one bit of its signature value flipped.
    fn tampered(der: &[u8]) -> Vec<u8> {
        let mut d = der.to_vec();
        let last = d.len() - 3;
        d[last] ^= 0x01;
        d
    }

    #[test]
    fn a_self_signed_certificate_must_verify_with_its_own_key() {
        let (root, _) = ca("Contoso Root");
        assert_eq!(
            check(&root, &[], None),
            ChainReport {
                problems: vec![],
                issuer_checked: true
            }
        );
        let report = check(&tampered(&root), &[], None);
        assert!(report.bad_signature(), "{report:?}");
        // Another certificate of the same name does not vouch for it either.
        let (other, _) = ca("Contoso Root");
        let report = check(&tampered(&root), &[other], None);
        assert!(report.bad_signature(), "{report:?}");
    }

    #[test]
    fn a_leaf_verifies_against_its_known_issuer_and_a_tampered_one_does_not() {
        let (root, issuer) = ca("Contoso Root");
        let good = leaf(&issuer);
        assert!(check(&good, std::slice::from_ref(&root), None)
            .problems
            .is_empty());
        let report = check(&tampered(&good), std::slice::from_ref(&root), None);
        assert!(report.bad_signature(), "{report:?}");
    }

    #[test]
    fn an_unknown_issuer_is_looked_up_in_the_fallback_store_and_said_when_nothing_knows_it() {
        let (root, issuer) = ca("Contoso Root");
        let (impostor, _) = ca("Contoso Root");
        let good = leaf(&issuer);
        // Nothing knows the issuer: the signature was not verified, and the walk says so.
        let report = check(&good, &[], None);
        match &report.problems[..] {
            [ChainProblem::IssuerUnknown { issuer, .. }] => assert_eq!(issuer, "CN=Contoso Root"),
            p => panic!("{p:?}"),
        }
        assert!(!report.issuer_checked);
        // The fallback is asked only for that issuer's name, and verifies for real.
        let root_s: &'static [u8] = Box::leak(root.clone().into_boxed_slice());
        let asked = std::cell::Cell::new(0);
        let store = |name: &[u8]| {
            asked.set(asked.get() + 1);
            let r = parse(root_s).unwrap();
            if name == r.subject().as_raw() {
                vec![root_s]
            } else {
                vec![]
            }
        };
        assert!(check_with(&good, &[], None, &store).problems.is_empty());
        assert_eq!(asked.get(), 1);
        let report = check_with(&tampered(&good), &[], None, &store);
        assert!(report.bad_signature(), "{report:?}");
        // A closer issuer means the fallback is not asked at all.
        check_with(&good, std::slice::from_ref(&root), None, &store);
        assert_eq!(asked.get(), 2);
        // Known by name, but another key: the issuer is known and the signature is wrong.
        let imp: &'static [u8] = Box::leak(impostor.into_boxed_slice());
        let report = check_with(&good, &[], None, &|_| vec![imp]);
        assert!(report.bad_signature(), "{report:?}");
        // With trusted roots given, the fallback is not used: the chain is incomplete.
        let report = check_with(&good, &[], Some(&[]), &store);
        assert!(matches!(
            report.problems[..],
            [ChainProblem::Incomplete { .. }]
        ));
    }
}
