//! Message bodies decoded as Docker's Go peers decode them.
//!
//! Docker's engine, its client library and go-plugins-helpers decode every
//! message with Go's `encoding/json` into a Go struct. That differs from a
//! plain serde derive in ways a peer can see:
//!
//! - an object key selects a field exactly, or else case-insensitively (with
//!   Go's folding: `name` and `NAME` fill `Name`, `ſ` matches `s`);
//! - keys are taken in document order, each decoding into the field it
//!   selects: of repeated keys the last wins, whatever its case
//!   (`{"Name":"a","NAME":"b"}` is `b`), and an object for a struct or map
//!   field that already holds one is decoded into it (the entries merge);
//! - a `null` value leaves the field at its zero value, and so does a
//!   top-level `null`; after a value, `null` clears a pointer, map, slice or
//!   interface (an `Option`, a map, a sequence, bytes, a `serde_json::Value`)
//!   and leaves anything else;
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

use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::json::key_matches;

/// A `T` decoded as Go's `encoding/json` decodes a struct (see the module
/// docs): keys matched as Go matches them, `null` as absent, anything but an
/// object refused. A `T` that is not a struct with named fields decodes as
/// serde decodes it.
///
/// The object is read with serde_json (from text, or from a
/// `serde_json::Value`, whose objects have lost their order and repeated
/// keys already): its entries are kept in document order with their values
/// as written, so other deserializers cannot supply a Go-style struct.
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

/// The name [`GoJson`] gives the deserializer before it reads an object, so
/// that [`field_resets`] can tell a nested Go struct from an interface.
const GO_STRUCT: &str = "plugin_spec::wire::GoJson";

impl<'de, T: DeserializeOwned> Deserialize<'de> for GoJson<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let Some(fields) = struct_fields::<T>() else {
            return T::deserialize(deserializer).map(GoJson);
        };
        let shape = deserializer.deserialize_newtype_struct(GO_STRUCT, ShapeVisitor)?;
        let text = match shape {
            Shape::Object(entries) => go_object::<T>(entries, fields).0,
            Shape::Null => "{}".to_owned(),
            Shape::Other(found) => return Err(D::Error::custom(NotAnObject(found))),
        };
        serde_json::from_str(&text)
            .map(GoJson)
            .map_err(|e| D::Error::custom(without_position(e)))
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
        Some(fields) => match serde_json::from_slice::<Shape>(body) {
            Err(e) => Err(e),
            Ok(Shape::Other(found)) => {
                return Err(BodyError::not_json(Box::new(NotAnObject(found))));
            }
            Ok(Shape::Null) => serde_json::from_str("{}"),
            Ok(Shape::Object(entries)) => match go_object::<T>(entries, fields) {
                // Positions in the rewritten text would mislead.
                (text, true) => serde_json::from_str(&text).map_err(without_position),
                // Nothing renamed: from the bytes, so that an error keeps
                // its line and column.
                (_, false) => serde_json::from_slice(body),
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

/// What a Go struct was handed: an object's entries in document order (with
/// any duplicates), `null`, or something else (named for the error).
enum Shape {
    Object(Vec<(String, Box<RawValue>)>),
    Null,
    Other(&'static str),
}

impl<'de> Deserialize<'de> for Shape {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ShapeVisitor)
    }
}

struct ShapeVisitor;

impl<'de> Visitor<'de> for ShapeVisitor {
    type Value = Shape;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_newtype_struct<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Shape, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shape, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
        while let Some(entry) = map.next_entry::<String, Box<RawValue>>()? {
            entries.push(entry);
        }
        Ok(Shape::Object(entries))
    }

    fn visit_unit<E>(self) -> Result<Shape, E> {
        Ok(Shape::Null)
    }

    fn visit_none<E>(self) -> Result<Shape, E> {
        Ok(Shape::Null)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Shape, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shape, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Shape::Other("an array"))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Shape, E> {
        Ok(Shape::Other("a boolean"))
    }

    fn visit_i64<E>(self, _: i64) -> Result<Shape, E> {
        Ok(Shape::Other("a number"))
    }

    fn visit_u64<E>(self, _: u64) -> Result<Shape, E> {
        Ok(Shape::Other("a number"))
    }

    fn visit_f64<E>(self, _: f64) -> Result<Shape, E> {
        Ok(Shape::Other("a number"))
    }

    fn visit_str<E>(self, _: &str) -> Result<Shape, E> {
        Ok(Shape::Other("a string"))
    }
}

