//! The `config.json` model: [`PluginConfig`] and its parts, with the
//! engine's field names, and the checks of [`PluginConfig::validate`].

use std::fmt;
use std::io;
use std::path::{Component, Path, PathBuf};

use plugin_spec::{DOCKER_SOCKET_DIR, SocketName, SocketNameRule};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// The protocol scheme of a plugin that speaks this protocol (HTTP, JSON).
pub const HTTP_PROTOCOL: &str = "moby.plugins.http/v1";

/// What the engine uses a plugin for: `PREFIX.CAPABILITY/VERSION` in
/// `Interface.Types`, e.g. `docker.volumedriver/1.0`.
///
/// The engine's own types (prefix `docker`) are the variants; any other
/// well-formed type, which the engine accepts and ignores (a host of your
/// own may read it), is [`InterfaceType::Other`]. [`PluginConfig::validate`]
/// refuses an `Other` in the `docker` namespace: the engine knows no such
/// type, so it is a typo (`docker.volumedrivr/1.0`) and the plugin would
/// never be used. See docs/protocol.md for what each subsystem speaks.
///
/// ```
/// use plugin_managed::InterfaceType;
///
/// let kind: InterfaceType = "docker.volumedriver/1.0".parse()?;
/// assert_eq!(kind, InterfaceType::VolumeDriver);
/// assert_eq!(kind.capability(), "volumedriver");
/// let own = InterfaceType::parse("example.backup/2.1")?;
/// assert_eq!(own.to_string(), "example.backup/2.1");
/// assert!(!own.is_known());
/// # Ok::<(), plugin_managed::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InterfaceType {
    /// `docker.volumedriver/1.0`.
    VolumeDriver,
    /// `docker.networkdriver/1.0`.
    NetworkDriver,
    /// `docker.ipamdriver/1.0`.
    IpamDriver,
    /// `docker.authz/1.0`.
    Authz,
    /// `docker.logdriver/1.0`.
    LogDriver,
    /// `docker.metricscollector/1.0`: offered to managed plugins only.
    MetricsCollector,
    /// `docker.secretprovider/1.0`.
    SecretProvider,
    /// Any other `PREFIX.CAPABILITY/VERSION`, as given (checked for that
    /// shape by [`parse`](InterfaceType::parse)).
    Other(String),
}

impl InterfaceType {
    /// The engine's types, in the order docs/protocol.md lists them.
    pub const KNOWN: [InterfaceType; 7] = [
        Self::VolumeDriver,
        Self::NetworkDriver,
        Self::IpamDriver,
        Self::Authz,
        Self::LogDriver,
        Self::MetricsCollector,
        Self::SecretProvider,
    ];

    /// Parses `PREFIX.CAPABILITY/VERSION`, as the engine splits it (the
    /// prefix up to the first `.`, the version after the last `/`): one of
    /// the engine's types, or [`Other`](InterfaceType::Other).
    ///
    /// # Errors
    /// [`ConfigError`] naming `Interface.Types` when the text has no `.` or no
    /// `/`, or a part is empty.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        if let Some(known) = Self::KNOWN.iter().find(|k| k.as_str() == text) {
            return Ok(known.clone());
        }
        let parts = text
            .rsplit_once('/')
            .and_then(|(rest, version)| Some((rest.split_once('.')?, version)));
        match parts {
            Some(((prefix, capability), version))
                if !prefix.is_empty() && !capability.is_empty() && !version.is_empty() =>
            {
                Ok(Self::Other(text.to_owned()))
            }
            _ => Err(ConfigError::new(
                "Interface.Types",
                format!("{text:?} is not PREFIX.CAPABILITY/VERSION (e.g. docker.volumedriver/1.0)"),
            )),
        }
    }

    /// The text in `config.json`: `docker.volumedriver/1.0`, ...
    pub fn as_str(&self) -> &str {
        match self {
            Self::VolumeDriver => "docker.volumedriver/1.0",
            Self::NetworkDriver => "docker.networkdriver/1.0",
            Self::IpamDriver => "docker.ipamdriver/1.0",
            Self::Authz => "docker.authz/1.0",
            Self::LogDriver => "docker.logdriver/1.0",
            Self::MetricsCollector => "docker.metricscollector/1.0",
            Self::SecretProvider => "docker.secretprovider/1.0",
            Self::Other(text) => text,
        }
    }

    fn split(&self) -> (&str, &str, &str) {
        let text = self.as_str();
        let (rest, version) = text.rsplit_once('/').unwrap_or((text, ""));
        let (prefix, capability) = rest.split_once('.').unwrap_or((rest, ""));
        (prefix, capability, version)
    }

    /// `docker` for the engine's own types.
    pub fn prefix(&self) -> &str {
        self.split().0
    }

    /// `volumedriver`, `networkdriver`, ...
    pub fn capability(&self) -> &str {
        self.split().1
    }

    /// `1.0`.
    pub fn version(&self) -> &str {
        self.split().2
    }

    /// Whether this is one of the engine's types (not [`Other`](InterfaceType::Other)).
    pub fn is_known(&self) -> bool {
        !matches!(self, Self::Other(_))
    }
}

