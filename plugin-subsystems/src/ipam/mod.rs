//! `IpamDriver`: address pools and addresses a plugin hands out to networks.
//!
//! Shapes are libnetwork's (`ipams/remote/api`): no `omitempty`. On a 200
//! answer the engine looks for an error in `Error` (not `Err`, as every other
//! subsystem does); any other status carries `Err`, as everywhere. Pools and
//! addresses in answers are CIDR; a requested address is a plain IP.

use std::collections::BTreeMap;

use crate::go_json::go_struct;

#[cfg(feature = "client")]
mod client;
#[cfg(feature = "server")]
mod server;

#[cfg(feature = "client")]
pub use client::IpamDriverClient;
#[cfg(feature = "server")]
pub use server::IpamDriver;
#[cfg(feature = "server")]
pub(crate) use server::mount;

/// The subsystem's name in a manifest.
pub const IMPLEMENTS: &str = "IpamDriver";
/// `IpamDriver.GetCapabilities`: no body → [`CapabilitiesResponse`].
pub const GET_CAPABILITIES: &str = "IpamDriver.GetCapabilities";
/// `IpamDriver.GetDefaultAddressSpaces`: no body → [`AddressSpacesResponse`].
pub const GET_DEFAULT_ADDRESS_SPACES: &str = "IpamDriver.GetDefaultAddressSpaces";
/// `IpamDriver.RequestPool`: [`RequestPoolRequest`] → [`RequestPoolResponse`].
pub const REQUEST_POOL: &str = "IpamDriver.RequestPool";
/// `IpamDriver.ReleasePool`: [`ReleasePoolRequest`] → nothing.
pub const RELEASE_POOL: &str = "IpamDriver.ReleasePool";
/// `IpamDriver.RequestAddress`: [`RequestAddressRequest`] → [`RequestAddressResponse`].
pub const REQUEST_ADDRESS: &str = "IpamDriver.RequestAddress";
/// `IpamDriver.ReleaseAddress`: [`ReleaseAddressRequest`] → nothing.
pub const RELEASE_ADDRESS: &str = "IpamDriver.ReleaseAddress";

/// The `Options`/`Data` key naming the gateway (`com.docker.network.gateway`).
pub const GATEWAY_KEY: &str = "com.docker.network.gateway";
/// The `RequestAddress` option saying what the address is for.
pub const REQUEST_ADDRESS_TYPE: &str = "RequestAddressType";
/// The `RequestAddress` option carrying the endpoint's MAC address.
pub const MAC_ADDRESS_KEY: &str = "com.docker.network.endpoint.macaddress";

go_struct! {
    /// The answer to `GetCapabilities`.
    pub struct CapabilitiesResponse {
        /// `RequestAddress` must carry the endpoint's MAC address.
        requires_mac_address: bool = "RequiresMACAddress",
        /// The engine must replay pool and address requests at start.
        requires_request_replay: bool = "RequiresRequestReplay",
    }
}

go_struct! {
    /// The answer to `GetDefaultAddressSpaces`.
    pub struct AddressSpacesResponse {
        /// The address space for local networks.
        local_default_address_space: String = "LocalDefaultAddressSpace",
        /// The address space for global networks.
        global_default_address_space: String = "GlobalDefaultAddressSpace",
    }
}

impl AddressSpacesResponse {
    /// Docker's own names: `LocalDefault` and `GlobalDefault`.
    pub fn docker_defaults() -> Self {
        Self {
            local_default_address_space: "LocalDefault".to_owned(),
            global_default_address_space: "GlobalDefault".to_owned(),
        }
    }
}

go_struct! {
    /// Ask for an address pool.
    pub struct RequestPoolRequest {
        /// The address space.
        address_space: String = "AddressSpace",
        /// The pool wanted, CIDR, or empty for any.
        pool: String = "Pool",
        /// A sub-pool to allocate from, CIDR, or empty.
        sub_pool: String = "SubPool",
        /// Options (`--ipam-opt`).
        options: BTreeMap<String, String> = "Options",
        /// An IPv6 pool.
        v6: bool = "V6",
    }
}

go_struct! {
    /// The answer to `RequestPool`.
    pub struct RequestPoolResponse {
        /// The pool's id, for later calls.
        pool_id: String = "PoolID",
        /// The pool, CIDR (must be valid).
        pool: String = "Pool",
        /// Extra data; [`GATEWAY_KEY`] sets the gateway (CIDR).
        data: BTreeMap<String, String> = "Data",
    }
}

go_struct! {
    /// Release a pool.
    pub struct ReleasePoolRequest {
        /// The pool's id.
        pool_id: String = "PoolID",
    }
}

go_struct! {
    /// Ask for an address.
    pub struct RequestAddressRequest {
        /// The pool's id.
        pool_id: String = "PoolID",
        /// The address wanted, a plain IP, or empty for any.
        address: String = "Address",
        /// Options ([`REQUEST_ADDRESS_TYPE`], [`MAC_ADDRESS_KEY`], ...).
        options: BTreeMap<String, String> = "Options",
    }
}

go_struct! {
    /// The answer to `RequestAddress`.
    pub struct RequestAddressResponse {
        /// The address, CIDR (`172.20.0.34/16`); empty means none was returned.
        address: String = "Address",
        /// Extra data.
        data: BTreeMap<String, String> = "Data",
    }
}

go_struct! {
    /// Release an address.
    pub struct ReleaseAddressRequest {
        /// The pool's id.
        pool_id: String = "PoolID",
        /// The address, a plain IP.
        address: String = "Address",
    }
}
