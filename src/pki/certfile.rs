//! Loading certificate files (DER/PEM X.509, PKCS#7 `.p7b`, PKCS#12 `.pfx`) into a leaf, its chain and an optional key.

use std::fmt;

use x509_parser::asn1_rs::FromDer;
use x509_parser::certification_request::X509CertificationRequest;

use super::chain::{self, OrderError, Ordered};
use super::p7b::{self, P7bError};
use super::pem;
use super::pfx::{self, PfxContents, PfxError};

/// The contents of a certificate file: one end-entity certificate, the others, and a key if the file held one.
#[derive(Clone, PartialEq, Eq)]
pub struct Loaded {
    /// DER of the end-entity certificate.
    pub leaf: Vec<u8>,
    /// DER of the other certificates, issuer order (leaf's issuer first); unrelated extras follow.
    pub chain: Vec<Vec<u8>>,
    /// PKCS#8 DER of the private key of `leaf`, when the file held it.
    pub private_key_pkcs8: Option<Vec<u8>>,
}

// Hand-written so that the private key never reaches a log or an error message.
impl fmt::Debug for Loaded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Loaded")
            .field("leaf", &format_args!("<{} bytes DER>", self.leaf.len()))
            .field(
                "chain",
                &format_args!("<{} certificates>", self.chain.len()),
            )
            .field(
                "private_key_pkcs8",
                &self.private_key_pkcs8.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Why a certificate file could not be loaded.
#[derive(Debug)]
pub enum CertFileError {
    /// The bytes are not a certificate in any supported form; the text says what was found.
    NotACertificate(String),
    /// A PKCS#12 file was given without a password (and the empty password did not open it).
    PasswordRequired,
    /// A PKCS#12 file did not open with the given password.
    WrongPassword,
    /// A PEM private key is encrypted (`ENCRYPTED PRIVATE KEY` or `Proc-Type: 4,ENCRYPTED`).
    EncryptedKey,
    /// A private key was found but it belongs to none of the certificates.
    KeyDoesNotMatch,
    /// The file holds more than one end-entity certificate, so the leaf is not defined.
    AmbiguousLeaf(usize),
    /// The file holds more than one private key.
    SeveralKeys(usize),
    /// A PKCS#7 structure was recognised but is broken.
    Pkcs7(P7bError),
    /// A PKCS#12 structure was recognised but is broken.
    Pfx(PfxError),
}

impl fmt::Display for CertFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertFileError::NotACertificate(what) => write!(f, "not a certificate file: {what}"),
            CertFileError::PasswordRequired => {
                f.write_str("the file is a password-protected pfx (pkcs#12): a password is required")
            }
            CertFileError::WrongPassword => {
                f.write_str("the password is not correct for this pfx (pkcs#12) file")
            }
            CertFileError::EncryptedKey => f.write_str(
                "the pem private key is encrypted; decrypt it first (openssl pkey -in key.pem -out plain.pem) or use a pfx",
            ),
            CertFileError::KeyDoesNotMatch => {
                f.write_str("the private key in the file does not belong to any certificate in it")
            }
            CertFileError::AmbiguousLeaf(n) => write!(
                f,
                "the file holds {n} end-entity certificates; expected exactly one (plus its issuers)"
            ),
            CertFileError::SeveralKeys(n) => {
                write!(f, "the file holds {n} private keys; expected at most one")
            }
            CertFileError::Pkcs7(e) => write!(f, "broken pkcs#7 (.p7b) data: {e}"),
            CertFileError::Pfx(e) => write!(f, "broken pfx (pkcs#12) data: {e}"),
        }
    }
}

impl std::error::Error for CertFileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CertFileError::Pkcs7(e) => Some(e),
            CertFileError::Pfx(e) => Some(e),
            _ => None,
        }
    }
}

impl From<PfxError> for CertFileError {
    fn from(e: PfxError) -> Self {
        match e {
            PfxError::WrongPassword => CertFileError::WrongPassword,
            PfxError::KeyDoesNotMatch => CertFileError::KeyDoesNotMatch,
            other => CertFileError::Pfx(other),
        }
    }
}

