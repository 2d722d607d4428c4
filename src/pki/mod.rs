//! Requests, keys, certificates, PFX, identity matching and validation rules.

pub mod request;
