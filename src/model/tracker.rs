//! Connections by 4-tuple: roles, relative numbers, both endpoints' inferred
//! states, phases and steps, the close kind, and a retention cap.
//!
//! The words are DESIGN.md's. A connection runs from a SYN to the end of its
//! close; a new SYN on a tuple whose connection ended (or with a new initial
//! sequence number) starts a new one. The tracker is pure: it is fed segments in
//! arrival order and never reads a clock.
//!
//! Inference rule (DESIGN.md "TCP semantics"): the sender's state changes when
//! its segment is seen; the receiver processes a segment when it arrives (ACK
//! first, then FIN, as RFC 9293 §3.10.7.4 orders the checks). A FIN received in
//! ESTABLISHED moves the receiver to CLOSE-WAIT only tentatively: if the
//! receiver's next segment is a FIN that does not acknowledge it, both FINs
//! crossed on the wire (a simultaneous close) and the mark is taken back.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};

use foldhash::fast::RandomState;
use std::fmt;
use std::net::SocketAddr;

use super::segment::{Flags, Preview, Segment, TcpOptions, Timestamp};
use super::seq::SeqNum;
use super::tcp::{Event, TcpState};

/// Which way a segment travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dir {
    /// Client to server.
    C2S,
    /// Server to client.
    S2C,
}

impl Dir {
    /// `c2s` or `s2c`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Dir::C2S => "c2s",
            Dir::S2C => "s2c",
        }
    }
    /// The role that sent a segment going this way.
    #[must_use]
    pub fn sender(self) -> Role {
        match self {
            Dir::C2S => Role::Client,
            Dir::S2C => Role::Server,
        }
    }
}

/// Client (sent the first SYN) or server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Client,
    Server,
}

impl Role {
    /// `client` or `server`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Role::Client => "client",
            Role::Server => "server",
        }
    }
    /// The other endpoint.
    #[must_use]
    pub fn peer(self) -> Role {
        match self {
            Role::Client => Role::Server,
            Role::Server => Role::Client,
        }
    }
}

/// What part of the life cycle a segment belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    Handshake,
    Data,
    Teardown,
    Reset,
    Other,
}

impl Phase {
    /// The jsonl name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Phase::Handshake => "handshake",
            Phase::Data => "data",
            Phase::Teardown => "teardown",
            Phase::Reset => "reset",
            Phase::Other => "other",
        }
    }
}

/// How a connection ended (DESIGN.md "Teardown segments").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CloseKind {
    FourWay,
    ThreeWay,
    Simultaneous,
    Reset,
    Refused,
    Open,
}

impl CloseKind {
    /// The jsonl name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            CloseKind::FourWay => "four-way",
            CloseKind::ThreeWay => "three-way",
            CloseKind::Simultaneous => "simultaneous",
            CloseKind::Reset => "reset",
            CloseKind::Refused => "refused",
            CloseKind::Open => "open",
        }
    }
}

impl fmt::Display for CloseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// Abstract teardown steps as bits: 1 = first FIN, 2 = its ACK, 3 = second FIN,
/// 4 = its ACK.
pub type StepBits = u8;

/// One segment of a connection, with what the tracker inferred from it.
#[derive(Clone, Copy, Debug)]
pub struct Record {
    pub ts: Timestamp,
    pub dir: Dir,
    pub flags: Flags,
    pub seq: SeqNum,
    pub ack: SeqNum,
    /// Sequence number relative to the sender's ISN (absolute if unseen).
    pub rel_seq: u32,
    /// Acknowledgment relative to the receiver's ISN (absolute if unseen; 0 without ACK).
    pub rel_ack: u32,
    pub window: u16,
    pub options: TcpOptions,
    pub payload_len: u32,
    pub preview: Preview,
    pub phase: Phase,
    /// Ordinal within the handshake (1-3) or the teardown (1-4).
    pub step: Option<u8>,
    /// Which abstract teardown steps this segment performs.
    pub teardown_steps: StepBits,
    /// Its sequence range was already seen.
    pub retransmission: bool,
    pub client_state: TcpState,
    pub server_state: TcpState,
}

impl Record {
    fn state_mut(&mut self, role: Role) -> &mut TcpState {
        match role {
            Role::Client => &mut self.client_state,
            Role::Server => &mut self.server_state,
        }
    }
    /// The state of `role` right after this segment.
    #[must_use]
    pub fn state(&self, role: Role) -> TcpState {
        match role {
            Role::Client => self.client_state,
            Role::Server => self.server_state,
        }
    }
}

