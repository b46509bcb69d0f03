//! The classic BPF programs that keep only inbound TCP segments of one port
//! (`tcpdump -dd 'inbound and tcp port P'`), or its TCP segments, UDP
//! datagrams and ICMP errors (`inbound and ((tcp or udp) and port P or icmp
//! or icmp6)`, what live capture uses), as tcpdump prints them for an
//! Ethernet interface (Linux `lo` presents Ethernet framing), with `P` as a
//! parameter.
//! Pure; `tests/bpf.rs` compares it with tcpdump's own output for a few ports.

/// One classic BPF instruction (`struct sock_filter`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Insn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

const fn ins(code: u16, jt: u8, jf: u8, k: u32) -> Insn {
    Insn { code, jt, jf, k }
}

/// `inbound and tcp port P`. The first two instructions drop PACKET_OUTGOING
/// copies: on `lo` every frame is seen twice, once leaving and once arriving.
/// IPv4 fragments after the first are dropped (they carry no TCP header).
#[must_use]
pub fn inbound_tcp_port(port: u16) -> Vec<Insn> {
    let p = u32::from(port);
    vec![
        ins(0x28, 0, 0, 0xffff_f004),  // ldh [skb->pkt_type]
        ins(0x15, 19, 0, 0x0000_0004), // jeq PACKET_OUTGOING -> drop
        ins(0x28, 0, 0, 0x0000_000c),  // ldh [12] ethertype
        ins(0x15, 0, 6, 0x0000_86dd),  // IPv6?
        ins(0x30, 0, 0, 0x0000_0014),  // ldb [20] next header
        ins(0x15, 0, 15, 0x0000_0006), // TCP?
        ins(0x28, 0, 0, 0x0000_0036),  // ldh [54] src port
        ins(0x15, 12, 0, p),
        ins(0x28, 0, 0, 0x0000_0038), // ldh [56] dst port
        ins(0x15, 10, 11, p),
        ins(0x15, 0, 10, 0x0000_0800), // IPv4?
        ins(0x30, 0, 0, 0x0000_0017),  // ldb [23] protocol
        ins(0x15, 0, 8, 0x0000_0006),  // TCP?
        ins(0x28, 0, 0, 0x0000_0014),  // ldh [20] fragment offset
        ins(0x45, 6, 0, 0x0000_1fff),  // fragment -> drop
        ins(0xb1, 0, 0, 0x0000_000e),  // ldxb 4*([14]&0xf)
        ins(0x48, 0, 0, 0x0000_000e),  // ldh [x+14] src port
        ins(0x15, 2, 0, p),
        ins(0x48, 0, 0, 0x0000_0010), // ldh [x+16] dst port
        ins(0x15, 0, 1, p),
        ins(0x06, 0, 0, 0x0004_0000), // accept 262144 bytes
        ins(0x06, 0, 0, 0x0000_0000), // drop
    ]
}

/// `inbound and ((tcp or udp) and port P or icmp or icmp6)`: TCP segments and
/// UDP datagrams of port `P`, and every ICMP and ICMPv6 message (an error
/// quoting one of the port's datagrams or segments is matched to it after
/// decoding; ICMP on loopback is rare). Outgoing copies and IPv4 fragments
/// after the first are dropped, as in [`inbound_tcp_port`]. An IPv6 fragment
/// header before TCP or UDP is dropped, as tcpdump compiles it.
#[must_use]
pub fn inbound_tcp_udp_port(port: u16) -> Vec<Insn> {
    let p = u32::from(port);
    vec![
        ins(0x28, 0, 0, 0xffff_f004),  // ldh [skb->pkt_type]
        ins(0x15, 27, 0, 0x0000_0004), // jeq PACKET_OUTGOING -> drop
        ins(0x28, 0, 0, 0x0000_000c),  // ldh [12] ethertype
        ins(0x15, 0, 11, 0x0000_0800), // IPv4?
        ins(0x30, 0, 0, 0x0000_0017),  // ldb [23] protocol
        ins(0x15, 1, 0, 0x0000_0006),  // TCP?
        ins(0x15, 0, 7, 0x0000_0011),  // UDP?
        ins(0x28, 0, 0, 0x0000_0014),  // ldh [20] fragment offset
        ins(0x45, 20, 0, 0x0000_1fff), // fragment -> drop
        ins(0xb1, 0, 0, 0x0000_000e),  // ldxb 4*([14]&0xf)
        ins(0x48, 0, 0, 0x0000_000e),  // ldh [x+14] src port
        ins(0x15, 16, 0, p),
        ins(0x48, 0, 0, 0x0000_0010), // ldh [x+16] dst port
        ins(0x15, 14, 15, p),
        ins(0x15, 13, 14, 0x0000_0001), // ICMP? (protocol still in A)
        ins(0x15, 0, 13, 0x0000_86dd),  // IPv6?
        ins(0x30, 0, 0, 0x0000_0014),   // ldb [20] next header
        ins(0x15, 5, 0, 0x0000_0006),   // TCP?
        ins(0x15, 0, 3, 0x0000_002c),   // fragment header?
        ins(0x30, 0, 0, 0x0000_0036),   // ldb [54] the fragment's next header
        ins(0x15, 8, 0, 0x0000_0006),   // TCP fragment -> drop
        ins(0x15, 7, 5, 0x0000_0011),   // UDP fragment -> drop, else no
        ins(0x15, 0, 4, 0x0000_0011),   // UDP?
        ins(0x28, 0, 0, 0x0000_0036),   // ldh [54] src port
        ins(0x15, 3, 0, p),
        ins(0x28, 0, 0, 0x0000_0038), // ldh [56] dst port
        ins(0x15, 1, 2, p),
        ins(0x15, 0, 1, 0x0000_003a), // ICMPv6?
        ins(0x06, 0, 0, 0x0004_0000), // accept 262144 bytes
        ins(0x06, 0, 0, 0x0000_0000), // drop
    ]
}

/// Parses `tcpdump -dd` output (`{ 0x28, 0, 0, 0xfffff004 },` per line).
/// Returns `None` on a line that is not an instruction.
#[must_use]
pub fn parse_dd(text: &str) -> Option<Vec<Insn>> {
    let num = |s: &str| -> Option<u32> {
        let s = s.trim();
        match s.strip_prefix("0x") {
            Some(hex) => u32::from_str_radix(hex, 16).ok(),
            None => s.parse().ok(),
        }
    };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let inner = line.trim().strip_prefix('{')?.trim_end_matches(',').trim_end().strip_suffix('}')?;
            let f: Vec<&str> = inner.split(',').collect();
            let [code, jt, jf, k] = f.as_slice() else { return None };
            Some(Insn {
                code: u16::try_from(num(code)?).ok()?,
                jt: u8::try_from(num(jt)?).ok()?,
                jf: u8::try_from(num(jf)?).ok()?,
                k: num(k)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_port_is_in_four_places() {
        let f = inbound_tcp_port(8001);
        assert_eq!(f.len(), 22);
        assert_eq!(f.iter().filter(|i| i.k == 8001).count(), 4);
    }

    #[test]
    fn parse_dd_reads_tcpdump_lines_and_rejects_others() {
        assert_eq!(
            parse_dd("{ 0x28, 0, 0, 0xfffff004 },\n{ 0x6, 0, 0, 0x00040000 },\n"),
            Some(vec![ins(0x28, 0, 0, 0xffff_f004), ins(6, 0, 0, 0x0004_0000)])
        );
        assert_eq!(parse_dd("(000) ldh [12]"), None);
        assert_eq!(parse_dd("{ 0x28, 0, 0 },"), None);
    }
}
