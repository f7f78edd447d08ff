//! `demo-ipam`: an in-memory IpamDriver built on plugin-subsystems. It hands out
//! IPv4 pools (by default `10.77.N.0/24`) and the addresses in them.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::sync::Mutex;

use plugin_subsystems::HandlerError;
use plugin_subsystems::ipam::{
    IpamDriver, ReleaseAddressRequest, ReleasePoolRequest, RequestAddressRequest,
    RequestAddressResponse, RequestPoolRequest, RequestPoolResponse,
};

/// The pools, by id (`ADDRESS_SPACE/NETWORK/PREFIX`, as Docker's own IPAM
/// writes them).
#[derive(Debug, Default)]
pub(crate) struct Pools {
    pools: Mutex<BTreeMap<String, Pool>>,
}

/// An IPv4 network and the addresses handed out in it.
#[derive(Debug)]
struct Pool {
    space: String,
    network: u32,
    prefix: u8,
    taken: BTreeSet<u32>,
}

/// How many addresses a /`prefix` holds.
fn span(prefix: u8) -> u64 {
    1u64 << (32 - u32::from(prefix.min(32)))
}

impl Pool {
    /// The first and last address a host may get: all but the network and
    /// broadcast addresses, except in /31 and /32.
    fn hosts(&self) -> (u64, u64) {
        let (first, last) = (
            u64::from(self.network),
            u64::from(self.network) + span(self.prefix) - 1,
        );
        if self.prefix <= 30 {
            (first + 1, last - 1)
        } else {
            (first, last)
        }
    }

    fn overlaps(&self, network: u32, prefix: u8) -> bool {
        let (a, b) = (u64::from(self.network), u64::from(network));
        a < b + span(prefix) && b < a + span(self.prefix)
    }

    fn cidr(&self) -> String {
        format!("{}/{}", Ipv4Addr::from(self.network), self.prefix)
    }
}

/// `a.b.c.d/n`, which must be a network address.
fn parse_cidr(text: &str) -> Result<(u32, u8), HandlerError> {
    let invalid =
        || HandlerError::new(format!("{text:?} is not an IPv4 CIDR such as 10.77.0.0/24"));
    let (address, prefix) = text.split_once('/').ok_or_else(invalid)?;
    let address: Ipv4Addr = address.parse().map_err(|_| invalid())?;
    let prefix: u8 = prefix.parse().map_err(|_| invalid())?;
    if prefix > 32 {
        return Err(invalid());
    }
    let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
    let network = u32::from(address) & mask;
    if network != u32::from(address) {
        return Err(HandlerError::new(format!(
            "{text} is not a network address; did you mean {}/{prefix}?",
            Ipv4Addr::from(network)
        )));
    }
    Ok((network, prefix))
}

fn parse_ip(text: &str) -> Result<u32, HandlerError> {
    text.parse::<Ipv4Addr>()
        .map(u32::from)
        .map_err(|_| HandlerError::new(format!("{text:?} is not an IPv4 address")))
}

fn no_pool(id: &str) -> HandlerError {
    HandlerError::new(format!("no such pool: {id}"))
}

impl Pools {
    fn with<T>(
        &self,
        f: impl FnOnce(&mut BTreeMap<String, Pool>) -> Result<T, HandlerError>,
    ) -> Result<T, HandlerError> {
        let mut pools = self
            .pools
            .lock()
            .map_err(|_| HandlerError::new("the pool table is unavailable"))?;
        f(&mut pools)
    }
}

