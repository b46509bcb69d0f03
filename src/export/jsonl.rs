//! `trace --format jsonl`: one object per connection per line, field for field
//! as docs/format.md documents it. Fields may be added, never renamed.
//!
//! Written by hand rather than through serde: this is the hot path of
//! `trace --read` (millions of segments per second), every string written is
//! either a fixed token or a socket address (nothing to escape), and numbers go
//! through `itoa`. The tests parse every line back with `serde_json`.

use super::Exporter;
use crate::model::connection::Record;
use crate::model::segment::Timestamp;
use crate::model::tcp::TcpState;
use crate::model::tracker::{Connection, Dir, Initiator};
use crate::os::append;

/// JSON lines.
#[derive(Default)]
pub struct JsonlExporter {
    pieces: Pieces,
}

/// The parts of a segment's object that depend only on a few small fields,
/// written once and then copied: a capture's segments take few combinations
/// of direction, flags, phase, step and states, and one copy is cheaper than
/// the eight it replaces. Addresses likewise.
#[derive(Default)]
pub struct Pieces {
    /// `,"dir":"c2s","flags":"SYN","seq":`, by direction and flags.
    head: Vec<Option<Box<Piece<64>>>>,
    /// `,"phase":"handshake","step":1,"client_state":"SYN-SENT","server_state":"LISTEN"}`,
    /// by phase, step, retransmission, the state passed through and both states.
    tail: std::collections::HashMap<u32, Box<Piece<160>>, foldhash::fast::RandomState>,
    /// IPv4 addresses written as `"127.0.0.1:`, by a hash of the address.
    ips: Vec<Option<(u32, append::Padded<32>)>>,
}

/// A piece, padded for a copy in whole chunks when it fits (they all do:
/// 61 and 137 bytes at most), as it is otherwise.
enum Piece<const N: usize> {
    Padded(append::Padded<N>),
    Long(Box<str>),
}

impl<const N: usize> Piece<N> {
    fn new(s: &str) -> Piece<N> {
        append::Padded::new(s).map_or_else(|| Piece::Long(s.into()), Piece::Padded)
    }

    #[inline]
    fn push_to(&self, out: &mut String) {
        match self {
            Piece::Padded(p) => p.push_to(out),
            Piece::Long(s) => out.push_str(s),
        }
    }
}

impl Pieces {
    fn head(&mut self, r: &Record) -> &Piece<64> {
        if self.head.is_empty() {
            self.head.resize_with(512, || None);
        }
        let i = usize::from(r.flags.0) | if r.dir == Dir::S2C { 256 } else { 0 };
        self.head[i].get_or_insert_with(|| {
            let mut s = String::from(",\"dir\":\"");
            s.push_str(dir_name(r.dir));
            s.push_str("\",\"flags\":\"");
            r.flags.push_name(&mut s);
            s.push_str("\",\"seq\":");
            Box::new(Piece::new(&s))
        })
    }

    fn tail(&mut self, r: &Record) -> &Piece<160> {
        let state = |s: TcpState| s as u32;
        let key = r.phase as u32
            | r.step.map_or(0, |s| u32::from(s) + 1) << 3
            | u32::from(r.retransmission) << 12
            | r.via.map_or(0, |s| state(s) + 1) << 13
            | state(r.client_state) << 17
            | state(r.server_state) << 21;
        self.tail.entry(key).or_insert_with(|| {
            let mut out = String::from(",\"phase\":\"");
            out.push_str(r.phase.name());
            out.push_str("\",");
            if let Some(step) = r.step {
                out.push_str("\"step\":");
                int(&mut out, step);
                out.push(',');
            }
            if r.retransmission {
                out.push_str("\"retransmission\":true,");
            }
            if let Some(via) = r.via {
                out.push_str("\"via\":\"");
                out.push_str(via.name());
                out.push_str("\",");
            }
            out.push_str("\"client_state\":\"");
            out.push_str(r.client_state.name());
            out.push_str("\",\"server_state\":\"");
            out.push_str(r.server_state.name());
            out.push_str("\"}");
            Box::new(Piece::new(&out))
        })
    }
}

/// `c2s` or `s2c`.
#[must_use]
pub fn dir_name(dir: Dir) -> &'static str {
    match dir {
        Dir::C2S => "c2s",
        Dir::S2C => "s2c",
    }
}

/// `client`, `server` or `both`.
#[must_use]
pub fn initiator_name(who: Initiator) -> &'static str {
    match who {
        Initiator::Client => "client",
        Initiator::Server => "server",
        Initiator::Both => "both",
    }
}

/// Appends an integer.
fn int<I: itoa::Integer + Copy + TryInto<u8>>(out: &mut String, n: I) {
    // Most are one digit (steps, relative numbers, lengths of nothing).
    match n.try_into() {
        Ok(d @ 0..=9) => out.push(char::from(b'0' + d)),
        _ => out.push_str(itoa::Buffer::new().format(n)),
    }
}

