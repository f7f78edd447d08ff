//! JSON as Docker's Go code reads and writes it.
//!
//! Go's `encoding/json` matches object keys to struct fields case-insensitively
//! (`{"name":"x"}` fills `Name`), ignores unknown keys, leaves a field at its
//! zero value when its key is missing or `null`, and decodes a top-level
//! `null` as the zero value. Our types decode the same way: each implements
//! `Deserialize` through plugin-spec's [`GoJson`](plugin_spec::wire::GoJson),
//! which takes the object's keys in document order as Go does (the last key
//! to select a field wins, whatever its case), writes the object Go would
//! have decoded under the exact field names, and runs the derived decoder.
//! Encoding uses Docker's exact field names.

/// Defines a struct for a Go message type: each field with its JSON name,
/// `Default`, and Go-style decoding (see the module docs). Field attributes
/// (docs, `#[serde(skip_serializing_if = ...)]` for Go's `omitempty`) pass
/// through.
///
/// `Serialize` is derived. `Deserialize` decodes a private mirror of the
/// struct with [`GoJson`](plugin_spec::wire::GoJson), so no serde-generated
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
                    let plugin_spec::wire::GoJson(mirror) =
                        <plugin_spec::wire::GoJson<Mirror> as serde::Deserialize>::deserialize(deserializer)?;
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
