//! cscert: the Lync Server / Skype for Business certificate cmdlets as a portable library and binary.

pub mod binder;
pub mod cli;
pub mod cmdlets;
pub mod completions;
pub mod error;
pub mod model;
pub mod ops;
pub mod output;
pub mod pki;
pub mod psmodule;
pub mod store;
pub mod topology;
