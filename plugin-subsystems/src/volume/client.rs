//! `VolumeDriverClient`: the host side of `VolumeDriver`.

use std::collections::BTreeMap;

use plugin_client::{ClientError, ErrorField};

use super::{
    CAPABILITIES, CREATE, CapabilitiesResponse, Capability, CreateRequest, GET, GetRequest,
    GetResponse, LIST, ListResponse, MOUNT, MountRequest, MountResponse, PATH, PathRequest,
    PathResponse, REMOVE, RemoveRequest, UNMOUNT, UnmountRequest, Volume,
};
use crate::typed_client::typed_client;
use plugin_client::ClientService;

typed_client! {
    /// Calls a volume plugin as the engine does: the engine's request bodies, and
    /// a 200 answer whose `Err` is set is a failure ([`ClientError::Reported`]).
    ///
    /// ```no_run
    /// use plugin_subsystems::volume::VolumeDriverClient;
    /// use plugin_client::{Client, ClientConfig, PluginSpec};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let spec = PluginSpec::from_socket("sshfs".parse()?, "/run/docker/plugins/sshfs.sock")?;
    /// let volumes = VolumeDriverClient::new(Client::for_spec(&spec, &ClientConfig::default())?);
    /// volumes.create("data", None).await?;
    /// let mountpoint = volumes.mount("data", "container-1").await?;
    /// # Ok(()) }
    /// ```
    VolumeDriverClient(Some(ErrorField::Err))
}

impl<S: ClientService> VolumeDriverClient<S> {
    /// `VolumeDriver.Create`.
    ///
    /// # Errors
    /// The plugin's error, or the call's.
    pub async fn create(
        &self,
        name: &str,
        opts: Option<BTreeMap<String, String>>,
    ) -> Result<(), ClientError> {
        let request = CreateRequest {
            name: name.to_owned(),
            opts,
        };
        self.client
            .call::<_, serde_json::Value>(CREATE, &request)
            .await
            .map(drop)
    }

    /// `VolumeDriver.Remove`.
    ///
    /// # Errors
    /// The plugin's error, or the call's.
    pub async fn remove(&self, name: &str) -> Result<(), ClientError> {
        let request = RemoveRequest {
            name: name.to_owned(),
        };
        self.client
            .call::<_, serde_json::Value>(REMOVE, &request)
            .await
            .map(drop)
    }

    /// `VolumeDriver.Path`: where the volume is mounted (empty when it is not).
    ///
    /// # Errors
    /// The plugin's error, or the call's.
    pub async fn path(&self, name: &str) -> Result<String, ClientError> {
        let request = PathRequest {
            name: name.to_owned(),
        };
        let answer: PathResponse = self.client.call(PATH, &request).await?;
        Ok(answer.mountpoint)
    }

    /// `VolumeDriver.Mount`: mounts the volume for `id`; returns where.
    ///
    /// # Errors
    /// The plugin's error, or the call's.
    pub async fn mount(&self, name: &str, id: &str) -> Result<String, ClientError> {
        let request = MountRequest {
            name: name.to_owned(),
            id: id.to_owned(),
        };
        let answer: MountResponse = self.client.call(MOUNT, &request).await?;
        Ok(answer.mountpoint)
    }

    /// `VolumeDriver.Unmount`.
    ///
    /// # Errors
    /// The plugin's error, or the call's.
    pub async fn unmount(&self, name: &str, id: &str) -> Result<(), ClientError> {
        let request = UnmountRequest {
            name: name.to_owned(),
            id: id.to_owned(),
        };
        self.client
            .call::<_, serde_json::Value>(UNMOUNT, &request)
            .await
            .map(drop)
    }

    /// `VolumeDriver.Get`: the volume, or `None` when the plugin has no such
    /// volume.
    ///
    /// # Errors
    /// The plugin's error, or the call's.
    pub async fn get(&self, name: &str) -> Result<Option<Volume>, ClientError> {
        let request = GetRequest {
            name: name.to_owned(),
        };
        let answer: GetResponse = self.client.call(GET, &request).await?;
        Ok(answer.volume)
    }

    /// `VolumeDriver.List` (sends `{}`, as the engine does).
    ///
    /// # Errors
    /// The plugin's error, or the call's.
    pub async fn list(&self) -> Result<Vec<Volume>, ClientError> {
        let answer: ListResponse = self.client.call(LIST, &serde_json::json!({})).await?;
        Ok(answer.volumes)
    }

    /// `VolumeDriver.Capabilities`, read as the engine reads it: an error or a
    /// 404 means local scope, as does an empty or unknown scope.
    ///
    /// # Errors
    /// Never for a plugin's answer; only the raw answer is available through
    /// [`capabilities_raw`](Self::capabilities_raw).
    pub async fn capabilities(&self) -> Capability {
        match self.capabilities_raw().await {
            Ok(answer) => Capability {
                scope: answer.capabilities.effective_scope().to_owned(),
            },
            Err(_) => Capability {
                scope: super::LOCAL_SCOPE.to_owned(),
            },
        }
    }

    /// `VolumeDriver.Capabilities` as answered.
    ///
    /// # Errors
    /// The plugin's error, or the call's.
    pub async fn capabilities_raw(&self) -> Result<CapabilitiesResponse, ClientError> {
        self.client.call(CAPABILITIES, &serde_json::json!({})).await
    }
}
