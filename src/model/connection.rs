//! One TCP connection, from its SYN to the end of its close: its segments as
//! [`Record`]s with what was inferred from each. [`Connection::apply`] runs the
//! three steps for one segment: sequence bookkeeping (retransmissions, initial
//! sequence numbers, relative numbers) here, state changes in [`super::tcp`],
//! phase and steps in [`super::classify`]. Pure: no IO, no clock.

use std::net::SocketAddr;

use super::classify::TeardownSteps;
use super::classify::{self, Close, CloseKind, Dir, Handshake, HandshakeSeen, Initiator, Phase, Role, TeardownSeen};
use super::segment::{Flags, Icmp, Preview, Segment, Timestamp};
use super::seq::SeqNum;
use super::tcp::{self, Seen, Side, TcpState};

/// One segment of a connection, with what the tracker inferred from it.
#[derive(Clone, Copy, Debug)]
pub struct Record {
    /// Capture time, never earlier than the previous record's.
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
    /// The MSS option (SYNs); the other options are not kept, so that a
    /// record stays within a cache line.
    pub mss: Option<u16>,
    pub payload_len: u32,
    pub preview: Preview,
    pub phase: Phase,
    /// Ordinal within the handshake (1-3) or the teardown (1-4).
    pub step: Option<u8>,
    /// Which abstract teardown steps this segment performs.
    pub teardown_steps: TeardownSteps,
    /// Its sequence range was already seen.
    pub retransmission: bool,
    pub client_state: TcpState,
    pub server_state: TcpState,
    /// A state the sender passed through within this segment, before the one
    /// it ended in (FIN-WAIT-1 on a FIN that crossed the peer's).
    pub via: Option<TcpState>,
}

// A record fits one cache line.
const _: () = assert!(size_of::<Record>() <= 64);

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

/// Identifies a connection for as long as the tracker retains it.
pub type ConnId = u64;

/// One TCP connection, from its SYN to the end of its close.
#[derive(Clone, Debug)]
pub struct Connection {
    pub id: ConnId,
    pub client: Side,
    pub server: Side,
    pub records: Vec<Record>,
    pub handshake: Handshake,
    /// What the close rules gathered: first FIN, RST, crossing, half-close.
    pub close: Close,
    /// The close finished (both FINs acknowledged) or an RST ended it, or the
    /// tracker gave the connection up.
    pub ended: bool,
    /// Retransmitted segments.
    pub retransmissions: u32,
    /// Segments seen, kept or not.
    pub seen: u64,
    /// Segments not kept: the ones between the first and the last that a
    /// connection keeps (see [`Keep`]), counted here instead.
    pub elided: u64,
    /// Where in `records` the elided segments were (before this record).
    pub gap: usize,
    keep: Keep,
    /// Both endpoints' states before the first segment (client, server).
    initial: (TcpState, TcpState),
    /// How its first segment was carried (tags, labels, tunnels).
    pub encap: super::encap::Encap,
    /// ICMP errors that quoted its segments, in arrival order (at most
    /// [`ICMP_KEPT`]; the rest counted in `icmp_dropped`).
    pub icmp: Vec<IcmpNote>,
    pub icmp_dropped: u64,
    /// The kernel's state changes for both endpoints' sockets, when the
    /// kernel view was on (`kernel_watched`); at most [`super::kernel_change::KEPT`].
    pub kernel: Vec<super::kernel_change::Transition>,
    pub kernel_dropped: u64,
    pub kernel_watched: bool,
    /// The kernel's mini-socket for an endpoint, as sock_diag last listed
    /// it: which endpoint, its state (TIME-WAIT or FIN-WAIT-2), when its
    /// timer ends.
    pub kernel_timer: Option<(Role, TcpState, Timestamp)>,
    /// The socket calls made on its two sockets, in time order: the first
    /// [`CALLS_FIRST`] and the last [`CALLS_LAST`] (to twice that) are kept,
    /// the ones between counted in `calls_elided` (before index `calls_gap`).
    pub calls: Vec<CallRow>,
    pub calls_elided: u64,
    pub calls_gap: usize,
    /// The capture began after the close had begun: the states the kernel
    /// listed for (client, server) then. Step counts start unknown.
    pub joined_late: Option<(TcpState, TcpState)>,
    /// Its TIME-WAIT was ended early: a new SYN on its port pair started
    /// the next connection while one endpoint was still in TIME-WAIT.
    pub time_wait_taken: Option<TakenOver>,
    /// Its SYN took over the TIME-WAIT of the previous connection on its
    /// port pair.
    pub after_time_wait: Option<TakenOver>,
}

