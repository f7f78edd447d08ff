//! Direction (a): Docker's client (`pkg/plugins`, driven as the engine drives
//! it) against our plugins, served by `pluginctl demo serve`.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::dockerhost::{DockerHost, Outcome};
use crate::procs::OurPlugins;
use crate::report::{Direction, Report, same};
use crate::{Failure, Programs};

const DIRECTION: Direction = Direction::DockerToOurs;

/// What a step must give.
#[derive(Debug)]
enum Expect {
    /// Success with exactly this value.
    Value(Value),
    /// Failure with exactly this message.
    Error(String),
    /// Failure that `plugins.IsNotFound` recognises (a 404).
    NotFound,
    /// Success with a value this function accepts.
    Check(fn(&Value) -> Result<(), String>),
}

/// One operation of Docker's client and what it must give.
#[derive(Debug)]
struct Step {
    case: String,
    op: Value,
    expect: Expect,
}

fn step(case: impl Into<String>, op: Value, expect: Expect) -> Step {
    Step {
        case: case.into(),
        op,
        expect,
    }
}

fn error(message: impl Into<String>) -> Expect {
    Expect::Error(message.into())
}

fn judge(outcome: Outcome, expect: &Expect) -> Result<String, String> {
    match (expect, outcome) {
        (Expect::Value(expected), Outcome::Ok(seen)) => {
            same(&seen, expected).map(|()| compact(&seen))
        }
        (Expect::Check(check), Outcome::Ok(seen)) => check(&seen).map(|()| compact(&seen)),
        (Expect::Error(expected), Outcome::Err { message, .. }) => {
            same(&message, expected).map(|()| format!("error {message:?}"))
        }
        (
            Expect::NotFound,
            Outcome::Err {
                message,
                not_found: true,
            },
        ) => Ok(format!("IsNotFound, {message:?}")),
        (expect, outcome) => Err(format!("expected {expect:?}, saw {outcome:?}")),
    }
}

fn compact(value: &Value) -> String {
    match value {
        Value::Null => "ok".to_owned(),
        other => other.to_string(),
    }
}

async fn run_steps(
    report: &mut Report,
    host: &mut DockerHost,
    transport: &str,
    steps: Vec<Step>,
) -> Result<(), Failure> {
    for step in steps {
        let outcome = host.run(step.op).await?;
        report.case(
            DIRECTION,
            transport,
            step.case,
            judge(outcome, &step.expect),
        );
    }
    Ok(())
}

/// Every case of direction (a).
pub(crate) async fn run(
    report: &mut Report,
    programs: &Programs,
    ours: &OurPlugins,
) -> Result<(), Failure> {
    let mut host = DockerHost::start(programs)?;
    run_steps(report, &mut host, "unix", volume_steps(ours)?).await?;
    run_steps(report, &mut host, "unix", ipam_steps(ours)?).await?;
    let tcp = read(&ours.dir.join("echo-tcp.spec"))?;
    run_steps(
        report,
        &mut host,
        "tcp (.spec)",
        echo_steps(tcp.trim(), None, &["Echo"]),
    )
    .await?;
    let (addr, ca) = json_descriptor(&ours.dir.join("echo-tls.json"))?;
    run_steps(
        report,
        &mut host,
        "tls (.json, CA)",
        echo_steps(&addr, Some(&ca), &["Echo"]),
    )
    .await?;
    discovery(report, programs, ours).await
}

fn read(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// `Addr` and `TLSConfig.CAFile` of a `.json` descriptor.
fn json_descriptor(path: &Path) -> Result<(String, String), Failure> {
    let text = read(path)?;
    let json: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let field = |pointer: &str| {
        json.pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("{} has no {pointer}: {text}", path.display()))
    };
    Ok((field("/Addr")?, field("/TLSConfig/CAFile")?))
}

