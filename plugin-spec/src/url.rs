//! Splitting an address URL the way Go's `net/url.Parse` does.
//!
//! Docker reads descriptor addresses with Go's `net/url`, an RFC 3986 parser. The
//! `url` crate follows the WHATWG URL standard instead, which accepts different
//! input: it silently deletes tabs and newlines inside a URL, reads `\` as `/` in
//! `http(s)` URLs, and maps and lowercases `https` host names. Using it would make
//! us accept descriptors Docker rejects, so this module follows Go's algorithm for
//! the parts an address uses (scheme, authority, path) and is stricter than Go
//! only where Go's result could never be dialled (bad hosts, ports out of range).

use std::net::Ipv6Addr;

use crate::address::AddressProblem;

/// An address URL split into the parts a plugin address uses.
#[derive(Debug)]
pub(crate) struct SplitUrl<'a> {
    /// The scheme, lowercased (Go lowercases it too).
    pub(crate) scheme: String,
    /// `None` for an opaque URL such as `unix:x.sock` (no `/` after the scheme).
    pub(crate) hierarchy: Option<Hierarchy<'a>>,
}

/// The `//authority/path` part of a URL.
#[derive(Debug)]
pub(crate) struct Hierarchy<'a> {
    /// `None` when the URL has no `//authority` part (`unix:/abs.sock`).
    pub(crate) authority: Option<Authority<'a>>,
    /// The path, percent-decoded (it need not be UTF-8).
    pub(crate) path: Vec<u8>,
}

/// The host and port of a URL authority (any `user@` part is dropped, as in Docker).
#[derive(Debug)]
pub(crate) struct Authority<'a> {
    /// The host without brackets; empty when the authority has none.
    pub(crate) host: &'a str,
    /// The port, `None` when absent or empty (`host:`).
    pub(crate) port: Option<u16>,
}

/// Splits `input` as Go's `url.Parse` does, validating hosts and ports more
/// strictly.
pub(crate) fn split(input: &str) -> Result<SplitUrl<'_>, AddressProblem> {
    if input.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err(AddressProblem::ControlCharacter);
    }
    // Go cuts the fragment first, then the query; neither matters for an address.
    let before_fragment = input.split('#').next().unwrap_or_default();
    let (scheme, rest) = split_scheme(before_fragment)?;
    let rest = rest.split('?').next().unwrap_or_default();
    let scheme = scheme.to_ascii_lowercase();
    if !rest.starts_with('/') {
        return Ok(SplitUrl {
            scheme,
            hierarchy: None,
        });
    }
    let (authority, path) = match rest.strip_prefix("//") {
        Some(after) => {
            let end = after.find('/').unwrap_or(after.len());
            let (authority, path) = after.split_at(end);
            (Some(parse_authority(authority)?), path)
        }
        None => (None, rest),
    };
    Ok(SplitUrl {
        scheme,
        hierarchy: Some(Hierarchy {
            authority,
            path: percent_decode(path)?,
        }),
    })
}

/// Go's `getScheme`: letters, then letters, digits, `+`, `-` or `.`, then `:`.
fn split_scheme(input: &str) -> Result<(&str, &str), AddressProblem> {
    for (i, c) in input.char_indices() {
        match c {
            'a'..='z' | 'A'..='Z' => {}
            '0'..='9' | '+' | '-' | '.' if i > 0 => {}
            ':' if i > 0 => {
                let (scheme, rest) = input.split_at(i);
                return Ok((scheme, rest.get(1..).unwrap_or_default()));
            }
            _ => break,
        }
    }
    Err(AddressProblem::MissingScheme)
}

fn parse_authority(authority: &str) -> Result<Authority<'_>, AddressProblem> {
    // Go takes the last `@`; the user info is never sent to a plugin.
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let (host, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
        let (host, after) = bracketed
            .rsplit_once(']')
            .ok_or(AddressProblem::MissingBracket)?;
        check_ipv6(host)?;
        match after.strip_prefix(':') {
            Some(port) => (host, Some(port)),
            None if after.is_empty() => (host, None),
            None => return Err(AddressProblem::InvalidPort),
        }
    } else {
        let (host, port) = match host_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        };
        check_reg_name(host)?;
        (host, port)
    };
    let port = match port {
        None | Some("") => None,
        Some(digits) => Some(parse_port(digits)?),
    };
    Ok(Authority { host, port })
}

/// Checks an IPv6 host (written in brackets in a URL).
pub(crate) fn check_ipv6(host: &str) -> Result<(), AddressProblem> {
    if host.contains('%') {
        return Err(AddressProblem::Ipv6Zone);
    }
    host.parse::<Ipv6Addr>()
        .map(drop)
        .map_err(|_| AddressProblem::InvalidIpv6)
}

/// Checks a registered name or IPv4 address: what a resolver can look up. Go lets
/// more through (`!`, `*`, `%41`, ...), none of which can be dialled.
pub(crate) fn check_reg_name(host: &str) -> Result<(), AddressProblem> {
    match host
        .chars()
        .find(|&c| c.is_ascii() && !(c.is_ascii_alphanumeric() || "-._~".contains(c)))
    {
        Some(bad) => Err(AddressProblem::InvalidHostCharacter(bad)),
        None => Ok(()),
    }
}

fn parse_port(digits: &str) -> Result<u16, AddressProblem> {
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AddressProblem::InvalidPort);
    }
    match digits.parse::<u16>() {
        Ok(0) | Err(_) => Err(AddressProblem::PortOutOfRange),
        Ok(port) => Ok(port),
    }
}

/// Go's `unescape` in path mode: `%XX` must be two hex digits.
fn percent_decode(path: &str) -> Result<Vec<u8>, AddressProblem> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = |at: usize| bytes.get(at).and_then(|&d| (d as char).to_digit(16));
            match (hex(i + 1), hex(i + 2)) {
                (Some(hi), Some(lo)) => {
                    // Two hex digits always fit in a byte.
                    out.push(u8::try_from(hi * 16 + lo).unwrap_or(u8::MAX));
                    i += 3;
                }
                _ => return Err(AddressProblem::InvalidEscape),
            }
        } else {
            out.push(b);
            i += 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_rules_follow_go() {
        assert_eq!(split_scheme("tcp://x"), Ok(("tcp", "//x")));
        assert_eq!(split_scheme("a+b-c.d:x"), Ok(("a+b-c.d", "x")));
        assert_eq!(split_scheme(":x"), Err(AddressProblem::MissingScheme));
        assert_eq!(split_scheme("1tcp://x"), Err(AddressProblem::MissingScheme));
        assert_eq!(
            split_scheme("/a/b.sock"),
            Err(AddressProblem::MissingScheme)
        );
        assert_eq!(split_scheme("no-colon"), Err(AddressProblem::MissingScheme));
    }

    #[test]
    fn percent_decoding_follows_go() {
        assert_eq!(percent_decode("/a%20b%2F").unwrap(), b"/a b/");
        assert_eq!(percent_decode("/%ff").unwrap(), [b'/', 0xff]);
        assert_eq!(percent_decode("/%"), Err(AddressProblem::InvalidEscape));
        assert_eq!(percent_decode("/%4"), Err(AddressProblem::InvalidEscape));
        assert_eq!(percent_decode("/%zz"), Err(AddressProblem::InvalidEscape));
    }
}
