//! Constrained query parameters of the hot read operations, checked with expressions compiled
//! once. poem-openapi's `pattern` validator compiles its expression on every request (tens of
//! microseconds; far more for the scope list's bounded repetitions), so these types check the
//! same constraints themselves and publish the same schema (`type: string`, `pattern`,
//! `maxLength`): the spec does not change.

use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{ParseError, ParseFromParameter, ParseResult, Type};
use regex::Regex;
use std::borrow::Cow;
use std::marker::PhantomData;
use std::sync::LazyLock;

/// A parameter's constraints.
pub trait Constraint: Send + Sync + 'static {
    const PATTERN: &'static str;
    const MAX_LENGTH: Option<usize>;
    /// The compiled [`Self::PATTERN`].
    fn regex() -> &'static Regex;
}

/// A string query parameter that matched its [`Constraint`]. (Not for path parameters: poem
/// names those by position in its parse errors, so the 400 could not name the field.)
pub struct Checked<C>(String, PhantomData<C>);

impl<C> std::ops::Deref for Checked<C> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl<C> std::fmt::Debug for Checked<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Checked").field(&self.0).finish()
    }
}

impl<C: Constraint> Type for Checked<C> {
    const IS_REQUIRED: bool = true;
    type RawValueType = String;
    type RawElementValueType = String;

    fn name() -> Cow<'static, str> {
        "string".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            pattern: Some(C::PATTERN.to_owned()),
            max_length: C::MAX_LENGTH,
            ..MetaSchema::new("string")
        }))
    }

    fn as_raw_value(&self) -> Option<&String> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a String> + 'a> {
        Box::new(std::iter::once(&self.0))
    }
}

impl<C: Constraint> ParseFromParameter for Checked<C> {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        // The validators' own words (poem-openapi puts `failed to parse "string":` before them).
        if let Some(max) = C::MAX_LENGTH
            && value.chars().count() > max
        {
            return Err(ParseError::custom(format!("verification failed. maxLength({max})")));
        }
        if !C::regex().is_match(value) {
            return Err(ParseError::custom(format!(
                "verification failed. pattern(\"{}\")",
                C::PATTERN
            )));
        }
        Ok(Self(value.to_owned(), PhantomData))
    }
}

macro_rules! constraint {
    ($(#[$doc:meta])* $name:ident, $pattern:literal, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name;

        impl Constraint for $name {
            const PATTERN: &'static str = $pattern;
            const MAX_LENGTH: Option<usize> = $max;

            fn regex() -> &'static Regex {
                static COMPILED: LazyLock<Regex> =
                    LazyLock::new(|| Regex::new($pattern).unwrap_or_else(|e| panic!("{} is a valid pattern: {e}", stringify!($name))));
                &COMPILED
            }
        }
    };
}

constraint!(
    /// A workspace id.
    WorkspaceIdPattern,
    r"^[A-Za-z0-9._:-]+$",
    Some(128)
);
constraint!(
    /// A provider's name.
    ProviderNamePattern,
    r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$",
    Some(63)
);
constraint!(
    /// Scopes an agent needs: up to 100, separated by commas or spaces.
    ScopeListPattern,
    r"^[, ]*(?:[\x21\x23-\x2B\x2D-\x5B\x5D-\x7E]{1,256}(?:[, ]+[\x21\x23-\x2B\x2D-\x5B\x5D-\x7E]{1,256}){0,99})?[, ]*$",
    Some(4096)
);

pub type WorkspaceIdParam = Checked<WorkspaceIdPattern>;
pub type ProviderNameParam = Checked<ProviderNamePattern>;
pub type ScopeListParam = Checked<ScopeListPattern>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints_match_what_the_validators_checked() {
        assert!(WorkspaceIdParam::parse_from_parameter("ws-1.a:b_c").is_ok());
        assert!(WorkspaceIdParam::parse_from_parameter("ws 1").is_err());
        assert!(WorkspaceIdParam::parse_from_parameter(&"w".repeat(129)).is_err());
        assert!(WorkspaceIdParam::parse_from_parameter(&"w".repeat(128)).is_ok());
        assert!(ProviderNameParam::parse_from_parameter("google-drive").is_ok());
        assert!(ProviderNameParam::parse_from_parameter("Google").is_err());
        assert!(ScopeListParam::parse_from_parameter("openid, email").is_ok());
        assert!(ScopeListParam::parse_from_parameter("a\"b").is_err());
    }

    #[test]
    fn schemas_carry_the_pattern_and_length() {
        let MetaSchemaRef::Inline(schema) = WorkspaceIdParam::schema_ref() else {
            panic!("inline schema");
        };
        assert_eq!(schema.ty, "string");
        assert_eq!(schema.pattern.as_deref(), Some(r"^[A-Za-z0-9._:-]+$"));
        assert_eq!(schema.max_length, Some(128));
    }
}
