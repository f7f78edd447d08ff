//! `IpamDriver`: the plugin side, as a trait mounted on a `PluginServer`.

use std::future::Future;
use std::sync::Arc;

use plugin_server::{HandlerError, PluginServer};

use super::{
    AddressSpacesResponse, CapabilitiesResponse, GET_CAPABILITIES, GET_DEFAULT_ADDRESS_SPACES,
    IMPLEMENTS, RELEASE_ADDRESS, RELEASE_POOL, REQUEST_ADDRESS, REQUEST_POOL,
    ReleaseAddressRequest, ReleasePoolRequest, RequestAddressRequest, RequestAddressResponse,
    RequestPoolRequest, RequestPoolResponse,
};
use crate::mount::route;

/// An IPAM plugin. Mount it with
/// [`PluginServerExt::ipam_driver`](crate::PluginServerExt::ipam_driver).
///
/// Errors are answered 500 `{"Err": ...}`, which the engine reads (a 200 with
/// `Err` would be success to it). Pools and addresses are required;
/// capabilities default to none and address spaces to Docker's names.
pub trait IpamDriver: Send + Sync + 'static {
    /// `IpamDriver.GetCapabilities`; by default none.
    fn capabilities(
        &self,
    ) -> impl Future<Output = Result<CapabilitiesResponse, HandlerError>> + Send {
        async { Ok(CapabilitiesResponse::default()) }
    }

    /// `IpamDriver.GetDefaultAddressSpaces`; by default `LocalDefault` and
    /// `GlobalDefault`.
    fn default_address_spaces(
        &self,
    ) -> impl Future<Output = Result<AddressSpacesResponse, HandlerError>> + Send {
        async { Ok(AddressSpacesResponse::docker_defaults()) }
    }

    /// `IpamDriver.RequestPool`.
    fn request_pool(
        &self,
        request: RequestPoolRequest,
    ) -> impl Future<Output = Result<RequestPoolResponse, HandlerError>> + Send;

    /// `IpamDriver.ReleasePool`.
    fn release_pool(
        &self,
        request: ReleasePoolRequest,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;

    /// `IpamDriver.RequestAddress`.
    fn request_address(
        &self,
        request: RequestAddressRequest,
    ) -> impl Future<Output = Result<RequestAddressResponse, HandlerError>> + Send;

    /// `IpamDriver.ReleaseAddress`.
    fn release_address(
        &self,
        request: ReleaseAddressRequest,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;
}

pub(crate) fn mount<D: IpamDriver>(server: PluginServer, driver: D) -> PluginServer {
    let d = Arc::new(driver);
    let s = server.implements(IMPLEMENTS);
    let s = route(s, GET_CAPABILITIES, &d, |d, (): ()| async move {
        d.capabilities().await
    });
    let s = route(s, GET_DEFAULT_ADDRESS_SPACES, &d, |d, (): ()| async move {
        d.default_address_spaces().await
    });
    let s = route(s, REQUEST_POOL, &d, |d, r: RequestPoolRequest| async move {
        d.request_pool(r).await
    });
    let s = route(s, RELEASE_POOL, &d, |d, r: ReleasePoolRequest| async move {
        d.release_pool(r).await
    });
    let s = route(
        s,
        REQUEST_ADDRESS,
        &d,
        |d, r: RequestAddressRequest| async move { d.request_address(r).await },
    );
    route(
        s,
        RELEASE_ADDRESS,
        &d,
        |d, r: ReleaseAddressRequest| async move { d.release_address(r).await },
    )
}
