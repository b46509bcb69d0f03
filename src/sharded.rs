//! `trace --read FILE --threads N`: the connections of a capture file split
//! between N threads by tuple, and written exactly as one thread writes them.
//!
//! Each thread (a shard) maps the file and reads every frame. It decodes
//! each one, tracks the segments whose tuple falls to it
//! ([`crate::model::tracker::shard_of`]: both directions and the ICMP errors
//! quoting them alike), counts the frames that are no segment by their
//! number, and moves the waits of its ended connections on with every
//! frame's time. Only what one thread would know across all connections is
//! exchanged, once per epoch of [`EPOCH`] frames:
//!
//! - Ids. One thread numbers connections in the order they start. Each shard
//!   sends the others the frames its connections started at, and numbers its
//!   own from everyone's, an epoch behind (before writing them).
//! - Order. One thread writes connections in the order they ended. The
//!   writer, the calling thread, merges the shards' epochs by end.
//! - Limits and waits. One thread's open and waiting connections are all the
//!   shards' together, and a connection that waits holds back those that
//!   ended after it. A shard alone does what one thread does as long as no
//!   limit is reached and nothing is written before a connection that ended
//!   earlier. The writer checks both for every epoch, conservatively: the
//!   most each shard had open and waiting in the epoch, added up; each
//!   connection written after all that ended before it, and not sooner.
//!
//! When a check fails, or the capture holds what a shard cannot follow alone
//! (IPv4 fragments, a recording's kernel changes), the shards stop and the run
//! says how many connections it wrote: the caller reads the file again with
//! one tracking thread and skips those. The output is the same either way.

use std::collections::{HashMap, VecDeque};
use std::io::{self, Write};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, mpsc};

use crate::capture::{FrameSource, Next, SourceError};
use crate::export::Exporter;
use crate::headless::{AFTER_CLOSE, Progress, RunError};
use crate::model::decode::{self, DecodeError};
use crate::model::segment::Timestamp;
use crate::model::tracker::{self, ConnId, Connection, Limits};
use crate::pipeline::{Counters, Pipeline};

/// Frames per epoch: what the shards exchange, and the writer checks, at a time.
pub const EPOCH: u64 = 8_192;

/// How a sharded run ended.
#[derive(Debug)]
pub enum Sharded {
    /// Every connection was written, the open ones last. What the frames
    /// counted, whether the run was interrupted, and the source's error if
    /// it broke (what came before it was written).
    Done { counters: Counters, stopped: bool, error: Option<SourceError> },
    /// The connections could not be followed apart from a point on: the
    /// first `written` were written, the rest must come from one tracking
    /// thread.
    Redo { written: u64 },
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
}

/// Runs the shards, and writes their connections to `out` in the order one
/// thread would.
///
/// # Errors
/// When the output cannot be written.
pub fn run<S: FrameSource + Send>(shards: Shards<'_, S>, out: &mut dyn Write) -> Result<Sharded, RunError> {
    let n = shards.sources.len().max(1);
    let control = Control { abort: AtomicBool::new(false), epochs: Mutex::new((0, None)), interrupted: shards.interrupted };
    let (to_writer, epochs) = mpsc::channel();
    // starts[from][to]: the frames `from`'s connections started at, for `to`.
    let mut senders: Vec<Vec<mpsc::Sender<Vec<u64>>>> = (0..n).map(|_| Vec::new()).collect();
    let mut receivers: Vec<Vec<mpsc::Receiver<Vec<u64>>>> = (0..n).map(|_| Vec::new()).collect();
    for (from, to) in (0..n).flat_map(|from| (0..n).filter(move |&to| to != from).map(move |to| (from, to))) {
        let (tx, rx) = mpsc::channel();
        senders[from].push(tx);
        receivers[to].push(rx);
    }
    std::thread::scope(|scope| {
        for (me, ((source, starts_to), starts_from)) in
            shards.sources.into_iter().zip(senders).zip(receivers).enumerate()
        {
            let shard = Shard {
                me,
                n,
                source,
                pipeline: Pipeline::new(shards.port, shards.limits),
                exporter: (shards.make)(),
                to_writer: to_writer.clone(),
                starts_to,
                starts_from,
                control: &control,
                progress: shards.progress,
                waiting: VecDeque::new(),
                released: Vec::new(),
                starts: Vec::new(),
                prev: None,
                globals: HashMap::new(),
                base: 0,
                most: Most::default(),
                unshardable: false,
                spent: Vec::new(),
                reported: 0,
            };
            std::thread::Builder::new()
                .name(format!("shard-{me}"))
                .spawn_scoped(scope, move || shard.run())
                .map_err(|e| RunError::Output(io::Error::new(e.kind(), format!("cannot start a thread: {e}"))))?;
        }
        drop(to_writer);
        let done = write(&epochs, n, shards.limits, out);
        // However it ended, the shards stop at their next epoch.
        control.abort.store(true, Ordering::Relaxed);
        drop(epochs);
        done
    })
}

