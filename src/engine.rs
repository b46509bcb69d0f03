//! How `synack trace` runs: the loop that feeds frames through the pipeline
//! and writes each connection once it is due, and, for a capture file, the
//! engines that use more cores. All the speed work lives here; the model
//! knows nothing of threads, shards or buffers.
//!
//! One chooser ([`choose`]) picks the engine for a file:
//! - **one thread** ([`headless`]): reads, tracks and writes, in one loop
//!   (live capture and streams always run it);
//! - **pipelined** ([`predecoded`], [`parallel`]): a thread reads and
//!   decodes, the calling thread tracks, N threads format;
//! - **sharded** ([`sharded`]): N threads each read the whole file and track
//!   the connections whose tuple falls to them.
//!
//! Every engine writes what one thread writes, byte for byte: when a
//! finished connection is written is one queue's rule ([`release`]), run by
//! the one thread and by the sharded writer alike.

pub mod arenas;
pub mod headless;
pub mod input;
pub mod parallel;
pub mod predecoded;
pub mod release;
pub mod sharded;

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use self::headless::{Ended, Formatter, RunError, Sinks, Stop};
use self::sharded::{Sharded, Shards};
use crate::capture::pcap::PcapSource;
use crate::export::{self, Format};
use crate::model::tracker::Limits;
use crate::os::map::Mapped;
use crate::pipeline::{Counters, Pipeline};

/// An engine for reading a capture file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// One thread reads, tracks and writes.
    OneThread,
    /// A thread reads and decodes, the calling thread tracks, and `format`
    /// threads format (jsonl and text; none: formatted where tracked).
    Pipelined { format: usize },
    /// `threads` threads each track a share of the connections.
    Sharded { threads: usize },
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Engine::OneThread => f.write_str("one thread"),
            Engine::Pipelined { format: 0 } => {
                f.write_str("pipelined (a thread reads and decodes, one tracks and formats)")
            }
            Engine::Pipelined { format } => {
                write!(f, "pipelined (a thread reads and decodes, one tracks, {format} format)")
            }
            Engine::Sharded { threads } => write!(f, "sharded ({threads} threads, each tracking a share)"),
        }
    }
}

/// A capture file, opened (its header read).
pub struct Capture {
    source: PcapSource<Box<dyn io::Read + Send>>,
    /// The file mapped into memory, for more readers of it.
    map: Option<Mapped>,
    name: String,
    /// Standard input: read as it comes, connections written as they end.
    stream: bool,
    /// Bytes read so far (for a progress line).
    read: Arc<AtomicU64>,
}

impl Capture {
    /// A file mapped into memory (a regular, uncompressed file): any engine
    /// reads it. `read` counts the bytes read.
    ///
    /// # Errors
    /// When it is not a capture.
    pub fn mapped(map: Mapped, name: String, read: Arc<AtomicU64>) -> Result<Capture, RunError> {
        let never_read = Box::new(io::empty()) as Box<dyn io::Read + Send>;
        let source = PcapSource::mapped(map.again(), never_read, name.clone(), read.clone())?;
        Ok(Capture { source, map: Some(map), name, stream: false, read })
    }

    /// A file read through `reader` (compressed, a pipe; `stream`: standard
    /// input, whose connections are written as they end).
    ///
    /// # Errors
    /// When it is not a capture.
    pub fn reader(
        reader: Box<dyn io::Read + Send>,
        name: String,
        stream: bool,
        read: Arc<AtomicU64>,
    ) -> Result<Capture, RunError> {
        let source = PcapSource::new(reader, name.clone())?;
        Ok(Capture { source, map: None, name, stream, read })
    }
}

/// What a read asks for.
pub struct Job<'a> {
    /// The port watched (`None`: every port).
    pub port: Option<u16>,
    pub limits: Limits,
    pub format: Format,
    /// Each endpoint's path through RFC 9293's figure 5 (text and svg).
    pub diagram: bool,
    /// `--threads`: `None` for the cores available (at most 64).
    pub threads: Option<usize>,
    /// UDP flows too (`--udp`): one thread reads.
    pub udp: bool,
    pub stop: Stop<'a>,
}

/// What a read did.
pub struct Read {
    /// Which engine ran, and why (`trace -v`).
    pub ran: String,
    /// What the frames counted.
    pub counters: Counters,
    /// Connections started (their ids are 1 to this).
    pub started: u64,
    /// How the run ended, or why it failed (after writing what it could).
    pub result: Result<Ended, RunError>,
    /// The tracking thread's pipeline, when one tracked: a process about to
    /// exit may leave freeing its connections one by one to the exit
    /// (~1.5 ms of a 100 ms read).
    pub pipeline: Option<Pipeline>,
}

/// The engine for reading `capture` as `job` asks, and why.
#[must_use]
pub fn choose(job: &Job<'_>, capture: &Capture) -> (Engine, &'static str) {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get).min(64);
    let threads = job.threads.unwrap_or(cores);
    let whole = job.stop.count.is_none() && job.stop.only.is_none();
    let splits = matches!(job.format, Format::Jsonl | Format::Text);
    if job.udp {
        (Engine::OneThread, "--udp: UDP flows are tracked by one thread")
    } else if job.threads == Some(1) {
        (Engine::OneThread, "--threads 1")
    } else if threads <= 1 {
        (Engine::OneThread, "one core available")
    } else if capture.stream {
        (Engine::OneThread, "a stream is read as it comes, each connection written as it ends")
    } else if !splits {
        (Engine::Pipelined { format: 0 }, "mermaid and svg are one document each, formatted in order where tracked")
    } else if capture.map.is_none() {
        (Engine::Pipelined { format: threads }, "a file read through a reader (compressed, or a pipe), not mapped")
    } else if !whole {
        (
            Engine::Pipelined { format: threads },
            "--count or --connection: one tracker knows which connection comes first",
        )
    } else {
        (Engine::Sharded { threads }, "a capture file, all of it, in jsonl or text: connections split by tuple")
    }
}

