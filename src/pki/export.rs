//! Writers: PFX (PKCS#12), PEM bundles and encrypted PKCS#8 keys (and opening such a key
//! again). Their own error, [`ExportError`]; readers are in `certfile`, `pfx` and `p7b`.

use std::fmt;

use der::asn1::{AnyRef, OctetStringRef};
use der::{Decode, Encode, SliceReader, Tag};
use p12_keystore::{
    Certificate, EncryptionAlgorithm, KeyStore, KeyStoreEntry, MacAlgorithm, PrivateKey,
    PrivateKeyChain,
};
use zeroize::Zeroize;

use super::der::{ber_first, public_key_of_pkcs8};

/// Iterations for the key derivations. Modern: p12-keystore's default (as Java); legacy: 2000,
/// what Windows itself writes, so that old servers import quickly.
const MODERN_ITERATIONS: u32 = 10_000;
const LEGACY_ITERATIONS: u32 = 2_000;

/// PBKDF2-HMAC-SHA256 iterations for an encrypted PEM key: OWASP's current recommendation for
/// that PRF (also pkcs5's own default). Unlike a PFX, a PEM key never has to open on old
/// Windows, only in OpenSSL-based tools, which accept any count; a file that may sit on a share
/// for years is worth the ~0.2 s one derivation costs when it is written and when it is opened.
pub(crate) const PEM_KEY_ITERATIONS: u32 = 600_000;
const PEM_KEY_ROUNDS: std::num::NonZeroU32 = std::num::NonZeroU32::new(PEM_KEY_ITERATIONS).unwrap();
/// Salt length for the PEM key's PBKDF2 (RFC 8018 asks for at least 8 bytes).
const PEM_KEY_SALT_LEN: usize = 16;

/// Why a PFX, PEM bundle or encrypted key could not be written (or an encrypted key opened).
#[derive(Debug)]
pub enum ExportError {
    /// An encrypted key did not open: the password is not the one it was sealed with.
    WrongPassword,
    /// The private key does not belong to the certificate.
    KeyDoesNotMatch,
    /// A certificate given for writing is not valid X.509 (index 0 = leaf, then chain).
    InvalidCertificate(usize),
    /// The private key given is not PKCS#8 DER (or not an encrypted key of the kind written).
    InvalidKey,
    /// Encoding the PFX failed.
    Encode(p12_keystore::error::Error),
    /// The system random generator failed (salt or IV for an encrypted key).
    Random,
    /// PBES2 encryption of a PEM key failed.
    Encrypt(pkcs5::Error),
    /// DER encoding of an encrypted PEM key failed.
    EncodeKey(pkcs5::der::Error),
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExportError::WrongPassword => {
                f.write_str("the password is not correct for this pfx file")
            }
            ExportError::KeyDoesNotMatch => {
                f.write_str("the private key does not belong to the certificate")
            }
            ExportError::InvalidCertificate(0) => f.write_str("the certificate is not valid x.509"),
            ExportError::InvalidCertificate(i) => {
                write!(f, "chain certificate #{i} is not valid x.509")
            }
            ExportError::InvalidKey => f.write_str("the private key is not pkcs#8 der"),
            ExportError::Encode(e) => write!(f, "could not encode the pfx ({e})"),
            ExportError::Random => f.write_str("the system random generator failed"),
            ExportError::Encrypt(e) => write!(f, "could not encrypt the private key ({e})"),
            ExportError::EncodeKey(e) => write!(f, "could not encode the encrypted key ({e})"),
        }
    }
}

impl std::error::Error for ExportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ExportError::Encode(e) => Some(e),
            ExportError::Encrypt(e) => Some(e),
            ExportError::EncodeKey(e) => Some(e),
            _ => None,
        }
    }
}

