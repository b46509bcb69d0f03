//! The headless loop behind `synack trace`: frames from a source go through
//! the pipeline, and each connection is written by the exporter as soon as it
//! ends, until the input ends or a stop condition holds. The binary and the
//! tests call the same function, with any [`FrameSource`] (a live socket, a
//! capture file, [`crate::capture::memory::MemorySource`]).

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::capture::record::Recorder;
use crate::capture::{FrameSource, Next, SourceError};
use crate::export::Exporter;
use crate::model::tracker::ConnId;
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
}

/// How long live output may sit in the buffer while frames keep coming.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);

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
    #[error("cannot record the capture")]
    Record(#[source] io::Error),
    #[error("cannot write the output")]
    Output(#[source] io::Error),
}

/// Feeds `source` through `pipeline`, writing each connection to `out` as it
/// ends and recording frames when asked.
///
/// # Errors
/// When the source breaks, or the recording or the output cannot be written.
pub fn run<S: FrameSource>(
    source: &mut S,
    pipeline: &mut Pipeline,
    exporter: &mut dyn Exporter,
    out: &mut dyn Write,
    mut recorder: Option<&mut Recorder>,
    stop: &Stop<'_>,
) -> Result<Ended, RunError> {
    let mut written = 0u64;
    let mut dirty = false;
    let mut flushed = Instant::now();
    loop {
        if dirty && flushed.elapsed() >= FLUSH_EVERY {
            out.flush().map_err(RunError::Output)?;
            dirty = false;
            flushed = Instant::now();
        }
        if stop.interrupted.is_some_and(|f| f.load(Ordering::Relaxed))
            || stop.deadline.is_some_and(|d| Instant::now() >= d)
        {
            return Ok(Ended::Stopped);
        }
        let push = match source.next_frame()? {
            Next::Frame(frame) => {
                if let Some(r) = recorder.as_deref_mut() {
                    r.write(&frame).map_err(RunError::Record)?;
                }
                pipeline.frame(&frame)
            }
            Next::Idle => {
                if dirty {
                    out.flush().map_err(RunError::Output)?;
                    dirty = false;
                }
                continue;
            }
            Next::End => return Ok(Ended::Input),
        };
        let Some(push) = push else { continue };
        for id in push.finished() {
            if stop.only.is_some_and(|only| only != id) {
                continue;
            }
            if let Some(conn) = pipeline.tracker.get(id) {
                exporter.connection(conn, out).map_err(RunError::Output)?;
                written += 1;
                dirty = stop.flush_each;
                if stop.count.is_some_and(|c| written >= c) || stop.only.is_some() {
                    return Ok(Ended::Stopped);
                }
            }
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
    }
    exporter.finish(out).map_err(RunError::Output)?;
    out.flush().map_err(RunError::Output)
}
