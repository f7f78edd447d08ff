//! Method handlers: typed (serde), raw (bytes), streaming; and the error a
//! handler returns.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures_core::Stream;
use futures_util::StreamExt;
use http::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A boxed error, for stream items.
pub use tower::BoxError;

/// The body stream a streaming handler answers with.
pub(crate) type BodyStream = Pin<Box<dyn Stream<Item = Result<Bytes, BoxError>> + Send>>;

/// What a handler tells the caller when it fails: answered as
/// `{"Err": "<message>"}` with status 500 (or the status given), as
/// go-plugins-helpers answers.
///
/// Any error converts into it with `?`, its `Display` text becoming the
/// message:
///
/// ```
/// use plugin_server::HandlerError;
///
/// fn parse(size: &str) -> Result<u64, HandlerError> {
///     Ok(size.parse::<u64>()?)
/// }
/// assert_eq!(parse("x").unwrap_err().message(), "invalid digit found in string");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerError {
    status: StatusCode,
    message: String,
}

impl HandlerError {
    /// A failure with status 500 and this message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: message.into(),
        }
    }

    /// A failure with another status (Docker treats every non-200 alike; 404
    /// means "not implemented" by convention).
    pub fn with_status(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// The message sent as `Err`.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The HTTP status sent.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl<E: std::error::Error> From<E> for HandlerError {
    fn from(error: E) -> Self {
        Self::new(error.to_string())
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The answer for a call that returns nothing: Docker's client needs a JSON
/// object in every 200.
const EMPTY_OBJECT: &[u8] = b"{}\n";

/// What a handler produced.
pub(crate) enum Outcome {
    /// A JSON (or raw) body for a 200.
    Body(Bytes),
    /// A streamed body for a 200.
    Stream(BodyStream),
    /// The request body did not decode: a 400 with this explanation.
    BadRequest(String),
    /// The handler failed.
    Failed(HandlerError),
}

type BoxFuture = Pin<Box<dyn Future<Output = Outcome> + Send>>;

/// A type-erased handler: the request's head and body in, outcome out.
pub(crate) type Route = Arc<dyn Fn(http::request::Parts, Bytes) -> BoxFuture + Send + Sync>;

/// Who called, for a handler that asks
/// ([`PluginServer::handle_with_caller`](crate::PluginServer::handle_with_caller)):
/// the request's headers and, on a unix socket, the peer's credentials.
#[derive(Debug)]
pub struct Caller {
    headers: http::HeaderMap,
    peer: Option<PeerCredentials>,
}

impl Caller {
    fn from_parts(parts: http::request::Parts) -> Self {
        Self {
            peer: parts.extensions.get::<PeerCredentials>().copied(),
            headers: parts.headers,
        }
    }

    /// The request's headers (`User-Agent`, say).
    pub fn headers(&self) -> &http::HeaderMap {
        &self.headers
    }

    /// The calling process's user, group and process IDs, as the kernel
    /// reports them for a unix socket (`SO_PEERCRED`); `None` over TCP, or
    /// when the request did not come through a unix listener.
    pub fn peer(&self) -> Option<PeerCredentials> {
        self.peer
    }
}

/// The credentials of the process at the other end of a unix socket, as the
/// kernel reports them. Every request that comes through a unix listener
/// carries them in its extensions, for handlers and layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerCredentials {
    uid: u32,
    gid: u32,
    pid: Option<i32>,
}

impl PeerCredentials {
    pub(crate) fn of(credentials: tokio::net::unix::UCred) -> Self {
        Self {
            uid: credentials.uid(),
            gid: credentials.gid(),
            pid: credentials.pid(),
        }
    }

    /// The user ID.
    pub fn uid(&self) -> u32 {
        self.uid
    }

    /// The group ID.
    pub fn gid(&self) -> u32 {
        self.gid
    }

    /// The process ID, where the platform reports it (Linux does).
    pub fn pid(&self) -> Option<i32> {
        self.pid
    }
}

/// Decodes a typed request. An empty body is accepted only by types that take
/// no arguments (`()`, unit structs, `Option<T>` as `None`): Docker sends none
/// for those, and go-plugins-helpers answers 400 to an empty body for every
/// method that reads arguments. `{}`, which Docker sends for empty argument
/// structs, is read the same way when the type will not take an object.
///
/// A struct's keys are matched as Go's `encoding/json` matches them (an exact
/// match first, else one that differs only in case): Docker's engine and
/// go-plugins-helpers' peers send `{"Name": ...}` to Go structs whose fields
/// are `Name`, and a Rust handler's `name` field must read it too.
fn decode<Req: DeserializeOwned>(
    body: &Bytes,
    fields: Option<&'static [&'static str]>,
) -> Result<Req, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Req::deserialize(NoArguments).map_err(|e| e.to_string());
    }
    let decoded = match fields {
        Some(fields) => match serde_json::from_slice::<serde_json::Value>(body) {
            // Keys that need Go's matching: decode the renamed object.
            Ok(value) => match go_keys(value, fields) {
                Some(renamed) => serde_json::from_value(renamed),
                // Nothing to rename: from the bytes, so errors keep their
                // line and column.
                None => serde_json::from_slice(body),
            },
            Err(e) => Err(e),
        },
        None => serde_json::from_slice(body),
    };
    match decoded {
        Err(e) if is_empty_object(body) => Req::deserialize(NoArguments)
            .map_err(|_| format!("the request body is not valid JSON for this method: {e}")),
        Err(e) => Err(format!(
            "the request body is not valid JSON for this method: {e}"
        )),
        Ok(request) => Ok(request),
    }
}

