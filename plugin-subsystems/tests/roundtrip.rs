//! Every method of every subsystem, typed, through a real unix socket: our
//! client against our server. Each server records what it received, so both
//! directions are checked; and the engine's error rules are checked on the
//! host side (`Err`, `Error` for IPAM, 404 for optional methods).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use plugin_client::{Client, ClientConfig, ClientError};
use plugin_server::{HandlerError, PluginName, PluginServer, Serving};
use plugin_subsystems::{
    PluginServerExt, authz, ipam, logdriver, metrics, network, secrets, volume,
};
use serde_json::{Value, json};

/// What a test server received: (method, request as JSON).
type Log = Arc<Mutex<Vec<(&'static str, Value)>>>;

fn record(log: &Log, method: &'static str, request: &impl serde::Serialize) {
    log.lock()
        .unwrap()
        .push((method, serde_json::to_value(request).unwrap()));
}

fn received(log: &Log) -> Vec<(&'static str, Value)> {
    log.lock().unwrap().clone()
}

struct Served {
    _dir: tempfile::TempDir,
    _serving: Serving,
    client: Client,
}

fn serve(server: PluginServer) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let serving = server.serve_unix(dir.path().join("p.sock")).unwrap();
    let client = Client::for_spec(serving.spec(), &ClientConfig::default()).unwrap();
    Served {
        _dir: dir,
        _serving: serving,
        client,
    }
}

fn plugin() -> PluginServer {
    PluginServer::new(PluginName::new("typed").unwrap())
}

/// An in-memory volume driver.
#[derive(Default)]
struct Memory {
    volumes: Mutex<BTreeMap<String, volume::Volume>>,
}

impl volume::VolumeDriver for Memory {
    async fn create(&self, request: volume::CreateRequest) -> Result<(), HandlerError> {
        let mut volumes = self.volumes.lock().unwrap();
        if volumes.contains_key(&request.name) {
            return Err(HandlerError::new(format!("volume {} exists", request.name)));
        }
        let status = request
            .opts
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        volumes.insert(
            request.name.clone(),
            volume::Volume {
                name: request.name,
                status,
                ..Default::default()
            },
        );
        Ok(())
    }

    async fn remove(&self, request: volume::RemoveRequest) -> Result<(), HandlerError> {
        self.volumes
            .lock()
            .unwrap()
            .remove(&request.name)
            .map(drop)
            .ok_or_else(|| HandlerError::new("no such volume"))
    }

    async fn path(
        &self,
        request: volume::PathRequest,
    ) -> Result<volume::PathResponse, HandlerError> {
        let volumes = self.volumes.lock().unwrap();
        let mountpoint = volumes
            .get(&request.name)
            .map(|v| v.mountpoint.clone())
            .unwrap_or_default();
        Ok(volume::PathResponse { mountpoint })
    }

    async fn mount(
        &self,
        request: volume::MountRequest,
    ) -> Result<volume::MountResponse, HandlerError> {
        let mut volumes = self.volumes.lock().unwrap();
        let v = volumes
            .get_mut(&request.name)
            .ok_or_else(|| HandlerError::new("no such volume"))?;
        v.mountpoint = format!("/mnt/{}/{}", request.name, request.id);
        Ok(volume::MountResponse {
            mountpoint: v.mountpoint.clone(),
        })
    }

    async fn unmount(&self, request: volume::UnmountRequest) -> Result<(), HandlerError> {
        let mut volumes = self.volumes.lock().unwrap();
        let v = volumes
            .get_mut(&request.name)
            .ok_or_else(|| HandlerError::new("no such volume"))?;
        v.mountpoint.clear();
        Ok(())
    }

    async fn get(&self, request: volume::GetRequest) -> Result<volume::GetResponse, HandlerError> {
        Ok(volume::GetResponse {
            volume: self.volumes.lock().unwrap().get(&request.name).cloned(),
        })
    }

    async fn list(&self) -> Result<volume::ListResponse, HandlerError> {
        Ok(volume::ListResponse {
            volumes: self.volumes.lock().unwrap().values().cloned().collect(),
        })
    }
}

