//! Path ids: the schema declares them as UUIDs (a pattern, so a malformed one is refused under
//! its own name before the handler runs); the handler parses them into typed ids.

use nexus_domain::ServiceError;

pub(crate) fn path_id<T: std::str::FromStr>(field: &str, raw: &str) -> Result<T, ServiceError> {
    raw.parse().map_err(|_| ServiceError::invalid(field, "must be a UUID"))
}