/// What the shards share besides their channels.
struct Control<'a> {
    /// The writer is done with them (a check failed, or the output broke).
    abort: AtomicBool,
    /// The furthest epoch a shard has begun, and, once interrupted, the
    /// epoch none begins.
    epochs: Mutex<(u64, Option<u64>)>,
    interrupted: Option<&'a AtomicBool>,
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

/// The most open and waiting connections a shard had in an epoch.
#[derive(Clone, Copy, Debug, Default)]
struct Most {
    open: usize,
    waiting: usize,
}

/// One written connection of an epoch.
#[derive(Debug)]
struct Written {
    /// When it ended: its frame, times 4, plus its place among those the
    /// frame finished.
    end: u64,
    /// The frame it was released at (written after), `u64::MAX` at the end.
    at: u64,
    bytes: Range<usize>,
}

/// What a shard hands the writer for one epoch.
struct Epoch {
    shard: usize,
    conns: Vec<Written>,
    bytes: Vec<u8>,
    most: Most,
    /// The end of the oldest connection still waiting when the epoch ended.
    front: Option<u64>,
    unshardable: bool,
    last: Option<Last>,
}

/// A shard's last epoch: it also holds the connections still open.
struct Last {
    /// Global ids and bytes, in the epoch's buffer.
    open: Vec<(ConnId, Range<usize>)>,
    counters: Counters,
    stopped: bool,
    error: Option<SourceError>,
}

/// A connection released, to be written once its id is known.
struct Released {
    conn: Box<Connection>,
    end: u64,
    at: u64,
}

/// An epoch read, waiting for the others' starts to be numbered and written.
struct Pending {
    released: Vec<Released>,
    /// Frames its connections started at, with their ids here.
    starts: Vec<(u64, ConnId)>,
    most: Most,
    front: Option<u64>,
    unshardable: bool,
}

/// A peer or the writer has gone: the run is over for this shard.
struct Gone;

struct Shard<'a, S> {
    me: usize,
    n: usize,
    source: S,
    pipeline: Pipeline,
    exporter: Box<dyn Exporter + Send>,
    to_writer: mpsc::Sender<Epoch>,
    starts_to: Vec<mpsc::Sender<Vec<u64>>>,
    starts_from: Vec<mpsc::Receiver<Vec<u64>>>,
    control: &'a Control<'a>,
    progress: Option<&'a Progress>,
    /// Ended connections waiting out [`AFTER_CLOSE`]: id, last time then, end.
    waiting: VecDeque<(ConnId, Timestamp, u64)>,
    /// Released in this epoch.
    released: Vec<Released>,
    /// Started in this epoch: frame, id here.
    starts: Vec<(u64, ConnId)>,
    prev: Option<Pending>,
    /// Ids here to ids across the capture, for connections numbered and not
    /// yet written.
    globals: HashMap<ConnId, ConnId>,
    /// Connections started, across shards, before the epoch numbered next.
    base: u64,
    most: Most,
    unshardable: bool,
    #[allow(clippy::vec_box)]
    spent: Vec<Box<Connection>>,
    /// Connections started here and added to the progress line.
    reported: u64,
}

