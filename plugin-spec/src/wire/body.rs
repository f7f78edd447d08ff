//! Message bodies decoded as Docker's Go peers decode them.
//!
//! Docker's engine, its client library and go-plugins-helpers decode every
//! message with Go's `encoding/json` into a Go struct. That differs from a
//! plain serde derive in ways a peer can see:
//!
//! - an object key selects a field exactly, or else case-insensitively (with
//!   Go's folding: `name` and `NAME` fill `Name`, `ſ` matches `s`);
//! - a `null` value leaves the field at its zero value, and so does a
//!   top-level `null`;
//! - anything but an object (or `null`) is refused for a struct: serde's
//!   derived decoder would take `[true]` as the fields in order.
//!
//! Two rules of the protocol come on top, for a whole body ([`from_body`]):
//! an empty body is "no arguments" (Docker sends none for methods without
//! arguments, and plugins answer none for "nothing"), so only types that take
//! none (`()`, a unit struct, `Option<T>` as `None`) decode from it; and `{}`
//! (what Docker sends for an empty argument struct) decodes as such a type too.
//!
//! Both sides of the wire use these: plugin-server decodes requests with them,
//! plugin-client decodes answers and error fields with them.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::json::key_matches;

/// A `T` decoded as Go's `encoding/json` decodes a struct (see the module
/// docs): keys matched as Go matches them, `null` as absent, anything but an
/// object refused. A `T` that is not a struct with named fields decodes as
/// serde decodes it.
///
/// Use it where a Go-style type sits inside other data, or in a
/// `Deserialize` impl:
///
/// ```
/// use plugin_spec::wire::GoJson;
///
/// #[derive(serde::Deserialize, Debug, PartialEq)]
/// struct Mount {
///     #[serde(rename = "Name")]
///     name: String,
///     #[serde(rename = "ID", default)]
///     id: String,
/// }
///
/// let GoJson(mount) = serde_json::from_str::<GoJson<Mount>>(r#"{"name": "v1", "id": null}"#)?;
/// assert_eq!(mount, Mount { name: "v1".into(), id: String::new() });
/// assert!(serde_json::from_str::<GoJson<Mount>>(r#"["v1", ""]"#).is_err());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct GoJson<T>(pub T);

impl<'de, T: DeserializeOwned> Deserialize<'de> for GoJson<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        let value = match struct_fields::<T>() {
            Some(fields) => {
                go_object(value, fields)
                    .map_err(<D::Error as serde::de::Error>::custom)?
                    .0
            }
            None => value,
        };
        T::deserialize(value)
            .map(GoJson)
            .map_err(<D::Error as serde::de::Error>::custom)
    }
}

/// Decodes a whole message body as Docker's peers do (see the module docs):
/// the empty-body and `{}` rules, then [`GoJson`]'s rules.
///
/// ```
/// use plugin_spec::wire::from_body;
///
/// #[derive(serde::Deserialize, Debug, PartialEq)]
/// struct Remove {
///     #[serde(rename = "Name")]
///     name: String,
/// }
///
/// assert_eq!(from_body::<Remove>(br#"{"name":"v1"}"#)?, Remove { name: "v1".into() });
/// from_body::<()>(b"")?;
/// from_body::<()>(b"{}")?;
/// let empty = from_body::<Remove>(b"").unwrap_err();
/// assert!(empty.is_empty_body());
/// assert_eq!(empty.to_string(), "invalid type: an empty body, expected struct Remove");
/// # Ok::<(), plugin_spec::wire::BodyError>(())
/// ```
///
/// A decoding error keeps serde's line and column where the body's keys
/// needed no renaming (Docker sends exact keys, so almost always).
pub fn from_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, BodyError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return no_arguments::<T>().map_err(|e| BodyError::empty(Box::new(e)));
    }
    let decoded = match struct_fields::<T>() {
        None => serde_json::from_slice(body),
        Some(fields) => match serde_json::from_slice::<Value>(body) {
            Err(e) => Err(e),
            Ok(value) => match go_object(value, fields) {
                Err(refused) => return Err(BodyError::not_json(Box::new(refused))),
                Ok((value, true)) => T::deserialize(value),
                // Nothing renamed: from the bytes, so that an error keeps
                // its line and column.
                Ok((_, false)) => serde_json::from_slice(body),
            },
        },
    };
    match decoded {
        Ok(value) => Ok(value),
        Err(e) if is_empty_object(body) => {
            no_arguments::<T>().map_err(|_| BodyError::not_json(Box::new(e)))
        }
        Err(e) => Err(BodyError::not_json(Box::new(e))),
    }
}

