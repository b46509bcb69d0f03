//! UDP datagrams and flows: a [`Datagram`] is what [`super::decode::datagram`]
//! makes of a UDP frame; [`Flows`] groups them by 4-tuple into [`Flow`]s.
//!
//! UDP (RFC 768) keeps no connection state on the wire: there is nothing to
//! open and nothing to close, so a flow is only synack's grouping of the datagrams
//! one 4-tuple exchanged. It ends after [`IDLE`] without a datagram, or at
//! the end of the capture. Memory is bounded as for TCP connections: a flow
//! keeps its first and last datagrams and counts the rest, and at most
//! [`MAX_OPEN`] flows are open at once (past it the oldest is ended).
//!
//! Pure: fed datagrams in arrival order, it never reads a clock.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;

use super::encap::Encap;
use super::segment::{Icmp, Preview, Timestamp};
use crate::i18n::{self, Lang, Said};
use crate::said;

/// One UDP datagram seen on the wire, or (with `icmp`) the start of one that
/// an ICMP error quoted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Datagram {
    /// When it was captured.
    pub ts: Timestamp,
    /// Sender.
    pub src: SocketAddr,
    /// Receiver.
    pub dst: SocketAddr,
    /// Payload length, from the IP header (not what was captured).
    pub len: u32,
    /// The captured start of the payload.
    pub preview: Preview,
    /// The tags, labels and tunnels it was carried in.
    pub encap: Encap,
    /// Set when this is the quote of an ICMP error: what the error said.
    pub icmp: Option<Icmp>,
}

/// How long a flow may stay silent before it ends: 30 s, the value of Linux
/// conntrack's `nf_conntrack_udp_timeout` (the timeout of a UDP entry that
/// has not become a stream; `nf_conntrack_udp_timeout_stream`, 120 s, is for
/// long two-way exchanges). A request and its answer come well within it;
/// the same tuple silent for longer is most likely a new exchange, as a
/// stateful firewall would also treat it.
pub const IDLE: u64 = 30_000_000_000;

/// Datagrams a flow keeps from its start, and from its end; the others are
/// counted. With [`MAX_OPEN`] flows, at most about 16 MiB of kept datagrams
/// (32 bytes each).
pub const KEEP_FIRST: usize = 16;
/// See [`KEEP_FIRST`].
pub const KEEP_LAST: usize = 16;
/// ICMP errors a flow keeps (the others are counted).
pub const KEEP_ICMP: usize = 8;
/// Flows open at once; past it the oldest is ended as it stands.
pub const MAX_OPEN: usize = 16_384;

/// Which way a datagram went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// From the client (the flow's first sender) to the server.
    ToServer,
    /// From the server back.
    ToClient,
}

/// A kept datagram of a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kept {
    /// When it was captured.
    pub ts: Timestamp,
    /// Which way it went.
    pub dir: Dir,
    /// Payload length.
    pub len: u32,
    /// The start of its payload.
    pub preview: Preview,
}

// The bound on kept datagrams' memory counts 32 bytes each.
const _: () = assert!(size_of::<Kept>() <= 32);

/// An ICMP error about a flow's datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcmpNote {
    /// When the error was captured.
    pub ts: Timestamp,
    /// The direction of the datagram it quotes.
    pub dir: Dir,
    /// What it said.
    pub icmp: Icmp,
}

/// The datagrams one 4-tuple exchanged, until it was idle for [`IDLE`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flow {
    /// Numbered from 1 in the order flows began.
    pub id: u64,
    /// The first datagram's sender.
    pub client: SocketAddr,
    /// The first datagram's receiver.
    pub server: SocketAddr,
    /// How the first datagram was carried.
    pub encap: Encap,
    /// The first datagram's time.
    pub first: Timestamp,
    /// The latest datagram's (or ICMP error's) time.
    pub last: Timestamp,
    /// The first [`KEEP_FIRST`] datagrams.
    pub head: Vec<Kept>,
    /// The last [`KEEP_LAST`] datagrams after those.
    pub tail: VecDeque<Kept>,
    /// Datagrams seen, each way: to the server, to the client.
    pub datagrams: [u64; 2],
    /// Payload bytes, each way.
    pub bytes: [u64; 2],
    /// Datagrams neither kept in `head` nor in `tail`.
    pub dropped: u64,
    /// ICMP errors quoting its datagrams (the first [`KEEP_ICMP`]).
    pub icmp: Vec<IcmpNote>,
    /// ICMP errors seen, kept or not.
    pub icmp_seen: u64,
}

