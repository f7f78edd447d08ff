//! One module per command.

pub(crate) mod bench;
pub(crate) mod call;
#[cfg(feature = "demo")]
pub(crate) mod demo;
pub(crate) mod inspect;
pub(crate) mod ls;
pub(crate) mod package;
#[cfg(feature = "demo")]
pub(crate) mod serve;
pub(crate) mod watch;

use plugin_client::{Client, ClientConfig, RetryConfig};
use plugin_discovery::Discovery;
use plugin_spec::{PluginName, PluginSpec};

/// A command's failure, printed as `error: ...` with its causes.
pub(crate) type Failure = Box<dyn std::error::Error + Send + Sync>;

/// What every command needs.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    pub(crate) discovery: Discovery,
    pub(crate) json: bool,
}

impl Context {
    /// Client settings for the CLI: no retries (a dead plugin fails at once;
    /// `--timeout` bounds the rest).
    pub(crate) fn client_config(&self) -> ClientConfig {
        ClientConfig::default().retry(RetryConfig::none())
    }

    /// The plugin `name`, found as a host would find it.
    pub(crate) fn lookup(&self, name: &str) -> Result<PluginSpec, Failure> {
        let name = PluginName::new(name)?;
        Ok(self.discovery.lookup(&name)?)
    }

    /// A client for `spec`. An `https://` plugin's is made on tokio's
    /// blocking threads, since it reads the descriptor's TLS files: a slow
    /// file stalls neither `--timeout` nor the other plugins of `ls --activate`.
    pub(crate) async fn client(&self, spec: &PluginSpec) -> Result<Client, Failure> {
        let config = self.client_config();
        if !spec.address().is_tls() {
            return Ok(Client::for_spec(spec, &config)?);
        }
        let spec = spec.clone();
        Ok(tokio::task::spawn_blocking(move || Client::for_spec(&spec, &config)).await??)
    }
}

/// The request body: the argument, `-` for stdin, or none; checked to be
/// JSON.
pub(crate) async fn body(arg: Option<&str>) -> Result<bytes::Bytes, Failure> {
    let text = match arg {
        None => return Ok(bytes::Bytes::new()),
        Some("-") => {
            let mut text = Vec::new();
            tokio::io::AsyncReadExt::read_to_end(&mut tokio::io::stdin(), &mut text).await?;
            text
        }
        Some(text) => text.as_bytes().to_vec(),
    };
    if !text.iter().all(u8::is_ascii_whitespace) {
        serde_json::from_slice::<serde_json::Value>(&text)
            .map_err(|e| format!("the request body is not valid JSON: {e}"))?;
    }
    Ok(bytes::Bytes::from(text))
}
