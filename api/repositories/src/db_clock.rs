//! The database's clock, for times several processes compare: a refresh lease is written as
//! "the database's now plus its hold" and has lapsed when it is before the database's now, so
//! replicas whose clocks disagree still agree on who holds it.

use sea_orm::DatabaseBackend;
use sea_orm::sea_query::Expr;
use std::time::Duration;

/// SQLite keeps timestamps as RFC 3339 text (as sqlx writes them): its own clock must be
/// formatted the same way for the text comparison to order times.
const SQLITE_NOW: &str = "strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')";

/// The database's current time.
pub(crate) fn now(backend: DatabaseBackend) -> Expr {
    match backend {
        DatabaseBackend::Postgres => Expr::cust("CURRENT_TIMESTAMP"),
        _ => Expr::cust(SQLITE_NOW),
    }
}

/// The database's current time plus `hold` (whole milliseconds).
pub(crate) fn now_plus(backend: DatabaseBackend, hold: Duration) -> Expr {
    let millis = hold.as_millis();
    match backend {
        DatabaseBackend::Postgres => Expr::cust(format!("CURRENT_TIMESTAMP + INTERVAL '{millis} milliseconds'")),
        _ => Expr::cust(format!(
            "strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now', '+{}.{:03} seconds')",
            millis / 1000,
            millis % 1000
        )),
    }
}
