//! Issuing certificates from a lab CA given as PEM files (CA certificate + its private key).

use std::fmt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeDelta, Utc};

use der::asn1::{AnyRef, BitStringRef};
use der::{Decode, Encode, Tag, Tagged};
use rcgen::{
    CertificateParams, CustomExtension, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, PublicKeyData, SanType, SerialNumber,
    SigningKey,
};
use x509_parser::certificate::X509Certificate;
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;

use super::chain::{issued_by, subject_key_id};
use super::der::public_key_of_pkcs8;
use super::pem;

/// How far notBefore is set back from `now`, so that a server whose clock is a little
/// behind the issuing machine does not reject a fresh certificate as "not yet valid".
pub const CLOCK_SKEW_ALLOWANCE: TimeDelta = TimeDelta::minutes(5);

/// The one conversion to `time`, for rcgen's validity fields.
fn rcgen_time(t: DateTime<Utc>) -> Result<::time::OffsetDateTime, IssueError> {
    ::time::OffsetDateTime::from_unix_timestamp(t.timestamp())
        .map_err(|_| IssueError::InvalidRequest("the current time is out of range".into()))
}

/// Microsoft's certificate template name extension (szOID_ENROLL_CERTTYPE_EXTENSION).
const OID_MS_CERT_TEMPLATE_NAME: &[u64] = &[1, 3, 6, 1, 4, 1, 311, 20, 2];

/// A CA certificate with its private key, loaded from PEM files.
pub struct LabCa {
    cert_der: Vec<u8>,
    chain: Vec<Vec<u8>>,
    key: KeyPair,
    key_id: Vec<u8>,
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
}

impl LabCa {
    /// DER of the CA certificate.
    pub fn certificate_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// The CA's own issuers found beside it (issuer order), without the CA certificate.
    pub fn chain(&self) -> &[Vec<u8>] {
        &self.chain
    }

    /// The CA certificate's notAfter; issued certificates never outlive it.
    pub fn not_after(&self) -> DateTime<Utc> {
        self.not_after
    }

    fn parsed(&self) -> X509Certificate<'_> {
        // Parsed once successfully in load_ca; the bytes are immutable since.
        x509_parser::parse_x509_certificate(&self.cert_der)
            .expect("CA certificate was validated at load")
            .1
    }
}

// Hand-written: never show the key.
impl fmt::Debug for LabCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let subject = x509_parser::parse_x509_certificate(&self.cert_der)
            .map(|(_, c)| c.subject().to_string())
            .unwrap_or_default();
        f.debug_struct("LabCa")
            .field("subject", &subject)
            .field("chain", &self.chain.len())
            .field("key", &"<redacted>")
            .field("not_after", &self.not_after)
            .finish()
    }
}

/// What to put in an issued certificate.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IssueRequest {
    pub subject_cn: String,
    /// O
    pub organization: Option<String>,
    /// OU
    pub organizational_unit: Option<String>,
    /// L
    pub locality: Option<String>,
    /// S (state or province)
    pub state: Option<String>,
    /// C (two letters)
    pub country: Option<String>,
    /// DNS names for the subjectAltName extension.
    pub sans: Vec<String>,
    /// Add the clientAuth EKU beside serverAuth.
    pub client_auth: bool,
    /// Requested lifetime; capped at the CA's notAfter.
    pub validity_days: u32,
    /// AD CS template name, recorded in Microsoft's template name extension.
    pub template: Option<String>,
}

/// An issued certificate and the chain to give with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    pub der: Vec<u8>,
    /// The CA certificate, then its own issuers if the CA files held them.
    pub chain: Vec<Vec<u8>>,
}

/// Why a lab CA could not be loaded or could not issue.
#[derive(Debug)]
pub enum IssueError {
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// No certificate was found in the given file or folder.
    NoCertificate(PathBuf),
    /// No (unencrypted) private key was found in the given file or folder.
    NoKey(PathBuf),
    /// A PEM private key is encrypted.
    EncryptedKey(PathBuf),
    /// No private key belongs to any of the certificates found.
    KeyDoesNotMatch(PathBuf),
    /// Several certificate + key pairs were found; the text lists their subjects.
    Ambiguous(Vec<String>),
    /// The certificate with the key is not a CA (basicConstraints cA is not set).
    NotACa(String),
    /// The CA's keyUsage does not allow keyCertSign.
    CannotSign(String),
    /// The CA certificate has expired at the time of issuance.
    CaExpired(DateTime<Utc>),
    /// The CA certificate is not valid yet at the time of issuance (its notBefore).
    CaNotYetValid(DateTime<Utc>),
    /// The request is not acceptable; the text says why.
    InvalidRequest(String),
    /// The PKCS#10 request is unreadable or its signature is wrong.
    InvalidCsr(String),
    /// rcgen refused the key or the parameters.
    Rcgen(rcgen::Error),
}

