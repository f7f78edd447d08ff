//! `NetworkDriverClient`: the host side of `NetworkDriver`.

use plugin_client::{ClientError, ErrorField};

use super::{
    ALLOCATE_NETWORK, AllocateNetworkRequest, AllocateNetworkResponse, CREATE_ENDPOINT,
    CREATE_NETWORK, CapabilitiesResponse, CreateEndpointRequest, CreateEndpointResponse,
    CreateNetworkRequest, DELETE_ENDPOINT, DELETE_NETWORK, DISCOVER_DELETE, DISCOVER_NEW,
    DeleteEndpointRequest, DeleteNetworkRequest, DiscoveryNotification, ENDPOINT_OPER_INFO,
    EndpointInfoRequest, EndpointInfoResponse, FREE_NETWORK, FreeNetworkRequest, GET_CAPABILITIES,
    GW_ALLOC_CHECK, GwAllocCheckRequest, GwAllocCheckResponse, JOIN, JoinRequest, JoinResponse,
    LEAVE, LeaveRequest, PROGRAM_EXTERNAL_CONNECTIVITY, ProgramExternalConnectivityRequest,
    REVOKE_EXTERNAL_CONNECTIVITY, RevokeExternalConnectivityRequest,
};
use crate::typed_client::typed_client;
use plugin_client::ClientService;

typed_client! {
    /// Calls a network plugin as libnetwork's remote driver does: a 200 answer
    /// whose `Err` is set is a failure; `GetCapabilities` is sent without a
    /// body; a 404 to `ProgramExternalConnectivity` or
    /// `RevokeExternalConnectivity` is success (they are optional).
    NetworkDriverClient(Some(ErrorField::Err))
}

impl<S: ClientService> NetworkDriverClient<S> {
    /// `NetworkDriver.GetCapabilities`, checked as the engine checks it.
    ///
    /// # Errors
    /// The plugin's error, the call's, or [`ClientError::Reported`] for a
    /// scope the engine would refuse.
    pub async fn capabilities(&self) -> Result<CapabilitiesResponse, ClientError> {
        let answer: CapabilitiesResponse = self.client.call(GET_CAPABILITIES, &()).await?;
        answer.validate().map_err(|message| ClientError::Reported {
            plugin: self.client.plugin().clone(),
            method: GET_CAPABILITIES.to_owned(),
            message,
        })?;
        Ok(answer)
    }

    /// `NetworkDriver.GwAllocCheck`.
    ///
    /// # Errors
    /// The plugin's error, or the call's.
    pub async fn gw_alloc_check(
        &self,
        request: &GwAllocCheckRequest,
    ) -> Result<GwAllocCheckResponse, ClientError> {
        self.client.call(GW_ALLOC_CHECK, request).await
    }

    /// `NetworkDriver.AllocateNetwork`.
    ///
    /// # Errors
    /// The plugin's error, or the call's.
    pub async fn allocate_network(
        &self,
        request: &AllocateNetworkRequest,
    ) -> Result<AllocateNetworkResponse, ClientError> {
        self.client.call(ALLOCATE_NETWORK, request).await
    }

    /// `NetworkDriver.FreeNetwork`.
    ///
    /// # Errors
    /// The plugin's error, or the call's.
    pub async fn free_network(&self, request: &FreeNetworkRequest) -> Result<(), ClientError> {
        self.unit(FREE_NETWORK, request).await
    }

    /// `NetworkDriver.CreateNetwork`.
    ///
    /// # Errors
    /// The plugin's error, or the call's.
    pub async fn create_network(&self, request: &CreateNetworkRequest) -> Result<(), ClientError> {
        self.unit(CREATE_NETWORK, request).await
    }

    /// `NetworkDriver.DeleteNetwork`.
    ///
    /// # Errors
    /// The plugin's error, or the call's.
    pub async fn delete_network(&self, request: &DeleteNetworkRequest) -> Result<(), ClientError> {
        self.unit(DELETE_NETWORK, request).await
    }

    /// `NetworkDriver.CreateEndpoint`.
    ///
    /// # Errors
    /// The plugin's error, or the call's.
    pub async fn create_endpoint(
        &self,
        request: &CreateEndpointRequest,
    ) -> Result<CreateEndpointResponse, ClientError> {
        self.client.call(CREATE_ENDPOINT, request).await
    }

    /// `NetworkDriver.EndpointOperInfo`.
    ///
    /// # Errors
    /// The plugin's error, or the call's.
    pub async fn endpoint_info(
        &self,
        request: &EndpointInfoRequest,
    ) -> Result<EndpointInfoResponse, ClientError> {
        self.client.call(ENDPOINT_OPER_INFO, request).await
    }

    /// `NetworkDriver.DeleteEndpoint`.
    ///
    /// # Errors
    /// The plugin's error, or the call's.
    pub async fn delete_endpoint(
        &self,
        request: &DeleteEndpointRequest,
    ) -> Result<(), ClientError> {
        self.unit(DELETE_ENDPOINT, request).await
    }

    /// `NetworkDriver.Join`.
    ///
    /// # Errors
    /// The plugin's error, or the call's.
    pub async fn join(&self, request: &JoinRequest) -> Result<JoinResponse, ClientError> {
        self.client.call(JOIN, request).await
    }

    /// `NetworkDriver.Leave`.
    ///
    /// # Errors
    /// The plugin's error, or the call's.
    pub async fn leave(&self, request: &LeaveRequest) -> Result<(), ClientError> {
        self.unit(LEAVE, request).await
    }

    /// `NetworkDriver.DiscoverNew`.
    ///
    /// # Errors
    /// The plugin's error, or the call's.
    pub async fn discover_new(&self, request: &DiscoveryNotification) -> Result<(), ClientError> {
        self.unit(DISCOVER_NEW, request).await
    }

    /// `NetworkDriver.DiscoverDelete`.
    ///
    /// # Errors
    /// The plugin's error, or the call's.
    pub async fn discover_delete(
        &self,
        request: &DiscoveryNotification,
    ) -> Result<(), ClientError> {
        self.unit(DISCOVER_DELETE, request).await
    }

    /// `NetworkDriver.ProgramExternalConnectivity`; a 404 (not implemented)
    /// is success.
    ///
    /// # Errors
    /// The plugin's error, or the call's.
    pub async fn program_external_connectivity(
        &self,
        request: &ProgramExternalConnectivityRequest,
    ) -> Result<(), ClientError> {
        optional(self.unit(PROGRAM_EXTERNAL_CONNECTIVITY, request).await)
    }

    /// `NetworkDriver.RevokeExternalConnectivity`; a 404 (not implemented)
    /// is success.
    ///
    /// # Errors
    /// The plugin's error, or the call's.
    pub async fn revoke_external_connectivity(
        &self,
        request: &RevokeExternalConnectivityRequest,
    ) -> Result<(), ClientError> {
        optional(self.unit(REVOKE_EXTERNAL_CONNECTIVITY, request).await)
    }

    async fn unit<Req: serde::Serialize>(
        &self,
        method: &str,
        request: &Req,
    ) -> Result<(), ClientError> {
        self.client
            .call::<_, serde_json::Value>(method, request)
            .await
            .map(drop)
    }
}

/// An optional method: "not implemented" is fine.
fn optional(result: Result<(), ClientError>) -> Result<(), ClientError> {
    match result {
        Err(error) if error.is_not_implemented() => Ok(()),
        other => other,
    }
}