/// `value` with its keys renamed to the `fields` Go would match them to (an
/// exact match first, else a case-insensitive one; other keys as they are),
/// or `None` when no key needs it.
fn go_keys(value: serde_json::Value, fields: &[&str]) -> Option<serde_json::Value> {
    let serde_json::Value::Object(object) = value else {
        return None;
    };
    let folded = |key: &str| {
        if fields.contains(&key) {
            return None;
        }
        fields
            .iter()
            .find(|f| plugin_spec::go_json_key_matches(key, f))
    };
    if object.keys().all(|key| folded(key).is_none()) {
        return None;
    }
    let renamed = object
        .into_iter()
        .map(|(key, v)| match folded(&key) {
            Some(field) => ((*field).to_owned(), v),
            None => (key, v),
        })
        .collect();
    Some(serde_json::Value::Object(renamed))
}

/// The field names of `T`, if it is a struct with named fields, as its
/// derived `Deserialize` names them to the deserializer (renames applied).
fn struct_fields<T: DeserializeOwned>() -> Option<&'static [&'static str]> {
    let mut fields = None;
    let _ = T::deserialize(FieldNames(&mut fields));
    fields
}

/// A deserializer that only learns which fields a struct has.
struct FieldNames<'a>(&'a mut Option<&'static [&'static str]>);

impl<'de> serde::Deserializer<'de> for FieldNames<'_> {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = Some(fields);
        Err(serde::de::Error::custom("only the field names were wanted"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
        identifier ignored_any
    }
}

/// The arguments of an empty request body: none. Only types that take no
/// arguments deserialize from it.
struct NoArguments;

impl<'de> serde::Deserializer<'de> for NoArguments {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom(
            "the request body is empty, and this method needs arguments",
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

fn is_empty_object(text: &[u8]) -> bool {
    let trimmed: Vec<u8> = text
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    trimmed == b"{}"
}

/// Encodes a typed response; `null` (a unit answer) becomes `{}`, since
/// Docker's client fails on a 200 without a JSON object.
fn encode<Resp: Serialize>(response: &Resp) -> Outcome {
    match serde_json::to_vec(response) {
        Ok(bytes) if bytes == b"null" => Outcome::Body(Bytes::from_static(EMPTY_OBJECT)),
        Ok(mut bytes) => {
            bytes.push(b'\n');
            Outcome::Body(Bytes::from(bytes))
        }
        Err(e) => Outcome::Failed(HandlerError::new(format!(
            "the plugin's answer could not be encoded as JSON: {e}"
        ))),
    }
}

pub(crate) fn typed<Req, Resp, F, Fut>(handler: F) -> Route
where
    Req: DeserializeOwned + Send + 'static,
    Resp: Serialize + Send + 'static,
    F: Fn(Req) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Resp, HandlerError>> + Send + 'static,
{
    let handler = Arc::new(handler);
    with_caller(move |_caller: Caller, request: Req| handler(request))
}

pub(crate) fn with_caller<Req, Resp, F, Fut>(handler: F) -> Route
where
    Req: DeserializeOwned + Send + 'static,
    Resp: Serialize + Send + 'static,
    F: Fn(Caller, Req) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Resp, HandlerError>> + Send + 'static,
{
    let handler = Arc::new(handler);
    let fields = struct_fields::<Req>();
    Arc::new(move |parts: http::request::Parts, body: Bytes| {
        let handler = Arc::clone(&handler);
        Box::pin(async move {
            match decode::<Req>(&body, fields) {
                Ok(request) => match handler(Caller::from_parts(parts), request).await {
                    Ok(response) => encode(&response),
                    Err(error) => Outcome::Failed(error),
                },
                Err(explanation) => Outcome::BadRequest(explanation),
            }
        })
    })
}

pub(crate) fn raw<F, Fut>(handler: F) -> Route
where
    F: Fn(Bytes) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Bytes, HandlerError>> + Send + 'static,
{
    let handler = Arc::new(handler);
    Arc::new(move |_parts: http::request::Parts, body: Bytes| {
        let handler = Arc::clone(&handler);
        Box::pin(async move {
            match handler(body).await {
                Ok(answer) if answer.is_empty() => Outcome::Body(Bytes::from_static(EMPTY_OBJECT)),
                Ok(answer) => Outcome::Body(answer),
                Err(error) => Outcome::Failed(error),
            }
        })
    })
}

pub(crate) fn streaming<Req, S, E, F, Fut>(handler: F) -> Route
where
    Req: DeserializeOwned + Send + 'static,
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: Into<BoxError> + 'static,
    F: Fn(Req) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<S, HandlerError>> + Send + 'static,
{
    let handler = Arc::new(handler);
    let fields = struct_fields::<Req>();
    Arc::new(move |_parts: http::request::Parts, body: Bytes| {
        let handler = Arc::clone(&handler);
        Box::pin(async move {
            match decode::<Req>(&body, fields) {
                Ok(request) => match handler(request).await {
                    Ok(stream) => {
                        Outcome::Stream(Box::pin(stream.map(|item| item.map_err(Into::into))))
                    }
                    Err(error) => Outcome::Failed(error),
                },
                Err(explanation) => Outcome::BadRequest(explanation),
            }
        })
    })
}