/// Appends a duration in nanoseconds as milliseconds with microsecond
/// precision: `0.0`, `0.034`, `12.5`.
#[inline]
fn millis(out: &mut String, nanos: u64) {
    let micros = nanos / 1_000;
    let ms = micros / 1_000;
    let (fraction, len) = FRACTIONS[(micros % 1_000) as usize];
    let len = usize::from(len);
    // Most segments' times are under 10 ms: digit, point and fraction in one store.
    if ms < 10 {
        append::push_word(out, (u64::from(b'0') + ms) | u64::from(fraction) << 8, 1 + len);
    } else {
        long_millis(out, ms, fraction, len);
    }
}

#[inline(never)]
fn long_millis(out: &mut String, ms: u64, fraction: u32, len: usize) {
    out.push_str(itoa::Buffer::new().format(ms));
    append::push_word(out, u64::from(fraction), len);
}

/// `.` and three digits without trailing zeros (one at least), by value:
/// (`.034`, 4), (`.4`, 2).
const FRACTIONS: [(u32, u8); 1_000] = {
    let mut table = [(0u32, 0u8); 1_000];
    let mut f = 0;
    while f < 1_000 {
        let digits = [b'.', b'0' + (f / 100) as u8, b'0' + (f / 10 % 10) as u8, b'0' + (f % 10) as u8];
        let len = if f % 100 == 0 {
            2
        } else if f % 10 == 0 {
            3
        } else {
            4
        };
        let mut word = 0u32;
        let mut i = 0;
        while i < len {
            word |= (digits[i] as u32) << (8 * i);
            i += 1;
        }
        table[f] = (word, len as u8);
        f += 1;
    }
    table
};

/// `,"ack":` and `,"len":`, as words.
const ACK: u64 = append::word(b",\"ack\":");
const LEN: u64 = append::word(b",\"len\":");

/// Appends a 7-byte key (`,"ack":`) and an integer: one store when the
/// integer is one digit.
#[inline]
fn key_and_int(out: &mut String, key: u64, n: u32) {
    if n < 10 {
        append::push_word(out, key | (u64::from(b'0') + u64::from(n)) << 56, 8);
    } else {
        key_and_long_int(out, key, n);
    }
}

#[inline(never)]
fn key_and_long_int(out: &mut String, key: u64, n: u32) {
    append::push_word(out, key, 7);
    out.push_str(itoa::Buffer::new().format(n));
}

/// Appends `frac` (less than 10^`places`) as `places` decimal digits without
/// trailing zeros, at least one digit: (340, 3) -> `34`, (4, 3) -> `004`.
fn fraction(out: &mut String, frac: u64, places: u32) {
    if frac == 0 {
        out.push('0');
        return;
    }
    let (mut f, mut p) = (frac, places);
    while f % 10 == 0 {
        f /= 10;
        p -= 1;
    }
    let mut buf = itoa::Buffer::new();
    let digits = buf.format(f);
    for _ in u32::try_from(digits.len()).unwrap_or(p)..p {
        out.push('0');
    }
    out.push_str(digits);
}

/// Appends seconds since the epoch with microseconds: `1795737315.640212`.
fn unix(out: &mut String, ts: Timestamp) {
    let micros = ts.0 / 1_000;
    int(out, micros / 1_000_000);
    out.push('.');
    fraction(out, micros % 1_000_000, 6);
}

/// Appends `"ip:port",` (`"[::1]:8001",` for IPv6).
fn address(out: &mut String, addr: std::net::SocketAddr, pieces: &mut Pieces) {
    match addr {
        // A capture's connections share few addresses: each one's text,
        // `"127.0.0.1:`, is kept, and only the port is written.
        std::net::SocketAddr::V4(a) => {
            let ip = a.ip().to_bits();
            if pieces.ips.is_empty() {
                pieces.ips.resize_with(64, || None);
            }
            let slot = &mut pieces.ips[(ip.wrapping_mul(0x9e37_79b9) >> 26) as usize];
            if slot.as_ref().is_none_or(|(known, _)| *known != ip) {
                *slot = append::Padded::new(&format!("\"{}:", a.ip())).map(|p| (ip, p));
            }
            match slot {
                Some((_, text)) => text.push_to(out),
                None => out.push('"'),
            }
            // The port's digits, then `",`: seven bytes at most, one store.
            let port = a.port();
            let len = port.checked_ilog10().unwrap_or(0) + 1;
            let (mut word, mut rest) = (0u64, port);
            for _ in 0..len {
                word = word << 8 | u64::from(b'0' + (rest % 10) as u8);
                rest /= 10;
            }
            append::push_word(out, word | append::word(b"\",") << (8 * len), len as usize + 2);
        }
        std::net::SocketAddr::V6(_) => {
            out.push('"');
            crate::model::timeline::push_addr(out, addr);
            out.push_str("\",");
        }
    }
}

