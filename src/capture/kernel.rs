//! The kernel view, live: the tracepoint's changes handed to the pipeline's
//! tracker (see [`crate::model::kernel`] for what they mean and how they are
//! compared with the wire), and sock_diag's mini-sockets for the
//! dashboard's TIME-WAIT countdowns.
//!
//! What it costs the traced programs is kept low: the kernel wakes no one
//! per change (the rings are read in batches: between frames in `trace`,
//! at a perf ring's watermark or on a 10 ms timer in the dashboard), sock_diag is asked only
//! for the watched port's sockets, and only while a countdown is on screen.
//!
//! Order: each read's changes are put in time order across the CPUs' rings
//! ([`in_time_order`]), and handed on at once, so that they reach the
//! tracker before the segments captured after them (the packet ring hands
//! over frames up to 10 ms after they pass). The tracker holds each change
//! until the segments up to its time are in, and keeps a connection's
//! changes in time order: a change that comes a read late (a CPU published
//! it just after the read passed its ring) still lands in its place.
//!
//! Socket calls of any other program (connect, accept, send, recv,
//! shutdown, close; see docs/socket-calls.md): the tracepoints of
//! [`crate::os::callpoints`] write into the same rings, read in the same
//! passes. Their samples are held [`HOLD`] after they were taken, so that
//! the CPUs' samples are worked out in one time order by [`calls`] (a pure
//! module), then handed on by [`KernelView::read_calls`].

pub mod calls;

use crate::headless::{KernelFeed, Reported};
use crate::model::kernel::{self, Change};
use crate::model::segment::Timestamp;
use crate::model::tcp::TcpState;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::model::call::{Call, Comm};
use crate::os::callpoints::RawSample;
use crate::os::diag::{Diag, MiniSocket};
use crate::os::tracepoint::{self, RawChange, Tracepoint, Unavailable};
use crate::pipeline::Pipeline;

/// `--kernel`: whether to show the kernel's own view.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum KernelMode {
    /// On when the machine allows it; otherwise say why and go on.
    #[default]
    Auto,
    /// On, or fail (exit 2) saying why not.
    On,
    Off,
}

/// The open tracepoint; sock_diag for the mini-sockets the tracepoint
/// cannot see.
pub struct KernelView {
    tracepoint: Tracepoint,
    /// What one read of the rings found.
    read: Vec<RawChange>,
    /// Changes handed to the tracker.
    pub changes: u64,
    /// The time of the latest change handed on.
    sent: Timestamp,
    /// sock_diag on the watched port, until the lister's thread takes it.
    diag: Option<(Diag, u16)>,
    lister: Option<Lister>,
    /// The socket calls, when their tracepoints are open.
    calls: Option<Calls>,
    /// Why the socket calls are off, when they were asked for.
    calls_off: Option<String>,
}

/// The socket calls' side of the view: samples held until every CPU's are
/// in, the attribution, and the calls not yet taken.
struct Calls {
    read: Vec<RawSample>,
    held: Vec<RawSample>,
    attributor: calls::Attributor,
    ready: Vec<Call>,
    /// Calls dropped because nobody took them ([`MAX_READY`] were waiting).
    dropped: u64,
    /// Process names read this pass (a pid may be reused later).
    names: std::collections::HashMap<u32, Comm>,
}

/// How long a socket call's sample is held before it is worked out: every
/// CPU has published its samples up to then (a tracepoint writes its
/// sample at once, with preemption off), so they are taken in time order.
pub const HOLD: Duration = Duration::from_millis(2);

/// Calls kept for [`KernelView::read_calls`] at most; past it they are
/// counted in [`KernelView::calls_dropped`].
pub const MAX_READY: usize = 1 << 16;

/// A process's name, from /proc (empty when it has exited).
fn comm_of(pid: u32) -> Comm {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).map_or_else(|_| Comm::default(), |s| Comm::new(s.trim_end()))
}

impl Calls {
    /// Works out the held samples taken up to `until` (all with `None`).
    fn attribute(&mut self, until: Option<Timestamp>) {
        self.held.append(&mut self.read);
        // A stable sort: each CPU's samples are in order already.
        self.held.sort_by_key(|s| s.ts);
        let n = until.map_or(self.held.len(), |t| self.held.partition_point(|s| s.ts <= t.0));
        let mut out = Vec::new();
        let names = &mut self.names;
        let mut name = |pid: u32| *names.entry(pid).or_insert_with(|| comm_of(pid));
        for s in self.held.drain(..n) {
            self.attributor.feed(&s, &mut name, &mut out);
        }
        self.names.clear();
        let room = MAX_READY.saturating_sub(self.ready.len());
        self.dropped += out.len().saturating_sub(room) as u64;
        self.ready.extend(out.into_iter().take(room));
    }
}