impl fmt::Display for IssueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IssueError::Io { path, source } => {
                write!(f, "cannot read the ca files at {}: {source}", path.display())
            }
            IssueError::NoCertificate(p) => {
                write!(f, "no ca certificate found in {}", p.display())
            }
            IssueError::NoKey(p) => write!(
                f,
                "no private key found in {}; the ca needs its certificate and key (pem)",
                p.display()
            ),
            IssueError::EncryptedKey(p) => write!(
                f,
                "the ca private key in {} is encrypted; decrypt it first (openssl pkey -in ca.key -out ca-plain.key)",
                p.display()
            ),
            IssueError::KeyDoesNotMatch(p) => write!(
                f,
                "the private key(s) in {} belong to none of the certificates there",
                p.display()
            ),
            IssueError::Ambiguous(subjects) => write!(
                f,
                "several certificates with keys were found ({}); give the path of one ca file",
                subjects.join("; ")
            ),
            IssueError::NotACa(s) => {
                write!(f, "the certificate \"{s}\" is not a ca (basicConstraints ca is not set)")
            }
            IssueError::CannotSign(s) => write!(
                f,
                "the ca certificate \"{s}\" may not sign certificates (keyUsage lacks keyCertSign)"
            ),
            IssueError::CaExpired(t) => write!(
                f,
                "the ca certificate expired on {}",
                t.format("%Y-%m-%d %H:%M:%S UTC")
            ),
            IssueError::CaNotYetValid(t) => write!(
                f,
                "the ca certificate is not valid before {}; check the clock (or CSCERT_NOW)",
                t.format("%Y-%m-%d %H:%M:%S UTC")
            ),
            IssueError::InvalidRequest(why) => write!(f, "cannot issue: {why}"),
            IssueError::InvalidCsr(why) => write!(f, "invalid certificate request: {why}"),
            IssueError::Rcgen(e) => write!(f, "certificate generation failed: {e}"),
        }
    }
}

impl std::error::Error for IssueError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            IssueError::Io { source, .. } => Some(source),
            IssueError::Rcgen(e) => Some(e),
            _ => None,
        }
    }
}

impl From<rcgen::Error> for IssueError {
    fn from(e: rcgen::Error) -> Self {
        IssueError::Rcgen(e)
    }
}

/// The bytes of a file, refused when larger than `limit`.
fn read_at_most(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut v = Vec::new();
    std::fs::File::open(path)?
        .take(limit + 1)
        .read_to_end(&mut v)?;
    if v.len() as u64 > limit {
        return Err(std::io::Error::other(format!(
            "larger than {} MiB",
            limit >> 20
        )));
    }
    Ok(v)
}

/// Loads a lab CA from a PEM file holding certificate and key, or from a folder of such files
/// (`ca.pem` + `ca.key`, `*.crt` + `*.key`, ...): reads them (each at most 4 MiB, a folder's
/// files in name order) and calls [`load_ca_bytes`].
pub fn load_ca(path: &Path) -> Result<LabCa, IssueError> {
    let io = |source| IssueError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    if path.is_dir() {
        for entry in std::fs::read_dir(path).map_err(io)? {
            let p = entry.map_err(io)?.path();
            if p.is_file() {
                files.push(p);
            }
        }
        files.sort();
    } else {
        files.push(path.to_path_buf());
    }

    let mut contents = Vec::with_capacity(files.len());
    for file in &files {
        // Bounded like every input: a CA file is a few KiB.
        contents.push(
            read_at_most(file, 4 << 20).map_err(|source| IssueError::Io {
                path: file.clone(),
                source,
            })?,
        );
    }
    load_ca_bytes(&contents, path)
}

