//! Check 11 (signatures): weak or unusable signature algorithms, and what the chain walk found
//! (a signature that does not verify, an incomplete chain, an untrusted root).

use super::{Finding, Log, RuleId as R, Severity, Verdict};
use crate::pki::chain::{ChainProblem, ChainReport};
use crate::pki::inspect::Inspected;

pub(super) const OID_RSA_PSS: &str = "1.2.840.113549.1.1.10";
const SHA1_SIGNATURES: &[&str] = &[
    "1.2.840.113549.1.1.5", // sha1WithRSAEncryption
    "1.2.840.10045.4.1",    // ecdsa-with-SHA1
    "1.2.840.10040.4.3",    // dsa-with-sha1
    "1.3.14.3.2.29",        // sha1WithRSASignature (OIW)
];
const WEAK_SIGNATURES: &[&str] = &[
    "1.2.840.113549.1.1.2", // md2WithRSAEncryption
    "1.2.840.113549.1.1.4", // md5WithRSAEncryption
];

/// Check 11 (signature algorithm).
pub(super) fn check_algorithm(item: &Inspected, log: &mut Log) {
    let key = &item.key;
    if SHA1_SIGNATURES.contains(&item.signature_alg.as_str()) {
        log.push(
            R::SignatureSha1,
            format!(
                "signed with SHA-1 ({}); Lync accepts it but use SHA-256 or stronger",
                item.signature_alg
            ),
            vec![item.signature_alg.clone()],
        );
    }
    if WEAK_SIGNATURES.contains(&item.signature_alg.as_str()) {
        log.push(
            R::SignatureWeak,
            format!(
                "signed with MD2/MD5 ({}); use SHA-256 or stronger",
                item.signature_alg
            ),
            vec![item.signature_alg.clone()],
        );
    }
    if item.signature_alg == OID_RSA_PSS || key.algorithm == "RSASSA-PSS" {
        log.push(
            R::SignatureRsaPss,
            "RSASSA-PSS is used; Lync cannot use RSASSA-PSS certificates, use PKCS#1 v1.5 (sha256WithRSAEncryption)".into(),
            vec![OID_RSA_PSS.into()],
        );
    }
}

/// Check 11 (signatures): adds what the chain walk found ([`crate::pki::chain::check`]) to a verdict.
pub fn with_chain(mut v: Verdict, report: &ChainReport) -> Verdict {
    for p in &report.problems {
        let (id, message, names) = match p {
            ChainProblem::BadSignature { subject, issuer } => (
                R::SignatureInvalid,
                format!("the signature of {subject} does not verify with the key of its issuer {issuer}: the certificate was altered or forged"),
                vec![subject.clone(), issuer.clone()],
            ),
            ChainProblem::Incomplete { last, issuer } => (
                R::ChainIncomplete,
                format!("the chain stops at {last}: its issuer {issuer} is not in the file, the chain, the store or the trusted roots"),
                vec![last.clone(), issuer.clone()],
            ),
            ChainProblem::IssuerUnknown { last, issuer } => (
                R::IssuerUnknown,
                format!("signature not verified: the issuer {issuer} of {last} is not in the file, the chain, the store or the system's trust store"),
                vec![last.clone(), issuer.clone()],
            ),
            ChainProblem::UntrustedRoot { root } => (
                R::RootUntrusted,
                format!("the chain ends at {root}, which is not one of the trusted roots"),
                vec![root.clone()],
            ),
        };
        v.findings.push(Finding {
            rule_id: id,
            severity: id.default_severity(),
            message,
            names,
        });
    }
    v.passed = !v.findings.iter().any(|f| f.severity == Severity::Error);
    v
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;

    #[test]
    fn signature_sha1() {
        let v = fires("SIGNATURE-SHA1", &[], |i, _| {
            i.signature_alg = "1.2.840.113549.1.1.5".into()
        });
        assert!(v.passed);
    }

    #[test]
    fn signature_weak() {
        fires("SIGNATURE-WEAK", &[], |i, _| {
            i.signature_alg = "1.2.840.113549.1.1.4".into()
        });
    }

    #[test]
    fn signature_rsa_pss() {
        fires("SIGNATURE-RSA-PSS", &[], |i, _| {
            i.signature_alg = OID_RSA_PSS.into()
        });
    }
}
