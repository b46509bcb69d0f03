//! Zeek's summary of a TCP connection: `conn_state` and `history`, the two
//! columns of Zeek's conn.log that network people join on. Computed from a
//! connection's segments by Zeek's own rules, so that a row of synack's jsonl
//! can be joined with, or checked against, a conn.log:
//!
//! - each endpoint walks Zeek's endpoint states (inactive, SYN sent, SYN-ACK
//!   sent, partial, established, closed, reset) on the segments it sends,
//!   and `conn_state` is read off the two final states (Zeek's
//!   `base/protocols/conn/main.zeek`, function `conn_state`);
//! - `history` gets a letter for the first segment of each kind from each
//!   side (upper case from the originator): `S` SYN, `H` SYN-ACK, `A` pure
//!   ACK, `D` data, `F` FIN, `R` RST, `I` FIN+RST, `Q` SYN+FIN or SYN+RST;
//!   `S`, `H`, `F`, `R` again when their sequence number differs from the
//!   last one of that kind; `T` (retransmitted payload) and `W` (zero window)
//!   on the 1st, 10th, 100th… time.
//!
//! What synack does not give: `C` (bad checksum: synack, like `zeek -C`,
//! does not check them), `G` (a content gap: synack does not reassemble
//! streams) and `^` (Zeek flips the roles when its table of likely server
//! ports, which depends on the analyzers loaded, names the first sender's
//! port, or when a SYN answers a SYN-ACK: synack does not guess). The
//! originator is the sender of the first segment seen, as in Zeek; it is
//! synack's client whenever the handshake's first SYN was seen. A connection
//! whose middle segments were elided by the memory bound lacks the letters
//! those alone would have added. Pure: no IO, no clock.

use super::classify::Dir;
use super::connection::Connection;
use super::segment::Flags;

/// Zeek's summary of one connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zeek {
    /// `S0`, `S1`, `SF`, `REJ`, `S2`, `S3`, `RSTO`, `RSTR`, `RSTOS0`,
    /// `RSTRH`, `SH`, `SHR` or `OTH`.
    pub conn_state: &'static str,
    /// Zeek's history letters, e.g. `ShADadFf`.
    pub history: String,
}

/// One segment as Zeek's TCP analyzer reads it.
#[derive(Clone, Copy, Debug)]
pub struct Packet {
    /// Sent by synack's client.
    pub from_client: bool,
    pub flags: Flags,
    pub seq: u32,
    pub payload_len: u32,
    pub window: u16,
}

/// Zeek's endpoint states (`TCP_ENDPOINT_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Inactive,
    SynSent,
    SynAckSent,
    Partial,
    Established,
    Closed,
    Reset,
}

/// A sequence-number difference large enough that Zeek does not trust a SYN's
/// or an RST's number (`TOO_LARGE_SEQ_DELTA`).
const TOO_LARGE_SEQ_DELTA: i32 = 1 << 20;

/// One endpoint as Zeek's analyzer keeps it.
#[derive(Clone, Copy, Debug)]
struct End {
    orig: bool,
    state: State,
    prev_state: State,
    start_seq: u32,
    last_seq: u32,
    /// It sent payload (Zeek's `Size()` is not 0).
    sent_data: bool,
    last_syn: u32,
    last_fin: u32,
    last_rst: u32,
    rxmit: Scaled,
    zero_window: Scaled,
}

impl End {
    fn new(orig: bool) -> End {
        End {
            orig,
            state: State::Inactive,
            prev_state: State::Inactive,
            start_seq: 0,
            last_seq: 0,
            sent_data: false,
            last_syn: 0,
            last_fin: 0,
            last_rst: 0,
            rxmit: Scaled::default(),
            zero_window: Scaled::default(),
        }
    }

    fn set(&mut self, state: State) {
        self.prev_state = self.state;
        self.state = state;
    }

    fn inactive(&self) -> bool {
        matches!(self.state, State::Inactive | State::Partial)
    }
}

