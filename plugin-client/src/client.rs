//! `Client`: calls to one plugin over any tower service.

use std::future::Future;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use futures_util::StreamExt;
use http::header::{ACCEPT, CONTENT_TYPE, HeaderValue, USER_AGENT as USER_AGENT_HEADER};
use http::uri::PathAndQuery;
use http::{Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyDataStream, BodyExt};
use plugin_spec::{PluginName, PluginSpec};
use plugin_transport::{ResponseBodyLimit, Transport, TransportError};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tower::{Service, ServiceExt};
use tracing::Instrument;

use crate::body::{BoxError, RequestBody};
use crate::config::ClientConfig;
use crate::decode;
use crate::error::ClientError;
use plugin_spec::wire::{ACCEPT_V1_2, ACTIVATE, Manifest};

/// The `User-Agent` this client sends on every call: the crate and its
/// version, so a plugin's log tells its callers apart (Docker sends Go's
/// default, `Go-http-client/1.1`).
pub const USER_AGENT: &str = concat!("plugin-client/", env!("CARGO_PKG_VERSION"));

/// Calls to one plugin, over any tower service that takes
/// `http::Request<RequestBody>` and answers `http::Response<B>`: the default
/// [`Transport`], or a stack of your own layers on it, or an in-memory service.
///
/// Every call is `POST /<Method>` with `Accept:
/// application/vnd.docker.plugins.v1.2+json` and, when a JSON body is sent,
/// `Content-Type: application/json` ([calls]). A non-200 answer is a
/// [`ClientError::Status`] whose message is the plugin's `Err` or its text.
/// Calls that never reached the plugin are retried per the [`RetryConfig`](crate::RetryConfig);
/// every call has a deadline. Cheap to clone when the service is.
///
/// [calls]: https://github.com/docker-plugins-rs/docker-plugins/blob/main/docs/protocol.md#calls
///
/// ```no_run
/// use plugin_client::{Client, ClientConfig, PluginName, PluginSpec};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let spec = PluginSpec::from_socket(PluginName::new("sshfs")?, "/run/docker/plugins/sshfs.sock")?;
/// let client = Client::for_spec(&spec, &ClientConfig::default())?;
/// let manifest = client.activate().await?;
/// if manifest.implements_iface("VolumeDriver") {
///     let answer: serde_json::Value = client.call("VolumeDriver.List", &serde_json::json!({})).await?;
///     println!("{answer}");
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Client<S = Transport> {
    plugin: PluginName,
    service: S,
    config: ClientConfig,
}

impl Client<Transport> {
    /// A client for the plugin `spec` describes, over a [`Transport`] with the
    /// default transport settings (for others, build the `Transport` and use
    /// [`new`](Self::new)).
    ///
    /// For an `https://` plugin this reads the descriptor's TLS files (regular
    /// files of at most 1 MiB each, see [`Transport::for_spec`]): blocking file
    /// I/O, which an async caller runs in `tokio::task::spawn_blocking`, as
    /// plugin-registry does.
    ///
    /// # Errors
    /// The transport's, when its TLS files do not load.
    pub fn for_spec(spec: &PluginSpec, config: &ClientConfig) -> Result<Self, TransportError> {
        let transport = Transport::for_spec(spec, &plugin_transport::TransportConfig::default())?;
        Ok(Self::new(spec.name().clone(), transport).with_config(config.clone()))
    }
}

impl<S> Client<S> {
    /// A client for `plugin` over `service`, with the default [`ClientConfig`].
    pub fn new(plugin: PluginName, service: S) -> Self {
        Self {
            plugin,
            service,
            config: ClientConfig::default(),
        }
    }

    /// The client with `config`: the one way to set its timeouts, retries
    /// and error field. For other settings on some calls, configure a clone:
    /// `client.clone().with_config(client.config().clone().call_timeout(d))`.
    #[must_use]
    pub fn with_config(mut self, config: ClientConfig) -> Self {
        self.config = config;
        self
    }

