//! The binding trace (`DEBUG: Bound: {...}`) that the binder tests read, and binding-error
//! assertions.

use super::{ErrorRecord, Run};
use serde::Deserialize;

/// The binding trace (`DEBUG: Bound: {...}`) as a fixed shape.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct Trace {
    pub cmdlet: String,
    pub parameter_set: String,
    pub parameters: serde_json::Map<String, serde_json::Value>,
    pub common: CommonTrace,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct CommonTrace {
    pub verbose: bool,
    pub debug: bool,
    pub what_if: bool,
    pub confirm: Option<bool>,
    pub error_action: Option<String>,
    pub warning_action: Option<String>,
}

impl Run {
    /// The binding trace; panics (with the output) when there is none or more than one.
    pub fn trace(&self) -> Trace {
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .filter_map(|l| l.strip_prefix("DEBUG: Bound: "))
            .collect();
        assert_eq!(lines.len(), 1, "expected one binding trace: {self:#?}");
        serde_json::from_str(lines[0]).unwrap_or_else(|e| panic!("bad trace {}: {e}", lines[0]))
    }

    pub fn has_trace(&self) -> bool {
        self.stderr.lines().any(|l| l.starts_with("DEBUG: Bound: "))
    }

    /// A binding error: exit 2, one error record with this message, id and category, and no
    /// binding trace and no output (nothing was done).
    #[track_caller]
    pub fn assert_binding_error(
        &self,
        cmdlet: &str,
        id: &str,
        category: &str,
        message: &str,
    ) -> ErrorRecord {
        self.assert_code(2);
        assert!(
            !self.has_trace(),
            "binding failed, yet a trace was printed: {self:#?}"
        );
        assert_eq!(self.stdout, "", "a binding error prints no output");
        let e = self.error();
        assert_eq!(e.message, message);
        assert_eq!(e.fully_qualified_error_id, format!("{id},{cmdlet}"));
        assert_eq!(e.category, category);
        e
    }
}

/// A parameter's value in the trace, or panics naming what is there.
#[track_caller]
pub fn param<'a>(t: &'a Trace, name: &str) -> &'a serde_json::Value {
    t.parameters
        .get(name)
        .unwrap_or_else(|| panic!("{name} is not bound: {:?}", t.parameters))
}

/// The names of the bound parameters, sorted.
pub fn bound_names(t: &Trace) -> Vec<String> {
    let mut v: Vec<String> = t.parameters.keys().cloned().collect();
    v.sort();
    v
}

/// Matches `yyyy-MM-ddTHH:mm:ssZ` exactly.
pub fn is_json_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}