/// A letter written on the 1st, 10th, 100th… occurrence.
#[derive(Clone, Copy, Debug)]
struct Scaled {
    count: u64,
    threshold: u64,
}

impl Default for Scaled {
    fn default() -> Scaled {
        Scaled { count: 0, threshold: 1 }
    }
}

impl Scaled {
    fn hit(&mut self) -> bool {
        self.count += 1;
        if self.count == self.threshold {
            self.threshold = self.threshold.saturating_mul(10);
            return true;
        }
        false
    }
}

/// Letters that Zeek writes at most once per side.
#[derive(Clone, Copy)]
enum Once {
    Syn = 0,
    Fin = 1,
    Rst = 2,
    FinRst = 3,
    MultiFlag = 4,
    Data = 5,
    Ack = 6,
}

/// The history as it grows: the letters, and which once-per-side kinds each
/// side has shown.
#[derive(Default)]
struct History {
    letters: String,
    seen: u32,
}

impl History {
    fn add(&mut self, orig: bool, code: u8) {
        let code = if orig { code } else { code.to_ascii_lowercase() };
        self.letters.push(char::from(code));
    }

    /// Writes `code` the first time a side shows `kind`; true when it had
    /// already been shown (Zeek's `CheckHistory`).
    fn check(&mut self, orig: bool, kind: Once, code: u8) -> bool {
        let bit = 1u32 << (kind as u32 + if orig { 0 } else { 16 });
        if self.seen & bit != 0 {
            return true;
        }
        self.seen |= bit;
        self.add(orig, code);
        false
    }
}

/// Zeek's summary of `conn`, from the segments it kept.
#[must_use]
pub fn of_connection(conn: &Connection) -> Zeek {
    summarise(conn.records.iter().map(|r| Packet {
        from_client: r.dir == Dir::C2S,
        flags: r.flags,
        seq: r.seq.0,
        payload_len: r.payload_len,
        window: r.window,
    }))
}

/// Zeek's summary of a connection's segments, in the order they were seen.
pub fn summarise(packets: impl IntoIterator<Item = Packet>) -> Zeek {
    let mut packets = packets.into_iter().peekable();
    let mut history = History::default();
    // Zeek's originator sends the first packet.
    let orig_is_client = packets.peek().is_none_or(|p| p.from_client);
    let (mut orig, mut resp) = (End::new(true), End::new(false));
    for p in packets {
        if p.from_client == orig_is_client {
            packet(&mut orig, &mut resp, &mut history, &p);
        } else {
            packet(&mut resp, &mut orig, &mut history, &p);
        }
    }
    Zeek { conn_state: conn_state(&orig, &resp, &history.letters), history: history.letters }
}

/// One packet from `end` to `peer` (Zeek's `DeliverPacket`, the parts that
/// decide states and history).
fn packet(end: &mut End, peer: &mut End, history: &mut History, p: &Packet) {
    let f = p.flags;
    let len = p.payload_len;
    // A SYN and a FIN take a sequence number each; an RST's payload is not
    // part of the stream.
    let seg_len = len.wrapping_add(u32::from(f.syn())).wrapping_add(u32::from(f.fin())).wrapping_sub(if f.rst() {
        len
    } else {
        0
    });
    let end_seq = p.seq.wrapping_add(seg_len);
    init_endpoint(end, f, p.seq, end_seq);
    let rel_seq = p.seq.wrapping_sub(end.start_seq);
    update_history(end, history, f, rel_seq, len);
    if p.window == 0 && !f.rst() && peer.state != State::Closed && end.state != State::Reset && end.zero_window.hit() {
        history.add(end.orig, b'W');
    }
    update_last_seq(end, history, f, end_seq, len);
    end.sent_data |= !f.rst() && len > 0;
    state_machine(end, peer, f, len);
}