/// Reads a certificate file in any supported format.
///
/// `password` is used only for PKCS#12; `None` tries the empty password, which some
/// exporters use, before answering [`CertFileError::PasswordRequired`].
pub fn read_certificates(bytes: &[u8], password: Option<&str>) -> Result<Loaded, CertFileError> {
    if bytes.is_empty() {
        return Err(CertFileError::NotACertificate("the file is empty".into()));
    }
    if let Some(text) = pem::pem_text(bytes) {
        return read_pem(text);
    }
    if let Some(der) = single_der_certificate(bytes) {
        return assemble(vec![der], None);
    }
    if p7b::looks_like_pkcs7(bytes) {
        let certs = p7b::read_p7b(bytes).map_err(CertFileError::Pkcs7)?;
        return assemble(certs, None);
    }
    if pfx::looks_like_pfx(bytes) {
        let opened = match password {
            Some(p) => pfx::read_pfx(bytes, p)?,
            None => match pfx::read_pfx(bytes, "") {
                Ok(contents) => contents,
                Err(PfxError::WrongPassword) => return Err(CertFileError::PasswordRequired),
                Err(e) => return Err(e.into()),
            },
        };
        let PfxContents { certs, key } = opened;
        return assemble(certs, key);
    }
    if X509CertificationRequest::from_der(bytes).is_ok() {
        return Err(CertFileError::NotACertificate(
            "this is a certificate request (pkcs#10), not a certificate".into(),
        ));
    }
    if pfx::looks_like_cut_pfx(bytes) {
        return Err(CertFileError::NotACertificate(
            "a pfx (pkcs#12) file that is truncated or damaged: its length does not match its contents; export it again".into(),
        ));
    }
    Err(CertFileError::NotACertificate(
        "no der or pem x.509 certificate, pkcs#7 or pkcs#12 data found".into(),
    ))
}

fn read_pem(text: &str) -> Result<Loaded, CertFileError> {
    let blocks = pem::parse_many(text.as_bytes())
        .map_err(|e| CertFileError::NotACertificate(format!("broken pem data ({e})")))?;
    let mut certs = Vec::new();
    let mut keys = Vec::new();
    let mut saw_request = false;
    for block in &blocks {
        if block.is_certificate() {
            if parses_as_certificate(&block.contents) {
                certs.push(block.contents.clone());
            } else if p7b::looks_like_pkcs7(&block.contents) {
                // Some CAs hand out a PKCS#7 chain under a CERTIFICATE label.
                certs.extend(p7b::read_p7b(&block.contents).map_err(CertFileError::Pkcs7)?);
            } else {
                return Err(CertFileError::NotACertificate(
                    "a pem certificate block does not hold an x.509 certificate".into(),
                ));
            }
            continue;
        }
        if block.is_request() {
            saw_request = true;
            continue;
        }
        match block.tag.as_str() {
            "PKCS7" | "CMS" => {
                certs.extend(p7b::read_p7b(&block.contents).map_err(CertFileError::Pkcs7)?)
            }
            "PRIVATE KEY" => keys.push(block.contents.clone()),
            "RSA PRIVATE KEY" | "EC PRIVATE KEY" => {
                if block.proc_type {
                    return Err(CertFileError::EncryptedKey);
                }
                keys.push(block.legacy_key_pkcs8().ok_or_else(|| {
                    CertFileError::NotACertificate(format!(
                        "the pem {} block is not a valid key",
                        block.tag.to_lowercase()
                    ))
                })?);
            }
            "ENCRYPTED PRIVATE KEY" => return Err(CertFileError::EncryptedKey),
            _ => {}
        }
    }
    if certs.is_empty() {
        let what = if saw_request {
            "this is a certificate request (pkcs#10), not a certificate"
        } else if !keys.is_empty() {
            "the pem file holds a private key but no certificate"
        } else {
            "the pem file holds no certificate"
        };
        return Err(CertFileError::NotACertificate(what.into()));
    }
    if keys.len() > 1 {
        return Err(CertFileError::SeveralKeys(keys.len()));
    }
    assemble(certs, keys.pop())
}

/// The bytes, if they are exactly one DER certificate (nothing trailing).
fn single_der_certificate(bytes: &[u8]) -> Option<Vec<u8>> {
    parses_as_certificate(bytes).then(|| bytes.to_vec())
}