impl Flow {
    fn new(id: u64, d: &Datagram) -> Flow {
        Flow {
            id,
            client: d.src,
            server: d.dst,
            encap: d.encap,
            first: d.ts,
            last: d.ts,
            head: Vec::new(),
            tail: VecDeque::new(),
            datagrams: [0; 2],
            bytes: [0; 2],
            dropped: 0,
            icmp: Vec::new(),
            icmp_seen: 0,
        }
    }

    /// The direction of a datagram from `src`.
    #[must_use]
    pub fn dir(&self, src: SocketAddr) -> Dir {
        if src == self.client { Dir::ToServer } else { Dir::ToClient }
    }

    fn push(&mut self, d: &Datagram) {
        let dir = self.dir(d.src);
        let i = usize::from(dir == Dir::ToClient);
        self.datagrams[i] += 1;
        self.bytes[i] += u64::from(d.len);
        self.last = self.last.max(d.ts);
        let kept = Kept { ts: d.ts, dir, len: d.len, preview: d.preview };
        if self.head.len() < KEEP_FIRST {
            self.head.push(kept);
            return;
        }
        if self.tail.len() == KEEP_LAST {
            self.tail.pop_front();
            self.dropped += 1;
        }
        self.tail.push_back(kept);
    }

    fn note_icmp(&mut self, d: &Datagram, icmp: Icmp) {
        self.icmp_seen += 1;
        self.last = self.last.max(d.ts);
        if self.icmp.len() < KEEP_ICMP {
            self.icmp.push(IcmpNote { ts: d.ts, dir: self.dir(d.src), icmp });
        }
    }

    /// Every datagram seen, both ways.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.datagrams[0] + self.datagrams[1]
    }

    /// The kept datagrams, in order (a gap of `dropped` between the two parts).
    pub fn kept(&self) -> impl Iterator<Item = &Kept> {
        self.head.iter().chain(self.tail.iter())
    }

    /// The flow's verdict, from its facts, in this thread's language
    /// ([`i18n::current`]): how many datagrams went each way, that there was
    /// no handshake and no close, what ICMP said, and, only when nothing came
    /// back at all, that UDP itself resends nothing. One sentence without
    /// its full stop ([`Flow::verdict_sentence`] has it).
    #[must_use]
    pub fn verdict(&self) -> String {
        self.verdict_in(i18n::current())
    }

    /// [`Flow::verdict`] in `lang` (jsonl gives it in English).
    #[must_use]
    pub fn verdict_in(&self, lang: Lang) -> String {
        self.verdict_said().render(lang)
    }

    /// [`Flow::verdict`] as a whole sentence, with the language's full stop.
    #[must_use]
    pub fn verdict_sentence(&self, lang: Lang) -> String {
        said!("explain-udp-sentence", verdict = self.verdict_said()).render(lang)
    }

    /// [`Flow::verdict`], not yet in a language.
    #[must_use]
    pub fn verdict_said(&self) -> Said {
        let [a, b] = self.datagrams;
        let way = match self.datagrams {
            [_, 0] => "one",
            [0, _] => "none",
            // Something answered from the first datagram's receiver: a server.
            _ => "both",
        };
        let mut s = said!("explain-udp", n = self.total(), way = way, a = a, b = b);
        if let Some(note) = self.icmp.first() {
            // The address, not "the server": after a port unreachable, nothing was there.
            let to = match note.dir {
                Dir::ToServer => self.server,
                Dir::ToClient => self.client,
            };
            let port = note.icmp.name() == "port unreachable";
            s = s
                .arg("tail", if port { "port" } else { "icmp" })
                .arg("from", note.icmp.from.to_string())
                .arg("icmp", super::explain::icmp_key(&note.icmp))
                .arg("to", to.to_string());
        } else if a > 0 && b == 0 {
            // Nothing came back and nothing said why: the datagram, or its
            // answer, may be lost, and nothing below the program sends it again.
            s = s.arg("tail", "silent");
        } else {
            s = s.arg("tail", "none");
        }
        s
    }
}

