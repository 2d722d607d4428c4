//! The operating system's trust store (the CA file and folder OpenSSL uses, honouring
//! `SSL_CERT_FILE` / `SSL_CERT_DIR`; rustls-native-certs), consulted only when no closer issuer
//! (the file, the chain, the store, -TrustedRoot) is known: a public CA's certificate then
//! verifies for real. Loaded once per process and only on first need, so that a run which
//! never meets an unknown issuer never reads the store's few hundred kilobytes.

use std::collections::HashMap;
use std::sync::OnceLock;
use x509_parser::prelude::FromDer;

static ROOTS: OnceLock<HashMap<Vec<u8>, Vec<Vec<u8>>>> = OnceLock::new();

fn load() -> HashMap<Vec<u8>, Vec<Vec<u8>>> {
    let mut by_subject: HashMap<Vec<u8>, Vec<Vec<u8>>> = HashMap::new();
    // Unreadable entries are skipped: a partly readable store still verifies what it can.
    for der in rustls_native_certs::load_native_certs().certs {
        let Ok((_, c)) = x509_parser::certificate::X509Certificate::from_der(&der) else {
            continue;
        };
        let list = by_subject.entry(c.subject().as_raw().to_vec()).or_default();
        if !list.iter().any(|d| d.as_slice() == der.as_ref()) {
            list.push(der.to_vec());
        }
    }
    by_subject
}

/// The DER of the system's trusted certificates whose subject is exactly `subject_raw`.
pub fn named(subject_raw: &[u8]) -> Vec<&'static [u8]> {
    ROOTS
        .get_or_init(load)
        .get(subject_raw)
        .map(|v| v.iter().map(Vec::as_slice).collect())
        .unwrap_or_default()
}
