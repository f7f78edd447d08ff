//! Test support for the docker-plugins crates: the pieces their tests share,
//! in one place (tower-test is the model), so each crate's tests, and the
//! tests inside each published `.crate`, use the same real things.
//!
//! | module | what |
//! | --- | --- |
//! | [`binaries`] | a small static (crt-static) binary built with rustc at test time |
//! | [`certs`] | a CA and the certificates it issues, made with rcgen at test time; PEM files for a TLS plugin and its hosts |
//! | [`http`] | raw HTTP/1.1 over unix sockets: send exact bytes and parse the answer, or answer exact bytes and record the request |
//! | [`errors`] | an error's chain of causes as a reader sees it, and the check that no sentence in it repeats |
//! | [`files`] | files that are not regular files: a FIFO |
//! | [`memory`] | this process's resident memory, for the memory-bound tests |
//! | [`metrics`] | a metrics recorder for one thread (metrics-util's registry), read back by name and labels |
//!
//! It is for tests: a function that cannot do its job panics with a message
//! saying what failed, as an assertion does.
//!
//! ```
//! use plugin_test_support::errors::{assert_each_cause_once, chain};
//!
//! #[derive(Debug)]
//! struct Outer(std::io::Error);
//! impl std::fmt::Display for Outer {
//!     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
//!         f.write_str("cannot reach plugin \"sshfs\"")
//!     }
//! }
//! impl std::error::Error for Outer {
//!     fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
//!         Some(&self.0)
//!     }
//! }
//!
//! let error = Outer(std::io::Error::other("connection refused"));
//! assert_eq!(chain(&error), "cannot reach plugin \"sshfs\": connection refused");
//! assert_each_cause_once(&error);
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod binaries;
pub mod certs;
pub mod errors;
pub mod files;
pub mod http;
pub mod memory;
pub mod metrics;

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