#[tokio::test]
async fn volume_driver_every_method() {
    let served = serve(plugin().volume_driver(Memory::default()));
    let manifest = served.client.activate().await.unwrap();
    assert_eq!(manifest.implements(), ["VolumeDriver"]);
    let volumes = volume::VolumeDriverClient::new(served.client.clone());
    volumes
        .create("v1", Some([("size".to_owned(), "1G".to_owned())].into()))
        .await
        .unwrap();
    volumes.create("v2", None).await.unwrap();
    let dup = volumes.create("v1", None).await.unwrap_err();
    assert_eq!(dup.message(), Some("volume v1 exists"));
    assert_eq!(volumes.mount("v1", "c1").await.unwrap(), "/mnt/v1/c1");
    assert_eq!(volumes.path("v1").await.unwrap(), "/mnt/v1/c1");
    let v1 = volumes.get("v1").await.unwrap().unwrap();
    assert_eq!(
        (v1.name.as_str(), v1.status["size"].as_str()),
        ("v1", Some("1G"))
    );
    assert_eq!(volumes.get("nope").await.unwrap(), None);
    let names: Vec<String> = volumes
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.name)
        .collect();
    assert_eq!(names, ["v1", "v2"]);
    volumes.unmount("v1", "c1").await.unwrap();
    assert_eq!(volumes.path("v1").await.unwrap(), "");
    volumes.remove("v1").await.unwrap();
    assert!(volumes.remove("v1").await.unwrap_err().is_plugin_error());
    assert_eq!(volumes.capabilities().await.scope, "local");
    assert_eq!(
        volumes.capabilities_raw().await.unwrap(),
        volume::CapabilitiesResponse::local()
    );
}

#[tokio::test]
async fn volume_capabilities_fall_back_to_local_when_not_implemented() {
    let served = serve(plugin().implements("VolumeDriver"));
    let volumes = volume::VolumeDriverClient::new(served.client.clone());
    assert_eq!(volumes.capabilities().await.scope, "local");
    assert!(
        volumes
            .capabilities_raw()
            .await
            .unwrap_err()
            .is_not_implemented()
    );
}

/// go-plugins-helpers answers 400 to an empty body wherever it reads
/// arguments; a literal `null` decodes to the zero value, as in Go. (Found
/// by the interop suite: an empty Create once made a volume named "".)
#[tokio::test]
async fn an_empty_body_is_400_where_arguments_are_read_and_null_is_the_zero_value() {
    let served = serve(plugin().volume_driver(Memory::default()));
    let err = served
        .client
        .call_raw(volume::CREATE, "")
        .await
        .unwrap_err();
    assert_eq!(
        (err.status().map(|s| s.as_u16()), err.message()),
        (
            Some(400),
            Some("the request body is empty, and this method needs arguments")
        )
    );
    // Methods without arguments take an empty body, as Docker sends them.
    let answer = served.client.call_raw(volume::LIST, "").await.unwrap();
    assert_eq!(&answer[..], b"{\"Volumes\":[]}\n");
    served
        .client
        .call_raw(volume::CREATE, "null")
        .await
        .unwrap();
    let answer = served.client.call_raw(volume::LIST, "").await.unwrap();
    assert_eq!(&answer[..], b"{\"Volumes\":[{\"Name\":\"\"}]}\n");
}

#[tokio::test]
async fn a_200_with_err_is_a_failure_for_volumes() {
    let served = serve(plugin().handle_raw(volume::MOUNT, |_| async {
        Ok(bytes::Bytes::from_static(
            br#"{"Mountpoint":"","Err":"busy"}"#,
        ))
    }));
    let err = volume::VolumeDriverClient::new(served.client.clone())
        .mount("v", "c")
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::Reported { .. }));
    assert_eq!(err.message(), Some("busy"));
}

/// A network driver that answers from its requests and records them.
struct Net(Log);

impl network::NetworkDriver for Net {
    async fn capabilities(&self) -> Result<network::CapabilitiesResponse, HandlerError> {
        Ok(network::CapabilitiesResponse {
            gw_alloc_checker: true,
            ..network::CapabilitiesResponse::local()
        })
    }

    async fn gw_alloc_check(
        &self,
        r: network::GwAllocCheckRequest,
    ) -> Result<network::GwAllocCheckResponse, HandlerError> {
        record(&self.0, "GwAllocCheck", &r);
        Ok(network::GwAllocCheckResponse {
            skip_ipv4: r.options.contains_key("skip4"),
            skip_ipv6: false,
        })
    }

