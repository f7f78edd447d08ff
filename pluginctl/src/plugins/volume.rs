//! `demo-volume`: an in-memory VolumeDriver built on plugin-subsystems.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::SystemTime;

use plugin_server::HandlerError;
use plugin_subsystems::volume::{self, VolumeDriver};

/// The volumes, by name.
#[derive(Default)]
pub(crate) struct Memory {
    volumes: Mutex<BTreeMap<String, volume::Volume>>,
}

impl Memory {
    fn with<T>(
        &self,
        f: impl FnOnce(&mut BTreeMap<String, volume::Volume>) -> Result<T, HandlerError>,
    ) -> Result<T, HandlerError> {
        let mut volumes = self
            .volumes
            .lock()
            .map_err(|_| HandlerError::new("the volume table is unavailable"))?;
        f(&mut volumes)
    }
}

fn missing(name: &str) -> HandlerError {
    HandlerError::new(format!("no such volume: {name}"))
}

impl VolumeDriver for Memory {
    async fn create(&self, request: volume::CreateRequest) -> Result<(), HandlerError> {
        self.with(|volumes| {
            if volumes.contains_key(&request.name) {
                return Err(HandlerError::new(format!(
                    "volume {} already exists",
                    request.name
                )));
            }
            let status = request
                .opts
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, serde_json::Value::String(v)))
                .collect();
            let created_at = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
            let volume = volume::Volume {
                name: request.name.clone(),
                created_at,
                status,
                ..volume::Volume::default()
            };
            volumes.insert(request.name, volume);
            Ok(())
        })
    }

    async fn remove(&self, request: volume::RemoveRequest) -> Result<(), HandlerError> {
        self.with(|volumes| {
            volumes
                .remove(&request.name)
                .map(drop)
                .ok_or_else(|| missing(&request.name))
        })
    }

    async fn path(
        &self,
        request: volume::PathRequest,
    ) -> Result<volume::PathResponse, HandlerError> {
        self.with(|volumes| {
            let volume = volumes
                .get(&request.name)
                .ok_or_else(|| missing(&request.name))?;
            Ok(volume::PathResponse {
                mountpoint: volume.mountpoint.clone(),
            })
        })
    }

    async fn mount(
        &self,
        request: volume::MountRequest,
    ) -> Result<volume::MountResponse, HandlerError> {
        self.with(|volumes| {
            let volume = volumes
                .get_mut(&request.name)
                .ok_or_else(|| missing(&request.name))?;
            volume.mountpoint = format!("/var/lib/demo-volume/{}", request.name);
            Ok(volume::MountResponse {
                mountpoint: volume.mountpoint.clone(),
            })
        })
    }

    async fn unmount(&self, request: volume::UnmountRequest) -> Result<(), HandlerError> {
        self.with(|volumes| {
            let volume = volumes
                .get_mut(&request.name)
                .ok_or_else(|| missing(&request.name))?;
            volume.mountpoint.clear();
            Ok(())
        })
    }

    async fn get(&self, request: volume::GetRequest) -> Result<volume::GetResponse, HandlerError> {
        self.with(|volumes| {
            Ok(volume::GetResponse {
                volume: volumes.get(&request.name).cloned(),
            })
        })
    }

    async fn list(&self) -> Result<volume::ListResponse, HandlerError> {
        self.with(|volumes| {
            Ok(volume::ListResponse {
                volumes: volumes.values().cloned().collect(),
            })
        })
    }
}
