//! The pipelined engine's formatting: connections formatted on N threads,
//! written in the order they were handed over, so the output is byte for
//! byte the one-thread output.
//!
//! The calling thread tracks (the order of events is the capture's, so that
//! stays on one thread); each connection it finishes goes into a batch,
//! batches go to the formatting threads with a sequence number, and the
//! calling thread writes the formatted batches back in sequence as they come,
//! and hands their connections back to the tracker for reuse. At most
//! [`IN_FLIGHT`] batches per thread are on their way: memory stays bounded
//! whatever the input, and a slow output slows the reading down instead of
//! piling up.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crate::export::Exporter;
use crate::model::tracker::Connection;

/// A batch is sent once it holds this many segments (or [`BATCH_CONNECTIONS`]
/// connections): large enough that handing it over costs little per
/// connection, small enough that a few in flight stay a few MiB.
pub const BATCH_SEGMENTS: usize = 1_024;
/// ... or this many connections.
pub const BATCH_CONNECTIONS: usize = 256;
/// Batches on their way (sent, not yet written) per formatting thread.
pub const IN_FLIGHT: usize = 2;

#[allow(clippy::vec_box)]
type Job = (u64, Vec<Box<Connection>>);
/// A formatted batch, and its connections handed back for reuse.
#[allow(clippy::vec_box)]
type Done = (u64, io::Result<String>, Vec<Box<Connection>>);

/// Formats connections on threads, writes them in order.
pub struct Parallel {
    jobs: Option<SyncSender<Job>>,
    done: Receiver<Done>,
    workers: Vec<JoinHandle<()>>,
    /// The tracker's boxes, handed on without moving the connections.
    #[allow(clippy::vec_box)]
    batch: Vec<Box<Connection>>,
    batch_segments: usize,
    /// Sequence number of the next batch to send, and of the next to write.
    sent: u64,
    written: u64,
    /// Formatted batches that came back before one sent earlier.
    ready: BTreeMap<u64, io::Result<String>>,
    /// Connections whose batch came back, not yet handed back to the caller.
    #[allow(clippy::vec_box)]
    spent: Vec<Box<Connection>>,
}

impl Parallel {
    /// `threads` formatting threads, each with its own exporter from `make`.
    ///
    /// # Errors
    /// When a thread cannot be started.
    pub fn new(threads: usize, make: impl Fn() -> Box<dyn Exporter + Send>) -> io::Result<Parallel> {
        let threads = threads.max(1);
        let (jobs, job_rx) = mpsc::sync_channel::<Job>(threads * IN_FLIGHT);
        let job_rx = Arc::new(Mutex::new(job_rx));
        let (done_tx, done) = mpsc::channel::<Done>();
        let mut workers = Vec::with_capacity(threads);
        for i in 0..threads {
            let (rx, tx, mut exporter) = (job_rx.clone(), done_tx.clone(), make());
            let worker = std::thread::Builder::new().name(format!("format-{i}")).spawn(move || {
                loop {
                    // The lock is held only while taking one job.
                    let job = rx.lock().unwrap_or_else(std::sync::PoisonError::into_inner).recv();
                    let Ok((seq, conns)) = job else { return };
                    let formatted = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        let mut buf = String::with_capacity(conns.iter().map(|c| c.records.len()).sum::<usize>() * 200);
                        for conn in &conns {
                            exporter.append(conn, &mut buf);
                        }
                        buf
                    }))
                    .map_err(|_| io::Error::other("a formatting thread panicked"));
                    if tx.send((seq, formatted, conns)).is_err() {
                        return;
                    }
                }
            })?;
            workers.push(worker);
        }
        Ok(Parallel {
            jobs: Some(jobs),
            done,
            workers,
            batch: Vec::new(),
            batch_segments: 0,
            sent: 0,
            written: 0,
            ready: BTreeMap::new(),
            spent: Vec::new(),
        })
    }

    /// Writes the formatted batches that are next in sequence.
    fn write_ready(&mut self, out: &mut dyn Write) -> io::Result<()> {
        while let Some(entry) = self.ready.first_entry() {
            if *entry.key() != self.written {
                break;
            }
            out.write_all(entry.remove()?.as_bytes())?;
            self.written += 1;
        }
        Ok(())
    }

    /// Waits for one formatted batch.
    fn wait_one(&mut self) -> io::Result<()> {
        let done = self
            .done
            .recv()
            .map_err(|_| io::Error::other("the formatting threads stopped before their work was done"))?;
        self.came_back(done);
        Ok(())
    }

    /// Keeps a formatted batch until its turn, and its connections for reuse.
    fn came_back(&mut self, (seq, bytes, mut conns): Done) {
        self.ready.insert(seq, bytes);
        self.spent.append(&mut conns);
    }

    /// Sends the batch being filled, first waiting (and writing) while too
    /// many are on their way.
    fn send(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let limit = self.workers.len() * IN_FLIGHT + 1;
        while self.sent - self.written >= limit as u64 {
            self.wait_one()?;
            self.write_ready(out)?;
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH_CONNECTIONS));
        self.batch_segments = 0;
        let jobs = self.jobs.as_ref().ok_or_else(|| io::Error::other("the formatting threads were stopped"))?;
        jobs.send((self.sent, batch)).map_err(|_| io::Error::other("the formatting threads stopped"))?;
        self.sent += 1;
        // Whatever came back meanwhile.
        while let Ok(done) = self.done.try_recv() {
            self.came_back(done);
        }
        self.write_ready(out)
    }

    /// Sends what is batched and writes everything sent, in order.
    ///
    /// # Errors
    /// When writing to `out` fails, or a formatting thread did.
    pub fn drain(&mut self, out: &mut dyn Write) -> io::Result<()> {
        self.send(out)?;
        while self.written < self.sent {
            self.wait_one()?;
            self.write_ready(out)?;
        }
        Ok(())
    }
}

impl Parallel {
    /// Writes a connection its owner gives up: formatted on a thread, in a
    /// batch, and written once every batch before it is. Connections
    /// written (this one, or earlier ones) are handed back in `spent`, for
    /// their memory to be reused.
    ///
    /// # Errors
    /// When writing to `out` fails, or a formatting thread did.
    #[allow(clippy::vec_box)]
    pub fn write(
        &mut self,
        conn: Box<Connection>,
        out: &mut dyn Write,
        spent: &mut Vec<Box<Connection>>,
    ) -> io::Result<()> {
        self.batch_segments += conn.records.len();
        self.batch.push(conn);
        if self.batch_segments >= BATCH_SEGMENTS || self.batch.len() >= BATCH_CONNECTIONS {
            self.send(out)?;
        }
        spent.append(&mut self.spent);
        Ok(())
    }
}

impl Drop for Parallel {
    fn drop(&mut self) {
        // Closing the queue ends the threads once they are done.
        self.jobs = None;
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}
