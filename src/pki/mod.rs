//! Requests, keys, certificates, PFX, identity matching and validation rules.

pub mod dn;
pub mod identity;
pub mod inspect;
pub mod request;
