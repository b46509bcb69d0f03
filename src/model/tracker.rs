//! Connections by 4-tuple, and how many are retained: the tuple map, port
//! reuse, and the two limits (open and finished connections). What happens
//! inside one connection is [`super::connection`]'s; state changes are
//! [`super::tcp`]'s; classification is [`super::classify`]'s.
//!
//! A connection runs from a SYN to the end of its close; a new SYN on a tuple
//! whose connection ended (or with a new initial sequence number) starts a new
//! one. The tracker is pure: it is fed segments in arrival order and never
//! reads a clock.

use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::net::SocketAddr;

use foldhash::fast::RandomState;

use super::call::{Call, CallKind};
pub use super::classify::{CloseKind, Dir, Handshake, Initiator, Phase, Role, TeardownSteps};
pub use super::connection::{AcceptFrom, CallRow, ConnId, Connection, Keep, Record};
use super::kernel_change::Change;
use super::segment::{Segment, Timestamp};
pub use super::tcp::Side;

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

/// Where a segment goes ([`Tracker::route`]): on to its tuple's latest
/// connection, or to a new one.
#[derive(Clone, Copy, Debug)]
pub struct Route {
    fresh_syn: bool,
    to: To,
}

#[derive(Clone, Copy, Debug)]
enum To {
    /// The tuple's latest connection, `ended` or not.
    Latest { id: ConnId, ended: bool },
    /// A new connection on tuple `key` (hashed: `hash`), `superseded` the
    /// open one that had it; `time_wait` the ended one whose TIME-WAIT its
    /// SYN may end.
    New { key: Key, hash: u64, superseded: Option<ConnId>, time_wait: Option<ConnId> },
}

impl Route {
    /// The ended connection this segment concerns: it comes after that
    /// connection's close (phase after-close), or it is a SYN that may end
    /// that connection's TIME-WAIT (noted on both connections).
    #[must_use]
    pub fn after_end(&self) -> Option<ConnId> {
        match self.to {
            To::Latest { id, ended: true } | To::New { time_wait: Some(id), .. } => Some(id),
            _ => None,
        }
    }
}

/// Port reuse: whether segment `seg` starts a new connection on the tuple of
/// `conn`, the latest there. Only a fresh SYN does, and only when `conn` has
/// ended, or the SYN comes from its server, or carries another initial
/// sequence number (a new incarnation of the connection, RFC 9293 §3.4.1).
fn starts_anew(conn: &Connection, seg: &Segment, fresh_syn: bool) -> bool {
    fresh_syn && (conn.ended || conn.client.addr != seg.src || conn.client.isn.is_some_and(|i| i != seg.seq))
}

/// An ended connection one of whose endpoints was left in TIME-WAIT: a SYN
/// that starts anew on its tuple may end that TIME-WAIT early.
fn in_time_wait(conn: &Connection) -> bool {
    conn.ended && [conn.client.state, conn.server.state].contains(&super::tcp::TcpState::TimeWait)
}

/// Which end of a new connection, first seen in `seg`, is the client, and
/// which the server. Its client sent the SYN; without one, the endpoint on
/// the watched port `server_port` (or, failing that, the lower port) is the
/// server.
fn ends(seg: &Segment, fresh_syn: bool, server_port: Option<u16>) -> (SocketAddr, SocketAddr) {
    if fresh_syn {
        (seg.src, seg.dst)
    } else if (seg.flags.syn() && seg.flags.ack())
        || Some(seg.src.port()) == server_port
        || (Some(seg.dst.port()) != server_port && seg.src.port() < seg.dst.port())
    {
        (seg.dst, seg.src)
    } else {
        (seg.src, seg.dst)
    }
}

/// What one connection keeps when `open` are open: its limit, or its share of
/// the budget across open connections if that is smaller.
fn share(limits: &Limits, open: usize) -> Keep {
    let cap = limits.keep.first * 2;
    Keep::segments((limits.records / open.max(1)).min(cap))
}

/// Normalised 4-tuple (IPv4 as IPv6-mapped addresses, the lower endpoint
/// first), and the virtual network it travels in (0: none). Packed in 48
/// bytes, 8-aligned (a `u128` would make it 80). The table of tuples keeps
/// connection ids, not keys; a key is built for every segment to hash it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Key {
    a: [u64; 2],
    b: [u64; 2],
    /// `a`'s port in the upper 16 bits, `b`'s in the lower.
    ports: u32,
    network: u64,
}

const _: () = assert!(size_of::<Key>() == 48);

impl std::hash::Hash for Key {
    /// One word for the hasher (it is looked up for every segment): the
    /// addresses folded, the ports and the network mixed in. Equality still
    /// compares the whole key.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.word());
    }
}