/// Writes a PFX holding the leaf, its chain and its private key.
///
/// `legacy = false`: PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) for keys and certificates,
/// HMAC-SHA256 MAC; OpenSSL 3 and Windows Server 2019+ read it. `legacy = true`:
/// pbeWithSHAAnd3-KeyTripleDES-CBC and an HMAC-SHA1 MAC, which Windows Server 2012 R2 / 2016
/// need; OpenSSL 3 reads it without `-legacy`. RC2-40 is never written.
///
/// `friendly_name` labels the key bag (Windows shows it for the key); p12-keystore labels
/// certificate bags with their subject DN. Without it the key bag gets the leaf's subject too.
/// The localKeyId is the leaf's SHA-1 thumbprint, as OpenSSL does.
pub fn write_pfx(
    leaf_der: &[u8],
    chain: &[Vec<u8>],
    key_pkcs8_der: &[u8],
    password: &str,
    friendly_name: Option<&str>,
    legacy: bool,
) -> Result<Vec<u8>, ExportError> {
    let leaf = Certificate::from_der(leaf_der).map_err(|_| ExportError::InvalidCertificate(0))?;
    let (_, parsed) = x509_parser::parse_x509_certificate(leaf_der)
        .map_err(|_| ExportError::InvalidCertificate(0))?;
    let public = public_key_of_pkcs8(key_pkcs8_der).ok_or(ExportError::InvalidKey)?;
    if *parsed.public_key().subject_public_key.data != public[..] {
        return Err(ExportError::KeyDoesNotMatch);
    }
    let key = PrivateKey::from_der(key_pkcs8_der).map_err(|_| ExportError::InvalidKey)?;
    let mut certs = vec![leaf];
    for (i, der) in chain.iter().enumerate() {
        certs.push(Certificate::from_der(der).map_err(|_| ExportError::InvalidCertificate(i + 1))?);
    }
    let local_key_id =
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, leaf_der);
    let alias = friendly_name
        .map(str::to_owned)
        .unwrap_or_else(|| certs[0].subject().to_owned());
    let mut store = KeyStore::new();
    store.add_entry(
        &alias,
        KeyStoreEntry::PrivateKeyChain(PrivateKeyChain::new(local_key_id.as_ref(), key, certs)),
    );
    let (enc, mac, iterations) = if legacy {
        (
            EncryptionAlgorithm::PbeWithShaAnd3KeyTripleDesCbc,
            MacAlgorithm::HmacSha1,
            LEGACY_ITERATIONS,
        )
    } else {
        (
            EncryptionAlgorithm::PbeWithHmacSha256AndAes256,
            MacAlgorithm::HmacSha256,
            MODERN_ITERATIONS,
        )
    };
    store
        .writer(password)
        .encryption_algorithm(enc)
        .encryption_iterations(iterations)
        .mac_algorithm(mac)
        .mac_iterations(iterations)
        .write()
        .map_err(ExportError::Encode)
}

/// A PEM text: the leaf certificate, the chain certificates, then the key as PKCS#8 `PRIVATE KEY`.
pub fn write_pem_bundle(leaf: &[u8], chain: &[Vec<u8>], key_pkcs8: &[u8]) -> String {
    pem_blocks(leaf, chain, Some(key_pkcs8))
}

/// `CERTIFICATE` blocks for the leaf and the chain, then an optional `PRIVATE KEY`, LF endings.
fn pem_blocks(leaf: &[u8], chain: &[Vec<u8>], key_pkcs8: Option<&[u8]>) -> String {
    let config = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
    let mut blocks = vec![pem::Pem::new("CERTIFICATE", leaf.to_vec())];
    blocks.extend(
        chain
            .iter()
            .map(|c| pem::Pem::new("CERTIFICATE", c.clone())),
    );
    blocks.extend(key_pkcs8.map(|k| pem::Pem::new("PRIVATE KEY", k.to_vec())));
    pem::encode_many_config(&blocks, config)
}