/// Loads a lab CA from the contents of its files (PEM, or a DER certificate), read by the
/// caller; `path` is only named in errors. The certificate that a key belongs to is the CA;
/// other certificates found are kept as its chain when they issued it.
pub fn load_ca_bytes(files: &[Vec<u8>], path: &Path) -> Result<LabCa, IssueError> {
    let mut certs: Vec<Vec<u8>> = Vec::new();
    let mut keys: Vec<Vec<u8>> = Vec::new();
    let mut encrypted = false;
    for bytes in files {
        collect_pem(bytes, &mut certs, &mut keys, &mut encrypted);
    }
    if certs.is_empty() {
        return Err(IssueError::NoCertificate(path.to_path_buf()));
    }
    if keys.is_empty() {
        return Err(if encrypted {
            IssueError::EncryptedKey(path.to_path_buf())
        } else {
            IssueError::NoKey(path.to_path_buf())
        });
    }

    let parsed: Vec<X509Certificate<'_>> = certs
        .iter()
        .map(|c| x509_parser::parse_x509_certificate(c).map(|(_, x)| x))
        .collect::<Result<_, _>>()
        .map_err(|_| IssueError::NoCertificate(path.to_path_buf()))?;
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    for (ki, key) in keys.iter().enumerate() {
        let Some(public) = public_key_of_pkcs8(key) else {
            continue;
        };
        for (ci, cert) in parsed.iter().enumerate() {
            if *cert.public_key().subject_public_key.data == public[..]
                && !pairs.iter().any(|p| p.0 == ci)
            {
                pairs.push((ci, ki));
            }
        }
    }
    let (ci, ki) = match pairs.as_slice() {
        [] => return Err(IssueError::KeyDoesNotMatch(path.to_path_buf())),
        [one] => *one,
        many => {
            return Err(IssueError::Ambiguous(
                many.iter()
                    .map(|&(ci, _)| parsed[ci].subject().to_string())
                    .collect(),
            ))
        }
    };
    let ca = &parsed[ci];
    let subject = ca.subject().to_string();
    let is_ca = ca
        .basic_constraints()
        .ok()
        .flatten()
        .is_some_and(|bc| bc.value.ca);
    if !is_ca {
        return Err(IssueError::NotACa(subject));
    }
    if let Ok(Some(ku)) = ca.key_usage() {
        if !ku.value.key_cert_sign() {
            return Err(IssueError::CannotSign(subject));
        }
    }
    let key = KeyPair::try_from(keys[ki].as_slice())?;

    // The CA's issuers, in order, from the other certificates found.
    let mut chain_idx = Vec::new();
    let mut current = ci;
    while let Some(next) = (0..parsed.len())
        .filter(|&i| i != ci && !chain_idx.contains(&i))
        .find(|&i| issued_by(&parsed[current], &parsed[i]))
    {
        chain_idx.push(next);
        current = next;
    }
    // AKI of issued certificates must equal the CA's SKI; without one, use RFC 5280's SHA-1 method.
    let key_id = subject_key_id(ca).map(<[u8]>::to_vec).unwrap_or_else(|| {
        aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
            &ca.public_key().subject_public_key.data,
        )
        .as_ref()
        .to_vec()
    });
    let not_after = DateTime::from_timestamp(ca.validity().not_after.timestamp(), 0)
        .ok_or_else(|| IssueError::InvalidRequest("ca notafter out of range".into()))?;
    let not_before = DateTime::from_timestamp(ca.validity().not_before.timestamp(), 0)
        .ok_or_else(|| IssueError::InvalidRequest("ca notbefore out of range".into()))?;
    Ok(LabCa {
        cert_der: certs[ci].clone(),
        chain: chain_idx.iter().map(|&i| certs[i].clone()).collect(),
        key,
        key_id,
        not_before,
        not_after,
    })
}

/// Adds the certificates and plain private keys of one PEM (or DER certificate) file.
fn collect_pem(
    bytes: &[u8],
    certs: &mut Vec<Vec<u8>>,
    keys: &mut Vec<Vec<u8>>,
    encrypted: &mut bool,
) {
    if x509_parser::parse_x509_certificate(bytes).is_ok_and(|(rest, _)| rest.is_empty()) {
        certs.push(bytes.to_vec());
        return;
    }
    let Ok(blocks) = pem::parse_many(bytes) else {
        return;
    };
    for b in blocks {
        match b.tag.as_str() {
            _ if b.is_certificate() && !certs.contains(&b.contents) => certs.push(b.contents),
            _ if b.is_certificate() => {}
            "PRIVATE KEY" => keys.push(b.contents),
            "RSA PRIVATE KEY" | "EC PRIVATE KEY" if b.proc_type => *encrypted = true,
            "RSA PRIVATE KEY" | "EC PRIVATE KEY" => keys.extend(b.legacy_key_pkcs8()),
            "ENCRYPTED PRIVATE KEY" => *encrypted = true,
            _ => {}
        }
    }
}

/// The subject of a request or certificate, in X.500 order (least specific first), so that
/// Windows shows it reversed, CN first. Empty parts are left out.
pub fn subject_dn(req: &IssueRequest) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    for (ty, value) in [
        (DnType::CountryName, &req.country),
        (DnType::StateOrProvinceName, &req.state),
        (DnType::LocalityName, &req.locality),
        (DnType::OrganizationName, &req.organization),
        (DnType::OrganizationalUnitName, &req.organizational_unit),
    ] {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            dn.push(ty, v);
        }
    }
    dn.push(DnType::CommonName, req.subject_cn.as_str());
    dn
}