impl<S: FrameSource> Shard<'_, S> {
    fn run(mut self) {
        let mut frame_no = 0u64;
        let mut epoch = 0u64;
        let mut stopped = false;
        let error = loop {
            if frame_no == (epoch + 1) * EPOCH {
                if self.close_epoch().is_err() || self.control.abort.load(Ordering::Relaxed) {
                    return;
                }
                epoch += 1;
                if !self.control.begin(epoch) {
                    stopped = true;
                    break None;
                }
            }
            // A recording's kernel changes need the one tracker.
            if !self.source.take_kernel().is_empty() {
                self.unshardable = true;
            }
            let frame = match self.source.next_frame() {
                Ok(Next::Frame(frame)) => frame,
                Ok(Next::End) => break None,
                Ok(Next::Idle | Next::Decoded(..)) => continue,
                Err(e) => break Some(e),
            };
            let ts = frame.ts;
            let decoded = decode::decode(&frame);
            let fragment = decoded == Err(DecodeError::Ipv4Fragment);
            let n = self.n as u64;
            let owner = match &decoded {
                Ok(Some(seg)) => tracker::shard_of(seg, self.n),
                // Below n: fits.
                _ => (frame_no % n) as usize,
            };
            if owner == self.me {
                // A datagram's fragments need the one reassembler.
                self.unshardable |= fragment;
                let push = if fragment { self.pipeline.frame(&frame) } else { self.pipeline.decoded(&decoded) };
                if let Some(push) = push {
                    if push.started {
                        self.starts.push((frame_no, push.id));
                    }
                    if push.ended || push.superseded.is_some() || push.expired.is_some() {
                        for (i, id) in (0u64..).zip(push.finished()) {
                            let last = self.pipeline.tracker.get(id).map_or(ts, Connection::last);
                            self.waiting.push_back((id, last, frame_no * 4 + i));
                        }
                    }
                }
                self.most.open = self.most.open.max(self.pipeline.tracker.open());
                self.most.waiting = self.most.waiting.max(self.waiting.len());
            }
            self.release(Some(ts), frame_no);
            frame_no += 1;
            if self.me == 0
                && let Some(p) = self.progress
                && frame_no.is_multiple_of(4_096)
            {
                p.frames.store(frame_no, Ordering::Relaxed);
            }
        };
        // The end: what waits is written now, then what is still open.
        self.release(None, u64::MAX);
        if self.close_epoch().is_err() {
            return;
        }
        let Some(pending) = self.prev.take() else { return };
        let counters = std::mem::take(&mut self.pipeline.counters);
        let _ = self.send(pending, Some((counters, stopped, error)));
    }

    /// Writes the connections whose wait is over at `now` (all with `None`)
    /// into this epoch's list, as released at frame `at`.
    fn release(&mut self, now: Option<Timestamp>, at: u64) {
        let after = u64::try_from(AFTER_CLOSE.as_nanos()).unwrap_or(u64::MAX);
        while let Some(&(id, ended, end)) = self.waiting.front() {
            if let Some(now) = now
                && now.0.saturating_sub(ended.0) < after
            {
                break;
            }
            let due = match (self.pipeline.tracker.get(id), now) {
                (Some(c), Some(now)) => now.0.saturating_sub(c.last().0) >= after,
                _ => true,
            };
            if !due {
                break;
            }
            self.waiting.pop_front();
            if let Some(conn) = self.pipeline.tracker.take(id) {
                self.released.push(Released { conn, end, at });
            }
        }
    }

    /// Ends an epoch: sends its starts to the others, and numbers and
    /// sends the one before.
    fn close_epoch(&mut self) -> Result<(), Gone> {
        let frames: Vec<u64> = self.starts.iter().map(|s| s.0).collect();
        for to in &self.starts_to {
            to.send(frames.clone()).map_err(|_| Gone)?;
        }
        let pending = Pending {
            released: std::mem::take(&mut self.released),
            starts: std::mem::take(&mut self.starts),
            most: self.most,
            front: self.waiting.front().map(|w| w.2),
            unshardable: self.unshardable,
        };
        // What is open and waiting now counts in the next epoch too.
        self.most = Most { open: self.pipeline.tracker.open(), waiting: self.waiting.len() };
        if let Some(p) = self.progress {
            let started = self.pipeline.tracker.started();
            p.connections.fetch_add(started - self.reported, Ordering::Relaxed);
            self.reported = started;
        }
        match self.prev.replace(pending) {
            Some(prev) => self.send(prev, None),
            None => Ok(()),
        }
    }

    /// Numbers an epoch's connections from everyone's starts, writes those
    /// it released (and with `last`, those still open), and hands them to
    /// the writer.
    fn send(&mut self, pending: Pending, last: Option<(Counters, bool, Option<SourceError>)>) -> Result<(), Gone> {
        let others: Vec<Vec<u64>> =
            self.starts_from.iter().map(mpsc::Receiver::recv).collect::<Result<_, _>>().map_err(|_| Gone)?;
        let mut seen = vec![0usize; others.len()];
        for (rank, &(frame, id)) in (1u64..).zip(&pending.starts) {
            let mut before = 0;
            for (list, seen) in others.iter().zip(&mut seen) {
                while list.get(*seen).is_some_and(|&f| f < frame) {
                    *seen += 1;
                }
                before += *seen as u64;
            }
            self.globals.insert(id, self.base + rank + before);
        }
        self.base += pending.starts.len() as u64 + others.iter().map(|l| l.len() as u64).sum::<u64>();
        let mut bytes = Vec::new();
        let mut conns = Vec::with_capacity(pending.released.len());
        let mut unshardable = pending.unshardable;
        for Released { mut conn, end, at } in pending.released {
            conn.id = self.globals.remove(&conn.id).unwrap_or(conn.id);
            let from = bytes.len();
            // Writing to memory does not fail; if it did, one thread redoes it.
            unshardable |= self.exporter.owned(conn, &mut bytes, &mut self.spent).is_err();
            conns.push(Written { end, at, bytes: from..bytes.len() });
        }
        self.pipeline.tracker.recycle(&mut self.spent);
        let last = last.map(|(counters, stopped, error)| {
            let mut open = Vec::new();
            for conn in self.pipeline.tracker.open_connections() {
                let mut conn = conn.clone();
                conn.id = self.globals.get(&conn.id).copied().unwrap_or(conn.id);
                let from = bytes.len();
                unshardable |= self.exporter.connection(&conn, &mut bytes).is_err();
                open.push((conn.id, from..bytes.len()));
            }
            Last { open, counters, stopped, error }
        });
        let epoch = Epoch {
            shard: self.me,
            conns,
            bytes,
            most: pending.most,
            front: pending.front,
            unshardable,
            last,
        };
        self.to_writer.send(epoch).map_err(|_| Gone)
    }
}

