//! `authz` (`AuthZPlugin`): a plugin that allows or denies each engine API
//! request, before it runs and after.
//!
//! Every request field is `omitempty`; bodies are base64 (bytes here);
//! certificates are the base64 of their PEM text; header maps hold one value
//! per header. On a 200 the engine acts on `Allow` and `Msg` only; `Err` is
//! not looked at (any other status is a failure, as everywhere).

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::go_json::go_struct;

#[cfg(feature = "client")]
mod client;
#[cfg(feature = "server")]
mod server;

#[cfg(feature = "client")]
pub use client::{AuthzClient, AuthzDecision, AuthzGate, MAX_AUTHZ_BODY};
#[cfg(feature = "server")]
pub use server::Authorizer;
#[cfg(feature = "server")]
pub(crate) use server::mount;

/// The subsystem's name in a manifest.
pub const IMPLEMENTS: &str = "authz";
/// `AuthZPlugin.AuthZReq`: [`AuthzRequest`] → [`AuthzResponse`], before the
/// engine handles a request.
pub const AUTHZ_REQ: &str = "AuthZPlugin.AuthZReq";
/// `AuthZPlugin.AuthZRes`: [`AuthzRequest`] (now with the response fields) →
/// [`AuthzResponse`], before the engine answers.
pub const AUTHZ_RES: &str = "AuthZPlugin.AuthZRes";

/// A client certificate, as the PEM text Docker sends (base64 in JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerCertificate {
    /// `-----BEGIN CERTIFICATE-----...`.
    pub pem: Vec<u8>,
}

impl Serialize for PeerCertificate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(&self.pem))
    }
}

impl<'de> Deserialize<'de> for PeerCertificate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::go_json::base64_bytes::deserialize(deserializer).map(|pem| Self { pem })
    }
}

go_struct! {
    /// What the engine asks about: the API request, and for `AuthZRes` its
    /// response. Every field is left out when empty.
    pub struct AuthzRequest {
        /// The user (a TLS client certificate's common name), if known.
        #[serde(skip_serializing_if = "String::is_empty")]
        user: String = "User",
        /// How the user was authenticated (`TLS`).
        #[serde(skip_serializing_if = "String::is_empty")]
        user_authn_method: String = "UserAuthNMethod",
        /// The HTTP method.
        #[serde(skip_serializing_if = "String::is_empty")]
        request_method: String = "RequestMethod",
        /// The raw request URI (`/v1.47/containers/json?all=1`).
        #[serde(skip_serializing_if = "String::is_empty")]
        request_uri: String = "RequestUri",
        /// The request body (JSON bodies under 1 MiB only).
        #[serde(with = "crate::go_json::base64_bytes", skip_serializing_if = "Vec::is_empty")]
        request_body: Vec<u8> = "RequestBody",
        /// The request's headers, one value each (credentials stripped).
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        request_headers: BTreeMap<String, String> = "RequestHeaders",
        /// The client's TLS certificates.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        request_peer_certificates: Vec<PeerCertificate> = "RequestPeerCertificates",
        /// The response's status (`AuthZRes` only).
        #[serde(skip_serializing_if = "is_zero")]
        response_status_code: i64 = "ResponseStatusCode",
        /// The response's body (`AuthZRes` only; JSON bodies only).
        #[serde(with = "crate::go_json::base64_bytes", skip_serializing_if = "Vec::is_empty")]
        response_body: Vec<u8> = "ResponseBody",
        /// The response's headers (`AuthZRes` only).
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        response_headers: BTreeMap<String, String> = "ResponseHeaders",
    }
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

go_struct! {
    /// The plugin's decision. `Allow` is always written.
    pub struct AuthzResponse {
        /// Allow the request (or response).
        allow: bool = "Allow",
        /// Why, shown to the user when denied.
        #[serde(skip_serializing_if = "String::is_empty")]
        msg: String = "Msg",
        /// The plugin's own failure (answered with status 500).
        #[serde(skip_serializing_if = "String::is_empty")]
        err: String = "Err",
    }
}

impl AuthzResponse {
    /// Allows it.
    pub fn allow() -> Self {
        Self {
            allow: true,
            ..Self::default()
        }
    }

    /// Denies it, saying why.
    pub fn deny(msg: impl Into<String>) -> Self {
        Self {
            allow: false,
            msg: msg.into(),
            err: String::new(),
        }
    }
}
