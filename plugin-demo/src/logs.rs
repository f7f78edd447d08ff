//! `demo-log`: a LogDriver that keeps each container's lines in
//! `STATE/logs/<container id>.frames` (the engine's own frames, appended as
//! they arrive) and reads them back for `docker logs`, honouring `Tail` and
//! `Follow`.
//!
//! What is kept is bounded as Docker's `json-file` driver bounds it: when the
//! next entry would take `<id>.frames` past `max-size`, it is rotated to
//! `<id>.frames.1` (`.1` to `.2`, and so on), and only `max-file` files are
//! kept, the oldest dropped. `Tail: N` reads the newest file first and only
//! as many older ones as it needs, skipping over the frames it does not
//! return (a frame's length prefix says where the next one starts), so it
//! holds N entries, never the whole log.

use std::collections::{HashMap, VecDeque};
use std::io::Read;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use plugin_subsystems::logdriver::{
    self, FrameDecoder, LogDriver, LogEntry, LogStream, ReadLogsRequest, StartLoggingRequest,
    StopLoggingRequest,
};
use plugin_subsystems::{BoxError, HandlerError};
use tokio::io::AsyncReadExt;
use tokio::sync::broadcast;

use crate::DemoError;

/// Entries a following reader may lag behind before it is told it missed
/// some.
const FOLLOW_BACKLOG: usize = 1024;

/// `max-size` when the container's log options do not set it: 10 MiB, as
/// Docker's `json-file` driver recommends.
pub(crate) const DEFAULT_MAX_SIZE: u64 = 10 * 1024 * 1024;

/// `max-file` when the container's log options do not set it.
pub(crate) const DEFAULT_MAX_FILE: u32 = 3;

/// The most files `max-file` may ask for.
const MAX_MAX_FILE: u32 = 100;

/// How much of a container's log is kept: files of at most `max_size`
/// bytes (a single entry bigger than that gets a file of its own), at most
/// `max_file` of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rotation {
    max_size: u64,
    max_file: u32,
}

impl Default for Rotation {
    fn default() -> Self {
        Self {
            max_size: DEFAULT_MAX_SIZE,
            max_file: DEFAULT_MAX_FILE,
        }
    }
}

impl Rotation {
    /// From the container's `--log-opt`s (`max-size`, `max-file`; others are
    /// left alone), as Docker's `json-file` reads them: `max-size` is bytes,
    /// or a number with `k`, `m` or `g` (powers of 1024; `kb`, `KiB` and the
    /// like too); `max-file` a number from 1 to 100.
    fn from_options(options: &std::collections::BTreeMap<String, String>) -> Result<Self, String> {
        let mut rotation = Self::default();
        if let Some(size) = options.get("max-size") {
            rotation.max_size = parse_size(size).ok_or_else(|| {
                format!(
                    "invalid log option max-size {size:?}: a positive size in bytes, or with k, m or g"
                )
            })?;
        }
        if let Some(count) = options.get("max-file") {
            rotation.max_file = count
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_MAX_FILE).contains(n))
                .ok_or_else(|| {
                    format!(
                        "invalid log option max-file {count:?}: a number from 1 to {MAX_MAX_FILE}"
                    )
                })?;
        }
        Ok(rotation)
    }
}

/// `10m`, `64k`, `1g`, `4096`, `10MiB`: a positive number of bytes.
fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = text.split_at(digits);
    let number: u64 = number.parse().ok()?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return None,
    };
    number.checked_mul(1u64 << shift).filter(|&n| n > 0)
}