/// How many of its segments a connection keeps: the first `first` (the
/// handshake and the start), and between `last` and twice `last` of the most
/// recent (the close); the ones in between are counted, not kept, so memory
/// per connection is bounded whatever its length. Classification does not
/// depend on them: it is made as segments arrive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keep {
    pub first: usize,
    pub last: usize,
}

impl Keep {
    /// Keeps `n` segments (at least 8): half first, half (to twice that) last.
    #[must_use]
    pub fn segments(n: usize) -> Keep {
        let n = n.max(8);
        Keep { first: n / 2, last: n / 4 }
    }
}

impl Default for Keep {
    fn default() -> Keep {
        Keep::segments(1024)
    }
}

/// A TIME-WAIT ended early by a SYN on the same port pair (RFC 9293
/// §3.6.1: an endpoint in TIME-WAIT MAY accept a new SYN, MAY-2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TakenOver {
    /// The endpoint that was in TIME-WAIT, in the old connection's roles.
    pub role: Role,
    /// When it entered TIME-WAIT.
    pub since: Timestamp,
    /// When the new SYN came.
    pub syn: Timestamp,
    /// The SYN came from the endpoint in TIME-WAIT itself: it connected
    /// again from the same port.
    pub by_itself: bool,
    /// The SYN's sequence number is beyond the last one its sender used in
    /// the old connection.
    pub beyond: bool,
}

impl Connection {
    /// A SYN (`seg`) on this ended connection's port pair starts the next
    /// connection: if one endpoint is still in TIME-WAIT (its 2 x MSL,
    /// `time_wait`, not over), the SYN ends it early, and both connections
    /// say so. Returns what the new connection keeps of it.
    pub fn take_over_time_wait(&mut self, seg: &Segment, time_wait: std::time::Duration) -> Option<TakenOver> {
        let role = [Role::Client, Role::Server].into_iter().find(|&r| self.side(r).state == TcpState::TimeWait)?;
        let since = self.records.iter().find(|r| r.state(role) == TcpState::TimeWait).map_or(self.last(), |r| r.ts);
        let length = u64::try_from(time_wait.as_nanos()).unwrap_or(u64::MAX);
        if seg.ts.0.saturating_sub(since.0) >= length {
            return None;
        }
        let sender = if seg.src == self.client.addr { &self.client } else { &self.server };
        let beyond = sender.next_seq.is_none_or(|n| seg.seq.gt(n));
        let by_itself = seg.src == self.side(role).addr;
        let taken = TakenOver { role, since, syn: seg.ts.max(since), by_itself, beyond };
        self.time_wait_taken = Some(taken);
        Some(taken)
    }
}

/// Socket calls kept from a connection's start.
pub const CALLS_FIRST: usize = 64;
/// Socket calls kept from its end (between this and twice this).
pub const CALLS_LAST: usize = 64;

/// One socket call on one of a connection's sockets (see
/// [`super::call::Call`]), by the endpoint that made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallRow {
    pub ts: Timestamp,
    /// The endpoint whose socket it was called on.
    pub side: Role,
    pub pid: u32,
    pub comm: super::call::Comm,
    pub kind: super::call::CallKind,
    pub bytes: Option<u64>,
    pub how: Option<super::call::How>,
    pub error: Option<i32>,
}

