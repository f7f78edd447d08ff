//! `.json` descriptor text: never panics; an accepted descriptor's address
//! re-parses to itself and its client certificate is all or nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plugin_spec::{Address, PluginName, PluginSpec};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(name) = PluginName::new("fuzz") else {
        return;
    };
    if let Ok(spec) = PluginSpec::from_json_text(name, text, "/fuzz/fuzz.json") {
        let url = spec.address().to_string();
        assert_eq!(
            Address::parse(&url).ok().as_ref(),
            Some(spec.address()),
            "{url}"
        );
        if let Some(tls) = spec.tls() {
            assert_eq!(tls.cert_file().is_some(), tls.key_file().is_some());
        }
    }
});
