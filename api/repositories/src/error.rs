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

impl RepoError {
    /// An unavailability that load or contention also causes (a pool timeout, a SQLite file
    /// busy or locked by a writer): one alone does not mean the database is away.
    pub fn is_soft_unavailable(&self) -> bool {
        use sea_orm::RuntimeErr;
        use sea_orm::sqlx::Error as Sqlx;
        let Self::Unavailable(error) = self else {
            return false;
        };
        match error {
            DbErr::ConnectionAcquire(_) => true,
            DbErr::Exec(RuntimeErr::SqlxError(sqlx)) | DbErr::Query(RuntimeErr::SqlxError(sqlx)) => match sqlx.as_ref()
            {
                Sqlx::PoolTimedOut => true,
                Sqlx::Database(database) => {
                    matches!(error_kind_backend(database.as_ref()), Backend::Sqlite)
                        && database
                            .code()
                            .and_then(|code| code.parse::<u32>().ok())
                            .is_some_and(|code| matches!(code & 0xff, 5 | 6))
                }
                _ => false,
            },
            _ => false,
        }
    }
}

impl From<DbErr> for RepoError {
    fn from(error: DbErr) -> Self {
        match error.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(detail)) => Self::UniqueViolation(detail),
            _ if is_connection_level(&error) => Self::Unavailable(error),
            _ => Self::Database(error),
        }
    }
}

/// PostgreSQL SQLSTATEs that mean the server, not the statement, failed: class 08 (connection
/// exception), 57P01 to 57P03 (terminated by an administrator, crash shutdown, cannot connect
/// now: a restart or failover), 53300 (too many connections).
fn postgres_connection_level(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
}

/// SQLite result codes (primary, the low byte of an extended code) that mean the file, not the
/// statement, failed: busy, locked, I/O error, cannot open, locking protocol (another process
/// holds the WAL index's locks), not a database.
fn sqlite_connection_level(code: &str) -> bool {
    code.parse::<u32>()
        .is_ok_and(|code| matches!(code & 0xff, 5 | 6 | 10 | 14 | 15 | 26))
}

/// Whether the database itself is away (refused, reset, terminated, busy, pool exhausted), so
/// the same request may succeed later: never a bug, never a client mistake.
pub fn is_connection_level(error: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error as Sqlx;
    let runtime = match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return true,
        DbErr::Exec(runtime) | DbErr::Query(runtime) => runtime,
        _ => return false,
    };
    let RuntimeErr::SqlxError(sqlx) = runtime else {
        return false;
    };
    match sqlx.as_ref() {
        Sqlx::Io(_)
        | Sqlx::Tls(_)
        | Sqlx::PoolTimedOut
        | Sqlx::PoolClosed
        | Sqlx::WorkerCrashed
        | Sqlx::Protocol(_) => true,
        Sqlx::Database(database) => {
            let Some(code) = database.code() else {
                return false;
            };
            match error_kind_backend(database.as_ref()) {
                Backend::Postgres => postgres_connection_level(&code),
                Backend::Sqlite => sqlite_connection_level(&code),
            }
        }
        _ => false,
    }
}

enum Backend {
    Postgres,
    Sqlite,
}

/// Which database a driver error came from (their codes overlap: "5" is not a SQLSTATE).
fn error_kind_backend(error: &dyn sea_orm::sqlx::error::DatabaseError) -> Backend {
    if error
        .try_downcast_ref::<sea_orm::sqlx::postgres::PgDatabaseError>()
        .is_some()
    {
        Backend::Postgres
    } else {
        Backend::Sqlite
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_failures_are_connection_level_and_statement_failures_are_not() {
        for code in ["08006", "08001", "57P01", "57P02", "57P03", "53300"] {
            assert!(postgres_connection_level(code), "{code}");
        }
        for code in ["23505", "42P01", "40001", "22P02"] {
            assert!(!postgres_connection_level(code), "{code}");
        }
        // SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT (517), SQLITE_LOCKED, SQLITE_IOERR_READ (266),
        // SQLITE_CANTOPEN, SQLITE_PROTOCOL, SQLITE_NOTADB.
        for code in ["5", "517", "6", "266", "14", "15", "26"] {
            assert!(sqlite_connection_level(code), "{code}");
        }
        // SQLITE_CONSTRAINT_UNIQUE (2067), SQLITE_ERROR, SQLITE_MISMATCH.
        for code in ["2067", "1", "20"] {
            assert!(!sqlite_connection_level(code), "{code}");
        }
    }
}
