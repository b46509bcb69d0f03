//! `trace --format jsonl`: one object per connection per line, field for field
//! as docs/format.md documents it. Fields may be added, never renamed.
//!
//! Written by hand rather than through serde: this is the hot path of
//! `trace --read` (millions of segments per second), every string written is
//! either a fixed token or a socket address (nothing to escape), and numbers go
//! through `itoa`. The tests parse every line back with `serde_json`.
//!
//! A segment's object is written by [`segment`]: its numbers there, the text
//! around them as two pieces written once per key and then copied ([`Head`]
//! and [`Tail`]). A per-segment field is added in one of those three places,
//! and in docs/format.md.

use std::fmt::Debug;
use std::hash::Hash;

use super::Exporter;
use crate::model::classify::Phase;
use crate::model::connection::Record;
use crate::model::segment::{Flags, Timestamp};
use crate::model::tcp::TcpState;
use crate::model::tracker::{Connection, Dir, Initiator};

mod append;

use append::{Padded, Short, push_word};

/// JSON lines.
#[derive(Default)]
pub struct JsonlExporter {
    pieces: Pieces,
}

/// A part of a segment's object written once for its key and then copied: a
/// capture's segments take few combinations of direction, flags, phase, step
/// and states, and one copy is cheaper than the eight writes it replaces.
///
/// The key is the piece's input: [`Piece::write`] reads the key's fields and
/// nothing else, so equal keys write equal text, and a field added to a piece
/// is a field added to its key.
trait Piece: Copy + Eq + Hash + Debug {
    /// Writes the piece from the key's fields.
    fn write(self, out: &mut String);

    /// The piece, written afresh.
    fn text(self) -> String {
        let mut s = String::new();
        self.write(&mut s);
        s
    }
}

/// `,"dir":"c2s","flags":"SYN","seq":`: a segment's fields before `seq`'s value.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
struct Head {
    dir: Dir,
    flags: Flags,
}

impl Head {
    /// Slots in the table of heads.
    const SLOTS: usize = 512;

    fn of(r: &Record) -> Head {
        Head { dir: r.dir, flags: r.flags }
    }

    /// Its slot in the table: one for each direction and flags, no two
    /// heads in one.
    fn slot(self) -> usize {
        usize::from(self.flags.0) | usize::from(self.dir == Dir::S2C) << 8
    }
}

impl Piece for Head {
    fn write(self, out: &mut String) {
        out.push_str(",\"dir\":\"");
        out.push_str(dir_name(self.dir));
        out.push_str("\",\"flags\":\"");
        self.flags.push_name(out);
        out.push_str("\",\"seq\":");
    }
}

/// `,"phase":"handshake","step":1,"client_state":"SYN-SENT","server_state":"LISTEN"}`:
/// a segment's fields after `len`, and the object's end.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
struct Tail {
    phase: Phase,
    step: Option<u8>,
    retransmission: bool,
    via: Option<TcpState>,
    client_state: TcpState,
    server_state: TcpState,
}

impl Tail {
    fn of(r: &Record) -> Tail {
        Tail {
            phase: r.phase,
            step: r.step,
            retransmission: r.retransmission,
            via: r.via,
            client_state: r.client_state,
            server_state: r.server_state,
        }
    }
}

impl Piece for Tail {
    fn write(self, out: &mut String) {
        out.push_str(",\"phase\":\"");
        out.push_str(self.phase.name());
        out.push_str("\",");
        if let Some(step) = self.step {
            out.push_str("\"step\":");
            int(out, step);
            out.push(',');
        }
        if self.retransmission {
            out.push_str("\"retransmission\":true,");
        }
        if let Some(via) = self.via {
            out.push_str("\"via\":\"");
            out.push_str(via.name());
            out.push_str("\",");
        }
        out.push_str("\"client_state\":\"");
        out.push_str(self.client_state.name());
        out.push_str("\",\"server_state\":\"");
        out.push_str(self.server_state.name());
        out.push_str("\"}");
    }
}

