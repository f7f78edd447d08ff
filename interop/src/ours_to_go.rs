//! Direction (b): our registry, client and `pluginctl` against the Go plugin
//! (`go/goplugin`, answering as go-plugins-helpers plugins do).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use plugin_client::{ClientConfig, ClientError, RetryConfig};
use plugin_discovery::Discovery;
use plugin_registry::{Plugin, Registry};
use plugin_spec::PluginName;
use plugin_subsystems::volume::VolumeDriverClient;
use serde_json::{Value, json};

use crate::dockerhost::DockerHost;
use crate::procs::{GoPlugin, OurPlugins};
use crate::report::{Direction, Report, same};
use crate::{Failure, Programs};

const DIRECTION: Direction = Direction::OursToGo;
const ACCEPT: &str = "application/vnd.docker.plugins.v1.2+json";
/// How our client says a certificate's issuer is unknown.
const UNKNOWN_ISSUER: &str = "the plugin's certificate is not signed by a CA we trust";

/// Every case of direction (b).
pub(crate) async fn run(
    report: &mut Report,
    programs: &Programs,
    ours: &OurPlugins,
    dir: &Path,
) -> Result<(), Failure> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let unix = GoPlugin::unix(programs, &dir.join("go-volume.sock")).await?;
    let tls = GoPlugin::tls(
        programs,
        &ours.tls_file("cert.pem"),
        &ours.tls_file("key.pem"),
    )
    .await?;
    let port = tls.port()?;
    let ca = ours.tls_file("ca.pem");
    write(
        &dir.join("go-volume-tls.json"),
        &json!({
            "Name": "go-volume-tls",
            "Addr": format!("https://localhost:{port}"),
            "TLSConfig": {"CAFile": ca},
        })
        .to_string(),
    )?;
    write(
        &dir.join("go-volume-noca.spec"),
        &format!("https://localhost:{port}\n"),
    )?;
    let registry = Registry::builder(Discovery::builder().plugin_dir(dir).build())
        .client_config(ClientConfig::default().retry(RetryConfig::none()))
        .build();

    let transport = "unix";
    let Some(plugin) = activate(
        report,
        &registry,
        transport,
        "go-volume",
        &["VolumeDriver", "Echo"],
    )
    .await
    else {
        return Ok(());
    };
    volume_cases(report, transport, &plugin).await;
    let ours_saw = seen(&plugin).await?;
    headers(report, transport, &ours_saw, "plugin.moby.localhost");
    same_bodies_as_docker(report, programs, &unix, &ours_saw).await?;
    errors(report, transport, &plugin).await;

    let transport = "tls (.json, CA)";
    if let Some(plugin) = activate(
        report,
        &registry,
        transport,
        "go-volume-tls",
        &["VolumeDriver", "Echo"],
    )
    .await
    {
        let volumes = VolumeDriverClient::new(plugin.client().clone());
        report.case(
            DIRECTION,
            transport,
            "VolumeDriver.List over TLS, certificate verified with the CA",
            volumes
                .list()
                .await
                .map_err(|e| chain(&e))
                .and_then(|list| same(&list.len(), &0).map(|()| "[]".to_owned())),
        );
        let saw = seen(&plugin).await?;
        headers(report, transport, &saw, &format!("localhost:{port}"));
    }
    let transport = "tls (.spec, no CA)";
    let refused = registry.get(&name("go-volume-noca")?, "VolumeDriver").await;
    report.case(
        DIRECTION,
        transport,
        "an unknown issuer is refused (Docker would skip verification)",
        match refused {
            Ok(_) => Err("activated a plugin whose certificate no trusted CA signed".to_owned()),
            Err(e) if chain(&e).contains(UNKNOWN_ISSUER) => Ok(chain(&e)),
            Err(e) => Err(format!(
                "refused, but not for its certificate: {}",
                chain(&e)
            )),
        },
    );

    self_signed_ca(report, programs, &registry, dir).await?;

    pluginctl_cases(report, programs, dir).await;
    drop((unix, tls));
    Ok(())
}

