//! An IP network as configured (`--allow-cidr`, `--trusted-proxy`, allowlist files).

use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;

/// A network, written `10.0.0.0/8` or as a single address `10.1.2.3`. An IPv4-mapped IPv6
/// network (`::ffff:10.0.0.0/104`) is the IPv4 network it maps, as clients' addresses are.
pub fn parse_network(raw: &str) -> Result<IpNet, String> {
    let raw = raw.trim();
    let network = IpNet::from_str(raw)
        .or_else(|_| IpAddr::from_str(raw).map(IpNet::from))
        .map_err(|_| {
            format!("{raw:?} is not an IP address or CIDR network (such as 10.0.0.0/8)")
        })?;
    match network {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
            Some(v4) => ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96)
                .map(IpNet::V4)
                .map_err(|e| format!("{raw:?}: {e}")),
            None => Ok(network),
        },
        IpNet::V6(v6) if v6.addr().to_ipv4_mapped().is_some() => Err(format!(
            "{raw:?} mixes IPv4-mapped and other IPv6 addresses: write the IPv4 network (such as 10.0.0.0/8)"
        )),
        _ => Ok(network),
    }
}
