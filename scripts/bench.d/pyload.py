#!/usr/bin/env python3
"""The Python comparison: one process loads every .cer in a folder (or one file) and reads
the subject and the SAN extension's DNS names."""
import os
import sys

from cryptography import x509


def main():
    target = sys.argv[1]
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
        n += 1 if subject and dns is not None else 0
    print(n)


if __name__ == "__main__":
    main()