/// Zeek's `init_endpoint`: where an endpoint's sequence space starts.
fn init_endpoint(end: &mut End, f: Flags, seq: u32, end_seq: u32) {
    let restart = match end.state {
        State::Inactive => {
            if f.syn() {
                end.start_seq = seq;
                end.last_seq = end_seq;
            } else {
                // As though a SYN had come just before.
                end.start_seq = seq.wrapping_sub(1);
                end.last_seq = seq;
            }
            false
        }
        State::SynSent | State::SynAckSent => f.syn() && seq != end.start_seq,
        State::Established | State::Partial => f.syn(),
        State::Reset => f.syn() && end.prev_state == State::Inactive,
        State::Closed => false,
    };
    if restart {
        end.start_seq = seq;
        end.last_seq = end_seq;
    }
}

/// Zeek's `update_history`.
fn update_history(end: &mut End, h: &mut History, f: Flags, rel_seq: u32, len: u32) {
    let bits = u8::from(f.syn()) + u8::from(f.fin()) + u8::from(f.rst());
    let o = end.orig;
    if bits > 1 {
        if f.fin() && f.rst() {
            h.check(o, Once::FinRst, b'I');
        } else {
            h.check(o, Once::MultiFlag, b'Q');
        }
    } else if bits == 1 {
        if f.syn() {
            let code = if f.ack() { b'H' } else { b'S' };
            if h.check(o, Once::Syn, code) && rel_seq != end.last_syn {
                h.add(o, code);
            }
            end.last_syn = rel_seq;
        }
        if f.fin() {
            // A FIN's number is the one after its data.
            let fin_seq = rel_seq.wrapping_add(len);
            if h.check(o, Once::Fin, b'F') && fin_seq != end.last_fin {
                h.add(o, b'F');
            }
            end.last_fin = fin_seq;
        }
        if f.rst() {
            if h.check(o, Once::Rst, b'R') && rel_seq != end.last_rst {
                h.add(o, b'R');
            }
            end.last_rst = rel_seq;
        }
    } else if len > 0 {
        h.check(o, Once::Data, b'D');
    } else if f.ack() {
        h.check(o, Once::Ack, b'A');
    }
}

/// Zeek's `update_last_seq`: the highest sequence number sent, and payload
/// that did not advance it counted as retransmitted.
fn update_last_seq(end: &mut End, h: &mut History, f: Flags, end_seq: u32, len: u32) {
    let delta = end_seq.wrapping_sub(end.last_seq) as i32;
    if (f.syn() || f.rst()) && !(-TOO_LARGE_SEQ_DELTA..=TOO_LARGE_SEQ_DELTA).contains(&delta) {
        // An implausible jump on a SYN or an RST is not trusted.
    } else if f.fin() && end.last_seq == end.start_seq.wrapping_add(1) {
        end.last_seq = end_seq;
    } else if end.state == State::Reset {
        // Nothing after an RST is trusted.
    } else if delta > 0 {
        end.last_seq = end_seq;
    } else if len > 0 && end.rxmit.hit() {
        h.add(end.orig, b'T');
    }
}

/// Zeek's `UpdateStateMachine`, for the endpoint that sent `f`.
fn state_machine(end: &mut End, peer: &mut End, f: Flags, len: u32) {
    match end.state {
        State::Inactive => inactive(end, peer, f, len),
        State::SynSent | State::SynAckSent => {
            if f.fin() {
                end.set(State::Closed);
            }
            if f.rst() {
                end.set(State::Reset);
            }
        }
        State::Established | State::Partial => {
            if f.syn() && end.state == State::Partial && peer.state == State::Inactive && !f.ack() {
                end.set(State::SynSent);
            }
            if f.fin() && !f.rst() {
                end.set(State::Closed);
                if peer.state == State::Reset && peer.prev_state == State::Closed {
                    // A FIN then an RST from the peer: a normal close.
                    peer.set(State::Closed);
                }
            }
            if f.rst() {
                end.set(State::Reset);
            }
        }
        State::Closed => {
            if f.rst() && peer.state != State::Closed {
                end.set(State::Reset);
            }
        }
        // Zeek only notes oddities after an RST.
        State::Reset => {}
    }
}