/// The `n`th rotated file of `frames` (`n` = 0 is `frames` itself).
fn rotated(frames: &Path, n: u32) -> PathBuf {
    if n == 0 {
        return frames.to_owned();
    }
    let mut name = frames.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

/// One container being logged.
#[derive(Debug)]
struct Logging {
    /// The container's frames file.
    frames: PathBuf,
    /// New entries, for followers. Followers end once this, the copy in
    /// `live` and the reading task's are gone.
    sender: broadcast::Sender<LogEntry>,
    /// Tells the reading task to keep what is already in the FIFO and close
    /// it (StopLogging).
    stop: tokio::sync::oneshot::Sender<()>,
}

/// The log driver of one STATE directory.
#[derive(Debug)]
pub(crate) struct Frames {
    dir: PathBuf,
    /// By FIFO path (what StopLogging names).
    logging: Mutex<HashMap<String, Logging>>,
    /// By container ID: the followers' channel of a running container, and
    /// the lock held while an entry is appended and sent, and while a
    /// follower reads the file and subscribes, so a follower sees each entry
    /// once.
    live: Mutex<HashMap<String, Live>>,
}

/// A running container's followers' channel and ordering lock.
type Live = (broadcast::Sender<LogEntry>, Arc<tokio::sync::Mutex<()>>);

impl Frames {
    /// The logs kept in `state/logs` (made if missing).
    pub(crate) fn open(state: &Path) -> Result<Self, DemoError> {
        let dir = state.join("logs");
        std::fs::create_dir_all(&dir).map_err(|source| DemoError::State {
            plugin: crate::DEMO_LOG,
            path: dir.clone(),
            source,
        })?;
        Ok(Self {
            dir,
            logging: Mutex::new(HashMap::new()),
            live: Mutex::new(HashMap::new()),
        })
    }

    fn frames_of(&self, container_id: &str) -> Result<PathBuf, HandlerError> {
        let valid =
            !container_id.is_empty() && container_id.bytes().all(|b| b.is_ascii_alphanumeric());
        if !valid {
            return Err(HandlerError::new(format!(
                "demo-log: {container_id:?} is not a container ID"
            )));
        }
        Ok(self.dir.join(format!("{container_id}.frames")))
    }
}

fn unavailable() -> HandlerError {
    HandlerError::new("demo-log: the driver's state is unavailable")
}

/// Reads frames from the FIFO until the engine closes it, appending each
/// entry to `frames` and sending it to followers.
async fn copy_frames(
    mut fifo: tokio::net::unix::pipe::Receiver,
    frames: PathBuf,
    sender: broadcast::Sender<LogEntry>,
    order: Arc<tokio::sync::Mutex<()>>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
    rotation: Rotation,
) {
    let mut decoder = FrameDecoder::default();
    let mut buffer = vec![0u8; 64 * 1024];
    let Some((mut file, mut size)) = open_frames(&frames, false).await else {
        return;
    };
    let mut stopping = false;
    loop {
        let read = if stopping {
            // StopLogging: the engine has written everything; keep what is
            // still in the FIFO, then close it.
            match fifo.try_read(&mut buffer) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => 0,
                Err(e) => {
                    tracing::warn!(error = %e, "demo-log: reading the FIFO failed");
                    0
                }
            }
        } else {
            tokio::select! {
                read = fifo.read(&mut buffer) => match read {
                    Ok(n) => n,
                    Err(e) => {
                        tracing::warn!(error = %e, "demo-log: reading the FIFO failed");
                        0
                    }
                },
                _ = &mut stop => {
                    stopping = true;
                    continue;
                }
            }
        };
        if read == 0 {
            break;
        }
        decoder.extend(buffer.get(..read).unwrap_or_default());
        loop {
            match decoder.next_entry() {
                Ok(Some(entry)) => {
                    let _held = order.lock().await;
                    let frame = logdriver::frame(&entry);
                    let len = u64::try_from(frame.len()).unwrap_or(u64::MAX);
                    if size > 0 && size.saturating_add(len) > rotation.max_size {
                        drop(file);
                        rotate(&frames, rotation.max_file).await;
                        let Some(reopened) = open_frames(&frames, true).await else {
                            return;
                        };
                        (file, size) = reopened;
                    }
                    size = size.saturating_add(len);
                    if let Err(e) = tokio::io::AsyncWriteExt::write_all(&mut file, &frame).await {
                        tracing::warn!(file = %frames.display(), error = %e, "demo-log: cannot keep a line");
                    }
                    let _ = sender.send(entry);
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "demo-log: the engine sent a frame that does not decode");
                    return;
                }
            }
        }
    }
}

/// Opens `frames` for appending (emptied first if `truncate`), never through
/// a link, with its size; `None` (said in a warning) if it cannot be.
async fn open_frames(frames: &Path, truncate: bool) -> Option<(tokio::fs::File, u64)> {
    let opened = tokio::fs::OpenOptions::new()
        .create(true)
        .append(!truncate)
        .write(true)
        .truncate(truncate)
        .custom_flags(crate::no_follow())
        .open(frames)
        .await;
    let file = match opened {
        Ok(file) => file,
        Err(e) => {
            tracing::warn!(file = %frames.display(), error = %e, "demo-log: cannot open the frames file");
            return None;
        }
    };
    let size = match file.metadata().await {
        Ok(meta) => meta.len(),
        Err(e) => {
            tracing::warn!(file = %frames.display(), error = %e, "demo-log: cannot read the frames file's size");
            return None;
        }
    };
    Some((file, size))
}

/// Shifts `frames` to `frames.1`, `frames.1` to `frames.2` and so on, the
/// file past `max_file` dropped (renamed over); with one file, `frames` is
/// emptied by the caller's reopening.
async fn rotate(frames: &Path, max_file: u32) {
    for n in (0..max_file.saturating_sub(1)).rev() {
        let (from, to) = (rotated(frames, n), rotated(frames, n + 1));
        match tokio::fs::rename(&from, &to).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                tracing::warn!(from = %from.display(), to = %to.display(), error = %e, "demo-log: cannot rotate");
            }
            _ => {}
        }
    }
}

