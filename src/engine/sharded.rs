//! `trace --read FILE --threads N`: the connections of a capture file split
//! between N threads by tuple, and written exactly as one thread writes them.
//!
//! Each thread (a shard) maps the file and reads every frame. It decodes
//! each one and tracks the segments whose tuple falls to it
//! ([`place::shard_of`]: both directions alike); frames that
//! are no segment are counted by the shard their headers place them in
//! ([`place::plain_shard`]), or else by the one their number falls to. What one
//! thread knows across all connections is settled between them:
//!
//! - Ids. One thread numbers connections in the order they start. At the end
//!   of each epoch of [`EPOCH`] frames, each shard sends the others the
//!   frames its connections started at, and numbers its own from everyone's,
//!   an epoch behind (before they are written).
//! - When a connection is written. One thread writes an ended connection
//!   once [`AFTER_CLOSE`](crate::headless::AFTER_CLOSE) has passed since its last segment, or at once when
//!   more than the limit of finished connections wait; always the one that
//!   ended first, so one that waits holds back those that ended after it.
//!   That depends on every connection, so the writer replays it: the shards
//!   report each connection's end, and the writer plays the queue frame by
//!   frame and tells each shard which of its connections are written, and
//!   after which frame. The writer has no thread of its own: a shard that
//!   reports runs it, under a lock, or leaves its report to the shard that
//!   holds it (`Combined`).
//! - Late segments. A segment for a connection that has ended belongs to it
//!   only if it was not written yet: the shard waits until the writer has
//!   played the frames before it, then knows.
//! - Order. The writer writes connections in the order they were released,
//!   and the ones still open at the end by id. A shard formats its released
//!   connections into buffers, sent with its report at the end of an epoch
//!   (one message a shard an epoch: each takes the writer's lock).
//!
//! What a shard cannot follow alone stops the split at the frame it is met:
//! the open limits (each shard keeps its share of them), IPv4 fragments
//! (their datagram needs one reassembler), ICMP errors and a recording's
//! kernel changes. The run then says how many connections it wrote, and
//! the caller reads the file again on one tracking thread, skipping those.
//! The output is the same either way.

pub mod place;

use std::collections::VecDeque;
use std::io::{self, IoSlice, Write};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering, fence};
use std::sync::{Mutex, TryLockError, mpsc};

use super::headless::{Progress, RunError};
use super::input::Skim;
use super::release::Queue;
use crate::capture::{Next, SourceError};
use crate::export::Exporter;
use crate::model::decode::{self, DecodeError};
use crate::model::segment::{Segment, Timestamp};
use crate::model::tracker::{self, ConnId, Connection, Limits, Push};
use crate::pipeline::{Counters, Pipeline};

/// Frames per epoch: how often the shards number their connections and
/// report to the writer.
pub const EPOCH: u64 = 8_192;

/// How a sharded run ended.
#[derive(Debug)]
pub enum Sharded {
    /// Every connection was written, the open ones last. What the frames
    /// counted, how many connections started, and the source's error if it
    /// broke (what came before it was written).
    Done { counters: Counters, started: u64, error: Option<SourceError> },
    /// The connections could not be followed apart from frame `frame` on
    /// (counted from 0), for reason `why`: the first `written` were
    /// written, the rest must come from one tracking thread.
    Redo { written: u64, frame: u64, why: Unshardable },
}

/// What the shards cannot follow apart: a run met it, and one tracking
/// thread goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unshardable {
    /// An IPv4 fragment: its datagram needs the one reassembler.
    Fragment,
    /// An ICMP error: it may quote a connection written already.
    Icmp,
    /// A recording's kernel changes: they need the one tracker.
    Kernel,
    /// More connections open than a shard's share of `--max-open`.
    Open,
    /// More ended connections waiting than `--max-connections`: one thread
    /// drops the oldest.
    Finished,
    /// A shard stopped before the end (its reports are not complete).
    Lost,
}

impl std::fmt::Display for Unshardable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Unshardable::Fragment => "an IPv4 fragment (its datagram needs the one reassembler)",
            Unshardable::Icmp => "an ICMP error (it may quote a connection written already)",
            Unshardable::Kernel => "a recording's kernel changes (they need the one tracker)",
            Unshardable::Open => "more connections open than a thread's share of --max-open",
            Unshardable::Finished => "more ended connections waiting than --max-connections",
            Unshardable::Lost => "a thread that stopped before the end",
        })
    }
}

/// What a sharded run needs.
pub struct Shards<'a, S> {
    /// One source per shard, each reading the whole capture.
    pub sources: Vec<S>,
    pub port: Option<u16>,
    pub limits: Limits,
    /// Makes each shard's exporter.
    pub make: &'a (dyn Fn() -> Box<dyn Exporter + Send> + Sync),
    pub progress: Option<&'a Progress>,
    /// When set (Ctrl-C), every shard stops after the same frame, and what
    /// was read is written.
    pub interrupted: Option<&'a AtomicBool>,
    /// Frames per epoch ([`EPOCH`]; tests make it small).
    pub epoch: u64,
    /// Heap each shard makes ready at once ([`heap_for`]).
    pub heap: usize,
}

/// The heap each of `n` shards is made ready for at once, reading `size`
/// bytes of capture ([`super::arenas::reserve`]): about what a shard
/// grows to on the 85 MB benchmark capture (~9 MB), less for smaller files,
/// for which it would cost more than it saves.
#[must_use]
pub fn heap_for(size: u64, n: usize) -> usize {
    usize::try_from(size / 4 / n.max(1) as u64).unwrap_or(usize::MAX).min(12 << 20)
}

