//! `VolumeDriver`: volumes a plugin creates, mounts and removes for the engine.
//!
//! Requests are encoded as the engine encodes them (`daemon/volume/drivers/proxy.go`:
//! no `omitempty`, so `Opts` is `null` when absent); answers as go-plugins-helpers
//! encodes them (`volume/api.go`: `Mountpoint`, `CreatedAt` and `Status` of a
//! volume are left out when empty). Both decode any key case, as Go does.

use std::collections::BTreeMap;

use crate::go_json::go_struct;

#[cfg(feature = "client")]
mod client;
#[cfg(feature = "server")]
mod server;

#[cfg(feature = "client")]
pub use client::VolumeDriverClient;
#[cfg(feature = "server")]
pub use server::VolumeDriver;
#[cfg(feature = "server")]
pub(crate) use server::mount;

/// The subsystem's name in a manifest.
pub const IMPLEMENTS: &str = "VolumeDriver";
/// `VolumeDriver.Create`: [`CreateRequest`] → nothing.
pub const CREATE: &str = "VolumeDriver.Create";
/// `VolumeDriver.Remove`: [`RemoveRequest`] → nothing.
pub const REMOVE: &str = "VolumeDriver.Remove";
/// `VolumeDriver.Path`: [`PathRequest`] → [`PathResponse`].
pub const PATH: &str = "VolumeDriver.Path";
/// `VolumeDriver.Mount`: [`MountRequest`] → [`MountResponse`].
pub const MOUNT: &str = "VolumeDriver.Mount";
/// `VolumeDriver.Unmount`: [`UnmountRequest`] → nothing.
pub const UNMOUNT: &str = "VolumeDriver.Unmount";
/// `VolumeDriver.Get`: [`GetRequest`] → [`GetResponse`].
pub const GET: &str = "VolumeDriver.Get";
/// `VolumeDriver.List`: `{}` → [`ListResponse`].
pub const LIST: &str = "VolumeDriver.List";
/// `VolumeDriver.Capabilities`: `{}` → [`CapabilitiesResponse`].
pub const CAPABILITIES: &str = "VolumeDriver.Capabilities";

go_struct! {
    /// Create a volume: `{"Name": ..., "Opts": {...} | null}`.
    pub struct CreateRequest {
        /// The volume's name.
        name: String = "Name",
        /// Driver options (`docker volume create -o k=v`); `null` when none, as
        /// the engine sends it.
        opts: Option<BTreeMap<String, String>> = "Opts",
    }
}

go_struct! {
    /// Remove a volume: `{"Name": ...}`.
    pub struct RemoveRequest {
        /// The volume's name.
        name: String = "Name",
    }
}

go_struct! {
    /// Where a volume is mounted: `{"Name": ...}`.
    pub struct PathRequest {
        /// The volume's name.
        name: String = "Name",
    }
}

go_struct! {
    /// The answer to `Path`: `{"Mountpoint": ...}`.
    pub struct PathResponse {
        /// The host path of the mounted volume (empty when not mounted).
        mountpoint: String = "Mountpoint",
    }
}

go_struct! {
    /// Mount a volume for a container: `{"Name": ..., "ID": ...}`.
    pub struct MountRequest {
        /// The volume's name.
        name: String = "Name",
        /// A unique id for this use of the volume.
        id: String = "ID",
    }
}

go_struct! {
    /// The answer to `Mount`: `{"Mountpoint": ...}`.
    pub struct MountResponse {
        /// The host path where the volume is mounted.
        mountpoint: String = "Mountpoint",
    }
}

go_struct! {
    /// Unmount a volume: `{"Name": ..., "ID": ...}` (the id given to `Mount`).
    pub struct UnmountRequest {
        /// The volume's name.
        name: String = "Name",
        /// The id the volume was mounted with.
        id: String = "ID",
    }
}

go_struct! {
    /// Describe a volume: `{"Name": ...}`.
    pub struct GetRequest {
        /// The volume's name.
        name: String = "Name",
    }
}

go_struct! {
    /// The answer to `Get`: `{"Volume": {...} | null}`; `null` means no such
    /// volume (the engine then reports "no such volume").
    pub struct GetResponse {
        /// The volume, if it exists.
        volume: Option<Volume> = "Volume",
    }
}

go_struct! {
    /// The answer to `List`: `{"Volumes": [...]}`. (A Go plugin with no volumes
    /// answers `null`, read here as an empty list.)
    pub struct ListResponse {
        /// The volumes. The engine uses only their names and mountpoints.
        volumes: Vec<Volume> = "Volumes",
    }
}

go_struct! {
    /// The answer to `Capabilities`: `{"Capabilities": {"Scope": ...}}`.
    pub struct CapabilitiesResponse {
        /// The driver's capabilities.
        capabilities: Capability = "Capabilities",
    }
}

impl CapabilitiesResponse {
    /// A driver whose volumes exist on one host only.
    pub fn local() -> Self {
        Self {
            capabilities: Capability {
                scope: LOCAL_SCOPE.to_owned(),
            },
        }
    }

    /// A driver whose volumes are the same on every host of a cluster.
    pub fn global() -> Self {
        Self {
            capabilities: Capability {
                scope: GLOBAL_SCOPE.to_owned(),
            },
        }
    }
}

/// Volumes exist on one host.
pub const LOCAL_SCOPE: &str = "local";
/// Volumes exist cluster-wide.
pub const GLOBAL_SCOPE: &str = "global";

go_struct! {
    /// A driver's capabilities: `{"Scope": "local" | "global"}`.
    pub struct Capability {
        /// `local` or `global`.
        scope: String = "Scope",
    }
}

impl Capability {
    /// The scope as the engine reads it: `global` in any case is global;
    /// anything else (empty, unknown) is local.
    pub fn effective_scope(&self) -> &'static str {
        if self.scope.eq_ignore_ascii_case(GLOBAL_SCOPE) {
            GLOBAL_SCOPE
        } else {
            LOCAL_SCOPE
        }
    }
}

go_struct! {
    /// A volume: `{"Name", "Mountpoint", "CreatedAt", "Status"}`, the last three
    /// left out when empty, as go-plugins-helpers writes them.
    pub struct Volume {
        /// The volume's name.
        name: String = "Name",
        /// Where it is mounted, if it is.
        #[serde(skip_serializing_if = "String::is_empty")]
        mountpoint: String = "Mountpoint",
        /// When it was created, as an RFC 3339 string. The engine reads no
        /// other format, not even `""`, which is why it is left out when empty.
        #[serde(skip_serializing_if = "String::is_empty")]
        created_at: String = "CreatedAt",
        /// Driver-specific status, shown by `docker volume inspect`.
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        status: BTreeMap<String, serde_json::Value> = "Status",
    }
}
