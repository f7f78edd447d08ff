//! Managed (v2) plugins: the `config.json` the engine reads from a plugin
//! directory (`rootfs/` beside it), as a typed model with the engine's field
//! names, and the checks the engine would otherwise make only when the plugin
//! is created or enabled.
//!
//! A managed plugin is a directory with `config.json` and `rootfs/`, turned
//! into a plugin by `docker plugin create NAME DIR` and run by the engine in
//! a container of its own. The engine talks to it over the unix socket the
//! config names, which the plugin makes in `/run/docker/plugins` inside its
//! rootfs. The interface types (`docker.volumedriver/1.0`, ...) decide what
//! the engine uses it for; the engine does not call `Plugin.Activate` to find
//! out.
//!
//! ```
//! use plugin_subsystems::managed::{InterfaceType, PluginConfig};
//!
//! let config = PluginConfig::new(
//!     "a volume driver",
//!     ["/plugin", "--socket", "/run/docker/plugins/vol.sock"],
//!     InterfaceType::VOLUME_DRIVER,
//!     "vol.sock",
//! )
//! .propagated_mount("/data");
//! config.validate()?;
//! let text = config.to_json();
//! assert_eq!(PluginConfig::from_json(&text)?, config);
//!
//! let err = PluginConfig::from_json(r#"{"Description": "x", "Entrypiont": ["/p"]}"#).unwrap_err();
//! assert_eq!(err.to_string(), "config.json: Entrypiont: unknown field (a typo? the engine would ignore it)");
//! # Ok::<(), plugin_subsystems::managed::ConfigError>(())
//! ```

use std::fmt;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::go_json::go_struct;

/// The directory inside a plugin's rootfs where its socket must be.
pub const SOCKET_DIR: &str = "/run/docker/plugins";

/// The protocol scheme of a plugin that speaks this protocol (HTTP, JSON).
pub const HTTP_PROTOCOL: &str = "moby.plugins.http/v1";

/// What the engine uses a plugin for: `PREFIX.CAPABILITY/VERSION` in
/// `Interface.Types`, e.g. `docker.volumedriver/1.0`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct InterfaceType {
    prefix: String,
    capability: String,
    version: String,
}

impl InterfaceType {
    /// `docker.volumedriver/1.0`.
    pub const VOLUME_DRIVER: &'static str = "docker.volumedriver/1.0";
    /// `docker.networkdriver/1.0`.
    pub const NETWORK_DRIVER: &'static str = "docker.networkdriver/1.0";
    /// `docker.ipamdriver/1.0`.
    pub const IPAM_DRIVER: &'static str = "docker.ipamdriver/1.0";
    /// `docker.authz/1.0`.
    pub const AUTHZ: &'static str = "docker.authz/1.0";
    /// `docker.logdriver/1.0`.
    pub const LOG_DRIVER: &'static str = "docker.logdriver/1.0";
    /// `docker.metricscollector/1.0`: offered to managed plugins only.
    pub const METRICS_COLLECTOR: &'static str = "docker.metricscollector/1.0";
    /// `docker.secretprovider/1.0`.
    pub const SECRET_PROVIDER: &'static str = "docker.secretprovider/1.0";

    /// The types the engine knows.
    pub const KNOWN: [&'static str; 7] = [
        Self::VOLUME_DRIVER,
        Self::NETWORK_DRIVER,
        Self::IPAM_DRIVER,
        Self::AUTHZ,
        Self::LOG_DRIVER,
        Self::METRICS_COLLECTOR,
        Self::SECRET_PROVIDER,
    ];

