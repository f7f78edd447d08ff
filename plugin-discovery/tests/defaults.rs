//! Directories (docs/protocol.md, "Discovery"): Docker's defaults, rootless included, read from
//! an injected environment (the process environment is never touched).

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::PathBuf;

use plugin_discovery::{DOCKER_SOCKET_DIR, Discovery};

fn defaults(vars: &[(&str, &str)]) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let vars: HashMap<String, OsString> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), OsString::from(v)))
        .collect();
    let env = move |key: &str| vars.get(key).cloned();
    let discovery = Discovery::docker_defaults_from(env);
    (
        discovery.socket_dirs().to_vec(),
        discovery.spec_dirs().to_vec(),
    )
}

fn paths(paths: &[&str]) -> Vec<PathBuf> {
    paths.iter().map(PathBuf::from).collect()
}

#[test]
fn rootful_docker_uses_run_etc_and_usr_lib() {
    let (sockets, specs) = defaults(&[("HOME", "/home/ann"), ("XDG_CONFIG_HOME", "/home/ann/cfg")]);
    assert_eq!(sockets, paths(&[DOCKER_SOCKET_DIR]));
    assert_eq!(
        specs,
        paths(&["/etc/docker/plugins", "/usr/lib/docker/plugins"])
    );
}

#[test]
fn rootless_docker_uses_the_users_config_and_lib_dirs() {
    let (sockets, specs) = defaults(&[
        ("ROOTLESSKIT_STATE_DIR", "/run/user/1000/dockerd-rootless"),
        ("HOME", "/home/ann"),
    ]);
    assert_eq!(sockets, paths(&["/run/docker/plugins"]));
    assert_eq!(
        specs,
        paths(&[
            "/home/ann/.config/docker/plugins",
            "/home/ann/.local/lib/docker/plugins"
        ])
    );
}

#[test]
fn rootless_docker_honours_xdg_config_home() {
    let (_, specs) = defaults(&[
        ("ROOTLESSKIT_STATE_DIR", "/run/user/1000/dockerd-rootless"),
        ("HOME", "/home/ann"),
        ("XDG_CONFIG_HOME", "/home/ann/cfg"),
    ]);
    assert_eq!(
        specs,
        paths(&[
            "/home/ann/cfg/docker/plugins",
            "/home/ann/.local/lib/docker/plugins"
        ])
    );
}

#[test]
fn rootless_docker_without_a_home_falls_back_to_the_rootful_dirs() {
    let (_, specs) = defaults(&[("ROOTLESSKIT_STATE_DIR", "/x")]);
    assert_eq!(
        specs,
        paths(&["/etc/docker/plugins", "/usr/lib/docker/plugins"])
    );
    let (_, specs) = defaults(&[("ROOTLESSKIT_STATE_DIR", "/x"), ("HOME", "")]);
    assert_eq!(
        specs,
        paths(&["/etc/docker/plugins", "/usr/lib/docker/plugins"])
    );
}

#[test]
fn rootless_docker_ignores_relative_xdg_config_home() {
    let (_, specs) = defaults(&[
        ("ROOTLESSKIT_STATE_DIR", "/x"),
        ("HOME", "/h"),
        ("XDG_CONFIG_HOME", "cfg"),
    ]);
    assert_eq!(
        specs,
        paths(&["/h/.config/docker/plugins", "/h/.local/lib/docker/plugins"])
    );
}

#[test]
fn an_empty_rootlesskit_state_dir_means_rootful() {
    let (_, specs) = defaults(&[("ROOTLESSKIT_STATE_DIR", ""), ("HOME", "/h")]);
    assert_eq!(
        specs,
        paths(&["/etc/docker/plugins", "/usr/lib/docker/plugins"])
    );
}

#[test]
fn docker_defaults_reads_the_process_environment() {
    // Whatever this process's environment says, the socket dir is Docker's.
    assert_eq!(
        Discovery::docker_defaults().socket_dirs(),
        paths(&[DOCKER_SOCKET_DIR])
    );
}
