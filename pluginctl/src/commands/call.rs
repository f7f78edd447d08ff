//! `pluginctl call NAME METHOD [BODY|-]`.

use std::io::Write;

use super::{Context, Failure, body};

pub(crate) async fn run(
    ctx: &Context,
    name: &str,
    method: &str,
    body_arg: Option<&str>,
) -> Result<(), Failure> {
    let body = body(body_arg).await?;
    let spec = ctx.lookup(name)?;
    let client = ctx.client(&spec).await?;
    client.activate().await?;
    let answer = client.call_raw(method, body).await?;
    let mut out = std::io::stdout().lock();
    out.write_all(&answer)?;
    // With --json, the answer exactly as the plugin sent it; for a terminal,
    // ended by a newline.
    if !ctx.json && !answer.ends_with(b"\n") {
        writeln!(out)?;
    }
    Ok(())
}
