//! The log entries a LogDriver exchanges with the engine: protobuf messages
//! (Docker's `api/types/plugins/logdriver/entry.proto`), each framed by a
//! 4-byte big-endian length.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use futures_core::Stream;
use futures_util::StreamExt;
use prost::Message;

/// The largest frame accepted when decoding, in bytes (Docker's limit for a
/// log message is 1 MB; a little more leaves room for the envelope).
pub const MAX_FRAME_LEN: usize = 1_048_576;

/// One log line (Docker's `LogEntry`).
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct LogEntry {
    /// `stdout` or `stderr`.
    #[prost(string, tag = "1")]
    pub source: String,
    /// When the line was logged, in nanoseconds since the Unix epoch.
    #[prost(int64, tag = "2")]
    pub time_nano: i64,
    /// The line, without its trailing newline.
    #[prost(bytes = "vec", tag = "3")]
    pub line: Vec<u8>,
    /// Whether this is part of a longer line.
    #[prost(bool, tag = "4")]
    pub partial: bool,
    /// Where this part sits in the longer line.
    #[prost(message, optional, tag = "5")]
    pub partial_log_metadata: Option<PartialLogEntryMetadata>,
}

/// Where a partial entry sits in its line (Docker's `PartialLogEntryMetadata`).
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct PartialLogEntryMetadata {
    /// Whether this is the line's last part.
    #[prost(bool, tag = "1")]
    pub last: bool,
    /// The line's id, shared by its parts.
    #[prost(string, tag = "2")]
    pub id: String,
    /// The part's position, from 1.
    #[prost(int32, tag = "3")]
    pub ordinal: i32,
}

/// Why a frame could not be decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The stream ended inside a frame.
    #[error(
        "the log stream ended inside a frame ({have} of {need} bytes); the plugin or engine stopped mid-entry"
    )]
    Truncated {
        /// Bytes of the frame received (length prefix included).
        have: usize,
        /// Bytes the frame needs (length prefix included).
        need: usize,
    },
    /// A frame announces more than the limit.
    #[error(
        "a log frame announces {len} bytes, over the {max}-byte limit; the stream is corrupt or not a log stream"
    )]
    TooLarge {
        /// The announced length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The frame is not a valid `LogEntry`.
    #[error("a log frame is not a valid LogEntry")]
    Decode(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Reading the stream failed.
    #[error("reading the log stream failed")]
    Read(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Appends `entry` to `out` as one frame.
pub fn encode_frame(entry: &LogEntry, out: &mut BytesMut) {
    let len = entry.encoded_len();
    out.reserve(4 + len);
    out.put_u32(u32::try_from(len).unwrap_or(u32::MAX));
    // `reserve` made room, so encoding cannot fail.
    let _ = entry.encode(out);
}

/// `entry` as one frame.
pub fn frame(entry: &LogEntry) -> Bytes {
    let mut out = BytesMut::new();
    encode_frame(entry, &mut out);
    out.freeze()
}

/// Decodes frames from bytes that arrive in arbitrary pieces.
#[derive(Debug)]
pub struct FrameDecoder {
    buffer: BytesMut,
    max: usize,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        Self::new(MAX_FRAME_LEN)
    }
}

impl FrameDecoder {
    /// A decoder refusing frames over `max` bytes.
    pub fn new(max: usize) -> Self {
        Self {
            buffer: BytesMut::new(),
            max,
        }
    }

    /// Adds received bytes.
    pub fn extend(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The next complete entry, `Ok(None)` when more bytes are needed.
    ///
    /// # Errors
    /// [`FrameError::TooLarge`] as soon as a length over the limit is seen
    /// (nothing more is buffered); [`FrameError::Decode`].
    pub fn next_entry(&mut self) -> Result<Option<LogEntry>, FrameError> {
        let Some(prefix) = self.buffer.get(..4) else {
            return Ok(None);
        };
        let mut prefix = prefix;
        let len = usize::try_from(prefix.get_u32()).unwrap_or(usize::MAX);
        if len > self.max {
            return Err(FrameError::TooLarge { len, max: self.max });
        }
        if self.buffer.len() < 4 + len {
            return Ok(None);
        }
        self.buffer.advance(4);
        let frame = self.buffer.split_to(len);
        LogEntry::decode(frame.freeze())
            .map(Some)
            .map_err(|e| FrameError::Decode(Box::new(e)))
    }

    /// Checks that the stream ended between frames.
    ///
    /// # Errors
    /// [`FrameError::Truncated`] when bytes of a partial frame remain.
    pub fn finish(&self) -> Result<(), FrameError> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let need = match self.buffer.get(..4) {
            Some(mut prefix) => 4 + usize::try_from(prefix.get_u32()).unwrap_or(usize::MAX),
            None => 4,
        };
        Err(FrameError::Truncated {
            have: self.buffer.len(),
            need,
        })
    }
}

/// The entries in a stream of byte chunks (a `ReadLogs` answer, a FIFO); an
/// error ends the stream.
pub fn decode_stream<S, E>(chunks: S) -> impl Stream<Item = Result<LogEntry, FrameError>>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    futures_util::stream::unfold(
        Some((chunks, FrameDecoder::default())),
        |state| async move {
            let (mut chunks, mut decoder) = state?;
            loop {
                match decoder.next_entry() {
                    Ok(Some(entry)) => return Some((Ok(entry), Some((chunks, decoder)))),
                    Ok(None) => {}
                    Err(error) => return Some((Err(error), None)),
                }
                match chunks.next().await {
                    Some(Ok(bytes)) => decoder.extend(&bytes),
                    Some(Err(error)) => return Some((Err(FrameError::Read(error.into())), None)),
                    None => {
                        return match decoder.finish() {
                            Ok(()) => None,
                            Err(error) => Some((Err(error), None)),
                        };
                    }
                }
            }
        },
    )
}