    /// The plugin's name.
    pub fn plugin(&self) -> &PluginName {
        &self.plugin
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The service under the client.
    pub fn service(&self) -> &S {
        &self.service
    }
}

/// A call's request body and how it is described on the wire.
enum Payload {
    Json(Bytes),
    Raw(RequestBody),
}

/// What a [`Client`] can call through: a cloneable tower service from
/// `http::Request<RequestBody>` to a response of byte chunks, with errors
/// that box. Written once here, as tower's `MakeService` is, so code generic
/// over the service (a typed client, a test double) says `S: ClientService`
/// instead of repeating the bounds; every such service is one already
/// ([`Transport`], a `ServiceBuilder` stack on it, an in-memory plugin
/// server).
pub trait ClientService:
    Service<
        Request<RequestBody>,
        Response = Response<Self::ResponseBody>,
        Error = Self::Failure,
        Future = Self::Answer,
    > + Clone
    + Send
    + 'static
{
    /// The answer's body.
    type ResponseBody: Body<Data = Bytes, Error = Self::BodyError> + Send + 'static;
    /// The body's error.
    type BodyError: Into<BoxError>;
    /// The service's error.
    type Failure: Into<BoxError>;
    /// The service's future.
    type Answer: Future<Output = Result<Response<Self::ResponseBody>, Self::Failure>>
        + Send
        + 'static;
}

impl<S, B> ClientService for S
where
    S: Service<Request<RequestBody>, Response = Response<B>> + Clone + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type ResponseBody = B;
    type BodyError = B::Error;
    type Failure = S::Error;
    type Answer = S::Future;
}

impl<S: ClientService> Client<S> {
    /// The handshake: `POST /Plugin.Activate` with no body; the answer is the
    /// plugin's [`Manifest`].
    ///
    /// # Errors
    /// Any [`ClientError`]; the activation timeout applies.
    pub async fn activate(&self) -> Result<Manifest, ClientError> {
        let bytes = self
            .exchange(
                ACTIVATE,
                Payload::Raw(RequestBody::empty()),
                self.config.activation_timeout,
            )
            .await?;
        self.decode(ACTIVATE, &bytes)
    }

    /// Calls `method` with `request` as JSON and decodes the JSON answer. An
    /// empty answer decodes where `Resp` can be empty (`()`, `Option`, a struct
    /// of optional fields).
    ///
    /// A request that encodes as `null` (`&()`) is sent as no body at all
    /// (`Content-Length: 0`), as Docker sends calls without arguments
    /// (`GetCapabilities`, ...). With an [error field](ClientConfig::error_field)
    /// set, a 200 whose field is a non-empty string is
    /// [`ClientError::Reported`].
    ///
    /// # Errors
    /// Any [`ClientError`].
    pub async fn call<Req, Resp>(&self, method: &str, request: &Req) -> Result<Resp, ClientError>
    where
        Req: Serialize + ?Sized,
        Resp: DeserializeOwned,
    {
        let bytes = self
            .exchange(
                method,
                self.json(method, request)?,
                self.config.call_timeout,
            )
            .await?;
        if let Some(message) = self
            .config
            .error_field
            .and_then(|field| decode::reported_error(&bytes, field))
        {
            return Err(ClientError::Reported {
                plugin: self.plugin.clone(),
                method: method.to_owned(),
                message,
            });
        }
        self.decode(method, &bytes)
    }

    /// Calls `method` with `body` as it is, with no `Content-Type` (as Docker
    /// sends every call, and its `SendFile` a tar), and returns the answer's
    /// bytes unread. A whole body ([`RequestBody::empty`] for none) may be
    /// retried; a streamed one ([`RequestBody::from_stream`]) never is.
    /// `method` may carry a query string (`GraphDriver.ApplyDiff?id=x`).
    ///
    /// # Errors
    /// Any [`ClientError`] but decoding ones.
    pub async fn call_raw(
        &self,
        method: &str,
        body: impl Into<RequestBody>,
    ) -> Result<Bytes, ClientError> {
        self.exchange(method, Payload::Raw(body.into()), self.config.call_timeout)
            .await
    }

