//! Reads the identities and properties the validator needs from certificates and PKCS#10 requests (PEM or DER).

use std::fmt;

use chrono::{DateTime, Utc};
use const_oid::ObjectIdentifier;
use der::asn1::AnyRef;
use der::{Decode, Reader, SliceReader, Tag, Tagged};
use serde::Serialize;
use x509_parser::certificate::X509Certificate;
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::cri_attributes::ParsedCriAttribute;
use x509_parser::der_parser::asn1_rs::{FromDer, Oid};
use x509_parser::extensions::{GeneralName, ParsedExtension, X509Extension};
use x509_parser::oid_registry::{
    OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384, OID_NIST_EC_P521,
    OID_PKCS1_RSAENCRYPTION, OID_PKCS1_RSASSAPSS, OID_X509_EXT_SUBJECT_ALT_NAME,
};
use x509_parser::x509::{SubjectPublicKeyInfo, X509Name};

use super::der::{context_tag, der_first};
use super::dn::{attribute_value, hex_upper, windows_dn};
use super::pem;

/// The OIDs this module looks for that `oid_registry` does not name (compared by their
/// content bytes, without allocating; the others come from `x509_parser::oid_registry`).
mod oid {
    use super::ObjectIdentifier;
    /// id-on-xmppAddr
    pub const XMPP_ADDR: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.8.5");
    /// id-on-dnsSRV
    pub const DNS_SRV: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.8.7");
    /// Microsoft's legacy "certificate extensions" request attribute
    pub const MS_CERT_EXTENSIONS: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.2.1.14");
}

/// Whether the item was a PKCS#10 request or an issued certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Kind {
    Request,
    Certificate,
}

/// An otherName identity (XmppAddr or SRVName) and whether it had the string type its
/// definition requires (UTF8String for xmppAddr, IA5String for SRVName).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OtherId {
    pub value: String,
    pub well_typed: bool,
}

/// The keyUsage bits (RFC 5280 §4.2.1.3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct KeyUsageBits {
    pub digital_signature: bool,
    pub non_repudiation: bool,
    pub key_encipherment: bool,
    pub data_encipherment: bool,
    pub key_agreement: bool,
    pub key_cert_sign: bool,
    pub crl_sign: bool,
    pub encipher_only: bool,
    pub decipher_only: bool,
}

/// The subject public key: `algorithm` is `RSA`, `EC`, `RSASSA-PSS` or the dotted OID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    pub algorithm: String,
    /// Modulus size for RSA, field size for EC; 0 when unknown.
    pub bits: u32,
    /// `P-256`, `P-384`, `P-521` or the dotted curve OID, for EC keys.
    pub curve: Option<String>,
}

/// Everything the validator and the cmdlets read from one certificate or request. Not
/// `Serialize`: output shapes belong to the output module (and chrono has no serde here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspected {
    pub kind: Kind,
    /// Windows-order DN (`CN=..., O=..., C=...`); empty for an empty subject.
    pub subject: String,
    pub subject_cn: Vec<String>,
    /// SAN dNSName entries exactly as presented (not normalised, possibly invalid).
    pub dns_names: Vec<String>,
    pub srv_names: Vec<OtherId>,
    pub xmpp_addrs: Vec<OtherId>,
    pub uris: Vec<String>,
    pub ip_addresses: Vec<String>,
    pub san_present: bool,
    pub san_critical: bool,
    /// The SAN extension could not be decoded (names above may be incomplete).
    pub san_malformed: bool,
    /// Request only: a SAN came in the PKCS#9 extensionRequest attribute.
    pub san_from_extension_request: bool,
    /// Request only: a SAN came in Microsoft's legacy attribute 1.3.6.1.4.1.311.2.1.14.
    pub san_from_legacy_ms_attribute: bool,
    /// Dotted EKU OIDs; `None` when there is no extendedKeyUsage extension.
    pub eku: Option<Vec<String>>,
    pub key_usage: Option<KeyUsageBits>,
    /// `None` when there is no basicConstraints extension.
    pub basic_constraints_ca: Option<bool>,
    pub key: KeyInfo,
    /// Dotted OID of the signature algorithm.
    pub signature_alg: String,
    pub not_before: Option<DateTime<Utc>>,
    pub not_after: Option<DateTime<Utc>>,
    pub issuer: Option<String>,
    /// Uppercase hex of the serial's DER content bytes, as .NET's `SerialNumber` shows them.
    pub serial: Option<String>,
    /// SHA-1 of the certificate's DER, 40 uppercase hex digits.
    pub thumbprint: Option<String>,
    pub spki_der: Vec<u8>,
}

