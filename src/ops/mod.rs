//! The work behind the cmdlets (cargo's `ops`): typed inputs, typed results, no argv and no
//! environment. A cmdlet file reads its bound parameters, calls one operation here and emits
//! what it returns.

pub mod acme;
pub mod assign;
pub mod certs;
pub mod check;
pub mod configuration;
mod ctx;
pub mod export;
pub mod import;
pub mod request;
pub mod topology;

pub use certs::{read_limited, CERT_FILE_LIMIT, TOPOLOGY_LIMIT};
#[cfg(test)]
pub use ctx::TempDir;
pub use ctx::{default_store_dir, machine_fqdn, now, Ctx, CtxError, Settings};