impl IpamDriver for Pools {
    async fn request_pool(
        &self,
        request: RequestPoolRequest,
    ) -> Result<RequestPoolResponse, HandlerError> {
        if request.v6 {
            return Err(HandlerError::new("demo-ipam hands out IPv4 pools only"));
        }
        if !request.sub_pool.is_empty() {
            return Err(HandlerError::new("demo-ipam does not allocate sub-pools"));
        }
        self.with(|pools| {
            let space = request.address_space;
            let free = |network: u32, prefix: u8| {
                !pools
                    .values()
                    .any(|p| p.space == space && p.overlaps(network, prefix))
            };
            let (network, prefix) = if request.pool.is_empty() {
                (0..=255u32)
                    .map(|n| (u32::from(Ipv4Addr::new(10, 77, 0, 0)) | (n << 8), 24))
                    .find(|&(network, prefix)| free(network, prefix))
                    .ok_or_else(|| HandlerError::new("every 10.77.N.0/24 pool is in use"))?
            } else {
                let (network, prefix) = parse_cidr(&request.pool)?;
                if !free(network, prefix) {
                    return Err(HandlerError::new(format!(
                        "pool {} overlaps a pool in use",
                        request.pool
                    )));
                }
                (network, prefix)
            };
            let pool = Pool {
                space,
                network,
                prefix,
                taken: BTreeSet::new(),
            };
            let id = format!("{}/{}", pool.space, pool.cidr());
            let cidr = pool.cidr();
            pools.insert(id.clone(), pool);
            Ok(RequestPoolResponse {
                pool_id: id,
                pool: cidr,
                ..RequestPoolResponse::default()
            })
        })
    }

    async fn release_pool(&self, request: ReleasePoolRequest) -> Result<(), HandlerError> {
        self.with(|pools| {
            pools
                .remove(&request.pool_id)
                .map(drop)
                .ok_or_else(|| no_pool(&request.pool_id))
        })
    }

    async fn request_address(
        &self,
        request: RequestAddressRequest,
    ) -> Result<RequestAddressResponse, HandlerError> {
        self.with(|pools| {
            let pool = pools
                .get_mut(&request.pool_id)
                .ok_or_else(|| no_pool(&request.pool_id))?;
            let (first, last) = pool.hosts();
            let address = if request.address.is_empty() {
                (first..=last)
                    .filter_map(|a| u32::try_from(a).ok())
                    .find(|a| !pool.taken.contains(a))
                    .ok_or_else(|| {
                        HandlerError::new(format!("pool {} has no free address", pool.cidr()))
                    })?
            } else {
                let address = parse_ip(&request.address)?;
                if !(first..=last).contains(&u64::from(address)) {
                    return Err(HandlerError::new(format!(
                        "{} is not a host address in pool {}",
                        request.address,
                        pool.cidr()
                    )));
                }
                if pool.taken.contains(&address) {
                    return Err(HandlerError::new(format!(
                        "{} is already in use",
                        request.address
                    )));
                }
                address
            };
            pool.taken.insert(address);
            Ok(RequestAddressResponse {
                address: format!("{}/{}", Ipv4Addr::from(address), pool.prefix),
                ..RequestAddressResponse::default()
            })
        })
    }