impl Key {
    /// The key folded into one word.
    fn word(&self) -> u64 {
        let fold = |ip: [u64; 2]| ip[1] ^ ip[0].rotate_left(17);
        let ports = u64::from(self.ports);
        fold(self.a) ^ fold(self.b).rotate_left(32) ^ ports.rotate_left(40) ^ self.network.rotate_left(7)
    }
}

fn endpoint(a: SocketAddr) -> (u128, u16) {
    let ip = match a.ip() {
        std::net::IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        std::net::IpAddr::V6(v6) => u128::from(v6),
    };
    (ip, a.port())
}

/// Whether segment `seg`, carried in virtual network `network`, has the
/// endpoints of connection `c` as they are (either way round).
fn same_endpoints(c: &Connection, seg: &Segment, network: u64) -> bool {
    let (a, b) = (&seg.src, &seg.dst);
    ((c.client.addr == *a && c.server.addr == *b) || (c.client.addr == *b && c.server.addr == *a))
        && c.encap.network() == network
}

/// The tuple a connection is on.
fn tuple(c: &Connection) -> Key {
    key(c.client.addr, c.server.addr, c.encap.network())
}

fn key(a: SocketAddr, b: SocketAddr, network: u64) -> Key {
    let (a, b) = (endpoint(a), endpoint(b));
    let ((a, ap), (b, bp)) = if a <= b { (a, b) } else { (b, a) };
    let split = |ip: u128| [(ip >> 64) as u64, ip as u64];
    Key { a: split(a), b: split(b), ports: (u32::from(ap) << 16) | u32::from(bp), network }
}

/// Connections by id: ids are handed out in order, so a deque of slots indexed
/// by `id - base` finds one in O(1) and iterates in order; slots of dropped
/// connections are emptied and trimmed from the front. Each slot also keeps
/// the hash of its connection's tuple, as the table of tuples has it (to
/// find the connection's entry there, and to move entries when it grows).
#[derive(Debug, Default)]
struct Slots {
    base: ConnId,
    slots: VecDeque<Slot>,
    len: usize,
}

#[derive(Debug)]
struct Slot {
    conn: Option<Box<Connection>>,
    hash: u64,
}

impl Slots {
    fn index(&self, id: ConnId) -> Option<usize> {
        usize::try_from(id.checked_sub(self.base)?).ok()
    }
    fn get(&self, id: ConnId) -> Option<&Connection> {
        self.slots.get(self.index(id)?)?.conn.as_deref()
    }
    fn get_mut(&mut self, id: ConnId) -> Option<&mut Connection> {
        let i = self.index(id)?;
        self.slots.get_mut(i)?.conn.as_deref_mut()
    }
    /// The hash of a retained connection's tuple (0 for any other id).
    fn hash_of(&self, id: ConnId) -> u64 {
        self.index(id).and_then(|i| self.slots.get(i)).filter(|s| s.conn.is_some()).map_or(0, |s| s.hash)
    }
    /// Appends the connection with the next id, on the tuple of hash `hash`.
    fn push(&mut self, conn: Box<Connection>, hash: u64) {
        if self.slots.is_empty() {
            self.base = conn.id;
        }
        debug_assert_eq!(conn.id, self.base + self.slots.len() as ConnId);
        self.slots.push_back(Slot { conn: Some(conn), hash });
        self.len += 1;
    }
    /// Takes a connection out, with the hash of its tuple.
    fn remove(&mut self, id: ConnId) -> Option<(Box<Connection>, u64)> {
        let i = self.index(id)?;
        let slot = self.slots.get_mut(i)?;
        let conn = slot.conn.take()?;
        let hash = slot.hash;
        self.len -= 1;
        while self.slots.front().is_some_and(|s| s.conn.is_none()) {
            self.slots.pop_front();
            self.base += 1;
        }
        Some((conn, hash))
    }
    fn iter(&self) -> impl DoubleEndedIterator<Item = &Connection> {
        self.slots.iter().filter_map(|s| s.conn.as_deref())
    }
    fn iter_mut(&mut self) -> impl Iterator<Item = &mut Connection> {
        self.slots.iter_mut().filter_map(|s| s.conn.as_deref_mut())
    }
}

/// How many connections a tracker keeps. Both limits are at least 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Finished connections retained; past it the oldest finished one is
    /// dropped (`--max-connections`).
    pub finished: usize,
    /// Connections open at once; past it the oldest open one is given up,
    /// finished as it stands and reported (`--max-open`). A flood of SYNs that
    /// are never answered cannot grow memory without bound.
    pub open: usize,
    /// Segments each connection keeps (`--max-segments`): one long
    /// connection cannot grow memory without bound either.
    pub keep: Keep,
    /// Segments kept by all open connections together: with many open at
    /// once, each keeps its share (at least 8), so that many long connections
    /// together stay bounded too. About 130 bytes each.
    pub records: usize,
}

