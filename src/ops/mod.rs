//! The work behind the cmdlets (cargo's `ops`): typed inputs, typed results, no argv and no
//! environment. A cmdlet file reads its bound parameters, calls one operation here and emits
//! what it returns.

/// `impl From<Inner> for Outer` for each `Variant(Inner)` of an error enum that wraps the errors
/// of the layers below it (the `?` between an operation and what it calls).
macro_rules! wraps {
    ($outer:ident: $($variant:ident($inner:ty)),+ $(,)?) => {
        $(impl From<$inner> for $outer {
            fn from(e: $inner) -> Self {
                $outer::$variant(e)
            }
        })+
    };
}
pub(crate) use wraps;

pub mod acme;
pub mod assign;
pub mod certs;
pub mod check;
pub mod configuration;
mod ctx;
pub mod export;
pub mod fleet;
pub mod import;
pub mod probe;
pub mod renewal;
pub mod request;
pub mod source;
pub mod store_password;
pub mod topology;

pub use certs::{read_limited, CERT_FILE_LIMIT, TOPOLOGY_LIMIT};
#[cfg(test)]
pub use ctx::TempDir;
pub use ctx::{default_store_dir, machine_fqdn, now, Ctx, CtxError, Preferences, Settings};
