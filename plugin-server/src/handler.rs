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
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A body stream a streaming handler answers with.
pub type BodyStream = Pin<Box<dyn Stream<Item = Result<Bytes, BoxError>> + Send>>;

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

/// A type-erased handler: request body in, outcome out.
pub(crate) type Route = Arc<dyn Fn(Bytes) -> BoxFuture + Send + Sync>;

/// Decodes a typed request. An empty body reads as JSON `null`, so handlers
/// taking `()` or `Option<T>` accept calls without arguments (Docker sends
/// none for those); and `{}`, which Docker sends for empty argument structs,
/// is also read as `null` when the type will not take an object.
fn decode<Req: DeserializeOwned>(body: &Bytes) -> Result<Req, String> {
    let text: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"null"
    } else {
        body
    };
    let first = serde_json::from_slice(text);
    let first = match first {
        Err(_) if is_empty_object(text) => serde_json::from_slice(b"null").or(first),
        other => other,
    };
    first.map_err(|e| {
        if text == b"null" {
            format!("the request body is empty, and this method needs arguments ({e})")
        } else {
            format!("the request body is not valid JSON for this method: {e}")
        }
    })
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
    Arc::new(move |body: Bytes| {
        let handler = Arc::clone(&handler);
        Box::pin(async move {
            match decode::<Req>(&body) {
                Ok(request) => match handler(request).await {
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
    Arc::new(move |body: Bytes| {
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
    Arc::new(move |body: Bytes| {
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
