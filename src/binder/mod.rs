//! The PowerShell parameter binder: parameter tables, token normalisation, binding, error records.
//!
//! pwsh does no binding for a native program; it passes argv strings (see
//! docs/reference/binding.md, "What argv looks like"). This module reproduces PowerShell's rules
//! on them (docs/reference/binding.md, "Binding rules").

mod bind;
pub mod dates;
pub mod errors;
pub mod help;
pub mod table;

pub use bind::{
    bind, bind_with, is_parameter_token, mask_secrets, Bound, Common, Value, SECRET_MASK,
};
pub use table::{has_parameter_prefix, CmdletDef};