fn damaged(path: &Path, why: impl std::fmt::Display) -> HandlerError {
    HandlerError::new(format!("demo-log: {} is damaged: {why}", path.display()))
}

/// Where the last `keep` whole frames of `path` start, and their lengths
/// (all of them for `None`), found by reading only each frame's length and
/// skipping its body; a frame still being written at the end is left out.
/// Empty if the file is missing.
fn frame_spans(path: &Path, keep: Option<usize>) -> Result<VecDeque<(u64, usize)>, HandlerError> {
    let cannot = |e: std::io::Error| {
        HandlerError::new(format!("demo-log: cannot read {}: {e}", path.display()))
    };
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(crate::no_follow())
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(VecDeque::new()),
        Err(e) => return Err(cannot(e)),
    };
    let end = file.metadata().map_err(cannot)?.len();
    let mut reader = std::io::BufReader::with_capacity(64 * 1024, file);
    let mut spans = VecDeque::new();
    let mut at = 0u64;
    while at.saturating_add(4) <= end {
        let mut prefix = [0u8; 4];
        reader.read_exact(&mut prefix).map_err(cannot)?;
        let len = u32::from_be_bytes(prefix);
        let len_usize = usize::try_from(len).unwrap_or(usize::MAX);
        if len_usize > logdriver::MAX_FRAME_LEN {
            return Err(damaged(
                path,
                format!("a frame of {len} bytes at byte {at}, more than a frame may hold"),
            ));
        }
        let next = at + 4 + u64::from(len);
        if next > end {
            break;
        }
        if keep == Some(0) {
            // Nothing wanted: no need to look further.
            break;
        }
        spans.push_back((at, len_usize));
        if keep.is_some_and(|keep| spans.len() > keep) {
            spans.pop_front();
        }
        reader.seek_relative(i64::from(len)).map_err(cannot)?;
        at = next;
    }
    Ok(spans)
}

