//! `NetworkDriver`: networks and endpoints a plugin creates for the engine
//! (libnetwork's remote driver).
//!
//! Field names and shapes are libnetwork's (`drivers/remote/api`), which has no
//! `omitempty`: every field is written. An empty map or list is written `{}` or
//! `[]` where Go writes `null` for a nil one; Go reads both alike. Address
//! formats matter to the engine: endpoint and IPAM addresses are CIDR
//! (`10.0.0.2/24`), `Join`'s gateways and a route's next hop plain IPs.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::go_json::go_struct;

#[cfg(feature = "client")]
mod client;
#[cfg(feature = "server")]
mod server;

#[cfg(feature = "client")]
pub use client::NetworkDriverClient;
#[cfg(feature = "server")]
pub use server::NetworkDriver;
#[cfg(feature = "server")]
pub(crate) use server::mount;

/// The subsystem's name in a manifest.
pub const IMPLEMENTS: &str = "NetworkDriver";
/// `NetworkDriver.GetCapabilities`: no body → [`CapabilitiesResponse`].
pub const GET_CAPABILITIES: &str = "NetworkDriver.GetCapabilities";
/// `NetworkDriver.GwAllocCheck` (Engine 28+, only when the driver advertises
/// `GwAllocChecker`): [`GwAllocCheckRequest`] → [`GwAllocCheckResponse`].
pub const GW_ALLOC_CHECK: &str = "NetworkDriver.GwAllocCheck";
/// `NetworkDriver.AllocateNetwork` (swarm managers): [`AllocateNetworkRequest`] → [`AllocateNetworkResponse`].
pub const ALLOCATE_NETWORK: &str = "NetworkDriver.AllocateNetwork";
/// `NetworkDriver.FreeNetwork` (swarm managers): [`FreeNetworkRequest`] → nothing.
pub const FREE_NETWORK: &str = "NetworkDriver.FreeNetwork";
/// `NetworkDriver.CreateNetwork`: [`CreateNetworkRequest`] → nothing.
pub const CREATE_NETWORK: &str = "NetworkDriver.CreateNetwork";
/// `NetworkDriver.DeleteNetwork`: [`DeleteNetworkRequest`] → nothing.
pub const DELETE_NETWORK: &str = "NetworkDriver.DeleteNetwork";
/// `NetworkDriver.CreateEndpoint`: [`CreateEndpointRequest`] → [`CreateEndpointResponse`].
pub const CREATE_ENDPOINT: &str = "NetworkDriver.CreateEndpoint";
/// `NetworkDriver.EndpointOperInfo`: [`EndpointInfoRequest`] → [`EndpointInfoResponse`].
pub const ENDPOINT_OPER_INFO: &str = "NetworkDriver.EndpointOperInfo";
/// `NetworkDriver.DeleteEndpoint`: [`DeleteEndpointRequest`] → nothing.
pub const DELETE_ENDPOINT: &str = "NetworkDriver.DeleteEndpoint";
/// `NetworkDriver.Join`: [`JoinRequest`] → [`JoinResponse`].
pub const JOIN: &str = "NetworkDriver.Join";
/// `NetworkDriver.Leave`: [`LeaveRequest`] → nothing.
pub const LEAVE: &str = "NetworkDriver.Leave";
/// `NetworkDriver.DiscoverNew`: [`DiscoveryNotification`] → nothing.
pub const DISCOVER_NEW: &str = "NetworkDriver.DiscoverNew";
/// `NetworkDriver.DiscoverDelete`: [`DiscoveryNotification`] → nothing.
pub const DISCOVER_DELETE: &str = "NetworkDriver.DiscoverDelete";
/// `NetworkDriver.ProgramExternalConnectivity` (a 404 is fine: optional):
/// [`ProgramExternalConnectivityRequest`] → nothing.
pub const PROGRAM_EXTERNAL_CONNECTIVITY: &str = "NetworkDriver.ProgramExternalConnectivity";
/// `NetworkDriver.RevokeExternalConnectivity` (a 404 is fine: optional):
/// [`RevokeExternalConnectivityRequest`] → nothing.
pub const REVOKE_EXTERNAL_CONNECTIVITY: &str = "NetworkDriver.RevokeExternalConnectivity";

/// A local-scope driver (`Scope`, `ConnectivityScope`).
pub const LOCAL_SCOPE: &str = "local";
/// A global-scope driver.
pub const GLOBAL_SCOPE: &str = "global";

