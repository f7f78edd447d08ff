//! Address URLs (docs/protocol.md, "Descriptors"): every scheme rule, and parse -> display -> parse.

mod support;

use std::os::unix::ffi::OsStrExt;

use plugin_spec::{Address, AddressProblem, HostPort, MAX_UNIX_PATH_LEN, SpecError, UnixPath};
use proptest::prelude::*;

fn display(url: &str) -> String {
    match Address::parse(url) {
        Ok(addr) => addr.to_string(),
        Err(err) => format!("{:?}", err.address_problem().expect("address problem")),
    }
}

fn problem(url: &str) -> AddressProblem {
    Address::parse(url)
        .expect_err(url)
        .address_problem()
        .cloned()
        .expect("address problem")
}

#[test]
fn unix_absolute_path() {
    let addr = Address::parse("unix:///run/docker/plugins/a.sock").unwrap();
    assert_eq!(
        addr.unix_path().unwrap().as_path().as_os_str(),
        "/run/docker/plugins/a.sock"
    );
    assert_eq!(addr.to_string(), "unix:///run/docker/plugins/a.sock");
    assert_eq!(addr.scheme(), "unix");
    assert!(!addr.is_tls());
    // Without the authority part, as Go also accepts.
    assert_eq!(display("unix:/a.sock"), "unix:///a.sock");
    // Percent escapes are decoded; query and fragment are ignored as in Docker.
    assert_eq!(
        Address::parse("unix:///a%20b.sock?x=1#frag")
            .unwrap()
            .unix_path()
            .unwrap()
            .as_path()
            .as_os_str(),
        "/a b.sock"
    );
}

#[test]
fn unix_relative_path_is_an_error() {
    assert_eq!(
        problem("unix://a.sock"),
        AddressProblem::RelativeUnixPath("a.sock".into())
    );
    // Docker would dial `rel` and drop `/x.sock`.
    assert_eq!(
        problem("unix://rel/x.sock"),
        AddressProblem::RelativeUnixPath("rel".into())
    );
    assert_eq!(
        problem("unix:rel.sock"),
        AddressProblem::RelativeUnixPath("rel.sock".into())
    );
    assert_eq!(
        problem("unix://host:80/x.sock"),
        AddressProblem::RelativeUnixPath("host".into())
    );
    assert_eq!(problem("unix://"), AddressProblem::MissingUnixPath);
    assert!(
        Address::parse("unix://a.sock")
            .unwrap_err()
            .to_string()
            .contains("write unix:///absolute/path.sock with three slashes")
    );
}

#[test]
fn unix_path_length_is_bounded() {
    let ok = format!("/{}", "s".repeat(MAX_UNIX_PATH_LEN - 1));
    assert!(Address::parse(&format!("unix://{ok}")).is_ok());
    let long = format!("/{}", "s".repeat(MAX_UNIX_PATH_LEN));
    assert_eq!(
        problem(&format!("unix://{long}")),
        AddressProblem::UnixPathTooLong(108)
    );
    assert_eq!(problem("unix:///a%00b.sock"), AddressProblem::UnixPathNul);
}

#[test]
fn tcp_and_http_are_plain_tcp() {
    assert_eq!(display("tcp://127.0.0.1:8080"), "tcp://127.0.0.1:8080");
    assert_eq!(display("http://127.0.0.1:8080"), "tcp://127.0.0.1:8080");
    assert_eq!(display("tcp://[::1]:8080"), "tcp://[::1]:8080");
    assert_eq!(
        display("tcp://plugins.example:9000"),
        "tcp://plugins.example:9000"
    );
    let addr = Address::parse("tcp://[::1]:8080").unwrap();
    let hp = addr.host_port().unwrap();
    assert_eq!((hp.host(), hp.port()), ("::1", 8080));
    assert_eq!(addr.scheme(), "tcp");
}

#[test]
fn https_is_tls() {
    let addr = Address::parse("https://plugin.local:8443").unwrap();
    assert!(addr.is_tls());
    assert_eq!(addr.to_string(), "https://plugin.local:8443");
    assert_eq!(addr.scheme(), "https");
}

#[test]
fn missing_port_means_80_or_443() {
    assert_eq!(display("tcp://h"), "tcp://h:80");
    assert_eq!(display("http://h"), "tcp://h:80");
    assert_eq!(display("https://h"), "https://h:443");
    // An empty port after the colon is allowed by Go and defaulted by its HTTP client.
    assert_eq!(display("tcp://h:"), "tcp://h:80");
    assert_eq!(display("https://[::1]"), "https://[::1]:443");
}

#[test]
fn tcp_path_query_and_user_info_are_ignored() {
    assert_eq!(display("tcp://h:1/some/path?q=1#f"), "tcp://h:1");
    assert_eq!(display("http://user:secret@h:2"), "tcp://h:2");
}

#[test]
fn scheme_is_case_insensitive() {
    assert_eq!(display("TCP://h:1"), "tcp://h:1");
    assert_eq!(display("HTTPS://h:1"), "https://h:1");
    assert_eq!(display("Unix:///a.sock"), "unix:///a.sock");
}

#[test]
fn npipe_is_not_supported_on_this_platform() {
    assert_eq!(
        problem("npipe:////./pipe/docker_plugin"),
        AddressProblem::UnsupportedPlatform("npipe".into())
    );
    assert!(
        Address::parse("npipe:////./pipe/x")
            .unwrap_err()
            .to_string()
            .contains("not supported on this platform")
    );
}

