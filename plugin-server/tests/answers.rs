//! Answers (docs/protocol.md, "Serving a plugin"): every status path, byte for
//! byte, against Docker's own request bytes (tests/fixtures/wire) and hand-made
//! ones.

mod support;

use plugin_server::CONTENT_TYPE_V1_1;
use support::{Dir, docker_request, exchange, test_server, wire};

async fn served() -> (Dir, plugin_server::Serving, std::path::PathBuf) {
    let dir = Dir::new();
    let path = dir.join("test.sock");
    let serving = test_server().serve_unix(&path).unwrap();
    (dir, serving, path)
}

#[tokio::test]
async fn dockers_activate_request_gets_the_manifest() {
    let (_dir, _serving, path) = served().await;
    let raw = exchange(&path, &wire("activate-request.http")).await;
    assert_eq!(raw.status_line, "HTTP/1.1 200 OK");
    assert_eq!(raw.header("content-type"), Some(CONTENT_TYPE_V1_1));
    assert_eq!(raw.body_text(), "{\"Implements\":[\"VolumeDriver\"]}\n");
}

#[tokio::test]
async fn dockers_create_request_with_no_content_type_and_an_empty_host() {
    let (_dir, _serving, path) = served().await;
    let raw = exchange(&path, &wire("volume-create-request.http")).await;
    assert_eq!(raw.status_line, "HTTP/1.1 200 OK");
    assert_eq!(
        raw.body_text(),
        "{}\n",
        "a unit answer is {{}}: Docker fails on an empty 200"
    );
}

#[tokio::test]
async fn dockers_list_request_gets_the_typed_answer() {
    let (_dir, _serving, path) = served().await;
    let raw = exchange(&path, &wire("volume-list-request.http")).await;
    assert_eq!(raw.status_line, "HTTP/1.1 200 OK");
    assert_eq!(raw.body_text(), "{\"Volumes\":[{\"Name\":\"v1\"}]}\n");
}

#[tokio::test]
async fn podmans_content_type_is_accepted_too() {
    let (_dir, _serving, path) = served().await;
    let request = "POST /VolumeDriver.Create HTTP/1.1\r\nHost: d\r\nContent-Type: application/vnd.docker.plugins.v1.1+json\r\nContent-Length: 12\r\n\r\n{\"Name\":\"x\"}";
    let raw = exchange(&path, request.as_bytes()).await;
    assert_eq!(
        (raw.status_line.as_str(), raw.body_text()),
        ("HTTP/1.1 200 OK", "{}\n")
    );
}