/// Microsoft's certificate template name extension (1.3.6.1.4.1.311.20.2): a BMPString.
pub fn template_extension(name: &str) -> CustomExtension {
    let bmp: Vec<u8> = name.encode_utf16().flat_map(u16::to_be_bytes).collect();
    // UTF-16 as Windows writes it (`der::asn1::BmpString` would refuse surrogate pairs).
    let value = AnyRef::new(Tag::BmpString, &bmp)
        .and_then(|v| v.to_der())
        .expect("a template name is far shorter than a DER length can be");
    CustomExtension::from_oid_content(OID_MS_CERT_TEMPLATE_NAME, value)
}

/// Issues a server certificate for `subject_key` signed by the lab CA.
///
/// notBefore is `now` minus [`CLOCK_SKEW_ALLOWANCE`]; notAfter is `now + validity_days`,
/// capped at the CA's notAfter. The signature algorithm follows the CA key (SHA-256 for RSA
/// and P-256, SHA-384 for P-384).
pub fn issue(
    ca: &LabCa,
    req: &IssueRequest,
    subject_key: &KeyPair,
    now: DateTime<Utc>,
) -> Result<Issued, IssueError> {
    if req.subject_cn.trim().is_empty() {
        return Err(IssueError::InvalidRequest(
            "the subject common name is empty".into(),
        ));
    }
    if let Some(c) = &req.country {
        if c.len() != 2 || !c.chars().all(|ch| ch.is_ascii_alphabetic()) {
            return Err(IssueError::InvalidRequest(format!(
                "country \"{c}\" is not a two-letter code"
            )));
        }
    }
    let dn = subject_dn(req);

    let mut sans = Vec::with_capacity(req.sans.len());
    for name in &req.sans {
        let ia5 = name.as_str().try_into().map_err(|_| {
            IssueError::InvalidRequest(format!("\"{name}\" is not a valid dns name (ascii only)"))
        })?;
        sans.push(SanType::DnsName(ia5));
    }
    let mut extra = Vec::new();
    if let Some(t) = req.template.as_deref().filter(|t| !t.is_empty()) {
        extra.push(template_extension(t));
    }
    let spki = subject_key.subject_public_key_info();
    let profile = Profile {
        sans,
        client_auth: req.client_auth,
        rsa: is_rsa_spki(&spki),
        validity_days: req.validity_days,
        extra,
    };
    let params = profile.params(ca, dn, now)?;
    let der = params
        .signed_by(subject_key, &issuer_of(ca))?
        .der()
        .to_vec();
    finish(ca, &der, None)
}

/// Issues a server certificate for the public key and subject of a PKCS#10 request
/// (e.g. one made by `openssl req -new`), keeping its subject exactly and its DNS SANs,
/// and adding clientAuth if the request asked for it.
pub fn issue_for_csr(
    ca: &LabCa,
    csr_der: &[u8],
    validity_days: u32,
    now: DateTime<Utc>,
) -> Result<Issued, IssueError> {
    let (rest, csr) = X509CertificationRequest::from_der(csr_der)
        .map_err(|e| IssueError::InvalidCsr(format!("not a pkcs#10 request ({e})")))?;
    if !rest.is_empty() {
        return Err(IssueError::InvalidCsr(
            "trailing data after the request".into(),
        ));
    }
    csr.verify_signature()
        .map_err(|_| IssueError::InvalidCsr("the request's signature does not verify".into()))?;
    let info = &csr.certification_request_info;
    let public = rcgen::SubjectPublicKeyInfo::from_der(info.subject_pki.raw)?;
    let mut sans = Vec::new();
    let mut client_auth = false;
    for ext in csr.requested_extensions().into_iter().flatten() {
        match ext {
            ParsedExtension::SubjectAlternativeName(san) => {
                for name in &san.general_names {
                    if let GeneralName::DNSName(d) = name {
                        let ia5 = (*d)
                            .try_into()
                            .map_err(|_| IssueError::InvalidCsr(format!("bad dns name \"{d}\"")))?;
                        sans.push(SanType::DnsName(ia5));
                    }
                }
            }
            ParsedExtension::ExtendedKeyUsage(eku) => client_auth |= eku.client_auth,
            _ => {}
        }
    }
    let profile = Profile {
        sans,
        client_auth,
        rsa: is_rsa_spki(info.subject_pki.raw),
        validity_days,
        extra: Vec::new(),
    };
    // The subject is copied byte for byte below; rcgen's name model cannot hold every DN.
    let params = profile.params(ca, DistinguishedName::new(), now)?;
    let der = params.signed_by(&public, &issuer_of(ca))?.der().to_vec();
    finish(ca, &der, Some(info.subject.as_raw()))
}

/// The extension profile shared by [`issue`] and [`issue_for_csr`].
struct Profile {
    sans: Vec<SanType>,
    client_auth: bool,
    rsa: bool,
    validity_days: u32,
    extra: Vec<CustomExtension>,
}

