//! Answering one request as go-plugins-helpers does (docs/protocol.md, "Serving a plugin"), with its
//! mistakes fixed: every answer is JSON, bad input gets a reason, a panicking
//! handler gets a 500 and the server goes on.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures_util::{FutureExt, StreamExt};
use http::header::{ALLOW, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body::{Body, Frame};
use http_body_util::{BodyExt, LengthLimitError, Limited, StreamBody};
use tracing::Instrument;

use crate::body::ResponseBody;
use crate::handler::{BoxError, Outcome};
use crate::server::Inner;

pub use plugin_spec::wire::{ACTIVATE, CONTENT_TYPE_V1_1};

/// Answers `request`, inside a `plugin.serve` span with the plugin, method,
/// status and duration.
pub(crate) async fn respond<B>(inner: Arc<Inner>, request: Request<B>) -> Response<ResponseBody>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let started = Instant::now();
    let method = request.uri().path().trim_start_matches('/').to_owned();
    let span = tracing::info_span!(
        "plugin.serve",
        plugin = %inner.name,
        method = %method,
        status = tracing::field::Empty,
        duration_us = tracing::field::Empty,
    );
    let response = dispatch(&inner, &method, request)
        .instrument(span.clone())
        .await;
    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    span.record("status", response.status().as_u16());
    span.record("duration_us", micros);
    tracing::debug!(parent: &span, "answered");
    response
}

/// Error messages never start with the method: hosts put it in front of the
/// `Err` they receive (`<Method>: <Err>`), so Docker shows
/// `VolumeDriver.Create: the request body is not valid JSON ...` once.
async fn dispatch<B>(inner: &Inner, method: &str, request: Request<B>) -> Response<ResponseBody>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    if request.method() != Method::POST {
        let mut response = error(
            StatusCode::METHOD_NOT_ALLOWED,
            &format!("only POST is accepted, not {}", request.method()),
        );
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    let route = inner.routes.get(method).cloned();
    if route.is_none() && method != ACTIVATE {
        return error(
            StatusCode::NOT_FOUND,
            &format!(
                "plugin {:?} does not implement {method}",
                inner.name.as_str()
            ),
        );
    }
    let (parts, body) = request.into_parts();
    let body = match read_body(inner, &parts, body).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let Some(route) = route else {
        return ok(Bytes::from(json_line(&inner.manifest)));
    };
    let outcome = AssertUnwindSafe(async move { route(parts, body).await })
        .catch_unwind()
        .await;
    match outcome {
        Ok(Outcome::Body(bytes)) => ok(bytes),
        Ok(Outcome::Stream(stream)) => {
            let frames = stream.map(|chunk| chunk.map(Frame::data));
            with_content_type(Response::new(ResponseBody::new(StreamBody::new(frames))))
        }
        Ok(Outcome::BadRequest(why)) => error(StatusCode::BAD_REQUEST, &why),
        Ok(Outcome::Failed(failure)) => error(failure.status(), failure.message()),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!("the handler for {method} panicked: {what}");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the plugin failed while handling this call (its handler panicked)",
            )
        }
    }
}

/// Reads the request body, at most the configured limit; a larger one is a
/// 413, refused from its `Content-Length` before any of it is read.
async fn read_body<B>(
    inner: &Inner,
    parts: &http::request::Parts,
    body: B,
) -> Result<Bytes, Response<ResponseBody>>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    let limit = inner.max_request_body;
    let too_large = || {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("the request body is over this plugin's {limit}-byte limit"),
        )
    };
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit) || body.size_hint().lower() > limit {
        return Err(too_large());
    }
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large()),
        Err(e) => Err(error(
            StatusCode::BAD_REQUEST,
            &format!("the request body could not be read: {e}"),
        )),
    }
}

/// A 501 for a request whose `Transfer-Encoding` names a coding other than
/// `chunked`, as Go's `net/http` answers: hyper undoes only `chunked`, so the
/// body would reach the handler still encoded. The connection is closed after
/// it (the body is not read). `None` for every other request.
pub(crate) fn unsupported_transfer_coding(headers: &HeaderMap) -> Option<Response<ResponseBody>> {
    let coding = headers
        .get_all(TRANSFER_ENCODING)
        .iter()
        .flat_map(|value| value.as_bytes().split(|b| *b == b','))
        .map(<[u8]>::trim_ascii)
        .find(|coding| !coding.is_empty() && !coding.eq_ignore_ascii_case(b"chunked"))?;
    let mut response = error(
        StatusCode::NOT_IMPLEMENTED,
        &format!(
            "the request's transfer coding {:?} is not supported: only chunked is",
            String::from_utf8_lossy(coding)
        ),
    );
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    Some(response)
}

/// A JSON value and a newline: go-plugins-helpers answers with Go's
/// `json.Encoder`, whose output ends in one.
pub(crate) fn json_line(value: &impl serde::Serialize) -> Vec<u8> {
    let mut bytes = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    bytes.push(b'\n');
    bytes
}

fn ok(bytes: Bytes) -> Response<ResponseBody> {
    with_content_type(Response::new(ResponseBody::full(bytes)))
}

/// `{"Err": message}` and a newline.
pub(crate) fn error_bytes(message: &str) -> Vec<u8> {
    json_line(&serde_json::json!({ "Err": message }))
}

/// `{"Err": message}` with `status`.
pub(crate) fn error(status: StatusCode, message: &str) -> Response<ResponseBody> {
    let body = error_bytes(message);
    let mut response = ok(Bytes::from(body));
    *response.status_mut() = status;
    response
}

fn with_content_type(mut response: Response<ResponseBody>) -> Response<ResponseBody> {
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE_V1_1));
    response
}
