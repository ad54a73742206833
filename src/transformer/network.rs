//! The network an IP address belongs to, for reports that aggregate addresses: IPv4 /24 and
//! IPv6 /48 (a site's usual allocation), written as CIDR (`198.51.100.0/24`, `2001:db8::/48`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The /24 or /48 network of a canonical IP address; `None` for text that is not an address.
pub fn network_of(address: &str) -> Option<String> {
    match address.parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) => {
            let network = Ipv4Addr::from(v4.to_bits() & 0xffff_ff00);
            Some(format!("{network}/24"))
        }
        IpAddr::V6(v6) => {
            let network = Ipv6Addr::from(v6.to_bits() & !(u128::MAX >> 48));
            Some(format!("{network}/48"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(network_of("not an address"), None);
        assert_eq!(network_of(""), None);
    }
}
