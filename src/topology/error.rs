//! Errors of the topology module: reading a document (`TopologyError`) and computing names (`NamesError`).

use crate::model::CertType;
use std::borrow::Cow;
use std::fmt;

/// The most characters of one value an error message quotes (a 50 MB attribute is not echoed).
pub const QUOTE_LIMIT: usize = 200;

/// `s`, or its first [`QUOTE_LIMIT`] characters and how long it really is.
pub fn clip(s: &str) -> Cow<'_, str> {
    match s.char_indices().nth(QUOTE_LIMIT) {
        None => Cow::Borrowed(s),
        Some((at, _)) => Cow::Owned(format!(
            "{}... ({} characters in all)",
            &s[..at],
            s.chars().count()
        )),
    }
}

/// A topology document that cannot be read. Messages are lowercase and name the element or
/// attribute at fault, so an administrator can find it in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopologyError {
    /// Not well-formed XML.
    Xml {
        line: u32,
        column: u32,
        message: String,
    },
    /// Well-formed XML, but neither a published topology nor a Topology Builder document.
    NotTopology { root: String },
    /// A required element is absent; `parent` describes where it was expected.
    MissingElement {
        element: &'static str,
        parent: String,
    },
    /// A required attribute is absent or empty; `element` describes the element.
    MissingAttribute {
        element: String,
        attribute: &'static str,
    },
    /// An attribute is present but unusable.
    InvalidValue {
        element: String,
        attribute: &'static str,
        value: String,
        reason: &'static str,
    },
    /// A name attribute (an FQDN, a SIP domain, a simple URL's host) that is not a host name.
    NotAHostname {
        element: String,
        attribute: &'static str,
        value: String,
        why: String,
    },
    /// More XML nodes than any topology has (see `parse::MAX_NODES`).
    TooManyNodes { limit: u32 },
    /// An ID that refers to something the document does not define.
    DanglingReference { from: String, to: String },
    /// Two definitions of the same thing.
    Duplicate {
        what: String,
        first: String,
        second: String,
    },
}

impl fmt::Display for TopologyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TopologyError::Xml {
                line,
                column,
                message,
            } => write!(
                f,
                "xml syntax error at line {line}, column {column}: {}",
                clip(message)
            ),
            TopologyError::NotTopology { root } => write!(
                f,
                "not a Lync topology document: root element {} (expected \
                 {{urn:schema:Microsoft.Rtc.Management.Deploy.Topology.2008}}Topology or \
                 {{urn:schema:Microsoft.Rtc.Management.Deploy.TopologyBuilder.2008}}TopologyBuilder)",
                clip(root)
            ),
            TopologyError::MissingElement { element, parent } => {
                write!(f, "{} has no {element} element", clip(parent))
            }
            TopologyError::MissingAttribute { element, attribute } => {
                write!(f, "{} has no {attribute} attribute", clip(element))
            }
            TopologyError::NotAHostname {
                element,
                attribute,
                value,
                why,
            } => write!(
                f,
                "{} has a {attribute} attribute \"{}\" that is not a host name: {why}",
                clip(element),
                clip(value)
            ),
            TopologyError::TooManyNodes { limit } => write!(
                f,
                "the document has more than {limit} XML nodes; a topology has a few thousand elements. Check that this is the topology file"
            ),
            TopologyError::InvalidValue {
                element,
                attribute,
                value,
                reason,
            } => write!(
                f,
                "{} has an invalid {attribute} attribute \"{}\": {reason}",
                clip(element),
                clip(value)
            ),
            TopologyError::DanglingReference { from, to } => {
                write!(
                    f,
                    "{} refers to {}, which the document does not define",
                    clip(from),
                    clip(to)
                )
            }
            TopologyError::Duplicate {
                what,
                first,
                second,
            } => write!(
                f,
                "{} is defined twice: by {} and by {}",
                clip(what),
                clip(first),
                clip(second)
            ),
        }
    }
}

impl std::error::Error for TopologyError {}

/// Names that cannot be computed for a computer and a set of uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamesError {
    /// No use was given.
    NoUses,
    /// The computer name matches no machine and no pool of the topology.
    UnknownComputer { name: String },
    /// A short name or a pool FQDN that matches several machines.
    AmbiguousComputer {
        name: String,
        candidates: Vec<String>,
    },
    /// The use does not apply to this computer's role (the real cmdlet's
    /// InvalidOperationException). `role` is a phrase such as "an Edge Server".
    UseNotNeeded {
        cert_type: CertType,
        computer: String,
        role: String,
    },
    /// The document lacks a name the use needs; `missing` names the element or attribute.
    MissingName {
        cert_type: CertType,
        missing: String,
    },
    /// A wildcard `-DomainName` entry for a use that cannot carry one.
    WildcardNotAllowed { cert_type: CertType, name: String },
}

impl fmt::Display for NamesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NamesError::NoUses => f.write_str("no certificate use was given"),
            NamesError::UnknownComputer { name } => write!(
                f,
                "the computer \"{}\" is not in the topology: no Machine or Cluster has that \
                 FQDN or short name",
                clip(name)
            ),
            NamesError::AmbiguousComputer { name, candidates } => write!(
                f,
                "the computer name \"{}\" is ambiguous: it matches {}; give the FQDN of one machine",
                clip(name),
                clip(&candidates.join(", "))
            ),
            // Wording of the real cmdlet's message, so it is not lowercase.
            NamesError::UseNotNeeded {
                cert_type,
                computer,
                role,
            } => write!(
                f,
                "The computer does not need a certificate of type \"{cert_type}\": {} is {}.",
                clip(computer),
                clip(role)
            ),
            NamesError::MissingName { cert_type, missing } => {
                write!(f, "cannot compute the names for \"{cert_type}\": {}", clip(missing))
            }
            NamesError::WildcardNotAllowed { cert_type, name } => write!(
                f,
                "the -DomainName name \"{}\" is a wildcard, which a \"{cert_type}\" \
                 certificate cannot carry",
                clip(name)
            ),
        }
    }
}

impl std::error::Error for NamesError {}