/// A piece's text, padded for a copy in whole chunks when it fits (every
/// head and tail does: see the tests), as it is otherwise.
enum Kept<const N: usize> {
    Padded(Padded<N>),
    Long(Box<str>),
}

impl<const N: usize> Kept<N> {
    fn new(s: &str) -> Kept<N> {
        Padded::new(s).map_or_else(|| Kept::Long(s.into()), Kept::Padded)
    }

    fn as_str(&self) -> &str {
        match self {
            Kept::Padded(p) => p.as_str(),
            Kept::Long(s) => s,
        }
    }

    /// Appends the text; in debug builds, first checks that it is what
    /// `key` writes afresh.
    #[inline]
    fn push_to(&self, key: impl Piece, out: &mut String) {
        debug_assert_eq!(self.as_str(), key.text(), "the piece kept for {key:?} is not the one it writes");
        match self {
            Kept::Padded(p) => p.push_to(out),
            Kept::Long(s) => out.push_str(s),
        }
    }
}

/// The pieces written so far, shared by the connections an exporter writes;
/// addresses likewise.
#[derive(Default)]
pub struct Pieces {
    /// By [`Head::slot`].
    head: Vec<Option<Box<Kept<64>>>>,
    /// Each tail's number in `tails`, by key.
    tail: std::collections::HashMap<Tail, usize, foldhash::fast::RandomState>,
    /// The tails, by the number `tail` gives them.
    tails: Vec<Kept<160>>,
    /// The tail last written at each position of a connection (modulo
    /// [`RECENT`]), with its number: a capture's connections tend to repeat
    /// one another, and comparing a key is cheaper than hashing it.
    recent: Vec<Option<(Tail, usize)>>,
    /// IPv4 addresses written as `"127.0.0.1:`, by a hash of the address.
    ips: Vec<Option<(u32, Padded<32>)>>,
}

/// Positions of a connection whose last tail is remembered.
const RECENT: usize = 32;

impl Pieces {
    #[inline]
    fn push_head(&mut self, key: Head, out: &mut String) {
        if self.head.is_empty() {
            self.head.resize_with(Head::SLOTS, || None);
        }
        self.head[key.slot()].get_or_insert_with(|| Box::new(Kept::new(&key.text()))).push_to(key, out);
    }

    #[inline]
    fn push_tail(&mut self, key: Tail, position: usize, out: &mut String) {
        if self.recent.is_empty() {
            self.recent.resize(RECENT, None);
        }
        let recent = &mut self.recent[position % RECENT];
        let i = match *recent {
            Some((known, i)) if known == key => i,
            _ => {
                let tails = &mut self.tails;
                let i = *self.tail.entry(key).or_insert_with(|| {
                    tails.push(Kept::new(&key.text()));
                    tails.len() - 1
                });
                *recent = Some((key, i));
                i
            }
        };
        self.tails[i].push_to(key, out);
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
        push_word(out, (u64::from(b'0') + ms) | u64::from(fraction) << 8, 1 + len);
    } else {
        long_millis(out, ms, fraction, len);
    }
}