go_struct! {
    /// The answer to `GetCapabilities`.
    pub struct CapabilitiesResponse {
        /// `local` or `global`, exactly: anything else and the engine does not
        /// register the driver.
        scope: String = "Scope",
        /// `local`, `global`, or empty for the same as `scope`.
        connectivity_scope: String = "ConnectivityScope",
        /// The driver answers `GwAllocCheck` (Engine 28+).
        gw_alloc_checker: bool = "GwAllocChecker",
    }
}

impl CapabilitiesResponse {
    /// A local driver.
    pub fn local() -> Self {
        Self {
            scope: LOCAL_SCOPE.to_owned(),
            connectivity_scope: LOCAL_SCOPE.to_owned(),
            gw_alloc_checker: false,
        }
    }

    /// Checks the scopes as the engine does.
    ///
    /// # Errors
    /// A message naming the bad value.
    pub fn validate(&self) -> Result<(), String> {
        if self.scope != LOCAL_SCOPE && self.scope != GLOBAL_SCOPE {
            return Err(format!(
                "invalid capability: expecting 'local' or 'global', got {:?}",
                self.scope
            ));
        }
        match self.connectivity_scope.as_str() {
            "" | LOCAL_SCOPE | GLOBAL_SCOPE => Ok(()),
            other => Err(format!(
                "invalid connectivity scope: expecting 'local', 'global' or empty, got {other:?}"
            )),
        }
    }
}

go_struct! {
    /// Whether a network needs gateway addresses (`GwAllocCheck`).
    pub struct GwAllocCheckRequest {
        /// The network's options, as `CreateNetwork` will get them.
        options: BTreeMap<String, Value> = "Options",
    }
}

go_struct! {
    /// The answer to `GwAllocCheck`.
    pub struct GwAllocCheckResponse {
        /// Do not reserve an IPv4 gateway address.
        skip_ipv4: bool = "SkipIPv4",
        /// Do not reserve an IPv6 gateway address.
        skip_ipv6: bool = "SkipIPv6",
    }
}

go_struct! {
    /// An address pool of a network (libnetwork's `IPAMData`): CIDR strings;
    /// `AuxAddresses`, `Gateway` and `Pool` are left out when unset, and keys
    /// come in alphabetical order, as the engine's own encoder (a map) writes
    /// them.
    pub struct IpamData {
        /// The address space the pool is from.
        address_space: String = "AddressSpace",
        /// Reserved addresses by name, each as CIDR.
        #[serde(skip_serializing_if = "Option::is_none")]
        aux_addresses: Option<BTreeMap<String, String>> = "AuxAddresses",
        /// The gateway, as an address with the pool's prefix length
        /// (`172.18.0.1/16`).
        #[serde(skip_serializing_if = "Option::is_none")]
        gateway: Option<String> = "Gateway",
        /// The pool, as CIDR.
        #[serde(skip_serializing_if = "Option::is_none")]
        pool: Option<String> = "Pool",
    }
}

go_struct! {
    /// Allocate a network (swarm managers).
    pub struct AllocateNetworkRequest {
        /// The network's id.
        network_id: String = "NetworkID",
        /// Free-form options.
        options: BTreeMap<String, String> = "Options",
        /// IPv4 pools.
        ipv4_data: Vec<IpamData> = "IPv4Data",
        /// IPv6 pools.
        ipv6_data: Vec<IpamData> = "IPv6Data",
    }
}

go_struct! {
    /// The answer to `AllocateNetwork`.
    pub struct AllocateNetworkResponse {
        /// Options handed to `CreateNetwork` on each node.
        options: BTreeMap<String, String> = "Options",
    }
}

go_struct! {
    /// Free an allocated network (swarm managers).
    pub struct FreeNetworkRequest {
        /// The network's id.
        network_id: String = "NetworkID",
    }
}

go_struct! {
    /// Create a network.
    pub struct CreateNetworkRequest {
        /// The network's id.
        network_id: String = "NetworkID",
        /// Options (`com.docker.network.generic` holds the user's `-o` ones).
        options: BTreeMap<String, Value> = "Options",
        /// IPv4 pools.
        ipv4_data: Vec<IpamData> = "IPv4Data",
        /// IPv6 pools.
        ipv6_data: Vec<IpamData> = "IPv6Data",
    }
}

go_struct! {
    /// Delete a network.
    pub struct DeleteNetworkRequest {
        /// The network's id.
        network_id: String = "NetworkID",
    }
}

go_struct! {
    /// An endpoint's interface: CIDR addresses and a MAC address, each empty
    /// when unset.
    pub struct EndpointInterface {
        /// IPv4 address, CIDR.
        address: String = "Address",
        /// IPv6 address, CIDR.
        address_ipv6: String = "AddressIPv6",
        /// MAC address, `aa:bb:cc:dd:ee:ff`.
        mac_address: String = "MacAddress",
    }
}

