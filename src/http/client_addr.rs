//! Who the client is. The TCP peer, unless the peer is a trusted proxy: then the nearest
//! untrusted hop in the one header the proxies write, `X-Forwarded-For` or `Forwarded` (RFC
//! 7239). The other header is ignored: a proxy passes on whatever a client put in the header it
//! does not write itself. Headers from anyone else are ignored, since any client can write them.

use actix_web::http::header::HeaderMap;
use ipnet::IpNet;
use std::net::IpAddr;

use crate::settings::ForwardedHeader;

/// The client address used for the allowlist, the rate limit and the logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

pub fn contains(networks: &[IpNet], ip: IpAddr) -> bool {
    let ip = canonical(ip);
    networks.iter().any(|net| net.contains(&ip))
}

/// IPv4-mapped IPv6 (`::ffff:10.1.2.3`) is the IPv4 address it carries.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

pub fn resolve(
    peer: IpAddr,
    headers: &HeaderMap,
    trusted_proxies: &[IpNet],
    header: ForwardedHeader,
) -> IpAddr {
    let peer = canonical(peer);
    if !contains(trusted_proxies, peer) {
        return peer;
    }
    let hops = match header {
        ForwardedHeader::XForwardedFor => x_forwarded_for_hops(headers),
        ForwardedHeader::Forwarded => forwarded_hops(headers),
    };
    let Some(hops) = hops else { return peer };
    // Right to left: each trusted proxy vouches for the hop before it.
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop {
            Some(ip) if contains(trusted_proxies, *ip) => client = *ip,
            Some(ip) => return *ip,
            // An unreadable or obfuscated hop: the last trusted proxy is all that is known.
            None => return client,
        }
    }
    client
}

fn forwarded_hops(headers: &HeaderMap) -> Option<Vec<Option<IpAddr>>> {
    let values: Vec<&str> = headers
        .get_all("forwarded")
        .filter_map(|v| v.to_str().ok())
        .collect();
    if values.is_empty() {
        return None;
    }
    let hops = values
        .iter()
        .flat_map(|v| v.split(','))
        .map(|element| {
            element.split(';').find_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                name.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| parse_node(value.trim().trim_matches('"')))?
            })
        })
        .collect();
    Some(hops)
}

fn x_forwarded_for_hops(headers: &HeaderMap) -> Option<Vec<Option<IpAddr>>> {
    let values: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect();
    if values.is_empty() {
        return None;
    }
    Some(
        values
            .iter()
            .flat_map(|v| v.split(','))
            .map(|hop| parse_node(hop.trim()))
            .collect(),
    )
}

/// `1.2.3.4`, `1.2.3.4:5678`, `[2001:db8::1]`, `[2001:db8::1]:443` or `2001:db8::1`.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok().map(canonical);
    }
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    let (host, port) = node.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse().ok().map(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::parse_network;
    use crate::http::test_headers as headers;

    const XFF: ForwardedHeader = ForwardedHeader::XForwardedFor;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn headers_from_untrusted_peers_are_ignored() {
        let h = headers(&[
            ("x-forwarded-for", "10.9.9.9"),
            ("forwarded", "for=10.8.8.8"),
        ]);
        for header in [XFF, ForwardedHeader::Forwarded] {
            assert_eq!(
                resolve(ip("203.0.113.5"), &h, &[], header),
                ip("203.0.113.5")
            );
        }
    }

    #[test]
    fn the_nearest_untrusted_hop_behind_trusted_proxies_is_the_client() {
        let trusted = vec![
            parse_network("127.0.0.1").unwrap(),
            parse_network("10.0.0.0/8").unwrap(),
        ];
        let h = headers(&[("x-forwarded-for", "198.51.100.7, 203.0.113.9, 10.0.0.2")]);
        assert_eq!(
            resolve(ip("127.0.0.1"), &h, &trusted, XFF),
            ip("203.0.113.9")
        );
        let forwarded = ForwardedHeader::Forwarded;
        let h = headers(&[(
            "forwarded",
            "for=198.51.100.7;proto=https, for=\"[2001:db8::1]:443\"",
        )]);
        assert_eq!(
            resolve(ip("127.0.0.1"), &h, &trusted, forwarded),
            ip("2001:db8::1")
        );
        let h = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(
            resolve(ip("127.0.0.1"), &h, &trusted, forwarded),
            ip("127.0.0.1")
        );
        assert_eq!(
            resolve(ip("127.0.0.1"), &HeaderMap::new(), &trusted, XFF),
            ip("127.0.0.1")
        );
        let h = headers(&[("x-forwarded-for", "192.0.2.1:5555")]);
        assert_eq!(
            resolve(ip("::ffff:127.0.0.1"), &h, &trusted, XFF),
            ip("192.0.2.1")
        );
    }

    #[test]
    fn only_the_header_the_proxies_write_is_read() {
        let trusted = vec![parse_network("127.0.0.1").unwrap()];
        // The proxy appended the real client to X-Forwarded-For and passed on the client's own
        // Forwarded header: that one must not name the client.
        let h = headers(&[
            ("forwarded", "for=52.1.2.9"),
            ("x-forwarded-for", "8.8.8.8"),
        ]);
        assert_eq!(resolve(ip("127.0.0.1"), &h, &trusted, XFF), ip("8.8.8.8"));
        let h = headers(&[
            ("x-forwarded-for", "52.1.2.9"),
            ("forwarded", "for=8.8.8.8"),
        ]);
        assert_eq!(
            resolve(ip("127.0.0.1"), &h, &trusted, ForwardedHeader::Forwarded),
            ip("8.8.8.8")
        );
    }

    #[test]
    fn networks_parse_with_or_without_a_prefix() {
        assert!(contains(
            &[parse_network("10.0.0.0/8").unwrap()],
            ip("10.200.1.1")
        ));
        assert!(contains(
            &[parse_network("192.0.2.7").unwrap()],
            ip("192.0.2.7")
        ));
        assert!(!contains(
            &[parse_network("192.0.2.7").unwrap()],
            ip("192.0.2.8")
        ));
        assert!(parse_network("10.0.0.0/33").is_err());
        assert!(parse_network("example.com").unwrap_err().contains("CIDR"));
        // IPv4-mapped networks are the IPv4 networks clients' addresses are compared with.
        let mapped = parse_network("::ffff:10.9.0.0/112").unwrap();
        assert_eq!(mapped, parse_network("10.9.0.0/16").unwrap());
        assert!(contains(&[mapped], ip("10.9.0.5")));
        assert!(contains(&[mapped], ip("::ffff:10.9.0.5")));
        assert!(parse_network("::ffff:0.0.0.0/80").is_err());
    }
}
