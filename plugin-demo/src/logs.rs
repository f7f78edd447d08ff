//! `demo-log`: a LogDriver that keeps each container's lines in
//! `STATE/logs/<container id>.frames` (the engine's own frames, appended as
//! they arrive) and reads them back for `docker logs`, honouring `Tail` and
//! `Follow`.

use std::collections::HashMap;
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
) {
    let mut decoder = FrameDecoder::default();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut file = match tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&frames)
        .await
    {
        Ok(file) => file,
        Err(e) => {
            tracing::warn!(file = %frames.display(), error = %e, "demo-log: cannot open the frames file");
            return;
        }
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

/// The entries kept in `frames`.
async fn kept(frames: &Path) -> Result<Vec<LogEntry>, HandlerError> {
    let bytes = match tokio::fs::read(frames).await {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => {
            return Err(HandlerError::new(format!(
                "demo-log: cannot read {}: {e}",
                frames.display()
            )));
        }
    };
    let mut decoder = FrameDecoder::default();
    decoder.extend(&bytes);
    let mut entries = Vec::new();
    while let Some(entry) = decoder
        .next_entry()
        .map_err(|e| HandlerError::new(format!("demo-log: {} is damaged: {e}", frames.display())))?
    {
        entries.push(entry);
    }
    Ok(entries)
}

/// The last `tail` entries (all of them for a negative `tail`, as Docker's
/// `--tail all` sends -1).
fn last(mut entries: Vec<LogEntry>, tail: i64) -> Vec<LogEntry> {
    if let Ok(keep) = usize::try_from(tail) {
        let skip = entries.len().saturating_sub(keep);
        entries.drain(..skip);
    }
    entries
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
        let (entries, receiver) = match (&live, follow) {
            (Some((sender, order)), true) => {
                let _held = order.lock().await;
                (kept(&frames).await?, Some(sender.subscribe()))
            }
            _ => (kept(&frames).await?, None),
        };
        let past = futures_util::stream::iter(
            last(entries, request.config.tail)
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

    fn entry(line: &str) -> LogEntry {
        LogEntry {
            source: "stdout".to_owned(),
            line: line.as_bytes().to_vec(),
            ..LogEntry::default()
        }
    }

    #[test]
    fn tail_keeps_the_last_entries_and_minus_one_keeps_all() {
        let lines = |entries: Vec<LogEntry>| {
            entries
                .into_iter()
                .map(|e| String::from_utf8(e.line).unwrap())
                .collect::<Vec<_>>()
        };
        let all = vec![entry("a"), entry("b"), entry("c")];
        assert_eq!(lines(last(all.clone(), 1)), ["c"]);
        assert_eq!(lines(last(all.clone(), 0)), [] as [&str; 0]);
        assert_eq!(lines(last(all.clone(), -1)), ["a", "b", "c"]);
        assert_eq!(lines(last(all, 10)), ["a", "b", "c"]);
    }
}