/// Why bytes could not be read as certificates or requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InspectError {
    /// PEM armour that does not decode.
    Pem(String),
    /// A CERTIFICATE block or DER input that is not a certificate.
    Certificate(String),
    /// A CERTIFICATE REQUEST block or DER input that is not a request.
    Request(String),
    /// Neither PEM with a certificate/request block nor DER of either.
    NothingUsable,
}

impl fmt::Display for InspectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InspectError::Pem(e) => write!(f, "invalid PEM: {e}"),
            InspectError::Certificate(e) => write!(f, "invalid certificate: {e}"),
            InspectError::Request(e) => write!(f, "invalid certificate request: {e}"),
            InspectError::NothingUsable => {
                f.write_str("no certificate or certificate request found (expected PEM or DER)")
            }
        }
    }
}

impl std::error::Error for InspectError {}

/// Reads every certificate and request in `bytes`: PEM (any number of `CERTIFICATE`,
/// `CERTIFICATE REQUEST` or `NEW CERTIFICATE REQUEST` blocks; keys and other blocks are
/// skipped) or a single DER certificate or request.
pub fn inspect_bytes(bytes: &[u8]) -> Result<Vec<Inspected>, InspectError> {
    if pem::looks_like_pem(bytes) {
        let blocks = pem::parse_many(bytes).map_err(InspectError::Pem)?;
        let mut out = Vec::with_capacity(blocks.len());
        for block in &blocks {
            if block.is_certificate() {
                out.push(inspect_der_certificate(&block.contents)?)
            } else if block.is_request() {
                out.push(inspect_der_request(&block.contents)?)
            }
        }
        if out.is_empty() {
            return Err(InspectError::NothingUsable);
        }
        return Ok(out);
    }
    // DER: both structures are SEQUENCE { SEQUENCE ... }, so try the common case first.
    match inspect_der_certificate(bytes) {
        Ok(item) => Ok(vec![item]),
        Err(_) => match inspect_der_request(bytes) {
            Ok(item) => Ok(vec![item]),
            Err(_) => Err(InspectError::NothingUsable),
        },
    }
}

/// Reads one DER certificate (trailing bytes are an error).
pub fn inspect_der_certificate(der: &[u8]) -> Result<Inspected, InspectError> {
    let (rest, cert) =
        X509Certificate::from_der(der).map_err(|e| InspectError::Certificate(e.to_string()))?;
    if !rest.is_empty() {
        return Err(InspectError::Certificate(format!(
            "{} bytes after the certificate",
            rest.len()
        )));
    }
    let mut item = empty(Kind::Certificate, cert.subject(), cert.public_key());
    item.signature_alg = cert.signature_algorithm.algorithm.to_id_string();
    let validity = cert.validity();
    item.not_before = DateTime::from_timestamp(validity.not_before.timestamp(), 0);
    item.not_after = DateTime::from_timestamp(validity.not_after.timestamp(), 0);
    item.issuer = Some(windows_dn(cert.issuer()));
    item.serial = Some(hex_upper(cert.raw_serial()));
    let sha1 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, der);
    item.thumbprint = Some(hex_upper(sha1.as_ref()));
    for ext in cert.extensions() {
        apply_extension(&mut item, ext, Source::Certificate);
    }
    Ok(item)
}

