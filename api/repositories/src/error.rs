//! Repository errors: no HTTP status here; services map each case with context.

use sea_orm::{DbErr, SqlErr};

#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// A unique index refused the write (for example a live provider name taken).
    #[error("unique constraint violated: {0}")]
    UniqueViolation(String),
    /// The write was refused because of the row's current state.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// A stored row does not convert to a valid domain value.
    #[error("stored row is corrupt: {0}")]
    Corrupt(String),
    /// The database could not be reached (connection refused, pool exhausted).
    #[error("database unavailable: {0}")]
    Unavailable(DbErr),
    #[error("database error: {0}")]
    Database(DbErr),
}

impl From<DbErr> for RepoError {
    fn from(error: DbErr) -> Self {
        match error.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(detail)) => Self::UniqueViolation(detail),
            _ if matches!(error, DbErr::ConnectionAcquire(_) | DbErr::Conn(_)) => Self::Unavailable(error),
            _ => Self::Database(error),
        }
    }
}