    /// Parses `PREFIX.CAPABILITY/VERSION`, as the engine splits it: the
    /// prefix up to the first `.`, the version after the last `/`.
    ///
    /// # Errors
    /// [`ConfigError`] naming `Interface.Types` when the text has no `.` or no
    /// `/`.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let malformed = || {
            ConfigError::new(
                "Interface.Types",
                format!("{text:?} is not PREFIX.CAPABILITY/VERSION (e.g. docker.volumedriver/1.0)"),
            )
        };
        let (rest, version) = text.rsplit_once('/').ok_or_else(malformed)?;
        let (prefix, capability) = rest.split_once('.').ok_or_else(malformed)?;
        Ok(Self {
            prefix: prefix.to_owned(),
            capability: capability.to_owned(),
            version: version.to_owned(),
        })
    }

    /// `docker` for the engine's own types.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `volumedriver`, `networkdriver`, ...
    pub fn capability(&self) -> &str {
        &self.capability
    }

    /// `1.0`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Whether the engine knows this type.
    pub fn is_known(&self) -> bool {
        Self::KNOWN.contains(&self.to_string().as_str())
    }
}

impl fmt::Display for InterfaceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.capability.is_empty() && self.version.is_empty() {
            // Text given to `PluginConfig::new` that does not parse: as given.
            return f.write_str(&self.prefix);
        }
        write!(f, "{}.{}/{}", self.prefix, self.capability, self.version)
    }
}

impl Serialize for InterfaceType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for InterfaceType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text)
            .map_err(|e| serde::de::Error::custom(format!("{}: {}", e.field(), e.problem())))
    }
}

go_struct! {
    /// `Interface`: how the engine reaches the plugin.
    pub struct Interface {
        /// `ProtocolScheme`: empty or [`HTTP_PROTOCOL`].
        #[serde(skip_serializing_if = "String::is_empty")]
        protocol_scheme: String = "ProtocolScheme",
        /// `Socket`: a file name in [`SOCKET_DIR`] of the rootfs.
        socket: String = "Socket",
        /// `Types`: what the plugin is for.
        types: Vec<InterfaceType> = "Types",
    }
}

go_struct! {
    /// `Args`: the arguments after the entrypoint, and whether users may set them.
    pub struct Args {
        /// `Name`.
        name: String = "Name",
        /// `Description`.
        description: String = "Description",
        /// `Settable`: empty, or `["value"]`.
        settable: Vec<String> = "Settable",
        /// `Value`.
        value: Vec<String> = "Value",
    }
}

go_struct! {
    /// One of `Env`.
    pub struct Env {
        /// `Name`.
        name: String = "Name",
        /// `Description`.
        description: String = "Description",
        /// `Settable`: empty, or `["value"]`.
        settable: Vec<String> = "Settable",
        /// `Value`.
        value: Option<String> = "Value",
    }
}

go_struct! {
    /// One of `Mounts`.
    pub struct Mount {
        /// `Name`.
        name: String = "Name",
        /// `Description`.
        description: String = "Description",
        /// `Settable`: empty, or `["source"]`.
        settable: Vec<String> = "Settable",
        /// `Source`, on the host.
        source: Option<String> = "Source",
        /// `Destination`, in the plugin (absolute).
        destination: String = "Destination",
        /// `Type`, e.g. `bind`.
        kind: String = "Type",
        /// `Options`, e.g. `rbind`.
        options: Vec<String> = "Options",
    }
}

go_struct! {
    /// One of `Linux.Devices`.
    pub struct Device {
        /// `Name`.
        name: String = "Name",
        /// `Description`.
        description: String = "Description",
        /// `Settable`: empty, or `["path"]`.
        settable: Vec<String> = "Settable",
        /// `Path`, e.g. `/dev/fuse`.
        path: Option<String> = "Path",
    }
}

go_struct! {
    /// `Linux`: what the plugin's container may do.
    pub struct Linux {
        /// `Capabilities`: `CAP_SYS_ADMIN`, ... ([`LINUX_CAPABILITIES`]).
        capabilities: Vec<String> = "Capabilities",
        /// `AllowAllDevices`.
        allow_all_devices: bool = "AllowAllDevices",
        /// `Devices`.
        devices: Vec<Device> = "Devices",
    }
}