/// Reads and decodes the frames at `spans` of `path`.
fn read_spans(path: &Path, spans: &VecDeque<(u64, usize)>) -> Result<Vec<LogEntry>, HandlerError> {
    if spans.is_empty() {
        return Ok(Vec::new());
    }
    let cannot = |e: std::io::Error| {
        HandlerError::new(format!("demo-log: cannot read {}: {e}", path.display()))
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(crate::no_follow())
        .open(path)
        .map_err(cannot)?;
    let mut entries = Vec::with_capacity(spans.len());
    let mut frame = Vec::new();
    for &(at, len) in spans {
        frame.clear();
        frame.resize(4 + len, 0);
        file.read_exact_at(&mut frame, at).map_err(cannot)?;
        let mut decoder = FrameDecoder::default();
        decoder.extend(&frame);
        match decoder.next_entry() {
            Ok(Some(entry)) => entries.push(entry),
            Ok(None) => {
                return Err(damaged(
                    path,
                    format!("the frame at byte {at} is cut short"),
                ));
            }
            Err(e) => return Err(damaged(path, e)),
        }
    }
    Ok(entries)
}

/// The last `tail` entries kept for `frames` (all of them for a negative
/// `tail`, as Docker's `--tail all` sends -1), oldest first: the newest file
/// first, then as many rotated ones as it takes.
fn kept_blocking(frames: &Path, tail: i64) -> Result<Vec<LogEntry>, HandlerError> {
    let mut want = usize::try_from(tail).ok();
    let mut files = Vec::new();
    for n in 0..=MAX_MAX_FILE {
        if want == Some(0) {
            break;
        }
        let path = rotated(frames, n);
        if n > 0 && std::fs::symlink_metadata(&path).is_err() {
            break;
        }
        let spans = frame_spans(&path, want)?;
        want = want.map(|want| want.saturating_sub(spans.len()));
        files.push((path, spans));
    }
    let mut entries = Vec::new();
    for (path, spans) in files.iter().rev() {
        entries.extend(read_spans(path, spans)?);
    }
    Ok(entries)
}

/// [`kept_blocking`], on tokio's blocking threads.
async fn kept(frames: &Path, tail: i64) -> Result<Vec<LogEntry>, HandlerError> {
    let frames = frames.to_owned();
    tokio::task::spawn_blocking(move || kept_blocking(&frames, tail))
        .await
        .map_err(|_| HandlerError::new("demo-log: reading the log failed"))?
}

/// An entry as `docker logs` shows it: the engine strips a line's newline
/// before it sends the line (a partial entry has none), and prints what it
/// reads back as it is, so a whole line gets its newline back.
fn as_read(mut entry: LogEntry) -> LogEntry {
    if !entry.partial {
        entry.line.push(b'\n');
    }
    entry
}

impl LogDriver for Frames {
    async fn start_logging(&self, request: StartLoggingRequest) -> Result<(), HandlerError> {
        let frames = self.frames_of(&request.info.container_id)?;
        let rotation = Rotation::from_options(&request.info.config)
            .map_err(|e| HandlerError::new(format!("demo-log: {e}")))?;
        let fifo = tokio::net::unix::pipe::OpenOptions::new()
            .open_receiver(&request.file)
            .map_err(|e| {
                HandlerError::new(format!("demo-log: cannot open {}: {e}", request.file))
            })?;
        let (sender, _) = broadcast::channel(FOLLOW_BACKLOG);
        let order = Arc::new(tokio::sync::Mutex::new(()));
        let (stop, stopped) = tokio::sync::oneshot::channel();
        tokio::spawn(copy_frames(
            fifo,
            frames.clone(),
            sender.clone(),
            Arc::clone(&order),
            stopped,
            rotation,
        ));
        self.live.lock().map_err(|_| unavailable())?.insert(
            request.info.container_id.clone(),
            (sender.clone(), Arc::clone(&order)),
        );
        self.logging.lock().map_err(|_| unavailable())?.insert(
            request.file,
            Logging {
                frames,
                sender,
                stop,
            },
        );
        Ok(())
    }

    async fn stop_logging(&self, request: StopLoggingRequest) -> Result<(), HandlerError> {
        let logging = self
            .logging
            .lock()
            .map_err(|_| unavailable())?
            .remove(&request.file);
        let Some(logging) = logging else {
            return Ok(());
        };
        // The reading task keeps what is still in the FIFO and closes it.
        let Logging {
            frames,
            sender,
            stop,
        } = logging;
        let _ = stop.send(());
        let container = frames
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut live = self.live.lock().map_err(|_| unavailable())?;
        if live
            .get(&container)
            .is_some_and(|(current, _)| current.same_channel(&sender))
        {
            live.remove(&container);
        }
        Ok(())
    }

    async fn capabilities(&self) -> Result<logdriver::CapabilitiesResponse, HandlerError> {
        Ok(logdriver::CapabilitiesResponse {
            cap: logdriver::Capability { read_logs: true },
        })
    }

    async fn read_logs(&self, request: ReadLogsRequest) -> Result<LogStream, HandlerError> {
        let frames = self.frames_of(&request.info.container_id)?;
        let live = self
            .live
            .lock()
            .map_err(|_| unavailable())?
            .get(&request.info.container_id)
            .cloned();
        let follow = request.config.follow;
        let tail = request.config.tail;
        let (entries, receiver) = match (&live, follow) {
            (Some((sender, order)), true) => {
                let _held = order.lock().await;
                (kept(&frames, tail).await?, Some(sender.subscribe()))
            }
            _ => (kept(&frames, tail).await?, None),
        };
        let past = futures_util::stream::iter(
            entries
                .into_iter()
                .map(|entry| Ok::<_, BoxError>(as_read(entry))),
        );
        let Some(receiver) = receiver else {
            return Ok(Box::pin(past));
        };
        let new = futures_util::stream::unfold(receiver, |mut receiver| async move {
            loop {
                match receiver.recv().await {
                    Ok(entry) => return Some((Ok::<_, BoxError>(as_read(entry)), receiver)),
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "demo-log: a follower fell behind");
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        });
        Ok(Box::pin(past.chain(new)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn rotation_defaults_to_10_mib_and_3_files_and_reads_dockers_options() {
        assert_eq!(
            Rotation::from_options(&options(&[("labels", "x")])),
            Ok(Rotation {
                max_size: 10 * 1024 * 1024,
                max_file: 3
            })
        );
        assert_eq!(
            Rotation::from_options(&options(&[("max-size", "64k"), ("max-file", "5")])),
            Ok(Rotation {
                max_size: 65536,
                max_file: 5
            })
        );
        for (size, bytes) in [
            ("4096", 4096),
            ("10m", 10 << 20),
            ("1g", 1 << 30),
            ("2MiB", 2 << 20),
        ] {
            assert_eq!(parse_size(size), Some(bytes), "{size}");
        }
        for size in ["", "0", "-1", "10x", "k", "99999999999999g"] {
            assert_eq!(parse_size(size), None, "{size}");
        }
        assert_eq!(
            Rotation::from_options(&options(&[("max-file", "0")])),
            Err("invalid log option max-file \"0\": a number from 1 to 100".to_owned())
        );
        assert_eq!(
            Rotation::from_options(&options(&[("max-size", "lots")])),
            Err(
                "invalid log option max-size \"lots\": a positive size in bytes, or with k, m or g"
                    .to_owned()
            )
        );
    }
}