fn volume_steps(ours: &OurPlugins) -> Result<Vec<Step>, Failure> {
    let addr = ours.address("demo-volume")?;
    let mountpoint = ours.state.join("volumes/interop-v").display().to_string();
    let mountpoint = mountpoint.as_str();
    Ok(vec![
        step(
            "NewClient + Plugin.Activate (demo-volume)",
            json!({"op": "connect", "addr": addr}),
            Expect::Value(Value::Null),
        ),
        step(
            "Plugin.Activate: the manifest",
            json!({"op": "call", "method": "Plugin.Activate"}),
            Expect::Value(json!({"Implements": ["VolumeDriver"]})),
        ),
        step(
            "VolumeDriver.Capabilities",
            json!({"op": "volume.capabilities"}),
            Expect::Value(json!("local")),
        ),
        step(
            "VolumeDriver.Create with Opts",
            json!({"op": "volume.create", "name": "interop-v", "opts": {"size": "1G"}}),
            Expect::Value(Value::Null),
        ),
        // As Docker's own `local` driver: the volume is kept as it is (the
        // Get below still sees size=1G).
        step(
            "VolumeDriver.Create again, other Opts: success, the volume kept",
            json!({"op": "volume.create", "name": "interop-v", "opts": {"size": "2G"}}),
            Expect::Value(Value::Null),
        ),
        step(
            "VolumeDriver.List",
            json!({"op": "volume.list"}),
            Expect::Value(json!([{"Name": "interop-v", "Mountpoint": mountpoint}])),
        ),
        step(
            "VolumeDriver.Get (CreatedAt into time.Time)",
            json!({"op": "volume.get", "name": "interop-v"}),
            Expect::Check(|seen| {
                same(&seen.get("Name"), &Some(&json!("interop-v")))?;
                // The volume's directory under the plugins' state.
                match seen.get("Mountpoint").and_then(Value::as_str) {
                    Some(path) if path.ends_with("-state/volumes/interop-v") => {}
                    _ => return Err(format!("Mountpoint is not the volume's directory: {seen}")),
                }
                same(&seen.get("Status"), &Some(&json!({"size": "1G"})))?;
                match seen.get("CreatedAt").and_then(Value::as_str) {
                    Some("0001-01-01T00:00:00Z") | None => {
                        Err(format!("CreatedAt did not come through: {seen}"))
                    }
                    Some(_) => Ok(()),
                }
            }),
        ),
        step(
            "VolumeDriver.Get of a missing volume: 500 Err decoded",
            json!({"op": "volume.get", "name": "missing"}),
            error("VolumeDriver.Get: demo-volume: no such volume: missing"),
        ),
        step(
            "VolumeDriver.Path before Mount: the volume's directory",
            json!({"op": "volume.path", "name": "interop-v"}),
            Expect::Value(json!(mountpoint)),
        ),
        step(
            "VolumeDriver.Mount",
            json!({"op": "volume.mount", "name": "interop-v", "id": "ctr-1"}),
            Expect::Value(json!(mountpoint)),
        ),
        step(
            "VolumeDriver.Path after Mount",
            json!({"op": "volume.path", "name": "interop-v"}),
            Expect::Value(json!(mountpoint)),
        ),
        step(
            "VolumeDriver.List after Mount",
            json!({"op": "volume.list"}),
            Expect::Value(json!([{"Name": "interop-v", "Mountpoint": mountpoint}])),
        ),
        step(
            "VolumeDriver.Unmount",
            json!({"op": "volume.unmount", "name": "interop-v", "id": "ctr-1"}),
            Expect::Value(Value::Null),
        ),
        step(
            "VolumeDriver.Remove",
            json!({"op": "volume.remove", "name": "interop-v"}),
            Expect::Value(Value::Null),
        ),
        step(
            "VolumeDriver.Remove again: 500 Err decoded",
            json!({"op": "volume.remove", "name": "interop-v"}),
            error("VolumeDriver.Remove: demo-volume: no such volume: interop-v"),
        ),
        step(
            "VolumeDriver.List when empty",
            json!({"op": "volume.list"}),
            Expect::Value(json!([])),
        ),
        step(
            "malformed body (SendFile): 400 with the reason",
            json!({"op": "call", "method": "VolumeDriver.Create", "raw": "{\"Name\":"}),
            error(
                "VolumeDriver.Create: the request body is not valid JSON for this method: EOF while parsing a value at line 1 column 8",
            ),
        ),
        step(
            "empty body where arguments are needed: 400",
            json!({"op": "call", "method": "VolumeDriver.Create"}),
            error(
                "VolumeDriver.Create: the request body is empty, and this method needs arguments",
            ),
        ),
        step(
            "... and nothing was created",
            json!({"op": "volume.list"}),
            Expect::Value(json!([])),
        ),
        step(
            "lower-case keys, as Go accepts them",
            json!({"op": "call", "method": "VolumeDriver.Create", "args": {"name": "lower", "opts": {"k": "v"}}}),
            Expect::Value(json!({})),
        ),
        step(
            "... created with its options",
            json!({"op": "volume.get", "name": "lower"}),
            Expect::Check(|seen| same(&seen.get("Status"), &Some(&json!({"k": "v"})))),
        ),
        step(
            "... removed",
            json!({"op": "volume.remove", "name": "lower"}),
            Expect::Value(Value::Null),
        ),
        step(
            "unknown method: 404",
            json!({"op": "call", "method": "VolumeDriver.Nope", "args": {}}),
            Expect::NotFound,
        ),
    ])
}

