//! `demo-net`: a NetworkDriver that gives each network a host bridge and
//! each endpoint a veth pair, the host end on the bridge and the other end
//! handed to the engine, which moves it into the container and gives it the
//! address its IPAM chose.
//!
//! Every name is derived from the engine's IDs (`dpn` and 12 characters of
//! the network ID for the bridge, `dph`/`dpc` and 12 characters of the
//! endpoint ID for the veth ends), so the driver keeps no state: a restarted
//! plugin finds what it made. The kernel work sits behind [`Links`]:
//! [`Netlink`] does it with rtnetlink (no `ip` commands), and tests use a
//! recorder.

use std::future::Future;

use futures_util::TryStreamExt;
use plugin_subsystems::HandlerError;
use plugin_subsystems::network::{
    CreateEndpointRequest, CreateEndpointResponse, CreateNetworkRequest, DeleteEndpointRequest,
    DeleteNetworkRequest, InterfaceName, JoinRequest, JoinResponse, LeaveRequest, NetworkDriver,
};

/// The kernel links the driver makes and removes.
pub(crate) trait Links: Send + Sync + 'static {
    /// Makes bridge `name` and sets it up.
    fn add_bridge(&self, name: &str) -> impl Future<Output = Result<(), String>> + Send;
    /// Makes the veth pair `host`/`peer`, puts `host` on `bridge` and sets
    /// both up.
    fn add_veth(
        &self,
        host: &str,
        peer: &str,
        bridge: &str,
    ) -> impl Future<Output = Result<(), String>> + Send;
    /// Removes link `name` (a veth pair goes with either end); nothing to do
    /// if it is gone.
    fn remove(&self, name: &str) -> impl Future<Output = Result<(), String>> + Send;
}

/// The links made with rtnetlink, on a connection per operation.
#[derive(Debug, Default)]
pub(crate) struct Netlink;

fn connect() -> Result<rtnetlink::Handle, String> {
    let (connection, handle, _) =
        rtnetlink::new_connection().map_err(|e| format!("cannot open a netlink socket: {e}"))?;
    tokio::spawn(connection);
    Ok(handle)
}

/// The index of link `name`, if there is one.
async fn index_of(handle: &rtnetlink::Handle, name: &str) -> Result<Option<u32>, String> {
    let mut links = handle.link().get().match_name(name.to_owned()).execute();
    match links.try_next().await {
        Ok(link) => Ok(link.map(|l| l.header.index)),
        Err(rtnetlink::Error::NetlinkError(e)) if e.to_io().raw_os_error() == Some(ENODEV) => {
            Ok(None)
        }
        Err(e) => Err(format!("cannot look up link {name}: {e}")),
    }
}

/// `ENODEV`: the kernel's answer to a lookup of a link that does not exist.
const ENODEV: i32 = 19;

impl Links for Netlink {
    async fn add_bridge(&self, name: &str) -> Result<(), String> {
        let handle = connect()?;
        handle
            .link()
            .add(rtnetlink::LinkBridge::new(name).up().build())
            .execute()
            .await
            .map_err(|e| format!("cannot make bridge {name}: {e}"))
    }

    async fn add_veth(&self, host: &str, peer: &str, bridge: &str) -> Result<(), String> {
        let handle = connect()?;
        let bridge_index = index_of(&handle, bridge)
            .await?
            .ok_or_else(|| format!("bridge {bridge} is gone"))?;
        handle
            .link()
            .add(rtnetlink::LinkVeth::new(host, peer).build())
            .execute()
            .await
            .map_err(|e| format!("cannot make veth pair {host}/{peer}: {e}"))?;
        handle
            .link()
            .set(
                rtnetlink::LinkUnspec::new_with_name(host)
                    .controller(bridge_index)
                    .up()
                    .build(),
            )
            .execute()
            .await
            .map_err(|e| format!("cannot put {host} on {bridge}: {e}"))?;
        handle
            .link()
            .set(rtnetlink::LinkUnspec::new_with_name(peer).up().build())
            .execute()
            .await
            .map_err(|e| format!("cannot set {peer} up: {e}"))
    }

    async fn remove(&self, name: &str) -> Result<(), String> {
        let handle = connect()?;
        let Some(index) = index_of(&handle, name).await? else {
            return Ok(());
        };
        handle
            .link()
            .del(index)
            .execute()
            .await
            .map_err(|e| format!("cannot remove link {name}: {e}"))
    }
}

/// The driver, over some [`Links`].
#[derive(Debug, Default)]
pub(crate) struct Bridges<L> {
    links: L,
}

impl<L: Links> Bridges<L> {
    /// A driver making its links with `links`.
    pub(crate) fn new(links: L) -> Self {
        Self { links }
    }
}

/// 12 characters of an engine ID, checked: the engine's IDs are hex, and
/// anything else must not reach a link name.
fn short(what: &str, id: &str) -> Result<String, HandlerError> {
    let short: String = id.chars().take(12).collect();
    if short.len() < 12 || !short.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(HandlerError::new(format!(
            "demo-net: {what} {id:?} is not an engine ID"
        )));
    }
    Ok(short)
}

/// The bridge of network `id`.
pub(crate) fn bridge_name(network_id: &str) -> Result<String, HandlerError> {
    Ok(format!("dpn{}", short("network ID", network_id)?))
}