#[tokio::test]
async fn a_handler_error_is_500_with_err() {
    let (_dir, _serving, path) = served().await;
    let raw = exchange(
        &path,
        &docker_request("VolumeDriver.Create", r#"{"Name":"fail"}"#),
    )
    .await;
    assert_eq!(raw.status_line, "HTTP/1.1 500 Internal Server Error");
    assert_eq!(raw.header("content-type"), Some(CONTENT_TYPE_V1_1));
    assert_eq!(
        raw.body_text(),
        "{\"Err\":\"volume fail cannot be created: disk full\"}\n"
    );
}

#[tokio::test]
async fn a_handler_may_choose_its_status_and_convert_errors_with_question_mark() {
    let (_dir, _serving, path) = served().await;
    let raw = exchange(&path, &docker_request("Test.Teapot", "")).await;
    assert_eq!(raw.status_line, "HTTP/1.1 418 I'm a teapot");
    assert_eq!(raw.body_text(), "{\"Err\":\"short and stout\"}\n");
    let raw = exchange(&path, &docker_request("Test.Parse", r#""12x""#)).await;
    assert_eq!(raw.status_line, "HTTP/1.1 500 Internal Server Error");
    assert_eq!(
        raw.body_text(),
        "{\"Err\":\"invalid digit found in string\"}\n"
    );
    let raw = exchange(&path, &docker_request("Test.Parse", r#""12""#)).await;
    assert_eq!(raw.body_text(), "12\n");
}

#[tokio::test]
async fn malformed_json_is_400_saying_what_was_wrong() {
    let (_dir, _serving, path) = served().await;
    let raw = exchange(&path, &docker_request("VolumeDriver.Create", r#"{"Name":"#)).await;
    assert_eq!(raw.status_line, "HTTP/1.1 400 Bad Request");
    assert_eq!(raw.header("content-type"), Some(CONTENT_TYPE_V1_1));
    assert_eq!(
        raw.body_text(),
        "{\"Err\":\"the request body is not valid JSON for this method: EOF while parsing a value at line 1 column 8\"}\n"
    );
    let raw = exchange(
        &path,
        &docker_request("VolumeDriver.Create", r#"{"Opts":{}}"#),
    )
    .await;
    assert_eq!(
        raw.body_text(),
        "{\"Err\":\"the request body is not valid JSON for this method: missing field `Name` at line 1 column 11\"}\n"
    );
    // A struct is never read from an array (serde's derive alone would take
    // the fields in order), as Go refuses one.
    let raw = exchange(
        &path,
        &docker_request("VolumeDriver.Create", r#"["v1", {}]"#),
    )
    .await;
    assert_eq!(raw.status_line, "HTTP/1.1 400 Bad Request");
    assert_eq!(
        raw.body_text(),
        "{\"Err\":\"the request body is not valid JSON for this method: expected a JSON object, found an array\"}\n"
    );
}

#[tokio::test]
async fn an_empty_body_is_400_for_a_method_that_needs_arguments() {
    let (_dir, _serving, path) = served().await;
    let raw = exchange(&path, &docker_request("VolumeDriver.Create", "")).await;
    assert_eq!(raw.status_line, "HTTP/1.1 400 Bad Request");
    assert_eq!(
        raw.body_text(),
        "{\"Err\":\"the request body is empty, and this method needs arguments\"}\n"
    );
    // A method without arguments takes an empty body (Docker sends none).
    let raw = exchange(&path, &docker_request("VolumeDriver.List", "")).await;
    assert_eq!(raw.status_line, "HTTP/1.1 200 OK");
}

#[tokio::test]
async fn an_unknown_method_is_404() {
    let (_dir, _serving, path) = served().await;
    let raw = exchange(&path, &docker_request("NetworkDriver.CreateNetwork", "{}")).await;
    assert_eq!(raw.status_line, "HTTP/1.1 404 Not Found");
    assert_eq!(
        raw.body_text(),
        "{\"Err\":\"plugin \\\"test\\\" does not implement NetworkDriver.CreateNetwork\"}\n"
    );
}

#[tokio::test]
async fn only_post_is_accepted() {
    let (_dir, _serving, path) = served().await;
    let raw = exchange(&path, b"GET /Plugin.Activate HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(raw.status_line, "HTTP/1.1 405 Method Not Allowed");
    assert_eq!(raw.header("allow"), Some("POST"));
    assert_eq!(
        raw.body_text(),
        "{\"Err\":\"only POST is accepted, not GET\"}\n"
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let dir = Dir::new();
    let path = dir.join("small.sock");
    let _serving = test_server()
        .max_request_body(16)
        .serve_unix(&path)
        .unwrap();
    // Refused from the Content-Length, before reading the body.
    let raw = exchange(&path, &docker_request("Echo.Echo", &"x".repeat(17))).await;
    assert_eq!(raw.status_line, "HTTP/1.1 413 Payload Too Large");
    assert_eq!(
        raw.body_text(),
        "{\"Err\":\"the request body is over this plugin's 16-byte limit\"}\n"
    );
    // Chunked, with no length announced: refused once the limit is passed.
    let chunked = "POST /Echo.Echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n1\r\nX\r\n0\r\n\r\n";
    let raw = exchange(&path, chunked.as_bytes()).await;
    assert_eq!(raw.status_line, "HTTP/1.1 413 Payload Too Large");
    // Exactly at the limit is fine.
    let raw = exchange(&path, &docker_request("Echo.Echo", &"y".repeat(16))).await;
    assert_eq!(
        (raw.status_line.as_str(), raw.body_text()),
        ("HTTP/1.1 200 OK", "yyyyyyyyyyyyyyyy")
    );
}

#[tokio::test]
async fn a_raw_handler_answers_its_bytes_and_an_empty_answer_as_an_object() {
    let (_dir, _serving, path) = served().await;
    let raw = exchange(&path, &docker_request("Echo.Echo", r#"{"a":1}"#)).await;
    assert_eq!(raw.body_text(), r#"{"a":1}"#);
    let raw = exchange(&path, &docker_request("Echo.Echo", "")).await;
    assert_eq!(raw.body_text(), "{}\n");
}

#[tokio::test]
async fn a_panicking_handler_answers_500_and_the_server_goes_on() {
    let (_dir, _serving, path) = served().await;
    let mut stream = tokio::net::UnixStream::connect(&path).await.unwrap();
    let raw = support::exchange_on(&mut stream, &docker_request("Test.Panic", "")).await;
    assert_eq!(raw.status_line, "HTTP/1.1 500 Internal Server Error");
    assert_eq!(
        raw.body_text(),
        "{\"Err\":\"the plugin failed while handling this call (its handler panicked)\"}\n"
    );
    // The same connection still works, and so does a new one.
    let raw = support::exchange_on(&mut stream, &wire("activate-request.http")).await;
    assert_eq!(raw.status_line, "HTTP/1.1 200 OK");
    let raw = exchange(&path, &docker_request("VolumeDriver.List", "{}")).await;
    assert_eq!(raw.status_line, "HTTP/1.1 200 OK");
}

#[tokio::test]
async fn keep_alive_serves_many_requests_on_one_connection() {
    let (_dir, _serving, path) = served().await;
    let mut stream = tokio::net::UnixStream::connect(&path).await.unwrap();
    for i in 0..50 {
        let body = format!("{{\"n\":{i}}}");
        let raw = support::exchange_on(&mut stream, &docker_request("Echo.Echo", &body)).await;
        assert_eq!(raw.body_text(), body);
    }
}

/// A struct without renames, as a newcomer writes it.
#[derive(serde::Deserialize)]
struct Greet {
    name: String,
    #[serde(default)]
    times: u32,
}

#[tokio::test]
async fn a_typed_handler_matches_keys_as_go_does() {
    let dir = Dir::new();
    let path = dir.join("greeter.sock");
    let _serving = plugin_server::PluginServer::new("greeter".parse().unwrap())
        .handle("Greeter.Greet", |g: Greet| async move {
            Ok::<_, plugin_server::HandlerError>(format!("hello, {} x{}", g.name, g.times))
        })
        .serve_unix(&path)
        .unwrap();
    for (body, answer) in [
        // Docker's Go fields: `Name`, `Times`.
        (
            r#"{"Name": "docker", "Times": 2}"#,
            "\"hello, docker x2\"\n",
        ),
        (r#"{"NAME": "podman"}"#, "\"hello, podman x0\"\n"),
        (
            r#"{"name": "rust", "Unknown": true}"#,
            "\"hello, rust x0\"\n",
        ),
    ] {
        let raw = exchange(&path, &docker_request("Greeter.Greet", body)).await;
        assert_eq!(
            (raw.status_line.as_str(), raw.body_text()),
            ("HTTP/1.1 200 OK", answer),
            "{body}"
        );
    }
    let raw = exchange(&path, &docker_request("Greeter.Greet", r#"{"Nom": "x"}"#)).await;
    assert_eq!(raw.status_line, "HTTP/1.1 400 Bad Request");
    assert!(
        raw.body_text().contains("missing field `name`"),
        "{}",
        raw.body_text()
    );
}

/// A request refused before any handler sees it: `status_line`, the
/// documented `{"Err": ...}` body (exactly `body`) as every other error has,
/// and the connection closed.
async fn assert_refused(request: &[u8], status_line: &str, body: &str) {
    let (_dir, _serving, path) = served().await;
    let raw = exchange(&path, request).await;
    let length = raw.body.len().to_string();
    assert_eq!(
        (
            raw.status_line.as_str(),
            raw.header("content-type"),
            raw.header("content-length"),
            raw.header("connection"),
            raw.body_text(),
        ),
        (
            status_line,
            Some(CONTENT_TYPE_V1_1),
            Some(length.as_str()),
            Some("close"),
            body
        )
    );
}

const NOT_HTTP: &str = "{\"Err\":\"the request is not valid HTTP/1.1: its request line, a header or its body framing could not be parsed\"}\n";

#[tokio::test]
async fn a_malformed_request_line_gets_400_with_err() {
    let request = b"NOT AN HTTP REQUEST LINE\r\n\r\n";
    assert_refused(request, "HTTP/1.1 400 Bad Request", NOT_HTTP).await;
}

#[tokio::test]
async fn invalid_header_bytes_get_400_with_err() {
    let request = b"POST /VolumeDriver.List HTTP/1.1\r\nHost: plugin\r\nBad\x01Name: x\r\nContent-Length: 2\r\n\r\n{}";
    assert_refused(request, "HTTP/1.1 400 Bad Request", NOT_HTTP).await;
}

#[tokio::test]
async fn an_oversized_header_section_gets_431_with_err() {
    let mut request = b"POST /VolumeDriver.List HTTP/1.1\r\nHost: plugin\r\n".to_vec();
    for i in 0..200 {
        request.extend_from_slice(format!("X-Header-{i}: {i}\r\n").as_bytes());
    }
    request.extend_from_slice(b"Content-Length: 2\r\n\r\n{}");
    let body = "{\"Err\":\"the request's header section is too large (too many header fields or too many bytes)\"}\n";
    assert_refused(
        &request,
        "HTTP/1.1 431 Request Header Fields Too Large",
        body,
    )
    .await;
}

#[tokio::test]
async fn a_transfer_coding_other_than_chunked_gets_501_before_the_handler() {
    // Echo.Echo would answer the (still gzip-compressed) bytes it was given.
    let request = b"POST /Echo.Echo HTTP/1.1\r\nHost: plugin\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n";
    let body = "{\"Err\":\"the request's transfer coding \\\"gzip\\\" is not supported: only chunked is\"}\n";
    assert_refused(request, "HTTP/1.1 501 Not Implemented", body).await;
}

#[tokio::test]
async fn a_transfer_coding_not_ending_in_chunked_gets_400_with_err() {
    // No framing hyper can read: rejected as it parses the head.
    let request = b"POST /Echo.Echo HTTP/1.1\r\nHost: plugin\r\nTransfer-Encoding: gzip\r\n\r\nhi";
    assert_refused(request, "HTTP/1.1 400 Bad Request", NOT_HTTP).await;
}

#[tokio::test]
async fn a_chunked_body_still_reaches_the_handler() {
    let (_dir, _serving, path) = served().await;
    let request = b"POST /Echo.Echo HTTP/1.1\r\nHost: plugin\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n";
    let raw = exchange(&path, request).await;
    assert_eq!(
        (raw.status_line.as_str(), raw.body_text()),
        ("HTTP/1.1 200 OK", "hi")
    );
}
