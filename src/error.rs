//! The one error type that reaches the edge: a PowerShell-style error record plus an exit code.

use std::fmt;

/// Exit statuses, documented in `--help` and the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Success = 0,
    /// The operation failed (bad file, missing certificate, I/O, ...).
    Failed = 1,
    /// Parameter binding failed; nothing was done.
    Binding = 2,
    /// A validation ran and reported at least one Error finding.
    ValidationFailed = 3,
}

/// PowerShell's ErrorCategory names used by cscert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    InvalidArgument,
    InvalidData,
    InvalidOperation,
    ObjectNotFound,
    ResourceExists,
    ReadError,
    WriteError,
    SecurityError,
    PermissionDenied,
    NotImplemented,
    NotInstalled,
    ResourceUnavailable,
    ConnectionError,
    OperationTimeout,
    ProtocolError,
}

impl Category {
    pub fn name(self) -> &'static str {
        match self {
            Category::InvalidArgument => "InvalidArgument",
            Category::InvalidData => "InvalidData",
            Category::InvalidOperation => "InvalidOperation",
            Category::ObjectNotFound => "ObjectNotFound",
            Category::ResourceExists => "ResourceExists",
            Category::ReadError => "ReadError",
            Category::WriteError => "WriteError",
            Category::SecurityError => "SecurityError",
            Category::PermissionDenied => "PermissionDenied",
            Category::NotImplemented => "NotImplemented",
            Category::NotInstalled => "NotInstalled",
            Category::ResourceUnavailable => "ResourceUnavailable",
            Category::ConnectionError => "ConnectionError",
            Category::OperationTimeout => "OperationTimeout",
            Category::ProtocolError => "ProtocolError",
        }
    }
}

/// An error as PowerShell shows it: message, error id (without the `,Cmdlet` suffix), category,
/// the object it is about, and the exit status it ends the process with.
#[derive(Debug, Clone)]
pub struct CsError {
    pub message: String,
    pub error_id: String,
    pub category: Category,
    pub target: Option<String>,
    pub exit: Exit,
}

impl CsError {
    pub fn new(exit: Exit, error_id: &str, category: Category, message: impl Into<String>) -> Self {
        CsError {
            message: message.into(),
            error_id: error_id.to_string(),
            category,
            target: None,
            exit,
        }
    }

    /// A binding error (exit 2).
    pub fn binding(error_id: &str, category: Category, message: impl Into<String>) -> Self {
        Self::new(Exit::Binding, error_id, category, message)
    }

    /// An operation failure (exit 1).
    pub fn failed(error_id: &str, category: Category, message: impl Into<String>) -> Self {
        Self::new(Exit::Failed, error_id, category, message)
    }

    /// PowerShell's error for a path that does not exist (one id, one wording, every cmdlet).
    pub fn path_not_found(full: &std::path::Path, target: impl Into<String>) -> Self {
        Self::failed(
            "PathNotFound",
            Category::ObjectNotFound,
            format!(
                "Cannot find path '{}' because it does not exist.",
                full.display()
            ),
        )
        .with_target(target)
    }

    /// A folder that was named but could not be listed.
    pub fn folder_not_read(
        full: &std::path::Path,
        e: &std::io::Error,
        target: impl Into<String>,
    ) -> Self {
        Self::failed(
            "FolderNotRead",
            Category::ReadError,
            format!("Cannot read the folder '{}': {e}", full.display()),
        )
        .with_target(target)
    }

    /// A stored certificate whose private key cscert does not have, for whatever needs the key.
    pub fn without_private_key(thumbprint: &str, subject: &str) -> Self {
        Self::failed(
            "CertificateWithoutPrivateKey",
            Category::InvalidOperation,
            format!("The certificate \"{thumbprint}\" ({subject}) has no private key in the store. Import the certificate that answers a pending request, or a PFX with its key."),
        )
        .with_target(thumbprint)
    }

    pub fn with_target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }
}

impl fmt::Display for CsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CsError {}

pub type CsResult<T> = Result<T, CsError>;
