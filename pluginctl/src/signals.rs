//! Waiting for SIGINT or SIGTERM.

/// Completes on SIGINT (Ctrl-C) or SIGTERM. If the handlers cannot be
/// installed, it never completes (the command then ends by itself or by
/// `--timeout`).
pub(crate) async fn terminated() {
    match plugin_server::shutdown_signal() {
        Ok(signal) => {
            signal.await;
        }
        Err(e) => {
            tracing::warn!("{}", crate::output::one_line(&e));
            std::future::pending::<()>().await;
        }
    }
}