    /// Calls `method` and returns the answer as a stream of chunks, read as
    /// they arrive and not bounded by the transport's body limit (as
    /// `LogDriver.ReadLogs` needs). The call timeout covers the wait for the
    /// answer to start, not the stream.
    ///
    /// # Errors
    /// Any [`ClientError`] before the stream starts; each item after.
    pub async fn stream<Req>(
        &self,
        method: &str,
        request: &Req,
    ) -> Result<impl Stream<Item = Result<Bytes, ClientError>> + Send + use<Req, S>, ClientError>
    where
        Req: Serialize + ?Sized,
    {
        let payload = self.json(method, request)?;
        let span = self.span(method);
        let started = self.start(method, payload, true);
        let response = self
            .deadline(method, self.config.call_timeout, started)
            .instrument(span)
            .await?;
        let (parts, body) = response.into_parts();
        if parts.status != StatusCode::OK {
            return Err(self.status_error(method, parts.status, body).await);
        }
        let (plugin, method) = (self.plugin.clone(), method.to_owned());
        Ok(BodyDataStream::new(body).map(move |chunk| {
            chunk.map_err(|e| ClientError::from_service(&plugin, &method, e.into()))
        }))
    }

    fn span(&self, method: &str) -> tracing::Span {
        tracing::info_span!("plugin.call", plugin = %self.plugin, method = %method, attempt = 1u32)
    }

    fn json<Req: Serialize + ?Sized>(
        &self,
        method: &str,
        request: &Req,
    ) -> Result<Payload, ClientError> {
        serde_json::to_vec(request)
            // `()`: no arguments, no body.
            .map(|bytes| match bytes.as_slice() {
                b"null" => Payload::Raw(RequestBody::empty()),
                _ => Payload::Json(Bytes::from(bytes)),
            })
            .map_err(|source| ClientError::Encode {
                plugin: self.plugin.clone(),
                method: method.to_owned(),
                source,
            })
    }

    fn decode<T: DeserializeOwned>(&self, method: &str, bytes: &[u8]) -> Result<T, ClientError> {
        decode::answer(bytes).map_err(|source| ClientError::Decode {
            plugin: self.plugin.clone(),
            method: method.to_owned(),
            excerpt: decode::excerpt(bytes),
            source,
        })
    }

    /// A call that reads the whole answer, under `timeout`.
    async fn exchange(
        &self,
        method: &str,
        payload: Payload,
        timeout: Option<Duration>,
    ) -> Result<Bytes, ClientError> {
        let span = self.span(method);
        let whole = async {
            let response = self.start(method, payload, false).await?;
            let (parts, body) = response.into_parts();
            if parts.status != StatusCode::OK {
                return Err(self.status_error(method, parts.status, body).await);
            }
            body.collect()
                .await
                .map(|collected| collected.to_bytes())
                .map_err(|e| self.transport_error(method, e.into()))
        };
        let result = self
            .deadline(method, timeout, whole)
            .instrument(span.clone())
            .await;
        if let Err(error) = &result {
            tracing::debug!(parent: &span, "call failed: {error}");
        }
        result
    }

