//! The client's address, which rate limits count and sessions and the audit log record.
//!
//! The socket peer is the client unless it is a trusted proxy. Then `X-Forwarded-For` is walked
//! from the right, one hop at a time, for as long as each hop is a trusted proxy: the first
//! untrusted address is the client. An entry that is not an address stops the walk, and the
//! client is then the last trusted hop itself: whatever stands left of a garbled entry was
//! written by someone we do not trust. Every address is canonicalized first, so that
//! `::ffff:127.0.0.1` (an IPv4 peer of a dual-stack socket) is `127.0.0.1`.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use actix_web::HttpRequest;
#[cfg(feature = "service")]
use {actix_web::http::header, auth_domain::ClientInfo};

/// The longest `User-Agent` kept on a session.
#[cfg(feature = "service")]
const MAX_USER_AGENT_CHARS: usize = 256;

/// The client's address: the socket peer, unless the peer is a trusted proxy, in which case the
/// right-most `X-Forwarded-For` address that is not itself a trusted proxy.
///
/// - Addresses are canonical: an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) is its IPv4
///   address, whether it is the peer, an entry, or in `trusted_proxies`.
/// - Entries are read in the forms proxies append: `192.0.2.1`, `192.0.2.1:5555`, `2001:db8::1`,
///   `[2001:db8::1]:5555` and `[2001:db8::1]`; the port is dropped.
/// - An entry in no such form (`unknown`, `[2001:db8::1`, an empty entry, a header that is not
///   ASCII) stops the walk: the client is then the last trusted hop, never an address to the
///   left of it, which the client itself may have written.
///
/// A client that is not a trusted proxy cannot change its address by sending
/// `X-Forwarded-For`. `None` only when the request has no peer address.
pub fn client_ip(req: &HttpRequest, trusted_proxies: &[IpAddr]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    let lines = req
        .headers()
        .get_all("x-forwarded-for")
        .map(|v| v.to_str().ok());
    Some(walk(peer, lines, trusted_proxies))
}

/// The walk of [`client_ip`] over the `X-Forwarded-For` lines, in the order received (`None` for
/// a line that is not visible ASCII).
fn walk<'a>(
    peer: IpAddr,
    lines: impl DoubleEndedIterator<Item = Option<&'a str>>,
    trusted_proxies: &[IpAddr],
) -> IpAddr {
    let trusted = |ip: &IpAddr| trusted_proxies.iter().any(|t| t.to_canonical() == *ip);
    let mut hop = peer.to_canonical();
    if !trusted(&hop) {
        return hop;
    }
    // Several lines are one list, joined in order; so the last line's last entry is nearest.
    for line in lines.rev() {
        let Some(line) = line else {
            return hop;
        };
        for entry in line.rsplit(',') {
            let Some(ip) = forwarded_address(entry.trim()) else {
                return hop;
            };
            hop = ip;
            if !trusted(&hop) {
                return hop;
            }
        }
    }
    hop
}

/// The canonical address in one `X-Forwarded-For` entry, if it is in a form proxies append.
fn forwarded_address(entry: &str) -> Option<IpAddr> {
    let ip = if let Ok(ip) = entry.parse::<IpAddr>() {
        ip
    } else if let Ok(socket) = entry.parse::<SocketAddr>() {
        socket.ip()
    } else {
        let inner = entry.strip_prefix('[')?.strip_suffix(']')?;
        IpAddr::V6(inner.parse::<Ipv6Addr>().ok()?)
    };
    Some(ip.to_canonical())
}

