//! Element reading (zero-copy DER for the inspect walks, BER for the PFX / PKCS#7 /
//! encrypted-key sniffs) and private-key format conversion, on the RustCrypto `der` family (`der`, `pkcs1`, `sec1`, `pkcs8`, `spki`)
//! that every other DER read and write in `pki` uses too. A leaf module: it imports nothing
//! from the rest of the crate.

use der::asn1::{AnyRef, OctetStringRef};
use der::{Decode, Encode, EncodingRules, Header, Reader, SliceReader, Tag, TagNumber};
use pkcs8::PrivateKeyInfoRef;
use sec1::{EcParameters, EcPrivateKey};
use spki::AlgorithmIdentifierRef;

/// The tag of a constructed `[n]` context-specific element (`[0] EXPLICIT`, `[0] IMPLICIT SET`).
pub(crate) const fn context_tag(number: u32) -> Tag {
    Tag::ContextSpecific {
        constructed: true,
        number: TagNumber(number),
    }
}

/// The first DER element of `input` (whatever follows it is left alone), without copying:
/// the walks on Test-CsCertificate's hot path (key sizes, otherNames, request attributes).
pub(crate) fn der_first(input: &[u8]) -> Option<AnyRef<'_>> {
    let mut reader = SliceReader::new(input).ok()?;
    AnyRef::decode(&mut reader).ok()
}

/// One element of BER input: its tag, full encoding and content (without the end-of-contents
/// octets when its length was indefinite).
pub(crate) struct Element<'a> {
    pub tag: Tag,
    pub raw: &'a [u8],
    pub content: &'a [u8],
}

/// The first BER element of `input`, ignoring whatever follows it (tools append newlines or
/// zero padding after a DER file).
///
/// BER because Windows writes PFX and PKCS#7 files with indefinite lengths; `der` reads them
/// with [`EncodingRules::Ber`], but counts the end-of-contents octets into the length it
/// returns and keeps the indefinite flag to itself, so the length octet is looked at here.
pub(crate) fn ber_first(input: &[u8]) -> Option<Element<'_>> {
    let mut reader = SliceReader::new_with_encoding_rules(input, EncodingRules::Ber).ok()?;
    let header = Header::decode(&mut reader).ok()?;
    let header_len = usize::try_from(reader.position()).ok()?;
    let raw = input.get(..header_len.checked_add(usize::try_from(header.length()).ok()?)?)?;
    let tag_len = usize::try_from(header.tag().encoded_len().ok()?).ok()?;
    let indefinite = header_len == tag_len + 1 && input[tag_len] == 0x80;
    let content_end = if indefinite { raw.len() - 2 } else { raw.len() };
    Some(Element {
        tag: header.tag(),
        raw,
        content: &raw[header_len..content_end],
    })
}

/// Splits `input` into consecutive BER elements (`None` if any is malformed).
pub(crate) fn ber_elements(mut input: &[u8]) -> Option<Vec<Element<'_>>> {
    let mut out = Vec::new();
    while !input.is_empty() {
        let element = ber_first(input)?;
        input = &input[element.raw.len()..];
        out.push(element);
    }
    Some(out)
}

/// Wraps a PKCS#1 `RSAPrivateKey` into PKCS#8.
///
/// The shape is checked (a SEQUENCE of version and eight integers, or more for multi-prime
/// keys), not each integer: old exporters wrote some with non-minimal encodings, which
/// `pkcs1::RsaPrivateKeyRef` refuses and the crypto library takes.
pub(crate) fn rsa_pkcs1_to_pkcs8(pkcs1_der: &[u8]) -> Option<Vec<u8>> {
    let mut reader = SliceReader::new(pkcs1_der).ok()?;
    let integers = reader
        .sequence(|r| {
            let mut n = 0;
            while !r.is_finished() {
                if der::Tagged::tag(&AnyRef::decode(r)?) == Tag::Integer {
                    n += 1;
                }
            }
            Ok::<_, der::Error>(n)
        })
        .ok()?;
    if integers < 9 || !reader.is_finished() {
        return None;
    }
    PrivateKeyInfoRef::new(pkcs1::ALGORITHM_ID, OctetStringRef::new(pkcs1_der).ok()?)
        .to_der()
        .ok()
}

/// Wraps a SEC1 `ECPrivateKey` into PKCS#8, taking the curve from its parameters (a key
/// without a named curve has no consumer here).
pub(crate) fn ec_sec1_to_pkcs8(sec1_der: &[u8]) -> Option<Vec<u8>> {
    let key = EcPrivateKey::from_der(sec1_der).ok()?;
    let EcParameters::NamedCurve(curve) = key.parameters?;
    let algorithm = AlgorithmIdentifierRef {
        oid: sec1::ALGORITHM_OID,
        parameters: Some(AnyRef::from(&curve)),
    };
    PrivateKeyInfoRef::new(algorithm, OctetStringRef::new(sec1_der).ok()?)
        .to_der()
        .ok()
}

/// The subjectPublicKey bits that belong to a PKCS#8 private key.
///
/// RSA is read structurally (modulus and exponent are in the private key), so keys the
/// crypto library would refuse (e.g. 1024-bit ones in old PFX files) still match their
/// certificate; other algorithms go through rcgen.
pub(crate) fn public_key_of_pkcs8(pkcs8_der: &[u8]) -> Option<Vec<u8>> {
    let info = PrivateKeyInfoRef::from_der(pkcs8_der).ok()?;
    if info.algorithm.oid == pkcs1::ALGORITHM_OID {
        return rsa_public_key(info.private_key.as_bytes());
    }
    let pair = rcgen::KeyPair::try_from(pkcs8_der).ok()?;
    Some(pair.public_key_raw().to_vec())
}

