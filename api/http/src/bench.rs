//! The benchmark baseline's body. The route itself is a hidden Gateway operation
//! (`/bench/baseline`), answered only when the Gateway runs with `--bench-baseline`.

use poem_openapi::Object;

/// A body of a chosen size.
#[derive(Object, Debug, Clone)]
pub struct Padding {
    pub padding: String,
}