/// A body that does not decode as the expected type. Its text is the reason
/// (serde's, with line and column where it has them, or ours: "expected a
/// JSON object, found an array"); it has no further source.
#[derive(Debug)]
#[non_exhaustive]
pub struct BodyError {
    empty: bool,
    reason: Box<dyn std::error::Error + Send + Sync>,
}

impl BodyError {
    fn empty(reason: Box<dyn std::error::Error + Send + Sync>) -> Self {
        Self {
            empty: true,
            reason,
        }
    }

    fn not_json(reason: Box<dyn std::error::Error + Send + Sync>) -> Self {
        Self {
            empty: false,
            reason,
        }
    }

    /// Whether the body was empty (or only whitespace) and the type needs a
    /// value. Otherwise the body was not JSON of the expected shape.
    pub fn is_empty_body(&self) -> bool {
        self.empty
    }
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.reason, f)
    }
}

impl std::error::Error for BodyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.reason.source()
    }
}

/// `value` as Go would present it to a struct whose JSON field names are
/// `fields`: keys renamed to the field they select (an exact match first,
/// else Go's case-insensitive one; later keys win), `null` values dropped,
/// other keys kept as they are; a top-level `null` as `{}`. The flag says
/// whether anything changed. Anything but an object or `null` is refused.
fn go_object(value: Value, fields: &[&str]) -> Result<(Value, bool), NotAnObject> {
    let object = match value {
        Value::Object(object) => object,
        Value::Null => return Ok((Value::Object(Map::new()), true)),
        Value::Array(_) => return Err(NotAnObject("an array")),
        Value::Bool(_) => return Err(NotAnObject("a boolean")),
        Value::Number(_) => return Err(NotAnObject("a number")),
        Value::String(_) => return Err(NotAnObject("a string")),
    };
    let selects = |key: &str| -> Option<&str> {
        if fields.contains(&key) {
            return None;
        }
        fields.iter().copied().find(|f| key_matches(key, f))
    };
    let unchanged = object
        .iter()
        .all(|(key, v)| !v.is_null() && selects(key).is_none());
    if unchanged {
        return Ok((Value::Object(object), false));
    }
    let mut out = Map::with_capacity(object.len());
    for (key, v) in object {
        if v.is_null() {
            continue;
        }
        match selects(&key) {
            Some(field) => out.insert(field.to_owned(), v),
            None => out.insert(key, v),
        };
    }
    Ok((Value::Object(out), true))
}

/// Something other than an object where a struct was expected.
#[derive(Debug)]
struct NotAnObject(&'static str);

impl fmt::Display for NotAnObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expected a JSON object, found {}", self.0)
    }
}

impl std::error::Error for NotAnObject {}

fn is_empty_object(body: &[u8]) -> bool {
    body.iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .eq(*b"{}")
}

/// `T` from no arguments at all, if it takes none.
fn no_arguments<T: DeserializeOwned>() -> Result<T, serde::de::value::Error> {
    T::deserialize(NoArguments)
}

/// The field names of `T`, if it is a struct with named fields, as its
/// derived `Deserialize` names them (renames applied).
fn struct_fields<T: DeserializeOwned>() -> Option<&'static [&'static str]> {
    let mut fields = None;
    let _ = T::deserialize(FieldNames(&mut fields, PhantomData));
    fields
}

/// A deserializer that only learns which fields a struct has.
struct FieldNames<'a>(
    &'a mut Option<&'static [&'static str]>,
    PhantomData<NotAStruct>,
);

/// The error [`FieldNames`] ends every decoding with; it allocates nothing.
#[derive(Debug)]
struct NotAStruct;

impl fmt::Display for NotAStruct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("only the field names were wanted")
    }
}

impl std::error::Error for NotAStruct {}

