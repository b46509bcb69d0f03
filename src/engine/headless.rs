//! The one-thread engine behind `synack trace`: frames from a source go
//! through the pipeline, and each connection that ends is written once the
//! release queue says it is due ([`super::release`]), until the input ends or
//! a stop condition holds. Live capture, streams and files use it; the
//! binary and the tests call the same function, with any
//! [`FrameSource`](crate::capture::FrameSource) (a live socket, a capture
//! file, [`crate::capture::memory::MemorySource`]).

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::input::{Input, Item};
use super::parallel::Parallel;
use super::release::Queue;
use crate::capture::record::Recorder;
use crate::capture::{Next, SourceError};
use crate::export::Exporter;
use crate::model::segment::Timestamp;
use crate::model::tracker::{ConnId, Connection};
use crate::pipeline::Pipeline;

/// When a headless run stops before its input ends.
#[derive(Debug, Default)]
pub struct Stop<'a> {
    /// After this many connections were written.
    pub count: Option<u64>,
    /// At this time.
    pub deadline: Option<Instant>,
    /// When this flag is set (Ctrl-C).
    pub interrupted: Option<&'a AtomicBool>,
    /// Write only this connection, and stop once it is written.
    pub only: Option<ConnId>,
    /// Flush output as connections end (streams and live capture): at once
    /// when the input pauses, at least every [`FLUSH_EVERY`] while it does not.
    pub flush_each: bool,
    /// Where to publish progress (frames read, connections started) for a
    /// progress line; updated every 4,096 frames.
    pub progress: Option<&'a Progress>,
}

/// Progress of a run, for a progress line drawn by another thread.
#[derive(Debug, Default)]
pub struct Progress {
    pub frames: std::sync::atomic::AtomicU64,
    pub connections: std::sync::atomic::AtomicU64,
}

/// Once asked to stop, how long a run goes on reading what the source already
/// holds (it stops sooner when the source is idle).
pub const DRAIN: Duration = Duration::from_secs(1);

/// How long live output may sit in the buffer while frames keep coming.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// Where the kernel's own view of the connections comes from (live only):
/// polled between frames and whenever the source is idle.
pub trait KernelFeed {
    /// Hands what the kernel reported since the last call to the pipeline,
    /// and returns it (for a recording). `tracked`: the time of the last
    /// frame tracked (the live capture hands frames over in time order, so
    /// every segment up to then is in: what the kernel reported up to then
    /// can be attached); `idle`: the capture has nothing more for now, so
    /// every change and call can be attached.
    fn poll(&mut self, pipeline: &mut Pipeline, tracked: Timestamp, idle: bool) -> Reported;
}

/// What the kernel reported: its state changes and the socket calls of
/// other programs.
#[derive(Debug, Default)]
pub struct Reported {
    pub changes: Vec<crate::model::kernel::Change>,
    pub calls: Vec<crate::model::call::Call>,
}

/// Keeps kernel changes and calls in the recording, when there is one.
fn record_kernel(recorder: Option<&mut Recorder>, reported: &Reported) -> Result<(), RunError> {
    if let Some(r) = recorder {
        for c in &reported.changes {
            r.write_kernel(c).map_err(RunError::Record)?;
        }
        for c in &reported.calls {
            r.write_call(c).map_err(RunError::Record)?;
        }
    }
    Ok(())
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// The input ended.
    Input,
    /// A stop condition held (count, deadline, interruption, the one connection written).
    Stopped,
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("{}", crate::t!("cli-cannot-record"))]
    Record(#[source] io::Error),
    #[error("{}", crate::t!("cli-cannot-write-output"))]
    Output(#[source] io::Error),
}

pub use super::release::AFTER_CLOSE;

/// Connections that ended and wait out [`AFTER_CLOSE`] before they are
/// written, and what writing them needs.
struct Waiting<'s, 'a, 'e> {
    /// By id, with the time of their last segment when they ended (a
    /// connection's last segment only moves later: the tracker knows it).
    queue: Queue<ConnId>,
    /// Connections written, on their way back to the tracker for reuse.
    #[allow(clippy::vec_box)]
    spent: Vec<Box<crate::model::tracker::Connection>>,
    written: u64,
    dirty: bool,
    stop: &'s Stop<'a>,
    /// Where connections are formatted.
    format: Formatter<'e>,
    /// Output formatted but not yet handed to the writer: it goes out in
    /// pieces of [`STAGE`] or more, which a `BufWriter` passes on without
    /// copying them (190 MB for a million segments of jsonl).
    staged: String,
    /// Connections written before (by a sharded run that stopped): the first
    /// this many due are not written again.
    skip: u64,
}