/// What the tracker knows about one endpoint.
#[derive(Clone, Debug)]
pub struct Side {
    pub addr: SocketAddr,
    pub state: TcpState,
    /// Initial sequence number, if its SYN was seen.
    pub isn: Option<SeqNum>,
    /// One past the highest sequence number it has sent.
    next_seq: Option<SeqNum>,
    /// Sequence number of its FIN.
    fin_seq: Option<SeqNum>,
    /// Its FIN has been acknowledged.
    fin_acked: bool,
    /// It has sent a segment acknowledging the peer's FIN.
    acked_peer_fin: bool,
    /// The peer's FIN was applied tentatively at this row (ESTABLISHED -> CLOSE-WAIT).
    tentative_fin: Option<(usize, TcpState)>,
    /// Payload bytes sent, retransmissions excluded.
    pub payload_bytes: u64,
}

impl Side {
    fn new(addr: SocketAddr, state: TcpState) -> Side {
        Side {
            addr,
            state,
            isn: None,
            next_seq: None,
            fin_seq: None,
            fin_acked: false,
            acked_peer_fin: false,
            tentative_fin: None,
            payload_bytes: 0,
        }
    }
    /// Whether `ack` covers this side's FIN.
    fn fin_covered_by(&self, ack: SeqNum) -> bool {
        self.fin_seq.is_some_and(|f| ack.ge(f.plus(1)))
    }
}

/// Identifies a connection for as long as the tracker retains it.
pub type ConnId = u64;

/// Handshake facts.
#[derive(Clone, Copy, Debug, Default)]
pub struct Handshake {
    /// A SYN from the client was seen.
    pub syn: bool,
    /// The server's SYN-ACK was seen.
    pub syn_ack: bool,
    /// The client's ACK of the SYN-ACK was seen.
    pub ack: bool,
    /// Retransmitted SYNs.
    pub syn_retransmits: u32,
    /// Segments in the handshake phase, retransmissions included.
    pub segments: u32,
    last_syn_ts: Option<Timestamp>,
    /// Time from the (last) SYN to the client's ACK.
    pub rtt: Option<u64>,
}

impl Handshake {
    /// SYN, SYN-ACK and ACK all seen.
    #[must_use]
    pub fn complete(&self) -> bool {
        self.syn && self.syn_ack && self.ack
    }
}

/// One TCP connection, from its SYN to the end of its close.
#[derive(Clone, Debug)]
pub struct Connection {
    pub id: ConnId,
    pub client: Side,
    pub server: Side,
    pub records: Vec<Record>,
    pub handshake: Handshake,
    /// Who sent the first FIN.
    pub first_fin: Option<Role>,
    /// Both FINs crossed on the wire.
    pub simultaneous: bool,
    /// The second FIN was also its sender's first ACK of the first FIN.
    second_fin_carried_ack: bool,
    /// Who sent the first RST.
    pub reset_by: Option<Role>,
    /// The SYN was answered by RST without a SYN-ACK.
    pub refused: bool,
    /// The passive closer sent data after the first FIN.
    pub data_after_fin: bool,
    /// The close finished (both FINs acknowledged) or an RST ended it.
    pub ended: bool,
    /// Teardown segments (retransmissions excluded) and RST segments.
    teardown_segments: u32,
    reset_segments: u32,
    /// Retransmitted segments.
    pub retransmissions: u32,
}

impl Connection {
    fn new(id: ConnId, client: SocketAddr, server: SocketAddr, first: &Segment, syn: bool) -> Connection {
        // Without a SYN the connection was already there when watching began.
        let (c, s) = if syn {
            (TcpState::Closed, TcpState::Listen)
        } else if first.flags.syn() && first.flags.ack() {
            (TcpState::SynSent, TcpState::Listen)
        } else {
            (TcpState::Established, TcpState::Established)
        };
        Connection {
            id,
            client: Side::new(client, c),
            server: Side::new(server, s),
            records: Vec::with_capacity(12),
            handshake: Handshake::default(),
            first_fin: None,
            simultaneous: false,
            second_fin_carried_ack: false,
            reset_by: None,
            refused: false,
            data_after_fin: false,
            ended: false,
            teardown_segments: 0,
            reset_segments: 0,
            retransmissions: 0,
        }
    }

    /// The endpoint with this role.
    #[must_use]
    pub fn side(&self, role: Role) -> &Side {
        match role {
            Role::Client => &self.client,
            Role::Server => &self.server,
        }
    }

