//! Distinguished names as Windows prints them (Get-CsCertificate's `Subject`/`Issuer`) and hex helpers.

use std::fmt::Write as _;

use const_oid::ObjectIdentifier;
use x509_parser::der_parser::asn1_rs::Tag;
use x509_parser::x509::{AttributeTypeAndValue, X509Name};

/// Windows' short names (CertNameToStr, CERT_X500_NAME_STR), compared by the OID's content
/// bytes so that a lookup needs no allocation.
const SHORT_NAMES: &[(ObjectIdentifier, &str)] = &[
    (oid("2.5.4.3"), "CN"),
    (oid("2.5.4.11"), "OU"),
    (oid("2.5.4.10"), "O"),
    (oid("2.5.4.7"), "L"),
    (oid("2.5.4.8"), "S"),
    (oid("2.5.4.6"), "C"),
    (oid("1.2.840.113549.1.9.1"), "E"),
    (oid("0.9.2342.19200300.100.1.25"), "DC"),
    (oid("2.5.4.9"), "STREET"),
    (oid("2.5.4.12"), "T"),
    (oid("2.5.4.42"), "G"),
    (oid("2.5.4.43"), "I"),
    (oid("2.5.4.4"), "SN"),
    (oid("2.5.4.5"), "SERIALNUMBER"),
    (oid("2.5.4.17"), "PostalCode"),
    (oid("2.5.4.13"), "Description"),
];

const fn oid(dotted: &str) -> ObjectIdentifier {
    ObjectIdentifier::new_unwrap(dotted)
}

/// `CN=pool01.contoso.net, OU=IT, O="Contoso, Inc", L=Redmond, S=Washington, C=US`: RDNs in
/// reverse DER order (most specific first), multi-valued RDNs joined with ` + `.
pub fn windows_dn(name: &X509Name) -> String {
    let mut out = String::with_capacity(name.as_raw().len());
    let rdns: Vec<_> = name.iter_rdn().collect();
    for (i, rdn) in rdns.iter().rev().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        for (j, atv) in rdn.iter().enumerate() {
            if j > 0 {
                out.push_str(" + ");
            }
            push_attribute(&mut out, atv);
        }
    }
    out
}

fn push_attribute(out: &mut String, atv: &AttributeTypeAndValue) {
    let oid = atv.attr_type();
    match SHORT_NAMES
        .iter()
        .find(|(id, _)| id.as_bytes() == oid.as_bytes())
    {
        Some((_, short)) => out.push_str(short),
        // Windows prints unknown types as `OID.1.2.3=value`.
        None => {
            let _ = write!(out, "OID.{oid}");
        }
    }
    out.push('=');
    let value = attribute_value(atv);
    push_quoted(out, &value);
}

/// The attribute's text, whatever DirectoryString type carries it. Values that are not strings
/// are shown as `#` and hex of their content, as RFC 4514 does.
pub fn attribute_value(atv: &AttributeTypeAndValue) -> String {
    let any = atv.attr_value();
    let data = any.data;
    match any.tag() {
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::NumericString
        | Tag::VisibleString => String::from_utf8_lossy(data).into_owned(),
        // TeletexString is in practice Latin-1 (that is what Windows and OpenSSL assume).
        Tag::T61String => data.iter().map(|&b| b as char).collect(),
        Tag::BmpString => {
            let units = data
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]));
            char::decode_utf16(units)
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect()
        }
        Tag::UniversalString => data
            .chunks_exact(4)
            .map(|c| {
                char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                    .unwrap_or(char::REPLACEMENT_CHARACTER)
            })
            .collect(),
        _ => format!("#{}", hex_upper(data)),
    }
}

/// Windows quotes a value holding a separator or special character, or with spaces at either
/// end, and doubles an embedded quote.
fn push_quoted(out: &mut String, value: &str) {
    let needs = value.starts_with(' ')
        || value.ends_with(' ')
        || value.chars().any(|c| {
            matches!(
                c,
                ',' | '+' | '=' | '"' | '\n' | '\r' | '<' | '>' | '#' | ';'
            )
        });
    if !needs {
        out.push_str(value);
        return;
    }
    out.push('"');
    for c in value.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
}

/// One attribute value, quoted as Windows shows it (`O="Contoso, Inc"`).
pub fn quote_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    push_quoted(&mut out, value);
    out
}

/// Uppercase hex without separators (serial numbers, thumbprints).
pub fn hex_upper(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 0x0f) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, DistinguishedName, DnType, DnValue, KeyPair};
    use x509_parser::prelude::*;

    fn dn_of(dn: DistinguishedName) -> String {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name = dn;
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let cert = params.self_signed(&key).unwrap();
        let (_, parsed) = X509Certificate::from_der(cert.der()).unwrap();
        windows_dn(parsed.subject())
    }

    #[test]
    fn windows_order_short_names_and_quoting() {
        // rcgen writes attributes in insertion order, so this is C first in DER, like OpenSSL.
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CountryName, "US");
        dn.push(DnType::StateOrProvinceName, "Washington");
        dn.push(DnType::LocalityName, "Redmond");
        dn.push(DnType::OrganizationName, "Contoso, Inc");
        dn.push(DnType::OrganizationalUnitName, "IT");
        dn.push(DnType::CommonName, "pool01.contoso.net");
        assert_eq!(
            dn_of(dn),
            r#"CN=pool01.contoso.net, OU=IT, O="Contoso, Inc", L=Redmond, S=Washington, C=US"#
        );
    }

    #[test]
    fn embedded_quote_is_doubled_and_spaces_quoted() {
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, r#"The "Best" Co"#);
        dn.push(DnType::CommonName, " padded ");
        assert_eq!(dn_of(dn), r#"CN=" padded ", O="The ""Best"" Co""#);
    }

    #[test]
    fn bmp_string_and_unknown_oid() {
        let mut dn = DistinguishedName::new();
        dn.push(
            DnType::CustomDnType(vec![1, 2, 3, 4]),
            DnValue::Utf8String("x".into()),
        );
        dn.push(
            DnType::CommonName,
            DnValue::BmpString(
                rcgen::string::BmpString::from_utf16be(vec![0x00, 0xe9, 0x00, 0x65]).unwrap(),
            ),
        );
        assert_eq!(dn_of(dn), "CN=\u{e9}e, OID.1.2.3.4=x");
    }

    #[test]
    fn empty_name_is_empty_string() {
        assert_eq!(dn_of(DistinguishedName::new()), "");
    }

    #[test]
    fn hex_is_uppercase_without_separators() {
        assert_eq!(hex_upper(&[0x00, 0xab, 0x0f, 0xff]), "00AB0FFF");
        assert_eq!(hex_upper(&[]), "");
    }
}
