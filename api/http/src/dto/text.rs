//! `Text`: a JSON string in a request body, and only a string. poem-openapi's `String` also
//! takes a number or a boolean and turns it into text (`5` becomes `"5"`), which the schema
//! (`type: string`) does not allow; request bodies use this type instead.

use poem_openapi::registry::MetaSchemaRef;
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use serde_json::Value;
use std::borrow::Cow;

#[derive(Clone, PartialEq, Eq, Default)]
pub struct Text(pub String);

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<Text> for String {
    fn from(text: Text) -> Self {
        text.0
    }
}

impl From<String> for Text {
    fn from(text: String) -> Self {
        Self(text)
    }
}

impl Type for Text {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        String::name()
    }

    fn schema_ref() -> MetaSchemaRef {
        String::schema_ref()
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl ParseFromJSON for Text {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value.unwrap_or_default() {
            Value::String(text) => Ok(Self(text)),
            other => Err(ParseError::expected_type(other)),
        }
    }
}

impl ToJSON for Text {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.clone()))
    }
}

/// Request text into the plain strings the domain takes.
pub trait Plain {
    type Out;
    fn plain(self) -> Self::Out;
}

impl Plain for Text {
    type Out = String;
    fn plain(self) -> String {
        self.0
    }
}

impl<T: Plain> Plain for Option<T> {
    type Out = Option<T::Out>;
    fn plain(self) -> Self::Out {
        self.map(Plain::plain)
    }
}

impl<T: Plain> Plain for Vec<T> {
    type Out = Vec<T::Out>;
    fn plain(self) -> Self::Out {
        self.into_iter().map(Plain::plain).collect()
    }
}

impl Plain for std::collections::BTreeMap<String, Text> {
    type Out = std::collections::BTreeMap<String, String>;
    fn plain(self) -> Self::Out {
        self.into_iter().map(|(key, value)| (key, value.0)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_string_is_text() {
        assert_eq!(
            Text::parse_from_json(Some(Value::String("a".into()))).ok(),
            Some(Text("a".into()))
        );
        for other in [serde_json::json!(5), serde_json::json!(false), Value::Null] {
            assert!(Text::parse_from_json(Some(other)).is_err());
        }
    }
}
