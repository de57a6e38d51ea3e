//! Page sizes and cursors, the same for every listing.

use nexus_domain::ServiceError;
use nexus_domain::audit::Page;

pub const DEFAULT_PAGE_SIZE: u64 = 50;
pub const MAX_PAGE_SIZE: u64 = 500;

/// The page size to use: the default for 0, an error past the maximum.
pub(crate) fn page_size(requested: u64) -> Result<u64, ServiceError> {
    match requested {
        0 => Ok(DEFAULT_PAGE_SIZE),
        limit if limit > MAX_PAGE_SIZE => Err(ServiceError::invalid(
            "limit",
            format!("must be at most {MAX_PAGE_SIZE}"),
        )),
        limit => Ok(limit),
    }
}

/// A page, with the cursor of the next one when this one is full.
pub(crate) fn page<T>(items: Vec<T>, limit: u64, cursor_of: impl Fn(&T) -> String) -> Page<T> {
    let next_cursor = (items.len() as u64 == limit)
        .then(|| items.last().map(cursor_of))
        .flatten();
    Page { items, next_cursor }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_cursors() {
        assert_eq!(page_size(0).ok(), Some(DEFAULT_PAGE_SIZE));
        assert_eq!(page_size(7).ok(), Some(7));
        assert_eq!(
            page_size(MAX_PAGE_SIZE + 1)
                .map_err(|e| e.field().map(str::to_owned))
                .err(),
            Some(Some("limit".to_owned()))
        );
        assert_eq!(
            page(vec![1, 2], 2, ToString::to_string).next_cursor.as_deref(),
            Some("2")
        );
        assert_eq!(page(vec![1], 2, ToString::to_string).next_cursor, None);
    }
}
