//! Names (docs/protocol.md, "Names"): our stricter rules, one test per rule.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use plugin_spec::{MAX_NAME_LEN, NameRule, PluginName, SpecError};

fn rule(name: &str) -> Option<NameRule> {
    PluginName::new(name).err().and_then(|e| e.name_rule())
}

#[test]
fn ordinary_names_are_accepted_unchanged() {
    for name in [
        "sshfs",
        "local-persist",
        "a.b",
        "vol_1",
        "x",
        "名前",
        "plugin@v2",
        "with space",
        "a:b",
    ] {
        let parsed = PluginName::new(name).unwrap();
        assert_eq!(parsed.as_str(), name);
        assert_eq!(parsed.to_string(), name);
        assert_eq!(parsed, name);
    }
}

#[test]
fn empty_name_is_rejected() {
    assert_eq!(rule(""), Some(NameRule::Empty));
}

#[test]
fn name_over_255_bytes_is_rejected() {
    let longest = "a".repeat(MAX_NAME_LEN);
    assert!(PluginName::new(&longest).is_ok());
    assert_eq!(rule(&format!("{longest}a")), Some(NameRule::TooLong));
    // Bytes, not characters: 128 two-byte characters are 256 bytes.
    assert_eq!(rule(&"é".repeat(128)), Some(NameRule::TooLong));
    assert!(PluginName::new("é".repeat(127)).is_ok());
}

#[test]
fn dot_and_dot_dot_are_rejected() {
    assert_eq!(rule("."), Some(NameRule::DotOrDotDot));
    assert_eq!(rule(".."), Some(NameRule::DotOrDotDot));
}

#[test]
fn leading_dot_is_rejected() {
    assert_eq!(rule(".hidden"), Some(NameRule::LeadingDot));
    assert_eq!(rule("../x"), Some(NameRule::LeadingDot));
    assert_eq!(rule("..."), Some(NameRule::LeadingDot));
}

#[test]
fn slash_is_rejected() {
    assert_eq!(rule("a/b"), Some(NameRule::Slash));
    assert_eq!(rule("x/../../etc/passwd"), Some(NameRule::Slash));
    assert_eq!(rule("trailing/"), Some(NameRule::Slash));
}

#[test]
fn backslash_is_rejected() {
    assert_eq!(rule("a\\b"), Some(NameRule::Backslash));
}

#[test]
fn nul_is_rejected() {
    assert_eq!(rule("a\0b"), Some(NameRule::Nul));
}

#[test]
fn control_characters_are_rejected() {
    for name in ["a\nb", "tab\t", "\x1b[31m", "del\x7f", "c1\u{85}"] {
        assert_eq!(rule(name), Some(NameRule::ControlCharacter), "{name:?}");
    }
}

#[test]
fn non_utf8_file_names_are_rejected() {
    let err = PluginName::from_os_str(OsStr::from_bytes(b"bad\xffname")).unwrap_err();
    assert_eq!(err.name_rule(), Some(NameRule::NotUtf8));
    assert_eq!(PluginName::from_os_str(OsStr::new("ok")).unwrap(), "ok");
}

#[test]
fn the_error_names_the_input_and_the_rule() {
    let err = PluginName::new("../etc").unwrap_err();
    assert!(
        matches!(&err, SpecError::InvalidName { name, rule: NameRule::LeadingDot, path: None } if name == "../etc")
    );
    assert_eq!(
        err.to_string(),
        "invalid plugin name \"../etc\": it starts with `.`; names may not be hidden files or climb out of the plugin directories"
    );
    assert_eq!(
        PluginName::new("a/b").unwrap_err().to_string(),
        "invalid plugin name \"a/b\": it contains `/`; a name is one file name, not a path"
    );
}

#[test]
fn conversions_agree() {
    let a: PluginName = "x".parse().unwrap();
    let b = PluginName::try_from("x").unwrap();
    let c = PluginName::try_from(String::from("x")).unwrap();
    assert_eq!(a, b);
    assert_eq!(b, c);
    assert!("a/b".parse::<PluginName>().is_err());
    assert_eq!(format!("{a:?}"), "\"x\"");
    let mut set = std::collections::HashSet::new();
    set.insert(a);
    assert!(set.contains("x"));
}