impl CallRow {
    /// The caller as shown: `name[pid]`, or `pid PID` when its name is unknown.
    #[must_use]
    pub fn caller(&self) -> String {
        if self.comm.is_empty() { format!("pid {}", self.pid) } else { format!("{}[{}]", self.comm.as_str(), self.pid) }
    }

    /// The call as written: `close()`, `send() = 10`, `recv() = 0`,
    /// `recv() = -ECONNRESET`, `shutdown(SHUT_WR)`.
    #[must_use]
    pub fn text(&self) -> String {
        use super::call::{CallKind, How};
        let args = match (self.kind, self.how) {
            (CallKind::Shutdown, Some(How::Read)) => "SHUT_RD",
            (CallKind::Shutdown, Some(How::Write)) => "SHUT_WR",
            (CallKind::Shutdown, Some(How::Both)) => "SHUT_RDWR",
            _ => "",
        };
        let mut s = format!("{}({args})", self.kind.name());
        if let Some(e) = self.error {
            s.push_str(&format!(" = -{}", errno_name(e)));
        } else if let Some(b) = self.bytes {
            s.push_str(&format!(" = {b}"));
        }
        s
    }
}

/// An errno's name (the common ones on sockets), or its number.
#[must_use]
pub fn errno_name(e: i32) -> String {
    match e {
        11 => "EAGAIN".to_owned(),
        32 => "EPIPE".to_owned(),
        104 => "ECONNRESET".to_owned(),
        110 => "ETIMEDOUT".to_owned(),
        111 => "ECONNREFUSED".to_owned(),
        _ => format!("errno {e}"),
    }
}

/// What the wait in the accept queue is measured from
/// ([`Connection::accept_wait`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcceptFrom {
    /// The kernel's SYN-RECEIVED -> ESTABLISHED of the server's socket.
    Kernel,
    /// The third ACK of the handshake on the wire (no kernel view).
    Wire,
}

impl Connection {
    /// Attaches a socket call made on one of its sockets, in time order.
    pub fn note_call(&mut self, c: &super::call::Call) {
        let side = if c.local == self.server.addr { Role::Server } else { Role::Client };
        let row = CallRow {
            ts: c.ts,
            side,
            pid: c.pid,
            comm: c.comm,
            kind: c.kind,
            bytes: c.bytes,
            how: c.how,
            error: c.error,
        };
        // One connect() per connection: the last made before its SYN (an
        // earlier one on its tuple was an earlier socket's).
        if row.kind == super::call::CallKind::Connect
            && let Some(i) = self.calls.iter().position(|k| k.kind == row.kind && k.side == side)
        {
            if self.calls[i].ts >= row.ts {
                return;
            }
            self.calls.remove(i);
        }
        // Calls of the two programs may come out of order: keep time order.
        let at = self.calls.partition_point(|k| k.ts <= row.ts);
        self.calls.insert(at, row);
        // Past the first and twice the last: the oldest of the last go,
        // counted, in bulk (amortised O(1) per call).
        if self.calls.len() >= CALLS_FIRST + 2 * CALLS_LAST {
            self.calls.drain(CALLS_FIRST..CALLS_FIRST + CALLS_LAST);
            self.calls_elided += CALLS_LAST as u64;
            self.calls_gap = CALLS_FIRST;
        }
    }

    /// When the server's `accept()` returned this connection, when known.
    #[must_use]
    pub fn accepted(&self) -> Option<Timestamp> {
        use super::call::CallKind;
        self.calls
            .iter()
            .find(|c| c.side == Role::Server && c.kind == CallKind::Accept && c.error.is_none())
            .map(|c| c.ts)
    }

    /// How long the connection waited in the accept queue: from the
    /// server's socket becoming ESTABLISHED (the kernel's word, or without
    /// it the handshake's third ACK on the wire) to `accept()` returning it
    /// (nanoseconds); `None` when either is unknown.
    #[must_use]
    pub fn accept_wait(&self) -> Option<(u64, AcceptFrom)> {
        let accepted = self.accepted()?;
        let kernel = self
            .kernel
            .iter()
            .find(|k| k.side == Role::Server && k.from == TcpState::SynReceived && k.to == TcpState::Established)
            .map(|k| (k.ts, AcceptFrom::Kernel));
        let wire = || {
            self.records
                .iter()
                .find(|r| r.dir == Dir::C2S && r.phase == Phase::Handshake && r.step == Some(3))
                .map(|r| (r.ts, AcceptFrom::Wire))
        };
        let (from, basis) = kernel.or_else(wire)?;
        // accept() cannot return a connection before it is established.
        Some((accepted.0.checked_sub(from.0)?, basis))
    }
}