/// PEM "ENCRYPTED PRIVATE KEY": PKCS#8 EncryptedPrivateKeyInfo with PBES2 (PBKDF2-HMAC-SHA256,
/// [`PEM_KEY_ITERATIONS`] iterations, 16-byte random salt) and AES-256-CBC (random IV).
///
/// What `openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256` writes; `openssl pkey
/// -passin` opens it. The password is used as its UTF-8 bytes, as OpenSSL does for PBES2.
/// An empty password is allowed (OpenSSL opens such a file with `-passin pass:`), but callers
/// that export keys only on request should insist on one.
pub fn encrypt_pkcs8_pem(key_pkcs8_der: &[u8], password: &str) -> Result<String, ExportError> {
    let der = encrypt_pkcs8_der(key_pkcs8_der, password)?;
    let config = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
    Ok(pem::encode_config(
        &pem::Pem::new("ENCRYPTED PRIVATE KEY", der),
        config,
    ))
}

/// Whether PKCS#8 DER is an EncryptedPrivateKeyInfo (SEQUENCE { SEQUENCE algorithm, OCTET
/// STRING }) rather than a PrivateKeyInfo (SEQUENCE { INTEGER version, ... }).
pub fn is_encrypted_pkcs8(der: &[u8]) -> bool {
    ber_first(der)
        .filter(|e| e.tag == Tag::Sequence)
        .and_then(|outer| ber_first(outer.content))
        .is_some_and(|first| first.tag == Tag::Sequence)
}

/// PKCS#8 `EncryptedPrivateKeyInfo`. The algorithm stays undecoded here, so that a scheme
/// pkcs5 cannot read is told apart from a malformed structure.
#[derive(der::Sequence)]
struct EncryptedKeyInfo<'a> {
    encryption_algorithm: AnyRef<'a>,
    encrypted_data: &'a OctetStringRef,
}

/// The most PBKDF2 iterations an encrypted key may ask for (p12-keystore's limit too).
const MAX_KDF_ITERATIONS: u32 = 1_000_000;

/// Opens what [`encrypt_pkcs8_der`] wrote (PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC).
/// A wrong password is [`ExportError::WrongPassword`] (bad padding or a result that is no key).
pub fn decrypt_pkcs8_der(encrypted: &[u8], password: &str) -> Result<Vec<u8>, ExportError> {
    use aws_lc_rs::cipher::{
        DecryptionContext, PaddedBlockDecryptingKey, UnboundCipherKey, AES_256,
    };
    // Whatever follows the structure (padding, a newline) is ignored.
    let info = SliceReader::new(encrypted)
        .and_then(|mut reader| EncryptedKeyInfo::decode(&mut reader))
        .map_err(|_| ExportError::InvalidKey)?;
    let scheme = info
        .encryption_algorithm
        .decode_as::<pkcs5::EncryptionScheme>()
        .map_err(ExportError::EncodeKey)?;
    let pkcs5::EncryptionScheme::Pbes2(params) = scheme else {
        return Err(ExportError::InvalidKey);
    };
    let pkcs5::pbes2::Kdf::Pbkdf2(kdf) = &params.kdf else {
        return Err(ExportError::InvalidKey);
    };
    let pkcs5::pbes2::EncryptionScheme::Aes256Cbc { iv } = params.encryption else {
        return Err(ExportError::InvalidKey);
    };
    if kdf.prf != pkcs5::pbes2::Pbkdf2Prf::HmacWithSha256 {
        return Err(ExportError::InvalidKey);
    }
    // Bounded like p12-keystore's own reader: a hostile count must not stall the process.
    if kdf.iteration_count > MAX_KDF_ITERATIONS {
        return Err(ExportError::InvalidKey);
    }
    let rounds = std::num::NonZeroU32::new(kdf.iteration_count).ok_or(ExportError::InvalidKey)?;
    let mut key = [0u8; 32];
    aws_lc_rs::pbkdf2::derive(
        aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256,
        rounds,
        kdf.salt.as_bytes(),
        password.as_bytes(),
        &mut key,
    );
    let cipher = UnboundCipherKey::new(&AES_256, &key)
        .and_then(PaddedBlockDecryptingKey::cbc_pkcs7)
        .map_err(|_| ExportError::InvalidKey);
    key.zeroize();
    let mut buf = info.encrypted_data.as_bytes().to_vec();
    let plain = cipher?
        .decrypt(&mut buf, DecryptionContext::Iv128(iv.into()))
        .map_err(|_| ExportError::WrongPassword)?
        .to_vec();
    buf.zeroize();
    public_key_of_pkcs8(&plain).ok_or(ExportError::WrongPassword)?;
    Ok(plain)
}