    async fn release_address(&self, request: ReleaseAddressRequest) -> Result<(), HandlerError> {
        self.with(|pools| {
            let pool = pools
                .get_mut(&request.pool_id)
                .ok_or_else(|| no_pool(&request.pool_id))?;
            let address = parse_ip(&request.address)?;
            if pool.taken.remove(&address) {
                Ok(())
            } else {
                Err(HandlerError::new(format!(
                    "{} is not allocated in pool {}",
                    request.address,
                    pool.cidr()
                )))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(space: &str, pool: &str) -> RequestPoolRequest {
        RequestPoolRequest {
            address_space: space.to_owned(),
            pool: pool.to_owned(),
            ..RequestPoolRequest::default()
        }
    }

    fn address(pool_id: &str, address: &str) -> RequestAddressRequest {
        RequestAddressRequest {
            pool_id: pool_id.to_owned(),
            address: address.to_owned(),
            ..RequestAddressRequest::default()
        }
    }

    async fn take(pools: &Pools, pool_id: &str, wanted: &str) -> Result<String, String> {
        pools
            .request_address(address(pool_id, wanted))
            .await
            .map(|r| r.address)
            .map_err(|e| e.message().to_owned())
    }

    #[tokio::test]
    async fn pools_are_handed_out_in_turn_and_never_overlap() {
        let pools = Pools::default();
        let first = pools.request_pool(pool("LocalDefault", "")).await.unwrap();
        assert_eq!(
            (first.pool_id.as_str(), first.pool.as_str()),
            ("LocalDefault/10.77.0.0/24", "10.77.0.0/24")
        );
        let second = pools.request_pool(pool("LocalDefault", "")).await.unwrap();
        assert_eq!(second.pool, "10.77.1.0/24");
        let err = pools
            .request_pool(pool("LocalDefault", "10.77.0.0/16"))
            .await
            .unwrap_err();
        assert_eq!(err.message(), "pool 10.77.0.0/16 overlaps a pool in use");
        // Another address space is another namespace.
        let other = pools
            .request_pool(pool("GlobalDefault", "10.77.0.0/16"))
            .await
            .unwrap();
        assert_eq!(other.pool_id, "GlobalDefault/10.77.0.0/16");
        let err = pools
            .request_pool(pool("LocalDefault", "10.1.2.3/16"))
            .await
            .unwrap_err();
        assert_eq!(
            err.message(),
            "10.1.2.3/16 is not a network address; did you mean 10.1.0.0/16?"
        );
        let err = pools
            .request_pool(pool("LocalDefault", "fd00::/64"))
            .await
            .unwrap_err();
        assert_eq!(
            err.message(),
            "\"fd00::/64\" is not an IPv4 CIDR such as 10.77.0.0/24"
        );
        pools
            .release_pool(ReleasePoolRequest {
                pool_id: first.pool_id.clone(),
            })
            .await
            .unwrap();
        let err = pools
            .release_pool(ReleasePoolRequest {
                pool_id: first.pool_id,
            })
            .await
            .unwrap_err();
        assert_eq!(err.message(), "no such pool: LocalDefault/10.77.0.0/24");
    }

    #[tokio::test]
    async fn addresses_are_handed_out_once_and_come_back_when_released() {
        let pools = Pools::default();
        let id = pools
            .request_pool(pool("LocalDefault", "192.168.7.0/29"))
            .await
            .unwrap()
            .pool_id;
        assert_eq!(take(&pools, &id, "").await.unwrap(), "192.168.7.1/29");
        assert_eq!(
            take(&pools, &id, "192.168.7.6").await.unwrap(),
            "192.168.7.6/29"
        );
        assert_eq!(
            take(&pools, &id, "192.168.7.6").await.unwrap_err(),
            "192.168.7.6 is already in use"
        );
        for outside in ["192.168.7.0", "192.168.7.7", "10.0.0.1"] {
            assert_eq!(
                take(&pools, &id, outside).await.unwrap_err(),
                format!("{outside} is not a host address in pool 192.168.7.0/29")
            );
        }
        for expected in [
            "192.168.7.2/29",
            "192.168.7.3/29",
            "192.168.7.4/29",
            "192.168.7.5/29",
        ] {
            assert_eq!(take(&pools, &id, "").await.unwrap(), expected);
        }
        assert_eq!(
            take(&pools, &id, "").await.unwrap_err(),
            "pool 192.168.7.0/29 has no free address"
        );
        let release = |address: &str| ReleaseAddressRequest {
            pool_id: id.clone(),
            address: address.to_owned(),
        };
        pools.release_address(release("192.168.7.3")).await.unwrap();
        assert_eq!(
            pools
                .release_address(release("192.168.7.3"))
                .await
                .unwrap_err()
                .message(),
            "192.168.7.3 is not allocated in pool 192.168.7.0/29"
        );
        assert_eq!(take(&pools, &id, "").await.unwrap(), "192.168.7.3/29");
    }

    #[tokio::test]
    async fn a_slash_31_uses_both_addresses() {
        let pools = Pools::default();
        let id = pools
            .request_pool(pool("LocalDefault", "10.9.9.8/31"))
            .await
            .unwrap()
            .pool_id;
        assert_eq!(take(&pools, &id, "").await.unwrap(), "10.9.9.8/31");
        assert_eq!(take(&pools, &id, "").await.unwrap(), "10.9.9.9/31");
        assert!(take(&pools, &id, "").await.is_err());
    }
}