fn parses_as_certificate(der: &[u8]) -> bool {
    matches!(x509_parser::parse_x509_certificate(der), Ok((rest, _)) if rest.is_empty())
}

/// Orders a set of certificates into leaf + issuer chain ([`chain::assemble`]) and checks the
/// key, if any, in this module's error words.
pub(crate) fn assemble(certs: Vec<Vec<u8>>, key: Option<Vec<u8>>) -> Result<Loaded, CertFileError> {
    match chain::assemble(certs, key.as_deref()) {
        Ok(Ordered { leaf, chain }) => Ok(Loaded {
            leaf,
            chain,
            private_key_pkcs8: key,
        }),
        Err(OrderError::InvalidCertificate(e)) => Err(CertFileError::NotACertificate(format!(
            "invalid x.509 certificate ({e})"
        ))),
        Err(OrderError::NoCertificate) => Err(CertFileError::NotACertificate(
            "no certificate found".into(),
        )),
        Err(OrderError::InvalidKey) => Err(CertFileError::NotACertificate(
            "the private key is not a valid pkcs#8 key".into(),
        )),
        Err(OrderError::KeyDoesNotMatch) => Err(CertFileError::KeyDoesNotMatch),
        Err(OrderError::AmbiguousLeaf(n)) => Err(CertFileError::AmbiguousLeaf(n)),
    }
}

