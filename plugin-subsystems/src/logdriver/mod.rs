//! `LogDriver`: a plugin that receives containers' logs (and may read them
//! back).
//!
//! The engine's structs (`daemon/logger`) have no JSON tags: every field is
//! written. Times are RFC 3339 with nanoseconds, the zero time being
//! `0001-01-01T00:00:00Z` ([`GoTime`]). Log lines travel as length-prefixed
//! protobuf frames ([`LogEntry`], [`FrameDecoder`]): through the FIFO the
//! engine names in `StartLogging`, and as the answer to `ReadLogs`.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::go_json::go_struct;

#[cfg(feature = "client")]
mod client;
mod entry;
#[cfg(feature = "server")]
mod server;

#[cfg(feature = "client")]
pub use client::LogDriverClient;
pub use entry::{
    FrameDecoder, FrameError, LogEntry, MAX_FRAME_LEN, PartialLogEntryMetadata, decode_stream,
    encode_frame, frame,
};
#[cfg(feature = "server")]
pub(crate) use server::mount;
#[cfg(feature = "server")]
pub use server::{LogDriver, LogStream};

/// The subsystem's name in a manifest.
pub const IMPLEMENTS: &str = "LogDriver";
/// `LogDriver.StartLogging`: [`StartLoggingRequest`] → nothing.
pub const START_LOGGING: &str = "LogDriver.StartLogging";
/// `LogDriver.StopLogging`: [`StopLoggingRequest`] → nothing.
pub const STOP_LOGGING: &str = "LogDriver.StopLogging";
/// `LogDriver.Capabilities`: no body → [`CapabilitiesResponse`].
pub const CAPABILITIES: &str = "LogDriver.Capabilities";
/// `LogDriver.ReadLogs`: [`ReadLogsRequest`] → a stream of [`LogEntry`] frames.
pub const READ_LOGS: &str = "LogDriver.ReadLogs";

/// Go's `time.Time` in JSON: RFC 3339 text, `0001-01-01T00:00:00Z` for the
/// zero time (which is also what `null` and a missing field mean).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GoTime(String);

/// The zero time's text.
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

impl GoTime {
    /// A time given as RFC 3339 text (not checked).
    pub fn new(rfc3339: impl Into<String>) -> Self {
        Self(rfc3339.into())
    }

    /// The RFC 3339 text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is Go's zero time (an unset time).
    pub fn is_zero(&self) -> bool {
        self.0 == ZERO_TIME || self.0.is_empty()
    }
}

impl Default for GoTime {
    fn default() -> Self {
        Self(ZERO_TIME.to_owned())
    }
}

impl fmt::Display for GoTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for GoTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(if self.0.is_empty() {
            ZERO_TIME
        } else {
            &self.0
        })
    }
}

impl<'de> Deserialize<'de> for GoTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Option::<String>::deserialize(deserializer)?.map_or_else(Self::default, Self))
    }
}

go_struct! {
    /// What a log driver knows about a container (the engine's `logger.Info`).
    pub struct Info {
        /// The container's `--log-opt` options.
        config: BTreeMap<String, String> = "Config",
        /// The container's id (always set).
        container_id: String = "ContainerID",
        /// Its name, with a leading `/`.
        container_name: String = "ContainerName",
        /// Its entrypoint.
        container_entrypoint: String = "ContainerEntrypoint",
        /// Its arguments.
        container_args: Vec<String> = "ContainerArgs",
        /// Its image's id (`sha256:...`).
        container_image_id: String = "ContainerImageID",
        /// Its image's name.
        container_image_name: String = "ContainerImageName",
        /// When it was created.
        container_created: GoTime = "ContainerCreated",
        /// Its environment.
        container_env: Vec<String> = "ContainerEnv",
        /// Its labels.
        container_labels: BTreeMap<String, String> = "ContainerLabels",
        /// The log file (built-in drivers only; empty for plugins).
        log_path: String = "LogPath",
        /// `docker`.
        daemon_name: String = "DaemonName",
    }
}

go_struct! {
    /// Start taking a container's logs from `File`, a FIFO the engine writes
    /// frames to.
    pub struct StartLoggingRequest {
        /// The FIFO (`/run/docker/logging/<id>`).
        file: String = "File",
        /// The container.
        info: Info = "Info",
    }
}

go_struct! {
    /// Stop taking logs from `File`. The engine closes the FIFO only after
    /// this returns, so do not wait here for it to end.
    pub struct StopLoggingRequest {
        /// The FIFO.
        file: String = "File",
    }
}

go_struct! {
    /// A log driver's capabilities.
    pub struct Capability {
        /// It can read logs back (`docker logs`).
        read_logs: bool = "ReadLogs",
    }
}

go_struct! {
    /// The answer to `Capabilities`: `{"Cap": {"ReadLogs": ...}}` (the docs'
    /// `{"ReadLogs": ...}` is read by the engine as false).
    pub struct CapabilitiesResponse {
        /// The capabilities.
        cap: Capability = "Cap",
    }
}

go_struct! {
    /// Which logs to read back.
    pub struct ReadConfig {
        /// From this time (zero: from the start).
        since: GoTime = "Since",
        /// Up to this time (zero: no end; older engines do not send it).
        until: GoTime = "Until",
        /// The last this many lines; -1 for all.
        tail: i64 = "Tail",
        /// Keep the stream open for new lines.
        follow: bool = "Follow",
    }
}

go_struct! {
    /// Read a container's logs back; the answer is a stream of frames.
    pub struct ReadLogsRequest {
        /// The container.
        info: Info = "Info",
        /// What to read.
        config: ReadConfig = "Config",
    }
}
