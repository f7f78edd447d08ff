//! JSON as Docker's Go code reads and writes it.
//!
//! Go's `encoding/json` matches object keys to struct fields case-insensitively
//! (`{"name":"x"}` fills `Name`), ignores unknown keys, leaves a field at its
//! zero value when its key is missing or `null`, and decodes a top-level
//! `null` as the zero value. Our types decode the same way: each implements
//! `Deserialize` by renaming the object's keys to the field names Go would
//! match them to ([`canonicalize`]) and then running the derived decoder.
//! Encoding uses Docker's exact field names.

use serde_json::{Map, Value};

/// Renames an object's keys to the `fields` Go would match them to (an exact
/// match first, else a case-insensitive one) and drops keys that match no
/// field, and keys whose value is `null` (Go leaves the zero value for them,
/// which is our default). A top-level `null` becomes `{}`: Go decodes it as
/// the zero value too. Anything but an object or `null` is refused, as Go
/// refuses it ("cannot unmarshal array into Go value of type ..."): serde's
/// derived decoder would take an array as the fields in order, so `[true]`
/// would have been an authz `{"Allow": true}`.
pub(crate) fn canonicalize(value: Value, fields: &[&str]) -> Result<Value, String> {
    let found = match value {
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (key, v) in map {
                if v.is_null() {
                    continue;
                }
                let field = fields.iter().find(|f| **f == key).or_else(|| {
                    fields
                        .iter()
                        .find(|f| plugin_spec::go_json_key_matches(&key, f))
                });
                if let Some(field) = field {
                    out.insert((*field).to_owned(), v);
                }
            }
            return Ok(Value::Object(out));
        }
        Value::Null => return Ok(Value::Object(Map::new())),
        Value::Array(_) => "an array",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
    };
    Err(format!("expected a JSON object, found {found}"))
}

/// Defines a struct for a Go message type: each field with its JSON name,
/// `Default`, and Go-style decoding (see the module docs). Field attributes
/// (docs, `#[serde(skip_serializing_if = ...)]` for Go's `omitempty`) pass
/// through.
///
/// `Serialize` is derived. `Deserialize` canonicalizes the keys, then runs the
/// decoder derived for a private mirror of the struct, so no serde-generated
/// function shows in the public API (serde's `remote = "Self"` made inherent
/// `serialize` and `deserialize` functions, public and in the docs).
macro_rules! go_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                $field:ident : $ty:ty = $json:literal
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
        pub struct $name {
            $(
                $(#[$fmeta])*
                #[serde(rename = $json)]
                pub $field: $ty,
            )*
        }

        const _: () = {
            #[derive(Default, serde::Deserialize)]
            #[serde(default)]
            struct Mirror {
                $(
                    $(#[$fmeta])*
                    #[serde(rename = $json)]
                    $field: $ty,
                )*
            }

            impl<'de> serde::Deserialize<'de> for $name {
                fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    let value = <serde_json::Value as serde::Deserialize>::deserialize(deserializer)?;
                    let value = $crate::go_json::canonicalize(value, &[$($json),*])
                        .map_err(<D::Error as serde::de::Error>::custom)?;
                    let mirror = <Mirror as serde::Deserialize>::deserialize(value)
                        .map_err(<D::Error as serde::de::Error>::custom)?;
                    Ok($name { $($field: mirror.$field),* })
                }
            }
        };
    };
}

pub(crate) use go_struct;

/// `[]byte` fields: base64 (standard alphabet, padded) in JSON, as Go encodes
/// them; `null` or missing is empty.
pub(crate) mod base64_bytes {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<u8>, D::Error> {
        let text: Option<String> = Option::deserialize(deserializer)?;
        match text {
            None => Ok(Vec::new()),
            // Go's decoder skips line breaks inside base64.
            Some(text) => STANDARD
                .decode(text.replace(['\r', '\n'], ""))
                .map_err(|e| serde::de::Error::custom(format!("not base64: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_renamed_as_go_matches_them() {
        let value = serde_json::json!({"name": "x", "OPTS": {"k": "v"}, "Unknown": 1, "ID": null});
        let out = canonicalize(value, &["Name", "Opts", "ID"]);
        assert_eq!(
            out,
            Ok(serde_json::json!({"Name": "x", "Opts": {"k": "v"}}))
        );
        assert_eq!(
            canonicalize(Value::Null, &["Name"]),
            Ok(serde_json::json!({}))
        );
    }

    #[test]
    fn anything_but_an_object_or_null_is_refused_as_go_refuses_it() {
        for (value, found) in [
            (serde_json::json!([true]), "an array"),
            (serde_json::json!(true), "a boolean"),
            (serde_json::json!(1), "a number"),
            (serde_json::json!("x"), "a string"),
        ] {
            assert_eq!(
                canonicalize(value, &["Allow"]),
                Err(format!("expected a JSON object, found {found}"))
            );
        }
    }
}
