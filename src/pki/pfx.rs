//! Reading PFX (PKCS#12) files into their raw certificates and key; `certfile` puts them in
//! order. The writers are in `export` (re-exported here for the callers of the old paths).

use std::fmt;

use der::{Decode, Encode, Header, SliceReader, Tag};
use p12_keystore::Pkcs12Archive;
use x509_parser::oid_registry::{OID_PKCS7_ID_DATA, OID_PKCS7_ID_SIGNED_DATA};

use super::der::{ber_elements, ber_first, key_matches_certificate, public_key_of_pkcs8};
pub use super::export::{
    decrypt_pkcs8_der, encrypt_pkcs8_der, encrypt_pkcs8_pem, is_encrypted_pkcs8,
    write_encrypted_pem_bundle, write_pem_bundle, write_pfx, ExportError,
};

/// What a PFX holds: its certificates (file order) and the key that belongs to one of them.
#[derive(Clone, PartialEq, Eq)]
pub struct PfxContents {
    /// DER of every certificate in the file.
    pub certs: Vec<Vec<u8>>,
    /// PKCS#8 DER of the first key that belongs to one of `certs`.
    pub key: Option<Vec<u8>>,
}

// Hand-written so that the private key never reaches a log or an error message.
impl fmt::Debug for PfxContents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PfxContents")
            .field("certs", &self.certs.len())
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Why a PFX could not be read.
#[derive(Debug)]
pub enum PfxError {
    /// The MAC or the decryption failed: the password is not the one the file was made with.
    WrongPassword,
    /// The password opens the key, but the MAC fails: the file was altered or damaged.
    Damaged,
    /// The file holds keys, but none belongs to any of its certificates.
    KeyDoesNotMatch,
    /// The file opened but holds no certificate.
    NoCertificate,
    /// The file is not a PKCS#12 structure p12-keystore can read.
    Malformed(p12_keystore::error::Error),
}

impl fmt::Display for PfxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PfxError::WrongPassword => f.write_str("the password is not correct for this pfx file"),
            PfxError::Damaged => f.write_str("the file is damaged: the password opens its private key, but its integrity check (MAC) fails, so it was altered or truncated after it was made; export the pfx again"),
            PfxError::KeyDoesNotMatch => {
                f.write_str("the private key does not belong to the certificate")
            }
            PfxError::NoCertificate => f.write_str("the pfx file holds no certificate"),
            PfxError::Malformed(e) => write!(f, "unreadable pfx data ({e})"),
        }
    }
}

impl std::error::Error for PfxError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PfxError::Malformed(e) => Some(e),
            _ => None,
        }
    }
}

/// Whether `der` is shaped like a PFX: SEQUENCE { INTEGER 3, ContentInfo(data|signedData), ... }.
pub fn looks_like_pfx(der: &[u8]) -> bool {
    let Some(outer) = ber_first(der).filter(|e| e.tag == Tag::Sequence) else {
        return false;
    };
    let Some(parts) = ber_elements(outer.content) else {
        return false;
    };
    let [version, auth_safe, ..] = parts.as_slice() else {
        return false;
    };
    if version.tag != Tag::Integer || version.content != [3] || auth_safe.tag != Tag::Sequence {
        return false;
    }
    ber_first(auth_safe.content).is_some_and(|oid| {
        oid.tag == Tag::ObjectIdentifier
            && (oid.content == OID_PKCS7_ID_DATA.as_bytes()
                || oid.content == OID_PKCS7_ID_SIGNED_DATA.as_bytes())
    })
}

/// The start of a PFX (SEQUENCE, INTEGER 3) whose outer length does not fit the bytes.
pub fn looks_like_cut_pfx(der: &[u8]) -> bool {
    if ber_first(der).is_some() {
        return false;
    }
    // Windows writes indefinite lengths, which `der` finds the end of by reading to it, so a
    // cut one cannot be read: its header is the two bytes 30 80.
    if der.get(..2) == Some(&[0x30, 0x80]) {
        return der.get(2..5) == Some(&[0x02, 0x01, 0x03]);
    }
    // The SEQUENCE header reads (its length is not checked against the bytes), then version 3.
    let Ok(mut reader) = SliceReader::new(der) else {
        return false;
    };
    Header::decode(&mut reader).is_ok_and(|h| h.tag() == Tag::Sequence)
        && u8::decode(&mut reader) == Ok(3)
}