/// ICMP errors kept per connection.
pub const ICMP_KEPT: usize = 32;

/// An ICMP error about one of a connection's segments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcmpNote {
    pub ts: Timestamp,
    pub icmp: Icmp,
    /// The direction of the segment it quotes.
    pub dir: Dir,
    /// The quoted segment's sequence number.
    pub seq: SeqNum,
    /// The row of the quoted segment, when it is on the ladder.
    pub row: Option<usize>,
}

impl Connection {
    /// Attaches an ICMP error quoting one of this connection's segments
    /// (`seg` is the quoted start of that segment, with `seg.icmp` set).
    pub fn note_icmp(&mut self, seg: &Segment) {
        let Some(icmp) = seg.icmp else { return };
        let dir = if seg.src == self.client.addr { Dir::C2S } else { Dir::S2C };
        if self.icmp.len() >= ICMP_KEPT {
            self.icmp_dropped += 1;
            return;
        }
        let row = self.records.iter().rposition(|r| r.dir == dir && r.seq == seg.seq && r.ts <= seg.ts);
        self.icmp.push(IcmpNote { ts: seg.ts.max(self.start()), icmp, dir, seq: seg.seq, row });
    }

    /// Before its first segment: the states the kernel listed for its two
    /// sockets when the capture began (it was already open), in place of the
    /// wire's guess.
    pub fn start_in(&mut self, client: Option<TcpState>, server: Option<TcpState>) {
        let open = |s: Option<TcpState>| s.is_none_or(|s| s == TcpState::Established);
        if !(open(client) && open(server)) {
            self.joined_late = Some((client.unwrap_or(self.client.state), server.unwrap_or(self.server.state)));
        }
        if let Some(c) = client {
            tcp::from_kernel(&mut self.client, c);
            self.initial.0 = c;
        }
        if let Some(s) = server {
            tcp::from_kernel(&mut self.server, s);
            self.initial.1 = s;
        }
    }

    /// Attaches a kernel state change of one of its sockets.
    pub fn note_kernel(&mut self, c: &super::kernel_change::Change) {
        let side = if c.local == self.server.addr { Role::Server } else { Role::Client };
        if self.kernel.len() >= super::kernel_change::KEPT {
            self.kernel_dropped += 1;
            return;
        }
        let t = super::kernel_change::Transition { ts: c.ts, side, from: c.from, to: c.to, timer: c.sock == 0 };
        if (side, t.from, t.to) == (Role::Server, TcpState::SynReceived, TcpState::Established) {
            self.settle_open(t.ts);
        }
        // Changes from several CPUs may come out of order: keep time order.
        let at = self.kernel.partition_point(|k| k.ts <= t.ts);
        self.kernel.insert(at, t);
    }

