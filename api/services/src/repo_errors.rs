//! Maps repository failures that are not client mistakes to service errors, with context.

use nexus_domain::ServiceError;
use nexus_repositories::RepoError;

/// Internal (or unavailable) failure while doing `context`; the detail goes to the log only.
pub(crate) fn internal(context: &'static str) -> impl FnOnce(RepoError) -> ServiceError {
    move |error| match error {
        RepoError::Unavailable(_) => {
            // Said once by the outage breaker when it opens; per operation only when asked for.
            tracing::debug!(context, %error, "database unavailable");
            ServiceError::Unavailable { what: "the database" }
        }
        other => ServiceError::internal(context, other),
    }
}
