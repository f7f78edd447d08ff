//! Reading a plugin's answer as Docker reads it (docs/protocol.md, "Errors").

use plugin_spec::wire::{BodyError, from_body};
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

/// The fields an answer reports errors in, decoded as Go decodes them (keys
/// in any case, the last one winning); any JSON type is taken, only a string
/// is a message.
#[derive(serde::Deserialize)]
struct ErrorFields {
    #[serde(rename = "Err", default)]
    err: Option<Value>,
    #[serde(rename = "Error", default)]
    error: Option<Value>,
}

/// The string in `field` of an answer; `None` if the body is not a JSON
/// object or the value is not a string.
fn string_field(body: &[u8], field: ErrorField) -> Option<String> {
    let fields = from_body::<ErrorFields>(body).ok()?;
    let value = match field {
        ErrorField::Err => fields.err,
        ErrorField::Error => fields.error,
    };
    value.and_then(|v| v.as_str().map(str::to_owned))
}

/// The message of a non-200 answer: its `Err` when the body is JSON with a
/// non-empty string `Err`, else the body's text (lossy UTF-8, trailing
/// whitespace trimmed).
pub(crate) fn error_message(body: &[u8], truncated: bool) -> String {
    if !truncated {
        if let Some(message) = string_field(body, ErrorField::Err).filter(|m| !m.is_empty()) {
            return message;
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
    string_field(body, field).filter(|m| !m.is_empty())
}

/// Decodes a 200 answer with plugin-spec's [`from_body`] (Go's key matching;
/// `{}`, what plugins answer for "nothing", is accepted as unit). An empty
/// answer is also taken as `{}` where the type is a struct of optional
/// fields: Docker's client would fail on it, but nothing is lost by reading
/// it as the plugin meant.
pub(crate) fn answer<T: DeserializeOwned>(body: &[u8]) -> Result<T, BodyError> {
    match from_body(body) {
        Err(e) if e.is_empty_body() => from_body(b"{}").map_err(|_| e),
        decoded => decoded,
    }
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
        let err = answer::<Required>(b"").unwrap_err();
        assert!(err.is_empty_body());
        assert_eq!(
            err.to_string(),
            "invalid type: an empty body, expected struct Required"
        );
    }
}
