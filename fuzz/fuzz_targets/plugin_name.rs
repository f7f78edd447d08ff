//! Plugin names from arbitrary file names: never panic, and an accepted name is
//! exactly one safe path component.
#![no_main]

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path};

use libfuzzer_sys::fuzz_target;
use plugin_spec::PluginName;

fuzz_target!(|data: &[u8]| {
    if let Ok(name) = PluginName::from_os_str(OsStr::from_bytes(data)) {
        let mut components = Path::new(name.as_str()).components();
        assert!(matches!(components.next(), Some(Component::Normal(_))));
        assert!(components.next().is_none());
        assert!(!name.as_str().starts_with('.'));
    }
});
