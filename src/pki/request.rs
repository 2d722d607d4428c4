//! New keys and PKCS#10 requests, written the way Windows writes them.

use crate::model::CertType;
use crate::pki::dn::quote_value;
use crate::pki::issue::{subject_dn, template_extension};
use rcgen::{
    CertificateParams, ExtendedKeyUsagePurpose, KeyPair, KeyUsagePurpose, RsaKeySize, SanType,
};
use std::fmt;

/// `-KeyAlg`: RSA, or the ECDH_* curves (ECDSA signatures).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlg {
    Rsa,
    EcP256,
    EcP384,
    EcP521,
}

impl KeyAlg {
    pub fn parse(s: &str) -> Option<KeyAlg> {
        Some(match s.to_ascii_uppercase().as_str() {
            "RSA" => KeyAlg::Rsa,
            "ECDH_P256" => KeyAlg::EcP256,
            "ECDH_P384" => KeyAlg::EcP384,
            "ECDH_P521" => KeyAlg::EcP521,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            KeyAlg::Rsa => "RSA",
            KeyAlg::EcP256 => "ECDH_P256",
            KeyAlg::EcP384 => "ECDH_P384",
            KeyAlg::EcP521 => "ECDH_P521",
        }
    }

    /// The key size reported for this algorithm (curves have a fixed one).
    pub fn effective_size(self, rsa_size: u32) -> u32 {
        match self {
            KeyAlg::Rsa => rsa_size,
            KeyAlg::EcP256 => 256,
            KeyAlg::EcP384 => 384,
            KeyAlg::EcP521 => 521,
        }
    }
}

#[derive(Debug)]
pub enum RequestError {
    /// A key size the library cannot (or will not) make.
    KeySize(i64),
    Generate(rcgen::Error),
    /// A name that cannot be put in a dNSName.
    BadName(String),
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::KeySize(1024) => write!(
                f,
                "a 1024-bit RSA key is too weak and is not made; use -KeySize 2048, 3072 or 4096"
            ),
            RequestError::KeySize(n) => write!(
                f,
                "the RSA key size {n} is not supported; use -KeySize 2048, 3072 or 4096"
            ),
            RequestError::Generate(e) => write!(f, "the key or request could not be made: {e}"),
            RequestError::BadName(n) => write!(f, "'{n}' cannot be a DNS name in a certificate"),
        }
    }
}

impl std::error::Error for RequestError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RequestError::Generate(e) => Some(e),
            _ => None,
        }
    }
}

/// Makes a new key pair. RSA 1024 is refused: it is too weak, and aws-lc does not make it.
pub fn generate_key(alg: KeyAlg, rsa_size: i64) -> Result<KeyPair, RequestError> {
    let r = match alg {
        KeyAlg::Rsa => {
            let size = match rsa_size {
                2048 => RsaKeySize::_2048,
                3072 => RsaKeySize::_3072,
                4096 => RsaKeySize::_4096,
                n => return Err(RequestError::KeySize(n)),
            };
            KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, size)
        }
        KeyAlg::EcP256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256),
        KeyAlg::EcP384 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384),
        KeyAlg::EcP521 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512),
    };
    r.map_err(RequestError::Generate)
}

/// What goes into a request (and into a certificate a lab CA issues for it).
#[derive(Debug, Clone, Default)]
pub struct Spec {
    pub subject_cn: String,
    pub organization: Option<String>,
    pub ou: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    pub sans: Vec<String>,
    pub client_eku: bool,
    pub template: Option<String>,
    pub uses: Vec<CertType>,
}