    fn sides_mut(&mut self, dir: Dir) -> (&mut Side, &mut Side) {
        match dir {
            Dir::C2S => (&mut self.client, &mut self.server),
            Dir::S2C => (&mut self.server, &mut self.client),
        }
    }

    /// First capture time.
    #[must_use]
    pub fn start(&self) -> Timestamp {
        self.records.first().map_or(Timestamp(0), |r| r.ts)
    }

    /// Last capture time.
    #[must_use]
    pub fn last(&self) -> Timestamp {
        self.records.last().map_or(Timestamp(0), |r| r.ts)
    }

    /// How the connection ended, as far as has been seen.
    #[must_use]
    pub fn close_kind(&self) -> CloseKind {
        if self.refused {
            CloseKind::Refused
        } else if self.reset_by.is_some() {
            CloseKind::Reset
        } else if self.client.fin_seq.is_some() && self.server.fin_seq.is_some() {
            if self.simultaneous {
                CloseKind::Simultaneous
            } else if self.second_fin_carried_ack {
                CloseKind::ThreeWay
            } else {
                CloseKind::FourWay
            }
        } else {
            CloseKind::Open
        }
    }

    /// Who began the close: the first FIN's sender, both for a simultaneous
    /// close, the RST's sender for a reset.
    #[must_use]
    pub fn initiator(&self) -> Option<&'static str> {
        match self.close_kind() {
            CloseKind::Simultaneous => Some("both"),
            CloseKind::Reset | CloseKind::Refused => self.reset_by.map(Role::name),
            CloseKind::FourWay | CloseKind::ThreeWay | CloseKind::Open => self.first_fin.map(Role::name),
        }
    }

    /// Segments that took part in the close: teardown segments, or RSTs.
    #[must_use]
    pub fn close_segments(&self) -> u32 {
        match self.close_kind() {
            CloseKind::Reset | CloseKind::Refused => self.reset_segments,
            _ => self.teardown_segments,
        }
    }

    /// Applies one segment going `dir`. Returns whether this segment ended the
    /// connection.
    fn apply(&mut self, seg: &Segment, dir: Dir) -> bool {
        let idx = self.records.len();
        let was_ended = self.ended;
        let sender = dir.sender();
        let flags = seg.flags;
        let occupies = seg.seq_len() > 0;
        let (snd, rcv) = self.sides_mut(dir);

        // Retransmission: its sequence range starts before what was already sent.
        let retransmission = occupies && snd.next_seq.is_some_and(|n| n.gt(seg.seq));
        if !retransmission {
            let end = seg.seq_end();
            if snd.next_seq.is_none_or(|n| end.gt(n)) {
                snd.next_seq = Some(end);
            }
            snd.payload_bytes += u64::from(seg.payload_len);
        }

        // Relative numbers: learn ISNs from SYNs first.
        if flags.syn() && !retransmission && snd.isn.is_none() {
            snd.isn = Some(seg.seq);
        }
        let rel_seq = snd.isn.map_or(seg.seq.0, |i| seg.seq.relative_to(i));
        let rel_ack = if flags.ack() { rcv.isn.map_or(seg.ack.0, |i| seg.ack.relative_to(i)) } else { 0 };

        let mut rec = Record {
            ts: seg.ts,
            dir,
            flags,
            seq: seg.seq,
            ack: seg.ack,
            rel_seq,
            rel_ack,
            window: seg.window,
            options: seg.options,
            payload_len: seg.payload_len,
            preview: seg.preview,
            phase: Phase::Other,
            step: None,
            teardown_steps: 0,
            retransmission,
            client_state: TcpState::Closed,
            server_state: TcpState::Closed,
        };

        if flags.rst() {
            // §3.10.7: an acceptable RST closes both ends. Refused: a SYN answered
            // by RST before any SYN-ACK.
            if self.reset_by.is_none() && !self.ended {
                self.refused = sender == Role::Server && self.handshake.syn && !self.handshake.syn_ack;
                self.reset_by = Some(sender);
            }
            self.client.state = self.client.state.on(Event::Reset);
            self.server.state = self.server.state.on(Event::Reset);
            self.reset_segments += 1;
            self.ended = true;
            rec.phase = Phase::Reset;
            return self.finish(rec, was_ended);
        }

        let (snd, rcv) = self.sides_mut(dir);
        let acks_peer_fin = flags.ack() && rcv.fin_covered_by(seg.ack);

        // The sender's tentative CLOSE-WAIT (the peer's FIN applied on arrival)
        // is confirmed by an ACK of that FIN; a FIN of its own that does not
        // acknowledge it shows that both FINs crossed: take the mark back.
        let mut crossed = false;
        if let Some((row, before)) = snd.tentative_fin {
            if acks_peer_fin {
                snd.tentative_fin = None;
            } else if flags.fin() && !retransmission {
                snd.tentative_fin = None;
                snd.state = before;
                crossed = true;
                let row_before = before;
                if let Some(r) = self.records.get_mut(row) {
                    *r.state_mut(sender) = row_before;
                }
            }
        }

        let (snd, rcv) = self.sides_mut(dir);
        // The sender's own transitions.
        if !retransmission {
            if flags.syn() && !flags.ack() {
                snd.state = snd.state.on(Event::SendSyn);
            } else if flags.syn() {
                snd.state = snd.state.on(Event::SendSynAck);
            }
            if flags.fin() {
                snd.fin_seq = Some(seg.seq.plus(seg.payload_len));
                snd.state = snd.state.on(Event::SendFin);
                if crossed {
                    // It processes the peer's FIN, already on the wire, next.
                    snd.state = snd.state.on(Event::RecvFin);
                }
            }
        }
        // The receiver processes the ACK (§3.10.7.4 fifth check) ...
        if flags.ack() {
            if let Some(isn) = rcv.isn
                && matches!(rcv.state, TcpState::SynSent | TcpState::SynReceived)
                && seg.ack.ge(isn.plus(1))
            {
                rcv.state = rcv.state.on(Event::SynAcked);
            }
            if !rcv.fin_acked && rcv.fin_covered_by(seg.ack) {
                rcv.fin_acked = true;
                rcv.state = rcv.state.on(Event::FinAcked);
            }
        }
        // ... then the FIN (eighth check).
        if flags.fin() && !retransmission {
            let before = rcv.state;
            rcv.state = rcv.state.on(Event::RecvFin);
            if before != rcv.state && rcv.state == TcpState::CloseWait {
                rcv.tentative_fin = Some((idx, before));
            }
        }

        // Handshake bookkeeping and steps.
        if flags.syn() {
            rec.phase = Phase::Handshake;
            self.handshake.segments += 1;
            if flags.ack() {
                if !retransmission && !self.handshake.syn_ack {
                    self.handshake.syn_ack = true;
                    rec.step = Some(2);
                }
            } else if retransmission {
                self.handshake.syn_retransmits += 1;
                self.handshake.last_syn_ts = Some(seg.ts);
            } else {
                self.handshake.syn = true;
                self.handshake.last_syn_ts = Some(seg.ts);
                rec.step = Some(1);
            }
        } else if dir == Dir::C2S
            && self.handshake.syn_ack
            && !self.handshake.ack
            && flags.ack()
            && self.server.isn.is_some_and(|i| seg.ack.ge(i.plus(1)))
        {
            self.handshake.ack = true;
            self.handshake.segments += 1;
            self.handshake.rtt = self.handshake.last_syn_ts.map(|t| seg.ts.0.saturating_sub(t.0));
            rec.phase = Phase::Handshake;
            rec.step = Some(3);
        }

        // Teardown: FINs, and each side's first ACK of the peer's FIN.
        let (snd, _) = self.sides_mut(dir);
        let first_ack_of_peer_fin = acks_peer_fin && !snd.acked_peer_fin;
        if first_ack_of_peer_fin {
            snd.acked_peer_fin = true;
        }
        let mut steps: StepBits = 0;
        if flags.fin() && !retransmission {
            match self.first_fin {
                None => {
                    self.first_fin = Some(sender);
                    steps |= 1 << 1;
                }
                Some(first) if first != sender => {
                    steps |= 1 << 3;
                    if crossed || !acks_peer_fin {
                        self.simultaneous = true;
                    } else if first_ack_of_peer_fin {
                        self.second_fin_carried_ack = true;
                    }
                }
                Some(_) => {}
            }
        }
        if first_ack_of_peer_fin {
            // Acknowledging the first FIN is step 2; the second FIN, step 4.
            steps |= if self.first_fin == Some(sender.peer()) { 1 << 2 } else { 1 << 4 };
        }
        if flags.fin() && retransmission {
            rec.phase = Phase::Teardown;
        }
        if steps != 0 {
            self.teardown_segments += 1;
            rec.teardown_steps = steps;
            rec.step = Some(u8::try_from(self.teardown_segments).unwrap_or(u8::MAX));
            rec.phase = Phase::Teardown;
        } else if rec.phase == Phase::Other && seg.payload_len > 0 {
            rec.phase = Phase::Data;
        }
        if seg.payload_len > 0 && !retransmission && self.first_fin == Some(sender.peer()) {
            self.data_after_fin = true;
        }
        if self.client.fin_acked && self.server.fin_acked {
            self.ended = true;
        }
        self.finish(rec, was_ended)
    }

    fn finish(&mut self, mut rec: Record, was_ended: bool) -> bool {
        rec.client_state = self.client.state;
        rec.server_state = self.server.state;
        if rec.retransmission {
            self.retransmissions += 1;
        }
        self.records.push(rec);
        self.ended && !was_ended
    }
}

