//! Issuing certificates from a lab CA given as PEM files.
