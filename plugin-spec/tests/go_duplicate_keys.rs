//! Go-style decoding gives Go's answer for each body in
//! `tests/fixtures/go-json/duplicate-keys.json`, which `cargo xtask interop
//! --record` writes from Go's `encoding/json` (interop/go/gojson): repeated
//! and case-folded keys, `null` after a value, nested structs, maps and
//! pointers decoded into.

use std::collections::BTreeMap;

use plugin_spec::wire::{GoJson, from_body};
use serde_json::{Value, json};

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct Inner {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Note")]
    note: String,
}

/// interop/go/gojson's `Message`, field for field.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct Message {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "ID")]
    id: Option<String>,
    #[serde(rename = "Count")]
    count: i64,
    #[serde(rename = "Opts")]
    opts: Option<BTreeMap<String, String>>,
    #[serde(rename = "List")]
    list: Option<Vec<String>>,
    #[serde(rename = "Any")]
    any: Value,
    #[serde(rename = "Inner")]
    inner: GoJson<Inner>,
    #[serde(rename = "Ptr")]
    ptr: Option<GoJson<Inner>>,
    #[serde(rename = "Ks")]
    ks: String,
}

/// `message` as Go's `json.Marshal` writes it.
fn as_go_writes(message: Message) -> Value {
    let inner = |GoJson(i): GoJson<Inner>| json!({"Name": i.name, "Note": i.note});
    json!({
        "Name": message.name,
        "ID": message.id,
        "Count": message.count,
        "Opts": message.opts,
        "List": message.list,
        "Any": message.any,
        "Inner": inner(message.inner),
        "Ptr": message.ptr.map(inner),
        "Ks": message.ks,
    })
}

#[derive(serde::Deserialize)]
struct Case {
    body: String,
    go: Value,
}

#[test]
fn go_style_decoding_gives_gos_answer_for_every_recorded_body() {
    let fixture = include_str!("fixtures/go-json/duplicate-keys.json");
    let cases: Vec<Case> = serde_json::from_str(fixture).unwrap();
    assert!(cases.len() >= 20, "{} cases", cases.len());
    let mut wrong = Vec::new();
    for case in cases {
        let whole = from_body::<Message>(case.body.as_bytes())
            .map_or_else(|e| Value::String(e.to_string()), as_go_writes);
        let nested = serde_json::from_str::<GoJson<Message>>(&case.body).map_or_else(
            |e| Value::String(e.to_string()),
            |GoJson(m)| as_go_writes(m),
        );
        if whole != case.go || nested != case.go {
            wrong.push(format!(
                "{}\n  Go:       {}\n  from_body: {whole}\n  GoJson:    {nested}",
                case.body, case.go
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Repeats cost linear time: a body of 100,000 repeated objects for a map
/// field, 100,000 repeated unknown keys and 100,000 case-folded names (about
/// 5 MiB) decodes, to Go's answer, in well under a second in a debug build
/// (each repeat once copied the merged map, or searched every unknown key).
#[test]
fn many_repeats_decode_in_linear_time_to_gos_answer() {
    const N: usize = 100_000;
    let mut body = String::from("{");
    for i in 0..N {
        body.push_str(&format!(
            r#""opts":{{"k{i}":"v"}},"Unknown{}":{i},"nAmE":"{i}","#,
            i % 7
        ));
    }
    body.push_str(r#""Count":1}"#);
    let started = std::time::Instant::now();
    let message = from_body::<Message>(body.as_bytes()).unwrap();
    let took = started.elapsed();
    assert_eq!(message.name, (N - 1).to_string());
    assert_eq!(message.opts.map(|o| o.len()), Some(N));
    assert_eq!(message.count, 1);
    assert!(
        took < std::time::Duration::from_secs(10),
        "{took:?} for {} bytes",
        body.len()
    );
}