/// Runs the shards, and writes their connections to `out` as one thread would.
///
/// # Errors
/// When the output cannot be written, or a thread cannot be started.
pub fn run<S: Skim + Send>(shards: Shards<'_, S>, out: &mut (dyn Write + Send)) -> Result<Sharded, RunError> {
    let n = shards.sources.len().max(1);
    let control = Control {
        abort: AtomicBool::new(false),
        epochs: Mutex::new((0, None)),
        interrupted: shards.interrupted,
        pending: AtomicUsize::new(0),
    };
    let (to_writer, inbox) = mpsc::channel();
    let mut notices = Vec::with_capacity(n);
    let mut receivers_of_notices = Vec::with_capacity(n);
    for _ in 0..n {
        let (tx, rx) = mpsc::channel();
        notices.push(tx);
        receivers_of_notices.push(rx);
    }
    let writer = Mutex::new(Combined {
        writer: Writer::new(n, shards.limits, shards.epoch.max(1), notices),
        out,
        done: None,
        inbox,
    });
    // starts[from][to]: the frames `from`'s connections started at, for `to`.
    let mut senders: Vec<Vec<mpsc::Sender<Vec<u64>>>> = (0..n).map(|_| Vec::new()).collect();
    let mut receivers: Vec<Vec<mpsc::Receiver<Vec<u64>>>> = (0..n).map(|_| Vec::new()).collect();
    for (from, to) in (0..n).flat_map(|from| (0..n).filter(move |&to| to != from).map(move |to| (from, to))) {
        let (tx, rx) = mpsc::channel();
        senders[from].push(tx);
        receivers[to].push(rx);
    }
    // Each shard keeps its share of the open connections, so that all of
    // them together stay under the limits one tracker has.
    let open_cap = shards.limits.open.min(shards.limits.full_share_up_to().saturating_sub(1)) / n;
    let mut limits = shards.limits;
    // Finished connections are the writer's to count (it plays the queue).
    limits.finished = usize::MAX;
    // Two arenas: this thread's, and one the shards share (see `super::arenas`).
    super::arenas::limit(2);
    let started = std::thread::scope(|scope| {
        for (me, (((source, starts_to), starts_from), notices)) in
            shards.sources.into_iter().zip(senders).zip(receivers).zip(receivers_of_notices).enumerate()
        {
            let mut pipeline = Pipeline::new(shards.port, limits);
            pipeline.tracker.keep_spare(tracker::SPARE / n);
            let heap = shards.heap;
            let shard = Shard {
                me,
                n,
                source,
                pipeline,
                exporter: (shards.make)(),
                writer: &writer,
                to_writer: to_writer.clone(),
                notices,
                starts_to,
                ready: (1..n).map(|_| None).collect(),
                starts_from,
                lists: Vec::new(),
                control: &control,
                progress: shards.progress,
                report: Report::new(me, shards.epoch.max(1)),
                released: VecDeque::new(),
                simulated: 0,
                all_released: false,
                starts: Vec::new(),
                prev_starts: None,
                numbered: 0,
                numbers: Numbers::default(),
                base: 0,
                open_cap,
                spent: Vec::new(),
                reported: 0,
                buffers: Vec::new(),
                stamp_lists: Vec::new(),
                out: 0,
                epoch: shards.epoch.max(1),
            };
            if let Err(e) = std::thread::Builder::new().name(format!("shard-{me}")).spawn_scoped(scope, move || {
                super::arenas::reserve(heap);
                shard.run();
            }) {
                // Those started stop at their next epoch, or when they next wait.
                control.abort.store(true, Ordering::Relaxed);
                if let Ok(mut c) = writer.lock() {
                    c.writer.notices.clear();
                }
                return Err(RunError::Output(io::Error::new(e.kind(), format!("cannot start a thread: {e}"))));
            }
        }
        Ok(())
    });
    started?;
    // Every shard is done: it wrote what it could, or the writer stopped it.
    let mut combined = writer.into_inner().map_err(|_| RunError::Output(io::Error::other("a thread failed")))?;
    // (Every message was taken by the shard that sent it, or by the one
    // that held the writer then; any left would be taken here.)
    let _ = combined.drain(&control);
    // Every shard gone before its last word: one of them failed.
    let lost =
        Sharded::Redo { written: combined.writer.written, frame: combined.writer.played, why: Unshardable::Lost };
    combined.done.take().unwrap_or(Ok(lost))
}

/// The writer and where it writes. It has no thread of its own (a third
/// thread on two cores took turns with a shard, woken by every report): the
/// shard that sends it a message runs it, or, when another shard holds it,
/// that one takes the message ([`Shard::send`]).
struct Combined<'o> {
    writer: Writer,
    out: &'o mut (dyn Write + Send),
    /// How the run ended, once it has.
    done: Option<Result<Sharded, RunError>>,
    /// The shards' messages, taken by whoever holds the writer.
    inbox: mpsc::Receiver<ToWriter>,
}

impl Combined<'_> {
    /// Takes every message sent so far; how many.
    fn drain(&mut self, control: &Control<'_>) -> usize {
        let mut taken = 0;
        while let Ok(message) = self.inbox.try_recv() {
            // (It may be taken before its sender counts it: the count wraps
            // below zero for that while, and comes back.)
            control.pending.fetch_sub(1, Ordering::SeqCst);
            self.take(message, control);
            taken += 1;
        }
        taken
    }

    /// Whether the run ended short of writing everything (the shards stop).
    fn failed(&self) -> bool {
        self.done.is_some() && !matches!(self.done, Some(Ok(Sharded::Done { .. })))
    }

    /// Takes a shard's message and plays and writes what it lets.
    fn take(&mut self, message: ToWriter, control: &Control<'_>) {
        if self.done.is_some() {
            return;
        }
        let done = self.writer.take(message, &mut *self.out);
        if let Some(done) = done {
            self.done = Some(done);
            // However it ended, the shards stop: at their next epoch, or
            // when they next wait for the writer (no notice comes).
            control.abort.store(true, Ordering::Relaxed);
            self.writer.notices.clear();
        }
    }
}

/// What the shards share besides their channels.
struct Control<'a> {
    /// The writer is done with them (the split stopped, or the output broke).
    abort: AtomicBool,
    /// The furthest epoch a shard has begun, and, once interrupted, the
    /// epoch none begins.
    epochs: Mutex<(u64, Option<u64>)>,
    interrupted: Option<&'a AtomicBool>,
    /// Messages sent to the writer and not yet taken.
    pending: AtomicUsize,
}