fn ipam_steps(ours: &OurPlugins) -> Result<Vec<Step>, Failure> {
    let addr = ours.address("demo-ipam")?;
    let pool_id = "LocalDefault/10.77.0.0/24";
    Ok(vec![
        step(
            "NewClient + Plugin.Activate (demo-ipam)",
            json!({"op": "connect", "addr": addr}),
            Expect::Value(Value::Null),
        ),
        step(
            "Plugin.Activate: the manifest",
            json!({"op": "call", "method": "Plugin.Activate"}),
            Expect::Value(json!({"Implements": ["IpamDriver"]})),
        ),
        step(
            "IpamDriver.GetCapabilities (empty body)",
            json!({"op": "ipam.capabilities"}),
            Expect::Value(json!({"RequiresMACAddress": false, "RequiresRequestReplay": false})),
        ),
        step(
            "IpamDriver.GetDefaultAddressSpaces (empty body)",
            json!({"op": "ipam.address_spaces"}),
            Expect::Value(json!(["LocalDefault", "GlobalDefault"])),
        ),
        step(
            "IpamDriver.RequestPool",
            json!({"op": "ipam.request_pool", "pool": {"AddressSpace": "LocalDefault", "Options": {}}}),
            Expect::Value(json!({"PoolID": pool_id, "Pool": "10.77.0.0/24", "Data": {}})),
        ),
        step(
            "IpamDriver.RequestAddress (the gateway)",
            json!({"op": "ipam.request_address", "poolid": pool_id, "opts": {"RequestAddressType": "com.docker.network.gateway"}}),
            Expect::Value(json!({"Address": "10.77.0.1/24", "Data": {}})),
        ),
        step(
            "IpamDriver.RequestAddress of a given address",
            json!({"op": "ipam.request_address", "poolid": pool_id, "address": "10.77.0.9"}),
            Expect::Value(json!({"Address": "10.77.0.9/24", "Data": {}})),
        ),
        step(
            "IpamDriver.RequestAddress of a taken address: 500 Err decoded",
            json!({"op": "ipam.request_address", "poolid": pool_id, "address": "10.77.0.9"}),
            error("IpamDriver.RequestAddress: 10.77.0.9 is already in use"),
        ),
        step(
            "IpamDriver.ReleaseAddress",
            json!({"op": "ipam.release_address", "poolid": pool_id, "address": "10.77.0.9"}),
            Expect::Value(Value::Null),
        ),
        step(
            "IpamDriver.ReleaseAddress again",
            json!({"op": "ipam.release_address", "poolid": pool_id, "address": "10.77.0.9"}),
            error("IpamDriver.ReleaseAddress: 10.77.0.9 is not allocated in pool 10.77.0.0/24"),
        ),
        step(
            "IpamDriver.ReleasePool",
            json!({"op": "ipam.release_pool", "poolid": pool_id}),
            Expect::Value(Value::Null),
        ),
        step(
            "IpamDriver.ReleasePool again",
            json!({"op": "ipam.release_pool", "poolid": pool_id}),
            error(format!("IpamDriver.ReleasePool: no such pool: {pool_id}")),
        ),
        step(
            "IpamDriver.RequestPool for IPv6: refused",
            json!({"op": "ipam.request_pool", "pool": {"AddressSpace": "LocalDefault", "V6": true}}),
            error("IpamDriver.RequestPool: demo-ipam hands out IPv4 pools only"),
        ),
    ])
}