/// What one [`Tracker::push`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Push {
    /// The connection the segment went to.
    pub id: ConnId,
    /// That connection began with this segment.
    pub started: bool,
    /// That connection ended with this segment.
    pub ended: bool,
    /// An earlier, unfinished connection on the same tuple was superseded by a
    /// new SYN (port reuse) and is now finished.
    pub superseded: Option<ConnId>,
    /// The oldest open connection was given up to keep open connections
    /// within the cap (it is finished now, with what was seen of it).
    pub expired: Option<ConnId>,
}

impl Push {
    /// Connections this push finished, in the order they should be reported.
    pub fn finished(&self) -> impl Iterator<Item = ConnId> {
        self.superseded.into_iter().chain(self.expired).chain(self.ended.then_some(self.id))
    }
}

/// One endpoint packed for hashing: IPv4 as its IPv6-mapped form.
type Endpoint = (u128, u16);

/// Normalised 4-tuple.
type Key = (Endpoint, Endpoint);

fn endpoint(a: SocketAddr) -> Endpoint {
    let ip = match a.ip() {
        std::net::IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        std::net::IpAddr::V6(v6) => u128::from(v6),
    };
    (ip, a.port())
}

fn key(a: SocketAddr, b: SocketAddr) -> Key {
    let (a, b) = (endpoint(a), endpoint(b));
    if a <= b { (a, b) } else { (b, a) }
}