/// The Go plugin serving a self-signed certificate that is its own CA, made by
/// `openssl req -x509` with its defaults (`basicConstraints CA:TRUE`), and
/// named as its `.json` descriptor's CAFile: Docker's client accepts it, and
/// so must ours.
async fn self_signed_ca(
    report: &mut Report,
    programs: &Programs,
    registry: &Registry,
    dir: &Path,
) -> Result<(), Failure> {
    let transport = "tls (.json, self-signed CA)";
    let (cert, key) = (dir.join("self-ca-cert.pem"), dir.join("self-ca-key.pem"));
    let mut openssl = tokio::process::Command::new("openssl");
    openssl
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-days", "2", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert);
    run_openssl(openssl).await?;
    let mut show = tokio::process::Command::new("openssl");
    show.args(["x509", "-noout", "-ext", "basicConstraints", "-in"])
        .arg(&cert);
    let constraints = run_openssl(show).await?;
    let plugin = GoPlugin::tls(programs, &cert, &key).await?;
    let port = plugin.port()?;
    write(
        &dir.join("go-volume-self-ca.json"),
        &json!({
            "Name": "go-volume-self-ca",
            "Addr": format!("https://localhost:{port}"),
            "TLSConfig": {"CAFile": cert},
        })
        .to_string(),
    )?;
    let mut docker = DockerHost::start(programs)?;
    let docker_said = match docker
        .run(json!({"op": "connect", "addr": format!("https://localhost:{port}"), "ca": cert}))
        .await?
    {
        crate::dockerhost::Outcome::Ok(_) => {
            docker
                .run(json!({"op": "call", "method": "Plugin.Activate"}))
                .await?
        }
        failed => failed,
    };
    let ours = registry
        .get(&name("go-volume-self-ca")?, "VolumeDriver")
        .await;
    report.case(
        DIRECTION,
        transport,
        "a certificate that is its own CA (openssl req -x509), named as CAFile, is accepted as Docker's client accepts it",
        if !constraints.contains("CA:TRUE") {
            Err(format!(
                "openssl made a certificate that is not a CA, so this case proves nothing: {constraints}"
            ))
        } else {
            match (docker_said.value(), ours) {
                (Err(docker), _) => Err(format!("{docker} (so the case is not what Docker accepts)")),
                (Ok(_), Err(e)) => Err(format!("Docker's client accepts it; ours refused: {}", chain(&e))),
                (Ok(_), Ok(p)) => Ok(format!(
                    "{}; both activated it: implements {:?}",
                    constraints.trim().replace('\n', " "),
                    p.manifest().implements()
                )),
            }
        },
    );
    drop(plugin);
    // The other cases list this directory; this plugin is gone now.
    std::fs::remove_file(dir.join("go-volume-self-ca.json"))
        .map_err(|e| format!("cannot remove go-volume-self-ca.json: {e}"))?;
    Ok(())
}