/// PKCS#8 EncryptedPrivateKeyInfo DER, as in [`encrypt_pkcs8_pem`] (the store keeps keys so
/// when `CSCERT_STORE_PASSWORD` is set).
pub fn encrypt_pkcs8_der(key_pkcs8_der: &[u8], password: &str) -> Result<Vec<u8>, ExportError> {
    use aws_lc_rs::cipher::{PaddedBlockEncryptingKey, UnboundCipherKey, AES_256};

    public_key_of_pkcs8(key_pkcs8_der).ok_or(ExportError::InvalidKey)?;
    // Derivation and cipher run in aws-lc (pkcs5's pure-Rust PBKDF2 takes seconds for 600k
    // iterations in unoptimised builds); pkcs5 supplies the PBES2 parameter encoding.
    let mut salt = [0u8; PEM_KEY_SALT_LEN];
    aws_lc_rs::rand::fill(&mut salt).map_err(|_| ExportError::Random)?;
    let mut key = [0u8; 32];
    aws_lc_rs::pbkdf2::derive(
        aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256,
        PEM_KEY_ROUNDS,
        &salt,
        password.as_bytes(),
        &mut key,
    );
    let cipher = UnboundCipherKey::new(&AES_256, &key)
        .and_then(PaddedBlockEncryptingKey::cbc_pkcs7)
        .map_err(|_| ExportError::Encrypt(pkcs5::Error::EncryptFailed));
    key.zeroize();
    let cipher = cipher?;
    // AES-256-CBC with PKCS#7 padding (RFC 8018 B.2.5); aws-lc draws a random 16-byte IV.
    let mut encrypted = key_pkcs8_der.to_vec();
    let context = cipher
        .encrypt(&mut encrypted)
        .map_err(|_| ExportError::Encrypt(pkcs5::Error::EncryptFailed))?;
    let iv: [u8; 16] = <&[u8]>::try_from(&context)
        .ok()
        .and_then(|iv| iv.try_into().ok())
        .ok_or(ExportError::Encrypt(pkcs5::Error::EncryptFailed))?;
    let params =
        pkcs5::pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(PEM_KEY_ITERATIONS, &salt, iv)
            .map_err(ExportError::Encrypt)?;

    let der_err = ExportError::EncodeKey;
    let scheme = pkcs5::EncryptionScheme::from(params)
        .to_der()
        .map_err(der_err)?;
    let der = EncryptedKeyInfo {
        encryption_algorithm: AnyRef::from_der(&scheme).map_err(der_err)?,
        encrypted_data: OctetStringRef::new(&encrypted).map_err(der_err)?,
    }
    .to_der()
    .map_err(der_err)?;
    Ok(der)
}

/// Certificate + chain + encrypted key, like [`write_pem_bundle`] but with the key as
/// [`encrypt_pkcs8_pem`] writes it. Unlike [`write_pem_bundle`] the inputs are checked as
/// [`write_pfx`] checks them: valid X.509, and a key that belongs to the leaf.
pub fn write_encrypted_pem_bundle(
    leaf: &[u8],
    chain: &[Vec<u8>],
    key_pkcs8: &[u8],
    password: &str,
) -> Result<String, ExportError> {
    let (_, parsed) = x509_parser::parse_x509_certificate(leaf)
        .map_err(|_| ExportError::InvalidCertificate(0))?;
    for (i, der) in chain.iter().enumerate() {
        x509_parser::parse_x509_certificate(der)
            .map_err(|_| ExportError::InvalidCertificate(i + 1))?;
    }
    let public = public_key_of_pkcs8(key_pkcs8).ok_or(ExportError::InvalidKey)?;
    if *parsed.public_key().subject_public_key.data != public[..] {
        return Err(ExportError::KeyDoesNotMatch);
    }
    let mut text = pem_blocks(leaf, chain, None);
    text.push_str(&encrypt_pkcs8_pem(key_pkcs8, password)?);
    Ok(text)
}