    async fn allocate_network(
        &self,
        r: network::AllocateNetworkRequest,
    ) -> Result<network::AllocateNetworkResponse, HandlerError> {
        record(&self.0, "AllocateNetwork", &r);
        Ok(network::AllocateNetworkResponse {
            options: [("vni".to_owned(), "4097".to_owned())].into(),
        })
    }

    async fn free_network(&self, r: network::FreeNetworkRequest) -> Result<(), HandlerError> {
        record(&self.0, "FreeNetwork", &r);
        Ok(())
    }

    async fn create_network(&self, r: network::CreateNetworkRequest) -> Result<(), HandlerError> {
        record(&self.0, "CreateNetwork", &r);
        Ok(())
    }

    async fn delete_network(&self, r: network::DeleteNetworkRequest) -> Result<(), HandlerError> {
        record(&self.0, "DeleteNetwork", &r);
        Ok(())
    }

    async fn create_endpoint(
        &self,
        r: network::CreateEndpointRequest,
    ) -> Result<network::CreateEndpointResponse, HandlerError> {
        record(&self.0, "CreateEndpoint", &r);
        Ok(network::CreateEndpointResponse {
            interface: Some(network::EndpointInterface {
                mac_address: "02:42:0a:00:00:02".into(),
                ..Default::default()
            }),
        })
    }

    async fn endpoint_info(
        &self,
        r: network::EndpointInfoRequest,
    ) -> Result<network::EndpointInfoResponse, HandlerError> {
        record(&self.0, "EndpointOperInfo", &r);
        Ok(network::EndpointInfoResponse {
            value: [("id".to_owned(), json!(r.endpoint_id))].into(),
        })
    }

    async fn delete_endpoint(&self, r: network::DeleteEndpointRequest) -> Result<(), HandlerError> {
        record(&self.0, "DeleteEndpoint", &r);
        Ok(())
    }

    async fn join(&self, r: network::JoinRequest) -> Result<network::JoinResponse, HandlerError> {
        record(&self.0, "Join", &r);
        Ok(network::JoinResponse {
            interface_name: Some(network::InterfaceName {
                src_name: "veth0".into(),
                dst_prefix: "eth".into(),
                ..Default::default()
            }),
            gateway: "10.0.0.1".into(),
            ..Default::default()
        })
    }

    async fn leave(&self, r: network::LeaveRequest) -> Result<(), HandlerError> {
        record(&self.0, "Leave", &r);
        Ok(())
    }

    async fn discover_new(&self, r: network::DiscoveryNotification) -> Result<(), HandlerError> {
        record(&self.0, "DiscoverNew", &r);
        Ok(())
    }

    async fn discover_delete(&self, r: network::DiscoveryNotification) -> Result<(), HandlerError> {
        record(&self.0, "DiscoverDelete", &r);
        Ok(())
    }

    async fn program_external_connectivity(
        &self,
        r: network::ProgramExternalConnectivityRequest,
    ) -> Result<(), HandlerError> {
        record(&self.0, "ProgramExternalConnectivity", &r);
        Ok(())
    }

    async fn revoke_external_connectivity(
        &self,
        r: network::RevokeExternalConnectivityRequest,
    ) -> Result<(), HandlerError> {
        record(&self.0, "RevokeExternalConnectivity", &r);
        Err(HandlerError::new("revoke failed"))
    }
}

