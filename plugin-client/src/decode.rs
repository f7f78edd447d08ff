//! Reading a plugin's answer as Docker reads it (docs/protocol.md, "Errors").

use plugin_spec::go_json_key_matches;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The field a 200 answer reports an error in, for the typed layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorField {
    /// `Err`: volume, network, log and secret plugins.
    Err,
    /// `Error`: IPAM plugins.
    Error,
}

impl ErrorField {
    /// The JSON key.
    pub fn key(self) -> &'static str {
        match self {
            Self::Err => "Err",
            Self::Error => "Error",
        }
    }
}

/// The string value of `field` in a JSON object (matched as Go matches keys);
/// `None` if the text is not an object or the value is not a string.
fn string_field(value: &Value, field: &str) -> Option<String> {
    let Value::Object(map) = value else {
        return None;
    };
    map.iter()
        .rev()
        .find(|(key, _)| go_json_key_matches(key, field))
        .and_then(|(_, v)| v.as_str().map(str::to_owned))
}

/// The message of a non-200 answer: its `Err` when the body is JSON with a
/// non-empty string `Err`, else the body's text (lossy UTF-8, trailing
/// whitespace trimmed).
pub(crate) fn error_message(body: &[u8], truncated: bool) -> String {
    if !truncated {
        if let Ok(value) = serde_json::from_slice::<Value>(body) {
            if let Some(message) = string_field(&value, "Err").filter(|m| !m.is_empty()) {
                return message;
            }
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim_end();
    if truncated {
        format!("{text}... (truncated)")
    } else {
        text.to_owned()
    }
}

/// The error a 200 answer reports in `field`, when non-empty.
pub(crate) fn reported_error(body: &[u8], field: ErrorField) -> Option<String> {
    let value = serde_json::from_slice::<Value>(body).ok()?;
    string_field(&value, field.key()).filter(|m| !m.is_empty())
}

/// Decodes a 200 answer. An empty answer is accepted where the type can be
/// empty: as `null` (unit, `Option`) or `{}` (a struct of optional fields);
/// and `{}` (what plugins answer for "nothing") is accepted as unit.
pub(crate) fn answer<T: DeserializeOwned>(body: &[u8]) -> Result<T, serde_json::Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return serde_json::from_slice(b"null")
            .or_else(|_| serde_json::from_slice(b"{}"))
            .map_err(|e| {
                <serde_json::Error as serde::de::Error>::custom(format!(
                    "the answer is empty, but this method returns a value ({e})"
                ))
            });
    }
    match serde_json::from_slice(body) {
        Err(e) if is_empty_object(body) => serde_json::from_slice(b"null").map_err(|_| e),
        other => other,
    }
}

fn is_empty_object(body: &[u8]) -> bool {
    body.iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .eq(*b"{}")
}

/// The start of an answer, for error messages.
pub(crate) fn excerpt(body: &[u8]) -> String {
    const MAX: usize = 200;
    let text = String::from_utf8_lossy(body.get(..MAX).unwrap_or(body));
    if body.len() > MAX {
        format!("{text}...")
    } else {
        text.into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn err_field_is_found_in_any_case_and_must_be_a_non_empty_string() {
        assert_eq!(error_message(br#"{"Err":"boom"}"#, false), "boom");
        assert_eq!(error_message(br#"{"err":"boom"}"#, false), "boom");
        assert_eq!(error_message(br#"{"ERR":"boom","Other":1}"#, false), "boom");
        assert_eq!(error_message(br#"{"Err":""}"#, false), r#"{"Err":""}"#);
        assert_eq!(error_message(br#"{"Err":5}"#, false), r#"{"Err":5}"#);
        assert_eq!(error_message(br#"["Err"]"#, false), r#"["Err"]"#);
        assert_eq!(
            error_message(b"404 page not found\n", false),
            "404 page not found"
        );
        assert_eq!(error_message(b"caf\xe9", false), "caf\u{fffd}");
        assert_eq!(error_message(b"", false), "");
        assert_eq!(
            error_message(br#"{"Err":"x"}"#, true),
            r#"{"Err":"x"}... (truncated)"#
        );
    }

    #[test]
    fn reported_errors_use_the_given_field() {
        assert_eq!(
            reported_error(br#"{"Err":"no"}"#, ErrorField::Err).as_deref(),
            Some("no")
        );
        assert_eq!(reported_error(br#"{"Err":"no"}"#, ErrorField::Error), None);
        assert_eq!(
            reported_error(br#"{"error":"ipam"}"#, ErrorField::Error).as_deref(),
            Some("ipam")
        );
        assert_eq!(reported_error(br#"{"Err":""}"#, ErrorField::Err), None);
        assert_eq!(reported_error(b"not json", ErrorField::Err), None);
    }

    #[test]
    fn empty_answers_decode_where_the_type_can_be_empty() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Optional {
            #[serde(default)]
            x: Option<u8>,
        }
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Required {
            x: u8,
        }
        answer::<()>(b"").unwrap();
        assert_eq!(answer::<Option<u8>>(b" \n").unwrap(), None);
        assert_eq!(answer::<Optional>(b"").unwrap(), Optional { x: None });
        let err = answer::<Required>(b"").unwrap_err().to_string();
        assert!(
            err.starts_with("the answer is empty, but this method returns a value"),
            "{err}"
        );
    }
}
