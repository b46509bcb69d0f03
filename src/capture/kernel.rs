//! The kernel view, live: the tracepoint's changes handed to the pipeline's
//! tracker (see [`crate::model::kernel`] for what they mean and how they are
//! compared with the wire).

use crate::headless::KernelFeed;
use crate::model::kernel::{self, Change};
use crate::model::segment::Timestamp;
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

/// The open tracepoint and a buffer for its changes.
pub struct KernelView {
    tracepoint: Tracepoint,
    buf: Vec<RawChange>,
    /// Changes handed to the tracker.
    pub changes: u64,
}

impl KernelView {
    /// Opens the tracepoint for `port` (needs root or CAP_PERFMON: call it
    /// before privileges are dropped).
    ///
    /// # Errors
    /// [`Unavailable`], saying why.
    pub fn open(port: Option<u16>) -> Result<KernelView, Unavailable> {
        Ok(KernelView { tracepoint: tracepoint::open(port)?, buf: Vec::with_capacity(256), changes: 0 })
    }

    /// Changes the kernel could not hand over (its rings were full).
    #[must_use]
    pub fn lost(&self) -> u64 {
        self.tracepoint.lost
    }
}

impl KernelView {
    /// The changes the rings hold, in time order, as the model's values.
    pub fn read_changes(&mut self, out: &mut Vec<Change>) {
        self.buf.clear();
        self.tracepoint.read(&mut self.buf);
        // Rings are per CPU: merge by time.
        self.buf.sort_by_key(|c| c.ts);
        for c in &self.buf {
            let (Some(from), Some(to)) = (kernel::state(c.oldstate), kernel::state(c.newstate)) else {
                continue;
            };
            self.changes += 1;
            out.push(Change { ts: Timestamp(c.ts), sock: c.sock, local: c.local, remote: c.remote, from, to });
        }
    }
}

impl KernelFeed for KernelView {
    fn poll(&mut self, pipeline: &mut Pipeline, idle: bool) -> Vec<Change> {
        let mut changes = Vec::new();
        self.read_changes(&mut changes);
        for c in &changes {
            pipeline.tracker.kernel(*c);
        }
        if idle {
            pipeline.tracker.kernel_flush(Timestamp(u64::MAX));
        }
        changes
    }
}
