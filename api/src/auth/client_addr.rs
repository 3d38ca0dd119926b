//! The client address that login throttling counts against.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use actix_web::HttpRequest;

/// The address a request is counted against, as text.
///
/// Without `trust_proxy` it is the peer of the TCP connection. With it, it is the right-most
/// `X-Forwarded-For` entry: the one the trusted proxy appended. Every entry to its left was
/// written by the client and proves nothing, so taking the left-most would let a client pick
/// a fresh address for every guess. `Forwarded` is ignored for the same reason: a proxy that
/// appends `X-Forwarded-For` passes a client's `Forwarded` header through untouched. When the
/// right-most entry is not an address, the peer (the proxy) is used, which only throttles
/// harder.
///
/// An IPv6 client is counted by its /64 network, since one subscriber holds a whole /64
/// and could otherwise rotate through 2^64 addresses.
pub fn client_key(req: &HttpRequest, trust_proxy: bool) -> String {
    let peer = req.peer_addr().map(|addr| addr.ip());
    let forwarded = if trust_proxy {
        rightmost_forwarded_for(req)
    } else {
        None
    };
    match forwarded.or(peer) {
        Some(ip) => counted_as(ip),
        None => "unknown".to_owned(),
    }
}

fn rightmost_forwarded_for(req: &HttpRequest) -> Option<IpAddr> {
    // Several header lines are one list, in order (RFC 9110 section 5.3).
    let last_line = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|value| value.to_str().ok())
        .filter(|line| !line.trim().is_empty())
        .last()?;
    let entry = last_line.rsplit(',').next()?.trim();
    parse_entry(entry)
}

/// Parses `1.2.3.4`, `1.2.3.4:port`, `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:port`.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(addr) = entry.parse::<SocketAddr>() {
        return Some(addr.ip());
    }
    entry
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|inner| inner.parse::<Ipv6Addr>().ok())
        .map(IpAddr::V6)
}

fn counted_as(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                let network = Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("{network}/64")
            }
        },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn key(headers: &[(&str, &str)], trust_proxy: bool) -> String {
        let mut req = TestRequest::default().peer_addr("10.0.0.9:4000".parse().unwrap());
        for header in headers {
            req = req.append_header(*header);
        }
        client_key(&req.to_http_request(), trust_proxy)
    }

    #[test]
    fn without_trust_the_peer_counts_whatever_the_headers_say() {
        assert_eq!(key(&[("X-Forwarded-For", "1.2.3.4")], false), "10.0.0.9");
        assert_eq!(key(&[], true), "10.0.0.9");
    }

    #[test]
    fn with_trust_the_entry_the_proxy_appended_counts() {
        assert_eq!(
            key(
                &[("X-Forwarded-For", "6.6.6.6, 7.7.7.7, 203.0.113.5")],
                true
            ),
            "203.0.113.5"
        );
        assert_eq!(
            key(
                &[
                    ("X-Forwarded-For", "6.6.6.6"),
                    ("X-Forwarded-For", "203.0.113.5:5555")
                ],
                true
            ),
            "203.0.113.5"
        );
        assert_eq!(
            key(
                &[
                    ("Forwarded", "for=1.1.1.1"),
                    ("X-Forwarded-For", "203.0.113.5")
                ],
                true
            ),
            "203.0.113.5"
        );
    }

    #[test]
    fn a_right_most_entry_that_is_no_address_falls_back_to_the_peer() {
        assert_eq!(
            key(&[("X-Forwarded-For", "1.2.3.4, junk")], true),
            "10.0.0.9"
        );
        assert_eq!(key(&[("X-Forwarded-For", "1.2.3.4,")], true), "10.0.0.9");
        assert_eq!(key(&[("Forwarded", "for=1.1.1.1")], true), "10.0.0.9");
    }

    #[test]
    fn ipv6_clients_count_by_their_64_network() {
        assert_eq!(
            key(&[("X-Forwarded-For", "2001:db8:1:2:3:4:5:6")], true),
            "2001:db8:1:2::/64"
        );
        assert_eq!(
            key(&[("X-Forwarded-For", "[2001:db8:1:2::9]:443")], true),
            "2001:db8:1:2::/64"
        );
        assert_eq!(
            key(&[("X-Forwarded-For", "::ffff:198.51.100.7")], true),
            "198.51.100.7"
        );
    }
}