/// Connections by id: ids are handed out in order, so a deque of slots indexed
/// by `id - base` finds one in O(1) and iterates in order; slots of dropped
/// connections are emptied and trimmed from the front.
#[derive(Debug, Default)]
struct Slots {
    base: ConnId,
    slots: VecDeque<Option<Box<Connection>>>,
    len: usize,
}

impl Slots {
    fn index(&self, id: ConnId) -> Option<usize> {
        usize::try_from(id.checked_sub(self.base)?).ok()
    }
    fn get(&self, id: ConnId) -> Option<&Connection> {
        self.slots.get(self.index(id)?)?.as_deref()
    }
    fn get_mut(&mut self, id: ConnId) -> Option<&mut Connection> {
        let i = self.index(id)?;
        self.slots.get_mut(i)?.as_deref_mut()
    }
    /// Appends the connection with the next id.
    fn push(&mut self, conn: Box<Connection>) {
        if self.slots.is_empty() {
            self.base = conn.id;
        }
        debug_assert_eq!(conn.id, self.base + self.slots.len() as ConnId);
        self.slots.push_back(Some(conn));
        self.len += 1;
    }
    fn remove(&mut self, id: ConnId) -> Option<Box<Connection>> {
        let i = self.index(id)?;
        let conn = self.slots.get_mut(i)?.take()?;
        self.len -= 1;
        while self.slots.front().is_some_and(Option::is_none) {
            self.slots.pop_front();
            self.base += 1;
        }
        Some(conn)
    }
    fn iter(&self) -> impl DoubleEndedIterator<Item = &Connection> {
        self.slots.iter().filter_map(Option::as_deref)
    }
}

/// Connections by 4-tuple, with a cap on the finished ones it retains.
#[derive(Debug)]
pub struct Tracker {
    conns: Slots,
    by_tuple: HashMap<Key, ConnId, RandomState>,
    finished: VecDeque<ConnId>,
    next_id: ConnId,
    server_port: Option<u16>,
    max_finished: usize,
    /// Open connections now, and the most kept open (a flood of SYNs that are
    /// never answered must not grow memory without bound).
    open: usize,
    max_open: usize,
}

