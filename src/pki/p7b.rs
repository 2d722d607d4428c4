//! Reading the certificates of a PKCS#7 SignedData (`.p7b`, certs-only as Windows CAs and `openssl crl2pkcs7` write it).

use std::fmt;

use der::Tag;
use x509_parser::oid_registry::OID_PKCS7_ID_SIGNED_DATA;

use super::der::{ber_elements, ber_first, context_tag, Element};

/// Why a PKCS#7 structure could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum P7bError {
    /// Not a ContentInfo holding SignedData.
    NotSignedData,
    /// The SignedData is malformed; the text names the part.
    Malformed(&'static str),
    /// The SignedData carries no certificates.
    NoCertificates,
    /// An element of the certificates SET is not a valid X.509 certificate.
    BadCertificate(usize),
}

impl fmt::Display for P7bError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            P7bError::NotSignedData => f.write_str("not a pkcs#7 signeddata structure"),
            P7bError::Malformed(part) => write!(f, "malformed pkcs#7 signeddata ({part})"),
            P7bError::NoCertificates => f.write_str("the pkcs#7 data holds no certificates"),
            P7bError::BadCertificate(i) => {
                write!(
                    f,
                    "certificate #{} in the pkcs#7 data is not valid x.509",
                    i + 1
                )
            }
        }
    }
}

impl std::error::Error for P7bError {}

/// Whether `der` starts like a ContentInfo of type signedData (cheap sniff, no full parse).
pub fn looks_like_pkcs7(der: &[u8]) -> bool {
    content_info(der).is_some()
}

/// The `[0] EXPLICIT` content of a signedData ContentInfo.
fn content_info(der: &[u8]) -> Option<Element<'_>> {
    // Some tools append a newline or zero padding after the DER; only the first element counts.
    let ci = ber_first(der)?;
    if ci.tag != Tag::Sequence {
        return None;
    }
    let oid = ber_first(ci.content)?;
    if oid.tag != Tag::ObjectIdentifier || oid.content != OID_PKCS7_ID_SIGNED_DATA.as_bytes() {
        return None;
    }
    let content = ber_first(&ci.content[oid.raw.len()..])?;
    (content.tag == context_tag(0)).then_some(content)
}