/// The default budget of kept segments across open connections (about 34 MiB).
pub const RECORDS: usize = 262_144;

impl Limits {
    /// The default of both limits.
    pub const DEFAULT: usize = 10_000;

    /// Both limits at `n` (tests and small tools).
    #[must_use]
    pub fn both(n: usize) -> Limits {
        Limits { finished: n, open: n, keep: Keep::default(), records: RECORDS }
    }
}

impl Limits {
    /// Up to how many open connections each keeps its whole limit of
    /// segments: below it, a connection's share does not depend on how many are open.
    #[must_use]
    pub fn full_share_up_to(&self) -> usize {
        self.records / (self.keep.first * 2).max(1)
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { finished: Limits::DEFAULT, open: Limits::DEFAULT, keep: Keep::default(), records: RECORDS }
    }
}

/// Connections by 4-tuple, with limits on the open and finished ones it retains.
#[derive(Debug)]
pub struct Tracker {
    conns: Slots,
    /// The latest connection on each tuple: its id, found by the tuple's
    /// hash and checked against the connection's own endpoints. An entry is
    /// 8 bytes (a key would make it 56): the table is read for every segment
    /// and should stay in the cache.
    by_tuple: hashbrown::HashTable<ConnId>,
    hasher: RandomState,
    finished: VecDeque<ConnId>,
    next_id: ConnId,
    server_port: Option<u16>,
    limits: Limits,
    /// Open connections now.
    open: usize,
    /// Ids of connections in the order they started, to find the oldest open
    /// one in amortised O(1); ids that ended since are skipped when met.
    open_order: VecDeque<ConnId>,
    /// Ids in `finished` whose connection was forgotten already.
    forgotten: usize,
    /// The kernel view's changes on their way to a connection.
    kernel: Waiting,
    /// The last [`share`]: for how many open connections, and what it was.
    shared: (usize, Keep),
    /// Connections written and handed back ([`Tracker::recycle`]), whose
    /// memory the next new connections reuse.
    #[allow(clippy::vec_box)]
    spare: Vec<Box<Connection>>,
    /// How many written connections are kept for reuse.
    spare_limit: usize,
    /// The connection the last segment went to (or started): segments come
    /// in bursts of one connection (a handshake, a request and its ACK), and
    /// the next one for it is found without hashing its tuple. It is always
    /// the latest on its tuple: a newer one would have been started by a
    /// later segment, and become `last` itself.
    last: ConnId,
}

/// Spare connections kept for reuse, at most.
pub const SPARE: usize = 1_024;
/// A spare connection's records are kept if they hold at most this many
/// (more is a long connection's: let it go).
const SPARE_RECORDS: usize = 16;

/// A socket's report on its way to a connection: a kernel state change or
/// a socket call. Both wait the same way ([`Waiting`]).
#[derive(Clone, Copy, Debug)]
enum Report {
    Change(Change),
    Call(Call),
}

impl Report {
    fn ts(&self) -> Timestamp {
        match self {
            Report::Change(c) => c.ts,
            Report::Call(c) => c.ts,
        }
    }
    fn sock(&self) -> u64 {
        match self {
            Report::Change(c) => c.sock,
            Report::Call(c) => c.sock,
        }
    }
    fn tuple(&self) -> (SocketAddr, SocketAddr) {
        match self {
            Report::Change(c) => (c.local, c.remote),
            Report::Call(c) => (c.local, c.remote),
        }
    }
    /// The report with the socket's endpoints, learnt from a later one.
    fn on(self, (local, remote): (SocketAddr, SocketAddr)) -> Report {
        match self {
            Report::Change(c) => Report::Change(Change { local, remote, ..c }),
            Report::Call(c) => Report::Call(Call { local, remote, ..c }),
        }
    }
}

/// Kernel changes and socket calls waiting: for the segments up to their
/// time (`queue`), for their connection's first segment (`pending`, by
/// tuple), or for their socket's port (`unresolved`, by socket). All bounded
/// by [`KERNEL_WAITING`], oldest given up first.
#[derive(Debug, Default)]
struct Waiting {
    /// The kernel view is on.
    on: bool,
    /// Reports not yet routed, in time order.
    queue: VecDeque<Report>,
    pending: HashMap<Key, Vec<Report>, RandomState>,
    pending_order: VecDeque<Key>,
    unresolved: HashMap<u64, Vec<Report>, RandomState>,
    unresolved_order: VecDeque<u64>,
    /// What the kernel listed when the capture began, by tuple.
    snapshot: HashMap<Key, Vec<(SocketAddr, super::tcp::TcpState)>, RandomState>,
    waiting: usize,
    given_up: u64,
    /// Of `waiting` and `given_up`, the calls.
    calls_waiting: usize,
    calls_given_up: u64,
}