fn echo_steps(addr: &str, ca: Option<&str>, implements: &[&str]) -> Vec<Step> {
    vec![
        step(
            format!("NewClient {addr}"),
            json!({"op": "connect", "addr": addr, "ca": ca.unwrap_or_default()}),
            Expect::Value(Value::Null),
        ),
        step(
            "Plugin.Activate: the manifest",
            json!({"op": "call", "method": "Plugin.Activate"}),
            Expect::Value(json!({ "Implements": implements })),
        ),
        step(
            "Echo.Echo",
            json!({"op": "call", "method": "Echo.Echo", "args": {"over": addr}}),
            Expect::Value(json!({ "over": addr })),
        ),
    ]
}

/// Entries this run made in Docker's plugin directories; removed on drop.
#[derive(Debug, Default)]
struct Planted {
    files: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
}

impl Planted {
    /// Makes sure this run can create files in `dir`, creating it (and
    /// noting so) if missing.
    fn writable(&mut self, dir: &Path) -> Result<(), Failure> {
        let mut missing = Vec::new();
        let mut ancestor = Some(dir);
        while let Some(path) = ancestor.filter(|p| !p.exists()) {
            missing.push(path.to_owned());
            ancestor = path.parent();
        }
        for path in missing.into_iter().rev() {
            std::fs::create_dir(&path)
                .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
            self.dirs.push(path);
        }
        tempfile::Builder::new()
            .prefix(".interop-probe-")
            .tempfile_in(dir)
            .map(drop)
            .map_err(|e| format!("cannot write in {}: {e}", dir.display()))
    }

    fn symlink(&mut self, target: &Path, link: PathBuf) -> Result<(), Failure> {
        std::os::unix::fs::symlink(target, &link)
            .map_err(|e| format!("cannot create {}: {e}", link.display()))?;
        self.files.push(link);
        Ok(())
    }

    fn write(&mut self, text: &str, to: PathBuf) -> Result<(), Failure> {
        std::fs::write(&to, text).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
        self.files.push(to);
        Ok(())
    }

