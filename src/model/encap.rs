//! How a segment was carried: the tags, labels and tunnels the decoder went
//! through to reach its TCP header (`vlan 100`, `mpls 16`, `vxlan 42`, ...).
//! Fixed size and `Copy`: decoding a plain frame costs nothing extra.

use std::fmt;

/// One layer the decoder went through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layer {
    /// 802.1Q or 802.1ad tag, with its VLAN id.
    Vlan(u16),
    /// 802.1ah (provider backbone bridging), with its I-SID.
    Pbb(u32),
    /// Cisco FabricPath.
    FabricPath,
    /// Cisco VN-Tag.
    VnTag,
    /// An MPLS label.
    Mpls(u32),
    /// PPPoE session, with its id.
    Pppoe(u16),
    /// PPP (in GRE or on a PPP link).
    Ppp,
    /// GRE, with its key when it has one.
    Gre(Option<u32>),
    /// Enhanced GRE (PPTP, version 1), with its call id.
    Pptp(u16),
    /// ERSPAN (types I to III), with its session id.
    Erspan(u16),
    /// IPv4 or IPv6 in IPv4 or IPv6 (IP protocol 4 or 41).
    IpInIp,
    /// VXLAN, with its VNI.
    Vxlan(u32),
    /// Geneve, with its VNI.
    Geneve(u32),
    /// GTP-U, with its tunnel endpoint id.
    GtpU(u32),
    /// Teredo (IPv6 over UDP 3544).
    Teredo,
    /// AYIYA (IP over UDP 5072).
    Ayiya,
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Layer::Vlan(id) => write!(f, "vlan {id}"),
            Layer::Pbb(isid) => write!(f, "pbb isid {isid}"),
            Layer::FabricPath => f.write_str("fabricpath"),
            Layer::VnTag => f.write_str("vn-tag"),
            Layer::Mpls(label) => write!(f, "mpls {label}"),
            Layer::Pppoe(id) => write!(f, "pppoe {id:#06x}"),
            Layer::Ppp => f.write_str("ppp"),
            Layer::Gre(None) => f.write_str("gre"),
            Layer::Gre(Some(key)) => write!(f, "gre key {key}"),
            Layer::Pptp(call) => write!(f, "pptp call {call}"),
            Layer::Erspan(id) => write!(f, "erspan {id}"),
            Layer::IpInIp => f.write_str("ip-in-ip"),
            Layer::Vxlan(vni) => write!(f, "vxlan {vni}"),
            Layer::Geneve(vni) => write!(f, "geneve {vni}"),
            Layer::GtpU(teid) => write!(f, "gtp-u teid {teid:#x}"),
            Layer::Teredo => f.write_str("teredo"),
            Layer::Ayiya => f.write_str("ayiya"),
        }
    }
}

/// Layers kept per segment; deeper stacks keep the outermost ones and count
/// the rest.
pub const KEPT: usize = 6;

/// The layers of one segment, outermost first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Encap {
    layers: [Option<Layer>; KEPT],
    len: u8,
    more: u8,
}

impl Encap {
    /// Adds the next (inner) layer.
    pub fn push(&mut self, layer: Layer) {
        if let Some(slot) = self.layers.get_mut(usize::from(self.len)) {
            *slot = Some(layer);
            self.len += 1;
        } else {
            self.more = self.more.saturating_add(1);
        }
    }

    /// The layers, outermost first.
    pub fn layers(&self) -> impl Iterator<Item = Layer> + '_ {
        // Only the first `len` slots are filled.
        self.layers.iter().take(usize::from(self.len)).flatten().copied()
    }

    /// Carried as is (no tag, label or tunnel)?
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Layers beyond [`KEPT`].
    #[must_use]
    pub fn more(&self) -> u8 {
        self.more
    }

    /// What tells apart connections with the same inner addresses: the
    /// virtual networks (VXLAN and Geneve VNIs) they travel in. Tags and
    /// labels are left out (a trunk can show the same segment under two
    /// VLANs), and so are direction-specific ids (GTP TEIDs, GRE keys).
    #[must_use]
    pub fn network(&self) -> u64 {
        // Asked for every segment: most are carried as is.
        if self.len == 0 {
            return 0;
        }
        self.layers().fold(0, |acc, l| match l {
            Layer::Vxlan(vni) => (acc << 25) | u64::from(vni) | 1 << 24,
            Layer::Geneve(vni) => (acc << 25) | u64::from(vni) | 1 << 24,
            _ => acc,
        })
    }

    /// `["vlan 100", "vxlan 42"]` as strings.
    #[must_use]
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.layers().map(|l| l.to_string()).collect();
        if self.more > 0 {
            v.push(format!("{} more", self.more));
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_networks_and_depth() {
        let mut e = Encap::default();
        assert!(e.is_empty() && e.network() == 0);
        e.push(Layer::Vlan(100));
        assert_eq!(e.network(), 0, "a VLAN does not make another connection");
        e.push(Layer::Vxlan(42));
        assert_eq!(e.names(), ["vlan 100", "vxlan 42"]);
        let mut other = Encap::default();
        other.push(Layer::Vxlan(43));
        assert_ne!(e.network(), other.network());
        for i in 0..10 {
            e.push(Layer::Mpls(i));
        }
        assert_eq!(e.layers().count(), KEPT);
        assert_eq!(e.names().last().unwrap(), "6 more");
    }
}