/// Appends `"key":`.
fn key(out: &mut String, k: &str) {
    out.push('"');
    out.push_str(k);
    out.push_str("\":");
}

/// Appends a string that needs no escaping (fixed tokens, socket addresses).
fn token(out: &mut String, s: &str) {
    debug_assert!(!s.contains(['"', '\\']) && !s.chars().any(char::is_control));
    out.push('"');
    out.push_str(s);
    out.push('"');
}

/// Appends any string as a JSON string, escaped (RFC 8259 §7): the short
/// escapes where there is one, `\u00XX` for other control characters and DEL.
pub fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                use std::fmt::Write as _;
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends the JSON object for one connection (no newline).
pub fn write_json(out: &mut String, conn: &Connection) {
    write_json_with(out, conn, &mut Pieces::default());
}

/// [`write_json`], with the pieces written for earlier connections.
pub fn write_json_with(out: &mut String, conn: &Connection, pieces: &mut Pieces) {
    let start = conn.start();
    out.reserve(512 + 160 * conn.records.len());
    out.push_str("{\"id\":");
    int(out, conn.id);
    out.push_str(",\"client\":");
    address(out, conn.client.addr, pieces);
    out.push_str("\"server\":");
    address(out, conn.server.addr, pieces);
    out.push_str("\"encapsulation\":[");
    if !conn.encap.is_empty() {
        for (i, name) in conn.encap.names().iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            token(out, name);
        }
    }
    out.push_str("],\"start_unix\":");
    unix(out, start);
    out.push_str(",\"duration_ms\":");
    millis(out, conn.last().0.saturating_sub(start.0));
    out.push_str(",\"segments\":[");
    for (i, r) in conn.records.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"t_ms\":");
        millis(out, r.ts.0.saturating_sub(start.0));
        pieces.head(r).push_to(out);
        int(out, r.rel_seq);
        key_and_int(out, ACK, r.rel_ack);
        key_and_int(out, LEN, r.payload_len);
        pieces.tail(r).push_to(out);
    }
    out.push_str("],\"icmp\":[");
    for (i, n) in conn.icmp.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"t_ms\":");
        millis(out, n.ts.0.saturating_sub(start.0));
        out.push_str(",\"version\":");
        out.push_str(if n.icmp.v6 { "6" } else { "4" });
        out.push_str(",\"type\":");
        int(out, n.icmp.kind);
        out.push_str(",\"code\":");
        int(out, n.icmp.code);
        out.push_str(",\"name\":");
        token(out, n.icmp.name());
        out.push_str(",\"from\":");
        token(out, &n.icmp.from.to_string());
        out.push_str(",\"quotes\":\"");
        out.push_str(dir_name(n.dir));
        out.push_str("\",\"row\":");
        match n.row {
            Some(r) => int(out, r),
            None => out.push_str("null"),
        }
        if n.icmp.mtu > 0 {
            out.push_str(",\"mtu\":");
            int(out, n.icmp.mtu);
        }
        out.push_str(",\"explain\":");
        json_string(out, &crate::model::explain::icmp(conn, n));
        out.push('}');
    }
    out.push_str("],");
    if conn.kernel_watched {
        let verdicts = crate::model::kernel::compare(conn);
        key(out, "kernel");
        out.push('[');
        for (i, v) in verdicts.iter().enumerate() {
            let t = &v.transition;
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"t_ms\":");
            millis(out, t.ts.0.saturating_sub(start.0));
            out.push_str(",\"side\":");
            token(out, t.side.name());
            out.push_str(",\"from\":");
            token(out, t.from.name());
            out.push_str(",\"to\":");
            token(out, t.to.name());
            out.push_str(",\"agrees\":");
            out.push_str(if v.agrees() { "true" } else { "false" });
            if let Some((_, state)) = v.as_wire {
                out.push_str(",\"mini_socket\":");
                token(out, state.name());
            }
            if t.timer {
                out.push_str(",\"timer\":true");
            }
            out.push('}');
        }
        out.push_str("],");
        key(out, "kernel_agreement");
        out.push_str("{\"transitions\":");
        int(out, verdicts.len());
        out.push_str(",\"agreed\":");
        int(out, verdicts.iter().filter(|v| v.agrees()).count());
        out.push_str("},");
    }
    let h = &conn.handshake;
    out.push_str(if h.complete() {
        "\"handshake\":{\"complete\":true,\"segments\":"
    } else {
        "\"handshake\":{\"complete\":false,\"segments\":"
    });
    int(out, h.segments);
    out.push_str(",\"syn_retransmits\":");
    int(out, h.syn_retransmits);
    out.push_str(",\"rtt_ms\":");
    match h.rtt {
        Some(ns) => millis(out, ns),
        None => out.push_str("null"),
    }
    out.push_str("},\"close\":{\"kind\":");
    token(out, conn.close_kind().name());
    out.push_str(",\"initiator\":");
    match conn.initiator() {
        Some(who) => token(out, initiator_name(who)),
        None => out.push_str("null"),
    }
    out.push_str(",\"segments\":");
    int(out, conn.close_segments());
    out.push_str(if conn.close.data_after_fin {
        ",\"data_after_fin\":true},\"final_states\":{\"client\":"
    } else {
        ",\"data_after_fin\":false},\"final_states\":{\"client\":"
    });
    token(out, conn.client.state.name());
    out.push_str(",\"server\":");
    token(out, conn.server.state.name());
    out.push_str("},\"payload_bytes\":{\"c2s\":");
    int(out, conn.client.payload_bytes);
    out.push_str(",\"s2c\":");
    int(out, conn.server.payload_bytes);
    out.push_str("},\"retransmissions\":");
    int(out, conn.retransmissions);
    if conn.elided > 0 {
        out.push(',');
        key(out, "elided");
        out.push('{');
        key(out, "segments");
        int(out, conn.elided);
        out.push(',');
        key(out, "before");
        int(out, conn.gap);
        out.push('}');
    }
    out.push('}');
}

