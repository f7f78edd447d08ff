//! Parsing descriptor text (`.spec` and `.json`) into a [`PluginSpec`].

use std::path::{Path, PathBuf};

use crate::address::Address;
use crate::error::SpecError;
use crate::json::{RawDescriptor, RawTls};
use crate::name::PluginName;
use crate::spec::{PluginSpec, Source, SourceKind};
use crate::tls::TlsOptions;
use crate::warning::Warning;

const BOM: char = '\u{feff}';

pub(crate) fn parse_spec(
    name: PluginName,
    text: &str,
    path: PathBuf,
) -> Result<PluginSpec, SpecError> {
    let mut warnings = Vec::new();
    let url = skip_bom(text, &mut warnings).trim();
    if url.is_empty() {
        return Err(SpecError::Empty { path });
    }
    let address = parse_address(url, &path)?;
    Ok(PluginSpec {
        name,
        address,
        tls: None,
        source: Source::new(SourceKind::Spec, path),
        warnings,
    })
}

pub(crate) fn parse_json(
    name: PluginName,
    text: &str,
    path: PathBuf,
) -> Result<PluginSpec, SpecError> {
    let mut warnings = Vec::new();
    let text = skip_bom(text, &mut warnings);
    let raw: RawDescriptor = match serde_json::from_str(text) {
        Ok(raw) => raw,
        Err(source) => return Err(SpecError::InvalidJson { path, source }),
    };
    let Some(addr) = raw.addr.filter(|addr| !addr.is_empty()) else {
        return Err(SpecError::MissingAddr { path });
    };
    let address = parse_address(&addr, &path)?;
    if let Some(declared) = raw
        .name
        .filter(|declared| !declared.is_empty() && declared != name.as_str())
    {
        warnings.push(Warning::NameMismatch { declared });
    }
    let tls = match raw.tls {
        Some(raw_tls) => Some(tls_options(raw_tls, &path, &mut warnings)?),
        None => None,
    };
    if tls.is_some() && !address.is_tls() {
        warnings.push(Warning::TlsConfigUnused);
    }
    Ok(PluginSpec {
        name,
        address,
        tls,
        source: Source::new(SourceKind::Json, path),
        warnings,
    })
}

fn skip_bom<'t>(text: &'t str, warnings: &mut Vec<Warning>) -> &'t str {
    match text.strip_prefix(BOM) {
        Some(rest) => {
            warnings.push(Warning::ByteOrderMark);
            rest
        }
        None => text,
    }
}

fn parse_address(url: &str, path: &Path) -> Result<Address, SpecError> {
    Address::parse_url(url).map_err(|problem| SpecError::InvalidAddress {
        address: url.to_owned(),
        problem,
        path: Some(path.to_owned()),
    })
}

/// Builds [`TlsOptions`] from a `TLSConfig`; an empty string counts as absent,
/// as in Docker.
fn tls_options(
    raw: RawTls,
    path: &Path,
    warnings: &mut Vec<Warning>,
) -> Result<TlsOptions, SpecError> {
    let mut file = |field: &'static str, value: Option<String>| {
        let value = PathBuf::from(value.filter(|v| !v.is_empty())?);
        if value.is_relative() {
            warnings.push(Warning::RelativeTlsPath {
                field,
                path: value.clone(),
            });
        }
        Some(value)
    };
    let ca_file = file("CAFile", raw.ca_file);
    let cert_file = file("CertFile", raw.cert_file);
    let key_file = file("KeyFile", raw.key_file);

    let mut tls =
        TlsOptions::new().with_insecure_skip_verify(raw.insecure_skip_verify.unwrap_or(false));
    if let Some(ca_file) = ca_file {
        tls = tls.with_ca_file(ca_file);
    }
    match (cert_file, key_file) {
        (Some(cert), Some(key)) => Ok(tls.with_client_cert(cert, key)),
        (None, None) => Ok(tls),
        (cert, _) => {
            let (given, missing) = if cert.is_some() {
                ("CertFile", "KeyFile")
            } else {
                ("KeyFile", "CertFile")
            };
            Err(SpecError::IncompleteClientCert {
                path: path.to_owned(),
                given,
                missing,
            })
        }
    }
}
