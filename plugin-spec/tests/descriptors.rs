//! Descriptor texts (docs/protocol.md, "Descriptors"): a table of `.spec` and `.json` contents with
//! the exact result of each (address, TLS options and warnings, or the error).

mod support;

use plugin_spec::{PluginName, PluginSpec};
use support::summary;

#[derive(Clone, Copy, Debug)]
enum Kind {
    Spec,
    Json,
}

use Kind::{Json, Spec};

/// (kind, descriptor text, expected summary)
const CASES: &[(Kind, &str, &str)] = &[
    // .spec: one URL, surrounding whitespace trimmed.
    (
        Spec,
        "unix:///run/docker/plugins/p.sock",
        "unix:///run/docker/plugins/p.sock",
    ),
    (Spec, "unix:///a/b.sock\n", "unix:///a/b.sock"),
    (Spec, "  \t unix:///a/b.sock \r\n\n", "unix:///a/b.sock"),
    (
        Spec,
        "\u{feff}unix:///a/b.sock",
        "unix:///a/b.sock warn[ByteOrderMark]",
    ),
    (
        Spec,
        "\u{feff}  tcp://h:1\n",
        "tcp://h:1 warn[ByteOrderMark]",
    ),
    (Spec, "tcp://127.0.0.1:8080", "tcp://127.0.0.1:8080"),
    (Spec, "tcp://[::1]:8080", "tcp://[::1]:8080"),
    (Spec, "tcp://localhost", "tcp://localhost:80"),
    (Spec, "http://10.1.2.3:9000", "tcp://10.1.2.3:9000"),
    (Spec, "http://plugins.example", "tcp://plugins.example:80"),
    (
        Spec,
        "https://plugins.example:8443",
        "https://plugins.example:8443",
    ),
    (
        Spec,
        "https://plugins.example",
        "https://plugins.example:443",
    ),
    (Spec, "tcp://h:1/ignored/path", "tcp://h:1"),
    (
        Spec,
        "unix://a.sock",
        "InvalidAddress(RelativeUnixPath(\"a.sock\"))",
    ),
    (
        Spec,
        "unix://run/docker/plugins/x.sock",
        "InvalidAddress(RelativeUnixPath(\"run\"))",
    ),
    (
        Spec,
        "unix:a.sock",
        "InvalidAddress(RelativeUnixPath(\"a.sock\"))",
    ),
    (Spec, "ftp://x", "InvalidAddress(UnknownScheme(\"ftp\"))"),
    (
        Spec,
        "npipe:////./pipe/p",
        "InvalidAddress(UnsupportedPlatform(\"npipe\"))",
    ),
    (Spec, "", "Empty"),
    (Spec, " \n\t\r\n", "Empty"),
    (Spec, "\u{feff}", "Empty"),
    (
        Spec,
        "/run/docker/plugins/p.sock",
        "InvalidAddress(MissingScheme)",
    ),
    (Spec, "127.0.0.1:8080", "InvalidAddress(MissingScheme)"),
    (
        Spec,
        "tcp://h:1\ntcp://h:2",
        "InvalidAddress(ControlCharacter)",
    ),
    (Spec, "tcp://h:99999", "InvalidAddress(PortOutOfRange)"),
    (Spec, "tcp://:8080", "InvalidAddress(MissingHost)"),
    (
        Spec,
        "{\"Addr\": \"tcp://h:1\"}",
        "InvalidAddress(MissingScheme)",
    ),
    // .json: keys case-insensitive, unknown keys ignored.
    (Json, r#"{"Addr": "unix:///a.sock"}"#, "unix:///a.sock"),
    (Json, r#"{"addr": "tcp://h:1"}"#, "tcp://h:1"),
    (
        Json,
        r#"{"ADDR": "tcp://h:1", "Extra": [1, {"x": null}]}"#,
        "tcp://h:1",
    ),
    (Json, "\n  {\"Addr\":\"tcp://h:1\"}  \n", "tcp://h:1"),
    (
        Json,
        "\u{feff}{\"Addr\":\"tcp://h:1\"}",
        "tcp://h:1 warn[ByteOrderMark]",
    ),
    (Json, r#"{"Addr": "https://h:8443"}"#, "https://h:8443"),
    (
        Json,
        r#"{"Addr": "https://h:8443", "TLSConfig": {"CAFile": "/ca.pem"}}"#,
        "https://h:8443 tls(skip=false ca=/ca.pem cert=- key=-)",
    ),
    (
        Json,
        r#"{"Addr": "https://h", "TLSConfig": {"InsecureSkipVerify": true}}"#,
        "https://h:443 tls(skip=true ca=- cert=- key=-)",
    ),
    (
        Json,
        r#"{"Addr": "https://h:1", "TLSConfig": {}}"#,
        "https://h:1 tls(skip=false ca=- cert=- key=-)",
    ),
    (
        Json,
        r#"{"Addr": "https://h:1", "tlsconfig": {"cafile": "/ca", "certfile": "/c", "keyfile": "/k", "insecureskipverify": false}}"#,
        "https://h:1 tls(skip=false ca=/ca cert=/c key=/k)",
    ),
    (
        Json,
        r#"{"Addr": "https://h:1", "TLSConfig": {"CAFile": "", "CertFile": "", "KeyFile": ""}}"#,
        "https://h:1 tls(skip=false ca=- cert=- key=-)",
    ),
    (
        Json,
        r#"{"Addr": "https://h:1", "TLSConfig": {"CertFile": "/c"}}"#,
        "IncompleteClientCert(CertFile without KeyFile)",
    ),
    (
        Json,
        r#"{"Addr": "https://h:1", "TLSConfig": {"KeyFile": "/k", "CertFile": ""}}"#,
        "IncompleteClientCert(KeyFile without CertFile)",
    ),
    (
        Json,
        r#"{"Addr": "tcp://h:1", "TLSConfig": {"CAFile": "/ca"}}"#,
        "tcp://h:1 tls(skip=false ca=/ca cert=- key=-) warn[TlsConfigUnused]",
    ),
    (
        Json,
        r#"{"Addr": "https://h:1", "TLSConfig": {"CAFile": "certs/ca.pem"}}"#,
        "https://h:1 tls(skip=false ca=certs/ca.pem cert=- key=-) warn[RelativeTlsPath { field: \"CAFile\", path: \"certs/ca.pem\" }]",
    ),
    (
        Json,
        r#"{"Addr": "https://h:1", "TLSConfig": null}"#,
        "https://h:1",
    ),
    (
        Json,
        r#"{"Addr": "https://h:1", "TLSConfig": {"InsecureSkipVerify": null, "CAFile": null}}"#,
        "https://h:1 tls(skip=false ca=- cert=- key=-)",
    ),
    (Json, r#"{"Name": "p", "Addr": "tcp://h:1"}"#, "tcp://h:1"),
    (
        Json,
        r#"{"Name": "other", "Addr": "tcp://h:1"}"#,
        "tcp://h:1 warn[NameMismatch { declared: \"other\" }]",
    ),
    (Json, r#"{"Name": 7, "Addr": "tcp://h:1"}"#, "tcp://h:1"),
    // Go lets a later duplicate key win, and `null` leave a string untouched.
    (
        Json,
        r#"{"Addr": "tcp://a:1", "addr": "tcp://b:2"}"#,
        "tcp://b:2",
    ),
    (Json, r#"{"Addr": "tcp://a:1", "Addr": null}"#, "tcp://a:1"),
    (
        Json,
        r#"{"Addr": "ftp://x"}"#,
        "InvalidAddress(UnknownScheme(\"ftp\"))",
    ),
    (
        Json,
        r#"{"Addr": "127.0.0.1:8080"}"#,
        "InvalidAddress(MissingScheme)",
    ),
    (
        Json,
        r#"{"Addr": "unix://rel.sock"}"#,
        "InvalidAddress(RelativeUnixPath(\"rel.sock\"))",
    ),
    (
        Json,
        r#"{"Addr": " tcp://h:1"}"#,
        "InvalidAddress(MissingScheme)",
    ),
    (Json, r#"{}"#, "MissingAddr"),
    (Json, r#"{"Addr": ""}"#, "MissingAddr"),
    (Json, r#"{"Addr": null}"#, "MissingAddr"),
    (Json, r#"{"Address": "tcp://h:1"}"#, "MissingAddr"),
    (Json, r#"{"Addr": 8080}"#, "InvalidJson"),
    (
        Json,
        r#"{"Addr": "https://h:1", "TLSConfig": "yes"}"#,
        "InvalidJson",
    ),
    (
        Json,
        r#"{"Addr": "https://h:1", "TLSConfig": {"InsecureSkipVerify": "true"}}"#,
        "InvalidJson",
    ),
    (Json, r#"{"Addr": "tcp://h:1"} trailing"#, "InvalidJson"),
    (
        Json,
        r#"{"Addr": "tcp://h:1"}{"Addr": "tcp://h:2"}"#,
        "InvalidJson",
    ),
    (Json, r#"[{"Addr": "tcp://h:1"}]"#, "InvalidJson"),
    (Json, r#""tcp://h:1""#, "InvalidJson"),
    (Json, "null", "InvalidJson"),
    (Json, "", "InvalidJson"),
    (Json, r#"{"Addr": "tcp://h:1""#, "InvalidJson"),
    (Json, "tcp://h:1", "InvalidJson"),
];

fn parse(kind: Kind, text: &str) -> Result<PluginSpec, plugin_spec::SpecError> {
    let name = PluginName::new("p").unwrap();
    match kind {
        Spec => PluginSpec::from_spec_text(name, text, "/plugins/p.spec"),
        Json => PluginSpec::from_json_text(name, text, "/plugins/p.json"),
    }
}

#[test]
fn descriptor_table() {
    assert!(CASES.len() >= 40);
    let mut failures = Vec::new();
    for (kind, text, expected) in CASES {
        let got = summary(&parse(*kind, text));
        if got != *expected {
            failures.push(format!(
                "{kind:?} {text:?}\n   expected {expected}\n        got {got}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn parsed_specs_record_their_source_and_name() {
    let spec = parse(Json, r#"{"Addr":"tcp://h:1"}"#).unwrap();
    assert_eq!(spec.name(), "p");
    assert_eq!(spec.source().kind(), plugin_spec::SourceKind::Json);
    assert_eq!(
        spec.source().path(),
        std::path::Path::new("/plugins/p.json")
    );
    assert_eq!(spec.source().to_string(), "json /plugins/p.json");
    let spec = parse(Spec, "tcp://h:1").unwrap();
    assert_eq!(spec.source().kind(), plugin_spec::SourceKind::Spec);
    assert!(spec.tls().is_none());
}

#[test]
fn errors_name_the_descriptor_and_say_what_to_do() {
    let cases = [
        (
            parse(Spec, "ftp://x"),
            "invalid plugin address \"ftp://x\" (in /plugins/p.spec): unknown scheme `ftp`; use unix://, tcp://, http:// or https:// (Docker would silently speak plain HTTP over TCP)",
        ),
        (
            parse(Spec, "  "),
            "plugin descriptor /plugins/p.spec is empty; write the plugin's address in it, e.g. unix:///run/docker/plugins/NAME.sock or tcp://127.0.0.1:8080",
        ),
        (
            parse(Json, "{}"),
            "plugin descriptor /plugins/p.json has no \"Addr\"; add one, e.g. \"Addr\": \"https://127.0.0.1:8443\"",
        ),
        (
            parse(
                Json,
                r#"{"Addr":"https://h:1","TLSConfig":{"CertFile":"/c"}}"#,
            ),
            "plugin descriptor /plugins/p.json: TLSConfig gives CertFile but no KeyFile; a client certificate needs both CertFile and KeyFile (or give neither)",
        ),
        (
            parse(Json, "[]"),
            "plugin descriptor /plugins/p.json is not a valid JSON descriptor; expected {\"Addr\": \"https://host:port\", \"TLSConfig\": {...}}: invalid type: sequence, expected a JSON object with an \"Addr\" at line 1 column 0",
        ),
    ];
    for (result, message) in cases {
        let err = result.unwrap_err();
        assert_eq!(support::chain(&err), message);
        assert!(err.path().is_some());
    }
}

#[test]
fn json_errors_keep_their_source() {
    use std::error::Error as _;
    let err = parse(Json, r#"{"Addr": 1}"#).unwrap_err();
    let source = err.source().expect("source kept");
    assert!(source.downcast_ref::<serde_json::Error>().is_some());
}

#[test]
fn warnings_display_what_to_do() {
    let spec = parse(
        Json,
        r#"{"Name":"q","Addr":"tcp://h:1","TLSConfig":{"CAFile":"ca"}}"#,
    )
    .unwrap();
    let lines: Vec<String> = spec.warnings().iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "\"Name\": \"q\" differs from the file name; the file name is the plugin's name and \"Name\" is ignored",
            "TLSConfig.CAFile ca is relative, so it is resolved against the host's working directory; use an absolute path",
            "TLSConfig is ignored because the address is not https://; use an https:// address to use TLS",
        ]
    );
}