/// The 4-tuple, the same both ways.
fn key(a: SocketAddr, b: SocketAddr) -> (SocketAddr, SocketAddr) {
    if a <= b { (a, b) } else { (b, a) }
}

/// Open flows by 4-tuple, ended ones handed out as they end.
#[derive(Debug, Default)]
pub struct Flows {
    by_tuple: HashMap<(SocketAddr, SocketAddr), u64>,
    open: BTreeMap<u64, Flow>,
    ended: Vec<Flow>,
    started: u64,
    /// When idle flows were last looked for (once a second of capture time).
    swept: Timestamp,
}

impl Flows {
    /// Adds a datagram seen on the wire (not an ICMP quote: see
    /// [`Flows::icmp`]) to its flow, and returns that flow's id. A flow idle
    /// for [`IDLE`] before it ends first, and a new one begins.
    pub fn push(&mut self, d: &Datagram) -> u64 {
        if d.ts.0.saturating_sub(self.swept.0) > 1_000_000_000 {
            self.swept = d.ts;
            self.expire(d.ts);
        }
        let k = key(d.src, d.dst);
        if let Some(&id) = self.by_tuple.get(&k) {
            let idle = self.open.get(&id).is_some_and(|f| d.ts.0.saturating_sub(f.last.0) > IDLE);
            if !idle {
                if let Some(flow) = self.open.get_mut(&id) {
                    flow.push(d);
                }
                return id;
            }
            self.end(id);
        }
        if self.open.len() >= MAX_OPEN
            && let Some(&oldest) = self.open.keys().next()
        {
            self.end(oldest);
        }
        self.started += 1;
        let id = self.started;
        let mut flow = Flow::new(id, d);
        flow.push(d);
        self.open.insert(id, flow);
        self.by_tuple.insert(k, id);
        id
    }

    /// Puts an ICMP error quoting datagram `d` on the open flow of its
    /// tuple; `false` when there is none (or `d` is no quote).
    pub fn icmp(&mut self, d: &Datagram) -> bool {
        let Some(icmp) = d.icmp else { return false };
        let Some(id) = self.by_tuple.get(&key(d.src, d.dst)) else { return false };
        match self.open.get_mut(id) {
            Some(flow) => {
                flow.note_icmp(d, icmp);
                true
            }
            None => false,
        }
    }

    fn end(&mut self, id: u64) {
        if let Some(flow) = self.open.remove(&id) {
            self.by_tuple.remove(&key(flow.client, flow.server));
            self.ended.push(flow);
        }
    }

    /// Ends the flows silent for more than [`IDLE`] at time `now`.
    pub fn expire(&mut self, now: Timestamp) {
        let idle: Vec<u64> =
            self.open.values().filter(|f| now.0.saturating_sub(f.last.0) > IDLE).map(|f| f.id).collect();
        for id in idle {
            self.end(id);
        }
    }

    /// Ends every open flow (the capture ended).
    pub fn end_all(&mut self) {
        let ids: Vec<u64> = self.open.keys().copied().collect();
        for id in ids {
            self.end(id);
        }
    }

    /// The flows that ended since the last call, in the order they ended.
    pub fn take_ended(&mut self) -> Vec<Flow> {
        std::mem::take(&mut self.ended)
    }