#[inline(never)]
fn long_millis(out: &mut String, ms: u64, fraction: u32, len: usize) {
    out.push_str(itoa::Buffer::new().format(ms));
    push_word(out, u64::from(fraction), len);
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

/// `,"ack":` and `,"len":`.
const ACK: Short = Short::new(b",\"ack\":");
const LEN: Short = Short::new(b",\"len\":");

/// Appends a key (`,"ack":`) and an integer: one store when the integer is
/// one digit.
#[inline]
fn key_and_int(out: &mut String, key: Short, n: u32) {
    match u8::try_from(n) {
        Ok(d @ 0..=9) => key.push_with(out, b'0' + d),
        _ => key_and_long_int(out, key, n),
    }
}

#[inline(never)]
fn key_and_long_int(out: &mut String, key: Short, n: u32) {
    key.push(out);
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
                *slot = Padded::new(&format!("\"{}:", a.ip())).map(|p| (ip, p));
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
            push_word(out, word | append::word(b"\",") << (8 * len), len as usize + 2);
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
    out.push_str(",\"proto\":\"tcp\",\"client\":");
    address(out, conn.client.addr, pieces);
    out.push_str("\"server\":");
    address(out, conn.server.addr, pieces);
    out.push_str("\"encapsulation\":");
    if conn.encap.is_empty() {
        out.push_str("[]");
    } else {
        list(out, conn.encap.names(), |out, name| token(out, &name));
    }
    out.push_str(",\"start_unix\":");
    unix(out, start);
    out.push_str(",\"duration_ms\":");
    millis(out, conn.last().0.saturating_sub(start.0));
    out.push_str(",\"segments\":");
    list(out, conn.records.iter().enumerate(), |out, (i, r)| segment(out, r, i, start, pieces));
    out.push_str(",\"icmp\":");
    list(out, &conn.icmp, |out, n| icmp(out, conn, n, start));
    out.push(',');
    if conn.kernel_watched {
        kernel(out, conn, start);
    }
    if !conn.calls.is_empty() {
        calls(out, conn, start);
    }
    handshake_and_close(out, conn);
    out.push_str(",\"payload_bytes\":{\"c2s\":");
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

/// Appends `[`, the items with commas between them, and `]`.
#[inline]
pub(crate) fn list<T>(out: &mut String, items: impl IntoIterator<Item = T>, mut each: impl FnMut(&mut String, T)) {
    out.push('[');
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        each(out, item);
    }
    out.push(']');
}

/// Appends one segment's object: a field of its own is written here, or in
/// the [`Head`] or [`Tail`] piece around `seq`, `ack` and `len`.
#[inline]
fn segment(out: &mut String, r: &Record, position: usize, start: Timestamp, pieces: &mut Pieces) {
    out.push_str("{\"t_ms\":");
    millis(out, r.ts.0.saturating_sub(start.0));
    pieces.push_head(Head::of(r), out);
    int(out, r.rel_seq);
    key_and_int(out, ACK, r.rel_ack);
    key_and_int(out, LEN, r.payload_len);
    pieces.push_tail(Tail::of(r), position, out);
}

/// Appends the object of an ICMP error about the connection.
fn icmp(out: &mut String, conn: &Connection, n: &crate::model::connection::IcmpNote, start: Timestamp) {
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
    json_string(out, &crate::model::explain::icmp_in(conn, n, crate::i18n::Lang::En));
    out.push('}');
}

/// Appends `"kernel":[...],"kernel_agreement":{...},`: the kernel's state
/// changes for both sockets, each checked against the wire.
fn kernel(out: &mut String, conn: &Connection, start: Timestamp) {
    let verdicts = crate::model::kernel::compare(conn);
    key(out, "kernel");
    list(out, &verdicts, |out, v| {
        let t = &v.transition;
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
    });
    out.push(',');
    key(out, "kernel_agreement");
    out.push_str("{\"transitions\":");
    int(out, verdicts.len());
    out.push_str(",\"agreed\":");
    int(out, verdicts.iter().filter(|v| v.agrees()).count());
    out.push_str("},");
}

/// Appends `"calls":[...],` (the socket calls made on both sockets, in time
/// order), `"calls_elided":{...},` when some were not kept, and
/// `"accepted_ms":..,"accept_wait_ms":..,"accept_wait_from":..,` when known.
fn calls(out: &mut String, conn: &Connection, start: Timestamp) {
    key(out, "calls");
    list(out, &conn.calls, |out, c| {
        out.push_str("{\"t_ms\":");
        // A connect() comes before the first segment: a negative time.
        if c.ts < start {
            out.push('-');
        }
        millis(out, c.ts.0.abs_diff(start.0));
        out.push_str(",\"side\":");
        token(out, c.side.name());
        out.push_str(",\"pid\":");
        int(out, c.pid);
        if !c.comm.is_empty() {
            out.push_str(",\"comm\":");
            json_string(out, c.comm.as_str());
        }
        out.push_str(",\"call\":");
        token(out, c.kind.name());
        if let Some(b) = c.bytes {
            out.push_str(",\"bytes\":");
            int(out, b);
        }
        if let Some(h) = c.how {
            out.push_str(",\"how\":");
            token(out, h.name());
        }
        if let Some(e) = c.error {
            out.push_str(",\"error\":");
            token(out, &crate::model::connection::errno_name(e));
        }
        out.push('}');
    });
    out.push(',');
    if conn.calls_elided > 0 {
        key(out, "calls_elided");
        out.push('{');
        key(out, "calls");
        int(out, conn.calls_elided);
        out.push(',');
        key(out, "before");
        int(out, conn.calls_gap);
        out.push_str("},");
    }
    if let Some(at) = conn.accepted() {
        key(out, "accepted_ms");
        millis(out, at.0.saturating_sub(start.0));
        out.push(',');
    }
    if let Some((wait, from)) = conn.accept_wait() {
        key(out, "accept_wait_ms");
        millis(out, wait);
        out.push(',');
        key(out, "accept_wait_from");
        token(out, if from == crate::model::connection::AcceptFrom::Kernel { "kernel" } else { "wire" });
        out.push(',');
    }
}

/// Appends `"handshake":{...},"close":{...},"final_states":{...}`.
fn handshake_and_close(out: &mut String, conn: &Connection) {
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
    let zeek = crate::model::zeek::of_connection(conn);
    out.push_str("},\"zeek\":{\"conn_state\":");
    token(out, zeek.conn_state);
    out.push_str(",\"history\":");
    token(out, &zeek.history);
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
    fn append_udp(&mut self, flow: &crate::model::udp::Flow, out: &mut String) {
        super::udp::jsonl(flow, out);
    }

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

    /// A piece of `a`s.
    #[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
    struct Long(usize);

    impl Piece for Long {
        fn write(self, out: &mut String) {
            out.push_str(&"a".repeat(self.0));
        }
    }

    #[test]
    fn a_piece_too_long_to_pad_is_kept_as_it_is() {
        let long = "a".repeat(200);
        let (mut padded, mut kept) = (String::new(), String::new());
        Kept::<160>::new(&long[..150]).push_to(Long(150), &mut padded);
        Kept::<160>::new(&long).push_to(Long(200), &mut kept);
        assert!(matches!(Kept::<160>::new(&long), Kept::Long(_)));
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

    /// The connections of every committed capture.
    fn fixture_connections() -> Vec<Connection> {
        use crate::capture::{FrameSource, Next};
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut conns = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if !path.extension().is_some_and(|e| e == "pcap" || e == "pcapng") {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let mut source = crate::capture::pcap::PcapSource::new(&bytes[..], "fixture").unwrap();
            let mut p = crate::pipeline::Pipeline::new(None, crate::model::tracker::Limits::default());
            while let Ok(Next::Frame(f)) = source.next_frame() {
                p.frame(&f);
            }
            conns.extend(p.tracker.connections().cloned());
        }
        assert!(conns.len() > 10, "the fixtures hold connections");
        conns
    }

    /// A segment's object at `position` in its connection, written with `pieces`.
    fn segment_text(r: &Record, position: usize, pieces: &mut Pieces) -> String {
        let mut s = String::new();
        segment(&mut s, r, position, Timestamp(0), pieces);
        s
    }

    /// Segments written with pieces shared by all are written as each would
    /// be afresh, whichever of a record's fields change between them: the
    /// cache never serves the text another segment's fields wrote. Every
    /// field of a record is varied (also those no piece writes now), so a
    /// field added to a piece is varied here too.
    #[test]
    fn shared_pieces_never_serve_another_segments_text() {
        let records: Vec<Record> = fixture_connections().iter().flat_map(|c| c.records.clone()).collect();
        let phases = [Phase::Handshake, Phase::Data, Phase::Teardown, Phase::Reset, Phase::Other, Phase::AfterClose];
        let states = TcpState::ALL;
        let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = |n: usize| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (rng >> 11) as usize % n
        };
        let mut shared = Pieces::default();
        let mut texts = std::collections::HashSet::new();
        for i in 0..40_000 {
            let mut r = records[i % records.len()];
            // A few of the fields at a time, so that most keys come back.
            match next(12) {
                0 => r.dir = if r.dir == Dir::C2S { Dir::S2C } else { Dir::C2S },
                1 => r.flags = Flags(next(256) as u8),
                2 => r.phase = phases[next(phases.len())],
                3 => r.step = [None, Some(1), Some(2), Some(3), Some(4)][next(5)],
                4 => r.retransmission = !r.retransmission,
                5 => r.via = [None, Some(states[next(states.len())])][next(2)],
                6 => r.client_state = states[next(states.len())],
                7 => r.server_state = states[next(states.len())],
                8 => (r.rel_seq, r.rel_ack) = (next(12) as u32, [0, 7, 10, 99_999][next(4)]),
                9 => r.payload_len = [0, 5, 9, 10, 1_448, 65_535][next(6)],
                10 => (r.window, r.mss) = (next(65_536) as u16, [None, Some(1_460)][next(2)]),
                _ => {
                    r.ts = Timestamp(next(1 << 30) as u64);
                    r.preview = crate::model::segment::Preview::new(&[b'a'; 16][..next(17)]);
                    r.seq.0 ^= 1;
                }
            }
            // Mostly where the record was met before, so that most keys
            // are met again at their position; sometimes anywhere.
            let position = if next(4) == 0 { next(3 * RECENT) } else { i % records.len() };
            let text = segment_text(&r, position, &mut shared);
            assert_eq!(text, segment_text(&r, 0, &mut Pieces::default()), "{r:?}");
            texts.insert(text);
        }
        assert!(texts.len() > 1_000, "the segments written differ: {}", texts.len());
    }

    /// Every head and every tail fits its padding: none is kept unpadded.
    #[test]
    fn every_piece_fits_its_padding() {
        let template = fixture_connections()[0].records[0];
        let dirs = [Dir::C2S, Dir::S2C];
        let heads = (0..=255).flat_map(|f| dirs.map(|dir| Record { dir, flags: Flags(f), ..template }));
        let longest_head = heads.map(|r| Head::of(&r).text().len()).max().unwrap();
        assert!(matches!(Kept::<64>::new(&"h".repeat(longest_head)), Kept::Padded(_)), "{longest_head}");
        let phases = [Phase::Handshake, Phase::Data, Phase::Teardown, Phase::Reset, Phase::Other, Phase::AfterClose];
        let mut longest_tail = 0;
        for (phase, step, retransmission) in phases
            .into_iter()
            .flat_map(|p| [None, Some(u8::MAX)].map(|s| (p, s)))
            .flat_map(|(p, s)| [false, true].map(|r| (p, s, r)))
        {
            for via in TcpState::ALL.map(Some).into_iter().chain([None]) {
                for (client_state, server_state) in
                    TcpState::ALL.into_iter().flat_map(|c| TcpState::ALL.map(|s| (c, s)))
                {
                    let r = Record { phase, step, retransmission, via, client_state, server_state, ..template };
                    longest_tail = longest_tail.max(Tail::of(&r).text().len());
                }
            }
        }
        assert!(matches!(Kept::<160>::new(&"t".repeat(longest_tail)), Kept::Padded(_)), "{longest_tail}");
    }

    /// In debug builds, a kept piece is checked against its key's text
    /// every time it is used.
    #[cfg(debug_assertions)]
    #[test]
    #[should_panic(expected = "is not the one it writes")]
    fn a_kept_piece_that_is_not_its_keys_text_is_refused() {
        Kept::<160>::new("stale").push_to(Long(3), &mut String::new());
    }

    #[test]
    fn unix_keeps_microseconds() {
        let mut s = String::new();
        unix(&mut s, Timestamp(1_795_737_315_640_212_000));
        assert_eq!(s, "1795737315.640212");
    }
}