go_struct! {
    /// `Network`.
    pub struct Network {
        /// `Type`: empty or `none` (a network namespace of its own), `host`,
        /// `bridge`.
        kind: String = "Type",
    }
}

go_struct! {
    /// `User`: whom the entrypoint runs as (0, root, by default).
    pub struct User {
        /// `UID`.
        #[serde(skip_serializing_if = "is_zero")]
        uid: u32 = "UID",
        /// `GID`.
        #[serde(skip_serializing_if = "is_zero")]
        gid: u32 = "GID",
    }
}

go_struct! {
    /// `rootfs`: the layers, as `docker plugin push` records them.
    pub struct Rootfs {
        /// `type`: `layers`.
        #[serde(skip_serializing_if = "String::is_empty")]
        kind: String = "type",
        /// `diff_ids`.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        diff_ids: Vec<String> = "diff_ids",
    }
}

go_struct! {
    /// A managed plugin's `config.json`, with the engine's field names
    /// (`types.PluginConfig`).
    pub struct PluginConfig {
        /// `Description` (required).
        description: String = "Description",
        /// `Documentation`: a URL.
        documentation: String = "Documentation",
        /// `Entrypoint` (required): the program and its first arguments, an
        /// absolute path in the rootfs first.
        entrypoint: Vec<String> = "Entrypoint",
        /// `WorkDir`.
        work_dir: String = "WorkDir",
        /// `User`.
        user: User = "User",
        /// `Interface` (required).
        interface: Interface = "Interface",
        /// `Network`.
        network: Network = "Network",
        /// `Mounts`.
        mounts: Vec<Mount> = "Mounts",
        /// `PropagatedMount`: for a volume driver, the directory (in the
        /// plugin) whose mounts the engine sees; the paths it answers are
        /// under it.
        propagated_mount: String = "PropagatedMount",
        /// `IpcHost`.
        ipc_host: bool = "IpcHost",
        /// `PidHost`.
        pid_host: bool = "PidHost",
        /// `Linux`.
        linux: Linux = "Linux",
        /// `Env`.
        env: Vec<Env> = "Env",
        /// `Args`.
        args: Args = "Args",
        /// `DockerVersion`: the engine version that created it.
        #[serde(skip_serializing_if = "String::is_empty")]
        docker_version: String = "DockerVersion",
        /// `rootfs`.
        #[serde(skip_serializing_if = "Option::is_none")]
        rootfs: Option<Rootfs> = "rootfs",
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The Linux capabilities the engine's runtime knows, by the names a
/// `config.json` gives.
pub const LINUX_CAPABILITIES: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// A `config.json` that the engine would refuse, or that would not do what
/// it says: the field (`Interface.Socket`, `Linux.Capabilities[1]`, ...) and
/// what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConfigError {
    field: String,
    problem: String,
}

impl ConfigError {
    fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            problem: problem.into(),
        }
    }

    /// The field, as a path: `Interface.Types[0]`; empty for the whole file.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// What is wrong with it.
    pub fn problem(&self) -> &str {
        &self.problem
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "config.json: {}", self.problem)
        } else {
            write!(f, "config.json: {}: {}", self.field, self.problem)
        }
    }
}

impl std::error::Error for ConfigError {}

/// The fields of each object of a `config.json`, by path (`[]` for the
/// elements of a list).
const SCHEMA: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "Args",
            "Description",
            "DockerVersion",
            "Documentation",
            "Entrypoint",
            "Env",
            "Interface",
            "IpcHost",
            "Linux",
            "Mounts",
            "Network",
            "PidHost",
            "PropagatedMount",
            "User",
            "WorkDir",
            "rootfs",
        ],
    ),
    ("Args", &["Description", "Name", "Settable", "Value"]),
    ("Env[]", &["Description", "Name", "Settable", "Value"]),
    ("Interface", &["ProtocolScheme", "Socket", "Types"]),
    ("Linux", &["AllowAllDevices", "Capabilities", "Devices"]),
    (
        "Linux.Devices[]",
        &["Description", "Name", "Path", "Settable"],
    ),
    (
        "Mounts[]",
        &[
            "Description",
            "Destination",
            "Name",
            "Options",
            "Settable",
            "Source",
            "Type",
        ],
    ),
    ("Network", &["Type"]),
    ("User", &["GID", "UID"]),
    ("rootfs", &["diff_ids", "type"]),
];

