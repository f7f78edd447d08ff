//! `NetworkDriver`: the plugin side, as a trait mounted on a `PluginServer`.

use std::future::Future;
use std::sync::Arc;

use plugin_server::{HandlerError, PluginServer};

use super::{
    ALLOCATE_NETWORK, AllocateNetworkRequest, AllocateNetworkResponse, CREATE_ENDPOINT,
    CREATE_NETWORK, CapabilitiesResponse, CreateEndpointRequest, CreateEndpointResponse,
    CreateNetworkRequest, DELETE_ENDPOINT, DELETE_NETWORK, DISCOVER_DELETE, DISCOVER_NEW,
    DeleteEndpointRequest, DeleteNetworkRequest, DiscoveryNotification, ENDPOINT_OPER_INFO,
    EndpointInfoRequest, EndpointInfoResponse, FREE_NETWORK, FreeNetworkRequest, GET_CAPABILITIES,
    GW_ALLOC_CHECK, GwAllocCheckRequest, GwAllocCheckResponse, IMPLEMENTS, JOIN, JoinRequest,
    JoinResponse, LEAVE, LeaveRequest, PROGRAM_EXTERNAL_CONNECTIVITY,
    ProgramExternalConnectivityRequest, REVOKE_EXTERNAL_CONNECTIVITY,
    RevokeExternalConnectivityRequest,
};
use crate::mount::route;