go_struct! {
    /// Create an endpoint.
    pub struct CreateEndpointRequest {
        /// The network's id.
        network_id: String = "NetworkID",
        /// The endpoint's id.
        endpoint_id: String = "EndpointID",
        /// The interface as the engine has it (always sent).
        interface: Option<EndpointInterface> = "Interface",
        /// Options.
        options: BTreeMap<String, Value> = "Options",
    }
}

go_struct! {
    /// The answer to `CreateEndpoint`: the interface fields the driver chose
    /// (only those the request left empty), or `null`.
    pub struct CreateEndpointResponse {
        /// The driver's choices.
        interface: Option<EndpointInterface> = "Interface",
    }
}

go_struct! {
    /// Ask about an endpoint (`EndpointOperInfo`).
    pub struct EndpointInfoRequest {
        /// The network's id.
        network_id: String = "NetworkID",
        /// The endpoint's id.
        endpoint_id: String = "EndpointID",
    }
}

go_struct! {
    /// The answer to `EndpointOperInfo`: free-form details.
    pub struct EndpointInfoResponse {
        /// Details shown by `docker network inspect`.
        value: BTreeMap<String, Value> = "Value",
    }
}

go_struct! {
    /// Delete an endpoint.
    pub struct DeleteEndpointRequest {
        /// The network's id.
        network_id: String = "NetworkID",
        /// The endpoint's id.
        endpoint_id: String = "EndpointID",
    }
}

go_struct! {
    /// Join an endpoint to a sandbox (a container's network namespace).
    pub struct JoinRequest {
        /// The network's id.
        network_id: String = "NetworkID",
        /// The endpoint's id.
        endpoint_id: String = "EndpointID",
        /// The sandbox's namespace path.
        sandbox_key: String = "SandboxKey",
        /// Options.
        options: BTreeMap<String, Value> = "Options",
    }
}

go_struct! {
    /// The interface the engine moves into the sandbox, and its new name.
    pub struct InterfaceName {
        /// The interface's name on the host.
        src_name: String = "SrcName",
        /// Its name in the sandbox (read but unused by the engine).
        dst_name: String = "DstName",
        /// The prefix of its name in the sandbox (`eth` gives `eth0`, ...).
        dst_prefix: String = "DstPrefix",
    }
}

go_struct! {
    /// A static route for the sandbox.
    pub struct StaticRoute {
        /// Destination, CIDR.
        destination: String = "Destination",
        /// 0: via a next hop; 1: connected.
        route_type: i64 = "RouteType",
        /// Next hop, a plain IP.
        next_hop: String = "NextHop",
    }
}

go_struct! {
    /// The answer to `Join`.
    pub struct JoinResponse {
        /// The interface to move into the sandbox, or `null`.
        interface_name: Option<InterfaceName> = "InterfaceName",
        /// IPv4 gateway, a plain IP (not CIDR).
        gateway: String = "Gateway",
        /// IPv6 gateway, a plain IP.
        gateway_ipv6: String = "GatewayIPv6",
        /// Routes to add.
        static_routes: Vec<StaticRoute> = "StaticRoutes",
        /// Do not connect the sandbox to the gateway network.
        disable_gateway_service: bool = "DisableGatewayService",
    }
}

go_struct! {
    /// Leave a sandbox.
    pub struct LeaveRequest {
        /// The network's id.
        network_id: String = "NetworkID",
        /// The endpoint's id.
        endpoint_id: String = "EndpointID",
    }
}

go_struct! {
    /// A discovery event (`DiscoverNew`, `DiscoverDelete`); the engine sends only
    /// node discovery (type 1).
    pub struct DiscoveryNotification {
        /// 1: node discovery (2, 3: encryption keys).
        discovery_type: i64 = "DiscoveryType",
        /// For node discovery: `{"Address", "BindAddress", "Self"}`.
        discovery_data: Value = "DiscoveryData",
    }
}

go_struct! {
    /// Program external connectivity (port mappings) for an endpoint.
    pub struct ProgramExternalConnectivityRequest {
        /// The network's id.
        network_id: String = "NetworkID",
        /// The endpoint's id.
        endpoint_id: String = "EndpointID",
        /// Options (the ones `Join` got).
        options: BTreeMap<String, Value> = "Options",
    }
}

go_struct! {
    /// Remove an endpoint's external connectivity.
    pub struct RevokeExternalConnectivityRequest {
        /// The network's id.
        network_id: String = "NetworkID",
        /// The endpoint's id.
        endpoint_id: String = "EndpointID",
    }
}