impl Tracker {
    /// A tracker that retains at most `max_finished` finished connections
    /// (oldest dropped first). `server_port` names the server of a connection
    /// seen without its SYN.
    #[must_use]
    pub fn new(server_port: Option<u16>, max_finished: usize) -> Tracker {
        Tracker {
            conns: Slots::default(),
            by_tuple: HashMap::default(),
            finished: VecDeque::new(),
            next_id: 1,
            server_port,
            max_finished: max_finished.max(1),
            open: 0,
            max_open: max_finished.max(1),
        }
    }

    /// Feeds one segment, in arrival order.
    pub fn push(&mut self, seg: &Segment) -> Push {
        let k = key(seg.src, seg.dst);
        let fresh_syn = seg.flags.syn() && !seg.flags.ack() && !seg.flags.rst();
        let mut superseded = None;
        if let Some(&id) = self.by_tuple.get(&k)
            && let Some(conn) = self.conns.get_mut(id)
        {
            let reuse = fresh_syn
                && (conn.ended || conn.client.addr != seg.src || conn.client.isn.is_some_and(|i| i != seg.seq));
            if !reuse {
                let dir = if seg.src == conn.client.addr { Dir::C2S } else { Dir::S2C };
                let ended = conn.apply(seg, dir);
                if ended {
                    self.open = self.open.saturating_sub(1);
                    self.finished.push_back(id);
                    self.evict();
                }
                return Push { id, started: false, ended, superseded: None, expired: None };
            }
            if !conn.ended {
                conn.ended = true;
                self.open = self.open.saturating_sub(1);
                superseded = Some(id);
                self.finished.push_back(id);
            }
        }
        // A new connection. Its client sent the SYN; without one, the endpoint on
        // the watched port (or, failing that, the lower port) is the server.
        let (client, server) = if fresh_syn {
            (seg.src, seg.dst)
        } else if (seg.flags.syn() && seg.flags.ack())
            || Some(seg.src.port()) == self.server_port
            || (Some(seg.dst.port()) != self.server_port && seg.src.port() < seg.dst.port())
        {
            (seg.dst, seg.src)
        } else {
            (seg.src, seg.dst)
        };
        let id = self.next_id;
        self.next_id += 1;
        let mut conn = Box::new(Connection::new(id, client, server, seg, fresh_syn));
        let dir = if seg.src == client { Dir::C2S } else { Dir::S2C };
        let ended = conn.apply(seg, dir);
        self.conns.push(conn);
        self.by_tuple.insert(k, id);
        if ended {
            self.finished.push_back(id);
        } else {
            self.open += 1;
        }
        let expired = if self.open > self.max_open { self.expire_oldest_open() } else { None };
        self.evict();
        Push { id, started: true, ended, superseded, expired }
    }

    /// Gives up the oldest open connection: it is finished as it stands.
    fn expire_oldest_open(&mut self) -> Option<ConnId> {
        let id = self.conns.iter().find(|c| !c.ended)?.id;
        let conn = self.conns.get_mut(id)?;
        conn.ended = true;
        self.open = self.open.saturating_sub(1);
        self.finished.push_back(id);
        Some(id)
    }

    /// Forgets a connection, and its tuple if no newer connection took it over.
    fn drop_connection(&mut self, id: ConnId) {
        if let Some(conn) = self.conns.remove(id)
            && let Entry::Occupied(e) = self.by_tuple.entry(key(conn.client.addr, conn.server.addr))
            && *e.get() == id
        {
            e.remove();
        }
    }

    fn evict(&mut self) {
        while self.finished.len() > self.max_finished {
            let Some(old) = self.finished.pop_front() else {
                break;
            };
            self.drop_connection(old);
        }
    }

    /// A retained connection.
    #[must_use]
    pub fn get(&self, id: ConnId) -> Option<&Connection> {
        self.conns.get(id)
    }

    /// Retained connections, oldest first.
    pub fn connections(&self) -> impl DoubleEndedIterator<Item = &Connection> {
        self.conns.iter()
    }

    /// Number of retained connections.
    #[must_use]
    pub fn len(&self) -> usize {
        self.conns.len
    }

    /// No connection retained.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.conns.len == 0
    }

    /// Connections not yet ended, oldest first.
    pub fn open_connections(&self) -> impl Iterator<Item = &Connection> {
        self.conns.iter().filter(|c| !c.ended)
    }

    /// Drops every finished connection (the dashboard's "clear").
    pub fn clear_finished(&mut self) {
        while let Some(id) = self.finished.pop_front() {
            self.drop_connection(id);
        }
    }
}