/// Reads a PFX: its certificates and the key that belongs to one of them (see
/// `certfile::read_certificates` for the leaf and its chain in order).
///
/// Reads what OpenSSL 3 writes by default (PBES2/AES), `-legacy` RC2-40, 3DES, and Windows
/// exports. A MAC or decryption failure is reported as [`PfxError::WrongPassword`].
pub fn read_pfx(bytes: &[u8], password: &str) -> Result<PfxContents, PfxError> {
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
        if certs.iter().any(|c| key_matches_certificate(&public, c)) {
            key = Some(der.to_vec());
            break;
        }
    }
    if key.is_none() && !archive.keys.is_empty() {
        return Err(PfxError::KeyDoesNotMatch);
    }
    Ok(PfxContents { certs, key })
}

/// Whether `password` decrypts a PBES2-encrypted private key found anywhere in `bytes`: when the
/// MAC fails but this succeeds, the password is right and the file was altered.
fn password_opens_a_key(bytes: &[u8], password: &str) -> bool {
    let Ok(pbes2) = pkcs5::pbes2::PBES2_OID.to_der() else {
        return false;
    };
    let mut tries = 0;
    for (at, _) in bytes
        .windows(pbes2.len())
        .enumerate()
        .filter(|(_, w)| *w == pbes2)
    {
        // EncryptedPrivateKeyInfo: SEQUENCE (2-4 byte header) { SEQUENCE (2-3) { OID pbes2 ...
        for back in 4..=8 {
            let Some(start) = at.checked_sub(back) else {
                continue;
            };
            let Some(e) = ber_first(&bytes[start..]).filter(|e| e.tag == Tag::Sequence) else {
                continue;
            };
            tries += 1;
            if tries > 4 {
                return false;
            }
            if decrypt_pkcs8_der(e.raw, password).is_ok() {
                return true;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::certfile::tests::{have_openssl, openssl, openssl_chain};
    use crate::pki::certfile::{read_certificates, CertFileError};
    use crate::pki::export::PEM_KEY_ITERATIONS;
    use std::path::Path;

    const PASS: &str = "S3cret-pass!";

    #[test]
    fn cut_pfx_is_recognised_with_definite_and_indefinite_lengths() {
        // openssl's definite lengths, cut after the version.
        assert!(looks_like_cut_pfx(&[
            0x30, 0x82, 0x10, 0x00, 0x02, 0x01, 0x03, 0x30
        ]));
        // Windows' indefinite lengths, cut inside the authSafe.
        assert!(looks_like_cut_pfx(&[
            0x30, 0x80, 0x02, 0x01, 0x03, 0x30, 0x80, 0x06, 0x09
        ]));
        // Whole elements, another version, or no SEQUENCE: not a cut PFX.
        assert!(!looks_like_cut_pfx(&[0x30, 0x03, 0x02, 0x01, 0x03]));
        assert!(!looks_like_cut_pfx(&[0x30, 0x80, 0x02, 0x01, 0x01, 0x30]));
        assert!(!looks_like_cut_pfx(&[0x31, 0x80, 0x02, 0x01, 0x03, 0x30]));
    }

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
            let loaded = read_certificates(pfx, Some(PASS)).unwrap();
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
            crate::pki::certfile::tests::skip_or_fail("openssl's legacy provider (RC2-40 PFX)");
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
        assert!(matches!(err, ExportError::KeyDoesNotMatch), "{err}");
        let err = write_pfx(b"junk", &[], &b.serialize_der(), PASS, None, false).unwrap_err();
        assert!(matches!(err, ExportError::InvalidCertificate(0)), "{err}");
        let err = write_pfx(a.cert.der(), &[], b"junk", PASS, None, false).unwrap_err();
        assert!(matches!(err, ExportError::InvalidKey), "{err}");
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
        assert!(matches!(err, ExportError::InvalidKey), "{err}");
        let err =
            write_encrypted_pem_bundle(a.cert.der(), &[], &b.serialize_der(), PASS).unwrap_err();
        assert!(matches!(err, ExportError::KeyDoesNotMatch), "{err}");
        let key = a.signing_key.serialize_der();
        let err = write_encrypted_pem_bundle(b"junk", &[], &key, PASS).unwrap_err();
        assert!(matches!(err, ExportError::InvalidCertificate(0)), "{err}");
        let err =
            write_encrypted_pem_bundle(a.cert.der(), &[b"junk".to_vec()], &key, PASS).unwrap_err();
        assert!(matches!(err, ExportError::InvalidCertificate(1)), "{err}");
    }
}
