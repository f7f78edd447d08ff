//! `LogDriver`: the plugin side, mounted on a `PluginServer`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use futures_core::Stream;
use futures_util::StreamExt;
use plugin_server::{BoxError, HandlerError, PluginServer};

use super::{
    CAPABILITIES, CapabilitiesResponse, IMPLEMENTS, LogEntry, READ_LOGS, ReadLogsRequest,
    START_LOGGING, STOP_LOGGING, StartLoggingRequest, StopLoggingRequest, frame,
};
use crate::mount::route;

/// The entries a log driver reads back.
pub type LogStream = Pin<Box<dyn Stream<Item = Result<LogEntry, BoxError>> + Send>>;

/// A log driver plugin. Mount it with
/// [`PluginServerExt::log_driver`](crate::PluginServerExt::log_driver).
///
/// `start_logging` gets the FIFO the engine writes frames to; read it with a
/// [`FrameDecoder`](super::FrameDecoder). By default the driver cannot read
/// logs back.
pub trait LogDriver: Send + Sync + 'static {
    /// `LogDriver.StartLogging`.
    fn start_logging(
        &self,
        request: StartLoggingRequest,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;

    /// `LogDriver.StopLogging` (the FIFO is closed only after this returns).
    fn stop_logging(
        &self,
        request: StopLoggingRequest,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;

    /// `LogDriver.Capabilities`; by default `ReadLogs: false`.
    fn capabilities(
        &self,
    ) -> impl Future<Output = Result<CapabilitiesResponse, HandlerError>> + Send {
        async { Ok(CapabilitiesResponse::default()) }
    }

    /// `LogDriver.ReadLogs`: the entries, sent as frames. By default an error:
    /// the driver cannot read logs.
    fn read_logs(
        &self,
        request: ReadLogsRequest,
    ) -> impl Future<Output = Result<LogStream, HandlerError>> + Send {
        let _ = request;
        async { Err(HandlerError::new("this log driver cannot read logs back")) }
    }
}

pub(crate) fn mount<D: LogDriver>(server: PluginServer, driver: D) -> PluginServer {
    let d = Arc::new(driver);
    let s = server.implements(IMPLEMENTS);
    let s = route(
        s,
        START_LOGGING,
        &d,
        |d, r: StartLoggingRequest| async move { d.start_logging(r).await },
    );
    let s = route(s, STOP_LOGGING, &d, |d, r: StopLoggingRequest| async move {
        d.stop_logging(r).await
    });
    let s = route(s, CAPABILITIES, &d, |d, (): ()| async move {
        d.capabilities().await
    });
    let reader = Arc::clone(&d);
    s.handle_stream(READ_LOGS, move |r: ReadLogsRequest| {
        let d = Arc::clone(&reader);
        async move {
            let entries = d.read_logs(r).await?;
            Ok::<_, HandlerError>(entries.map(|entry| entry.map(|e| frame(&e))))
        }
    })
}
