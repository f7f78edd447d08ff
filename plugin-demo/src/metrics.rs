//! `demo-metrics`: a MetricsCollector, the one subsystem the engine offers
//! to managed plugins only. At `StartMetrics` it scrapes the engine's
//! metrics socket (which the engine mounts into the plugin) once and keeps
//! what it read in `STATE/metrics.txt`.

use std::path::{Path, PathBuf};

use plugin_subsystems::HandlerError;
use plugin_subsystems::metrics::{METRICS_SOCKET, MetricsCollector};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The collector of one STATE directory.
#[derive(Debug)]
pub(crate) struct Scraper {
    state: PathBuf,
    socket: PathBuf,
}

impl Scraper {
    /// Keeps what it scrapes from the engine's socket in `state`.
    pub(crate) fn new(state: &Path) -> Self {
        Self {
            state: state.to_owned(),
            socket: PathBuf::from(METRICS_SOCKET),
        }
    }
}

/// `GET /metrics` on the unix socket `socket`: the answer's body.
async fn scrape(socket: &Path) -> Result<String, String> {
    let mut stream = tokio::net::UnixStream::connect(socket)
        .await
        .map_err(|e| format!("cannot connect to {}: {e}", socket.display()))?;
    stream
        .write_all(b"GET /metrics HTTP/1.0\r\nHost: engine\r\n\r\n")
        .await
        .map_err(|e| format!("cannot ask for /metrics: {e}"))?;
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .await
        .map_err(|e| format!("cannot read /metrics: {e}"))?;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    match answer.split_once("\r\n\r\n") {
        Some((head, body)) if head.starts_with("HTTP/1.") && head.contains(" 200 ") => {
            Ok(body.to_owned())
        }
        _ => Err(format!(
            "the engine answered /metrics with {:?}",
            answer.lines().next().unwrap_or("nothing")
        )),
    }
}

impl MetricsCollector for Scraper {
    async fn start_metrics(&self) -> Result<(), HandlerError> {
        let (socket, state) = (self.socket.clone(), self.state.clone());
        // The engine waits for the answer: scrape after it.
        tokio::spawn(async move {
            let kept = state.join("metrics.txt");
            let result = match scrape(&socket).await {
                Ok(body) => std::fs::create_dir_all(&state)
                    .and_then(|()| std::fs::write(&kept, &body))
                    .map(|()| body.lines().count())
                    .map_err(|e| format!("cannot write {}: {e}", kept.display())),
                Err(e) => Err(e),
            };
            match result {
                Ok(lines) => {
                    tracing::info!(lines, file = %kept.display(), "demo-metrics: scraped the engine's metrics")
                }
                Err(e) => tracing::warn!(error = %e, "demo-metrics: scraping failed"),
            }
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_scrape_keeps_the_body_of_a_200_and_names_anything_else() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("metrics.sock");
        let listener = tokio::net::UnixListener::bind(&socket).unwrap();
        let server = tokio::spawn(async move {
            for answer in [
                "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nengine_daemon_up 1\n",
                "HTTP/1.0 404 Not Found\r\n\r\n",
            ] {
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut request = [0u8; 256];
                let _ = stream.read(&mut request).await.unwrap();
                assert!(request.starts_with(b"GET /metrics HTTP/1.0\r\n"));
                stream.write_all(answer.as_bytes()).await.unwrap();
            }
        });
        assert_eq!(scrape(&socket).await.unwrap(), "engine_daemon_up 1\n");
        assert_eq!(
            scrape(&socket).await.unwrap_err(),
            "the engine answered /metrics with \"HTTP/1.0 404 Not Found\""
        );
        server.await.unwrap();
    }
}
