//! Errors (docs/protocol.md, "Errors"): every shape of failure answer, decoded as Docker
//! decodes it, with the method, plugin and status.

mod support;

use http::StatusCode;
use plugin_client::{ClientError, ErrorField};
use support::{Answering, Named, client_for, plugin, response, serve_unix};

fn status_of(err: &ClientError) -> (u16, &str) {
    (err.status().unwrap().as_u16(), err.message().unwrap())
}

#[tokio::test]
async fn an_err_json_answer_gives_its_err() {
    let served = serve_unix(&plugin());
    let err = served
        .client()
        .call::<_, ()>("Volume.Fail", &())
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::Status { .. }));
    assert_eq!(status_of(&err), (500, "no space left on device"));
    assert!(
        err.is_plugin_error()
            && !err.is_not_implemented()
            && !err.is_connect()
            && !err.is_timeout()
    );
    assert_eq!(
        (err.plugin().as_str(), err.method()),
        ("testplug", "Volume.Fail")
    );
    assert_eq!(
        err.to_string(),
        "Volume.Fail: no space left on device (plugin \"testplug\", HTTP 500)"
    );
}

#[tokio::test]
async fn err_is_matched_in_any_case() {
    let raw = Answering::new(response(
        "500 Internal Server Error",
        br#"{"err": "lower-case key"}"#,
    ));
    let err = client_for(&raw).call_raw("X.Y", "").await.unwrap_err();
    assert_eq!(status_of(&err), (500, "lower-case key"));
}

#[tokio::test]
async fn a_plain_text_answer_gives_its_text() {
    let raw = Answering::new(response("500 Internal Server Error", b"something broke\n"));
    let err = client_for(&raw)
        .call_raw("Volume.Mount", "{}")
        .await
        .unwrap_err();
    assert_eq!(status_of(&err), (500, "something broke"));
    assert_eq!(
        err.to_string(),
        "Volume.Mount: something broke (plugin \"rawplug\", HTTP 500)"
    );
}

#[tokio::test]
async fn json_without_a_usable_err_gives_the_text() {
    for body in [
        &br#"{"Err": ""}"#[..],
        br#"{"Err": 42}"#,
        br#"["Err"]"#,
        b"null",
    ] {
        let raw = Answering::new(response("400 Bad Request", body));
        let err = client_for(&raw).call_raw("X.Y", "").await.unwrap_err();
        assert_eq!(status_of(&err), (400, std::str::from_utf8(body).unwrap()));
    }
}

#[tokio::test]
async fn an_empty_error_answer_says_so() {
    let raw = Answering::new(response("503 Service Unavailable", b""));
    let err = client_for(&raw).call_raw("X.Y", "").await.unwrap_err();
    assert_eq!(status_of(&err), (503, ""));
    assert_eq!(
        err.to_string(),
        "X.Y: (empty answer) (plugin \"rawplug\", HTTP 503)"
    );
}