/// Kernel changes and socket calls that may wait for their segments, their
/// connection or their port (about 100 bytes each).
pub const KERNEL_WAITING: usize = 65_536;

/// How long after a connection's last segment a kernel change on its tuple
/// is still its own (the changes its last segments cause come within
/// microseconds on loopback).
const KERNEL_AFTER_END: u64 = 5_000_000;

impl Waiting {
    fn wait<K: std::hash::Hash + Eq + Copy>(
        map: &mut HashMap<K, Vec<Report>, RandomState>,
        order: &mut VecDeque<K>,
        k: K,
        r: Report,
    ) {
        let v = map.entry(k).or_default();
        if v.is_empty() {
            order.push_back(k);
        }
        v.push(r);
    }

    /// Counts reports that stop waiting (`given_up`: dropped).
    fn done(&mut self, reports: &[Report], given_up: bool) {
        let calls = reports.iter().filter(|r| matches!(r, Report::Call(_))).count();
        self.waiting -= reports.len();
        self.calls_waiting -= calls;
        if given_up {
            self.given_up += reports.len() as u64;
            self.calls_given_up += calls as u64;
        }
    }

    /// Counts a report that starts waiting, and gives up the oldest waiting
    /// ones beyond the bound.
    fn waits(&mut self, r: &Report) {
        self.waiting += 1;
        self.calls_waiting += usize::from(matches!(r, Report::Call(_)));
        while self.waiting > KERNEL_WAITING {
            let dropped = if let Some(k) = self.unresolved_order.pop_front() {
                self.unresolved.remove(&k)
            } else if let Some(k) = self.pending_order.pop_front() {
                self.pending.remove(&k)
            } else {
                break;
            };
            self.done(&dropped.unwrap_or_default(), true);
        }
    }
}

impl Tracker {
    /// A tracker within `limits`. `server_port` names the server of a
    /// connection seen without its SYN.
    #[must_use]
    pub fn new(server_port: Option<u16>, limits: Limits) -> Tracker {
        Tracker {
            conns: Slots::default(),
            by_tuple: hashbrown::HashTable::new(),
            hasher: RandomState::default(),
            finished: VecDeque::new(),
            next_id: 1,
            server_port,
            limits: Limits { finished: limits.finished.max(1), open: limits.open.max(1), ..limits },
            open: 0,
            open_order: VecDeque::new(),
            forgotten: 0,
            kernel: Waiting::default(),
            // Computed at the first segment.
            shared: (usize::MAX, Keep::default()),
            spare: Vec::new(),
            spare_limit: SPARE,
            last: 0,
        }
    }

    /// The latest connection on tuple `k`.
    fn find(&self, k: &Key) -> Option<ConnId> {
        let conns = &self.conns;
        self.by_tuple.find(self.hasher.hash_one(k), |&id| conns.get(id).is_some_and(|c| tuple(c) == *k)).copied()
    }

    /// The latest connection on the tuple of segment `seg` (`k`, whose hash
    /// is `hash`): its endpoints are compared as they are first, and as the
    /// tuple's key only when they differ (an IPv4 address met as IPv6-mapped).
    fn find_segment(&self, seg: &Segment, k: &Key, hash: u64) -> Option<(ConnId, &Connection)> {
        let conns = &self.conns;
        let on = |c: &Connection| same_endpoints(c, seg, k.network) || tuple(c) == *k;
        let id = *self.by_tuple.find(hash, |&id| conns.get(id).is_some_and(on))?;
        Some((id, conns.get(id)?))
    }

    /// Makes connection `id` (tracked already) the latest on tuple `k`,
    /// whose hash is `hash`.
    fn set_latest(&mut self, k: &Key, hash: u64, id: ConnId) {
        let conns = &self.conns;
        let entry = self.by_tuple.entry(
            hash,
            |&other| conns.get(other).is_some_and(|c| tuple(c) == *k),
            // Every id in the table is a tracked connection's.
            |&other| conns.hash_of(other),
        );
        match entry {
            hashbrown::hash_table::Entry::Occupied(mut e) => *e.get_mut() = id,
            hashbrown::hash_table::Entry::Vacant(e) => {
                e.insert(id);
            }
        }
    }

    /// Attaches an ICMP error (`seg.icmp` set) to the connection whose
    /// segment it quotes; `false` when no tracked connection has that tuple.
    pub fn icmp(&mut self, seg: &Segment) -> bool {
        let k = key(seg.src, seg.dst, seg.encap.network());
        match self.find(&k).and_then(|id| self.conns.get_mut(id)) {
            Some(conn) => {
                conn.note_icmp(seg);
                true
            }
            None => false,
        }
    }