/// An object's `entries` as Go decodes them into a struct `T` whose JSON
/// field names are `fields`, written back as one JSON object for `T`'s
/// derived decoder: each key in document order selects a field (an exact
/// match first, else Go's case-insensitive one) and its value replaces the
/// field's, so the last key to select a field wins, whatever its case.
/// `null` leaves a field as it was, except where Go would set it to nil
/// (pointers, maps, slices, interfaces); an object selecting a struct or map
/// field that already holds one is decoded into it, as Go does, so the two
/// objects' entries are merged in order (see [`field_kind`]). Other keys
/// are kept as they are (the last of exact duplicates) and `null`s among
/// them dropped. The flag says whether the object differs from `entries` as
/// written.
fn go_object<T: DeserializeOwned>(
    entries: Vec<(String, Box<RawValue>)>,
    fields: &'static [&'static str],
) -> (String, bool) {
    /// A field: the objects to merge into its value (one value for anything
    /// but a struct or map; only objects when more than one), and its kind
    /// once it was needed.
    struct Slot {
        name: &'static str,
        parts: Vec<Box<RawValue>>,
        kind: Option<Kind>,
    }
    let mut slots: Vec<Slot> = fields
        .iter()
        .map(|name| Slot {
            name,
            parts: Vec::new(),
            kind: None,
        })
        .collect();
    let mut others: Vec<(String, Box<RawValue>)> = Vec::new();
    let mut other_index: HashMap<String, usize> = HashMap::new();
    let mut changed = false;
    for (key, value) in entries {
        let null = value.get() == "null";
        let exact = fields.contains(&key.as_str());
        let slot = if exact {
            slots.iter_mut().find(|s| s.name == key)
        } else {
            slots.iter_mut().find(|s| key_matches(&key, s.name))
        };
        let Some(slot) = slot else {
            if null {
                changed = true;
            } else if let Some(other) = other_index.get(&key).and_then(|&i| others.get_mut(i)) {
                changed = true;
                other.1 = value;
            } else {
                other_index.insert(key.clone(), others.len());
                others.push((key, value));
            }
            continue;
        };
        changed |= !exact || null || !slot.parts.is_empty();
        if slot.parts.is_empty() {
            if !null {
                slot.parts.push(value);
            }
            continue;
        }
        let kind = *slot.kind.get_or_insert_with(|| field_kind::<T>(slot.name));
        if null {
            if kind.resets {
                slot.parts.clear();
            }
        } else if kind.merges
            && is_object(&value)
            && slot.parts.first().is_some_and(|p| is_object(p))
        {
            slot.parts.push(value);
        } else {
            slot.parts.clear();
            slot.parts.push(value);
        }
    }
    let mut text = String::from("{");
    let named = slots
        .into_iter()
        .filter_map(|slot| Some((slot.name.to_owned(), merged(slot.parts)?)));
    for (key, value) in named.chain(others) {
        if text.len() > 1 {
            text.push(',');
        }
        // A string always serializes.
        text.push_str(&serde_json::to_string(&key).unwrap_or_default());
        text.push(':');
        text.push_str(value.get());
    }
    text.push('}');
    (text, changed)
}

fn is_object(value: &RawValue) -> bool {
    value.get().starts_with('{')
}

