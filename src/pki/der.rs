//! DER encoding and walking, and private-key format conversion: the one place in `pki` that
//! reads or writes raw TLVs. A leaf module: it imports nothing from the rest of the crate.
//!
//! OIDs come from `x509_parser::oid_registry` (compared by their content bytes).

use x509_parser::asn1_rs::{Any, Class, FromBer, FromDer, Tag};
use x509_parser::oid_registry::{OID_KEY_TYPE_EC_PUBLIC_KEY, OID_PKCS1_RSAENCRYPTION};

/// Encodes one DER TLV with a single-byte tag.
pub(crate) fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// One parsed element: its universal/context tag, class, full raw encoding and content.
pub(crate) struct Element<'a> {
    pub tag: Tag,
    pub class: Class,
    pub raw: &'a [u8],
    pub content: &'a [u8],
}

/// Splits `input` into consecutive BER/DER elements.
pub(crate) fn der_elements(mut input: &[u8]) -> Option<Vec<Element<'_>>> {
    let mut out = Vec::new();
    while !input.is_empty() {
        let (rest, any) = Any::from_ber(input).ok()?;
        let raw = &input[..input.len() - rest.len()];
        out.push(Element {
            tag: any.header.tag(),
            class: any.header.class(),
            raw,
            content: any.data,
        });
        input = rest;
    }
    Some(out)
}

/// The first BER/DER element of `input`, ignoring whatever follows it.
pub(crate) fn der_first(input: &[u8]) -> Option<Element<'_>> {
    let (rest, any) = Any::from_ber(input).ok()?;
    Some(Element {
        tag: any.header.tag(),
        class: any.header.class(),
        raw: &input[..input.len() - rest.len()],
        content: any.data,
    })
}

/// The content of the single DER element that makes up `input`.
pub(crate) fn der_single(input: &[u8]) -> Option<Element<'_>> {
    let (rest, any) = Any::from_der(input).ok()?;
    if !rest.is_empty() {
        return None;
    }
    Some(Element {
        tag: any.header.tag(),
        class: any.header.class(),
        raw: input,
        content: any.data,
    })
}

/// One DER TLV as (tag byte, content, rest), without allocating: the hot path of
/// Test-CsCertificate (key sizes, otherNames). Only single-byte tags and definite lengths.
pub(crate) fn split_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | b as usize);
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// Content of a DER TLV with the given tag that fills `input` up to its own length.
pub(crate) fn expect_tlv(input: &[u8], tag: u8) -> Option<&[u8]> {
    let (t, content, _) = split_tlv(input)?;
    (t == tag).then_some(content)
}

/// Wraps a PKCS#1 `RSAPrivateKey` into PKCS#8.
pub(crate) fn rsa_pkcs1_to_pkcs8(pkcs1: &[u8]) -> Option<Vec<u8>> {
    let seq = der_single(pkcs1)?;
    if seq.tag != Tag::Sequence || der_elements(seq.content)?.len() < 9 {
        return None;
    }
    let mut alg = der_tlv(0x06, OID_PKCS1_RSAENCRYPTION.as_bytes());
    alg.extend_from_slice(&[0x05, 0x00]);
    Some(pkcs8_of(&alg, pkcs1))
}

/// Wraps a SEC1 `ECPrivateKey` into PKCS#8, taking the curve from its parameters.
pub(crate) fn ec_sec1_to_pkcs8(sec1: &[u8]) -> Option<Vec<u8>> {
    let seq = der_single(sec1)?;
    if seq.tag != Tag::Sequence {
        return None;
    }
    let parts = der_elements(seq.content)?;
    let params = parts
        .iter()
        .find(|e| e.class == Class::ContextSpecific && e.tag == Tag(0))?;
    let curve = der_single(params.content)?;
    if curve.tag != Tag::Oid {
        return None; // explicit curve parameters: not supported by any consumer here
    }
    let mut alg = der_tlv(0x06, OID_KEY_TYPE_EC_PUBLIC_KEY.as_bytes());
    alg.extend_from_slice(curve.raw);
    Some(pkcs8_of(&alg, sec1))
}

fn pkcs8_of(alg_content: &[u8], private_key: &[u8]) -> Vec<u8> {
    let mut body = vec![0x02, 0x01, 0x00];
    body.extend(der_tlv(0x30, alg_content));
    body.extend(der_tlv(0x04, private_key));
    der_tlv(0x30, &body)
}

/// The subjectPublicKey bits that belong to a PKCS#8 private key.
///
/// RSA is read structurally (modulus and exponent are in the private key), so keys the
/// crypto library would refuse (e.g. 1024-bit ones in old PFX files) still match their
/// certificate; other algorithms go through rcgen.
pub(crate) fn public_key_of_pkcs8(pkcs8: &[u8]) -> Option<Vec<u8>> {
    let seq = der_single(pkcs8)?;
    let parts = der_elements(seq.content)?;
    let alg = parts.get(1)?;
    let alg_oid = der_elements(alg.content)?.into_iter().next()?;
    if alg_oid.content == OID_PKCS1_RSAENCRYPTION.as_bytes() {
        let pkcs1 = der_single(parts.get(2)?.content)?;
        let fields = der_elements(pkcs1.content)?;
        let (n, e) = (fields.get(1)?, fields.get(2)?);
        let mut body = n.raw.to_vec();
        body.extend_from_slice(e.raw);
        return Some(der_tlv(0x30, &body));
    }
    let pair = rcgen::KeyPair::try_from(pkcs8).ok()?;
    Some(pair.public_key_raw().to_vec())
}

/// Whether the certificate's subjectPublicKey is the public half of the PKCS#8 `key`.
pub(crate) fn key_matches_certificate(public: &[u8], cert_der: &[u8]) -> bool {
    x509_parser::parse_x509_certificate(cert_der)
        .is_ok_and(|(_, x)| *x.public_key().subject_public_key.data == public[..])
}