pub use crate::model::kernel::Timer;

/// How often the dashboard asks sock_diag for the mini-sockets while a
/// countdown is on screen: the countdowns show whole seconds, and a
/// mini-socket's timer, once known, does not move.
pub const LISTING_EVERY: Duration = Duration::from_secs(1);

/// How long the dashboard's reader waits for a ring to reach its
/// watermark before it reads the rings anyway: changes reach the view at
/// most this late, about as late as the segments (the packet ring hands
/// frames over every 10 ms).
pub const POLL_EVERY: Duration = Duration::from_millis(10);

fn wall_now() -> Timestamp {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    Timestamp(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// A change as the tracepoint reported it, as the model's value (`None`
/// for a state number the model does not know).
#[must_use]
pub fn change(c: &RawChange) -> Option<Change> {
    let (from, to) = (kernel::state(c.oldstate)?, kernel::state(c.newstate)?);
    Some(Change { ts: Timestamp(c.ts), sock: c.sock, local: c.local, remote: c.remote, from, to })
}

/// One read of the rings (`read`, emptied: each ring's changes in its own
/// order, the rings one after the other) appended to `out` in time order,
/// as the model's values. Returns how many.
pub fn in_time_order(read: &mut Vec<RawChange>, out: &mut Vec<Change>) -> usize {
    // A stable sort of a few sorted runs: one merge pass each.
    read.sort_by_key(|c| c.ts);
    let before = out.len();
    out.extend(read.drain(..).filter_map(|c| change(&c)));
    out.len() - before
}

/// What the dashboard's kernel thread passes on after each wait.
#[derive(Debug, Default)]
pub struct Update {
    /// State changes, in time order.
    pub changes: Vec<Change>,
    /// The mini-sockets' timers, when they were listed this time.
    pub timers: Option<Vec<Timer>>,
    /// Socket calls of other programs (see [`KernelView::read_calls`]).
    pub calls: Vec<Call>,
}

impl KernelView {
    /// Opens the tracepoint for `port` (needs root or CAP_PERFMON: call it
    /// before privileges are dropped).
    ///
    /// # Errors
    /// [`Unavailable`], saying why.
    ///
    /// The socket calls of other programs are on too, unless the
    /// environment has `SYNACK_CALLS=off` (for measuring what they cost);
    /// [`KernelView::calls_off`] says why when they could not be had.
    pub fn open(port: Option<u16>) -> Result<KernelView, Unavailable> {
        let calls = std::env::var("SYNACK_CALLS").map_or(true, |v| v != "off");
        KernelView::open_with(port, calls)
    }

    /// As [`KernelView::open`], the socket calls on or off.
    ///
    /// # Errors
    /// [`Unavailable`], saying why.
    pub fn open_with(port: Option<u16>, calls: bool) -> Result<KernelView, Unavailable> {
        let (tracepoint, why_not) = tracepoint::open_with(port, calls)?;
        // sock_diag needs no privilege; without it the countdowns are synack's own.
        let diag = port.and_then(|p| Diag::open().ok().map(|d| (d, p)));
        let calls = tracepoint.has_calls().then(|| Calls {
            read: Vec::new(),
            held: Vec::new(),
            attributor: calls::Attributor::new(std::process::id()),
            ready: Vec::new(),
            dropped: 0,
            names: std::collections::HashMap::new(),
        });
        Ok(KernelView {
            tracepoint,
            read: Vec::with_capacity(4096),
            changes: 0,
            sent: Timestamp(0),
            diag,
            lister: None,
            calls,
            calls_off: why_not.map(|e| crate::t!("cli-calls-off", error = e.to_string())),
        })
    }

    /// Why the socket calls of other programs are off, when they were
    /// asked for and could not be had (to be said once).
    #[must_use]
    pub fn calls_off(&self) -> Option<&str> {
        self.calls_off.as_deref()
    }

    /// Whether the socket calls of other programs are on.
    #[must_use]
    pub fn has_calls(&self) -> bool {
        self.calls.is_some()
    }

    /// The socket calls worked out since the last call, appended to `out`:
    /// in time order, but for an `accept`, handed on when its socket
    /// became known (at its descriptor's close or shutdown) with the time
    /// it returned. `flush`: without holding the latest samples back
    /// ([`HOLD`]; at the end of a capture).
    pub fn read_calls(&mut self, out: &mut Vec<Call>, flush: bool) {
        if let Some(c) = &mut self.calls {
            let until = (!flush).then(|| Timestamp(wall_now().0.saturating_sub(HOLD.as_nanos() as u64)));
            c.attribute(until);
            out.append(&mut c.ready);
        }
    }

    /// Calls that could not be tied to their socket (never guessed), and
    /// calls dropped because they were not taken in time.
    #[must_use]
    pub fn calls_unattributed(&self) -> (u64, u64) {
        self.calls.as_ref().map_or((0, 0), |c| (c.attributor.unattributed, c.dropped))
    }

    /// Changes the kernel could not hand over (its rings were full).
    #[must_use]
    pub fn lost(&self) -> u64 {
        self.tracepoint.lost()
    }

    /// Reads the rings and appends what they held to `out`, in time order.
    pub fn read_changes(&mut self, out: &mut Vec<Change>) {
        match &mut self.calls {
            Some(c) => {
                self.tracepoint.read_all(&mut self.read, &mut c.read);
                c.attribute(Some(Timestamp(wall_now().0.saturating_sub(HOLD.as_nanos() as u64))));
            }
            None => self.tracepoint.read(&mut self.read),
        }
        self.changes += in_time_order(&mut self.read, out) as u64;
    }

    /// The dashboard's reader: waits until a ring reaches its watermark or
    /// [`POLL_EVERY`] has passed, then takes what the rings hold. When
    /// `countdown` (a TIME-WAIT countdown is on screen), it asks for the
    /// mini-sockets every [`LISTING_EVERY`] (listed on a thread of their
    /// own: a listing takes tens of milliseconds, longer when the CPUs are
    /// busy, and the rings must be read meanwhile), and passes the listing
    /// on once it is made.
    pub fn wait(&mut self, countdown: bool) -> Update {
        // A failing poll (it does not) would make this a busy loop: sleep.
        if self.tracepoint.wait(POLL_EVERY).is_err() {
            std::thread::sleep(POLL_EVERY);
        }
        let mut update = Update::default();
        self.read_changes(&mut update.changes);
        self.read_calls(&mut update.calls, false);
        if countdown && self.lister.is_none() {
            self.lister = self.diag.take().and_then(|(diag, port)| Lister::spawn(diag, port));
        }
        if let Some(lister) = &mut self.lister {
            if countdown {
                lister.ask();
            }
            if let Some((timers, mut gone)) = lister.answer() {
                // Stamped when handed on, after every change sent before: the
                // tracker then takes them at the end of its queue, not one by
                // one behind thousands of later changes (ten thousand a second
                // under load). The kernel said they were gone by then.
                let seen = update.changes.last().map_or(Timestamp(0), |c| c.ts).max(self.sent).max(wall_now());
                for c in &mut gone {
                    c.ts = seen;
                }
                update.changes.extend(gone);
                update.timers = Some(timers);
            }
        }
        if let Some(last) = update.changes.last() {
            self.sent = self.sent.max(last.ts);
        }
        update
    }
}

/// The mini-sockets' timers, and a change to CLOSED for each gone since
/// the listing before.
type Listing = (Vec<Timer>, Vec<Change>);

/// The thread that lists the mini-sockets when asked (at most every
/// [`LISTING_EVERY`]); it ends when its [`Lister`] is dropped.
struct Lister {
    asks: SyncSender<()>,
    answers: Receiver<Listing>,
    /// When the last listing was asked for.
    asked: Option<Instant>,
}

impl Lister {
    fn spawn(mut diag: Diag, port: u16) -> Option<Lister> {
        let (asks, asked) = mpsc::sync_channel::<()>(1);
        let (answer, answers) = mpsc::sync_channel(1);
        let mut listed = Vec::new();
        let mut last: Option<Instant> = None;
        std::thread::Builder::new()
            .name("kernel-list".into())
            .spawn(move || {
                while asked.recv().is_ok() {
                    // Not listed for a while: this listing starts afresh (a
                    // socket gone since was not seen to go).
                    if last.is_some_and(|t| t.elapsed() >= 2 * LISTING_EVERY) {
                        listed.clear();
                    }
                    last = Some(Instant::now());
                    if let Some(listing) = list_mini_sockets(&mut diag, port, &mut listed)
                        && answer.send(listing).is_err()
                    {
                        return;
                    }
                }
            })
            .ok()?;
        Some(Lister { asks, answers, asked: None })
    }

    /// Asks for a listing, if [`LISTING_EVERY`] has passed since the last.
    fn ask(&mut self) {
        if self.asked.is_none_or(|t| t.elapsed() >= LISTING_EVERY) && self.asks.try_send(()).is_ok() {
            self.asked = Some(Instant::now());
        }
    }

    /// The listing made since the last call, if any.
    fn answer(&mut self) -> Option<Listing> {
        self.answers.try_recv().ok()
    }
}

/// The mini-sockets on `port` now with their timers, and a change to CLOSED
/// (`sock` 0) for each of `listed` (the listing before, replaced by this
/// one) that is gone (its timer ran out), stamped with the listing's time
/// ([`KernelView::wait`] stamps them again when it hands them on). `None`
/// when sock_diag fails.
fn list_mini_sockets(diag: &mut Diag, port: u16, listed: &mut Vec<MiniSocket>) -> Option<Listing> {
    let now = wall_now();
    let listing = diag.mini_sockets(port).ok()?;
    let state = |n: u8| kernel::state(i32::from(n)).unwrap_or(TcpState::TimeWait);
    let timers = listing
        .iter()
        .map(|m| (m.local, m.remote, state(m.state), Timestamp(now.0 + u64::try_from(m.left.as_nanos()).unwrap_or(0))))
        .collect();
    let gone = crate::os::diag::gone(listed, &listing)
        .into_iter()
        .map(|old| Change {
            ts: now,
            sock: 0,
            local: old.local,
            remote: old.remote,
            from: state(old.state),
            to: TcpState::Closed,
        })
        .collect();
    *listed = listing;
    Some((timers, gone))
}

impl KernelView {
    /// The port's sockets now, as sock_diag lists them (endpoint, peer,
    /// state), and a line that sums them up: what was there before the
    /// capture began.
    pub fn snapshot(&mut self) -> (Vec<(std::net::SocketAddr, std::net::SocketAddr, TcpState)>, String) {
        let Some((diag, port)) = self.diag.as_mut() else {
            return (Vec::new(), String::new());
        };
        let port = *port;
        let Ok(all) = diag.all_sockets(port) else {
            return (Vec::new(), String::new());
        };
        let sockets: Vec<_> =
            all.iter().filter_map(|m| Some((m.local, m.remote, kernel::state(i32::from(m.state))?))).collect();
        let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
        for (_, _, s) in &sockets {
            *counts.entry(s.name()).or_default() += 1;
        }
        let parts: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
        let line = if parts.is_empty() {
            crate::t!("cli-kernel-before-none", port = port.to_string())
        } else {
            crate::t!("cli-kernel-before", port = port.to_string(), states = parts.join(", "))
        };
        (sockets, line)
    }
}

impl KernelFeed for KernelView {
    /// Reads the rings (between frames: every 64th, and when the capture is
    /// idle): what they gathered since, in one pass.
    fn poll(&mut self, pipeline: &mut Pipeline, tracked: Timestamp, idle: bool) -> Reported {
        let mut changes = Vec::new();
        self.read_changes(&mut changes);
        // Other programs' calls (synack's own are left out by the source);
        // idle: none held back.
        let mut calls = Vec::new();
        self.read_calls(&mut calls, idle);
        // Both in one time order (an accept comes late, with the time it
        // returned), so that the tracker's queue takes each near its end.
        // The mini-sockets' timers are for the dashboard's countdown: `trace`
        // does not list them.
        let (mut i, mut j) = (0, 0);
        while i < changes.len() || j < calls.len() {
            if j == calls.len() || (i < changes.len() && changes[i].ts <= calls[j].ts) {
                pipeline.tracker.kernel(changes[i]);
                i += 1;
            } else {
                pipeline.tracker.call(calls[j]);
                j += 1;
            }
        }
        // Every segment up to the last frame tracked is in: what the kernel
        // reported up to then finds its connection (the queue stays short
        // under load, rather than filling to its bound).
        pipeline.tracker.kernel_flush(if idle { Timestamp(u64::MAX) } else { tracked });
        Reported { changes, calls }
    }
}