/// Reads one DER PKCS#10 request, taking extensions from both the PKCS#9 extensionRequest
/// attribute and Microsoft's legacy 1.3.6.1.4.1.311.2.1.14 attribute.
pub fn inspect_der_request(der: &[u8]) -> Result<Inspected, InspectError> {
    let (rest, req) = X509CertificationRequest::from_der(der)
        .map_err(|e| InspectError::Request(e.to_string()))?;
    if !rest.is_empty() {
        return Err(InspectError::Request(format!(
            "{} bytes after the request",
            rest.len()
        )));
    }
    let info = &req.certification_request_info;
    let mut item = empty(Kind::Request, &info.subject, &info.subject_pki);
    item.signature_alg = req.signature_algorithm.algorithm.to_id_string();
    let mut has_legacy = false;
    for attr in info.iter_attributes() {
        match attr.parsed_attribute() {
            ParsedCriAttribute::ExtensionRequest(er) => {
                for ext in &er.extensions {
                    apply_extension(&mut item, ext, Source::ExtensionRequest);
                }
            }
            _ if attr.oid.as_bytes() == oid::MS_CERT_EXTENSIONS.as_bytes() => has_legacy = true,
            _ => {}
        }
    }
    if has_legacy {
        let legacy_error =
            |e: &str| InspectError::Request(format!("attribute 1.3.6.1.4.1.311.2.1.14: {e}"));
        let set = legacy_attribute_set(info.raw).ok_or_else(|| legacy_error("malformed"))?;
        let exts = parse_legacy_extensions(set).map_err(|e| legacy_error(&e))?;
        for ext in &exts {
            apply_extension(&mut item, ext, Source::LegacyMsAttribute);
        }
    }
    Ok(item)
}

/// The SET content of the legacy attribute, found by walking the request info ourselves:
/// x509-parser keeps only the SET header as the `value` of attributes it does not know.
fn legacy_attribute_set(cri: &[u8]) -> Option<&[u8]> {
    let info = der_first(cri)?;
    let mut fields = SliceReader::new(info.value()).ok()?;
    for _ in ["version", "subject", "subjectPKInfo"] {
        fields.tlv_bytes().ok()?;
    }
    let attributes = AnyRef::decode(&mut fields).ok()?;
    if attributes.tag() != context_tag(0) {
        return None;
    }
    let mut attributes = SliceReader::new(attributes.value()).ok()?;
    while !attributes.is_finished() {
        let attribute = AnyRef::decode(&mut attributes).ok()?;
        let mut parts = SliceReader::new(attribute.value()).ok()?;
        let id = AnyRef::decode(&mut parts).ok()?;
        if id.tag() == Tag::ObjectIdentifier && id.value() == oid::MS_CERT_EXTENSIONS.as_bytes() {
            let values = AnyRef::decode(&mut parts).ok()?;
            return (values.tag() == Tag::Set).then_some(values.value());
        }
    }
    None
}

/// The SET content `SEQUENCE OF Extension` — the same syntax as extensionRequest, which
/// x509-parser only decodes under the PKCS#9 OID.
fn parse_legacy_extensions(set: &[u8]) -> Result<Vec<X509Extension<'_>>, String> {
    let mut seq = der_first(set)
        .filter(|s| s.tag() == Tag::Sequence)
        .ok_or("expected a SEQUENCE of extensions")?
        .value();
    let mut out = Vec::new();
    while !seq.is_empty() {
        let (rest, ext) = X509Extension::from_der(seq).map_err(|e| e.to_string())?;
        out.push(ext);
        seq = rest;
    }
    Ok(out)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    Certificate,
    ExtensionRequest,
    LegacyMsAttribute,
}

fn empty(kind: Kind, subject: &X509Name, spki: &SubjectPublicKeyInfo) -> Inspected {
    Inspected {
        kind,
        subject: windows_dn(subject),
        subject_cn: subject.iter_common_name().map(attribute_value).collect(),
        dns_names: Vec::new(),
        srv_names: Vec::new(),
        xmpp_addrs: Vec::new(),
        uris: Vec::new(),
        ip_addresses: Vec::new(),
        san_present: false,
        san_critical: false,
        san_malformed: false,
        san_from_extension_request: false,
        san_from_legacy_ms_attribute: false,
        eku: None,
        key_usage: None,
        basic_constraints_ca: None,
        key: key_info(spki),
        signature_alg: String::new(),
        not_before: None,
        not_after: None,
        issuer: None,
        serial: None,
        thumbprint: None,
        spki_der: spki.raw.to_vec(),
    }
}

