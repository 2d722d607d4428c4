//! Requests, keys, certificates, PFX, identity matching and validation rules.
pub mod certfile;
pub mod issue;
pub mod p7b;
pub mod pfx;