/// Where the loop's connections are formatted.
pub(crate) enum Formatter<'e> {
    /// Here, by the format's exporter, into the staged output.
    Here(&'e mut dyn Exporter),
    /// On formatting threads, written back in the order handed over (the
    /// pipelined engine).
    Threads(&'e mut Parallel),
}

/// How much formatted output is gathered before it is written.
const STAGE: usize = 1 << 16;

impl Waiting<'_, '_, '_> {
    /// Hands the output gathered so far to `out` (before `out` is flushed,
    /// and when a run returns).
    fn unstage(&mut self, out: &mut dyn Write) -> Result<(), RunError> {
        if self.staged.is_empty() {
            return Ok(());
        }
        let written = out.write_all(self.staged.as_bytes());
        self.staged.clear();
        written.map_err(RunError::Output)
    }

    /// Writes those whose wait is over at `now` (all of them with `None`), and
    /// the oldest ones beyond the queue's limit (so the tracker never drops
    /// one unwritten). Returns whether the run should stop now.
    fn release(
        &mut self,
        pipeline: &mut Pipeline,
        out: &mut dyn Write,
        now: Option<Timestamp>,
    ) -> Result<bool, RunError> {
        while let Some(id) = self.queue.pop_due(now, |id| pipeline.tracker.get(id).map(Connection::last)) {
            // The connections written next are cold by now (they ended a
            // second ago): start loading them while this one is written.
            // Two steps: a connection's struct first, its records (found
            // through the struct) later.
            if let Some(next) = self.queue.get(2 * AHEAD).and_then(|n| pipeline.tracker.get(n)) {
                crate::os::prefetch::prefetch(next);
            }
            if let Some(next) = self.queue.get(AHEAD).and_then(|n| pipeline.tracker.get(n)) {
                crate::os::prefetch::prefetch(next.records.as_slice());
            }
            if self.stop.only.is_some_and(|only| only != id) {
                continue;
            }
            // Written: `trace` needs it no more (memory stays bounded by what is open).
            let Some(conn) = pipeline.tracker.take(id) else { continue };
            self.write(conn, out)?;
            pipeline.tracker.recycle(&mut self.spent);
            self.written += 1;
            self.dirty = self.stop.flush_each;
            if self.stop.count.is_some_and(|c| self.written >= c) || self.stop.only.is_some() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Writes a connection taken from the tracker (or passes over it, when
    /// it was written before); it comes back in `spent`.
    fn write(&mut self, conn: Box<Connection>, out: &mut dyn Write) -> Result<(), RunError> {
        if self.skip > 0 {
            self.skip -= 1;
            self.spent.push(conn);
            return Ok(());
        }
        match &mut self.format {
            Formatter::Here(exporter) => {
                exporter.append(&conn, &mut self.staged);
                self.spent.push(conn);
                if self.staged.len() >= STAGE {
                    self.unstage(out)?;
                }
                Ok(())
            }
            Formatter::Threads(parallel) => parallel.write(conn, out, &mut self.spent).map_err(RunError::Output),
        }
    }
}

impl Waiting<'_, '_, '_> {
    /// Writes the UDP flows that ended (not with `--connection`, which
    /// names a TCP connection); formatted here only (the engines that
    /// format on threads are fed decoded frames, which hold no UDP).
    fn write_udp(&mut self, pipeline: &mut Pipeline, out: &mut dyn Write) -> Result<(), RunError> {
        let ended = pipeline.udp.take_ended();
        if let Formatter::Here(exporter) = &mut self.format
            && self.stop.only.is_none()
        {
            for flow in &ended {
                exporter.append_udp(flow, &mut self.staged);
            }
            self.dirty = true;
            if self.staged.len() >= STAGE {
                self.unstage(out)?;
            }
        }
        Ok(())
    }
}

/// How many connections ahead of the one written the next is prefetched.
const AHEAD: usize = 2;

/// Feeds `source` through `pipeline`, writing each connection to `out` once
/// it has ended and [`AFTER_CLOSE`] has passed (at the end of the input, at
/// once), and recording frames when asked.
///
/// # Errors
/// When the source breaks, or the recording or the output cannot be written.
pub fn run<S: Input>(
    source: &mut S,
    pipeline: &mut Pipeline,
    exporter: &mut dyn Exporter,
    out: &mut dyn Write,
    recorder: Option<&mut Recorder>,
    kernel: Option<&mut dyn KernelFeed>,
    stop: &Stop<'_>,
) -> Result<Ended, RunError> {
    let sinks = Sinks { format: Formatter::Here(exporter), out, recorder, kernel };
    run_formatted(source, pipeline, sinks, stop, 0)
}

/// [`run`] on a file read again after a sharded run stopped
/// ([`super::sharded::Sharded::Redo`]): the first `skip` connections due were
/// written then, and are passed over.
///
/// # Errors
/// As [`run`].
pub fn run_after<S: Input>(
    source: &mut S,
    pipeline: &mut Pipeline,
    exporter: &mut dyn Exporter,
    out: &mut dyn Write,
    stop: &Stop<'_>,
    skip: u64,
) -> Result<Ended, RunError> {
    let sinks = Sinks { format: Formatter::Here(exporter), out, recorder: None, kernel: None };
    run_formatted(source, pipeline, sinks, stop, skip)
}

/// Where [`run`]'s output goes: connections, recorded frames, the kernel
/// view's changes.
pub(crate) struct Sinks<'e, 'o, 'r, 'k> {
    pub format: Formatter<'e>,
    pub out: &'o mut dyn Write,
    pub recorder: Option<&'r mut Recorder>,
    pub kernel: Option<&'k mut dyn KernelFeed>,
}

/// [`run`], with connections formatted where `sinks` says, and the first
/// `skip` due passed over (written before).
pub(crate) fn run_formatted<S: Input>(
    source: &mut S,
    pipeline: &mut Pipeline,
    sinks: Sinks<'_, '_, '_, '_>,
    stop: &Stop<'_>,
    skip: u64,
) -> Result<Ended, RunError> {
    let Sinks { format, out, recorder, kernel } = sinks;
    let staged = String::with_capacity(STAGE + STAGE / 2);
    let queue = Queue::new(&pipeline.tracker.limits());
    let mut waiting = Waiting { queue, spent: Vec::new(), written: 0, dirty: false, stop, format, staged, skip };
    let ended = run_with(source, pipeline, out, recorder, kernel, &mut waiting);
    // What was formatted goes out whatever happened (a broken input still
    // gets what ended before it broke).
    let unstaged = waiting.unstage(out);
    let ended = ended?;
    unstaged.map(|()| ended)
}

/// [`run`]'s loop.
fn run_with<S: Input>(
    source: &mut S,
    pipeline: &mut Pipeline,
    out: &mut dyn Write,
    mut recorder: Option<&mut Recorder>,
    mut kernel: Option<&mut dyn KernelFeed>,
    waiting: &mut Waiting<'_, '_, '_>,
) -> Result<Ended, RunError> {
    let stop = waiting.stop;
    let mut flushed = Instant::now();
    let mut draining: Option<Instant> = None;
    // Frames recorded since the recording was last flushed.
    let mut recorded = false;
    // The time of the last frame tracked.
    let mut tracked = Timestamp(0);
    loop {
        if (waiting.dirty || recorded) && flushed.elapsed() >= FLUSH_EVERY {
            waiting.unstage(out)?;
            out.flush().map_err(RunError::Output)?;
            if let Some(r) = recorder.as_deref_mut() {
                r.flush().map_err(RunError::Record)?;
            }
            waiting.dirty = false;
            recorded = false;
            flushed = Instant::now();
        }
        if draining.is_none()
            && (stop.interrupted.is_some_and(|f| f.load(Ordering::Relaxed))
                || stop.deadline.is_some_and(|d| Instant::now() >= d))
        {
            draining = Some(Instant::now());
        }
        // Asked to stop: first read what the source already holds (a live
        // capture's frames in flight), for at most DRAIN; then write what
        // ended, without waiting for stragglers.
        if draining.is_some_and(|since| since.elapsed() >= DRAIN) {
            waiting.release(&mut *pipeline, out, None)?;
            return Ok(Ended::Stopped);
        }
        if let Some(k) = kernel.as_deref_mut()
            && pipeline.counters.frames.is_multiple_of(64)
        {
            let changes = k.poll(pipeline, tracked, false);
            record_kernel(recorder.as_deref_mut(), &changes)?;
        }
        // A recording's kernel changes and calls, read with the frames before them.
        let calls = source.take_calls();
        if !calls.is_empty() {
            pipeline.replay_calls(calls);
        }
        let replayed = source.take_kernel();
        if !replayed.is_empty() {
            pipeline.tracker.watch_kernel();
            for c in replayed {
                pipeline.tracker.kernel(c);
            }
        }
        let next = match source.next_item() {
            Ok(next) => next,
            // What ended before the input broke is written, then the error said.
            Err(e) => {
                waiting.release(&mut *pipeline, out, None)?;
                return Err(e.into());
            }
        };
        let (push, now) = match next {
            Item::Next(Next::Frame(frame)) => {
                if let Some(r) = recorder.as_deref_mut() {
                    r.write(&frame).map_err(RunError::Record)?;
                    recorded = true;
                }
                (pipeline.frame(&frame), frame.ts)
            }
            Item::Decoded(ts, decoded) => (pipeline.decoded(decoded), ts),
            Item::Next(Next::Idle) if draining.is_some() => {
                if let Some(k) = kernel.as_deref_mut() {
                    let changes = k.poll(pipeline, tracked, true);
                    record_kernel(recorder.as_deref_mut(), &changes)?;
                }
                waiting.release(&mut *pipeline, out, None)?;
                return Ok(Ended::Stopped);
            }
            Item::Next(Next::Idle) => {
                if let Some(k) = kernel.as_deref_mut() {
                    let changes = k.poll(pipeline, tracked, true);
                    record_kernel(recorder.as_deref_mut(), &changes)?;
                }
                // Nothing came: the wall clock moves the waits on.
                let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
                let now = Timestamp(u64::try_from(now.as_nanos()).unwrap_or(u64::MAX));
                pipeline.udp.expire(now);
                if pipeline.udp.has_ended() {
                    waiting.write_udp(pipeline, out)?;
                }
                if waiting.release(&mut *pipeline, out, Some(now))? {
                    return Ok(Ended::Stopped);
                }
                if waiting.dirty {
                    waiting.unstage(out)?;
                    out.flush().map_err(RunError::Output)?;
                    waiting.dirty = false;
                }
                if recorded && let Some(r) = recorder.as_deref_mut() {
                    r.flush().map_err(RunError::Record)?;
                    recorded = false;
                }
                continue;
            }
            Item::Next(Next::End) => {
                pipeline.replay_calls(source.take_calls());
                for c in source.take_kernel() {
                    pipeline.tracker.watch_kernel();
                    pipeline.tracker.kernel(c);
                }
                pipeline.tracker.kernel_flush(Timestamp(u64::MAX));
                return Ok(if waiting.release(&mut *pipeline, out, None)? { Ended::Stopped } else { Ended::Input });
            }
        };
        tracked = tracked.max(now);
        if let Some(p) = stop.progress
            && pipeline.counters.frames.is_multiple_of(4096)
        {
            p.frames.store(pipeline.counters.frames, Ordering::Relaxed);
            p.connections.store(pipeline.tracker.started(), Ordering::Relaxed);
        }
        if pipeline.udp.has_ended() {
            waiting.write_udp(pipeline, out)?;
        }
        // Most segments finish nothing.
        if let Some(push) = push
            && (push.ended || push.superseded.is_some() || push.expired.is_some())
        {
            for id in push.finished() {
                let last = pipeline.tracker.get(id).map_or(now, Connection::last);
                waiting.queue.ended(id, last);
            }
        }
        // Most frames release nothing: the oldest waiting is not due even by
        // the time it ended (the test `release` starts with, without a call).
        if waiting.queue.due_from().is_some_and(|at| now >= at) && waiting.release(&mut *pipeline, out, Some(now))? {
            return Ok(Ended::Stopped);
        }
    }
}

/// After a run: writes the connections still open (unless the run stopped
/// because it had written what was asked for), then whatever the format puts
/// last, and flushes.
///
/// # Errors
/// When the output cannot be written.
pub fn finish(
    ended: Ended,
    pipeline: &Pipeline,
    exporter: &mut dyn Exporter,
    out: &mut dyn Write,
    stop: &Stop<'_>,
) -> Result<(), RunError> {
    let asked_for_some = stop.count.is_some() || stop.only.is_some();
    if !(asked_for_some && ended == Ended::Stopped) {
        for conn in pipeline.tracker.open_connections() {
            if stop.only.is_none_or(|id| id == conn.id) {
                exporter.connection(conn, out).map_err(RunError::Output)?;
            }
        }
        if stop.only.is_none() {
            let mut text = String::new();
            for flow in pipeline.udp.ended().iter().chain(pipeline.udp.open()) {
                exporter.append_udp(flow, &mut text);
            }
            out.write_all(text.as_bytes()).map_err(RunError::Output)?;
        }
    }
    exporter.finish(out).map_err(RunError::Output)?;
    out.flush().map_err(RunError::Output)
}