    /// Whether a flow ended since the last [`Flows::take_ended`].
    #[must_use]
    pub fn has_ended(&self) -> bool {
        !self.ended.is_empty()
    }

    /// The flows that ended and were not taken yet.
    #[must_use]
    pub fn ended(&self) -> &[Flow] {
        &self.ended
    }

    /// The open flows, oldest first.
    pub fn open(&self) -> impl Iterator<Item = &Flow> {
        self.open.values()
    }

    /// Flows begun so far.
    #[must_use]
    pub fn started(&self) -> u64 {
        self.started
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dgram(ts: u64, src: u16, dst: u16, len: u32) -> Datagram {
        Datagram {
            ts: Timestamp(ts),
            src: SocketAddr::from(([127, 0, 0, 1], src)),
            dst: SocketAddr::from(([127, 0, 0, 1], dst)),
            len,
            preview: Preview::new(b"helloworld"),
            encap: Encap::default(),
            icmp: None,
        }
    }

    fn port_unreachable() -> Icmp {
        Icmp { v6: false, kind: 3, code: 3, mtu: 0, from: [127, 0, 0, 1].into() }
    }

    #[test]
    fn a_request_and_its_reply_are_one_flow() {
        let mut flows = Flows::default();
        let a = flows.push(&dgram(0, 40000, 8001, 10));
        let b = flows.push(&dgram(1_000_000, 8001, 40000, 10));
        assert_eq!(a, b);
        flows.end_all();
        let ended = flows.take_ended();
        assert_eq!(ended.len(), 1);
        let f = &ended[0];
        assert_eq!((f.client.port(), f.server.port()), (40000, 8001));
        assert_eq!(f.datagrams, [1, 1]);
        assert_eq!(f.kept().map(|k| k.dir).collect::<Vec<_>>(), [Dir::ToServer, Dir::ToClient]);
        assert_eq!(f.verdict(), "2 datagrams (1 to the server, 1 back), no handshake, no close");
        assert!(!f.verdict().contains("lost"), "nothing was lost: no word of loss");
    }

    #[test]
    fn idle_past_the_timeout_starts_a_new_flow_and_not_before() {
        let mut flows = Flows::default();
        let a = flows.push(&dgram(0, 1, 2, 1));
        assert_eq!(flows.push(&dgram(IDLE, 2, 1, 1)), a, "exactly IDLE later: the same flow");
        let b = flows.push(&dgram(2 * IDLE + 1, 1, 2, 1));
        assert_ne!(a, b);
        assert_eq!(flows.take_ended().len(), 1);
        flows.expire(Timestamp(2 * IDLE + 1 + IDLE));
        assert!(flows.take_ended().is_empty(), "not idle for more than IDLE yet");
        flows.expire(Timestamp(3 * IDLE + 2));
        assert_eq!(flows.take_ended().len(), 1);
    }

    #[test]
    fn an_icmp_error_goes_on_its_flow_and_is_said() {
        let mut flows = Flows::default();
        flows.push(&dgram(0, 40000, 9, 10));
        let mut quote = dgram(10, 40000, 9, 0);
        quote.icmp = Some(port_unreachable());
        assert!(flows.icmp(&quote));
        let mut stray = dgram(10, 1, 2, 0);
        stray.icmp = Some(port_unreachable());
        assert!(!flows.icmp(&stray), "no flow for that tuple");
        assert!(!flows.icmp(&dgram(10, 40000, 9, 0)), "not a quote");
        flows.end_all();
        let f = &flows.take_ended()[0];
        assert_eq!(f.icmp.len(), 1);
        assert_eq!(f.icmp[0].dir, Dir::ToServer);
        let v = f.verdict();
        assert_eq!(
            v,
            "1 datagram, all one way, no handshake, no close; 127.0.0.1 sent ICMP port unreachable about the \
             datagram to 127.0.0.1:9 (most likely nothing listened on that port, or a firewall rejected it; TCP \
             would have answered RST)"
        );
        assert!(!v.contains("server") && !v.contains("lost"), "nothing answered, nothing was lost: {v}");
    }

    #[test]
    fn another_icmp_error_is_said_without_the_closed_port() {
        let mut flows = Flows::default();
        flows.push(&dgram(0, 40000, 9, 10));
        flows.push(&dgram(5, 9, 40000, 10));
        // The reply's way back was cut: an error about the datagram to the client.
        let mut quote = dgram(10, 9, 40000, 0);
        quote.icmp = Some(Icmp { v6: false, kind: 11, code: 0, mtu: 0, from: [10, 0, 0, 1].into() });
        assert!(flows.icmp(&quote));
        flows.end_all();
        let v = flows.take_ended()[0].verdict();
        assert!(
            v.ends_with("; 10.0.0.1 sent ICMP time to live exceeded in transit about the datagram to 127.0.0.1:40000")
        );
        assert!(!v.contains("nothing listened") && !v.contains("RST"), "{v}");
    }

    #[test]
    fn a_datagram_without_reply_is_said_so() {
        let mut flows = Flows::default();
        flows.push(&dgram(0, 1, 2, 5));
        flows.end_all();
        let v = flows.take_ended()[0].verdict();
        assert_eq!(
            v,
            "1 datagram, all one way, no handshake, no close; no reply came, and UDP does not resend a lost datagram"
        );
        assert!(!v.contains("ICMP"));
    }

    #[test]
    fn a_long_flow_keeps_its_ends_and_counts_the_rest() {
        let mut flows = Flows::default();
        let n = KEEP_FIRST + KEEP_LAST + 100;
        for i in 0..n as u64 {
            flows.push(&dgram(i, 1, 2, u32::try_from(i).unwrap()));
        }
        flows.end_all();
        let f = &flows.take_ended()[0];
        assert_eq!((f.head.len(), f.tail.len(), f.dropped), (KEEP_FIRST, KEEP_LAST, 100));
        assert_eq!(f.tail.back().map(|k| k.len), Some(u32::try_from(n - 1).unwrap()));
    }

    #[test]
    fn open_flows_are_bounded() {
        let mut flows = Flows::default();
        for i in 0..=MAX_OPEN as u64 {
            let port = u16::try_from(i % 65_536).unwrap();
            let host = u8::try_from(i / 65_536).unwrap();
            let mut d = dgram(i, port, 9, 0);
            d.src = SocketAddr::from(([127, 0, 0, host + 1], port));
            flows.push(&d);
        }
        assert_eq!(flows.open().count(), MAX_OPEN);
        assert_eq!(flows.take_ended().len(), 1);
    }

    proptest! {
        /// Every datagram lands in exactly one flow, each flow holds only its
        /// own tuple's datagrams, and a flow's silences never exceed IDLE.
        #[test]
        fn every_datagram_in_one_flow(steps in prop::collection::vec((0u64..40_000_000_000, 0u16..4, 0u16..4, any::<bool>()), 0..200)) {
            let mut flows = Flows::default();
            let mut ts = 0;
            let mut pushed = 0u64;
            for (gap, a, b, expire) in steps {
                ts += gap;
                if expire {
                    flows.expire(Timestamp(ts));
                } else {
                    flows.push(&dgram(ts, 5000 + a, 6000 + b, 1));
                    pushed += 1;
                }
            }
            flows.end_all();
            let ended = flows.take_ended();
            prop_assert_eq!(ended.iter().map(Flow::total).sum::<u64>(), pushed);
            let mut ids: Vec<u64> = ended.iter().map(|f| f.id).collect();
            ids.sort_unstable();
            ids.dedup();
            prop_assert_eq!(ids.len(), ended.len());
            for f in &ended {
                let mut last = f.first;
                for k in f.kept() {
                    prop_assert!(k.ts.0 - last.0 <= IDLE);
                    last = k.ts;
                }
                prop_assert_eq!(f.kept().count() as u64 + f.dropped, f.total());
            }
        }
    }
}
