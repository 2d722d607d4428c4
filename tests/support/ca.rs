//! Test CAs made in-process with rcgen (the tests used to shell out to `openssl req -x509` only
//! for convenience); openssl stays the verifier of what cscert issues with them.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
};
use std::path::{Path, PathBuf};

/// A self-signed EC P-256 CA on disk: its certificate and PKCS#8 key as PEM files in a folder
/// of their own (the folder is a `-CA <folder>` value).
pub struct TestCa {
    /// The folder holding the certificate and the key.
    pub dir: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TestCa {
    /// `<dir>/ca.crt` and `<dir>/ca.key`.
    pub fn new(dir: &Path, subject: &[(&str, &str)], days: u32) -> TestCa {
        TestCa::create(dir, "ca.crt", subject, days)
    }

    /// `<dir>/<cert_file>` and `<dir>/ca.key`; `subject` in the order given, valid from now for
    /// `days` days; basicConstraints cA=TRUE and keyUsage keyCertSign, cRLSign (both critical),
    /// subjectKeyIdentifier.
    pub fn create(dir: &Path, cert_file: &str, subject: &[(&str, &str)], days: u32) -> TestCa {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("P-256 key");
        let cert = ca_params(subject, days)
            .self_signed(&key)
            .expect("self-signed CA");
        TestCa::write(dir, cert_file, &cert.pem(), &key)
    }

    /// Writes a CA's certificate and key as `<dir>/<cert_file>` and `<dir>/ca.key`.
    fn write(dir: &Path, cert_file: &str, pem: &str, key: &KeyPair) -> TestCa {
        std::fs::create_dir_all(dir).unwrap();
        let ca = TestCa {
            dir: dir.to_path_buf(),
            cert: dir.join(cert_file),
            key: dir.join("ca.key"),
        };
        std::fs::write(&ca.cert, pem).unwrap();
        std::fs::write(&ca.key, key.serialize_pem()).unwrap();
        ca
    }

    /// This CA as rcgen's issuer of the certificates it signs.
    fn issuer(&self) -> Issuer<'static, KeyPair> {
        let ca_key = KeyPair::from_pem(&std::fs::read_to_string(&self.key).unwrap()).unwrap();
        Issuer::from_ca_cert_pem(&std::fs::read_to_string(&self.cert).unwrap(), ca_key)
            .expect("the test CA certificate parses")
    }

    /// The CA already in `<dir>/<cert_file>` and `<dir>/ca.key`, or a new one there.
    pub fn open_or_create(
        dir: &Path,
        cert_file: &str,
        subject: &[(&str, &str)],
        days: u32,
    ) -> TestCa {
        let ca = TestCa {
            dir: dir.to_path_buf(),
            cert: dir.join(cert_file),
            key: dir.join("ca.key"),
        };
        if ca.cert.exists() && ca.key.exists() {
            return ca;
        }
        TestCa::create(dir, cert_file, subject, days)
    }

    /// A TLS server leaf signed by this CA: EC P-256, subject `CN=<cn>`, the DNS SANs given,
    /// EKU serverAuth and clientAuth, keyUsage digitalSignature, cA=FALSE, valid from now for
    /// `days` days. Writes `<dir>/<name>.cer` (PEM) and `<dir>/<name>.key`; returns the
    /// certificate's path.
    pub fn leaf(&self, dir: &Path, name: &str, cn: &str, dns: &[&str], days: u32) -> PathBuf {
        let issuer = self.issuer();
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("P-256 key");
        let mut p = CertificateParams::new(dns.iter().map(|d| d.to_string()).collect::<Vec<_>>())
            .expect("DNS SANs");
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, cn);
        p.distinguished_name = dn;
        p.is_ca = IsCa::ExplicitNoCa;
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let now = time::OffsetDateTime::now_utc();
        p.not_before = now;
        p.not_after = now + time::Duration::days(days.into());
        let cert = p
            .signed_by(&key, &issuer)
            .expect("leaf signed by the test CA");
        let out = dir.join(format!("{name}.cer"));
        std::fs::write(&out, cert.pem()).unwrap();
        std::fs::write(dir.join(format!("{name}.key")), key.serialize_pem()).unwrap();
        out
    }

    /// An intermediate CA signed by this one, in `<dir>/ca.crt` and `<dir>/ca.key`: EC P-256,
    /// subject `CN=<cn>`, cA=TRUE, keyCertSign and cRLSign, valid from now for `days` days.
    pub fn intermediate(&self, dir: &Path, cn: &str, days: u32) -> TestCa {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("P-256 key");
        let cert = ca_params(&[("CN", cn)], days)
            .signed_by(&key, &self.issuer())
            .expect("intermediate signed");
        TestCa::write(dir, "ca.crt", &cert.pem(), &key)
    }

    pub fn cert_s(&self) -> String {
        self.cert.display().to_string()
    }

    pub fn key_s(&self) -> String {
        self.key.display().to_string()
    }

    pub fn dir_s(&self) -> String {
        self.dir.display().to_string()
    }

    /// The CA as one PEM file holding certificate and key (the other `-CA` form).
    pub fn bundle(&self, at: &Path) -> String {
        let mut pem = std::fs::read_to_string(&self.cert).unwrap();
        pem.push_str(&std::fs::read_to_string(&self.key).unwrap());
        std::fs::write(at, pem).unwrap();
        at.display().to_string()
    }
}

/// A CA's parameters: `subject` in the order given, valid from now for `days` days;
/// basicConstraints cA=TRUE and keyUsage keyCertSign, cRLSign (both critical).
fn ca_params(subject: &[(&str, &str)], days: u32) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    let mut dn = DistinguishedName::new();
    for (attr, value) in subject {
        let t = match *attr {
            "C" => DnType::CountryName,
            "O" => DnType::OrganizationName,
            "OU" => DnType::OrganizationalUnitName,
            "CN" => DnType::CommonName,
            other => panic!("no DN type {other} in the test CA"),
        };
        dn.push(t, *value);
    }
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let now = time::OffsetDateTime::now_utc();
    p.not_before = now;
    p.not_after = now + time::Duration::days(days.into());
    p
}