/// Zeek's `UpdateInactiveState`: an endpoint's first segment.
fn inactive(end: &mut End, peer: &mut End, f: Flags, len: u32) {
    if f.syn() {
        if end.orig {
            end.set(if f.ack() { State::SynAckSent } else { State::SynSent });
        } else {
            if peer.state == State::SynSent {
                peer.set(State::Established);
            }
            end.set(State::Established);
        }
    }
    if f.fin() {
        end.set(State::Closed);
    }
    if f.rst() {
        end.set(State::Reset);
    }
    if end.state == State::Inactive {
        if !end.orig && len == 0 && peer.state == State::SynSent {
            // An ACK of the SYN before the SYN-ACK: not a partial connection.
        } else if f.ack() && peer.state == State::Established {
            end.set(State::Established);
        } else {
            end.set(State::Partial);
        }
    }
}

/// Zeek's `conn_state`, from both endpoints' final states.
fn conn_state(o: &End, r: &End, history: &str) -> &'static str {
    use State::*;
    if r.state == Reset {
        if matches!(o.state, SynSent | SynAckSent) || (o.state == Reset && !o.sent_data && !r.sent_data) {
            "REJ"
        } else if o.inactive() {
            "RSTRH"
        } else {
            "RSTR"
        }
    } else if o.state == Reset {
        if r.inactive() { if rstos0(history) { "RSTOS0" } else { "OTH" } } else { "RSTO" }
    } else if r.state == Closed && o.state == Closed {
        "SF"
    } else if o.state == Closed {
        if r.inactive() { "SH" } else { "S2" }
    } else if r.state == Closed {
        if o.inactive() { "SHR" } else { "S3" }
    } else if o.state == SynSent && r.state == Inactive {
        "S0"
    } else if o.state == Established && r.state == Established {
        "S1"
    } else {
        "OTH"
    }
}