#[tokio::test]
async fn network_driver_every_method() {
    let log = Log::default();
    let served = serve(plugin().network_driver(Net(Arc::clone(&log))));
    let net = network::NetworkDriverClient::new(served.client.clone());
    let caps = net.capabilities().await.unwrap();
    assert!(caps.gw_alloc_checker);
    let check = network::GwAllocCheckRequest {
        options: [("skip4".to_owned(), json!(true))].into(),
    };
    assert!(net.gw_alloc_check(&check).await.unwrap().skip_ipv4);
    let allocate = network::AllocateNetworkRequest {
        network_id: "n1".into(),
        ..Default::default()
    };
    assert_eq!(
        net.allocate_network(&allocate).await.unwrap().options["vni"],
        "4097"
    );
    net.free_network(&network::FreeNetworkRequest {
        network_id: "n1".into(),
    })
    .await
    .unwrap();
    let create = network::CreateNetworkRequest {
        network_id: "n1".into(),
        options: [(
            "com.docker.network.generic".to_owned(),
            json!({"mtu": "1400"}),
        )]
        .into(),
        ipv4_data: vec![network::IpamData {
            address_space: "LocalDefault".into(),
            pool: Some("10.0.0.0/24".into()),
            ..Default::default()
        }],
        ipv6_data: vec![],
    };
    net.create_network(&create).await.unwrap();
    let endpoint = network::CreateEndpointRequest {
        network_id: "n1".into(),
        endpoint_id: "e1".into(),
        interface: Some(network::EndpointInterface {
            address: "10.0.0.2/24".into(),
            ..Default::default()
        }),
        options: BTreeMap::new(),
    };
    let created = net.create_endpoint(&endpoint).await.unwrap();
    assert_eq!(created.interface.unwrap().mac_address, "02:42:0a:00:00:02");
    let info = net
        .endpoint_info(&network::EndpointInfoRequest {
            network_id: "n1".into(),
            endpoint_id: "e1".into(),
        })
        .await
        .unwrap();
    assert_eq!(info.value["id"], "e1");
    let join = network::JoinRequest {
        network_id: "n1".into(),
        endpoint_id: "e1".into(),
        sandbox_key: "/ns".into(),
        options: BTreeMap::new(),
    };
    let joined = net.join(&join).await.unwrap();
    assert_eq!(
        (
            joined.interface_name.unwrap().src_name.as_str(),
            joined.gateway.as_str()
        ),
        ("veth0", "10.0.0.1")
    );
    let discovery = network::DiscoveryNotification {
        discovery_type: 1,
        discovery_data: json!({"Address": "10.1.0.5", "Self": true}),
    };
    net.discover_new(&discovery).await.unwrap();
    net.discover_delete(&discovery).await.unwrap();
    let program = network::ProgramExternalConnectivityRequest {
        network_id: "n1".into(),
        endpoint_id: "e1".into(),
        options: BTreeMap::new(),
    };
    net.program_external_connectivity(&program).await.unwrap();
    let revoke = network::RevokeExternalConnectivityRequest {
        network_id: "n1".into(),
        endpoint_id: "e1".into(),
    };
    assert_eq!(
        net.revoke_external_connectivity(&revoke)
            .await
            .unwrap_err()
            .message(),
        Some("revoke failed")
    );
    net.leave(&network::LeaveRequest {
        network_id: "n1".into(),
        endpoint_id: "e1".into(),
    })
    .await
    .unwrap();
    net.delete_endpoint(&network::DeleteEndpointRequest {
        network_id: "n1".into(),
        endpoint_id: "e1".into(),
    })
    .await
    .unwrap();
    net.delete_network(&network::DeleteNetworkRequest {
        network_id: "n1".into(),
    })
    .await
    .unwrap();

    let seen = received(&log);
    let methods: Vec<&str> = seen.iter().map(|(m, _)| *m).collect();
    assert_eq!(
        methods,
        [
            "GwAllocCheck",
            "AllocateNetwork",
            "FreeNetwork",
            "CreateNetwork",
            "CreateEndpoint",
            "EndpointOperInfo",
            "Join",
            "DiscoverNew",
            "DiscoverDelete",
            "ProgramExternalConnectivity",
            "RevokeExternalConnectivity",
            "Leave",
            "DeleteEndpoint",
            "DeleteNetwork",
        ]
    );
    assert_eq!(
        seen[3].1,
        serde_json::to_value(&create).unwrap(),
        "the server got exactly what was sent"
    );
    assert_eq!(seen[4].1, serde_json::to_value(&endpoint).unwrap());
}