impl serde::de::Error for NotAStruct {
    fn custom<M: fmt::Display>(_: M) -> Self {
        NotAStruct
    }
}

impl<'de> serde::Deserializer<'de> for FieldNames<'_> {
    type Error = NotAStruct;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(NotAStruct)
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = Some(fields);
        Err(NotAStruct)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
        identifier ignored_any
    }
}

/// The arguments of an empty body: none. Only types that take no arguments
/// deserialize from it.
struct NoArguments;

impl<'de> serde::Deserializer<'de> for NoArguments {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::invalid_type(
            serde::de::Unexpected::Other("an empty body"),
            &visitor,
        ))
    }

    fn deserialize_unit<V: serde::de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }

    fn deserialize_option<V: serde::de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_none()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf newtype_struct seq tuple tuple_struct map struct enum identifier
        ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Create {
        #[serde(rename = "Name")]
        name: String,
        #[serde(rename = "Opts", default)]
        opts: Option<Value>,
    }

    #[test]
    fn keys_are_renamed_as_go_matches_them_and_nulls_dropped() {
        let value = serde_json::json!({"name": "x", "OPTS": {"k": "v"}, "Unknown": 1, "ID": null});
        assert_eq!(
            go_object(value, &["Name", "Opts", "ID"]).unwrap(),
            (
                serde_json::json!({"Name": "x", "Opts": {"k": "v"}, "Unknown": 1}),
                true
            )
        );
        let exact = serde_json::json!({"Name": "x"});
        assert_eq!(go_object(exact.clone(), &["Name"]).unwrap(), (exact, false));
        assert_eq!(
            go_object(Value::Null, &["Name"]).unwrap(),
            (serde_json::json!({}), true)
        );
    }

    #[test]
    fn anything_but_an_object_or_null_is_refused_for_a_struct() {
        for (body, found) in [
            (&br#"["x"]"#[..], "an array"),
            (b"true", "a boolean"),
            (b"1", "a number"),
            (br#""x""#, "a string"),
        ] {
            let err = from_body::<Create>(body).unwrap_err();
            assert!(!err.is_empty_body());
            assert_eq!(
                err.to_string(),
                format!("expected a JSON object, found {found}")
            );
            assert!(std::error::Error::source(&err).is_none());
        }
    }

    #[test]
    fn errors_keep_their_position_when_nothing_was_renamed() {
        let err = from_body::<Create>(br#"{"Opts":{}}"#).unwrap_err();
        assert_eq!(err.to_string(), "missing field `Name` at line 1 column 11");
        // Renamed keys: serde saw a value, not the text, so no position.
        let err = from_body::<Create>(br#"{"opts":{}}"#).unwrap_err();
        assert_eq!(err.to_string(), "missing field `Name`");
    }

    #[test]
    fn empty_bodies_and_empty_objects_are_no_arguments() {
        from_body::<()>(b" \n").unwrap();
        from_body::<()>(b" { } ").unwrap();
        assert_eq!(from_body::<Option<u8>>(b"").unwrap(), None);
        let err = from_body::<Create>(b"").unwrap_err();
        assert!(err.is_empty_body());
        assert_eq!(
            err.to_string(),
            "invalid type: an empty body, expected struct Create"
        );
        // A struct takes `{}` as an object, so a required field is missing.
        assert!(!from_body::<Create>(b"{}").unwrap_err().is_empty_body());
    }

    #[test]
    fn types_that_are_not_structs_decode_as_serde_does() {
        assert_eq!(from_body::<Vec<u8>>(b"[1,2]").unwrap(), vec![1, 2]);
        assert_eq!(
            from_body::<std::collections::BTreeMap<String, u8>>(br#"{"name":1}"#).unwrap(),
            [("name".to_owned(), 1)].into_iter().collect()
        );
    }

    #[test]
    fn go_json_nests() {
        let GoJson(list) = serde_json::from_str::<Vec<GoJson<Create>>>(
            r#"[{"NAME":"a"},{"name":"b","opts":null}]"#,
        )
        .map(|v| GoJson(v.into_iter().map(|GoJson(c)| c.name).collect::<Vec<_>>()))
        .unwrap();
        assert_eq!(list, ["a", "b"]);
    }
}
