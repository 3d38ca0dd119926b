//! What a query function can fail with: the database itself, or a stored value that does
//! not decode into its domain type. The second is never papered over with a default: it
//! names its table, row and column, is logged once and answered as an opaque 500.

use crate::error::ApiError;

/// A stored value that does not decode. Every stored value was written by this server, so
/// this means the database was changed behind its back (or a bug): an operator has to look
/// at that row, which the message names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored row does not decode: table {table}, row {row}, column {column}: {problem}")]
pub struct CorruptRow {
    /// The table.
    pub table: &'static str,
    /// The row's id as stored (both ids of a two-column key, joined with `/`).
    pub row: String,
    /// The column whose value does not decode.
    pub column: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

/// The error of a query function that decodes rows.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The database refused or failed.
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    /// A row was read but does not decode.
    #[error(transparent)]
    Corrupt(#[from] CorruptRow),
}

/// The result of a query function that decodes rows.
pub type DbResult<T> = Result<T, DbError>;

impl From<DbError> for ApiError {
    fn from(err: DbError) -> ApiError {
        match err {
            DbError::Query(err) => err.into(),
            DbError::Corrupt(row) => ApiError::internal(row),
        }
    }
}
