//! `IpamDriverClient`: the host side of `IpamDriver`.

use plugin_client::{ClientError, ErrorField};

use super::{
    AddressSpacesResponse, CapabilitiesResponse, GET_CAPABILITIES, GET_DEFAULT_ADDRESS_SPACES,
    RELEASE_ADDRESS, RELEASE_POOL, REQUEST_ADDRESS, REQUEST_POOL, ReleaseAddressRequest,
    ReleasePoolRequest, RequestAddressRequest, RequestAddressResponse, RequestPoolRequest,
    RequestPoolResponse,
};
use crate::typed_client::typed_client;
use plugin_client::ClientService;

typed_client! {
    /// Calls an IPAM plugin as libnetwork does: a 200 answer whose `Error` (not
    /// `Err`) is set is a failure; `GetCapabilities` and
    /// `GetDefaultAddressSpaces` are sent without a body.
    IpamDriverClient(Some(ErrorField::Error))
}

impl<S: ClientService> IpamDriverClient<S> {
    /// `IpamDriver.GetCapabilities`.
    ///
    /// # Errors
    /// The plugin's error, or the call's (the engine then registers the
    /// driver without capabilities).
    pub async fn capabilities(&self) -> Result<CapabilitiesResponse, ClientError> {
        self.client.call(GET_CAPABILITIES, &()).await
    }

    /// `IpamDriver.GetDefaultAddressSpaces`.
    ///
    /// # Errors
    /// The plugin's error, or the call's.
    pub async fn default_address_spaces(&self) -> Result<AddressSpacesResponse, ClientError> {
        self.client.call(GET_DEFAULT_ADDRESS_SPACES, &()).await
    }

    /// `IpamDriver.RequestPool`.
    ///
    /// # Errors
    /// The plugin's error, or the call's.
    pub async fn request_pool(
        &self,
        request: &RequestPoolRequest,
    ) -> Result<RequestPoolResponse, ClientError> {
        self.client.call(REQUEST_POOL, request).await
    }

    /// `IpamDriver.ReleasePool`.
    ///
    /// # Errors
    /// The plugin's error, or the call's.
    pub async fn release_pool(&self, request: &ReleasePoolRequest) -> Result<(), ClientError> {
        self.client
            .call::<_, serde_json::Value>(RELEASE_POOL, request)
            .await
            .map(drop)
    }

    /// `IpamDriver.RequestAddress`.
    ///
    /// # Errors
    /// The plugin's error, or the call's.
    pub async fn request_address(
        &self,
        request: &RequestAddressRequest,
    ) -> Result<RequestAddressResponse, ClientError> {
        self.client.call(REQUEST_ADDRESS, request).await
    }

    /// `IpamDriver.ReleaseAddress`.
    ///
    /// # Errors
    /// The plugin's error, or the call's.
    pub async fn release_address(
        &self,
        request: &ReleaseAddressRequest,
    ) -> Result<(), ClientError> {
        self.client
            .call::<_, serde_json::Value>(RELEASE_ADDRESS, request)
            .await
            .map(drop)
    }
}
