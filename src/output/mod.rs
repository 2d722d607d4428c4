//! Output: the JSON Lines writer, stderr streams (errors, warnings, verbose) and Lync-shaped objects.

pub mod file;
pub mod html;
mod json;
pub mod objects;
pub mod report;
pub mod safe;
pub mod terminal;

pub use json::{to_ascii_json, Host};
