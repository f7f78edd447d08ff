//! Fixtures shared by the integration tests: temp dirs with descriptor files, and
//! one-line summaries of parse results for exact comparisons.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use plugin_spec::{PluginSpec, SpecError};

/// A temporary directory that holds descriptor files for one test.
pub(crate) struct Dir(tempfile::TempDir);

impl Dir {
    pub(crate) fn new() -> Self {
        Self(tempfile::tempdir().expect("create temp dir"))
    }

    pub(crate) fn path(&self) -> &Path {
        self.0.path()
    }

    /// Writes `contents` to `name` inside the dir and returns its path.
    pub(crate) fn write(&self, name: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.path().join(name);
        std::fs::write(&path, contents).expect("write descriptor");
        path
    }
}

/// One line that says everything a parse produced: the address, the TLS options
/// and the warnings, or the error variant with its detail.
pub(crate) fn summary(result: &Result<PluginSpec, SpecError>) -> String {
    match result {
        Ok(spec) => {
            let mut line = spec.address().to_string();
            if let Some(tls) = spec.tls() {
                let p = |p: Option<&Path>| p.map_or("-".to_owned(), |p| p.display().to_string());
                line += &format!(
                    " tls(skip={} ca={} cert={} key={})",
                    tls.insecure_skip_verify(),
                    p(tls.ca_file()),
                    p(tls.cert_file()),
                    p(tls.key_file())
                );
            }
            if !spec.warnings().is_empty() {
                line += &format!(" warn{:?}", spec.warnings());
            }
            line
        }
        Err(err) => error_variant(err),
    }
}

/// The error's variant and its distinguishing detail, e.g.
/// `InvalidAddress(UnknownScheme("ftp"))`.
pub(crate) fn error_variant(err: &SpecError) -> String {
    match err {
        SpecError::InvalidName { rule, .. } => format!("InvalidName({rule:?})"),
        SpecError::InvalidAddress { problem, .. } => format!("InvalidAddress({problem:?})"),
        SpecError::Read { source, .. } => format!("Read({:?})", source.kind()),
        SpecError::NotAFile { kind, .. } => format!("NotAFile({kind})"),
        SpecError::TooLarge { size, limit, .. } => format!("TooLarge({size}>{limit})"),
        SpecError::NotUtf8 { source, .. } => format!("NotUtf8({})", source.valid_up_to()),
        SpecError::Empty { .. } => "Empty".to_owned(),
        SpecError::InvalidJson { .. } => "InvalidJson".to_owned(),
        SpecError::MissingAddr { .. } => "MissingAddr".to_owned(),
        SpecError::IncompleteClientCert { given, missing, .. } => {
            format!("IncompleteClientCert({given} without {missing})")
        }
        SpecError::UnknownExtension { .. } => "UnknownExtension".to_owned(),
        other => format!("unexpected {other:?}"),
    }
}

/// Proptest cases to run: `PROPTEST_CASES` when set (for long runs), else `default`.
pub(crate) fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The error and its causes, `message: cause: cause` (each layer says its own
/// sentence once, so this is how a reader sees the whole failure).
pub(crate) fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let causes = std::iter::successors(Some(error), |e| (*e).source());
    causes.map(|e| e.to_string()).collect::<Vec<_>>().join(": ")
}