    /// Turns the kernel view on: connections say so (their exports carry the
    /// kernel's transitions and the agreement).
    pub fn watch_kernel(&mut self) {
        if self.kernel.on {
            return;
        }
        self.kernel.on = true;
        // A replay meets the recording's first kernel change after its first
        // frames: the connections already there are watched too.
        for conn in self.conns.iter_mut() {
            conn.kernel_watched = true;
        }
    }

    /// Whether the kernel view is on.
    #[must_use]
    pub fn kernel_on(&self) -> bool {
        self.kernel.on
    }

    /// Kernel changes and socket calls not attached: (waiting, given up).
    #[must_use]
    pub fn kernel_pending(&self) -> (usize, u64) {
        (self.kernel.waiting + self.kernel.queue.len(), self.kernel.given_up)
    }

    /// Of [`Tracker::kernel_pending`], the socket calls: (waiting to be
    /// routed or for their connection, given up).
    #[must_use]
    pub fn calls_pending(&self) -> (usize, u64) {
        let queued = self.kernel.queue.iter().filter(|r| matches!(r, Report::Call(_))).count();
        (self.kernel.calls_waiting + queued, self.kernel.calls_given_up)
    }

    /// The sockets sock_diag listed on the watched port when the capture
    /// began (endpoint, peer, state): a connection first seen without its
    /// SYN starts in the states the kernel gave its sockets.
    pub fn kernel_snapshot(&mut self, sockets: &[(SocketAddr, SocketAddr, super::tcp::TcpState)]) {
        for &(local, remote, state) in sockets {
            if remote.port() != 0 {
                self.kernel.snapshot.entry(key(local, remote, 0)).or_default().push((local, state));
            }
        }
    }

    /// What sock_diag listed for the watched port: the mini-sockets
    /// (TIME-WAIT or FIN-WAIT-2) with the end of their timer; each sets its
    /// connection's timer (the countdown then follows the kernel's).
    pub fn kernel_timers(&mut self, listed: &[super::kernel_change::Timer]) {
        for &(local, remote, state, end) in listed {
            if let Some(conn) = self.find(&key(local, remote, 0)).and_then(|id| self.conns.get_mut(id))
                && conn.kernel_watched
            {
                let side = if local == conn.server.addr { Role::Server } else { Role::Client };
                conn.kernel_timer = Some((side, state, end));
            }
        }
    }

    /// Takes a kernel state change. It is attached once the segments up to
    /// its time have been tracked (see [`Tracker::kernel_flush`]): on a
    /// reused tuple, the new connection's changes then find the new
    /// connection, not the one that ended.
    pub fn kernel(&mut self, c: Change) {
        self.report(Report::Change(c));
    }

    /// Takes a socket call, from whichever source (the built-in programs,
    /// kernel tracepoints, a recording). Like a kernel change, it is
    /// attached once the segments up to its time have been tracked
    /// ([`Tracker::kernel_flush`]); one made before its connection's first
    /// segment (a `connect()`) waits for it; one whose `local` port is 0
    /// waits for its socket's (`sock`) next report, change or call, to
    /// learn the tuple. On a reused tuple it goes to the connection it
    /// belongs to by time. The kernel view need not be on.
    pub fn call(&mut self, c: Call) {
        self.report(Report::Call(c));
    }

    fn report(&mut self, r: Report) {
        let q = &mut self.kernel.queue;
        // After every report made at or before it (the queue is in time
        // order). A search, not a scan back from the end: an `accept` is
        // handed on late (when its descriptor is closed), behind every
        // report made since, thousands under load.
        let at = q.partition_point(|k| k.ts() <= r.ts());
        q.insert(at, r);
        if q.len() > KERNEL_WAITING {
            let oldest = self.kernel.queue.pop_front();
            if let Some(oldest) = oldest {
                let ts = oldest.ts();
                self.route_report(oldest);
                self.kernel_flush(ts);
            }
        }
    }

    /// Attaches the kernel changes and socket calls made at or before
    /// `upto` (every segment up to then has been tracked;
    /// `Timestamp(u64::MAX)` when the capture is idle).
    pub fn kernel_flush(&mut self, upto: Timestamp) {
        while self.kernel.queue.front().is_some_and(|c| c.ts() <= upto) {
            if let Some(c) = self.kernel.queue.pop_front() {
                self.route_report(c);
            }
        }
    }