/// Reads `capture` as `job` asks, on the engine [`choose`] picks, and writes
/// to `out` what one thread writes: each connection once it is due, then
/// the ones still open, then what the format puts last.
pub fn read(job: &Job<'_>, capture: Capture, out: &mut (dyn Write + Send)) -> Read {
    let (engine, why) = choose(job, &capture);
    let mut ran = format!("{engine}: {why}");
    let mut skip = 0;
    let Capture { source, map, name, read, .. } = capture;
    if let (Engine::Sharded { threads }, Some(map)) = (engine, map) {
        match split(job, map, &name, threads, &read, out) {
            Ok(Sharded::Done { counters, started, error }) => {
                let written = export::exporter_with(job.format, job.diagram).finish(out).and_then(|()| out.flush());
                let result = match (written, error) {
                    (Err(e), _) => Err(RunError::Output(e)),
                    (Ok(()), Some(e)) => Err(e.into()),
                    (Ok(()), None) => Ok(Ended::Input),
                };
                return Read { ran, counters, started, result, pipeline: None };
            }
            Ok(Sharded::Redo { written, frame, why }) => {
                // One tracking thread reads again, past what was written.
                use std::fmt::Write as _;
                let _ = write!(ran, "; from frame {} on, {why}: one tracking thread", frame + 1);
                skip = written;
                read.store(0, Ordering::Relaxed);
                if let Some(p) = job.stop.progress {
                    p.frames.store(0, Ordering::Relaxed);
                    p.connections.store(0, Ordering::Relaxed);
                }
            }
            Err(e) => {
                let result = Err(e);
                return Read { ran, counters: Counters::default(), started: 0, result, pipeline: None };
            }
        }
    }
    // One tracking thread (on from where the shards stopped).
    let pipelined = match engine {
        Engine::OneThread => None,
        Engine::Pipelined { format } => Some(format),
        Engine::Sharded { threads } => Some(threads),
    };
    let mut pipeline = Pipeline::new(job.port, job.limits);
    if job.udp {
        pipeline.watch_udp();
    }
    let result = track(job, source, &mut pipeline, pipelined, skip, out);
    let counters = pipeline.counters.clone();
    let started = pipeline.tracker.started();
    Read { ran, counters, started, result, pipeline: Some(pipeline) }
}

/// The sharded engine on `map`, one reader of it per thread.
fn split(
    job: &Job<'_>,
    map: Mapped,
    name: &str,
    threads: usize,
    read: &Arc<AtomicU64>,
    out: &mut (dyn Write + Send),
) -> Result<Sharded, RunError> {
    let heap = sharded::heap_for(map.len() as u64, threads);
    let mut sources = Vec::with_capacity(threads);
    for (i, map) in map.split(threads).into_iter().enumerate() {
        // The first counts what it reads for the progress line.
        let counted = if i == 0 { read.clone() } else { Arc::new(AtomicU64::new(0)) };
        sources.push(PcapSource::mapped(map, io::empty(), name.to_string(), counted)?);
    }
    let (format, diagram) = (job.format, job.diagram);
    let shards = Shards {
        sources,
        port: job.port,
        limits: job.limits,
        make: &|| export::exporter_with(format, diagram),
        progress: job.stop.progress,
        interrupted: job.stop.interrupted,
        epoch: sharded::EPOCH,
        heap,
    };
    sharded::run(shards, out)
}

/// One tracking thread reads `source` through `pipeline`: alone, or
/// (`pipelined`) with a thread that reads and decodes, and that many that
/// format (none: formatted here). The first `skip` connections due were
/// written before.
fn track(
    job: &Job<'_>,
    source: PcapSource<Box<dyn io::Read + Send>>,
    pipeline: &mut Pipeline,
    pipelined: Option<usize>,
    skip: u64,
    out: &mut (dyn Write + Send),
) -> Result<Ended, RunError> {
    let mut exporter = export::exporter_with(job.format, job.diagram);
    let result = if let Some(threads) = pipelined {
        let mut source = predecoded::Predecoded::start(source)
            .map_err(|e| RunError::Output(io::Error::new(e.kind(), format!("cannot start the reading thread: {e}"))))?;
        let (format, diagram) = (job.format, job.diagram);
        let mut formatting = match threads {
            0 => None,
            n => Some(parallel::Parallel::new(n, || export::exporter_with(format, diagram)).map_err(|e| {
                RunError::Output(io::Error::new(e.kind(), format!("cannot start the formatting threads: {e}")))
            })?),
        };
        let format = match formatting.as_mut() {
            Some(parallel) => Formatter::Threads(parallel),
            None => Formatter::Here(exporter.as_mut()),
        };
        let sinks = Sinks { format, out: &mut *out, recorder: None, kernel: None };
        let result = headless::run_formatted(&mut source, pipeline, sinks, &job.stop, skip);
        // What the formatting threads hold is written before the open ones.
        match formatting.as_mut().map(|p| p.drain(out)) {
            Some(Err(e)) => Err(RunError::Output(e)),
            _ => result,
        }
    } else {
        let mut source = source;
        let sinks = Sinks { format: Formatter::Here(exporter.as_mut()), out: &mut *out, recorder: None, kernel: None };
        headless::run_formatted(&mut source, pipeline, sinks, &job.stop, skip)
    };
    let ended = result.as_ref().map_or(Ended::Input, |e| *e);
    headless::finish(ended, pipeline, exporter.as_mut(), out, &job.stop)?;
    result
}