/// Zeek's pattern for an originator's SYN then RST with no answer:
/// `^?S[^HAFGIQ]*R.*`.
fn rstos0(history: &str) -> bool {
    let h = history.strip_prefix('^').unwrap_or(history);
    let Some(rest) = h.strip_prefix('S') else { return false };
    match rest.find(|c: char| "HAFGIQR".contains(c)) {
        Some(i) => rest.as_bytes()[i] == b'R',
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Flags = Flags::SYN;
    const SA: Flags = Flags(Flags::SYN.0 | Flags::ACK.0);
    const A: Flags = Flags::ACK;
    const PA: Flags = Flags(Flags::PSH.0 | Flags::ACK.0);
    const FA: Flags = Flags(Flags::FIN.0 | Flags::ACK.0);
    const RA: Flags = Flags(Flags::RST.0 | Flags::ACK.0);
    const R: Flags = Flags::RST;

    /// A segment from the client (`c`) or the server.
    fn p(c: bool, flags: Flags, seq: u32, len: u32) -> Packet {
        Packet { from_client: c, flags, seq, payload_len: len, window: 512 }
    }

    fn run(packets: &[Packet]) -> (String, &'static str) {
        let z = summarise(packets.iter().copied());
        (z.history, z.conn_state)
    }

    /// The tutorial's exchange with a three-segment close.
    fn tutorial() -> Vec<Packet> {
        vec![
            p(true, S, 100, 0),
            p(false, SA, 500, 0),
            p(true, A, 101, 0),
            p(true, PA, 101, 10),
            p(false, A, 501, 0),
            p(false, PA, 501, 10),
            p(true, A, 111, 0),
            p(true, FA, 111, 0),
            p(false, FA, 511, 0),
            p(true, A, 112, 0),
        ]
    }

    #[test]
    fn normal_close_is_sf() {
        assert_eq!(run(&tutorial()), ("ShADadFf".into(), "SF"));
    }

    #[test]
    fn established_not_closed_is_s1() {
        assert_eq!(run(&tutorial()[..7]), ("ShADad".into(), "S1"));
    }

    #[test]
    fn unanswered_syn_is_s0_and_its_retransmission_adds_nothing() {
        assert_eq!(run(&[p(true, S, 7, 0), p(true, S, 7, 0)]), ("S".into(), "S0"));
        // A SYN with another number restarts Zeek's numbering, so its
        // relative number is 0 again: still one S.
        assert_eq!(run(&[p(true, S, 7, 0), p(true, S, 9, 0)]), ("S".into(), "S0"));
        // A FIN with a new number is written again.
        let mut c = tutorial()[..7].to_vec();
        c.extend([
            p(true, FA, 111, 0),
            p(true, FA, 111, 0),
            p(true, Flags(Flags::FIN.0 | Flags::PSH.0 | Flags::ACK.0), 111, 5),
        ]);
        assert_eq!(run(&c).0, "ShADadFF");
    }

    #[test]
    fn refused_is_rej() {
        assert_eq!(run(&[p(true, S, 7, 0), p(false, RA, 0, 0)]), ("Sr".into(), "REJ"));
    }

    #[test]
    fn resets_after_the_handshake_name_who_sent_them() {
        let mut c = tutorial()[..4].to_vec();
        c.push(p(true, RA, 111, 0));
        assert_eq!(run(&c), ("ShADR".into(), "RSTO"));
        let mut s = tutorial()[..4].to_vec();
        s.push(p(false, RA, 501, 0));
        assert_eq!(run(&s), ("ShADr".into(), "RSTR"));
    }

    #[test]
    fn syn_then_own_rst_is_rstos0() {
        assert_eq!(run(&[p(true, S, 7, 0), p(true, R, 8, 0)]), ("SR".into(), "RSTOS0"));
    }

    #[test]
    fn one_fin_without_reply_is_s2_or_s3() {
        let mut c = tutorial()[..7].to_vec();
        c.push(p(true, FA, 111, 0));
        assert_eq!(run(&c).1, "S2");
        let mut s = tutorial()[..7].to_vec();
        s.push(p(false, FA, 511, 0));
        assert_eq!(run(&s).1, "S3");
    }

    #[test]
    fn retransmitted_payload_is_t_on_the_first_and_tenth() {
        let mut c = tutorial()[..4].to_vec();
        for _ in 0..10 {
            c.push(p(true, PA, 101, 10));
        }
        assert_eq!(run(&c).0, "ShADTT");
        // A pure ACK that repeats a number is no retransmission.
        let mut a = tutorial()[..4].to_vec();
        a.push(p(true, A, 111, 0));
        assert_eq!(run(&a).0, "ShAD");
    }

    #[test]
    fn a_zero_window_is_w() {
        let mut c = tutorial()[..3].to_vec();
        c.push(Packet { window: 0, ..p(false, A, 501, 0) });
        assert_eq!(run(&c).0, "ShAaw");
    }

    #[test]
    fn midstream_is_oth_and_the_first_sender_originates() {
        assert_eq!(run(&[p(true, PA, 5, 10), p(false, A, 9, 0)]), ("Da".into(), "OTH"));
        // The server's SYN-ACK seen first: the server is Zeek's originator.
        assert_eq!(run(&[p(false, SA, 500, 0), p(true, A, 101, 0)]), ("Ha".into(), "OTH"));
    }

    #[test]
    fn rstos0_pattern() {
        assert!(rstos0("SR"));
        assert!(rstos0("^SdR"));
        assert!(rstos0("ShR"), "the class excludes upper-case letters only");
        assert!(!rstos0("SHR"));
        assert!(!rstos0("S"));
        assert!(!rstos0("hR"));
    }
}