/// Extracts the certificates (DER, in file order) from a PKCS#7 SignedData in DER or BER.
///
/// Signatures and CRLs are ignored: Windows CAs and `openssl crl2pkcs7` write certs-only
/// ("degenerate") SignedData, and a chain file carries no signer to check.
pub fn read_p7b(der: &[u8]) -> Result<Vec<Vec<u8>>, P7bError> {
    let wrapper = content_info(der).ok_or(P7bError::NotSignedData)?;
    let signed_data = ber_first(wrapper.content)
        .filter(|e| e.tag == Tag::Sequence)
        .ok_or(P7bError::Malformed("signeddata is not a sequence"))?;
    let fields =
        ber_elements(signed_data.content).ok_or(P7bError::Malformed("signeddata fields"))?;
    // version, digestAlgorithms, encapContentInfo, then [0] IMPLICIT certificates, [1] crls, signerInfos.
    if fields.len() < 3 || fields[0].tag != Tag::Integer {
        return Err(P7bError::Malformed("signeddata header"));
    }
    let Some(cert_set) = fields[3..].iter().find(|e| e.tag == context_tag(0)) else {
        return Err(P7bError::NoCertificates);
    };
    let elements = ber_elements(cert_set.content).ok_or(P7bError::Malformed("certificates set"))?;
    let mut certs = Vec::new();
    for (i, e) in elements.iter().enumerate() {
        // The CertificateChoices also allow attribute certificates ([1]..[3]); only plain X.509 is used.
        if e.tag != Tag::Sequence {
            continue;
        }
        match x509_parser::parse_x509_certificate(e.raw) {
            Ok(([], _)) => certs.push(e.raw.to_vec()),
            _ => return Err(P7bError::BadCertificate(i)),
        }
    }
    if certs.is_empty() {
        return Err(P7bError::NoCertificates);
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::certfile::read_certificates;
    use crate::pki::certfile::tests::{have_openssl, openssl, openssl_chain};

    #[test]
    fn openssl_crl2pkcs7_der_and_pem() {
        if !have_openssl() {
            return;
        }
        let c = openssl_chain();
        let d = c.dir.path();
        openssl(
            d,
            &[
                "crl2pkcs7",
                "-nocrl",
                "-certfile",
                "leaf.pem",
                "-certfile",
                "inter.pem",
                "-certfile",
                "root.pem",
                "-outform",
                "DER",
                "-out",
                "chain.p7b",
            ],
        );
        openssl(
            d,
            &[
                "crl2pkcs7",
                "-nocrl",
                "-certfile",
                "root.pem",
                "-certfile",
                "leaf.pem",
                "-certfile",
                "inter.pem",
                "-out",
                "chain.p7b.pem",
            ],
        );

        let der = std::fs::read(d.join("chain.p7b")).unwrap();
        assert!(looks_like_pkcs7(&der));
        let certs = read_p7b(&der).unwrap();
        assert_eq!(certs, vec![c.leaf.clone(), c.inter.clone(), c.root.clone()]);

        for file in ["chain.p7b", "chain.p7b.pem"] {
            let bytes = std::fs::read(d.join(file)).unwrap();
            let loaded = read_certificates(&bytes, None).unwrap();
            assert_eq!(loaded.leaf, c.leaf, "{file}");
            assert_eq!(
                loaded.chain,
                vec![c.inter.clone(), c.root.clone()],
                "{file}"
            );
            assert!(loaded.private_key_pkcs8.is_none());
        }
        let pem_text = std::fs::read_to_string(d.join("chain.p7b.pem")).unwrap();
        assert!(pem_text.starts_with("-----BEGIN PKCS7-----"));
    }

    /// `der` with every constructed level above the certificates in BER's indefinite-length
    /// form, as Windows writes PKCS#7 files.
    fn to_indefinite(der: &[u8]) -> Vec<u8> {
        fn indefinite(tag: u8, content: &[u8]) -> Vec<u8> {
            [&[tag, 0x80][..], content, &[0, 0]].concat()
        }
        let ci = ber_first(der).unwrap();
        let parts = ber_elements(ci.content).unwrap();
        let signed_data = ber_first(parts[1].content).unwrap();
        let mut body = Vec::new();
        for field in ber_elements(signed_data.content).unwrap() {
            if field.tag == context_tag(0) {
                body.extend(indefinite(0xa0, field.content));
            } else {
                body.extend_from_slice(field.raw);
            }
        }
        let explicit = indefinite(0xa0, &indefinite(0x30, &body));
        indefinite(0x30, &[parts[0].raw, &explicit].concat())
    }

    #[test]
    fn ber_indefinite_lengths_as_windows_writes_them() {
        if !have_openssl() {
            return;
        }
        let c = openssl_chain();
        let d = c.dir.path();
        let der = openssl(
            d,
            &[
                "crl2pkcs7",
                "-nocrl",
                "-certfile",
                "leaf.pem",
                "-certfile",
                "root.pem",
                "-outform",
                "DER",
            ],
        );
        let mut ber = to_indefinite(&der);
        assert_ne!(ber, der);
        assert!(looks_like_pkcs7(&ber));
        assert_eq!(
            read_p7b(&ber).unwrap(),
            vec![c.leaf.clone(), c.root.clone()]
        );
        ber.extend_from_slice(b"\r\n");
        let loaded = read_certificates(&ber, None).unwrap();
        assert_eq!(
            (loaded.leaf, loaded.chain),
            (c.leaf.clone(), vec![c.root.clone()])
        );
    }

    #[test]
    fn empty_signed_data_and_garbage() {
        if !have_openssl() {
            return;
        }
        let c = openssl_chain();
        let d = c.dir.path();
        // A CRL-less, certificate-less SignedData: openssl writes it with -nocrl and no -certfile.
        let empty = openssl(d, &["crl2pkcs7", "-nocrl", "-outform", "DER"]);
        assert!(looks_like_pkcs7(&empty));
        assert_eq!(read_p7b(&empty), Err(P7bError::NoCertificates));
        assert_eq!(read_p7b(&c.leaf), Err(P7bError::NotSignedData));
        assert!(!looks_like_pkcs7(b"garbage"));
    }
}
