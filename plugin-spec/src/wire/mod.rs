//! The vocabulary both sides of the wire share: the handshake's method and
//! answer, the media types, and how message bodies decode ([`from_body`],
//! [`GoJson`]: as Docker's Go peers decode them). plugin-client and plugin-server both take
//! them from here (tower-service is the model: one small contract both sides
//! depend on), and re-export them.

use std::fmt;

mod body;

pub use body::{BodyError, GoJson, from_body};

use crate::json::key_matches;
use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What a plugin implements: `{"Implements": ["VolumeDriver", ...]}`.
///
/// Decoded as Docker decodes it: the key in any case, unknown keys ignored,
/// `null` as none.
///
/// ```
/// use plugin_spec::wire::Manifest;
///
/// let manifest: Manifest = serde_json::from_str(r#"{"implements": ["VolumeDriver"]}"#)?;
/// assert!(manifest.implements_iface("VolumeDriver"));
/// assert_eq!(serde_json::to_string(&manifest)?, r#"{"Implements":["VolumeDriver"]}"#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Manifest {
    implements: Vec<String>,
}

impl Manifest {
    /// A manifest listing these subsystems.
    pub fn new(implements: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            implements: implements.into_iter().map(Into::into).collect(),
        }
    }

    /// Adds a subsystem, once (the order of first addition is kept).
    pub fn add(&mut self, subsystem: impl Into<String>) {
        let subsystem = subsystem.into();
        if !self.implements.contains(&subsystem) {
            self.implements.push(subsystem);
        }
    }

    /// The subsystems, in the plugin's order.
    pub fn implements(&self) -> &[String] {
        &self.implements
    }

    /// Whether the plugin implements `iface` (compared exactly, as Docker does).
    pub fn implements_iface(&self, iface: &str) -> bool {
        self.implements.iter().any(|i| i == iface)
    }
}

impl Serialize for Manifest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Manifest", 1)?;
        s.serialize_field("Implements", &self.implements)?;
        s.end()
    }
}

impl<'de> Deserialize<'de> for Manifest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ManifestVisitor)
    }
}

struct ManifestVisitor;

impl<'de> Visitor<'de> for ManifestVisitor {
    type Value = Manifest;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a manifest object: {\"Implements\": [...]}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Manifest, A::Error> {
        let mut manifest = Manifest::default();
        while let Some(key) = map.next_key::<String>()? {
            if key_matches(&key, "Implements") {
                manifest.implements = map.next_value::<Option<Vec<String>>>()?.unwrap_or_default();
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(manifest)
    }
}

/// The handshake method: `POST /Plugin.Activate`, answered with a
/// [`Manifest`].
pub const ACTIVATE: &str = "Plugin.Activate";

/// The `Accept` header Docker's client sends on every call.
pub const ACCEPT_V1_2: &str = "application/vnd.docker.plugins.v1.2+json";

/// The `Content-Type` of every answer, as go-plugins-helpers sends it.
pub const CONTENT_TYPE_V1_1: &str = "application/vnd.docker.plugins.v1.1+json";