#[tokio::test]
async fn any_status_but_200_is_an_error_even_2xx() {
    let raw = Answering::new(response("201 Created", br#"{"Err": "not 200"}"#));
    let err = client_for(&raw).call_raw("X.Y", "").await.unwrap_err();
    assert_eq!(status_of(&err), (201, "not 200"));
}

#[tokio::test]
async fn a_huge_error_answer_is_cut_at_64_kib() {
    let huge = "x".repeat(4 * 1024 * 1024);
    let raw = Answering::new(response("500 Internal Server Error", huge.as_bytes()));
    let err = client_for(&raw).call_raw("X.Y", "").await.unwrap_err();
    let message = err.message().unwrap();
    assert_eq!(message.len(), 64 * 1024 + "... (truncated)".len());
    assert!(message.ends_with("x... (truncated)"));
}

#[tokio::test]
async fn a_404_means_not_implemented() {
    let served = serve_unix(&plugin());
    let err = served
        .client()
        .call::<_, ()>("NetworkDriver.Join", &())
        .await
        .unwrap_err();
    assert!(err.is_not_implemented());
    assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
    assert_eq!(
        err.message(),
        Some("plugin \"testplug\" does not implement NetworkDriver.Join")
    );
    assert_eq!(
        err.to_string(),
        "NetworkDriver.Join: plugin \"testplug\" does not implement NetworkDriver.Join (plugin \"testplug\", HTTP 404)"
    );
    // go-plugins-helpers answers 404 as Go's plain text.
    let raw = Answering::new(response("404 Not Found", b"404 page not found\n"));
    let err = client_for(&raw)
        .call_raw("NetworkDriver.Join", "{}")
        .await
        .unwrap_err();
    assert!(err.is_not_implemented());
    assert_eq!(err.message(), Some("404 page not found"));
}

#[tokio::test]
async fn a_200_with_an_error_field_fails_in_the_typed_layer_only() {
    let served = serve_unix(&plugin());
    let client = served.client();
    let checking = |field| {
        let config = client.config().clone().error_field(Some(field));
        client.clone().with_config(config)
    };
    let err = checking(ErrorField::Err)
        .call::<_, serde_json::Value>("Volume.Reported", &())
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::Reported { .. }));
    assert_eq!(
        err.to_string(),
        "Volume.Reported: reported in a 200 (plugin \"testplug\")"
    );
    assert!(err.is_plugin_error());
    // Without the setting, a call hands the answer over as it is.
    let answer: serde_json::Value = client.call("Volume.Reported", &()).await.unwrap();
    assert_eq!(answer["Err"], "reported in a 200");
    // IPAM reports in `Error`; `Err` is not looked at there.
    let err = checking(ErrorField::Error)
        .call::<_, serde_json::Value>("Ipam.Reported", &())
        .await
        .unwrap_err();
    assert_eq!(err.message(), Some("pool exhausted"));
    assert!(
        checking(ErrorField::Err)
            .call::<_, serde_json::Value>("Ipam.Reported", &())
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn an_answer_of_the_wrong_shape_is_a_decode_error_with_an_excerpt() {
    let served = serve_unix(&plugin());
    let err = served
        .client()
        .call::<_, Vec<u32>>("Volume.Get", &Named { name: "v".into() })
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ClientError::Decode { excerpt, .. } if excerpt == "{\"Name\":\"v\"}\n"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "Volume.Get: plugin \"testplug\" answered something that is not the expected JSON (answer: \"{\\\"Name\\\":\\\"v\\\"}\\n\")"
    );
    let cause = std::error::Error::source(&err).unwrap().to_string();
    assert!(cause.starts_with("invalid type: map"), "{cause}");
}

#[tokio::test]
async fn an_empty_200_is_fine_where_nothing_is_expected_and_an_error_where_something_is() {
    let raw = Answering::new(response("200 OK", b""));
    let client = client_for(&raw);
    client.call::<_, ()>("X.Y", &()).await.unwrap();
    assert_eq!(
        client.call::<_, Option<u32>>("X.Y", &()).await.unwrap(),
        None
    );
    let err = client.call::<_, Named>("X.Y", &()).await.unwrap_err();
    assert!(matches!(err, ClientError::Decode { .. }));
    let chain = support::chain(&err);
    assert!(
        chain.ends_with(": invalid type: an empty body, expected struct Named"),
        "{chain}"
    );
    let err = client.activate().await;
    assert_eq!(
        err.unwrap().implements(),
        [] as [String; 0],
        "an empty manifest decodes as implementing nothing"
    );
}

#[tokio::test]
async fn a_method_that_cannot_be_a_path_is_refused_before_sending() {
    let raw = Answering::new(response("200 OK", b"{}"));
    let err = client_for(&raw)
        .call_raw("Bad Method", "")
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::InvalidMethod { .. }), "{err:?}");
    assert_eq!(raw.connections(), 0);
}
