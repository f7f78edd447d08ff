//! `LogDriverClient`: the host side of `LogDriver`.

use futures_core::Stream;
use futures_util::StreamExt;
use plugin_client::{ClientError, ErrorField};

use super::{
    CAPABILITIES, CapabilitiesResponse, FrameError, Info, LogEntry, READ_LOGS, ReadConfig,
    ReadLogsRequest, START_LOGGING, STOP_LOGGING, StartLoggingRequest, StopLoggingRequest,
    decode_stream,
};
use crate::typed_client::typed_client;
use plugin_client::ClientService;

typed_client! {
    /// Calls a log driver plugin as the engine does: a 200 answer whose `Err`
    /// is set is a failure; `Capabilities` is sent without a body; `ReadLogs`
    /// answers a stream of frames.
    LogDriverClient(Some(ErrorField::Err))
}

impl<S: ClientService> LogDriverClient<S> {
    /// `LogDriver.StartLogging`: the plugin should read `file`.
    ///
    /// # Errors
    /// The plugin's error, or the call's.
    pub async fn start_logging(&self, file: &str, info: Info) -> Result<(), ClientError> {
        let request = StartLoggingRequest {
            file: file.to_owned(),
            info,
        };
        self.client
            .call::<_, serde_json::Value>(START_LOGGING, &request)
            .await
            .map(drop)
    }

    /// `LogDriver.StopLogging`.
    ///
    /// # Errors
    /// The plugin's error, or the call's.
    pub async fn stop_logging(&self, file: &str) -> Result<(), ClientError> {
        let request = StopLoggingRequest {
            file: file.to_owned(),
        };
        self.client
            .call::<_, serde_json::Value>(STOP_LOGGING, &request)
            .await
            .map(drop)
    }

    /// `LogDriver.Capabilities`.
    ///
    /// # Errors
    /// The plugin's error, or the call's.
    pub async fn capabilities(&self) -> Result<CapabilitiesResponse, ClientError> {
        self.client.call(CAPABILITIES, &()).await
    }

    /// `LogDriver.ReadLogs`: the entries, decoded as they arrive.
    ///
    /// # Errors
    /// The plugin's error, or the call's, before the stream starts; each
    /// item may be a [`FrameError`] after (a bad or truncated frame, or the
    /// connection failing), which ends the stream.
    pub async fn read_logs(
        &self,
        info: Info,
        config: ReadConfig,
    ) -> Result<impl Stream<Item = Result<LogEntry, FrameError>> + use<S>, ClientError> {
        let request = ReadLogsRequest { info, config };
        let chunks = self.client.stream(READ_LOGS, &request).await?;
        Ok(decode_stream(Box::pin(chunks.map(|chunk| {
            chunk.map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)
        }))))
    }
}