impl Profile {
    fn params(
        self,
        ca: &LabCa,
        dn: DistinguishedName,
        now: DateTime<Utc>,
    ) -> Result<CertificateParams, IssueError> {
        if self.validity_days == 0 {
            return Err(IssueError::InvalidRequest(
                "the validity must be at least one day".into(),
            ));
        }
        if now >= ca.not_after {
            return Err(IssueError::CaExpired(ca.not_after));
        }
        if now < ca.not_before {
            return Err(IssueError::CaNotYetValid(ca.not_before));
        }
        let mut params = CertificateParams::default();
        params.distinguished_name = dn;
        params.subject_alt_names = self.sans;
        // Set back for clock skew, but never before the CA's own validity starts.
        params.not_before = rcgen_time(
            now.checked_sub_signed(CLOCK_SKEW_ALLOWANCE)
                .map_or(ca.not_before, |t| t.max(ca.not_before)),
        )?;
        // Never beyond the CA: a validity past the end of time is the CA's end as well.
        params.not_after = rcgen_time(
            now.checked_add_signed(TimeDelta::days(i64::from(self.validity_days)))
                .map_or(ca.not_after, |t| t.min(ca.not_after)),
        )?;
        params.serial_number = Some(random_serial()?);
        params.is_ca = IsCa::ExplicitNoCa; // writes basicConstraints CA:FALSE and the SKI
        params.use_authority_key_identifier_extension = true;
        params.key_usages = if self.rsa {
            vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::KeyEncipherment,
            ]
        } else {
            vec![KeyUsagePurpose::DigitalSignature]
        };
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        if self.client_auth {
            params
                .extended_key_usages
                .push(ExtendedKeyUsagePurpose::ClientAuth);
        }
        params.custom_extensions = self.extra;
        Ok(params)
    }
}

/// rcgen issuer whose AKI is the CA's key id. Its name is not used: see [`finish`].
fn issuer_of(ca: &LabCa) -> Issuer<'static, &KeyPair> {
    let mut params = CertificateParams::default();
    params.key_identifier_method = KeyIdMethod::PreSpecified(ca.key_id.clone());
    Issuer::new(params, &ca.key)
}

/// Puts the CA's subject (and, for a CSR, the request's subject) into the certificate byte for
/// byte and signs again.
///
/// rcgen keeps one value per attribute type and no multi-valued RDNs, so an AD-style CA name
/// (`DC=net, DC=contoso, CN=...`) would come out changed and the chain would not build.
fn finish(ca: &LabCa, der: &[u8], subject_raw: Option<&[u8]>) -> Result<Issued, IssueError> {
    let broken = |_| IssueError::InvalidRequest("internal: unexpected certificate encoding".into());
    let cert = SignedCertificate::from_der(der).map_err(broken)?;
    // version [0], serial, signature, issuer, validity, subject, spki, extensions [3]: the
    // fields stay undecoded, so all but the two names are kept byte for byte.
    let mut fields: Vec<AnyRef<'_>> = cert.tbs_certificate.decode_as().map_err(broken)?;
    let names_at = |i: usize| fields.get(i).is_some_and(|f| f.tag() == Tag::Sequence);
    if fields.len() < 7 || !names_at(3) || !names_at(5) {
        return Err(broken(Tag::Sequence.value_error().to_error()));
    }
    let ca_cert = ca.parsed();
    fields[3] = AnyRef::from_der(ca_cert.subject().as_raw()).map_err(broken)?;
    if let Some(subject) = subject_raw {
        fields[5] = AnyRef::from_der(subject).map_err(broken)?;
    }
    let tbs = fields.to_der().map_err(broken)?;
    let signature = ca.key.sign(&tbs)?;
    let der = SignedCertificate {
        tbs_certificate: AnyRef::from_der(&tbs).map_err(broken)?,
        signature_algorithm: cert.signature_algorithm,
        signature: BitStringRef::from_bytes(&signature).map_err(broken)?,
    }
    .to_der()
    .map_err(broken)?;

    let mut chain = vec![ca.cert_der.clone()];
    chain.extend(ca.chain.iter().cloned());
    Ok(Issued { der, chain })
}

/// X.509 `Certificate` with its parts undecoded: rcgen's output is taken apart and put back
/// together around a new TBS and signature.
#[derive(der::Sequence)]
struct SignedCertificate<'a> {
    tbs_certificate: AnyRef<'a>,
    signature_algorithm: AnyRef<'a>,
    signature: BitStringRef<'a>,
}

fn is_rsa_spki(spki_der: &[u8]) -> bool {
    x509_parser::x509::SubjectPublicKeyInfo::from_der(spki_der).is_ok_and(|(_, s)| {
        s.algorithm.algorithm == x509_parser::oid_registry::OID_PKCS1_RSAENCRYPTION
    })
}