impl Control<'_> {
    /// Whether a shard begins epoch `next`. Once interrupted, all stop
    /// before the same epoch: the one after the furthest begun.
    fn begin(&self, next: u64) -> bool {
        let Ok(mut epochs) = self.epochs.lock() else { return false };
        let (begun, stop) = &mut *epochs;
        if stop.is_none() && self.interrupted.is_some_and(|f| f.load(Ordering::Relaxed)) {
            *stop = Some(*begun + 1);
        }
        if stop.is_some_and(|s| next >= s) {
            return false;
        }
        *begun = (*begun).max(next);
        true
    }
}

/// What a shard read since its last report.
struct Report {
    shard: usize,
    /// Frames read: everything before this frame is reported.
    through: u64,
    /// Connections that ended, in order: the frame that ended them, the time
    /// of their last segment, their id here. (A frame is one shard's: the
    /// ends of a frame are all in one list, in the order the frame ended them.)
    ends: Vec<(u64, Timestamp, ConnId)>,
    /// Segments a connection took after its end: its id, the frame, its last time now.
    lates: Vec<(ConnId, u64, Timestamp)>,
    /// The time of every frame of this shard's epochs (one in n, the first
    /// shard's first: each shard keeps the times of as many frames).
    stamps: Vec<Timestamp>,
    /// The first frame this shard cannot follow alone, and why.
    unshardable: Option<(u64, Unshardable)>,
    /// The input ended (or the run was interrupted): nothing more comes.
    ended: bool,
    /// Buffers of connections written since the last report.
    written: Vec<Written>,
}

/// Connections written into a buffer, in the order they were released: where
/// each one's bytes are.
type Written = (Vec<Range<usize>>, String);

impl Report {
    fn new(shard: usize, epoch: u64) -> Report {
        Report {
            shard,
            through: 0,
            // About as many as an epoch ends (a connection is ~10 frames).
            ends: Vec::with_capacity(usize::try_from(epoch / 8).unwrap_or(0).min(EPOCH as usize / 8)),
            lates: Vec::new(),
            // Room for an epoch's, when the epoch is this shard's.
            stamps: Vec::new(),
            unshardable: None,
            ended: false,
            written: Vec::new(),
        }
    }
}

/// A shard's last word: the connections still open (global ids, bytes) and
/// what it counted.
struct Last {
    open: Vec<(ConnId, Range<usize>)>,
    bytes: String,
    counters: Counters,
    started: u64,
    error: Option<SourceError>,
}

enum ToWriter {
    Report(Report),
    /// Buffers of connections written, sent apart from a report (at the end).
    Written(usize, Vec<Written>),
    Last(usize, Last),
}

/// The writer's word to a shard.
struct Notice {
    /// The frames before this one are played: their releases are all told.
    through: u64,
    /// Connections released (ids here), in order.
    released: Vec<ConnId>,
    /// The input ended: every connection is released.
    all: bool,
    /// Buffers written out, to be filled again.
    buffers: Vec<String>,
    /// Lists of frame times played, emptied, to be filled again.
    stamps: Vec<Vec<Timestamp>>,
}

/// Connections handed to one `writev`.
const SLICES: usize = 1_024;