impl Spec {
    /// The certificate parameters; the DN is built C, S, L, O, OU, CN in DER order so that Windows
    /// shows it most specific first (`CN=..., OU=..., O=..., L=..., S=..., C=...`).
    pub fn params(&self, rsa: bool) -> Result<CertificateParams, RequestError> {
        let mut p = CertificateParams::default();
        // The same subject a lab CA would issue (the validity is not part of it).
        p.distinguished_name = subject_dn(&self.issue_request(1));
        for name in &self.sans {
            let ia5 = name
                .as_str()
                .try_into()
                .map_err(|_| RequestError::BadName(name.clone()))?;
            p.subject_alt_names.push(SanType::DnsName(ia5));
        }
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        if self.client_eku {
            p.extended_key_usages
                .push(ExtendedKeyUsagePurpose::ClientAuth);
        }
        p.key_usages = if rsa {
            vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::KeyEncipherment,
            ]
        } else {
            vec![KeyUsagePurpose::DigitalSignature]
        };
        if let Some(t) = self.template.as_deref().filter(|t| !t.is_empty()) {
            p.custom_extensions.push(template_extension(t));
        }
        Ok(p)
    }

    /// A PKCS#10 request signed with `key`, as DER.
    pub fn request_der(&self, key: &KeyPair) -> Result<Vec<u8>, RequestError> {
        let rsa = key.algorithm() == &rcgen::PKCS_RSA_SHA256;
        let csr = self
            .params(rsa)?
            .serialize_request(key)
            .map_err(RequestError::Generate)?;
        Ok(csr.der().to_vec())
    }
}

/// Base64 between `-----BEGIN NEW CERTIFICATE REQUEST-----` lines with CRLF, as certreq writes it.
pub fn windows_request_pem(der: &[u8]) -> String {
    let p = pem::Pem::new("NEW CERTIFICATE REQUEST", der.to_vec());
    pem::encode_config(
        &p,
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::CRLF),
    )
}

/// The SubjectPublicKeyInfo of a request: what joins a CA's answer to the pending key.
pub fn request_spki(csr_der: &[u8]) -> Option<Vec<u8>> {
    use x509_parser::prelude::FromDer;
    let (_, csr) =
        x509_parser::certification_request::X509CertificationRequest::from_der(csr_der).ok()?;
    Some(csr.certification_request_info.subject_pki.raw.to_vec())
}

impl Spec {
    /// What a lab CA needs to issue the certificate this request describes.
    pub fn issue_request(&self, validity_days: u32) -> crate::pki::issue::IssueRequest {
        crate::pki::issue::IssueRequest {
            subject_cn: self.subject_cn.clone(),
            organization: self.organization.clone(),
            organizational_unit: self.ou.clone(),
            locality: self.city.clone(),
            state: self.state.clone(),
            country: self.country.clone(),
            sans: self.sans.clone(),
            client_auth: self.client_eku,
            validity_days,
            template: self.template.clone(),
        }
    }

    /// The subject in Windows order, most specific first.
    pub fn windows_subject(&self) -> String {
        let mut parts = vec![format!("CN={}", quote_value(&self.subject_cn))];
        let mut add = |k: &str, v: &Option<String>| {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                parts.push(format!("{k}={}", quote_value(v)));
            }
        };
        add("OU", &self.ou);
        add("O", &self.organization);
        add("L", &self.city);
        add("S", &self.state);
        add("C", &self.country);
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_extension_is_a_bmp_string() {
        assert_eq!(
            template_extension("ab").content(),
            &[0x1e, 4, 0, b'a', 0, b'b']
        );
    }

    #[test]
    fn rsa_1024_is_refused_with_advice() {
        let e = generate_key(KeyAlg::Rsa, 1024).unwrap_err();
        assert!(e.to_string().contains("too weak"));
        assert!(matches!(
            generate_key(KeyAlg::Rsa, 1000),
            Err(RequestError::KeySize(1000))
        ));
    }

    #[test]
    fn request_round_trips_through_the_parser() {
        let key = generate_key(KeyAlg::EcP256, 0).unwrap();
        let spec = Spec {
            subject_cn: "sip.contoso.com".into(),
            sans: vec!["sip.contoso.com".into(), "contoso.com".into()],
            ..Default::default()
        };
        let der = spec.request_der(&key).unwrap();
        let spki = request_spki(&der).unwrap();
        assert!(spki.len() > 60);
        let pem = windows_request_pem(&der);
        assert!(pem.starts_with("-----BEGIN NEW CERTIFICATE REQUEST-----\r\n"));
        assert!(pem
            .trim_end()
            .ends_with("-----END NEW CERTIFICATE REQUEST-----"));
    }
}