/// The certificates (DER) in the bytes of a file: PEM blocks, one DER certificate, a PKCS#7
/// chain, or a PFX (opened with `password` or none). Used as issuers and trusted roots, so
/// broken parts are skipped rather than reported.
pub fn certificates_in(bytes: &[u8], password: Option<&str>) -> Vec<Vec<u8>> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        if text.contains("-----BEGIN ") {
            let mut out = Vec::new();
            for b in pem::parse_many(bytes).unwrap_or_default() {
                if b.is_certificate() && !p7b::looks_like_pkcs7(&b.contents) {
                    out.push(b.contents);
                } else if b.is_certificate() || b.tag == "PKCS7" {
                    out.extend(p7b::read_p7b(&b.contents).unwrap_or_default());
                }
            }
            return out;
        }
    }
    if x509_parser::parse_x509_certificate(bytes).is_ok() {
        return vec![bytes.to_vec()];
    }
    if p7b::looks_like_pkcs7(bytes) {
        return p7b::read_p7b(bytes).unwrap_or_default();
    }
    match read_certificates(bytes, password) {
        Ok(l) => std::iter::once(l.leaf).chain(l.chain).collect(),
        Err(_) => Vec::new(),
    }
}
#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::path::Path;
    use std::process::Command;

    /// Whether `openssl` can be run; tests that need it print a notice and return otherwise.
    pub(crate) fn have_openssl() -> bool {
        let ok = Command::new("openssl")
            .arg("version")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !ok {
            skip_or_fail("openssl");
        }
        ok
    }

    /// The skip policy of tests/support for `src/` tests: a missing peer fails under CI=true
    /// and is one SKIPPED line elsewhere (the caller returns).
    pub(crate) fn skip_or_fail(what: &str) {
        let test = std::thread::current()
            .name()
            .unwrap_or("a unit test")
            .to_string();
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{what} not installed ({test}), and CI=true: scripts/test must install it");
        }
        // Straight to stderr: the test harness captures eprintln!, and a skip must be seen.
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "SKIPPED: {what} not installed ({test})");
    }

    /// Runs openssl with `args` in `dir`, panicking with its stderr on failure.
    pub(crate) fn openssl(dir: &Path, args: &[&str]) -> Vec<u8> {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("run openssl");
        assert!(
            out.status.success(),
            "openssl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// A root CA, an intermediate and a leaf with its key, made by openssl (RSA, DC name parts).
    pub(crate) struct OpensslChain {
        pub dir: tempfile::TempDir,
        pub root: Vec<u8>,
        pub inter: Vec<u8>,
        pub leaf: Vec<u8>,
        pub leaf_key_pem: String,
    }

    pub(crate) fn openssl_chain() -> OpensslChain {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("ext.cnf"),
            "[ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n\
             subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n\
             [leaf]\nbasicConstraints=CA:FALSE\nsubjectAltName=DNS:pool01.contoso.net\n\
             subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
        )
        .unwrap();
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-noenc",
                "-keyout",
                "root.key",
                "-out",
                "root.pem",
                "-days",
                "30",
                "-subj",
                "/DC=net/DC=contoso/CN=Contoso Root",
            ],
        );
        openssl(
            d,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-noenc",
                "-keyout",
                "inter.key",
                "-out",
                "inter.csr",
                "-subj",
                "/DC=net/DC=contoso/CN=Contoso Issuing",
            ],
        );
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "inter.csr",
                "-CA",
                "root.pem",
                "-CAkey",
                "root.key",
                "-out",
                "inter.pem",
                "-days",
                "20",
                "-extfile",
                "ext.cnf",
                "-extensions",
                "ca",
            ],
        );
        openssl(
            d,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-noenc",
                "-keyout",
                "leaf.key",
                "-out",
                "leaf.csr",
                "-subj",
                "/CN=pool01.contoso.net",
            ],
        );
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "leaf.csr",
                "-CA",
                "inter.pem",
                "-CAkey",
                "inter.key",
                "-out",
                "leaf.pem",
                "-days",
                "10",
                "-extfile",
                "ext.cnf",
                "-extensions",
                "leaf",
            ],
        );
        let der = |name: &str| {
            ::pem::parse(std::fs::read(d.join(name)).unwrap())
                .unwrap()
                .into_contents()
        };
        OpensslChain {
            root: der("root.pem"),
            inter: der("inter.pem"),
            leaf: der("leaf.pem"),
            leaf_key_pem: std::fs::read_to_string(d.join("leaf.key")).unwrap(),
            dir,
        }
    }

    fn pem_of(der: &[u8]) -> String {
        ::pem::encode(&::pem::Pem::new("CERTIFICATE", der.to_vec()))
    }

    #[test]
    fn der_certificate_alone() {
        if !have_openssl() {
            return;
        }
        let c = openssl_chain();
        let loaded = read_certificates(&c.leaf, None).unwrap();
        assert_eq!(loaded.leaf, c.leaf);
        assert!(loaded.chain.is_empty());
        assert!(loaded.private_key_pkcs8.is_none());
    }

    #[test]
    fn pem_chain_in_any_order_is_put_in_issuer_order() {
        if !have_openssl() {
            return;
        }
        let c = openssl_chain();
        let text = format!("{}{}{}", pem_of(&c.root), pem_of(&c.leaf), pem_of(&c.inter));
        let loaded = read_certificates(text.as_bytes(), None).unwrap();
        assert_eq!(loaded.leaf, c.leaf);
        assert_eq!(loaded.chain, vec![c.inter.clone(), c.root.clone()]);
    }

    #[test]
    fn pem_with_pkcs8_and_pkcs1_keys() {
        if !have_openssl() {
            return;
        }
        let c = openssl_chain();
        let d = c.dir.path();
        // PKCS#8 as written by openssl req -noenc.
        let text = format!("{}{}{}", c.leaf_key_pem, pem_of(&c.inter), pem_of(&c.leaf));
        let loaded = read_certificates(text.as_bytes(), None).unwrap();
        assert_eq!(loaded.leaf, c.leaf);
        let pkcs8 = loaded.private_key_pkcs8.clone().unwrap();
        assert_eq!(
            pkcs8,
            ::pem::parse(&c.leaf_key_pem).unwrap().into_contents()
        );
        // Traditional RSA PRIVATE KEY is converted to the same PKCS#8.
        let rsa = openssl(d, &["pkey", "-in", "leaf.key", "-traditional"]);
        let text = format!("{}{}", pem_of(&c.leaf), String::from_utf8(rsa).unwrap());
        assert!(text.contains("BEGIN RSA PRIVATE KEY"));
        let loaded = read_certificates(text.as_bytes(), None).unwrap();
        assert_eq!(loaded.private_key_pkcs8.unwrap(), pkcs8);
    }

    #[test]
    fn ec_sec1_key_is_converted_and_matched() {
        if !have_openssl() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-384",
                "-noenc",
                "-keyout",
                "k.pem",
                "-out",
                "c.pem",
                "-days",
                "1",
                "-subj",
                "/CN=ec",
            ],
        );
        let sec1 = openssl(d, &["ec", "-in", "k.pem"]);
        let sec1 = String::from_utf8(sec1).unwrap();
        assert!(sec1.contains("BEGIN EC PRIVATE KEY"));
        let cert = std::fs::read_to_string(d.join("c.pem")).unwrap();
        let loaded = read_certificates(format!("{cert}{sec1}").as_bytes(), None).unwrap();
        let key = loaded.private_key_pkcs8.unwrap();
        std::fs::write(d.join("conv.der"), &key).unwrap();
        let a = openssl(d, &["pkey", "-inform", "DER", "-in", "conv.der", "-pubout"]);
        let b = openssl(d, &["x509", "-in", "c.pem", "-noout", "-pubkey"]);
        assert_eq!(a, b);
    }

    #[test]
    fn key_of_another_certificate_is_refused() {
        if !have_openssl() {
            return;
        }
        let c = openssl_chain();
        let root_key = std::fs::read_to_string(c.dir.path().join("root.key")).unwrap();
        let text = format!("{}{}", pem_of(&c.leaf), root_key);
        let err = read_certificates(text.as_bytes(), None).unwrap_err();
        assert!(matches!(err, CertFileError::KeyDoesNotMatch), "{err}");
    }

    #[test]
    fn two_unrelated_leaves_are_ambiguous() {
        let a = rcgen::generate_simple_self_signed(vec!["a.example".into()]).unwrap();
        let b = rcgen::generate_simple_self_signed(vec!["b.example".into()]).unwrap();
        let text = format!("{}{}", a.cert.pem(), b.cert.pem());
        let err = read_certificates(text.as_bytes(), None).unwrap_err();
        assert!(matches!(err, CertFileError::AmbiguousLeaf(2)), "{err}");
    }

    #[test]
    fn garbage_and_requests_are_not_certificates() {
        for input in [
            &b"hello world, not a cert"[..],
            &[0x30, 0x03, 0x02, 0x01, 0x05],
            &[],
        ] {
            let err = read_certificates(input, None).unwrap_err();
            assert!(matches!(err, CertFileError::NotACertificate(_)), "{err}");
            let text = err.to_string();
            assert!(text.starts_with("not a certificate file: "), "{text}");
            assert_eq!(text, text.to_lowercase());
        }
        let key = rcgen::KeyPair::generate().unwrap();
        let csr = rcgen::CertificateParams::new(vec!["x.example".into()])
            .unwrap()
            .serialize_request(&key)
            .unwrap();
        for input in [csr.der().to_vec(), csr.pem().unwrap().into_bytes()] {
            let err = read_certificates(&input, None).unwrap_err();
            assert!(err.to_string().contains("certificate request"), "{err}");
        }
        let err = read_certificates(key.serialize_pem().as_bytes(), None).unwrap_err();
        assert!(err.to_string().contains("no certificate"), "{err}");
    }

    #[test]
    fn encrypted_pem_key_is_refused_clearly() {
        let cert = rcgen::generate_simple_self_signed(vec!["a.example".into()]).unwrap();
        let text = format!(
            "{}{}",
            cert.cert.pem(),
            ::pem::encode(&::pem::Pem::new("ENCRYPTED PRIVATE KEY", vec![0x30, 0x00]))
        );
        let err = read_certificates(text.as_bytes(), None).unwrap_err();
        assert!(matches!(err, CertFileError::EncryptedKey));
    }

    #[test]
    fn debug_redacts_the_key() {
        let cert = rcgen::generate_simple_self_signed(vec!["a.example".into()]).unwrap();
        let text = format!("{}{}", cert.cert.pem(), cert.signing_key.serialize_pem());
        let loaded = read_certificates(text.as_bytes(), None).unwrap();
        assert!(loaded.private_key_pkcs8.is_some());
        let dbg = format!("{loaded:?}");
        assert!(dbg.contains("<redacted>"));
        let key = loaded.private_key_pkcs8.as_ref().unwrap();
        assert!(!dbg.contains(&format!("{:?}", &key[..8])));
    }
}
