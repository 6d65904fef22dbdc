//! [`PostgresError`]: why a [`PostgresStore`](crate::PostgresStore) could not be opened.

use rustrade_core::StoreError;

/// Failure to open a [`PostgresStore`](crate::PostgresStore).
///
/// Bad input is refused before any connection is made, naming the field and the value; what
/// the server or the stored state says is a [`StoreError`] (a held lock is
/// [`StoreError::Locked`], unreadable state [`StoreError::Corrupt`]).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PostgresError {
    /// A connection setting was refused.
    #[error("{field}: {reason} (got {value:?})")]
    InvalidOption {
        /// The setting: `url`, `bot_id`, `schema`, `tls` or `tls_ca_file`.
        field: &'static str,
        /// The offending value (a URL with its password removed).
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The server, the lock or the stored state refused the open.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<PostgresError> for StoreError {
    fn from(e: PostgresError) -> Self {
        match e {
            PostgresError::Store(s) => s,
            other @ PostgresError::InvalidOption { .. } => Self::Backend(other.to_string()),
        }
    }
}
