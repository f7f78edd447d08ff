//! The request and response bodies of a plugin server used as a tower
//! service.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};

use crate::handler::BoxError;

/// The body of every answer a [`PluginServer`](crate::PluginServer) gives: a
/// whole JSON answer, or a handler's stream.
#[derive(Debug)]
pub struct ResponseBody(UnsyncBoxBody<Bytes, BoxError>);

impl ResponseBody {
    /// A body of any type (a layer's own answer, say).
    pub fn new<B>(body: B) -> Self
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        Self(body.map_err(Into::into).boxed_unsync())
    }

    /// A whole body.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        Self(
            Full::new(bytes.into())
                .map_err(|never| match never {})
                .boxed_unsync(),
        )
    }
}

/// The body of a request passed through the layers added with
/// [`PluginServer::layer`](crate::PluginServer::layer): whatever body the
/// request came with, boxed.
#[derive(Debug)]
pub struct RequestBody(UnsyncBoxBody<Bytes, BoxError>);

impl RequestBody {
    /// A body of any type.
    pub fn new<B>(body: B) -> Self
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        Self(body.map_err(Into::into).boxed_unsync())
    }
}

/// `Body` by delegation to the boxed body inside.
macro_rules! boxed_body {
    ($name:ident) => {
        impl Body for $name {
            type Data = Bytes;
            type Error = BoxError;

            fn poll_frame(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
            ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
                Pin::new(&mut self.0).poll_frame(cx)
            }

            fn is_end_stream(&self) -> bool {
                self.0.is_end_stream()
            }

            fn size_hint(&self) -> SizeHint {
                self.0.size_hint()
            }
        }
    };
}

boxed_body!(ResponseBody);
boxed_body!(RequestBody);
