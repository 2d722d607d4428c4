//! PFX (PKCS#12) writing and reading, and PEM bundles, for exporting a certificate with its key.

use std::fmt;

use p12_keystore::{
    Certificate, EncryptionAlgorithm, KeyStore, KeyStoreEntry, MacAlgorithm, Pkcs12Archive,
    PrivateKey, PrivateKeyChain,
};
use x509_parser::asn1_rs::Tag;

use super::certfile::{
    assemble, der_elements, der_first, public_key_of_pkcs8, CertFileError, Loaded,
};

/// DER contents of OIDs 1.2.840.113549.1.7.1 (data) and .7.2 (signedData), the PFX authSafe types.
const OID_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
const OID_SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];

/// Iterations for the key derivations. Modern: p12-keystore's default (as Java); legacy: 2000,
/// what Windows itself writes, so that old servers import quickly.
const MODERN_ITERATIONS: u32 = 10_000;
const LEGACY_ITERATIONS: u32 = 2_000;

/// PBKDF2-HMAC-SHA256 iterations for an encrypted PEM key: OWASP's current recommendation for
/// that PRF (also pkcs5's own default). Unlike a PFX, a PEM key never has to open on old
/// Windows, only in OpenSSL-based tools, which accept any count; a file that may sit on a share
/// for years is worth the ~0.2 s one derivation costs when it is written and when it is opened.
const PEM_KEY_ITERATIONS: u32 = 600_000;
const PEM_KEY_ROUNDS: std::num::NonZeroU32 = std::num::NonZeroU32::new(PEM_KEY_ITERATIONS).unwrap();
/// Salt length for the PEM key's PBKDF2 (RFC 8018 asks for at least 8 bytes).
const PEM_KEY_SALT_LEN: usize = 16;

/// Why a PFX could not be written or read.
#[derive(Debug)]
pub enum PfxError {
    /// The MAC or the decryption failed: the password is not the one the file was made with.
    WrongPassword,
    /// The password opens the key, but the MAC fails: the file was altered or damaged.
    Damaged,
    /// The private key does not belong to the certificate.
    KeyDoesNotMatch,
    /// A certificate given for writing is not valid X.509 (index 0 = leaf, then chain).
    InvalidCertificate(usize),
    /// The private key given for writing is not PKCS#8 DER.
    InvalidKey,
    /// The file opened but holds no certificate.
    NoCertificate,
    /// The file is not a PKCS#12 structure p12-keystore can read.
    Malformed(p12_keystore::error::Error),
    /// The certificates in the file could not be put in order.
    Contents(Box<CertFileError>),
    /// Encoding the PFX failed.
    Encode(p12_keystore::error::Error),
    /// The system random generator failed (salt or IV for an encrypted key).
    Random,
    /// PBES2 encryption of a PEM key failed.
    Encrypt(pkcs5::Error),
    /// DER encoding of an encrypted PEM key failed.
    EncodeKey(pkcs5::der::Error),
}

impl fmt::Display for PfxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PfxError::WrongPassword => f.write_str("the password is not correct for this pfx file"),
            PfxError::Damaged => f.write_str("the file is damaged: the password opens its private key, but its integrity check (MAC) fails, so it was altered or truncated after it was made; export the pfx again"),
            PfxError::KeyDoesNotMatch => {
                f.write_str("the private key does not belong to the certificate")
            }
            PfxError::InvalidCertificate(0) => f.write_str("the certificate is not valid x.509"),
            PfxError::InvalidCertificate(i) => {
                write!(f, "chain certificate #{i} is not valid x.509")
            }
            PfxError::InvalidKey => f.write_str("the private key is not pkcs#8 der"),
            PfxError::NoCertificate => f.write_str("the pfx file holds no certificate"),
            PfxError::Malformed(e) => write!(f, "unreadable pfx data ({e})"),
            PfxError::Contents(e) => write!(f, "{e}"),
            PfxError::Encode(e) => write!(f, "could not encode the pfx ({e})"),
            PfxError::Random => f.write_str("the system random generator failed"),
            PfxError::Encrypt(e) => write!(f, "could not encrypt the private key ({e})"),
            PfxError::EncodeKey(e) => write!(f, "could not encode the encrypted key ({e})"),
        }
    }
}

