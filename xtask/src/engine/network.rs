//! The network and IPAM cases through dockerd, against demo-net and
//! demo-ipam.

use std::path::Path;
use std::process::{Command, Stdio};

use super::docker::Docker;
use super::{Row, Run, case, expect};
use crate::command::output;

/// The network cases through dockerd: demo-net with demo-ipam's pool, and
/// two containers on a demo-net network.
pub(super) fn cases(root: &Path, run: &Run, docker: &Docker, image: &str, rows: &mut Vec<Row>) {
    let net_driver = run.plugin("net");
    let ipam_driver = run.plugin("ipam");
    case(
        rows,
        "docker",
        "network with --ipam-driver demo-ipam: a container gets the pool's address",
        || {
            let network = docker.run(&[
                "network",
                "create",
                "-d",
                &net_driver,
                "--ipam-driver",
                &ipam_driver,
                "ipam-1",
            ])?;
            let subnet = docker.run(&[
                "network",
                "inspect",
                "-f",
                "{{range .IPAM.Config}}{{.Subnet}}{{end}}",
                "ipam-1",
            ])?;
            let address = docker.run(&[
                "run",
                "--rm",
                "--network",
                "ipam-1",
                image,
                "ip",
                "-4",
                "-o",
                "addr",
                "show",
                "eth0",
            ])?;
            docker.run(&["network", "rm", "ipam-1"])?;
            // Released: a new network is given the same pool.
            docker.run(&[
                "network",
                "create",
                "-d",
                &net_driver,
                "--ipam-driver",
                &ipam_driver,
                "ipam-2",
            ])?;
            let again = docker.run(&[
                "network",
                "inspect",
                "-f",
                "{{range .IPAM.Config}}{{.Subnet}}{{end}}",
                "ipam-2",
            ])?;
            docker.run(&["network", "rm", "ipam-2"])?;
            let prefix = subnet
                .rsplit_once('.')
                .map(|(p, _)| p.to_owned())
                .unwrap_or_default();
            expect(
                !network.is_empty()
                    && subnet == "10.77.0.0/24"
                    && address.contains(&format!("inet {prefix}."))
                    && again == subnet,
                format!(
                    "pool {subnet}, container {}, pool again after rm: {again}",
                    address.split_whitespace().nth(3).unwrap_or("?")
                ),
            )
        },
    );

    case(
        rows,
        "docker",
        "demo-net network: two containers, one reaches the other",
        || {
            docker.run(&[
                "network",
                "create",
                "-d",
                &net_driver,
                "--subnet",
                "10.91.0.0/24",
                "net-1",
            ])?;
            let first = docker.run(&[
                "run",
                "-d",
                "--network",
                "net-1",
                "--ip",
                "10.91.0.10",
                image,
                "sleep",
                "600",
            ])?;
            let bridge = docker
                .run(&["network", "inspect", "-f", "{{.ID}}", "net-1"])
                .map(|id| format!("dpn{}", id.get(..12).unwrap_or_default()))?;
            let ping = docker.run(&[
                "run",
                "--rm",
                "--network",
                "net-1",
                image,
                "ping",
                "-c",
                "1",
                "-W",
                "5",
                "10.91.0.10",
            ]);
            docker.run(&["rm", "-f", &first])?;
            let links_before = output(root, ip_link(&bridge)).unwrap_or_default();
            docker.run(&["network", "rm", "net-1"])?;
            let links_after = output(root, ip_link(&bridge)).unwrap_or_default();
            let ping = ping?;
            expect(
                ping.contains("1 packets received")
                    && links_before.contains(&bridge)
                    && links_after.is_empty(),
                format!(
                    "ping 10.91.0.10: {}; bridge {bridge} {} and removed with the network",
                    ping.lines().find(|l| l.contains("received")).unwrap_or("?"),
                    if links_before.contains(&bridge) {
                        "was there"
                    } else {
                        "was missing"
                    }
                ),
            )
        },
    );
}

fn ip_link(name: &str) -> Command {
    let mut command = Command::new("ip");
    command.args(["-o", "link", "show", "dev", name]);
    command.stderr(Stdio::null());
    command
}