/// Refuses keys no field has (matched as Go matches them, in any case): the
/// engine would silently ignore a misspelt `Entrypiont`.
fn known_keys(value: &Value, schema_path: &str, shown: &str) -> Result<(), ConfigError> {
    match value {
        Value::Object(object) => {
            let Some((_, fields)) = SCHEMA.iter().find(|(path, _)| *path == schema_path) else {
                return Ok(());
            };
            for (key, value) in object {
                let field = fields
                    .iter()
                    .find(|f| f.eq_ignore_ascii_case(key))
                    .ok_or_else(|| {
                        ConfigError::new(
                            join(shown, key),
                            "unknown field (a typo? the engine would ignore it)",
                        )
                    })?;
                let inner = if schema_path.is_empty() {
                    (*field).to_owned()
                } else {
                    format!("{schema_path}.{field}")
                };
                known_keys(value, &inner, &join(shown, field))?;
            }
            Ok(())
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                known_keys(item, &format!("{schema_path}[]"), &format!("{shown}[{i}]"))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn join(parent: &str, field: &str) -> String {
    if parent.is_empty() {
        field.to_owned()
    } else {
        format!("{parent}.{field}")
    }
}

impl PluginConfig {
    /// The smallest useful config: a description, the entrypoint, one
    /// interface type (`docker.volumedriver/1.0`, ... ; checked by
    /// [`validate`](Self::validate)) and the socket's file name. The plugin
    /// gets a network namespace of its own (no network), no capabilities
    /// and no mounts; set the fields for more.
    pub fn new(
        description: impl Into<String>,
        entrypoint: impl IntoIterator<Item = impl Into<String>>,
        interface_type: &str,
        socket: impl Into<String>,
    ) -> Self {
        let types = InterfaceType::parse(interface_type)
            .map(|t| vec![t])
            .unwrap_or_else(|_| {
                vec![InterfaceType {
                    prefix: interface_type.to_owned(),
                    ..InterfaceType::default()
                }]
            });
        Self {
            description: description.into(),
            entrypoint: entrypoint.into_iter().map(Into::into).collect(),
            interface: Interface {
                protocol_scheme: String::new(),
                socket: socket.into(),
                types,
            },
            ..Self::default()
        }
    }

    /// With `PropagatedMount` set (a volume driver's state directory).
    #[must_use]
    pub fn propagated_mount(mut self, path: impl Into<String>) -> Self {
        self.propagated_mount = path.into();
        self
    }

    /// Reads a `config.json`, refusing unknown fields and checking every
    /// rule of [`validate`](Self::validate).
    ///
    /// # Errors
    /// [`ConfigError`] naming the field: not JSON, an unknown field, a field
    /// of the wrong type, or a rule broken.
    pub fn from_json(text: &str) -> Result<Self, ConfigError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| ConfigError::new("", format!("not JSON: {e}")))?;
        if !value.is_object() {
            return Err(ConfigError::new("", "not a JSON object"));
        }
        known_keys(&value, "", "")?;
        let config: Self = serde_json::from_value(value)
            .map_err(|e| ConfigError::new("", format!("a field has the wrong type: {e}")))?;
        config.validate()?;
        Ok(config)
    }

    /// The `config.json` text, as the engine reads it (pretty, one field a
    /// line, ending in a newline).
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// The engine's rules, and ours where the engine would accept a config
    /// that cannot work. Each error names its field.
    ///
    /// # Errors
    /// The first rule broken, as a [`ConfigError`].
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.description.trim().is_empty() {
            return Err(ConfigError::new(
                "Description",
                "missing: say what the plugin does",
            ));
        }
        let program = self
            .entrypoint
            .first()
            .ok_or_else(|| ConfigError::new("Entrypoint", "missing: the program to run"))?;
        if !program.starts_with('/') && self.work_dir.is_empty() {
            return Err(ConfigError::new(
                "Entrypoint[0]",
                format!(
                    "{program:?} is relative and no WorkDir is set; give an absolute path in the rootfs"
                ),
            ));
        }
        if !self.work_dir.is_empty() && !self.work_dir.starts_with('/') {
            return Err(ConfigError::new("WorkDir", "must be an absolute path"));
        }
        self.validate_interface()?;
        match self.network.kind.as_str() {
            "" | "none" | "host" | "bridge" => {}
            other => {
                return Err(ConfigError::new(
                    "Network.Type",
                    format!("{other:?} is not one of none, host, bridge"),
                ));
            }
        }
        if !self.propagated_mount.is_empty() {
            let volume = self
                .interface
                .types
                .iter()
                .any(|t| t.to_string() == InterfaceType::VOLUME_DRIVER);
            if !volume {
                return Err(ConfigError::new(
                    "PropagatedMount",
                    "only a volume driver (docker.volumedriver/1.0) has one",
                ));
            }
            if !self.propagated_mount.starts_with('/') {
                return Err(ConfigError::new(
                    "PropagatedMount",
                    "must be an absolute path",
                ));
            }
        }
        for (i, capability) in self.linux.capabilities.iter().enumerate() {
            if !LINUX_CAPABILITIES.contains(&capability.as_str()) {
                let hint = if LINUX_CAPABILITIES.contains(&format!("CAP_{capability}").as_str()) {
                    format!(" (write CAP_{capability})")
                } else {
                    String::new()
                };
                return Err(ConfigError::new(
                    format!("Linux.Capabilities[{i}]"),
                    format!("{capability:?} is not a Linux capability the engine knows{hint}"),
                ));
            }
        }
        self.validate_settable()?;
        for (i, mount) in self.mounts.iter().enumerate() {
            if !mount.destination.starts_with('/') {
                return Err(ConfigError::new(
                    format!("Mounts[{i}].Destination"),
                    "must be an absolute path",
                ));
            }
        }
        Ok(())
    }

    fn validate_interface(&self) -> Result<(), ConfigError> {
        let socket = &self.interface.socket;
        if socket.is_empty() {
            return Err(ConfigError::new(
                "Interface.Socket",
                format!("missing: the socket's file name in {SOCKET_DIR}"),
            ));
        }
        if socket.contains('/') || socket == "." || socket == ".." || socket.contains('\0') {
            return Err(ConfigError::new(
                "Interface.Socket",
                format!(
                    "{socket:?} must be a file name (the engine looks for it in {SOCKET_DIR} of the rootfs), not a path"
                ),
            ));
        }
        if self.interface.types.is_empty() {
            return Err(ConfigError::new(
                "Interface.Types",
                "missing: what the plugin is for (e.g. docker.volumedriver/1.0)",
            ));
        }
        for (i, kind) in self.interface.types.iter().enumerate() {
            if !kind.is_known() {
                return Err(ConfigError::new(
                    format!("Interface.Types[{i}]"),
                    format!(
                        "{kind} is not a type the engine knows ({})",
                        InterfaceType::KNOWN.join(", ")
                    ),
                ));
            }
        }
        match self.interface.protocol_scheme.as_str() {
            "" | HTTP_PROTOCOL => Ok(()),
            other => Err(ConfigError::new(
                "Interface.ProtocolScheme",
                format!("{other:?}: this protocol is {HTTP_PROTOCOL}"),
            )),
        }
    }

    fn validate_settable(&self) -> Result<(), ConfigError> {
        let check = |field: String, settable: &[String], allowed: &str| match settable
            .iter()
            .find(|s| s.as_str() != allowed)
        {
            Some(other) => Err(ConfigError::new(
                field,
                format!("{other:?} cannot be settable here; only {allowed:?} can"),
            )),
            None => Ok(()),
        };
        check("Args.Settable".to_owned(), &self.args.settable, "value")?;
        for (i, env) in self.env.iter().enumerate() {
            if env.name.is_empty() {
                return Err(ConfigError::new(format!("Env[{i}].Name"), "missing"));
            }
            check(format!("Env[{i}].Settable"), &env.settable, "value")?;
        }
        for (i, mount) in self.mounts.iter().enumerate() {
            check(format!("Mounts[{i}].Settable"), &mount.settable, "source")?;
        }
        for (i, device) in self.linux.devices.iter().enumerate() {
            check(
                format!("Linux.Devices[{i}].Settable"),
                &device.settable,
                "path",
            )?;
        }
        Ok(())
    }

    /// [`validate`](Self::validate), and the rootfs beside it: the
    /// entrypoint is an executable file in `rootfs`, and [`SOCKET_DIR`] is a
    /// directory there.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the field, or the rootfs path that is wrong.
    pub fn validate_rootfs(&self, rootfs: &Path) -> Result<(), ConfigError> {
        self.validate()?;
        let program = self
            .entrypoint
            .first()
            .map(String::as_str)
            .unwrap_or_default();
        let path = if program.starts_with('/') {
            PathBuf::from(program)
        } else {
            Path::new(&self.work_dir).join(program)
        };
        let inside = within(rootfs, &path);
        use std::os::unix::fs::PermissionsExt as _;
        match std::fs::metadata(&inside) {
            Ok(meta) if meta.is_file() && meta.permissions().mode() & 0o111 != 0 => {}
            Ok(_) => {
                return Err(ConfigError::new(
                    "Entrypoint[0]",
                    format!("{} is not an executable file", inside.display()),
                ));
            }
            Err(e) => {
                return Err(ConfigError::new(
                    "Entrypoint[0]",
                    format!("{} is not in the rootfs ({e})", inside.display()),
                ));
            }
        }
        let sockets = within(rootfs, Path::new(SOCKET_DIR));
        if !sockets.is_dir() {
            return Err(ConfigError::new(
                "Interface.Socket",
                format!(
                    "{} is missing: the plugin makes its socket there",
                    sockets.display()
                ),
            ));
        }
        Ok(())
    }

    /// The socket's path inside the plugin: [`SOCKET_DIR`]`/Socket`.
    pub fn socket_path(&self) -> PathBuf {
        Path::new(SOCKET_DIR).join(&self.interface.socket)
    }
}