    /// A report goes to its connection; one that comes before the
    /// connection's first segment waits (bounded); one made before the socket
    /// had its port waits for the socket's next report.
    fn route_report(&mut self, r: Report) {
        let w = &mut self.kernel;
        let (local, remote) = r.tuple();
        if local.port() == 0 {
            Waiting::wait(&mut w.unresolved, &mut w.unresolved_order, r.sock(), r);
            w.waits(&r);
            return;
        }
        if remote.port() == 0 {
            return; // a listening socket's own report, not a connection's
        }
        // Earlier reports of this socket, made before its port was chosen.
        if r.sock() != 0
            && let Some(earlier) = w.unresolved.remove(&r.sock())
        {
            // Only those made before this report are of its tuple: one made
            // after it is of a new socket at the same kernel address (this
            // report came late: an accept, a call held back), and waits on.
            let (earlier, later): (Vec<Report>, Vec<Report>) = earlier.into_iter().partition(|u| u.ts() <= r.ts());
            if !later.is_empty() {
                // Its key is still in `unresolved_order`.
                w.unresolved.insert(r.sock(), later);
            }
            w.done(&earlier, false);
            for u in earlier {
                self.attach_report(u.on((local, remote)));
            }
        }
        self.attach_report(r);
    }

    fn attach_report(&mut self, r: Report) {
        let (local, remote) = r.tuple();
        let k = key(local, remote, 0);
        let conn = self.find(&k).and_then(|id| self.conns.get_mut(id));
        match (conn, r) {
            // A connection that ended takes only the changes its last segments
            // caused; later ones on its tuple belong to the next connection.
            // (A mini-socket's timer ends long after: `sock` 0, always its own.)
            (Some(conn), Report::Change(c))
                if conn.kernel_watched
                    && (c.sock == 0 || !(conn.ended && c.ts.0 > conn.last().0 + KERNEL_AFTER_END)) =>
            {
                conn.note_kernel(&c);
            }
            // A call goes to the latest connection on its tuple, ended or not
            // (a close() or a failed recv() may come long after an RST),
            // except a connect(): it starts a connection, whose SYN leaves
            // inside it, so it belongs to the first one that starts from its
            // socket at or after it.
            (Some(conn), Report::Call(c))
                if c.kind != CallKind::Connect || (conn.client.addr == c.local && conn.start() >= c.ts) =>
            {
                let mut to = Some(conn.id);
                if c.kind != CallKind::Connect && conn.start() > c.ts {
                    // Made before the tuple's latest connection began: an
                    // earlier one's (rare: a reused tuple), or a socket's
                    // whose connection is not tracked (a try the dashboard
                    // left out): given up.
                    to = self.conns.iter().rev().find(|e| tuple(e) == k && e.start() <= c.ts).map(|e| e.id);
                }
                match to.and_then(|id| self.conns.get_mut(id)) {
                    Some(conn) => conn.note_call(&c),
                    None => {
                        self.kernel.given_up += 1;
                        self.kernel.calls_given_up += 1;
                    }
                }
            }
            _ => {
                let w = &mut self.kernel;
                Waiting::wait(&mut w.pending, &mut w.pending_order, k, r);
                w.waits(&r);
            }
        }
    }

    /// Reports waiting for connection `conn`, just started on tuple `key`,
    /// go to it.
    fn take_pending(&mut self, conn: &mut Connection, key: &Key) {
        if let Some(waiting) = self.kernel.pending.remove(key) {
            self.kernel.done(&waiting, false);
            for r in &waiting {
                match r {
                    Report::Change(c) if conn.kernel_watched => conn.note_kernel(c),
                    Report::Change(_) => {}
                    // Only a connect() comes before its connection's first
                    // segment: another call made before it was an earlier
                    // socket's on the same tuple, whose connection is not
                    // tracked.
                    Report::Call(c) if c.kind == CallKind::Connect || c.ts >= conn.start() => conn.note_call(c),
                    Report::Call(_) => {
                        self.kernel.given_up += 1;
                        self.kernel.calls_given_up += 1;
                    }
                }
            }
        }
    }

    /// [`share`] for `open` connections, remembered while `open` stays (a
    /// division per segment otherwise).
    fn share(&mut self, open: usize) -> Keep {
        if self.shared.0 != open {
            self.shared = (open, share(&self.limits, open));
        }
        self.shared.1
    }

    /// Feeds one segment, in arrival order.
    pub fn push(&mut self, seg: &Segment) -> Push {
        let route = self.route(seg);
        self.push_routed(seg, route)
    }

