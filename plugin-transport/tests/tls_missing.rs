//! Without the `tls` feature (the default), an `https://` plugin fails when its
//! transport is made, with an error that says which feature to turn on. CI runs
//! this file with `--no-default-features` (xtask's "no TLS" step).

#![cfg(not(feature = "tls"))]

use plugin_spec::{PluginName, PluginSpec};
use plugin_transport::{Transport, TransportConfig, TransportError};

fn refused(spec: &PluginSpec) -> TransportError {
    Transport::for_spec(spec, &TransportConfig::default()).unwrap_err()
}

const ENABLE: &str = "an https:// plugin needs TLS, which this build leaves out: turn on the \
     `tls` feature of the plugin crate you depend on (plugin-registry, plugin-client, \
     plugin-subsystems or plugin-transport)";

#[test]
fn an_https_spec_file_says_to_turn_on_tls() {
    let name = PluginName::new("vault").unwrap();
    let spec = PluginSpec::from_spec_text(
        name,
        "https://127.0.0.1:9443\n",
        "/etc/docker/plugins/vault.spec",
    )
    .unwrap();
    let err = refused(&spec);
    assert!(
        matches!(err, TransportError::TlsUnavailable { .. }),
        "{err:?}"
    );
    assert!(err.is_tls() && !err.is_connect(), "{err:?}");
    assert_eq!(err.target().name().as_str(), "vault");
    let message = err.to_string();
    assert!(message.ends_with(ENABLE), "{message}");
    assert!(message.contains("vault"), "{message}");
}

#[test]
fn a_json_descriptor_with_a_tls_config_says_to_turn_on_tls() {
    let name = PluginName::new("vault").unwrap();
    let json =
        r#"{"Addr": "https://plugins.example:9443", "TLSConfig": {"CAFile": "/etc/vault/ca.pem"}}"#;
    let spec = PluginSpec::from_json_text(name, json, "/etc/docker/plugins/vault.json").unwrap();
    assert!(refused(&spec).to_string().ends_with(ENABLE));
}

#[test]
fn plain_tcp_still_works_without_tls() {
    let name = PluginName::new("plain").unwrap();
    let spec = PluginSpec::from_spec_text(name, "tcp://127.0.0.1:9000\n", "/p.spec").unwrap();
    Transport::for_spec(&spec, &TransportConfig::default()).unwrap();
}