/// Writes all of `slices`, as `Write::write_all` does one buffer.
fn write_all_vectored(out: &mut dyn Write, mut slices: &mut [IoSlice<'_>]) -> io::Result<()> {
    while !slices.is_empty() {
        match out.write_vectored(slices) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut slices, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// How often (in frames) a shard moves the progress line on and takes what
/// the writer released.
const TICK: u64 = 1_024;

/// How many epochs a shard may read ahead of what the writer has played.
const LAG: u64 = 1;

/// How many bytes of written connections go to the writer at a time.
const BUFFER: usize = 1 << 18;

/// How many such buffers a shard may have at the writer.
const BUFFERS: usize = 4;

/// How many places ahead of the connection taken or written the next ones
/// are prefetched (as `headless` does).
const AHEAD: usize = 2;

/// A peer or the writer has gone: the run is over for this shard.
struct Gone;

struct Shard<'a, 'o, S> {
    me: usize,
    n: usize,
    source: S,
    pipeline: Pipeline,
    exporter: Box<dyn Exporter + Send>,
    writer: &'a Mutex<Combined<'o>>,
    to_writer: mpsc::Sender<ToWriter>,
    notices: mpsc::Receiver<Notice>,
    starts_to: Vec<mpsc::Sender<Vec<u64>>>,
    starts_from: Vec<mpsc::Receiver<Vec<u64>>>,
    /// Lists of starts the others sent, emptied: this shard's go out in
    /// them. (Each list stays in use, going back and forth: a list freed by
    /// the shard that did not allocate it waited for that shard's malloc
    /// arena, and made its malloc wait.)
    lists: Vec<Vec<u64>>,
    /// The others' starts received ahead of the numbering, by sender.
    ready: Vec<Option<Vec<u64>>>,
    control: &'a Control<'a>,
    progress: Option<&'a Progress>,
    report: Report,
    /// Released, in order, to be written once numbered.
    #[allow(clippy::vec_box)]
    released: VecDeque<Box<Connection>>,
    /// The writer has played the frames before this one.
    simulated: u64,
    all_released: bool,
    /// Started in this epoch: frame, id here.
    starts: Vec<(u64, ConnId)>,
    /// The last epoch's, numbered at the end of this one.
    prev_starts: Option<Vec<(u64, ConnId)>>,
    /// Ids here up to this one are numbered.
    numbered: ConnId,
    /// The ids connections are written with, by their ids here.
    numbers: Numbers,
    /// Connections started, across shards, before the epoch numbered next.
    base: u64,
    open_cap: usize,
    #[allow(clippy::vec_box)]
    spent: Vec<Box<Connection>>,
    /// Connections started here and added to the progress line.
    reported: u64,
    /// Buffers the writer gave back.
    buffers: Vec<String>,
    /// Lists of frame times the writer gave back.
    stamp_lists: Vec<Vec<Timestamp>>,
    /// Buffers at the writer.
    out: usize,
    /// Frames per epoch.
    epoch: u64,
}

impl<S: Skim> Shard<'_, '_, S> {
    fn run(mut self) {
        let _ = self.read();
    }

    fn read(&mut self) -> Result<(), Gone> {
        let mut frame_no = 0u64;
        let mut epoch = 0u64;
        // Whether this shard keeps the times of this epoch's frames.
        let mut stamping = self.stamping(epoch);
        let error = loop {
            if frame_no == (epoch + 1) * self.epoch {
                self.close_epoch(frame_no, false)?;
                if self.control.abort.load(Ordering::Relaxed) {
                    return Err(Gone);
                }
                self.keep_up(frame_no)?;
                epoch += 1;
                if !self.control.begin(epoch) {
                    break None;
                }
                stamping = self.stamping(epoch);
            }
            // Most frames are plainly another shard's: passed over in a tight
            // loop (their time kept), up to the next tick or epoch. The one it
            // stops at is read there.
            let until = ((frame_no / TICK + 1) * TICK).min((epoch + 1) * self.epoch);
            let (me, n, stamps) = (self.me, self.n, &mut self.report.stamps);
            // Whose the frame it stopped at plainly is, if anyone's.
            let mut stopped = None;
            let (skipped, found) = self.source.skim(until - frame_no, |frame| {
                let owner = place::plain_shard(frame, n);
                if owner.is_none_or(|o| o == me) {
                    stopped = owner;
                    return false;
                }
                if stamping {
                    stamps.push(frame.ts);
                }
                true
            });
            frame_no += skipped;
            // (No tick falls among the frames passed over before a frame is
            // found: they end short of `until`.)
            let (frame, plain) = match found {
                Some(frame) => (frame, stopped),
                None if skipped > 0 => {
                    self.tick(frame_no);
                    continue;
                }
                None => {
                    // A recording's kernel changes need the one tracker.
                    // (Only pcapng holds them, and `skim` reads only pcap.)
                    if !self.source.take_kernel().is_empty() {
                        self.unshardable(frame_no, Unshardable::Kernel);
                    }
                    match self.source.next_frame() {
                        Ok(Next::Frame(frame)) => {
                            // Most segments are plain: whose they are is known
                            // without decoding them whole.
                            let plain = place::plain_shard(&frame, self.n);
                            (frame, plain)
                        }
                        Ok(Next::End) => break None,
                        Ok(Next::Idle) => continue,
                        Err(e) => break Some(e),
                    }
                }
            };
            let ts = frame.ts;
            if stamping {
                self.report.stamps.push(ts);
            }
            if plain.is_some_and(|owner| owner != self.me) {
                frame_no += 1;
                self.tick(frame_no);
                continue;
            }
            let decoded = decode::decode(&frame);
            let fragment = decoded == Err(DecodeError::Ipv4Fragment);
            let owner = plain.unwrap_or_else(|| match &decoded {
                Ok(Some(seg)) => place::shard_of(seg, self.n),
                // Below n: fits.
                _ => (frame_no % self.n as u64) as usize,
            });
            if owner == self.me {
                // A datagram's fragments need the one reassembler, and an
                // ICMP error may quote a connection written already.
                if fragment {
                    self.report.unshardable.get_or_insert((frame_no, Unshardable::Fragment));
                } else if matches!(&decoded, Ok(Some(seg)) if seg.icmp.is_some()) {
                    self.report.unshardable.get_or_insert((frame_no, Unshardable::Icmp));
                }
                let push = if fragment {
                    self.pipeline.frame(&frame)
                } else {
                    match self.pipeline.counted(&decoded) {
                        Some(seg) => Some(self.track(frame_no, seg)?),
                        None => None,
                    }
                };
                if let Some(push) = push {
                    self.tracked(frame_no, ts, push);
                }
                if self.pipeline.tracker.open() > self.open_cap {
                    self.unshardable(frame_no, Unshardable::Open);
                }
            }
            frame_no += 1;
            self.tick(frame_no);
        };
        // The end: the writer releases everything; what is open is written last.
        self.close_epoch(frame_no, true)?;
        let last = self.prev_starts.take().unwrap_or_default();
        self.number(&last)?;
        while !self.all_released {
            let notice = self.notices.recv().map_err(|_| Gone)?;
            self.take_released(notice);
        }
        self.write_released(true)?;
        let mut bytes = String::new();
        let mut open = Vec::new();
        for conn in self.pipeline.tracker.open_connections() {
            let mut conn = conn.clone();
            conn.id = self.numbers.get(conn.id).unwrap_or(conn.id);
            let from = bytes.len();
            self.exporter.append(&conn, &mut bytes);
            open.push((conn.id, from..bytes.len()));
        }
        let counters = std::mem::take(&mut self.pipeline.counters);
        let started = self.pipeline.tracker.started();
        let last = Last { open, bytes, counters, started, error };
        self.send(ToWriter::Last(self.me, last))
    }

    /// Whether this shard keeps the times of epoch `epoch`'s frames for the
    /// writer (the shards take turns, so that they do as much). Its report
    /// then makes room for them.
    fn stamping(&mut self, epoch: u64) -> bool {
        let mine = epoch % self.n as u64 == self.me as u64;
        if mine && self.report.stamps.capacity() == 0 {
            match self.stamp_lists.pop() {
                Some(list) => self.report.stamps = list,
                None => self.report.stamps.reserve(usize::try_from(self.epoch).unwrap_or(0).min(EPOCH as usize)),
            }
        }
        mine
    }

    /// Every [`TICK`] frames: the progress line, and what the writer released.
    fn tick(&mut self, frame_no: u64) {
        if frame_no.is_multiple_of(TICK) {
            if self.me == 0
                && let Some(p) = self.progress
            {
                p.frames.store(frame_no, Ordering::Relaxed);
            }
            self.poll();
            // Buffers may have come back: what waited for one is written.
            let _ = self.write_released(false);
        }
    }

    fn unshardable(&mut self, frame_no: u64, why: Unshardable) {
        self.report.unshardable.get_or_insert((frame_no, why));
    }

    /// Notes what a tracked segment did: a connection started, or ended.
    fn tracked(&mut self, frame_no: u64, ts: Timestamp, push: Push) {
        if push.started {
            self.starts.push((frame_no, push.id));
        }
        if push.ended || push.superseded.is_some() || push.expired.is_some() {
            for id in push.finished() {
                let last = self.pipeline.tracker.get(id).map_or(ts, Connection::last);
                self.report.ends.push((frame_no, last, id));
            }
        }
    }

    /// Tracks segment `seg`, of frame `frame_no`. One for a connection that
    /// has ended is that connection's if the connection was not released
    /// before this frame, else it starts anew (it finds the tuple free): the
    /// shard waits until the writer has played the frames before it.
    fn track(&mut self, frame_no: u64, seg: &Segment) -> Result<Push, Gone> {
        let route = self.pipeline.tracker.route(seg);
        let Some(id) = route.after_end() else { return Ok(self.pipeline.tracker.push_routed(seg, route)) };
        self.publish(frame_no)?;
        while self.simulated < frame_no && !self.all_released {
            let notice = self.notices.recv().map_err(|_| Gone)?;
            self.take_released(notice);
        }
        // Released (taken from the tracker) or not: routed again.
        let released = !self.pipeline.tracker.get(id).is_some_and(|c| c.ended);
        let push = self.pipeline.track(seg);
        if !released {
            let last = self.pipeline.tracker.get(id).map_or(seg.ts, Connection::last);
            self.report.lates.push((id, frame_no, last));
        }
        Ok(push)
    }

    /// Hands the writer a message, and plays and writes what it lets.
    ///
    /// A shard never waits for another to be done with the writer (that
    /// was most of its waits): the message goes to the writer's inbox, and
    /// whichever shard holds the writer takes it. Whoever lets the writer go
    /// looks again for messages sent meanwhile: with a fence on each side,
    /// either the sender sees the writer free, or the one that let it go sees
    /// the message counted.
    fn send(&self, message: ToWriter) -> Result<(), Gone> {
        let pending = &self.control.pending;
        self.to_writer.send(message).map_err(|_| Gone)?;
        pending.fetch_add(1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        loop {
            let mut combined = match self.writer.try_lock() {
                Ok(combined) => combined,
                Err(TryLockError::WouldBlock) => return Ok(()),
                Err(TryLockError::Poisoned(_)) => return Err(Gone),
            };
            let taken = combined.drain(self.control);
            let failed = combined.failed();
            drop(combined);
            fence(Ordering::SeqCst);
            if failed {
                return Err(Gone);
            }
            if pending.load(Ordering::SeqCst) == 0 {
                return Ok(());
            }
            if taken == 0 {
                // Counted, not yet taken: a sender between its two steps.
                std::thread::yield_now();
            }
        }
    }

    /// Sends the writer what was read before frame `through`.
    fn publish(&mut self, through: u64) -> Result<(), Gone> {
        let mut report = Report::new(self.me, self.epoch);
        std::mem::swap(&mut report, &mut self.report);
        // What this shard cannot follow stays so.
        self.report.unshardable = report.unshardable;
        report.through = through;
        self.send(ToWriter::Report(report))
    }

    /// Waits, when the writer has played fewer than all but [`LAG`] epochs
    /// of what this shard read: connections wait in the tracker until the
    /// writer releases them, and it plays only what every shard has
    /// reported, so a shard ahead of another would otherwise let them pile up.
    fn keep_up(&mut self, frame_no: u64) -> Result<(), Gone> {
        while !self.all_released && frame_no.saturating_sub(self.simulated) > LAG * self.epoch {
            let notice = self.notices.recv().map_err(|_| Gone)?;
            self.take_released(notice);
        }
        Ok(())
    }

    /// Takes what the writer has released so far, without waiting.
    fn poll(&mut self) {
        while let Ok(notice) = self.notices.try_recv() {
            self.take_released(notice);
        }
    }

    fn take_released(&mut self, notice: Notice) {
        // Released connections ended a second ago or more: cold. Each one's
        // struct starts loading a few places ahead of its turn.
        for (i, &id) in notice.released.iter().enumerate() {
            if let Some(next) = notice.released.get(i + 2 * AHEAD).and_then(|&n| self.pipeline.tracker.get(n)) {
                crate::os::prefetch::prefetch(next);
            }
            if let Some(conn) = self.pipeline.tracker.take(id) {
                self.released.push_back(conn);
            }
        }
        self.simulated = self.simulated.max(notice.through);
        self.all_released |= notice.all;
        self.out -= notice.buffers.len().min(self.out);
        self.buffers.extend(notice.buffers);
        self.stamp_lists.extend(notice.stamps);
    }

    /// Ends an epoch at frame `frame_no`: reports it, sends its starts to the
    /// others, numbers the one before, and writes what is numbered.
    fn close_epoch(&mut self, frame_no: u64, ended: bool) -> Result<(), Gone> {
        for to in &self.starts_to {
            // Room for most epochs' starts at once (a connection is ~10 frames).
            let mut list = self.lists.pop().unwrap_or_else(|| Vec::with_capacity(EPOCH as usize / 4));
            list.extend(self.starts.iter().map(|s| s.0));
            to.send(list).map_err(|_| Gone)?;
        }
        if let Some(p) = self.progress {
            let started = self.pipeline.tracker.started();
            p.connections.fetch_add(started - self.reported, Ordering::Relaxed);
            self.reported = started;
        }
        self.report.ended = ended;
        let starts = std::mem::take(&mut self.starts);
        let mut reported = false;
        if let Some(prev) = self.prev_starts.replace(starts) {
            // A shard never waits with its progress unreported (the writer
            // plays only what every shard has reported). Most often the
            // others' starts are in: the report then goes after the
            // numbering, with the buffers it let be written (one message, one
            // turn of the writer, where a buffer was one each).
            if !self.others_ready() {
                self.publish(frame_no)?;
                reported = true;
            }
            self.number(&prev)?;
        }
        self.poll();
        self.write_released(false)?;
        if reported { self.send_written() } else { self.publish(frame_no) }
    }

    /// Whether every other shard's starts for the epoch numbered next are in.
    fn others_ready(&mut self) -> bool {
        for (from, ready) in self.starts_from.iter().zip(&mut self.ready) {
            if ready.is_none() {
                *ready = from.try_recv().ok();
            }
        }
        self.ready.iter().all(Option::is_some)
    }

    /// Numbers an epoch's connections from everyone's starts.
    fn number(&mut self, own: &[(u64, ConnId)]) -> Result<(), Gone> {
        let mut others = Vec::with_capacity(self.starts_from.len());
        for (from, ready) in self.starts_from.iter().zip(&mut self.ready) {
            others.push(match ready.take() {
                Some(list) => list,
                None => from.recv().map_err(|_| Gone)?,
            });
        }
        let mut seen = vec![0usize; others.len()];
        for (rank, &(frame, id)) in (1u64..).zip(own) {
            let mut before = 0;
            for (list, seen) in others.iter().zip(&mut seen) {
                while list.get(*seen).is_some_and(|&f| f < frame) {
                    *seen += 1;
                }
                before += *seen as u64;
            }
            self.numbers.set(id, self.base + rank + before);
            self.numbered = id;
        }
        self.base += own.len() as u64 + others.iter().map(|l| l.len() as u64).sum::<u64>();
        self.lists.extend(others.into_iter().map(|mut list| {
            list.clear();
            list
        }));
        Ok(())
    }

    /// Writes the released connections that are numbered, in order.
    /// Buffers of at most about [`BUFFER`] bytes go to the writer, and at
    /// most [`BUFFERS`] are out at a time. Past that, the rest waits for the
    /// writer to give one back: until then the shard reads on (the others
    /// may be waiting for its starts), or at the end (`wait`) it waits (the
    /// writer writes in order, and the next it needs is then in a buffer it
    /// holds).
    fn write_released(&mut self, wait: bool) -> Result<(), Gone> {
        while self.released.front().is_some_and(|conn| conn.id <= self.numbered) {
            while self.out >= BUFFERS {
                // Out of buffers: those not sent yet go now, so that the
                // writer can give them back (released connections wait for
                // one, unformatted: ~1 KiB each). The writer writes in
                // order: the buffer it needs next is then one it has.
                self.send_written()?;
                if !wait {
                    return Ok(());
                }
                let notice = self.notices.recv().map_err(|_| Gone)?;
                self.take_released(notice);
            }
            let mut bytes = self.buffers.pop().unwrap_or_else(|| String::with_capacity(BUFFER));
            // About as many as a buffer holds (~2 KiB each): grown seldom.
            let mut conns = Vec::with_capacity(BUFFER / 2_048);
            // Short of the capacity by what most connections take: the buffer
            // is seldom grown.
            while bytes.len() < BUFFER
                && let Some(conn) = self.released.front()
                && conn.id <= self.numbered
            {
                let Some(mut conn) = self.released.pop_front() else { break };
                // Formatted next: the records of those a few places on.
                if let Some(next) = self.released.get(AHEAD) {
                    crate::os::prefetch::prefetch(next.records.as_slice());
                }
                if let Some(next) = self.released.get(2 * AHEAD) {
                    crate::os::prefetch::prefetch(&**next);
                }
                conn.id = self.numbers.take(conn.id).unwrap_or(conn.id);
                let from = bytes.len();
                self.exporter.append(&conn, &mut bytes);
                conns.push(from..bytes.len());
                self.spent.push(conn);
            }
            self.pipeline.tracker.recycle(&mut self.spent);
            self.out += 1;
            // Sent with the next report: a message of its own woke the writer
            // (a context switch) for every buffer.
            self.report.written.push((conns, bytes));
            if wait {
                // But at the end, every buffer goes at once: the shards
                // format what the end released side by side, and the writer
                // gives buffers back as it writes them. (Sent when all were
                // full, the shards took turns: one formatted while the other
                // waited for a buffer.)
                self.send_written()?;
                self.poll();
            }
        }
        if wait {
            self.send_written()?;
        }
        Ok(())
    }

    /// Sends the buffers written since the last report now.
    fn send_written(&mut self) -> Result<(), Gone> {
        if self.report.written.is_empty() {
            return Ok(());
        }
        let written = std::mem::take(&mut self.report.written);
        self.send(ToWriter::Written(self.me, written))
    }
}

/// The ids a shard's connections are written with (their place across the
/// capture), by their ids in the shard: those are handed out in order and
/// numbered in that order, so a deque from the oldest not yet written on
/// finds each one (the connections written are emptied, and trimmed from
/// the front).
#[derive(Default)]
struct Numbers {
    /// From the connection with id `first` on; 0: written.
    ids: VecDeque<ConnId>,
    first: ConnId,
}

impl Numbers {
    /// Connection `id`, the one after the last numbered, is written as `number`.
    fn set(&mut self, id: ConnId, number: ConnId) {
        if self.ids.is_empty() {
            self.first = id;
        }
        debug_assert_eq!(id, self.first + self.ids.len() as ConnId);
        self.ids.push_back(number);
    }

    /// The id connection `id` is written with, once numbered.
    fn get(&self, id: ConnId) -> Option<ConnId> {
        let at = usize::try_from(id.checked_sub(self.first)?).ok()?;
        self.ids.get(at).copied().filter(|&n| n != 0)
    }

    /// [`Numbers::get`], for the last time: connection `id` is written.
    fn take(&mut self, id: ConnId) -> Option<ConnId> {
        let at = usize::try_from(id.checked_sub(self.first)?).ok()?;
        let number = std::mem::take(self.ids.get_mut(at)?);
        while self.ids.front() == Some(&0) {
            self.ids.pop_front();
            self.first += 1;
        }
        (number != 0).then_some(number)
    }
}

/// What the writer knows of a shard.
#[derive(Default)]
struct View {
    through: u64,
    ends: VecDeque<(u64, Timestamp, ConnId)>,
    lates: VecDeque<(ConnId, u64, Timestamp)>,
    unshardable: Option<(u64, Unshardable)>,
    ended: bool,
    /// Connections written by the shard and not yet by the writer: bytes,
    /// in which buffer.
    written: VecDeque<(Range<usize>, usize)>,
    /// Their buffers, by number (the first at `first`).
    buffers: VecDeque<String>,
    first: usize,
    last: Option<Last>,
    /// Released connections to tell the shard of.
    released: Vec<ConnId>,
    /// Buffers written out, to give back.
    emptied: Vec<String>,
    /// The times of the frames of its epochs, from `played` on.
    stamps: Stamps,
}

/// The times of a shard's frames, in the lists it sent them in (not copied
/// into one queue): read from the front, and the lists read through go back
/// to the shard to be filled again.
#[derive(Default)]
struct Stamps {
    lists: VecDeque<Vec<Timestamp>>,
    /// Read up to here in the first list.
    at: usize,
    /// How many are left to read.
    len: usize,
    /// Lists read through, emptied.
    spent: Vec<Vec<Timestamp>>,
}

impl Stamps {
    fn push(&mut self, list: Vec<Timestamp>) {
        if list.is_empty() {
            if list.capacity() > 0 {
                self.spent.push(list);
            }
            return;
        }
        self.len += list.len();
        // (`at` is 0 whenever no list is left: `skip` resets it.)
        self.lists.push_back(list);
    }

    /// How many of the next `upto` times come before the first at or after
    /// `due` (`upto` if none does).
    fn before(&self, upto: usize, due: Timestamp) -> usize {
        let mut seen = 0;
        let mut at = self.at;
        for list in &self.lists {
            let part = &list[at..list.len().min(at + (upto - seen))];
            if let Some(i) = part.iter().position(|t| t.0 >= due.0) {
                return seen + i;
            }
            seen += part.len();
            if seen == upto {
                break;
            }
            at = 0;
        }
        seen
    }

    /// Passes over the next `n` times (at most as many as are left).
    fn skip(&mut self, mut n: usize) {
        n = n.min(self.len);
        self.len -= n;
        while n > 0 {
            let Some(first) = self.lists.front() else { break };
            let here = (first.len() - self.at).min(n);
            self.at += here;
            n -= here;
            if self.at == first.len()
                && let Some(mut list) = self.lists.pop_front()
            {
                list.clear();
                self.spent.push(list);
                self.at = 0;
            }
        }
    }

    fn pop_front(&mut self) -> Option<Timestamp> {
        let first = self.lists.front()?;
        let t = *first.get(self.at)?;
        if self.at + 1 < first.len() {
            self.at += 1;
            self.len -= 1;
        } else {
            self.skip(1);
        }
        Some(t)
    }
}

/// The writer: plays one thread's queue of ended connections over the
/// shards' reports, tells them what is released, and writes it in order.
struct Writer {
    views: Vec<View>,
    notices: Vec<mpsc::Sender<Notice>>,
    limits: Limits,
    /// Frames per epoch: whose the times of a frame are.
    epoch: u64,
    /// The end of the epoch being played, and the shard that has the times
    /// of its frames.
    boundary: u64,
    turn: usize,
    /// Frames played.
    played: u64,
    /// Ended, not yet released: shard, id there. The one thread's queue.
    queue: Queue<(usize, ConnId)>,
    /// Released, to be written in this order: by which shard.
    order: VecDeque<usize>,
    written: u64,
    all_released: bool,
}

impl Writer {
    fn new(n: usize, limits: Limits, epoch: u64, notices: Vec<mpsc::Sender<Notice>>) -> Writer {
        Writer {
            views: (0..n).map(|_| View::default()).collect(),
            notices,
            limits,
            epoch,
            boundary: epoch,
            turn: 0,
            played: 0,
            queue: Queue::new(&limits),
            order: VecDeque::new(),
            written: 0,
            all_released: false,
        }
    }

    /// Takes a shard's message, plays and writes what it lets: the run's
    /// end once it has ended.
    fn take(&mut self, message: ToWriter, out: &mut dyn Write) -> Option<Result<Sharded, RunError>> {
        match message {
            ToWriter::Report(mut r) => {
                self.take_written(r.shard, std::mem::take(&mut r.written));
                let v = &mut self.views[r.shard];
                v.through = r.through;
                v.ends.extend(r.ends);
                v.lates.extend(r.lates);
                v.unshardable = v.unshardable.or(r.unshardable);
                v.ended |= r.ended;
                v.stamps.push(r.stamps);
            }
            ToWriter::Written(s, written) => self.take_written(s, written),
            ToWriter::Last(s, last) => self.views[s].last = Some(last),
        }
        if let Err((frame, why)) = self.play() {
            return Some(Ok(Sharded::Redo { written: self.written, frame, why }));
        }
        if let Err(e) = self.write(out) {
            return Some(Err(e));
        }
        if self.all_released && self.order.is_empty() && self.views.iter().all(|v| v.last.is_some()) {
            return Some(self.finish(out));
        }
        None
    }

    /// Takes shard `s`'s buffers of written connections.
    fn take_written(&mut self, s: usize, written: Vec<Written>) {
        let v = &mut self.views[s];
        for (conns, bytes) in written {
            let number = v.first + v.buffers.len();
            v.written.extend(conns.into_iter().map(|range| (range, number)));
            v.buffers.push_back(bytes);
        }
    }

    /// Plays the frames every shard has reported; the frame from which the
    /// shards cannot follow their connections apart, and why, when they met one.
    fn play(&mut self) -> Result<(), (u64, Unshardable)> {
        let through = self.views.iter().map(|v| v.through).min().unwrap_or(0);
        let stop = self
            .views
            .iter()
            .filter_map(|v| v.unshardable)
            .min_by_key(|u| u.0)
            .unwrap_or((u64::MAX, Unshardable::Lost));
        // A shard's reports fall short of what it said it read: it stopped.
        let lost = |played| (played, Unshardable::Lost);
        let before = self.played;
        while self.played < through {
            // The next frame that ends a connection or takes a late segment:
            // the frames before it can only release by time.
            let mut event = through.min(stop.0);
            for v in &self.views {
                if let Some(e) = v.ends.front() {
                    event = event.min(e.0);
                }
                if let Some(l) = v.lates.front() {
                    event = event.min(l.1);
                }
            }
            while self.played < event {
                // Frames up to the event can only release the oldest waiting
                // connection, and only once its time has come: skip to the
                // first frame where it has (within an epoch: one shard has
                // its frames' times).
                let upto = event.min(self.boundary);
                let left = usize::try_from(upto - self.played).unwrap_or(usize::MAX);
                let stamps = &mut self.views[self.turn].stamps;
                if stamps.len < left {
                    return Err(lost(self.played));
                }
                let skip = self.queue.due_from().map_or(left, |due| stamps.before(left, due));
                stamps.skip(skip);
                if skip < left {
                    let Some(now) = stamps.pop_front() else { return Err(lost(self.played)) };
                    self.step(skip as u64 + 1);
                    self.release(Some(now));
                } else {
                    self.step(skip as u64);
                }
            }
            if self.played == through {
                break;
            }
            let frame = self.played;
            if frame >= stop.0 {
                return Err(stop);
            }
            let Some(now) = self.views[self.turn].stamps.pop_front() else { return Err(lost(frame)) };
            for (s, v) in self.views.iter_mut().enumerate() {
                while let Some(&(id, at, last)) = v.lates.front()
                    && at == frame
                {
                    v.lates.pop_front();
                    self.queue.late((s, id), last);
                }
            }
            for (s, v) in self.views.iter_mut().enumerate() {
                while let Some(&(end, last, id)) = v.ends.front()
                    && end == frame
                {
                    v.ends.pop_front();
                    self.queue.ended((s, id), last);
                }
            }
            // One thread would drop the oldest unwritten finished connection here.
            if self.queue.len() > self.limits.finished {
                return Err((frame, Unshardable::Finished));
            }
            self.release(Some(now));
            self.step(1);
        }
        if self.views.iter().all(|v| v.ended) && self.played == through && !self.all_released {
            self.release(None);
            self.all_released = true;
        } else if self.played == before {
            return Ok(());
        }
        for (v, to) in self.views.iter_mut().zip(&self.notices) {
            let released = std::mem::take(&mut v.released);
            let buffers = std::mem::take(&mut v.emptied);
            let stamps = std::mem::take(&mut v.stamps.spent);
            // A shard that has gone is the run's end; it is seen elsewhere.
            let _ = to.send(Notice { through: self.played, released, all: self.all_released, buffers, stamps });
        }
        Ok(())
    }

    /// Plays on `frames` frames, to the end of the epoch at most.
    fn step(&mut self, frames: u64) {
        self.played += frames;
        if self.played == self.boundary {
            self.boundary += self.epoch;
            self.turn = (self.turn + 1) % self.views.len();
        }
    }

    /// Releases, oldest first, the connections whose wait is over at `now`
    /// (all with `None`) or that are too many.
    fn release(&mut self, now: Option<Timestamp>) {
        while let Some((s, id)) = self.queue.pop_due(now, |_| None) {
            self.order.push_back(s);
            self.views[s].released.push(id);
        }
    }

    /// Writes the released connections, in order, as far as their shards
    /// have written them: straight from the shards' buffers, up to
    /// [`SLICES`] at a time.
    fn write(&mut self, out: &mut dyn Write) -> Result<(), RunError> {
        loop {
            // Where the next connections are: shard, buffer, bytes.
            let mut next = Vec::new();
            let mut taken = vec![0usize; self.views.len()];
            for &s in self.order.iter().take(SLICES) {
                let Some((range, number)) = self.views[s].written.get(taken[s]) else { break };
                next.push((s, *number, range.clone()));
                taken[s] += 1;
            }
            if next.is_empty() {
                return Ok(());
            }
            let mut slices: Vec<IoSlice<'_>> = next
                .iter()
                .map(|(s, number, range)| {
                    let v = &self.views[*s];
                    IoSlice::new(&v.buffers[number - v.first].as_bytes()[range.clone()])
                })
                .collect();
            write_all_vectored(out, &mut slices).map_err(RunError::Output)?;
            for (v, taken) in self.views.iter_mut().zip(taken) {
                v.written.drain(..taken);
                // A buffer goes back once everything in it is written.
                while !v.buffers.is_empty() && v.written.front().is_none_or(|w| w.1 > v.first) {
                    if let Some(mut b) = v.buffers.pop_front() {
                        b.clear();
                        v.emptied.push(b);
                    }
                    v.first += 1;
                }
            }
            self.order.drain(..next.len());
            self.written += next.len() as u64;
            for (v, to) in self.views.iter_mut().zip(&self.notices) {
                if !v.emptied.is_empty() {
                    let buffers = std::mem::take(&mut v.emptied);
                    let released = std::mem::take(&mut v.released);
                    let stamps = std::mem::take(&mut v.stamps.spent);
                    // A shard that has gone is the run's end; it is seen elsewhere.
                    let _ = to.send(Notice { through: self.played, released, all: self.all_released, buffers, stamps });
                }
            }
        }
    }

    /// The connections still open, by id, and what was counted.
    fn finish(&mut self, out: &mut dyn Write) -> Result<Sharded, RunError> {
        let mut counters = Counters::default();
        let mut error = None;
        let mut started = 0;
        let mut open: Vec<(ConnId, &[u8])> = Vec::new();
        for v in &mut self.views {
            if let Some(l) = &mut v.last {
                counters.add(&l.counters);
                started += l.started;
                error = error.or(l.error.take());
            }
        }
        for l in self.views.iter().filter_map(|v| v.last.as_ref()) {
            open.extend(l.open.iter().map(|(id, r)| (*id, &l.bytes.as_bytes()[r.clone()])));
        }
        open.sort_unstable_by_key(|(id, _)| *id);
        for (_, bytes) in open {
            out.write_all(bytes).map_err(RunError::Output)?;
        }
        Ok(Sharded::Done { counters, started, error })
    }
}

#[cfg(test)]
mod tests {
    use super::heap_for;

    #[test]
    fn the_heap_made_ready_follows_each_shards_share_of_the_file_up_to_a_cap() {
        // The benchmark capture, two shards: ~10 MiB each.
        assert_eq!(heap_for(85_600_024, 2), 85_600_024 / 8);
        // A small file: next to nothing; none for none (and no shards).
        assert_eq!(heap_for(4_000, 2), 500);
        assert_eq!(heap_for(0, 2), 0);
        assert_eq!(heap_for(4_000, 0), 1_000);
        // A large one: capped.
        assert_eq!(heap_for(10 << 30, 2), 12 << 20);
    }
}