/// The JSON object for one connection, as a string.
#[must_use]
pub fn to_json(conn: &Connection) -> String {
    let mut s = String::new();
    write_json(&mut s, conn);
    s
}

impl Exporter for JsonlExporter {
    fn append(&mut self, conn: &Connection, out: &mut String) {
        write_json_with(out, conn, &mut self.pieces);
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_formats_like_the_design() {
        let f = |ns| {
            let mut s = String::new();
            millis(&mut s, ns);
            s
        };
        assert_eq!(f(0), "0.0");
        assert_eq!(f(34_000), "0.034");
        assert_eq!(f(400_000), "0.4");
        assert_eq!(f(12_500_999), "12.5");
        assert_eq!(f(1_000_000_000), "1000.0");
        assert_eq!(f(4_000), "0.004");
        assert_eq!(f(40_000), "0.04");
        assert_eq!(f(999_999), "0.999");
        // Every fraction as the general `fraction` writes it.
        for micros in 0..1_000 {
            let mut want = String::from("7.");
            fraction(&mut want, micros, 3);
            assert_eq!(f(7_000_000 + micros * 1_000 + 999), want);
        }
    }

    #[test]
    fn keys_and_integers_read_as_written_apart() {
        for n in [0, 1, 9, 10, 99, 100, 12_345, u32::MAX] {
            let mut s = String::from("x");
            key_and_int(&mut s, ACK, n);
            key_and_int(&mut s, LEN, n);
            assert_eq!(s, format!("x,\"ack\":{n},\"len\":{n}"));
        }
    }

    #[test]
    fn a_piece_too_long_to_pad_is_kept_as_it_is() {
        let long = "a".repeat(200);
        let (mut padded, mut kept) = (String::new(), String::new());
        Piece::<160>::new(&long[..150]).push_to(&mut padded);
        Piece::<160>::new(&long).push_to(&mut kept);
        assert!(matches!(Piece::<160>::new(&long), Piece::Long(_)));
        assert_eq!((padded.as_str(), kept.as_str()), (&long[..150], long.as_str()));
    }

    #[test]
    fn addresses_read_as_written_afresh() {
        let mut pieces = Pieces::default();
        // More addresses than the cache has slots, each met again later.
        let addrs: Vec<std::net::SocketAddr> = (0..200u32)
            .map(|i| {
                let ip =
                    std::net::Ipv4Addr::from_bits(0x7f00_0001_u32.wrapping_add((i % 150).wrapping_mul(0x0101_0101)));
                let port = [0u16, 9, 10, 99, 8001, 65_535][i as usize % 6];
                std::net::SocketAddr::from((ip, port))
            })
            .chain(["[::1]:8001".parse().unwrap(), "[fe80::1]:0".parse().unwrap()])
            .collect();
        for round in 0..2 {
            for &a in &addrs {
                let mut s = String::from("x");
                address(&mut s, a, &mut pieces);
                assert_eq!(s, format!("x\"{a}\","), "round {round}");
            }
        }
    }

    #[test]
    fn unix_keeps_microseconds() {
        let mut s = String::new();
        unix(&mut s, Timestamp(1_795_737_315_640_212_000));
        assert_eq!(s, "1795737315.640212");
    }
}