/// The writer: takes every shard's epochs in turn, checks that they are what
/// one thread would have done, and writes their connections in its order.
fn write(epochs: &mpsc::Receiver<Epoch>, n: usize, limits: Limits, out: &mut dyn Write) -> Result<Sharded, RunError> {
    // As `headless::run`: past this many waiting, one thread writes the oldest at once.
    let keep = limits.finished.saturating_sub(1);
    let mut queues: Vec<VecDeque<Epoch>> = (0..n).map(|_| VecDeque::new()).collect();
    let mut written = 0u64;
    let mut last_at = 0u64;
    loop {
        while queues.iter().any(VecDeque::is_empty) {
            // Every shard gone without its last epoch: one of them failed.
            let Ok(epoch) = epochs.recv() else { return Ok(Sharded::Redo { written }) };
            queues[epoch.shard].push_back(epoch);
        }
        let now: Vec<Epoch> = queues.iter_mut().filter_map(VecDeque::pop_front).collect();
        let open: usize = now.iter().map(|e| e.most.open).sum();
        let waiting: usize = now.iter().map(|e| e.most.waiting).sum();
        let front = now.iter().filter_map(|e| e.front).min();
        let mut order: Vec<(&Written, usize)> =
            now.iter().enumerate().flat_map(|(s, e)| e.conns.iter().map(move |w| (w, s))).collect();
        order.sort_unstable_by_key(|(w, _)| w.end);
        let mut ok = !now.iter().any(|e| e.unshardable)
            && open <= limits.open
            && open < limits.full_share_up_to()
            && waiting <= keep;
        for (w, _) in &order {
            ok &= front.is_none_or(|f| w.end < f) && w.at >= last_at;
            last_at = w.at;
        }
        if !ok {
            if std::env::var_os("SYNACK_DEBUG_SHARD").is_some() {
                let bad = order.iter().position(|(w, _)| !(front.is_none_or(|f| w.end < f))).map(|i| (i, order[i].0.end, order[i].0.at));
                let unsh = now.iter().any(|e| e.unshardable);
                eprintln!("epoch check: unshardable {unsh} open {open} waiting {waiting} front {front:?} bad-front {bad:?} n {}", order.len());
            }
            return Ok(Sharded::Redo { written });
        }
        for &(w, s) in &order {
            out.write_all(&now[s].bytes[w.bytes.clone()]).map_err(RunError::Output)?;
        }
        written += order.len() as u64;
        if now.iter().any(|e| e.last.is_some()) {
            return finish(now, out);
        }
    }
}

/// The shards' last epochs: the connections still open, by id, and what was counted.
fn finish(last: Vec<Epoch>, out: &mut dyn Write) -> Result<Sharded, RunError> {
    let mut open: Vec<(ConnId, &[u8])> = Vec::new();
    let mut counters = Counters::default();
    let (mut stopped, mut error) = (false, None);
    let mut last = last;
    for e in &mut last {
        // Every shard reads the same frames: all end in the same epoch.
        let Some(l) = e.last.take() else { return Err(RunError::Output(io::Error::other("a shard ended early"))) };
        counters.add(&l.counters);
        stopped |= l.stopped;
        error = error.or(l.error);
        e.last = Some(Last { error: None, ..l });
    }
    for e in &last {
        if let Some(l) = &e.last {
            open.extend(l.open.iter().map(|(id, r)| (*id, &e.bytes[r.clone()])));
        }
    }
    open.sort_unstable_by_key(|(id, _)| *id);
    for (_, bytes) in open {
        out.write_all(bytes).map_err(RunError::Output)?;
    }
    Ok(Sharded::Done { counters, stopped, error })
}