/// `path` (absolute, inside the plugin) under `rootfs`, never above it.
fn within(rootfs: &Path, path: &Path) -> PathBuf {
    let mut out = rootfs.to_owned();
    for component in path.components() {
        if let Component::Normal(part) = component {
            out.push(part);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of vieux/sshfs's config.json, a real volume plugin.
    const SSHFS: &str = r#"{
      "description": "sshFS plugin for Docker",
      "documentation": "https://docs.docker.com/engine/extend/plugins/",
      "entrypoint": ["/docker-volume-sshfs"],
      "env": [{"name": "DEBUG", "settable": ["value"], "value": "0"}],
      "interface": {"socket": "sshfs.sock", "types": ["docker.volumedriver/1.0"]},
      "linux": {"capabilities": ["CAP_SYS_ADMIN"], "devices": [{"path": "/dev/fuse"}]},
      "mounts": [{"destination": "/mnt/state", "options": ["rbind"], "name": "state",
                  "source": "/var/lib/docker/plugins/", "settable": ["source"], "type": "bind"}],
      "network": {"type": "host"},
      "propagatedmount": "/mnt/volumes"
    }"#;

    #[test]
    fn a_real_plugins_config_reads_and_round_trips_with_the_engines_names() {
        let config = PluginConfig::from_json(SSHFS).unwrap();
        assert_eq!(config.entrypoint, ["/docker-volume-sshfs"]);
        assert_eq!(config.interface.types[0].capability(), "volumedriver");
        assert_eq!(config.linux.devices[0].path.as_deref(), Some("/dev/fuse"));
        assert_eq!(config.mounts[0].settable, ["source"]);
        assert_eq!(config.propagated_mount, "/mnt/volumes");
        let text = config.to_json();
        assert!(
            text.contains("\"Types\": [\n      \"docker.volumedriver/1.0\"\n    ]"),
            "{text}"
        );
        assert!(
            text.contains("\"PropagatedMount\": \"/mnt/volumes\""),
            "{text}"
        );
        assert_eq!(PluginConfig::from_json(&text).unwrap(), config);
    }

    fn broken(change: impl FnOnce(&mut PluginConfig)) -> String {
        let mut config = PluginConfig::new("d", ["/p"], InterfaceType::VOLUME_DRIVER, "p.sock");
        change(&mut config);
        config.validate().unwrap_err().to_string()
    }

    #[test]
    fn every_rule_names_its_field() {
        assert_eq!(
            broken(|c| c.description.clear()),
            "config.json: Description: missing: say what the plugin does"
        );
        assert_eq!(
            broken(|c| c.entrypoint.clear()),
            "config.json: Entrypoint: missing: the program to run"
        );
        assert_eq!(
            broken(|c| c.entrypoint = vec!["p".into()]),
            "config.json: Entrypoint[0]: \"p\" is relative and no WorkDir is set; give an absolute path in the rootfs"
        );
        assert_eq!(
            broken(|c| c.work_dir = "w".into()),
            "config.json: WorkDir: must be an absolute path"
        );
        assert_eq!(
            broken(|c| c.interface.socket.clear()),
            "config.json: Interface.Socket: missing: the socket's file name in /run/docker/plugins"
        );
        assert_eq!(
            broken(|c| c.interface.socket = "a/p.sock".into()),
            "config.json: Interface.Socket: \"a/p.sock\" must be a file name (the engine looks for it in /run/docker/plugins of the rootfs), not a path"
        );
        assert_eq!(
            broken(|c| c.interface.types.clear()),
            "config.json: Interface.Types: missing: what the plugin is for (e.g. docker.volumedriver/1.0)"
        );
        assert_eq!(
            broken(|c| c.interface.types =
                vec![InterfaceType::parse("docker.volumedrivr/1.0").unwrap()]),
            format!(
                "config.json: Interface.Types[0]: docker.volumedrivr/1.0 is not a type the engine knows ({})",
                InterfaceType::KNOWN.join(", ")
            )
        );
        assert_eq!(
            broken(|c| c.interface.protocol_scheme = "grpc".into()),
            "config.json: Interface.ProtocolScheme: \"grpc\": this protocol is moby.plugins.http/v1"
        );
        assert_eq!(
            broken(|c| c.network.kind = "overlay".into()),
            "config.json: Network.Type: \"overlay\" is not one of none, host, bridge"
        );
        assert_eq!(
            broken(|c| {
                c.interface.types = vec![InterfaceType::parse(InterfaceType::LOG_DRIVER).unwrap()];
                c.propagated_mount = "/data".into();
            }),
            "config.json: PropagatedMount: only a volume driver (docker.volumedriver/1.0) has one"
        );
        assert_eq!(
            broken(|c| c.propagated_mount = "data".into()),
            "config.json: PropagatedMount: must be an absolute path"
        );
        assert_eq!(
            broken(|c| c.linux.capabilities = vec!["CAP_SYS_ADMIN".into(), "SYS_ADMIN".into()]),
            "config.json: Linux.Capabilities[1]: \"SYS_ADMIN\" is not a Linux capability the engine knows (write CAP_SYS_ADMIN)"
        );
        assert_eq!(
            broken(|c| c.linux.capabilities = vec!["CAP_EVERYTHING".into()]),
            "config.json: Linux.Capabilities[0]: \"CAP_EVERYTHING\" is not a Linux capability the engine knows"
        );
        assert_eq!(
            broken(|c| c.args.settable = vec!["name".into()]),
            "config.json: Args.Settable: \"name\" cannot be settable here; only \"value\" can"
        );
        assert_eq!(
            broken(|c| c.env = vec![Env::default()]),
            "config.json: Env[0].Name: missing"
        );
        assert_eq!(
            broken(|c| c.mounts = vec![Mount {
                destination: "/m".into(),
                settable: vec!["destination".into()],
                ..Mount::default()
            }]),
            "config.json: Mounts[0].Settable: \"destination\" cannot be settable here; only \"source\" can"
        );
        assert_eq!(
            broken(|c| c.mounts = vec![Mount {
                destination: "m".into(),
                ..Mount::default()
            }]),
            "config.json: Mounts[0].Destination: must be an absolute path"
        );
        assert_eq!(
            broken(|c| c.linux.devices = vec![Device {
                settable: vec!["name".into()],
                ..Device::default()
            }]),
            "config.json: Linux.Devices[0].Settable: \"name\" cannot be settable here; only \"path\" can"
        );
    }

    #[test]
    fn a_type_that_does_not_parse_is_named_as_given() {
        let config = PluginConfig::new("d", ["/p"], "volumedriver", "p.sock");
        assert_eq!(
            config.validate().unwrap_err().to_string(),
            format!(
                "config.json: Interface.Types[0]: volumedriver is not a type the engine knows ({})",
                InterfaceType::KNOWN.join(", ")
            )
        );
    }

    #[test]
    fn unknown_fields_and_bad_text_are_refused_naming_them() {
        let err = |text: &str| PluginConfig::from_json(text).unwrap_err().to_string();
        assert_eq!(
            err(r#"{"Description": "d", "Interface": {"Socket": "p.sock", "Typez": []}}"#),
            "config.json: Interface.Typez: unknown field (a typo? the engine would ignore it)"
        );
        assert_eq!(
            err(r#"{"Mounts": [{"Destination": "/m"}, {"Destinaton": "/m"}]}"#),
            "config.json: Mounts[1].Destinaton: unknown field (a typo? the engine would ignore it)"
        );
        assert_eq!(
            err(r#"{"Interface": {"Types": ["volumedriver"]}}"#),
            "config.json: a field has the wrong type: Interface.Types: \"volumedriver\" is not PREFIX.CAPABILITY/VERSION (e.g. docker.volumedriver/1.0)"
        );
        assert!(err("[]").ends_with("not a JSON object"));
        assert!(err("{").starts_with("config.json: not JSON: "));
    }

    #[test]
    fn the_rootfs_must_hold_the_entrypoint_and_the_socket_directory() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let config = PluginConfig::new("d", ["/bin/p"], InterfaceType::VOLUME_DRIVER, "p.sock");
        let rootfs = dir.path();
        let err = config.validate_rootfs(rootfs).unwrap_err();
        assert_eq!(err.field(), "Entrypoint[0]");
        assert!(err.problem().contains("is not in the rootfs"), "{err}");
        std::fs::create_dir_all(rootfs.join("bin")).unwrap();
        std::fs::write(rootfs.join("bin/p"), "#!/bin/sh\n").unwrap();
        assert!(
            config
                .validate_rootfs(rootfs)
                .unwrap_err()
                .problem()
                .ends_with("is not an executable file")
        );
        std::fs::set_permissions(rootfs.join("bin/p"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        assert_eq!(
            config.validate_rootfs(rootfs).unwrap_err().field(),
            "Interface.Socket"
        );
        std::fs::create_dir_all(rootfs.join("run/docker/plugins")).unwrap();
        config.validate_rootfs(rootfs).unwrap();
        assert_eq!(
            config.socket_path(),
            Path::new("/run/docker/plugins/p.sock")
        );
    }
}