/// A network plugin. Mount it with
/// [`PluginServerExt::network_driver`](crate::PluginServerExt::network_driver).
///
/// Networks, endpoints and joins are required; the rest have defaults: local
/// scope, no gateway-allocation opinion, nothing to allocate or free, no
/// endpoint details, and discovery and external connectivity accepted as
/// no-ops.
pub trait NetworkDriver: Send + Sync + 'static {
    /// `NetworkDriver.GetCapabilities`; by default local scope.
    fn capabilities(
        &self,
    ) -> impl Future<Output = Result<CapabilitiesResponse, HandlerError>> + Send {
        async { Ok(CapabilitiesResponse::local()) }
    }

    /// `NetworkDriver.GwAllocCheck` (called only when the capabilities say
    /// `GwAllocChecker`); by default gateways are allocated.
    fn gw_alloc_check(
        &self,
        request: GwAllocCheckRequest,
    ) -> impl Future<Output = Result<GwAllocCheckResponse, HandlerError>> + Send {
        let _ = request;
        async { Ok(GwAllocCheckResponse::default()) }
    }

    /// `NetworkDriver.AllocateNetwork` (swarm managers); by default no options.
    fn allocate_network(
        &self,
        request: AllocateNetworkRequest,
    ) -> impl Future<Output = Result<AllocateNetworkResponse, HandlerError>> + Send {
        let _ = request;
        async { Ok(AllocateNetworkResponse::default()) }
    }

    /// `NetworkDriver.FreeNetwork` (swarm managers); by default nothing to do.
    fn free_network(
        &self,
        request: FreeNetworkRequest,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send {
        let _ = request;
        async { Ok(()) }
    }

    /// `NetworkDriver.CreateNetwork`.
    fn create_network(
        &self,
        request: CreateNetworkRequest,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;

    /// `NetworkDriver.DeleteNetwork`.
    fn delete_network(
        &self,
        request: DeleteNetworkRequest,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;

    /// `NetworkDriver.CreateEndpoint`.
    fn create_endpoint(
        &self,
        request: CreateEndpointRequest,
    ) -> impl Future<Output = Result<CreateEndpointResponse, HandlerError>> + Send;

    /// `NetworkDriver.EndpointOperInfo`; by default no details.
    fn endpoint_info(
        &self,
        request: EndpointInfoRequest,
    ) -> impl Future<Output = Result<EndpointInfoResponse, HandlerError>> + Send {
        let _ = request;
        async { Ok(EndpointInfoResponse::default()) }
    }

    /// `NetworkDriver.DeleteEndpoint`.
    fn delete_endpoint(
        &self,
        request: DeleteEndpointRequest,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;

    /// `NetworkDriver.Join`.
    fn join(
        &self,
        request: JoinRequest,
    ) -> impl Future<Output = Result<JoinResponse, HandlerError>> + Send;

    /// `NetworkDriver.Leave`.
    fn leave(&self, request: LeaveRequest)
    -> impl Future<Output = Result<(), HandlerError>> + Send;

    /// `NetworkDriver.DiscoverNew`; by default ignored.
    fn discover_new(
        &self,
        notification: DiscoveryNotification,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send {
        let _ = notification;
        async { Ok(()) }
    }

    /// `NetworkDriver.DiscoverDelete`; by default ignored.
    fn discover_delete(
        &self,
        notification: DiscoveryNotification,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send {
        let _ = notification;
        async { Ok(()) }
    }

    /// `NetworkDriver.ProgramExternalConnectivity`; by default nothing to do.
    fn program_external_connectivity(
        &self,
        request: ProgramExternalConnectivityRequest,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send {
        let _ = request;
        async { Ok(()) }
    }

    /// `NetworkDriver.RevokeExternalConnectivity`; by default nothing to do.
    fn revoke_external_connectivity(
        &self,
        request: RevokeExternalConnectivityRequest,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send {
        let _ = request;
        async { Ok(()) }
    }
}

pub(crate) fn mount<D: NetworkDriver>(server: PluginServer, driver: D) -> PluginServer {
    let d = Arc::new(driver);
    let s = server.implements(IMPLEMENTS);
    let s = route(s, GET_CAPABILITIES, &d, |d, (): ()| async move {
        d.capabilities().await
    });
    let s = route(
        s,
        GW_ALLOC_CHECK,
        &d,
        |d, r: GwAllocCheckRequest| async move { d.gw_alloc_check(r).await },
    );
    let s = route(
        s,
        ALLOCATE_NETWORK,
        &d,
        |d, r: AllocateNetworkRequest| async move { d.allocate_network(r).await },
    );
    let s = route(s, FREE_NETWORK, &d, |d, r: FreeNetworkRequest| async move {
        d.free_network(r).await
    });
    let s = route(
        s,
        CREATE_NETWORK,
        &d,
        |d, r: CreateNetworkRequest| async move { d.create_network(r).await },
    );
    let s = route(
        s,
        DELETE_NETWORK,
        &d,
        |d, r: DeleteNetworkRequest| async move { d.delete_network(r).await },
    );
    let s = route(
        s,
        CREATE_ENDPOINT,
        &d,
        |d, r: CreateEndpointRequest| async move { d.create_endpoint(r).await },
    );
    let s = route(
        s,
        ENDPOINT_OPER_INFO,
        &d,
        |d, r: EndpointInfoRequest| async move { d.endpoint_info(r).await },
    );
    let s = route(
        s,
        DELETE_ENDPOINT,
        &d,
        |d, r: DeleteEndpointRequest| async move { d.delete_endpoint(r).await },
    );
    let s = route(
        s,
        JOIN,
        &d,
        |d, r: JoinRequest| async move { d.join(r).await },
    );
    let s = route(s, LEAVE, &d, |d, r: LeaveRequest| async move {
        d.leave(r).await
    });
    let s = route(
        s,
        DISCOVER_NEW,
        &d,
        |d, r: DiscoveryNotification| async move { d.discover_new(r).await },
    );
    let s = route(
        s,
        DISCOVER_DELETE,
        &d,
        |d, r: DiscoveryNotification| async move { d.discover_delete(r).await },
    );
    let s = route(
        s,
        PROGRAM_EXTERNAL_CONNECTIVITY,
        &d,
        |d, r: ProgramExternalConnectivityRequest| async move {
            d.program_external_connectivity(r).await
        },
    );
    route(
        s,
        REVOKE_EXTERNAL_CONNECTIVITY,
        &d,
        |d, r: RevokeExternalConnectivityRequest| async move { d.revoke_external_connectivity(r).await },
    )
}
