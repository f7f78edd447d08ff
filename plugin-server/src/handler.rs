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
use plugin_spec::wire::from_body;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// tower's boxed error (`Box<dyn Error + Send + Sync>`), re-exported: what
/// a streaming handler's items and a layer's errors are boxed as.
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

/// Decodes a typed request with plugin-spec's [`from_body`]: an empty body is
/// accepted only by types that take no arguments (`()`, unit structs,
/// `Option<T>` as `None`), as go-plugins-helpers answers 400 to an empty body
/// for every method that reads arguments; `{}` too, which Docker sends for
/// empty argument structs; a struct's keys are matched as Go's
/// `encoding/json` matches them, since Docker's engine and go-plugins-helpers'
/// peers send `{"Name": ...}` to Go structs whose fields are `Name`.
///
/// The explanation goes back to the caller in the 400's `Err`, so it carries
/// the reason too.
fn decode<Req: DeserializeOwned>(body: &Bytes) -> Result<Req, String> {
    from_body(body).map_err(|e| {
        if e.is_empty_body() {
            "the request body is empty, and this method needs arguments".to_owned()
        } else {
            format!("the request body is not valid JSON for this method: {e}")
        }
    })
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
    Arc::new(move |parts: http::request::Parts, body: Bytes| {
        let handler = Arc::clone(&handler);
        Box::pin(async move {
            match decode::<Req>(&body) {
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
    Arc::new(move |_parts: http::request::Parts, body: Bytes| {
        let handler = Arc::clone(&handler);
        Box::pin(async move {
            match decode::<Req>(&body) {
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
