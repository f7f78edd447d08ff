//! `pluginctl ls [--activate]`.

use std::io::Write;

use plugin_spec::PluginSpec;
use serde_json::{Value, json};

use super::{Context, Failure};
use crate::output;

pub(crate) async fn run(ctx: &Context, activate: bool) -> Result<(), Failure> {
    let (plugins, skipped) = ctx.discovery.scan().into_parts();
    let outcomes: Vec<Option<Result<Vec<String>, String>>> = if activate {
        futures_util::future::join_all(plugins.iter().map(|spec| activation(ctx, spec)))
            .await
            .into_iter()
            .map(Some)
            .collect()
    } else {
        plugins.iter().map(|_| None).collect()
    };
    let mut out = std::io::stdout().lock();
    if ctx.json {
        let plugins: Vec<Value> = plugins
            .iter()
            .zip(&outcomes)
            .map(|(spec, outcome)| {
                let mut p = output::plugin_json(spec);
                match outcome {
                    Some(Ok(implements)) => drop(p.insert("implements".into(), json!(implements))),
                    Some(Err(error)) => drop(p.insert("error".into(), json!(error))),
                    None => {}
                }
                Value::Object(p)
            })
            .collect();
        let skipped: Vec<Value> = skipped
            .iter()
            .map(|s| json!({"path": s.path().to_string_lossy(), "reason": s.reason().to_string()}))
            .collect();
        writeln!(out, "{}", json!({"plugins": plugins, "skipped": skipped}))?;
        return failed_activations(&outcomes);
    }
    let mut headers = vec!["NAME", "ADDRESS", "SOURCE"];
    if activate {
        headers.push("IMPLEMENTS");
    }
    let rows: Vec<Vec<String>> = plugins
        .iter()
        .zip(&outcomes)
        .map(|(spec, outcome)| {
            let mut row = vec![
                spec.name().to_string(),
                spec.address().to_string(),
                output::source(spec),
            ];
            match outcome {
                Some(Ok(implements)) => row.push(implements.join(", ")),
                Some(Err(error)) => row.push(format!("error: {error}")),
                None => {}
            }
            row
        })
        .collect();
    output::table(&mut out, &headers, &rows)?;
    drop(out);
    for skipped in &skipped {
        eprintln!("skipped {skipped}");
    }
    failed_activations(&outcomes)
}

/// With `--activate`, a failure when any plugin did not activate: scripts use
/// `ls --activate` as a health check.
fn failed_activations(outcomes: &[Option<Result<Vec<String>, String>>]) -> Result<(), Failure> {
    let failed = outcomes
        .iter()
        .filter(|outcome| matches!(outcome, Some(Err(_))))
        .count();
    if failed == 0 {
        Ok(())
    } else {
        Err(format!("{failed} of {} plugins failed to activate", outcomes.len()).into())
    }
}

/// What the plugin implements, or why it could not be activated.
async fn activation(ctx: &Context, spec: &PluginSpec) -> Result<Vec<String>, String> {
    let client = ctx
        .client(spec)
        .await
        .map_err(|e| crate::output::one_line(e.as_ref()))?;
    let manifest = client
        .activate()
        .await
        .map_err(|e| crate::output::one_line(&e))?;
    Ok(manifest.implements().to_vec())
}