fn key_info(spki: &SubjectPublicKeyInfo) -> KeyInfo {
    let alg = spki.algorithm.algorithm.as_bytes();
    let key = spki.subject_public_key.data.as_ref();
    let (rsa_oid, rsa_pss_oid) = (OID_PKCS1_RSAENCRYPTION, OID_PKCS1_RSASSAPSS);
    let (rsa, rsa_pss) = (rsa_oid.as_bytes(), rsa_pss_oid.as_bytes());
    if alg == rsa || alg == rsa_pss {
        // RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }
        let bits = der_first(key)
            .and_then(|seq| der_first(seq.value()))
            .map_or(0, |modulus| unsigned_bits(modulus.value()));
        let name = if alg == rsa { "RSA" } else { "RSASSA-PSS" };
        KeyInfo {
            algorithm: name.into(),
            bits,
            curve: None,
        }
    } else if alg == OID_KEY_TYPE_EC_PUBLIC_KEY.as_bytes() {
        let curve_oid = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.as_oid().ok());
        let named = [
            (OID_EC_P256, "P-256", 256),
            (OID_NIST_EC_P384, "P-384", 384),
            (OID_NIST_EC_P521, "P-521", 521),
        ]
        .into_iter()
        .find(|(o, _, _)| curve_oid.as_ref() == Some(o));
        let (curve, bits) = match named {
            Some((_, name, bits)) => (Some(name.to_string()), bits),
            None => (
                curve_oid.map(|o| o.to_id_string()),
                // Uncompressed point: 0x04 || X || Y.
                (key.len().saturating_sub(1) * 4) as u32,
            ),
        };
        KeyInfo {
            algorithm: "EC".into(),
            bits,
            curve,
        }
    } else {
        KeyInfo {
            algorithm: spki.algorithm.algorithm.to_id_string(),
            bits: 0,
            curve: None,
        }
    }
}

/// Bit length of a big-endian unsigned INTEGER content (leading zero octets ignored).
fn unsigned_bits(int: &[u8]) -> u32 {
    match int.iter().position(|&b| b != 0) {
        Some(i) => (int.len() - i - 1) as u32 * 8 + (8 - int[i].leading_zeros()),
        None => 0,
    }
}

fn apply_extension(item: &mut Inspected, ext: &X509Extension, source: Source) {
    match ext.parsed_extension() {
        ParsedExtension::SubjectAlternativeName(san) => {
            item.san_present = true;
            item.san_critical |= ext.critical;
            match source {
                Source::ExtensionRequest => item.san_from_extension_request = true,
                Source::LegacyMsAttribute => item.san_from_legacy_ms_attribute = true,
                Source::Certificate => {}
            }
            // A request may carry the same SAN in both attributes: keep each name once.
            let dedupe = source != Source::Certificate;
            for gn in &san.general_names {
                add_general_name(item, gn, dedupe);
            }
        }
        ParsedExtension::KeyUsage(ku) => {
            item.key_usage = Some(KeyUsageBits {
                digital_signature: ku.digital_signature(),
                non_repudiation: ku.non_repudiation(),
                key_encipherment: ku.key_encipherment(),
                data_encipherment: ku.data_encipherment(),
                key_agreement: ku.key_agreement(),
                key_cert_sign: ku.key_cert_sign(),
                crl_sign: ku.crl_sign(),
                encipher_only: ku.encipher_only(),
                decipher_only: ku.decipher_only(),
            })
        }
        ParsedExtension::ExtendedKeyUsage(eku) => {
            let mut oids = Vec::with_capacity(2 + eku.other.len());
            for (set, dotted) in [
                (eku.any, "2.5.29.37.0"),
                (eku.server_auth, "1.3.6.1.5.5.7.3.1"),
                (eku.client_auth, "1.3.6.1.5.5.7.3.2"),
                (eku.code_signing, "1.3.6.1.5.5.7.3.3"),
                (eku.email_protection, "1.3.6.1.5.5.7.3.4"),
                (eku.time_stamping, "1.3.6.1.5.5.7.3.8"),
                (eku.ocsp_signing, "1.3.6.1.5.5.7.3.9"),
            ] {
                if set {
                    oids.push(dotted.to_string());
                }
            }
            oids.extend(eku.other.iter().map(Oid::to_id_string));
            item.eku = Some(oids);
        }
        ParsedExtension::BasicConstraints(bc) => item.basic_constraints_ca = Some(bc.ca),
        ParsedExtension::ParseError { .. } if is_san_oid(ext) => {
            item.san_present = true;
            item.san_critical |= ext.critical;
            item.san_malformed = true;
        }
        _ => {}
    }
}

fn is_san_oid(ext: &X509Extension) -> bool {
    ext.oid == OID_X509_EXT_SUBJECT_ALT_NAME
}

fn push_unique<T: PartialEq>(list: &mut Vec<T>, value: T, dedupe: bool) {
    if !dedupe || !list.contains(&value) {
        list.push(value);
    }
}