/// 16 random bytes, top bit clear (positive) and next bit set (no leading zero, so always 16).
fn random_serial() -> Result<SerialNumber, IssueError> {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes)
        .map_err(|_| IssueError::InvalidRequest("no random numbers available".into()))?;
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Ok(SerialNumber::from_slice(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::certfile::tests::{have_openssl, openssl, openssl_chain};

    fn now() -> DateTime<Utc> {
        Utc::now()
    }

    fn request() -> IssueRequest {
        IssueRequest {
            subject_cn: "pool01.contoso.net".into(),
            organization: Some("Contoso, Inc".into()),
            country: Some("US".into()),
            sans: vec!["pool01.contoso.net".into(), "sip.contoso.net".into()],
            client_auth: true,
            validity_days: 365,
            template: Some("WebServer".into()),
            ..Default::default()
        }
    }

    /// An rcgen-made ECDSA P-256 root CA written as one PEM file (certificate + PKCS#8 key).
    fn rcgen_ca(dir: &Path) -> PathBuf {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, "Lab Root CA");
        params.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let rcgen_now = ::time::OffsetDateTime::now_utc();
        params.not_before = rcgen_now - ::time::Duration::days(1);
        params.not_after = rcgen_now + ::time::Duration::days(3650);
        let cert = params.self_signed(&key).unwrap();
        let path = dir.join("ca.pem");
        std::fs::write(&path, format!("{}{}", cert.pem(), key.serialize_pem())).unwrap();
        path
    }

    fn write_pem(dir: &Path, name: &str, der: &[u8]) {
        std::fs::write(
            dir.join(name),
            ::pem::encode(&::pem::Pem::new("CERTIFICATE", der.to_vec())),
        )
        .unwrap();
    }

    #[test]
    fn rcgen_ca_issues_a_leaf_openssl_verifies() {
        if !have_openssl() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let ca = load_ca(&rcgen_ca(d)).unwrap();
        let leaf_key = KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
        let issued = issue(&ca, &request(), &leaf_key, now()).unwrap();
        assert_eq!(issued.chain, vec![ca.certificate_der().to_vec()]);
        write_pem(d, "leaf.pem", &issued.der);
        let out = openssl(
            d,
            &[
                "verify",
                "-CAfile",
                "ca.pem",
                "-purpose",
                "sslserver",
                "leaf.pem",
            ],
        );
        assert_eq!(String::from_utf8(out).unwrap().trim(), "leaf.pem: OK");

        let text =
            String::from_utf8(openssl(d, &["x509", "-in", "leaf.pem", "-noout", "-text"])).unwrap();
        assert!(
            text.contains("DNS:pool01.contoso.net, DNS:sip.contoso.net"),
            "{text}"
        );
        assert!(
            text.contains("TLS Web Server Authentication, TLS Web Client Authentication"),
            "{text}"
        );
        assert!(
            text.contains("Digital Signature, Key Encipherment"),
            "{text}"
        );
        assert!(text.contains("ecdsa-with-SHA256"), "{text}");
        assert!(
            text.contains("Subject: C = US, O = \"Contoso, Inc\", CN = pool01.contoso.net"),
            "{text}"
        );
        assert!(text.contains("1.3.6.1.4.1.311.20.2"), "{text}");

        // AKI of the leaf is the SKI of the CA; the leaf has its own SKI.
        let (_, leaf) = x509_parser::parse_x509_certificate(&issued.der).unwrap();
        let (_, ca_x) = x509_parser::parse_x509_certificate(ca.certificate_der()).unwrap();
        let aki = leaf
            .iter_extensions()
            .find_map(|e| match e.parsed_extension() {
                ParsedExtension::AuthorityKeyIdentifier(a) => {
                    a.key_identifier.as_ref().map(|k| k.0)
                }
                _ => None,
            })
            .unwrap();
        assert_eq!(Some(aki), subject_key_id(&ca_x));
        assert!(subject_key_id(&leaf).is_some());
        let serial = leaf.raw_serial();
        assert_eq!(serial.len(), 16);
        assert!(serial[0] & 0x80 == 0);
        assert!(!leaf.is_ca());
        // The key usage follows the key type: EC subject keys get digitalSignature only.
        let ec_key = KeyPair::generate().unwrap();
        let ec = issue(&ca, &request(), &ec_key, now()).unwrap();
        let (_, ec) = x509_parser::parse_x509_certificate(&ec.der).unwrap();
        let ku = ec.key_usage().unwrap().unwrap().value;
        assert!(ku.digital_signature() && !ku.key_encipherment());
    }

    #[test]
    fn openssl_intermediate_with_dc_name_and_validity_cap() {
        if !have_openssl() {
            return;
        }
        let c = openssl_chain();
        let d = c.dir.path();
        // A folder: the intermediate CA's certificate and traditional RSA key, plus the root certificate.
        let ca_dir = d.join("ca");
        std::fs::create_dir(&ca_dir).unwrap();
        std::fs::copy(d.join("inter.pem"), ca_dir.join("issuing.crt")).unwrap();
        std::fs::copy(d.join("root.pem"), ca_dir.join("root.crt")).unwrap();
        let rsa = openssl(d, &["pkey", "-in", "inter.key", "-traditional"]);
        std::fs::write(ca_dir.join("issuing.key"), rsa).unwrap();
        let ca = load_ca(&ca_dir).unwrap();
        assert_eq!(ca.certificate_der(), &c.inter[..]);
        assert_eq!(ca.chain(), std::slice::from_ref(&c.root));
        assert!(!format!("{ca:?}").contains("BEGIN"));

        let key = KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
        let t = now();
        let issued = issue(&ca, &request(), &key, t).unwrap();
        assert_eq!(issued.chain, vec![c.inter.clone(), c.root.clone()]);
        write_pem(d, "new.pem", &issued.der);
        let out = openssl(
            d,
            &[
                "verify",
                "-CAfile",
                "root.pem",
                "-untrusted",
                "inter.pem",
                "new.pem",
            ],
        );
        assert_eq!(String::from_utf8(out).unwrap().trim(), "new.pem: OK");

        let (_, leaf) = x509_parser::parse_x509_certificate(&issued.der).unwrap();
        let (_, inter) = x509_parser::parse_x509_certificate(&c.inter).unwrap();
        assert_eq!(leaf.issuer().as_raw(), inter.subject().as_raw());
        assert!(
            leaf.issuer().to_string().contains("DC=net, DC=contoso"),
            "{}",
            leaf.issuer()
        );
        // 365 days asked, the CA ends in 20 days: capped to the CA's notAfter.
        assert_eq!(leaf.validity().not_after, inter.validity().not_after);
        // Set back for clock skew, but not before the CA (made a moment ago) starts.
        let nb = leaf.validity().not_before.timestamp();
        let ca_start = inter.validity().not_before.timestamp();
        assert_eq!(nb, (t - CLOCK_SKEW_ALLOWANCE).timestamp().max(ca_start));
        let sig =
            String::from_utf8(openssl(d, &["x509", "-in", "new.pem", "-noout", "-text"])).unwrap();
        assert!(sig.contains("sha256WithRSAEncryption"), "{sig}");

        // Past the CA's end, nothing is issued.
        let late = ca.not_after() + TimeDelta::days(1);
        assert!(matches!(
            issue(&ca, &request(), &key, late),
            Err(IssueError::CaExpired(_))
        ));
        // Before the CA's start neither (year 1 included), and a minute after it the skew
        // allowance stops at the CA's notBefore.
        let start = ca.not_before;
        for early in [start - TimeDelta::seconds(1), DateTime::<Utc>::MIN_UTC] {
            match issue(&ca, &request(), &key, early) {
                Err(IssueError::CaNotYetValid(t)) => assert_eq!(t, start),
                r => panic!("{r:?}"),
            }
        }
        let just_after = issue(&ca, &request(), &key, start + TimeDelta::minutes(1)).unwrap();
        let leaf = x509_parser::parse_x509_certificate(&just_after.der)
            .unwrap()
            .1;
        assert_eq!(leaf.validity().not_before.timestamp(), start.timestamp());
    }

    #[test]
    fn folder_with_two_cas_is_ambiguous_and_leaf_is_not_a_ca() {
        if !have_openssl() {
            return;
        }
        let c = openssl_chain();
        let d = c.dir.path();
        let two = d.join("two");
        std::fs::create_dir(&two).unwrap();
        for f in ["root.pem", "root.key", "inter.pem", "inter.key"] {
            std::fs::copy(d.join(f), two.join(f)).unwrap();
        }
        let err = load_ca(&two).unwrap_err();
        assert!(
            matches!(err, IssueError::Ambiguous(ref s) if s.len() == 2),
            "{err}"
        );

        let leaf = d.join("leafonly");
        std::fs::create_dir(&leaf).unwrap();
        std::fs::copy(d.join("leaf.pem"), leaf.join("leaf.crt")).unwrap();
        std::fs::copy(d.join("leaf.key"), leaf.join("leaf.key")).unwrap();
        let err = load_ca(&leaf).unwrap_err();
        assert!(matches!(err, IssueError::NotACa(_)), "{err}");
        assert!(err.to_string().contains("not a ca"));

        let nokey = d.join("nokey");
        std::fs::create_dir(&nokey).unwrap();
        std::fs::copy(d.join("root.pem"), nokey.join("root.pem")).unwrap();
        assert!(matches!(load_ca(&nokey), Err(IssueError::NoKey(_))));
        std::fs::copy(d.join("leaf.key"), nokey.join("other.key")).unwrap();
        assert!(matches!(
            load_ca(&nokey),
            Err(IssueError::KeyDoesNotMatch(_))
        ));
        assert!(matches!(
            load_ca(&d.join("missing.pem")),
            Err(IssueError::Io { .. })
        ));
    }

    #[test]
    fn csr_from_openssl_is_signed_with_its_subject_and_sans() {
        if !have_openssl() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let ca = load_ca(&rcgen_ca(d)).unwrap();
        openssl(
            d,
            &[
                "req",
                "-new",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-384",
                "-noenc",
                "-keyout",
                "edge.key",
                "-out",
                "edge.csr",
                "-outform",
                "DER",
                "-subj",
                "/DC=net/DC=contoso/OU=Edge/OU=Lync/CN=sip.contoso.net",
                "-addext",
                "subjectAltName=DNS:sip.contoso.net,DNS:webconf.contoso.net",
                "-addext",
                "extendedKeyUsage=serverAuth,clientAuth",
            ],
        );
        let csr = std::fs::read(d.join("edge.csr")).unwrap();
        let issued = issue_for_csr(&ca, &csr, 30, now()).unwrap();
        write_pem(d, "edge.pem", &issued.der);
        let out = openssl(d, &["verify", "-CAfile", "ca.pem", "edge.pem"]);
        assert_eq!(String::from_utf8(out).unwrap().trim(), "edge.pem: OK");
        let a = openssl(d, &["pkey", "-in", "edge.key", "-pubout"]);
        let b = openssl(d, &["x509", "-in", "edge.pem", "-noout", "-pubkey"]);
        assert_eq!(a, b);
        let text =
            String::from_utf8(openssl(d, &["x509", "-in", "edge.pem", "-noout", "-text"])).unwrap();
        assert!(
            text.contains("DC = net, DC = contoso, OU = Edge, OU = Lync, CN = sip.contoso.net"),
            "{text}"
        );
        assert!(
            text.contains("DNS:sip.contoso.net, DNS:webconf.contoso.net"),
            "{text}"
        );
        assert!(text.contains("TLS Web Client Authentication"), "{text}");
        let mut bad = csr.clone();
        let n = bad.len();
        bad[n - 5] ^= 0x55; // inside the signature
        assert!(matches!(
            issue_for_csr(&ca, &bad, 30, now()),
            Err(IssueError::InvalidCsr(_))
        ));
    }

    #[test]
    fn multi_valued_rdn_of_a_csr_is_kept_byte_for_byte() {
        if !have_openssl() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let ca = load_ca(&rcgen_ca(d)).unwrap();
        let csr = openssl(
            d,
            &[
                "req",
                "-new",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-noenc",
                "-keyout",
                "mv.key",
                "-outform",
                "DER",
                "-multivalue-rdn",
                "-subj",
                "/DC=net/DC=contoso/OU=Lync+CN=sip.contoso.net",
                "-addext",
                "subjectAltName=DNS:sip.contoso.net",
            ],
        );
        let issued = issue_for_csr(&ca, &csr, 30, now()).unwrap();
        let (_, req) = X509CertificationRequest::from_der(&csr).unwrap();
        let (_, leaf) = x509_parser::parse_x509_certificate(&issued.der).unwrap();
        let subject = req.certification_request_info.subject.as_raw();
        assert_eq!(leaf.subject().as_raw(), subject);
        assert_eq!(leaf.subject().iter_rdn().nth(2).unwrap().iter().count(), 2);
        write_pem(d, "mv.pem", &issued.der);
        let out = openssl(d, &["verify", "-CAfile", "ca.pem", "mv.pem"]);
        assert_eq!(String::from_utf8(out).unwrap().trim(), "mv.pem: OK");
    }

    #[test]
    fn bad_requests_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let ca = load_ca(&rcgen_ca(dir.path())).unwrap();
        let key = KeyPair::generate().unwrap();
        let mut r = request();
        r.validity_days = 0;
        assert!(matches!(
            issue(&ca, &r, &key, now()),
            Err(IssueError::InvalidRequest(_))
        ));
        let mut r = request();
        r.country = Some("USA".into());
        assert!(matches!(
            issue(&ca, &r, &key, now()),
            Err(IssueError::InvalidRequest(_))
        ));
        let mut r = request();
        r.sans = vec!["bücher.example".into()];
        assert!(matches!(
            issue(&ca, &r, &key, now()),
            Err(IssueError::InvalidRequest(_))
        ));
    }
}
