//! Requests, keys, certificates, PFX, identity matching and validation rules.

pub mod certfile;
pub mod chain;
pub mod der;
pub mod dn;
pub mod export;
pub mod identity;
pub mod inspect;
pub mod issue;
pub mod p7b;
pub mod pem;
pub mod pfx;
pub mod request;
pub mod system_roots;
pub mod validate;