async fn run_openssl(mut command: tokio::process::Command) -> Result<String, Failure> {
    let out = command
        .output()
        .await
        .map_err(|e| format!("cannot run openssl (interop needs it): {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "openssl failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn write(path: &Path, text: &str) -> Result<(), Failure> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn name(text: &str) -> Result<PluginName, Failure> {
    PluginName::new(text).map_err(|e| e.to_string())
}

/// An error and its causes, on one line (each layer says its cause once, so
/// nothing repeats).
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

async fn activate(
    report: &mut Report,
    registry: &Registry,
    transport: &str,
    plugin: &str,
    implements: &[&str],
) -> Option<Plugin> {
    let outcome = match name(plugin) {
        Ok(name) => registry
            .get(&name, "VolumeDriver")
            .await
            .map_err(|e| chain(&e)),
        Err(e) => Err(e),
    };
    let checked = outcome.and_then(|p| {
        same(
            &p.manifest().implements(),
            &implements
                .iter()
                .map(|s| (*s).to_owned())
                .collect::<Vec<_>>()
                .as_slice(),
        )?;
        Ok(p)
    });
    let case = format!("Registry::get({plugin:?}, \"VolumeDriver\"): activation");
    match checked {
        Ok(p) => {
            report.case(
                DIRECTION,
                transport,
                case,
                Ok(format!("implements {:?}", p.manifest().implements())),
            );
            Some(p)
        }
        Err(e) => {
            report.case(DIRECTION, transport, case, Err(e));
            None
        }
    }
}

fn failed_with(
    result: Result<impl std::fmt::Debug, ClientError>,
    expected: &str,
) -> Result<String, String> {
    match result {
        Ok(value) => Err(format!("succeeded with {value:?}; expected {expected:?}")),
        Err(e) => same(&e.to_string(), &expected.to_owned()).map(|()| e.to_string()),
    }
}

fn answered<T: PartialEq + std::fmt::Debug>(
    result: Result<T, ClientError>,
    expected: &T,
) -> Result<String, String> {
    let value = result.map_err(|e| chain(&e))?;
    same(&value, expected).map(|()| format!("{value:?}"))
}

async fn volume_cases(report: &mut Report, transport: &str, plugin: &Plugin) {
    let volumes = VolumeDriverClient::new(plugin.client().clone());
    let who = "(plugin \"go-volume\", HTTP 500)";
    let mountpoint = "/var/lib/goplugin/interop-v".to_owned();
    let mut case = |case: &str, outcome: Result<String, String>| {
        report.case(DIRECTION, transport, case, outcome);
    };
    let scope = volumes.capabilities().await.scope;
    case(
        "VolumeDriver.Capabilities",
        same(&scope.as_str(), &"global").map(|()| scope.clone()),
    );
    let opts: BTreeMap<String, String> = [("size".to_owned(), "1G".to_owned())].into();
    case(
        "VolumeDriver.Create with Opts",
        answered(volumes.create("interop-v", Some(opts)).await, &()),
    );
    case(
        "VolumeDriver.Create again: 500 Err decoded",
        failed_with(
            volumes.create("interop-v", None).await,
            &format!("VolumeDriver.Create: volume interop-v already exists {who}"),
        ),
    );
    let listed = volumes.list().await.map(|list| {
        list.into_iter()
            .map(|v| (v.name, v.mountpoint))
            .collect::<Vec<_>>()
    });
    case(
        "VolumeDriver.List",
        answered(listed, &vec![("interop-v".to_owned(), String::new())]),
    );
    case(
        "VolumeDriver.Get",
        match volumes.get("interop-v").await {
            Ok(Some(volume)) => {
                let status: BTreeMap<String, Value> = [("size".to_owned(), json!("1G"))].into();
                same(&volume.name.as_str(), &"interop-v")
                    .and_then(|()| same(&volume.status, &status))
                    .and_then(|()| {
                        if volume.created_at.is_empty() {
                            Err("no CreatedAt".to_owned())
                        } else {
                            Ok(format!("{volume:?}"))
                        }
                    })
            }
            Ok(None) => Err("no volume".to_owned()),
            Err(e) => Err(chain(&e)),
        },
    );
    case(
        "VolumeDriver.Get of a missing volume: null Volume",
        answered(
            volumes.get("missing").await.map(|v| v.map(|v| v.name)),
            &None,
        ),
    );
    case(
        "VolumeDriver.Path before Mount",
        answered(volumes.path("interop-v").await, &String::new()),
    );
    case(
        "VolumeDriver.Mount",
        answered(volumes.mount("interop-v", "ctr-1").await, &mountpoint),
    );
    case(
        "VolumeDriver.Path after Mount",
        answered(volumes.path("interop-v").await, &mountpoint),
    );
    case(
        "VolumeDriver.Unmount",
        answered(volumes.unmount("interop-v", "ctr-1").await, &()),
    );
    case(
        "VolumeDriver.Remove",
        answered(volumes.remove("interop-v").await, &()),
    );
    case(
        "VolumeDriver.Remove again: 500 Err decoded",
        failed_with(
            volumes.remove("interop-v").await,
            &format!("VolumeDriver.Remove: no such volume: interop-v {who}"),
        ),
    );
    case(
        "VolumeDriver.List when empty",
        answered(volumes.list().await.map(|l| l.len()), &0),
    );
}

/// The requests the Go plugin saw since the last time it was asked.
async fn seen(plugin: &Plugin) -> Result<Vec<Value>, Failure> {
    let answer = plugin
        .client()
        .call_raw("Interop.Seen", "")
        .await
        .map_err(|e| format!("cannot ask the Go plugin what it saw: {}", chain(&e)))?;
    let seen: Value = serde_json::from_slice(&answer)
        .map_err(|e| format!("the Go plugin's Interop.Seen is not JSON: {e}"))?;
    Ok(seen.as_array().cloned().unwrap_or_default())
}

fn field<'a>(request: &'a Value, key: &str) -> &'a str {
    request.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// Accept, User-Agent, Host and Content-Type on every request the Go plugin saw.
fn headers(report: &mut Report, transport: &str, seen: &[Value], host: &str) {
    let agent = plugin_client::USER_AGENT;
    let wrong: Vec<String> = seen
        .iter()
        .filter(|r| {
            field(r, "Accept") != ACCEPT
                || field(r, "Host") != host
                || field(r, "UserAgent") != agent
        })
        .map(Value::to_string)
        .collect();
    report.case(
        DIRECTION,
        transport,
        "the headers the Go plugin saw: Accept, User-Agent, Host",
        if seen.is_empty() {
            Err("the Go plugin saw no request".to_owned())
        } else if wrong.is_empty() {
            Ok(format!(
                "{} requests, each with Accept: {ACCEPT}, User-Agent: {agent}, Host: {host}",
                seen.len()
            ))
        } else {
            Err(format!(
                "expected Accept {ACCEPT:?}, User-Agent {agent:?} and Host {host:?} on {}",
                wrong.join(", ")
            ))
        },
    );
    let wrong: Vec<String> = seen
        .iter()
        .filter(|r| {
            let expected = if field(r, "Body").is_empty() {
                ""
            } else {
                "application/json"
            };
            field(r, "ContentType") != expected
        })
        .map(Value::to_string)
        .collect();
    report.case(
        DIRECTION,
        transport,
        "Content-Type: application/json on bodies, none without",
        if wrong.is_empty() {
            Ok(format!("{} requests", seen.len()))
        } else {
            Err(format!("wrong on {}", wrong.join(", ")))
        },
    );
}

/// A request as (path, body as JSON with nulls dropped; None if empty).
fn normalized(seen: &[Value]) -> Vec<(String, Option<Value>)> {
    fn drop_nulls(value: Value) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k, drop_nulls(v)))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.into_iter().map(drop_nulls).collect()),
            other => other,
        }
    }
    seen.iter()
        .map(|r| {
            let body = field(r, "Body");
            let json = if body.is_empty() {
                None
            } else {
                Some(
                    serde_json::from_str(body)
                        .map_or_else(|_| Value::String(body.to_owned()), drop_nulls),
                )
            };
            (field(r, "Method").to_owned(), json)
        })
        .collect()
}

