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
//! - When a connection is written. That is the release queue's rule
//!   ([`super::release`]), and depends on every connection: the shards
//!   report each connection's end (and each late segment), and the writer
//!   runs the one thread's queue frame by frame over the frames' times and
//!   tells each shard which of its connections are released, and after
//!   which frame. The writer has no thread of its own: a shard that reports
//!   runs it, under a lock, or leaves its report to the shard that holds it
//!   (`Combined`).
//! - Late segments. A segment for a connection that has ended belongs to it
//!   only if it was not written yet: the shard waits until the writer has
//!   played the frames before it, then knows.
//! - Order. The writer writes connections in the order they were released,
//!   and the ones still open at the end by id. A shard formats its released
//!   connections into buffers, sent with its report at the end of an epoch
//!   (one message a shard an epoch: each takes the writer's lock).
//!
//! What a shard cannot follow alone ([`Unshardable`]) stops the split at the
//! frame it is met. The run then says how many connections it wrote, and the
//! caller reads the file again on one tracking thread, passing over those.
//! The output is the same either way.

pub mod place;
mod shard;
mod writer;

use self::shard::{Link, Numbering, Output, Peers, Shard};
use self::writer::Writer;

use std::io::{self, IoSlice, Write};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, mpsc};

use super::headless::{Progress, RunError};
use super::input::Skim;
use crate::capture::SourceError;
use crate::export::Exporter;
use crate::model::segment::Timestamp;
use crate::model::tracker::{self, ConnId, Limits};
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
    /// An IP fragment: its datagram needs the one reassembler.
    Fragment,
    /// An ICMP error: it may quote a connection written already.
    Icmp,
    /// A recording's kernel changes or socket calls: they need the one tracker.
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
            Unshardable::Fragment => "an IP fragment (its datagram needs the one reassembler)",
            Unshardable::Icmp => "an ICMP error (it may quote a connection written already)",
            Unshardable::Kernel => "a recording's kernel changes or socket calls (they need the one tracker)",
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
    let (notices, receivers_of_notices): (Vec<_>, Vec<_>) = (0..n).map(|_| mpsc::channel()).unzip();
    let writer = Mutex::new(Combined {
        writer: Writer::new(n, shards.limits, shards.epoch.max(1), notices),
        out,
        done: None,
        inbox,
    });
    let (senders, receivers) = starts_channels(n);
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
            let link = Link {
                writer: &writer,
                to_writer: to_writer.clone(),
                notices,
                control: &control,
                progress: shards.progress,
                counted: 0,
            };
            let peers =
                Peers { to: starts_to, from: starts_from, lists: Vec::new(), ready: (1..n).map(|_| None).collect() };
            let shard = Shard {
                me,
                n,
                epoch_len: shards.epoch.max(1),
                source,
                pipeline,
                exporter: (shards.make)(),
                open_cap,
                link,
                peers,
                ids: Numbering::default(),
                report: Report::new(me, shards.epoch.max(1)),
                out: Output::default(),
                played: 0,
                all_released: false,
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

/// A channel from each shard to each other one, for the frames its
/// connections started at: each shard's senders (to the others, in order)
/// and receivers (from the others, in order).
#[allow(clippy::type_complexity)]
fn starts_channels(n: usize) -> (Vec<Vec<mpsc::Sender<Vec<u64>>>>, Vec<Vec<mpsc::Receiver<Vec<u64>>>>) {
    let mut senders: Vec<Vec<_>> = (0..n).map(|_| Vec::new()).collect();
    let mut receivers: Vec<Vec<_>> = (0..n).map(|_| Vec::new()).collect();
    for (from, to) in (0..n).flat_map(|from| (0..n).filter(move |&to| to != from).map(move |to| (from, to))) {
        let (tx, rx) = mpsc::channel();
        senders[from].push(tx);
        receivers[to].push(rx);
    }
    (senders, receivers)
}

/// The writer and where it writes. It has no thread of its own (a third
/// thread on two cores would take turns with a shard, woken by every report): the
/// shard that sends it a message runs it, or, when another shard holds it,
/// that one takes the message (`Shard::send`).
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
