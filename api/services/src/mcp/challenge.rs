//! A `WWW-Authenticate` header's Bearer challenge (RFC 6750 §3, RFC 9728 §5.1): the
//! `resource_metadata`, `scope` and `error` an MCP server's 401 or 403 names.

use std::collections::BTreeMap;

/// The Bearer challenge's parameters, names in lowercase.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BearerChallenge {
    pub params: BTreeMap<String, String>,
}

impl BearerChallenge {
    pub fn resource_metadata(&self) -> Option<&str> {
        self.params.get("resource_metadata").map(String::as_str)
    }

    /// The scopes the challenge asks for (space-separated), if it names any.
    pub fn scopes(&self) -> Option<Vec<String>> {
        let scope = self.params.get("scope")?;
        let scopes: Vec<String> = scope.split_whitespace().map(str::to_owned).collect();
        (!scopes.is_empty()).then_some(scopes)
    }

    pub fn error(&self) -> Option<&str> {
        self.params.get("error").map(String::as_str)
    }
}

/// One lexical piece of a challenge list.
#[derive(Debug, PartialEq, Eq)]
enum Piece {
    /// A token: a scheme, or a parameter's name.
    Token(String),
    /// `name=value`, the value unquoted.
    Param(String, String),
    Comma,
}

fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

fn pieces(header: &str) -> Option<Vec<Piece>> {
    let chars: Vec<char> = header.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == ',' {
            out.push(Piece::Comma);
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if is_tchar(c) || c == '/' {
            let start = i;
            // token68 (a Basic credential) may hold '/' and end in '='.
            while i < chars.len() && (is_tchar(chars[i]) || chars[i] == '/') {
                i += 1;
            }
            let token: String = chars[start..i].iter().collect();
            let mut j = i;
            while j < chars.len() && chars[j].is_whitespace() {
                j += 1;
            }
            if j < chars.len() && chars[j] == '=' {
                // A parameter, unless '=' ends a token68 (`abc==`, then a comma or the end).
                let mut k = j;
                while k < chars.len() && chars[k] == '=' {
                    k += 1;
                }
                let mut after = k;
                while after < chars.len() && chars[after].is_whitespace() {
                    after += 1;
                }
                if k - j > 1 || after == chars.len() || chars[after] == ',' {
                    out.push(Piece::Token(token));
                    i = k;
                    continue;
                }
                let (value, next) = if chars[after] == '"' {
                    let mut value = String::new();
                    let mut m = after + 1;
                    loop {
                        match chars.get(m) {
                            None => return None, // an unterminated quoted string
                            Some('\\') => {
                                value.push(*chars.get(m + 1)?);
                                m += 2;
                            }
                            Some('"') => break,
                            Some(other) => {
                                value.push(*other);
                                m += 1;
                            }
                        }
                    }
                    (value, m + 1)
                } else {
                    let mut m = after;
                    while m < chars.len() && chars[m] != ',' && !chars[m].is_whitespace() {
                        m += 1;
                    }
                    (chars[after..m].iter().collect(), m)
                };
                out.push(Piece::Param(token.to_ascii_lowercase(), value));
                i = next;
            } else {
                out.push(Piece::Token(token));
            }
        } else {
            return None;
        }
    }
    Some(out)
}

/// The Bearer challenge among the challenges of `header` (one header may hold several, such as
/// `Basic realm="x", Bearer scope="a"`); `None` when there is none or the header is malformed.
pub fn bearer_challenge(header: &str) -> Option<BearerChallenge> {
    let mut challenge: Option<BearerChallenge> = None;
    let mut in_bearer = false;
    for piece in pieces(header)? {
        match piece {
            Piece::Token(token) => {
                // A new challenge starts with its scheme.
                if challenge.is_some() && in_bearer {
                    break;
                }
                in_bearer = token.eq_ignore_ascii_case("bearer");
                if in_bearer {
                    challenge = Some(BearerChallenge::default());
                }
            }
            Piece::Param(name, value) if in_bearer => {
                if let Some(challenge) = challenge.as_mut() {
                    challenge.params.entry(name).or_insert(value);
                }
            }
            Piece::Param(..) | Piece::Comma => {}
        }
    }
    challenge
}

/// The Bearer challenge of any of `values` (a response may repeat the header).
pub fn bearer_challenge_of<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<BearerChallenge> {
    values.into_iter().find_map(bearer_challenge)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_parameters_an_mcp_server_sends() {
        let challenge = bearer_challenge(
            r#"Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="files:read files:write""#,
        )
        .expect("a challenge");
        assert_eq!(
            challenge.resource_metadata(),
            Some("https://mcp.example.com/.well-known/oauth-protected-resource/mcp")
        );
        assert_eq!(
            challenge.scopes(),
            Some(vec!["files:read".to_owned(), "files:write".to_owned()])
        );
        assert_eq!(challenge.error(), None);
    }

    #[test]
    fn finds_bearer_among_other_schemes_and_forms() {
        let challenge = bearer_challenge(
            r#"Basic realm="legacy", charset="UTF-8", bearer error="insufficient_scope", scope=admin, error_description="needs \"admin\"", Negotiate abc=="#,
        )
        .expect("a challenge");
        assert_eq!(challenge.error(), Some("insufficient_scope"));
        assert_eq!(challenge.scopes(), Some(vec!["admin".to_owned()]));
        assert_eq!(challenge.params["error_description"], r#"needs "admin""#);
        assert!(
            !challenge.params.contains_key("realm"),
            "Basic's parameters are not Bearer's"
        );
        assert!(!challenge.params.contains_key("abc"), "nor Negotiate's");
        assert_eq!(bearer_challenge("Bearer").expect("bare").params.len(), 0);
        assert_eq!(bearer_challenge("Bearer realm=\"x\"").and_then(|c| c.scopes()), None);
        assert_eq!(
            bearer_challenge("Bearer RESOURCE_METADATA=\"https://a.example/m\"")
                .and_then(|c| c.resource_metadata().map(str::to_owned)),
            Some("https://a.example/m".to_owned()),
            "parameter names are case-insensitive"
        );
    }

    #[test]
    fn no_bearer_or_a_broken_header_is_none() {
        assert_eq!(bearer_challenge(r#"Basic realm="x""#), None);
        assert_eq!(bearer_challenge(r#"Bearer scope="unterminated"#), None);
        assert_eq!(bearer_challenge(""), None);
        assert_eq!(bearer_challenge("Bearer scope=\"a\" \u{0}"), None);
        assert_eq!(
            bearer_challenge_of(["Basic realm=\"x\"", "Bearer scope=\"b\""]).and_then(|c| c.scopes()),
            Some(vec!["b".to_owned()])
        );
    }
}