/// Docker's client makes the same calls to the same plugin; the bodies must
/// say the same (Docker sends `"Opts":null` where we leave it out).
async fn same_bodies_as_docker(
    report: &mut Report,
    programs: &Programs,
    plugin: &GoPlugin,
    ours_saw: &[Value],
) -> Result<(), Failure> {
    let mut host = DockerHost::start(programs)?;
    let ops = [
        json!({"op": "connect", "addr": plugin.address}),
        json!({"op": "call", "method": "Plugin.Activate"}),
        json!({"op": "volume.capabilities"}),
        json!({"op": "volume.create", "name": "interop-v", "opts": {"size": "1G"}}),
        json!({"op": "volume.create", "name": "interop-v"}),
        json!({"op": "volume.list"}),
        json!({"op": "volume.get", "name": "interop-v"}),
        json!({"op": "volume.get", "name": "missing"}),
        json!({"op": "volume.path", "name": "interop-v"}),
        json!({"op": "volume.mount", "name": "interop-v", "id": "ctr-1"}),
        json!({"op": "volume.path", "name": "interop-v"}),
        json!({"op": "volume.unmount", "name": "interop-v", "id": "ctr-1"}),
        json!({"op": "volume.remove", "name": "interop-v"}),
        json!({"op": "volume.remove", "name": "interop-v"}),
        json!({"op": "volume.list"}),
    ];
    for op in ops {
        host.run(op).await?;
    }
    let docker_saw = host
        .run(json!({"op": "call", "method": "Interop.Seen"}))
        .await?
        .value()?;
    let docker_saw = docker_saw.as_array().cloned().unwrap_or_default();
    let (ours, docker) = (normalized(ours_saw), normalized(&docker_saw));
    let differences: Vec<String> = ours
        .iter()
        .zip(&docker)
        .filter(|(a, b)| a != b)
        .map(|(a, b)| format!("ours {a:?} / Docker's {b:?}"))
        .collect();
    report.case(
        DIRECTION,
        "unix",
        "request bodies: the same as Docker's client sends, call for call",
        if ours.len() != docker.len() {
            Err(format!(
                "{} requests from us, {} from Docker: {ours:?} / {docker:?}",
                ours.len(),
                docker.len()
            ))
        } else if differences.is_empty() {
            Ok(format!("{} requests alike", ours.len()))
        } else {
            Err(differences.join("; "))
        },
    );
    let host_header: Vec<&str> = docker_saw.iter().map(|r| field(r, "Host")).collect();
    report.case(
        DIRECTION,
        "unix",
        "(Docker 20.10's client sends an empty Host on unix sockets; today's sends plugin.moby.localhost)",
        if host_header.iter().all(|h| h.is_empty()) {
            Ok("Host: \"\" on each".to_owned())
        } else {
            Err(format!("Docker's client sent Host {host_header:?}"))
        },
    );
    Ok(())
}