impl fmt::Display for InterfaceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for InterfaceType {
    type Err = ConfigError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl Serialize for InterfaceType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for InterfaceType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Defines a `config.json` object: each field with its JSON name, `Default`,
/// `Serialize` and `Deserialize` by exact names. [`PluginConfig::from_json`]
/// first renames keys given in another case (Go matches them so) and drops
/// `null`s (Go leaves the zero value), then decodes.
macro_rules! config_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                $field:ident : $ty:ty = $json:literal
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[serde(default)]
        pub struct $name {
            $(
                $(#[$fmeta])*
                #[serde(rename = $json)]
                pub $field: $ty,
            )*
        }
    };
}

config_struct! {
    /// `Interface`: how the engine reaches the plugin.
    pub struct Interface {
        /// `ProtocolScheme`: empty or [`HTTP_PROTOCOL`].
        #[serde(skip_serializing_if = "String::is_empty")]
        protocol_scheme: String = "ProtocolScheme",
        /// `Socket`: a file name ([`SocketName`]) in
        /// [`DOCKER_SOCKET_DIR`] of the rootfs.
        socket: String = "Socket",
        /// `Types`: what the plugin is for.
        types: Vec<InterfaceType> = "Types",
    }
}

config_struct! {
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

config_struct! {
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

config_struct! {
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

config_struct! {
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

config_struct! {
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

config_struct! {
    /// `Network`.
    pub struct Network {
        /// `Type`: empty or `none` (a network namespace of its own), `host`,
        /// `bridge`.
        kind: String = "Type",
    }
}

config_struct! {
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

config_struct! {
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

config_struct! {
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

fn known_list() -> String {
    InterfaceType::KNOWN
        .iter()
        .map(InterfaceType::as_str)
        .collect::<Vec<_>>()
        .join(", ")
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

/// The field and the problem (`Interface.Socket: ...`); the file is the
/// caller's to name ([`ReadError`] does).
impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.problem)
        } else {
            write!(f, "{}: {}", self.field, self.problem)
        }
    }
}

impl std::error::Error for ConfigError {}

/// A `config.json` file that could not be read, or is not a valid config:
/// names the file; the cause (an I/O error, or the [`ConfigError`] naming the
/// field) is its [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The file could not be read.
    #[error("cannot read {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The file is not a valid `config.json`.
    #[error("invalid plugin config {}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The field and what is wrong with it.
        source: ConfigError,
    },
}

impl ReadError {
    /// The file.
    pub fn path(&self) -> &Path {
        match self {
            Self::Io { path, .. } | Self::Invalid { path, .. } => path,
        }
    }

    /// What is wrong with the config, when it was read.
    pub fn config_error(&self) -> Option<&ConfigError> {
        match self {
            Self::Invalid { source, .. } => Some(source),
            Self::Io { .. } => None,
        }
    }
}

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

/// Renames each key to its field's name (Go matches keys in any case),
/// drops `null`s (Go leaves the zero value), and refuses keys no field has:
/// the engine would silently ignore a misspelt `Entrypiont`.
fn normalize(value: &mut Value, schema_path: &str, shown: &str) -> Result<(), ConfigError> {
    match value {
        Value::Object(object) => {
            let Some((_, fields)) = SCHEMA.iter().find(|(path, _)| *path == schema_path) else {
                return Ok(());
            };
            let taken = std::mem::take(object);
            for (key, mut value) in taken {
                // Go prefers an exact match, then any in another case.
                let field = fields
                    .iter()
                    .find(|f| **f == key)
                    .or_else(|| fields.iter().find(|f| f.eq_ignore_ascii_case(&key)))
                    .ok_or_else(|| {
                        ConfigError::new(
                            join(shown, &key),
                            "unknown field (a typo? the engine would ignore it)",
                        )
                    })?;
                if value.is_null() {
                    continue;
                }
                let inner = if schema_path.is_empty() {
                    (*field).to_owned()
                } else {
                    format!("{schema_path}.{field}")
                };
                normalize(&mut value, &inner, &join(shown, field))?;
                if key == *field || !object.contains_key(*field) {
                    object.insert((*field).to_owned(), value);
                }
            }
            Ok(())
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                normalize(item, &format!("{schema_path}[]"), &format!("{shown}[{i}]"))?;
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
    /// interface type and the socket's file name in [`DOCKER_SOCKET_DIR`]. The plugin
    /// gets a network namespace of its own (no network), no capabilities
    /// and no mounts; set the fields for more.
    pub fn new(
        description: impl Into<String>,
        entrypoint: impl IntoIterator<Item = impl Into<String>>,
        interface_type: InterfaceType,
        socket: SocketName,
    ) -> Self {
        Self {
            description: description.into(),
            entrypoint: entrypoint.into_iter().map(Into::into).collect(),
            interface: Interface {
                protocol_scheme: String::new(),
                socket: socket.to_string(),
                types: vec![interface_type],
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

    /// Reads a `config.json`'s text as the engine does (keys in any case,
    /// `null` as the zero value), refusing unknown fields and checking every
    /// rule of [`validate`](Self::validate). (The derived `Deserialize`
    /// takes the exact field names only and checks nothing.)
    ///
    /// # Errors
    /// [`ConfigError`] naming the field: not JSON, an unknown field, a field
    /// of the wrong type, or a rule broken.
    pub fn from_json(text: &str) -> Result<Self, ConfigError> {
        let mut value: Value = serde_json::from_str(text)
            .map_err(|e| ConfigError::new("", format!("not JSON: {e}")))?;
        if !value.is_object() {
            return Err(ConfigError::new("", "not a JSON object"));
        }
        normalize(&mut value, "", "")?;
        let config: Self = serde_json::from_value(value)
            .map_err(|e| ConfigError::new("", format!("a field has the wrong type: {e}")))?;
        config.validate()?;
        Ok(config)
    }

    /// Reads the `config.json` file at `path`, as [`from_json`](Self::from_json).
    ///
    /// # Errors
    /// [`ReadError`] naming the file, with the I/O error or the
    /// [`ConfigError`] as its source.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, ReadError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ReadError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_json(&text).map_err(|source| ReadError::Invalid {
            path: path.to_owned(),
            source,
        })
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
            let volume = self.interface.types.contains(&InterfaceType::VolumeDriver);
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
        match SocketNameRule::check(socket) {
            None => {}
            Some(SocketNameRule::Empty) => {
                return Err(ConfigError::new(
                    "Interface.Socket",
                    format!("missing: the socket's file name in {DOCKER_SOCKET_DIR}"),
                ));
            }
            Some(rule) => {
                return Err(ConfigError::new(
                    "Interface.Socket",
                    format!("{socket:?}: {rule}"),
                ));
            }
        }
        if let Some((field, named)) = self.entrypoint_socket_arg() {
            if named != socket {
                return Err(ConfigError::new(
                    field,
                    format!(
                        "names the socket {named:?}, but Interface.Socket is {socket:?} (the engine waits for that one); give one name in both"
                    ),
                ));
            }
        }
        if self.interface.types.is_empty() {
            return Err(ConfigError::new(
                "Interface.Types",
                "missing: what the plugin is for (e.g. docker.volumedriver/1.0)",
            ));
        }
        for (i, kind) in self.interface.types.iter().enumerate() {
            if !kind.is_known() && kind.prefix() == "docker" {
                return Err(ConfigError::new(
                    format!("Interface.Types[{i}]"),
                    format!(
                        "{kind} is not a type the engine knows ({}); a type of your own takes a prefix of your own",
                        known_list()
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
    /// entrypoint is an executable file in `rootfs`, and
    /// [`DOCKER_SOCKET_DIR`] is a directory there.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the field, or the rootfs path that is wrong.
    pub fn validate_rootfs(&self, rootfs: &Path) -> Result<(), ConfigError> {
        self.validate()?;
        let path = self.entrypoint_path();
        let inside = within(rootfs, &path);
        use std::os::unix::fs::PermissionsExt as _;
        match std::fs::metadata(&inside) {
            Ok(meta) if meta.is_file() && meta.permissions().mode() & 0o111 != 0 => {}
            Ok(_) => {
                return Err(ConfigError::new(
                    "Entrypoint[0]",
                    format!("{} is not an executable file", path.display()),
                ));
            }
            Err(e) => {
                return Err(ConfigError::new(
                    "Entrypoint[0]",
                    format!("{} is not in the rootfs ({e})", path.display()),
                ));
            }
        }
        let sockets = within(rootfs, Path::new(DOCKER_SOCKET_DIR));
        if !sockets.is_dir() {
            return Err(ConfigError::new(
                "Interface.Socket",
                format!(
                    "{DOCKER_SOCKET_DIR} is not in the rootfs: the plugin makes its socket there"
                ),
            ));
        }
        Ok(())
    }

    /// The program's path inside the plugin: `Entrypoint[0]`, under
    /// `WorkDir` when relative.
    pub fn entrypoint_path(&self) -> PathBuf {
        let program = self
            .entrypoint
            .first()
            .map(String::as_str)
            .unwrap_or_default();
        if program.starts_with('/') {
            PathBuf::from(program)
        } else {
            Path::new(&self.work_dir).join(program)
        }
    }

    /// The socket's path inside the plugin: [`DOCKER_SOCKET_DIR`]`/Socket`.
    pub fn socket_path(&self) -> PathBuf {
        Path::new(DOCKER_SOCKET_DIR).join(&self.interface.socket)
    }

    /// The socket the entrypoint's arguments (or `Args.Value`) name, if
    /// any: the first argument that is a file name ending in `.sock`, or a
    /// path in [`DOCKER_SOCKET_DIR`], alone or after `=` (`--socket=p.sock`).
    /// [`validate`](Self::validate) refuses a config where it differs from
    /// `Interface.Socket`: the plugin would listen where the engine does not
    /// look.
    pub fn entrypoint_socket(&self) -> Option<&str> {
        self.entrypoint_socket_arg().map(|(_, name)| name)
    }

    fn entrypoint_socket_arg(&self) -> Option<(String, &str)> {
        let arguments = self
            .entrypoint
            .iter()
            .enumerate()
            .skip(1)
            .map(|(i, a)| (format!("Entrypoint[{i}]"), a))
            .chain(
                self.args
                    .value
                    .iter()
                    .enumerate()
                    .map(|(i, a)| (format!("Args.Value[{i}]"), a)),
            );
        for (field, argument) in arguments {
            let value = argument
                .split_once('=')
                .map_or(argument.as_str(), |(_, v)| v);
            let name = match value.strip_prefix(DOCKER_SOCKET_DIR) {
                Some(rest) => rest.strip_prefix('/').filter(|n| !n.contains('/')),
                None => Some(value).filter(|v| v.ends_with(".sock") && !v.contains('/')),
            };
            if let Some(name) = name.filter(|n| !n.is_empty()) {
                return Some((field, name));
            }
        }
        None
    }
}

/// `path` (absolute, inside the plugin) under `rootfs`, `..` taken as the
/// plugin would (its directories are real ones), never above `rootfs`.
pub(crate) fn within(rootfs: &Path, path: &Path) -> PathBuf {
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => parts.push(part),
            Component::ParentDir => {
                parts.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    let mut out = rootfs.to_owned();
    out.extend(parts);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sock(name: &str) -> SocketName {
        SocketName::new(name).unwrap()
    }

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
        let mut config =
            PluginConfig::new("d", ["/p"], InterfaceType::VolumeDriver, sock("p.sock"));
        change(&mut config);
        config.validate().unwrap_err().to_string()
    }

    #[test]
    fn every_rule_names_its_field() {
        assert_eq!(
            broken(|c| c.description.clear()),
            "Description: missing: say what the plugin does"
        );
        assert_eq!(
            broken(|c| c.entrypoint.clear()),
            "Entrypoint: missing: the program to run"
        );
        assert_eq!(
            broken(|c| c.entrypoint = vec!["p".into()]),
            "Entrypoint[0]: \"p\" is relative and no WorkDir is set; give an absolute path in the rootfs"
        );
        assert_eq!(
            broken(|c| c.work_dir = "w".into()),
            "WorkDir: must be an absolute path"
        );
        assert_eq!(
            broken(|c| c.interface.socket.clear()),
            "Interface.Socket: missing: the socket's file name in /run/docker/plugins"
        );
        assert_eq!(
            broken(|c| c.interface.socket = "a/p.sock".into()),
            "Interface.Socket: \"a/p.sock\": it contains `/`; a plugin's socket is a file name in /run/docker/plugins, not a path"
        );
        assert_eq!(
            broken(|c| c.interface.socket = "..".into()),
            "Interface.Socket: \"..\": `.` and `..` name directories, not sockets"
        );
        assert_eq!(
            broken(|c| c.interface.types.clear()),
            "Interface.Types: missing: what the plugin is for (e.g. docker.volumedriver/1.0)"
        );
        assert_eq!(
            broken(|c| c.interface.types =
                vec![InterfaceType::parse("docker.volumedrivr/1.0").unwrap()]),
            format!(
                "Interface.Types[0]: docker.volumedrivr/1.0 is not a type the engine knows ({}); a type of your own takes a prefix of your own",
                known_list()
            )
        );
        assert_eq!(
            broken(|c| c.interface.protocol_scheme = "grpc".into()),
            "Interface.ProtocolScheme: \"grpc\": this protocol is moby.plugins.http/v1"
        );
        assert_eq!(
            broken(|c| c.network.kind = "overlay".into()),
            "Network.Type: \"overlay\" is not one of none, host, bridge"
        );
        assert_eq!(
            broken(|c| {
                c.interface.types = vec![InterfaceType::LogDriver];
                c.propagated_mount = "/data".into();
            }),
            "PropagatedMount: only a volume driver (docker.volumedriver/1.0) has one"
        );
        assert_eq!(
            broken(|c| c.propagated_mount = "data".into()),
            "PropagatedMount: must be an absolute path"
        );
        assert_eq!(
            broken(|c| c.linux.capabilities = vec!["CAP_SYS_ADMIN".into(), "SYS_ADMIN".into()]),
            "Linux.Capabilities[1]: \"SYS_ADMIN\" is not a Linux capability the engine knows (write CAP_SYS_ADMIN)"
        );
        assert_eq!(
            broken(|c| c.linux.capabilities = vec!["CAP_EVERYTHING".into()]),
            "Linux.Capabilities[0]: \"CAP_EVERYTHING\" is not a Linux capability the engine knows"
        );
        assert_eq!(
            broken(|c| c.args.settable = vec!["name".into()]),
            "Args.Settable: \"name\" cannot be settable here; only \"value\" can"
        );
        assert_eq!(
            broken(|c| c.env = vec![Env::default()]),
            "Env[0].Name: missing"
        );
        assert_eq!(
            broken(|c| c.mounts = vec![Mount {
                destination: "/m".into(),
                settable: vec!["destination".into()],
                ..Mount::default()
            }]),
            "Mounts[0].Settable: \"destination\" cannot be settable here; only \"source\" can"
        );
        assert_eq!(
            broken(|c| c.mounts = vec![Mount {
                destination: "m".into(),
                ..Mount::default()
            }]),
            "Mounts[0].Destination: must be an absolute path"
        );
        assert_eq!(
            broken(|c| c.linux.devices = vec![Device {
                settable: vec!["name".into()],
                ..Device::default()
            }]),
            "Linux.Devices[0].Settable: \"name\" cannot be settable here; only \"path\" can"
        );
    }

    #[test]
    fn types_are_the_engines_or_well_formed_ones_of_your_own() {
        for known in InterfaceType::KNOWN {
            assert_eq!(InterfaceType::parse(known.as_str()).unwrap(), known);
            assert_eq!(known.prefix(), "docker");
            assert_eq!(known.version(), "1.0");
        }
        assert_eq!(InterfaceType::LogDriver.capability(), "logdriver");
        let own = InterfaceType::parse("example.backup.v2/2.1").unwrap();
        assert_eq!(own, InterfaceType::Other("example.backup.v2/2.1".into()));
        assert_eq!(
            (own.prefix(), own.capability(), own.version()),
            ("example", "backup.v2", "2.1")
        );
        let mut config = PluginConfig::new("d", ["/p"], own, sock("p.sock"));
        config.validate().unwrap();
        for bad in [
            "volumedriver",
            "docker.volumedriver",
            ".x/1",
            "a./1",
            "a.b/",
        ] {
            assert_eq!(
                InterfaceType::parse(bad).unwrap_err().to_string(),
                format!(
                    "Interface.Types: {bad:?} is not PREFIX.CAPABILITY/VERSION (e.g. docker.volumedriver/1.0)"
                )
            );
        }
        config.interface.types = vec![InterfaceType::Other("docker.csi/1.0".into())];
        assert_eq!(config.validate().unwrap_err().field(), "Interface.Types[0]");
    }

    #[test]
    fn the_entrypoint_and_interface_socket_must_agree() {
        let agreeing = |args: &[&str]| {
            let entrypoint = std::iter::once("/p").chain(args.iter().copied());
            PluginConfig::new("d", entrypoint, InterfaceType::VolumeDriver, sock("p.sock"))
        };
        for args in [
            &["--socket", "p.sock"][..],
            &["--socket=p.sock"],
            &["--listen", "/run/docker/plugins/p.sock"],
            &["--state", "/data", "--docker", "/run/docker.sock"],
            &[],
        ] {
            let config = agreeing(args);
            config.validate().unwrap();
            let named = args.iter().any(|a| a.ends_with("p.sock"));
            assert_eq!(
                config.entrypoint_socket(),
                named.then_some("p.sock"),
                "{args:?}"
            );
        }
        assert_eq!(
            agreeing(&["--managed", "q.sock"])
                .validate()
                .unwrap_err()
                .to_string(),
            "Entrypoint[2]: names the socket \"q.sock\", but Interface.Socket is \"p.sock\" (the engine waits for that one); give one name in both"
        );
        assert_eq!(
            agreeing(&["--socket=/run/docker/plugins/q.sock"])
                .validate()
                .unwrap_err()
                .field(),
            "Entrypoint[1]"
        );
        let mut config = agreeing(&[]);
        config.args.value = vec!["q.sock".into()];
        assert_eq!(config.validate().unwrap_err().field(), "Args.Value[0]");
    }

    #[test]
    fn keys_in_any_case_and_nulls_read_as_go_reads_them() {
        let config = PluginConfig::from_json(
            r#"{"description": "d", "ENTRYPOINT": ["/p"], "Documentation": null,
                "interface": {"socket": "p.sock", "types": ["docker.authz/1.0"]},
                "Env": [{"name": "A", "value": null}]}"#,
        )
        .unwrap();
        assert_eq!(config.entrypoint, ["/p"]);
        assert_eq!(config.interface.types, [InterfaceType::Authz]);
        assert_eq!(config.env[0].value, None);
        assert!(config.documentation.is_empty());
    }

    #[test]
    fn a_file_that_is_not_a_config_names_the_file_once_and_the_field_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, r#"{"Description": "d", "Entrypiont": ["/p"]}"#).unwrap();
        let err = PluginConfig::read(&path).unwrap_err();
        assert_eq!(err.path(), path);
        assert_eq!(err.config_error().unwrap().field(), "Entrypiont");
        assert_eq!(
            plugin_test_support::errors::chain(&err),
            format!(
                "invalid plugin config {}: Entrypiont: unknown field (a typo? the engine would ignore it)",
                path.display()
            )
        );
        plugin_test_support::errors::assert_each_cause_once(&err);
        let missing = dir.path().join("none.json");
        let err = PluginConfig::read(&missing).unwrap_err();
        assert!(matches!(err, ReadError::Io { .. }));
        assert_eq!(
            err.to_string(),
            format!("cannot read {}", missing.display())
        );
    }

    #[test]
    fn unknown_fields_and_bad_text_are_refused_naming_them() {
        let err = |text: &str| PluginConfig::from_json(text).unwrap_err().to_string();
        assert_eq!(
            err(r#"{"Description": "d", "Interface": {"Socket": "p.sock", "Typez": []}}"#),
            "Interface.Typez: unknown field (a typo? the engine would ignore it)"
        );
        assert_eq!(
            err(r#"{"Mounts": [{"Destination": "/m"}, {"Destinaton": "/m"}]}"#),
            "Mounts[1].Destinaton: unknown field (a typo? the engine would ignore it)"
        );
        assert_eq!(
            err(r#"{"Interface": {"Types": ["volumedriver"]}}"#),
            "a field has the wrong type: Interface.Types: \"volumedriver\" is not PREFIX.CAPABILITY/VERSION (e.g. docker.volumedriver/1.0)"
        );
        assert!(err("[]").ends_with("not a JSON object"));
        assert!(err("{").starts_with("not JSON: "));
    }

    #[test]
    fn the_rootfs_must_hold_the_entrypoint_and_the_socket_directory() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let config =
            PluginConfig::new("d", ["/bin/p"], InterfaceType::VolumeDriver, sock("p.sock"));
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
