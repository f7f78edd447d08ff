//! `.spec` descriptor text and bare address URLs: never panic, and an accepted
//! address re-parses from its display form to itself.
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
    if let Ok(spec) = PluginSpec::from_spec_text(name, text, "/fuzz/fuzz.spec") {
        let url = spec.address().to_string();
        assert_eq!(
            Address::parse(&url).ok().as_ref(),
            Some(spec.address()),
            "{url}"
        );
    }
    if let Ok(addr) = Address::parse(text) {
        let url = addr.to_string();
        assert_eq!(Address::parse(&url).ok(), Some(addr), "{url}");
    }
});