fn add_general_name(item: &mut Inspected, gn: &GeneralName, dedupe: bool) {
    match gn {
        GeneralName::DNSName(s) => push_unique(&mut item.dns_names, s.to_string(), dedupe),
        // x509-parser yields Invalid for a dNSName that is not UTF-8; keep it (lossily) so the
        // validator can report it instead of it silently disappearing.
        GeneralName::Invalid(tag, data) if tag.0 == 2 => push_unique(
            &mut item.dns_names,
            String::from_utf8_lossy(data).into_owned(),
            dedupe,
        ),
        GeneralName::URI(s) => push_unique(&mut item.uris, s.to_string(), dedupe),
        GeneralName::IPAddress(b) => {
            push_unique(&mut item.ip_addresses, format_ip(b), dedupe);
        }
        GeneralName::OtherName(oid, value) => {
            let id = oid.as_bytes();
            if id == oid::XMPP_ADDR.as_bytes() {
                push_unique(
                    &mut item.xmpp_addrs,
                    other_id(value, Tag::Utf8String),
                    dedupe,
                );
            } else if id == oid::DNS_SRV.as_bytes() {
                push_unique(&mut item.srv_names, other_id(value, Tag::Ia5String), dedupe);
            }
        }
        _ => {}
    }
}

/// Decodes an otherName's `[0] EXPLICIT` value. `expected` is the universal tag the identity's
/// definition requires; any other string type is still read, but marked as ill-typed.
fn other_id(value: &[u8], expected: Tag) -> OtherId {
    let inner = der_first(value)
        .filter(|v| v.tag() == context_tag(0))
        .and_then(|v| der_first(v.value()));
    match inner {
        Some(inner) => {
            let (tag, content) = (inner.tag(), inner.value());
            let text = match tag {
                // BMPString: UTF-16BE.
                Tag::BmpString => char::decode_utf16(
                    content
                        .chunks_exact(2)
                        .map(|c| u16::from_be_bytes([c[0], c[1]])),
                )
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect(),
                _ => String::from_utf8_lossy(content).into_owned(),
            };
            let ascii_ok = tag != Tag::Ia5String || content.is_ascii();
            OtherId {
                value: text,
                well_typed: tag == expected && ascii_ok,
            }
        }
        None => OtherId {
            value: String::new(),
            well_typed: false,
        },
    }
}

