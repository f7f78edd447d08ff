//! Decoding a `.json` descriptor as Go's `encoding/json` decodes it into Docker's
//! `plugins.Plugin`: keys matched case-insensitively (with Go's folding), unknown
//! keys ignored, `null` treated as absent, a later duplicate key winning.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, Visitor};

/// The fields of a `.json` descriptor, before validation.
#[derive(Debug, Default)]
pub(crate) struct RawDescriptor {
    /// `Name`: ignored by Docker (an unexported field), kept for a warning. Any
    /// JSON type is accepted; only a string is kept.
    pub(crate) name: Option<String>,
    /// `Addr`.
    pub(crate) addr: Option<String>,
    /// `TLSConfig`.
    pub(crate) tls: Option<RawTls>,
}

/// The fields of a `TLSConfig` object (go-connections' `tlsconfig.Options`)
/// that plugins use.
#[derive(Debug, Default)]
pub(crate) struct RawTls {
    pub(crate) insecure_skip_verify: Option<bool>,
    pub(crate) ca_file: Option<String>,
    pub(crate) cert_file: Option<String>,
    pub(crate) key_file: Option<String>,
}

/// Go's key folding (`encoding/json` since Go 1.21): ASCII letters by case,
/// other characters by `ToUpper(ToLower(c))`, so `ſ` matches `s` and the Kelvin
/// sign matches `k`.
fn fold(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_uppercase();
    }
    let mut lower = c.to_lowercase();
    let lowered = match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => return c,
    };
    let mut upper = lowered.to_uppercase();
    match (upper.next(), upper.next()) {
        (Some(u), None) => u,
        _ => lowered,
    }
}

/// Whether a JSON key names `field`, as Go matches it.
pub(crate) fn key_matches(key: &str, field: &str) -> bool {
    key.chars().map(fold).eq(field.chars().map(fold))
}

impl<'de> Deserialize<'de> for RawDescriptor {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(DescriptorVisitor)
    }
}

struct DescriptorVisitor;

impl<'de> Visitor<'de> for DescriptorVisitor {
    type Value = RawDescriptor;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object with an \"Addr\"")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut raw = RawDescriptor::default();
        while let Some(key) = map.next_key::<String>()? {
            if key_matches(&key, "Addr") {
                // Go leaves a string untouched when its value is null...
                if let Some(addr) = map.next_value::<Option<String>>()? {
                    raw.addr = Some(addr);
                }
            } else if key_matches(&key, "TLSConfig") {
                // ...but sets a pointer to nil.
                raw.tls = map.next_value::<Option<RawTls>>()?;
            } else if key_matches(&key, "Name") {
                raw.name = match map.next_value::<serde_json::Value>()? {
                    serde_json::Value::String(name) => Some(name),
                    _ => None,
                };
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(raw)
    }
}

impl<'de> Deserialize<'de> for RawTls {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(TlsVisitor)
    }
}

struct TlsVisitor;

impl<'de> Visitor<'de> for TlsVisitor {
    type Value = RawTls;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a TLSConfig object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut raw = RawTls::default();
        while let Some(key) = map.next_key::<String>()? {
            // Go leaves a field untouched when its value is null.
            if key_matches(&key, "InsecureSkipVerify") {
                if let Some(v) = map.next_value::<Option<bool>>()? {
                    raw.insecure_skip_verify = Some(v);
                }
            } else if let Some(slot) = [
                ("CAFile", &mut raw.ca_file),
                ("CertFile", &mut raw.cert_file),
                ("KeyFile", &mut raw.key_file),
            ]
            .into_iter()
            .find_map(|(field, slot)| key_matches(&key, field).then_some(slot))
            {
                if let Some(v) = map.next_value::<Option<String>>()? {
                    *slot = Some(v);
                }
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_fold_as_in_go() {
        assert!(key_matches("addr", "Addr"));
        assert!(key_matches("ADDR", "Addr"));
        assert!(key_matches("tlsconfig", "TLSConfig"));
        // U+017F LATIN SMALL LETTER LONG S folds to `s`; U+212A KELVIN SIGN to `k`.
        assert!(key_matches("TL\u{17f}Config", "TLSConfig"));
        assert!(key_matches("\u{212a}eyFile", "KeyFile"));
        assert!(!key_matches("Addr ", "Addr"));
        assert!(!key_matches("Adr", "Addr"));
        assert!(!key_matches("Äddr", "Addr"));
    }
}