    /// Where segment `seg` goes ([`Route`]), without tracking it: the
    /// tuple's latest connection, unless the segment starts a new one.
    #[inline]
    pub fn route(&mut self, seg: &Segment) -> Route {
        let fresh_syn = seg.flags.syn() && !seg.flags.ack() && !seg.flags.rst();
        let network = seg.encap.network();
        // Segments come in bursts of one connection: the last one's
        // endpoints first, then the table of tuples.
        let last = self.conns.get(self.last).filter(|c| same_endpoints(c, seg, network)).map(|c| (self.last, c));
        let (latest, new) = match last {
            Some(last) => (Some(last), None),
            None => {
                let k = key(seg.src, seg.dst, network);
                let hash = self.hasher.hash_one(k);
                (self.find_segment(seg, &k, hash), Some((k, hash)))
            }
        };
        let latest = latest.map(|(id, c)| (id, c.ended, starts_anew(c, seg, fresh_syn), in_time_wait(c)));
        if let Some((id, ended, anew, _)) = latest {
            self.last = id;
            if !anew {
                return Route { fresh_syn, to: To::Latest { id, ended } };
            }
        }
        let (key, hash) = new.unwrap_or_else(|| {
            let k = key(seg.src, seg.dst, network);
            (k, self.hasher.hash_one(k))
        });
        let superseded = latest.filter(|&(_, ended, ..)| !ended).map(|(id, ..)| id);
        let time_wait = latest.filter(|&(.., time_wait)| time_wait).map(|(id, ..)| id);
        Route { fresh_syn, to: To::New { key, hash, superseded, time_wait } }
    }

    /// Tracks segment `seg` where [`Tracker::route`] said it goes (with
    /// nothing tracked or taken since).
    #[inline]
    pub fn push_routed(&mut self, seg: &Segment, route: Route) -> Push {
        let keep = self.share(self.open);
        let push = match route.to {
            To::Latest { id, .. } => self.continued(id, seg, keep),
            To::New { key, hash, superseded, time_wait } => {
                if let Some(old) = superseded {
                    self.supersede(old);
                }
                // A SYN that ends the TIME-WAIT of an ended connection tells
                // it so, if it was not released before.
                let taken = time_wait
                    .and_then(|id| self.conns.get_mut(id))
                    .and_then(|c| c.take_over_time_wait(seg, super::tcp::TIME_WAIT));
                self.start(seg, route.fresh_syn, key, hash, superseded, taken)
            }
        };
        if !self.kernel.queue.is_empty() {
            self.kernel_flush(seg.ts);
        }
        push
    }

    /// Segment `seg` continues connection `id` (perhaps after its end), which
    /// keeps `keep` of its segments.
    fn continued(&mut self, id: ConnId, seg: &Segment, keep: Keep) -> Push {
        let Some(conn) = self.conns.get_mut(id) else { return Push { id, ..Push::default() } };
        let dir = if seg.src == conn.client.addr { Dir::C2S } else { Dir::S2C };
        conn.set_keep(keep);
        let ended = conn.apply(seg, dir);
        if ended {
            self.open = self.open.saturating_sub(1);
            self.finished.push_back(id);
            self.evict();
        }
        Push { id, ended, ..Push::default() }
    }

    /// Connection `id`, still open, is over: a new one took its tuple.
    fn supersede(&mut self, id: ConnId) {
        if let Some(conn) = self.conns.get_mut(id) {
            conn.ended = true;
            self.open = self.open.saturating_sub(1);
            self.finished.push_back(id);
        }
    }

    /// A new connection, begun by segment `seg` on tuple `key` (of hash
    /// `hash`); `superseded` had the tuple before.
    fn start(
        &mut self,
        seg: &Segment,
        fresh_syn: bool,
        key: Key,
        hash: u64,
        superseded: Option<ConnId>,
        after_time_wait: Option<super::connection::TakenOver>,
    ) -> Push {
        let (client, server) = ends(seg, fresh_syn, self.server_port);
        let id = self.next_id;
        self.next_id += 1;
        let mut conn = self.allocate(id, client, server, seg, fresh_syn);
        conn.after_time_wait = after_time_wait;
        if self.kernel.on {
            self.kernel_start(&mut conn, &key, fresh_syn);
        }
        if !self.kernel.pending.is_empty() {
            self.take_pending(&mut conn, &key);
        }
        let dir = if seg.src == client { Dir::C2S } else { Dir::S2C };
        conn.set_keep(share(&self.limits, self.open + 1));
        let ended = conn.apply(seg, dir);
        self.conns.push(conn, hash);
        self.set_latest(&key, hash, id);
        self.last = id;
        if ended {
            self.finished.push_back(id);
        } else {
            self.opened(id);
        }
        let expired = if self.open > self.limits.open { self.expire_oldest_open() } else { None };
        self.evict();
        Push { id, started: true, ended, superseded, expired }
    }

    /// A new connection, in the memory of a spare one when there is one.
    fn allocate(
        &mut self,
        id: ConnId,
        client: SocketAddr,
        server: SocketAddr,
        seg: &Segment,
        fresh_syn: bool,
    ) -> Box<Connection> {
        let keep = self.limits.keep;
        match self.spare.pop() {
            Some(mut conn) => {
                let records = std::mem::take(&mut conn.records);
                *conn = Connection::new(id, client, server, seg, fresh_syn, keep, records);
                conn
            }
            None => Box::new(Connection::new(id, client, server, seg, fresh_syn, keep, Vec::with_capacity(12))),
        }
    }

