//! Waiting for SIGINT or SIGTERM.

/// Completes on SIGINT (Ctrl-C) or SIGTERM. If the handlers cannot be
/// installed, it never completes (the command then ends by itself or by
/// `--timeout`).
pub(crate) async fn terminated() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(e) => {
            tracing::warn!("cannot handle SIGTERM: {e}");
            std::future::pending::<()>().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
