//! `secretprovider`: secrets a plugin hands to swarm tasks.
//!
//! The host is the swarm manager (swarmkit): every request field is
//! `omitempty` (so zero numbers and empty strings are left out); the secret's
//! `Value` is base64 (bytes here) and must be 1 byte to under 500 KiB.

use std::collections::BTreeMap;

use crate::go_json::go_struct;

#[cfg(feature = "client")]
mod client;
#[cfg(feature = "server")]
mod server;

#[cfg(feature = "client")]
pub use client::SecretProviderClient;
#[cfg(feature = "server")]
pub use server::SecretProvider;
#[cfg(feature = "server")]
pub(crate) use server::mount;

/// The subsystem's name in a manifest.
pub const IMPLEMENTS: &str = "secretprovider";
/// `SecretProvider.GetSecret`: [`GetSecretRequest`] → [`GetSecretResponse`].
pub const GET_SECRET: &str = "SecretProvider.GetSecret";

/// The largest secret swarm accepts, exclusive, in bytes.
pub const MAX_SECRET_SIZE: usize = 500 * 1024;

fn is_zero_i32(n: &i32) -> bool {
    *n == 0
}

fn is_zero_u32(n: &u32) -> bool {
    *n == 0
}

go_struct! {
    /// Which secret, for which task.
    pub struct GetSecretRequest {
        /// The secret's name.
        #[serde(skip_serializing_if = "String::is_empty")]
        secret_name: String = "SecretName",
        /// The secret's labels.
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        secret_labels: BTreeMap<String, String> = "SecretLabels",
        /// The task container's hostname.
        #[serde(skip_serializing_if = "String::is_empty")]
        service_hostname: String = "ServiceHostname",
        /// The service's id.
        #[serde(skip_serializing_if = "String::is_empty")]
        service_id: String = "ServiceID",
        /// The service's name.
        #[serde(skip_serializing_if = "String::is_empty")]
        service_name: String = "ServiceName",
        /// The service's labels.
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        service_labels: BTreeMap<String, String> = "ServiceLabels",
        /// The task's id.
        #[serde(skip_serializing_if = "String::is_empty")]
        task_id: String = "TaskID",
        /// The task's name.
        #[serde(skip_serializing_if = "String::is_empty")]
        task_name: String = "TaskName",
        /// The task's image.
        #[serde(skip_serializing_if = "String::is_empty")]
        task_image: String = "TaskImage",
        /// The node the task will run on (swarmkit sends it; the Go SDK ignores it).
        #[serde(skip_serializing_if = "String::is_empty")]
        node_id: String = "NodeID",
        /// The service's endpoint.
        #[serde(skip_serializing_if = "Option::is_none")]
        service_endpoint_spec: Option<EndpointSpec> = "ServiceEndpointSpec",
    }
}

go_struct! {
    /// A service's endpoint.
    pub struct EndpointSpec {
        /// 0: virtual IP; 1: DNS round robin.
        #[serde(skip_serializing_if = "is_zero_i32")]
        mode: i32 = "Mode",
        /// Published ports.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        ports: Vec<PortConfig> = "Ports",
    }
}

go_struct! {
    /// A published port.
    pub struct PortConfig {
        /// The port's name.
        #[serde(skip_serializing_if = "String::is_empty")]
        name: String = "Name",
        /// 0: TCP; 1: UDP; 2: SCTP.
        #[serde(skip_serializing_if = "is_zero_i32")]
        protocol: i32 = "Protocol",
        /// The port inside the container.
        #[serde(skip_serializing_if = "is_zero_u32")]
        target_port: u32 = "TargetPort",
        /// The port on the swarm hosts.
        #[serde(skip_serializing_if = "is_zero_u32")]
        published_port: u32 = "PublishedPort",
        /// 0: ingress; 1: host.
        #[serde(skip_serializing_if = "is_zero_i32")]
        publish_mode: i32 = "PublishMode",
    }
}

go_struct! {
    /// The secret.
    pub struct GetSecretResponse {
        /// The secret's value (1 byte to under 500 KiB).
        #[serde(with = "crate::go_json::base64_bytes", skip_serializing_if = "Vec::is_empty")]
        value: Vec<u8> = "Value",
        /// The plugin's failure.
        #[serde(skip_serializing_if = "String::is_empty")]
        err: String = "Err",
        /// Use this value for this task only; ask again for the next.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        do_not_reuse: bool = "DoNotReuse",
    }
}