fn format_ip(bytes: &[u8]) -> String {
    match bytes.len() {
        4 => std::net::Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]).to_string(),
        16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(bytes);
            std::net::Ipv6Addr::from(a).to_string()
        }
        _ => hex_upper(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn fixture(name: &str) -> Vec<u8> {
        let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/identities")
            .join(name);
        std::fs::read(&p).unwrap_or_else(|e| panic!("fixture {} missing: {e}", p.display()))
    }

    fn one(name: &str) -> Inspected {
        let mut v = inspect_bytes(&fixture(name)).unwrap();
        assert_eq!(v.len(), 1, "{name}");
        v.pop().unwrap()
    }

    fn ok(v: &str) -> OtherId {
        OtherId {
            value: v.into(),
            well_typed: true,
        }
    }

    fn edge_names(item: &Inspected) {
        assert_eq!(
            item.subject,
            r#"CN=sip.contoso.com, O="Contoso, Inc", C=US"#
        );
        assert_eq!(item.subject_cn, vec!["sip.contoso.com"]);
        assert_eq!(
            item.dns_names,
            vec![
                "sip.contoso.com",
                "webcon.contoso.com",
                "sip.fabrikam.com",
                "contoso.com"
            ]
        );
        assert_eq!(
            item.xmpp_addrs,
            vec![ok("contoso.com"), ok("finance.contoso.com")]
        );
        assert_eq!(
            item.srv_names,
            vec![
                ok("_xmpp-server.contoso.com"),
                ok("_xmpp-server.corp.contoso.com")
            ]
        );
        assert!(item.san_present && !item.san_critical && !item.san_malformed);
        assert_eq!(
            item.eku.as_deref(),
            Some(
                &[
                    "1.3.6.1.5.5.7.3.1".to_string(),
                    "1.3.6.1.5.5.7.3.2".to_string()
                ][..]
            )
        );
        let ku = item.key_usage.unwrap();
        assert!(ku.digital_signature && ku.key_encipherment && !ku.key_cert_sign);
        assert_eq!(item.basic_constraints_ca, Some(false));
        assert_eq!(item.key.algorithm, "RSA");
        assert_eq!(item.key.bits, 2048);
        assert_eq!(item.signature_alg, "1.2.840.113549.1.1.11");
    }

    #[test]
    fn edge_certificate_pem_and_der_agree() {
        let pem = one("edge-xmpp.crt");
        let der = one("edge-xmpp.der");
        assert_eq!(pem, der);
        edge_names(&pem);
        assert_eq!(pem.kind, Kind::Certificate);
        assert_eq!(pem.serial.as_deref(), Some("0A1B2C3D"));
        assert_eq!(pem.issuer.as_deref(), Some(pem.subject.as_str()));
        let sha1 = String::from_utf8(fixture("edge-xmpp.sha1")).unwrap();
        assert_eq!(pem.thumbprint.as_deref(), Some(sha1.trim()));
        let (nb, na) = (pem.not_before.unwrap(), pem.not_after.unwrap());
        assert_eq!((na - nb).num_days(), 3650);
        assert!(!pem.spki_der.is_empty() && pem.spki_der[0] == 0x30);
    }

    #[test]
    fn edge_request_pem_and_der_agree() {
        let pem = one("edge-xmpp.csr");
        let der = one("edge-xmpp.csr.der");
        assert_eq!(pem, der);
        edge_names(&pem);
        assert_eq!(pem.kind, Kind::Request);
        assert!(pem.san_from_extension_request && !pem.san_from_legacy_ms_attribute);
        assert_eq!(
            (pem.not_after, pem.serial.as_ref(), pem.thumbprint.as_ref()),
            (None, None, None)
        );
        // Certificate and request share the key.
        assert_eq!(pem.spki_der, one("edge-xmpp.crt").spki_der);
    }

    #[test]
    fn wrongly_typed_other_names_are_flagged() {
        for name in [
            "badtypes.crt",
            "badtypes.der",
            "badtypes.csr",
            "badtypes.csr.der",
        ] {
            let item = one(name);
            let bad = |v: &str| OtherId {
                value: v.into(),
                well_typed: false,
            };
            assert_eq!(item.xmpp_addrs, vec![bad("contoso.com")], "{name}");
            assert_eq!(
                item.srv_names,
                vec![bad("_xmpp-server.contoso.com")],
                "{name}"
            );
        }
    }

    #[test]
    fn cn_only_and_wildcard() {
        for name in ["cn-only.crt", "cn-only.der"] {
            let item = one(name);
            assert!(!item.san_present);
            assert!(item.dns_names.is_empty());
            assert_eq!(item.subject, "CN=legacy.contoso.com");
            assert_eq!(item.key_usage, None);
        }
        for name in ["wildcard.crt", "wildcard.der"] {
            let item = one(name);
            assert_eq!(item.dns_names, vec!["www.contoso.com", "*.contoso.com"]);
        }
    }

    #[test]
    fn pem_bundle_skips_keys_and_keeps_order() {
        let mut bundle = b"subject=junk before the armour\n".to_vec();
        bundle.extend(fixture("wildcard.crt"));
        bundle.extend(b"-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n");
        bundle.extend(fixture("edge-xmpp.csr"));
        let items = inspect_bytes(&bundle).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].kind, Kind::Certificate);
        assert_eq!(items[1].kind, Kind::Request);
        // NEW CERTIFICATE REQUEST is what certreq.exe writes.
        let csr = String::from_utf8(fixture("edge-xmpp.csr"))
            .unwrap()
            .replace("CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST");
        assert_eq!(
            inspect_bytes(csr.as_bytes()).unwrap()[0].kind,
            Kind::Request
        );
    }

    #[test]
    fn unusable_input_is_an_error() {
        assert_eq!(inspect_bytes(b""), Err(InspectError::NothingUsable));
        assert_eq!(inspect_bytes(b"hello"), Err(InspectError::NothingUsable));
        assert_eq!(
            inspect_bytes(b"-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n"),
            Err(InspectError::NothingUsable)
        );
        let mut der = fixture("edge-xmpp.der");
        der.truncate(der.len() - 10);
        assert_eq!(inspect_bytes(&der), Err(InspectError::NothingUsable));
        assert!(matches!(
            inspect_der_certificate(&der),
            Err(InspectError::Certificate(_))
        ));
        let bad_pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            inspect_bytes(bad_pem.as_bytes()),
            Err(InspectError::Certificate(_))
        ));
    }

    #[test]
    fn rcgen_ec_certificate_key_and_ip() {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["a.contoso.com".to_string()]).unwrap();
        params
            .subject_alt_names
            .push(rcgen::SanType::IpAddress("192.0.2.7".parse().unwrap()));
        params
            .subject_alt_names
            .push(rcgen::SanType::URI("sip:contoso.com".try_into().unwrap()));
        let cert = params.self_signed(&key).unwrap();
        let item = inspect_der_certificate(cert.der()).unwrap();
        assert_eq!(item.key.algorithm, "EC");
        assert_eq!(item.key.curve.as_deref(), Some("P-384"));
        assert_eq!(item.key.bits, 384);
        assert_eq!(item.ip_addresses, vec!["192.0.2.7"]);
        assert_eq!(item.uris, vec!["sip:contoso.com"]);
        assert_eq!(item.signature_alg, "1.2.840.10045.4.3.3");
    }

    /// DER TLV with a definite length, for building structures openssl cannot write.
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let n = content.len();
        if n < 0x80 {
            out.push(n as u8);
        } else if n < 0x100 {
            out.extend([0x81, n as u8]);
        } else {
            out.extend([0x82, (n >> 8) as u8, n as u8]);
        }
        out.extend_from_slice(content);
        out
    }

    fn cat(parts: &[&[u8]]) -> Vec<u8> {
        parts.concat()
    }

    /// A signed request whose SANs are only in Microsoft's legacy attribute
    /// 1.3.6.1.4.1.311.2.1.14 (openssl's config cannot write an attribute of that shape).
    fn legacy_request(with_extension_request: bool) -> Vec<u8> {
        use rcgen::{PublicKeyData, SigningKey};
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let san_ext = tlv(
            0x30,
            &cat(&[
                &tlv(0x06, &[0x55, 0x1d, 0x11]),
                &tlv(
                    0x04,
                    &tlv(
                        0x30,
                        &cat(&[&tlv(0x82, b"sip.contoso.com"), &tlv(0x82, b"contoso.com")]),
                    ),
                ),
            ]),
        );
        let exts = tlv(0x30, &san_ext);
        let mut attrs = tlv(
            0x30,
            &cat(&[
                &tlv(0x06, oid::MS_CERT_EXTENSIONS.as_bytes()),
                &tlv(0x31, &exts),
            ]),
        );
        if with_extension_request {
            // 1.2.840.113549.1.9.14
            let er = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x0e];
            attrs.extend(tlv(0x30, &cat(&[&tlv(0x06, &er), &tlv(0x31, &exts)])));
        }
        let name = tlv(
            0x30,
            &tlv(
                0x31,
                &tlv(
                    0x30,
                    &cat(&[
                        &tlv(0x06, &[0x55, 0x04, 0x03]),
                        &tlv(0x0c, b"sip.contoso.com"),
                    ]),
                ),
            ),
        );
        let spki = key.subject_public_key_info();
        let cri = tlv(
            0x30,
            &cat(&[&tlv(0x02, &[0]), &name, &spki, &tlv(0xa0, &attrs)]),
        );
        let sig = key.sign(&cri).unwrap();
        // ecdsa-with-SHA256 1.2.840.10045.4.3.2
        let alg = tlv(
            0x30,
            &tlv(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]),
        );
        tlv(0x30, &cat(&[&cri, &alg, &tlv(0x03, &cat(&[&[0], &sig]))]))
    }

    #[test]
    fn legacy_ms_attribute_sans_are_read() {
        let der = legacy_request(false);
        let item = inspect_der_request(&der).unwrap();
        assert_eq!(item.dns_names, vec!["sip.contoso.com", "contoso.com"]);
        assert!(item.san_present && item.san_from_legacy_ms_attribute);
        assert!(!item.san_from_extension_request);
        // The signature is real, so x509-parser (and openssl) accept the request as signed.
        let (_, req) = X509CertificationRequest::from_der(&der).unwrap();
        req.verify_signature().unwrap();
        // Through PEM too.
        let pem = ::pem::encode(&::pem::Pem::new("NEW CERTIFICATE REQUEST", der));
        assert_eq!(inspect_bytes(pem.as_bytes()).unwrap(), vec![item]);
    }

    #[test]
    fn legacy_and_extension_request_sans_are_merged_once() {
        let item = inspect_der_request(&legacy_request(true)).unwrap();
        assert_eq!(item.dns_names, vec!["sip.contoso.com", "contoso.com"]);
        assert!(item.san_from_legacy_ms_attribute && item.san_from_extension_request);
    }

    /// The fast PEM reader agrees with `pem::parse_many` whenever it answers, and answers for
    /// ordinary files.
    fn same_as_pem(input: &[u8]) -> bool {
        let fast = crate::pki::pem::fast::parse_many(input);
        let slow = ::pem::parse_many(input).map(|v| {
            v.into_iter()
                .map(|b| (b.tag().to_string(), b.into_contents()))
                .collect::<Vec<_>>()
        });
        match (&fast, &slow) {
            (Some(f), Ok(s)) => assert_eq!(f, s, "{:?}", String::from_utf8_lossy(input)),
            (Some(f), Err(e)) => panic!("fast read {f:?} where pem says {e}: {input:?}"),
            (None, _) => {}
        }
        fast.is_some()
    }

    #[test]
    fn fast_pem_agrees_with_pem() {
        let crt = String::from_utf8(fixture("edge-xmpp.crt")).unwrap();
        let csr = String::from_utf8(fixture("edge-xmpp.csr")).unwrap();
        let wild = String::from_utf8(fixture("wildcard.crt")).unwrap();
        let answered = [
            crt.clone(),
            format!("{crt}{csr}{wild}"),
            crt.replace('\n', "\r\n"),
            format!("junk before\n{crt}\n\n  trailing junk"),
            crt.replace('\n', "\n  \t"),
            "-----BEGIN X-----\n-----END X-----\n".to_string(),
            "-----BEGIN X-----\nAA==\n-----END X-----".to_string(),
            "-----BEGIN X-----\nAAA=\n-----END X-----".to_string(),
            "-----BEGIN X-----\nAAAA\n-----END X-----".to_string(),
            "------BEGIN X-----\nAAAA\n-----END X-----".to_string(),
            "-----BEGIN X----\nAAAA\n-----END X-----".to_string(),
            "no armour at all".to_string(),
            "-----BEGIN \u{e9}-----\nAAAA\n-----END \u{e9}-----".to_string(),
        ];
        for input in &answered {
            assert!(same_as_pem(input.as_bytes()), "{input:?}");
        }
        let declined = [
            crt.replacen("-----\n", "-----\nProc-Type: 4,ENCRYPTED\n\n", 1),
            crt.replace("-----END CERTIFICATE", "-----END CERT"),
            crt.replace("-----BEGIN CERTIFICATE", "-----BEGIN "),
            "-----BEGIN X-----\nAB==\n-----END X-----".to_string(),
            "-----BEGIN X-----\nAAB=\n-----END X-----".to_string(),
            "-----BEGIN X-----\nAAA\n-----END X-----".to_string(),
            "-----BEGIN X-----\nA===\n-----END X-----".to_string(),
            "-----BEGIN X-----\nAA==AAAA\n-----END X-----".to_string(),
            "-----BEGIN X-----\nAA-A\n-----END X-----".to_string(),
            "-----BEGIN X-----\nAA\u{a0}AA\n-----END X-----".to_string(),
            "-----BEGIN X-----\nAAAA\n\nAAAA\n-----END X-----".to_string(),
        ];
        for input in &declined {
            assert!(!same_as_pem(input.as_bytes()), "{input:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn fast_pem_agrees_with_pem_on_mutations(
            edits in proptest::collection::vec((0usize..2000, proptest::sample::select(
                b"-\n\r =A/+z0BEGINEND\x0b\xc3".to_vec())), 0..4),
            cut in 0usize..2000,
        ) {
            let mut input = fixture("wildcard.crt");
            input.extend(fixture("edge-xmpp.csr"));
            for (at, b) in edits {
                let at = at % input.len();
                input[at] = b;
            }
            input.truncate(input.len() - cut % 200);
            same_as_pem(&input);
        }
    }

    #[test]
    fn rsa_modulus_bits_ignore_sign_octet() {
        assert_eq!(unsigned_bits(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(unsigned_bits(&[0x01, 0x00]), 9);
        assert_eq!(unsigned_bits(&[0x00]), 0);
    }
}