/// What a new session records about its client, and where the tokens issued for it publish
/// their status (`server.public_url` or the request's origin).
#[cfg(feature = "service")]
pub(crate) fn client_info(req: &HttpRequest, http: &crate::HttpSettings) -> ClientInfo {
    ClientInfo {
        ip: client_ip(req, &http.trusted_proxies).map(|ip| ip.to_string()),
        // Only the routes issue tokens (feature `server`).
        #[cfg(feature = "server")]
        origin: Some(crate::routes::public_base(req, http)),
        #[cfg(not(feature = "server"))]
        origin: None,
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(MAX_USER_AGENT_CHARS).collect()),
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use actix_web::{http::header::HeaderValue, test::TestRequest};

    use super::{client_ip, forwarded_address};

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// The client of a request from `peer` carrying these `X-Forwarded-For` lines.
    fn client(peer: &str, lines: &[&str], trusted: &[&str]) -> IpAddr {
        let mut request = TestRequest::get().peer_addr(peer.parse().unwrap());
        for line in lines {
            request = request.append_header(("X-Forwarded-For", *line));
        }
        let trusted: Vec<IpAddr> = trusted.iter().map(|t| ip(t)).collect();
        client_ip(&request.to_http_request(), &trusted).unwrap()
    }

    #[test]
    fn the_forms_proxies_append_are_read_as_their_address() {
        for (entry, address) in [
            ("198.51.100.1", "198.51.100.1"),
            ("198.51.100.1:5555", "198.51.100.1"),
            ("2001:db8::1", "2001:db8::1"),
            ("[2001:db8::1]:5555", "2001:db8::1"),
            ("[2001:db8::1]", "2001:db8::1"),
            ("::ffff:198.51.100.1", "198.51.100.1"),
            ("[::ffff:198.51.100.1]:80", "198.51.100.1"),
        ] {
            assert_eq!(forwarded_address(entry), Some(ip(address)), "{entry}");
        }
        for entry in [
            "",
            "unknown",
            "_hidden",
            "[2001:db8::1",
            "2001:db8::1]",
            "[198.51.100.1]",
            "198.51.100.1:99999",
            "198.51.100.1 5",
            "for=198.51.100.1",
        ] {
            assert_eq!(forwarded_address(entry), None, "{entry:?}");
        }
    }

    #[test]
    fn an_entry_that_is_not_an_address_stops_the_walk_at_the_last_trusted_hop() {
        let trusted = ["127.0.0.1", "10.0.0.2"];
        let peer = "127.0.0.1:40000";
        // Steering attempts: the chosen address never wins.
        for line in [
            "203.0.113.7, unknown",
            "203.0.113.7, [2001:db8::1",
            "203.0.113.7, ",
            "203.0.113.7,,",
        ] {
            assert_eq!(client(peer, &[line], &trusted), ip("127.0.0.1"), "{line}");
        }
        // A trusted hop, then garbage: the client is that hop.
        assert_eq!(
            client(peer, &["203.0.113.7, bogus, 10.0.0.2"], &trusted),
            ip("10.0.0.2")
        );
        // A port is not garbage: the entry is its address.
        assert_eq!(
            client(peer, &["203.0.113.7, 198.51.100.1:5555"], &trusted),
            ip("198.51.100.1")
        );
        assert_eq!(
            client(peer, &["203.0.113.7, [2001:db8::1]:5555"], &trusted),
            ip("2001:db8::1")
        );
    }

    #[test]
    fn several_lines_are_one_list_and_a_non_ascii_line_stops_the_walk() {
        let trusted = ["127.0.0.1"];
        let peer = "127.0.0.1:40000";
        assert_eq!(
            client(peer, &["203.0.113.7", "198.51.100.1"], &trusted),
            ip("198.51.100.1")
        );
        assert_eq!(
            client(peer, &["203.0.113.7", "127.0.0.1"], &trusted),
            ip("203.0.113.7")
        );
        let request = TestRequest::get()
            .peer_addr("127.0.0.1:40000".parse().unwrap())
            .append_header(("X-Forwarded-For", "203.0.113.7"))
            .append_header((
                "X-Forwarded-For",
                HeaderValue::from_bytes(b"198.51.100.1\xff").unwrap(),
            ))
            .to_http_request();
        assert_eq!(
            client_ip(&request, &[ip("127.0.0.1")]),
            Some(ip("127.0.0.1"))
        );
    }

    #[test]
    fn an_ipv4_mapped_peer_is_its_ipv4_address() {
        // A dual-stack socket reports an IPv4 proxy as ::ffff:127.0.0.1.
        let mapped_peer = "[::ffff:127.0.0.1]:40000";
        assert_eq!(
            client(mapped_peer, &["198.51.100.1"], &["127.0.0.1"]),
            ip("198.51.100.1")
        );
        // ...and an untrusted mapped peer is recorded and limited as IPv4.
        assert_eq!(
            client(
                "[::ffff:198.51.100.9]:40000",
                &["203.0.113.7"],
                &["127.0.0.1"]
            ),
            ip("198.51.100.9")
        );
        // A trusted proxy configured in its mapped form matches the IPv4 peer too.
        assert_eq!(
            client("127.0.0.1:40000", &["198.51.100.1"], &["::ffff:127.0.0.1"]),
            ip("198.51.100.1")
        );
        // Forwarded entries are canonical too, trusted hops included.
        assert_eq!(
            client(
                "127.0.0.1:40000",
                &["198.51.100.1, ::ffff:10.0.0.2"],
                &["127.0.0.1", "10.0.0.2"]
            ),
            ip("198.51.100.1")
        );
        assert_eq!(
            client("127.0.0.1:40000", &["::ffff:198.51.100.1"], &["127.0.0.1"]),
            ip("198.51.100.1")
        );
    }
}