#[tokio::test]
async fn optional_network_methods_may_be_missing_and_bad_scopes_are_refused() {
    let served = serve(
        plugin()
            .implements("NetworkDriver")
            .handle_raw(network::GET_CAPABILITIES, |_| async {
                Ok(bytes::Bytes::from_static(br#"{"Scope":"cluster"}"#))
            }),
    );
    let net = network::NetworkDriverClient::new(served.client.clone());
    let program = network::ProgramExternalConnectivityRequest::default();
    net.program_external_connectivity(&program).await.unwrap();
    net.revoke_external_connectivity(&network::RevokeExternalConnectivityRequest::default())
        .await
        .unwrap();
    assert!(
        net.join(&network::JoinRequest::default())
            .await
            .unwrap_err()
            .is_not_implemented()
    );
    let err = net.capabilities().await.unwrap_err();
    assert!(
        err.to_string()
            .contains("expecting 'local' or 'global', got \"cluster\""),
        "{err}"
    );
}

/// An IPAM driver handing out one pool and counting addresses.
struct Pools(Log);

impl ipam::IpamDriver for Pools {
    async fn capabilities(&self) -> Result<ipam::CapabilitiesResponse, HandlerError> {
        Ok(ipam::CapabilitiesResponse {
            requires_mac_address: true,
            requires_request_replay: false,
        })
    }

    async fn request_pool(
        &self,
        r: ipam::RequestPoolRequest,
    ) -> Result<ipam::RequestPoolResponse, HandlerError> {
        record(&self.0, "RequestPool", &r);
        Ok(ipam::RequestPoolResponse {
            pool_id: "p1".into(),
            pool: if r.pool.is_empty() {
                "10.10.0.0/16".into()
            } else {
                r.pool
            },
            data: [(ipam::GATEWAY_KEY.to_owned(), "10.10.0.1/16".to_owned())].into(),
        })
    }

    async fn release_pool(&self, r: ipam::ReleasePoolRequest) -> Result<(), HandlerError> {
        record(&self.0, "ReleasePool", &r);
        Ok(())
    }

    async fn request_address(
        &self,
        r: ipam::RequestAddressRequest,
    ) -> Result<ipam::RequestAddressResponse, HandlerError> {
        record(&self.0, "RequestAddress", &r);
        if r.pool_id != "p1" {
            return Err(HandlerError::new(format!("unknown pool {}", r.pool_id)));
        }
        Ok(ipam::RequestAddressResponse {
            address: "10.10.0.2/16".into(),
            data: BTreeMap::new(),
        })
    }

    async fn release_address(&self, r: ipam::ReleaseAddressRequest) -> Result<(), HandlerError> {
        record(&self.0, "ReleaseAddress", &r);
        Ok(())
    }
}

#[tokio::test]
async fn ipam_driver_every_method() {
    let log = Log::default();
    let served = serve(plugin().ipam_driver(Pools(Arc::clone(&log))));
    let pools = ipam::IpamDriverClient::new(served.client.clone());
    assert!(pools.capabilities().await.unwrap().requires_mac_address);
    assert_eq!(
        pools.default_address_spaces().await.unwrap(),
        ipam::AddressSpacesResponse::docker_defaults()
    );
    let pool = pools
        .request_pool(&ipam::RequestPoolRequest {
            address_space: "LocalDefault".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        (pool.pool_id.as_str(), pool.pool.as_str()),
        ("p1", "10.10.0.0/16")
    );
    let request = ipam::RequestAddressRequest {
        pool_id: "p1".into(),
        address: String::new(),
        options: [(
            ipam::MAC_ADDRESS_KEY.to_owned(),
            "02:42:0a:0a:00:02".to_owned(),
        )]
        .into(),
    };
    assert_eq!(
        pools.request_address(&request).await.unwrap().address,
        "10.10.0.2/16"
    );
    let unknown = ipam::RequestAddressRequest {
        pool_id: "p9".into(),
        ..Default::default()
    };
    assert_eq!(
        pools.request_address(&unknown).await.unwrap_err().message(),
        Some("unknown pool p9")
    );
    pools
        .release_address(&ipam::ReleaseAddressRequest {
            pool_id: "p1".into(),
            address: "10.10.0.2".into(),
        })
        .await
        .unwrap();
    pools
        .release_pool(&ipam::ReleasePoolRequest {
            pool_id: "p1".into(),
        })
        .await
        .unwrap();
    let methods: Vec<&str> = received(&log).iter().map(|(m, _)| *m).collect();
    assert_eq!(
        methods,
        [
            "RequestPool",
            "RequestAddress",
            "RequestAddress",
            "ReleaseAddress",
            "ReleasePool"
        ]
    );
    assert_eq!(received(&log)[1].1, serde_json::to_value(&request).unwrap());
}

#[tokio::test]
async fn ipam_failure_in_a_200_is_error_not_err() {
    let served = serve(
        plugin()
            .handle_raw(ipam::REQUEST_POOL, |_| async {
                Ok(bytes::Bytes::from_static(br#"{"Error":"pool exhausted"}"#))
            })
            .handle_raw(ipam::RELEASE_POOL, |_| async {
                Ok(bytes::Bytes::from_static(
                    br#"{"Err":"ignored by the engine"}"#,
                ))
            }),
    );
    let pools = ipam::IpamDriverClient::new(served.client.clone());
    let err = pools
        .request_pool(&ipam::RequestPoolRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.message(), Some("pool exhausted"));
    pools
        .release_pool(&ipam::ReleasePoolRequest::default())
        .await
        .unwrap();
}

/// Allows anything but DELETE requests; fails on a marker URI.
struct Policy(Log);

impl authz::Authorizer for Policy {
    async fn authz_request(
        &self,
        r: authz::AuthzRequest,
    ) -> Result<authz::AuthzResponse, HandlerError> {
        record(&self.0, "AuthZReq", &r);
        Ok(match (r.request_method.as_str(), r.request_uri.as_str()) {
            (_, "/broken") => authz::AuthzResponse {
                err: "policy store down".into(),
                ..Default::default()
            },
            ("DELETE", _) => authz::AuthzResponse::deny("deleting is not allowed"),
            _ => authz::AuthzResponse::allow(),
        })
    }
}

#[tokio::test]
async fn authz_every_method() {
    let log = Log::default();
    let served = serve(plugin().authz(Policy(Arc::clone(&log))));
    let authz = authz::AuthzClient::new(served.client.clone());
    let request = authz::AuthzRequest {
        request_method: "POST".into(),
        request_uri: "/v1.47/containers/create".into(),
        request_body: br#"{"Image":"alpine"}"#.to_vec(),
        request_peer_certificates: vec![authz::PeerCertificate {
            pem: b"-----BEGIN CERTIFICATE-----\n".to_vec(),
        }],
        ..Default::default()
    };
    assert!(authz.authz_request(&request).await.unwrap().allow);
    assert_eq!(
        received(&log)[0].1,
        serde_json::to_value(&request).unwrap(),
        "bytes survive base64 both ways"
    );
    let delete = authz::AuthzRequest {
        request_method: "DELETE".into(),
        ..Default::default()
    };
    assert_eq!(
        authz.authz_request(&delete).await.unwrap(),
        authz::AuthzResponse::deny("deleting is not allowed")
    );
    let response = authz::AuthzRequest {
        response_status_code: 200,
        ..request
    };
    assert!(
        authz.authz_response(&response).await.unwrap().allow,
        "responses are allowed by default"
    );
    let broken = authz::AuthzRequest {
        request_uri: "/broken".into(),
        ..Default::default()
    };
    let err = authz.authz_request(&broken).await.unwrap_err();
    assert_eq!(
        (err.status().map(|s| s.as_u16()), err.message()),
        (Some(500), Some("policy store down"))
    );
}

struct Vault;

impl secrets::SecretProvider for Vault {
    async fn get_secret(
        &self,
        r: secrets::GetSecretRequest,
    ) -> Result<secrets::GetSecretResponse, HandlerError> {
        match r.secret_name.as_str() {
            "db" => Ok(secrets::GetSecretResponse {
                value: b"s3cr3t".to_vec(),
                do_not_reuse: r.task_id == "t1",
                ..Default::default()
            }),
            "empty" => Ok(secrets::GetSecretResponse::default()),
            _ => Ok(secrets::GetSecretResponse {
                err: format!("no secret {}", r.secret_name),
                ..Default::default()
            }),
        }
    }
}

#[tokio::test]
async fn secret_provider_every_method() {
    let served = serve(plugin().secret_provider(Vault));
    let vault = secrets::SecretProviderClient::new(served.client.clone());
    let request = secrets::GetSecretRequest {
        secret_name: "db".into(),
        task_id: "t1".into(),
        ..Default::default()
    };
    let secret = vault.get_secret(&request).await.unwrap();
    assert_eq!(
        (secret.value.as_slice(), secret.do_not_reuse),
        (b"s3cr3t".as_slice(), true)
    );
    let missing = secrets::GetSecretRequest {
        secret_name: "other".into(),
        ..Default::default()
    };
    assert_eq!(
        vault.get_secret(&missing).await.unwrap_err().message(),
        Some("no secret other")
    );
    let empty = secrets::GetSecretRequest {
        secret_name: "empty".into(),
        ..Default::default()
    };
    let err = vault.get_secret(&empty).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("secret data must be larger than 0"),
        "{err}"
    );
}

struct Counter(Log);

impl metrics::MetricsCollector for Counter {
    async fn start_metrics(&self) -> Result<(), HandlerError> {
        record(&self.0, "StartMetrics", &());
        Ok(())
    }
}

#[tokio::test]
async fn metrics_collector_every_method() {
    let log = Log::default();
    let served = serve(plugin().metrics_collector(Counter(Arc::clone(&log))));
    let collector = metrics::MetricsCollectorClient::new(served.client.clone());
    collector.start_metrics().await.unwrap();
    collector.stop_metrics().await.unwrap();
    assert_eq!(received(&log), [("StartMetrics", Value::Null)]);
    assert_eq!(
        served
            .client
            .call_raw(metrics::START_METRICS, "")
            .await
            .unwrap(),
        "{}\n"
    );
}

/// Keeps what it is told to log, and reads it back.
struct Logs(Log);

impl logdriver::LogDriver for Logs {
    async fn start_logging(&self, r: logdriver::StartLoggingRequest) -> Result<(), HandlerError> {
        record(&self.0, "StartLogging", &r);
        Ok(())
    }

    async fn stop_logging(&self, r: logdriver::StopLoggingRequest) -> Result<(), HandlerError> {
        record(&self.0, "StopLogging", &r);
        Ok(())
    }

    async fn capabilities(&self) -> Result<logdriver::CapabilitiesResponse, HandlerError> {
        Ok(logdriver::CapabilitiesResponse {
            cap: logdriver::Capability { read_logs: true },
        })
    }

    async fn read_logs(
        &self,
        r: logdriver::ReadLogsRequest,
    ) -> Result<logdriver::LogStream, HandlerError> {
        let count = usize::try_from(r.config.tail).unwrap_or(3);
        let entries = (0..count).map(|i| Ok(entry(i)));
        Ok(Box::pin(futures_util::stream::iter(entries)))
    }
}

fn entry(i: usize) -> logdriver::LogEntry {
    logdriver::LogEntry {
        source: if i % 2 == 0 { "stdout" } else { "stderr" }.into(),
        time_nano: 1_700_000_000_000_000_000 + i64::try_from(i).unwrap(),
        line: format!("line {i}").into_bytes(),
        partial: i == 1,
        partial_log_metadata: (i == 1).then(|| logdriver::PartialLogEntryMetadata {
            last: false,
            id: "p".into(),
            ordinal: 1,
        }),
    }
}

#[tokio::test]
async fn log_driver_every_method() {
    let log = Log::default();
    let served = serve(plugin().log_driver(Logs(Arc::clone(&log))));
    let logs = logdriver::LogDriverClient::new(served.client.clone());
    let info = logdriver::Info {
        container_id: "abc".into(),
        ..Default::default()
    };
    logs.start_logging("/run/docker/logging/abc", info.clone())
        .await
        .unwrap();
    assert!(logs.capabilities().await.unwrap().cap.read_logs);
    let config = logdriver::ReadConfig {
        tail: 5,
        ..Default::default()
    };
    let entries: Vec<logdriver::LogEntry> = logs
        .read_logs(info, config)
        .await
        .unwrap()
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(entries, (0..5).map(entry).collect::<Vec<_>>());
    logs.stop_logging("/run/docker/logging/abc").await.unwrap();
    let methods: Vec<&str> = received(&log).iter().map(|(m, _)| *m).collect();
    assert_eq!(methods, ["StartLogging", "StopLogging"]);
}

#[tokio::test]
async fn a_log_driver_that_cannot_read_says_so() {
    struct WriteOnly;
    impl logdriver::LogDriver for WriteOnly {
        async fn start_logging(
            &self,
            _: logdriver::StartLoggingRequest,
        ) -> Result<(), HandlerError> {
            Ok(())
        }
        async fn stop_logging(&self, _: logdriver::StopLoggingRequest) -> Result<(), HandlerError> {
            Ok(())
        }
    }
    let served = serve(plugin().log_driver(WriteOnly));
    let logs = logdriver::LogDriverClient::new(served.client.clone());
    assert!(!logs.capabilities().await.unwrap().cap.read_logs);
    let err = logs
        .read_logs(logdriver::Info::default(), logdriver::ReadConfig::default())
        .await
        .err()
        .unwrap();
    assert_eq!(err.message(), Some("this log driver cannot read logs back"));
}