    /// With the kernel view on: a new connection starts in the states the
    /// kernel listed for its sockets (when it was there before the capture),
    /// and takes the changes that came before its first segment.
    fn kernel_start(&mut self, conn: &mut Connection, key: &Key, fresh_syn: bool) {
        conn.kernel_watched = true;
        if !fresh_syn && let Some(sockets) = self.kernel.snapshot.remove(key) {
            let of = |addr| sockets.iter().find(|(local, _)| *local == addr).map(|(_, s)| *s);
            conn.start_in(of(conn.client.addr), of(conn.server.addr));
        }
    }

    /// Counts connection `id` as open.
    fn opened(&mut self, id: ConnId) {
        self.open += 1;
        self.open_order.push_back(id);
        // Ids of connections that ended pile up behind a long-lived open one:
        // compact when they outnumber the open ones (amortised O(1)).
        if self.open_order.len() > 2 * self.open + 64 {
            let conns = &self.conns;
            self.open_order.retain(|id| conns.get(*id).is_some_and(|c| !c.ended));
        }
    }

    /// Gives up the oldest open connection: it is finished as it stands.
    fn expire_oldest_open(&mut self) -> Option<ConnId> {
        let id = loop {
            let id = self.open_order.pop_front()?;
            if self.conns.get(id).is_some_and(|c| !c.ended) {
                break id;
            }
        };
        let conn = self.conns.get_mut(id)?;
        conn.ended = true;
        self.open = self.open.saturating_sub(1);
        self.finished.push_back(id);
        Some(id)
    }

    /// Forgets a connection, and its tuple if no newer connection took it over.
    fn drop_connection(&mut self, id: ConnId) -> Option<Box<Connection>> {
        let (conn, hash) = self.conns.remove(id)?;
        if let Ok(e) = self.by_tuple.find_entry(hash, |&other| other == id) {
            e.remove();
        }
        Some(conn)
    }

    fn evict(&mut self) {
        self.trim_forgotten();
        while self.finished.len() - self.forgotten.min(self.finished.len()) > self.limits.finished {
            let Some(old) = self.finished.pop_front() else {
                break;
            };
            if self.conns.get(old).is_none() {
                self.forgotten = self.forgotten.saturating_sub(1);
            }
            self.drop_connection(old);
        }
    }

    /// Keeps at most `n` connections given back for reuse
    /// ([`Tracker::recycle`]): the memory a tracker holds beyond what it
    /// tracks stays within `n` connections' worth.
    pub fn keep_spare(&mut self, n: usize) {
        self.spare_limit = n;
        self.spare.truncate(n);
    }

    /// Connections open now.
    #[must_use]
    pub fn open(&self) -> usize {
        self.open
    }

    /// Connections started so far (their ids are 1 to this).
    #[must_use]
    pub fn started(&self) -> u64 {
        self.next_id - 1
    }

    /// The limits it keeps to.
    #[must_use]
    pub fn limits(&self) -> Limits {
        self.limits
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

    /// Forgets a finished connection now (`trace`, once it has written it).
    /// Its id leaves the queue of finished ones when it reaches the front.
    pub fn forget(&mut self, id: ConnId) {
        drop(self.take(id));
    }

    /// Forgets a finished connection now and hands it over, to its new
    /// owner's keeping; `None` if it is not finished or gone.
    pub fn take(&mut self, id: ConnId) -> Option<Box<Connection>> {
        if !self.conns.get(id).is_some_and(|c| c.ended) {
            return None;
        }
        let conn = self.drop_connection(id);
        self.forgotten += 1;
        self.trim_forgotten();
        conn
    }

    /// Takes back connections handed over by [`Tracker::take`] once their
    /// owner is done with them: new connections reuse their memory instead
    /// of allocating (at most [`SPARE`] are kept, or what
    /// [`Tracker::keep_spare`] set, with small record buffers only).
    pub fn recycle(&mut self, spent: &mut Vec<Box<Connection>>) {
        for conn in spent.drain(..) {
            if self.spare.len() < self.spare_limit && conn.records.capacity() <= SPARE_RECORDS {
                self.spare.push(conn);
            }
        }
    }

    /// Pops the ids of forgotten connections from the front of the queue.
    fn trim_forgotten(&mut self) {
        while let Some(&front) = self.finished.front()
            && self.conns.get(front).is_none()
        {
            self.finished.pop_front();
            self.forgotten = self.forgotten.saturating_sub(1);
        }
    }

    /// Drops every finished connection (the dashboard's "clear").
    pub fn clear_finished(&mut self) {
        while let Some(id) = self.finished.pop_front() {
            self.drop_connection(id);
        }
    }
}