async fn errors(report: &mut Report, transport: &str, plugin: &Plugin) {
    let client = plugin.client();
    report.case(
        DIRECTION,
        transport,
        "malformed body: 400, plain-text reason",
        match client.call_raw("VolumeDriver.Create", "{\"Name\":").await {
            Ok(answer) => Err(format!("succeeded with {answer:?}")),
            Err(e) => same(&e.status().map(|s| s.as_u16()), &Some(400))
                .and_then(|()| same(&e.message(), &Some("unexpected EOF")))
                .map(|()| e.to_string()),
        },
    );
    report.case(
        DIRECTION,
        transport,
        "unknown method: 404 is not-implemented",
        match client.call_raw("VolumeDriver.Nope", "{}").await {
            Ok(answer) => Err(format!("succeeded with {answer:?}")),
            Err(e) if e.is_not_implemented() => {
                same(&e.message(), &Some("404 page not found")).map(|()| e.to_string())
            }
            Err(e) => Err(format!("not a 404: {}", chain(&e))),
        },
    );
}

async fn pluginctl(programs: &Programs, dir: &Path, args: &[&str]) -> Result<Output, String> {
    tokio::process::Command::new(&programs.pluginctl)
        .arg("--plugin-dir")
        .arg(dir)
        .args(args)
        .output()
        .await
        .map_err(|e| format!("cannot run pluginctl: {e}"))
}

async fn pluginctl_cases(report: &mut Report, programs: &Programs, dir: &Path) {
    let transport = "pluginctl";
    let ls = pluginctl(programs, dir, &["--json", "ls", "--activate"])
        .await
        .and_then(|out| {
            serde_json::from_slice::<Value>(&out.stdout).map_err(|e| {
                format!(
                    "ls --json printed no JSON ({e}): {}",
                    String::from_utf8_lossy(&out.stdout)
                )
            })
        })
        .and_then(|listed| {
            let rows = listed
                .get("plugins")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let find = |name: &str| {
                rows.iter()
                    .find(|row| row.get("name") == Some(&json!(name)))
                    .cloned()
            };
            let implements = json!(["VolumeDriver", "Echo"]);
            for name in ["go-volume", "go-volume-tls"] {
                let row = find(name).ok_or_else(|| format!("{name} not listed: {listed}"))?;
                same(&row.get("implements"), &Some(&implements))?;
            }
            let noca = find("go-volume-noca")
                .ok_or_else(|| format!("go-volume-noca not listed: {listed}"))?;
            let error = noca
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if error.contains(UNKNOWN_ISSUER) {
                Ok(format!("3 plugins; go-volume-noca: {error}"))
            } else {
                Err(format!(
                    "go-volume-noca should fail on its certificate: {noca}"
                ))
            }
        });
    report.case(DIRECTION, transport, "pluginctl --json ls --activate", ls);
    let call = pluginctl(
        programs,
        dir,
        &["call", "go-volume", "VolumeDriver.Capabilities"],
    )
    .await
    .and_then(|out| {
        same(&out.status.code(), &Some(0))?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        same(
            &text.as_str(),
            &"{\"Capabilities\":{\"Scope\":\"global\"}}\n",
        )
        .map(|()| text.trim().to_owned())
    });
    report.case(
        DIRECTION,
        transport,
        "pluginctl call go-volume VolumeDriver.Capabilities",
        call,
    );
    let missing = pluginctl(
        programs,
        dir,
        &["call", "go-volume", "VolumeDriver.Nope", "{}"],
    )
    .await
    .and_then(|out| {
        same(&out.status.code(), &Some(1))?;
        let text = String::from_utf8_lossy(&out.stderr).into_owned();
        same(
            &text.as_str(),
            &"error: VolumeDriver.Nope: 404 page not found (plugin \"go-volume\", HTTP 404)\n",
        )
        .map(|()| text.trim().to_owned())
    });
    report.case(
        DIRECTION,
        transport,
        "pluginctl call go-volume VolumeDriver.Nope: exit 1",
        missing,
    );
}