/// One object with the entries of each of `objects` in order (what decoding
/// each into the value the one before gave does), or the one value there
/// is; `None` for none.
fn merged(mut objects: Vec<Box<RawValue>>) -> Option<Box<RawValue>> {
    if objects.len() < 2 {
        return objects.pop();
    }
    let mut joined = String::from("{");
    for object in &objects {
        let inner = object
            .get()
            .strip_prefix('{')
            .and_then(|o| o.strip_suffix('}'))
            .unwrap_or_default()
            .trim();
        if inner.is_empty() {
            continue;
        }
        if joined.len() > 1 {
            joined.push(',');
        }
        joined.push_str(inner);
    }
    joined.push('}');
    RawValue::from_string(joined).ok().or_else(|| objects.pop())
}

/// `error` without the line and column it has in text we wrote.
fn without_position(error: serde_json::Error) -> serde_json::Error {
    let text = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    match text.strip_suffix(&suffix) {
        Some(reason) => serde::de::Error::custom(reason),
        None => error,
    }
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

/// How Go treats a field of a kind: whether `null` sets it to its zero value
/// (a pointer, map, slice or interface: here an `Option`, a map, a sequence,
/// bytes or an any-typed value) rather than leaving it as it was (a string,
/// number, boolean or struct), and whether an object is decoded into the
/// value it already holds (a struct or a map, or a pointer to one) rather
/// than replacing it.
#[derive(Debug, Clone, Copy, Default)]
struct Kind {
    resets: bool,
    merges: bool,
}

/// The [`Kind`] of `T`'s field `field`, learned by offering the field's
/// decoder a value and seeing what it asks for.
fn field_kind<T: DeserializeOwned>(field: &'static str) -> Kind {
    let mut kind = None;
    let _ = T::deserialize(OneField {
        field,
        kind: &mut kind,
    });
    kind.unwrap_or_default()
}

/// A deserializer of a struct with one entry, `field`, whose value is a
/// [`NullProbe`].
struct OneField<'a> {
    field: &'static str,
    kind: &'a mut Option<Kind>,
}

impl<'de> serde::Deserializer<'de> for OneField<'_> {
    type Error = NotAStruct;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(NotAStruct)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_map(OneEntry {
            field: Some(self.field),
            kind: self.kind,
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
        identifier ignored_any
    }
}

struct OneEntry<'a> {
    field: Option<&'static str>,
    kind: &'a mut Option<Kind>,
}

impl<'de> MapAccess<'de> for OneEntry<'_> {
    type Error = NotAStruct;

    fn next_key_seed<K: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        match self.field.take() {
            Some(field) => seed
                .deserialize(serde::de::value::BorrowedStrDeserializer::new(field))
                .map(Some),
            None => Err(NotAStruct),
        }
    }

    fn next_value_seed<V: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        seed.deserialize(NullProbe(self.kind))
    }
}

/// `deserialize_*` methods of [`NullProbe`] for kinds whose field Go leaves
/// as it was on `null`.
macro_rules! keeps {
    ($($method:ident)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
                self.found(false, false)
            }
        )*
    };
}

/// A field's value that records what the field's decoder asks for.
struct NullProbe<'a>(&'a mut Option<Kind>);

impl NullProbe<'_> {
    fn found<T>(self, resets: bool, merges: bool) -> Result<T, NotAStruct> {
        *self.0 = Some(Kind { resets, merges });
        Err(NotAStruct)
    }
}

