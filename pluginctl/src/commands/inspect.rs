//! `pluginctl inspect NAME`.

use std::io::Write;
use std::time::Instant;

use serde_json::{Value, json};

use super::{Context, Failure};
use crate::output;

pub(crate) async fn run(ctx: &Context, name: &str) -> Result<(), Failure> {
    let spec = ctx.lookup(name)?;
    let started = Instant::now();
    let activation = match ctx.client(&spec).await {
        Ok(client) => client
            .activate()
            .await
            .map_err(|e| crate::output::one_line(&e)),
        Err(e) => Err(crate::output::one_line(e.as_ref())),
    };
    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    let mut out = std::io::stdout().lock();
    if ctx.json {
        let mut p = output::plugin_json(&spec);
        let tls = spec.tls().map(|tls| {
            json!({
                "insecure_skip_verify": tls.insecure_skip_verify(),
                "ca_file": tls.ca_file().map(|p| p.to_string_lossy()),
                "cert_file": tls.cert_file().map(|p| p.to_string_lossy()),
                "key_file": tls.key_file().map(|p| p.to_string_lossy()),
            })
        });
        p.insert("tls".into(), tls.unwrap_or(Value::Null));
        let warnings: Vec<String> = spec.warnings().iter().map(ToString::to_string).collect();
        p.insert("warnings".into(), json!(warnings));
        let (manifest, error) = match &activation {
            Ok(manifest) => (serde_json::to_value(manifest)?, Value::Null),
            Err(error) => (Value::Null, json!(error)),
        };
        p.insert("manifest".into(), manifest);
        p.insert("error".into(), error);
        p.insert("activation_us".into(), json!(micros));
        writeln!(out, "{}", Value::Object(p))?;
        return activated(activation.as_ref().map(|_| ()));
    }
    writeln!(out, "name:        {}", spec.name())?;
    writeln!(out, "address:     {}", spec.address())?;
    writeln!(out, "source:      {}", output::source(&spec))?;
    if let Some(tls) = spec.tls() {
        let path =
            |p: Option<&std::path::Path>| p.map_or("-".to_owned(), |p| p.display().to_string());
        writeln!(
            out,
            "tls:         ca_file={} cert_file={} key_file={} insecure_skip_verify={}",
            path(tls.ca_file()),
            path(tls.cert_file()),
            path(tls.key_file()),
            tls.insecure_skip_verify()
        )?;
    }
    for warning in spec.warnings() {
        writeln!(out, "warning:     {warning}")?;
    }
    match &activation {
        Ok(manifest) => writeln!(out, "implements:  {}", manifest.implements().join(", "))?,
        Err(error) => writeln!(out, "error:       {error}")?,
    }
    writeln!(out, "activation:  {micros} us")?;
    activated(activation.as_ref().map(|_| ()))
}

/// A failure (exit 1) when the plugin did not activate; the error itself was
/// printed above.
fn activated(activation: Result<(), &String>) -> Result<(), Failure> {
    activation.map_err(|_| "the plugin did not activate".into())
}
