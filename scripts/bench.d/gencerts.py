#!/usr/bin/env python3
"""Writes N PEM certificates into a folder: one EC P-256 key, one CA, varied SANs.

Usage: gencerts.py FOLDER N
Certificates are signed by one CA (ECDSA P-256) and share one leaf key, so generating
10,000 of them takes a few seconds. Names vary: plain DNS, wildcards, XMPP otherNames
(id-on-xmppAddr, UTF8String), some SRVName (id-on-dnsSRV) and a few that leave out
contoso.com so that Test-CsCertificate reports failures too.
"""
import datetime
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

XMPP_ADDR = ObjectIdentifier("1.3.6.1.5.5.7.8.5")
DNS_SRV = ObjectIdentifier("1.3.6.1.5.5.7.8.7")


def der_string(tag, text):
    raw = text.encode("utf-8")
    assert len(raw) < 128
    return bytes([tag, len(raw)]) + raw


def main():
    folder, n, ca_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    os.makedirs(folder, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Contoso Bench CA"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Contoso")])
    ca_cert = (x509.CertificateBuilder()
               .subject_name(ca_name)
               .issuer_name(ca_name)
               .public_key(ca_key.public_key())
               .serial_number(1)
               .not_valid_before(now - datetime.timedelta(days=2))
               .not_valid_after(now + datetime.timedelta(days=3650))
               .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                              critical=False)
               .sign(ca_key, hashes.SHA256()))
    with open(ca_file, "wb") as f:
        f.write(ca_cert.public_bytes(serialization.Encoding.PEM))
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf_pub = leaf_key.public_key()
    ski = x509.SubjectKeyIdentifier.from_public_key(leaf_pub)
    aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())
    eku = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH])
    ku = x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                       data_encipherment=False, key_agreement=True, key_cert_sign=False,
                       crl_sign=False, encipher_only=False, decipher_only=False)
    bc = x509.BasicConstraints(ca=False, path_length=None)
    width = len(str(n))
    for i in range(n):
        host = f"sip{i}.contoso.com"
        names = [x509.DNSName(host)]
        kind = i % 10
        if kind in (0, 1, 2):  # Edge external: XMPP domain as DNS + xmppAddr
            names += [x509.DNSName(f"webcon{i}.contoso.com"), x509.DNSName("contoso.com"),
                      x509.OtherName(XMPP_ADDR, der_string(0x0C, "contoso.com"))]
        elif kind in (3, 4):  # wildcard
            names += [x509.DNSName("*.contoso.com")]
        elif kind == 5:  # SRVName
            names += [x509.DNSName("contoso.com"),
                      x509.OtherName(DNS_SRV, der_string(0x16, "_xmpp-server.contoso.com"))]
        elif kind in (6, 7):  # several domains
            names += [x509.DNSName("contoso.com"), x509.DNSName(f"sip.fabrikam{i % 50}.com"),
                      x509.DNSName(f"lyncdiscover.fabrikam{i % 50}.com")]
        elif kind == 8:  # fails: does not cover contoso.com for XMPP
            names += [x509.DNSName(f"pool{i}.fabrikam.com")]
        else:  # xmppAddr only plus DNS
            names += [x509.DNSName("contoso.com"),
                      x509.OtherName(XMPP_ADDR, der_string(0x0C, "contoso.com"))]
        subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                             x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Contoso, Inc"),
                             x509.NameAttribute(NameOID.COMMON_NAME, host)])
        cert = (x509.CertificateBuilder()
                .subject_name(subject)
                .issuer_name(ca_name)
                .public_key(leaf_pub)
                .serial_number(0x1000000 + i)
                .not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=365 + i % 300))
                .add_extension(x509.SubjectAlternativeName(names), critical=False)
                .add_extension(bc, critical=True)
                .add_extension(ku, critical=True)
                .add_extension(eku, critical=False)
                .add_extension(ski, critical=False)
                .add_extension(aki, critical=False)
                .sign(ca_key, hashes.SHA256()))
        with open(os.path.join(folder, f"c{i:0{width}d}.cer"), "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(os.path.join(folder, ".complete"), "w") as f:
        f.write(f"{n} with-ca\n")


if __name__ == "__main__":
    main()