impl<'de> serde::Deserializer<'de> for NullProbe<'_> {
    type Error = NotAStruct;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        self.found(true, false)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        // A pointer: nil on null, and decoded into as what it points to is.
        let _ = visitor.visit_some(NullProbe(&mut *self.0));
        let merges = self.0.is_some_and(|k| k.merges);
        self.found(true, merges)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        self.found(true, false)
    }

    fn deserialize_map<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        self.found(true, true)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        self.found(true, false)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        self.found(true, false)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        if name == GO_STRUCT {
            return self.found(false, true);
        }
        visitor.visit_newtype_struct(self)
    }

    keeps! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char deserialize_str
        deserialize_string deserialize_unit deserialize_identifier deserialize_ignored_any
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: V,
    ) -> Result<V::Value, Self::Error> {
        self.found(false, false)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, _: V) -> Result<V::Value, Self::Error> {
        self.found(false, false)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        _: V,
    ) -> Result<V::Value, Self::Error> {
        self.found(false, false)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        self.found(false, true)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        self.found(false, false)
    }
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
    use serde_json::Value;

    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Create {
        #[serde(rename = "Name")]
        name: String,
        #[serde(rename = "Opts", default)]
        opts: Option<Value>,
    }

    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Mount {
        #[serde(rename = "Name", default)]
        name: String,
        #[serde(rename = "ID", default)]
        id: Option<String>,
        #[serde(rename = "Opts", default)]
        opts: Option<Value>,
        #[serde(rename = "Inner", default)]
        inner: GoJson<Inner>,
    }

    #[derive(Debug, PartialEq, Default, serde::Deserialize)]
    struct Inner {
        #[serde(rename = "Name", default)]
        name: String,
    }

    fn mount(body: &str) -> Mount {
        let from_body = from_body::<Mount>(body.as_bytes()).unwrap();
        let GoJson(nested) = serde_json::from_str::<GoJson<Mount>>(body).unwrap();
        assert_eq!(from_body, nested, "{body}");
        from_body
    }

    #[test]
    fn keys_are_matched_as_go_matches_them_and_nulls_dropped() {
        let m = mount(r#"{"name": "x", "OPTS": {"k": "v"}, "Unknown": 1, "id": null}"#);
        assert_eq!(m.name, "x");
        assert_eq!(m.opts, Some(serde_json::json!({"k": "v"})));
        assert_eq!(m.id, None);
        assert_eq!(mount("null"), mount("{}"));
        // From a serde_json::Value too (its map has one value per key).
        let GoJson(from_value) =
            GoJson::<Mount>::deserialize(serde_json::json!({"NAME": "x", "id": "i"})).unwrap();
        assert_eq!(
            (from_value.name.as_str(), from_value.id.as_deref()),
            ("x", Some("i"))
        );
    }

    #[test]
    fn the_last_key_to_select_a_field_wins_whatever_its_case() {
        // Go's answers (interop/fixtures/go-duplicate-keys.json has more).
        assert_eq!(mount(r#"{"Name":"a","NAME":"b"}"#).name, "b");
        assert_eq!(mount(r#"{"NAME":"b","Name":"a"}"#).name, "a");
        assert_eq!(mount(r#"{"Name":"a","Name":"b"}"#).name, "b");
        assert_eq!(mount(r#"{"name":"a","Name":"b","nAME":"c"}"#).name, "c");
        // Nested objects keep their own order.
        let m = mount(r#"{"Inner":{"Name":"a","name":"b"},"inner":{"NAME":"c","Name":"d"}}"#);
        assert_eq!(m.inner.0.name, "d");
        // Go folds the Kelvin sign with k and the long s with s.
        #[derive(Debug, serde::Deserialize)]
        struct Ks {
            #[serde(rename = "Ks", default)]
            ks: String,
        }
        let ks = from_body::<Ks>("{\"Ks\":\"a\",\"\u{212a}\u{17f}\":\"b\"}".as_bytes()).unwrap();
        assert_eq!(ks.ks, "b");
    }

    #[test]
    fn null_after_a_value_keeps_a_string_and_clears_a_pointer_or_interface() {
        let m = mount(r#"{"Name":"a","name":null,"ID":"i","id":null,"Opts":{},"OPTS":null}"#);
        assert_eq!(m.name, "a");
        assert_eq!(m.id, None);
        assert_eq!(m.opts, None);
        // A nested struct is kept, as Go keeps a struct field.
        let m = mount(r#"{"Inner":{"Name":"a"},"inner":null}"#);
        assert_eq!(m.inner.0.name, "a");
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
