//! Parsing descriptor text (`.spec` and `.json`) into a [`PluginSpec`], and
//! writing it ([`Descriptor`]).

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

/// A descriptor file as a plugin writes it for hosts to find: the inverse of
/// [`PluginSpec::from_file`]. Without TLS options it is `NAME.spec`, one line
/// holding the address; with them, `NAME.json` with `Name`, `Addr` and
/// `TLSConfig` (only the options that are set).
///
/// ```
/// use plugin_spec::{Address, Descriptor, HostPort, PluginName, PluginSpec, SourceKind, TlsOptions};
///
/// let name = PluginName::new("vault")?;
/// let address = Address::Tls(HostPort::new("::1", 8443)?);
/// let plain = Descriptor::new(&name, &address, None)?;
/// assert_eq!((plain.file_name(), plain.contents()), ("vault.spec", &b"https://[::1]:8443\n"[..]));
///
/// let tls = TlsOptions::new().with_ca_file("/etc/vault/ca.pem");
/// let json = Descriptor::new(&name, &address, Some(&tls))?;
/// assert_eq!(json.kind(), SourceKind::Json);
/// let text = std::str::from_utf8(json.contents()).unwrap();
/// let read = PluginSpec::from_json_text(name, text, "/run/docker/plugins/vault.json")?;
/// assert_eq!((read.address(), read.tls()), (&address, Some(&tls)));
/// # Ok::<(), plugin_spec::SpecError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    kind: SourceKind,
    file_name: String,
    contents: Vec<u8>,
}

impl Descriptor {
    /// The descriptor of plugin `name` at `address`, with `tls` options for
    /// the hosts (a `.json`) or without (a `.spec`).
    ///
    /// # Errors
    /// [`SpecError::PathNotUtf8`] for a TLS file path a JSON string cannot
    /// hold.
    pub fn new(
        name: &PluginName,
        address: &Address,
        tls: Option<&TlsOptions>,
    ) -> Result<Self, SpecError> {
        let (kind, contents) = match tls {
            None => (SourceKind::Spec, format!("{address}\n").into_bytes()),
            Some(tls) => (SourceKind::Json, json_descriptor(name, address, tls)?),
        };
        Ok(Self {
            kind,
            file_name: format!("{name}.{}", kind.extension()),
            contents,
        })
    }

    /// `.spec` or `.json`.
    pub fn kind(&self) -> SourceKind {
        self.kind
    }

    /// `NAME.spec` or `NAME.json`: the file's name in a spec directory.
    pub fn file_name(&self) -> &str {
        &self.file_name
    }

    /// The file's bytes, ending in a newline.
    pub fn contents(&self) -> &[u8] {
        &self.contents
    }
}

fn json_descriptor(
    name: &PluginName,
    address: &Address,
    tls: &TlsOptions,
) -> Result<Vec<u8>, SpecError> {
    let text = |path: &Path| {
        path.to_str()
            .map(|s| serde_json::Value::String(s.to_owned()))
            .ok_or_else(|| SpecError::PathNotUtf8 {
                path: path.to_owned(),
            })
    };
    let mut config = serde_json::Map::new();
    if tls.insecure_skip_verify() {
        config.insert("InsecureSkipVerify".to_owned(), true.into());
    }
    for (key, path) in [
        ("CAFile", tls.ca_file()),
        ("CertFile", tls.cert_file()),
        ("KeyFile", tls.key_file()),
    ] {
        if let Some(path) = path {
            config.insert(key.to_owned(), text(path)?);
        }
    }
    let descriptor = serde_json::json!({
        "Name": name.as_str(),
        "Addr": address.to_string(),
        "TLSConfig": config,
    });
    let mut bytes = descriptor.to_string().into_bytes();
    bytes.push(b'\n');
    Ok(bytes)
}
