//! The domains' one error type. It says what went wrong in the register's own terms; the HTTP
//! wing maps it to a status and an RFC 9457 problem once (`api::error`), and the command line
//! prints it. Internal causes are carried for the log, never for a client.

use serde::Serialize;
use utoipa::ToSchema;

/// One invalid field of a request.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// The field, as a dotted path into the body (`categories[2]`), or the query parameter.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// No such object.
    #[error("not found")]
    NotFound,
    /// The input breaks a field rule; every field found wrong is listed.
    #[error("invalid input: {0:?}")]
    Invalid(Vec<FieldError>),
    /// The change does not fit the object's current state.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A control forbids this principal the change (four eyes).
    #[error("not permitted: {0}")]
    NotPermitted(String),
    /// A change of a versioned object must name the version it was based on.
    #[error("version precondition required")]
    VersionRequired,
    /// The object changed since the version named; `current` is its version now.
    #[error("version precondition failed (now {current})")]
    VersionMismatch { current: i64 },
    /// Storage cannot be read or written right now; nothing was changed.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// The stored ledger no longer matches what was signed: nothing is signed or written.
    #[error("ledger integrity: {0}")]
    LedgerIntegrity(String),
    /// A bug, or stored data that does not parse.
    #[error("internal error: {0}")]
    Internal(String),
}

impl DomainError {
    /// Invalid input in one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::Invalid(vec![FieldError::new(field, message)])
    }

    /// Whether storage refused the work (the node may be unable to write).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, DomainError::Unavailable(_))
    }
}

/// `Ok` when `errors` is empty, else every one of them at once.
pub fn collect(errors: Vec<FieldError>) -> Result<(), DomainError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(DomainError::Invalid(errors))
    }
}

impl From<diesel::result::Error> for DomainError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => DomainError::NotFound,
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                DomainError::Conflict("An object with that key already exists.".into())
            }
            Error::DatabaseError(kind, info) => {
                DomainError::Unavailable(format!("{kind:?}: {}", info.message()))
            }
            Error::BrokenTransactionManager | Error::AlreadyInTransaction => {
                DomainError::Unavailable(e.to_string())
            }
            // Includes a stored value that does not parse (`DeserializationError`): surfaced,
            // never defaulted.
            other => DomainError::Internal(other.to_string()),
        }
    }
}

impl From<diesel::r2d2::PoolError> for DomainError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        DomainError::Unavailable(e.to_string())
    }
}

impl From<serde_json::Error> for DomainError {
    fn from(e: serde_json::Error) -> Self {
        DomainError::Internal(e.to_string())
    }
}

/// The version a change was based on (`If-Match` over HTTP): judged only once the object is
/// found, so a missing object is reported before a missing or stale version.
#[derive(Debug, Clone, Default)]
pub struct Expected(pub Option<Vec<i64>>);

impl Expected {
    /// `VersionRequired` when no version was named; `VersionMismatch` unless it names `current`.
    pub fn require(&self, current: i64) -> Result<(), DomainError> {
        match &self.0 {
            None => Err(DomainError::VersionRequired),
            Some(versions) if versions.contains(&current) => Ok(()),
            Some(_) => Err(DomainError::VersionMismatch { current }),
        }
    }
}
