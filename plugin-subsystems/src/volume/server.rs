//! `VolumeDriver`: the plugin side, as a trait mounted on a `PluginServer`.

use std::future::Future;
use std::sync::Arc;

use plugin_server::{HandlerError, PluginServer};

use super::{
    CAPABILITIES, CREATE, CapabilitiesResponse, CreateRequest, GET, GetRequest, GetResponse,
    IMPLEMENTS, LIST, ListResponse, MOUNT, MountRequest, MountResponse, PATH, PathRequest,
    PathResponse, REMOVE, RemoveRequest, UNMOUNT, UnmountRequest,
};
use crate::mount::route;

/// A volume plugin. Mount it with
/// [`PluginServerExt::volume_driver`](crate::PluginServerExt::volume_driver).
///
/// Each method answers one call; an `Err` is answered as go-plugins-helpers
/// does: status 500 with `{"Err": "<message>"}`. `capabilities` has a default
/// (local scope).
pub trait VolumeDriver: Send + Sync + 'static {
    /// `VolumeDriver.Create`.
    fn create(
        &self,
        request: CreateRequest,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;

    /// `VolumeDriver.Remove`.
    fn remove(
        &self,
        request: RemoveRequest,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;

    /// `VolumeDriver.Path`.
    fn path(
        &self,
        request: PathRequest,
    ) -> impl Future<Output = Result<PathResponse, HandlerError>> + Send;

    /// `VolumeDriver.Mount`.
    fn mount(
        &self,
        request: MountRequest,
    ) -> impl Future<Output = Result<MountResponse, HandlerError>> + Send;

    /// `VolumeDriver.Unmount`.
    fn unmount(
        &self,
        request: UnmountRequest,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;

    /// `VolumeDriver.Get`.
    fn get(
        &self,
        request: GetRequest,
    ) -> impl Future<Output = Result<GetResponse, HandlerError>> + Send;

    /// `VolumeDriver.List`.
    fn list(&self) -> impl Future<Output = Result<ListResponse, HandlerError>> + Send;

    /// `VolumeDriver.Capabilities`; by default, local scope.
    fn capabilities(
        &self,
    ) -> impl Future<Output = Result<CapabilitiesResponse, HandlerError>> + Send {
        async { Ok(CapabilitiesResponse::local()) }
    }
}

pub(crate) fn mount<D: VolumeDriver>(server: PluginServer, driver: D) -> PluginServer {
    let d = Arc::new(driver);
    let server = server.implements(IMPLEMENTS);
    let server = route(server, CREATE, &d, |d, r: CreateRequest| async move {
        d.create(r).await
    });
    let server = route(server, REMOVE, &d, |d, r: RemoveRequest| async move {
        d.remove(r).await
    });
    let server = route(server, PATH, &d, |d, r: PathRequest| async move {
        d.path(r).await
    });
    let server = route(server, MOUNT, &d, |d, r: MountRequest| async move {
        d.mount(r).await
    });
    let server = route(server, UNMOUNT, &d, |d, r: UnmountRequest| async move {
        d.unmount(r).await
    });
    let server = route(
        server,
        GET,
        &d,
        |d, r: GetRequest| async move { d.get(r).await },
    );
    let server = route(server, LIST, &d, |d, (): ()| async move { d.list().await });
    route(server, CAPABILITIES, &d, |d, (): ()| async move {
        d.capabilities().await
    })
}