    /// Sends the request, retrying per the policy.
    async fn start(
        &self,
        method: &str,
        payload: Payload,
        unbounded: bool,
    ) -> Result<Response<S::ResponseBody>, ClientError> {
        let mut path = String::with_capacity(method.len() + 1);
        path.push('/');
        path.push_str(method);
        let path = PathAndQuery::try_from(path).map_err(|e| ClientError::InvalidMethod {
            plugin: self.plugin.clone(),
            method: method.to_owned(),
            reason: e.to_string(),
        })?;
        let (body, json) = match payload {
            Payload::Json(bytes) => {
                let json = !bytes.is_empty();
                (RequestBody::from_bytes(bytes), json)
            }
            Payload::Raw(body) => (body, false),
        };
        let mut retry = self.config.retry.starting_now();
        // Kept for another attempt only when there may be one.
        let mut again = if retry.policy_enabled() {
            body.try_clone()
        } else {
            None
        };
        let mut body = body;
        loop {
            let request = Self::request(path.clone(), body, json, unbounded);
            let mut service = self.service.clone();
            let sent = match ServiceExt::ready(&mut service).await {
                Ok(ready) => ready.call(request).await,
                Err(e) => Err(e),
            };
            let error: BoxError = match sent {
                Ok(response) => return Ok(response),
                Err(e) => e.into(),
            };
            // Only a whole body is sent again; a stream was consumed.
            let (Some(next), Some(delay)) = (again.take(), retry.after(error.as_ref())) else {
                return Err(self.transport_error(method, error));
            };
            tokio::time::sleep(delay).await;
            again = next.try_clone();
            body = next;
        }
    }

    /// The request for one attempt.
    fn request(
        path: PathAndQuery,
        body: RequestBody,
        json: bool,
        unbounded: bool,
    ) -> Request<RequestBody> {
        // Not through `Request::builder`: its parts travel inside a
        // `Result` through every step, and nothing here can fail.
        let mut request = Request::new(body);
        *request.method_mut() = http::Method::POST;
        *request.uri_mut() = http::Uri::from(path);
        let headers = request.headers_mut();
        headers.insert(ACCEPT, HeaderValue::from_static(ACCEPT_V1_2));
        headers.insert(USER_AGENT_HEADER, HeaderValue::from_static(USER_AGENT));
        if json {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        if unbounded {
            request.extensions_mut().insert(ResponseBodyLimit(None));
        }
        request
    }

    /// Runs `future` under `timeout`. At the deadline the call is dropped
    /// here, before the error is made, so that a metrics layer below sees it
    /// end as a timeout.
    async fn deadline<T>(
        &self,
        method: &str,
        timeout: Option<Duration>,
        future: impl Future<Output = Result<T, ClientError>>,
    ) -> Result<T, ClientError> {
        let Some(after) = timeout else {
            return future.await;
        };
        let mut call = std::pin::pin!(Some(future));
        let polled = tokio::time::timeout(
            after,
            std::future::poll_fn(|cx| match call.as_mut().as_pin_mut() {
                Some(future) => future.poll(cx),
                None => std::task::Poll::Pending,
            }),
        )
        .await;
        match polled {
            Ok(result) => result,
            Err(_) => {
                #[cfg(feature = "metrics")]
                crate::metrics::at_deadline(|| call.set(None));
                #[cfg(not(feature = "metrics"))]
                call.set(None);
                Err(ClientError::Timeout {
                    plugin: self.plugin.clone(),
                    method: method.to_owned(),
                    after: Some(after),
                    source: None,
                })
            }
        }
    }

    fn transport_error(&self, method: &str, source: BoxError) -> ClientError {
        ClientError::from_service(&self.plugin, method, source)
    }

    /// The error for a non-200 answer, reading at most `max_error_body` bytes
    /// of it.
    async fn status_error(
        &self,
        method: &str,
        status: StatusCode,
        body: S::ResponseBody,
    ) -> ClientError {
        let limit = self.config.max_error_body;
        let mut collected = BytesMut::new();
        let mut truncated = false;
        let mut body = std::pin::pin!(body);
        while let Some(frame) = body.frame().await {
            match frame {
                Ok(frame) => {
                    if let Ok(data) = frame.into_data() {
                        let room = limit.saturating_sub(collected.len());
                        collected.extend_from_slice(
                            data.get(..room.min(data.len())).unwrap_or_default(),
                        );
                        if data.len() > room {
                            truncated = true;
                            break;
                        }
                    }
                }
                Err(e) => return self.transport_error(method, e.into()),
            }
        }
        ClientError::Status {
            plugin: self.plugin.clone(),
            method: method.to_owned(),
            status,
            message: decode::error_message(&collected, truncated),
        }
    }
}