    /// A connection whose first seen segment is `first`. `syn`: it is a fresh
    /// SYN; without one the connection was already there when watching began.
    /// Its records go in `records`, emptied: a new buffer, or the one of a
    /// connection already written (its memory reused).
    #[must_use]
    pub fn new(
        id: ConnId,
        client: SocketAddr,
        server: SocketAddr,
        first: &Segment,
        syn: bool,
        keep: Keep,
        mut records: Vec<Record>,
    ) -> Connection {
        records.clear();
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
            records,
            handshake: Handshake::default(),
            close: Close::default(),
            ended: false,
            retransmissions: 0,
            seen: 0,
            elided: 0,
            gap: 0,
            keep,
            initial: (c, s),
            encap: first.encap,
            icmp: Vec::new(),
            icmp_dropped: 0,
            kernel: Vec::new(),
            kernel_dropped: 0,
            kernel_watched: false,
            kernel_timer: None,
            calls: Vec::new(),
            calls_elided: 0,
            calls_gap: 0,
            joined_late: None,
            time_wait_taken: None,
            after_time_wait: None,
        }
    }

    /// Sets how many segments this connection keeps from now on (the tracker
    /// gives each open connection its share of a budget).
    pub fn set_keep(&mut self, keep: Keep) {
        self.keep = keep;
    }

    /// The state of `role` before the first segment seen.
    #[must_use]
    pub fn initial(&self, role: Role) -> TcpState {
        match role {
            Role::Client => self.initial.0,
            Role::Server => self.initial.1,
        }
    }

    /// Where the record of the segment seen `seen`-th (from 0) is now, or the
    /// first record after the gap when it was elided.
    fn index_of(&self, seen: u64) -> usize {
        let at = usize::try_from(seen).unwrap_or(usize::MAX);
        if self.elided == 0 || at < self.gap {
            at
        } else {
            let elided = usize::try_from(self.elided).unwrap_or(usize::MAX);
            at.saturating_sub(elided).max(self.gap)
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
        match classify::close_kind(&self.close, (self.client.sent_fin(), self.server.sent_fin())) {
            CloseKind::Open if self.joined_late.is_some() && self.ended => CloseKind::BeforeCapture,
            kind => kind,
        }
    }

    /// Who began the close.
    #[must_use]
    pub fn initiator(&self) -> Option<Initiator> {
        let kind = self.close_kind();
        if kind == CloseKind::BeforeCapture {
            // Who had sent a FIN when the kernel listed the sockets.
            let closing = |s: TcpState| {
                matches!(s, TcpState::FinWait1 | TcpState::FinWait2 | TcpState::Closing | TcpState::TimeWait)
            };
            return match self.joined_late.map(|(c, s)| (closing(c), closing(s))) {
                Some((true, true)) => Some(Initiator::Both),
                Some((true, false)) => Some(Initiator::Client),
                Some((false, true)) => Some(Initiator::Server),
                _ => None,
            };
        }
        classify::initiator(&self.close, kind)
    }

    /// Segments that took part in the close: teardown segments, or RSTs.
    #[must_use]
    pub fn close_segments(&self) -> u32 {
        classify::close_segments(&self.close, self.close_kind())
    }

    /// The state `role` is in at `now`: its last state, except that TIME-WAIT
    /// ends in CLOSED once `time_wait` has passed since it began; with the
    /// nanoseconds of TIME-WAIT left while it runs.
    #[must_use]
    pub fn state_at(&self, role: Role, now: Timestamp, time_wait: std::time::Duration) -> (TcpState, Option<u64>) {
        let state = self.side(role).state;
        // With the kernel view: the kernel's own timer, and its word that the
        // mini-socket is gone.
        if self.kernel_watched && state == TcpState::TimeWait {
            if self.kernel.iter().any(|k| k.side == role && k.from == TcpState::TimeWait && k.to == TcpState::Closed) {
                return (TcpState::Closed, None);
            }
            if let Some((r, TcpState::TimeWait, end)) = self.kernel_timer
                && r == role
            {
                return if now < end { (state, Some(end.0 - now.0)) } else { (TcpState::Closed, None) };
            }
        }
        // TIME-WAIT began with the trailing rows in it, and starts again with a
        // FIN of the peer's taken in it (RFC 9293 §3.10.7.4: restart the 2 MSL wait).
        let run = self.records.iter().rev().take_while(|r| r.state(role) == state);
        let mut since = 0;
        for r in run {
            since = r.ts.0;
            if r.flags.fin() && r.dir.sender() == role.peer() {
                break;
            }
        }
        tcp::at(state, since, now.0, time_wait)
    }

    /// Sequence bookkeeping for a segment going `dir`: whether it is a
    /// retransmission, and its relative seq and ack.
    fn sequence(&mut self, seg: &Segment, dir: Dir) -> (bool, u32, u32) {
        let (snd, rcv) = self.sides_mut(dir);
        // Retransmission: its sequence range starts before what was already sent.
        let retransmission = seg.seq_len() > 0 && snd.next_seq.is_some_and(|n| n.gt(seg.seq));
        if !retransmission {
            let end = seg.seq_end();
            if snd.next_seq.is_none_or(|n| end.gt(n)) {
                snd.next_seq = Some(end);
            }
            snd.payload_bytes += u64::from(seg.payload_len);
        }
        // Relative numbers: learn ISNs from SYNs first.
        if seg.flags.syn() && !retransmission && snd.isn.is_none() {
            snd.isn = Some(seg.seq);
        }
        let rel_seq = snd.isn.map_or(seg.seq.0, |i| seg.seq.relative_to(i));
        let rel_ack = if seg.flags.ack() { rcv.isn.map_or(seg.ack.0, |i| seg.ack.relative_to(i)) } else { 0 };
        (retransmission, rel_seq, rel_ack)
    }

    /// Applies one segment going `dir`. Returns whether this segment ended the
    /// connection.
    pub fn apply(&mut self, seg: &Segment, dir: Dir) -> bool {
        let was_ended = self.ended;
        let sender = dir.sender();
        let numbers = self.sequence(seg, dir);
        if seg.flags.rst() {
            classify::reset(&mut self.close, sender, &self.handshake, self.ended);
            tcp::reset(&mut self.client, &mut self.server);
            if self.close.refused {
                // Hindsight: nothing listened, so the server was CLOSED all along.
                for r in &mut self.records {
                    r.server_state = TcpState::Closed;
                }
                tcp::revise(&mut self.initial.1, TcpState::Listen, TcpState::Closed);
            }
            self.ended = true;
            let phase = if was_ended { Phase::AfterClose } else { Phase::Reset };
            return self.push(seg, dir, numbers, (phase, None, TeardownSteps::NONE, None), was_ended);
        }
        let retransmission = numbers.0;

        let seen = Seen { flags: seg.flags, seq: seg.seq, ack: seg.ack, payload_len: seg.payload_len, retransmission };
        let row = usize::try_from(self.seen).unwrap_or(usize::MAX);
        let (snd, rcv) = self.sides_mut(dir);
        let effect = tcp::segment(snd, rcv, &seen, row);
        if let Some(v) = effect.revise {
            let role = if v.sender { sender } else { sender.peer() };
            let from = self.index_of(v.from as u64);
            for r in self.records.iter_mut().skip(from) {
                *r.state_mut(role) = v.now;
            }
        }
        if let Some(at) = effect.reopened {
            self.reopen(at as u64);
        }

        let acks_server_syn = self.server.isn.is_some_and(|i| seg.ack.ge(i.plus(1)));
        let hs = HandshakeSeen { dir, flags: seg.flags, ts: seg.ts, retransmission, acks_server_syn };
        let handshake_step = classify::handshake(&mut self.handshake, &hs);
        let td = TeardownSeen { sender, fin: seg.flags.fin(), retransmission, payload: seg.payload_len > 0 };
        let steps = classify::teardown(&mut self.close, &td, &effect);

        let phase = if was_ended {
            Phase::AfterClose
        } else {
            classify::phase(
                false,
                handshake_step.is_some(),
                steps,
                seg.flags.fin() && retransmission,
                seg.payload_len > 0,
            )
        };
        let step = if steps.is_empty() {
            handshake_step.flatten()
        } else {
            Some(u8::try_from(self.close.teardown_segments).unwrap_or(u8::MAX))
        };
        // Joined during its close: it ends when both endpoints are done.
        let done = |s: TcpState| matches!(s, TcpState::Closed | TcpState::TimeWait);
        if (self.client.fin_acked() && self.server.fin_acked())
            || (self.joined_late.is_some() && done(self.client.state) && done(self.server.state))
        {
            self.ended = true;
        }
        self.push(seg, dir, numbers, (phase, step, steps, effect.via), was_ended)
    }

    /// Hindsight: the handshake did not complete at the segment seen
    /// `at`-th, as it had been taken to: that row is no longer step 3, and
    /// the handshake waits for the segment that completes it.
    fn reopen(&mut self, at: u64) {
        let i = self.index_of(at);
        if let Some(r) = self.records.get_mut(i)
            && r.phase == Phase::Handshake
            && r.step == Some(3)
        {
            r.step = None;
            if r.payload_len > 0 {
                r.phase = Phase::Data;
                self.handshake.segments = self.handshake.segments.saturating_sub(1);
            }
        }
        classify::reopen(&mut self.handshake);
    }

    /// The kernel's word: the server's socket went SYN-RECEIVED ->
    /// ESTABLISHED at `ts`. The client segment that completed the handshake
    /// is its last one that acknowledged the server's SYN by then: the rows
    /// before it show the server SYN-RECEIVED, the rows from it ESTABLISHED,
    /// whatever the wire's hindsight had made of them.
    fn settle_open(&mut self, ts: Timestamp) {
        let Some(isn) = self.server.isn else { return };
        let completes = |r: &Record| r.dir == Dir::C2S && r.flags.ack() && !r.flags.syn() && r.ack.ge(isn.plus(1));
        let Some(k) = self.records.iter().rposition(|r| r.ts <= ts && completes(r)) else { return };
        let Some(answered) = self.records.iter().position(|r| r.dir == Dir::S2C && r.flags.syn()) else { return };
        for (i, r) in self.records.iter_mut().enumerate().skip(answered) {
            let was = r.server_state;
            if i < k && was == TcpState::Established {
                r.server_state = TcpState::SynReceived;
            } else if i >= k && was == TcpState::SynReceived {
                r.server_state = TcpState::Established;
            }
        }
        tcp::settle_open(&mut self.server);
        if let Some(old) = self.records.iter().position(|r| r.phase == Phase::Handshake && r.step == Some(3))
            && old != k
        {
            self.reopen(self.seen_of(old));
        }
        if let Some(r) = self.records.get_mut(k)
            && r.step != Some(3)
        {
            let counted = r.phase == Phase::Handshake;
            r.step = Some(3);
            r.phase = Phase::Handshake;
            classify::complete(&mut self.handshake, r.ts, counted);
        }
    }

    /// The segment count (from 0) of the record at index `i`.
    fn seen_of(&self, i: usize) -> u64 {
        if self.elided == 0 || i < self.gap { i as u64 } else { i as u64 + self.elided }
    }

    /// Stores the record of `seg` with both endpoints' states after it.
    /// Returns whether the connection ended with it.
    fn push(
        &mut self,
        seg: &Segment,
        dir: Dir,
        (retransmission, rel_seq, rel_ack): (bool, u32, u32),
        (phase, step, teardown_steps, via): (Phase, Option<u8>, TeardownSteps, Option<TcpState>),
        was_ended: bool,
    ) -> bool {
        if retransmission {
            self.retransmissions += 1;
        }
        // Arrival order is the order of the ladder: a capture clock that steps
        // back (or a corrupt timestamp) does not reorder a connection's rows.
        let ts = seg.ts.max(self.last());
        self.seen += 1;
        self.records.push(Record {
            ts,
            dir,
            flags: seg.flags,
            seq: seg.seq,
            ack: seg.ack,
            rel_seq,
            rel_ack,
            window: seg.window,
            mss: seg.options.mss,
            payload_len: seg.payload_len,
            preview: seg.preview,
            phase,
            step,
            teardown_steps,
            retransmission,
            client_state: self.client.state,
            server_state: self.server.state,
            via,
        });
        // Past the first and twice the last: the oldest of the last go uncounted
        // in bulk (amortised O(1) per segment).
        let Keep { first, last } = self.keep;
        if self.records.len() >= first + 2 * last && last > 0 {
            self.records.drain(first..first + last);
            self.elided += last as u64;
            self.gap = first;
        }
        self.ended && !was_ended
    }
}