/// The host and container ends of endpoint `id`.
pub(crate) fn veth_names(endpoint_id: &str) -> Result<(String, String), HandlerError> {
    let id = short("endpoint ID", endpoint_id)?;
    Ok((format!("dph{id}"), format!("dpc{id}")))
}

fn failed(message: String) -> HandlerError {
    HandlerError::new(format!("demo-net: {message}"))
}

impl<L: Links> NetworkDriver for Bridges<L> {
    async fn create_network(&self, request: CreateNetworkRequest) -> Result<(), HandlerError> {
        let bridge = bridge_name(&request.network_id)?;
        self.links.add_bridge(&bridge).await.map_err(failed)
    }

    async fn delete_network(&self, request: DeleteNetworkRequest) -> Result<(), HandlerError> {
        let bridge = bridge_name(&request.network_id)?;
        self.links.remove(&bridge).await.map_err(failed)
    }

    async fn create_endpoint(
        &self,
        request: CreateEndpointRequest,
    ) -> Result<CreateEndpointResponse, HandlerError> {
        let bridge = bridge_name(&request.network_id)?;
        let (host, peer) = veth_names(&request.endpoint_id)?;
        self.links
            .add_veth(&host, &peer, &bridge)
            .await
            .map_err(failed)?;
        // The engine gave the address (from its IPAM): the answer must not
        // give another.
        Ok(CreateEndpointResponse::default())
    }

    async fn delete_endpoint(&self, request: DeleteEndpointRequest) -> Result<(), HandlerError> {
        let (host, _) = veth_names(&request.endpoint_id)?;
        self.links.remove(&host).await.map_err(failed)
    }

    async fn join(&self, request: JoinRequest) -> Result<JoinResponse, HandlerError> {
        let (_, peer) = veth_names(&request.endpoint_id)?;
        Ok(JoinResponse {
            interface_name: Some(InterfaceName {
                src_name: peer,
                dst_prefix: "eth".to_owned(),
                ..InterfaceName::default()
            }),
            ..JoinResponse::default()
        })
    }

    async fn leave(&self, request: LeaveRequest) -> Result<(), HandlerError> {
        // The engine takes the interface out of the container itself; the
        // pair goes at DeleteEndpoint.
        veth_names(&request.endpoint_id).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Records each operation instead of making links.
    #[derive(Debug, Default)]
    struct Recorder(Mutex<Vec<String>>);

    impl Links for Recorder {
        async fn add_bridge(&self, name: &str) -> Result<(), String> {
            self.0.lock().unwrap().push(format!("bridge {name}"));
            Ok(())
        }
        async fn add_veth(&self, host: &str, peer: &str, bridge: &str) -> Result<(), String> {
            self.0
                .lock()
                .unwrap()
                .push(format!("veth {host}/{peer} on {bridge}"));
            Ok(())
        }
        async fn remove(&self, name: &str) -> Result<(), String> {
            self.0.lock().unwrap().push(format!("remove {name}"));
            Ok(())
        }
    }

    const NET: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const EP: &str = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

    #[tokio::test]
    async fn a_network_and_an_endpoint_make_and_remove_their_links() {
        let driver = Bridges::new(Recorder::default());
        driver
            .create_network(CreateNetworkRequest {
                network_id: NET.to_owned(),
                ..CreateNetworkRequest::default()
            })
            .await
            .unwrap();
        let created = driver
            .create_endpoint(CreateEndpointRequest {
                network_id: NET.to_owned(),
                endpoint_id: EP.to_owned(),
                ..CreateEndpointRequest::default()
            })
            .await
            .unwrap();
        assert_eq!(created, CreateEndpointResponse::default());
        let joined = driver
            .join(JoinRequest {
                network_id: NET.to_owned(),
                endpoint_id: EP.to_owned(),
                sandbox_key: "/var/run/docker/netns/x".to_owned(),
                ..JoinRequest::default()
            })
            .await
            .unwrap();
        let interface = joined.interface_name.unwrap();
        assert_eq!(
            (interface.src_name.as_str(), interface.dst_prefix.as_str()),
            ("dpcfedcba987654", "eth")
        );
        driver
            .delete_endpoint(DeleteEndpointRequest {
                network_id: NET.to_owned(),
                endpoint_id: EP.to_owned(),
            })
            .await
            .unwrap();
        driver
            .delete_network(DeleteNetworkRequest {
                network_id: NET.to_owned(),
            })
            .await
            .unwrap();
        assert_eq!(
            *driver.links.0.lock().unwrap(),
            [
                "bridge dpn0123456789ab",
                "veth dphfedcba987654/dpcfedcba987654 on dpn0123456789ab",
                "remove dphfedcba987654",
                "remove dpn0123456789ab",
            ]
        );
    }

    #[tokio::test]
    async fn ids_that_are_not_the_engines_never_reach_a_link_name() {
        let driver = Bridges::new(Recorder::default());
        for id in ["", "short", "../../etc/x0000", "0123456789aZ"] {
            let err = driver
                .create_network(CreateNetworkRequest {
                    network_id: id.to_owned(),
                    ..CreateNetworkRequest::default()
                })
                .await
                .unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("demo-net: network ID {id:?} is not an engine ID")
            );
        }
        assert!(driver.links.0.lock().unwrap().is_empty());
    }
}