impl std::error::Error for PfxError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PfxError::Malformed(e) | PfxError::Encode(e) => Some(e),
            PfxError::Contents(e) => Some(e.as_ref()),
            PfxError::Encrypt(e) => Some(e),
            PfxError::EncodeKey(e) => Some(e),
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
) -> Result<Vec<u8>, PfxError> {
    let leaf = Certificate::from_der(leaf_der).map_err(|_| PfxError::InvalidCertificate(0))?;
    let (_, parsed) = x509_parser::parse_x509_certificate(leaf_der)
        .map_err(|_| PfxError::InvalidCertificate(0))?;
    let public = public_key_of_pkcs8(key_pkcs8_der).ok_or(PfxError::InvalidKey)?;
    if *parsed.public_key().subject_public_key.data != public[..] {
        return Err(PfxError::KeyDoesNotMatch);
    }
    let key = PrivateKey::from_der(key_pkcs8_der).map_err(|_| PfxError::InvalidKey)?;
    let mut certs = vec![leaf];
    for (i, der) in chain.iter().enumerate() {
        certs.push(Certificate::from_der(der).map_err(|_| PfxError::InvalidCertificate(i + 1))?);
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
        .map_err(PfxError::Encode)
}

/// Whether `der` is shaped like a PFX: SEQUENCE { INTEGER 3, ContentInfo(data|signedData), ... }.
pub fn looks_like_pfx(der: &[u8]) -> bool {
    let Some(outer) = der_first(der).filter(|e| e.tag == Tag::Sequence) else {
        return false;
    };
    let Some(parts) = der_elements(outer.content) else {
        return false;
    };
    let [version, auth_safe, ..] = parts.as_slice() else {
        return false;
    };
    if version.tag != Tag::Integer || version.content != [3] || auth_safe.tag != Tag::Sequence {
        return false;
    }
    der_first(auth_safe.content).is_some_and(|oid| {
        oid.tag == Tag::Oid && (oid.content == OID_DATA || oid.content == OID_SIGNED_DATA)
    })
}

/// The start of a PFX (SEQUENCE, INTEGER 3) whose outer length does not fit the bytes.
pub fn looks_like_cut_pfx(der: &[u8]) -> bool {
    if der.first() != Some(&0x30) || der_first(der).is_some() {
        return false;
    }
    // A long-form length of 1-3 bytes, then version INTEGER 3.
    let n = match der.get(1) {
        Some(&l) if l & 0x80 != 0 => (l & 0x7f) as usize,
        _ => 0,
    };
    der.get(2 + n..5 + n) == Some(&[0x02, 0x01, 0x03])
}

/// Reads a PFX: the leaf (the certificate of the key, if there is a key), its chain and key.
///
/// Reads what OpenSSL 3 writes by default (PBES2/AES), `-legacy` RC2-40, 3DES, and Windows
/// exports. A MAC or decryption failure is reported as [`PfxError::WrongPassword`].
pub fn read_pfx(bytes: &[u8], password: &str) -> Result<Loaded, PfxError> {
    use p12_keystore::error::Error as P12;
    let archive = Pkcs12Archive::from_pkcs12(bytes, password).map_err(|e| match e {
        // MAC mismatch, or (MAC-less files) bad padding after decryption.
        P12::MacError(_) | P12::UnpadError | P12::Pkcs5Error(_) => {
            if password_opens_a_key(bytes, password) {
                PfxError::Damaged
            } else {
                PfxError::WrongPassword
            }
        }
        other => PfxError::Malformed(other),
    })?;
    let certs: Vec<Vec<u8>> = archive
        .certs
        .iter()
        .map(|b| b.cert.as_der().to_vec())
        .collect();
    if certs.is_empty() {
        return Err(PfxError::NoCertificate);
    }
    // Use the first key that belongs to one of the certificates; Windows may add stray keys.
    let mut key = None;
    for bag in &archive.keys {
        let der = bag.key.as_der();
        let Some(public) = public_key_of_pkcs8(der) else {
            continue;
        };
        let matches = certs.iter().any(|c| {
            x509_parser::parse_x509_certificate(c)
                .is_ok_and(|(_, x)| *x.public_key().subject_public_key.data == public[..])
        });
        if matches {
            key = Some(der.to_vec());
            break;
        }
    }
    if key.is_none() && !archive.keys.is_empty() {
        return Err(PfxError::KeyDoesNotMatch);
    }
    assemble(certs, key).map_err(|e| PfxError::Contents(Box::new(e)))
}

/// Whether `password` decrypts a PBES2-encrypted private key found anywhere in `bytes`: when the
/// MAC fails but this succeeds, the password is right and the file was altered.
fn password_opens_a_key(bytes: &[u8], password: &str) -> bool {
    const PBES2: &[u8] = &[
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d,
    ];
    let mut tries = 0;
    for (at, _) in bytes
        .windows(PBES2.len())
        .enumerate()
        .filter(|(_, w)| *w == PBES2)
    {
        // EncryptedPrivateKeyInfo: SEQUENCE (2-4 byte header) { SEQUENCE (2-3) { OID pbes2 ...
        for back in 4..=8 {
            let Some(start) = at.checked_sub(back) else {
                continue;
            };
            if bytes[start] != 0x30 {
                continue;
            }
            tries += 1;
            if tries > 4 {
                return false;
            }
            if let Some(e) = der_first(&bytes[start..]) {
                if decrypt_pkcs8_der(e.raw, password).is_ok() {
                    return true;
                }
            }
        }
    }
    false
}

/// A PEM text: the leaf certificate, the chain certificates, then the key as PKCS#8 `PRIVATE KEY`.
pub fn write_pem_bundle(leaf: &[u8], chain: &[Vec<u8>], key_pkcs8: &[u8]) -> String {
    let config = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
    let mut blocks = vec![pem::Pem::new("CERTIFICATE", leaf.to_vec())];
    blocks.extend(
        chain
            .iter()
            .map(|c| pem::Pem::new("CERTIFICATE", c.clone())),
    );
    blocks.push(pem::Pem::new("PRIVATE KEY", key_pkcs8.to_vec()));
    pem::encode_many_config(&blocks, config)
}

/// PEM "ENCRYPTED PRIVATE KEY": PKCS#8 EncryptedPrivateKeyInfo with PBES2 (PBKDF2-HMAC-SHA256,
/// [`PEM_KEY_ITERATIONS`] iterations, 16-byte random salt) and AES-256-CBC (random IV).
///
/// What `openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256` writes; `openssl pkey
/// -passin` opens it. The password is used as its UTF-8 bytes, as OpenSSL does for PBES2.
/// An empty password is allowed (OpenSSL opens such a file with `-passin pass:`), but callers
/// that export keys only on request should insist on one.
pub fn encrypt_pkcs8_pem(key_pkcs8_der: &[u8], password: &str) -> Result<String, PfxError> {
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
    der_first(der)
        .filter(|e| e.tag == Tag::Sequence)
        .and_then(|outer| der_first(outer.content))
        .is_some_and(|first| first.tag == Tag::Sequence)
}

/// The most PBKDF2 iterations an encrypted key may ask for (p12-keystore's limit too).
const MAX_KDF_ITERATIONS: u32 = 1_000_000;

/// Opens what [`encrypt_pkcs8_der`] wrote (PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC).
/// A wrong password is [`PfxError::WrongPassword`] (bad padding or a result that is no key).
pub fn decrypt_pkcs8_der(encrypted: &[u8], password: &str) -> Result<Vec<u8>, PfxError> {
    use aws_lc_rs::cipher::{
        DecryptionContext, PaddedBlockDecryptingKey, UnboundCipherKey, AES_256,
    };
    use pkcs5::der::Decode;
    let outer = der_first(encrypted)
        .filter(|e| e.tag == Tag::Sequence)
        .ok_or(PfxError::InvalidKey)?;
    let alg = der_first(outer.content).ok_or(PfxError::InvalidKey)?;
    let alg_der = alg.raw;
    let data = der_first(&outer.content[alg.raw.len()..])
        .filter(|e| e.tag == Tag::OctetString)
        .ok_or(PfxError::InvalidKey)?;
    let scheme = pkcs5::EncryptionScheme::from_der(alg_der).map_err(PfxError::EncodeKey)?;
    let pkcs5::EncryptionScheme::Pbes2(params) = scheme else {
        return Err(PfxError::InvalidKey);
    };
    let pkcs5::pbes2::Kdf::Pbkdf2(kdf) = &params.kdf else {
        return Err(PfxError::InvalidKey);
    };
    let pkcs5::pbes2::EncryptionScheme::Aes256Cbc { iv } = params.encryption else {
        return Err(PfxError::InvalidKey);
    };
    if kdf.prf != pkcs5::pbes2::Pbkdf2Prf::HmacWithSha256 {
        return Err(PfxError::InvalidKey);
    }
    // Bounded like p12-keystore's own reader: a hostile count must not stall the process.
    if kdf.iteration_count > MAX_KDF_ITERATIONS {
        return Err(PfxError::InvalidKey);
    }
    let rounds = std::num::NonZeroU32::new(kdf.iteration_count).ok_or(PfxError::InvalidKey)?;
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
        .map_err(|_| PfxError::InvalidKey);
    key.fill(0);
    let mut buf = data.content.to_vec();
    let plain = cipher?
        .decrypt(&mut buf, DecryptionContext::Iv128(iv.into()))
        .map_err(|_| PfxError::WrongPassword)?
        .to_vec();
    buf.fill(0);
    public_key_of_pkcs8(&plain).ok_or(PfxError::WrongPassword)?;
    Ok(plain)
}

/// PKCS#8 EncryptedPrivateKeyInfo DER, as in [`encrypt_pkcs8_pem`] (the store keeps keys so
/// when `CSCERT_STORE_PASSWORD` is set).
pub fn encrypt_pkcs8_der(key_pkcs8_der: &[u8], password: &str) -> Result<Vec<u8>, PfxError> {
    use aws_lc_rs::cipher::{PaddedBlockEncryptingKey, UnboundCipherKey, AES_256};
    use pkcs5::der::{asn1::OctetString, Encode, Header, Length, Tag};

    public_key_of_pkcs8(key_pkcs8_der).ok_or(PfxError::InvalidKey)?;
    // Derivation and cipher run in aws-lc (pkcs5's pure-Rust PBKDF2 takes seconds for 600k
    // iterations in unoptimised builds); pkcs5 supplies the PBES2 parameter encoding.
    let mut salt = [0u8; PEM_KEY_SALT_LEN];
    aws_lc_rs::rand::fill(&mut salt).map_err(|_| PfxError::Random)?;
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
        .map_err(|_| PfxError::Encrypt(pkcs5::Error::EncryptFailed));
    key.fill(0);
    let cipher = cipher?;
    // AES-256-CBC with PKCS#7 padding (RFC 8018 B.2.5); aws-lc draws a random 16-byte IV.
    let mut encrypted = key_pkcs8_der.to_vec();
    let context = cipher
        .encrypt(&mut encrypted)
        .map_err(|_| PfxError::Encrypt(pkcs5::Error::EncryptFailed))?;
    let iv: [u8; 16] = <&[u8]>::try_from(&context)
        .ok()
        .and_then(|iv| iv.try_into().ok())
        .ok_or(PfxError::Encrypt(pkcs5::Error::EncryptFailed))?;
    let params =
        pkcs5::pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(PEM_KEY_ITERATIONS, &salt, iv)
            .map_err(PfxError::Encrypt)?;

    // EncryptedPrivateKeyInfo ::= SEQUENCE { encryptionAlgorithm AlgorithmIdentifier,
    //                                         encryptedData OCTET STRING }
    let der_err = PfxError::EncodeKey;
    let mut body = pkcs5::EncryptionScheme::from(params)
        .to_der()
        .map_err(der_err)?;
    OctetString::new(encrypted)
        .map_err(der_err)?
        .encode_to_vec(&mut body)
        .map_err(der_err)?;
    let length = Length::try_from(body.len()).map_err(der_err)?;
    let mut der = Vec::with_capacity(body.len() + 8);
    Header::new(Tag::Sequence, length)
        .encode_to_vec(&mut der)
        .map_err(der_err)?;
    der.extend_from_slice(&body);
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
) -> Result<String, PfxError> {
    let (_, parsed) =
        x509_parser::parse_x509_certificate(leaf).map_err(|_| PfxError::InvalidCertificate(0))?;
    for (i, der) in chain.iter().enumerate() {
        x509_parser::parse_x509_certificate(der)
            .map_err(|_| PfxError::InvalidCertificate(i + 1))?;
    }
    let public = public_key_of_pkcs8(key_pkcs8).ok_or(PfxError::InvalidKey)?;
    if *parsed.public_key().subject_public_key.data != public[..] {
        return Err(PfxError::KeyDoesNotMatch);
    }
    let config = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
    let mut blocks = vec![pem::Pem::new("CERTIFICATE", leaf.to_vec())];
    blocks.extend(
        chain
            .iter()
            .map(|c| pem::Pem::new("CERTIFICATE", c.clone())),
    );
    let mut text = pem::encode_many_config(&blocks, config);
    text.push_str(&encrypt_pkcs8_pem(key_pkcs8, password)?);
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::certfile::read_certificates;
    use crate::pki::certfile::tests::{have_openssl, openssl, openssl_chain};
    use std::path::Path;

    const PASS: &str = "S3cret-pass!";

    fn key_der(pem_text: &str) -> Vec<u8> {
        pem::parse(pem_text).unwrap().into_contents()
    }

    /// Checks a PFX we wrote with openssl: certs list, key extraction without -legacy, key match.
    fn check_with_openssl(dir: &Path, pfx: &[u8], name: &str, expect_certs: usize) -> String {
        std::fs::write(dir.join(name), pfx).unwrap();
        let pass = format!("pass:{PASS}");
        let info = openssl(
            dir,
            &["pkcs12", "-in", name, "-info", "-nokeys", "-passin", &pass],
        );
        let info = String::from_utf8(info).unwrap();
        assert_eq!(
            info.matches("-----BEGIN CERTIFICATE-----").count(),
            expect_certs,
            "{info}"
        );
        let key = openssl(
            dir,
            &[
                "pkcs12", "-in", name, "-nocerts", "-noenc", "-passin", &pass,
            ],
        );
        std::fs::write(dir.join("out.key"), key).unwrap();
        let certs = openssl(
            dir,
            &[
                "pkcs12", "-in", name, "-clcerts", "-nokeys", "-passin", &pass,
            ],
        );
        std::fs::write(dir.join("out.crt"), certs).unwrap();
        let a = openssl(dir, &["pkey", "-in", "out.key", "-pubout"]);
        let b = openssl(dir, &["x509", "-in", "out.crt", "-noout", "-pubkey"]);
        assert_eq!(a, b, "key and certificate of {name} do not match");
        // -info prints the algorithms on stderr; capture them for the caller's checks.
        let out = std::process::Command::new("openssl")
            .args(["pkcs12", "-in", name, "-info", "-noout", "-passin", &pass])
            .current_dir(dir)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    #[test]
    fn modern_and_legacy_open_in_openssl_without_legacy_flag() {
        if !have_openssl() {
            return;
        }
        let c = openssl_chain();
        let d = c.dir.path();
        let key = key_der(&c.leaf_key_pem);
        let chain = vec![c.inter.clone(), c.root.clone()];

        let modern =
            write_pfx(&c.leaf, &chain, &key, PASS, Some("Edge Certificate"), false).unwrap();
        let algs = check_with_openssl(d, &modern, "modern.pfx", 3);
        assert!(algs.contains("AES-256-CBC"), "{algs}");
        assert!(algs.contains("sha256"), "{algs}");
        assert!(!algs.to_lowercase().contains("rc2"), "{algs}");

        let legacy = write_pfx(&c.leaf, &chain, &key, PASS, None, true).unwrap();
        let algs = check_with_openssl(d, &legacy, "legacy.pfx", 3);
        assert!(algs.contains("pbeWithSHA1And3-KeyTripleDES-CBC"), "{algs}");
        assert!(algs.contains("MAC: sha1"), "{algs}");
        assert!(!algs.to_lowercase().contains("rc2"), "{algs}");

        // The friendly name is on the key bag.
        let pass = format!("pass:{PASS}");
        let keys = openssl(
            d,
            &[
                "pkcs12",
                "-in",
                "modern.pfx",
                "-nocerts",
                "-noenc",
                "-passin",
                &pass,
            ],
        );
        assert!(String::from_utf8(keys)
            .unwrap()
            .contains("friendlyName: Edge Certificate"));

        // And our reader gives back what went in.
        for pfx in [&modern, &legacy] {
            let loaded = read_pfx(pfx, PASS).unwrap();
            assert_eq!(loaded.leaf, c.leaf);
            assert_eq!(loaded.chain, chain);
            assert_eq!(loaded.private_key_pkcs8.as_deref(), Some(&key[..]));
        }
    }

    #[test]
    fn reads_openssl_written_pfx() {
        if !have_openssl() {
            return;
        }
        let c = openssl_chain();
        let d = c.dir.path();
        let pass = format!("pass:{PASS}");
        std::fs::write(d.join("cas.pem"), {
            let mut s = std::fs::read_to_string(d.join("inter.pem")).unwrap();
            s.push_str(&std::fs::read_to_string(d.join("root.pem")).unwrap());
            s
        })
        .unwrap();
        let base = [
            "pkcs12",
            "-export",
            "-in",
            "leaf.pem",
            "-inkey",
            "leaf.key",
            "-certfile",
            "cas.pem",
            "-passout",
            &pass,
            "-out",
        ];
        // OpenSSL 3 defaults (PBES2 AES-256, SHA-256 MAC), and what old Windows writes (3DES, SHA-1).
        openssl(d, &[&base[..], &["default.pfx"]].concat());
        openssl(
            d,
            &[
                &base[..],
                &[
                    "des.pfx",
                    "-certpbe",
                    "PBE-SHA1-3DES",
                    "-keypbe",
                    "PBE-SHA1-3DES",
                    "-macalg",
                    "sha1",
                ],
            ]
            .concat(),
        );
        let mut files = vec!["default.pfx", "des.pfx"];
        // RC2-40 needs the legacy provider, which is not always installed.
        let legacy_ok = std::process::Command::new("openssl")
            .args([&base[..], &["rc2.pfx", "-legacy"]].concat())
            .current_dir(d)
            .output()
            .is_ok_and(|o| o.status.success());
        if legacy_ok {
            files.push("rc2.pfx");
        } else {
            eprintln!("notice: openssl legacy provider unavailable; rc2-40 pfx not tested");
        }
        for f in files {
            let bytes = std::fs::read(d.join(f)).unwrap();
            assert!(looks_like_pfx(&bytes), "{f}");
            let loaded = read_certificates(&bytes, Some(PASS)).unwrap();
            assert_eq!(loaded.leaf, c.leaf, "{f}");
            assert_eq!(loaded.chain, vec![c.inter.clone(), c.root.clone()], "{f}");
            assert_eq!(
                loaded.private_key_pkcs8.unwrap(),
                key_der(&c.leaf_key_pem),
                "{f}"
            );

            let err = read_certificates(&bytes, Some("not-the-password")).unwrap_err();
            assert!(matches!(err, CertFileError::WrongPassword), "{f}: {err}");
            let err = read_certificates(&bytes, None).unwrap_err();
            assert!(matches!(err, CertFileError::PasswordRequired), "{f}: {err}");
        }
    }

    #[test]
    fn pfx_with_empty_password_opens_without_one() {
        let cert = rcgen::generate_simple_self_signed(vec!["a.example".into()]).unwrap();
        let key = cert.signing_key.serialize_der();
        let pfx = write_pfx(cert.cert.der(), &[], &key, "", None, false).unwrap();
        let loaded = read_certificates(&pfx, None).unwrap();
        assert_eq!(loaded.leaf, cert.cert.der().to_vec());
        assert_eq!(loaded.private_key_pkcs8.unwrap(), key);
    }

    #[test]
    fn wrong_key_and_bad_input_are_refused() {
        let a = rcgen::generate_simple_self_signed(vec!["a.example".into()]).unwrap();
        let b = rcgen::KeyPair::generate().unwrap();
        let err = write_pfx(a.cert.der(), &[], &b.serialize_der(), PASS, None, false).unwrap_err();
        assert!(matches!(err, PfxError::KeyDoesNotMatch), "{err}");
        let err = write_pfx(b"junk", &[], &b.serialize_der(), PASS, None, false).unwrap_err();
        assert!(matches!(err, PfxError::InvalidCertificate(0)), "{err}");
        let err = write_pfx(a.cert.der(), &[], b"junk", PASS, None, false).unwrap_err();
        assert!(matches!(err, PfxError::InvalidKey), "{err}");
        assert!(!looks_like_pfx(a.cert.der()));
        assert!(matches!(
            read_pfx(b"junk", PASS),
            Err(PfxError::Malformed(_))
        ));
    }

    #[test]
    fn pem_bundle_is_readable_by_openssl_and_us() {
        let cert = rcgen::generate_simple_self_signed(vec!["a.example".into()]).unwrap();
        let key = cert.signing_key.serialize_der();
        let chain = vec![
            rcgen::generate_simple_self_signed(vec!["ca.example".into()])
                .unwrap()
                .cert
                .der()
                .to_vec(),
        ];
        let text = write_pem_bundle(cert.cert.der(), &chain, &key);
        assert_eq!(text.matches("-----BEGIN CERTIFICATE-----").count(), 2);
        assert!(text.contains("-----BEGIN PRIVATE KEY-----"));
        assert!(!text.contains('\r'));
        assert!(text.find("PRIVATE KEY").unwrap() > text.rfind("BEGIN CERTIFICATE").unwrap());
        if have_openssl() {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("b.pem"), &text).unwrap();
            let a = openssl(dir.path(), &["pkey", "-in", "b.pem", "-pubout"]);
            let b = openssl(dir.path(), &["x509", "-in", "b.pem", "-noout", "-pubkey"]);
            assert_eq!(a, b);
        }
    }

    /// Whether openssl succeeds; its output (possibly key material) is discarded.
    fn openssl_try(dir: &Path, args: &[&str]) -> bool {
        std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("run openssl")
            .status
            .success()
    }

    #[test]
    fn encrypted_pem_key_opens_in_openssl_only_with_the_password() {
        if !have_openssl() {
            return;
        }
        let c = openssl_chain();
        let d = c.dir.path();
        let key = key_der(&c.leaf_key_pem);
        let text = encrypt_pkcs8_pem(&key, PASS).unwrap();
        assert!(text.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
        assert!(!text.contains('\r'));
        assert!(!text.contains("-----BEGIN PRIVATE KEY-----"));
        std::fs::write(d.join("enc.key"), &text).unwrap();

        let pass = format!("pass:{PASS}");
        // Opens with the password; its public key is the certificate's.
        openssl(d, &["pkey", "-in", "enc.key", "-passin", &pass, "-noout"]);
        let a = openssl(d, &["pkey", "-in", "enc.key", "-passin", &pass, "-pubout"]);
        let b = openssl(d, &["x509", "-in", "leaf.pem", "-noout", "-pubkey"]);
        assert_eq!(a, b, "decrypted key does not match the certificate");

        // A wrong password, or none, fails.
        let ok = openssl_try(
            d,
            &["pkey", "-in", "enc.key", "-passin", "pass:wrong", "-noout"],
        );
        assert!(!ok, "openssl opened the key with a wrong password");
        let ok = openssl_try(d, &["pkey", "-in", "enc.key", "-passin", "pass:", "-noout"]);
        assert!(!ok, "openssl opened the key with an empty password");

        // The algorithms are PBES2 / PBKDF2-HMAC-SHA256 / AES-256-CBC, 600000 iterations.
        let asn1 = String::from_utf8(openssl(d, &["asn1parse", "-in", "enc.key"])).unwrap();
        for alg in ["PBES2", "PBKDF2", "hmacWithSHA256", "aes-256-cbc"] {
            assert!(asn1.contains(alg), "{alg} missing from asn1parse output");
        }
        // 600000 = 0x0927C0; the salt (depth 5) and the IV (depth 4) are 16 bytes each.
        assert!(asn1.contains(":0927C0"), "iteration count not 600000");
        let octets: Vec<&str> = asn1
            .lines()
            .filter(|l| l.contains("OCTET STRING"))
            .map(|l| l.split("prim:").next().unwrap_or(""))
            .collect();
        assert_eq!(octets.len(), 3, "salt, iv, ciphertext");
        assert!(
            octets[0].contains("d=5") && octets[0].contains("l=  16"),
            "{}",
            octets[0]
        );
        assert!(
            octets[1].contains("d=4") && octets[1].contains("l=  16"),
            "{}",
            octets[1]
        );
        assert_eq!(PEM_KEY_ITERATIONS, 600_000);

        // Salt and IV are fresh each time.
        assert_ne!(encrypt_pkcs8_pem(&key, PASS).unwrap(), text);

        // An empty password is what OpenSSL means by `pass:` too; non-ASCII is used as UTF-8.
        std::fs::write(d.join("empty.key"), encrypt_pkcs8_pem(&key, "").unwrap()).unwrap();
        openssl(
            d,
            &["pkey", "-in", "empty.key", "-passin", "pass:", "-noout"],
        );
        std::fs::write(
            d.join("utf8.key"),
            encrypt_pkcs8_pem(&key, "Pässwörd€").unwrap(),
        )
        .unwrap();
        openssl(
            d,
            &[
                "pkey",
                "-in",
                "utf8.key",
                "-passin",
                "pass:Pässwörd€",
                "-noout",
            ],
        );
    }

    #[test]
    fn encrypted_pem_bundle_opens_in_openssl_and_reader_reports_encrypted_key() {
        if !have_openssl() {
            return;
        }
        let c = openssl_chain();
        let d = c.dir.path();
        let key = key_der(&c.leaf_key_pem);
        let chain = vec![c.inter.clone(), c.root.clone()];
        let text = write_encrypted_pem_bundle(&c.leaf, &chain, &key, PASS).unwrap();
        assert_eq!(text.matches("-----BEGIN CERTIFICATE-----").count(), 3);
        assert_eq!(
            text.matches("-----BEGIN ENCRYPTED PRIVATE KEY-----")
                .count(),
            1
        );
        assert!(!text.contains("-----BEGIN PRIVATE KEY-----"));
        assert!(!text.contains('\r'));
        assert!(
            text.find("ENCRYPTED PRIVATE KEY").unwrap() > text.rfind("BEGIN CERTIFICATE").unwrap()
        );
        std::fs::write(d.join("bundle.pem"), &text).unwrap();

        let pass = format!("pass:{PASS}");
        let a = openssl(
            d,
            &["pkey", "-in", "bundle.pem", "-passin", &pass, "-pubout"],
        );
        let b = openssl(d, &["x509", "-in", "bundle.pem", "-noout", "-pubkey"]);
        assert_eq!(
            a, b,
            "bundle key does not match the bundle's first certificate"
        );
        let ok = openssl_try(
            d,
            &[
                "pkey",
                "-in",
                "bundle.pem",
                "-passin",
                "pass:wrong",
                "-noout",
            ],
        );
        assert!(!ok, "openssl opened the bundle key with a wrong password");
        // The first certificate is the leaf.
        let leaf = openssl(d, &["x509", "-in", "bundle.pem", "-outform", "DER"]);
        assert_eq!(leaf, c.leaf);

        // Our reader does not decrypt PEM keys: it says so rather than dropping the key.
        let err = read_certificates(text.as_bytes(), Some(PASS)).unwrap_err();
        assert!(matches!(err, CertFileError::EncryptedKey), "{err}");
    }

    #[test]
    fn encrypted_pem_refuses_bad_input() {
        let a = rcgen::generate_simple_self_signed(vec!["a.example".into()]).unwrap();
        let b = rcgen::KeyPair::generate().unwrap();
        let err = encrypt_pkcs8_pem(b"junk", PASS).unwrap_err();
        assert!(matches!(err, PfxError::InvalidKey), "{err}");
        let err =
            write_encrypted_pem_bundle(a.cert.der(), &[], &b.serialize_der(), PASS).unwrap_err();
        assert!(matches!(err, PfxError::KeyDoesNotMatch), "{err}");
        let key = a.signing_key.serialize_der();
        let err = write_encrypted_pem_bundle(b"junk", &[], &key, PASS).unwrap_err();
        assert!(matches!(err, PfxError::InvalidCertificate(0)), "{err}");
        let err =
            write_encrypted_pem_bundle(a.cert.der(), &[b"junk".to_vec()], &key, PASS).unwrap_err();
        assert!(matches!(err, PfxError::InvalidCertificate(1)), "{err}");
    }
}