#[test]
fn unknown_scheme_is_an_error_naming_it() {
    assert_eq!(
        problem("ftp://x"),
        AddressProblem::UnknownScheme("ftp".into())
    );
    assert_eq!(
        problem("udp://x:53"),
        AddressProblem::UnknownScheme("udp".into())
    );
    assert_eq!(
        problem("Gopher://x"),
        AddressProblem::UnknownScheme("gopher".into())
    );
    assert!(
        Address::parse("ftp://x")
            .unwrap_err()
            .to_string()
            .contains("unknown scheme `ftp`")
    );
}

#[test]
fn missing_scheme_is_an_error() {
    for url in [
        "/run/docker/plugins/a.sock",
        "127.0.0.1:8080",
        "localhost",
        ":80",
        "1tcp://x",
    ] {
        assert_eq!(problem(url), AddressProblem::MissingScheme, "{url}");
    }
    assert_eq!(problem(""), AddressProblem::Empty);
}

#[test]
fn control_characters_are_an_error() {
    assert_eq!(
        problem("tcp://h:1\ntcp://other:2"),
        AddressProblem::ControlCharacter
    );
    assert_eq!(
        problem("unix:///a\t.sock"),
        AddressProblem::ControlCharacter
    );
}

#[test]
fn hosts_and_ports_are_checked() {
    assert_eq!(problem("tcp://:8080"), AddressProblem::MissingHost);
    assert_eq!(problem("tcp:host:80"), AddressProblem::MissingHost);
    assert_eq!(problem("tcp://h:http"), AddressProblem::InvalidPort);
    assert_eq!(problem("tcp://h:0"), AddressProblem::PortOutOfRange);
    assert_eq!(problem("tcp://h:65536"), AddressProblem::PortOutOfRange);
    assert_eq!(display("tcp://h:65535"), "tcp://h:65535");
    assert_eq!(problem("tcp://[::1:80"), AddressProblem::MissingBracket);
    assert_eq!(problem("tcp://[nope]:80"), AddressProblem::InvalidIpv6);
    assert_eq!(problem("tcp://[::1]x:80"), AddressProblem::InvalidPort);
    assert_eq!(
        problem("tcp://[fe80::1%25eth0]:80"),
        AddressProblem::Ipv6Zone
    );
    assert_eq!(
        problem("tcp://::1:80"),
        AddressProblem::InvalidHostCharacter(':')
    );
    assert_eq!(
        problem("tcp://a b:80"),
        AddressProblem::InvalidHostCharacter(' ')
    );
    assert_eq!(
        problem("tcp://a%41:80"),
        AddressProblem::InvalidHostCharacter('%')
    );
    assert_eq!(problem("unix:///a%zz"), AddressProblem::InvalidEscape);
}

#[test]
fn constructors_check_like_the_parser() {
    assert_eq!(
        Address::unix("/x.sock").unwrap().to_string(),
        "unix:///x.sock"
    );
    let rel = Address::unix("x.sock").unwrap_err();
    assert_eq!(
        rel.address_problem(),
        Some(&AddressProblem::RelativeUnixPath("x.sock".into()))
    );
    assert!(UnixPath::new("").is_err());
    assert_eq!(
        HostPort::new("::1", 8080).unwrap().to_string(),
        "[::1]:8080"
    );
    assert_eq!(HostPort::new("h", 1).unwrap().to_string(), "h:1");
    let zero = HostPort::new("h", 0).unwrap_err();
    assert_eq!(
        zero.address_problem(),
        Some(&AddressProblem::PortOutOfRange)
    );
    assert!(matches!(
        HostPort::new("", 1),
        Err(SpecError::InvalidAddress {
            problem: AddressProblem::MissingHost,
            ..
        })
    ));
    assert!(HostPort::new("[::1]", 1).is_err());
}

#[test]
fn unix_paths_that_are_not_utf8_round_trip() {
    use std::ffi::OsStr;
    let path = std::path::Path::new(OsStr::from_bytes(b"/tmp/\xff%?#\x01.sock"));
    let addr = Address::unix(path).unwrap();
    assert_eq!(addr.to_string(), "unix:///tmp/%FF%25%3F%23%01.sock");
    assert_eq!(Address::parse(&addr.to_string()).unwrap(), addr);
}

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9][a-zA-Z0-9._~-]{0,30}",
        any::<std::net::Ipv4Addr>().prop_map(|ip| ip.to_string()),
        any::<std::net::Ipv6Addr>().prop_map(|ip| ip.to_string()),
        "[a-z]{1,5}[é名ü]{1,3}",
    ]
}

fn address() -> impl Strategy<Value = Address> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..(MAX_UNIX_PATH_LEN - 1)).prop_filter_map(
            "no NUL",
            |mut bytes| {
                bytes.insert(0, b'/');
                let path = std::path::PathBuf::from(std::ffi::OsStr::from_bytes(&bytes));
                Address::unix(path).ok()
            }
        ),
        (host(), 1u16..).prop_map(|(h, p)| Address::Tcp(HostPort::new(&h, p).unwrap())),
        (host(), 1u16..).prop_map(|(h, p)| Address::Tls(HostPort::new(&h, p).unwrap())),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(support::cases(2048)))]

    #[test]
    fn parse_display_parse_round_trips(addr in address()) {
        let url = addr.to_string();
        let reparsed = Address::parse(&url).unwrap();
        prop_assert_eq!(&reparsed, &addr, "via {}", url);
        prop_assert_eq!(reparsed.to_string(), url);
    }

    #[test]
    fn any_parsed_text_displays_to_a_fixed_point(text in "\\PC{0,40}|(unix|tcp|http|https|npipe|ftp)://\\PC{0,40}") {
        if let Ok(addr) = Address::parse(&text) {
            let url = addr.to_string();
            prop_assert_eq!(Address::parse(&url).unwrap(), addr);
        }
    }
}
