#!/usr/bin/env python3
"""The Python comparison: one process loads every .cer in a folder (or one file), reads the
subject and the SAN extension's DNS names, and, given a CA file, verifies each certificate's
signature with the CA's key: the work Test-CsCertificate -TrustedRoot does per file.

Usage: pyload.py FOLDER_OR_FILE [CA_FILE]"""
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa


def verifier(ca_path):
    with open(ca_path, "rb") as f:
        ca = x509.load_pem_x509_certificate(f.read())
    key = ca.public_key()

    def verify(cert):
        # cryptography 38 (Debian 12) has no verify_directly_issued_by: the same by hand.
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes,
                       ec.ECDSA(cert.signature_hash_algorithm))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(),
                       cert.signature_hash_algorithm)
        else:
            raise SystemExit("unsupported CA key")
        if cert.issuer != ca.subject:
            raise SystemExit("issuer mismatch")
    return verify


def main():
    target = sys.argv[1]
    verify = verifier(sys.argv[2]) if len(sys.argv) > 2 else None
    if os.path.isdir(target):
        files = [os.path.join(target, f) for f in sorted(os.listdir(target)) if f.endswith(".cer")]
    else:
        files = [target]
    n = 0
    for path in files:
        with open(path, "rb") as f:
            cert = x509.load_pem_x509_certificate(f.read())
        subject = cert.subject.rfc4514_string()
        try:
            san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            dns = san.get_values_for_type(x509.DNSName)
        except x509.ExtensionNotFound:
            dns = []
        if verify:
            verify(cert)
        n += 1 if subject and dns is not None else 0
    print(n)


if __name__ == "__main__":
    main()
