//! Arbitrary input never panics, and whatever is accepted is consistent: the
//! address re-parses to itself, and every descriptor error names its file.

mod support;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use plugin_spec::{Address, NameRule, PluginName, PluginSpec, SpecError};
use proptest::prelude::*;
use support::Dir;

fn check(result: &Result<PluginSpec, SpecError>, path: &str) -> Result<(), TestCaseError> {
    match result {
        Ok(spec) => {
            let url = spec.address().to_string();
            prop_assert_eq!(&Address::parse(&url).unwrap(), spec.address());
        }
        Err(err) => {
            prop_assert_eq!(err.path().and_then(|p| p.to_str()), Some(path));
            prop_assert!(!err.to_string().is_empty());
        }
    }
    Ok(())
}

/// JSON values shaped like descriptors, to reach past the first type check.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let url = prop_oneof![
        Just("unix:///a.sock".to_owned()),
        Just("https://h:1".to_owned()),
        "(unix|tcp|http|https|npipe|x)://[a-z0-9:/.%\\[\\]@?#-]{0,20}",
        "\\PC{0,12}",
    ];
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(serde_json::Value::from),
        url.prop_map(serde_json::Value::String),
    ];
    let key = prop_oneof![
        Just("Addr".to_owned()),
        Just("addr".to_owned()),
        Just("TLSConfig".to_owned()),
        Just("InsecureSkipVerify".to_owned()),
        Just("CAFile".to_owned()),
        Just("certfile".to_owned()),
        Just("KeyFile".to_owned()),
        Just("Name".to_owned()),
        "\\PC{0,8}",
    ];
    leaf.prop_recursive(3, 24, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            proptest::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(support::cases(1024)))]

    #[test]
    fn arbitrary_text_as_spec_or_json(text in "\\PC{0,64}|\\p{Any}{0,64}") {
        let name = PluginName::new("p").unwrap();
        check(&PluginSpec::from_spec_text(name.clone(), &text, "/d/p.spec"), "/d/p.spec")?;
        check(&PluginSpec::from_json_text(name, &text, "/d/p.json"), "/d/p.json")?;
    }

    #[test]
    fn descriptor_shaped_json(value in json_value()) {
        let text = value.to_string();
        let name = PluginName::new("p").unwrap();
        check(&PluginSpec::from_json_text(name, &text, "/d/p.json"), "/d/p.json")?;
    }

    #[test]
    fn arbitrary_strings_as_names(name in "\\p{Any}{0,300}") {
        match PluginName::new(&name) {
            Ok(parsed) => {
                prop_assert_eq!(parsed.as_str(), name.as_str());
                prop_assert!(NameRule::check(&name).is_none());
            }
            Err(err) => prop_assert_eq!(err.name_rule(), NameRule::check(&name)),
        }
    }

    #[test]
    fn arbitrary_bytes_as_file_names(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let result = PluginName::from_os_str(OsStr::from_bytes(&bytes));
        if let Ok(name) = result {
            prop_assert_eq!(name.as_str().as_bytes(), bytes.as_slice());
        }
    }

    #[test]
    fn arbitrary_strings_as_addresses(text in "\\p{Any}{0,80}") {
        if let Ok(addr) = Address::parse(&text) {
            prop_assert_eq!(Address::parse(&addr.to_string()).unwrap(), addr);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(support::cases(256)))]

    #[test]
    fn arbitrary_bytes_as_descriptor_files(bytes in proptest::collection::vec(any::<u8>(), 0..256), json in any::<bool>()) {
        let dir = Dir::new();
        let file = if json { "p.json" } else { "p.spec" };
        let path = dir.write(file, &bytes);
        let result = PluginSpec::from_file(&path);
        check(&result, path.to_str().unwrap())?;
    }
}