    fn copy(&mut self, from: &Path, to: PathBuf) -> Result<(), Failure> {
        std::fs::copy(from, &to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
        self.files.push(to);
        Ok(())
    }
}

impl Drop for Planted {
    fn drop(&mut self) {
        for file in &self.files {
            let _ = std::fs::remove_file(file);
        }
        // Only directories this run created, and only if left empty.
        for dir in self.dirs.iter().rev() {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// Discovery by name through Docker's own registry (`plugins.Get`,
/// `plugins.GetAll`), whose directories are fixed: needs root.
async fn discovery(
    report: &mut Report,
    programs: &Programs,
    ours: &OurPlugins,
) -> Result<(), Failure> {
    let (sockets, specs) = (
        Path::new(plugin_spec::DOCKER_SOCKET_DIR),
        Path::new("/etc/docker/plugins"),
    );
    let transport = "Docker's registry";
    let mut planted = Planted::default();
    if let Err(why) = planted
        .writable(sockets)
        .and_then(|()| planted.writable(specs))
    {
        report.skip(
            DIRECTION,
            transport,
            "plugins.Get / plugins.GetAll by name",
            format!(
                "{why}: Docker's registry reads only /run/docker/plugins and /etc/docker/plugins; run as root"
            ),
        );
        return Ok(());
    }
    let prefix = format!("interop-{}", ours.pid()?);
    let (volume, volume_spec, tcp, tls) = (
        format!("{prefix}-volume"),
        format!("{prefix}-volume-spec"),
        format!("{prefix}-tcp"),
        format!("{prefix}-tls"),
    );
    planted.symlink(
        &ours.dir.join("demo-volume.sock"),
        sockets.join(format!("{volume}.sock")),
    )?;
    planted.write(
        &format!("unix://{}\n", ours.dir.join("demo-volume.sock").display()),
        specs.join(format!("{volume_spec}.spec")),
    )?;
    planted.copy(
        &ours.dir.join("echo-tcp.spec"),
        specs.join(format!("{tcp}.spec")),
    )?;
    planted.copy(
        &ours.dir.join("echo-tls.json"),
        specs.join(format!("{tls}.json")),
    )?;

    let socket_addr = format!("unix:///run/docker/plugins/{volume}.sock");
    let steps = vec![
        step(
            format!("plugins.Get({volume:?}, \"VolumeDriver\"): a symlinked socket"),
            json!({"op": "get", "name": volume, "iface": "VolumeDriver"}),
            Expect::Value(
                json!({"Name": volume, "Addr": socket_addr, "Implements": ["VolumeDriver"]}),
            ),
        ),
        step(
            "... VolumeDriver.List through it",
            json!({"op": "volume.list"}),
            Expect::Value(json!([])),
        ),
        step(
            format!("plugins.Get({tcp:?}, \"Echo\"): a .spec"),
            json!({"op": "get", "name": tcp, "iface": "Echo"}),
            Expect::Check(|seen| same(&seen.get("Implements"), &Some(&json!(["Echo"])))),
        ),
        step(
            "... Echo.Echo through it",
            json!({"op": "call", "method": "Echo.Echo", "args": [1, 2]}),
            Expect::Value(json!([1, 2])),
        ),
        step(
            format!("plugins.Get({tls:?}, \"Echo\"): a .json with a CA"),
            json!({"op": "get", "name": tls, "iface": "Echo"}),
            Expect::Check(|seen| same(&seen.get("Implements"), &Some(&json!(["Echo"])))),
        ),
        step(
            "... Echo.Echo through it",
            json!({"op": "call", "method": "Echo.Echo", "args": "tls"}),
            Expect::Value(json!("tls")),
        ),
        step(
            format!("plugins.Get({volume:?}, \"IpamDriver\"): does not implement"),
            json!({"op": "get", "name": volume, "iface": "IpamDriver"}),
            error("Plugin does not implement the requested driver"),
        ),
    ];
    let mut host = DockerHost::start(programs)?;
    run_steps(report, &mut host, transport, steps).await?;
    let outcome = host
        .run(json!({"op": "getall", "iface": "VolumeDriver"}))
        .await?;
    report.case(
        DIRECTION,
        transport,
        "plugins.GetAll(\"VolumeDriver\"): the .spec one (Docker's Scan skips symlinked sockets)",
        outcome.value().and_then(|seen| {
            let ours: Vec<&str> = seen
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .filter(|name| name.starts_with(&prefix))
                .collect();
            same(&ours, &vec![volume_spec.as_str()]).map(|()| format!("{ours:?} among {seen}"))
        }),
    );
    drop(planted);
    Ok(())
}
