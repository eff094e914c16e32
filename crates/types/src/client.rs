//! How clients are told apart when counting them (connection caps, login throttling).

use std::net::{IpAddr, Ipv6Addr};

/// The unit a client is counted by: its IPv4 address, or the /64 of its IPv6 address (the
/// block one subscriber usually holds, so a host cannot pick a fresh address for every
/// connection or guess). IPv4-mapped IPv6 addresses count as the IPv4 address.
pub fn client_of(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let segments = v6.segments();
                IpAddr::V6(Ipv6Addr::new(segments[0], segments[1], segments[2], segments[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_are_ipv4_addresses_or_ipv6_64s() {
        for (address, want) in [
            ("192.0.2.1", "192.0.2.1"),
            ("::ffff:192.0.2.1", "192.0.2.1"),
            ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::"),
            ("2001:db8:1:2::ffff", "2001:db8:1:2::"),
        ] {
            let address: IpAddr = address.parse().unwrap();
            assert_eq!(client_of(address), want.parse::<IpAddr>().unwrap());
        }
    }
}