/// `RSAPublicKey` DER from the first fields of an `RSAPrivateKey`; the private fields are
/// not decoded (old exporters wrote some of them with non-minimal integers).
fn rsa_public_key(pkcs1_der: &[u8]) -> Option<Vec<u8>> {
    let mut reader = SliceReader::new(pkcs1_der).ok()?;
    let public = reader
        .sequence(|r| {
            let _version = AnyRef::decode(r)?;
            let public = pkcs1::RsaPublicKeyRef {
                modulus: r.decode()?,
                public_exponent: r.decode()?,
            };
            r.drain(r.remaining_len())?;
            Ok::<_, der::Error>(public)
        })
        .ok()?;
    public.to_der().ok()
}

/// Whether the certificate's subjectPublicKey is the public half of the PKCS#8 `key`.
pub(crate) fn key_matches_certificate(public: &[u8], cert_der: &[u8]) -> bool {
    x509_parser::parse_x509_certificate(cert_der)
        .is_ok_and(|(_, x)| *x.public_key().subject_public_key.data == public[..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::certfile::tests::{have_openssl, openssl};

    #[test]
    fn rsa_1024_pkcs1_key_converts_and_gives_its_public_key() {
        if !have_openssl() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        openssl(d, &["genrsa", "-out", "k.pem", "1024"]);
        let pkcs1 = openssl(
            d,
            &["rsa", "-in", "k.pem", "-traditional", "-outform", "DER"],
        );
        let pkcs8 = openssl(
            d,
            &[
                "pkcs8", "-topk8", "-nocrypt", "-in", "k.pem", "-outform", "DER",
            ],
        );
        let public = openssl(
            d,
            &[
                "rsa",
                "-in",
                "k.pem",
                "-RSAPublicKey_out",
                "-outform",
                "DER",
            ],
        );
        assert_eq!(rsa_pkcs1_to_pkcs8(&pkcs1).unwrap(), pkcs8);
        assert_eq!(public_key_of_pkcs8(&pkcs8).unwrap(), public);
        assert!(rsa_pkcs1_to_pkcs8(&pkcs8).is_none());
    }

    #[test]
    fn pkcs1_keys_are_taken_by_shape_not_by_integer_encoding() {
        // version 0, then an integer with a needless leading zero (as old exporters wrote), then
        // seven more: wrapped; one integer short: refused.
        let mut fields = vec![0x02, 0x01, 0x00, 0x02, 0x02, 0x00, 0x05];
        fields.extend([0x02, 0x01, 0x01].repeat(7));
        let key = [&[0x30, fields.len() as u8][..], &fields].concat();
        let pkcs8 = rsa_pkcs1_to_pkcs8(&key).unwrap();
        let info = PrivateKeyInfoRef::from_der(&pkcs8).unwrap();
        assert_eq!(info.algorithm.oid, pkcs1::ALGORITHM_OID);
        assert_eq!(info.private_key.as_bytes(), &key[..]);
        let short = [
            &[0x30, (fields.len() - 3) as u8][..],
            &fields[..fields.len() - 3],
        ]
        .concat();
        assert!(rsa_pkcs1_to_pkcs8(&short).is_none());
    }

    #[test]
    fn sec1_key_converts_with_its_curve() {
        if !have_openssl() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let sec1 = openssl(
            d,
            &[
                "ecparam",
                "-name",
                "secp384r1",
                "-genkey",
                "-noout",
                "-outform",
                "DER",
            ],
        );
        std::fs::write(d.join("k.der"), &sec1).unwrap();
        let spki = openssl(
            d,
            &[
                "ec", "-inform", "DER", "-in", "k.der", "-pubout", "-outform", "DER",
            ],
        );
        let pkcs8 = ec_sec1_to_pkcs8(&sec1).unwrap();
        let info = PrivateKeyInfoRef::from_der(&pkcs8).unwrap();
        assert_eq!(info.algorithm.oid, sec1::ALGORITHM_OID);
        // The public key rcgen derives is the one openssl puts in the SPKI (its last 97 bytes).
        let public = public_key_of_pkcs8(&pkcs8).unwrap();
        assert!(spki.ends_with(&public), "{public:02x?}");
        assert!(ec_sec1_to_pkcs8(&pkcs8).is_none());
    }

    #[test]
    fn ber_indefinite_lengths_lose_their_end_of_contents() {
        // SEQUENCE (indefinite) { [0] (indefinite) { INTEGER 3 } } then trailing padding.
        let ber = [0x30, 0x80, 0xa0, 0x80, 0x02, 0x01, 0x03, 0, 0, 0, 0, 0x0a];
        let outer = ber_first(&ber).unwrap();
        assert_eq!(outer.tag, Tag::Sequence);
        assert_eq!(outer.raw, &ber[..11]);
        let inner = ber_elements(outer.content).unwrap();
        assert_eq!(inner.len(), 1);
        assert_eq!(inner[0].tag, context_tag(0));
        assert_eq!(inner[0].content, &[0x02, 0x01, 0x03]);
    }

    #[test]
    fn definite_long_lengths_are_not_taken_for_indefinite_ones() {
        // OCTET STRING of 0x180 bytes: its last length octet is 0x80.
        let mut der = vec![0x04, 0x82, 0x01, 0x80];
        der.extend([7u8; 0x180]);
        let e = ber_first(&der).unwrap();
        assert_eq!((e.raw.len(), e.content.len()), (der.len(), 0x180));
    }
}
