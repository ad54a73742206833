//! The network an IP address belongs to, for reports that aggregate addresses: IPv4 /24 and
//! IPv6 /48 (a site's usual allocation), written as CIDR (`198.51.100.0/24`, `2001:db8::/48`).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The address `text` holds: outer white space, brackets and a port dropped, an IPv4-mapped
/// IPv6 address as IPv4; `None` for text that is no address.
pub fn parse_address(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    let unbracketed = text
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(text);
    unbracketed
        .parse::<IpAddr>()
        .or_else(|_| text.parse::<SocketAddr>().map(|socket| socket.ip()))
        .ok()
        .map(|address| address.to_canonical())
}

/// The /24 or /48 network of an address, displayed as CIDR.
pub struct Network(pub IpAddr);

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            IpAddr::V4(v4) => {
                let network = Ipv4Addr::from(v4.to_bits() & 0xffff_ff00);
                write!(f, "{network}/24")
            }
            IpAddr::V6(v6) => {
                let network = Ipv6Addr::from(v6.to_bits() & !(u128::MAX >> 48));
                write!(f, "{network}/48")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn network_of(text: &str) -> Option<String> {
        parse_address(text).map(|address| Network(address).to_string())
    }

    #[test]
    fn networks_of_both_families() {
        assert_eq!(
            network_of("198.51.100.77").as_deref(),
            Some("198.51.100.0/24")
        );
        assert_eq!(network_of("10.0.0.0").as_deref(), Some("10.0.0.0/24"));
        assert_eq!(
            network_of("2001:db8:464:d5bf::b3b2").as_deref(),
            Some("2001:db8:464::/48")
        );
        assert_eq!(network_of("2001:db8::1").as_deref(), Some("2001:db8::/48"));
        assert_eq!(
            network_of("::ffff:198.51.100.7").as_deref(),
            Some("198.51.100.0/24")
        );
        assert_eq!(
            network_of(" [2001:db8::1]:443 ").as_deref(),
            Some("2001:db8::/48")
        );
        assert_eq!(network_of("not an address"), None);
        assert_eq!(network_of(""), None);
    }
}
